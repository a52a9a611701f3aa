// VM descriptions: the JSON an operator writes (docs/vm-config.md), checked
// completely before anything boots. Every problem is collected and named by
// its JSON path, the bad value and the fix; VmConfigError lists them all.
// Pure: file access goes through the injectable VmFileAccess.
// This file holds the set: the top level (policy, images, the vms list) and
// what the VMs must fit together (the machine's RAM, rt admission); one VM's
// fields are checked in vm.ts, disks in disks.ts.

import { CrossguardError } from '../../qemu/errors.js';
import { Checker, isObject, realFileAccess, show, type VmFileAccess } from './checker.js';
import { checkImages, overlayQuotaMiB, usedImages, type VmImageDesc } from './disks.js';
import { checkNetworks, checkNicSet, usedNetworks, type VmNetworkDesc } from './nets.js';
import { checkVm, LIMITS, type ImageScope, type VmDesc } from './vm.js';

export { realFileAccess, type VmFileAccess } from './checker.js';
export type { VmDiskDesc, VmImageDesc } from './disks.js';
export type { VmNetworkDesc, VmNicDesc } from './nets.js';
export { guestCmdline, LIMITS, RT_POLICY, VM_NAME } from './vm.js';
export type { TripleFaultAction, UnassignedAction, VmDesc, VmModuleDesc, VmReservation } from './vm.js';

/** Scheduler policy names: the monitor knows its own list (an unknown one is reported and its default used). */
export const POLICY_NAME = /^[a-z][a-z0-9_-]{0,30}$/;

export interface VmSet {
  vms: VmDesc[];
  /** Scheduler policy the monitor should run; absent: the image's default. */
  policy?: string;
  /** Disk images some VM uses (unused ones are left out), each packed once; absent: none. */
  images?: VmImageDesc[];
  /** Guest networks some VM has a NIC on (unused ones are left out); absent: none. */
  networks?: VmNetworkDesc[];
  /** Where the description came from (for messages and the generated file's comment). */
  source: string;
}

export interface VmParseOptions {
  /** Machine RAM in MiB (run's --mem); the VMs must fit in it minus LIMITS.monitorMiB. */
  machineMemMiB?: number;
  /** The machine's CPU count (run's --cpus); the VMs' reservations must fit in it. */
  machineCpus?: number;
  files?: VmFileAccess;
  /** Name used in messages; default "VM description". */
  source?: string;
}

/** The description is invalid; `problems` holds one line each. Exit 2. */
export class VmConfigError extends CrossguardError {
  override name = 'VmConfigError';
  override readonly exitCode = 2;
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
  }
}

const TOP_KEYS = ['policy', 'images', 'networks', 'vms'];

/** n/d as a short decimal for messages, rounded up to 3 places (so an overload never reads as a fit). */
function cpus(n: bigint, d: bigint): string {
  const milli = (n * 1000n + d - 1n) / d;
  return (Number(milli) / 1000).toString();
}

/**
 * The rt admission check: every reserved vCPU takes budget/period of a CPU, and together
 * they must fit the machine. Exact (fractions in BigInt); a problem at `vms` when over.
 */
function checkAdmission(c: Checker, vms: VmDesc[], machineCpus: number): void {
  const reserved = vms.filter((v) => v.reservation);
  if (!reserved.length) return;
  let num = 0n;
  let den = 1n;
  const parts: string[] = [];
  for (const v of reserved) {
    const { budgetUs, periodUs } = v.reservation!;
    const n = BigInt(v.vcpus) * BigInt(budgetUs);
    num = num * BigInt(periodUs) + n * den;
    den *= BigInt(periodUs);
    parts.push(`${v.name} ${v.vcpus} x ${budgetUs}/${periodUs}`);
  }
  if (num <= BigInt(machineCpus) * den) return;
  const need = (num + den - 1n) / den;
  c.bad(
    'vms',
    `the reservations need ${cpus(num, den)} CPUs (${parts.join(', ')}) but the machine has ${machineCpus}; lower budget_us, raise period_us or give fewer vcpus to ${reserved.map((v) => v.name).join(', ')}, or raise --cpus to at least ${need}`,
  );
}

/** Checks an already-parsed description (JSON value). Throws VmConfigError with every problem. */
export function checkVmDescription(value: unknown, baseDir: string, opts: VmParseOptions = {}): VmSet {
  const source = opts.source ?? 'VM description';
  const c = new Checker(baseDir, opts.files ?? realFileAccess);
  const vms: VmDesc[] = [];
  if (!isObject(value)) {
    c.bad('(top)', `${show(value)} is not an object; write { "vms": [ ... ] }`);
    throw new VmConfigError(source, c.problems);
  }
  c.keys('', value, TOP_KEYS);
  let policy: string | undefined;
  if (value.policy !== undefined) {
    if (typeof value.policy !== 'string' || !POLICY_NAME.test(value.policy))
      c.bad('policy', `${show(value.policy)} is not a valid policy name; use 1 to 31 of a-z, 0-9, _ and -, starting with a letter, such as "fair", "pinned", "rt" or "rr"`);
    else policy = value.policy;
  }
  const { images, declared } = checkImages(c, value.images);
  const nets = checkNetworks(c, value.networks);
  const scope: ImageScope = {
    images: new Map(images.map((i) => [i.name, i])),
    declared,
    networks: new Set(nets.networks.map((n) => n.name)),
    declaredNetworks: nets.declared,
  };
  const list = value.vms;
  if (list === undefined) c.bad('vms', 'missing; write { "vms": [ { "name": ..., ... } ] }');
  else if (!Array.isArray(list)) c.bad('vms', `${show(list)} is not a list; write "vms": [ ... ]`);
  else if (list.length === 0) c.bad('vms', 'empty; describe at least one VM');
  else if (list.length > LIMITS.vms) c.bad('vms', `${list.length} VMs is over the limit of ${LIMITS.vms}; split the set`);
  else {
    const seen = new Map<string, number>();
    list.forEach((v: unknown, i: number) => {
      const vm = checkVm(c, `vms[${i}]`, v, policy, scope);
      const name = isObject(v) && typeof v.name === 'string' ? v.name : undefined;
      if (name !== undefined && seen.has(name))
        c.bad(`vms[${i}].name`, `${show(name)} is already the name of vms[${seen.get(name)}]; names must be unique`);
      else if (name !== undefined) seen.set(name, i);
      if (vm) vms.push(vm);
    });
    if (c.problems.length === 0) checkNicSet(c, vms.map((v) => v.nics));
    if (opts.machineMemMiB !== undefined && c.problems.length === 0) {
      // Disk images sit in the machine's RAM too (loaded as boot modules),
      // and every rw disk's overlay may grow to its quota in monitor memory.
      const imageMiB = Math.ceil(usedImages(images, vms.map((v) => v.disks)).reduce((s, i) => s + i.bytes, 0) / (1024 * 1024));
      const overlayMiB = vms.reduce((s, v) => s + (v.disks ?? []).reduce((t, d) => t + overlayQuotaMiB(d, scope.images.get(d.image)?.bytes ?? 0), 0), 0);
      const total = vms.reduce((s, v) => s + v.memoryMiB, 0) + imageMiB + overlayMiB;
      const room = opts.machineMemMiB - LIMITS.monitorMiB;
      const parts = [imageMiB ? `disk images (${imageMiB} MiB)` : '', overlayMiB ? `disk overlays at their quotas (${overlayMiB} MiB)` : ''].filter(Boolean);
      const what = parts.length ? `the VMs and their ${parts.join(' and ')} need` : 'the VMs need';
      const fixes = ['lower memory_mib', imageMiB ? 'use smaller images' : '', overlayMiB ? 'give rw disks a smaller "overlay_max_mib"' : ''].filter(Boolean);
      if (total > room)
        c.bad('vms', `${what} ${total} MiB in all but the machine has ${opts.machineMemMiB} MiB, ${room} after the monitor's ${LIMITS.monitorMiB}; ${fixes.join(', ')} or raise --mem to at least ${total + LIMITS.monitorMiB}`);
    }
    if (opts.machineCpus !== undefined && c.problems.length === 0) checkAdmission(c, vms, opts.machineCpus);
  }
  if (c.problems.length) throw new VmConfigError(source, c.problems);
  const used = usedImages(images, vms.map((v) => v.disks));
  const usedNets = usedNetworks(nets.networks, vms.map((v) => v.nics));
  return {
    vms,
    ...(policy !== undefined ? { policy } : {}),
    ...(used.length ? { images: used } : {}),
    ...(usedNets.length ? { networks: usedNets } : {}),
    source,
  };
}

/** Parses and checks a description's text; relative paths resolve against baseDir. */
export function parseVmDescription(text: string, baseDir: string, opts: VmParseOptions = {}): VmSet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new VmConfigError(opts.source ?? 'VM description', [`not valid JSON (${(e as Error).message}); fix the syntax`]);
  }
  return checkVmDescription(value, baseDir, opts);
}
