// crossguard run: build, pick an emulator, boot, and connect the serial line
// to the terminal (or a TCP console) until a pattern, a timeout, the end of
// the machine, or the user.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickEmulator } from '../../../qemu/detect.js';
import { runUntil, type BootImage, type Emulator, type EmulatorKind, type Machine } from '../../../qemu/emulator.js';
import { BootTimeoutError, BuildError, EmulatorExitedError, UsageError } from '../../../qemu/errors.js';
import { ESCAPE_HINT } from '../help.js';
import { attachTerminal, parseConsoleSpec, serveConsole, type TcpSpec } from '../console.js';
import { makeIso } from '../image.js';
import { defaultElf, defaultIso } from '../paths.js';
import { checkSerialCmdline, emulatorSerialUnit } from '../serial.js';
import { build } from './build.js';

export interface RunArgs {
  emulator: 'auto' | EmulatorKind;
  /** pxe: the NIC boots from the netboot tree given as --image (run-pxe.ts). */
  boot: 'iso' | 'elf' | 'pxe';
  firmware: 'bios' | 'uefi';
  cpus: number;
  /** MiB: the machine's RAM (default 512); with --kernel the guest's (default 128, as QEMU's). */
  mem?: number;
  timeout: number;
  until?: string;
  serialLog?: string;
  console?: string;
  cmdline?: string;
  image?: string;
  build: boolean;
  /** Run the VM set described in this JSON file (docs/vm-config.md). */
  vms?: string;
  /** Run one Multiboot1 kernel or Linux bzImage as a VM, like qemu -kernel (with --append, --initrd, --smp). */
  kernel?: string;
  append?: string;
  initrd?: string | string[];
  smp?: number;
  /** Bochs' emulated clock rate (instructions per second). */
  ips?: number;
  verbose?: boolean;
  /** --boot pxe: the NIC's MAC (any common spelling). */
  mac?: string;
  /**
   * --boot pxe: what boots first. BIOS: iPXE (the NIC's ROM, default) or GRUB's core.0. UEFI: OVMF's
   * PXE and GRUB EFI (grub, default), or QEMU's iPXE EFI ROM, which chains GRUB EFI (ipxe).
   */
  loader?: 'ipxe' | 'grub';
  /** --boot pxe: a network namespace with dnsmasq (needs root), or QEMU user networking. */
  net?: 'auto' | 'netns' | 'user';
}

/** Checked, converted arguments (pure; throws UsageError). */
export interface RunPlan {
  until?: RegExp;
  timeoutMs: number;
  console?: TcpSpec;
}

/** --boot pxe's own rules (pure; throws UsageError). */
function planPxe(a: RunArgs): void {
  if (a.image === undefined) throw new UsageError('--boot pxe needs --image DIR, a netboot tree (crossguard image --format pxe --out DIR)');
  if (a.vms !== undefined || a.kernel !== undefined)
    throw new UsageError('--boot pxe boots the VM sets in the tree; put the set in it (crossguard image --format pxe --vms/--host) instead of --vms/--kernel');
  if (a.cmdline !== undefined) throw new UsageError('--boot pxe boots the command line in the tree; give it to crossguard image --format pxe --cmdline');
  if (a.emulator === 'bochs' && a.net === 'netns')
    throw new UsageError("--boot pxe under Bochs boots through Bochs' own slirp DHCP/TFTP (--net user); use --emulator qemu for a lab namespace with dnsmasq");
}

export function planRun(a: RunArgs): RunPlan {
  if (!Number.isInteger(a.cpus) || a.cpus < 1 || a.cpus > 64) throw new UsageError('--cpus must be an integer from 1 to 64');
  if (a.kernel !== undefined) {
    if (a.mem !== undefined && (!Number.isInteger(a.mem) || a.mem < 2))
      throw new UsageError('--mem with --kernel is the guest RAM: an integer number of MiB, at least 2');
  } else if (a.mem !== undefined && (!Number.isInteger(a.mem) || a.mem < 16))
    throw new UsageError('--mem must be an integer number of MiB, at least 16');
  if (a.boot === 'pxe') planPxe(a);
  else
    for (const [opt, v] of [['--mac', a.mac], ['--loader', a.loader], ['--net', a.net]] as const)
      if (v !== undefined) throw new UsageError(`${opt} is for --boot pxe`);
  if (a.vms !== undefined && a.kernel !== undefined)
    throw new UsageError('--vms and --kernel exclude each other: describe the kernel as one VM in the --vms file, or drop --vms');
  for (const [opt, v] of [['--append', a.append], ['--initrd', a.initrd], ['--smp', a.smp]] as const)
    if (v !== undefined && a.kernel === undefined) throw new UsageError(`${opt} needs --kernel (with --vms, put it in the description)`);
  if (a.smp !== undefined && (!Number.isInteger(a.smp) || a.smp < 1 || a.smp > 16))
    throw new UsageError('--smp is the guest vCPU count: an integer from 1 to 16');
  if (!Number.isFinite(a.timeout) || a.timeout < 0) throw new UsageError('--timeout must be a number of seconds (0 = none)');
  if (a.boot === 'elf' && a.emulator === 'bochs')
    throw new UsageError('Bochs cannot load an ELF; use --boot iso (the default) or --emulator qemu');
  if (a.firmware === 'uefi' && (a.emulator === 'bochs' || a.boot === 'elf'))
    throw new UsageError('--firmware uefi needs QEMU and the ISO or a netboot tree: use --emulator qemu (or kvm) --boot iso (or pxe)');
  if (a.boot === 'iso' && a.cmdline !== undefined && a.image !== undefined)
    throw new UsageError(
      '--cmdline with --boot iso rebuilds the ISO from build/crossguard.elf; drop --image, or bake the command line in with crossguard image --cmdline',
    );
  let until: RegExp | undefined;
  if (a.until !== undefined) {
    try {
      until = new RegExp(a.until);
    } catch (e) {
      throw new UsageError(`--until: ${(e as Error).message}`);
    }
  }
  if (a.cmdline !== undefined) {
    // A port the monitor would refuse, or one no emulator has, stops here rather than after a build.
    checkSerialCmdline(a.cmdline, '--cmdline');
    emulatorSerialUnit(a.cmdline);
  }
  const plan: RunPlan = { timeoutMs: Math.round(a.timeout * 1000) };
  if (until) plan.until = until;
  if (a.console !== undefined) plan.console = parseConsoleSpec(a.console);
  return plan;
}

const progress = (line: string) => {
  if (process.stderr.isTTY) process.stderr.write(`crossguard: ${line}\n`);
};
const say = (line: string) => process.stderr.write(`crossguard: ${line}\n`);

/** Runs the session; returns the exit status for normal ends, throws CrossguardErrors otherwise. */
export default async function main(a: RunArgs): Promise<number> {
  const plan = planRun(a);
  if (a.boot === 'pxe') return (await import('./run-pxe.js')).default(a, plan);
  if (a.vms !== undefined || a.kernel !== undefined) return (await import('./run-vms.js')).default(a);
  const mem = a.mem ?? 512;
  const { emulator, reason } = await pickEmulator(a.emulator);
  if (a.boot === 'elf' && emulator.kind === 'bochs')
    throw new UsageError(`${reason}, but Bochs cannot load an ELF; use --boot iso or --emulator qemu`);

  if (a.build && a.image === undefined) {
    progress('building…');
    await build();
  }

  const cleanups: (() => void | Promise<void>)[] = [];
  let image: BootImage;
  if (a.boot === 'elf') {
    image = { kind: 'elf', path: a.image ?? defaultElf() };
    if (a.cmdline !== undefined) image.cmdline = a.cmdline;
  } else if (a.cmdline !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'crossguard-run-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    progress('making an ISO with the given command line…');
    await makeIso({ elf: defaultElf(), out: join(dir, 'crossguard.iso'), cmdline: a.cmdline });
    image = { kind: 'iso', path: join(dir, 'crossguard.iso') };
  } else image = { kind: 'iso', path: a.image ?? defaultIso() };
  if (!existsSync(image.path))
    throw new BuildError(`${image.path} does not exist; run crossguard build (or drop --no-build)`);

  say(`booting ${emulator.kind} (${reason}, ${a.cpus} CPU${a.cpus === 1 ? '' : 's'})…`);
  return runSession({ emulator, image, a, plan, memMiB: mem, cleanups, ...(a.cmdline !== undefined ? { monitorCmdline: a.cmdline } : {}) });
}

export interface SessionOptions {
  emulator: Emulator;
  image: BootImage;
  a: RunArgs;
  plan: RunPlan;
  memMiB: number;
  /** Run at the end, last first (temp dirs, a lab network). */
  cleanups: (() => void | Promise<void>)[];
  /** Extra text for a failed boot's diagnostics (e.g. the DHCP/TFTP server's log). */
  diagnostics?: () => string;
  /** The monitor's command line, for the UART its cg.serial= chose (default COM1). */
  monitorCmdline?: string;
}

/**
 * Boots and connects the serial line to the terminal (or a TCP console)
 * until --until, --timeout, the machine's end or the user; returns the exit
 * status for normal ends, throws CrossguardErrors otherwise.
 */
export async function runSession(o: SessionOptions): Promise<number> {
  const { emulator, image, a, plan, cleanups } = o;
  const mem = o.memMiB;
  let machine: Machine | undefined;
  let ended: 'user' | NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    ended ??= sig;
    void machine?.stop();
  };
  const onExit = () => machine?.killSync();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', onExit);
  try {
    machine = await emulator.boot({
      image,
      cpus: a.cpus,
      memMiB: mem,
      firmware: a.firmware,
      serialUnit: emulatorSerialUnit(o.monitorCmdline),
      ...(a.serialLog !== undefined ? { serialLog: a.serialLog } : {}),
    });
    const m = machine;
    if (ended) await m.stop();
    const quit = () => {
      ended ??= 'user';
      void m.stop();
    };
    if (plan.console) {
      const srv = await serveConsole(m.serial, plan.console);
      cleanups.push(srv.close);
      say(`serial console on ${srv.address} (one client at a time)`);
    } else {
      cleanups.push(attachTerminal(m.serial, quit));
      if (process.stdin.isTTY) say(ESCAPE_HINT);
    }

    const r = await runUntil(m, { ...(plan.until ? { until: plan.until } : {}), timeoutMs: plan.timeoutMs });
    if (ended === 'user') return 0;
    if (ended) return ended === 'SIGINT' ? 130 : ended === 'SIGTERM' ? 143 : 129;
    if (r.status === 'matched') return 0;
    if (r.status === 'timeout')
      throw new BootTimeoutError(
        plan.until
          ? `timed out after ${a.timeout} s waiting for /${plan.until.source}/ on ${emulator.kind}; raise --timeout or check the serial output above`
          : `stopped ${emulator.kind} after --timeout ${a.timeout} s`,
        plan.until && o.diagnostics ? o.diagnostics() : undefined,
      );
    const how = r.exit?.signal ? `signal ${r.exit.signal}` : `status ${r.exit?.code}`;
    if (plan.until) {
      throw new EmulatorExitedError(
        `${emulator.kind} exited (${how}) before /${plan.until.source}/ appeared; its diagnostics are above`,
        `${emulator.kind} diagnostics:\n${m.diagnostics()}${o.diagnostics ? `\n${o.diagnostics()}` : ''}`,
      );
    }
    progress(`${emulator.kind} exited (${how})`);
    return 0;
  } finally {
    await machine?.stop();
    for (const c of cleanups.reverse()) await c();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', onExit);
  }
}
