/* Entering VMX root operation on one CPU (SDM Vol 3C 23.6-23.8) and reading
 * what the CPU's VMX implementation offers (Vol 3D appendix A). */
#include "core/virt.h"
#include "lib/fmt.h"
#include "lib/mem.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include <cg/errno.h>

/* IA32_VMX_BASIC (Vol 3D A.1) */
#define VMX_BASIC_REVISION_MASK 0x7FFFFFFFULL
#define VMX_BASIC_TRUE_CTLS (1ULL << 55)
/* allowed-1 bits, high half of the control MSRs (Vol 3D A.3-A.5); the
 * control bits themselves (low half) are vmcs.h's names without ALLOW1_ */
#define ALLOW1_PIN_PREEMPTION_TIMER (1ULL << (32 + 6))
#define ALLOW1_PIN_POSTED_INTERRUPTS (1ULL << (32 + 7))
#define ALLOW1_PROC_ACTIVATE_SECONDARY (1ULL << (32 + 31))
#define ALLOW1_PROC2_EPT (1ULL << (32 + 1))
#define ALLOW1_PROC2_VPID (1ULL << (32 + 5))
#define ALLOW1_PROC2_UNRESTRICTED_GUEST (1ULL << (32 + 7))
#define ALLOW1_PROC2_APIC_REGISTER_VIRT (1ULL << (32 + 8))
#define ALLOW1_PROC2_VIRTUAL_INTR_DELIVERY (1ULL << (32 + 9))
#define ALLOW1_PROC2_VMCS_SHADOWING (1ULL << (32 + 14))
/* IA32_VMX_EPT_VPID_CAP (Vol 3D A.10) */
#define EPT_CAP_WALK_4 (1ULL << 6)
#define EPT_CAP_WB (1ULL << 14)
#define EPT_CAP_2M (1ULL << 16)
#define EPT_CAP_1G (1ULL << 17)
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_AD (1ULL << 21)
#define VPID_CAP_INVVPID (1ULL << 32)

static int vmx_fail(char *detail, size_t size, const char *reason, int err)
{
	fmt_snprintf(detail, size, "reason=%s", reason);
	return err;
}

static void vmx_describe(char *detail, size_t size, u64 basic)
{
	u64 pin = rdmsr((basic & VMX_BASIC_TRUE_CTLS) ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
						       : MSR_IA32_VMX_PINBASED_CTLS);
	u64 proc = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	u64 proc2 = (proc & ALLOW1_PROC_ACTIVATE_SECONDARY) ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
	u64 cap = (proc2 & (ALLOW1_PROC2_EPT | ALLOW1_PROC2_VPID)) ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	bool ept = proc2 & ALLOW1_PROC2_EPT;
	fmt_snprintf(detail, size,
		     "rev=0x%lx ept=%d ept2m=%d ept1g=%d eptad=%d vpid=%d ug=%d preempt=%d "
		     "posted=%d apicv=%d vid=%d shadow=%d",
		     (u64)(basic & VMX_BASIC_REVISION_MASK),
		     ept && (cap & EPT_CAP_WALK_4) && (cap & EPT_CAP_WB) && (cap & EPT_CAP_INVEPT),
		     ept && (cap & EPT_CAP_2M) ? 1 : 0, ept && (cap & EPT_CAP_1G) ? 1 : 0,
		     ept && (cap & EPT_CAP_AD) ? 1 : 0,
		     (proc2 & ALLOW1_PROC2_VPID) && (cap & VPID_CAP_INVVPID) ? 1 : 0,
		     proc2 & ALLOW1_PROC2_UNRESTRICTED_GUEST ? 1 : 0, pin & ALLOW1_PIN_PREEMPTION_TIMER ? 1 : 0,
		     pin & ALLOW1_PIN_POSTED_INTERRUPTS ? 1 : 0, proc2 & ALLOW1_PROC2_APIC_REGISTER_VIRT ? 1 : 0,
		     proc2 & ALLOW1_PROC2_VIRTUAL_INTR_DELIVERY ? 1 : 0,
		     proc2 & ALLOW1_PROC2_VMCS_SHADOWING ? 1 : 0);
}

int arch_virt_enable(char *detail, size_t size)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX))
		return vmx_fail(detail, size, "no-vmx-in-cpuid", -CG_ENOTSUP);

	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (fc & FEATURE_CONTROL_LOCK) {
		if (!(fc & FEATURE_CONTROL_VMXON_OUT_SMX))
			return vmx_fail(detail, size, "disabled-by-firmware", -CG_ENOTSUP);
	} else {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_VMXON_OUT_SMX | FEATURE_CONTROL_LOCK);
	}

	/* Guests' FPU/SSE/AVX state is switched with XSAVE (or FXSAVE), and a
	 * guest's XSETBV is executed on its behalf: both need these in CR4. */
	u64 cr4 = read_cr4() | CR4_OSFXSR;
	if (cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);

	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | CR4_VMXE | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) &
		  rdmsr(MSR_IA32_VMX_CR4_FIXED1));

	struct percpu *pc = this_percpu();
	if (!pc->vmxon_phys) {
		pc->vmxon_phys = mem_alloc_pages(1);
		if (!pc->vmxon_phys)
			return vmx_fail(detail, size, "no-memory-for-vmxon-region", -CG_ENOMEM);
	}
	*(u32 *)mem_ptr(pc->vmxon_phys) = (u32)(basic & VMX_BASIC_REVISION_MASK);

	u8 failed;
	__asm__ volatile("vmxon %1\n\tsetna %0" : "=qm"(failed) : "m"(pc->vmxon_phys) : "cc", "memory");
	if (failed) {
		write_cr4(read_cr4() & ~CR4_VMXE);
		return vmx_fail(detail, size, "vmxon-failed", -CG_EIO);
	}
	vmx_describe(detail, size, basic);
	spec_ctrl_cpu_init();
	return 0;
}
