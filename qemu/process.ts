// Processes and time, behind small interfaces so the harness can be tested
// with fakes: a Spawner starts a child in its own process group, a Clock gives
// time and timers, and killGroup stops a whole group (TERM, grace, KILL).
//
// Why groups: /usr/bin/bochs is a wrapper that starts bochs-bin, and Bochs
// ignores SIGTERM, so signalling the wrapper's pid alone leaves the emulator
// running. Every emulator starts as a group leader (detached: true) and is
// always signalled as -pid.

import { spawn, type StdioOptions } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** How a child ended: exit code, or the signal that killed it. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** The part of a child process the harness uses. */
export interface Child {
  /** Process id, also the process group id; undefined if the spawn failed. */
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Resolves once the child has exited and its stdio pipes have closed. */
  readonly exited: Promise<ExitStatus>;
  /** Set when the spawn itself failed (e.g. ENOENT); exited then resolves with nulls. */
  readonly spawnError: () => Error | undefined;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
}

/** Starts `cmd args` as the leader of a new process group. */
export type Spawner = (cmd: string, args: readonly string[], opts?: SpawnOptions) => Child;

/** The real spawner: child_process.spawn with detached: true (own process group). */
export const realSpawner: Spawner = (cmd, args, opts = {}) => {
  const cp = spawn(cmd, [...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: opts.stdio ?? 'pipe',
    detached: true,
  });
  let error: Error | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    cp.once('error', (e) => {
      error = e;
      // A failed spawn never emits 'close' when no stdio was created.
      if (cp.pid === undefined) resolve({ code: null, signal: null });
    });
    cp.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: cp.pid,
    stdin: cp.stdin,
    stdout: cp.stdout,
    stderr: cp.stderr,
    exited,
    spawnError: () => error,
  };
};

/** Opaque timer handle returned by Clock.setTimeout. */
export type TimerHandle = unknown;

/** Time and timers. Tests use a fake that advances only when told to. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Sends a signal to a process group; false when the group no longer exists. */
export type GroupSignaller = (pgid: number, signal: NodeJS.Signals | 0) => boolean;

export const realSignaller: GroupSignaller = (pgid, signal) => {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
};

export interface KillGroupOptions {
  /** Time between SIGTERM and SIGKILL; default 2000 ms. */
  graceMs?: number;
  clock?: Clock;
  signal?: GroupSignaller;
  /** How long to wait for the group to vanish after SIGKILL; default 2000 ms. */
  reapMs?: number;
}

/**
 * Stops the process group `pid`: SIGTERM to -pid, then after the grace
 * period (or at once, when the leader exits earlier but other members
 * remain) SIGKILL to -pid. Resolves when the leader has exited and the group
 * is gone (or `reapMs` after SIGKILL, whichever is first). Never throws for a
 * group that is already gone.
 */
export async function killGroup(
  pid: number,
  exited: Promise<unknown>,
  opts: KillGroupOptions = {},
): Promise<void> {
  const clock = opts.clock ?? realClock;
  const signal = opts.signal ?? realSignaller;
  const graceMs = opts.graceMs ?? 2000;
  const reapMs = opts.reapMs ?? 2000;

  if (!signal(pid, 'SIGTERM')) {
    await exited;
    return;
  }
  let timer: TimerHandle | undefined;
  const grace = new Promise<void>((r) => (timer = clock.setTimeout(r, graceMs)));
  await Promise.race([exited, grace]);
  clock.clearTimeout(timer);

  // The leader may have exited on SIGTERM while members ignoring it live on.
  if (signal(pid, 'SIGKILL')) {
    await exited;
    const deadline = clock.now() + reapMs;
    while (signal(pid, 0) && clock.now() < deadline) await sleep(clock, 10);
  } else {
    await exited;
  }
}
