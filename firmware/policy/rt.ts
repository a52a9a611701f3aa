// rt: budget/period reservations, earliest deadline first, best effort
// for the rest.
//
// A vCPU with a reservation (set_param RT_BUDGET and RT_PERIOD, both
// non-zero) gets `budget` ticks of CPU in every `period`. Reservations are
// partitioned: admission places each one on a single CPU, and a CPU accepts
// reservations only while the sum of their utilisations (budget * 1000 /
// period, rounded up, per mille) is at most 1000. On one CPU, EDF meets
// every deadline of such a set, so a reservation admitted is a reservation
// kept; a global "sum over all CPUs <= ncpus" test would admit sets that
// global EDF cannot schedule. A set that does not fit is refused with
// POLICY_EBUSY and the vCPU keeps its previous reservation.
//
// Each CPU runs, among the reserved vCPUs placed on it that are runnable
// and have budget left, the one whose period ends first. When none is
// eligible it runs unreserved vCPUs round-robin (best effort, any CPU).
// A reserved vCPU that used its budget waits for its next period (a hard
// reservation: it does not soak up best-effort time).

import {
  CAP_MAX, POLICY_EBUSY, POLICY_EINVAL, POLICY_MAX_CPUS, POLICY_MAX_VCPUS, POLICY_PARAM_CAP,
  POLICY_PARAM_RT_BUDGET, POLICY_PARAM_RT_PERIOD, POLICY_PARAM_WEIGHT, TIME_MAX, WEIGHT_MAX,
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

const V = POLICY_MAX_VCPUS;
const C = POLICY_MAX_CPUS;
const STATE_BYTES: i32 = V * (8 * 5 + 4 * 5) + C * (8 + 4 * 4);
const S: usize = memory.data(STATE_BYTES, 8);
// per vCPU
const BUDGET: usize = S;                     // i64 ticks per period (0: none yet)
const PERIOD: usize = BUDGET + V * 8;        // i64 ticks (0: none yet)
const LEFT: usize = PERIOD + V * 8;          // i64 budget left in this period
const DEADLINE: usize = LEFT + V * 8;        // i64 end of the current period
const PICKED_AT: usize = DEADLINE + V * 8;   // i64 when its current run began
const PRESENT: usize = PICKED_AT + V * 8;    // i32 1: added
const RUNNABLE: usize = PRESENT + V * 4;     // i32 1: wants a CPU
const RUNNING_ON: usize = RUNNABLE + V * 4;  // i32 CPU running it, or -1
const PREF: usize = RUNNING_ON + V * 4;      // i32 the only CPU it may use, or -1
const RCPU: usize = PREF + V * 4;            // i32 CPU its reservation lives on, or -1: best effort
// per CPU
const SLICE: usize = RCPU + V * 4;           // i64 answer for pick_slice
const CUR: usize = SLICE + C * 8;            // i32 vCPU picked last, or -1
const ROTOR: usize = CUR + C * 4;            // i32 best-effort round-robin position
const IDLE: usize = ROTOR + C * 4;           // i32 1: its last pick was -1, not kicked since
const UTIL: usize = IDLE + C * 4;            // i32 per mille reserved on this CPU

let ncpus: i32 = 0;
let sliceLen: i64 = 0; // best-effort slice: 10 ms
let hi: i32 = 0;       // one past the highest id ever added: bounds the scans

export function init(n: i32, tsc_hz: i64): i32 {
  const err = checkInit(n, tsc_hz);
  if (err != 0) return err;
  zero(S, STATE_BYTES);
  for (let i = 0; i < V; i++) {
    st32(RUNNING_ON, i, -1);
    st32(RCPU, i, -1);
  }
  for (let c = 0; c < C; c++) st32(CUR, c, -1);
  hi = 0;
  ncpus = n;
  sliceLen = max64(tsc_hz / 100, 1);
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
  st32(PREF, id, flagsCpu(flags));
  st32(RCPU, id, -1);
  st64(BUDGET, id, 0);
  st64(PERIOD, id, 0);
  return 0;
}

export function vcpu_remove(id: i32): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  release(id);
  const cpu = ld32(RUNNING_ON, id);
  if (cpu >= 0 && ld32(CUR, cpu) == id) st32(CUR, cpu, -1);
  st32(PRESENT, id, 0);
  st32(RUNNABLE, id, 0);
  st32(RUNNING_ON, id, -1);
}

// Utilisation per mille, rounded up so that admission never over-commits.
@inline function util(budget: i64, period: i64): i32 {
  return <i32>((budget * 1000 + period - 1) / period);
}

// Give back the CPU share of id's reservation, if it has one.
function release(id: i32): void {
  const rc = ld32(RCPU, id);
  if (rc < 0) return;
  st32(UTIL, rc, ld32(UTIL, rc) - util(ld64(BUDGET, id), ld64(PERIOD, id)));
  st32(RCPU, id, -1);
}

// Place a reservation of utilisation u: its preferred CPU if it has one,
// else the CPU it is on if it still fits, else the first CPU with room.
// Returns the CPU or -1.
function place(id: i32, u: i32, old: i32): i32 {
  const pref = ld32(PREF, id);
  if (pref >= 0) return ld32(UTIL, pref) + u <= 1000 ? pref : -1;
  if (old >= 0 && ld32(UTIL, old) + u <= 1000) return old;
  for (let c = 0; c < ncpus; c++) if (ld32(UTIL, c) + u <= 1000) return c;
  return -1;
}

// Start a new period now.
function replenish(id: i32, now: i64): void {
  st64(LEFT, id, ld64(BUDGET, id));
  st64(DEADLINE, id, now + ld64(PERIOD, id));
}

// Move every reservation whose period ended into its next period. Periods
// follow each other back to back (deadline += k * period), so a vCPU that
// runs continuously gets exactly budget per period.
function advance(now: i64): void {
  for (let i = 0; i < hi; i++) {
    if (ld32(RCPU, i) < 0) continue;
    const d = ld64(DEADLINE, i);
    if (before(now, d)) continue;
    const p = ld64(PERIOD, i);
    const k = (now - d) / p + 1;
    st64(DEADLINE, i, d + k * p);
    st64(LEFT, i, ld64(BUDGET, i));
  }
}

// The reserved vCPU placed on cpu that EDF runs now, or -1.
function edf(cpu: i32): i32 {
  let best = -1;
  let bestD: i64 = 0;
  for (let i = 0; i < hi; i++) {
    if (ld32(RCPU, i) != cpu || ld32(RUNNABLE, i) == 0 || ld32(RUNNING_ON, i) >= 0) continue;
    if (ld64(LEFT, i) <= 0) continue;
    const d = ld64(DEADLINE, i);
    if (best < 0 || before(d, bestD)) {
      best = i;
      bestD = d;
    }
  }
  return best;
}

// Ticks until the next period starts for a runnable reserved vCPU on cpu
// that is out of budget: the end of any best-effort slice there.
function nextRefill(cpu: i32, now: i64): i64 {
  let t: i64 = TIME_MAX;
  for (let i = 0; i < hi; i++) {
    if (ld32(RCPU, i) != cpu || ld32(RUNNABLE, i) == 0 || ld64(LEFT, i) > 0) continue;
    t = min64(t, ld64(DEADLINE, i) - now);
  }
  return max64(t, 1);
}

export function pick_next(cpu: i32, now: i64): i32 {
  if (!validCpu(cpu, ncpus)) return POLICY_EINVAL;
  const prev = ld32(CUR, cpu);
  if (prev >= 0 && ld32(RUNNING_ON, prev) == cpu) st32(RUNNING_ON, prev, -1);
  advance(now);

  let id = edf(cpu);
  let slice: i64 = 0;
  if (id >= 0) {
    // Its budget, but not past its period's end (the next period's budget
    // is accounted afresh).
    slice = min64(ld64(LEFT, id), ld64(DEADLINE, id) - now);
  } else {
    const start = ld32(ROTOR, cpu);
    for (let k = 1; k <= V; k++) {
      const i = (start + k) % V;
      if (ld32(RUNNABLE, i) == 0 || ld32(RCPU, i) >= 0 || ld32(RUNNING_ON, i) >= 0) continue;
      const pref = ld32(PREF, i);
      if (pref >= 0 && pref != cpu) continue;
      id = i;
      st32(ROTOR, cpu, i);
      break;
    }
    slice = min64(sliceLen, nextRefill(cpu, now));
  }
  if (id < 0) {
    st32(CUR, cpu, -1);
    st32(IDLE, cpu, 1);
    const t = nextRefill(cpu, now);
    st64(SLICE, cpu, t < TIME_MAX ? t : 0);
    return -1;
  }
  st32(RUNNING_ON, id, cpu);
  st64(PICKED_AT, id, now);
  st32(CUR, cpu, id);
  st32(IDLE, cpu, 0);
  st64(SLICE, cpu, max64(slice, 1));
  return id;
}

export function pick_slice(cpu: i32): i64 {
  if (!validCpu(cpu, ncpus)) return 0;
  return ld64(SLICE, cpu);
}

export function vcpu_ran(id: i32, cpu: i32, ran: i64, now: i64): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  if (ld32(RCPU, id) >= 0) {
    advance(now);
    st64(LEFT, id, max64(ld64(LEFT, id) - min64(max64(ran, 0), TIME_MAX), 0));
  }
  st32(RUNNING_ON, id, -1);
  leftCpu(CUR, cpu, id, ncpus);
}

export function vcpu_block(id: i32, now: i64): void {
  if (!validId(id) || ld32(PRESENT, id) == 0) return;
  st32(RUNNABLE, id, 0);
  offCpu(RUNNING_ON, CUR, id);
}

// Does a waking reserved vCPU with deadline d beat what cpu runs now?
function preempts(cpu: i32, d: i64): bool {
  const cur = ld32(CUR, cpu);
  if (cur < 0) return false;
  if (ld32(RCPU, cur) < 0) return true; // best effort always yields
  return before(d, ld64(DEADLINE, cur));
}

export function vcpu_wake(id: i32, now: i64): i32 {
  if (!validId(id) || ld32(PRESENT, id) == 0) return POLICY_EINVAL;
  if (ld32(RUNNABLE, id) != 0) return -1;
  st32(RUNNABLE, id, 1);
  const rc = ld32(RCPU, id);
  if (rc >= 0) {
    advance(now);
    // The constant-bandwidth rule: if what is left of the budget, spent
    // before the deadline, would exceed the reserved rate, start a fresh
    // period now. Otherwise a vCPU waking just before its deadline with
    // its whole budget would crowd out the others on its CPU. Compared
    // per 1024 to keep the products small.
    const d = ld64(DEADLINE, id);
    const leftRate = ld64(LEFT, id) * 1024 / ld64(BUDGET, id);
    const timeRate = max64(d - now, 0) * 1024 / ld64(PERIOD, id);
    if (leftRate > timeRate) replenish(id, now);
    if (ld64(LEFT, id) <= 0) return -1;
    if (ld32(IDLE, rc) != 0) {
      st32(IDLE, rc, 0);
      return rc;
    }
    return preempts(rc, ld64(DEADLINE, id)) ? rc : -1;
  }
  const pref = ld32(PREF, id);
  for (let c = 0; c < ncpus; c++) {
    if (ld32(IDLE, c) == 0 || (pref >= 0 && pref != c)) continue;
    st32(IDLE, c, 0);
    return c;
  }
  return -1;
}

export function on_tick(cpu: i32, now: i64): i32 {
  if (!validCpu(cpu, ncpus)) return 0;
  const id = ld32(CUR, cpu);
  if (id < 0) return 0;
  if (now - ld64(PICKED_AT, id) >= ld64(SLICE, cpu)) return 1;
  advance(now);
  // A reservation became eligible (new period) and beats the current vCPU.
  const r = edf(cpu);
  if (r >= 0 && preempts(cpu, ld64(DEADLINE, r))) return 1;
  return 0;
}

function setReservation(id: i32, budget: i64, period: i64): i32 {
  if (budget < 0 || period < 0 || budget > TIME_MAX || period > TIME_MAX) return POLICY_EINVAL;
  if (period > 0 && budget > period) return POLICY_EINVAL;
  const old = ld32(RCPU, id);
  if (budget == 0 || period == 0) {
    // Not (or no longer) a full reservation: best effort until both are set.
    release(id);
    st64(BUDGET, id, budget);
    st64(PERIOD, id, period);
    return 0;
  }
  const u = util(budget, period);
  if (old >= 0) st32(UTIL, old, ld32(UTIL, old) - util(ld64(BUDGET, id), ld64(PERIOD, id)));
  const cpu = place(id, u, old);
  if (cpu < 0) {
    if (old >= 0) st32(UTIL, old, ld32(UTIL, old) + util(ld64(BUDGET, id), ld64(PERIOD, id)));
    return POLICY_EBUSY;
  }
  st32(UTIL, cpu, ld32(UTIL, cpu) + u);
  st32(RCPU, id, cpu);
  st64(BUDGET, id, budget);
  st64(PERIOD, id, period);
  if (old < 0) {
    // A new reservation starts its first period at the next event that
    // knows the time: mark it spent with an expired deadline.
    st64(LEFT, id, 0);
    st64(DEADLINE, id, ld64(PICKED_AT, id));
  } else {
    st64(LEFT, id, min64(ld64(LEFT, id), budget));
  }
  return 0;
}

export function set_param(id: i32, key: i32, value: i64): i32 {
  if (!validId(id) || ld32(PRESENT, id) == 0) return POLICY_EINVAL;
  if (key == POLICY_PARAM_RT_BUDGET) return setReservation(id, value, ld64(PERIOD, id));
  if (key == POLICY_PARAM_RT_PERIOD) return setReservation(id, ld64(BUDGET, id), value);
  if (key == POLICY_PARAM_WEIGHT) return value >= 1 && value <= WEIGHT_MAX ? 0 : POLICY_EINVAL;
  if (key == POLICY_PARAM_CAP) return value >= 0 && value <= CAP_MAX ? 0 : POLICY_EINVAL;
  return POLICY_EINVAL;
}
