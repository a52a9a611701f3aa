/* The hypercalls' work (abi/hypercall.h), as Jailhouse's generic
 * hypercall(): arch's VMCALL exit decodes the registers and checks the
 * caller's privilege, core does what the call means. */
#include "core/virt.h"
#include "core/vm_console.h"
#include "core/vm_io.h"
#include "abi/hypercall.h"

/* Copy len bytes of guest memory at gpa to the VM's console. *retry:
 * the VM's share of the operator line is used up; nothing was written and
 * the vCPU makes the call again later. Not inlined: its buffer would make
 * every hypercall pay for a stack frame. */
static __attribute__((noinline)) s64 hc_console_write(struct vcpu *v, u64 gpa, u64 len,
						      bool *retry)
{
	if (len > HC_CONSOLE_MAX)
		return HC_EINVAL;
	/* The whole write is charged at once (at most HC_CONSOLE_MAX bytes
	 * ahead of the VM's clock), so a retry never repeats a byte. */
	if (!vm_console_reserve(v->vm, len, vm_now_ns())) {
		*retry = true;
		return 0;
	}
	char buf[256];
	for (u64 done = 0; done < len;) {
		u64 n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		if (vm_read(v->vm, gpa + done, buf, n))
			return HC_EFAULT;
		for (u64 i = 0; i < n; i++)
			vm_console_putc(v->vm, buf[i]);
		done += n;
	}
	return (s64)len;
}

/* Every call but HC_VERSION (not inlined, so HC_VERSION, the exit
 * benchmark's call, costs no stack frame). */
static __attribute__((noinline)) struct virt_hc_result hc_other(struct vcpu *v, u64 nr, u64 a0,
								  u64 a1)
{
	switch (nr) {
	case HC_CONSOLE_WRITE: {
		bool retry = false;
		s64 r = hc_console_write(v, a0, a1, &retry);
		return (struct virt_hc_result){ r, retry ? VIRT_HC_RETRY : VIRT_HC_RESUME };
	}
	case HC_EXIT:
		vm_end(v->vm, VM_END_EXIT, a0, NULL);
		return (struct virt_hc_result){ 0, VIRT_HC_VM_ENDED };
	case HC_YIELD:
		return (struct virt_hc_result){ 0, VIRT_HC_YIELD };
	default:
		return (struct virt_hc_result){ HC_ENOSYS, VIRT_HC_RESUME };
	}
}

struct virt_hc_result virt_hypercall(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2)
{
	if (nr == HC_VERSION)
		return (struct virt_hc_result){ HC_ABI_VERSION, VIRT_HC_RESUME };
	return hc_other(v, nr, a0, a1);
}
