import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuinfoHasVmx, nestedVmxAvailable, pickEmulator, type HostFs } from '../../qemu/detect.js';
import type { Availability, Emulator, EmulatorKind } from '../../qemu/emulator.js';

const CPU_NO_VMX = 'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae hypervisor\n';
const CPU_VMX = 'processor\t: 0\nflags\t\t: fpu vme de vmx pse tsc\n';

function hostFs(files: Record<string, string>, devKvm: boolean): HostFs {
  return {
    read: (p) => files[p] ?? null,
    exists: (p) => (p === '/dev/kvm' ? devKvm : p in files),
  };
}
const NESTED = '/sys/module/kvm_intel/parameters/nested';

test('cpuinfoHasVmx looks at flags only, whole words', () => {
  assert.is(cpuinfoHasVmx(CPU_VMX), true);
  assert.is(cpuinfoHasVmx(CPU_NO_VMX), false);
  assert.is(cpuinfoHasVmx('flags\t: vmxfoo\nmodel name\t: vmx\n'), false);
  assert.is(cpuinfoHasVmx('flags\t: a vmx'), true);
});

test('no vmx + /dev/kvm present (kvm_pvm) -> false', () => {
  assert.is(nestedVmxAvailable(hostFs({ '/proc/cpuinfo': CPU_NO_VMX }, true)), false);
});

test('vmx + nested=N -> false', () => {
  assert.is(nestedVmxAvailable(hostFs({ '/proc/cpuinfo': CPU_VMX, [NESTED]: 'N\n' }, true)), false);
});

test('vmx + nested=Y or 1 + /dev/kvm -> true; without /dev/kvm -> false', () => {
  assert.is(nestedVmxAvailable(hostFs({ '/proc/cpuinfo': CPU_VMX, [NESTED]: 'Y\n' }, true)), true);
  assert.is(nestedVmxAvailable(hostFs({ '/proc/cpuinfo': CPU_VMX, [NESTED]: '1\n' }, true)), true);
  assert.is(nestedVmxAvailable(hostFs({ '/proc/cpuinfo': CPU_VMX, [NESTED]: 'Y\n' }, false)), false);
});

function fakeMake(avail: Partial<Record<EmulatorKind, Availability>>) {
  return (kind: EmulatorKind): Emulator => ({
    kind,
    describe: () => kind,
    available: async () => avail[kind] ?? { ok: true },
    boot: async () => {
      throw new Error('not in this test');
    },
  });
}

test('pickEmulator auto: kvm when nested VT-x', async () => {
  const fs = hostFs({ '/proc/cpuinfo': CPU_VMX, [NESTED]: 'Y' }, true);
  const p = await pickEmulator('auto', { fs, make: fakeMake({}) });
  assert.is(p.emulator.kind, 'kvm');
  assert.match(p.reason, /nested VT-x available/);
});

test('pickEmulator auto: bochs without nested VT-x, reason says why', async () => {
  const fs = hostFs({ '/proc/cpuinfo': CPU_NO_VMX }, true);
  const p = await pickEmulator('auto', { fs, make: fakeMake({}) });
  assert.is(p.emulator.kind, 'bochs');
  assert.match(p.reason, /no vmx flag in \/proc\/cpuinfo/);
  assert.match(p.reason, /Bochs emulates VT-x/);
});

test('pickEmulator auto: qemu when bochs is missing', async () => {
  const fs = hostFs({ '/proc/cpuinfo': CPU_VMX, [NESTED]: 'N' }, true);
  const p = await pickEmulator('auto', { fs, make: fakeMake({ bochs: { ok: false, reason: 'bochs not found' } }) });
  assert.is(p.emulator.kind, 'qemu');
  assert.match(p.reason, /nested virtualization is off/);
  assert.match(p.reason, /bochs not found/);
  assert.match(p.reason, /no VT-x/);
});

test('pickEmulator: explicit choice must be available; nothing available throws', async () => {
  const fs = hostFs({ '/proc/cpuinfo': CPU_NO_VMX }, true);
  const p = await pickEmulator('qemu', { fs, make: fakeMake({}) });
  assert.is(p.emulator.kind, 'qemu');
  assert.match(p.reason, /--emulator qemu/);
  try {
    await pickEmulator('kvm', { fs, make: fakeMake({ kvm: { ok: false, reason: 'no nested' } }) });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'EmulatorUnavailableError');
    assert.match((e as Error).message, /no nested/);
  }
  try {
    await pickEmulator('auto', {
      fs,
      make: fakeMake({ bochs: { ok: false, reason: 'no bochs' }, qemu: { ok: false, reason: 'no qemu' } }),
    });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'EmulatorUnavailableError');
    assert.match((e as Error).message, /no bochs.*no qemu/);
  }
});

test.run();
