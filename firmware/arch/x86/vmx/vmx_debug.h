/* Debug exceptions around what the monitor does for a guest (vmx_debug.c):
 * the trap-class #DB an instruction the monitor completes raises (TF
 * single step, breakpoints on its emulated accesses), carried to the guest
 * through the VMCS pending-debug-exceptions field (pending_dbg.h); the
 * debug registers INIT resets. Every function works on the vCPU current
 * on this CPU: its DR0-DR3 and DR6 are live in the registers while it is
 * loaded (vmx_run.c switches them), DR7 is in its VMCS. */
#ifndef X86_VMX_DEBUG_H
#define X86_VMX_DEBUG_H

#include <cg/types.h>
#include "arch/x86/vmx/bp_match.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_ops.h"

/* vmx_debug_bp_regs: the guest's breakpoint registers into *r. Returns
 * false, leaving *r partly filled, when DR7 enables no breakpoint (the
 * common case: one VMREAD). */
bool vmx_debug_bp_regs(struct bp_regs *r);

/* vmx_debug_bp_hits_on: vmx_debug_bp_hits once DR7 (dr7) is known to
 * enable a breakpoint. */
u32 vmx_debug_bp_hits_on(u64 dr7, enum bp_access acc, u64 addr, u32 size);

/* vmx_debug_bp_hits: bp_match for one emulated access (a linear address,
 * or a port for BP_IO) against the guest's breakpoints: B0-B3 of those it
 * hits, 0 when none is enabled. Inline: every port and MMIO exit asks,
 * and the answer is nearly always one VMREAD of DR7. */
static inline u32 vmx_debug_bp_hits(enum bp_access acc, u64 addr, u32 size)
{
	u64 dr7 = vmcs_read(VMCS_GUEST_DR7);
	if (__builtin_expect(!(dr7 & DR7_ENABLE_MASK), 1))
		return 0;
	return vmx_debug_bp_hits_on(dr7, acc, addr, size);
}

/* vmx_debug_stepping: whether the instruction that exited is single-
 * stepped (pending_dbg_single_step), given the guest's RFLAGS. */
bool vmx_debug_stepping(u64 rflags);

/* vmx_debug_traps: record, in the pending-debug-exceptions field, the
 * trap-class #DB of an instruction (or REP iteration) the monitor just
 * completed: hits (B0-B3 from bp_match) and a single step when rflags has
 * TF (pending_dbg_after). The next VM entry delivers it; out of line, as
 * only a guest that debugs calls it. */
void vmx_debug_traps(u32 hits, u64 rflags);

/* vmx_debug_completed: vmx_advance_rip's uncommon half, once the guest's
 * RFLAGS (rflags, as the exit saved them) has RF or TF set or the
 * instruction's emulated accesses hit breakpoints (hits): clear RF after
 * a completed instruction (len > 0), and record its trap-class #DB
 * (vmx_debug_traps). */
void vmx_debug_completed(u64 len, u64 rflags, u32 hits);

/* vmx_debug_trap_pending: whether the next VM entry delivers a #DB from
 * the pending-debug-exceptions field (pending_dbg_valid): no external
 * interrupt (or other event of lower priority) may be injected before it,
 * and a HLT does not wait. */
bool vmx_debug_trap_pending(void);

/* vmx_debug_entry_fixup: after a #DB or #AC exit, make the field what VM
 * entry requires for the guest state (pending_dbg_consistent: a TF single
 * step counted as pending under STI or MOV SS blocking). */
void vmx_debug_entry_fixup(void);

/* vmx_debug_init: the debug registers INIT leaves (SDM Vol 3A table 9-1):
 * DR0-DR3 0, DR6 FFFF0FF0H (DR7 and the pending field are in the VMCS,
 * which the caller resets). */
void vmx_debug_init(void);

#endif
