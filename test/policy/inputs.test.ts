// Bad inputs never trap a policy: they return POLICY_EINVAL (or ENOSPC), or
// are ignored where the export returns nothing. Every policy in
// build/policy, including the test_trap fixture (whose deliberate trap is
// tested here too).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  POLICY_EINVAL, POLICY_ENOSPC, POLICY_PARAM_CAP, POLICY_PARAM_WEIGHT, policyFlagCpu,
} from '../../toolchain/src/policy-abi.js';
import { loadPolicy, Sim } from './sim.js';

const POLICIES = ['fair', 'pinned', 'rt', 'test_trap'];
const HZ = 1_000_000_000n;

for (const name of POLICIES) {
  test(`${name}: init refuses bad CPU counts and clocks; calls before init do not trap`, async () => {
    const p = await loadPolicy(name);
    assert.is(p.vcpu_add(0, 0, 100, 0, 0), POLICY_EINVAL, 'vcpu_add before init');
    assert.ok(p.pick_next(0, 0n) < 0);
    assert.is(p.pick_slice(0), 0n);
    assert.is(p.on_tick(0, 0n), 0);
    assert.ok(p.vcpu_wake(0, 0n) < 0);
    p.vcpu_ran(0, 0, 5n, 0n);
    p.vcpu_block(0, 0n);
    p.vcpu_remove(0);
    assert.is(p.init(0, HZ), POLICY_EINVAL);
    assert.is(p.init(65, HZ), POLICY_EINVAL);
    assert.is(p.init(-1, HZ), POLICY_EINVAL);
    assert.is(p.init(2, 0n), POLICY_EINVAL);
    assert.is(p.init(2, -1n), POLICY_EINVAL);
    assert.is(p.init(64, HZ), 0);
  });

  test(`${name}: vcpu_add checks id, vm, weight, cap and flags`, async () => {
    const p = await loadPolicy(name);
    assert.is(p.init(2, HZ), 0);
    assert.is(p.vcpu_add(-1, 0, 100, 0, 0), POLICY_EINVAL, 'id -1');
    assert.is(p.vcpu_add(256, 0, 100, 0, 0), POLICY_ENOSPC, 'id 256: more vCPUs than the table');
    assert.is(p.vcpu_add(0, -1, 100, 0, 0), POLICY_EINVAL, 'vm -1');
    assert.is(p.vcpu_add(0, 256, 100, 0, 0), POLICY_EINVAL, 'vm 256');
    assert.is(p.vcpu_add(0, 0, 0, 0, 0), POLICY_EINVAL, 'weight 0');
    assert.is(p.vcpu_add(0, 0, 10001, 0, 0), POLICY_EINVAL, 'weight 10001');
    assert.is(p.vcpu_add(0, 0, 100, 1001, 0), POLICY_EINVAL, 'cap 1001');
    assert.is(p.vcpu_add(0, 0, 100, -1, 0), POLICY_EINVAL, 'cap -1');
    assert.is(p.vcpu_add(0, 0, 100, 0, policyFlagCpu(2)), POLICY_EINVAL, 'preferred CPU 2 of 2');
    assert.is(p.vcpu_add(0, 0, 100, 0, 0x100), POLICY_EINVAL, 'an undefined flag bit');
    assert.is(p.vcpu_add(0, 0, 100, 0, 0), 0);
    assert.is(p.vcpu_add(0, 0, 100, 0, 0), POLICY_EINVAL, 'id 0 twice');
    assert.is(p.vcpu_add(255, 255, 10000, 1000, policyFlagCpu(1)), 0, 'the largest valid values');
  });

  test(`${name}: unknown ids, CPUs and parameters are POLICY_EINVAL or ignored`, async () => {
    const p = await loadPolicy(name);
    assert.is(p.init(2, HZ), 0);
    assert.is(p.vcpu_add(0, 0, 100, 0, 0), 0);
    assert.is(p.vcpu_wake(7, 0n), POLICY_EINVAL);
    assert.is(p.vcpu_wake(-3, 0n), POLICY_EINVAL);
    assert.is(p.set_param(7, POLICY_PARAM_WEIGHT, 100n), POLICY_EINVAL);
    assert.is(p.set_param(0, 42, 1n), POLICY_EINVAL, 'an unknown key');
    if (name !== 'test_trap') {
      assert.is(p.set_param(0, POLICY_PARAM_WEIGHT, 0n), POLICY_EINVAL, 'weight 0');
      assert.is(p.set_param(0, POLICY_PARAM_WEIGHT, 1n << 40n), POLICY_EINVAL, 'weight 2^40');
      assert.is(p.set_param(0, POLICY_PARAM_CAP, 1001n), POLICY_EINVAL, 'cap 1001');
      assert.is(p.set_param(0, POLICY_PARAM_WEIGHT, 300n), 0);
      assert.is(p.set_param(0, POLICY_PARAM_CAP, 500n), 0);
    }
    assert.ok(p.pick_next(2, 0n) < 0, 'CPU 2 of 2');
    assert.ok(p.pick_next(-1, 0n) < 0);
    assert.is(p.pick_slice(99), 0n);
    assert.is(p.on_tick(-1, 0n), 0);
    p.vcpu_ran(9, 0, 10n, 0n);
    p.vcpu_ran(0, 77, -10n, 0n);
    p.vcpu_block(300, 0n);
    p.vcpu_remove(-2);
    p.vcpu_remove(0);
    assert.is(p.vcpu_wake(0, 0n), POLICY_EINVAL, 'removed');
  });

  test(`${name}: 20000 random calls with extreme values never trap`, async () => {
    const p = await loadPolicy(name);
    let seed = 12345;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const ints = [0, 1, -1, 2, 3, 255, 256, 1000, 1001, 10000, 0x7fffffff, -0x80000000];
    const longs = [0n, 1n, -1n, 1000n, 10_000_000n, 1n << 40n, (1n << 63n) - 1n, -(1n << 63n)];
    const i = () => (rnd(3) === 0 ? ints[rnd(ints.length)]! : rnd(8));
    const l = () => (rnd(2) === 0 ? longs[rnd(longs.length)]! : BigInt(rnd(1 << 24)) * 1000n);
    assert.is(p.init(4, HZ), 0);
    if (name === 'test_trap') assert.is(p.vcpu_add(0, 0, 1, 0, 0) || p.set_param(0, 99, 0x7fffffffn), 0);
    for (let k = 0; k < 20000; k++) {
      switch (rnd(10)) {
        case 0: p.vcpu_add(i(), i(), i(), i(), i()); break;
        case 1: p.vcpu_remove(i()); break;
        case 2: p.vcpu_wake(i(), l()); break;
        case 3: p.vcpu_block(i(), l()); break;
        case 4: p.vcpu_ran(i(), i(), l(), l()); break;
        case 5: p.pick_next(i(), l()); break;
        case 6: p.pick_slice(i()); break;
        case 7: p.on_tick(i(), l()); break;
        case 8: p.set_param(i(), rnd(6), l()); break;
        default: if (rnd(50) === 0) p.init(1 + rnd(64), l() > 0n ? l() : HZ);
      }
    }
  });
}

test('test_trap: pick_next executes unreachable after the count set with key 99', async () => {
  const s = await Sim.create('test_trap', {
    cpus: 1,
    vcpus: [{ id: 0, behaviour: { kind: 'busy' } }, { id: 1, behaviour: { kind: 'busy' } }],
    setup: (p) => assert.is(p.set_param(0, 99, 5n), 0),
  });
  // One pick at start, then one per 10 ms slice: the sixth pick traps.
  s.advance(40 * 1e6);
  assert.throws(() => s.advance(20 * 1e6), (e: Error) => e instanceof WebAssembly.RuntimeError && /unreachable/.test(e.message));
});

test('test_trap: with a vCPU of weight 13 the trap is an out-of-bounds load instead', async () => {
  const p = await loadPolicy('test_trap');
  assert.is(p.init(1, HZ), 0);
  assert.is(p.vcpu_add(0, 0, 13, 0, 0), 0);
  assert.is(p.set_param(0, 99, 1n), 0);
  p.vcpu_wake(0, 0n);
  assert.is(p.pick_next(0, 0n), 0);
  p.vcpu_ran(0, 0, 1n, 1n);
  assert.throws(() => p.pick_next(0, 2n), (e: Error) => e instanceof WebAssembly.RuntimeError && /out of bounds/.test(e.message));
});

test('test_trap: by default it schedules round-robin for 1000 picks first', async () => {
  const p = await loadPolicy('test_trap');
  assert.is(p.init(1, HZ), 0);
  assert.is(p.vcpu_add(0, 0, 100, 0, 0), 0);
  assert.is(p.vcpu_add(1, 0, 100, 0, 0), 0);
  p.vcpu_wake(0, 0n);
  p.vcpu_wake(1, 0n);
  const seen: number[] = [];
  for (let k = 0; k < 1000; k++) {
    const id = p.pick_next(0, BigInt(k));
    seen.push(id);
    p.vcpu_ran(id, 0, 1n, BigInt(k));
  }
  assert.equal(seen.slice(0, 4), [1, 0, 1, 0]);
  assert.throws(() => p.pick_next(0, 1000n), /unreachable/);
});

test.run();
