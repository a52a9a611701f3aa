// The rt policy (firmware/policy/rt.ts): admission, EDF reservations,
// best effort for the rest.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  POLICY_EBUSY, POLICY_EINVAL, POLICY_PARAM_RT_BUDGET as BUDGET, POLICY_PARAM_RT_PERIOD as PERIOD,
} from '../../toolchain/src/policy-abi.js';
import { loadPolicy, Sim, type PolicyExports, type Run, type SimVcpu } from './sim.js';

const HZ = 1e9;
const SEC = HZ;
const MS = HZ / 1000;
const busy = (id: number): SimVcpu => ({ id, behaviour: { kind: 'busy' } });

function reserve(p: PolicyExports, id: number, budget: number, period: number): number {
  const r = p.set_param(id, PERIOD, BigInt(period));
  return r !== 0 ? r : p.set_param(id, BUDGET, BigInt(budget));
}

/** Run time of vCPU id inside [from, to). */
function ranIn(runs: Run[], id: number, from: number, to: number): number {
  let t = 0;
  for (const r of runs) if (r.id === id) t += Math.max(0, Math.min(r.end, to) - Math.max(r.start, from));
  return t;
}

async function policy(cpus: number, n: number): Promise<PolicyExports> {
  const p = await loadPolicy('rt');
  assert.is(p.init(cpus, BigInt(HZ)), 0);
  for (let id = 0; id < n; id++) assert.is(p.vcpu_add(id, id, 100, 0, 0), 0);
  return p;
}

test('admission on one CPU: 500 + 400 + 100 per mille fit, 200 more is refused with POLICY_EBUSY', async () => {
  const p = await policy(1, 5);
  assert.is(reserve(p, 0, 5 * MS, 10 * MS), 0);
  assert.is(reserve(p, 1, 4 * MS, 10 * MS), 0);
  assert.is(reserve(p, 2, 2 * MS, 10 * MS), POLICY_EBUSY);
  assert.is(reserve(p, 3, 1 * MS, 10 * MS), 0, 'exactly full is allowed');
  assert.is(reserve(p, 4, 1, 10 * MS), POLICY_EBUSY, 'utilisation rounds up: even 1 tick does not fit');
  assert.is(p.set_param(0, BUDGET, BigInt(9 * MS)), POLICY_EBUSY, 'growing a reservation is checked too');
  assert.is(p.set_param(0, BUDGET, BigInt(3 * MS)), 0, 'shrinking always fits');
  assert.is(reserve(p, 2, 2 * MS, 10 * MS), 0, 'the room freed by shrinking is reusable');
  assert.is(p.set_param(1, BUDGET, 0n), 0, 'budget 0 drops the reservation');
  assert.is(reserve(p, 4, 4 * MS, 10 * MS), 0);
});

test('admission is per CPU (partitioned): 600 + 600 fit on two CPUs, a third 600 does not', async () => {
  const p = await policy(2, 3);
  assert.is(reserve(p, 0, 6 * MS, 10 * MS), 0);
  assert.is(reserve(p, 1, 6 * MS, 10 * MS), 0);
  assert.is(reserve(p, 2, 6 * MS, 10 * MS), POLICY_EBUSY);
  assert.is(reserve(p, 2, 4 * MS, 10 * MS), 0);
});

test('reservation parameters out of range are POLICY_EINVAL', async () => {
  const p = await policy(1, 1);
  assert.is(p.set_param(0, PERIOD, BigInt(10 * MS)), 0);
  assert.is(p.set_param(0, BUDGET, BigInt(11 * MS)), POLICY_EINVAL, 'budget > period');
  assert.is(p.set_param(0, BUDGET, -1n), POLICY_EINVAL);
  assert.is(p.set_param(0, PERIOD, -5n), POLICY_EINVAL);
  assert.is(p.set_param(0, PERIOD, 1n << 62n), POLICY_EINVAL, 'periods past 2^40 ticks');
});

test('a reserved vCPU gets its budget in every period while CPU-bound best-effort vCPUs compete', async () => {
  const s = await Sim.create('rt', {
    cpus: 1,
    vcpus: [busy(0), busy(1), busy(2), busy(3)],
    trace: true,
    setup: (p) => assert.is(reserve(p, 0, 3 * MS, 10 * MS), 0),
  });
  s.advance(2 * SEC);
  for (let k = 0; k < 199; k++) {
    const got = ranIn(s.runs, 0, k * 10 * MS, (k + 1) * 10 * MS);
    assert.ok(got >= 3 * MS, `period ${k}: reserved vCPU ran ${got} ticks, budget ${3 * MS}`);
    assert.ok(got <= 3 * MS, `period ${k}: reserved vCPU ran ${got} ticks, more than its hard budget`);
  }
  const be = [1, 2, 3].map((id) => s.ran.get(id)! / (2 * SEC));
  for (const x of be) assert.ok(Math.abs(x - 0.7 / 3) <= 0.02, `best-effort shares ${be}`);
});

test('EDF keeps two reservations with different periods (300 and 500 per mille) plus best effort', async () => {
  const s = await Sim.create('rt', {
    cpus: 1,
    vcpus: [busy(0), busy(1), busy(2)],
    trace: true,
    setup: (p) => {
      assert.is(reserve(p, 0, 3 * MS, 10 * MS), 0);
      assert.is(reserve(p, 1, 3.5 * MS, 7 * MS), 0);
    },
  });
  s.advance(1.4 * SEC);
  for (let k = 0; k < 139; k++) {
    const got = ranIn(s.runs, 0, k * 10 * MS, (k + 1) * 10 * MS);
    assert.ok(got >= 3 * MS, `vCPU 0, period ${k}: ran ${got}`);
  }
  for (let k = 0; k < 199; k++) {
    const got = ranIn(s.runs, 1, k * 7 * MS, (k + 1) * 7 * MS);
    assert.ok(got >= 3.5 * MS, `vCPU 1, period ${k}: ran ${got}`);
  }
  assert.ok(s.ran.get(2)! / (1.4 * SEC) >= 0.19, `best effort got ${s.ran.get(2)! / (1.4 * SEC)}`);
});

test('a reserved vCPU that sleeps and wakes preempts best effort at once and still gets its budget', async () => {
  const s = await Sim.create('rt', {
    cpus: 2,
    vcpus: [{ id: 0, behaviour: { kind: 'io', run: 2 * MS, sleep: 3 * MS } }, busy(1), busy(2), busy(3)],
    trace: true,
    setup: (p) => assert.is(reserve(p, 0, 2 * MS, 5 * MS), 0),
  });
  s.advance(1 * SEC);
  const got = s.ran.get(0)! / SEC;
  assert.ok(got >= 0.39, `io reservation got ${got} of a CPU, asks for 0.4`);
  for (const w of s.wakes.filter((w) => w.id === 0 && w.t > 0 && w.t < s.now)) {
    const next = s.runs.find((r) => r.id === 0 && r.start >= w.t);
    assert.ok(next && next.start === w.t, `woken at ${w.t}, ran at ${next?.start}`);
  }
});

test.run();
