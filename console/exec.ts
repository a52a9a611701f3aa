// `crossguard console --connect SPEC exec COMMAND [ARGS...]`: one request
// for a script. Connects, checks `hello`, sends the command, prints the
// reply's data (JSON with --json, else tables) and returns 0; every failure
// is a named error carrying its exit status (console/errors.ts). Markers and
// guest lines that arrive meanwhile are ignored (kept in --log).

import { realClock, type Clock } from '../qemu/process.js';
import { openLog } from './log.js';
import { encodeRequest } from './protocol.js';
import { render } from './render.js';
import { ConsoleSession } from './session.js';
import { connect as realConnect, type ConnectOptions, type Transport } from './transport.js';

export interface ExecOptions {
  connect: string;
  /** The command and its arguments, as a person would type them. */
  words: string[];
  json: boolean;
  /** For connecting, hello and the reply together; 0 = no limit. */
  timeoutMs: number;
  log?: string;
  connectOptions?: ConnectOptions;
}

export interface ExecDeps {
  clock?: Clock;
  stdout?: (text: string) => void;
  connect?: (spec: string, opts: ConnectOptions) => Promise<Transport>;
}

export async function runExec(o: ExecOptions, deps: ExecDeps = {}): Promise<number> {
  const clock = deps.clock ?? realClock;
  const out = deps.stdout ?? ((t: string) => void process.stdout.write(t));
  const line = o.words.join(' ');
  encodeRequest(1, line); // a bad line is a usage error before any connection is made
  const start = clock.now();
  const left = () => (o.timeoutMs > 0 ? Math.max(1, o.timeoutMs - (clock.now() - start)) : 0);
  const transport = await (deps.connect ?? realConnect)(o.connect, { ...o.connectOptions, timeoutMs: o.timeoutMs });
  const log = openLog(o.log);
  const session = new ConsoleSession(transport, { clock, ...(log ? { log: (b) => log.write(b) } : {}) });
  try {
    await session.hello(left());
    const data = await session.request(line, left());
    if (o.json) out(JSON.stringify(data, null, 2) + '\n');
    else {
      const lines = render(data);
      if (lines.length > 0) out(lines.join('\n') + '\n'); // {} (done) prints nothing
    }
    return 0;
  } finally {
    session.close();
    await transport.settled?.();
    await log?.close();
  }
}
