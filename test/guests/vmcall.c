/* vmcall: crossguard's hypercall ABI (docs/guest-abi.md). Elsewhere VMCALL
 * means something else (#UD under QEMU TCG, KVM's own ABI under KVM), so
 * every check is crossguard-only. */
#include "guest.h"
#include <abi/hypercall.h>

#define HC_UNKNOWN 999
#define FAR_BEYOND_RAM 0x40000000u /* 1 GiB: far past any test VM's RAM */

struct hc {
	u32 nr, a1, a2, ret, ebx_after, ecx_after;
};

static void do_vmcall(void *arg)
{
	struct hc *h = arg;
	u32 a = h->nr, b = h->a1, c = h->a2;

	__asm__ volatile("vmcall" : "+a"(a), "+b"(b), "+c"(c) : : "memory");
	h->ret = a;
	h->ebx_after = b;
	h->ecx_after = c;
}

/* Returns the exception vector, or NO_EXCEPTION with h->ret set. */
static int hypercall(struct hc *h)
{
	return catch_exception(do_vmcall, h);
}

int main(void)
{
	struct hc h = { HC_VERSION, 0, 0, 0, 0, 0 };

	if (!on_crossguard()) {
		int v = hypercall(&h);
		report_info("VMCALL outside crossguard: vector %d, eax 0x%x", v, h.ret);
		report_skip("hypercalls (not under crossguard)");
		return report_summary();
	}

	int v = hypercall(&h);
	report(v == NO_EXCEPTION && h.ret == 1, "version (RAX=0) returns 1 (vector %d, got %d)", v, (s32)h.ret);

	static const char msg[] = "vmcall: this line was written by console_write\n";
	u32 len = sizeof(msg) - 1;
	h = (struct hc){ HC_CONSOLE_WRITE, (u32)msg, len, 0, 0, 0 };
	v = hypercall(&h);
	report(v == NO_EXCEPTION && h.ret == len, "console_write of %u bytes returns %d", len, (s32)h.ret);
	report(h.ebx_after == (u32)msg && h.ecx_after == len, "console_write preserves RBX and RCX");

	h = (struct hc){ HC_UNKNOWN, 0, 0, 0, 0, 0 };
	v = hypercall(&h);
	report(v == NO_EXCEPTION && (s32)h.ret == HC_ENOSYS, "unknown call 999 returns -38 (got %d)", (s32)h.ret);

	h = (struct hc){ HC_CONSOLE_WRITE, FAR_BEYOND_RAM, 16, 0, 0, 0 };
	v = hypercall(&h);
	report(v == NO_EXCEPTION && (s32)h.ret == HC_EFAULT, "console_write from 0x%x (beyond RAM) returns -14 (got %d)",
	       FAR_BEYOND_RAM, (s32)h.ret);
	return report_summary();
}
