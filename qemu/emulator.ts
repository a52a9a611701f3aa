// The one interface every emulator back end implements, plus runUntil, which
// watches a machine's serial line for a pattern under a timeout.
//
// A back end turns BootOptions into a running Machine. The Machine's serial
// line is the guest's COM1 (or BootOptions.serialUnit) in both directions; stop() always kills the whole
// emulator process group and removes the back end's temp dir.

import { createWriteStream } from 'node:fs';
import { LineSplitter } from './markers.js';
import {
  realClock,
  type Clock,
  type ExitStatus,
  type GroupSignaller,
  type Spawner,
  type TimerHandle,
} from './process.js';

/** 'qemu' = QEMU TCG (no VMX); 'kvm' = QEMU with KVM and nested VMX; 'bochs' = Bochs with VMX. */
export type EmulatorKind = 'bochs' | 'qemu' | 'kvm';

export const EMULATOR_KINDS: readonly EmulatorKind[] = ['bochs', 'qemu', 'kvm'];

/**
 * A file loaded as a Multiboot module. `name` is a plain basename
 * ([A-Za-z0-9._-]{1,48}): the monitor finds the module by the basename of
 * the first word of its Multiboot command line, so every loader must make
 * that word end in `name` (QEMU: the file is staged as <tmp>/<name>).
 */
export interface BootModule {
  path: string;
  name: string;
}

/**
 * A network boot: one NIC with this MAC, wired either to a tap device in a
 * network namespace (where a DHCP/TFTP server runs: toolchain/src/pxe/labnet.ts)
 * or to QEMU's user networking, whose BOOTP hands out `bootfile` and whose
 * TFTP serves `tftpRoot`.
 */
export interface NetBootImage {
  kind: 'net';
  mac: string;
  /** UEFI: the NIC boots through OVMF's own PXE (default, as a server's firmware would) or QEMU's iPXE EFI ROM. */
  efiPxe?: 'ovmf' | 'ipxe';
  tap?: { netns: string; ifname: string };
  user?: { tftpRoot: string; bootfile: string };
}

export type BootImage =
  | { kind: 'iso'; path: string }
  | { kind: 'elf'; path: string; cmdline?: string; modules?: BootModule[] }
  | NetBootImage;

export interface BootOptions {
  image: BootImage;
  cpus: number;
  memMiB: number;
  /** When set, every serial byte from the guest is also appended to this file. */
  serialLog?: string;
  /**
   * Which UART the Machine's serial line is (1-4: COM1 0x3f8, COM2 0x2f8, COM3 0x3e8, COM4 0x2e8;
   * default 1): the one the monitor's cg.serial= chose. Lower ones exist but are not connected.
   */
  serialUnit?: number;
  /** Platform firmware: legacy BIOS (default) or UEFI (QEMU with OVMF; Bochs has no UEFI). */
  firmware?: 'bios' | 'uefi';
  /**
   * Bochs only: emulated instructions per emulated second (its `ips`, 4 000 000 by default),
   * i.e. the TSC rate guests see. Stock Linux wants a faster clock than the default, so its
   * 250 Hz tick does not come every 16 000 instructions.
   */
  ips?: number;
  /**
   * A NIC for the monitor itself to drive (a guest network's uplink, docs/networking.md), beside
   * the boot device; an ISO or ELF boot only (a network boot has its own NIC). See UplinkNic.
   */
  uplink?: UplinkNic;
}

/**
 * BootOptions.uplink: an Intel e1000 (82540EM; QEMU can give an e1000e, an 82574L, instead)
 * wired either to the emulator's own user-mode network (restricted: nothing reaches the host's
 * networks; its DHCP server, and a TFTP server serving `tftpRoot`), or, QEMU only, to a pair of
 * UDP ports on loopback: every frame is one datagram between QEMU's end (127.0.0.1:`udp.qemuPort`)
 * and the test's (127.0.0.1:`udp.peerPort`).
 */
export type UplinkNic = {
  /** Lowercase, colon-separated. */
  mac: string;
  /** The emulated NIC (default e1000); Bochs has only the e1000. */
  model?: 'e1000' | 'e1000e';
} & ({ tftpRoot: string; udp?: undefined } | { udp: { qemuPort: number; peerPort: number }; tftpRoot?: undefined });

export interface Serial {
  /** Subscribes to guest output. Output that arrived before the first subscriber is replayed to it. */
  onData(cb: (b: Buffer) => void): void;
  /** Sends bytes to the guest. */
  write(b: Buffer | string): void;
}

export interface Machine {
  readonly kind: EmulatorKind;
  readonly serial: Serial;
  /** Resolves when the emulator has exited (and its serial output is drained). */
  readonly exited: Promise<ExitStatus>;
  /** Kills the process group and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Synchronous last resort for process 'exit' handlers: SIGKILL to the group. */
  killSync(): void;
  /** Why it failed: Bochs' last VMFAIL/VMENTER FAIL/PANIC/ERROR log lines, QEMU's stderr tail. */
  diagnostics(): string;
}

/** Injectable process and time for back ends (tests pass fakes). */
export interface BootDeps {
  spawner?: Spawner;
  clock?: Clock;
  /** Signals process groups (stop()); fakes must pass one so no real group is signalled. */
  signal?: GroupSignaller;
}

export type Availability = { ok: true } | { ok: false; reason: string };

export interface Emulator {
  readonly kind: EmulatorKind;
  /** One line for people, e.g. "Bochs 2.7 (VMX, slow)". */
  describe(): string;
  available(): Promise<Availability>;
  boot(opts: BootOptions, deps?: BootDeps): Promise<Machine>;
}

/**
 * A serial line fed by a back end: fans bytes out to subscribers, keeps what
 * arrives before the first subscriber, and tees to a log file when asked.
 */
export class SerialChannel implements Serial {
  private subscribers: ((b: Buffer) => void)[] = [];
  private backlog: Buffer[] = [];
  private log: NodeJS.WritableStream | undefined;

  constructor(
    private readonly writer: (b: Buffer) => void,
    logPath?: string,
  ) {
    if (logPath) this.log = createWriteStream(logPath, { flags: 'a' });
  }

  onData(cb: (b: Buffer) => void): void {
    this.subscribers.push(cb);
    if (this.subscribers.length === 1 && this.backlog.length > 0) {
      const old = this.backlog;
      this.backlog = [];
      for (const b of old) cb(b);
    }
  }

  write(b: Buffer | string): void {
    this.writer(typeof b === 'string' ? Buffer.from(b) : b);
  }

  /** Called by the back end for each chunk of guest output. */
  emit(b: Buffer): void {
    this.log?.write(b);
    if (this.subscribers.length === 0) this.backlog.push(b);
    else for (const cb of this.subscribers) cb(b);
  }

  /** Closes the log file (after the machine has exited). */
  close(): Promise<void> {
    const log = this.log;
    this.log = undefined;
    if (!log) return Promise.resolve();
    return new Promise((r) => log.end(r));
  }
}

export interface RunUntilOptions {
  /** Tested against each complete serial line; omitted = run until exit or timeout. */
  until?: RegExp;
  /** 0 or omitted = no timeout. */
  timeoutMs?: number;
  clock?: Clock;
  /** Called for every complete serial line, in order. */
  onLine?: (line: string) => void;
  /** Leave the machine running at the end (default: stop it). */
  keep?: boolean;
  /** Keep at most this many characters of output (the tail); default 1 MiB. */
  maxOutput?: number;
}

export interface RunResult {
  status: 'matched' | 'timeout' | 'exited';
  /** Serial output seen (the tail, see maxOutput). */
  output: string;
  match?: RegExpMatchArray;
  exit?: ExitStatus;
  /** Elapsed clock time in ms. */
  elapsedMs: number;
}

/**
 * Watches `machine`'s serial lines until `until` matches a line, the machine
 * exits, or `timeoutMs` passes on `clock`. Stops the machine at the end
 * unless `keep` is set.
 */
export async function runUntil(machine: Machine, opts: RunUntilOptions): Promise<RunResult> {
  const clock = opts.clock ?? realClock;
  const maxOutput = opts.maxOutput ?? 1 << 20;
  const start = clock.now();
  const splitter = new LineSplitter();
  let output = '';
  let settled = false;
  let timer: TimerHandle | undefined;

  const result = await new Promise<RunResult>((resolve) => {
    const finish = (r: Omit<RunResult, 'output' | 'elapsedMs'>) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      resolve({ ...r, output, elapsedMs: clock.now() - start });
    };
    const onLine = (line: string) => {
      if (settled) return;
      output += line + '\n';
      if (output.length > maxOutput) output = output.slice(output.length - maxOutput);
      opts.onLine?.(line);
      const m = opts.until ? line.match(opts.until) : null;
      if (m) finish({ status: 'matched', match: m });
    };
    machine.serial.onData((b) => {
      for (const line of splitter.push(b)) onLine(line);
    });
    machine.exited.then((exit) => {
      const rest = splitter.flush();
      if (rest !== null) onLine(rest);
      finish({ status: 'exited', exit });
    });
    if (opts.timeoutMs && opts.timeoutMs > 0) {
      timer = clock.setTimeout(() => {
        const rest = splitter.partial;
        if (rest) output += rest;
        finish({ status: 'timeout' });
      }, opts.timeoutMs);
    }
  });
  if (!opts.keep) await machine.stop();
  return result;
}

/** The last `n` lines of `text`. */
export function tailLines(text: string, n: number): string {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n).join('\n');
}
