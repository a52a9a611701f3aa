// The run command's two ways to reach a machine's serial line from outside:
// the local terminal (raw mode, Ctrl-A x quits, like QEMU) or a TCP server
// serving one client at a time.

import { createServer, type Server, type Socket } from 'node:net';
import { UsageError } from '../../qemu/errors.js';
import type { Serial } from '../../qemu/emulator.js';

/**
 * Keystroke filter for the terminal: Ctrl-A x asks to quit, Ctrl-A Ctrl-A
 * sends one Ctrl-A, Ctrl-A followed by anything else sends both (pure).
 */
export class EscapeFilter {
  private armed = false;

  /** Returns the bytes to forward and whether the user asked to quit. */
  push(chunk: Buffer): { forward: Buffer; quit: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.armed) {
        this.armed = false;
        if (b === 0x78 || b === 0x58) return { forward: Buffer.from(out), quit: true };
        if (b === 0x01) out.push(0x01);
        else out.push(0x01, b);
      } else if (b === 0x01) this.armed = true;
      else out.push(b);
    }
    return { forward: Buffer.from(out), quit: false };
  }
}

export interface TcpSpec {
  host: string;
  port: number;
}

/** Parses `tcp:HOST:PORT` (HOST may be `[v6]`; PORT 0 picks a free one). */
export function parseConsoleSpec(spec: string): TcpSpec {
  const m = /^tcp:(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535)
    throw new UsageError(`--console ${spec}: expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:4444`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Attaches the local terminal; returns a detach function that restores it. */
export function attachTerminal(serial: Serial, onQuit: () => void): () => void {
  const stdin = process.stdin;
  serial.onData((b) => process.stdout.write(b));
  if (!stdin.isTTY) return () => {};
  const filter = new EscapeFilter();
  stdin.setRawMode(true);
  stdin.resume();
  const onData = (b: Buffer) => {
    const { forward, quit } = filter.push(b);
    if (forward.length) serial.write(forward);
    if (quit) onQuit();
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

/** Keeps at most `max` bytes, dropping the oldest (pure helper for the console backlog). */
export function appendCapped(chunks: Buffer[], b: Buffer, max: number): Buffer[] {
  chunks.push(b);
  let total = chunks.reduce((n, c) => n + c.length, 0);
  while (total > max && chunks.length > 1) total -= chunks.shift()!.length;
  return chunks;
}

/**
 * Serves the serial line on a TCP server: one client at a time, both
 * directions; output while nobody is connected is kept (last 64 KiB) and
 * replayed to the next client. Resolves once listening, with the address.
 */
export async function serveConsole(
  serial: Serial,
  spec: TcpSpec,
): Promise<{ address: string; close: () => void }> {
  let client: Socket | null = null;
  let backlog: Buffer[] = [];
  serial.onData((b) => {
    if (client) client.write(b);
    else backlog = appendCapped(backlog, b, 64 * 1024);
  });
  const server: Server = createServer((sock) => {
    if (client) {
      sock.end('crossguard: console busy (one client at a time)\r\n');
      return;
    }
    client = sock;
    for (const b of backlog) sock.write(b);
    backlog = [];
    sock.on('data', (b: Buffer) => serial.write(b));
    sock.on('error', () => {});
    sock.once('close', () => {
      if (client === sock) client = null;
    });
  });
  await new Promise<void>((res, rej) => {
    server.once('error', (e) =>
      rej(new UsageError(`--console tcp:${spec.host}:${spec.port}: ${(e as Error).message}`)),
    );
    server.listen(spec.port, spec.host, () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : spec.port;
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  return {
    address: `tcp:${host}:${port}`,
    close: () => {
      client?.destroy();
      server.close();
    },
  };
}
