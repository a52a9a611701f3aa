#include "vlapic.h"
#include "arch.h"
#include "dev_ioapic.h"
#include "sched.h"
#include "vcpu.h"
#include "vm.h"
#include <cg/errno.h>
#include <cg/spinlock.h>
#include <cg/string.h>

/* Register offsets (SDM Vol 3A table 10-1) */
#define REG_ID 0x20
#define REG_VERSION 0x30
#define REG_TPR 0x80
#define REG_APR 0x90
#define REG_PPR 0xA0
#define REG_EOI 0xB0
#define REG_LDR 0xD0
#define REG_DFR 0xE0
#define REG_SVR 0xF0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_ESR 0x280
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define REG_LVT_TIMER VLAPIC_REG_LVT_TIMER
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INITIAL VLAPIC_REG_TIMER_INITIAL
#define REG_TIMER_CURRENT VLAPIC_REG_TIMER_CURRENT
#define REG_TIMER_DIVIDE VLAPIC_REG_TIMER_DIVIDE

/* Version 0x14 with 6 LVT entries, as QEMU's APIC reports */
#define VLAPIC_VERSION 0x00050014u
#define SVR_ENABLE (1U << 8)
#define LVT_MASKED (1U << 16)
#define APIC_BASE_BSP (1ULL << 8)
#define APIC_BASE_ENABLE (1ULL << 11)

#define ICR_VECTOR(x) ((x) & 0xFF)
#define ICR_MODE(x) (((x) >> 8) & 7)
#define ICR_LOGICAL (1U << 11)
#define ICR_LEVEL_ASSERT (1U << 14)
#define ICR_TRIGGER_LEVEL (1U << 15)
#define ICR_SHORTHAND(x) (((x) >> 18) & 3)
enum { MODE_FIXED = 0, MODE_LOWEST = 1, MODE_NMI = 4, MODE_INIT = 5, MODE_SIPI = 6 };
enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3 };

void vlapic_reset(struct vlapic *l, u32 index)
{
	memset(l, 0, sizeof(*l));
	l->id = index;
	l->dfr = 0xFFFFFFFFu;
	l->svr = 0xFF;
	for (int i = 0; i < 6; i++)
		l->lvt[i] = LVT_MASKED;
	l->apic_base = VLAPIC_BASE | APIC_BASE_ENABLE | (index == 0 ? APIC_BASE_BSP : 0);
}

bool vlapic_enabled(const struct vlapic *l)
{
	return l->apic_base & APIC_BASE_ENABLE;
}

static int highest_bit(const u32 *bits)
{
	for (int w = 7; w >= 0; w--)
		if (bits[w])
			return w * 32 + 31 - __builtin_clz(bits[w]);
	return -1;
}

int vlapic_pending(struct vlapic *l)
{
	/* The common case on every VM entry: nothing requested. */
	if (!__atomic_load_n(&l->irr_count, __ATOMIC_ACQUIRE))
		return -1;
	if (!(l->svr & SVR_ENABLE) || !vlapic_enabled(l))
		return -1;
	spin_lock(&l->lock);
	int irr = highest_bit(l->irr);
	int isr = highest_bit(l->isr);
	spin_unlock(&l->lock);
	if (irr < 0)
		return -1;
	/* Deliverable only above the in-service class and the task priority */
	if (isr >= 0 && (irr >> 4) <= (isr >> 4))
		return -1;
	if ((irr >> 4) <= (int)((l->tpr >> 4) & 0xF))
		return -1;
	return irr;
}

void vlapic_ack(struct vlapic *l, u8 vector)
{
	spin_lock(&l->lock);
	if (l->irr[vector / 32] & (1U << (vector % 32))) {
		l->irr[vector / 32] &= ~(1U << (vector % 32));
		__atomic_fetch_sub(&l->irr_count, 1, __ATOMIC_RELEASE);
	}
	l->isr[vector / 32] |= 1U << (vector % 32);
	spin_unlock(&l->lock);
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	if (vector < 16)
		return; /* illegal vectors are dropped, as the ESR would report */
	spin_lock(&v->lapic.lock);
	if (!(v->lapic.irr[vector / 32] & (1U << (vector % 32)))) {
		v->lapic.irr[vector / 32] |= 1U << (vector % 32);
		__atomic_fetch_add(&v->lapic.irr_count, 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&v->lapic.lock);
	sched_wake(v);
}

static void vlapic_eoi(struct vcpu *v)
{
	struct vlapic *l = &v->lapic;
	spin_lock(&l->lock);
	int isr = highest_bit(l->isr);
	bool level = false;
	if (isr >= 0) {
		l->isr[isr / 32] &= ~(1U << (isr % 32));
		level = l->tmr[isr / 32] & (1U << (isr % 32));
		l->tmr[isr / 32] &= ~(1U << (isr % 32));
	}
	spin_unlock(&l->lock);
	/* A level-triggered source may still be asserted: its IOAPIC pin
	 * learns of the EOI and delivers again if so. */
	if (level)
		ioapic_eoi(v->vm, (u8)isr);
}

static bool dest_matches(const struct vlapic *target, bool logical, u32 dest)
{
	if (logical)
		return ((target->ldr >> 24) & dest) != 0; /* flat model */
	return dest == 0xFF || dest == target->id;
}

u32 vlapic_deliver_irq(struct vm *vm, u32 dest, bool logical, bool lowest, u8 vector,
		       bool level)
{
	u32 n = 0;
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *t = vm->vcpus[i];
		if (!t || !dest_matches(&t->lapic, logical, dest))
			continue;
		if (level) {
			spin_lock(&t->lapic.lock);
			t->lapic.tmr[vector / 32] |= 1U << (vector % 32);
			spin_unlock(&t->lapic.lock);
		}
		vlapic_set_irq(t, vector);
		n++;
		if (lowest)
			break; /* one of them: the first is as good as any */
	}
	return n;
}

static void vlapic_deliver(struct vcpu *to, u32 icr_low)
{
	switch (ICR_MODE(icr_low)) {
	case MODE_FIXED:
	case MODE_LOWEST:
		vlapic_set_irq(to, ICR_VECTOR(icr_low));
		break;
	case MODE_INIT:
		if (!(icr_low & ICR_LEVEL_ASSERT) && (icr_low & ICR_TRIGGER_LEVEL))
			break; /* INIT level de-assert: no effect on modern CPUs */
		if (to->state != VCPU_WAIT_SIPI) {
			to->init_pending = true;
			to->attention = true;
			sched_wake(to);
		}
		break;
	case MODE_SIPI:
		if (to->state == VCPU_WAIT_SIPI && !to->sipi_pending) {
			to->sipi_vector = ICR_VECTOR(icr_low);
			to->sipi_pending = true;
			sched_wake(to);
		}
		break;
	default:
		break; /* NMI and SMI IPIs are not emulated yet */
	}
}

static void vlapic_send_ipi(struct vcpu *v, u32 icr_low)
{
	struct vm *vm = v->vm;
	u32 dest = v->lapic.icr_high >> 24;
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *t = vm->vcpus[i];
		bool hit;
		switch (ICR_SHORTHAND(icr_low)) {
		case SH_SELF:
			hit = t == v;
			break;
		case SH_ALL:
			hit = true;
			break;
		case SH_OTHERS:
			hit = t != v;
			break;
		default:
			hit = dest_matches(&t->lapic, icr_low & ICR_LOGICAL, dest);
			break;
		}
		if (hit)
			vlapic_deliver(t, icr_low);
	}
}

static u32 vlapic_read(struct vlapic *l, u32 reg)
{
	if (reg >= REG_ISR && reg < REG_ISR + 0x80)
		return l->isr[(reg - REG_ISR) / 16];
	if (reg >= REG_IRR && reg < REG_IRR + 0x80)
		return l->irr[(reg - REG_IRR) / 16];
	if (reg >= REG_TMR && reg < REG_TMR + 0x80)
		return l->tmr[(reg - REG_TMR) / 16];
	if (reg >= REG_LVT_TIMER && reg <= REG_LVT_ERROR)
		return l->lvt[(reg - REG_LVT_TIMER) / 16];
	switch (reg) {
	case REG_ID:
		return l->id << 24;
	case REG_VERSION:
		return VLAPIC_VERSION;
	case REG_TPR:
		return l->tpr;
	case REG_PPR:
		return l->tpr;
	case REG_LDR:
		return l->ldr;
	case REG_DFR:
		return l->dfr;
	case REG_SVR:
		return l->svr;
	case REG_ESR:
		return l->esr;
	case REG_ICR_LOW:
		return 0; /* delivery is instantaneous: never "send pending" */
	case REG_ICR_HIGH:
		return l->icr_high;
	case REG_TIMER_INITIAL:
		return l->timer_initial;
	case REG_TIMER_CURRENT:
		return vlapic_timer_current(l, arch_timestamp());
	case REG_TIMER_DIVIDE:
		return l->timer_divide;
	default:
		return 0;
	}
}

static void vlapic_write(struct vcpu *v, u32 reg, u32 val)
{
	struct vlapic *l = &v->lapic;
	if (reg == REG_LVT_TIMER || reg == REG_TIMER_INITIAL || reg == REG_TIMER_DIVIDE) {
		vlapic_timer_write(v, reg, val);
		return;
	}
	if (reg > REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
		l->lvt[(reg - REG_LVT_TIMER) / 16] = val;
		return;
	}
	switch (reg) {
	case REG_ID:
		l->id = val >> 24;
		break;
	case REG_TPR:
		l->tpr = val & 0xFF;
		break;
	case REG_EOI:
		vlapic_eoi(v);
		break;
	case REG_LDR:
		l->ldr = val & 0xFF000000u;
		break;
	case REG_DFR:
		l->dfr = val | 0x0FFFFFFFu;
		break;
	case REG_SVR:
		l->svr = val & 0x13FF;
		break;
	case REG_ESR:
		l->esr = 0;
		break;
	case REG_ICR_HIGH:
		l->icr_high = val & 0xFF000000u;
		break;
	case REG_ICR_LOW:
		vlapic_send_ipi(v, val);
		break;
	default:
		break; /* read-only registers */
	}
}

int vlapic_mmio(struct vcpu *v, u64 off, bool write, u32 size, u64 *val)
{
	/* Registers are 32 bits wide on 16-byte boundaries; narrower reads of
	 * a register's low bytes are what MOVZX forms produce. */
	if ((off & 0xF) + size > 4 || (write && size != 4 && off != REG_TPR))
		return -CG_EINVAL;
	u32 reg = (u32)(off & ~0xFULL);
	if (write) {
		vlapic_write(v, reg, (u32)*val);
		return 0;
	}
	u32 r = vlapic_read(&v->lapic, reg) >> (8 * (off & 3));
	*val = size == 4 ? r : r & ((1U << (8 * size)) - 1);
	return 0;
}

int vlapic_write_base(struct vlapic *l, u64 value)
{
	/* The base address is fixed at 0xFEE00000; x2APIC mode is not offered. */
	if ((value & ~0xFFFULL) != VLAPIC_BASE || (value & (1ULL << 10)) || (value & 0x2FF))
		return -CG_EINVAL;
	l->apic_base = (l->apic_base & APIC_BASE_BSP) | (value & ~APIC_BASE_BSP);
	return 0;
}
