/* The hypercall ABI (docs/guest-abi.md): RAX = call, RBX/RCX/RDX =
 * arguments, result in RAX. Only CPL 0 may call. */
#include "core/virt.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

enum hypercall { HC_VERSION = 0, HC_CONSOLE_WRITE = 1, HC_EXIT = 2, HC_YIELD = 3 };
#define HC_ABI_VERSION 1
#define HC_EPERM (-1LL)
#define HC_EFAULT (-14LL)
#define HC_EINVAL (-22LL)
#define HC_ENOSYS (-38LL)
#define HC_CONSOLE_MAX 4096

static s64 hc_console_write(struct vcpu *v, u64 gpa, u64 len)
{
	if (len > HC_CONSOLE_MAX)
		return HC_EINVAL;
	char buf[256];
	for (u64 done = 0; done < len;) {
		u64 n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		if (vm_read(v->vm, gpa + done, buf, n))
			return HC_EFAULT;
		for (u64 i = 0; i < n; i++)
			dev_console_putc(v->vm, buf[i]);
		done += n;
	}
	return (s64)len;
}

enum exit_action exit_vmcall(struct vcpu *v, u64 q)
{
	u32 cpl = (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3;
	s64 ret;
	enum exit_action act = EXIT_ACT_RESUME;
	if (cpl != 0) {
		ret = HC_EPERM;
	} else {
		switch (v->gpr[GPR_RAX]) {
		case HC_VERSION:
			ret = HC_ABI_VERSION;
			break;
		case HC_CONSOLE_WRITE:
			ret = hc_console_write(v, v->gpr[GPR_RBX], v->gpr[GPR_RCX]);
			break;
		case HC_EXIT:
			vm_end(v->vm, VM_END_EXIT, v->gpr[GPR_RBX], NULL);
			return EXIT_ACT_VM_ENDED;
		case HC_YIELD:
			ret = 0;
			act = EXIT_ACT_YIELD;
			break;
		default:
			ret = HC_ENOSYS;
			break;
		}
	}
	v->gpr[GPR_RAX] = (u64)ret;
	vmx_skip_instruction();
	return act;
}
