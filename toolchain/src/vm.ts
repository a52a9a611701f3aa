// One VM of a VM description (docs/vm-config.md): its JSON entry checked
// field by field (name, memory, vCPUs, kernel and modules, command lines,
// triple-fault and unassigned-access actions, scheduler weight, cap and rt reservation, disks) into
// a VmDesc, and the limits those fields are checked against. vms.ts checks
// the whole set and re-exports what is public here.

import { Checker, isObject, show } from './checker.js';
import { checkDisks, type VmDiskDesc, type VmImageDesc } from './disks.js';
import { checkNics, type VmNicDesc } from './nets.js';
import { kernelFormat, MB1_SEARCH } from './kernel.js';

export const VM_NAME = /^[a-z][a-z0-9_-]{0,30}$/;
/** The policy that honours reservations. */
export const RT_POLICY = 'rt';
export const LIMITS = {
  vms: 16,
  memMin: 2,
  /** Guest RAM ends below the PCI window at 0xE0000000 (vmcfg.h VMCFG_MEM_MAX). */
  memMax: 3584,
  vcpusMax: 16,
  cmdline: 200,
  modules: 8,
  moduleCmdline: 100,
  /** What the monitor stores (vmcfg.h): guest cmdline incl. kernel path, module cmdline incl. path. */
  guestCmdline: 255,
  guestModuleCmdline: 127,
  /** RAM the monitor keeps for itself out of the machine's. */
  monitorMiB: 64,
  /** Scheduler parameters (firmware/include/abi/policy_abi.h, vmcfg_vm.c). */
  weightMin: 1,
  weightMax: 10000,
  weightDefault: 100,
  capPercentMax: 100,
  rtBudgetMin: 1,
  rtPeriodMin: 100,
  rtPeriodMax: 10_000_000,
} as const;

export type TripleFaultAction = 'stop' | 'reset';
/** A data access outside RAM and devices: QEMU's all-ones reads and dropped writes, or a stop. */
export type UnassignedAction = 'ignore' | 'stop';

export interface VmModuleDesc {
  /** Path as written in the JSON (what the guest sees in the module's cmdline). */
  given: string;
  /** Absolute path on this host. */
  path: string;
  /** Arguments after the path. */
  cmdline: string;
}

export interface VmDesc {
  name: string;
  memoryMiB: number;
  vcpus: number;
  kernel: { given: string; path: string };
  /** Arguments after the kernel path. */
  cmdline: string;
  /** Multiboot modules in order; for a Linux kernel at most one, its initrd ("initrd" in the JSON becomes modules[0]). */
  modules: VmModuleDesc[];
  /** The kernel is a Linux bzImage (boot protocol), not a Multiboot kernel. */
  linux?: true;
  onTripleFault: TripleFaultAction;
  /** Absent: "ignore" (the monitor's default). */
  onUnassignedAccess?: 'stop';
  /** Relative CPU share, 1..10000; absent: not given (the monitor uses LIMITS.weightDefault). */
  weight?: number;
  /** Cap on the whole VM, per mille of one CPU (1..1000); absent: no cap. */
  capPermille?: number;
  /** CPU reservation per vCPU for the rt policy: budgetUs of every periodUs. */
  reservation?: VmReservation;
  /** virtio-blk disks, in PCI slot order; absent: none. */
  disks?: VmDiskDesc[];
  /** virtio-net NICs, in PCI slot order after the disks; absent: none. */
  nics?: VmNicDesc[];
}

export interface VmReservation {
  budgetUs: number;
  periodUs: number;
}

const VM_KEYS = ['name', 'memory_mib', 'vcpus', 'kernel', 'cmdline', 'initrd', 'modules', 'on_triple_fault', 'on_unassigned_access', 'weight', 'cap_percent', 'reservation', 'disks', 'nics'];
const MODULE_KEYS = ['path', 'cmdline'];
const RESERVATION_KEYS = ['budget_us', 'period_us'];

/** A VM's reservation; undefined when it has problems (recorded in `c`). */
function checkReservation(c: Checker, at: string, r: unknown, policy: string | undefined): VmReservation | undefined {
  const { rtBudgetMin, rtPeriodMin, rtPeriodMax } = LIMITS;
  if (!isObject(r)) {
    c.bad(at, `${show(r)} is not an object; write { "budget_us": ..., "period_us": ... }`);
    return undefined;
  }
  const before = c.problems.length;
  c.keys(at, r, RESERVATION_KEYS);
  if (policy !== undefined && policy !== RT_POLICY)
    c.bad(at, `reservations need "policy": "${RT_POLICY}" but the policy is ${show(policy)}; set "policy": "${RT_POLICY}" or remove the reservation`);
  const budget =
    r.budget_us === undefined
      ? (c.bad(`${at}.budget_us`, `missing; give the CPU time per period in microseconds (${rtBudgetMin} to the period)`), undefined)
      : c.int(`${at}.budget_us`, r.budget_us, rtBudgetMin, rtPeriodMax, ' us');
  const period =
    r.period_us === undefined
      ? (c.bad(`${at}.period_us`, `missing; give the period in microseconds (${rtPeriodMin} to ${rtPeriodMax})`), undefined)
      : c.int(`${at}.period_us`, r.period_us, rtPeriodMin, rtPeriodMax, ' us');
  if (budget !== undefined && period !== undefined && budget > period)
    c.bad(`${at}.budget_us`, `${budget} is more than period_us ${period}; a vCPU cannot run longer than its period, lower budget_us or raise period_us`);
  if (c.problems.length !== before || budget === undefined || period === undefined) return undefined;
  return { budgetUs: budget, periodUs: period };
}

/** The images a VM's disks may name: the valid ones by name, and every declared name (valid or not); the same for its NICs' networks. */
export interface ImageScope {
  images: Map<string, VmImageDesc>;
  declared: Set<string>;
  networks?: Set<string>;
  declaredNetworks?: Set<string>;
}

/** Checks one VM entry; undefined when it has problems (recorded in `c`). */
export function checkVm(c: Checker, at: string, v: unknown, policy: string | undefined, scope: ImageScope): VmDesc | undefined {
  if (!isObject(v)) {
    c.bad(at, `${show(v)} is not an object; describe the VM as { "name": ..., "memory_mib": ..., "kernel": ... }`);
    return undefined;
  }
  const before = c.problems.length;
  c.keys(at, v, VM_KEYS);
  let name: string | undefined;
  if (v.name === undefined) c.bad(`${at}.name`, 'missing; give the VM a name such as "web1"');
  else if (typeof v.name !== 'string' || !VM_NAME.test(v.name))
    c.bad(`${at}.name`, `${show(v.name)} is not a valid name; use 1 to 31 of a-z, 0-9, _ and -, starting with a letter`);
  else name = v.name;
  const mem =
    v.memory_mib === undefined
      ? (c.bad(`${at}.memory_mib`, `missing; give the VM's RAM in MiB (${LIMITS.memMin} to ${LIMITS.memMax})`), undefined)
      : c.int(`${at}.memory_mib`, v.memory_mib, LIMITS.memMin, LIMITS.memMax, ' MiB');
  const vcpus = v.vcpus === undefined ? 1 : c.int(`${at}.vcpus`, v.vcpus, 1, LIMITS.vcpusMax, ' vCPUs');
  let kernel: VmDesc['kernel'] | undefined;
  let linux = false;
  if (v.kernel === undefined) c.bad(`${at}.kernel`, 'missing; give the path of a Multiboot1 kernel or a Linux bzImage');
  else kernel = c.file(`${at}.kernel`, v.kernel);
  if (kernel) {
    const head = c.files.readHead(kernel.path, MB1_SEARCH);
    const f = head ? kernelFormat(head) : { ok: false as const, problem: 'cannot be read (is it a directory?); give a kernel file' };
    if (!f.ok) c.bad(`${at}.kernel`, `${show(kernel.given)} ${f.problem}`);
    else linux = f.kind === 'bzimage';
  }
  const cmdline = v.cmdline === undefined ? '' : c.text(`${at}.cmdline`, v.cmdline, LIMITS.cmdline);
  if (kernel && cmdline !== undefined) {
    const full = guestCmdline(kernel.given, cmdline).length;
    if (full > LIMITS.guestCmdline)
      c.bad(`${at}.cmdline`, `with the kernel path the guest's command line is ${full} characters, over ${LIMITS.guestCmdline}; shorten the path or the arguments`);
  }
  const modules: VmModuleDesc[] = [];
  // "initrd" is the first module, as QEMU's -initrd is for both kinds of kernel.
  if (v.initrd !== undefined) {
    const file = c.file(`${at}.initrd`, v.initrd);
    if (file) {
      const full = file.given.length;
      if (full > LIMITS.guestModuleCmdline)
        c.bad(`${at}.initrd`, `the path is ${full} characters, over ${LIMITS.guestModuleCmdline}; shorten it`);
      else modules.push({ ...file, cmdline: '' });
    }
  }
  if (linux && v.modules !== undefined) {
    if (v.initrd !== undefined)
      c.bad(`${at}.modules`, 'a Linux kernel takes one initrd and "initrd" is given; remove "modules" (concatenate cpio archives into one initrd if you need several)');
    else if (Array.isArray(v.modules) && v.modules.length > 1)
      c.bad(`${at}.modules`, `${v.modules.length} modules, but a Linux kernel takes one initrd; give one file as "initrd" (concatenate cpio archives into one)`);
  }
  if (v.modules !== undefined) {
    if (!Array.isArray(v.modules)) c.bad(`${at}.modules`, `${show(v.modules)} is not a list; write [ { "path": ... } ]`);
    else if (v.modules.length + modules.length > LIMITS.modules)
      c.bad(`${at}.modules`, `${v.modules.length + modules.length} modules${modules.length ? ' with the initrd' : ''} is over the limit of ${LIMITS.modules}; pack them into fewer files`);
    else
      v.modules.forEach((m: unknown, i: number) => {
        const mat = `${at}.modules[${i}]`;
        if (!isObject(m)) return c.bad(mat, `${show(m)} is not an object; write { "path": ..., "cmdline": ... }`);
        c.keys(mat, m, MODULE_KEYS);
        const file = m.path === undefined ? (c.bad(`${mat}.path`, 'missing; give the module file'), undefined) : c.file(`${mat}.path`, m.path);
        const mc = m.cmdline === undefined ? '' : c.text(`${mat}.cmdline`, m.cmdline, LIMITS.moduleCmdline);
        if (file && mc !== undefined) {
          const full = guestCmdline(file.given, mc).length;
          if (full > LIMITS.guestModuleCmdline)
            c.bad(`${mat}.cmdline`, `with the path the module's command line is ${full} characters, over ${LIMITS.guestModuleCmdline}; shorten the path or the arguments`);
          else modules.push({ ...file, cmdline: mc });
        }
      });
  }
  let onTripleFault: TripleFaultAction = 'stop';
  if (v.on_triple_fault !== undefined) {
    if (v.on_triple_fault === 'stop' || v.on_triple_fault === 'reset') onTripleFault = v.on_triple_fault;
    else c.bad(`${at}.on_triple_fault`, `${show(v.on_triple_fault)} is not "stop" or "reset"; use one of those ("stop" is the default)`);
  }
  let onUnassigned: UnassignedAction = 'ignore';
  if (v.on_unassigned_access !== undefined) {
    if (v.on_unassigned_access === 'ignore' || v.on_unassigned_access === 'stop') onUnassigned = v.on_unassigned_access;
    else
      c.bad(
        `${at}.on_unassigned_access`,
        `${show(v.on_unassigned_access)} is not "ignore" or "stop"; use "ignore" (the default: the guest goes on as on QEMU, reads outside RAM and devices give all ones, writes are dropped) or "stop" (such an access stops the VM)`,
      );
  }
  const weight = v.weight === undefined ? undefined : c.int(`${at}.weight`, v.weight, LIMITS.weightMin, LIMITS.weightMax, '');
  // The monitor takes the cap in per mille of one CPU.
  const capPercent = v.cap_percent === undefined ? 0 : c.int(`${at}.cap_percent`, v.cap_percent, 0, LIMITS.capPercentMax, ' percent');
  const reservation = v.reservation === undefined ? undefined : checkReservation(c, `${at}.reservation`, v.reservation, policy);
  const disks = v.disks === undefined ? [] : checkDisks(c, `${at}.disks`, v.disks, scope.images, scope.declared);
  const nics = v.nics === undefined ? [] : checkNics(c, `${at}.nics`, v.nics, scope.networks ?? new Set(), scope.declaredNetworks ?? new Set());
  if (c.problems.length !== before || !name || mem === undefined || vcpus === undefined || !kernel || cmdline === undefined || !disks || !nics)
    return undefined;
  return {
    name,
    memoryMiB: mem,
    vcpus,
    kernel,
    cmdline,
    modules,
    ...(linux ? { linux: true as const } : {}),
    onTripleFault,
    ...(onUnassigned === 'stop' ? { onUnassignedAccess: 'stop' as const } : {}),
    ...(weight !== undefined ? { weight } : {}),
    ...(capPercent ? { capPermille: capPercent * 10 } : {}),
    ...(reservation ? { reservation } : {}),
    ...(disks.length ? { disks } : {}),
    ...(nics.length ? { nics } : {}),
  };
}

/** "<path> <args>", as QEMU passes a Multiboot command line. */
export function guestCmdline(path: string, args: string): string {
  return args ? `${path} ${args}` : path;
}
