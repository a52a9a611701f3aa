/* The VMCS guest pending-debug-exceptions field (SDM Vol 3C 25.4.2,
 * table 25-4): the trap-class #DB a guest has coming, which VM entry
 * delivers as the CPU would have at that instruction boundary (27.7.3),
 * with the priority of a trap on the previous instruction: before NMIs,
 * external interrupts and interrupt-window exits. The monitor adds to it
 * what the instructions it completes itself raise (a TF single step, the
 * breakpoints its emulated accesses hit), so the guest's #DB arrives
 * where a CPU would deliver it and through the one #DB path (intercepted
 * and reflected, vmexit.c). Pure functions of their arguments, run by the
 * host tests (test/unit/test_debug.c) as the monitor runs them. */
#ifndef X86_PENDING_DBG_H
#define X86_PENDING_DBG_H

#include <cg/types.h>

/* Field bits (table 25-4) */
#define PENDING_DBG_B0_B3 0xFULL           /* breakpoint conditions met */
#define PENDING_DBG_ENABLED_BP (1ULL << 12) /* one of them enabled in DR7 */
#define PENDING_DBG_BS (1ULL << 14)         /* single step */
#define PENDING_DBG_RTM (1ULL << 16)        /* inside an RTM region */

#define RFLAGS_TF (1ULL << 8)
#define DEBUGCTL_BTF (1ULL << 1) /* IA32_DEBUGCTL: TF steps taken branches only */

/* Interruptibility (25.4.2, table 25-3) and activity state (25.4.2) as
 * this rule needs them. */
#define PENDING_DBG_BLOCKING_STI_MOVSS 3U
#define PENDING_DBG_ACTIVITY_HLT 1U

/* pending_dbg_single_step: whether an instruction the monitor completes
 * raises a single-step trap: RFLAGS.TF set when it began (SDM Vol 3A
 * 17.3.1.4), and not IA32_DEBUGCTL.BTF, which limits TF to taken
 * branches (17.4.3): none of the instructions the monitor completes is
 * one. */
static inline bool pending_dbg_single_step(u64 rflags, u64 debugctl)
{
	return (rflags & RFLAGS_TF) && !(debugctl & DEBUGCTL_BTF);
}

/* pending_dbg_after: the field once the monitor has completed an
 * instruction, or one iteration of a REP string instruction, for the
 * guest: hits (B0-B3 of the enabled breakpoints its emulated accesses
 * matched, bp_match) set those bits and "enabled breakpoint"; a single
 * step sets BS. What the field held stays: the exit may have saved debug
 * exceptions a MOV SS held back (28.3.4), and they are delivered after
 * this instruction, together with its own, as one #DB (SDM Vol 3A
 * 6.8.3). */
static inline u64 pending_dbg_after(u64 pending, u32 hits, bool single_step)
{
	if (hits & PENDING_DBG_B0_B3)
		pending |= (hits & PENDING_DBG_B0_B3) | PENDING_DBG_ENABLED_BP;
	if (single_step)
		pending |= PENDING_DBG_BS;
	return pending;
}

/* pending_dbg_valid: whether VM entry delivers a #DB from the field (when
 * it injects no event and no MOV SS blocks it): BS or "enabled
 * breakpoint" set (27.7.3). While it is, nothing the monitor injects may
 * take its place: a vectoring entry drops pending debug exceptions, and
 * the CPU delivers the #DB before an interrupt anyway. */
static inline bool pending_dbg_valid(u64 pending)
{
	return pending & (PENDING_DBG_BS | PENDING_DBG_ENABLED_BP);
}

/* pending_dbg_consistent: the field VM entry accepts for this guest state
 * (27.3.1.5): while STI or MOV SS blocks events, or in the HLT state, BS
 * must be 1 exactly when RFLAGS.TF is 1 and IA32_DEBUGCTL.BTF is 0. A #DB
 * exit does not record the guest's own pending single step (its #DB now
 * belongs to the monitor), so the entry that reflects it needs this;
 * every other field is kept. */
static inline u64 pending_dbg_consistent(u64 pending, u64 rflags, u64 debugctl, u32 intr,
					 u32 activity)
{
	if (!(intr & PENDING_DBG_BLOCKING_STI_MOVSS) && activity != PENDING_DBG_ACTIVITY_HLT)
		return pending;
	if (pending_dbg_single_step(rflags, debugctl))
		return pending | PENDING_DBG_BS;
	return pending & ~PENDING_DBG_BS;
}

#endif
