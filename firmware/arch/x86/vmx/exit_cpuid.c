/* CPUID as the guest sees it (docs/guest-abi.md): the host's answers with
 * what crossguard does not virtualize hidden, the hypervisor bit set, the
 * guest's own APIC ID and CPU count, and the crossguard leaves. */
#include "abi/hypercall.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define HV_LEAF_BASE 0x40000000u
#define HV_LEAF_MAX 0x40000001u
/* "CrossGuardVM" in EBX, ECX, EDX order */
#define HV_SIG_EBX 0x736F7243u /* "Cros" */
#define HV_SIG_ECX 0x61754773u /* "sGua" */
#define HV_SIG_EDX 0x4D566472u /* "rdVM" */

/* CPUID.1 (SDM Vol 2A table 3-10, 3-11) */
#define L1_ECX_DTES64 (1U << 2)
#define L1_ECX_MONITOR (1U << 3)
#define L1_ECX_DSCPL (1U << 4)
#define L1_ECX_VMX (1U << 5)
#define L1_ECX_SMX (1U << 6)
#define L1_ECX_EST (1U << 7)
#define L1_ECX_TM2 (1U << 8)
#define L1_ECX_PDCM (1U << 15)
#define L1_ECX_PCID (1U << 17)
#define L1_ECX_X2APIC (1U << 21)
#define L1_ECX_TSC_DEADLINE (1U << 24)
#define L1_ECX_HYPERVISOR (1U << 31)
#define L1_EDX_MCE (1U << 7)
#define L1_EDX_MCA (1U << 14)
#define L1_EDX_DS (1U << 21)
#define L1_EDX_ACPI (1U << 22)
#define L1_EDX_HTT (1U << 28)
#define L1_EDX_TM (1U << 29)
#define L1_EDX_PBE (1U << 31)
/* CPUID.7.0 */
#define L7_EBX_TSC_ADJUST (1U << 1)
#define L7_EBX_SGX (1U << 2)
#define L7_EBX_RTM (1U << 11)
#define L7_EBX_PQM (1U << 12)
#define L7_EBX_MPX (1U << 14)
#define L7_EBX_PQE (1U << 15)
#define L7_EBX_PT (1U << 25)
#define L7_ECX_WAITPKG (1U << 5)
#define L7_ECX_SGX_LC (1U << 30)
#define L6_EAX_ARAT (1U << 2)
#define LEAF_TSC_CRYSTAL 0x15u
#define LEAF_FREQ 0x16u
#define LEAF_POWER_MGMT 0x80000007u
#define L80000007_EDX_INVARIANT_TSC (1U << 8)

static u32 host_max_leaf(void)
{
	static u32 max;
	if (!max)
		max = cpuid(0, 0).eax;
	return max;
}

static void cpuid_filter(struct vcpu *v, u32 leaf, struct cpuid_regs *r)
{
	switch (leaf) {
	case 1:
		r->ecx &= ~(L1_ECX_DTES64 | L1_ECX_MONITOR | L1_ECX_DSCPL | L1_ECX_VMX | L1_ECX_SMX |
			    L1_ECX_EST | L1_ECX_TM2 | L1_ECX_PDCM | L1_ECX_PCID | L1_ECX_X2APIC);
		/* The vLAPIC always has the TSC-deadline timer (vlapic_timer.c). */
		r->ecx |= L1_ECX_TSC_DEADLINE;
		r->ecx |= L1_ECX_HYPERVISOR;
		/* Machine-check banks are not emulated: no MCE, no MCA. */
		r->edx &= ~(L1_EDX_MCE | L1_EDX_MCA | L1_EDX_DS | L1_EDX_ACPI | L1_EDX_TM | L1_EDX_PBE |
			    L1_EDX_HTT);
		if (v->vm->vcpu_count > 1)
			r->edx |= L1_EDX_HTT;
		/* The initial APIC ID: what the guest's ID register was reset to */
		r->ebx = (r->ebx & 0x0000FFFFu) | (v->vm->vcpu_count << 16) | (v->index << 24);
		break;
	case 0:
		/* Up to the frequency leaf: Linux takes the TSC and APIC timer
		 * rates from 0x15/0x16 instead of calibrating against the PIT. */
		if (r->eax < LEAF_FREQ)
			r->eax = LEAF_FREQ;
		break;
	case 6: /* thermal and power: only "APIC timer always running" */
		r->eax = L6_EAX_ARAT;
		r->ebx = r->ecx = r->edx = 0;
		break;
	case LEAF_TSC_CRYSTAL: {
		/* SDM Vol 2A CPUID.15H: TSC = crystal * EBX / EAX; the APIC
		 * timer counts at the crystal clock. */
		u64 hz = arch_timestamp_hz();
		u32 div = vlapic_crystal_div(hz);
		r->eax = 1;
		r->ebx = div;
		r->ecx = (u32)(hz / div);
		r->edx = 0;
		break;
	}
	case LEAF_FREQ: { /* CPUID.16H: base, maximum and bus frequency in MHz */
		u64 hz = arch_timestamp_hz();
		r->eax = r->ebx = (u32)(hz / 1000000);
		r->ecx = (u32)(hz / vlapic_crystal_div(hz) / 1000000);
		r->edx = 0;
		break;
	}
	case LEAF_POWER_MGMT:
		/* The guest's TSC is the host's, and the monitor needs that to
		 * be invariant (every CPU with EPT has one): saying so lets
		 * Linux trust it without a clocksource watchdog. */
		r->edx = L80000007_EDX_INVARIANT_TSC;
		r->eax = r->ebx = r->ecx = 0;
		break;
	case 5: /* MONITOR/MWAIT */
	case 0xA: /* performance monitoring */
	case 0xB: /* x2APIC topology: not offered */
	case 0x12: /* SGX */
	case 0x14: /* processor trace */
	case 0x1F:
		r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	case 7:
		r->ebx &= ~(L7_EBX_SGX | L7_EBX_RTM | L7_EBX_PQM | L7_EBX_MPX | L7_EBX_PQE | L7_EBX_PT);
		r->ecx &= ~(L7_ECX_WAITPKG | L7_ECX_SGX_LC);
		break;
	default:
		/* Leaves between the host's maximum and ours read as zero
		 * (a CPU would repeat its highest leaf). */
		if (leaf < 0x80000000u && leaf > host_max_leaf())
			r->eax = r->ebx = r->ecx = r->edx = 0;
		break;
	}
}

enum exit_action exit_cpuid(struct vcpu *v, u64 q)
{
	u32 leaf = (u32)v->gpr[GPR_RAX];
	u32 sub = (u32)v->gpr[GPR_RCX];
	struct cpuid_regs r = { 0, 0, 0, 0 };
	if (leaf >= HV_LEAF_BASE && leaf < HV_LEAF_BASE + 0x100) {
		if (leaf == HV_LEAF_BASE) {
			r.eax = HV_LEAF_MAX;
			r.ebx = HV_SIG_EBX;
			r.ecx = HV_SIG_ECX;
			r.edx = HV_SIG_EDX;
		} else if (leaf == HV_LEAF_MAX) {
			r.eax = HC_ABI_VERSION;
		}
	} else {
		r = cpuid(leaf, sub);
		cpuid_filter(v, leaf, &r);
	}
	v->gpr[GPR_RAX] = r.eax;
	v->gpr[GPR_RBX] = r.ebx;
	v->gpr[GPR_RCX] = r.ecx;
	v->gpr[GPR_RDX] = r.edx;
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}
