// The fair policy (firmware/policy/fair.ts) on the simulator: weighted
// shares, caps, block and wake, the tick dodger, many vCPUs on many CPUs.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { policyFlagCpu } from '../../toolchain/src/policy-abi.js';
import { jain, Sim, type SimVcpu } from './sim.js';

const HZ = 1e9; // one tick = 1 ns
const MS = HZ / 1000;
const SEC = HZ;
const busy = (id: number, o: Partial<SimVcpu> = {}): SimVcpu => ({ id, behaviour: { kind: 'busy' }, ...o });
const share = (s: Sim, id: number, total: number) => s.ran.get(id)! / total;

test('weights 1:2:4 on one CPU share it 1/7, 2/7, 4/7 (within 2 %)', async () => {
  const s = await Sim.create('fair', { cpus: 1, vcpus: [busy(0, { weight: 100 }), busy(1, { weight: 200 }), busy(2, { weight: 400 })] });
  s.advance(10 * SEC);
  [1, 2, 4].forEach((w, id) => {
    const got = share(s, id, 10 * SEC);
    assert.ok(Math.abs(got - w / 7) <= 0.02, `vCPU ${id} (weight ${w}) got ${got.toFixed(4)}, wants ${(w / 7).toFixed(4)}`);
  });
});

test('a VM capped at 250 per mille stays under 25 % (+1 %); the other VM takes the rest', async () => {
  const s = await Sim.create('fair', { cpus: 1, vcpus: [busy(0, { vm: 0, cap: 250 }), busy(1, { vm: 1 })] });
  s.advance(10 * SEC);
  const capped = share(s, 0, 10 * SEC);
  assert.ok(capped <= 0.26, `capped VM got ${capped.toFixed(4)}`);
  assert.ok(capped >= 0.2, `capped VM got only ${capped.toFixed(4)}: a cap is a ceiling, not a penalty`);
  assert.ok(share(s, 1, 10 * SEC) >= 0.73, `uncapped VM got ${share(s, 1, 10 * SEC)}`);
});

test('a capped VM with vCPUs on 4 CPUs stays under its cap in total; alone, the CPUs idle rather than exceed it', async () => {
  const vcpus = [0, 1, 2, 3].map((id) => busy(id, { vm: 7, cap: 500 }));
  const s = await Sim.create('fair', { cpus: 4, vcpus });
  s.advance(5 * SEC);
  const total = [0, 1, 2, 3].reduce((a, id) => a + s.ran.get(id)!, 0) / (5 * SEC);
  assert.ok(total <= 0.51, `VM used ${total.toFixed(4)} of one CPU, cap 0.5`);
  assert.ok(total >= 0.45, `VM used only ${total.toFixed(4)}`);
});

test('a blocked vCPU gets no CPU; woken, it runs soon, and wake names the idle CPU to kick', async () => {
  const s = await Sim.create('fair', { cpus: 2, vcpus: [busy(0), { id: 1, behaviour: { kind: 'asleep' } }] });
  s.advance(100 * MS);
  assert.is(s.ran.get(1), 0, 'a vCPU that never woke ran');
  assert.equal(s.running().sort(), [-1, 0], 'one CPU runs vCPU 0, the other idles');
  const idle = s.running().indexOf(-1);
  assert.is(s.wake(1), idle, 'wake names the idle CPU');
  assert.is(s.running()[idle], 1, 'kicked, it picked vCPU 1 at once');
  s.advance(100 * MS);
  assert.ok(s.ran.get(1)! >= 99 * MS, `vCPU 1 ran ${s.ran.get(1)} ticks of 100 ms on its own CPU`);
  s.block(1);
  const before = s.ran.get(1)!;
  s.advance(100 * MS);
  assert.is(s.ran.get(1), before, 'blocked again, it ran');
});

test('on a busy CPU a woken sleeper preempts soon (wake names the CPU, it runs within 1 ms)', async () => {
  const s = await Sim.create('fair', { cpus: 1, vcpus: [busy(0), { id: 1, behaviour: { kind: 'asleep' } }], trace: true });
  s.advance(500 * MS);
  const t = s.now;
  assert.is(s.wake(1), 0, 'the sleeper is behind: kick CPU 0');
  s.advance(50 * MS);
  const first = s.runs.find((r) => r.id === 1);
  assert.ok(first && first.start - t <= 1 * MS, `first run of the sleeper at +${first && first.start - t}`);
});

test('sleepers cannot bank credit: after a long sleep a vCPU gets a bounded burst, then its share', async () => {
  const s = await Sim.create('fair', { cpus: 1, vcpus: [busy(0), { id: 1, behaviour: { kind: 'asleep' } }] });
  s.advance(2 * SEC);
  s.wake(1);
  s.advance(1 * SEC);
  const got = s.ran.get(1)! / SEC;
  assert.ok(got <= 0.52, `after sleeping 2 s, vCPU 1 took ${got.toFixed(4)} of the next second`);
  assert.ok(got >= 0.48, `vCPU 1 took only ${got.toFixed(4)}`);
});

test('the tick dodger (halts just before each tick, wakes just after) gets no more than its fair share', async () => {
  const s = await Sim.create('fair', {
    cpus: 1,
    vcpus: [busy(0), { id: 1, behaviour: { kind: 'dodge', margin: 10_000 } }],
  });
  s.advance(10 * SEC);
  const dodger = share(s, 1, 10 * SEC);
  assert.ok(dodger <= 0.52, `the dodger got ${dodger.toFixed(4)} of the CPU, its fair share is 0.5`);
  assert.ok(share(s, 0, 10 * SEC) >= 0.47, `the honest vCPU got ${share(s, 0, 10 * SEC).toFixed(4)}`);
});

test('io-bound vCPUs get what they ask for, CPU-bound ones share the rest', async () => {
  const s = await Sim.create('fair', {
    cpus: 1,
    vcpus: [busy(0), busy(1), { id: 2, behaviour: { kind: 'io', run: 1 * MS, sleep: 9 * MS } }],
  });
  s.advance(5 * SEC);
  const io = share(s, 2, 5 * SEC);
  assert.ok(io >= 0.09 && io <= 0.105, `io vCPU got ${io.toFixed(4)}, asks for 0.1`);
  assert.ok(Math.abs(share(s, 0, 5 * SEC) - share(s, 1, 5 * SEC)) <= 0.02, 'the CPU-bound pair shares equally');
});

test('64 vCPUs with equal weights on 8 CPUs all progress (Jain index > 0.99)', async () => {
  const vcpus = Array.from({ length: 64 }, (_, id) => busy(id, { vm: id >> 2 }));
  const s = await Sim.create('fair', { cpus: 8, vcpus });
  s.advance(5 * SEC);
  const xs = vcpus.map((v) => s.ran.get(v.id)!);
  assert.ok(Math.min(...xs) > 0, 'a vCPU starved');
  assert.ok(jain(xs) > 0.99, `Jain index ${jain(xs)}`);
  const used = xs.reduce((a, b) => a + b, 0) / (8 * 5 * SEC);
  assert.ok(used > 0.999, `CPUs idle with work to do: ${used}`);
});

test('a preferred CPU in the flags keeps a vCPU there', async () => {
  const vcpus = [busy(0, { flags: policyFlagCpu(1) }), busy(1), busy(2)];
  const s = await Sim.create('fair', { cpus: 2, vcpus }); // the simulator also checks every pick
  s.advance(1 * SEC);
  assert.equal([...s.ranOn.get(0)!], [1]);
});

test.run();
