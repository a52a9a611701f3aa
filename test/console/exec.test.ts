import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runExec, type ExecOptions } from '../../console/exec.js';
import { FakeClock } from '../qemu/fakes.js';
import { FakeMonitor, serveFake } from './fake-monitor.js';

const CLI = resolve('build/js/crossguard.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'cg-console-exec-'));

async function withFake<T>(fn: (spec: string, m: FakeMonitor) => Promise<T>, m = new FakeMonitor()): Promise<T> {
  const srv = await serveFake(m);
  try {
    return await fn(srv.spec, m);
  } finally {
    await srv.close();
  }
}

function exec(o: Partial<ExecOptions> & { connect: string; words: string[] }, clock?: FakeClock) {
  let out = '';
  const p = runExec({ json: false, timeoutMs: 30_000, ...o }, { stdout: (t) => (out += t), ...(clock ? { clock } : {}) });
  return { p, out: () => out };
}

const status = (e: unknown) => (e as { exitCode?: number }).exitCode;

test('ok: --json prints the data, exit 0', () =>
  withFake(async (connect, m) => {
    const r = exec({ connect, words: ['vms'], json: true });
    assert.is(await r.p, 0);
    assert.equal(JSON.parse(r.out()), m.vms);
    assert.equal(m.received, ['@cg-req 1 hello', '@cg-req 2 vms']);
  }));

test('ok: without --json a table; {} prints nothing', () =>
  withFake(async (connect, m) => {
    const r = exec({ connect, words: ['vms'] });
    assert.is(await r.p, 0);
    const lines = r.out().trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+STATE\s+VCPUS\s+MEM_MIB\s+STATUS$/);
    assert.match(lines[1]!, /^web1\s+running\s+2\s+64\s+-$/);
    const stop = exec({ connect, words: ['vm', 'stop', 'web1'] });
    assert.is(await stop.p, 0);
    assert.is(stop.out(), '');
    assert.is(m.vms[0]!.state, 'stopped');
  }));

test('ok:false is a MonitorError (exit 1) carrying the monitor error', () =>
  withFake(async (connect) => {
    await exec({ connect, words: ['vm', 'stop', 'web3'] }).p.then(
      () => assert.unreachable(),
      (e: Error) => {
        assert.is(e.name, 'MonitorError');
        assert.is(status(e), 1);
        assert.is(e.message, "no VM named 'web3' (vms lists them)");
      },
    );
  }));

test('no reply within the timeout: exit 3 (fake clock)', () =>
  withFake(async (connect, m) => {
    const clock = new FakeClock();
    const r = exec({ connect, words: ['hang'], timeoutMs: 30_000 }, clock);
    const caught = r.p.then(() => assert.unreachable(), (e: Error) => e);
    while (!m.received.some((l) => l.endsWith(' hang'))) await new Promise((res) => setTimeout(res, 5));
    await new Promise((res) => setTimeout(res, 20));
    assert.is(clock.pending, 1);
    clock.advance(29_999);
    clock.advance(1);
    const e = (await caught) as Error;
    assert.is(e.name, 'ReplyTimeoutError');
    assert.is(status(e), 3);
    assert.match(e.message, /no reply to "hang" from tcp:127\.0\.0\.1:\d+ within 30 s/);
  }));

test('connection refused: exit 4', async () => {
  const srv = await serveFake(new FakeMonitor());
  await srv.close();
  await exec({ connect: srv.spec, words: ['vms'] }).p.then(
    () => assert.unreachable(),
    (e: Error) => {
      assert.is(e.name, 'ConnectError');
      assert.is(status(e), 4);
    },
  );
});

test('a monitor of another protocol: exit 4, nothing else sent', () => {
  const m = new FakeMonitor();
  m.protocol = 2;
  return withFake(async (connect) => {
    await exec({ connect, words: ['vms'] }).p.then(
      () => assert.unreachable(),
      (e: Error) => {
        assert.is(e.name, 'ProtocolMismatchError');
        assert.is(status(e), 4);
      },
    );
    assert.equal(m.received, ['@cg-req 1 hello']);
  }, m);
});

test('a line the protocol cannot carry: exit 2 before connecting', async () => {
  await exec({ connect: 'tcp:127.0.0.1:1', words: ['x'.repeat(200)] }).p.then(
    () => assert.unreachable(),
    (e: Error) => {
      assert.is(e.name, 'RequestLineError');
      assert.is(status(e), 2);
    },
  );
});

test('--log keeps every byte both ways', () =>
  withFake(async (connect) => {
    const log = join(tmp, 'session.log');
    assert.is(await exec({ connect, words: ['sched'], log }).p, 0);
    const text = readFileSync(log, 'utf8');
    assert.match(text, /@cg-req 2 sched\n/);
    assert.match(text, /@cg-rsp \{"id":2,"ok":true,"data":\{"policy":"fair"/);
    assert.match(text, /\[web1\] tick/);
  }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b) => (stdout += b));
    c.stderr.on('data', (b) => (stderr += b));
    c.on('close', (code) => res({ code, stdout, stderr }));
  });
}

test('the real CLI: statuses 0, 1, 2, 3, 4 and one-line errors', () =>
  withFake(async (connect, m) => {
    const ok = await cli(['console', '--connect', connect, 'exec', 'vms', '--json']);
    assert.is(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout), m.vms);
    const no = await cli(['console', '--connect', connect, 'exec', 'sched', 'policy', 'nope']);
    assert.is(no.code, 1);
    assert.is(no.stderr, "crossguard: no policy named 'nope' (sched lists them)\n");
    const usage = await cli(['console', '--connect', 'tcp:nowhere', 'exec', 'vms']);
    assert.is(usage.code, 2);
    assert.match(usage.stderr, /^crossguard: --connect tcp:nowhere: expected tcp:HOST:PORT/);
    const slow = await cli(['console', '--connect', connect, '--timeout', '0.3', 'exec', 'hang']);
    assert.is(slow.code, 3);
    assert.match(slow.stderr, /^crossguard: no reply to "hang"/);
    const sched = await cli(['console', '--connect', connect, 'exec', 'sched']);
    assert.is(sched.code, 0);
    assert.match(sched.stdout, /^policy: fair\npolicies: fair, pinned, rt, rr\nvms:\n  NAME\s+WEIGHT\s+CAP\n  web1\s+100\s+0\n/);
  }).then(async () => {
    const srv = await serveFake(new FakeMonitor());
    await srv.close();
    const refused = await cli(['console', '--connect', srv.spec, 'exec', 'vms']);
    assert.is(refused.code, 4);
    assert.match(refused.stderr, /^crossguard: cannot connect to tcp:127\.0\.0\.1:\d+: connection refused/);
  }));

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
