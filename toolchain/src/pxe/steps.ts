// Each lab host's boot steps, by MAC, from the servers' logs (pure):
// dnsmasq's DHCP lines name the MAC (and, with log-dhcp, a transaction id
// that its "bootfile name" line repeats); its TFTP lines and the HTTP
// server's lines name only the client's address, which the DHCP offer or
// acknowledgement tied to a MAC. `crossguard pxe serve` prints one line per
// step, so an operator sees how far each server got.

import { parseMac } from './mac.js';

export interface BootStep {
  /** The client's MAC (lowercase, colons), or null when its address was never leased here. */
  mac: string | null;
  /** The client's IPv4 address when known. */
  ip: string | null;
  kind: 'dhcp' | 'tftp' | 'http';
  /** What happened, for people: "offer 10.0.0.12", "boot file boot.ipxe", "sent releases/…/crossguard.elf". */
  what: string;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IP = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Tracks MACs by address and by DHCP transaction; turns log lines into steps. */
export class BootSteps {
  private readonly macByIp = new Map<string, string>();
  private readonly macByXid = new Map<string, string>();
  private readonly bootByXid = new Map<string, string>();

  constructor(private readonly treeRoot = '') {}

  /** The MAC last leased (or offered) this address. */
  macOf(ip: string): string | null {
    return this.macByIp.get(ip) ?? null;
  }

  private remember(ip: string | null, mac: string) {
    if (ip === null) return;
    this.macByIp.set(ip, mac);
    // Bounded: a lab network has a few hundred hosts, not millions.
    if (this.macByIp.size > 4096) this.macByIp.delete(this.macByIp.keys().next().value as string);
  }

  /** A path under the tree root, shown relative to it. */
  private rel(path: string): string {
    return this.treeRoot && path.startsWith(this.treeRoot + '/') ? path.slice(this.treeRoot.length + 1) : path;
  }

  /** One line of dnsmasq's log (stderr with --log-facility=-), or null when it is no client's step. */
  dnsmasqLine(raw: string): BootStep | null {
    const line = raw.trim();
    const dhcp = /^dnsmasq-dhcp(?:\[\d+\])?: (?:(\d+) )?(DHCP[A-Z]+|PXE|BOOTP)\(([^)]*)\) (.*)$/.exec(line);
    if (dhcp) {
      const [, xid, type, , rest] = dhcp;
      const words = rest!.split(/\s+/);
      const ip = words.find((w) => IP.test(w)) ?? null;
      const macWord = words.find((w) => MAC.test(w));
      if (!macWord) return null;
      const mac = parseMac(macWord, 'dnsmasq');
      if (xid) {
        this.macByXid.set(xid, mac);
        if (this.macByXid.size > 4096) this.macByXid.delete(this.macByXid.keys().next().value as string);
      }
      const msg = type!.replace(/^DHCP/, '').toLowerCase();
      if (msg === 'offer' || msg === 'ack' || type === 'BOOTP' || type === 'PXE') this.remember(ip, mac);
      const note = words.filter((w) => w !== macWord && w !== ip).join(' ');
      return { mac, ip, kind: 'dhcp', what: [msg, ip, note].filter(Boolean).join(' ') };
    }
    // The boot file: in the BOOTP header ("bootfile name: F") or as option 67,
    // logged after every offer and ack of a transaction: said once.
    const boot = /^dnsmasq-dhcp(?:\[\d+\])?: (\d+) (?:bootfile name: |sent size: +\d+ option: 67 bootfile-name +)(\S+)/.exec(line);
    if (boot) {
      const [, xid, file] = boot;
      if (this.bootByXid.get(xid!) === file) return null;
      this.bootByXid.set(xid!, file!);
      if (this.bootByXid.size > 4096) this.bootByXid.delete(this.bootByXid.keys().next().value as string);
      return { mac: this.macByXid.get(xid!) ?? null, ip: null, kind: 'dhcp', what: `boot file ${file}` };
    }
    const tftp = /^dnsmasq-tftp(?:\[\d+\])?: (.*)$/.exec(line);
    if (tftp) {
      const text = tftp[1]!;
      const ip = /(\d{1,3}(?:\.\d{1,3}){3})(?!.*\d{1,3}(?:\.\d{1,3}){3})/.exec(text)?.[1] ?? null;
      if (ip === null) return null;
      // "sent PATH to IP", "file PATH not found for IP", "error N MSG received from IP", …
      const what = text.replace(` to ${ip}`, '').replace(` for ${ip}`, '').replace(` from ${ip}`, '').split(/\s+/).map((w) => this.rel(w)).join(' ');
      return { mac: this.macOf(ip), ip, kind: 'tftp', what };
    }
    return null;
  }

  /** One request line of the HTTP server (pxe/http.ts: `http ADDR METHOD URL STATUS [SIZE]`). */
  httpLine(line: string): BootStep | null {
    const m = /^http (?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3}) (\S+) (\S+) (\d{3})(?: (\d+))?$/.exec(line.trim());
    if (!m) return null;
    const [, ip, method, url, status, size] = m;
    return { mac: this.macOf(ip!), ip: ip!, kind: 'http', what: `${method} ${url} ${status}${size ? ` ${size} bytes` : ''}` };
  }
}

/** One step as `pxe serve` prints it (pure). */
export function formatStep(s: BootStep): string {
  const who = s.mac ?? `(unknown MAC${s.ip ? ` at ${s.ip}` : ''})`;
  return `${who} ${s.kind} ${s.what}`;
}
