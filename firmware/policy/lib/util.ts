// Small helpers shared by the policies. State lives in fixed tables carved
// out of linear memory with memory.data (sized at compile time, so there is
// no allocator and no start function); these helpers index them.

import {
  CAP_MAX, POLICY_EINVAL, POLICY_ENOSPC, POLICY_FLAG_CPU_MASK, POLICY_FLAG_CPU_SHIFT,
  POLICY_MAX_CPUS, POLICY_MAX_VCPUS, POLICY_MAX_VMS, WEIGHT_MAX,
} from "./abi";

@inline export function ld32(table: usize, i: i32): i32 {
  return load<i32>(table + (<usize>i << 2));
}
@inline export function st32(table: usize, i: i32, v: i32): void {
  store<i32>(table + (<usize>i << 2), v);
}
@inline export function ld64(table: usize, i: i32): i64 {
  return load<i64>(table + (<usize>i << 3));
}
@inline export function st64(table: usize, i: i32, v: i64): void {
  store<i64>(table + (<usize>i << 3), v);
}

// Zero `bytes` bytes (a multiple of 8) from `at`: init's reset. A plain loop
// rather than memory.fill, so the module needs no bulk-memory support.
export function zero(at: usize, bytes: usize): void {
  for (let p = at; p < at + bytes; p += 8) store<i64>(p, 0);
}

// a is earlier than b on a clock that may wrap (virtual times grow without
// bound; comparing the difference keeps the order right across the wrap,
// as long as live values stay within 2^63 of each other).
@inline export function before(a: i64, b: i64): bool {
  return a - b < 0;
}

@inline export function min64(a: i64, b: i64): i64 {
  return a < b ? a : b;
}
@inline export function max64(a: i64, b: i64): i64 {
  return a > b ? a : b;
}

// The preferred CPU in vcpu_add's flags, or -1 for any.
@inline export function flagsCpu(flags: i32): i32 {
  return ((flags >> POLICY_FLAG_CPU_SHIFT) & POLICY_FLAG_CPU_MASK) - 1;
}

// The checks every policy's vcpu_add makes: 0, POLICY_ENOSPC for an id past
// the table, or POLICY_EINVAL naming nothing (the caller knows its inputs).
export function checkAdd(id: i32, vm: i32, weight: i32, cap: i32, flags: i32, ncpus: i32): i32 {
  if (ncpus <= 0) return POLICY_EINVAL; // init first
  if (id >= POLICY_MAX_VCPUS) return POLICY_ENOSPC;
  if (id < 0 || vm < 0 || vm >= POLICY_MAX_VMS) return POLICY_EINVAL;
  if (weight < 1 || weight > WEIGHT_MAX) return POLICY_EINVAL;
  if (cap < 0 || cap > CAP_MAX) return POLICY_EINVAL;
  // Only the preferred-CPU bits are defined; refuse the rest so a future
  // flag is never silently ignored.
  if ((flags & ~(POLICY_FLAG_CPU_MASK << POLICY_FLAG_CPU_SHIFT)) != 0) return POLICY_EINVAL;
  if (flagsCpu(flags) >= ncpus) return POLICY_EINVAL;
  return 0;
}

@inline export function validCpu(cpu: i32, ncpus: i32): bool {
  return cpu >= 0 && cpu < ncpus && cpu < POLICY_MAX_CPUS;
}

@inline export function validId(id: i32): bool {
  return id >= 0 && id < POLICY_MAX_VCPUS;
}

// vcpu_ran: vCPU id left `cpu`, which then runs nothing until its next
// pick (cur: the policy's i32-per-CPU "picked last" table).
@inline export function leftCpu(cur: usize, cpu: i32, id: i32, ncpus: i32): void {
  if (validCpu(cpu, ncpus) && ld32(cur, cpu) == id) st32(cur, cpu, -1);
}

// vcpu_block without a vcpu_ran first: take id off whatever CPU runs it
// (runningOn: i32 per vCPU, the CPU or -1).
@inline export function offCpu(runningOn: usize, cur: usize, id: i32): void {
  const cpu = ld32(runningOn, id);
  if (cpu >= 0) {
    if (ld32(cur, cpu) == id) st32(cur, cpu, -1);
    st32(runningOn, id, -1);
  }
}

// init's argument check, shared so every policy refuses the same things.
export function checkInit(ncpus: i32, tsc_hz: i64): i32 {
  if (ncpus < 1 || ncpus > POLICY_MAX_CPUS || tsc_hz <= 0) return POLICY_EINVAL;
  return 0;
}
