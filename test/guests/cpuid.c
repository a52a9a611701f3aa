/* cpuid: the CPUID view a guest gets. Everywhere: a vendor string. Under
 * crossguard: hypervisor bit set, VMX hidden, and the "CrossGuardVM"
 * leaves at 0x40000000. */
#include "guest.h"

#define CPUID1_ECX_VMX (1u << 5)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define HV_LEAF 0x40000000u

static bool printable(const char *s, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return false;
	return true;
}

int main(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	char vendor[13];

	/* The vendor string is EBX, EDX, ECX in that order (SDM CPUID leaf 0). */
	memcpy(vendor, &r.ebx, 4);
	memcpy(vendor + 4, &r.edx, 4);
	memcpy(vendor + 8, &r.ecx, 4);
	vendor[12] = 0;
	report_info("vendor \"%s\", max basic leaf 0x%x", vendor, r.eax);
	report(vendor[0] && printable(vendor, 12), "leaf 0 vendor string is non-empty and printable");
	report(r.eax >= 1, "leaf 0 max basic leaf >= 1");

	struct cpuid_regs l1 = cpuid(1, 0);
	struct cpuid_regs hv = cpuid(HV_LEAF, 0);
	char sig[13];
	memcpy(sig, &hv.ebx, 4);
	memcpy(sig + 4, &hv.ecx, 4);
	memcpy(sig + 8, &hv.edx, 4);
	sig[12] = 0;
	report_info("leaf 1 ecx 0x%x, leaf 0x40000000 eax 0x%x signature \"%s\"", l1.ecx,
		    hv.eax, printable(sig, 12) ? sig : "(binary)");

	if (!on_crossguard()) {
		report_skip("hypervisor bit set (not under crossguard)");
		report_skip("VMX hidden (not under crossguard)");
		report_skip("leaf 0x40000000 signature CrossGuardVM (not under crossguard)");
		report_skip("leaf 0x40000001 ABI version (not under crossguard)");
		return report_summary();
	}
	report(l1.ecx & CPUID1_ECX_HYPERVISOR, "leaf 1 ECX[31] hypervisor bit set");
	report(!(l1.ecx & CPUID1_ECX_VMX), "leaf 1 ECX[5] VMX hidden");
	report(!memcmp(sig, "CrossGuardVM", 12) && hv.eax >= 0x40000001,
	       "leaf 0x40000000 signature CrossGuardVM, max leaf 0x%x >= 0x40000001", hv.eax);
	struct cpuid_regs v = cpuid(HV_LEAF + 1, 0);
	report(v.eax == 1, "leaf 0x40000001 EAX hypercall ABI version is 1 (got %u)", v.eax);
	return report_summary();
}
