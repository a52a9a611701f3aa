import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { runUntil } from '../../qemu/emulator.js';
import { killGroup, realSpawner, type GroupSignaller } from '../../qemu/process.js';
import { FakeClock, FakeMachine, flush } from './fakes.js';

test('runUntil matches a line and stops the machine', async () => {
  const m = new FakeMachine();
  const lines: string[] = [];
  const p = runUntil(m, { until: /@cg ready n=(\d)/, timeoutMs: 1000, clock: new FakeClock(), onLine: (l) => lines.push(l) });
  m.emit('boot\r\n@cg rea');
  m.emit('dy n=3\r\nafter\n');
  const r = await p;
  assert.is(r.status, 'matched');
  assert.is(r.match?.[1], '3');
  assert.equal(lines, ['boot', '@cg ready n=3']);
  assert.is(r.output, 'boot\n@cg ready n=3\n');
  assert.is(m.stops, 1);
});

test('runUntil times out at exactly timeoutMs on the fake clock', async () => {
  const clock = new FakeClock();
  const m = new FakeMachine();
  let done = false;
  const p = runUntil(m, { until: /never/, timeoutMs: 5000, clock }).then((r) => ((done = true), r));
  m.emit('line\npartial');
  clock.advance(4999);
  await flush();
  assert.is(done, false);
  clock.advance(1);
  const r = await p;
  assert.is(r.status, 'timeout');
  assert.is(r.elapsedMs, 5000);
  assert.is(r.output, 'line\npartial');
  assert.is(m.stops, 1);
  assert.is(clock.pending, 0);
});

test('runUntil reports an early exit, flushing the last partial line', async () => {
  const clock = new FakeClock();
  const m = new FakeMachine();
  const p = runUntil(m, { until: /never/, timeoutMs: 5000, clock });
  m.emit('@cg panic msg="x"');
  m.exit({ code: 3, signal: null });
  const r = await p;
  assert.is(r.status, 'exited');
  assert.equal(r.exit, { code: 3, signal: null });
  assert.is(r.output, '@cg panic msg="x"\n');
  assert.is(clock.pending, 0, 'timer cleared');
});

test('runUntil replays output that arrived before it subscribed; keep leaves the machine', async () => {
  const m = new FakeMachine();
  m.emit('early\n');
  const r = await runUntil(m, { until: /early/, clock: new FakeClock(), keep: true });
  assert.is(r.status, 'matched');
  assert.is(m.stops, 0);
});

test('killGroup: TERM, grace on the clock, then KILL to the group', async () => {
  const clock = new FakeClock();
  const sent: [number, NodeJS.Signals | 0][] = [];
  let alive = true;
  let resolveExit!: () => void;
  const exited = new Promise<void>((r) => (resolveExit = r));
  const signal: GroupSignaller = (pgid, sig) => {
    sent.push([pgid, sig]);
    if (sig === 'SIGKILL' && alive) {
      alive = false;
      resolveExit();
      return true;
    }
    return alive;
  };
  const p = killGroup(77, exited, { clock, signal, graceMs: 300 });
  await flush();
  assert.equal(sent, [[77, 'SIGTERM']]);
  clock.advance(299);
  await flush();
  assert.is(sent.length, 1);
  clock.advance(1);
  await p;
  assert.equal(sent.slice(0, 2), [[77, 'SIGTERM'], [77, 'SIGKILL']]);
});

test('killGroup: a group that is already gone just waits for the exit', async () => {
  const sent: string[] = [];
  await killGroup(5, Promise.resolve(), { clock: new FakeClock(), signal: (_p, s) => (sent.push(String(s)), false) });
  assert.equal(sent, ['SIGTERM']);
});

function groupMembers(pgid: number): string[] {
  const out = execFileSync('ps', ['-e', '-o', 'pgid=,pid=,stat=']).toString();
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[0]) === pgid && !f[2]?.startsWith('Z'))
    .map((f) => f[1]!);
}

test('killGroup kills a real child that ignores SIGTERM, and its grandchild', async () => {
  // The shell ignores TERM; `sleep` children inherit the ignore, and a
  // background grandchild loop does too.
  const child = realSpawner(
    'sh',
    ['-c', 'trap "" TERM; (while :; do sleep 0.05; done) & while :; do sleep 0.05; done'],
    { stdio: 'ignore' },
  );
  const pid = child.pid!;
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(groupMembers(pid).length >= 2, 'child and grandchild are in the group');
  const t0 = Date.now();
  await killGroup(pid, child.exited, { graceMs: 150 });
  const took = Date.now() - t0;
  assert.ok(took >= 140, `waited the grace period (${took} ms)`);
  // Only a hang check: the machine may be busy with emulator boots.
  assert.ok(took < 15000, `did not hang (${took} ms)`);
  const st = await child.exited;
  assert.is(st.signal, 'SIGKILL');
  assert.equal(groupMembers(pid), [], 'no live process left in the group');
});

test.run();
