// Running a VM set under the monitor: vms.cfg plus every kernel and module
// go in as Multiboot modules (an ISO for Bochs or --boot iso, QEMU -kernel
// with -initrd otherwise), then the operator line is read until the monitor
// says `@cg vms-done`, fails (`@cg fatal`), the emulator exits, or the
// timeout, or (with `until`) a line matching a pattern. Guest output reaches the line as `[<vm>] <text>`; each VM's end
// is a marker: `@cg vm-exit name=N status=S` (S in QEMU's (v << 1) | 1
// convention) or `@cg vm-stop name=N reason=R`. The CLI (commands/run-vms.ts)
// and the guest tests are thin layers over runGuests.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BootDeps, BootImage, Emulator, Machine } from '../../qemu/emulator.js';
import { LineSplitter, parseMarker } from '../../qemu/markers.js';
import { realClock, type Clock, type ExitStatus, type TimerHandle } from '../../qemu/process.js';
import { makeIso } from './image.js';
import { writeVmsCfg } from './vmcfg.js';
import type { VmSet } from './vms.js';
import { emulatorSerialUnit } from './serial.js';

export interface GuestResult {
  name: string;
  /** Exit status as the monitor reported it (QEMU convention: (value << 1) | 1). */
  status?: number;
  /** Why the monitor stopped the VM (`triple-fault`, `bad-memory-access`, …). */
  stopReason?: string;
  /** The VM's serial/console text, tags removed, one `\n` per line. */
  output: string;
}

export interface RunGuestsResult {
  vms: GuestResult[];
  /** Every operator line that is not tagged guest output (markers, monitor messages). */
  monitorOutput: string;
  timedOut: boolean;
  /** The run ended because a line matched `until`. */
  matched?: true;
  /** `@cg vms-done` seen: every VM ended. */
  done: boolean;
  /** Why the run ended early: the monitor failed or the emulator exited first. */
  died?: string;
  exit?: ExitStatus;
  /** The emulator's own diagnostics (Bochs log lines, QEMU stderr). */
  diagnostics: string;
}

/** Parses operator lines into per-VM results (pure). */
export class GuestTracker {
  private readonly vms = new Map<string, GuestResult>();
  private monitor: string[] = [];
  done = false;
  fatal: string | undefined;

  constructor(names: readonly string[]) {
    for (const n of names) this.vms.set(n, { name: n, output: '' });
  }

  /** Feeds one line; returns 'done' at `@cg vms-done`, 'fatal' at `@cg fatal` or `@cg vms-error`, else null. */
  push(line: string): 'done' | 'fatal' | null {
    const tag = /^\[([a-z][a-z0-9_-]{0,30})\] ?(.*)$/.exec(line);
    const vm = tag ? this.vms.get(tag[1]!) : undefined;
    if (tag && vm) {
      vm.output += `${tag[2]}\n`;
      return null;
    }
    this.monitor.push(line);
    const m = parseMarker(line);
    if (!m) return null;
    const target = m.fields.name !== undefined ? this.vms.get(m.fields.name) : undefined;
    if (m.kind === 'vm-exit' && target && m.fields.status !== undefined) {
      const s = Number(m.fields.status);
      if (Number.isInteger(s)) target.status = s;
    } else if (m.kind === 'vm-stop' && target) target.stopReason = m.fields.reason ?? 'unknown';
    else if (m.kind === 'vms-done') {
      this.done = true;
      return 'done';
    } else if (m.kind === 'fatal' || m.kind === 'vms-error') {
      // vms-error: the monitor rejected vms.cfg and starts nothing.
      this.fatal ??= line;
      return 'fatal';
    }
    return null;
  }

  /** The VM's output so far ('' for unknown names). */
  output(name: string): string {
    return this.vms.get(name)?.output ?? '';
  }

  results(): GuestResult[] {
    return [...this.vms.values()].map((v) => ({ ...v }));
  }

  monitorOutput(): string {
    return this.monitor.map((l) => `${l}\n`).join('');
  }
}

export interface RunGuestsOptions {
  set: VmSet;
  emulator: Emulator;
  /** The monitor ELF (build/crossguard.elf). */
  monitorElf: string;
  /** Emulated machine. */
  cpus: number;
  memMiB: number;
  /** Default: 'iso' for Bochs (it has no -kernel), 'elf' for QEMU. */
  boot?: 'iso' | 'elf';
  monitorCmdline?: string;
  /** 0 or omitted = no timeout. */
  timeoutMs?: number;
  serialLog?: string;
  /** Every operator line as it arrives (after the tracker saw it). */
  onLine?: (line: string, tracker: GuestTracker) => void;
  /** Called once the machine is up (e.g. for signal handlers). */
  onMachine?: (m: Machine) => void;
  clock?: Clock;
  bootDeps?: BootDeps;
  /** How long to keep reading after `@cg fatal` for the FATAL: dump; default 500 ms. */
  fatalLingerMs?: number;
  /** Bochs: emulated instructions per second (BootOptions.ips). */
  ips?: number;
  /** End the run at the first operator line that matches, tagged as it arrives or as its VM's text alone (guestLineMatches). */
  until?: RegExp;
}

/** Whether an operator line matches `until`: the line as it arrives, or a known VM's line without its `[name] ` tag (pure). */
export function guestLineMatches(until: RegExp, line: string, names: readonly string[]): boolean {
  if (until.test(line)) return true;
  const tag = /^\[([a-z][a-z0-9_-]{0,30})\] ?(.*)$/.exec(line);
  return tag !== null && names.includes(tag[1]!) && until.test(tag[2]!);
}

/** Boots the set and waits for it to finish; never throws for guest or monitor failures (see `died`). */
export async function runGuests(opts: RunGuestsOptions): Promise<RunGuestsResult> {
  const clock = opts.clock ?? realClock;
  const dir = mkdtempSync(join(tmpdir(), 'crossguard-vms-'));
  let machine: Machine | undefined;
  try {
    const modules = writeVmsCfg(opts.set, dir);
    const boot = opts.boot ?? (opts.emulator.kind === 'bochs' ? 'iso' : 'elf');
    let image: BootImage;
    if (boot === 'iso') {
      const iso = join(dir, 'crossguard-vms.iso');
      await makeIso({ elf: opts.monitorElf, out: iso, modules, ...(opts.monitorCmdline ? { cmdline: opts.monitorCmdline } : {}) });
      image = { kind: 'iso', path: iso };
    } else {
      image = { kind: 'elf', path: opts.monitorElf, modules, ...(opts.monitorCmdline ? { cmdline: opts.monitorCmdline } : {}) };
    }
    const m = await opts.emulator.boot(
      {
        image,
        cpus: opts.cpus,
        memMiB: opts.memMiB,
        serialUnit: emulatorSerialUnit(opts.monitorCmdline),
        ...(opts.serialLog ? { serialLog: opts.serialLog } : {}),
        ...(opts.ips ? { ips: opts.ips } : {}),
      },
      opts.bootDeps,
    );
    machine = m;
    opts.onMachine?.(m);
    const tracker = new GuestTracker(opts.set.vms.map((v) => v.name));
    const end = await watch(m, tracker, opts, clock);
    await m.stop();
    const result: RunGuestsResult = {
      vms: tracker.results(),
      monitorOutput: tracker.monitorOutput(),
      timedOut: end.how === 'timeout',
      ...(end.how === 'matched' ? { matched: true as const } : {}),
      done: tracker.done,
      diagnostics: m.diagnostics(),
    };
    if (end.exit) result.exit = end.exit;
    if (tracker.fatal) result.died = `the monitor failed: ${tracker.fatal}`;
    else if (end.how === 'exited') {
      const how = end.exit?.signal ? `signal ${end.exit.signal}` : `status ${end.exit?.code}`;
      result.died = `${m.kind} exited (${how}) before @cg vms-done`;
    }
    return result;
  } finally {
    await machine?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface WatchEnd {
  how: 'done' | 'fatal' | 'exited' | 'timeout' | 'matched';
  exit?: ExitStatus;
}

function watch(m: Machine, tracker: GuestTracker, opts: RunGuestsOptions, clock: Clock): Promise<WatchEnd> {
  return new Promise<WatchEnd>((resolve) => {
    const splitter = new LineSplitter();
    const names = opts.set.vms.map((v) => v.name);
    let settled = false;
    let timer: TimerHandle | undefined;
    let linger: TimerHandle | undefined;
    const finish = (e: WatchEnd) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (linger !== undefined) clock.clearTimeout(linger);
      resolve(e);
    };
    const onLine = (line: string) => {
      if (settled) return;
      const r = tracker.push(line);
      opts.onLine?.(line, tracker);
      if (opts.until && guestLineMatches(opts.until, line, names)) finish({ how: 'matched' });
      else if (r === 'done') finish({ how: 'done' });
      else if (r === 'fatal' && linger === undefined)
        linger = clock.setTimeout(() => finish({ how: 'fatal' }), opts.fatalLingerMs ?? 500);
    };
    m.serial.onData((b) => {
      for (const l of splitter.push(b)) onLine(l);
    });
    void m.exited.then((exit) => {
      const rest = splitter.flush();
      if (rest !== null) onLine(rest);
      finish({ how: tracker.fatal ? 'fatal' : 'exited', exit });
    });
    if (opts.timeoutMs && opts.timeoutMs > 0) timer = clock.setTimeout(() => finish({ how: 'timeout' }), opts.timeoutMs);
  });
}
