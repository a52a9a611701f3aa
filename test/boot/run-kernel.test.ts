// `crossguard run --kernel` is a drop-in for
//   qemu-system-x86_64 -kernel K [-append A] [-smp N]
//     -device isa-debug-exit,iobase=0xf4,iosize=4 -serial stdio
// on a VT-x host: the same serial text on stdout and the same exit status.
// QEMU TCG is the reference here (for guests whose output does not depend
// on the CPU model or on being virtualized).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, slot } from './pool.js';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const cp = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    cp.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    cp.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => cp.kill('SIGKILL'), timeoutMs);
    cp.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout: stdout.replace(/\r/g, ''), stderr });
    });
  });
}

interface Case {
  kernel: string;
  append?: string;
  smp?: number;
}

const cases: Case[] = [
  { kernel: 'exitcode.elf', append: 'code=42' },
  { kernel: 'smp.elf', append: 'cpus=2', smp: 2 },
  { kernel: 'vmxon.elf' },
  // gp=0: its injected-#GP check runs under crossguard only (QEMU reads unknown MSRs as 0).
  { kernel: 'realmode.elf', append: 'gp=0' },
];

function compare(c: Case) {
  const k = join('build', 'guests', c.kernel);
  const common = [...(c.append ? ['--append', c.append] : []), ...(c.smp ? ['--smp', String(c.smp)] : [])];
  const cg = slot(() => run(process.execPath, ['build/js/crossguard.mjs', 'run', '--no-build', '--kernel', k, ...common], 180_000));
  const qemu = run(
    'qemu-system-x86_64',
    ['-kernel', k, ...(c.append ? ['-append', c.append] : []), ...(c.smp ? ['-smp', String(c.smp)] : []),
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-serial', 'stdio', '-display', 'none'],
    60_000,
  );
  return Promise.all([cg, qemu]);
}

const runs = cases.map((c) => ({ c, p: compare(c) }));
for (const { p } of runs) p.catch(() => {});

for (const { c, p } of runs) {
  test(`run --kernel ${c.kernel}${c.append ? ` --append ${c.append}` : ''}: same text and status as qemu -kernel`, async () => {
    const [cg, q] = await p;
    assert.ok(q.status !== null && q.status !== 0, `qemu reference run failed: ${q.stderr}`);
    assert.is(cg.status, q.status, `exit status (crossguard stderr: ${cg.stderr.trim()})`);
    assert.fixture(cg.stdout, q.stdout);
  });
}

test.run();
