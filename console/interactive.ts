// The console for a person. Two modes:
//
// raw (default): the terminal is put in raw mode and every keystroke goes to
//   the monitor, which does its own echo, line editing and history (and, after
//   `console NAME`, hands the line to a guest until Ctrl-]). What comes back is
//   printed untouched. Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A. On a
//   pipe instead of a terminal, input is forwarded as is and the session ends
//   a second after it does.
//
// --line: a local line editor (node readline) with a history file
//   (~/.crossguard_history) and tab completion of commands, VM names and
//   policy names. Each line goes as a machine-protocol request and its reply
//   is shown as a table or `error: …`; markers and guest lines are printed as
//   they come. `console NAME` switches to raw passthrough until the monitor
//   says `detached from NAME` (Ctrl-]). Ctrl-D or `quit` ends the session.
//
// Returns 0 when the person quits; the far end closing is a
// ConnectionClosedError (exit 4). --log gets every byte both ways.

import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EscapeFilter } from '../toolchain/src/console.js';
import { ESCAPE_HINT } from '../toolchain/src/help.js';
import { complete, namesFrom, type Names } from './complete.js';
import { ConnectionClosedError } from './errors.js';
import { openLog, type SessionLog } from './log.js';
import { render } from './render.js';
import { ConsoleSession } from './session.js';
import { connect, type ConnectOptions, type Transport } from './transport.js';

export interface InteractiveOptions {
  connect: string;
  line: boolean;
  timeoutMs: number;
  log?: string;
  history?: string;
  connectOptions?: ConnectOptions;
}

export interface TerminalIO {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

const defaultIO = (): TerminalIO => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

export const HISTORY_FILE = join(homedir(), '.crossguard_history');
const HISTORY_MAX = 500;

export async function runInteractive(o: InteractiveOptions, io: TerminalIO = defaultIO()): Promise<number> {
  const transport = await connect(o.connect, { ...o.connectOptions, timeoutMs: o.timeoutMs });
  const log = openLog(o.log);
  try {
    return o.line ? await lineMode(transport, o, io, log) : await rawMode(transport, io, log);
  } finally {
    transport.close();
    await transport.settled?.();
    await log?.close();
  }
}

/** Passes the terminal through to the line until Ctrl-A x or the far end closes. */
function rawMode(t: Transport, io: TerminalIO, log: SessionLog | undefined): Promise<number> {
  io.stderr.write(`crossguard: connected to ${t.description}${io.stdin.isTTY ? `; ${ESCAPE_HINT}` : ''}\n`);
  t.onData((b) => {
    log?.write(b);
    io.stdout.write(b);
  });
  return passthrough(t, io, log, () => false);
}

/**
 * Raw keystrokes to the line until Ctrl-A x (resolves 0), `until()` becomes
 * true after some output (resolves -1: back to the caller) or the far end
 * closes (rejects with ConnectionClosedError).
 */
function passthrough(t: Transport, io: TerminalIO, log: SessionLog | undefined, until: () => boolean): Promise<number> {
  const stdin = io.stdin;
  const filter = new EscapeFilter();
  const tty = stdin.isTTY === true;
  return new Promise<number>((resolve, reject) => {
    let eofTimer: ReturnType<typeof setTimeout> | undefined;
    const done = (f: () => void) => {
      stdin.off('data', onKeys);
      stdin.off('end', onEnd);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      clearInterval(poll);
      clearTimeout(eofTimer);
      f();
    };
    const onKeys = (b: Buffer) => {
      const { forward, quit } = tty ? filter.push(b) : { forward: b, quit: false };
      if (forward.length) {
        log?.write(forward);
        t.write(forward);
      }
      if (quit) done(() => resolve(0));
    };
    const onEnd = () => (eofTimer = setTimeout(() => done(() => resolve(0)), 1000));
    const poll = setInterval(() => {
      if (until()) done(() => resolve(-1));
    }, 50);
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onKeys);
    stdin.on('end', onEnd);
    stdin.resume();
    void t.closed.then((c) => {
      if (c.by === 'remote')
        done(() => reject(new ConnectionClosedError(`the connection to ${t.description} closed${c.error ? `: ${c.error.message}` : ''}`)));
    });
  });
}

function loadHistory(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_MAX);
  } catch {
    return [];
  }
}

function saveHistory(path: string, newestFirst: string[]): void {
  if (newestFirst.length === 0) return;
  try {
    writeFileSync(path, [...newestFirst.slice(0, HISTORY_MAX)].reverse().join('\n') + '\n', { mode: 0o600 });
  } catch {
    // History is a convenience; never fail the session over it.
  }
}

async function lineMode(t: Transport, o: InteractiveOptions, io: TerminalIO, log: SessionLog | undefined): Promise<number> {
  const session = new ConsoleSession(t, log ? { log: (b) => log.write(b) } : {});
  const hello = await session.hello(o.timeoutMs);
  let names: Names = { vms: [], policies: [] };
  try {
    names = namesFrom(await session.request('vms', o.timeoutMs), await session.request('sched', o.timeoutMs));
  } catch {
    // Completion of names is optional.
  }
  io.stderr.write(
    `crossguard: connected to ${t.description}, monitor ${hello.version || '(unknown version)'}; Tab completes, Ctrl-D quits, console NAME attaches (Ctrl-] detaches)\n`,
  );
  const historyPath = o.history ?? HISTORY_FILE;
  let history = loadHistory(historyPath);
  let attached: string | undefined;
  let detached = false;
  let print: (line: string) => void = (l) => io.stdout.write(l + '\n');
  session.onLine((line) => {
    if (attached !== undefined) {
      if (line.replace(/^(cg> )+/, '').startsWith(`detached from ${attached}`)) detached = true;
      return;
    }
    if (line.trim() === '' || /^(cg> )+$/.test(line.trim() + ' ')) return;
    if (line.startsWith('@cg-rsp ')) return; // a reply to nobody (a request given up on)
    print(line);
  });
  // Raw bytes while attached go straight to the terminal.
  t.onData((b) => {
    if (attached !== undefined) io.stdout.write(b);
  });

  for (;;) {
    const next = await new Promise<{ kind: 'quit' } | { kind: 'attach'; name: string }>((resolve, reject) => {
      const rl = createInterface({
        input: io.stdin,
        output: io.stdout,
        terminal: io.stdin.isTTY === true,
        prompt: 'cg> ',
        history,
        historySize: HISTORY_MAX,
        removeHistoryDuplicates: true,
        completer: (line: string) => complete(line, names),
      });
      print = (l) => {
        if (io.stdin.isTTY) {
          io.stdout.write('\r\x1b[K' + l + '\n');
          rl.prompt(true);
        } else io.stdout.write(l + '\n');
      };
      let over = false;
      const finish = (r: { kind: 'quit' } | { kind: 'attach'; name: string }) => {
        if (over) return;
        over = true;
        history = (rl as unknown as { history?: string[] }).history ?? history;
        rl.removeAllListeners('close');
        rl.close();
        print = (l) => io.stdout.write(l + '\n');
        resolve(r);
      };
      void t.closed.then((c) => {
        if (c.by === 'remote' && !over) {
          over = true;
          rl.removeAllListeners('close');
          rl.close();
          reject(new ConnectionClosedError(`the connection to ${t.description} closed`));
        }
      });
      // Lines are handled one at a time, in order (a paste or a pipe brings many at once).
      const queue: string[] = [];
      let pumping = false;
      let eof = false;
      const one = async (line: string): Promise<void> => {
        try {
          const data = await session.request(line, o.timeoutMs);
          for (const l of render(data)) io.stdout.write(l + '\n');
          if (/^vm\s/.test(line) || line === 'vms') {
            try {
              names = namesFrom(await session.request('vms', o.timeoutMs), { policies: names.policies });
            } catch {
              // keep the old names
            }
          }
        } catch (e) {
          const name = (e as Error).name;
          if (name === 'MonitorError' || name === 'ReplyTimeoutError' || name === 'RequestLineError')
            io.stdout.write(`error: ${(e as Error).message}\n`);
          else throw e;
        }
      };
      const pump = async () => {
        if (pumping) return;
        pumping = true;
        try {
          while (queue.length > 0 && !over) {
            const line = queue.shift()!;
            if (line === '') continue;
            if (line === 'quit' || line === 'exit') return finish({ kind: 'quit' });
            const attach = /^console\s+(\S+)$/.exec(line);
            if (attach) return finish({ kind: 'attach', name: attach[1]! });
            await one(line);
          }
        } catch (e) {
          if (!over) {
            over = true;
            rl.removeAllListeners('close');
            rl.close();
            reject(e);
          }
          return;
        } finally {
          pumping = false;
        }
        if (eof) finish({ kind: 'quit' });
        else if (!over) rl.prompt();
      };
      rl.on('close', () => {
        eof = true;
        if (!pumping) finish({ kind: 'quit' });
      });
      rl.on('line', (text: string) => {
        queue.push(text.trim());
        void pump();
      });
      rl.prompt();
    });
    if (next.kind === 'quit') break;
    attached = next.name;
    detached = false;
    session.send(`console ${next.name}\n`);
    const r = await passthrough(t, io, log, () => detached);
    attached = undefined;
    if (r === 0) break;
  }
  saveHistory(historyPath, history);
  return 0;
}
