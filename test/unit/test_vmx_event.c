/* Host tests for the rules of events the monitor injects
 * (arch/x86/vmx/vmx_event.h: which get an error code, what a reflected
 * #DB does to DR6 and DR7) and for the TLB decisions of vmx_tlb.h
 * (which INVVPID type, when a vCPU counts as moved). */
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
	test_db_dr6();
	test_bitmap();
	test_vpid();
	return check_summary();
}
