/* I/O instructions (exit qualification: SDM Vol 3C table 28-5), including
 * INS/OUTS with REP, emulated against the VM's port map. */
#include "core/virt.h"
#include "arch/x86/vmx/guest_walk.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include <cg/errno.h>

#define IO_SIZE(q) (((q) & 7) + 1)
#define IO_IN (1U << 3)
#define IO_STRING (1U << 4)
#define IO_REP (1U << 5)
#define IO_PORT(q) ((u16)((q) >> 16))
#define RFLAGS_DF (1ULL << 10)
#define VMX_BASIC_INSOUTS_INFO (1ULL << 54)
#define VEC_PF 14
#define PF_ERR_WRITE (1U << 1)
/* Elements per exit: bounds the time one exit can take; REP continues by
 * re-executing the instruction with the updated RCX. */
#define IO_STRING_BATCH 4096

/* Address size of a string instruction: from the exit's instruction
 * information when the CPU reports it (VMX_BASIC[54]), else from CS. */
static u32 io_addr_bytes(void)
{
	if (rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_INSOUTS_INFO) {
		u32 info = (u32)vmcs_read(VMCS_EXIT_INSTR_INFO);
		return 2U << ((info >> 7) & 7);
	}
	u64 ar = vmcs_read(VMCS_GUEST_CS_AR);
	if (ar & (1U << 13))
		return 8;
	return (ar & (1U << 14)) ? 4 : 2;
}

static u64 mask_bytes(u32 bytes)
{
	return bytes == 8 ? ~0ULL : (1ULL << (bytes * 8)) - 1;
}

static enum exit_action io_string(struct vcpu *v, u64 q)
{
	u32 size = IO_SIZE(q);
	bool in = q & IO_IN;
	bool rep = q & IO_REP;
	u32 ab = io_addr_bytes();
	u64 amask = mask_bytes(ab);
	u32 ptr_reg = in ? GPR_RDI : GPR_RSI;
	u64 count = rep ? v->gpr[GPR_RCX] & amask : 1;
	s64 step = (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(s64)size : (s64)size;
	u64 gla = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS);
	struct guest_paging pg;
	struct guest_mem gm;
	vmexit_guest_paging(&pg);
	vmexit_guest_mem(v, &gm);

	u64 done = 0;
	enum dev_result res = DEV_OK;
	while (done < count && done < IO_STRING_BATCH && res == DEV_OK) {
		u64 a = gla + (u64)((s64)done * step);
		u32 val = 0;
		for (u32 b = 0; b < size; b++) {
			u64 gpa;
			int rc = guest_walk(&gm, &pg, a + b, in ? WALK_WRITE : WALK_READ, &gpa);
			if (rc == -CG_ENOENT || rc == -CG_ERANGE) {
				write_cr2(a + b);
				vmx_inject_exception(v, VEC_PF, true, in ? PF_ERR_WRITE : 0);
				goto out;
			}
			u8 *p = rc ? NULL : vm_gpa_ptr(v->vm, gpa, 1);
			if (!p)
				return vmexit_fatal(v, "string I/O to memory that is not RAM",
						    "bad-memory-access");
			if (!in)
				val |= (u32)*p << (8 * b);
		}
		res = vm_port_io(v, IO_PORT(q), in, size, &val);
		if (res == DEV_RETRY)
			break; /* this element again, after a yield */
		if (in) {
			for (u32 b = 0; b < size; b++) {
				u64 gpa;
				guest_walk(&gm, &pg, a + b, WALK_WRITE, &gpa);
				*(u8 *)vm_gpa_ptr(v->vm, gpa, 1) = (u8)(val >> (8 * b));
			}
		}
		done++;
	}
out: {
	u64 ptr = v->gpr[ptr_reg];
	v->gpr[ptr_reg] = (ptr & ~amask) | ((ptr + (u64)((s64)done * step)) & amask);
	if (rep)
		v->gpr[GPR_RCX] = (v->gpr[GPR_RCX] & ~amask) | ((count - done) & amask);
	if (res == DEV_VM_ENDED)
		return EXIT_ACT_VM_ENDED;
	if (res == DEV_RETRY)
		return EXIT_ACT_YIELD; /* RIP stays: the rest is done later */
	if (v->arch->event.valid)
		return EXIT_ACT_RESUME; /* the #PF restarts the instruction */
	if (!rep || done == count)
		vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}
}

enum exit_action exit_io(struct vcpu *v, u64 q)
{
	if (q & IO_STRING)
		return io_string(v, q);
	u32 size = IO_SIZE(q);
	u32 val = (u32)v->gpr[GPR_RAX];
	enum dev_result res = vm_port_io(v, IO_PORT(q), q & IO_IN, size, &val);
	if (res == DEV_VM_ENDED)
		return EXIT_ACT_VM_ENDED;
	if (res == DEV_RETRY)
		return EXIT_ACT_YIELD; /* RIP stays: the OUT is executed again */
	if (q & IO_IN) {
		u64 rax = v->gpr[GPR_RAX];
		/* IN AL/AX merge; IN EAX zero-extends, as any 32-bit write does */
		if (size == 4)
			rax = val;
		else
			rax = (rax & ~mask_bytes(size)) | (val & mask_bytes(size));
		v->gpr[GPR_RAX] = rax;
	}
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}
