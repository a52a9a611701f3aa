/* The guest's local xAPIC at 0xFEE00000: what AP bring-up and IPIs need
 * (SDM Vol 3A chapter 10): ID, version, TPR, EOI, LDR/DFR, SVR, ISR/IRR
 * tracking for fixed IPIs, and ICR with INIT, SIPI, fixed and NMI
 * deliveries to one vCPU, all, or all but self. */
#ifndef CG_VLAPIC_H
#define CG_VLAPIC_H

#include <cg/types.h>

#define VLAPIC_BASE 0xFEE00000ULL
#define VLAPIC_SIZE 0x1000ULL

struct vcpu;

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
	u32 irr_count;   /* bits set in irr: the lock-free "anything?" check */
	u32 lock;
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

#endif
