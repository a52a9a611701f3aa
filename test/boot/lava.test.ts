// crossguard's VM sets through LAVA, end to end with the real lava-dispatcher
// (Debian's 2023.01): `crossguard lava job|device` write the files and
// lava_common's own schemas accept them (the files of every run below); `crossguard lab run` renders a job
// and an emulated board, runs lava-run and reads its results:
//   a Bochs board (LAVA's minimal boot: VMs really run) whose guests pass:
//     exit 0, every case passes, a guest's own PASS lines are cases;
//   a Bochs board whose guest fails and whose other VM never ends: exit 1,
//     both named, how each ended (status=3, timed out);
//   a Bochs board whose monitor never comes up (an ELF without a Multiboot
//     header): exit 1 at the boot step, the boot loader's error named;
//   QEMU TCG boards for LAVA's qemu, ipxe and grub boot methods: the monitor
//     reaches @cg ready (a pass), each VM ends create-failed (no VT-x under
//     TCG), which lava-run itself reports as success: the exit status comes
//     from reading its results.
// Boots run two at a time (pool.ts). Skips, saying why, without lava-run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../qemu/which.js';
import { cli, type CliRun as Run } from './cli.js';
import { ROOT, slot } from './pool.js';

const GUESTS = join(ROOT, 'build', 'guests');
const PY = '/usr/bin/python3';

function cannotRun(): string | null {
  if (!findOnPath('lava-run')) return 'lava-run is not installed (apt-get install lava-dispatcher tftpd-hpa)';
  if (spawnSync(PY, ['-c', 'import lava_common.schemas'], { encoding: 'utf8' }).status !== 0) return `${PY} cannot import lava_common`;
  if (!existsSync('/etc/default/tftpd-hpa')) return 'tftpd-hpa is not installed (LAVA reads its TFTP directory from it)';
  if (!findOnPath('bochs') || !findOnPath('qemu-system-x86_64')) return 'bochs or qemu-system-x86_64 is missing';
  return null;
}

const skip = cannotRun();
const dir = mkdtempSync(join(tmpdir(), 'cg-lava-'));
const set = (name: string, vms: object[]) => {
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify({ vms }));
  return p;
};
const vm = (name: string, kernel: string, o: object = {}) => ({ name, memory_mib: 16, kernel: join(GUESTS, kernel), ...o });
const passing = set('pass', [vm('ok-a', 'exitcode.elf'), vm('cpuid', 'cpuid.elf')]);
const failing = set('fail', [vm('bad-exit', 'exitcode.elf', { cmdline: 'code=1' }), vm('stuck', 'echo.elf')]);
const broken = join(dir, 'broken.elf');
writeFileSync(broken, Buffer.alloc(8192, 0x5a));

const explain = (r: Run, what: string) => `${what}\n--- stdout ---\n${r.stdout}\n--- stderr (tail) ---\n${r.stderr.split('\n').slice(-40).join('\n')}`;
const labRun = (name: string, args: string[], timeoutMs = 240_000) =>
  skip ? null : slot(() => cli(['lab', 'run', '--dir', join(dir, name), ...args], timeoutMs));

// Everything starts at once; the pool runs two boots at a time. Bochs first: they take longest.
const runs = {
  pass: labRun('pass', ['--vms', passing, '--boot', 'minimal', '--timeout', '120']),
  fail: labRun('fail', ['--vms', failing, '--boot', 'minimal', '--timeout', '15']),
  broken: labRun('broken', ['--vms', passing, '--boot', 'minimal', '--elf', broken, '--boot-timeout', '150']),
  qemu: labRun('qemu', ['--vms', passing, '--boot', 'qemu', '--timeout', '60']),
  ipxe: labRun('ipxe', ['--vms', passing, '--boot', 'ipxe', '--timeout', '60']),
  grub: labRun('grub', ['--vms', passing, '--boot', 'grub', '--timeout', '60']),
};

const VALIDATE_PY = `
import json, sys
from lava_common.schemas import validate
from lava_common.schemas import device as dev
kind, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
(validate(d, strict=True) if kind == 'job' else dev.validate(d))
print('valid')
`;

function noBoardLeft(name: string): void {
  assert.not.ok(existsSync(join(dir, name, 'device.board', 'board.pid')), 'the board was powered off');
}

test('lab run, Bochs board (minimal boot): guests that pass make every case pass, their own PASS lines included', async () => {
  if (skip) return;
  const r = (await runs.pass)!;
  assert.is(r.status, 0, explain(r, 'lab run failed'));
  for (const c of ['ready', 'vm_start_name_ok_a', 'ok_a', 'vm_start_name_cpuid', 'cpuid', 'leaf_1_ecx_5_vmx_hidden'])
    assert.match(r.stdout, new RegExp(`^PASS +${c}$`, 'm'), explain(r, `no passing case ${c}`));
  assert.match(r.stdout, /^\d+ cases: \d+ passed, 0 failed$/m);
  noBoardLeft('pass');
});

test('lab run, Bochs board: a failing guest and a VM that never ends fail the run, each named', async () => {
  if (skip) return;
  const r = (await runs.fail)!;
  assert.is(r.status, 1, explain(r, 'lab run should fail'));
  assert.match(r.stdout, /^PASS +ready$/m);
  assert.match(r.stdout, /^FAIL +bad_exit +\(VM bad-exit: exit status=3\)$/m, explain(r, 'bad-exit'));
  assert.match(r.stdout, /^FAIL +stuck +\(VM stuck started and never ended \(timed out\)\)$/m, explain(r, 'stuck'));
  assert.match(r.stderr, /failed cases: bad_exit, stuck/);
  noBoardLeft('fail');
});

test('lab run, Bochs board: a monitor that never comes up is a boot failure naming the boot loader error', async () => {
  if (skip) return;
  const r = (await runs.broken)!;
  assert.is(r.status, 1, explain(r, 'lab run should fail'));
  assert.match(r.stdout, /^FAIL +ready +\(the monitor never printed @cg ready\)$/m);
  // Named by the board at once, not found by LAVA's boot timeout (150 s here).
  assert.match(r.stderr, /LAVA step auto-login-action failed \(Connection closed\): the boot loader failed before the monitor started \(error: no multiboot header found\.\)/, explain(r, 'boot failure'));
  noBoardLeft('broken');
});

for (const boot of ['qemu', 'ipxe', 'grub'] as const)
  test(`lab run, QEMU TCG board, LAVA's ${boot} boot method: the monitor reaches ready; VMs end create-failed`, async () => {
    if (skip) return;
    const r = (await runs[boot])!;
    assert.match(r.stdout, /^PASS +ready$/m, explain(r, 'no ready'));
    assert.match(r.stdout, /^FAIL +ok_a +\(VM ok-a: stopped, reason=create-failed\)$/m, explain(r, 'ok-a'));
    // lava-run calls that a success; lab run reads the cases.
    assert.match(r.stderr, /lava-run took [\d.]+ s \(exit 0\)/);
    assert.is(r.status, 1);
    assert.match(r.stderr, /2 test cases failed: ok_a, cpuid/);
    if (boot !== 'qemu') noBoardLeft(boot);
    console.log(`  ${boot}: ${/lava-run took ([\d.]+ s)/.exec(r.stderr)?.[1]}`);
  });

test('the job and device files each run used pass lava_common\'s schemas; lava job and lava device write them too', async () => {
  if (skip) return void console.log(`  (skipped: ${skip})`);
  // The runs' own files: every boot method and both boards, as lava-run took them.
  const files: [string, string][] = [];
  for (const name of Object.keys(runs)) {
    if (!(await runs[name as keyof typeof runs])) continue;
    files.push(['job', join(dir, name, 'job.yaml')], ['device', join(dir, name, 'device.yaml')]);
  }
  const job = join(dir, 'job-ipxe.yaml');
  const j = await cli(['lava', 'job', '--vms', passing, '--boot', 'ipxe', '--out', job, '--timeout', '300', '--url-base', 'http://lab.example/cg'], 60_000);
  assert.is(j.status, 0, explain(j, 'lava job'));
  const dev = join(dir, 'dev-qemu.yaml');
  const d = await cli(['lava', 'device', '--emulator', 'qemu', '--boot', 'qemu', '--out', dev, '--device-type', 'cg-x86', '--hostname', 'rack1-07'], 60_000);
  assert.is(d.status, 0, explain(d, 'lava device'));
  // Beside it, the lab form (test/toolchain/lava-template.test.ts renders it with LAVA's own templates).
  assert.match(readFileSync(join(dir, 'dev-qemu.lava', 'device-types', 'cg-x86.jinja2'), 'utf8'), /^\{% extends 'base\.jinja2' %\}$/m);
  assert.match(readFileSync(join(dir, 'dev-qemu.lava', 'devices', 'rack1-07.jinja2'), 'utf8'), /^\{% extends 'cg-x86\.jinja2' %\}$/m);
  files.push(['job', job], ['device', dev]);
  for (const [kind, path] of files) {
    const r = spawnSync(PY, ['-c', VALIDATE_PY, kind, path], { encoding: 'utf8' });
    assert.is(r.stdout.trim(), 'valid', `${path}: ${r.stderr}`);
  }
  const ipxe = JSON.parse(readFileSync(job, 'utf8')) as { actions: { deploy?: { kernel: { url: string } } }[]; timeouts: { job: { seconds: number } } };
  assert.is(ipxe.actions[0]!.deploy!.kernel.url, 'http://lab.example/cg/crossguard.elf');
  assert.ok(ipxe.timeouts.job.seconds > 300, 'the job timeout covers --timeout');
  const minimal = JSON.parse(readFileSync(join(dir, 'pass', 'job.yaml'), 'utf8')) as { actions: object[] };
  assert.equal(minimal.actions.map((a) => Object.keys(a)[0]), ['boot', 'test']);
  const bad = await cli(['lava', 'device', '--emulator', 'bochs', '--boot', 'ipxe', '--out', join(dir, 'x.yaml')], 30_000);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /Bochs board boots by LAVA's minimal method/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
