/* cpuid_policy.c: what CPUID tells a guest (issue 11 item 12: leaf 7 EDX
 * passed through the speculation-control MSRs that then raised #GP; leaf
 * 0xD listed MPX's state while leaf 7 hid MPX). A host that answers every
 * bit set shows what the table lets through; an i7-4770's real answers
 * show what Linux needs still arrives. */
#include <string.h>
#include "check.h"
#include "arch/x86/vmx/cpuid_policy.h"
#include "arch/x86/vmx/xstate.h"

#define B(n) (1U << (n))
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_PKE (1ULL << 22)

/* A host with the given switchable components, and vCPU 1 of 2 */
struct guest {
	struct cpuid_host h;
	struct cpuid_vcpu c;
};

static struct guest guest(u64 xfeatures)
{
	struct guest g;
	memset(&g, 0, sizeof(g));
	g.h.xsave = true;
	g.h.xfeatures = xfeatures;
	g.h.xstate_size = xfeatures & XFEATURE_AVX512 ? 2696 : 832;
	g.h.max = 0x20;
	g.h.ext_max = 0x80000008u;
	g.c.index = 1;
	g.c.count = 2;
	g.c.apic_enabled = true;
	g.c.rdtscp = g.c.invpcid = true;
	return g;
}

/* Leaves that do not depend on the vCPU get no vCPU (a read of it would
 * be a NULL access under the sanitizer). */
static struct cpuid_regs ask(const struct guest *g, u32 leaf, u32 sub, struct cpuid_regs host)
{
	cpuid_policy_apply(&g->h, cpuid_policy_per_vcpu(leaf) ? &g->c : NULL, leaf, sub, &host);
	return host;
}

static const struct cpuid_regs ones = { ~0U, ~0U, ~0U, ~0U };

static void test_everything_host(void)
{
	struct guest g = guest(0x7);
	struct cpuid_regs r = ask(&g, 7, 0, ones);
	CHECK((r.edx & 0xFC000000u) == 0, "leaf 7 EDX: no IBRS/STIBP/L1D_FLUSH/ARCH_CAP/CORE_CAP/SSBD");
	CHECK((r.edx & (B(22) | B(24) | B(25))) == 0, "leaf 7 EDX: no AMX");
	CHECK(!(r.ebx & B(14)) && !(r.ebx & B(11)) && !(r.ebx & B(4)), "leaf 7 EBX: no MPX, RTM, HLE");
	CHECK(!(r.ebx & B(16)) && !(r.ecx & B(1)), "no AVX-512 without its XSAVE state");
	CHECK(r.ebx & B(5), "AVX2 with AVX's state");
	CHECK(!(r.ecx & B(3)) && !(r.ecx & B(4)), "no PKU without PKRU switched");
	CHECK(r.eax == 0, "leaf 7: sub-leaf 0 only");
	CHECK(ask(&g, 7, 1, ones).eax == 0, "leaf 7.1 (AVX-VNNI, ...): nothing");

	r = ask(&g, 0xD, 0, ones);
	CHECK(r.eax == 0x7 && r.edx == 0, "leaf 0xD.0: x87, SSE, AVX; never MPX's components");
	CHECK(r.ecx == 832, "leaf 0xD.0 ECX: the image for every allowed component");
	CHECK(ask(&g, 0xD, 3, ones).eax == 0 && ask(&g, 0xD, 4, ones).ebx == 0, "no MPX sub-leaves");
	CHECK(ask(&g, 0xD, 2, ones).eax == ~0U, "AVX's sub-leaf as the host says");
	r = ask(&g, 0xD, 1, ones);
	CHECK(r.eax == 0x7 && r.ecx == 0 && r.edx == 0, "leaf 0xD.1: no XSAVES, no XFD");

	r = ask(&g, 1, 0, ones);
	CHECK(!(r.ecx & B(5)) && !(r.ecx & B(17)) && !(r.ecx & B(21)) && !(r.ecx & B(3)),
	      "leaf 1 ECX: no VMX, PCID, x2APIC, MONITOR");
	CHECK((r.ecx & B(31)) && (r.ecx & B(24)), "hypervisor and TSC-deadline set");
	CHECK(!(r.edx & B(7)) && !(r.edx & B(14)) && !(r.edx & B(22)), "leaf 1 EDX: no MCE, MCA, ACPI");
	CHECK((r.ebx >> 24) == 1 && ((r.ebx >> 16) & 0xFF) == 2, "initial APIC ID and count");

	CHECK(ask(&g, 0xB, 0, ones).ebx == 0 && ask(&g, 0xA, 0, ones).eax == 0 &&
		      ask(&g, 0x12, 0, ones).eax == 0 && ask(&g, 0x14, 0, ones).eax == 0,
	      "topology, PMU, SGX, PT leaves: zero");
	CHECK(ask(&g, 0x21, 0, ones).eax == 0, "a leaf above the host's maximum: zero");
	r = ask(&g, 0x80000001u, 0, ones);
	CHECK(r.edx == (B(11) | B(20) | B(26) | B(27) | B(29)) && r.ecx == (B(0) | B(5) | B(8)),
	      "extended leaf 1: SYSCALL, NX, 1 GiB pages, RDTSCP, LM; LAHF, LZCNT, PREFETCHW");

	g.c.rdtscp = g.c.invpcid = false;
	CHECK(!(ask(&g, 0x80000001u, 0, ones).edx & B(27)) && !(ask(&g, 7, 0, ones).ecx & B(22)),
	      "no RDTSCP/RDPID without the VMX control");
	CHECK(!(ask(&g, 7, 0, ones).ebx & B(10)), "no INVPCID without the VMX control");

	g = guest(0x2E7);
	r = ask(&g, 7, 0, ones);
	CHECK((r.ebx & B(16)) && (r.ecx & B(1)) && (r.ecx & B(3)), "AVX-512 and PKU where switched");
	CHECK(ask(&g, 0xD, 0, ones).eax == 0x2E7 && ask(&g, 0xD, 0, ones).ecx == 2696,
	      "leaf 0xD.0 with AVX-512 and PKRU");
}

static void test_mirrors(void)
{
	struct guest g = guest(0x2E7);
	CHECK(!(ask(&g, 1, 0, ones).ecx & B(27)), "OSXSAVE clear while CR4.OSXSAVE is");
	g.c.cr4 = CR4_OSXSAVE;
	CHECK(ask(&g, 1, 0, ones).ecx & B(27), "OSXSAVE set with CR4.OSXSAVE");
	CHECK(!(ask(&g, 7, 0, ones).ecx & B(4)), "OSPKE clear while CR4.PKE is");
	g.c.cr4 |= CR4_PKE;
	CHECK(ask(&g, 7, 0, ones).ecx & B(4), "OSPKE set with CR4.PKE");
	g.c.apic_enabled = false;
	CHECK(!(ask(&g, 1, 0, ones).edx & B(9)), "APIC bit clear once IA32_APIC_BASE.EN is");
	g.c.apic_enabled = true;
	CHECK(ask(&g, 1, 0, ones).edx & B(9), "APIC bit with the APIC enabled");
	g.c.count = 1;
	CHECK(!(ask(&g, 1, 0, ones).edx & B(28)), "HTT only with more than one vCPU");
}

/* An i7-4770 (what Bochs' corei7_haswell_4770 models): Linux needs FPU,
 * TSC, MSR, PAE, CX8, APIC, SEP, PGE, CMOV, PAT, CLFSH, MMX, FXSR, SSE,
 * SSE2 and (x86-64) SYSCALL, NX, LM; losing FXSR stops it early. */
static void test_haswell(void)
{
	struct guest g = guest(0x7);
	g.c.cr4 = CR4_OSXSAVE;
	struct cpuid_regs l1 = { 0x306C3, 0x00100800, 0x7FFAFBFF, 0xBFEBFBFF };
	struct cpuid_regs r = ask(&g, 1, 0, l1);
	u32 linux_edx = B(0) | B(4) | B(5) | B(6) | B(8) | B(9) | B(11) | B(13) | B(15) | B(16) |
			B(19) | B(23) | B(24) | B(25) | B(26);
	CHECK((r.edx & linux_edx) == linux_edx, "leaf 1 EDX: everything Linux requires");
	u32 hsw_ecx = B(0) | B(1) | B(9) | B(12) | B(13) | B(19) | B(20) | B(22) | B(23) | B(25) |
		      B(26) | B(27) | B(28) | B(29) | B(30);
	CHECK((r.ecx & hsw_ecx) == hsw_ecx, "leaf 1 ECX: SSE3..SSE4.2, AES, XSAVE, AVX, F16C, RDRAND");
	CHECK(r.eax == 0x306C3, "family, model and stepping as the host's");
	struct cpuid_regs l7 = { 0, 0x000027AB, 0, 0x9C000000 };
	r = ask(&g, 7, 0, l7);
	CHECK(r.ebx == 0x000027AB, "leaf 7 EBX of a Haswell: every bit kept");
	CHECK(r.edx == 0, "leaf 7 EDX of a 2019-microcode Haswell: speculation MSRs hidden");
}

int main(void)
{
	test_everything_host();
	test_mirrors();
	test_haswell();
	return check_summary();
}
