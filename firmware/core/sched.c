#include "sched.h"
#include "arch.h"
#include "cpu.h"
#include "shell.h"
#include "virt.h"
#include "vm.h"
#include <cg/spinlock.h>

#define SCHED_MAX_PINNED 64
#define SCHED_SLICE_US 10000
#define SHELL_TICK_HZ 100

struct cpu_queue {
	struct vcpu *v[SCHED_MAX_PINNED];
	u32 count;
	u32 next;
	u32 lock;
};

static struct cpu_queue queues[CG_MAX_CPUS];

void sched_pin(struct vcpu *v)
{
	u32 best = 0;
	for (u32 c = 0; c < CG_MAX_CPUS; c++) {
		if (cpu_table[c].state != CPU_ONLINE || !cpu_table[c].virt_on)
			continue;
		if (!cpu_table[best].virt_on || queues[c].count < queues[best].count)
			best = c;
	}
	struct cpu_queue *q = &queues[best];
	spin_lock(&q->lock);
	v->pcpu = best;
	q->v[q->count++] = v;
	spin_unlock(&q->lock);
}

void sched_unpin(struct vcpu *v)
{
	struct cpu_queue *q = &queues[v->pcpu];
	spin_lock(&q->lock);
	for (u32 i = 0; i < q->count; i++) {
		if (q->v[i] == v) {
			q->v[i] = q->v[--q->count];
			break;
		}
	}
	spin_unlock(&q->lock);
}

void sched_kick(u32 cpu)
{
	if (cpu != arch_cpu_index())
		arch_kick_cpu(cpu);
}

void sched_wake(struct vcpu *v)
{
	u32 s = v->state;
	if (s == VCPU_BLOCKED || (s == VCPU_WAIT_SIPI && v->sipi_pending))
		__atomic_compare_exchange_n(&v->state, &s, VCPU_RUNNABLE, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
	/* A running vCPU must leave the guest to take the event. */
	sched_kick(v->pcpu);
}

u64 sched_slice_ticks(void)
{
	return arch_timestamp_hz() / 1000000 * SCHED_SLICE_US;
}

/* What this CPU must do about vCPUs whose VM ended: release them here,
 * where their VMX state lives. */
static void sched_reap(struct cpu_queue *q)
{
	for (u32 i = 0; i < q->count;) {
		struct vcpu *v = q->v[i];
		if (v->vm->state != VM_ENDING) {
			i++;
			continue;
		}
		spin_lock(&q->lock);
		q->v[i] = q->v[--q->count];
		spin_unlock(&q->lock);
		vm_release_vcpu(v);
	}
}

static struct vcpu *sched_pick(struct cpu_queue *q)
{
	for (u32 n = 0; n < q->count; n++) {
		u32 i = (q->next + n) % q->count;
		if (q->v[i]->state == VCPU_RUNNABLE) {
			q->next = i + 1;
			return q->v[i];
		}
	}
	return NULL;
}

static void sched_after_run(struct vcpu *v, enum virt_run_result r)
{
	switch (r) {
	case VIRT_RUN_BLOCKED:
		v->state = VCPU_BLOCKED;
		/* An interrupt that arrived while we were deciding to block. */
		if (vlapic_pending(&v->lapic) >= 0 || v->init_pending)
			v->state = VCPU_RUNNABLE;
		break;
	case VIRT_RUN_WAIT_SIPI:
		v->state = VCPU_WAIT_SIPI;
		if (v->sipi_pending)
			v->state = VCPU_RUNNABLE;
		break;
	case VIRT_RUN_VM_ENDED:
		v->state = VCPU_STOPPED;
		break;
	default:
		v->state = VCPU_RUNNABLE;
		break;
	}
}

void sched_cpu_loop(u32 cpu)
{
	struct cpu_queue *q = &queues[cpu];
	bool shell = cpu == 0 && shell_enabled();
	if (shell)
		arch_tick_start(SHELL_TICK_HZ);
	for (;;) {
		if (shell)
			shell_poll();
		sched_reap(q);
		struct vcpu *v = sched_pick(q);
		if (!v) {
			arch_cpu_wait();
			continue;
		}
		v->state = VCPU_RUNNING;
		enum virt_run_result r = arch_vcpu_run(v, arch_timestamp() + sched_slice_ticks());
		sched_after_run(v, r);
	}
}
