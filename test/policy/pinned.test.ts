// The pinned policy (firmware/policy/pinned.ts): every vCPU on its own CPU.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { policyFlagCpu } from '../../toolchain/src/policy-abi.js';
import { Sim, type SimVcpu } from './sim.js';

const SEC = 1e9;
const MS = 1e6;
const busy = (id: number, o: Partial<SimVcpu> = {}): SimVcpu => ({ id, behaviour: { kind: 'busy' }, ...o });

test('vCPU k runs only on CPU k mod ncpus, and the vCPUs sharing a CPU share it evenly', async () => {
  const vcpus = Array.from({ length: 8 }, (_, id) => busy(id));
  const s = await Sim.create('pinned', { cpus: 4, vcpus });
  s.advance(2 * SEC);
  for (const v of vcpus) {
    assert.equal([...s.ranOn.get(v.id)!], [v.id % 4], `vCPU ${v.id} ran on ${[...s.ranOn.get(v.id)!]}`);
    const got = s.ran.get(v.id)! / (2 * SEC);
    assert.ok(Math.abs(got - 0.5) <= 0.01, `vCPU ${v.id} got ${got}`);
  }
});

test('no interference: a crowded CPU does not slow the vCPU that owns another CPU', async () => {
  const vcpus = [busy(0, { flags: policyFlagCpu(0) }), ...[1, 2, 3, 4, 5].map((id) => busy(id, { flags: policyFlagCpu(1) }))];
  const s = await Sim.create('pinned', { cpus: 2, vcpus });
  s.advance(2 * SEC);
  assert.is(s.ran.get(0), 2 * SEC, 'vCPU 0 owns CPU 0 alone and gets all of it');
  for (const id of [1, 2, 3, 4, 5]) {
    assert.equal([...s.ranOn.get(id)!], [1]);
    assert.ok(Math.abs(s.ran.get(id)! / (2 * SEC) - 0.2) <= 0.01, `vCPU ${id} got ${s.ran.get(id)! / (2 * SEC)}`);
  }
});

test('wake kicks the owning CPU when it idles, and nothing when the owner is busy', async () => {
  const s = await Sim.create('pinned', {
    cpus: 2,
    vcpus: [busy(0), { id: 1, behaviour: { kind: 'asleep' } }, { id: 2, behaviour: { kind: 'asleep' } }],
  });
  s.advance(10 * MS);
  assert.equal(s.running(), [0, -1]);
  assert.is(s.wake(1), 1, 'vCPU 1 belongs to idle CPU 1');
  assert.equal(s.running(), [0, 1]);
  assert.is(s.wake(2), -1, 'vCPU 2 belongs to CPU 0, which is busy: it waits for the slice to end');
  s.advance(30 * MS);
  assert.ok(s.ran.get(2)! >= 10 * MS, 'vCPU 2 got its turn');
  assert.equal([...s.ranOn.get(2)!], [0]);
});

test('a blocked vCPU gets no CPU; its CPU idles rather than take another CPU\'s vCPU', async () => {
  const s = await Sim.create('pinned', { cpus: 2, vcpus: [busy(0), busy(2), { id: 1, behaviour: { kind: 'io', run: 1 * MS, sleep: 4 * MS } }] });
  s.advance(1 * SEC);
  const io = s.ran.get(1)! / SEC;
  assert.ok(Math.abs(io - 0.2) <= 0.01, `io vCPU got ${io}`);
  assert.equal([...s.ranOn.get(0)!], [0]);
  assert.equal([...s.ranOn.get(2)!], [0]);
});

test.run();
