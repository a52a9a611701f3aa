// The monitor boots on every loader and emulator it supports, brings up
// every CPU, enters VMX root where VT-x exists, says plainly where it does
// not, and dies cleanly (one FATAL report, no reboot) on a monitor fault.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nestedVmxAvailable } from '../../qemu/detect.js';
import { writeVmsCfg } from '../../toolchain/src/vmcfg.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';
import { boot, ELF, explain, ISO, markersOf, ROOT, type BootOutcome } from './pool.js';

const READY = /^@cg ready /;
const FATAL = /^@cg fatal /;

function ready(o: BootOutcome) {
  assert.is(o.status, 'matched', explain(o, `no ready line (${o.status})`));
  const r = markersOf(o, 'ready');
  assert.is(r.length, 1, explain(o, 'exactly one ready line'));
  return r[0]!.fields;
}

function expectVmxEverywhere(o: BootOutcome, cpus: number) {
  const f = ready(o);
  assert.is(f.cpus, String(cpus), explain(o, 'every CPU up'));
  assert.is(f.vmx, String(cpus), explain(o, 'every CPU in VMX root'));
  const cpuLines = markersOf(o, 'cpu');
  assert.is(cpuLines.length, cpus, explain(o, 'one cpu marker per CPU'));
  assert.equal(cpuLines.map((m) => m.fields.index), [...Array(cpus).keys()].map(String));
  assert.is(new Set(cpuLines.map((m) => m.fields.apic)).size, cpus, 'distinct APIC IDs');
  for (const m of cpuLines) {
    assert.is(m.fields.vmx, '1', explain(o, `cpu ${m.fields.index} in VMX root`));
    // The Haswell model offers all of these; later issues depend on them.
    for (const cap of ['ept', 'vpid', 'ug', 'preempt']) assert.is(m.fields[cap], '1', `cpu ${m.fields.index} ${cap}`);
  }
  expectSpecCtrl(o, cpus, 'auto');
}

// The speculative-execution decision, one line per CPU (docs/spec-ctrl.md).
// Bochs' Haswell model enumerates nothing in CPUID.7 EDX: no IBPB, no L1D
// flush, no MD_CLEAR, no ARCH_CAPABILITIES. The decision must then write
// none of those MSRs (Bochs would raise #GP and the monitor would die) and
// still fill the RSB after exits (auto; a Haswell has no eIBRS).
function expectSpecCtrl(o: BootOutcome, cpus: number, mode: 'auto' | 'off') {
  const lines = markersOf(o, 'spec-ctrl');
  assert.equal(lines.map((m) => m.fields.cpu), [...Array(cpus).keys()].map(String), explain(o, 'one spec-ctrl marker per CPU'));
  for (const m of lines) {
    assert.is(m.fields.mode, mode, explain(o, `cpu ${m.fields.cpu} cg.spec mode`));
    if (m.fields['cpuid7-edx'] !== '0x0') continue; // a real CPU (kvm): its own decision
    const got = ['ibpb', 'eibrs', 'rsb', 'l1d-flush', 'verw', 'exposed'].map((k) => m.fields[k]);
    assert.equal(got, ['0', '0', mode === 'auto' ? 'full' : 'none', '0', '0', 'bti,vm-bti,mds,l1tf'], explain(o, 'decision for a CPU that enumerates nothing'));
  }
}

function expectNoVmx(o: BootOutcome, cpus: number, loader: string) {
  const f = ready(o);
  assert.is(f.cpus, String(cpus), explain(o, 'every CPU up'));
  assert.is(f.vmx, '0', explain(o, 'no CPU can be in VMX root under TCG'));
  const b = markersOf(o, 'boot')[0];
  assert.ok(b, explain(o, 'boot marker'));
  assert.is(b!.fields.loader, loader);
  for (const m of markersOf(o, 'cpu')) assert.is(m.fields.reason, 'no-vmx-in-cpuid');
  assert.ok(o.lines.some((l) => /VT-x is not available/.test(l)), explain(o, 'says plainly that VT-x is missing'));
}

function expectFatal(o: BootOutcome) {
  assert.is(o.status, 'matched', explain(o, `no fatal marker (${o.status})`));
  const f = markersOf(o, 'fatal');
  assert.is(f.length, 1, explain(o, 'one fatal marker'));
  assert.is(f[0]!.fields.kind, 'exception');
  assert.is(f[0]!.fields.vector, '14');
  assert.is(f[0]!.fields.name, '#PF');
  assert.is(f[0]!.fields.cr2, '0x7fff00000000');
  assert.ok(o.lines.some((l) => /^\s+rip=[0-9a-f]{16} cs=0008/.test(l)), explain(o, 'register dump'));
  assert.ok(o.lines.some((l) => /^FATAL: machine stopped/.test(l)), explain(o, 'stop line'));
  assert.not.ok(o.exitedEarly, explain(o, 'the machine must stay stopped, not reset or exit'));
  assert.is(markersOf(o, 'boot').length, 1, explain(o, 'no reboot after the fault'));
}

// Start every boot now; the pool runs two at a time.
const bochs1 = boot({ emulator: 'bochs', image: { kind: 'iso', path: ISO }, cpus: 1, until: READY, timeoutMs: 90_000 });
const bochs2 = boot({ emulator: 'bochs', image: { kind: 'iso', path: ISO }, cpus: 2, until: READY, timeoutMs: 120_000 });
// With a VM set as modules: the monitor names each module it got (@cg module)
// and, with no CPU in VMX root, builds no VM (it would execute VMX
// instructions): each is reported create-failed, then vms-done.
const vmsDir = mkdtempSync(join(tmpdir(), 'cg-boot-vms-'));
const elfModules = writeVmsCfg(
  checkVmDescription({ vms: [{ name: 'web1', memory_mib: 16, kernel: 'echo.elf' }, { name: 'web2', memory_mib: 16, kernel: 'smp.elf', vcpus: 2 }] }, join(ROOT, 'build', 'guests'), { source: 'test' }),
  vmsDir,
);
const qemuElf = boot({
  emulator: 'qemu', image: { kind: 'elf', path: ELF, modules: elfModules }, cpus: 2, until: /^@cg (vms-done|fatal) /, timeoutMs: 60_000,
});
// cg.serial=: the monitor on COM2 (the machine's serial line is COM2; COM1
// goes nowhere), and a bad value reported on COM1, which is then used.
const qemuCom2 = boot({ emulator: 'qemu', image: { kind: 'elf', path: ELF, cmdline: 'cg.serial=com2' }, serialUnit: 2, cpus: 1, until: READY, timeoutMs: 60_000 });
const qemuSerialBad = boot({ emulator: 'qemu', image: { kind: 'elf', path: ELF, cmdline: 'cg.serial=com3,9600' }, cpus: 1, until: READY, timeoutMs: 60_000 });
const qemuIso = boot({ emulator: 'qemu', image: { kind: 'iso', path: ISO }, cpus: 2, until: READY, timeoutMs: 60_000 });
const qemuIsoMb1 = boot({
  emulator: 'qemu', image: { kind: 'iso-variant', entry: 'multiboot' }, cpus: 2, until: READY, timeoutMs: 60_000,
});
const qemuUefi = boot({
  emulator: 'qemu', image: { kind: 'iso-variant', bios: 'ovmf' }, cpus: 2, until: READY, timeoutMs: 180_000,
});
const qemuFault = boot({
  emulator: 'qemu', image: { kind: 'elf', path: ELF, cmdline: 'cg.test=fault' }, cpus: 2, until: FATAL,
  timeoutMs: 60_000, lingerMs: 3000,
});
const bochsFault = boot({
  emulator: 'bochs', image: { kind: 'iso-variant', cmdline: 'cg.test=fault cg.spec=off' }, cpus: 2, until: FATAL,
  timeoutMs: 120_000, lingerMs: 3000,
});
const shell = boot({
  emulator: 'qemu', image: { kind: 'elf', path: ELF }, cpus: 1, until: /^cg> |^@cg ready/, timeoutMs: 60_000,
  interact: async (m, waitFor) => {
    await waitFor(/cg> $/, 5000).catch(() => undefined);
    m.serial.write('help\r');
    await waitFor(/^\s+cpus\s/, 5000);
    m.serial.write('frobnicate\r');
    await waitFor(/^error: unknown command 'frobnicate'/, 5000);
    m.serial.write('x'.repeat(300) + '\r');
    await waitFor(/^error: line longer than/, 5000);
    m.serial.write(Buffer.from([0x00, 0xff, 0x1b, 0x9b, 0x80]));
    m.serial.write('version\r');
    await waitFor(/^crossguard \d+\.\d+\.\d+/, 5000);
  },
});
const kvm = nestedVmxAvailable()
  ? boot({ emulator: 'kvm', image: { kind: 'iso', path: ISO }, cpus: 2, until: READY, timeoutMs: 60_000 })
  : null;

test('bochs, 1 CPU, GRUB multiboot2 ISO: ready with the CPU in VMX root', async () => {
  expectVmxEverywhere(await bochs1, 1);
});

test('bochs, 2 CPUs: the AP is started and both CPUs are in VMX root', async () => {
  expectVmxEverywhere(await bochs2, 2);
});

test('qemu TCG, 2 CPUs, -kernel (Multiboot1): ready, vmx=0, says VT-x is missing, starts no VM', async () => {
  const o = await qemuElf;
  rmSync(vmsDir, { recursive: true, force: true });
  expectNoVmx(o, 2, 'multiboot1');
  assert.match(markersOf(o, 'boot')[0]!.fields.cmdline!, /crossguard\.elf/);
  assert.equal(
    markersOf(o, 'module').map((m) => [m.fields.index, m.fields.name]),
    [['0', 'vms.cfg'], ['1', 'web1.kernel'], ['2', 'web2.kernel']],
    explain(o, 'one module marker each, named as the monitor finds them'),
  );
  assert.is(markersOf(o, 'module')[1]!.fields.size, String(statSync(join(ROOT, 'build', 'guests', 'echo.elf')).size));
  assert.is(markersOf(o, 'fatal').length, 0, explain(o, 'no VMX instruction without VT-x'));
  assert.equal(markersOf(o, 'vm-stop').map((m) => `${m.fields.name} ${m.fields.reason}`), ['web1 create-failed', 'web2 create-failed'], explain(o, 'each VM named'));
  assert.is(markersOf(o, 'vms-done')[0]?.fields.count, '0');
  assert.ok(o.lines.some((l) => /^vm web1: cannot start: no CPU is in VMX root/.test(l)), explain(o, 'says why'));
});

test('cg.serial=com2: every marker on COM2', async () => {
  const o = await qemuCom2;
  expectNoVmx(o, 1, 'multiboot1');
  assert.match(markersOf(o, 'boot')[0]!.fields.cmdline!, /cg\.serial=com2/);
  assert.not.ok(o.lines.some((l) => /^cmdline: /.test(l)), explain(o, 'a good value draws no complaint'));
});

test('cg.serial with a bad value: one clear line on COM1, which is used', async () => {
  const o = await qemuSerialBad;
  expectNoVmx(o, 1, 'multiboot1');
  const said = o.lines.filter((l) => /^cmdline: /.test(l));
  assert.equal(said, ['cmdline: cg.serial= needs com1, com2 or 0xPORT[,BAUD] (BAUD dividing 115200, e.g. cg.serial=com2,57600); using com1 at 115200'], explain(o, 'the complaint'));
});

test('qemu TCG, 2 CPUs, GRUB multiboot2 ISO (BIOS): ready, vmx=0', async () => {
  const o = await qemuIso;
  expectNoVmx(o, 2, 'multiboot2');
  assert.is(markersOf(o, 'boot')[0]!.fields.efi, '0');
});

test('qemu TCG, GRUB multiboot (version 1) entry of the ISO: ready', async () => {
  expectNoVmx(await qemuIsoMb1, 2, 'multiboot1');
});

test('qemu TCG with UEFI firmware (OVMF), GRUB multiboot2: ready, efi=1', async () => {
  const o = await qemuUefi;
  expectNoVmx(o, 2, 'multiboot2');
  assert.is(markersOf(o, 'boot')[0]!.fields.efi, '1');
});

test('monitor fault under QEMU: one FATAL report, machine stopped, no reboot', async () => {
  expectFatal(await qemuFault);
});

test('monitor fault under Bochs with CPUs in VMX root: one FATAL report, no reboot', async () => {
  const o = await bochsFault;
  expectFatal(o);
  assert.not.match(o.diagnostics, /triple fault|shutdown/i, explain(o, 'no triple fault'));
  expectSpecCtrl(o, 2, 'off'); // cg.spec=off reaches every CPU
});

test('operator shell answers, rejects bad input, and keeps running', async () => {
  const o = await shell;
  assert.is(o.status, 'matched', explain(o, 'shell prompt'));
  assert.match(o.interaction, /crossguard \d/, explain(o, 'version after garbage'));
});

test('qemu with KVM nested VT-x (only where the host has it)', async () => {
  if (!kvm) {
    console.log('  (skipped: this host has no nested VT-x)');
    return;
  }
  expectVmxEverywhere(await kvm, 2);
});

test.run();
