/* The scheduler policy ABI: what a policy module (AssemblyScript compiled
 * to WebAssembly, then to C by wasm2c) exports, and what the monitor calls.
 * Mirrored in prose by firmware/policy/README.md; the toolchain's checker
 * (toolchain/src/policy-check.ts) enforces the same list on every .wasm.
 *
 * Rules for a module: integer types only (i32, i64: no f32/f64 anywhere),
 * one memory with initial == maximum pages (at most 16 pages = 1 MiB), no
 * start function, no tables that grow, and no imports except the optional
 *   env.log(code: i32, value: i64): void
 * Times are TSC ticks (i64); vCPU ids are dense small integers (0..255)
 * chosen by the monitor; VM ids are 0..255 too (per-VM tables, caps);
 * CPUs are 0..ncpus-1.
 *
 * Exports (name: wasm signature -> meaning):
 *   init(ncpus: i32, tsc_hz: i64): i32
 *       reset all state; 0 or a negative error.
 *   vcpu_add(id: i32, vm: i32, weight: i32, cap: i32, flags: i32): i32
 *       a new vCPU, not yet runnable. weight 1..10000 (relative share),
 *       cap 0 (none) or 1..1000 (per mille of one CPU), flags: see
 *       POLICY_FLAG_*. 0, or a negative error (POLICY_E*).
 *   vcpu_remove(id: i32): void
 *   vcpu_wake(id: i32, now: i64): i32
 *       the vCPU became runnable; returns the CPU to kick (-1: none).
 *   vcpu_block(id: i32, now: i64): void
 *       the vCPU stopped being runnable (halted, waiting for SIPI).
 *   vcpu_ran(id: i32, cpu: i32, ran: i64, now: i64): void
 *       the vCPU just left CPU cpu after running ran ticks (measured by the
 *       monitor around guest execution: the basis of fair accounting).
 *   pick_next(cpu: i32, now: i64): i32
 *       the vCPU to run next on cpu (it stays runnable), or -1 to idle.
 *   pick_slice(cpu: i32): i64
 *       how long the vCPU from the last pick_next(cpu) may run (ticks > 0);
 *       for an idle pick, how long to idle before asking again (0: until
 *       woken).
 *   on_tick(cpu: i32, now: i64): i32
 *       periodic call while cpu runs a vCPU; 1 asks to preempt it now.
 *   set_param(id: i32, key: i32, value: i64): i32
 *       change a vCPU parameter (POLICY_PARAM_*); 0 or a negative error
 *       (an rt admission check refuses an over-committed set here).
 */
#ifndef CG_POLICY_ABI_H
#define CG_POLICY_ABI_H

#define POLICY_ABI_VERSION 1
#define POLICY_MAX_VCPUS 256
#define POLICY_MAX_CPUS 64
#define POLICY_MEMORY_PAGES_MAX 16

/* vcpu_add flags */
#define POLICY_FLAG_CPU_SHIFT 0      /* bits 0-7: preferred CPU + 1 (0: any) */
#define POLICY_FLAG_CPU_MASK 0xFF

/* set_param keys */
#define POLICY_PARAM_WEIGHT 1        /* 1..10000 */
#define POLICY_PARAM_CAP 2           /* 0 or 1..1000 per mille */
#define POLICY_PARAM_RT_BUDGET 3     /* ticks per period (rt) */
#define POLICY_PARAM_RT_PERIOD 4     /* ticks (rt); budget <= period */

/* errors */
#define POLICY_EINVAL (-22)          /* bad id, value out of range */
#define POLICY_ENOSPC (-28)          /* too many vCPUs */
#define POLICY_EBUSY (-16)           /* admission refused (rt over-committed) */

#endif
