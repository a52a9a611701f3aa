/* The local APIC timer of a vCPU (SDM Vol 3A 10.5.4): one-shot, periodic
 * and TSC-deadline modes. Counts are turned into host TSC deadlines once,
 * when the guest programs the timer; the current count is computed from
 * the TSC when read, so a running timer costs nothing until it expires.
 * One-shot and periodic counts are durations at the crystal clock: the
 * VM's TSC offset does not touch them. A TSC deadline is a guest TSC
 * value: it becomes a host one through the VM's offset (vmx_tsc.h), again
 * whenever the offset changes. */
#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/vmx_tsc.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include "core/virt.h"
#include <cg/spinlock.h>

#define LVT_VECTOR(x) ((x) & 0xFF)
#define LVT_MASKED (1U << 16)
#define LVT_TIMER_MODE(x) (((x) >> 17) & 3)
enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

u32 vlapic_crystal_div(u64 tsc_hz)
{
	return (u32)(tsc_hz / 0xFFFFFFFFULL) + 1;
}

/* Divide configuration register bits 0, 1 and 3 (SDM figure 10-10):
 * 0b1011 divides by 1, the others by 2 << value. */
static u32 timer_divisor(u32 dcr)
{
	u32 v = (dcr & 3) | ((dcr >> 1) & 4);
	return v == 7 ? 1 : 2U << v;
}

static u64 ticks_per_count(const struct vlapic *l)
{
	return (u64)timer_divisor(l->timer_divide) * vlapic_crystal_div(arch_timestamp_hz());
}

/* A new deadline: the vCPU's run loop must rearm its preemption timer, so
 * the next exit goes back to it (attention) instead of straight in. */
static void timer_set_deadline(struct vcpu *v, u64 deadline)
{
	vcpu_lapic(v)->timer_deadline = deadline;
	vcpu_lapic(v)->timer_dirty = true;
	__atomic_store_n(&v->attention, true, __ATOMIC_RELEASE);
}

/* (Re)start counting from the initial count at TSC now. */
static void timer_start(struct vcpu *v, u64 now)
{
	struct vlapic *l = vcpu_lapic(v);
	u32 mode = LVT_TIMER_MODE(l->timer_lvt);
	if (mode == TIMER_TSC_DEADLINE)
		return;
	if (!l->timer_initial) {
		l->timer_period = 0;
		timer_set_deadline(v, 0);
		return;
	}
	l->timer_start = now;
	l->timer_period = (u64)l->timer_initial * ticks_per_count(l);
	timer_set_deadline(v, now + l->timer_period);
}

u32 vlapic_timer_current(struct vlapic *l, u64 now)
{
	u64 dl = l->timer_deadline;
	if (!dl || LVT_TIMER_MODE(l->timer_lvt) == TIMER_TSC_DEADLINE || now >= dl)
		return 0;
	return (u32)((dl - now) / ticks_per_count(l));
}

void vlapic_timer_write(struct vcpu *v, u32 reg, u32 val)
{
	struct vlapic *l = vcpu_lapic(v);
	u64 now = arch_timestamp();
	spin_lock(&l->lock);
	switch (reg) {
	case VLAPIC_REG_LVT_TIMER: {
		u32 old_mode = LVT_TIMER_MODE(l->timer_lvt);
		l->timer_lvt = val & (LVT_MASKED | (3U << 17) | 0xFF);
		*vlapic_reg(l, reg) = l->timer_lvt;
		if (LVT_TIMER_MODE(val) != old_mode) {
			/* A mode change disarms the timer (SDM 10.5.4.1). */
			l->timer_initial = 0;
			*vlapic_reg(l, VLAPIC_REG_TIMER_INITIAL) = 0;
			l->tsc_deadline = 0;
			l->timer_period = 0;
			timer_set_deadline(v, 0);
		}
		break;
	}
	case VLAPIC_REG_TIMER_INITIAL:
		if (LVT_TIMER_MODE(l->timer_lvt) != TIMER_TSC_DEADLINE) {
			l->timer_initial = val;
			timer_start(v, now);
		}
		*vlapic_reg(l, reg) = l->timer_initial;
		break;
	case VLAPIC_REG_TIMER_DIVIDE: {
		u32 remaining = vlapic_timer_current(l, now);
		l->timer_divide = val & 0xB;
		*vlapic_reg(l, reg) = l->timer_divide;
		/* The count goes on at the new rate from where it is. */
		if (l->timer_deadline && LVT_TIMER_MODE(l->timer_lvt) != TIMER_TSC_DEADLINE)
			timer_set_deadline(v, now + (u64)remaining * ticks_per_count(l));
		if (l->timer_initial)
			l->timer_period = (u64)l->timer_initial * ticks_per_count(l);
		break;
	}
	default:
		break;
	}
	spin_unlock(&l->lock);
}

u64 vlapic_tsc_deadline_read(struct vlapic *l)
{
	if (LVT_TIMER_MODE(l->timer_lvt) != TIMER_TSC_DEADLINE)
		return 0;
	return l->tsc_deadline;
}

void vlapic_tsc_deadline_write(struct vcpu *v, u64 value)
{
	struct vlapic *l = vcpu_lapic(v);
	spin_lock(&l->lock);
	if (LVT_TIMER_MODE(l->timer_lvt) == TIMER_TSC_DEADLINE) {
		l->tsc_deadline = value;
		/* The offset is read under the lock: a writer of the TSC stores
		 * it first and then moves every armed deadline under this lock. */
		timer_set_deadline(v, value ? tsc_host_deadline(value, arch_timestamp(),
								vmx_tsc_offset(v->vm))
					    : 0);
	}
	spin_unlock(&l->lock);
}

void vlapic_tsc_offset_changed(struct vcpu *v, u64 offset)
{
	struct vlapic *l = vcpu_lapic(v);
	spin_lock(&l->lock);
	if (LVT_TIMER_MODE(l->timer_lvt) == TIMER_TSC_DEADLINE && l->tsc_deadline)
		timer_set_deadline(v, tsc_host_deadline(l->tsc_deadline, arch_timestamp(), offset));
	spin_unlock(&l->lock);
}

void vlapic_timer_reset(struct vcpu *v)
{
	struct vlapic *l = vcpu_lapic(v);
	spin_lock(&l->lock);
	l->timer_lvt = LVT_MASKED;
	l->timer_initial = 0;
	l->timer_divide = 0;
	l->timer_start = 0;
	l->timer_period = 0;
	l->tsc_deadline = 0;
	timer_set_deadline(v, 0);
	spin_unlock(&l->lock);
}

bool vlapic_timer_fire(struct vcpu *v, u64 now)
{
	struct vlapic *l = vcpu_lapic(v);
	u64 dl = __atomic_load_n(&l->timer_deadline, __ATOMIC_ACQUIRE);
	if (!dl || now < dl)
		return false;
	spin_lock(&l->lock);
	dl = l->timer_deadline;
	if (!dl || now < dl) {
		spin_unlock(&l->lock);
		return false;
	}
	u32 lvt = l->timer_lvt;
	if (LVT_TIMER_MODE(lvt) == TIMER_PERIODIC && l->timer_period) {
		/* Periods missed while the vCPU waited collapse into one
		 * interrupt, as on hardware with the interrupt pending. */
		u64 late = now - dl;
		timer_set_deadline(v, now + l->timer_period - late % l->timer_period);
	} else {
		l->tsc_deadline = 0;
		timer_set_deadline(v, 0);
	}
	spin_unlock(&l->lock);
	if (!(lvt & LVT_MASKED))
		vlapic_set_irq(v, (u8)LVT_VECTOR(lvt));
	return true;
}

u64 arch_vcpu_timer_deadline(struct vcpu *v)
{
	return __atomic_load_n(&vcpu_lapic(v)->timer_deadline, __ATOMIC_ACQUIRE);
}

bool arch_vcpu_timer_fire(struct vcpu *v, u64 now)
{
	return vlapic_timer_fire(v, now);
}
