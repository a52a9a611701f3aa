/* The built-in policy: round-robin over runnable vCPUs, any vCPU on any
 * CPU (or its preferred CPU when the flags name one), fixed slices. Small
 * on purpose: it is the fallback when a policy module fails, and the
 * reference a policy author can compare against. */
#include "core/sched_ops.h"
#include "abi/policy_abi.h"

#define RR_SLICE_MS 10

enum { RR_FREE = 0, RR_BLOCKED, RR_RUNNABLE, RR_RUNNING };

struct rr_vcpu {
	u8 state;
	s16 cpu_pref; /* -1: any */
	u64 last_ran; /* for round-robin order: least recently run first */
};

static struct rr_vcpu rr[POLICY_MAX_VCPUS];
static u32 rr_ncpus;
static u32 rr_hi; /* one past the highest id ever added: bounds every scan */
static u64 rr_slice;
static s32 rr_last_pick[POLICY_MAX_CPUS];

static int rr_init(u32 ncpus, u64 tsc_hz)
{
	for (u32 i = 0; i < POLICY_MAX_VCPUS; i++)
		rr[i] = (struct rr_vcpu){ 0, -1, 0 };
	for (u32 c = 0; c < POLICY_MAX_CPUS; c++)
		rr_last_pick[c] = -1;
	rr_hi = 0;
	rr_ncpus = ncpus;
	rr_slice = tsc_hz / 1000 * RR_SLICE_MS;
	return 0;
}

static int rr_vcpu_add(u32 id, u32 vm, u32 weight, u32 cap, u32 flags)
{
	if (id >= POLICY_MAX_VCPUS)
		return POLICY_EINVAL;
	u32 pref = (flags >> POLICY_FLAG_CPU_SHIFT) & POLICY_FLAG_CPU_MASK;
	rr[id] = (struct rr_vcpu){ RR_BLOCKED, pref && pref <= rr_ncpus ? (s16)(pref - 1) : -1, 0 };
	if (id >= rr_hi)
		rr_hi = id + 1;
	return 0;
}

static void rr_vcpu_remove(u32 id)
{
	if (id < POLICY_MAX_VCPUS)
		rr[id].state = RR_FREE;
}

static int rr_vcpu_wake(u32 id, u64 now)
{
	if (id >= POLICY_MAX_VCPUS || rr[id].state != RR_BLOCKED)
		return -1;
	rr[id].state = RR_RUNNABLE;
	if (rr[id].cpu_pref >= 0)
		return rr[id].cpu_pref;
	for (u32 c = 0; c < rr_ncpus; c++)
		if (rr_last_pick[c] < 0)
			return (int)c;
	return -1;
}

static void rr_vcpu_block(u32 id, u64 now)
{
	if (id < POLICY_MAX_VCPUS && rr[id].state != RR_FREE)
		rr[id].state = RR_BLOCKED;
}

static void rr_vcpu_ran(u32 id, u32 cpu, u64 ran, u64 now)
{
	if (id < POLICY_MAX_VCPUS && rr[id].state == RR_RUNNING) {
		rr[id].state = RR_RUNNABLE;
		rr[id].last_ran = now;
	}
}

static int rr_pick_next(u32 cpu, u64 now)
{
	s32 best = -1;
	for (u32 i = 0; i < rr_hi; i++) {
		if (rr[i].state != RR_RUNNABLE || (rr[i].cpu_pref >= 0 && (u32)rr[i].cpu_pref != cpu))
			continue;
		if (best < 0 || rr[i].last_ran < rr[best].last_ran)
			best = (s32)i;
	}
	if (best >= 0)
		rr[best].state = RR_RUNNING;
	if (cpu < POLICY_MAX_CPUS)
		rr_last_pick[cpu] = best;
	return best;
}

static u64 rr_pick_slice(u32 cpu)
{
	return rr_slice;
}

static int rr_on_tick(u32 cpu, u64 now)
{
	return 0;
}

static int rr_set_param(u32 id, u32 key, s64 value)
{
	return id < POLICY_MAX_VCPUS ? 0 : POLICY_EINVAL;
}

const struct sched_ops sched_rr_ops = {
	.name = "rr",
	.init = rr_init,
	.vcpu_add = rr_vcpu_add,
	.vcpu_remove = rr_vcpu_remove,
	.vcpu_wake = rr_vcpu_wake,
	.vcpu_block = rr_vcpu_block,
	.vcpu_ran = rr_vcpu_ran,
	.pick_next = rr_pick_next,
	.pick_slice = rr_pick_slice,
	.on_tick = rr_on_tick,
	.set_param = rr_set_param,
	.fault = NULL,
};
