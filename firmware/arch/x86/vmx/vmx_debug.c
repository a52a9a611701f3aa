/* Debug exceptions around what the monitor does for a guest
 * (vmx_debug.h): the glue between the pure rules (bp_match.c,
 * pending_dbg.h) and the live guest state. */
#include "arch/x86/vmx/vmx_debug.h"
#include "arch/x86/vmx/pending_dbg.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_ops.h"

#define CR4_DE (1ULL << 3)
#define DR6_INIT 0xFFFF0FF0ULL

/* The rest of *r once r->dr7 enables a breakpoint. */
static void vmx_debug_bp_fill(struct bp_regs *r)
{
	__asm__ volatile("mov %%dr0, %0" : "=r"(r->dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(r->dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(r->dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(r->dr[3]));
	/* DE is the guest's own (not in the CR4 guest/host mask). */
	r->cr4_de = vmcs_read(VMCS_GUEST_CR4) & CR4_DE;
}

bool vmx_debug_bp_regs(struct bp_regs *r)
{
	r->dr7 = vmcs_read(VMCS_GUEST_DR7);
	if (!(r->dr7 & DR7_ENABLE_MASK))
		return false;
	vmx_debug_bp_fill(r);
	return true;
}

u32 vmx_debug_bp_hits_on(u64 dr7, enum bp_access acc, u64 addr, u32 size)
{
	struct bp_regs r = { .dr7 = dr7 };
	vmx_debug_bp_fill(&r);
	return bp_match(&r, acc, addr, size);
}

bool vmx_debug_stepping(u64 rflags)
{
	if (!(rflags & RFLAGS_TF))
		return false;
	return pending_dbg_single_step(rflags, vmcs_read(VMCS_GUEST_DEBUGCTL));
}

void vmx_debug_traps(u32 hits, u64 rflags)
{
	u64 old = vmcs_read(VMCS_GUEST_PENDING_DBG);
	u64 now = pending_dbg_after(old, hits, vmx_debug_stepping(rflags));
	if (now != old)
		vmcs_write(VMCS_GUEST_PENDING_DBG, now);
}

void vmx_debug_completed(u64 len, u64 rflags, u32 hits)
{
	if (len && (rflags & RFLAGS_RF))
		vmcs_write(VMCS_GUEST_RFLAGS, rflags & ~RFLAGS_RF);
	if ((rflags & RFLAGS_TF) || hits)
		vmx_debug_traps(hits, rflags);
}

bool vmx_debug_trap_pending(void)
{
	return pending_dbg_valid(vmcs_read(VMCS_GUEST_PENDING_DBG));
}

void vmx_debug_entry_fixup(void)
{
	u32 intr = (u32)vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	u32 activity = (u32)vmcs_read(VMCS_GUEST_ACTIVITY_STATE);
	if (!(intr & PENDING_DBG_BLOCKING_STI_MOVSS) && activity != PENDING_DBG_ACTIVITY_HLT)
		return;
	u64 old = vmcs_read(VMCS_GUEST_PENDING_DBG);
	u64 now = pending_dbg_consistent(old, vmcs_read(VMCS_GUEST_RFLAGS),
					 vmcs_read(VMCS_GUEST_DEBUGCTL), intr, activity);
	if (now != old)
		vmcs_write(VMCS_GUEST_PENDING_DBG, now);
}

void vmx_debug_init(void)
{
	u64 zero = 0, dr6 = DR6_INIT;
	__asm__ volatile("mov %0, %%dr0" ::"r"(zero));
	__asm__ volatile("mov %0, %%dr1" ::"r"(zero));
	__asm__ volatile("mov %0, %%dr2" ::"r"(zero));
	__asm__ volatile("mov %0, %%dr3" ::"r"(zero));
	__asm__ volatile("mov %0, %%dr6" ::"r"(dr6));
}
