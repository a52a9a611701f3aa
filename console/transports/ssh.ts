// ssh://USER@HOST[:PORT][?cmd=COMMAND]: a console server or a BMC that joins
// an SSH session to the lab machine's serial line (conserver, a terminal
// server, ipmitool sol behind a ForceCommand). The session is a shell
// channel without a pty (so no remote echo or line discipline gets between
// us and the monitor), or an exec channel when ?cmd= names a command; its
// stream carries the line both ways.
//
// Authentication and the host key check: ssh-client.ts (shared with
// `crossguard deploy`).

import { ConnectError } from '../errors.js';
import { formatSpec, type ConnectSpec } from '../spec.js';
import { StreamTransport, type ConnectOptions, type Transport } from '../transport.js';
import { openSshClient } from './ssh-client.js';

type SshSpec = Extract<ConnectSpec, { kind: 'ssh' }>;

export async function connectSsh(s: SshSpec, opts: ConnectOptions = {}): Promise<Transport> {
  const notice = opts.notice ?? ((l: string) => process.stderr.write(`crossguard: ${l}\n`));
  const where = formatSpec(s);
  const client = await openSshClient(s, { ...opts, notice }, { where, server: 'the console server', error: (m) => new ConnectError(m) });
  return new Promise<Transport>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(new ConnectError(why));
    };
    client.once('error', (e: Error) => fail(`${where}: ${e.message}`));
    client.once('close', () => fail(`${where}: the server closed the connection`));
    const onChannel = (err: Error | undefined, stream: import('ssh2').ClientChannel) => {
      if (err) return fail(`${where}: the server would not open ${s.command ? `the command "${s.command}"` : 'a shell'}: ${err.message}`);
      settled = true;
      client.removeAllListeners('close');
      client.removeAllListeners('error');
      client.on('error', () => {});
      // What the remote side says on stderr (e.g. "console busy") is for the person.
      stream.stderr.on('data', (b: Buffer) => notice(`${where}: ${b.toString().trim()}`));
      resolve(new StreamTransport(stream, where, () => client.end()));
    };
    if (s.command !== undefined) client.exec(s.command, onChannel);
    else client.shell(false, onChannel);
  });
}
