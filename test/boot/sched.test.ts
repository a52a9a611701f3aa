// The scheduler policies in the real monitor under Bochs (one CPU,
// `clock: sync=none`, so shares are measured in exact instruction counts):
// weights, caps, a victim next to a hog, the rt admission check, and a
// policy that traps: it falls back to the round-robin and every VM still
// finishes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT, type BootOutcome } from './pool.js';
import { spinOf } from './spin.js';

const GUESTS = join(ROOT, 'build', 'guests');
const WINDOW = 'window=100';

function spinners(policy: string, vms: { name: string; weight?: number; cap_percent?: number; reservation?: object }[]) {
  return boot({
    emulator: 'bochs',
    image: {
      kind: 'iso-variant',
      vmsBase: GUESTS,
      vms: {
        policy,
        vms: vms.map((v) => ({ memory_mib: 16, vcpus: 1, kernel: 'spinner.elf', cmdline: WINDOW, ...v })),
      },
    },
    cpus: 1,
    memMiB: 256,
    until: /^@cg vms-done/,
    timeoutMs: 180_000,
  });
}

function share(o: BootOutcome, name: string): number {
  const s = spinOf(o, name);
  assert.ok(s, explain(o, `no spinner report from ${name}`));
  return s!.share;
}

const weighted = spinners('fair', [{ name: 'heavy', weight: 200 }, { name: 'light', weight: 100 }]);
const capped = spinners('fair', [{ name: 'capped', cap_percent: 25 }, { name: 'hog' }]);
const alone = spinners('fair', [{ name: 'victim' }]);
const shared = spinners('fair', [{ name: 'victim' }, { name: 'hog' }]);
const trapping = spinners('test_trap', [{ name: 'one' }, { name: 'two' }]);
// Weight 13 makes test_trap's trap an out-of-bounds load ~6 GiB past its
// memory: the generated code checks no bounds (guard mode), so only the
// monitor's unmapped guard window turns it into a trap.
const outOfBounds = spinners('test_trap', [{ name: 'oob', weight: 13 }]);
const admission = boot({
  emulator: 'bochs',
  image: {
    kind: 'iso-variant',
    vmsBase: GUESTS,
    vms: {
      policy: 'rt',
      vms: [
        { name: 'first', memory_mib: 16, vcpus: 1, kernel: 'spinner.elf', cmdline: 'window=20', reservation: { budget_us: 7000, period_us: 10000 } },
        { name: 'second', memory_mib: 16, vcpus: 1, kernel: 'spinner.elf', cmdline: 'window=20', reservation: { budget_us: 7000, period_us: 10000 } },
      ],
    },
  },
  cpus: 1,
  memMiB: 256,
  until: /^@cg vms-done/,
  timeoutMs: 180_000,
});
for (const p of [weighted, capped, alone, shared, trapping, outOfBounds, admission]) p.catch(() => {});

test('fair: weights 2:1 on one CPU give run time 2:1 within 5 %', async () => {
  const o = await weighted;
  assert.is(markersOf(o, 'sched')[0]?.fields.policy, 'fair', explain(o, 'the fair policy runs'));
  const ratio = share(o, 'heavy') / share(o, 'light');
  assert.ok(Math.abs(ratio - 2) / 2 <= 0.05, explain(o, `ratio ${ratio.toFixed(3)}, want 2 +- 5 %`));
});

test('fair: a VM capped at 25 % stays under its cap next to a hog', async () => {
  const o = await capped;
  const c = share(o, 'capped');
  assert.ok(c <= 0.25 + 0.01, explain(o, `capped VM got ${(c * 100).toFixed(1)} % of the CPU`));
  assert.ok(share(o, 'hog') > 0.6, explain(o, 'the hog takes what the cap leaves'));
});

test('fair: a victim next to a hog keeps >= 95 % of its entitled share', async () => {
  const a = await alone;
  const s = await shared;
  const entitled = share(a, 'victim') / 2;
  const got = share(s, 'victim');
  assert.ok(got >= 0.95 * entitled, explain(s, `victim got ${(got / entitled * 100).toFixed(1)} % of its entitled share`));
});

// One policy-fault marker naming test_trap, the trap and the round-robin,
// and every VM of the boot finished and reported.
function assertFellBack(o: BootOutcome, reason: string, names: string[]): void {
  const f = markersOf(o, 'policy-fault');
  assert.is(f.length, 1, explain(o, 'one policy-fault marker'));
  assert.is(f[0]!.fields.policy, 'test_trap');
  assert.is(f[0]!.fields.reason, reason);
  assert.is(f[0]!.fields.fallback, 'rr');
  for (const name of names) {
    assert.is(markersOf(o, 'vm-exit').find((m) => m.fields.name === name)?.fields.status, '1', explain(o, `${name} finished`));
    assert.ok(spinOf(o, name), explain(o, `${name} reported`));
  }
}

test('a policy that traps falls back to the round-robin and every VM finishes', async () => {
  assertFellBack(await trapping, 'unreachable', ['one', 'two']);
});

test('an out-of-bounds access in a policy traps through the guard window and falls back', async () => {
  assertFellBack(await outOfBounds, 'oob', ['oob']);
});

test('rt: an over-committed reservation is refused with a clear error; the admitted VM runs', async () => {
  const o = await admission;
  const stop = markersOf(o, 'vm-stop').find((m) => m.fields.name === 'second');
  assert.is(stop?.fields.reason, 'admission-refused', explain(o, 'second VM refused'));
  assert.ok(o.lines.some((l) => /^vm second: .*reservation does not fit/.test(l)), explain(o, 'a line that says why and the fix'));
  assert.is(markersOf(o, 'vm-exit').find((m) => m.fields.name === 'first')?.fields.status, '1', explain(o, 'first VM ran'));
});

test.run();
