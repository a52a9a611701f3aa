/* Host tests for the rules of events the monitor injects
 * (arch/x86/vmx/vmx_event.h: which get an error code, what two events at
 * once become, which frames carry RF, what a reflected #DB does to DR6
 * and DR7) and for the TLB decisions of vmx_tlb.h (which INVVPID type,
 * when a vCPU counts as moved). */
#include "check.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_tlb.h"

static void test_error_code(void)
{
	/* Protected mode: exactly #DF, #TS, #NP, #SS, #GP, #PF, #AC. */
	for (u32 v = 0; v < 32; v++) {
		bool want = v == 8 || (v >= 10 && v <= 14) || v == 17;
		CHECK(vmx_event_has_error(INTR_TYPE_HW_EXCEPTION, (u8)v, true) == want,
		      "hardware exception error codes in protected mode");
	}
	/* Real mode: none at all, or VM entry fails (SDM Vol 3C 26.2.1.3). */
	for (u32 v = 0; v < 32; v++)
		CHECK(!vmx_event_has_error(INTR_TYPE_HW_EXCEPTION, (u8)v, false),
		      "no error code in real mode");
	/* Never for the other types, even on an error-code vector. */
	u32 types[] = { INTR_TYPE_EXTERNAL, INTR_TYPE_NMI, INTR_TYPE_SW_INTERRUPT,
			INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_SW_EXCEPTION };
	for (u32 i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		CHECK(!vmx_event_has_error(types[i], VEC_GP, true), "only hardware exceptions");
}

/* Table 6-4 of the SDM (Vol 3A 6.15), written out as its rows: the
 * vectors of each class. */
static const u8 contributory[] = { 0, 10, 11, 12, 13, 21 };
static const u8 page_faults[] = { 14, 20 };
static const u8 benign[] = { 1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19 };

static bool in(const u8 *set, u32 n, u8 v)
{
	for (u32 i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}
#define IN(set, v) in(set, sizeof(set), v)

/* Table 6-5, row by row, as an independent reference. */
static enum vmx_event_merge table_6_5(u8 first, u8 second)
{
	bool sc = IN(contributory, second), sp = IN(page_faults, second);
	if (first == 8)
		return sc || sp ? VMX_MERGE_TRIPLE_FAULT : VMX_MERGE_SECOND;
	if (IN(contributory, first))
		return sc ? VMX_MERGE_DOUBLE_FAULT : VMX_MERGE_SECOND;
	if (IN(page_faults, first))
		return sc || sp ? VMX_MERGE_DOUBLE_FAULT : VMX_MERGE_SECOND;
	return VMX_MERGE_SECOND;
}

static void test_merge(void)
{
	u32 hw = INTR_TYPE_HW_EXCEPTION;
	/* Every pair of exception vectors against the table. */
	for (u32 a = 0; a < 32; a++)
		for (u32 b = 0; b < 32; b++)
			if (b != 8)
				CHECK(vmx_event_merge(hw, (u8)a, hw, (u8)b) == table_6_5((u8)a, (u8)b),
				      "table 6-5");
	for (u32 i = 0; i < sizeof(benign); i++)
		CHECK(vmx_event_class(hw, benign[i]) == VMX_EVENT_BENIGN, "benign class");
	/* The cases by name. */
	CHECK(vmx_event_merge(hw, VEC_GP, hw, VEC_NP) == VMX_MERGE_DOUBLE_FAULT, "#GP then #NP: #DF");
	CHECK(vmx_event_merge(hw, VEC_GP, hw, VEC_PF) == VMX_MERGE_SECOND, "#GP then #PF: the #PF");
	CHECK(vmx_event_merge(hw, VEC_PF, hw, VEC_PF) == VMX_MERGE_DOUBLE_FAULT, "#PF then #PF: #DF");
	CHECK(vmx_event_merge(hw, VEC_PF, hw, VEC_GP) == VMX_MERGE_DOUBLE_FAULT, "#PF then #GP: #DF");
	CHECK(vmx_event_merge(hw, VEC_PF, hw, VEC_AC) == VMX_MERGE_SECOND, "#PF then #AC: the #AC");
	CHECK(vmx_event_merge(hw, VEC_DF, hw, VEC_GP) == VMX_MERGE_TRIPLE_FAULT, "#GP in #DF: shutdown");
	CHECK(vmx_event_merge(hw, VEC_DF, hw, VEC_PF) == VMX_MERGE_TRIPLE_FAULT, "#PF in #DF: shutdown");
	CHECK(vmx_event_merge(hw, VEC_DF, hw, VEC_DB) == VMX_MERGE_SECOND, "#DB in #DF: the #DB");
	CHECK(vmx_event_merge(hw, VEC_AC, hw, VEC_AC) == VMX_MERGE_SECOND,
	      "#AC in #AC: the #AC again (the CVE-2015-5307 loop goes through exits)");
	/* Interrupts and software events are benign whatever their vector. */
	u32 others[] = { INTR_TYPE_EXTERNAL, INTR_TYPE_NMI, INTR_TYPE_SW_INTERRUPT,
			 INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_SW_EXCEPTION };
	for (u32 i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		CHECK(vmx_event_class(others[i], VEC_GP) == VMX_EVENT_BENIGN, "interrupts are benign");
		CHECK(vmx_event_merge(others[i], 13, hw, VEC_GP) == VMX_MERGE_SECOND,
		      "#GP while delivering an interrupt: the #GP");
		CHECK(vmx_event_merge(others[i], 8, hw, VEC_PF) == VMX_MERGE_SECOND,
		      "INT 8 is not #DF");
	}
}

static void test_rf(void)
{
	u32 hw = INTR_TYPE_HW_EXCEPTION;
	/* Faults (SDM Vol 3A 6.15's classes): RF = 1 in their frame. */
	const u8 faults[] = { 0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21 };
	for (u32 v = 0; v < 32; v++) {
		bool f = in(faults, sizeof(faults), (u8)v);
		CHECK(vmx_event_sets_rf(hw, (u8)v, true) == f, "fault-class exceptions set RF");
		CHECK(!vmx_event_sets_rf(hw, (u8)v, false), "never in real mode (16-bit FLAGS)");
	}
	CHECK(!vmx_event_sets_rf(hw, VEC_DB, true), "#DB keeps what the CPU saved");
	CHECK(!vmx_event_sets_rf(hw, 3, true) && !vmx_event_sets_rf(hw, 4, true), "traps do not");
	CHECK(!vmx_event_sets_rf(hw, VEC_DF, true) && !vmx_event_sets_rf(hw, 18, true),
	      "aborts do not");
	u32 others[] = { INTR_TYPE_EXTERNAL, INTR_TYPE_NMI, INTR_TYPE_SW_INTERRUPT,
			 INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_SW_EXCEPTION };
	for (u32 i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		CHECK(!vmx_event_sets_rf(others[i], VEC_GP, true), "interrupts do not");
	/* REP string instructions cut short by an exit. */
	CHECK(vmx_string_sets_rf(true, 1, 10), "after the first iteration");
	CHECK(vmx_string_sets_rf(true, 9, 10), "before the last");
	CHECK(!vmx_string_sets_rf(true, 0, 10), "before the first: no");
	CHECK(!vmx_string_sets_rf(true, 10, 10), "after the last: no");
	CHECK(!vmx_string_sets_rf(false, 0, 1), "no REP: no");
}

static void test_db_dr6(void)
{
	/* Single step from the power-on DR6: BS set, nothing else changes. */
	CHECK(vmx_db_dr6(0xFFFF0FF0, DR6_BS) == (0xFFFF0FF0 | DR6_BS), "single step");
	/* Breakpoint 2: B2 replaces a stale B0, a stale BS stays. */
	CHECK(vmx_db_dr6(0xFFFF0FF0 | DR6_BS | 1, 4) == (0xFFFF0FF0 | DR6_BS | 4), "B0-B3 replaced");
	/* General detect sets BD; DR7.GD is cleared for the handler. */
	CHECK(vmx_db_dr6(0xFFFF0FF0, DR6_BD) & DR6_BD, "BD");
	CHECK(vmx_db_dr7(0x400 | DR7_GD, DR6_BD) == 0x400, "GD cleared with BD");
	CHECK(vmx_db_dr7(0x400 | DR7_GD | 3, DR6_BS) == (0x400 | DR7_GD | 3), "GD kept otherwise");
	/* Inside a transaction: RTM (active low) reads 0. */
	CHECK(!(vmx_db_dr6(0xFFFF0FF0, DR6_RTM | 1) & DR6_RTM), "RTM cleared");
	/* A DR6 with its read-as-1 bits clear (a guest wrote 0) gets them back. */
	CHECK(vmx_db_dr6(0, DR6_BS) == (0xFFFF0FF0 | DR6_BS), "fixed bits");
	/* Qualification bits DR6 does not have are not copied. */
	CHECK(vmx_db_dr6(0xFFFF0FF0, 0xFFFFFFFFFFFF0000ULL & ~DR6_RTM) == 0xFFFF0FF0, "junk ignored");
}

static void test_bitmap(void)
{
	CHECK(VMX_EXCEPTION_BITMAP == ((1U << 1) | (1U << 17)), "#DB and #AC intercepted, nothing else");
}

static void test_vpid(void)
{
	u64 inv = EPT_VPID_CAP_INVVPID;
	CHECK(vmx_vpid_flush_type(0) == 0, "no INVVPID: no VPIDs");
	CHECK(vmx_vpid_flush_type(EPT_VPID_CAP_INVVPID_SINGLE | EPT_VPID_CAP_INVVPID_ALL) == 0,
	      "types without the instruction: no VPIDs");
	CHECK(vmx_vpid_flush_type(inv) == 0, "the instruction without a usable type: no VPIDs");
	CHECK(vmx_vpid_flush_type(inv | EPT_VPID_CAP_INVVPID_SINGLE | EPT_VPID_CAP_INVVPID_ALL) ==
		      INVVPID_SINGLE_CONTEXT, "single-context preferred");
	CHECK(vmx_vpid_flush_type(inv | EPT_VPID_CAP_INVVPID_ALL) == INVVPID_ALL_CONTEXT,
	      "all-context as the fallback");

	CHECK(!vmx_vcpu_migrated(false, 0, 1), "a first run is no move");
	CHECK(!vmx_vcpu_migrated(true, 1, 1), "the same CPU again");
	CHECK(vmx_vcpu_migrated(true, 0, 1), "another CPU");
	CHECK(vmx_vcpu_migrated(true, 1, 0), "back to an earlier CPU: its TLB may be stale");
}

int main(void)
{
	test_error_code();
	test_merge();
	test_rf();
	test_db_dr6();
	test_bitmap();
	test_vpid();
	return check_summary();
}
