// `crossguard pxe serve`: the dnsmasq configuration for serving a netboot
// tree on a real lab interface (pure text and address arithmetic; the
// command in commands/pxe-serve.ts starts the processes).
//
// Two ways to sit on a lab network:
//   full DHCP   an isolated lab network with no other DHCP server: dnsmasq
//               leases addresses from --range and hands out the boot file
//               by the tree's rules (dnsmasq.ts's bootRules); when the
//               interface has a global IPv6 address it also sends router
//               advertisements for that prefix (no IPv6 addresses), so iPXE
//               does not wait ~13 s for IPv6 autoconfiguration.
//   proxy-DHCP  next to the lab's own DHCP server, which keeps leasing
//               addresses: dnsmasq answers PXE clients only, with the boot
//               file (pxe-service lines: a PXE ROM reads those, not the
//               DHCP boot file, from a proxy) chosen the same way.

import { BOOT_FILES, bootRules } from './dnsmasq.js';
import { PxeInputError } from './errors.js';

export interface Ipv4Net {
  /** The interface's own address: the TFTP/HTTP server the clients use. */
  address: string;
  prefixLen: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** An IPv4 address as a 32-bit number, or null when it is not one. */
export function ipv4ToNumber(s: string): number | null {
  const m = IPV4.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** The interface's first global IPv4 address from `ip -4 -o addr show dev IF` output, or null. */
export function parseIpAddr(output: string): Ipv4Net | null {
  const m = /\binet (\d+\.\d+\.\d+\.\d+)\/(\d+)\b/.exec(output);
  if (!m || ipv4ToNumber(m[1]!) === null) return null;
  const prefixLen = Number(m[2]);
  return prefixLen >= 1 && prefixLen <= 30 ? { address: m[1]!, prefixLen } : null;
}

/** Whether `ip -6 -o addr show dev IF` lists a global (not link-local) address: a prefix to advertise. */
export function hasGlobalIpv6(output: string): boolean {
  return /\binet6 (?!fe80:)[0-9a-f:]+\/\d+ .*scope global/.test(output);
}

/** The --range A,B of full DHCP, checked against the interface's subnet (PxeInputError). */
export function parseRange(range: string, net: Ipv4Net): { start: string; end: string } {
  const [a, b, ...rest] = range.split(',');
  const s = a === undefined ? null : ipv4ToNumber(a.trim());
  const e = b === undefined ? null : ipv4ToNumber(b.trim());
  if (rest.length || s === null || e === null || s > e)
    throw new PxeInputError(`--range ${range} is not FIRST,LAST (two IPv4 addresses, FIRST <= LAST), e.g. --range 10.0.0.100,10.0.0.199`);
  const m = mask(net.prefixLen);
  const self = ipv4ToNumber(net.address)!;
  const subnet = `${numberToIpv4(self & m)}/${net.prefixLen}`;
  for (const x of [s, e])
    if ((x & m) !== (self & m)) throw new PxeInputError(`--range ${range} is not inside the interface's subnet ${subnet}; give addresses in it`);
  if (self >= s && self <= e) throw new PxeInputError(`--range ${range} holds the server's own address ${net.address}; leave it out`);
  return { start: a!.trim(), end: b!.trim() };
}

export type ServeMode = { kind: 'full'; start: string; end: string; ra: boolean } | { kind: 'proxy' };

export interface ServeConfOptions {
  iface: string;
  net: Ipv4Net;
  tree: string;
  leaseFile: string;
  mode: ServeMode;
}

/** A value dnsmasq reads to the end of the line. */
function line(what: string, v: string): string {
  if (/[\n\r\0]/.test(v)) throw new PxeInputError(`${what} ${JSON.stringify(v)} has a line break; dnsmasq cannot take it`);
  return v;
}

/**
 * Proxy-DHCP's boot files (pure): a PXE ROM takes the file of the one menu
 * item for its architecture (a name with a suffix: dnsmasq adds no ".0"),
 * iPXE (user class iPXE) its script.
 */
export function proxyServices(): string[] {
  return [
    `pxe-service=tag:!ipxe,x86PC,"crossguard (iPXE)",${BOOT_FILES.undionly}`,
    `pxe-service=tag:ipxe,x86PC,"crossguard",${BOOT_FILES.ipxeScript}`,
    `pxe-service=tag:!ipxe,X86-64_EFI,"crossguard (GRUB EFI)",${BOOT_FILES.grubEfi}`,
    `pxe-service=tag:ipxe,X86-64_EFI,"crossguard (GRUB EFI)",${BOOT_FILES.ipxeEfiScript}`,
    `pxe-service=tag:!ipxe,BC_EFI,"crossguard (GRUB EFI)",${BOOT_FILES.grubEfi}`,
    `pxe-service=tag:ipxe,BC_EFI,"crossguard (GRUB EFI)",${BOOT_FILES.ipxeEfiScript}`,
  ];
}

/** dnsmasq.conf for `pxe serve` (pure): DHCP (full or proxy) and TFTP, no DNS, everything logged. */
export function serveDnsmasqConf(o: ServeConfOptions): string {
  const m = mask(o.net.prefixLen);
  const network = numberToIpv4(ipv4ToNumber(o.net.address)! & m);
  const out = [
    '# written by crossguard pxe serve',
    'port=0',
    'no-resolv',
    'no-hosts',
    'user=root',
    'bind-interfaces',
    `interface=${line('the interface', o.iface)}`,
    `dhcp-leasefile=${line('the lease file', o.leaseFile)}`,
    'log-dhcp',
    'enable-tftp',
    `tftp-root=${line('the tree path', o.tree)}`,
  ];
  if (o.mode.kind === 'full') {
    out.push(`dhcp-range=${o.mode.start},${o.mode.end},${numberToIpv4(m)},1h`);
    if (o.mode.ra) out.push(`dhcp-range=::,constructor:${o.iface},ra-only,64`, 'enable-ra');
    out.push(...bootRules('ipxe'));
  } else {
    out.push(`dhcp-range=${network},proxy,${numberToIpv4(m)}`);
    // The tags the services test: client architecture and the iPXE user class.
    out.push(...bootRules('ipxe').filter((r) => !r.startsWith('dhcp-boot=')), 'pxe-prompt="crossguard",0', ...proxyServices());
  }
  return out.join('\n') + '\n';
}
