/* The guest's local xAPIC at 0xFEE00000 (SDM Vol 3A chapter 10): ID,
 * version, TPR/PPR, EOI (with the IOAPIC told about level-triggered
 * vectors), LDR/DFR, SVR, IRR/ISR/TMR, ICR with INIT, SIPI and fixed
 * deliveries, and the timer in one-shot, periodic and TSC-deadline modes.
 *
 * Time: the guest's TSC is the host's (no offset, no scaling), so guest
 * time never stops or jumps while a vCPU waits for a CPU. The APIC timer
 * counts at the "core crystal clock" CPUID leaf 0x15 reports: the TSC
 * divided by vlapic_crystal_div(). Timer deadlines are kept as host TSC
 * values; the run loop and the scheduler turn them into interrupts. */
#ifndef CG_VLAPIC_H
#define CG_VLAPIC_H

#include <cg/types.h>

#define VLAPIC_BASE 0xFEE00000ULL
#define VLAPIC_SIZE 0x1000ULL
/* Timer registers (SDM Vol 3A table 10-1) */
#define VLAPIC_REG_LVT_TIMER 0x320
#define VLAPIC_REG_TIMER_INITIAL 0x380
#define VLAPIC_REG_TIMER_CURRENT 0x390
#define VLAPIC_REG_TIMER_DIVIDE 0x3E0

struct vcpu;
struct vm;

struct vlapic {
	u32 id;
	u32 tpr;
	u32 ldr;
	u32 dfr;
	u32 svr;
	u32 icr_high;
	u32 esr;
	u32 lvt[6];
	u64 apic_base;   /* IA32_APIC_BASE as the guest sees it */
	u32 irr[8];      /* 256 bits: requested */
	u32 isr[8];      /* 256 bits: in service */
	u32 tmr[8];      /* level-triggered vectors in service or requested */
	u32 irr_count;   /* bits set in irr: the lock-free "anything?" check */
	u32 lock;
	/* timer */
	u32 timer_initial;   /* initial count register */
	u32 timer_divide;    /* divide configuration register */
	u64 timer_start;     /* TSC when the current count period began */
	u64 timer_period;    /* TSC ticks of one full count (periodic) */
	volatile u64 timer_deadline; /* TSC of the next expiry, 0: disarmed */
	u64 tsc_deadline;    /* IA32_TSC_DEADLINE as the guest wrote it */
	volatile bool timer_dirty; /* the deadline moved: rearm the run loop's timer */
};

/* vlapic_reset: power-on state for vCPU index (APIC ID = index; the
 * bootstrap processor has IA32_APIC_BASE.BSP set). */
void vlapic_reset(struct vlapic *l, u32 index);

/* vlapic_mmio: a guest read or write of size bytes at offset off of the
 * APIC page. Returns 0, or -CG_EINVAL for an access that is not an aligned
 * 32-bit register access (the caller stops the VM with a report). */
int vlapic_mmio(struct vcpu *v, u64 off, bool write, u32 size, u64 *val);

/* vlapic_set_irq: request fixed interrupt vector on v (from an IPI). */
void vlapic_set_irq(struct vcpu *v, u8 vector);

/* vlapic_pending: highest requested vector deliverable now (above the
 * in-service and task priority), or -1. */
int vlapic_pending(struct vlapic *l);

/* vlapic_ack: the vector was delivered to the guest: IRR -> ISR. */
void vlapic_ack(struct vlapic *l, u8 vector);

/* vlapic_write_base: guest WRMSR IA32_APIC_BASE. Returns 0 or -CG_EINVAL
 * for a value the guest may not set (the caller injects #GP). */
int vlapic_write_base(struct vlapic *l, u64 value);

/* vlapic_enabled: the APIC is globally and software enabled. */
bool vlapic_enabled(const struct vlapic *l);

/* vlapic_crystal_div: TSC ticks per APIC timer tick (at least 1): the
 * smallest divisor that makes the crystal frequency fit CPUID's 32 bits. */
u32 vlapic_crystal_div(u64 tsc_hz);

/* vlapic_timer_fire: if v's timer deadline has passed at TSC now, request
 * its interrupt (unless masked) and rearm (periodic) or disarm it.
 * Returns true when it fired. Called by the vCPU's own CPU, or by the
 * scheduler for a blocked vCPU. */
bool vlapic_timer_fire(struct vcpu *v, u64 now);

/* vlapic_timer_write: a guest write of the LVT timer, initial count or
 * divide configuration register (vlapic.c routes them here). */
void vlapic_timer_write(struct vcpu *v, u32 reg, u32 val);

/* vlapic_timer_current: the current count register at TSC now. */
u32 vlapic_timer_current(struct vlapic *l, u64 now);

/* vlapic_tsc_deadline_read / _write: the IA32_TSC_DEADLINE MSR. A write
 * arms the timer when the LVT timer is in TSC-deadline mode (0 disarms);
 * otherwise it is remembered and ignored, as the SDM says. */
u64 vlapic_tsc_deadline_read(struct vlapic *l);
void vlapic_tsc_deadline_write(struct vcpu *v, u64 value);

/* vlapic_deliver_irq: an interrupt from outside the vCPUs (IOAPIC or MSI)
 * to the vCPUs of vm matching dest (physical APIC ID, 0xFF = all; or a
 * logical flat-model mask). Fixed: every match; lowest priority: the
 * first match. level marks the vector in TMR so its EOI reaches the
 * IOAPIC. Returns the number of vCPUs it went to. */
u32 vlapic_deliver_irq(struct vm *vm, u32 dest, bool logical, bool lowest, u8 vector,
		       bool level);

#endif
