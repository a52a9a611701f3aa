// Guest networks in a VM description (docs/vm-config.md): top-level
// "networks" lists each network (a switch in the monitor) once; a VM's
// "nics" attach virtio-net devices to them, each with its MAC (given, or
// derived by the monitor) and optional rate limits. No frame crosses
// between networks. A network's "uplink" bridges it to a NIC of the machine
// the monitor drives itself ("nic0": the first one it finds, docs/networking.md).

import { Checker, isObject, show } from './checker.js';

export const NETWORK_NAME = /^[a-z][a-z0-9_-]{0,30}$/;
export const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
export const NET_LIMITS = {
  /** What the monitor keeps (vms.cfg: at most 8 network lines, 4 nic lines per VM). */
  networks: 8,
  nicsPerVm: 4,
  /** Ports of one switch (the monitor's NET_PORTS_MAX). */
  portsPerNetwork: 16,
  /** One largest frame (1518 bytes) a second; below it a bucket could never pass one. */
  bytesPerSecMin: 1518,
  bytesPerSecMax: 1_000_000_000_000,
  packetsPerSecMax: 10_000_000,
} as const;

export interface VmNetworkDesc {
  name: string;
  /** The host NIC bridged in (plain L2, no NAT): "nic0" .. "nic3". */
  uplink?: string;
}

/** Host NICs an uplink may name: the monitor's nic0 .. nic3, in the order it finds them. */
export const UPLINK = /^nic[0-3]$/;

export interface VmNicDesc {
  network: string;
  /** Lower case, or undefined: the monitor derives one (locally administered). */
  mac?: string;
  /** Token buckets; 0 = unlimited. */
  bytesPerSec: number;
  packetsPerSec: number;
}

const NETWORK_KEYS = ['name', 'uplink'];
const NIC_KEYS = ['network', 'mac', 'bytes_per_s', 'packets_per_s'];

/**
 * Checks top-level "networks". Returns the valid networks (declaration order)
 * and every declared name, valid or not, so a NIC naming a broken network is
 * not also reported as undeclared.
 */
export function checkNetworks(c: Checker, v: unknown): { networks: VmNetworkDesc[]; declared: Set<string> } {
  const networks: VmNetworkDesc[] = [];
  const declared = new Set<string>();
  if (v === undefined) return { networks, declared };
  if (!Array.isArray(v)) {
    c.bad('networks', `${show(v)} is not a list; write "networks": [ { "name": "lab0" } ]`);
    return { networks, declared };
  }
  if (v.length > NET_LIMITS.networks) {
    c.bad('networks', `${v.length} networks is over the limit of ${NET_LIMITS.networks}; put the VMs on fewer networks`);
    return { networks, declared };
  }
  v.forEach((n: unknown, i: number) => {
    const at = `networks[${i}]`;
    if (!isObject(n)) {
      c.bad(at, `${show(n)} is not an object; write { "name": "lab0" }`);
      return;
    }
    c.keys(at, n, NETWORK_KEYS);
    if (typeof n.name === 'string') declared.add(n.name);
    if (n.name === undefined) c.bad(`${at}.name`, 'missing; give the network a name such as "lab0"');
    else if (typeof n.name !== 'string' || !NETWORK_NAME.test(n.name))
      c.bad(`${at}.name`, `${show(n.name)} is not a valid network name; use 1 to 31 of a-z, 0-9, _ and -, starting with a letter`);
    else if (networks.some((o) => o.name === n.name)) c.bad(`${at}.name`, `${show(n.name)} is declared twice; names must be unique`);
    else if (n.uplink !== undefined && (typeof n.uplink !== 'string' || !UPLINK.test(n.uplink)))
      c.bad(`${at}.uplink`, `${show(n.uplink)} is no host NIC; write "nic0" (the first NIC the monitor finds), up to "nic3"`);
    else if (n.uplink !== undefined && networks.some((o) => o.uplink === n.uplink))
      c.bad(`${at}.uplink`, `${show(n.uplink)} is the uplink of network ${JSON.stringify(networks.find((o) => o.uplink === n.uplink)!.name)} already; give each network its own NIC`);
    else networks.push(n.uplink === undefined ? { name: n.name } : { name: n.name, uplink: n.uplink as string });
  });
  return { networks, declared };
}

function checkNic(c: Checker, at: string, d: unknown, networks: Set<string>, declared: Set<string>): VmNicDesc | undefined {
  if (!isObject(d)) {
    c.bad(at, `${show(d)} is not an object; write { "network": "lab0" }`);
    return undefined;
  }
  const before = c.problems.length;
  c.keys(at, d, NIC_KEYS);
  let network: string | undefined;
  if (d.network === undefined) c.bad(`${at}.network`, 'missing; name one of the top-level "networks"');
  else if (typeof d.network !== 'string' || !declared.has(d.network)) {
    const known = [...declared];
    c.bad(
      `${at}.network`,
      known.length
        ? `${show(d.network)} is not declared in "networks"; use one of ${known.map((k) => JSON.stringify(k)).join(', ')} or declare it`
        : `${show(d.network)} is not declared; add "networks": [ { "name": ${JSON.stringify(typeof d.network === 'string' ? d.network : 'lab0')} } ] at the top level`,
    );
  } else if (networks.has(d.network)) network = d.network;
  let mac: string | undefined;
  if (d.mac !== undefined) {
    if (typeof d.mac !== 'string' || !MAC.test(d.mac)) c.bad(`${at}.mac`, `${show(d.mac)} is not a MAC address; write six hex bytes such as "02:00:00:00:00:01", or leave it out to have one derived`);
    else if (parseInt(d.mac.slice(0, 2), 16) & 1) c.bad(`${at}.mac`, `${show(d.mac)} is a multicast address (bit 0 of the first byte is set); give a unicast one such as "02:…" or leave it out`);
    else if (/^(00:){5}00$/.test(d.mac)) c.bad(`${at}.mac`, '"00:00:00:00:00:00" is no address; give another or leave it out');
    else mac = d.mac.toLowerCase();
  }
  const bps = d.bytes_per_s === undefined ? 0 : c.int(`${at}.bytes_per_s`, d.bytes_per_s, 0, NET_LIMITS.bytesPerSecMax, ' bytes a second (0 = unlimited)');
  if (bps !== undefined && bps > 0 && bps < NET_LIMITS.bytesPerSecMin)
    c.bad(`${at}.bytes_per_s`, `${bps} is below one full frame a second; give 0 (unlimited) or at least ${NET_LIMITS.bytesPerSecMin}`);
  const pps = d.packets_per_s === undefined ? 0 : c.int(`${at}.packets_per_s`, d.packets_per_s, 0, NET_LIMITS.packetsPerSecMax, ' packets a second (0 = unlimited)');
  if (c.problems.length !== before || !network || bps === undefined || pps === undefined) return undefined;
  return { network, ...(mac !== undefined ? { mac } : {}), bytesPerSec: bps, packetsPerSec: pps };
}

/** Checks a VM's "nics" (at `at`); undefined when it has problems (recorded in `c`). */
export function checkNics(c: Checker, at: string, v: unknown, networks: Set<string>, declared: Set<string>): VmNicDesc[] | undefined {
  if (!Array.isArray(v)) {
    c.bad(at, `${show(v)} is not a list; write [ { "network": "lab0" } ]`);
    return undefined;
  }
  if (v.length > NET_LIMITS.nicsPerVm) {
    c.bad(at, `${v.length} nics is over the limit of ${NET_LIMITS.nicsPerVm}; give the VM fewer nics`);
    return undefined;
  }
  const before = c.problems.length;
  const nics = v.map((d: unknown, i: number) => checkNic(c, `${at}[${i}]`, d, networks, declared));
  return c.problems.length === before ? (nics as VmNicDesc[]) : undefined;
}

/**
 * What the NICs of a whole set must respect together: a given MAC at most
 * once, and at most NET_LIMITS.portsPerNetwork NICs per network. `nics[i]` are
 * the NICs of `vms[i]` (at `vms[i].nics`).
 */
export function checkNicSet(c: Checker, nics: readonly (readonly VmNicDesc[] | undefined)[]): void {
  const macs = new Map<string, string>();
  const ports = new Map<string, number>();
  nics.forEach((list, i) =>
    (list ?? []).forEach((n, k) => {
      const at = `vms[${i}].nics[${k}]`;
      if (n.mac !== undefined) {
        if (macs.has(n.mac)) c.bad(`${at}.mac`, `${JSON.stringify(n.mac)} is already the MAC of ${macs.get(n.mac)}; MACs must be unique, give another or leave it out`);
        else macs.set(n.mac, at);
      }
      const count = (ports.get(n.network) ?? 0) + 1;
      ports.set(n.network, count);
      if (count === NET_LIMITS.portsPerNetwork + 1)
        c.bad(`${at}.network`, `network ${JSON.stringify(n.network)} has more than ${NET_LIMITS.portsPerNetwork} nics; spread the VMs over more networks`);
    }),
  );
}

/** The networks some VM uses, in declaration order (only those go into vms.cfg). */
export function usedNetworks(networks: readonly VmNetworkDesc[], nics: readonly (readonly VmNicDesc[] | undefined)[]): VmNetworkDesc[] {
  const used = new Set(nics.flatMap((ns) => (ns ?? []).map((n) => n.network)));
  return networks.filter((n) => used.has(n.name));
}
