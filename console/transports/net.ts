// tcp:HOST:PORT and unix:PATH: a stream socket to whatever serves the line
// (crossguard run --console, a terminal server's raw TCP port, socat).

import { connect as netConnect, type Socket } from 'node:net';
import { ConnectError } from '../errors.js';
import { formatSpec, type ConnectSpec } from '../spec.js';
import { StreamTransport, type ConnectOptions, type Transport } from '../transport.js';

type NetSpec = Extract<ConnectSpec, { kind: 'tcp' | 'unix' }>;

/** Why a connect failed, in words, with the fix. */
function explain(s: NetSpec, e: NodeJS.ErrnoException): string {
  const where = formatSpec(s);
  switch (e.code) {
    case 'ECONNREFUSED':
      return s.kind === 'tcp'
        ? `cannot connect to ${where}: connection refused (is crossguard run --console ${where} or the console server running?)`
        : `cannot connect to ${where}: nobody is listening on that socket (start the bridge that serves it)`;
    case 'ENOENT':
      return `cannot connect to ${where}: no such socket (check the path)`;
    case 'EACCES':
      return `cannot connect to ${where}: permission denied (check the socket's owner and mode)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${where}: unknown host ${(s as { host: string }).host}`;
    case 'ETIMEDOUT':
      return `cannot connect to ${where}: timed out (check the host, port and firewall)`;
    default:
      return `cannot connect to ${where}: ${e.message}`;
  }
}

export function connectNet(s: NetSpec, opts: ConnectOptions = {}): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const sock: Socket = s.kind === 'tcp' ? netConnect({ host: s.host, port: s.port }) : netConnect({ path: s.path });
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (opts.timeoutMs && opts.timeoutMs > 0)
      timer = setTimeout(() => {
        sock.destroy();
        reject(new ConnectError(explain(s, Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }))));
      }, opts.timeoutMs);
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new ConnectError(explain(s, e)));
    });
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve(new StreamTransport(sock, formatSpec(s)));
    });
  });
}
