/* The boundary between the scheduler core (sched.c: run loops, accounting,
 * VMX hand-off) and a scheduling policy. The C round-robin (sched_rr.c) and
 * every WebAssembly policy (policy_wasm.c, firmware/policy/ sources) implement
 * the same calls, mirroring firmware/include/abi/policy_abi.h. The core holds
 * sched_lock around every call, so a policy never runs concurrently. */
#ifndef CG_SCHED_OPS_H
#define CG_SCHED_OPS_H

#include <cg/types.h>

struct sched_ops {
	const char *name;
	int (*init)(u32 ncpus, u64 tsc_hz);
	int (*vcpu_add)(u32 id, u32 vm, u32 weight, u32 cap, u32 flags);
	void (*vcpu_remove)(u32 id);
	int (*vcpu_wake)(u32 id, u64 now);        /* CPU to kick, or -1 */
	void (*vcpu_block)(u32 id, u64 now);
	void (*vcpu_ran)(u32 id, u32 cpu, u64 ran, u64 now);
	int (*pick_next)(u32 cpu, u64 now);       /* vCPU id, or -1: idle */
	u64 (*pick_slice)(u32 cpu);
	int (*on_tick)(u32 cpu, u64 now);         /* 1: preempt now */
	int (*set_param)(u32 id, u32 key, s64 value);
	/* Set by the wrapper of a policy that can fail (wasm): the last call
	 * trapped or overran its budget; the core then switches to the
	 * fallback. NULL for policies that cannot fail. */
	const char *(*fault)(void);
	/* Optional: pick_next then pick_slice in one call (*slice gets the
	 * slice), for a policy whose calls cost more than their work (wasm:
	 * one guarded call instead of two). NULL: the core makes the two. */
	int (*pick)(u32 cpu, u64 now, u64 *slice);
};

/* The built-in round-robin: fallback and reference. */
extern const struct sched_ops sched_rr_ops;

/* sched_policy_find: the policy called name in this image, or NULL. */
const struct sched_ops *sched_policy_find(const char *name);

/* sched_policy_default: the first WebAssembly policy in the image, else
 * the round-robin. */
const struct sched_ops *sched_policy_default(void);

/* sched_policy_at: the i-th policy of the image (NULL past the end), for
 * listings. */
const struct sched_ops *sched_policy_at(u32 i);

#endif
