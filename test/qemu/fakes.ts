// Fakes for the harness tests: a clock that moves only when told, a spawner
// that records calls, and a machine whose serial line the test drives.

import { PassThrough } from 'node:stream';
import type { Clock, Child, ExitStatus, Spawner, SpawnOptions, TimerHandle } from '../../qemu/process.js';
import { SerialChannel, type EmulatorKind, type Machine } from '../../qemu/emulator.js';

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: TimerHandle): void {
    this.timers.delete(h as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

export interface FakeChild extends Child {
  readonly stdin: PassThrough;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  exit(status: ExitStatus): void;
}

export function fakeChild(pid = 4242): FakeChild {
  let resolveExit!: (s: ExitStatus) => void;
  const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
  return {
    pid,
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    exited,
    spawnError: () => undefined,
    exit: (s) => resolveExit(s),
  };
}

export class FakeSpawner {
  calls: { cmd: string; args: readonly string[]; opts: SpawnOptions | undefined }[] = [];
  children: FakeChild[] = [];
  readonly spawn: Spawner = (cmd, args, opts) => {
    this.calls.push({ cmd, args, opts });
    const c = fakeChild(1000 + this.children.length);
    this.children.push(c);
    return c;
  };
}

/** A Machine whose output the test feeds with `emit` and whose exit it triggers. */
export class FakeMachine implements Machine {
  readonly kind: EmulatorKind = 'qemu';
  readonly written: Buffer[] = [];
  readonly serial = new SerialChannel((b) => this.written.push(b));
  stops = 0;
  private resolveExit!: (s: ExitStatus) => void;
  readonly exited = new Promise<ExitStatus>((r) => (this.resolveExit = r));

  emit(text: string): void {
    this.serial.emit(Buffer.from(text));
  }
  exit(s: ExitStatus = { code: 0, signal: null }): void {
    this.resolveExit(s);
  }
  async stop(): Promise<void> {
    this.stops++;
    this.resolveExit({ code: null, signal: 'SIGKILL' });
  }
  killSync(): void {}
  diagnostics(): string {
    return 'fake diagnostics';
  }
}

/** Lets pending promise callbacks run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
