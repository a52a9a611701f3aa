// A Machine backed by one emulator process group and one temp dir: the
// shared half of every back end. The back end supplies the serial channel,
// the exit promise and how to produce diagnostics.

import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { EmulatorKind, Machine, SerialChannel } from './emulator.js';
import { killGroup, realClock, realSignaller, type Clock, type ExitStatus, type GroupSignaller } from './process.js';

export interface ProcessMachineParts {
  kind: EmulatorKind;
  pid: number;
  serial: SerialChannel;
  exited: Promise<ExitStatus>;
  tempDir: string;
  diagnostics: () => string;
  clock?: Clock;
  signal?: GroupSignaller;
  /** SIGTERM→SIGKILL grace; default 2000 ms (Bochs ignores SIGTERM anyway). */
  graceMs?: number;
  /** Extra clean-up before the temp dir goes (close sockets…). */
  onStop?: () => void;
}

export class ProcessMachine implements Machine {
  readonly kind: EmulatorKind;
  readonly serial: SerialChannel;
  readonly exited: Promise<ExitStatus>;
  private stopping: Promise<void> | undefined;
  private savedDiagnostics: string | undefined;

  constructor(private readonly parts: ProcessMachineParts) {
    this.kind = parts.kind;
    this.serial = parts.serial;
    this.exited = parts.exited;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { pid, exited, clock, graceMs, signal } = this.parts;
      await killGroup(pid, exited, {
        clock: clock ?? realClock,
        graceMs: graceMs ?? 2000,
        signal: signal ?? realSignaller,
      });
      this.parts.onStop?.();
      await this.serial.close();
      // The logs live in the temp dir: keep what diagnostics() needs.
      this.savedDiagnostics = this.safeDiagnostics();
      await rm(this.parts.tempDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  killSync(): void {
    try {
      (this.parts.signal ?? realSignaller)(this.parts.pid, 'SIGKILL');
    } catch {
      // Nothing more can be done from an exit handler.
    }
    try {
      rmSync(this.parts.tempDir, { recursive: true, force: true });
    } catch {
      // Same.
    }
  }

  diagnostics(): string {
    return this.savedDiagnostics ?? this.safeDiagnostics();
  }

  private safeDiagnostics(): string {
    try {
      return this.parts.diagnostics();
    } catch (e) {
      return `(no diagnostics: ${(e as Error).message})`;
    }
  }
}
