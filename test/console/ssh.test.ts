// The ssh:// transport against a real OpenSSH server on 127.0.0.1: its own
// host key, user key, config and a ForceCommand that joins every session
// to the fake monitor (as a console server or BMC joins it to a serial
// line). Skipped only when /usr/sbin/sshd is not installed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { FakeMonitor, serveFake } from './fake-monitor.js';

const SSHD = '/usr/sbin/sshd';
const CLI = resolve('build/js/crossguard.mjs');

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
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

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

if (!existsSync(SSHD)) {
  test.skip(`ssh:// transport (skipped: ${SSHD} is missing; apt-get install openssh-server)`, () => {});
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'cg-console-ssh-'));
  const monitor = new FakeMonitor();
  let sshd: ChildProcess | undefined;
  let sshdLog = '';
  let closeFake: (() => Promise<void>) | undefined;
  let port = 0;
  const user = userInfo().username;

  test.before(async () => {
    const fake = await serveFake(monitor);
    closeFake = fake.close;
    for (const k of ['host_key', 'user_key', 'other_key'])
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `cg-test-${k}`, '-f', join(tmp, k)]);
    writeFileSync(join(tmp, 'authorized_keys'), readFileSync(join(tmp, 'user_key.pub')));
    writeFileSync(
      join(tmp, 'bridge.mjs'),
      `import { connect } from 'node:net';
const s = connect(${fake.port}, '127.0.0.1');
process.stdin.pipe(s);
s.pipe(process.stdout);
s.on('close', () => process.exit(0));
s.on('error', () => process.exit(1));
`,
    );
    port = await freePort();
    writeFileSync(
      join(tmp, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(tmp, 'host_key')}`,
        `PidFile ${join(tmp, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`,
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PrintMotd no',
        `ForceCommand ${process.execPath} ${join(tmp, 'bridge.mjs')}`,
        '',
      ].join('\n'),
    );
    const hostPub = readFileSync(join(tmp, 'host_key.pub'), 'utf8').trim().split(/\s+/);
    writeFileSync(join(tmp, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
    writeFileSync(join(tmp, 'known_hosts_other'), `[127.0.0.1]:${port} ${readFileSync(join(tmp, 'other_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}\n`);
    writeFileSync(join(tmp, 'known_hosts_empty'), '');
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(tmp, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd.stderr!.on('data', (b) => (sshdLog += b));
    await waitForPort(port, 10_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${sshdLog}`);
    });
  });

  test.after(async () => {
    if (sshd && sshd.exitCode === null) {
      const gone = new Promise((r) => sshd!.once('exit', r));
      sshd.kill('SIGTERM');
      await gone;
    }
    await closeFake?.();
    rmSync(tmp, { recursive: true, force: true });
  });

  const base = () => ['console', '--connect', `ssh://${user}@127.0.0.1:${port}`, '--identity', join(tmp, 'user_key')];

  test('ssh: exec vms --json through a real sshd and its ForceCommand', async () => {
    const r = await cli([...base(), '--known-hosts', join(tmp, 'known_hosts'), 'exec', 'vms', '--json']);
    assert.is(r.code, 0, `${r.stderr}\n--- sshd ---\n${sshdLog}`);
    assert.equal(JSON.parse(r.stdout), monitor.vms);
    assert.ok(monitor.received.includes('@cg-req 2 vms'), monitor.received.join('\n'));
  });

  test('ssh: an unknown host key is refused with its fingerprint and the fix (exit 4)', async () => {
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(tmp, 'host_key.pub')]).toString().split(/\s+/)[1]!;
    const r = await cli([...base(), '--known-hosts', join(tmp, 'known_hosts_empty'), 'exec', 'vms']);
    assert.is(r.code, 4, r.stderr);
    assert.ok(r.stderr.includes(fp), `${r.stderr} should name ${fp}`);
    assert.match(r.stderr, /is not in .*known_hosts_empty/);
    assert.match(r.stderr, /ssh-keyscan -p \d+ 127\.0\.0\.1/);
  });

  test('ssh: a changed host key is refused (exit 4)', async () => {
    const r = await cli([...base(), '--known-hosts', join(tmp, 'known_hosts_other'), 'exec', 'vms']);
    assert.is(r.code, 4, r.stderr);
    assert.match(r.stderr, /does not match .*known_hosts_other line 1/);
  });

  test('ssh: --insecure-host-key connects and prints the fingerprint', async () => {
    const r = await cli([...base(), '--insecure-host-key', 'exec', 'hello', '--json']);
    assert.is(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), { protocol: 1, version: monitor.version });
    assert.match(r.stderr, /not checking the host key of \[127\.0\.0\.1\]:\d+ \(--insecure-host-key\): ssh-ed25519 SHA256:/);
  });

  test('ssh: a key the server does not know is refused (exit 4)', async () => {
    const r = await cli([
      'console', '--connect', `ssh://${user}@127.0.0.1:${port}`, '--identity', join(tmp, 'other_key'),
      '--known-hosts', join(tmp, 'known_hosts'), 'exec', 'vms',
    ]);
    assert.is(r.code, 4, r.stderr);
    assert.match(r.stderr, /cannot log in to ssh:\/\/.*refused every method/);
  });
}

test.run();
