#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include "core/virt.h"
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
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_ENABLE (1ULL << 11)

#define ICR_VECTOR(x) ((x) & 0xFF)
#define ICR_MODE(x) (((x) >> 8) & 7)
#define ICR_LOGICAL (1U << 11)
#define ICR_LEVEL_ASSERT (1U << 14)
#define ICR_TRIGGER_LEVEL (1U << 15)
#define ICR_SHORTHAND(x) (((x) >> 18) & 3)
enum { MODE_FIXED = 0, MODE_LOWEST = 1, MODE_NMI = 4, MODE_INIT = 5, MODE_SIPI = 6 };
enum { SH_NONE = 0, SH_SELF = 1, SH_ALL = 2, SH_OTHERS = 3 };

#define REG_VECTOR_WORD(l, base, vec) vlapic_vector_word(l, base, (vec) / 32)
#define VEC_BIT(vec) (1U << ((vec) % 32))

/* The registers' power-on values (SDM Vol 3A 10.12.5.1: zero but for the
 * ID, the version, DFR all ones, SVR 0xFF and the LVT masks) and no
 * request waiting. The timer's own copies are vlapic_timer.c's. */
static void vlapic_power_on_regs(struct vlapic *l, u32 index)
{
	memset(l->regs, 0, VLAPIC_SIZE);
	memset(l->pir, 0, sizeof(l->pir));
	memset(l->pir_level, 0, sizeof(l->pir_level));
	*vlapic_reg(l, REG_ID) = index << 24;
	*vlapic_reg(l, REG_VERSION) = VLAPIC_VERSION;
	*vlapic_reg(l, REG_DFR) = 0xFFFFFFFFu;
	*vlapic_reg(l, REG_SVR) = 0xFF;
	for (u32 off = REG_LVT_TIMER; off <= REG_LVT_ERROR; off += 16)
		*vlapic_reg(l, off) = LVT_MASKED;
}

void vlapic_reset(struct vlapic *l, u32 index)
{
	u32 *regs = l->regs;
	memset(l, 0, sizeof(*l));
	l->regs = regs;
	vlapic_power_on_regs(l, index);
	l->timer_lvt = LVT_MASKED;
	l->apic_base = VLAPIC_BASE | APIC_BASE_ENABLE | (index == 0 ? APIC_BASE_BSP : 0);
}

void vlapic_init(struct vlapic *l, u32 *regs, u32 index)
{
	l->regs = regs;
	vlapic_reset(l, index);
}

bool vlapic_enabled(const struct vlapic *l)
{
	return l->apic_base & APIC_BASE_ENABLE;
}

/* Highest vector set in the 256-bit array at page offset base, or -1. */
static int highest_vector(const struct vlapic *l, u32 base)
{
	for (int w = 7; w >= 0; w--) {
		u32 bits = *vlapic_vector_word(l, base, (u32)w);
		if (bits)
			return w * 32 + 31 - __builtin_clz(bits);
	}
	return -1;
}

static bool vlapic_accepting(const struct vlapic *l)
{
	return (*vlapic_reg(l, REG_SVR) & SVR_ENABLE) && vlapic_enabled(l);
}

int vlapic_highest_irr(const struct vlapic *l)
{
	return vlapic_accepting(l) ? highest_vector(l, REG_IRR) : -1;
}

int vlapic_highest_isr(const struct vlapic *l)
{
	return highest_vector(l, REG_ISR);
}

static void vlapic_recheck(struct vlapic *l)
{
	__atomic_store_n(&l->recheck, 1, __ATOMIC_RELEASE);
}

bool vlapic_sync(struct vlapic *l)
{
	bool any = false;
	/* Posting takes the lock too: no request is seen without its trigger
	 * mode. */
	spin_lock(&l->lock);
	for (u32 w = 0; w < 8; w++) {
		u32 p = l->pir[w], level = l->pir_level[w] & p;
		if (!p)
			continue;
		l->pir[w] = 0;
		l->pir_level[w] = 0;
		u32 *tmr = vlapic_vector_word(l, REG_TMR, w);
		/* TMR follows the trigger mode of the request last accepted
		 * (SDM Vol 3A 10.8.4) */
		*tmr = (*tmr & ~p) | level;
		*vlapic_vector_word(l, REG_IRR, w) |= p;
		any = true;
	}
	spin_unlock(&l->lock);
	return any;
}

/* PPR (SDM Vol 3A 10.8.3.1): TPR, or the in-service class when higher. */
static u32 vlapic_ppr(const struct vlapic *l)
{
	u32 tpr = *vlapic_reg(l, REG_TPR) & 0xFF;
	int isr = highest_vector(l, REG_ISR);
	if (isr >= 0 && ((u32)isr & 0xF0) > (tpr & 0xF0))
		return (u32)isr & 0xF0;
	return tpr;
}

int vlapic_pending(struct vlapic *l)
{
	vlapic_sync(l);
	if (!vlapic_accepting(l))
		return -1;
	spin_lock(&l->lock);
	int irr = highest_vector(l, REG_IRR);
	u32 ppr = vlapic_ppr(l);
	spin_unlock(&l->lock);
	/* Deliverable only above the processor priority class */
	if (irr < 0 || ((u32)irr & 0xF0) <= (ppr & 0xF0))
		return -1;
	return irr;
}

bool arch_vcpu_irq_pending(struct vcpu *v)
{
	struct vlapic *l = vcpu_lapic(v);
	if (__atomic_load_n(&l->nmi_pending, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&l->nmi_masked, __ATOMIC_ACQUIRE))
		return true; /* an NMI wakes a halted CPU whatever IF says */
	return vlapic_pending(l) >= 0;
}

void vlapic_ack(struct vlapic *l, u8 vector)
{
	spin_lock(&l->lock);
	*REG_VECTOR_WORD(l, REG_IRR, vector) &= ~VEC_BIT(vector);
	*REG_VECTOR_WORD(l, REG_ISR, vector) |= VEC_BIT(vector);
	spin_unlock(&l->lock);
}

void vlapic_unack(struct vlapic *l, u8 vector)
{
	spin_lock(&l->lock);
	*REG_VECTOR_WORD(l, REG_ISR, vector) &= ~VEC_BIT(vector);
	*REG_VECTOR_WORD(l, REG_IRR, vector) |= VEC_BIT(vector);
	spin_unlock(&l->lock);
	vlapic_recheck(l);
}

u32 vlapic_tpr_read(const struct vlapic *l)
{
	return *vlapic_reg(l, REG_TPR) & 0xFF;
}

void vlapic_tpr_write(struct vlapic *l, u32 tpr)
{
	*vlapic_reg(l, REG_TPR) = tpr & 0xFF;
	vlapic_recheck(l); /* a lower priority may let a request through */
}

u64 vlapic_tmr_qword(const struct vlapic *l, u32 i)
{
	return *vlapic_vector_word(l, REG_TMR, 2 * i) |
	       (u64)*vlapic_vector_word(l, REG_TMR, 2 * i + 1) << 32;
}

/* Post vector for v (any CPU): merged by v's own CPU before it enters. */
static void vlapic_post(struct vcpu *v, u8 vector, bool level)
{
	struct vlapic *l = vcpu_lapic(v);
	spin_lock(&l->lock);
	if (!vlapic_enabled(l)) {
		spin_unlock(&l->lock);
		return; /* a disabled APIC takes no interrupts (vlapic_write_base) */
	}
	l->pir[vector / 32] |= VEC_BIT(vector);
	if (level)
		l->pir_level[vector / 32] |= VEC_BIT(vector);
	else
		l->pir_level[vector / 32] &= ~VEC_BIT(vector);
	spin_unlock(&l->lock);
	vlapic_recheck(l);
	/* A running vCPU is kicked out of the guest to merge it; a halted
	 * one becomes runnable. */
	virt_vcpu_wake(v);
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	if (vector < 16)
		return; /* illegal vectors are dropped, as the ESR would report */
	vlapic_post(v, vector, false);
}

void vlapic_nmi(struct vcpu *v)
{
	/* A software-disabled APIC still takes NMI messages (SDM Vol 3A
	 * 10.4.7.2); a globally disabled one takes none. */
	if (vlapic_enabled(vcpu_lapic(v)))
		vlapic_nmi_input(v);
}

void vlapic_nmi_input(struct vcpu *v)
{
	struct vlapic *l = vcpu_lapic(v);
	__atomic_store_n(&l->nmi_pending, 1, __ATOMIC_RELEASE);
	vlapic_recheck(l);
	if (!__atomic_load_n(&l->nmi_masked, __ATOMIC_ACQUIRE))
		virt_vcpu_wake(v);
}

/* EOI of the highest in-service vector (emulated) or of vector (APICv,
 * already out of ISR): a level-triggered source may still be asserted,
 * so its IOAPIC pin learns of the EOI and delivers again if so. */
static void vlapic_eoi_done(struct vcpu *v, int vector)
{
	struct vlapic *l = vcpu_lapic(v);
	if (vector < 0)
		return;
	spin_lock(&l->lock);
	u32 *tmr = REG_VECTOR_WORD(l, REG_TMR, vector);
	bool level = *tmr & VEC_BIT(vector);
	*tmr &= ~VEC_BIT(vector);
	spin_unlock(&l->lock);
	vlapic_recheck(l);
	if (level)
		virt_eoi_level(v->vm, (u8)vector);
}

static void vlapic_eoi(struct vcpu *v)
{
	struct vlapic *l = vcpu_lapic(v);
	spin_lock(&l->lock);
	int isr = highest_vector(l, REG_ISR);
	if (isr >= 0)
		*REG_VECTOR_WORD(l, REG_ISR, isr) &= ~VEC_BIT(isr);
	spin_unlock(&l->lock);
	vlapic_eoi_done(v, isr);
}

void vlapic_eoi_exit(struct vcpu *v, u8 vector)
{
	vlapic_eoi_done(v, vector);
}

static bool dest_matches(const struct vlapic *target, bool logical, u32 dest)
{
	if (logical)
		return ((*vlapic_reg(target, REG_LDR) >> 24) & dest) != 0; /* flat model */
	return dest == 0xFF || dest == *vlapic_reg(target, REG_ID) >> 24;
}

u32 arch_irq_deliver(struct vm *vm, u32 dest, bool logical, enum virt_irq_mode mode, u8 vector,
		     bool level)
{
	u32 n = 0;
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *t = vm->vcpus[i];
		/* A disabled APIC is not on the bus: lowest priority picks
		 * another one */
		if (!t || !vlapic_enabled(vcpu_lapic(t)) || !dest_matches(vcpu_lapic(t), logical, dest))
			continue;
		if (mode == VIRT_IRQ_NMI)
			vlapic_nmi(t); /* the vector is ignored (SDM Vol 3A 10.11.2) */
		else if (vector >= 16)
			vlapic_post(t, vector, level);
		n++;
		if (mode == VIRT_IRQ_LOWEST)
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
		if (to->index == 0) {
			/* The bootstrap processor does not wait for a SIPI after
			 * INIT: it starts over from the reset vector, into the
			 * firmware, as after a reset (SDM Vol 3A 9.1). A VM has no
			 * firmware to go back to: it is reset, as by port 0xCF9. */
			vm_end(to->vm, VM_END_RESET, 0, "init-bsp");
			break;
		}
		if (to->state != VCPU_WAIT_SIPI) {
			to->init_pending = true;
			to->attention = true;
			virt_vcpu_wake(to);
		}
		break;
	case MODE_SIPI:
		if (to->state == VCPU_WAIT_SIPI && !to->sipi_pending) {
			to->sipi_vector = ICR_VECTOR(icr_low);
			to->sipi_pending = true;
			virt_vcpu_wake(to);
		}
		break;
	case MODE_NMI:
		/* The vector is ignored; NMIs are edges (SDM Vol 3A 10.6.1) */
		vlapic_nmi(to);
		break;
	default:
		break; /* SMI IPIs: there is no SMM for guests */
	}
}

static void vlapic_send_ipi(struct vcpu *v, u32 icr_low)
{
	struct vm *vm = v->vm;
	u32 dest = *vlapic_reg(vcpu_lapic(v), REG_ICR_HIGH) >> 24;
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
			hit = dest_matches(vcpu_lapic(t), icr_low & ICR_LOGICAL, dest);
			break;
		}
		if (hit)
			vlapic_deliver(t, icr_low);
	}
}

/* A register read (emulated path; with APICv only the registers the CPU
 * does not read from the page itself come here). */
static u32 vlapic_read(struct vlapic *l, u32 reg)
{
	switch (reg) {
	case REG_APR:
	case REG_EOI:
		return 0;
	case REG_PPR:
		return vlapic_ppr(l);
	case REG_TIMER_CURRENT:
		return vlapic_timer_current(l, arch_timestamp());
	default:
		/* Reserved offsets stay 0 in the page: they read as 0. */
		return *vlapic_reg(l, reg);
	}
}

/* A register write of val: the page gets what the register holds after
 * it (reserved bits cleared) and the write takes its effect. The APICv
 * APIC-write exit comes here too, with the value the CPU already put in
 * the page. */
static void vlapic_write(struct vcpu *v, u32 reg, u32 val)
{
	struct vlapic *l = vcpu_lapic(v);
	u32 *r = vlapic_reg(l, reg);
	if (reg == REG_LVT_TIMER || reg == REG_TIMER_INITIAL || reg == REG_TIMER_DIVIDE) {
		vlapic_timer_write(v, reg, val);
		return;
	}
	if (reg > REG_LVT_TIMER && reg <= REG_LVT_ERROR) {
		*r = val;
		return;
	}
	switch (reg) {
	case REG_ID:
		*r = val & 0xFF000000u;
		break;
	case REG_TPR:
		vlapic_tpr_write(l, val);
		break;
	case REG_EOI:
		*r = 0;
		vlapic_eoi(v);
		break;
	case REG_LDR:
		*r = val & 0xFF000000u;
		break;
	case REG_DFR:
		*r = val | 0x0FFFFFFFu;
		break;
	case REG_SVR:
		*r = val & 0x13FF;
		vlapic_recheck(l); /* software enable may let requests through */
		break;
	case REG_ESR:
		*r = 0;
		break;
	case REG_ICR_HIGH:
		*r = val & 0xFF000000u;
		break;
	case REG_ICR_LOW:
		/* Delivery is instantaneous: the delivery status (bit 12) never
		 * reads "send pending". */
		*r = val & ~(1U << 12);
		vlapic_send_ipi(v, val);
		break;
	default:
		/* Read-only or reserved: the page keeps (or gets back) what the
		 * register reads as. */
		break;
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
	u32 r = vlapic_read(vcpu_lapic(v), reg) >> (8 * (off & 3));
	*val = size == 4 ? r : r & ((1U << (8 * size)) - 1);
	return 0;
}

/* What the page must hold at registers the guest cannot write: an APICv
 * write exit for one of them puts the value back. */
static bool vlapic_read_only(u32 reg)
{
	return reg == REG_VERSION || reg == REG_APR || reg == REG_PPR ||
	       (reg >= REG_ISR && reg < REG_IRR + 0x80) || reg == REG_TIMER_CURRENT;
}

void vlapic_apic_write(struct vcpu *v, u32 off)
{
	u32 reg = off & 0xFF0;
	if (vlapic_read_only(reg))
		return; /* the CPU virtualizes no write there (29.4.3.1) */
	vlapic_write(v, reg, *vlapic_reg(vcpu_lapic(v), reg));
}

int vlapic_write_base(struct vcpu *v, u64 value)
{
	struct vlapic *l = vcpu_lapic(v);
	/* The base address is fixed at 0xFEE00000; x2APIC mode (EXTD, bit 10)
	 * is not offered, and EN=0 with EXTD=1 is no state at all (10.12.5). */
	if ((value & ~0xFFFULL) != VLAPIC_BASE || (value & APIC_BASE_EXTD) || (value & 0x2FF))
		return -CG_EINVAL;
	bool toggled = (value ^ l->apic_base) & APIC_BASE_ENABLE;
	spin_lock(&l->lock);
	/* SDM Vol 3A 10.4.3 (11.4.3 in recent editions): with EN clear the
	 * processor is one without an APIC (its page, its interrupts and its
	 * CPUID bit are gone) and its state may return to the power-on state
	 * (10.4.7.1). Here it always does, at both edges: nothing of it runs
	 * (its timer) or waits (requests) while it is off, and it comes back
	 * as after a reset, software-disabled in SVR. */
	if (toggled)
		vlapic_power_on_regs(l, v->index);
	l->apic_base = (l->apic_base & APIC_BASE_BSP) | (value & ~APIC_BASE_BSP);
	spin_unlock(&l->lock);
	if (toggled)
		vlapic_timer_reset(v);
	vlapic_recheck(l); /* what is deliverable changed */
	return 0;
}
