// The ssh:// transport against a real OpenSSH server on 127.0.0.1: its own
// host key, user key, config and a ForceCommand that joins every session
// to the fake monitor (as a console server or BMC joins it to a serial
// line). Skipped only when /usr/sbin/sshd is not installed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { FakeMonitor, serveFake } from './fake-monitor.js';
import { cli, freePort, publicKey, SSHD, startSshd, type TestSshd } from './sshd.js';

if (!existsSync(SSHD)) {
  test.skip(`ssh:// transport (skipped: ${SSHD} is missing; apt-get install openssh-server)`, () => {});
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'cg-console-ssh-'));
  const monitor = new FakeMonitor();
  let sshd: TestSshd | undefined;
  let closeFake: (() => Promise<void>) | undefined;
  let port = 0;
  const user = userInfo().username;
  const sshdLog = () => sshd?.log() ?? '';

  test.before(async () => {
    const fake = await serveFake(monitor);
    closeFake = fake.close;
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
    sshd = await startSshd(tmp, [port], [`ForceCommand ${process.execPath} ${join(tmp, 'bridge.mjs')}`], 'test');
    writeFileSync(join(tmp, 'known_hosts'), `[127.0.0.1]:${port} ${publicKey(tmp, 'host_key')}\n`);
    writeFileSync(join(tmp, 'known_hosts_other'), `[127.0.0.1]:${port} ${publicKey(tmp, 'other_key')}\n`);
    writeFileSync(join(tmp, 'known_hosts_empty'), '');
  });

  test.after(async () => {
    await sshd?.stop();
    await closeFake?.();
    rmSync(tmp, { recursive: true, force: true });
  });

  const base = () => ['console', '--connect', `ssh://${user}@127.0.0.1:${port}`, '--identity', join(tmp, 'user_key')];

  test('ssh: exec vms --json through a real sshd and its ForceCommand', async () => {
    const r = await cli([...base(), '--known-hosts', join(tmp, 'known_hosts'), 'exec', 'vms', '--json']);
    assert.is(r.code, 0, `${r.stderr}\n--- sshd ---\n${sshdLog()}`);
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
