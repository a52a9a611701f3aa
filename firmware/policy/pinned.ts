// pinned: every vCPU owns one physical CPU and never runs anywhere else.
//
// The owner is the preferred CPU in vcpu_add's flags, or else CPU (id mod
// ncpus): vCPU ids are dense, so consecutive vCPUs land on consecutive CPUs.
// A CPU shares its time round-robin between the runnable vCPUs it owns, in
// fixed 10 ms slices; nothing one CPU does changes what another runs, which
// is what a latency-sensitive lab VM wants. Weights and caps are checked but
// have no effect here.

import {
  CAP_MAX, POLICY_EINVAL, POLICY_MAX_CPUS, POLICY_MAX_VCPUS, POLICY_PARAM_CAP,
  POLICY_PARAM_WEIGHT, WEIGHT_MAX,
} from "./lib/abi";
import { checkAdd, checkInit, flagsCpu, ld32, ld64, leftCpu, max64, st32, st64, validCpu, validId, zero } from "./lib/util";

const V = POLICY_MAX_VCPUS;
const C = POLICY_MAX_CPUS;
const STATE_BYTES: i32 = V * 4 * 4 + C * (8 + 4 * 3);
const S: usize = memory.data(STATE_BYTES, 8);
// per vCPU
const PRESENT: usize = S;                    // i32 1: added
const RUNNABLE: usize = PRESENT + V * 4;     // i32 1: wants its CPU
const RUNNING: usize = RUNNABLE + V * 4;     // i32 1: picked, not yet reported by vcpu_ran
const OWNER: usize = RUNNING + V * 4;        // i32 the CPU it belongs to
// per CPU
const SLICE: usize = OWNER + V * 4;          // i64 answer for pick_slice
const CUR: usize = SLICE + C * 8;            // i32 vCPU picked last, or -1
const ROTOR: usize = CUR + C * 4;            // i32 where the round-robin scan resumes
const IDLE: usize = ROTOR + C * 4;           // i32 1: its last pick was -1, not kicked since

let ncpus: i32 = 0;
let sliceLen: i64 = 0;

export function init(n: i32, tsc_hz: i64): i32 {
  const err = checkInit(n, tsc_hz);
  if (err != 0) return err;
  zero(S, STATE_BYTES);
  for (let c = 0; c < C; c++) st32(CUR, c, -1);
  ncpus = n;
  sliceLen = max64(tsc_hz / 100, 1);
  return 0;
}

export function vcpu_add(id: i32, vm: i32, weight: i32, cap: i32, flags: i32): i32 {
  const err = checkAdd(id, vm, weight, cap, flags, ncpus);
  if (err != 0) return err;
  if (ld32(PRESENT, id) != 0) return POLICY_EINVAL;
  const pref = flagsCpu(flags);
  st32(PRESENT, id, 1);
  st32(RUNNABLE, id, 0);
  st32(RUNNING, id, 0);
  st32(OWNER, id, pref >= 0 ? pref : id % ncpus);
  return 0;
}

export function vcpu_remove(id: i32): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  const cpu = ld32(OWNER, id);
  if (ld32(CUR, cpu) == id) st32(CUR, cpu, -1);
  st32(PRESENT, id, 0);
  st32(RUNNABLE, id, 0);
  st32(RUNNING, id, 0);
}

export function pick_next(cpu: i32, now: i64): i32 {
  if (!validCpu(cpu, ncpus)) return POLICY_EINVAL;
  const prev = ld32(CUR, cpu);
  if (prev >= 0) st32(RUNNING, prev, 0); // vcpu_ran was skipped: release it
  // Round-robin: scan the ids after the last one this CPU ran.
  const start = ld32(ROTOR, cpu);
  for (let k = 1; k <= V; k++) {
    const i = (start + k) % V;
    if (ld32(RUNNABLE, i) == 0 || ld32(OWNER, i) != cpu) continue;
    st32(ROTOR, cpu, i);
    st32(RUNNING, i, 1);
    st32(CUR, cpu, i);
    st32(IDLE, cpu, 0);
    st64(SLICE, cpu, sliceLen);
    return i;
  }
  st32(CUR, cpu, -1);
  st32(IDLE, cpu, 1);
  st64(SLICE, cpu, 0); // nothing to do until one of ours wakes
  return -1;
}

export function pick_slice(cpu: i32): i64 {
  if (!validCpu(cpu, ncpus)) return 0;
  return ld64(SLICE, cpu);
}

export function vcpu_ran(id: i32, cpu: i32, ran: i64, now: i64): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  st32(RUNNING, id, 0);
  leftCpu(CUR, cpu, id, ncpus);
}

export function vcpu_block(id: i32, now: i64): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  st32(RUNNABLE, id, 0);
}

// Kick the owner only when it idles: a busy owner reaches the woken vCPU
// at its next slice boundary anyway, and kicking it would cut the running
// vCPU's slice short on every wake of a neighbour.
export function vcpu_wake(id: i32, now: i64): i32 {
  if (!validId(id) || ld32(PRESENT, id) == 0) return POLICY_EINVAL;
  if (ld32(RUNNABLE, id) != 0) return -1;
  st32(RUNNABLE, id, 1);
  const cpu = ld32(OWNER, id);
  if (ld32(IDLE, cpu) == 0) return -1;
  st32(IDLE, cpu, 0);
  return cpu;
}

// Slices end on the monitor's slice timer; ticks change nothing here.
export function on_tick(cpu: i32, now: i64): i32 {
  return 0;
}

export function set_param(id: i32, key: i32, value: i64): i32 {
  if (!validId(id) || ld32(PRESENT, id) == 0) return POLICY_EINVAL;
  if (key == POLICY_PARAM_WEIGHT) return value >= 1 && value <= WEIGHT_MAX ? 0 : POLICY_EINVAL;
  if (key == POLICY_PARAM_CAP) return value >= 0 && value <= CAP_MAX ? 0 : POLICY_EINVAL;
  return POLICY_EINVAL;
}
