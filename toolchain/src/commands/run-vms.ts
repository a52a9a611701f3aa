// crossguard run --vms FILE | --kernel FILE: run guests under the monitor
// (a thin layer over runGuests in ../guests.ts).
//
// --kernel runs one VM like `qemu-system-x86_64 -kernel`: the guest's text
// alone on stdout, and the guest's exit status as the process status.
// Guest statuses follow QEMU's isa-debug-exit convention ((v << 1) | 1, so
// odd), which is why these statuses differ from plain `run`'s:
//   s & 0xff  the guest exited with status s as the monitor reported it
//   124       --timeout passed before the guest ended
//   125       the emulator or the monitor died (incl. `@cg fatal`), or the
//             toolchain could not boot it (build failed, emulator missing)
//   126       the monitor stopped the VM (reason on stderr)
//   2         usage error or invalid description
// --vms runs a set: every VM's tagged output on stdout, a summary line per VM
// on stderr; 0 when every VM ended, 124 timeout, 125 the monitor died.
// In both modes --until REGEX ends the run with 0 at the first serial line
// that matches (a guest line as printed, with or without its [vm] tag, or
// any monitor line).

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pickEmulator } from '../../../qemu/detect.js';
import type { Machine } from '../../../qemu/emulator.js';
import { BuildError, CrossguardError, UsageError } from '../../../qemu/errors.js';
import { runGuests, type RunGuestsResult } from '../guests.js';
import { kernelFormat, MB1_SEARCH } from '../kernel.js';
import { defaultElf } from '../paths.js';
import { checkVmDescription, parseVmDescription, realFileAccess, VmConfigError, type VmFileAccess, type VmSet } from '../vms.js';
import { parseConsoleSpec, serveConsole } from '../console.js';
import { build } from './build.js';
import { planRun, type RunArgs } from './run.js';

export const GUEST_EXIT = { timeout: 124, died: 125, stopped: 126 } as const;
/** The VM name in --kernel mode. */
export const KERNEL_VM = 'guest';
/** --kernel: guest RAM when --mem is not given (QEMU's default, 128 MiB), and what the machine gets on top for the monitor. */
export const KERNEL_DEFAULT_MEM = 128;
export const KERNEL_MACHINE_EXTRA = 128;
/** --vms: machine RAM when --mem is not given. */
export const VMS_DEFAULT_MACHINE_MEM = 512;

/** Toolchain failures in --kernel/--vms mode: 125, so they never look like a guest status. */
export class GuestRunError extends CrossguardError {
  override name = 'GuestRunError';
  override readonly exitCode = GUEST_EXIT.died;
}

const OPTION_FOR: [RegExp, string][] = [
  [/^vms\[0\]\.kernel\b/, '--kernel'],
  [/^vms\[0\]\.initrd\b/, '--initrd'],
  [/^vms\[0\]\.cmdline\b/, '--append'],
  [/^vms\[0\]\.modules\[\d+\]\.path\b/, '--initrd'],
  [/^vms\[0\]\.modules\[\d+\]\.cmdline\b/, '--initrd'],
  [/^vms\[0\]\.modules\b/, '--initrd'],
  [/^vms\[0\]\.memory_mib\b/, '--mem'],
  [/^vms\[0\]\.vcpus\b/, '--smp'],
];

/**
 * The one-VM set for --kernel (pure but for `files`); problems name the
 * options. As with QEMU, --initrd is a Linux kernel's one initrd, or a
 * Multiboot kernel's modules ("FILE [ARGS]", repeatable).
 */
export function kernelModeSet(a: RunArgs, cwd: string, files?: VmFileAccess): VmSet {
  const guestMem = a.mem ?? KERNEL_DEFAULT_MEM;
  const initrds = a.initrd === undefined ? [] : [a.initrd].flat();
  const linux = a.kernel !== undefined && isBzImage(resolve(cwd, a.kernel), files ?? realFileAccess);
  if (linux && initrds.length > 1)
    throw new VmConfigError('--kernel', [
      `--initrd: given ${initrds.length} times, but a Linux kernel takes one initrd; concatenate the cpio archives into one file (cat a.cpio.gz b.cpio.gz > both.cpio.gz)`,
    ]);
  const modules = initrds.map((s) => {
    const sp = s.indexOf(' ');
    return sp < 0 ? { path: s } : { path: s.slice(0, sp), cmdline: s.slice(sp + 1) };
  });
  const vm = {
    name: KERNEL_VM,
    memory_mib: guestMem,
    vcpus: a.smp ?? 1,
    kernel: a.kernel,
    ...(a.append !== undefined ? { cmdline: a.append } : {}),
    ...(linux && initrds.length ? { initrd: initrds[0] } : modules.length ? { modules } : {}),
  };
  try {
    return checkVmDescription({ vms: [vm] }, cwd, {
      machineMemMiB: guestMem + KERNEL_MACHINE_EXTRA,
      source: '--kernel',
      ...(files ? { files } : {}),
    });
  } catch (e) {
    if (!(e instanceof VmConfigError)) throw e;
    const problems = e.problems.map((p) => {
      for (const [re, opt] of OPTION_FOR) if (re.test(p)) return p.replace(re, opt);
      return p;
    });
    throw new VmConfigError('--kernel', problems);
  }
}

/**
 * Bochs' clock for a run: --ips, else 50 MHz when a VM is a Linux kernel (at Bochs' default
 * 4 MHz its 250 Hz tick would come every 16 000 instructions), else Bochs' default.
 */
export function runIps(a: Pick<RunArgs, 'ips'>, set: VmSet, files: VmFileAccess = realFileAccess): number | undefined {
  if (a.ips !== undefined) {
    if (!Number.isInteger(a.ips) || a.ips < 1_000_000 || a.ips > 2_000_000_000)
      throw new UsageError(`--ips ${a.ips} is not a whole number from 1000000 to 2000000000; give e.g. --ips 50000000`);
    return a.ips;
  }
  return set.vms.some((v) => isBzImage(v.kernel.path, files)) ? LINUX_IPS : undefined;
}

export const LINUX_IPS = 50_000_000;

/** True when `path` is a Linux bzImage (false when unreadable: the checker reports that). */
function isBzImage(path: string, files: VmFileAccess): boolean {
  const head = isAbsolute(path) ? files.readHead(path, MB1_SEARCH) : null;
  if (!head) return false;
  const f = kernelFormat(head);
  return f.ok && f.kind === 'bzimage';
}

/** --kernel: the process status and the stderr line for a finished run (pure). */
export function kernelExitStatus(r: RunGuestsResult, name = KERNEL_VM): { status: number; message?: string } {
  if (r.matched) return { status: 0 };
  const vm = r.vms.find((v) => v.name === name);
  if (vm?.status !== undefined) return { status: vm.status & 0xff };
  if (vm?.stopReason !== undefined) return { status: GUEST_EXIT.stopped, message: `VM ${name} stopped: ${vm.stopReason}` };
  if (r.timedOut) return { status: GUEST_EXIT.timeout, message: `VM ${name} did not end before --timeout` };
  return { status: GUEST_EXIT.died, message: r.died ?? `the monitor reported no end for VM ${name}` };
}

/** --vms: one summary line per VM and the process status (pure). */
export function vmsExitStatus(r: RunGuestsResult): { status: number; summary: string[]; message?: string } {
  const summary = r.vms.map((v) =>
    v.status !== undefined
      ? `${v.name}: exit status ${v.status}`
      : v.stopReason !== undefined
        ? `${v.name}: stopped (${v.stopReason})`
        : `${v.name}: still running`,
  );
  if (r.matched) return { status: 0, summary };
  if (r.died) return { status: GUEST_EXIT.died, summary, message: r.died };
  if (r.timedOut) return { status: GUEST_EXIT.timeout, summary, message: 'timed out before every VM ended; raise --timeout' };
  if (!r.done) return { status: GUEST_EXIT.died, summary, message: 'the monitor did not report @cg vms-done' };
  return { status: 0, summary };
}

/** Runs --kernel or --vms; returns the process status. */
export default async function runVms(a: RunArgs): Promise<number> {
  const kernelMode = a.kernel !== undefined;
  const { until } = planRun(a);
  const say = (line: string) => process.stderr.write(`crossguard: ${line}\n`);
  const set = kernelMode ? kernelModeSet(a, process.cwd()) : readVmsFile(a.vms!, a.mem ?? VMS_DEFAULT_MACHINE_MEM);
  const machineMem = kernelMode ? set.vms[0]!.memoryMiB + KERNEL_MACHINE_EXTRA : (a.mem ?? VMS_DEFAULT_MACHINE_MEM);
  if (a.image !== undefined && /\.iso$/i.test(a.image))
    throw new UsageError('--vms and --kernel need the monitor ELF (the ISO is rebuilt with the modules); give --image build/crossguard.elf');

  let machine: Machine | undefined;
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled ??= sig;
    void machine?.stop();
  };
  const onExit = () => machine?.killSync();
  let r: RunGuestsResult;
  const consoleSpec = a.console !== undefined ? parseConsoleSpec(a.console) : undefined;
  let closeConsole: (() => void) | undefined;
  try {
    const { emulator, reason } = await pickEmulator(a.emulator);
    if (a.boot === 'elf' && emulator.kind === 'bochs')
      throw new UsageError(`${reason}, but Bochs cannot load an ELF; use --boot iso or --emulator qemu`);
    if (a.build && a.image === undefined) await build();
    if (!kernelMode || a.verbose)
      say(`booting ${emulator.kind} (${reason}, ${a.cpus} CPU${a.cpus === 1 ? '' : 's'}, ${set.vms.length} VM${set.vms.length === 1 ? '' : 's'})…`);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    process.on('exit', onExit);
    r = await runGuests({
      set,
      emulator,
      monitorElf: a.image ?? defaultElf(),
      cpus: a.cpus,
      memMiB: machineMem,
      boot: a.boot === 'elf' ? 'elf' : 'iso', // planRun refuses --boot pxe with --vms/--kernel
      timeoutMs: Math.round(a.timeout * 1000),
      ...(until ? { until } : {}),
      ...(runIps(a, set) ? { ips: runIps(a, set) } : {}),
      ...(a.cmdline !== undefined ? { monitorCmdline: a.cmdline } : {}),
      ...(a.serialLog !== undefined ? { serialLog: a.serialLog } : {}),
      onMachine: (m) => {
        machine = m;
        if (signalled) void m.stop();
        // The operator console on the same line: a client attaches to a
        // VM's console, or asks vms/disks/stats, while the VMs run.
        if (consoleSpec)
          void serveConsole(m.serial, consoleSpec).then(
            (srv) => {
              closeConsole = srv.close;
              say(`serial console on ${srv.address} (one client at a time)`);
            },
            (e: Error) => say(`cannot serve the console: ${e.message}`),
          );
      },
      onLine: (line) => {
        const tag = /^\[([a-z][a-z0-9_-]{0,30})\] ?(.*)$/.exec(line);
        const known = tag && set.vms.some((v) => v.name === tag[1]);
        if (known && kernelMode) process.stdout.write(`${tag![2]}\n`);
        else if (known) process.stdout.write(`${line}\n`);
        else if (a.verbose) process.stderr.write(`${line}\n`);
      },
    });
  } catch (e) {
    if (kernelMode && e instanceof CrossguardError && e.exitCode === 1) throw new GuestRunError(e.message, e.detail);
    throw e;
  } finally {
    closeConsole?.();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', onExit);
  }
  if (signalled) return signalled === 'SIGINT' ? 130 : signalled === 'SIGTERM' ? 143 : 129;
  if (r.died && r.diagnostics && a.verbose) process.stderr.write(`${r.diagnostics}\n`);
  if (kernelMode) {
    const k = kernelExitStatus(r);
    if (k.message) say(k.message);
    return k.status;
  }
  const v = vmsExitStatus(r);
  for (const l of v.summary) process.stderr.write(`${l}\n`);
  if (v.message) say(v.message);
  return v.status;
}

export function readVmsFile(file: string, machineMemMiB: number): VmSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BuildError(`cannot read --vms ${file}: ${(e as Error).message}; give the path of a VM description (see docs/vm-config.md)`);
  }
  return parseVmDescription(text, dirname(resolve(file)), { machineMemMiB, source: file });
}
