/* RDMSR/WRMSR that the MSR bitmap traps: an explicit allow list; anything
 * else is #GP(0) (docs/guest-abi.md). */
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/vmx/misc_enable.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_tsc.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_FEATURE_CONTROL 0x3A
#define MSR_BIOS_SIGN_ID 0x8B
#define MSR_PLATFORM_INFO 0xCE
#define MSR_MTRRCAP 0xFE
#define MSR_MISC_ENABLE 0x1A0
#define MSR_MTRR_DEF_TYPE 0x2FF
#define MSR_PAT 0x277
#define MSR_TSC_ADJUST 0x3B
#define MSR_TSC_DEADLINE 0x6E0
#define MSR_EFER 0xC0000080
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)
#define FEATURE_CONTROL_LOCKED 1ULL
#define MTRR_DEF_TYPE_ENABLED_WB 0xC06ULL

/* Guest-visible MTRR default type; per VM state is not worth it yet: the
 * monitor maps guest RAM write-back whatever the guest says. */
static u64 msr_read(struct vcpu *v, u32 msr, bool *ok)
{
	*ok = true;
	switch (msr) {
	case MSR_APIC_BASE:
		return vcpu_lapic(v)->apic_base;
	case MSR_EFER:
		return vmcs_read(VMCS_GUEST_EFER);
	case MSR_FEATURE_CONTROL:
		return FEATURE_CONTROL_LOCKED; /* locked with VMX off: no nested VMX */
	case MSR_BIOS_SIGN_ID:
	case MSR_PLATFORM_INFO:
	case MSR_MTRRCAP:
		return 0;
	case MSR_MISC_ENABLE:
		return v->arch->misc_enable;
	case MSR_MTRR_DEF_TYPE:
		return MTRR_DEF_TYPE_ENABLED_WB;
	case MSR_TSC_DEADLINE:
		return vlapic_tsc_deadline_read(vcpu_lapic(v));
	case MSR_TSC_ADJUST:
		return tsc_adjust_read(vmx_tsc_offset(v->vm));
	default:
		*ok = false;
		return 0;
	}
}

enum exit_action exit_rdmsr(struct vcpu *v)
{
	bool ok;
	u64 value = msr_read(v, (u32)v->gpr[GPR_RCX], &ok);
	if (!ok)
		return vmexit_inject_gp(v);
	v->gpr[GPR_RAX] = (u32)value;
	v->gpr[GPR_RDX] = value >> 32;
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}

void vmx_set_cr0(struct vcpu *v, u64 guest_value);

static bool efer_write(struct vcpu *v, u64 value)
{
	if (value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return false;
	u64 old = vmcs_read(VMCS_GUEST_EFER);
	/* LMA is the CPU's to set; LME may not change while paging is on */
	value = (value & ~EFER_LMA) | (old & EFER_LMA);
	u64 cr0 = vmx_guest_cr0();
	if ((value ^ old) & EFER_LME && (cr0 & (1ULL << 31)))
		return false;
	vmcs_write(VMCS_GUEST_EFER, value);
	vmx_set_cr0(v, cr0);
	return true;
}

/* Each PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7
 * (SDM Vol 3A 11.12.2); anything else is #GP. */
static bool pat_valid(u64 value)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (u8)(value >> (8 * i));
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

enum exit_action exit_wrmsr(struct vcpu *v)
{
	u32 msr = (u32)v->gpr[GPR_RCX];
	u64 value = (v->gpr[GPR_RDX] << 32) | (u32)v->gpr[GPR_RAX];
	bool ok;
	switch (msr) {
	case MSR_APIC_BASE:
		ok = vlapic_write_base(v, value) == 0;
		if (ok)
			vmx_apicv_apic_state(v); /* APICv only while the APIC is on */
		break;
	case MSR_EFER:
		ok = efer_write(v, value);
		break;
	case MSR_BIOS_SIGN_ID:
		ok = true; /* microcode revision probe: accepted and ignored */
		break;
	case MSR_MTRR_DEF_TYPE:
		ok = (value & ~0xCFFULL) == 0;
		break;
	case MSR_TSC_DEADLINE:
		vlapic_tsc_deadline_write(v, value);
		ok = true;
		break;
	case MSR_TSC:
		/* The VM's TSC reads value from now on, on every vCPU (the SDM's
		 * TSC_ADJUST moves with it: vmx_tsc.h) */
		ok = vmx_tsc_set_offset(v, tsc_offset_for_write(value, rdtsc()));
		break;
	case MSR_TSC_ADJUST:
		ok = vmx_tsc_set_offset(v, tsc_offset_for_adjust(value));
		break;
	case MSR_MISC_ENABLE:
		ok = misc_enable_write(v->arch->misc_enable, value, &v->arch->misc_enable);
		exit_cpuid_bind(v->arch); /* leaf 0 as the limit now says */
		break;
	case MSR_PAT:
		ok = pat_valid(value);
		if (ok)
			vmcs_write(VMCS_GUEST_PAT, value);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok)
		return vmexit_inject_gp(v);
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}
