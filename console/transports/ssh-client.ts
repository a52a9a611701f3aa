// An authenticated SSH connection with the host key checked: what the
// console's ssh:// transport and `crossguard deploy` (SFTP to a PXE server)
// both stand on. The caller opens its channels (shell, exec, sftp) on the
// client it gets back.
//
// Authentication, in the order offered: the private key from --identity
// (CROSSGUARD_SSH_PASSPHRASE if it is encrypted), the SSH agent at
// SSH_AUTH_SOCK, the password in CROSSGUARD_SSH_PASSWORD. Never a password on
// the command line.
//
// Host key: checked against --known-hosts FILE or ~/.ssh/known_hosts
// (known-hosts.ts); an unknown, changed or revoked key refuses the
// connection with its fingerprint and the fix. `insecureHostKey` skips the
// check (the fingerprint is still reported).

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import { checkHostKey, fingerprint, hostToken, keyType } from './known-hosts.js';

export interface SshEndpoint {
  user: string;
  host: string;
  port: number;
}

export interface SshClientOptions {
  /** Private key file. */
  identity?: string;
  /** known_hosts file (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Accept any host key (its fingerprint goes to `notice`). */
  insecureHostKey?: boolean;
  /** For SSH_AUTH_SOCK, CROSSGUARD_SSH_PASSWORD and CROSSGUARD_SSH_PASSPHRASE (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** One-line notices for the person. */
  notice?: (line: string) => void;
  /** Handshake timeout in ms (default 20 s). */
  timeoutMs?: number;
}

export interface SshClientContext {
  /** How the endpoint is shown in messages (ssh://…, sftp://…). */
  where: string;
  /** Who runs the server, for the host key advice ("the console server", "the PXE server"). */
  server: string;
  /** Makes the caller's named error from one line. */
  error: (message: string) => Error;
}

type AuthOptions = { privateKey?: Buffer; passphrase?: string; agent?: string; password?: string };

function authOptions(opts: SshClientOptions, ctx: SshClientContext): AuthOptions {
  const env = opts.env ?? process.env;
  const out: AuthOptions = {};
  if (opts.identity !== undefined) {
    try {
      out.privateKey = readFileSync(opts.identity);
    } catch (e) {
      throw ctx.error(`--identity ${opts.identity}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    if (env.CROSSGUARD_SSH_PASSPHRASE) out.passphrase = env.CROSSGUARD_SSH_PASSPHRASE;
  }
  if (env.SSH_AUTH_SOCK) out.agent = env.SSH_AUTH_SOCK;
  if (env.CROSSGUARD_SSH_PASSWORD) out.password = env.CROSSGUARD_SSH_PASSWORD;
  if (!out.privateKey && !out.agent && !out.password)
    throw ctx.error(`no way to log in to ${ctx.where}: pass --identity KEYFILE, run an SSH agent (SSH_AUTH_SOCK), or set CROSSGUARD_SSH_PASSWORD`);
  return out;
}

function readKnownHosts(opts: SshClientOptions, ctx: SshClientContext): { file: string; text: string } {
  const file = opts.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
  if (opts.insecureHostKey) return { file, text: '' };
  try {
    return { file, text: readFileSync(file, 'utf8') };
  } catch (e) {
    if (opts.knownHosts !== undefined || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw ctx.error(`--known-hosts ${file}: ${(e as Error).message}`);
    return { file, text: '' };
  }
}

/** Why the host key `key` of `e` is refused against known_hosts `text` (in `file`), or null when it is known. */
export function hostKeyRefusal(text: string, file: string, e: SshEndpoint, key: Buffer, server: string): string | null {
  const fp = fingerprint(key);
  const type = keyType(key) || 'unknown-type';
  const token = hostToken(e.host, e.port);
  const v = checkHostKey(text, e.host, e.port, key);
  if (v.status === 'match') return null;
  const scan = `ssh-keyscan ${e.port === 22 ? '' : `-p ${e.port} `}${e.host} >> ${file}`;
  if (v.status === 'unknown')
    return `the host key of ${token} is not in ${file}: it offers ${type} ${fp}. Check that fingerprint with whoever runs ${server}, then add it (${scan}) or pass --known-hosts FILE`;
  if (v.status === 'revoked') return `the host key of ${token} (${type} ${fp}) is marked @revoked in ${file} line ${v.line}; refusing to connect`;
  return `the host key of ${token} (${type} ${fp}) does not match ${file} line ${v.line}: it changed, or someone is in between. If ${server} was reinstalled, remove that line and add the new key after checking it`;
}

/**
 * Connects, checks the host key and logs in; resolves with the ready client.
 * Every failure (refused, unknown host, host key, login, timeout) rejects
 * with ctx.error(one line).
 */
export async function openSshClient(e: SshEndpoint, opts: SshClientOptions, ctx: SshClientContext): Promise<Client> {
  const notice = opts.notice ?? ((l: string) => process.stderr.write(`crossguard: ${l}\n`));
  const auth = authOptions(opts, ctx);
  const known = readKnownHosts(opts, ctx);
  let refusal: string | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    if (opts.insecureHostKey) {
      notice(`not checking the host key of ${hostToken(e.host, e.port)} (--insecure-host-key): ${keyType(key) || 'unknown-type'} ${fingerprint(key)}`);
      return true;
    }
    refusal = hostKeyRefusal(known.text, known.file, e, key, ctx.server) ?? undefined;
    return refusal === undefined;
  };

  const { default: ssh2 } = await import('ssh2');
  const client = new ssh2.Client();
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(ctx.error(why));
    };
    client.once('error', (err: Error & { level?: string }) => {
      if (refusal) return fail(refusal);
      if (err.level === 'client-authentication')
        return fail(`cannot log in to ${ctx.where} as ${e.user}: the server refused every method offered (key, agent, password)`);
      if (err.level === 'client-timeout') return fail(`cannot connect to ${ctx.where}: timed out during the SSH handshake`);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNREFUSED') return fail(`cannot connect to ${ctx.where}: connection refused (is sshd running on port ${e.port}?)`);
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(`cannot connect to ${ctx.where}: unknown host ${e.host}`);
      fail(`cannot connect to ${ctx.where}: ${err.message}`);
    });
    client.once('close', () => fail(refusal ?? `cannot connect to ${ctx.where}: the server closed the connection`));
    client.once('ready', () => {
      settled = true;
      client.removeAllListeners('close');
      client.removeAllListeners('error');
      resolve(client);
    });
    client.connect({
      host: e.host,
      port: e.port,
      username: e.user,
      ...auth,
      hostVerifier,
      readyTimeout: opts.timeoutMs && opts.timeoutMs > 0 ? opts.timeoutMs : 20_000,
      keepaliveInterval: 15_000,
    });
  });
}
