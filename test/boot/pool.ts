// Boot cases for the emulator tests: each case boots one machine and watches
// its serial line. Cases start as soon as a test file loads, at most
// CG_TEST_JOBS (default 2, one per core here) at a time, so uvu's serial test
// order does not make the suite wait for one emulator after another.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEmulator } from '../../qemu/detect.js';
import { tailLines, type BootImage, type EmulatorKind, type Machine, type UplinkNic } from '../../qemu/emulator.js';
import { LineSplitter, parseMarker, type Marker } from '../../qemu/markers.js';
import { makeIso, type BootEntry } from '../../toolchain/src/image.js';
import { writeVmsCfg } from '../../toolchain/src/vmcfg.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';

export const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());
export const ELF = join(ROOT, 'build', 'crossguard.elf');
export const ISO = join(ROOT, 'build', 'crossguard.iso');

const JOBS = Math.max(1, Number(process.env.CG_TEST_JOBS ?? 2));

/* uvu loads every test file into one process, but esbuild bundles each
 * file with its own copy of this module: the slots live on globalThis so
 * all files share one limit. */
interface Slots {
  running: number;
  waiting: (() => void)[];
}
const slots: Slots = ((globalThis as { __cgEmulatorSlots?: Slots }).__cgEmulatorSlots ??= {
  running: 0,
  waiting: [],
});

/** Runs fn when one of the CG_TEST_JOBS emulator slots is free (shared by all test files). */
export async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (slots.running >= JOBS) await new Promise<void>((r) => slots.waiting.push(r));
  slots.running++;
  try {
    return await fn();
  } finally {
    slots.running--;
    slots.waiting.shift()?.();
  }
}

export interface BootCase {
  emulator: EmulatorKind;
  image:
    | BootImage
    | { kind: 'iso-variant'; cmdline?: string; entry?: BootEntry; bios?: 'ovmf'; vms?: object; vmsBase?: string };
  cpus: number;
  memMiB?: number;
  /** Bochs' emulated clock rate (BootOptions.ips). */
  ips?: number;
  /** Platform firmware (a network boot's; an ISO variant says it with bios: 'ovmf'). */
  firmware?: 'bios' | 'uefi';
  /** The UART the serial line is (BootOptions.serialUnit: 2 for a monitor on cg.serial=com2). */
  serialUnit?: number;
  /** An e1000 on the emulator's user network for the monitor itself (BootOptions.uplink). */
  uplink?: UplinkNic;
  until: RegExp;
  timeoutMs: number;
  /** After `until` matched: keep watching this long (e.g. to see that nothing reboots). */
  lingerMs?: number;
  /** Runs while the machine is up, after `until` matched (e.g. type at the shell). */
  /** waitFor looks at lines arriving from now on, or from line `from` (0: the whole boot). */
  interact?: (m: Machine, waitFor: (re: RegExp, ms: number, from?: number) => Promise<string>) => Promise<void>;
}

export interface BootOutcome {
  status: 'matched' | 'timeout' | 'exited';
  /** Wall time from emulator start to the `until` line. */
  bootMs: number;
  lines: string[];
  markers: Marker[];
  diagnostics: string;
  /** Output of the interaction phase (if any). */
  interaction: string;
  exitedEarly: boolean;
}

/** Markers of one kind, in order. */
export function markersOf(o: BootOutcome, kind: string): Marker[] {
  return o.markers.filter((m) => m.kind === kind);
}

/** A failure message with the tail of the serial output and the emulator's own diagnostics. */
export function explain(o: BootOutcome, what: string): string {
  return `${what}\n--- serial (last 25 lines) ---\n${tailLines(o.lines.join('\n'), 25)}\n--- emulator ---\n${o.diagnostics}`;
}

async function resolveImage(c: BootCase, tmp: string): Promise<BootImage> {
  if (c.image.kind !== 'iso-variant') return c.image;
  const out = join(tmp, 'variant.iso');
  const modules = c.image.vms
    ? writeVmsCfg(checkVmDescription(c.image.vms, c.image.vmsBase ?? ROOT, { source: 'test' }), tmp)
    : undefined;
  await makeIso({ elf: ELF, out, cmdline: c.image.cmdline, entry: c.image.entry, ...(modules ? { modules } : {}) });
  return { kind: 'iso', path: out };
}

/** Why waitFor gave up. */
export class WaitError extends Error {
  override name = 'WaitError';
  constructor(readonly status: 'timeout' | 'exited', message: string) {
    super(message);
  }
}

/**
 * Boots `c` (when a slot is free) and resolves with everything seen.
 * `inSlot`: the caller already holds a slot (e.g. it started the servers
 * the machine boots from), so this boot takes none of its own.
 */
export function boot(c: BootCase, inSlot = false): Promise<BootOutcome> {
  const run = async (): Promise<BootOutcome> => {
    if (!existsSync(ELF)) throw new Error(`${ELF} is missing: run make first`);
    const tmp = mkdtempSync(join(tmpdir(), 'cg-boot-test-'));
    try {
      const image = await resolveImage(c, tmp);
      const emu = createEmulator(c.emulator);
      const avail = await emu.available();
      if (!avail.ok) throw new Error(`${c.emulator} unavailable: ${avail.reason}`);
      const uefi = (c.image.kind === 'iso-variant' && c.image.bios === 'ovmf') || c.firmware === 'uefi';
      const machine = await emu.boot({
        image,
        cpus: c.cpus,
        memMiB: c.memMiB ?? 256,
        ...(uefi ? { firmware: 'uefi' as const } : {}),
        ...(c.ips ? { ips: c.ips } : {}),
        ...(c.serialUnit ? { serialUnit: c.serialUnit } : {}),
        ...(c.uplink ? { uplink: c.uplink } : {}),
      });
      // One subscriber for the machine's whole life: it gets the backlog too.
      const lines: string[] = [];
      const splitter = new LineSplitter();
      machine.serial.onData((b) => {
        for (const l of splitter.push(b)) lines.push(l.replace(/\r$/, ''));
      });
      let exited = false;
      void machine.exited.then(() => (exited = true));
      const waitFor = (re: RegExp, ms: number, from = lines.length) =>
        new Promise<string>((res, rej) => {
          const t0 = Date.now();
          const poll = () => {
            const hit = lines.slice(from).find((l) => re.test(l));
            if (hit !== undefined) return res(hit);
            if (exited) return rej(new WaitError('exited', `the emulator exited before a line matched ${re}`));
            if (Date.now() - t0 > ms) return rej(new WaitError('timeout', `no line matching ${re} within ${ms} ms`));
            setTimeout(poll, 25);
          };
          poll();
        });
      try {
        const t0 = Date.now();
        let status: BootOutcome['status'] = 'matched';
        let interaction = '';
        let exitedEarly = false;
        try {
          await waitFor(c.until, c.timeoutMs, 0);
        } catch (e) {
          if (!(e instanceof WaitError)) throw e;
          status = e.status;
        }
        const bootMs = Date.now() - t0;
        if (status === 'matched' && c.interact) {
          const before = lines.length;
          try {
            await c.interact(machine, (re, ms, from) => waitFor(re, ms, from));
          } finally {
            interaction = lines.slice(before).join('\n');
          }
        }
        if (status === 'matched' && c.lingerMs) {
          await new Promise((r) => setTimeout(r, c.lingerMs));
          exitedEarly = exited;
        }
        await machine.stop();
        const rest = splitter.flush();
        if (rest) lines.push(rest);
        const markers = lines.map(parseMarker).filter((m): m is Marker => m !== null);
        return { status, bootMs, lines, markers, diagnostics: machine.diagnostics(), interaction, exitedEarly };
      } finally {
        await machine.stop();
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  };
  return inSlot ? run() : slot(run);
}

/** Sends one machine-protocol request on the console and resolves with its `@cg-rsp` line. */
let requestId = 0;
export async function request(m: Machine, waitFor: (re: RegExp, ms: number, from?: number) => Promise<string>, cmd: string): Promise<string> {
  const id = ++requestId;
  const reply = waitFor(new RegExp(`^@cg-rsp \\{"id":${id},`), 30_000);
  m.serial.write(`@cg-req ${id} ${cmd}\n`);
  return reply;
}

/** A Bochs boot of the test guests in build/guests as one VM set (vms: the description's `vms`). */
export function bootGuestSet(vms: object[], c: Omit<BootCase, 'emulator' | 'image'>): Promise<BootOutcome> {
  return boot({ emulator: 'bochs', image: { kind: 'iso-variant', vmsBase: join(ROOT, 'build', 'guests'), vms: { vms } }, ...c });
}
