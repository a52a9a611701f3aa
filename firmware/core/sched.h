/* The scheduler core: per-CPU run loops that ask the current policy (a
 * WebAssembly module or the built-in round-robin, through struct sched_ops)
 * which vCPU to run, hand vCPUs between CPUs, and keep the accounting the
 * policy is charged from (run time measured with the TSC, steal time,
 * switches). A policy that traps or overruns its budget is replaced by the
 * round-robin on the spot ("@cg policy-fault"), and every VM keeps running. */
#ifndef CG_SCHED_H
#define CG_SCHED_H

#include <cg/types.h>

struct vcpu;
struct vm;
struct sched_ops;

/* sched_init: install the policy named name (NULL or unknown: the first
 * registered wasm policy, else round-robin) for ncpus CPUs. */
void sched_init(const char *name, u32 ncpus);

/* sched_vm_start: add a new VM's vCPUs to the policy and make its
 * bootstrap vCPU runnable. Returns 0, or the policy's negative error (an
 * admission check refused the VM's reservation): nothing is added then. */
int sched_vm_start(struct vm *vm);

/* sched_vm_ending: the VM ended: let go of every vCPU no CPU holds now;
 * CPUs holding the others let go of them as soon as they can. */
void sched_vm_ending(struct vm *vm);

/* sched_wake: v became runnable (an interrupt, a SIPI, an INIT); tell the
 * policy and kick the CPU it names, or v's CPU if v is running. */
void sched_wake(struct vcpu *v);

/* sched_kick: interrupt physical CPU cpu so it re-examines what to run.
 * No-op for this CPU. */
void sched_kick(u32 cpu);

/* sched_set_policy: switch the running policy to name without a reboot;
 * every vCPU is re-added with its parameters. Returns 0, -CG_ENOENT (no
 * such policy) or the new policy's error (the old one stays). */
int sched_set_policy(const char *name);

/* sched_vm_pause: pause (or resume) every vCPU of vm: paused vCPUs are
 * not scheduled until resumed. Returns 0 or -CG_EBUSY (already so). */
int sched_vm_pause(struct vm *vm, bool pause);

/* sched_vm_set: set a policy parameter (POLICY_PARAM_WEIGHT, _CAP) for
 * every vCPU of vm. Returns 0 or the policy's negative error. */
int sched_vm_set(struct vm *vm, u32 key, u32 value);

/* sched_report: print the "@cg sched-stats" marker (policy, picks and the
 * timestamp ticks they took). */
void sched_report(void);

/* sched_policy_name: the running policy. */
const char *sched_policy_name(void);

/* sched_poll_fn: work CPU 0 does between guest time slices (never blocks). */
typedef void (*sched_poll_fn)(void);

/* sched_register_poller: have CPU 0 call fn between slices from now on
 * (the shell's line, registered by init: core calls nothing above it by
 * name). Call before the CPU loops start. Returns 0 or -CG_ENOMEM. */
int sched_register_poller(sched_poll_fn fn);

/* sched_cpu_loop: the life of a CPU once the machine is up: run vCPUs;
 * CPU 0 also runs the registered pollers. Never returns. */
NORETURN void sched_cpu_loop(u32 cpu);

#endif
