/* vmxon: the VMX instructions raise #UD in the guest. True under QEMU TCG
 * (no VMX at all) and under crossguard (VMX hidden, CR4.VMXE clear). */
#include "guest.h"

#define CPUID1_ECX_VMX (1u << 5)
#define CR4_VMXE (1u << 13)

static u64 vmxon_region_pa;

static void do_vmxon(void *arg)
{
	(void)arg;
	__asm__ volatile("vmxon %0" : : "m"(vmxon_region_pa) : "memory");
}

static void do_vmread(void *arg)
{
	u32 field = 0x681E, val; /* guest RIP */

	(void)arg;
	__asm__ volatile("vmread %1, %0" : "=rm"(val) : "r"(field) : "cc");
}

static void do_vmptrld(void *arg)
{
	(void)arg;
	__asm__ volatile("vmptrld %0" : : "m"(vmxon_region_pa) : "memory");
}

static void do_vmlaunch(void *arg)
{
	(void)arg;
	__asm__ volatile("vmlaunch" : : : "cc", "memory");
}

int main(void)
{
	static u8 region[4096] __attribute__((aligned(4096)));
	bool vmx = cpuid(1, 0).ecx & CPUID1_ECX_VMX;

	vmxon_region_pa = (u32)region;
	/* crossguard hides VMX; elsewhere either answer is fine. */
	report(!vmx || !on_crossguard(), "CPUID.1:ECX[5] VMX %s", vmx ? "advertised" : "not advertised");
	/* Setting CR4.VMXE without VMX support is a #GP, so only try it when
	 * CPUID advertises VMX; VMXON with CR4.VMXE clear is #UD either way. */
	if (vmx) {
		write_cr4(read_cr4() | CR4_VMXE);
		report_info("CPUID advertises VMX: CR4.VMXE set before VMXON");
	}
	int v = catch_exception(do_vmxon, NULL);
	report(v == VEC_UD, "VMXON raises #UD (got vector %d)", v);
	v = catch_exception(do_vmread, NULL);
	report(v == VEC_UD, "VMREAD raises #UD (got vector %d)", v);
	v = catch_exception(do_vmptrld, NULL);
	report(v == VEC_UD, "VMPTRLD raises #UD (got vector %d)", v);
	v = catch_exception(do_vmlaunch, NULL);
	report(v == VEC_UD, "VMLAUNCH raises #UD (got vector %d)", v);
	return report_summary();
}
