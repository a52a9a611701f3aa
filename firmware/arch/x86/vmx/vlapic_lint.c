/* The local APIC's two interrupt input pins, LINT0 and LINT1 (SDM Vol 3A
 * 10.5.1): an edge on one is delivered as its LVT entry (0x350, 0x360)
 * says. On a PC the NMI line (the front-panel button, chipset errors)
 * reaches the CPUs' LINT1 and the 8259's INTR their LINT0; in a VM only
 * the operator's `vm nmi` raises a pin (core/irq.c), and only LINT1. */
#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include "core/virt.h"

/* Register offsets (SDM Vol 3A table 10-1) */
#define REG_SVR 0xF0
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360

/* LVT fields (SDM Vol 3A figure 10-8) */
#define SVR_ENABLE (1U << 8)
#define LVT_VECTOR(x) ((u8)((x) & 0xFF))
#define LVT_MODE(x) (((x) >> 8) & 7)
#define LVT_MASKED (1U << 16)
enum { LVT_MODE_FIXED = 0, LVT_MODE_SMI = 2, LVT_MODE_NMI = 4, LVT_MODE_INIT = 5,
       LVT_MODE_EXTINT = 7 };

enum virt_lint_result arch_vcpu_lint(struct vcpu *v, u32 pin)
{
	struct vlapic *l = vcpu_lapic(v);
	if (pin > 1)
		return VIRT_LINT_DROPPED;
	if (!vlapic_enabled(l)) {
		/* Globally disabled: the pins are the CPU's own INTR (LINT0) and
		 * NMI (LINT1) inputs (10.4.3); no 8259 drives INTR here. */
		if (pin == 0)
			return VIRT_LINT_DROPPED;
		vlapic_nmi_input(v);
		return VIRT_LINT_NMI;
	}
	/* The vCPU's own CPU writes the page; a 32-bit load sees one value. */
	u32 svr = __atomic_load_n(vlapic_reg(l, REG_SVR), __ATOMIC_ACQUIRE);
	u32 lvt = __atomic_load_n(vlapic_reg(l, pin ? REG_LVT_LINT1 : REG_LVT_LINT0),
				  __ATOMIC_ACQUIRE);
	/* A software-disabled APIC holds every LVT entry masked (10.4.7.2). */
	if ((lvt & LVT_MASKED) || !(svr & SVR_ENABLE))
		return VIRT_LINT_MASKED;
	switch (LVT_MODE(lvt)) {
	case LVT_MODE_NMI:
		/* The vector is ignored; LINT1 is edge-triggered whatever the
		 * trigger-mode bit says (10.5.1). */
		vlapic_nmi(v);
		return VIRT_LINT_NMI;
	case LVT_MODE_FIXED:
		if (LVT_VECTOR(lvt) < 16)
			return VIRT_LINT_DROPPED; /* illegal vector (10.5.3) */
		vlapic_set_irq(v, LVT_VECTOR(lvt));
		return VIRT_LINT_FIXED;
	case LVT_MODE_SMI:
	case LVT_MODE_INIT:
	case LVT_MODE_EXTINT:
	default:
		/* SMI: a VM has no SMM. INIT: not taken from a pin here (the
		 * INIT IPI is the way in). ExtINT: the vector would come from an
		 * 8259 whose INT output a VM does not connect. */
		return VIRT_LINT_DROPPED;
	}
}
