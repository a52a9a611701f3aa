/* VMCALL exits (SDM Vol 3C 25.1.3: VMCALL in VMX non-root operation always
 * exits): decode the hypercall ABI's registers (abi/hypercall.h), refuse
 * callers above CPL 0, and hand the call to core (virt_hypercall). */
#include "abi/hypercall.h"
#include "core/virt.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

/* The guest's CPL is its SS descriptor's DPL (SDM Vol 3C 24.4.1: access
 * rights bits 6:5). */
#define SS_AR_DPL(ar) (((ar) >> 5) & 3)

enum exit_action exit_vmcall(struct vcpu *v)
{
	enum exit_action act = EXIT_ACT_RESUME;
	s64 ret;
	if (SS_AR_DPL(vmcs_read(VMCS_GUEST_SS_AR)) != 0) {
		ret = HC_EPERM;
	} else {
		struct virt_hc_result r = virt_hypercall(v, v->gpr[GPR_RAX], v->gpr[GPR_RBX],
							 v->gpr[GPR_RCX], v->gpr[GPR_RDX]);
		if (__builtin_expect(r.action != VIRT_HC_RESUME, 0)) {
			if (r.action == VIRT_HC_VM_ENDED)
				return EXIT_ACT_VM_ENDED;
			if (r.action == VIRT_HC_RETRY)
				return EXIT_ACT_YIELD; /* RIP and RAX stay: VMCALL again */
			act = EXIT_ACT_YIELD;
		}
		ret = r.ret;
	}
	v->gpr[GPR_RAX] = (u64)ret;
	vmx_skip_instruction();
	return act;
}
