// An emulated lab board behind LAVA's power and serial commands
// (`crossguard lava board power-on|power-off|connect --board FILE`). LAVA
// runs each power command and waits for it to end, and keeps the connect
// command running as the board's serial line, so:
//
//   power-on   stops the board if it runs, then starts the emulator as a
//              process group of its own that outlives the command (its pid
//              in the state directory), and returns once it runs: Bochs
//              through `crossguard run --console tcp:…` (its serial line on
//              a TCP port, output kept until a client comes), QEMU with its
//              serial line as a TCP server that waits for the client before
//              the machine starts, so no early byte is lost.
//   power-off  stops that process group (TERM, then KILL).
//   connect    relays stdin/stdout to the board's TCP port, connecting again
//              after a power cycle; it ends, saying why, when the board's
//              process has ended, so LAVA sees the line close at once instead
//              of waiting out its timeout.
//
// The board file (JSON) is written by `crossguard lava device`.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { BoardError } from './errors.js';

/** How the relay's own lines on the serial line start (results.ts finds them in LAVA's log). */
export const BOARD_SAYS = 'crossguard lava board: ';

export interface BoardFile {
  format: 'crossguard-lava-board/1';
  emulator: 'bochs' | 'qemu';
  /** minimal (Bochs boots the ISO), ipxe or grub (QEMU boots from the network). */
  boot: 'minimal' | 'ipxe' | 'grub';
  host: string;
  port: number;
  /** Where the pid and the emulator's log live. */
  stateDir: string;
  /** The command that starts the board (argv). */
  argv: string[];
  /** Bochs: the line in the log that says the console is served. */
  readyLine?: string;
}

export function readBoardFile(path: string): BoardFile {
  let b: BoardFile;
  try {
    b = JSON.parse(readFileSync(path, 'utf8')) as BoardFile;
  } catch (e) {
    throw new BoardError(`cannot read board file ${path}: ${(e as Error).message}; write it with crossguard lava device`);
  }
  if (b?.format !== 'crossguard-lava-board/1' || !Array.isArray(b.argv) || typeof b.port !== 'number')
    throw new BoardError(`${path} is not a crossguard board file; write it with crossguard lava device`);
  return b;
}

const pidFile = (b: BoardFile) => join(b.stateDir, 'board.pid');
const logFile = (b: BoardFile) => join(b.stateDir, 'board.log');

/** Whether pid runs: exists and is not a zombie waiting for its reaper (an orphan's reaper may be slow). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function boardPid(b: BoardFile): number | null {
  if (!existsSync(pidFile(b))) return null;
  const pid = Number(readFileSync(pidFile(b), 'utf8').trim());
  return Number.isInteger(pid) && pid > 1 ? pid : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The process and every descendant (from /proc): an emulator started by `crossguard run` leads a process group of its own. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && out.length < 64; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim().split(/\s+/))
          if (c && !out.includes(Number(c))) out.push(Number(c));
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/**
 * Stops the board; quiet when it is not running. TERM to its process group
 * first (crossguard run then stops its emulator), KILL to every group of
 * the tree after a grace: the board must be off when the command returns.
 */
export async function powerOff(b: BoardFile, graceMs = 3000): Promise<void> {
  const pid = boardPid(b);
  if (pid !== null && alive(pid)) {
    const tree = processTree(pid);
    const signal = (p: number, s: NodeJS.Signals) => {
      try {
        process.kill(-p, s);
      } catch {
        /* not a group, or gone */
      }
    };
    signal(pid, 'SIGTERM');
    const t0 = Date.now();
    while (Date.now() - t0 < graceMs && alive(pid)) await sleep(100);
    for (const p of tree) signal(p, 'SIGKILL');
    for (let i = 0; i < 20 && tree.some(alive); i++) await sleep(100);
  }
  rmSync(pidFile(b), { force: true });
}

/** Starts the board (after stopping it); resolves once it runs. */
export async function powerOn(b: BoardFile, timeoutMs = 60_000): Promise<void> {
  await powerOff(b);
  mkdirSync(b.stateDir, { recursive: true });
  const log = openSync(logFile(b), 'w');
  const cp = spawn(b.argv[0]!, b.argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const failed = new Promise<string>((res) => {
    cp.once('error', (e) => res(`cannot start ${b.argv[0]}: ${e.message}`));
    cp.once('exit', (code, sig) => res(`${b.emulator} board exited (${sig ?? `status ${code}`}) while starting`));
  });
  if (cp.pid === undefined) throw new BoardError(await failed);
  writeFileSync(pidFile(b), `${cp.pid}\n`);
  let why: string | null = null;
  void failed.then((w) => (why = w));
  const t0 = Date.now();
  // QEMU waits for the serial client before it runs, so a short look is enough; Bochs says when its console is up.
  for (;;) {
    await sleep(100);
    if (why) throw new BoardError(`${why}; its log ${logFile(b)} ends:`.replace(/:$/, ''), tail(logFile(b)));
    if (!b.readyLine ? Date.now() - t0 >= 500 : readFileSync(logFile(b), 'utf8').includes(b.readyLine)) break;
    if (Date.now() - t0 > timeoutMs) {
      await powerOff(b);
      throw new BoardError(`the ${b.emulator} board did not come up within ${timeoutMs / 1000} s; see ${logFile(b)}`, tail(logFile(b)));
    }
  }
  cp.unref();
}

/** Relays stdin/stdout to the board's serial port until stdin ends or the board's process does; returns the exit status. */
export async function connectSerial(b: BoardFile, waitMs = 300_000): Promise<number> {
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  let sock: Socket | null = null;
  let stdinEnded = false;
  process.stdin.on('data', (d: Buffer) => sock?.write(d));
  process.stdin.once('end', () => {
    stdinEnded = true;
    sock?.end();
  });
  const t0 = Date.now();
  let everRan = false;
  while (!stdinEnded) {
    const s = await new Promise<Socket | null>((res) => {
      const c = connect(b.port, b.host);
      c.once('connect', () => res(c));
      c.once('error', () => res(null));
    });
    if (!s) {
      const pid = boardPid(b);
      // A pid file left from an earlier board is no reason to quit: only a board this relay saw run.
      if (pid !== null && alive(pid)) everRan = true;
      else if (everRan) {
        process.stdout.write(`\r\n${BOARD_SAYS}the ${b.emulator} board has stopped; its log ${logFile(b)} ends:\r\n${tail(logFile(b), 5).replace(/\n/g, '\r\n')}\r\n`);
        return 1;
      }
      if (Date.now() - t0 > waitMs) {
        process.stdout.write(`\r\n${BOARD_SAYS}nothing on ${b.host}:${b.port} after ${waitMs / 1000} s; power the board on\r\n`);
        return 1;
      }
      await sleep(100);
      continue;
    }
    everRan = true;
    sock = s;
    const watch = new LoaderWatch();
    let loaderError: string | null = null;
    s.on('data', (d: Buffer) => {
      process.stdout.write(d);
      loaderError ??= watch.push(d.toString('latin1'));
      if (loaderError) s.destroy();
    });
    await new Promise<void>((res) => s.once('close', () => res()));
    sock = null;
    if (loaderError) {
      process.stdout.write(`\r\n${BOARD_SAYS}the boot loader failed before the monitor started (${loaderError}); the ${b.emulator} board's line closes\r\n`);
      return 1;
    }
  }
  return 0;
}

/**
 * Watches a board's line for a boot loader's error before the monitor's
 * first line (`@cg boot`): GRUB's `error: …` (a broken or missing monitor
 * ELF, a bad module). The relay then closes the line, so LAVA's boot fails
 * at once, naming the error, instead of waiting out its timeout. Once the
 * monitor speaks nothing more is watched: guests cannot end the line.
 */
export class LoaderWatch {
  private text = '';
  private done = false;

  /** Feeds output; returns the loader's error line once one is seen, else null. */
  push(chunk: string): string | null {
    if (this.done) return null;
    this.text = (this.text + chunk).slice(-4096);
    const boot = this.text.indexOf('@cg boot ');
    const err = /error: [^\r\n\x1b]*[^\s\x1b](?=\s*\r?\n)/.exec(boot < 0 ? this.text : this.text.slice(0, boot));
    if (err) {
      this.done = true;
      return err[0];
    }
    if (boot >= 0) this.done = true;
    return null;
  }
}
