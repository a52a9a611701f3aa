import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mb1ElfHead } from './kernels.js';
import { readFileSync } from 'node:fs';
import { SerialChannel, type BootOptions, type Emulator, type Machine } from '../../qemu/emulator.js';
import type { ExitStatus } from '../../qemu/process.js';
import { initrdArg, qemuArgs } from '../../qemu/qemu.js';
import { kernelExitStatus, kernelModeSet, vmsExitStatus } from '../../toolchain/src/commands/run-vms.js';
import { planRun, type RunArgs } from '../../toolchain/src/commands/run.js';
import { GuestTracker, guestLineMatches, runGuests, type RunGuestsResult } from '../../toolchain/src/guests.js';
import { grubCfg } from '../../toolchain/src/image.js';
import type { VmFileAccess, VmSet } from '../../toolchain/src/vms.js';

const elf = mb1ElfHead();
const files: VmFileAccess = { exists: (p) => p.startsWith('/w/'), readHead: () => elf };

test('GuestTracker: tags, markers, and lines that only look like tags', () => {
  const t = new GuestTracker(['web1', 'web2']);
  assert.is(t.push('@cg ready cpus=2 vmx=2'), null);
  t.push('[web1] hello');
  t.push('[web1]');
  t.push('[web2] PASS: x');
  t.push('[web3] not ours');
  t.push('[web1] [web2] nested');
  t.push('@cg vm-exit name=web1 status=3');
  t.push('@cg vm-stop name=web2 reason=bad-memory-access');
  assert.is(t.push('@cg vms-done'), 'done');
  const [a, b] = t.results();
  assert.equal(a, { name: 'web1', output: 'hello\n\n[web2] nested\n', status: 3 });
  assert.equal(b, { name: 'web2', output: 'PASS: x\n', stopReason: 'bad-memory-access' });
  assert.match(t.monitorOutput(), /^@cg ready.*\n\[web3\] not ours\n@cg vm-exit/);
  assert.is(t.push('@cg fatal cpu=0 kind=panic reason="x"'), 'fatal');
  const u = new GuestTracker(['a']);
  assert.is(u.push('@cg vms-error reason="vms.cfg line 3: mem"'), 'fatal');
  assert.match(u.fatal!, /vms-error/);
});

const result = (o: Partial<RunGuestsResult>): RunGuestsResult => ({
  vms: [],
  monitorOutput: '',
  timedOut: false,
  done: true,
  diagnostics: '',
  ...o,
});

test('--kernel exit statuses', () => {
  assert.equal(kernelExitStatus(result({ vms: [{ name: 'guest', status: 85, output: '' }] })), { status: 85 });
  assert.equal(kernelExitStatus(result({ vms: [{ name: 'guest', status: 0x1ff, output: '' }] })), { status: 0xff });
  assert.equal(kernelExitStatus(result({ vms: [{ name: 'guest', stopReason: 'triple-fault', output: '' }] })), {
    status: 126,
    message: 'VM guest stopped: triple-fault',
  });
  assert.is(kernelExitStatus(result({ vms: [{ name: 'guest', output: '' }], timedOut: true, done: false })).status, 124);
  const died = kernelExitStatus(result({ vms: [{ name: 'guest', output: '' }], done: false, died: 'the monitor failed: @cg fatal' }));
  assert.equal(died, { status: 125, message: 'the monitor failed: @cg fatal' });
});

test('--vms exit statuses and summary', () => {
  const vms = [
    { name: 'web1', status: 1, output: '' },
    { name: 'web2', stopReason: 'bad-memory-access', output: '' },
  ];
  assert.equal(vmsExitStatus(result({ vms })), { status: 0, summary: ['web1: exit status 1', 'web2: stopped (bad-memory-access)'] });
  assert.is(vmsExitStatus(result({ vms, timedOut: true, done: false })).status, 124);
  assert.is(vmsExitStatus(result({ vms, died: 'bochs exited', done: false })).status, 125);
  assert.equal(vmsExitStatus(result({ vms: [{ name: 'a', output: '' }], done: false })).summary, ['a: still running']);
});

const base: RunArgs = { emulator: 'auto', boot: 'iso', firmware: 'bios', cpus: 2, timeout: 0, build: true };

test('--kernel builds a one-VM set; problems name the options', () => {
  const set = kernelModeSet({ ...base, kernel: 'k.elf', append: 'code=3', initrd: ['a.img x=1', 'b.img'], smp: 2 }, '/w', files);
  const vm = set.vms[0]!;
  // 128 MiB, as qemu-system-x86_64 gives without -m.
  assert.equal([vm.name, vm.memoryMiB, vm.vcpus, vm.cmdline, vm.kernel.given], ['guest', 128, 2, 'code=3', 'k.elf']);
  assert.equal(vm.modules.map((m) => [m.given, m.cmdline]), [['a.img', 'x=1'], ['b.img', '']]);
  assert.is(kernelModeSet({ ...base, kernel: 'k.elf', mem: 300 }, '/w', files).vms[0]!.memoryMiB, 300);
  try {
    kernelModeSet({ ...base, kernel: 'k.elf', append: 'a\nb', initrd: '/gone' }, '/w', files);
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'VmConfigError');
    assert.match((e as Error).message, /^--kernel: 2 problems: --append: .*line break.*; --initrd: "\/gone" does not exist/);
  }
});

test('--kernel with a Linux bzImage: --initrd is its one initrd, like qemu -initrd', () => {
  const bz = Buffer.alloc(1024);
  bz.write('HdrS', 0x202);
  const lx: VmFileAccess = { exists: (p) => p.startsWith('/w/'), readHead: (p) => (p === '/w/vmlinuz' ? bz : elf) };
  const set = kernelModeSet({ ...base, kernel: 'vmlinuz', initrd: 'rd.gz', append: 'console=ttyS0 cg.action=poweroff', mem: 128 }, '/w', lx);
  const vm = set.vms[0]!;
  assert.equal([vm.linux, vm.cmdline, vm.memoryMiB], [true, 'console=ttyS0 cg.action=poweroff', 128]);
  assert.equal(vm.modules, [{ given: 'rd.gz', path: '/w/rd.gz', cmdline: '' }]);
  assert.is(kernelModeSet({ ...base, kernel: 'vmlinuz', initrd: ['rd.gz'] }, '/w', lx).vms[0]!.modules.length, 1, 'yargs gives an array');
  assert.is(kernelModeSet({ ...base, kernel: 'vmlinuz' }, '/w', lx).vms[0]!.modules.length, 0, 'no initrd');
  const cases: [Partial<RunArgs>, RegExp][] = [
    [{ initrd: ['a.gz', 'b.gz'] }, /^--kernel: 1 problem: --initrd: given 2 times, but a Linux kernel takes one initrd; concatenate/],
    [{ initrd: '/gone.gz' }, /^--kernel: 1 problem: --initrd: "\/gone\.gz" does not exist/],
    [{ initrd: 'rd.gz x=1' }, /^--kernel: 1 problem: --initrd: "rd\.gz x=1" has a space/],
  ];
  for (const [args, re] of cases) {
    try {
      kernelModeSet({ ...base, kernel: 'vmlinuz', ...args }, '/w', lx);
      assert.unreachable(JSON.stringify(args));
    } catch (e) {
      assert.is((e as Error).name, 'VmConfigError');
      assert.match((e as Error).message, re);
    }
  }
});

test('planRun: --vms/--kernel usage errors', () => {
  const bad: Partial<RunArgs>[] = [
    { vms: 'a.json', kernel: 'k' },
    { append: 'x' },
    { initrd: 'x' },
    { smp: 2 },
    { kernel: 'k', smp: 0 },
    { kernel: 'k', smp: 17 },
    { kernel: 'k', mem: 1 },
    { vms: 'a.json', until: '(' },
    { kernel: 'k', until: '[' },
    { kernel: 'k', console: 'not-a-spec' },
  ];
  for (const b of bad)
    assert.throws(() => planRun({ ...base, ...b }), (e: Error) => e.name === 'UsageError', JSON.stringify(b));
  planRun({ ...base, kernel: 'k', mem: 8, smp: 4, append: 'a', cmdline: 'cg.shell=0' });
  planRun({ ...base, vms: 'a.json', mem: 1024 });
  planRun({ ...base, vms: 'a.json', console: 'tcp:127.0.0.1:0' }); // the VMs' consoles, served while they run
});

test('planRun: --until in every mode', () => {
  for (const mode of [{}, { kernel: 'k' }, { vms: 'a.json' }] as Partial<RunArgs>[])
    assert.equal(planRun({ ...base, ...mode, until: '^PASS: (x|y)$' }).until?.source, '^PASS: (x|y)$', JSON.stringify(mode));
});

test('grub.cfg lists the modules in both entries, in order', () => {
  const cfg = grubCfg({ modules: ['vms.cfg', 'web1.kernel'] });
  assert.match(cfg, /\tmultiboot2 \/boot\/crossguard\.elf\n\tmodule2 \/boot\/m\/vms\.cfg vms\.cfg\n\tmodule2 \/boot\/m\/web1\.kernel web1\.kernel\n\tboot/);
  assert.match(cfg, /\tmultiboot \/boot\/crossguard\.elf\n\tmodule \/boot\/m\/vms\.cfg vms\.cfg\n\tmodule \/boot\/m\/web1\.kernel web1\.kernel\n\tboot/);
  assert.throws(() => grubCfg({ modules: ['a b'] }), /not \[A-Za-z0-9\._-\]/);
  assert.throws(() => grubCfg({ modules: ['a', 'a'] }), /unique/);
});

test('QEMU -initrd: staged names, commas doubled, spaces refused', () => {
  const mods = [{ path: '/x/cfg', name: 'vms.cfg' }, { path: '/y/k', name: 'web1.kernel' }];
  assert.is(initrdArg(mods, '/t/m'), '/t/m/vms.cfg,/t/m/web1.kernel');
  assert.is(initrdArg(mods, '/t,1/m'), '/t,,1/m/vms.cfg,/t,,1/m/web1.kernel');
  assert.throws(() => initrdArg(mods, '/t 1/m'), /space/);
  assert.throws(() => initrdArg([{ path: '/a', name: 'a/b' }], '/t'), /not \[A-Za-z0-9/);
  const a = qemuArgs('qemu', { image: { kind: 'elf', path: '/cg.elf', modules: mods }, cpus: 2, memMiB: 256 }, '/t/m');
  assert.is(a[a.indexOf('-initrd') + 1], '/t/m/vms.cfg,/t/m/web1.kernel');
  assert.is(a[a.indexOf('-kernel') + 1], '/cg.elf');
  assert.throws(() => qemuArgs('qemu', { image: { kind: 'elf', path: '/cg.elf', modules: mods }, cpus: 2, memMiB: 256 }));
});

/** A fake QEMU-kind emulator whose machine prints `lines` and then (optionally) exits. */
function fakeEmulator(lines: string[], opts: { exit?: boolean } = {}) {
  const booted: BootOptions[] = [];
  const cfgs: string[] = [];
  const emu: Emulator = {
    kind: 'qemu',
    describe: () => 'fake',
    available: async () => ({ ok: true }),
    boot: async (o) => {
      booted.push(o);
      if (o.image.kind === 'elf') cfgs.push(readFileSync(o.image.modules![0]!.path, 'utf8'));
      const serial = new SerialChannel(() => {});
      let exit!: (s: ExitStatus) => void;
      const exited = new Promise<ExitStatus>((r) => (exit = r));
      const m: Machine = {
        kind: 'qemu',
        serial,
        exited,
        stop: async () => exit({ code: null, signal: 'SIGKILL' }),
        killSync: () => {},
        diagnostics: () => 'fake diagnostics',
      };
      setImmediate(() => {
        serial.emit(Buffer.from(lines.map((l) => `${l}\r\n`).join('')));
        if (opts.exit) exit({ code: 0, signal: null });
      });
      return m;
    },
  };
  return { emu, booted, cfgs };
}

const set: VmSet = {
  source: 'test',
  vms: ['web1', 'web2'].map((name) => ({
    name,
    memoryMiB: 16,
    vcpus: 1,
    kernel: { given: `${name}.elf`, path: '/dev/null' },
    cmdline: '',
    modules: [],
    onTripleFault: 'stop' as const,
  })),
};

test('runGuests: modules passed as -initrd, results from the markers', async () => {
  const f = fakeEmulator([
    '@cg boot version=x',
    '[web1] PASS: one',
    '[web2] hello',
    '@cg vm-exit name=web1 status=1',
    '@cg vm-stop name=web2 reason=bad-memory-access',
    '@cg vms-done',
  ]);
  const seen: string[] = [];
  const r = await runGuests({ set, emulator: f.emu, monitorElf: '/cg.elf', cpus: 2, memMiB: 256, onLine: (l) => seen.push(l) });
  assert.equal(r.vms, [
    { name: 'web1', output: 'PASS: one\n', status: 1 },
    { name: 'web2', output: 'hello\n', stopReason: 'bad-memory-access' },
  ]);
  assert.ok(r.done && !r.timedOut && r.died === undefined);
  assert.is(seen.length, 6);
  const img = f.booted[0]!.image;
  assert.is(img.kind, 'elf');
  assert.equal(img.kind === 'elf' && img.modules!.map((m) => m.name), ['vms.cfg', 'web1.kernel', 'web2.kernel']);
  assert.match(f.cfgs[0]!, /^# generated by crossguard from test\ncgvms 1\nvm web1\nmem 16\n/);
});

test('runGuests: fatal, early exit and timeout', async () => {
  let r = await runGuests({ set, emulator: fakeEmulator(['@cg fatal cpu=0 kind=panic reason="vm_run"', 'FATAL:  rip=0']).emu, monitorElf: '/e', cpus: 1, memMiB: 64, fatalLingerMs: 20 });
  assert.match(r.died!, /^the monitor failed: @cg fatal/);
  assert.match(r.monitorOutput, /FATAL:  rip=0/);
  r = await runGuests({ set, emulator: fakeEmulator(['[web1] x'], { exit: true }).emu, monitorElf: '/e', cpus: 1, memMiB: 64 });
  assert.is(r.died, 'qemu exited (status 0) before @cg vms-done');
  r = await runGuests({ set, emulator: fakeEmulator(['@cg ready']).emu, monitorElf: '/e', cpus: 1, memMiB: 64, timeoutMs: 30 });
  assert.ok(r.timedOut && !r.done);
  assert.is(vmsExitStatus(r).status, 124);
});

test('runGuests --until: tagged or untagged guest lines and monitor lines end the run with 0', async () => {
  const lines = ['@cg ready cpus=1 vmx=1', '[web1] booting', '[web2] PASS: ready', '[web1] PASS: later', '@cg vms-done'];
  const run = (until: RegExp) => runGuests({ set, emulator: fakeEmulator(lines).emu, monitorElf: '/e', cpus: 1, memMiB: 64, until, timeoutMs: 2000 });
  // As --kernel prints it (no tag), as --vms prints it (tagged), and a monitor marker.
  for (const [re, upTo] of [[/^PASS: ready$/, 'ready'], [/^\[web2\] PASS/, 'ready'], [/^@cg ready/, null], [/booting/, null]] as const) {
    const r = await run(re);
    assert.ok(r.matched && !r.done && !r.timedOut, `${re}: ${JSON.stringify(r)}`);
    assert.is(r.vms[1]!.output.includes('ready'), upTo !== null, `${re}: ended at the first match`);
    assert.is(r.vms[0]!.output.includes('later'), false, `${re}: nothing after the match`);
    assert.equal(kernelExitStatus(r, 'web2'), { status: 0 });
    assert.is(vmsExitStatus(r).status, 0);
  }
  // A tag alone (VM name not in the set) is no guest line: only the whole line is tried.
  assert.is(guestLineMatches(/^x$/, '[zz] x', ['web1']), false);
  assert.is(guestLineMatches(/^x$/, '[web1] x', ['web1']), true);
  // No match: the usual ends and statuses (vms-done 0, timeout 124 per mode).
  const none = await run(/never/);
  assert.ok(none.done && !none.matched);
  const stuck = await runGuests({ set, emulator: fakeEmulator(['[web1] x']).emu, monitorElf: '/e', cpus: 1, memMiB: 64, until: /never/, timeoutMs: 30 });
  assert.ok(stuck.timedOut && !stuck.matched);
  assert.is(kernelExitStatus(stuck, 'web1').status, 124);
  assert.is(vmsExitStatus(stuck).status, 124);
});

test.run();
