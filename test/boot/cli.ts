// The crossguard CLI as the boot tests run it: the built bundle in a child
// process, its output collected, SIGTERM after a timeout (the command then
// stops what it started: emulators, dnsmasq, namespaces) and SIGKILL 10 s
// later if it is still there.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './pool.js';

export const CLI = join(ROOT, 'build', 'js', 'crossguard.mjs');

export interface CliRun {
  status: number | null;
  /** Standard output with carriage returns dropped (serial lines end \r\n). */
  stdout: string;
  stderr: string;
  ms: number;
  pid: number | undefined;
}

export interface CliOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** 'pipe' to write to the command (child.stdin). */
  stdin?: 'pipe';
}

/** Starts the CLI; `done` resolves when it has ended. */
export function startCli(args: string[], o: CliOptions = {}): { done: Promise<CliRun>; child: ChildProcess } {
  const t0 = Date.now();
  const cp = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: o.env ?? process.env, stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  cp.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  cp.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timeoutMs = o.timeoutMs ?? 60_000;
  const term = setTimeout(() => cp.kill('SIGTERM'), timeoutMs);
  const kill = setTimeout(() => cp.kill('SIGKILL'), timeoutMs + 10_000);
  const done = new Promise<CliRun>((resolve) =>
    cp.on('close', (status) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ status, stdout: stdout.replace(/\r/g, ''), stderr, ms: Date.now() - t0, pid: cp.pid });
    }),
  );
  return { done, child: cp };
}

/** Runs the CLI to its end. */
export const cli = (args: string[], timeoutMs: number, o: Omit<CliOptions, 'timeoutMs'> = {}): Promise<CliRun> => startCli(args, { ...o, timeoutMs }).done;
