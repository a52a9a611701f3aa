// fair: weighted fair share with per-VM caps.
//
// Each vCPU has a virtual time `vr` that advances by the run time the
// monitor measured (vcpu_ran's `ran`), divided by the vCPU's weight. A CPU
// always runs the runnable vCPU with the smallest virtual time, so over time
// run time is shared in proportion to weight. Charging measured run time,
// never tick samples, is the point: a guest that halts just before every
// tick and wakes just after still pays for every tick it ran.
//
// Caps limit a whole VM to `cap` per mille of one CPU over a 100 ms window;
// a VM that has used its budget is not picked until the window turns over.
// Times are TSC ticks; everything is i32/i64 integer arithmetic.

import {
  CAP_MAX, POLICY_EINVAL, POLICY_MAX_CPUS, POLICY_MAX_VCPUS, POLICY_MAX_VMS,
  POLICY_PARAM_CAP, POLICY_PARAM_WEIGHT, TIME_MAX, WEIGHT_MAX,
} from "./lib/abi";
import {
  before,
  checkAdd,
  checkInit,
  flagsCpu,
  ld32,
  ld64,
  leftCpu,
  max64,
  min64,
  offCpu,
  st32,
  st64,
  validCpu,
  validId,
  zero,
} from "./lib/util";

// Virtual time unit: run time of a vCPU of weight NOMINAL. vr += ran *
// NOMINAL / weight keeps a weight-10000 vCPU's increments from rounding to
// zero (ran is thousands of ticks or more) while ran * NOMINAL cannot
// overflow (ran is clamped to TIME_MAX = 2^40, times 2^10). vr itself may
// wrap after months; every comparison goes through before().
const NOMINAL: i64 = 1024;

// ---- state: fixed tables in linear memory (see lib/util.ts) ----
const V = POLICY_MAX_VCPUS;
const M = POLICY_MAX_VMS;
const C = POLICY_MAX_CPUS;
const STATE_BYTES: i32 = V * (8 * 2 + 4 * 6) + M * (8 * 2 + 4) + C * (8 + 4 * 2);
const S: usize = memory.data(STATE_BYTES, 8);
// per vCPU
const VR: usize = S;                         // i64 virtual time
const PICKED_AT: usize = VR + V * 8;         // i64 when its current run began
const PRESENT: usize = PICKED_AT + V * 8;    // i32 1: added
const RUNNABLE: usize = PRESENT + V * 4;     // i32 1: wants a CPU
const RUNNING_ON: usize = RUNNABLE + V * 4;  // i32 CPU running it, or -1
const VM_OF: usize = RUNNING_ON + V * 4;     // i32 its VM
const WEIGHT: usize = VM_OF + V * 4;         // i32 1..10000
const PREF: usize = WEIGHT + V * 4;          // i32 the only CPU it may use, or -1
// per VM
const USED: usize = PREF + V * 4;            // i64 run time charged in this window
const INFLIGHT: usize = USED + M * 8;        // i64 scratch: run time not yet charged
const CAP: usize = INFLIGHT + M * 8;         // i32 0 or 1..1000 per mille
// per CPU
const SLICE: usize = CAP + M * 4;            // i64 answer for pick_slice
const CUR: usize = SLICE + C * 8;            // i32 vCPU picked last, or -1
const IDLE: usize = CUR + C * 4;             // i32 1: its last pick was -1, not kicked since

// Reads of the per-vCPU and per-VM tables, with the table's address as the
// load's constant offset (wasm's offset immediate) rather than added to the
// index (ld32/ld64 in lib/util.ts): an i32 add must wrap, so wasm2c's C
// cannot fold it into the address; an offset is added without wrapping, so
// the C compiler folds it and the scans in pick_next and inflight load
// straight from base + index * size + table, as plain C would.
@inline function runnable(i: i32): i32 { return load<i32>(<usize>i << 2, RUNNABLE); }
@inline function runningOn(i: i32): i32 { return load<i32>(<usize>i << 2, RUNNING_ON); }
@inline function prefOf(i: i32): i32 { return load<i32>(<usize>i << 2, PREF); }
@inline function vmOf(i: i32): i32 { return load<i32>(<usize>i << 2, VM_OF); }
@inline function vrOf(i: i32): i64 { return load<i64>(<usize>i << 3, VR); }
@inline function pickedAt(i: i32): i64 { return load<i64>(<usize>i << 3, PICKED_AT); }
@inline function capOf(vm: i32): i32 { return load<i32>(<usize>vm << 2, CAP); }
@inline function usedOf(vm: i32): i64 { return load<i64>(<usize>vm << 3, USED); }
@inline function inflightOf(vm: i32): i64 { return load<i64>(<usize>vm << 3, INFLIGHT); }

let ncpus: i32 = 0;
let sliceLen: i64 = 0;   // default slice: 10 ms
let window: i64 = 0;     // cap accounting window: 100 ms
let winStart: i64 = 0;   // start of the current window
let winStarted: bool = false;
let granularity: i64 = 0; // wake-up preemption needs this much lead: 1 ms of run time
let minVr: i64 = 0;      // monotonic floor of runnable vCPUs' virtual times
let cappedVms: i32 = 0;  // VMs with a cap: none, and the cap passes are skipped
let hi: i32 = 0;         // one past the highest id ever added: bounds the scans
                         // (the monitor numbers vCPUs VM by VM from 0)

export function init(n: i32, tsc_hz: i64): i32 {
  const err = checkInit(n, tsc_hz);
  if (err != 0) return err;
  zero(S, STATE_BYTES);
  for (let i = 0; i < V; i++) st32(RUNNING_ON, i, -1);
  for (let c = 0; c < C; c++) st32(CUR, c, -1);
  ncpus = n;
  sliceLen = max64(tsc_hz / 100, 1);
  window = max64(tsc_hz / 10, 1);
  granularity = max64(tsc_hz / 1000, 1);
  winStart = 0;
  winStarted = false;
  minVr = 0;
  cappedVms = 0;
  hi = 0;
  return 0;
}

export function vcpu_add(id: i32, vm: i32, weight: i32, cap: i32, flags: i32): i32 {
  const err = checkAdd(id, vm, weight, cap, flags, ncpus);
  if (err != 0) return err;
  if (ld32(PRESENT, id) != 0) return POLICY_EINVAL;
  st32(PRESENT, id, 1);
  if (id >= hi) hi = id + 1;
  st32(RUNNABLE, id, 0);
  st32(RUNNING_ON, id, -1);
  st32(VM_OF, id, vm);
  st32(WEIGHT, id, weight);
  st32(PREF, id, flagsCpu(flags));
  st64(VR, id, minVr); // a newcomer starts level with the others
  setCap(vm, cap); // the cap is the VM's: its vCPUs all pass the same value
  return 0;
}

export function vcpu_remove(id: i32): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  const cpu = runningOn(id);
  if (cpu >= 0 && ld32(CUR, cpu) == id) st32(CUR, cpu, -1);
  st32(PRESENT, id, 0);
  st32(RUNNABLE, id, 0);
  st32(RUNNING_ON, id, -1);
}

// Turn the cap window over if `now` is past its end. A VM that overshot
// its budget (runs end on ticks, several CPUs may run it at once) carries
// the excess into the next window, so its long-run share stays under cap.
function refill(now: i64): void {
  if (!winStarted) {
    winStart = now;
    winStarted = true;
    return;
  }
  if (now - winStart < window) return;
  const k = (now - winStart) / window;
  winStart += k * window;
  for (let vm = 0; vm < M; vm++) {
    const cap = capOf(vm);
    if (cap == 0) {
      st64(USED, vm, 0);
      continue;
    }
    st64(USED, vm, max64(usedOf(vm) - k * budget(cap), 0));
  }
}

@inline function budget(cap: i32): i64 {
  return window * <i64>cap / 1000;
}

function setCap(vm: i32, cap: i32): void {
  const old = capOf(vm);
  if (old == 0 && cap != 0) cappedVms++;
  if (old != 0 && cap == 0) cappedVms--;
  st32(CAP, vm, cap);
}

// Fill INFLIGHT with each VM's run time since its running vCPUs were
// picked: not charged yet, but already spent from the cap's point of view.
function inflight(now: i64): void {
  if (cappedVms == 0) return; // only budgetLeft of a capped VM reads it
  for (let vm = 0; vm < M; vm++) st64(INFLIGHT, vm, 0);
  for (let i = 0; i < hi; i++) {
    if (runningOn(i) < 0) continue;
    const vm = vmOf(i);
    st64(INFLIGHT, vm, inflightOf(vm) + max64(now - pickedAt(i), 0));
  }
}

// Budget the VM has left in this window (after inflight()); large if uncapped.
function budgetLeft(vm: i32): i64 {
  const cap = capOf(vm);
  if (cap == 0) return TIME_MAX;
  return budget(cap) - usedOf(vm) - inflightOf(vm);
}

@inline function allowed(id: i32, cpu: i32): bool {
  const pref = prefOf(id);
  return pref < 0 || pref == cpu;
}

// Run time `ran` of vCPU id in virtual time.
@inline function toVr(ran: i64, id: i32): i64 {
  return min64(max64(ran, 0), TIME_MAX) * NOMINAL / <i64>ld32(WEIGHT, id);
}

// The virtual time a running vCPU will have when charged for its run so far.
function vrNow(id: i32, now: i64): i64 {
  return vrOf(id) + toVr(now - pickedAt(id), id);
}

export function pick_next(cpu: i32, now: i64): i32 {
  if (!validCpu(cpu, ncpus)) return POLICY_EINVAL;
  refill(now);
  // The monitor reports every run with vcpu_ran before asking again; if it
  // did not, release the previous pick rather than leave it stuck.
  const prev = ld32(CUR, cpu);
  if (prev >= 0 && runningOn(prev) == cpu) st32(RUNNING_ON, prev, -1);
  inflight(now);

  let best = -1;
  let bestVr: i64 = 0;
  let throttled = false;
  let haveMin = false;
  let lowest: i64 = 0;
  for (let i = 0; i < hi; i++) {
    if (runnable(i) == 0) continue;
    const vr = vrOf(i);
    // Minimums by select, not by branch: which vCPU holds them moves with
    // every charge, a branch on it is mispredicted often, and wasm2c's C
    // compiles select to a conditional move.
    lowest = select<i64>(vr, lowest, !haveMin || before(vr, lowest));
    haveMin = true;
    if (runningOn(i) >= 0 || !allowed(i, cpu)) continue;
    if (budgetLeft(vmOf(i)) <= 0) {
      throttled = true;
      continue;
    }
    const better = best < 0 || before(vr, bestVr);
    best = select<i32>(i, best, better);
    bestVr = select<i64>(vr, bestVr, better);
  }
  if (haveMin && before(minVr, lowest)) minVr = lowest;

  if (best < 0) {
    st32(CUR, cpu, -1);
    st32(IDLE, cpu, 1);
    // Only a capped VM was waiting: ask again when the window turns over.
    st64(SLICE, cpu, throttled ? max64(winStart + window - now, 1) : 0);
    return -1;
  }
  st32(RUNNING_ON, best, cpu);
  st64(PICKED_AT, best, now);
  st32(CUR, cpu, best);
  st32(IDLE, cpu, 0);
  // A capped VM runs no longer than its budget left.
  st64(SLICE, cpu, max64(min64(sliceLen, budgetLeft(vmOf(best))), 1));
  return best;
}

export function pick_slice(cpu: i32): i64 {
  if (!validCpu(cpu, ncpus)) return 0;
  return ld64(SLICE, cpu);
}

export function vcpu_ran(id: i32, cpu: i32, ran: i64, now: i64): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  refill(now);
  const r = min64(max64(ran, 0), TIME_MAX);
  st64(VR, id, vrOf(id) + toVr(r, id));
  const vm = vmOf(id);
  if (capOf(vm) != 0) st64(USED, vm, usedOf(vm) + r);
  st32(RUNNING_ON, id, -1);
  leftCpu(CUR, cpu, id, ncpus);
}

export function vcpu_block(id: i32, now: i64): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  st32(RUNNABLE, id, 0);
  // Normally vcpu_ran came first; if not, the vCPU is off its CPU anyway.
  offCpu(RUNNING_ON, CUR, id);
}

export function vcpu_wake(id: i32, now: i64): i32 {
  if (!validId(id) || ld32(PRESENT, id) == 0) return POLICY_EINVAL;
  if (runnable(id) != 0) return -1;
  st32(RUNNABLE, id, 1);
  refill(now);
  // A sleeper keeps at most one slice (of its own run time) of the lead it
  // had over the others, so sleep cannot be saved up and spent later as a
  // burst. One slice, not less: a vCPU that waited a whole slice for its
  // turn and then halted briefly has earned that lead honestly.
  const floor = minVr - toVr(sliceLen, id);
  const vr = vrOf(id);
  if (before(vr, floor)) st64(VR, id, floor);
  inflight(now);
  if (budgetLeft(vmOf(id)) <= 0) return -1; // it waits for the window

  // An idle CPU it may use: wake that one (and count it as busy, so the
  // next wake picks another).
  for (let c = 0; c < ncpus; c++) {
    if (ld32(IDLE, c) != 0 && allowed(id, c)) {
      st32(IDLE, c, 0);
      return c;
    }
  }
  // Otherwise preempt the CPU whose vCPU is furthest ahead of it, if that
  // lead is worth a context switch.
  const mine = vrOf(id) + toVr(granularity, id);
  let victim = -1;
  let victimVr: i64 = 0;
  for (let c = 0; c < ncpus; c++) {
    const cur = ld32(CUR, c);
    if (cur < 0 || !allowed(id, c)) continue;
    const theirs = vrNow(cur, now);
    if (before(mine, theirs) && (victim < 0 || before(victimVr, theirs))) {
      victim = c;
      victimVr = theirs;
    }
  }
  return victim;
}

export function on_tick(cpu: i32, now: i64): i32 {
  if (!validCpu(cpu, ncpus)) return 0;
  const id = ld32(CUR, cpu);
  if (id < 0) return 0;
  refill(now);
  // The slice is over (the monitor's slice timer may be coarser than ours).
  if (now - pickedAt(id) >= ld64(SLICE, cpu)) return 1;
  // A capped VM running on several CPUs at once can spend its budget
  // faster than one slice foresaw.
  const vm = vmOf(id);
  if (capOf(vm) == 0) return 0;
  inflight(now);
  return budgetLeft(vm) <= 0 ? 1 : 0;
}

export function set_param(id: i32, key: i32, value: i64): i32 {
  if (!validId(id) || ld32(PRESENT, id) == 0) return POLICY_EINVAL;
  if (key == POLICY_PARAM_WEIGHT) {
    if (value < 1 || value > WEIGHT_MAX) return POLICY_EINVAL;
    st32(WEIGHT, id, <i32>value);
    return 0;
  }
  if (key == POLICY_PARAM_CAP) {
    if (value < 0 || value > CAP_MAX) return POLICY_EINVAL;
    setCap(vmOf(id), <i32>value);
    return 0;
  }
  return POLICY_EINVAL; // rt keys mean nothing here
}
