// ssh://USER@HOST[:PORT][?cmd=COMMAND]: a console server or a BMC that joins
// an SSH session to the lab machine's serial line (conserver, a terminal
// server, ipmitool sol behind a ForceCommand). The session is a shell
// channel without a pty (so no remote echo or line discipline gets between
// us and the monitor), or an exec channel when ?cmd= names a command; its
// stream carries the line both ways.
//
// Authentication, in the order offered: the private key from --identity
// (CROSSGUARD_SSH_PASSPHRASE if it is encrypted), the SSH agent at
// SSH_AUTH_SOCK, the password in CROSSGUARD_SSH_PASSWORD. Never a password on
// the command line.
//
// Host key: checked against --known-hosts FILE or ~/.ssh/known_hosts; an
// unknown or changed key refuses the connection with its fingerprint and the
// fix. --insecure-host-key skips the check (the fingerprint is still printed).

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConnectError } from '../errors.js';
import { formatSpec, type ConnectSpec } from '../spec.js';
import { StreamTransport, type ConnectOptions, type Transport } from '../transport.js';
import { checkHostKey, fingerprint, hostToken, keyType } from './known-hosts.js';

type SshSpec = Extract<ConnectSpec, { kind: 'ssh' }>;

/** The ssh2 connect options for `s` and why each auth method is (not) there (pure but for reading files). */
function authOptions(s: SshSpec, opts: ConnectOptions): { privateKey?: Buffer; passphrase?: string; agent?: string; password?: string } {
  const env = opts.env ?? process.env;
  const out: { privateKey?: Buffer; passphrase?: string; agent?: string; password?: string } = {};
  if (opts.identity !== undefined) {
    try {
      out.privateKey = readFileSync(opts.identity);
    } catch (e) {
      throw new ConnectError(`--identity ${opts.identity}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    if (env.CROSSGUARD_SSH_PASSPHRASE) out.passphrase = env.CROSSGUARD_SSH_PASSPHRASE;
  }
  if (env.SSH_AUTH_SOCK) out.agent = env.SSH_AUTH_SOCK;
  if (env.CROSSGUARD_SSH_PASSWORD) out.password = env.CROSSGUARD_SSH_PASSWORD;
  if (!out.privateKey && !out.agent && !out.password)
    throw new ConnectError(
      `no way to log in to ${formatSpec(s)}: pass --identity KEYFILE, run an SSH agent (SSH_AUTH_SOCK), or set CROSSGUARD_SSH_PASSWORD`,
    );
  return out;
}

export async function connectSsh(s: SshSpec, opts: ConnectOptions = {}): Promise<Transport> {
  const notice = opts.notice ?? ((l: string) => process.stderr.write(`crossguard: ${l}\n`));
  const auth = authOptions(s, opts);
  const knownHostsFile = opts.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
  let knownHosts = '';
  if (!opts.insecureHostKey) {
    try {
      knownHosts = readFileSync(knownHostsFile, 'utf8');
    } catch (e) {
      if (opts.knownHosts !== undefined || (e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new ConnectError(`--known-hosts ${knownHostsFile}: ${(e as Error).message}`);
    }
  }
  const where = formatSpec(s);
  const token = hostToken(s.host, s.port);
  let refusal: string | undefined;

  const hostVerifier = (key: Buffer): boolean => {
    const fp = fingerprint(key);
    const type = keyType(key) || 'unknown-type';
    if (opts.insecureHostKey) {
      notice(`not checking the host key of ${token} (--insecure-host-key): ${type} ${fp}`);
      return true;
    }
    const v = checkHostKey(knownHosts, s.host, s.port, key);
    if (v.status === 'match') return true;
    const scan = `ssh-keyscan ${s.port === 22 ? '' : `-p ${s.port} `}${s.host} >> ${knownHostsFile}`;
    if (v.status === 'unknown')
      refusal = `the host key of ${token} is not in ${knownHostsFile}: it offers ${type} ${fp}. Check that fingerprint with whoever runs the console server, then add it (${scan}) or pass --known-hosts FILE`;
    else if (v.status === 'revoked')
      refusal = `the host key of ${token} (${type} ${fp}) is marked @revoked in ${knownHostsFile} line ${v.line}; refusing to connect`;
    else
      refusal = `the host key of ${token} (${type} ${fp}) does not match ${knownHostsFile} line ${v.line}: it changed, or someone is in between. If the console server was reinstalled, remove that line and add the new key after checking it`;
    return false;
  };

  const { default: ssh2 } = await import('ssh2');
  const client = new ssh2.Client();
  return new Promise<Transport>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(new ConnectError(why));
    };
    client.once('error', (e: Error & { level?: string }) => {
      if (refusal) return fail(refusal);
      if (e.level === 'client-authentication')
        return fail(`cannot log in to ${where} as ${s.user}: the server refused every method offered (key, agent, password)`);
      if (e.level === 'client-timeout') return fail(`cannot connect to ${where}: timed out during the SSH handshake`);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED') return fail(`cannot connect to ${where}: connection refused (is sshd running on port ${s.port}?)`);
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(`cannot connect to ${where}: unknown host ${s.host}`);
      fail(`cannot connect to ${where}: ${e.message}`);
    });
    client.once('close', () => fail(refusal ?? `cannot connect to ${where}: the server closed the connection`));
    client.once('ready', () => {
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
    client.connect({
      host: s.host,
      port: s.port,
      username: s.user,
      ...auth,
      hostVerifier,
      readyTimeout: opts.timeoutMs && opts.timeoutMs > 0 ? opts.timeoutMs : 20_000,
      keepaliveInterval: 15_000,
    });
  });
}
