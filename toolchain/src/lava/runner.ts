// Runs a job with lava-run, LAVA's dispatcher without a server: the job
// file, the device file, a dispatcher file (the address boards fetch TFTP
// files from) and an output directory. lava-run writes its log, one record
// a line, on stdout; it is kept whole in <dir>/lava.log, and its steps
// (`start: 2 minimal-boot …`) and the board's serial lines go to stderr as
// progress.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from '../../../qemu/which.js';
import { LavaRunError } from './errors.js';

export interface LavaRunInput {
  job: string;
  device: string;
  dir: string;
  jobId: number;
  /** dispatcher_ip: what {SERVER_IP} becomes in boot commands. */
  dispatcherIp?: string;
  /** Progress lines (stderr); none when absent. */
  progress?: (line: string) => void;
}

export interface LavaRunOutput {
  log: string;
  logFile: string;
  exitCode: number | null;
  ms: number;
}

/** One progress line for a log record, or null: LAVA's action starts and the board's serial lines. */
export function progressLine(line: string): string | null {
  try {
    const rec = JSON.parse(line) as { lvl?: string; msg?: unknown };
    if (typeof rec.msg !== 'string') return null;
    if (rec.lvl === 'target') return `  | ${rec.msg}`;
    if (rec.lvl === 'info' && /^start: \d+(\.\d+)? /.test(rec.msg)) return `lava: ${rec.msg}`;
    if (rec.lvl === 'error') return `lava: error: ${rec.msg}`;
  } catch {
    /* not a record */
  }
  return null;
}

export async function runLava(i: LavaRunInput): Promise<LavaRunOutput> {
  const bin = findOnPath('lava-run');
  if (!bin) throw new LavaRunError('lava-run is not installed; apt-get install --no-install-recommends lava-dispatcher tftpd-hpa (toolchain/setup.sh does)');
  mkdirSync(i.dir, { recursive: true });
  const args = ['--job-id', String(i.jobId), '--output-dir', join(i.dir, 'output'), '--device', i.device];
  if (i.dispatcherIp) {
    const disp = join(i.dir, 'dispatcher.yaml');
    writeFileSync(disp, `${JSON.stringify({ dispatcher_ip: i.dispatcherIp })}\n`);
    args.push('--dispatcher', disp);
  }
  args.push(i.job);
  const logFile = join(i.dir, 'lava.log');
  const log = createWriteStream(logFile);
  const t0 = Date.now();
  // LAVA's modules import from the system Python only; lava-run's #! names it.
  const cp = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  let partial = '';
  const onData = (b: Buffer) => {
    log.write(b);
    if (!i.progress) return;
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const p = progressLine(l);
      if (p) i.progress(p);
    }
  };
  cp.stdout.on('data', onData);
  cp.stderr.on('data', onData);
  const exitCode = await new Promise<number | null>((res) => {
    cp.once('error', (e) => {
      log.end();
      res(null);
      i.progress?.(`lava: cannot start lava-run: ${e.message}`);
    });
    cp.once('close', (code) => res(code));
  });
  await new Promise<void>((r) => log.end(() => r()));
  return { log: readFileSync(logFile, 'utf8'), logFile, exitCode, ms: Date.now() - t0 };
}
