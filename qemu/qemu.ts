// QEMU back ends: 'qemu' (TCG: no VMX, for boot paths and the monitor's
// "VT-x not available" path) and 'kvm' (KVM with nested VMX: the fast path
// on a lab workstation). COM1 (or the monitor's cg.serial= UART) is QEMU's stdio; -kernel loads Multiboot1; a
// network boot goes through the NIC's PXE (iPXE ROM on BIOS, OVMF on UEFI).

import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  SerialChannel,
  tailLines,
  type Availability,
  type BootDeps,
  type BootModule,
  type BootOptions,
  type Emulator,
  type Machine,
  type NetBootImage,
} from './emulator.js';
import { BootError } from './errors.js';
import { ProcessMachine } from './machine.js';
import { realClock, realSpawner } from './process.js';
import { findOnPath } from './which.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

/** I/O port of isa-debug-exit: a write of V ends QEMU with status (V << 1) | 1. */
export const DEBUG_EXIT_PORT = 0xf4;

/** UEFI firmware for QEMU (Debian package ovmf). */
export const OVMF_CODE = '/usr/share/qemu/OVMF.fd';

const MODULE_NAME = /^[A-Za-z0-9._-]{1,48}$/;

/**
 * The `-initrd` value for modules staged as `<stageDir>/<name>` (pure).
 * QEMU splits the list at ',' (',,' is a literal comma) and each entry's
 * path at the first space (the rest is the module's arguments), so the
 * staged paths must have no spaces; their basenames are the module names.
 */
export function initrdArg(modules: readonly BootModule[], stageDir: string): string {
  const seen = new Set<string>();
  for (const m of modules) {
    if (!MODULE_NAME.test(m.name))
      throw new BootError(`module name ${JSON.stringify(m.name)} is not [A-Za-z0-9._-]{1,48}; rename it`);
    if (seen.has(m.name)) throw new BootError(`module name ${m.name} is used twice; module names must be unique`);
    seen.add(m.name);
  }
  const dir = resolve(stageDir);
  if (/\s/.test(dir)) throw new BootError(`the staging directory ${dir} has a space, which QEMU -initrd cannot take; set TMPDIR to a path without spaces`);
  return modules.map((m) => join(dir, m.name).replace(/,/g, ',,')).join(',');
}

/** Copies each module to `<stageDir>/<name>` so QEMU reports its name as the basename. */
export function stageModules(modules: readonly BootModule[], stageDir: string): void {
  mkdirSync(stageDir, { recursive: true });
  for (const m of modules) {
    if (!existsSync(m.path)) throw new BootError(`module ${m.path} does not exist; fix the path`);
    copyFileSync(m.path, join(stageDir, m.name));
  }
}

/** The -serial options wiring UART `unit` (1-4) to stdio, the ones below it to nothing (pure). */
export function serialArgs(unit = 1): string[] {
  if (!Number.isInteger(unit) || unit < 1 || unit > 4) throw new BootError(`serial unit ${unit} is not 1-4 (COM1-COM4)`);
  const args: string[] = [];
  for (let u = 1; u < unit; u++) args.push('-serial', 'null');
  return [...args, '-serial', 'stdio'];
}

/** A value inside a QEMU option list: ',' is written ',,'. */
function optValue(v: string): string {
  return v.replace(/,/g, ',,');
}

/**
 * The NIC of a network boot (pure). BIOS: an e1000, whose option ROM is
 * QEMU's iPXE. UEFI: virtio-net without an option ROM, so OVMF's own PXE
 * boots it as a server's vendor firmware would, or with QEMU's iPXE EFI ROM
 * (efiPxe 'ipxe'). Boot index 1 either way.
 */
export function netArgs(img: NetBootImage, firmware: 'bios' | 'uefi' = 'bios'): string[] {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(img.mac)) throw new BootError(`MAC ${img.mac} is not lowercase with colons`);
  let netdev: string;
  if (img.tap) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(img.tap.ifname)) throw new BootError(`tap name ${img.tap.ifname} is not a Linux interface name`);
    netdev = `tap,id=n0,ifname=${img.tap.ifname},script=no,downscript=no`;
  } else if (img.user) netdev = `user,id=n0,tftp=${optValue(resolve(img.user.tftpRoot))},bootfile=${optValue(img.user.bootfile)}`;
  else throw new BootError('a network boot needs a tap device or user networking');
  const nic =
    firmware === 'uefi'
      ? `virtio-net-pci,netdev=n0,mac=${img.mac}${img.efiPxe === 'ipxe' ? '' : ',romfile='},bootindex=1`
      : `e1000,netdev=n0,mac=${img.mac},bootindex=1`;
  return ['-netdev', netdev, '-device', nic];
}

/** A UDP port number, checked (it goes into a QEMU option string). */
function port(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new BootError(`uplink: UDP port ${p} is not a port number (1-65535)`);
  return p;
}

/**
 * The QEMU command line (without the binary) for one run (pure). Modules
 * of an ELF image must already be staged in `stageDir` (stageModules).
 */
export function qemuArgs(kind: 'qemu' | 'kvm', opts: BootOptions, stageDir?: string): string[] {
  const args = kind === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host,+vmx'] : ['-accel', 'tcg', '-cpu', 'max'];
  args.push(
    '-smp', String(opts.cpus),
    '-m', String(opts.memMiB),
    '-display', 'none',
    '-vga', 'none',
    '-monitor', 'none',
    '-parallel', 'none',
    ...serialArgs(opts.serialUnit),
    '-no-reboot',
    '-device', `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=4`,
  );
  if (opts.firmware === 'uefi') args.push('-bios', OVMF_CODE);
  const img = opts.image;
  if (opts.uplink) {
    if (img.kind === 'net') throw new BootError('a network boot has its own NIC; an uplink NIC goes with an ISO or ELF boot');
    const u = opts.uplink;
    // restrict=on: only QEMU's own DHCP and TFTP answer; nothing reaches the host's networks.
    // udp: frames as datagrams on loopback, to and from the test's port.
    const netdev = u.udp
      ? `socket,id=up0,udp=127.0.0.1:${port(u.udp.peerPort)},localaddr=127.0.0.1:${port(u.udp.qemuPort)}`
      : `user,id=up0,restrict=on,tftp=${optValue(resolve(u.tftpRoot))}`;
    args.push('-netdev', netdev, '-device', `${u.model ?? 'e1000'},netdev=up0,mac=${u.mac},romfile=`);
  }
  if (img.kind === 'iso') args.push('-cdrom', resolve(img.path), '-boot', 'd');
  else if (img.kind === 'net') args.push(...netArgs(img, opts.firmware));
  else {
    args.push('-kernel', resolve(img.path));
    if (img.cmdline) args.push('-append', img.cmdline);
    if (img.modules?.length) {
      if (stageDir === undefined) throw new BootError('qemuArgs: modules given without a staging directory');
      args.push('-initrd', initrdArg(img.modules, stageDir));
    }
  }
  return args;
}

export class QemuEmulator implements Emulator {
  /** `nestedVmx` decides availability of 'kvm' (detect.ts's nestedVmxAvailable). */
  constructor(
    readonly kind: 'qemu' | 'kvm',
    private readonly nestedVmx: () => boolean,
    private readonly binary = QEMU_BINARY,
  ) {}

  describe(): string {
    return this.kind === 'kvm' ? 'QEMU with KVM and nested VT-x (fast)' : 'QEMU TCG (no VT-x; boot paths only)';
  }

  async available(): Promise<Availability> {
    if (!findOnPath(this.binary))
      return { ok: false, reason: `${this.binary} not found on PATH; install it: apt-get install qemu-system-x86` };
    if (this.kind === 'kvm' && !this.nestedVmx())
      return {
        ok: false,
        reason:
          'no nested VT-x here (needs vmx in /proc/cpuinfo, /sys/module/kvm_intel/parameters/nested = Y and /dev/kvm); use --emulator bochs or qemu',
      };
    return { ok: true };
  }

  async boot(opts: BootOptions, deps: BootDeps = {}): Promise<Machine> {
    const spawner = deps.spawner ?? realSpawner;
    const clock = deps.clock ?? realClock;
    const dir = mkdtempSync(join(tmpdir(), `crossguard-${this.kind}-`));
    const stage = join(dir, 'm');
    let args: string[];
    try {
      if (opts.image.kind === 'elf' && opts.image.modules?.length) stageModules(opts.image.modules, stage);
      args = qemuArgs(this.kind, opts, stage);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    // A tap device lives in its namespace: QEMU starts there (ip execs it: same pid, same group).
    const tap = opts.image.kind === 'net' ? opts.image.tap : undefined;
    const [cmd, argv] = tap ? ['ip', ['netns', 'exec', tap.netns, this.binary, ...args]] : [this.binary, args];
    const child = spawner(cmd, argv, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });

    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
    });
    const serial = new SerialChannel((b) => child.stdin?.write(b), opts.serialLog);
    child.stdout?.on('data', (b: Buffer) => serial.emit(b));
    child.stdin?.on('error', () => {});
    if (child.pid === undefined) {
      await child.exited;
      throw new BootError(`could not start ${this.binary}: ${child.spawnError()?.message ?? 'unknown error'}`);
    }
    return new ProcessMachine({
      kind: this.kind,
      pid: child.pid,
      serial,
      exited: child.exited,
      tempDir: dir,
      clock,
      ...(deps.signal ? { signal: deps.signal } : {}),
      graceMs: 1000,
      diagnostics: () => tailLines(stderr, 20) || '(qemu wrote nothing to stderr)',
    });
  }
}

/** The guest's isa-debug-exit value from QEMU's exit status, or null if it did not come from there. */
export function debugExitValue(code: number | null): number | null {
  if (code === null || code % 2 === 0) return null;
  return code >> 1;
}
