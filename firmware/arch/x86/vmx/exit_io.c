/* I/O instructions (exit qualification: SDM Vol 3C table 28-5), including
 * INS/OUTS with REP, emulated against the VM's port map. */
#include "core/virt.h"
#include "arch/x86/vmx/io_string.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_event.h"
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

struct io_string_port {
	struct vcpu *v;
	u16 port;
};

static enum io_string_port_result io_string_port(void *ctx, bool in, u32 size, u32 *val)
{
	struct io_string_port *p = ctx;
	enum dev_result r = vm_port_io(p->v, p->port, in, size, val);
	if (r == DEV_VM_ENDED)
		return IO_STRING_PORT_VM_ENDED;
	return r == DEV_RETRY ? IO_STRING_PORT_RETRY : IO_STRING_PORT_OK;
}

/* Out of line: its frame (walker state, breakpoints) would otherwise be
 * set up on every port exit, string or not. */
static __attribute__((noinline)) enum exit_action io_string(struct vcpu *v, u64 q)
{
	u32 size = IO_SIZE(q);
	bool rep = q & IO_REP;
	u32 ab = io_addr_bytes();
	u64 amask = mask_bytes(ab);
	u32 ptr_reg = (q & IO_IN) ? GPR_RDI : GPR_RSI;
	u64 count = rep ? v->gpr[GPR_RCX] & amask : 1;
	u64 rflags = vmcs_read(VMCS_GUEST_RFLAGS);
	struct bp_regs bp;
	bool watch = vmx_debug_bp_regs(&bp);
	u32 port_hits = watch ? bp_match(&bp, BP_IO, IO_PORT(q), size) : 0;
	struct io_string s = {
		.gla = vmcs_read(VMCS_GUEST_LINEAR_ADDRESS),
		.step = (rflags & RFLAGS_DF) ? -(s64)size : (s64)size,
		.count = count < IO_STRING_BATCH ? count : IO_STRING_BATCH,
		.size = size,
		.in = q & IO_IN,
		.bp = watch ? &bp : NULL,
	};
	/* A single step, or an I/O breakpoint on the port, traps after every
	 * iteration (SDM Vol 3A 17.3.1.2, 17.3.1.4): one element per exit. */
	if (port_hits || vmx_debug_stepping(rflags))
		s.count = s.count ? 1 : 0;
	struct guest_paging pg;
	struct guest_mem gm;
	vmexit_guest_paging(&pg);
	vmexit_guest_mem(v, &gm);
	struct io_string_port port = { v, IO_PORT(q) };
	struct io_string_result r = io_string_run(&s, &gm, &pg, io_string_port, &port);
	if (r.end == IO_STRING_VM_ENDED)
		return EXIT_ACT_VM_ENDED;
	if (r.end == IO_STRING_BAD_MEMORY)
		return vmexit_fatal(v, "string I/O to memory that is not RAM", "bad-memory-access");
	u64 ptr = v->gpr[ptr_reg];
	v->gpr[ptr_reg] = (ptr & ~amask) | ((ptr + (u64)((s64)r.done * s.step)) & amask);
	if (rep)
		v->gpr[GPR_RCX] = (v->gpr[GPR_RCX] & ~amask) | ((count - r.done) & amask);
	if (r.end == IO_STRING_FAULT) {
		/* The elements before it are done; the instruction restarts at
		 * the faulting one once the guest has fixed its page. */
		write_cr2(r.fault_gla);
		vmx_inject_exception(v, VEC_PF, r.fault_error);
		return EXIT_ACT_RESUME;
	}
	if (vmx_string_sets_rf(rep, r.done, count))
		vmcs_write(VMCS_GUEST_RFLAGS, vmcs_read(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
	if (r.end == IO_STRING_RETRY)
		return EXIT_ACT_YIELD; /* RIP stays: the rest is done later */
	u32 hits = r.done ? port_hits | r.bp_hits : 0;
	if (!rep || r.done == count)
		vmx_advance_rip(vmcs_read(VMCS_EXIT_INSTR_LEN), hits);
	else if (r.done)
		vmx_advance_rip(0, hits); /* iterations done; RIP stays on the rest */
	return EXIT_ACT_RESUME;
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
	vmx_advance_rip(vmcs_read(VMCS_EXIT_INSTR_LEN),
			vmx_debug_bp_hits(BP_IO, IO_PORT(q), size));
	return EXIT_ACT_RESUME;
}
