// The policy ABI's numbers, mirrored from firmware/include/abi/policy_abi.h (the contract).
// AssemblyScript cannot include a C header, so the values are repeated here;
// test/policy/abi.test.ts compares the two files so they cannot drift.

export const POLICY_MAX_VCPUS: i32 = 256;
export const POLICY_MAX_CPUS: i32 = 64;
// VM ids index per-VM tables, so they share the vCPU id range.
export const POLICY_MAX_VMS: i32 = 256;

export const POLICY_FLAG_CPU_SHIFT: i32 = 0;
export const POLICY_FLAG_CPU_MASK: i32 = 0xff;

export const POLICY_PARAM_WEIGHT: i32 = 1;
export const POLICY_PARAM_CAP: i32 = 2;
export const POLICY_PARAM_RT_BUDGET: i32 = 3;
export const POLICY_PARAM_RT_PERIOD: i32 = 4;

export const POLICY_EINVAL: i32 = -22;
export const POLICY_ENOSPC: i32 = -28;
export const POLICY_EBUSY: i32 = -16;

export const WEIGHT_MAX: i32 = 10000;
export const CAP_MAX: i32 = 1000;

// Largest time value a policy multiplies by (2^40 ticks: about 6 minutes at
// 3 GHz). Longer runs or periods are clamped or refused, so that products
// such as ran * 1024 or budget * 1000 stay far below 2^63.
export const TIME_MAX: i64 = 1 << 40;
