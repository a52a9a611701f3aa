// pick_next of the fair policy, timed in Node on build/policy/fair.wasm:
// 64 runnable CPU-bound vCPUs over 8 CPUs, so every call scans the whole
// vCPU table for the smallest virtual time. This is V8's JIT running the
// WebAssembly, not the wasm2c build in the monitor (that one is
// policy_decision_wasm2c_ns, from test/bench/pick); the two move together when a
// policy gets slower.
//   policy_pick_next_v8_ns   mean time of one pick_next (ns)

import { loadPolicy } from '../policy/sim.js';

const CPUS = 8;
const VCPUS = 64;
const CALLS = 200_000;

const p = await loadPolicy('fair');
if (p.init(CPUS, 1_000_000_000n) !== 0) throw new Error('fair: init failed');
for (let id = 0; id < VCPUS; id++) {
  if (p.vcpu_add(id, id >> 2, 100 + id, 0, 0) !== 0) throw new Error(`fair: vcpu_add(${id}) failed`);
  p.vcpu_wake(id, 0n);
}

// As the monitor does: pick, run (here: charge 10 ms), pick again.
function round(n: number, t0: bigint): bigint {
  let now = t0;
  for (let k = 0; k < n; k++) {
    const cpu = k % CPUS;
    const id = p.pick_next(cpu, now);
    now += 10_000_000n;
    p.vcpu_ran(id, cpu, 10_000_000n, now);
  }
  return now;
}

// The same loop without pick_next, to subtract the harness and vcpu_ran.
function baseline(n: number, t0: bigint): bigint {
  let now = t0;
  for (let k = 0; k < n; k++) {
    const cpu = k % CPUS;
    now += 10_000_000n;
    p.vcpu_ran(k % VCPUS, cpu, 10_000_000n, now);
  }
  return now;
}

let now = round(20_000, 0n); // warm up the JIT
now = baseline(20_000, now);
let best = Infinity;
for (let rep = 0; rep < 5; rep++) {
  const a = process.hrtime.bigint();
  now = round(CALLS, now);
  const b = process.hrtime.bigint();
  now = baseline(CALLS, now);
  const c = process.hrtime.bigint();
  best = Math.min(best, Number(b - a - (c - b)) / CALLS);
}
console.log(`BENCH policy_pick_next_v8_ns ${Math.max(best, 0).toFixed(0)} ns`);
