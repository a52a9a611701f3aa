// test_trap: a TEST FIXTURE, not a policy to deploy.
//
// It schedules like the C round-robin (any vCPU on any CPU, or its
// preferred one, 10 ms slices), but after a number of pick_next calls it
// executes `unreachable`, so the monitor's fault tests can check that a
// trapping policy is caught and that CPU's pool falls back to the C
// round-robin. The count is TRAP_AFTER_DEFAULT, or whatever set_param
// gives with key TRAP_PARAM (99; the id must name an added vCPU, the value
// is the number of pick_next calls that succeed before the trap, 0..2^31-1).
// If a vCPU was added with weight OOB_WEIGHT (13), the trap is an
// out-of-bounds load instead, about 6 GiB past the memory's start (a u32
// address plus a u32 offset: near the far end of what wasm can reach), so
// the fault tests also cover the monitor's guard window (the generated
// code has no bounds checks there: the page fault is the check).

import { POLICY_EINVAL, POLICY_MAX_CPUS, POLICY_MAX_VCPUS } from "./lib/abi";
import { checkAdd, checkInit, flagsCpu, ld32, ld64, leftCpu, max64, st32, st64, validCpu, validId, zero } from "./lib/util";

const TRAP_PARAM: i32 = 99;
const TRAP_AFTER_DEFAULT: i32 = 1000;
const OOB_WEIGHT: i32 = 13;

const V = POLICY_MAX_VCPUS;
const C = POLICY_MAX_CPUS;
const STATE_BYTES: i32 = V * 4 * 4 + C * (8 + 4 * 2);
const S: usize = memory.data(STATE_BYTES, 8);
const PRESENT: usize = S;                    // i32 1: added
const RUNNABLE: usize = PRESENT + V * 4;     // i32 1: wants a CPU
const RUNNING: usize = RUNNABLE + V * 4;     // i32 1: picked, not yet reported
const PREF: usize = RUNNING + V * 4;         // i32 the only CPU it may use, or -1
const SLICE: usize = PREF + V * 4;           // i64 answer for pick_slice
const CUR: usize = SLICE + C * 8;            // i32 vCPU picked last, or -1
const IDLE: usize = CUR + C * 4;             // i32 1: its last pick was -1

let ncpus: i32 = 0;
let sliceLen: i64 = 0;
let rotor: i32 = 0;
let picks: i32 = 0;
let trapAfter: i32 = 0; // set by init (a non-literal initialiser here would need a start function)
let oob: bool = false;   // trap with an out-of-bounds load (OOB_WEIGHT)
let oobAt: u32 = 0;      // its address, set by init (a variable, so not folded)

export function init(n: i32, tsc_hz: i64): i32 {
  const err = checkInit(n, tsc_hz);
  if (err != 0) return err;
  zero(S, STATE_BYTES);
  for (let c = 0; c < C; c++) st32(CUR, c, -1);
  ncpus = n;
  sliceLen = max64(tsc_hz / 100, 1);
  rotor = 0;
  picks = 0;
  trapAfter = TRAP_AFTER_DEFAULT;
  oob = false;
  oobAt = 0xFFFFFFF8;
  return 0;
}

export function vcpu_add(id: i32, vm: i32, weight: i32, cap: i32, flags: i32): i32 {
  const err = checkAdd(id, vm, weight, cap, flags, ncpus);
  if (err != 0) return err;
  if (ld32(PRESENT, id) != 0) return POLICY_EINVAL;
  st32(PRESENT, id, 1);
  st32(PREF, id, flagsCpu(flags));
  if (weight == OOB_WEIGHT) oob = true;
  return 0;
}

@inline function present(id: i32): bool {
  return validId(id) && ld32(PRESENT, id) != 0;
}

export function vcpu_remove(id: i32): void {
  if (!present(id)) return;
  st32(PRESENT, id, 0);
  st32(RUNNABLE, id, 0);
  st32(RUNNING, id, 0);
}

export function pick_next(cpu: i32, now: i64): i32 {
  if (!validCpu(cpu, ncpus)) return POLICY_EINVAL;
  if (picks >= trapAfter) {
    // The whole point of this fixture. The load's value is used, so it
    // cannot be dropped as dead code.
    if (oob) picks += load<i32>(<usize>oobAt, 0x7FFFFFF0);
    else unreachable();
  }
  picks++;
  const prev = ld32(CUR, cpu);
  if (prev >= 0) st32(RUNNING, prev, 0);
  for (let k = 1; k <= V; k++) {
    const i = (rotor + k) % V;
    if (ld32(RUNNABLE, i) == 0 || ld32(RUNNING, i) != 0) continue;
    const pref = ld32(PREF, i);
    if (pref >= 0 && pref != cpu) continue;
    rotor = i;
    st32(RUNNING, i, 1);
    st32(CUR, cpu, i);
    st32(IDLE, cpu, 0);
    st64(SLICE, cpu, sliceLen);
    return i;
  }
  st32(CUR, cpu, -1);
  st32(IDLE, cpu, 1);
  st64(SLICE, cpu, 0);
  return -1;
}

export function pick_slice(cpu: i32): i64 {
  return validCpu(cpu, ncpus) ? ld64(SLICE, cpu) : 0;
}

export function vcpu_ran(id: i32, cpu: i32, ran: i64, now: i64): void {
  if (!present(id)) return;
  st32(RUNNING, id, 0);
  leftCpu(CUR, cpu, id, ncpus);
}

export function vcpu_block(id: i32, now: i64): void {
  if (present(id)) st32(RUNNABLE, id, 0);
}

export function vcpu_wake(id: i32, now: i64): i32 {
  if (!present(id)) return POLICY_EINVAL;
  if (ld32(RUNNABLE, id) != 0) return -1;
  st32(RUNNABLE, id, 1);
  const pref = ld32(PREF, id);
  for (let c = 0; c < ncpus; c++) {
    if (ld32(IDLE, c) == 0 || (pref >= 0 && pref != c)) continue;
    st32(IDLE, c, 0);
    return c;
  }
  return -1;
}

export function on_tick(cpu: i32, now: i64): i32 {
  return 0;
}

export function set_param(id: i32, key: i32, value: i64): i32 {
  if (!present(id)) return POLICY_EINVAL;
  if (key != TRAP_PARAM || value < 0 || value > 0x7fffffff) return POLICY_EINVAL;
  trapAfter = <i32>value;
  return 0;
}
