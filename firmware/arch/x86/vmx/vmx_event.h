/* Events the monitor puts into a guest: the rules VM entry checks on an
 * injected event, and what reflecting an intercepted #DB does to the
 * guest's DR6 and DR7. Pure functions of their arguments, so the host
 * tests (test/unit/test_vmx_event.c) run them as the monitor does. */
#ifndef X86_VMX_EVENT_H
#define X86_VMX_EVENT_H

#include <cg/types.h>
#include "arch/x86/vmx/vmcs.h"

/* Exception vectors (SDM Vol 3A 6.3.1) */
#define VEC_DB 1
#define VEC_UD 6
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_AC 17

/* Exceptions every guest has intercepted (exception bitmap, SDM Vol 3C
 * 25.6.3): #AC and #DB can be raised while the CPU delivers them, and the
 * CPU then delivers them again, forever, without an instruction boundary
 * where an interrupt or a VM exit could come in (CVE-2015-5307,
 * CVE-2015-8104). Intercepted, each attempt is a VM exit, so the monitor
 * keeps the CPU. */
#define VMX_EXCEPTION_BITMAP ((1U << VEC_DB) | (1U << VEC_AC))

/* DR6 (SDM Vol 3A 17.2.3) and the #DB exit qualification, which uses the
 * same bit positions (SDM Vol 3C 28.2.1, table 28-1) */
#define DR6_B0_B3 0xFULL
#define DR6_BD (1ULL << 13)
#define DR6_BS (1ULL << 14)
#define DR6_RTM (1ULL << 16) /* active low: 0 = #DB inside an RTM region */
#define DR6_FIXED1 0xFFFF0FF0ULL /* bits 4-11 and 16-31 read as 1 */
#define DR7_GD (1ULL << 13)

/* vmx_event_has_error: whether VM entry must deliver an error code with an
 * event of interruption type `type` (INTR_TYPE_*) and `vector`, the
 * guest's CR0.PE being cr0_pe. SDM Vol 3C 26.2.1.3: exactly for hardware
 * exceptions #DF, #TS, #NP, #SS, #GP, #PF, #AC, and never when the guest
 * is in real mode (unrestricted guest with CR0.PE = 0); any other choice
 * fails the entry. (#CP, vector 21, only exists with CET, which guests
 * are not offered.) */
static inline bool vmx_event_has_error(u32 type, u8 vector, bool cr0_pe)
{
	if (type != INTR_TYPE_HW_EXCEPTION || !cr0_pe)
		return false;
	return vector == VEC_DF || (vector >= VEC_TS && vector <= VEC_PF) || vector == VEC_AC;
}

/* vmx_db_dr6: the guest's DR6 after a #DB whose exit qualification is q,
 * DR6 having been dr6. A #DB that exits leaves DR6 untouched (SDM Vol 3C
 * 27.1); reflecting it must do what the CPU would have done: B0-B3
 * replaced by this exception's, BD and BS set when it says so, RTM
 * cleared for a #DB inside a transaction, the other bits kept. */
static inline u64 vmx_db_dr6(u64 dr6, u64 q)
{
	dr6 = (dr6 & ~DR6_B0_B3) | DR6_FIXED1 | (q & (DR6_B0_B3 | DR6_BD | DR6_BS));
	if (q & DR6_RTM)
		dr6 &= ~DR6_RTM;
	return dr6;
}

/* vmx_db_dr7: the guest's DR7 after that #DB: the CPU clears GD when it
 * delivers a general-detect #DB (BD), so the handler may use the debug
 * registers (SDM Vol 3A 17.2.4); the exit left it set. */
static inline u64 vmx_db_dr7(u64 dr7, u64 q)
{
	return (q & DR6_BD) ? dr7 & ~DR7_GD : dr7;
}

#endif
