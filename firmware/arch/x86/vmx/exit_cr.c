/* Control-register accesses (qualification: SDM Vol 3C table 28-3). CR0
 * and CR4 bits under the guest/host masks, and CR8 (the APIC TPR). */
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define CR_NUM(q) ((q) & 0xF)
#define CR_TYPE(q) (((q) >> 4) & 3)
#define CR_GPR(q) (((q) >> 8) & 0xF)
#define CR_LMSW_SRC(q) (((q) >> 16) & 0xFFFF)
enum { CR_MOV_TO = 0, CR_MOV_FROM = 1, CR_CLTS = 2, CR_LMSW = 3 };
#define CR0_PE (1ULL << 0)
#define CR0_TS (1ULL << 3)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_SMXE (1ULL << 14)
#define CR4_PCIDE (1ULL << 17)
#define EFER_LME (1ULL << 8)

void vmx_set_cr0(struct vcpu *v, u64 guest_value);
void vmx_set_cr4(u64 guest_value);

static bool cr0_write(struct vcpu *v, u64 val)
{
	/* SDM Vol 2B MOV to CR0: #GP for reserved bits, PG without PE, NW
	 * without CD, and long mode without PAE */
	if (val >> 32 || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)))
		return false;
	/* PAE is not under the CR4 guest/host mask: the guest sets it without
	 * an exit, so the read shadow does not have it; CR4 itself does. */
	if ((val & CR0_PG) && (vmcs_read(VMCS_GUEST_EFER) & EFER_LME) &&
	    !(vmcs_read(VMCS_GUEST_CR4) & CR4_PAE))
		return false;
	vmx_set_cr0(v, val);
	return true;
}

static bool cr4_write(u64 val)
{
	u64 fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* VMX and SMX are hidden from the guest; PCID is not offered in CPUID */
	if ((val & (CR4_VMXE | CR4_SMXE | CR4_PCIDE)) || (val & ~fixed1))
		return false;
	vmx_set_cr4(val);
	return true;
}

enum exit_action exit_cr_access(struct vcpu *v, u64 q)
{
	u32 cr = CR_NUM(q);
	switch (CR_TYPE(q)) {
	case CR_MOV_TO: {
		u64 val = vmexit_gpr_read(v, CR_GPR(q));
		bool ok = true;
		if (cr == 0)
			ok = cr0_write(v, val);
		else if (cr == 4)
			ok = cr4_write(val);
		else if (cr == 3)
			vmcs_write(VMCS_GUEST_CR3, val);
		else if (cr == 8)
			vlapic_tpr_write(vcpu_lapic(v), (u32)(val & 0xF) << 4);
		else
			return vmexit_fatal(v, "MOV to an unexpected control register", "unhandled-exit");
		if (!ok)
			return vmexit_inject_gp(v);
		break;
	}
	case CR_MOV_FROM:
		if (cr == 3)
			vmexit_gpr_write(v, CR_GPR(q), vmcs_read(VMCS_GUEST_CR3));
		else if (cr == 8)
			vmexit_gpr_write(v, CR_GPR(q), vlapic_tpr_read(vcpu_lapic(v)) >> 4);
		else
			return vmexit_fatal(v, "MOV from an unexpected control register", "unhandled-exit");
		break;
	case CR_CLTS:
		vmcs_write(VMCS_GUEST_CR0, vmcs_read(VMCS_GUEST_CR0) & ~CR0_TS);
		vmcs_write(VMCS_CR0_SHADOW, vmcs_read(VMCS_CR0_SHADOW) & ~CR0_TS);
		break;
	case CR_LMSW: {
		/* LMSW loads CR0[3:0] but cannot clear PE */
		u64 old = vmx_guest_cr0();
		u64 val = (old & ~0xEULL) | (CR_LMSW_SRC(q) & 0xF) | (old & CR0_PE);
		vmx_set_cr0(v, val);
		break;
	}
	}
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}
