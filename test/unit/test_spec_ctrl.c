/* spec_policy.c: the speculative-execution decision for the enumeration
 * of real CPU models (CPUID.(7,0) EBX/EDX and IA32_ARCH_CAPABILITIES as
 * those parts report them with and without microcode updates), in each
 * cg.spec= mode, and the flags and marker words made from it. */
#include <string.h>
#include "check.h"
#include "arch/x86/vmx/spec_ctrl.h"

#define STIBP (1U << 27)
#define SSBD (1U << 31)
#define HLE (1U << 4)
#define PSCHANGE_MC_NO (1ULL << 6)
#define TSX_CTRL (1ULL << 7)

struct model {
	const char *name;
	struct spec_cpu cpu;
};

/* Haswell (i7-4770) as shipped: no IBRS/IBPB, no MD_CLEAR, no L1D flush,
 * no ARCH_CAPABILITIES; TSX on. */
static const struct model haswell_old = { "haswell-no-microcode", { HLE | SPEC_L7_EBX_RTM, 0, 0 } };
/* The same part with the 2019 microcode: IBRS/IBPB, STIBP, L1D flush,
 * MD_CLEAR, SSBD; still no ARCH_CAPABILITIES (affected by everything). */
static const struct model haswell_ucode = {
	"haswell-2019-microcode",
	{ HLE | SPEC_L7_EBX_RTM,
	  SPEC_L7_EDX_MD_CLEAR | SPEC_L7_EDX_IBRS_IBPB | STIBP | SPEC_L7_EDX_L1D_FLUSH | SSBD, 0 }
};
/* Cascade Lake: Meltdown/L1TF/MDS fixed in silicon, eIBRS, but TSX is
 * there and TAA is not fixed (no TAA_NO): VERW still needed. */
static const struct model cascade_lake = {
	"cascade-lake",
	{ HLE | SPEC_L7_EBX_RTM,
	  SPEC_L7_EDX_MD_CLEAR | SPEC_L7_EDX_IBRS_IBPB | STIBP | SPEC_L7_EDX_L1D_FLUSH |
		  SPEC_L7_EDX_ARCH_CAP | SSBD,
	  ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_MDS_NO |
		  PSCHANGE_MC_NO | TSX_CTRL }
};
/* Ice Lake server: also TAA_NO; affected by post-barrier RSB predictions. */
static const struct model ice_lake = {
	"ice-lake",
	{ HLE | SPEC_L7_EBX_RTM,
	  SPEC_L7_EDX_MD_CLEAR | SPEC_L7_EDX_IBRS_IBPB | STIBP | SPEC_L7_EDX_L1D_FLUSH |
		  SPEC_L7_EDX_ARCH_CAP | SSBD,
	  ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_MDS_NO |
		  PSCHANGE_MC_NO | TSX_CTRL | ARCH_CAP_TAA_NO }
};
/* A part that reports PBRSB_NO as well (no TSX). */
static const struct model pbrsb_no = {
	"eibrs-pbrsb-no",
	{ 0, SPEC_L7_EDX_IBRS_IBPB | STIBP | SPEC_L7_EDX_ARCH_CAP | SSBD,
	  ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_MDS_NO |
		  ARCH_CAP_TAA_NO | ARCH_CAP_PBRSB_NO }
};
/* Bochs 2.7 corei7_haswell_4770 as seen here (@cg spec-ctrl line of a
 * boot): leaf 7 EBX 0x000027ab, EDX 0 (no IBPB, no MD_CLEAR, no L1D flush,
 * no ARCH_CAPABILITIES MSR). */
static const struct model bochs_haswell = { "bochs-corei7_haswell_4770", { 0x000027ab, 0, 0 } };
/* A CPU under a VMM that flushes L1D itself (SKIP_L1DFL_VMENTRY without
 * RDCL_NO), no MD_CLEAR: MDS left exposed. */
static const struct model nested_skip = {
	"nested-skip-l1dfl",
	{ 0, SPEC_L7_EDX_IBRS_IBPB | SPEC_L7_EDX_L1D_FLUSH | SPEC_L7_EDX_ARCH_CAP,
	  ARCH_CAP_SKIP_L1DFL_VMENTRY }
};

struct want {
	bool ibpb, eibrs;
	enum spec_rsb rsb;
	bool l1d_flush, verw;
	const char *exposed;
};

static void expect(const struct model *m, enum spec_mode mode, struct want w)
{
	struct spec_decision d;
	char buf[64], msg[160];
	memset(&d, 0xA5, sizeof(d)); /* every field must be set by the decision */
	spec_decide(&m->cpu, mode, &d);
	spec_exposed_list(d.exposed, buf, sizeof(buf));
	snprintf(msg, sizeof(msg), "%s mode=%s: ibpb=%d eibrs=%d rsb=%s l1d=%d verw=%d exposed=%s",
		 m->name, spec_mode_name(mode), d.ibpb, d.eibrs, spec_rsb_name(d.rsb), d.l1d_flush,
		 d.verw, buf);
	CHECK(d.ibpb == w.ibpb && d.eibrs == w.eibrs && d.rsb == w.rsb &&
		      d.l1d_flush == w.l1d_flush && d.verw == w.verw && !strcmp(buf, w.exposed),
	      msg);
}

/* Each model in each mode: what is applied, what stays exposed. */
static const struct {
	const struct model *m;
	enum spec_mode mode;
	struct want w;
} cases[] = {
	{ &haswell_old, SPEC_MODE_AUTO, { false, false, SPEC_RSB_FULL, false, false, "bti,vm-bti,mds,l1tf" } },
	/* The L1D flush clears the MDS buffers too (MD_CLEAR): no VERW. */
	{ &haswell_ucode, SPEC_MODE_AUTO, { true, false, SPEC_RSB_FULL, true, false, "bti" } },
	{ &cascade_lake, SPEC_MODE_AUTO, { true, true, SPEC_RSB_ONE, false, true, "none" } },
	{ &ice_lake, SPEC_MODE_AUTO, { true, true, SPEC_RSB_ONE, false, false, "none" } },
	{ &pbrsb_no, SPEC_MODE_AUTO, { true, true, SPEC_RSB_NONE, false, false, "none" } },
	{ &bochs_haswell, SPEC_MODE_AUTO, { false, false, SPEC_RSB_FULL, false, false, "bti,vm-bti,mds,l1tf" } },
	{ &nested_skip, SPEC_MODE_AUTO, { true, false, SPEC_RSB_FULL, false, false, "bti,mds" } },
	/* on: every barrier the CPU has, affected or not; never one it lacks. */
	{ &ice_lake, SPEC_MODE_ON, { true, true, SPEC_RSB_FULL, true, false, "none" } },
	{ &pbrsb_no, SPEC_MODE_ON, { true, true, SPEC_RSB_FULL, false, false, "none" } },
	{ &bochs_haswell, SPEC_MODE_ON, { false, false, SPEC_RSB_FULL, false, false, "bti,vm-bti,mds,l1tf" } },
	{ &haswell_ucode, SPEC_MODE_ON, { true, false, SPEC_RSB_FULL, true, false, "bti" } },
	/* off: nothing applied, and the marker says what that leaves open. */
	{ &haswell_ucode, SPEC_MODE_OFF, { false, false, SPEC_RSB_NONE, false, false, "bti,vm-bti,mds,l1tf" } },
	{ &ice_lake, SPEC_MODE_OFF, { false, false, SPEC_RSB_NONE, false, false, "bti,vm-bti" } },
};

static void test_models(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(cases[i].m, cases[i].mode, cases[i].w);
}

static void test_tsx_off(void)
{
	/* Cascade Lake with TSX turned off (RTM no longer enumerated): TAA
	 * gone, so no VERW either. */
	struct model m = cascade_lake;
	m.name = "cascade-lake-tsx-off";
	m.cpu.leaf7_ebx &= ~(SPEC_L7_EBX_RTM | HLE);
	expect(&m, SPEC_MODE_AUTO, (struct want){ true, true, SPEC_RSB_ONE, false, false, "none" });
	/* MDS_NO without TAA_NO, RTM present, but no MD_CLEAR: exposed. */
	m = cascade_lake;
	m.name = "cascade-lake-no-md-clear";
	m.cpu.leaf7_edx &= ~SPEC_L7_EDX_MD_CLEAR;
	expect(&m, SPEC_MODE_AUTO, (struct want){ true, true, SPEC_RSB_ONE, false, false, "mds" });
}

static void test_flags(void)
{
	struct spec_decision d;
	spec_decide(&bochs_haswell.cpu, SPEC_MODE_AUTO, &d);
	CHECK(spec_flags(&d) == SPEC_F_RSB_FULL, "bochs haswell: the stub fills the RSB, no MSR");
	spec_decide(&bochs_haswell.cpu, SPEC_MODE_OFF, &d);
	CHECK(spec_flags(&d) == 0, "off: the plain stub, no IBPB");
	spec_decide(&cascade_lake.cpu, SPEC_MODE_AUTO, &d);
	CHECK(spec_flags(&d) == (SPEC_F_RSB_ONE | SPEC_F_VERW | SPEC_F_IBPB), "cascade lake flags");
	spec_decide(&pbrsb_no.cpu, SPEC_MODE_AUTO, &d);
	CHECK((spec_flags(&d) & (SPEC_F_RSB | SPEC_F_ENTRY)) == 0 && (spec_flags(&d) & SPEC_F_IBPB),
	      "nothing per exit: plain stub, IBPB on VM switches");
	spec_decide(&haswell_ucode.cpu, SPEC_MODE_AUTO, &d);
	CHECK(spec_flags(&d) == (SPEC_F_RSB_FULL | SPEC_F_L1D_FLUSH | SPEC_F_IBPB),
	      "haswell with microcode flags");
}

static void test_words(void)
{
	char small[8], buf[64];
	CHECK(!strcmp(spec_exposed_list(0, buf, sizeof(buf)), "none"), "nothing exposed");
	CHECK(!strcmp(spec_exposed_list(SPEC_EXPOSED_MDS | SPEC_EXPOSED_L1TF, buf, sizeof(buf)),
		      "mds,l1tf"),
	      "two words");
	/* Truncated at a word boundary, always terminated. */
	spec_exposed_list(SPEC_EXPOSED_BTI | SPEC_EXPOSED_VM_BTI, small, sizeof(small));
	CHECK(!strcmp(small, "bti"), "short buffer keeps whole words");
	CHECK(!strcmp(spec_mode_name(SPEC_MODE_OFF), "off") &&
		      !strcmp(spec_rsb_name(SPEC_RSB_ONE), "one"),
	      "names");
}

int main(void)
{
	test_models();
	test_tsx_off();
	test_flags();
	test_words();
	return check_summary();
}
