// Which emulator to use. Preference: QEMU+KVM when the host really has nested
// VT-x (native speed), else Bochs (emulated VT-x, slow), else QEMU TCG (no
// VT-x at all: boot paths only). `/dev/kvm` alone proves nothing: on some
// hosts it is a kvm_pvm module that cannot run a VT-x monitor.

import { existsSync, readFileSync } from 'node:fs';
import { BochsEmulator } from './bochs.js';
import type { Emulator, EmulatorKind } from './emulator.js';
import { EmulatorUnavailableError } from './errors.js';
import { QemuEmulator } from './qemu.js';

/** File access for detection; tests pass a fake file system. */
export interface HostFs {
  /** File contents, or null when it cannot be read. */
  read(path: string): string | null;
  exists(path: string): boolean;
}

export const realHostFs: HostFs = {
  read: (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  },
  exists: (p) => existsSync(p),
};

/** True when some CPU's `flags` line in /proc/cpuinfo lists `vmx`. */
export function cpuinfoHasVmx(cpuinfo: string): boolean {
  return cpuinfo.split('\n').some((l) => /^flags\s*:/.test(l) && /\svmx(\s|$)/.test(l));
}

/** Nested VT-x usable by QEMU: vmx flag, kvm_intel nested=Y/1, and /dev/kvm. */
export function nestedVmxAvailable(fs: HostFs = realHostFs): boolean {
  return nestedVmxReason(fs) === null;
}

/** Why nested VT-x is not available, or null when it is. */
export function nestedVmxReason(fs: HostFs = realHostFs): string | null {
  const cpuinfo = fs.read('/proc/cpuinfo');
  if (cpuinfo === null || !cpuinfoHasVmx(cpuinfo)) return 'no vmx flag in /proc/cpuinfo';
  const nested = fs.read('/sys/module/kvm_intel/parameters/nested');
  if (nested === null) return 'kvm_intel is not loaded';
  if (!/^(y|Y|1)\s*$/.test(nested)) return 'kvm_intel nested virtualization is off';
  if (!fs.exists('/dev/kvm')) return '/dev/kvm is missing';
  return null;
}

export interface DetectDeps {
  fs?: HostFs;
  /** Replaces the real back ends (tests). */
  make?: (kind: EmulatorKind) => Emulator;
}

/** The back end object for `kind`. */
export function createEmulator(kind: EmulatorKind, fs: HostFs = realHostFs): Emulator {
  if (kind === 'bochs') return new BochsEmulator();
  return new QemuEmulator(kind, () => nestedVmxAvailable(fs));
}

export interface Pick {
  emulator: Emulator;
  /** Why this one: printed by the CLI, e.g. "auto: no nested VT-x (no vmx flag in /proc/cpuinfo); Bochs emulates VT-x". */
  reason: string;
}

/**
 * Chooses the back end. An explicit kind must be available (else
 * EmulatorUnavailableError with the fix); 'auto' prefers kvm, then bochs,
 * then qemu TCG.
 */
export async function pickEmulator(choice: 'auto' | EmulatorKind, deps: DetectDeps = {}): Promise<Pick> {
  const fs = deps.fs ?? realHostFs;
  const make = deps.make ?? ((k: EmulatorKind) => createEmulator(k, fs));
  if (choice !== 'auto') {
    const emulator = make(choice);
    const a = await emulator.available();
    if (!a.ok) throw new EmulatorUnavailableError(`${choice} is not available: ${a.reason}`);
    return { emulator, reason: `requested with --emulator ${choice}` };
  }
  const noNested = nestedVmxReason(fs);
  if (noNested === null) {
    const kvm = make('kvm');
    const a = await kvm.available();
    if (a.ok) return { emulator: kvm, reason: 'auto: nested VT-x available' };
  }
  const why = noNested === null ? 'KVM unusable' : `no nested VT-x (${noNested})`;
  const bochs = make('bochs');
  const b = await bochs.available();
  if (b.ok) return { emulator: bochs, reason: `auto: ${why}; Bochs emulates VT-x` };
  const qemu = make('qemu');
  const q = await qemu.available();
  if (q.ok) return { emulator: qemu, reason: `auto: ${why} and Bochs unavailable (${b.reason}); QEMU TCG has no VT-x` };
  throw new EmulatorUnavailableError(
    `no emulator available: ${why}; bochs: ${b.reason}; qemu: ${q.reason}`,
  );
}
