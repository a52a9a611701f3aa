/* The guest's local xAPIC at 0xFEE00000 (SDM Vol 3A chapter 10): ID,
 * version, TPR/PPR, EOI (with the IOAPIC told about level-triggered
 * vectors), LDR/DFR, SVR, IRR/ISR/TMR, ICR with INIT, SIPI, NMI and fixed
 * deliveries, the NMI latch, and the timer in one-shot, periodic and
 * TSC-deadline modes.
 *
 * Time: the guest's TSC is the host's plus the VM's offset (0 until the
 * guest writes its TSC; vmx_tsc.h), never scaled, so guest time never
 * stops or jumps while a vCPU waits for a CPU. The APIC timer counts at
 * the "core crystal clock" CPUID leaf 0x15 reports: the TSC divided by
 * vlapic_crystal_div(). Timer deadlines are kept as host TSC values; the
 * run loop and the scheduler turn them into interrupts. */
#ifndef CG_VLAPIC_H
#define CG_VLAPIC_H

#include <cg/types.h>
#include "core/virt.h" /* VLAPIC_BASE, VLAPIC_SIZE */

/* Timer registers (SDM Vol 3A table 10-1) */
#define VLAPIC_REG_LVT_TIMER 0x320
#define VLAPIC_REG_TIMER_INITIAL 0x380
#define VLAPIC_REG_TIMER_CURRENT 0x390
#define VLAPIC_REG_TIMER_DIVIDE 0x3E0

struct vcpu;
struct vm;

/* The registers live in one 4 KiB page laid out as the APIC page (SDM
 * Vol 3A table 10-1: register at offset off is word off / 4). With APIC
 * virtualization that page is the VMCS's virtual-APIC page (Vol 3C 29.1):
 * the CPU reads registers, takes TPR writes and EOIs, and delivers
 * interrupts (VIRR -> VISR) in it without an exit; otherwise vlapic.c
 * does all of that on the same page from EPT-violation exits. Either way
 * the page is the one register model.
 *
 * Who writes what: the page is written only by the vCPU's own CPU while
 * the vCPU is out of the guest (and by that CPU in the guest, with APICv).
 * Other CPUs post interrupt requests in pir/pir_level and set recheck;
 * the owner merges them into IRR/TMR before its next VM entry
 * (vlapic_sync), so the CPU never sees a vector whose EOI-exit bit is not
 * yet set, and no one races the CPU's own updates of the page. */
struct vlapic {
	u32 *regs;           /* the register page (4 KiB aligned, identity mapped) */
	u64 apic_base;       /* IA32_APIC_BASE as the guest sees it */
	u32 pir[8];          /* 256 bits: requested, not yet merged into IRR */
	u32 pir_level[8];    /* of those, level-triggered (TMR bit on merge) */
	/* Set by anything that may change what is deliverable (a request, an
	 * EOI, a TPR or SVR write): the owner re-evaluates before its next
	 * entry. */
	volatile u32 recheck;
	u32 lock;
	/* timer: its own copies, so a write already in the page (APICv's
	 * APIC-write exits come after the fact) can still be compared with
	 * the old value */
	u32 timer_lvt;       /* LVT timer register in effect */
	u32 timer_initial;   /* initial count register */
	u32 timer_divide;    /* divide configuration register */
	u64 timer_start;     /* TSC when the current count period began */
	u64 timer_period;    /* TSC ticks of one full count (periodic) */
	volatile u64 timer_deadline; /* host TSC of the next expiry, 0: disarmed */
	u64 tsc_deadline;    /* IA32_TSC_DEADLINE as the guest wrote it (guest TSC) */
	volatile bool timer_dirty; /* the deadline moved: rearm the run loop's timer */
	/* NMIs (SDM Vol 3A 6.7.1): one latched, not yet delivered; more that
	 * come meanwhile are lost, as on the CPU. Set by any CPU, taken by
	 * the vCPU's own CPU when it injects it. */
	volatile u32 nmi_pending;
	/* The vCPU halted inside its NMI handler (virtual-NMI blocking in
	 * effect at its HLT): a new NMI waits for its IRET and does not wake
	 * it. Cleared whenever the vCPU runs again. */
	volatile bool nmi_masked;
};

/* Register offsets of the APIC page used outside vlapic.c (table 10-1) */
#define VLAPIC_REG_ID 0x20
#define VLAPIC_REG_TPR 0x80
#define VLAPIC_REG_ISR 0x100
#define VLAPIC_REG_TMR 0x180
#define VLAPIC_REG_IRR 0x200

/* vlapic_reg: the 32-bit register at page offset off (16-byte aligned). */
static inline u32 *vlapic_reg(const struct vlapic *l, u32 off)
{
	return &l->regs[off / 4];
}

/* vlapic_vector_word: word w (0-7, vectors 32w..32w+31) of the 256-bit
 * register array (ISR, TMR or IRR) starting at base. */
static inline u32 *vlapic_vector_word(const struct vlapic *l, u32 base, u32 w)
{
	return &l->regs[(base + 16 * w) / 4];
}

/* vlapic_init: give l its register page (4 KiB, 4 KiB aligned) and the
 * power-on state for vCPU index (see vlapic_reset). */
void vlapic_init(struct vlapic *l, u32 *regs, u32 index);

/* vlapic_reset: power-on state for vCPU index (APIC ID = index; the
 * bootstrap processor has IA32_APIC_BASE.BSP set); keeps the page. */
void vlapic_reset(struct vlapic *l, u32 index);

/* vlapic_mmio: a guest read or write of size bytes at offset off of the
 * APIC page (the EPT-violation handler's, before core's MMIO router). Returns 0, or -CG_EINVAL for an access that is not an aligned
 * 32-bit register access (the caller stops the VM with a report). */
int vlapic_mmio(struct vcpu *v, u64 off, bool write, u32 size, u64 *val);

/* vlapic_set_irq: request fixed interrupt vector on v (from an IPI). */
void vlapic_set_irq(struct vcpu *v, u8 vector);

/* vlapic_nmi: an NMI for v (an NMI IPI): latched (at most one
 * pending) and v woken or kicked to take it. Any CPU. Nothing happens
 * when v's APIC is globally disabled (it accepts no messages). */
void vlapic_nmi(struct vcpu *v);

/* vlapic_nmi_input: an NMI for v whatever its APIC's state: the CPU's own
 * NMI input, which LINT1 becomes while the APIC is globally disabled
 * (SDM Vol 3A 10.4.3). Latched and v woken as by vlapic_nmi. Any CPU. */
void vlapic_nmi_input(struct vcpu *v);

/* vlapic_take_nmi: true (once) when an NMI is latched; clears the latch.
 * The vCPU's own CPU, when it injects the NMI. */
static inline bool vlapic_take_nmi(struct vlapic *l)
{
	return __atomic_exchange_n(&l->nmi_pending, 0, __ATOMIC_ACQUIRE) != 0;
}

/* vlapic_unack: undo vlapic_ack for vector (ISR -> IRR): the interrupt
 * was injected but its delivery gave way to an exception (vmx_run.c), so
 * it is requested again. */
void vlapic_unack(struct vlapic *l, u8 vector);

/* vlapic_sync: merge the requests posted by other CPUs into IRR (and
 * TMR). Only while the vCPU is out of the guest: its own CPU before an
 * entry, or anyone for a vCPU that is not running. Returns true when
 * IRR gained a vector. */
bool vlapic_sync(struct vlapic *l);

/* vlapic_pending: highest requested vector deliverable now (above the
 * in-service and task priority), or -1. Merges posted requests first
 * (vlapic_sync's rules). */
int vlapic_pending(struct vlapic *l);

/* vlapic_highest_irr: the highest vector in IRR (merged requests only),
 * or -1 when there is none or the APIC is disabled: APICv's RVI. */
int vlapic_highest_irr(const struct vlapic *l);

/* vlapic_highest_isr: the highest vector in service, or -1: APICv's SVI. */
int vlapic_highest_isr(const struct vlapic *l);

/* vlapic_take_recheck: true (once) when something may have become
 * deliverable since the last call (see struct vlapic's recheck). */
static inline bool vlapic_take_recheck(struct vlapic *l)
{
	return __atomic_exchange_n(&l->recheck, 0, __ATOMIC_ACQUIRE) != 0;
}

/* vlapic_ack: the vector was delivered to the guest: IRR -> ISR. */
void vlapic_ack(struct vlapic *l, u8 vector);

/* vlapic_tpr_read / vlapic_tpr_write: the task-priority register, for
 * MOV from/to CR8 (CR8 = TPR[7:4], SDM Vol 3A 10.8.6.1). */
u32 vlapic_tpr_read(const struct vlapic *l);
void vlapic_tpr_write(struct vlapic *l, u32 tpr);

/* vlapic_apic_write: APICv's APIC-write exit (Vol 3C 29.4.3.3): the guest
 * already wrote the register at page offset off; apply what the write
 * means (IPI, timer, masks) as vlapic_mmio would have. */
void vlapic_apic_write(struct vcpu *v, u32 off);

/* vlapic_eoi_exit: APICv's EOI-induced exit for vector (Vol 3C 29.1.2):
 * the CPU already took it out of ISR; a level-triggered vector's EOI is
 * passed on to the IOAPIC. */
void vlapic_eoi_exit(struct vcpu *v, u8 vector);

/* vlapic_tmr_qword: TMR bits 64i..64i+63, the EOI-exit bitmap field i
 * APICv needs so that level-triggered EOIs exit. */
u64 vlapic_tmr_qword(const struct vlapic *l, u32 i);

/* vlapic_write_base: guest WRMSR IA32_APIC_BASE on v. Clearing or setting
 * the enable bit (11) puts the vLAPIC back in its power-on state; while it
 * is clear the APIC is hidden: its page is unassigned memory (exit_ept.c),
 * interrupts for it are dropped, CPUID.1:EDX.APIC reads 0. Returns 0 or
 * -CG_EINVAL for a value the guest may not set (the caller injects #GP). */
int vlapic_write_base(struct vcpu *v, u64 value);

/* vlapic_enabled: the APIC is globally enabled (IA32_APIC_BASE.EN). */
bool vlapic_enabled(const struct vlapic *l);

/* vlapic_crystal_div: TSC ticks per APIC timer tick (at least 1): the
 * smallest divisor that makes the crystal frequency fit CPUID's 32 bits. */
u32 vlapic_crystal_div(u64 tsc_hz);

/* vlapic_timer_fire: if v's timer deadline has passed at TSC now, request
 * its interrupt (unless masked) and rearm (periodic) or disarm it.
 * Returns true when it fired. Called by the vCPU's own CPU, or by core's
 * scheduler for a blocked vCPU (arch_vcpu_timer_fire, core/virt.h). */
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

/* vlapic_tsc_offset_changed: v's VM has a new TSC offset: an armed
 * TSC-deadline timer fires when the guest's TSC reaches its deadline, so
 * its host deadline moves (it may be due at once). Any CPU. */
void vlapic_tsc_offset_changed(struct vcpu *v, u64 offset);

/* vlapic_timer_reset: the timer's power-on state: LVT masked, one-shot,
 * counts and deadline 0, disarmed. */
void vlapic_timer_reset(struct vcpu *v);

#endif
