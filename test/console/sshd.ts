// A real OpenSSH sshd on 127.0.0.1 for tests: its own host key, user keys,
// authorized_keys and config in a temp directory, started and stopped by
// the test. Used by the console's ssh:// test and deploy's SFTP test.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { join, resolve } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
const CLI = resolve('build/js/crossguard.mjs');

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function waitForPort(port: number, ms: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = netConnect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), res(true)));
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() - t0 > ms) throw new Error(`sshd did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the built CLI without an SSH agent or password in its environment. */
export function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.SSH_AUTH_SOCK;
  delete env.CROSSGUARD_SSH_PASSWORD;
  return new Promise((res) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b) => (stdout += b));
    c.stderr.on('data', (b) => (stderr += b));
    c.on('close', (code) => res({ code, stdout, stderr }));
  });
}

/** "TYPE BASE64" of dir/NAME.pub. */
export function publicKey(dir: string, name: string): string {
  return readFileSync(join(dir, `${name}.pub`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

export interface TestSshd {
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Makes keys host_key, user_key and other_key in `dir` (user_key
 * authorized), writes sshd_config with the ports, the base settings and
 * `extra` lines, and starts sshd; resolves once the first port listens.
 */
export async function startSshd(dir: string, ports: number[], extra: string[], tag: string): Promise<TestSshd> {
  for (const k of ['host_key', 'user_key', 'other_key'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `cg-${tag}-${k}`, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')));
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      ...ports.map((p) => `Port ${p}`),
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PrintMotd no',
      // bash reads ~/.bashrc for every command sshd runs; a developer's (pyenv and the like)
      // can take seconds. The test's sessions get the temp directory as their home.
      `SetEnv HOME=${dir}`,
      ...extra,
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory
  const proc = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (b) => (log += b));
  await waitForPort(ports[0]!, 10_000).catch((e: Error) => {
    proc.kill('SIGTERM');
    throw new Error(`${e.message}\n${log}`);
  });
  return {
    proc,
    log: () => log,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}
