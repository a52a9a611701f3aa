import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findMultiboot1, kernelFormat } from '../../toolchain/src/kernel.js';
import { emitVmsCfg, vmModules } from '../../toolchain/src/vmcfg.js';
import { parseVmDescription, VmConfigError, type VmFileAccess } from '../../toolchain/src/vms.js';

const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());

/** A head with a Multiboot1 header at `at` (flags 3, valid checksum), optionally an ELF. */
function kernelHead(opts: { elf?: 1 | 2; at?: number; flags?: number; badSum?: boolean } = {}): Uint8Array {
  const b = Buffer.alloc(8192);
  if (opts.elf) b.set([0x7f, 0x45, 0x4c, 0x46, opts.elf], 0);
  const at = opts.at ?? 0x1000;
  const flags = opts.flags ?? 3;
  b.writeUInt32LE(0x1badb002, at);
  b.writeUInt32LE(flags, at + 4);
  b.writeUInt32LE((-(0x1badb002 + flags) + (opts.badSum ? 1 : 0)) >>> 0, at + 8);
  return b;
}

const ELF64 = kernelHead({ elf: 2 });
const files = (map: Record<string, Uint8Array | 'dir'>): VmFileAccess => ({
  exists: (p) => p in map,
  readHead: (p) => {
    const v = map[p];
    return v === undefined || v === 'dir' ? null : v;
  },
  size: (p) => {
    const v = map[p];
    return v === undefined || v === 'dir' ? null : v.length;
  },
});
const BZIMAGE = (() => {
  const b = Buffer.alloc(1024);
  b.write('HdrS', 0x202);
  return b;
})();
const fs = files({
  '/d/k.elf': ELF64,
  '/d/k32.elf': kernelHead({ elf: 1, at: 8180 }),
  '/d/initrd.img': Buffer.from('data'),
  '/abs/k.elf': ELF64,
  '/d/noheader.elf': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 0, 0, 0]),
  '/d/dir': 'dir',
  [`/d/${'p'.repeat(60)}.elf`]: ELF64,
  '/d/vmlinuz': BZIMAGE,
});

const vm = (o: Record<string, unknown> = {}) => ({ name: 'web1', memory_mib: 64, kernel: 'k.elf', ...o });
const parse = (v: unknown, machineMemMiB?: number, machineCpus?: number) =>
  parseVmDescription(JSON.stringify(v), '/d', {
    files: fs,
    source: 'vms.json',
    ...(machineMemMiB ? { machineMemMiB } : {}),
    ...(machineCpus ? { machineCpus } : {}),
  });

function problems(v: unknown, machineMemMiB?: number, machineCpus?: number): string[] {
  try {
    parse(v, machineMemMiB, machineCpus);
  } catch (e) {
    assert.instance(e, VmConfigError);
    assert.is((e as VmConfigError).name, 'VmConfigError');
    assert.is((e as VmConfigError).exitCode, 2);
    assert.not.match((e as Error).message, /\n/);
    return (e as VmConfigError).problems;
  }
  assert.unreachable(`accepted ${JSON.stringify(v)}`);
  return [];
}

test('kernel format: ELF32/ELF64 with a Multiboot1 header, a.out kludge, a Linux bzImage, and what is not a kernel', () => {
  assert.equal(kernelFormat(ELF64), { ok: true, kind: 'elf64', headerOffset: 0x1000 });
  assert.is(findMultiboot1(kernelHead({ at: 8180 })), 8180, 'last aligned slot in 8 KiB');
  assert.is(findMultiboot1(kernelHead({ badSum: true })), -1, 'bad checksum');
  assert.is(findMultiboot1(kernelHead({ at: 0x1002 })), -1, 'unaligned');
  assert.ok(kernelFormat(kernelHead({ flags: 0x10003 })).ok, 'raw with address fields');
  const bz = Buffer.alloc(1024);
  bz.write('HdrS', 0x202);
  assert.equal(kernelFormat(bz), { ok: true, kind: 'bzimage', headerOffset: 0x1f1 }, 'a Linux bzImage (boot protocol)');
  const cases: [Uint8Array, RegExp][] = [
    [kernelHead({ flags: 3 }), /not an ELF and the header has no address fields/],
    [Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2]), /is an ELF64 without a Multiboot1 header/],
    [Buffer.from([0x7f, 0x45, 0x4c, 0x46, 9]), /unknown class 9/],
    [Buffer.from([0x1f, 0x8b, 8, 0]), /gzip/],
    [Buffer.from('#!/bin/sh\necho hi\n'), /a text file/],
    [Buffer.alloc(0), /an empty file/],
  ];
  for (const [head, re] of cases) {
    const f = kernelFormat(head);
    assert.ok(!f.ok && re.test(f.problem) && /Multiboot1|address fields/.test(f.problem), String(re));
  }
});

test('a full description parses with defaults and resolved paths', () => {
  const set = parse({
    vms: [
      vm({ cmdline: 'a=1 b', modules: [{ path: 'initrd.img', cmdline: 'x' }, { path: 'initrd.img' }], vcpus: 2 }),
      { name: 'w-2_b', memory_mib: 2, kernel: '/abs/k.elf', on_triple_fault: 'reset' },
      { name: 'k32', memory_mib: 2, kernel: 'k32.elf' },
    ],
  }, 64 + 68);
  assert.is(set.vms.length, 3);
  const [a, b] = set.vms;
  assert.equal(a!.kernel, { given: 'k.elf', path: '/d/k.elf' });
  assert.is(a!.vcpus, 2);
  assert.is(a!.cmdline, 'a=1 b');
  assert.equal(a!.modules, [
    { given: 'initrd.img', path: '/d/initrd.img', cmdline: 'x' },
    { given: 'initrd.img', path: '/d/initrd.img', cmdline: '' },
  ]);
  assert.is(a!.onTripleFault, 'stop');
  assert.equal([b!.vcpus, b!.cmdline, b!.modules, b!.onTripleFault], [1, '', [], 'reset']);
});

test('initrd: the first module, for a Linux bzImage its only one', () => {
  const mb = parse({ vms: [vm({ initrd: 'initrd.img', modules: [{ path: 'k32.elf', cmdline: 'x' }] })] }).vms[0]!;
  assert.equal(mb.modules.map((m) => [m.given, m.cmdline]), [['initrd.img', ''], ['k32.elf', 'x']], 'Multiboot: initrd, then the modules');
  assert.not.ok('linux' in mb);
  const lx = parse({ vms: [vm({ kernel: 'vmlinuz', initrd: 'initrd.img', cmdline: 'console=ttyS0' })] }).vms[0]!;
  assert.is(lx.linux, true);
  assert.equal(lx.modules, [{ given: 'initrd.img', path: '/d/initrd.img', cmdline: '' }]);
  assert.is(emitVmsCfg({ vms: [lx], source: 't' }).split('\n').filter((l) => l.startsWith('module ')).join(), 'module web1.m0 initrd.img');
  assert.is(parse({ vms: [vm({ kernel: 'vmlinuz', modules: [{ path: 'initrd.img' }] })] }).vms[0]!.modules.length, 1, 'one module is the initrd');
  const cases: [unknown, RegExp][] = [
    [{ vms: [vm({ kernel: 'vmlinuz', initrd: 'initrd.img', modules: [{ path: 'initrd.img' }] })] }, /^vms\[0\]\.modules: a Linux kernel takes one initrd and "initrd" is given; remove "modules"/],
    [{ vms: [vm({ kernel: 'vmlinuz', modules: [{ path: 'initrd.img' }, { path: 'initrd.img' }] })] }, /^vms\[0\]\.modules: 2 modules, but a Linux kernel takes one initrd; give one file as "initrd"/],
    [{ vms: [vm({ initrd: 'gone.img' })] }, /^vms\[0\]\.initrd: "gone\.img" does not exist \(looked at \/d\/gone\.img\); fix the path/],
    [{ vms: [vm({ initrd: 3 })] }, /^vms\[0\]\.initrd: 3 is not a file path/],
    [{ vms: [vm({ initrd: 'initrd.img', modules: Array.from({ length: 8 }, () => ({ path: 'initrd.img' })) })] }, /^vms\[0\]\.modules: 9 modules with the initrd is over the limit of 8/],
  ];
  for (const [v, re] of cases) {
    const p = problems(v);
    assert.ok(p.some((l) => re.test(l)), `${JSON.stringify(v).slice(0, 80)} → ${JSON.stringify(p)} (want ${re})`);
  }
});

test('bad values: every error names the path, the value and the fix', () => {
  const cases: [unknown, RegExp][] = [
    [{ vms: [vm({ memory_mib: 1 })] }, /^vms\[0\]\.memory_mib: 1 is below the minimum of 2 MiB; give at least 2$/],
    [{ vms: [vm({ memory_mib: 4096 })] }, /^vms\[0\]\.memory_mib: 4096 is above the maximum of 3584 MiB; give at most 3584$/],
    [{ vms: [vm({ memory_mib: 6.5 })] }, /^vms\[0\]\.memory_mib: 6\.5 is not a whole number/],
    [{ vms: [vm({ memory_mib: '64' })] }, /^vms\[0\]\.memory_mib: "64" is not a whole number/],
    [{ vms: [vm({ memory_mib: undefined })] }, /^vms\[0\]\.memory_mib: missing/],
    [{ vms: [vm({ vcpus: 0 })] }, /^vms\[0\]\.vcpus: 0 is below the minimum of 1/],
    [{ vms: [vm({ vcpus: 17 })] }, /^vms\[0\]\.vcpus: 17 is above the maximum of 16/],
    [{ vms: [vm({ name: 'Web' })] }, /^vms\[0\]\.name: "Web" is not a valid name; use 1 to 31/],
    [{ vms: [vm({ name: 'a'.repeat(32) })] }, /^vms\[0\]\.name: .* is not a valid name/],
    [{ vms: [vm({ name: 7 })] }, /^vms\[0\]\.name: 7 is not a valid name/],
    [{ vms: [vm({ name: undefined })] }, /^vms\[0\]\.name: missing/],
    [{ vms: [vm({ kernel: 'nope.elf' })] }, /^vms\[0\]\.kernel: "nope\.elf" does not exist \(looked at \/d\/nope\.elf\); fix the path/],
    [{ vms: [vm({ kernel: 'noheader.elf' })] }, /^vms\[0\]\.kernel: "noheader\.elf" is an ELF64 without a Multiboot1 header .*; build it as a Multiboot1 kernel/],
    [{ vms: [vm({ kernel: 'dir' })] }, /^vms\[0\]\.kernel: "dir" cannot be read/],
    [{ vms: [vm({ kernel: 'my kernel.elf' })] }, /^vms\[0\]\.kernel: .* has a space/],
    [{ vms: [vm({ kernel: 3 })] }, /^vms\[0\]\.kernel: 3 is not a file path/],
    [{ vms: [vm({ cmdline: 'x'.repeat(201) })] }, /^vms\[0\]\.cmdline: 201 characters is over the limit of 200; shorten it$/],
    [{ vms: [vm({ cmdline: 'a\nb' })] }, /^vms\[0\]\.cmdline: "a\\nb" contains a line break/],
    [{ vms: [vm({ cmdline: 'caf\u00e9' })] }, /^vms\[0\]\.cmdline: .* not printable ASCII/],
    [{ vms: [vm({ cmdline: ['a'] })] }, /^vms\[0\]\.cmdline: \["a"\] is not a string/],
    [{ vms: [vm({ kernel: `${'p'.repeat(60)}.elf`, cmdline: 'x'.repeat(200) })] }, /^vms\[0\]\.cmdline: with the kernel path the guest's command line is \d+ characters, over 255/],
    [{ vms: [vm({ modules: {} })] }, /^vms\[0\]\.modules: \{\} is not a list/],
    [{ vms: [vm({ modules: Array(9).fill({ path: 'initrd.img' }) })] }, /^vms\[0\]\.modules: 9 modules is over the limit of 8/],
    [{ vms: [vm({ modules: [{ path: 'initrd.img' }, { path: 'gone.img' }] })] }, /^vms\[0\]\.modules\[1\]\.path: "gone\.img" does not exist/],
    [{ vms: [vm({ modules: [{ cmdline: 'x' }] })] }, /^vms\[0\]\.modules\[0\]\.path: missing/],
    [{ vms: [vm({ modules: ['initrd.img'] })] }, /^vms\[0\]\.modules\[0\]: "initrd\.img" is not an object/],
    [{ vms: [vm({ modules: [{ path: 'initrd.img', cmdline: 'x'.repeat(101) }] })] }, /^vms\[0\]\.modules\[0\]\.cmdline: 101 characters is over the limit of 100/],
    [{ vms: [vm({ on_triple_fault: 'reboot' })] }, /^vms\[0\]\.on_triple_fault: "reboot" is not "stop" or "reset"/],
    [{ vms: [vm({ on_unassigned_access: 'drop' })] }, /^vms\[0\]\.on_unassigned_access: "drop" is not "ignore" or "stop"; use "ignore" \(the default: .*all ones.*\) or "stop"/],
    [{ vms: [vm({ on_unassigned_access: true })] }, /^vms\[0\]\.on_unassigned_access: true is not "ignore" or "stop"/],
    [{ vms: [vm({ colour: 'red' })] }, /^vms\[0\]\.colour: unknown key; allowed keys here: name, memory_mib, vcpus, kernel, cmdline, initrd, modules, on_triple_fault, on_unassigned_access, weight, cap_percent, reservation, disks, nics$/],
    [{ vms: [vm({ modules: [{ path: 'initrd.img', args: 'x' }] })] }, /^vms\[0\]\.modules\[0\]\.args: unknown key; allowed keys here: path, cmdline$/],
    [{ vms: [vm()], extra: 1 }, /^extra: unknown key; allowed keys here: policy, images, networks, vms$/],
    [{ vms: [] }, /^vms: empty; describe at least one VM$/],
    [{ vms: Array.from({ length: 17 }, (_, i) => vm({ name: `v${i}` })) }, /^vms: 17 VMs is over the limit of 16/],
    [{ vms: 'web1' }, /^vms: "web1" is not a list/],
    [{}, /^vms: missing/],
    [[1], /^\(top\): \[1\] is not an object/],
    [{ vms: [vm(), vm()] }, /^vms\[1\]\.name: "web1" is already the name of vms\[0\]; names must be unique$/],
    [{ vms: [null] }, /^vms\[0\]: null is not an object/],
  ];
  for (const [v, re] of cases) {
    const p = problems(v);
    assert.ok(p.some((l) => re.test(l)), `${JSON.stringify(v).slice(0, 80)} → ${JSON.stringify(p)} (want ${re})`);
  }
});

test('scheduler fields: weight, cap_percent (to per mille), reservation, policy', () => {
  const set = parse({
    policy: 'rt',
    vms: [
      vm({ weight: 10000, cap_percent: 100, reservation: { budget_us: 10_000_000, period_us: 10_000_000 } }),
      vm({ name: 'b', weight: 1, cap_percent: 0, reservation: { budget_us: 1, period_us: 100 } }),
      vm({ name: 'c', cap_percent: 1 }),
      vm({ name: 'd' }),
    ],
  });
  assert.is(set.policy, 'rt');
  const [a, b, c, d] = set.vms;
  assert.equal([a!.weight, a!.capPermille, a!.reservation], [10000, 1000, { budgetUs: 10_000_000, periodUs: 10_000_000 }]);
  assert.equal([b!.weight, b!.capPermille, b!.reservation], [1, undefined, { budgetUs: 1, periodUs: 100 }], 'cap 0: no cap');
  assert.equal([c!.weight, c!.capPermille], [undefined, 10]);
  assert.equal(Object.keys(d!).sort(), ['cmdline', 'kernel', 'memoryMiB', 'modules', 'name', 'onTripleFault', 'vcpus'], 'nothing set when not given');
  assert.not.ok('policy' in parse({ vms: [vm()] }), 'no policy: none in the set');
  // The toolchain cannot know which policies the image carries: any well-formed name passes.
  assert.is(parse({ policy: 'my_policy-2', vms: [vm()] }).policy, 'my_policy-2');
  // A reservation without a policy is the monitor's business (its default may be rt).
  assert.ok(parse({ vms: [vm({ reservation: { budget_us: 5, period_us: 100 } })] }).vms[0]!.reservation);
});

test('scheduler fields: bad values name the path, the value and the fix', () => {
  const res = (r: unknown, o: Record<string, unknown> = {}) => ({ vms: [vm({ reservation: r })], ...o });
  const cases: [unknown, RegExp][] = [
    [{ vms: [vm({ weight: 0 })] }, /^vms\[0\]\.weight: 0 is below the minimum of 1; give at least 1$/],
    [{ vms: [vm({ weight: 10001 })] }, /^vms\[0\]\.weight: 10001 is above the maximum of 10000; give at most 10000$/],
    [{ vms: [vm({ weight: 1.5 })] }, /^vms\[0\]\.weight: 1\.5 is not a whole number; give one from 1 to 10000$/],
    [{ vms: [vm({ weight: '100' })] }, /^vms\[0\]\.weight: "100" is not a whole number/],
    [{ vms: [vm({ cap_percent: 101 })] }, /^vms\[0\]\.cap_percent: 101 is above the maximum of 100 percent; give at most 100$/],
    [{ vms: [vm({ cap_percent: -1 })] }, /^vms\[0\]\.cap_percent: -1 is below the minimum of 0 percent/],
    [{ vms: [vm({ cap_percent: 12.5 })] }, /^vms\[0\]\.cap_percent: 12\.5 is not a whole number; give one from 0 to 100 percent$/],
    [res(500), /^vms\[0\]\.reservation: 500 is not an object; write \{ "budget_us": \.\.\., "period_us": \.\.\. \}$/],
    [res({ budget_us: 500 }), /^vms\[0\]\.reservation\.period_us: missing; give the period in microseconds \(100 to 10000000\)$/],
    [res({ period_us: 500 }), /^vms\[0\]\.reservation\.budget_us: missing; give the CPU time per period/],
    [res({ budget_us: 0, period_us: 500 }), /^vms\[0\]\.reservation\.budget_us: 0 is below the minimum of 1 us; give at least 1$/],
    [res({ budget_us: 50, period_us: 99 }), /^vms\[0\]\.reservation\.period_us: 99 is below the minimum of 100 us; give at least 100$/],
    [res({ budget_us: 50, period_us: 10_000_001 }), /^vms\[0\]\.reservation\.period_us: 10000001 is above the maximum of 10000000 us/],
    [res({ budget_us: 1001, period_us: 1000 }), /^vms\[0\]\.reservation\.budget_us: 1001 is more than period_us 1000; .*lower budget_us or raise period_us$/],
    [res({ budget_us: 1, period_us: 100, priority: 3 }), /^vms\[0\]\.reservation\.priority: unknown key; allowed keys here: budget_us, period_us$/],
    [res({ budget_us: 1, period_us: 100 }, { policy: 'fair' }), /^vms\[0\]\.reservation: reservations need "policy": "rt" but the policy is "fair"; set "policy": "rt" or remove the reservation$/],
    [{ policy: 'Fair', vms: [vm()] }, /^policy: "Fair" is not a valid policy name; use 1 to 31 of a-z, 0-9, _ and -, starting with a letter, such as "fair", "pinned", "rt" or "rr"$/],
    [{ policy: 3, vms: [vm()] }, /^policy: 3 is not a valid policy name/],
    [{ policy: '', vms: [vm()] }, /^policy: "" is not a valid policy name/],
    [{ policy: 'p'.repeat(32), vms: [vm()] }, /^policy: .* is not a valid policy name/],
  ];
  for (const [v, re] of cases) {
    const p = problems(v);
    assert.ok(p.some((l) => re.test(l)), `${JSON.stringify(v).slice(0, 80)} → ${JSON.stringify(p)} (want ${re})`);
  }
  // Only the wrong-policy problem for an otherwise good reservation; an invalid policy does not add it.
  assert.is(problems(res({ budget_us: 1, period_us: 100 }, { policy: 'pinned' })).length, 1);
  assert.is(problems(res({ budget_us: 1, period_us: 100 }, { policy: 'RT' })).length, 1);
});

test('rt admission: reserved vCPUs must fit the machine\'s CPUs when it is given', () => {
  const r = (name: string, vcpus: number, budget_us: number, period_us: number) =>
    vm({ name, vcpus, reservation: { budget_us, period_us } });
  const full = { policy: 'rt', vms: [r('a', 2, 5000, 10000), r('b', 1, 1000, 1000), vm({ name: 'c', vcpus: 4 })] };
  assert.is(parse(full, undefined, 2).vms.length, 3, '2 x 1/2 + 1 x 1 = 2 CPUs fits 2 exactly; unreserved VMs do not count');
  const thirds = { vms: [r('a', 1, 1, 3000), r('b', 1, 1000, 3000), r('c', 1, 1999, 3000)] };
  assert.is(parse(thirds, undefined, 1).vms.length, 3, 'exact arithmetic: three thirds fit one CPU');
  const p = problems({ vms: [r('a', 1, 1, 3000), r('b', 1, 1000, 3000), r('c', 1, 2000, 3000)] }, undefined, 1);
  assert.match(p[0]!, /^vms: the reservations need 1\.001 CPUs \(a 1 x 1\/3000, b 1 x 1000\/3000, c 1 x 2000\/3000\) but the machine has 1; /);
  const over = problems({ vms: [r('web1', 4, 6000, 10000), vm({ name: 'x' })] }, undefined, 2);
  assert.is(over.length, 1);
  assert.is(
    over[0],
    'vms: the reservations need 2.4 CPUs (web1 4 x 6000/10000) but the machine has 2; lower budget_us, raise period_us or give fewer vcpus to web1, or raise --cpus to at least 3',
  );
  assert.is(parse({ vms: [r('web1', 4, 6000, 10000)] }).vms.length, 1, 'no machine CPU count: no check');
  assert.is(parse({ vms: [vm({ vcpus: 16 })] }, undefined, 1).vms.length, 1, 'no reservation: no check');
});

test('all problems are collected, across VMs', () => {
  const p = problems({ vms: [vm({ memory_mib: 1, vcpus: 99 }), vm({ name: 'b', kernel: 'gone', junk: 1 })], top: 2 });
  assert.is(p.length, 5, JSON.stringify(p));
  try {
    parse({ vms: [vm({ memory_mib: 1 }), vm({ name: 'x', vcpus: 0 })] });
  } catch (e) {
    assert.match((e as Error).message, /^vms\.json: 2 problems: vms\[0\]\.memory_mib: .*; vms\[1\]\.vcpus: /);
  }
});

test('total memory must fit the machine minus 64 MiB for the monitor', () => {
  const two = { vms: [vm({ memory_mib: 200 }), vm({ name: 'b', memory_mib: 248 })] };
  assert.is(parse(two, 512).vms.length, 2, '448 fits in 512 - 64');
  const p = problems({ vms: [vm({ memory_mib: 200 }), vm({ name: 'b', memory_mib: 249 })] }, 512);
  assert.match(p[0]!, /^vms: the VMs need 449 MiB in all but the machine has 512 MiB, 448 after the monitor's 64; .*raise --mem to at least 513$/);
  assert.is(parse(two).vms.length, 2, 'no machine size: no check');
});

test('invalid JSON is one problem that says so', () => {
  try {
    parseVmDescription('{"vms": [', '/d', { files: fs, source: 'x.json' });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /^x\.json: 1 problem: not valid JSON \(.*\); fix the syntax$/);
  }
});

test('vms.cfg: emitted text and module list', () => {
  const set = parse({
    vms: [
      vm({ cmdline: 'a=1  b', modules: [{ path: 'initrd.img', cmdline: 'root=/dev/ram' }], vcpus: 2, on_triple_fault: 'reset' }),
      { name: 'b', memory_mib: 2, kernel: '/abs/k.elf' },
    ],
  });
  const cfg = emitVmsCfg(set);
  assert.is(
    cfg,
    [
      '# generated by crossguard from vms.json',
      'cgvms 1',
      'vm web1', 'mem 64', 'vcpus 2', 'kernel web1.kernel', 'cmdline k.elf a=1  b', 'module web1.m0 initrd.img root=/dev/ram', 'on_triple_fault reset', 'end',
      'vm b', 'mem 2', 'vcpus 1', 'kernel b.kernel', 'cmdline /abs/k.elf', 'on_triple_fault stop', 'end',
      '',
    ].join('\n'),
  );
  // Scheduler lines: policy after the header, the rest before 'end', each only when given.
  const sched = parse({
    policy: 'rt',
    vms: [
      vm({ weight: 250, cap_percent: 40, reservation: { budget_us: 2000, period_us: 10000 } }),
      vm({ name: 'b', cap_percent: 0 }),
      vm({ name: 'c', weight: 100 }),
    ],
  });
  assert.is(
    emitVmsCfg(sched),
    [
      '# generated by crossguard from vms.json',
      'cgvms 1',
      'policy rt',
      'vm web1', 'mem 64', 'vcpus 1', 'kernel web1.kernel', 'cmdline k.elf', 'on_triple_fault stop',
      'weight 250', 'cap 400', 'rt_budget_us 2000', 'rt_period_us 10000', 'end',
      'vm b', 'mem 64', 'vcpus 1', 'kernel b.kernel', 'cmdline k.elf', 'on_triple_fault stop', 'end',
      'vm c', 'mem 64', 'vcpus 1', 'kernel c.kernel', 'cmdline k.elf', 'on_triple_fault stop', 'weight 100', 'end',
      '',
    ].join('\n'),
  );
  // on_unassigned_access: a line only for "stop" ("ignore" is the monitor's default).
  const un = parse({ vms: [vm({ on_unassigned_access: 'stop' }), vm({ name: 'b', on_unassigned_access: 'ignore' }), vm({ name: 'c' })] });
  assert.equal(un.vms.map((v) => v.onUnassignedAccess), ['stop', undefined, undefined]);
  assert.match(emitVmsCfg(un), /\nvm web1\n(?:[^\n]*\n)*?on_triple_fault stop\non_unassigned_access stop\nend\nvm b\n/);
  assert.is(emitVmsCfg(un).match(/on_unassigned_access/g)?.length, 1);
  assert.equal(vmModules(set, '/t/vms.cfg'), [
    { path: '/t/vms.cfg', name: 'vms.cfg' },
    { path: '/d/k.elf', name: 'web1.kernel' },
    { path: '/d/initrd.img', name: 'web1.m0' },
    { path: '/abs/k.elf', name: 'b.kernel' },
  ]);
});

const CHECK = join(ROOT, 'build', 'unit', 'vmcfg_check');

function cParse(text: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cg-vmcfg-'));
  try {
    writeFileSync(join(dir, 'vms.cfg'), text);
    const r = spawnSync(CHECK, [join(dir, 'vms.cfg')], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the monitor parser (build/unit/vmcfg_check) accepts what the emitter writes', () => {
  if (!existsSync(CHECK)) {
    console.log(`  (skipped: ${CHECK} not built; make unit-test builds it)`);
    return;
  }
  const fake: VmFileAccess = { exists: () => true, readHead: () => ELF64 };
  for (const ex of ['one-guest.json', 'two-guests.json', 'rt-mixed.json']) {
    const path = join(ROOT, 'examples', ex);
    const set = parseVmDescription(readFileSync(path, 'utf8'), join(ROOT, 'examples'), { files: fake, source: `examples/${ex}` });
    const r = cParse(emitVmsCfg(set));
    assert.is(r.status, 0, `${ex}: ${r.out}`);
    assert.match(r.out, new RegExp(`^OK ${set.vms.length} vms`));
  }
  // Everything at its limit: 16 VMs, 8 modules, the longest command lines.
  const long = `${'d/'.repeat(27)}k.elf`;
  const big = {
    policy: 'rt',
    vms: Array.from({ length: 16 }, (_, i) => ({
      name: `${'v'.repeat(28)}_${String(i).padStart(2, '0')}`,
      memory_mib: 3584,
      vcpus: 16,
      kernel: long,
      cmdline: 'c'.repeat(255 - long.length - 1),
      modules: Array.from({ length: 8 }, () => ({ path: 'm', cmdline: 'x'.repeat(100) })),
      on_triple_fault: 'reset',
      on_unassigned_access: 'stop',
      weight: 10000,
      cap_percent: 100,
      reservation: { budget_us: 10_000_000, period_us: 10_000_000 },
    })),
  };
  const set = parseVmDescription(JSON.stringify(big), '/d', { files: fake });
  const r = cParse(emitVmsCfg(set));
  assert.is(r.status, 0, r.out);
  assert.match(r.out, /^OK 16 vms/);
  assert.match(r.out, /modules=8 triple=reset unassigned=stop/);
  const dflt = cParse(emitVmsCfg(set).replaceAll('on_unassigned_access stop\n', ''));
  assert.match(dflt.out, /triple=reset unassigned=ignore/, 'no line: ignore');
  // And the C side rejects what the TS side would: a sanity check that both read the same format.
  const bad = cParse(emitVmsCfg(set).replace('mem 3584', 'mem 3585'));
  assert.is(bad.status, 1);
  assert.match(bad.out, /^vms\.cfg line 5: mem '3585'/);
  // The C side reads the scheduler lines: each out-of-range value is refused at its line.
  const text = emitVmsCfg(set);
  const lineOf = (s: string) => text.split('\n').indexOf(s) + 1;
  for (const [from, to, re] of [
    ['weight 10000', 'weight 10001', /weight '10001' is not a whole number from 1 to 10000/],
    ['cap 1000', 'cap 1001', /cap '1001' is not a whole number from 0 to 1000/],
    ['rt_period_us 10000000', 'rt_period_us 99', /rt_period_us '99'/],
    ['policy rt', 'policy RT', /policy name 'RT'/],
    ['on_unassigned_access stop', 'on_unassigned_access drop', /on_unassigned_access 'drop' is not ignore or stop/],
  ] as const) {
    const r2 = cParse(text.replace(from, to));
    assert.is(r2.status, 1, from);
    assert.match(r2.out, new RegExp(`^vms\\.cfg line ${lineOf(from)}: ${re.source}`));
  }
  const unpaired = cParse(text.replace('rt_period_us 10000000\n', ''));
  assert.match(unpaired.out, /has rt_budget_us but no rt_period_us/);
  const noPolicy = { ...big, policy: undefined };
  assert.is(cParse(emitVmsCfg(parseVmDescription(JSON.stringify(noPolicy), '/d', { files: fake }))).status, 0, 'without policy');
});

test.run();
