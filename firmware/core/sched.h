/* The built-in scheduler: every vCPU is pinned to one physical CPU, and
 * each CPU runs its runnable vCPUs round-robin in time slices (the VMX
 * preemption timer ends a slice). The policy issue replaces pick_next. */
#ifndef CG_SCHED_H
#define CG_SCHED_H

#include <cg/types.h>

struct vcpu;

/* sched_pin: choose the physical CPU for a new vCPU (least loaded online
 * CPU, so one VM's vCPUs spread out) and add it to that CPU's list. */
void sched_pin(struct vcpu *v);

/* sched_unpin: take a stopped vCPU off its CPU's list (that CPU only). */
void sched_unpin(struct vcpu *v);

/* sched_wake: make v runnable if it waits (blocked, or wait-for-SIPI when
 * a SIPI arrived) and kick its CPU. Safe from any CPU. */
void sched_wake(struct vcpu *v);

/* sched_kick: interrupt physical CPU cpu so it re-examines its vCPUs
 * (leaves the guest or wakes from idle). No-op for this CPU. */
void sched_kick(u32 cpu);

/* sched_slice_ticks: length of one time slice in timestamp ticks. */
u64 sched_slice_ticks(void);

/* sched_cpu_loop: the life of a CPU once the machine is up: run its
 * vCPUs; CPU 0 also serves the operator shell. Never returns. */
NORETURN void sched_cpu_loop(u32 cpu);

#endif
