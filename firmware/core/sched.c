#include "core/sched.h"
#include "core/virt.h"
#include "core/cpu.h"
#include "lib/log.h"
#include "core/sched_ops.h"
#include "core/virt.h"
#include "core/vm.h"
#include "core/vm_disks.h"
#include "core/vm_net.h"
#include "abi/policy_abi.h"
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>

#define SCHED_TICK_HZ 100
/* A policy call taking longer than this is an overrun: the policy is
 * treated as faulty (the watchdog), whatever it returned. init is exempt:
 * it instantiates the module (memory set-up). The fuel meter in the
 * runtime stops a runaway loop long before this on real hardware. */
#define POLICY_CALL_BUDGET_US 5000

static u32 sched_lock;
static const struct sched_ops *policy = &sched_rr_ops;
static u32 sched_ncpus;
static struct vcpu *vcpu_by_id[POLICY_MAX_VCPUS];
static u32 vcpu_id_limit; /* above every id ever registered: bounds the timer scan */
static u64 pick_calls, pick_ticks; /* cost of pick_next + pick_slice */

const char *sched_policy_name(void)
{
	return policy->name;
}

void sched_report(void)
{
	spin_lock(&sched_lock);
	u64 calls = pick_calls, ticks = pick_ticks;
	spin_unlock(&sched_lock);
	cg_marker("sched-stats", "policy=%s picks=%lu pick_ticks=%lu", policy->name, calls, ticks);
}

void sched_kick(u32 cpu)
{
	if (cpu != arch_cpu_index() && cpu < CG_MAX_CPUS && cpu_table[cpu].state == CPU_ONLINE)
		arch_kick_cpu(cpu);
}

/* policy_check: after each call into the policy (sched_lock held): a trap
 * or an overrun replaces it with the round-robin, which is told about
 * every live vCPU so nothing is lost. */
static void policy_check(u64 started)
{
	const char *why = policy->fault ? policy->fault() : NULL;
	u64 took = arch_timestamp() - started;
	if (!why && started && took > arch_timestamp_hz() / 1000000 * POLICY_CALL_BUDGET_US)
		why = "watchdog";
	if (!why)
		return;
	cg_marker("policy-fault", "policy=%s cpu=%u reason=%s fallback=%s", policy->name,
		  arch_cpu_index(), why, sched_rr_ops.name);
	policy = &sched_rr_ops;
	policy->init(sched_ncpus, arch_timestamp_hz());
	u64 now = arch_timestamp();
	for (u32 id = 0; id < POLICY_MAX_VCPUS; id++) {
		struct vcpu *v = vcpu_by_id[id];
		if (!v)
			continue;
		policy->vcpu_add(id, v->vm->id, v->vm->weight, v->vm->cap, 0);
		if (v->state == VCPU_RUNNABLE || v->state == VCPU_RUNNING)
			policy->vcpu_wake(id, now);
	}
	/* vCPUs on a CPU right now are re-marked running when they come back:
	 * see sched_ran, which tolerates a vCPU the policy thinks is runnable. */
	for (u32 c = 0; c < sched_ncpus; c++)
		sched_kick(c);
}

#define POLICY_CALL(expr)                        \
	({                                       \
		u64 t0_ = arch_timestamp();      \
		__auto_type r_ = (expr);         \
		policy_check(t0_);               \
		r_;                              \
	})
#define POLICY_DO(expr)                          \
	do {                                     \
		u64 t0_ = arch_timestamp();      \
		expr;                            \
		policy_check(t0_);               \
	} while (0)

void sched_init(const char *name, u32 ncpus)
{
	sched_ncpus = ncpus;
	const struct sched_ops *p = name ? sched_policy_find(name) : sched_policy_default();
	if (!p) {
		kprintf("sched: no policy '%s' in this image; using %s\n", name, sched_policy_default()->name);
		p = sched_policy_default();
	}
	spin_lock(&sched_lock);
	policy = p;
	int rc = policy->init(ncpus, arch_timestamp_hz());
	policy_check(0);
	if (rc && policy != &sched_rr_ops) {
		kprintf("sched: policy %s refused to start; using %s\n", p->name, sched_rr_ops.name);
		policy = &sched_rr_ops;
		policy->init(ncpus, arch_timestamp_hz());
	}
	spin_unlock(&sched_lock);
	cg_marker("sched", "policy=%s cpus=%u", policy->name, ncpus);
}

static int sched_add_vm(const struct sched_ops *p, struct vm *vm)
{
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		int rc = p->vcpu_add(v->id, vm->id, vm->weight, vm->cap, 0);
		if (!rc && vm->rt_period)
			rc = p->set_param(v->id, POLICY_PARAM_RT_PERIOD, (s64)vm->rt_period);
		if (!rc && vm->rt_budget)
			rc = p->set_param(v->id, POLICY_PARAM_RT_BUDGET, (s64)vm->rt_budget);
		if (rc) {
			for (u32 j = 0; j <= i; j++)
				p->vcpu_remove(vm->vcpus[j]->id);
			return rc;
		}
	}
	return 0;
}

int sched_vm_start(struct vm *vm)
{
	spin_lock(&sched_lock);
	int rc = POLICY_CALL(sched_add_vm(policy, vm));
	if (rc) {
		spin_unlock(&sched_lock);
		return rc;
	}
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		v->on_cpu = -1;
		vcpu_by_id[v->id] = v;
		if (v->id >= vcpu_id_limit)
			__atomic_store_n(&vcpu_id_limit, v->id + 1, __ATOMIC_RELEASE);
	}
	struct vcpu *bsp = vm->vcpus[0];
	u64 now = arch_timestamp();
	bsp->state = VCPU_RUNNABLE;
	bsp->runnable_since = now;
	int cpu = POLICY_CALL(policy->vcpu_wake(bsp->id, now));
	spin_unlock(&sched_lock);
	if (cpu >= 0)
		sched_kick((u32)cpu);
	return 0;
}

/* sched_release: the vCPU is done for good (its VM ended); exactly one
 * caller gets to free it. */
static void sched_release(struct vcpu *v)
{
	if (__atomic_exchange_n(&v->released, 1, __ATOMIC_ACQ_REL))
		return;
	spin_lock(&sched_lock);
	POLICY_DO(policy->vcpu_remove(v->id));
	vcpu_by_id[v->id] = NULL;
	v->state = VCPU_STOPPED;
	spin_unlock(&sched_lock);
	vm_release_vcpu(v);
}

void sched_vm_ending(struct vm *vm)
{
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		spin_lock(&sched_lock);
		bool held = v->state == VCPU_RUNNING || v->on_cpu >= 0;
		s32 cpu = v->on_cpu;
		spin_unlock(&sched_lock);
		if (!held)
			sched_release(v);
		else if (cpu >= 0)
			sched_kick((u32)cpu);
	}
}

void sched_wake(struct vcpu *v)
{
	int kick = -1;
	spin_lock(&sched_lock);
	u32 s = v->state;
	if ((s == VCPU_BLOCKED || (s == VCPU_WAIT_SIPI && (v->sipi_pending || v->init_pending))) &&
	    v->vm->paused) {
		v->state = VCPU_PAUSED;
	} else if (s == VCPU_BLOCKED || (s == VCPU_WAIT_SIPI && (v->sipi_pending || v->init_pending))) {
		u64 now = arch_timestamp();
		v->state = VCPU_RUNNABLE;
		v->runnable_since = now;
		kick = POLICY_CALL(policy->vcpu_wake(v->id, now));
	} else if (s == VCPU_RUNNING) {
		kick = v->on_cpu; /* it must leave the guest to take the event */
	}
	spin_unlock(&sched_lock);
	if (kick >= 0)
		sched_kick((u32)kick);
}

int sched_set_policy(const char *name)
{
	const struct sched_ops *p = sched_policy_find(name);
	if (!p)
		return -CG_ENOENT;
	spin_lock(&sched_lock);
	const struct sched_ops *old = policy;
	policy = p;
	int rc = p->init(sched_ncpus, arch_timestamp_hz());
	policy_check(0);
	u64 now = arch_timestamp();
	for (u32 id = 0; !rc && id < POLICY_MAX_VCPUS; id++) {
		struct vcpu *v = vcpu_by_id[id];
		if (!v)
			continue;
		rc = POLICY_CALL(p->vcpu_add(id, v->vm->id, v->vm->weight, v->vm->cap, 0));
		if (!rc && (v->state == VCPU_RUNNABLE || v->state == VCPU_RUNNING))
			POLICY_CALL(p->vcpu_wake(id, now));
	}
	if (rc && policy == p) {
		/* Back to the old policy, rebuilt from the same vCPU list. */
		policy = old;
		old->init(sched_ncpus, arch_timestamp_hz());
		for (u32 id = 0; id < POLICY_MAX_VCPUS; id++) {
			struct vcpu *v = vcpu_by_id[id];
			if (!v)
				continue;
			old->vcpu_add(id, v->vm->id, v->vm->weight, v->vm->cap, 0);
			if (v->state == VCPU_RUNNABLE || v->state == VCPU_RUNNING)
				old->vcpu_wake(id, now);
		}
	}
	spin_unlock(&sched_lock);
	if (!rc)
		cg_marker("sched", "policy=%s cpus=%u", p->name, sched_ncpus);
	for (u32 c = 0; c < sched_ncpus; c++)
		sched_kick(c);
	return rc;
}

/* What the policy picks for this CPU, marked running (sched_lock held). */
static struct vcpu *sched_pick(u32 cpu, u64 now, u64 *slice)
{
	u64 t0 = arch_timestamp();
	int id;
	if (policy->pick) {
		id = POLICY_CALL(policy->pick(cpu, now, slice));
	} else {
		id = POLICY_CALL(policy->pick_next(cpu, now));
		*slice = POLICY_CALL(policy->pick_slice(cpu));
	}
	u64 at = arch_timestamp();
	pick_calls++;
	pick_ticks += at - t0;
	if (id < 0 || id >= POLICY_MAX_VCPUS)
		return NULL;
	struct vcpu *v = vcpu_by_id[id];
	if (!v || v->state != VCPU_RUNNABLE || v->vm->state != VM_RUNNING)
		return NULL; /* a policy that names a vCPU it may not run gets an idle slot */
	v->state = VCPU_RUNNING;
	/* Not now: it was read before sched_lock, and another CPU may have
	 * made v runnable since, stamping a later time (CPUs' timestamps
	 * may differ a little too): at is read under the lock, and a steal
	 * never goes back (it went negative, a huge u64, before). */
	if (at > v->runnable_since)
		v->steal_ticks += at - v->runnable_since;
	v->switches++;
	return v;
}

/* After a run: charge the time, and tell the policy what the vCPU does
 * now (sched_lock held). */
static void sched_ran(struct vcpu *v, u32 cpu, u64 ran, u64 now, enum virt_run_result r)
{
	v->run_ticks += ran;
	POLICY_DO(policy->vcpu_ran(v->id, cpu, ran, now));
	switch (r) {
	case VIRT_RUN_BLOCKED:
	case VIRT_RUN_WAIT_SIPI:
		/* An interrupt or SIPI may have arrived while we decided to stop. */
		if ((r == VIRT_RUN_BLOCKED && (arch_vcpu_irq_pending(v) || v->init_pending)) ||
		    (r == VIRT_RUN_WAIT_SIPI && v->sipi_pending)) {
			v->state = VCPU_RUNNABLE;
			v->runnable_since = now;
		} else {
			v->state = r == VIRT_RUN_BLOCKED ? VCPU_BLOCKED : VCPU_WAIT_SIPI;
			POLICY_DO(policy->vcpu_block(v->id, now));
		}
		break;
	case VIRT_RUN_VM_ENDED:
		v->state = VCPU_BLOCKED;
		break;
	default:
		v->state = VCPU_RUNNABLE;
		v->runnable_since = now;
		break;
	}
	if (v->state == VCPU_RUNNABLE && v->vm->paused) {
		v->state = VCPU_PAUSED;
		POLICY_DO(policy->vcpu_block(v->id, now));
	}
}

int sched_vm_pause(struct vm *vm, bool pause)
{
	int kick[VM_MAX_VCPUS];
	u32 nk = 0;
	spin_lock(&sched_lock);
	if (vm->paused == pause) {
		spin_unlock(&sched_lock);
		return -CG_EBUSY;
	}
	vm->paused = pause;
	u64 now = arch_timestamp();
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		int k = -1;
		if (pause && v->state == VCPU_RUNNABLE) {
			v->state = VCPU_PAUSED;
			POLICY_DO(policy->vcpu_block(v->id, now));
		} else if (pause && v->state == VCPU_RUNNING) {
			k = v->on_cpu; /* it pauses when it comes back (sched_ran) */
		} else if (!pause && v->state == VCPU_PAUSED) {
			v->state = VCPU_RUNNABLE;
			v->runnable_since = now;
			k = POLICY_CALL(policy->vcpu_wake(v->id, now));
		}
		if (k >= 0)
			kick[nk++] = k;
	}
	spin_unlock(&sched_lock);
	for (u32 i = 0; i < nk; i++)
		sched_kick((u32)kick[i]);
	return 0;
}

int sched_vm_set(struct vm *vm, u32 key, u32 value)
{
	int rc = 0;
	spin_lock(&sched_lock);
	for (u32 i = 0; !rc && i < vm->vcpu_count; i++)
		rc = POLICY_CALL(policy->set_param(vm->vcpus[i]->id, key, value));
	if (!rc && key == POLICY_PARAM_WEIGHT)
		vm->weight = value;
	if (!rc && key == POLICY_PARAM_CAP)
		vm->cap = value;
	spin_unlock(&sched_lock);
	return rc;
}

/* sched_put: this CPU lets go of v's VMX state; if v's VM ended
 * meanwhile, v is released here. */
static void sched_put(struct vcpu *v)
{
	arch_vcpu_put(v);
	__atomic_store_n(&v->on_cpu, -1, __ATOMIC_RELEASE);
	if (v->vm->state == VM_ENDING)
		sched_release(v);
}

/* sched_timers: fire the APIC timers of blocked vCPUs that are due at
 * now (which wakes them) and return the earliest deadline still ahead,
 * 0 if none. Running and runnable vCPUs fire their own timers when they
 * next enter the guest. */
static u64 sched_timers(u64 now)
{
	u64 next = 0;
	u32 limit = __atomic_load_n(&vcpu_id_limit, __ATOMIC_ACQUIRE);
	for (u32 id = 0; id < limit; id++) {
		struct vcpu *v = __atomic_load_n(&vcpu_by_id[id], __ATOMIC_ACQUIRE);
		if (!v || v->state != VCPU_BLOCKED)
			continue;
		u64 dl = arch_vcpu_timer_deadline(v);
		if (!dl)
			continue;
		if (dl <= now && arch_vcpu_timer_fire(v, now))
			continue;
		if (!next || dl < next)
			next = dl;
	}
	return next;
}

/* sched_disks: complete throttled disk requests whose tokens have come
 * (the guest may be halted waiting for them) and return the TSC at which
 * the next one is due, 0 if none. */
static u64 sched_disks(u64 now)
{
	bool disks = vm_disks_any(), nics = vm_net_any();
	if (!disks && !nics)
		return 0;
	u64 now_ns = vm_now_ns();
	u64 next_ns = disks ? vm_disks_poll_all(now_ns) : 0;
	/* NICs too: frames their buckets held back, or a busy device left. */
	u64 net_ns = nics ? vm_net_poll_all(now_ns) : 0;
	if (net_ns && (!next_ns || net_ns < next_ns))
		next_ns = net_ns;
	if (!next_ns)
		return 0;
	u64 hz = arch_timestamp_hz(), wait = next_ns > now_ns ? next_ns - now_ns : 0;
	return now + wait / 1000000000ULL * hz + wait % 1000000000ULL * hz / 1000000000ULL + 1;
}

/* Pollers (sched_register_poller): CPU 0 calls them between slices. Core
 * knows them only by pointer, so the layers above (the shell) stay above. */
#define SCHED_POLLERS 4
static sched_poll_fn sched_pollers[SCHED_POLLERS];
static u32 sched_poller_count;

int sched_register_poller(sched_poll_fn fn)
{
	if (sched_poller_count >= SCHED_POLLERS)
		return -CG_ENOMEM;
	sched_pollers[sched_poller_count] = fn;
	__atomic_store_n(&sched_poller_count, sched_poller_count + 1, __ATOMIC_RELEASE);
	return 0;
}

static void sched_poll(void)
{
	u32 n = __atomic_load_n(&sched_poller_count, __ATOMIC_ACQUIRE);
	for (u32 i = 0; i < n; i++)
		sched_pollers[i]();
}

void sched_cpu_loop(u32 cpu)
{
	struct vcpu *held = NULL; /* vCPU whose VMX state this CPU holds */
	arch_tick_start(SCHED_TICK_HZ);
	for (;;) {
		if (cpu == 0)
			sched_poll();
		u64 slice;
		u64 now = arch_timestamp();
		u64 next_timer = sched_timers(now);
		u64 next_disk = sched_disks(now);
		if (next_disk && (!next_timer || next_disk < next_timer))
			next_timer = next_disk;
		spin_lock(&sched_lock);
		struct vcpu *v = sched_pick(cpu, now, &slice);
		spin_unlock(&sched_lock);
		if (held && held != v) {
			sched_put(held);
			held = NULL;
		}
		if (!v) {
			arch_cpu_wait_until(next_timer);
			continue;
		}
		/* Another CPU may still be letting go of v: it does so at once. */
		while (__atomic_load_n(&v->on_cpu, __ATOMIC_ACQUIRE) >= 0 && v->on_cpu != (s32)cpu)
			arch_cpu_relax();
		v->on_cpu = (s32)cpu;
		held = v;
		u64 start = arch_timestamp();
		/* Device work the VM's exits left (budgets) or its buckets
		 * held back: done inside its slice, so charged to it. */
		u64 disk_due = vm_disks_next(v->vm);
		if (disk_due && vm_now_ns() >= disk_due)
			vm_disks_poll(v->vm, vm_now_ns());
		enum virt_run_result r = arch_vcpu_run(v, start + slice);
		u64 end = arch_timestamp();
		if (r == VIRT_RUN_KICKED) {
			spin_lock(&sched_lock);
			if (POLICY_CALL(policy->on_tick(cpu, end)))
				r = VIRT_RUN_PREEMPTED;
			spin_unlock(&sched_lock);
		}
		/* Disk work done for its VM while it had no CPU is its too. */
		u64 debt = vm_disks_take_debt(v->vm);
		spin_lock(&sched_lock);
		sched_ran(v, cpu, end - start + debt, end, r);
		spin_unlock(&sched_lock);
		if (r == VIRT_RUN_VM_ENDED || v->vm->state == VM_ENDING) {
			sched_put(v);
			held = NULL;
		}
	}
}
