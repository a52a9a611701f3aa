/* Events the monitor puts into a guest: the rules VM entry checks on an
 * injected event, what two events at once become, when the frame carries
 * RF, and what reflecting an intercepted #DB does to the guest's DR6 and
 * DR7. Pure functions of their arguments, so the host tests
 * (test/unit/test_vmx_event.c) run them as the monitor does. */
#ifndef X86_VMX_EVENT_H
#define X86_VMX_EVENT_H

#include <cg/types.h>
#include "arch/x86/vmx/vmcs.h"

/* Exception vectors (SDM Vol 3A 6.3.1) */
#define VEC_DE 0
#define VEC_DB 1
#define VEC_NMI 2
#define VEC_BR 5
#define VEC_UD 6
#define VEC_NM 7
#define VEC_DF 8
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_MF 16
#define VEC_AC 17
#define VEC_XM 19
#define VEC_VE 20
#define VEC_CP 21

/* RFLAGS.RF, the resume flag (SDM Vol 3A 2.3) */
#define RFLAGS_RF (1ULL << 16)

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

/* The exception classes that decide what an exception raised while
 * another event is delivered becomes (SDM Vol 3A 6.15, "Interrupt 8",
 * table 6-4): every interrupt (external, NMI, INT n, INT3, INTO, INT1) is
 * benign, and so are the exceptions not named here. */
enum vmx_event_class {
	VMX_EVENT_BENIGN,
	VMX_EVENT_CONTRIBUTORY, /* #DE, #TS, #NP, #SS, #GP, #CP */
	VMX_EVENT_PAGE_FAULT,   /* #PF, #VE */
	VMX_EVENT_DOUBLE_FAULT, /* #DF itself */
};

/* vmx_event_class: the class of an event of type (INTR_TYPE_*) and vector. */
static inline enum vmx_event_class vmx_event_class(u32 type, u8 vector)
{
	if (type != INTR_TYPE_HW_EXCEPTION)
		return VMX_EVENT_BENIGN;
	switch (vector) {
	case VEC_DE:
	case VEC_TS:
	case VEC_NP:
	case VEC_SS:
	case VEC_GP:
	case VEC_CP:
		return VMX_EVENT_CONTRIBUTORY;
	case VEC_PF:
	case VEC_VE:
		return VMX_EVENT_PAGE_FAULT;
	case VEC_DF:
		return VMX_EVENT_DOUBLE_FAULT;
	default:
		return VMX_EVENT_BENIGN;
	}
}

/* What the CPU does with a second exception raised while it delivers a
 * first event (SDM Vol 3A table 6-5). */
enum vmx_event_merge {
	VMX_MERGE_SECOND,       /* handled serially: the second is delivered */
	VMX_MERGE_DOUBLE_FAULT, /* #DF with error code 0 instead of both */
	VMX_MERGE_TRIPLE_FAULT, /* a fault while delivering #DF: shutdown */
};

/* vmx_event_merge: the outcome when exception (second_type, second_vector)
 * is raised during the delivery of event (first_type, first_vector), by
 * table 6-5: contributory then contributory, and page fault then page
 * fault or contributory, make #DF; contributory or page fault while
 * delivering #DF shuts the processor down (a triple fault); everything
 * else is handled serially. "Serially" means the second is delivered: a
 * first that was a fault or a software interrupt comes back when its
 * instruction runs again. */
static inline enum vmx_event_merge vmx_event_merge(u32 first_type, u8 first_vector, u32 second_type,
						   u8 second_vector)
{
	enum vmx_event_class first = vmx_event_class(first_type, first_vector);
	enum vmx_event_class second = vmx_event_class(second_type, second_vector);
	if (second == VMX_EVENT_BENIGN)
		return VMX_MERGE_SECOND;
	switch (first) {
	case VMX_EVENT_DOUBLE_FAULT:
		return VMX_MERGE_TRIPLE_FAULT;
	case VMX_EVENT_CONTRIBUTORY:
		return second == VMX_EVENT_CONTRIBUTORY ? VMX_MERGE_DOUBLE_FAULT : VMX_MERGE_SECOND;
	case VMX_EVENT_PAGE_FAULT:
		return VMX_MERGE_DOUBLE_FAULT;
	default:
		return VMX_MERGE_SECOND;
	}
}

/* vmx_event_is_fault: the event is a fault-class exception (SDM Vol 3A
 * 6.15, each vector's "Exception Class"). #DB is left out: it is a fault
 * or a trap by cause, and the monitor only reflects it, with the RF the
 * CPU chose already in the guest's RFLAGS. */
static inline bool vmx_event_is_fault(u32 type, u8 vector)
{
	if (type != INTR_TYPE_HW_EXCEPTION)
		return false;
	switch (vector) {
	case VEC_DE:
	case VEC_BR:
	case VEC_UD:
	case VEC_NM:
	case VEC_TS:
	case VEC_NP:
	case VEC_SS:
	case VEC_GP:
	case VEC_PF:
	case VEC_MF:
	case VEC_AC:
	case VEC_XM:
	case VEC_VE:
	case VEC_CP:
		return true;
	default:
		return false; /* #DB, NMI, #BP and #OF (traps), #DF and #MC (aborts) */
	}
}

/* vmx_event_sets_rf: whether VM entry must find RFLAGS.RF set to deliver
 * an exception the monitor raises (type, vector) as the CPU would. The CPU
 * pushes RF = 1 for every fault-class exception but an instruction
 * breakpoint (SDM Vol 3A 17.3.1.1), while an injected event pushes the
 * guest-state RFLAGS.RF unchanged (Vol 3C 26.6.1.1), and instruction
 * exits save RF = 0 (Vol 3C 27.3.3): so the monitor sets it, for faults,
 * and only in protected mode (a real-mode frame has 16-bit FLAGS, no
 * RF). */
static inline bool vmx_event_sets_rf(u32 type, u8 vector, bool cr0_pe)
{
	return cr0_pe && vmx_event_is_fault(type, vector);
}

/* vmx_string_sets_rf: after an exit of a REP string instruction that did
 * done of its count iterations and resumes with the rest (RIP unchanged),
 * whether the guest's RFLAGS.RF must be set: an interrupt delivered
 * between iterations pushes RF = 1, but not one before the first or after
 * the last (SDM Vol 3A 17.3.1.1), and the CPU does not check the
 * instruction's breakpoint again when it goes on. */
static inline bool vmx_string_sets_rf(bool rep, u64 done, u64 count)
{
	return rep && done > 0 && done < count;
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
