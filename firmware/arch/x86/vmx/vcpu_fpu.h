/* A vCPU's x87/SSE/AVX state and XCR0: one image per vCPU holding every
 * component a guest may enable, started from the power-on values and
 * switched whole when another vCPU takes the CPU (vcpu_fpu.c). */
#ifndef X86_VMX_VCPU_FPU_H
#define X86_VMX_VCPU_FPU_H

#include <cg/types.h>
#include "arch/x86/vmx/xstate.h"

struct vcpu_fpu {
	u64 image_phys; /* the XSAVE (or FXSAVE) image, XSAVE-aligned pages */
	u32 pages;
	u64 xcr0;       /* the guest's XCR0 */
};

/* vcpu_fpu_layout: what the monitor switches, computed once from the
 * host CPU: XSAVE or FXSAVE, the XCR0 components a guest may enable (and
 * that CPUID.(0xD,0) lists), the image size for all of them. */
const struct xstate_layout *vcpu_fpu_layout(void);

/* vcpu_fpu_create: allocate f's image in its power-on state (no other
 * vCPU's registers), XCR0 = x87 only. 0 or -CG_ENOMEM. */
int vcpu_fpu_create(struct vcpu_fpu *f);

/* vcpu_fpu_free: give back f's image. */
void vcpu_fpu_free(struct vcpu_fpu *f);

/* vcpu_fpu_save: store this CPU's registers (every allowed component,
 * whatever the guest's XCR0) into f: the vCPU leaves this CPU. */
void vcpu_fpu_save(struct vcpu_fpu *f);

/* vcpu_fpu_restore: load f's registers and XCR0 on this CPU. */
void vcpu_fpu_restore(const struct vcpu_fpu *f);

/* vcpu_fpu_set_xcr0: the guest's XSETBV of value (f loaded on this CPU):
 * false, and nothing changed, when the SDM's rules refuse it. */
bool vcpu_fpu_set_xcr0(struct vcpu_fpu *f, u64 value);

#endif
