/* The exit dispatch table and the small handlers; larger ones have their
 * own files (exit_*.c). */
#include "arch/x86/vmx/vmexit.h"
#include "lib/fatal.h"
#include "arch/x86/vmx/guest_walk.h"
#include "lib/log.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define RFLAGS_IF (1ULL << 9)
#define KICK_VECTOR 0xF0

static const char *const exit_names[VM_EXIT_STATS] = {
	[EXIT_EXCEPTION_NMI] = "exception", [EXIT_EXTERNAL_INTERRUPT] = "interrupt",
	[EXIT_TRIPLE_FAULT] = "triple-fault", [EXIT_INIT] = "init", [EXIT_SIPI] = "sipi",
	[EXIT_INTERRUPT_WINDOW] = "intr-window", [EXIT_NMI_WINDOW] = "nmi-window",
	[EXIT_TASK_SWITCH] = "task-switch", [EXIT_CPUID] = "cpuid", [EXIT_GETSEC] = "getsec",
	[EXIT_HLT] = "hlt", [EXIT_INVD] = "invd", [EXIT_INVLPG] = "invlpg", [EXIT_RDPMC] = "rdpmc",
	[EXIT_RDTSC] = "rdtsc", [EXIT_RSM] = "rsm", [EXIT_VMCALL] = "vmcall",
	[EXIT_VMCLEAR] = "vmclear", [EXIT_VMLAUNCH] = "vmlaunch", [EXIT_VMPTRLD] = "vmptrld",
	[EXIT_VMPTRST] = "vmptrst", [EXIT_VMREAD] = "vmread", [EXIT_VMRESUME] = "vmresume",
	[EXIT_VMWRITE] = "vmwrite", [EXIT_VMXOFF] = "vmxoff", [EXIT_VMXON] = "vmxon",
	[EXIT_CR_ACCESS] = "cr", [EXIT_DR_ACCESS] = "dr", [EXIT_IO_INSTRUCTION] = "io",
	[EXIT_RDMSR] = "rdmsr", [EXIT_WRMSR] = "wrmsr", [EXIT_INVALID_GUEST_STATE] = "bad-state",
	[EXIT_MSR_LOADING] = "msr-load", [EXIT_MWAIT] = "mwait", [EXIT_MONITOR_TRAP] = "mtf",
	[EXIT_MONITOR] = "monitor", [EXIT_PAUSE] = "pause", [EXIT_MACHINE_CHECK] = "mce",
	[EXIT_TPR_BELOW_THRESHOLD] = "tpr", [EXIT_APIC_ACCESS] = "apic-access",
	[EXIT_EOI_INDUCED] = "eoi-induced", [EXIT_APIC_WRITE] = "apic-write",
	[EXIT_GDTR_IDTR] = "gdtr-idtr", [EXIT_LDTR_TR] = "ldtr-tr",
	[EXIT_EPT_VIOLATION] = "ept-violation", [EXIT_EPT_MISCONFIG] = "ept-misconfig",
	[EXIT_INVEPT] = "invept", [EXIT_RDTSCP] = "rdtscp",
	[EXIT_PREEMPTION_TIMER] = "preempt-timer", [EXIT_INVVPID] = "invvpid",
	[EXIT_WBINVD] = "wbinvd", [EXIT_XSETBV] = "xsetbv", [EXIT_RDRAND] = "rdrand",
	[EXIT_INVPCID] = "invpcid", [EXIT_VMFUNC] = "vmfunc", [EXIT_RDSEED] = "rdseed",
	[EXIT_XSAVES] = "xsaves", [EXIT_XRSTORS] = "xrstors",
};

const char *arch_exit_reason_name(u32 r)
{
	return r < VM_EXIT_STATS ? exit_names[r] : NULL;
}

u64 vmexit_gpr_read(struct vcpu *v, u32 n)
{
	return n == GPR_RSP ? vmcs_read(VMCS_GUEST_RSP) : v->gpr[n];
}

void vmexit_gpr_write(struct vcpu *v, u32 n, u64 value)
{
	if (n == GPR_RSP) {
		vmcs_write(VMCS_GUEST_RSP, value);
		return;
	}
	v->gpr[n] = value;
	/* Preserved by C across the stub's call, so reloaded only when
	 * changed here (vcpu.h) */
	if (n == GPR_RBP || n >= GPR_R12)
		v->gpr_callee_dirty = true;
}

void vmexit_guest_paging(struct guest_paging *p)
{
	p->cr0 = vmcs_read(VMCS_GUEST_CR0);
	p->cr3 = vmcs_read(VMCS_GUEST_CR3);
	p->cr4 = vmcs_read(VMCS_GUEST_CR4);
	p->efer = vmcs_read(VMCS_GUEST_EFER);
}

static const void *guest_mem_map(const struct guest_mem *gm, u64 gpa, u64 len)
{
	return vm_gpa_ptr(gm->ctx, gpa, len);
}

void vmexit_guest_mem(struct vcpu *v, struct guest_mem *gm)
{
	gm->map = guest_mem_map;
	gm->ctx = v->vm;
}

enum exit_action vmexit_inject_gp(struct vcpu *v)
{
	vmx_inject_exception(v, VEC_GP, 0);
	return EXIT_ACT_RESUME;
}

enum exit_action vmexit_inject_ud(struct vcpu *v)
{
	vmx_inject_exception(v, VEC_UD, 0);
	return EXIT_ACT_RESUME;
}

/* The guest state an engineer needs to see where a VM went wrong. */
static void vmexit_dump_guest(struct vcpu *v)
{
	kprintf("  rip=%016lx rsp=%016lx rflags=%016lx cs=%04lx base %lx ss=%04lx\n",
		vmcs_read(VMCS_GUEST_RIP), vmcs_read(VMCS_GUEST_RSP), vmcs_read(VMCS_GUEST_RFLAGS),
		vmcs_read(VMCS_GUEST_CS_SEL), vmcs_read(VMCS_GUEST_CS_BASE),
		vmcs_read(VMCS_GUEST_SS_SEL));
	kprintf("  cr0=%016lx cr3=%016lx cr4=%016lx efer=%016lx\n", vmcs_read(VMCS_GUEST_CR0),
		vmcs_read(VMCS_GUEST_CR3), vmcs_read(VMCS_GUEST_CR4), vmcs_read(VMCS_GUEST_EFER));
	kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", v->gpr[GPR_RAX], v->gpr[GPR_RBX],
		v->gpr[GPR_RCX], v->gpr[GPR_RDX]);
	kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx\n", v->gpr[GPR_RSI], v->gpr[GPR_RDI],
		v->gpr[GPR_RBP]);
	kprintf("  cr0 read-shadow=%lx cr4 read-shadow=%lx gdt=%lx/%lx idt=%lx/%lx\n",
		vmcs_read(VMCS_CR0_SHADOW), vmcs_read(VMCS_CR4_SHADOW), vmcs_read(VMCS_GUEST_GDTR_BASE),
		vmcs_read(VMCS_GUEST_GDTR_LIMIT), vmcs_read(VMCS_GUEST_IDTR_BASE),
		vmcs_read(VMCS_GUEST_IDTR_LIMIT));
}

enum exit_action vmexit_fatal(struct vcpu *v, const char *why, const char *reason_word)
{
	u32 reason = (u32)vmcs_read(VMCS_EXIT_REASON);
	const char *name = arch_exit_reason_name(reason & 0xFFFF);
	kprintf("FATAL: vm %s vcpu %u: %s (exit reason %u %s, qualification 0x%lx)\n",
		v->vm->name, v->index, why, reason & 0xFFFF, name ? name : "?",
		vmcs_read(VMCS_EXIT_QUALIFICATION));
	vmexit_dump_guest(v);
	vm_end(v->vm, VM_END_STOP, 0, reason_word);
	return EXIT_ACT_VM_ENDED;
}

enum exit_action vmexit_unhandled(struct vcpu *v, u64 q)
{
	return vmexit_fatal(v, "unhandled VM exit", "unhandled-exit");
}

/* An intercepted #DB or #AC (VMX_EXCEPTION_BITMAP) goes back to the guest
 * as the CPU would have delivered it: the same vector, type and error
 * code, and for #DB the DR6/DR7 effects the exit held back (SDM Vol 3C
 * 27.1). If the exit came while delivering another event (queued again by
 * the run loop), vmx_inject_event combines the two as the CPU would: #DB
 * and #AC are benign (SDM Vol 3A table 6-5), so the new one is delivered,
 * and an interrupt or NMI it cut short comes after it. A #DB the monitor
 * raised itself (pending_dbg.h: a single step or breakpoint after an
 * instruction it completed) comes this way too. A guest
 * that raises them again while they are delivered loops through exits,
 * each bounded, and loses the CPU when its slice ends. */
static enum exit_action exit_reflect(struct vcpu *v, u32 info, u64 q)
{
	u32 type = info & INTR_TYPE_MASK;
	u8 vector = info & 0xFF;
	u32 error = (info & INTR_INFO_DELIVER_ERROR) ? (u32)vmcs_read(VMCS_EXIT_INTR_ERROR) : 0;
	if (vector == VEC_DB && type == INTR_TYPE_HW_EXCEPTION) {
		u64 dr6;
		__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
		dr6 = vmx_db_dr6(dr6, q);
		__asm__ volatile("mov %0, %%dr6" ::"r"(dr6)); /* the guest's, live while it runs */
		vmcs_write(VMCS_GUEST_DR7, vmx_db_dr7(vmcs_read(VMCS_GUEST_DR7), q));
	}
	if (type == INTR_TYPE_PRIV_SW_EXCEPTION) /* INT1: delivered past the instruction */
		vmcs_write(VMCS_ENTRY_INSTR_LEN, vmcs_read(VMCS_EXIT_INSTR_LEN));
	/* In an STI/MOV SS shadow with TF set, VM entry wants the single step
	 * the exit did not record (SDM Vol 3C 27.3.1.5). */
	vmx_debug_entry_fixup();
	vmx_inject_event(v, type, vector, error);
	return rdtsc() >= v->arch->slice_end ? EXIT_ACT_PREEMPT : EXIT_ACT_RESUME;
}

static enum exit_action exit_exception_nmi(struct vcpu *v, u64 q)
{
	u32 info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);
	if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
		/* A host NMI while the guest ran: the machine is stopping. */
		if (fatal_stopping())
			arch_halt_forever();
		return EXIT_ACT_RESUME;
	}
	u8 vector = info & 0xFF;
	if (vector == VEC_DB || vector == VEC_AC)
		return exit_reflect(v, info, q);
	return vmexit_fatal(v, "guest exception with no handler", "unexpected-exception");
}

/* The exit acknowledged the interrupt (EXIT_ACK_INTERRUPT_ON_EXIT): its
 * vector is in the exit's interruption information, it is in service at
 * the local APIC, and only this handler ends it. A host device's (core/
 * virt.h) is handed to core and the guest resumes; a kick or tick sends
 * the vCPU back to the scheduler. */
static enum exit_action exit_external_interrupt(struct vcpu *v, u64 q)
{
	u32 info = (u32)vmcs_read(VMCS_EXIT_INTR_INFO);
	u32 vector = info & 0xFF;

	if ((info & INTR_INFO_VALID) && vector >= VIRT_HOST_IRQ_BASE &&
	    vector < VIRT_HOST_IRQ_BASE + VIRT_HOST_IRQ_COUNT) {
		virt_host_irq((u8)vector);
		lapic_eoi();
		return EXIT_ACT_RESUME;
	}
	lapic_eoi();
	return EXIT_ACT_KICK;
}

enum exit_action vmexit_triple_fault(struct vcpu *v)
{
	bool reset = v->vm->on_triple_fault == VMCFG_TRIPLE_RESET;
	kprintf("vm %s: vcpu %u triple fault at rip %lx; VM %s\n", v->vm->name, v->index,
		vmcs_read(VMCS_GUEST_RIP), reset ? "reset" : "stopped");
	vmexit_dump_guest(v);
	vm_end(v->vm, reset ? VM_END_RESET : VM_END_STOP, 0, "triple-fault");
	return EXIT_ACT_VM_ENDED;
}

static enum exit_action exit_triple_fault(struct vcpu *v, u64 q)
{
	return vmexit_triple_fault(v);
}

static enum exit_action exit_ignore(struct vcpu *v, u64 q)
{
	return EXIT_ACT_RESUME;
}

static enum exit_action exit_window(struct vcpu *v, u64 q)
{
	return EXIT_ACT_RESUME; /* the next entry injects what is pending */
}

/* HLT waits for an interrupt, unless a #DB is already coming: a pending
 * debug exception (HLT single-stepped, or one a MOV SS held back) ends
 * the halt at once, as it does on the CPU (SDM Vol 2 HLT; Vol 3C 27.7.3
 * delivers it from the HLT state). */
static enum exit_action exit_hlt(struct vcpu *v)
{
	struct vlapic *l = vcpu_lapic(v);
	vmx_skip_instruction();
	if (vlapic_pending(l) >= 0 && (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF))
		return EXIT_ACT_RESUME;
	/* An NMI ends HLT unless the guest is still in its NMI handler
	 * (virtual-NMI blocking until IRET): then only an interrupt wakes it
	 * and the NMI waits for the IRET. */
	bool nmi_blocked = vmx_nmi_blocked(v->arch);
	__atomic_store_n(&l->nmi_masked, nmi_blocked, __ATOMIC_RELEASE);
	if (!nmi_blocked && __atomic_load_n(&l->nmi_pending, __ATOMIC_ACQUIRE))
		return EXIT_ACT_RESUME;
	return vmx_debug_trap_pending() ? EXIT_ACT_RESUME : EXIT_ACT_BLOCK;
}

static enum exit_action exit_skip(struct vcpu *v, u64 q)
{
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}

static enum exit_action exit_ud(struct vcpu *v, u64 q)
{
	return vmexit_inject_ud(v);
}

static enum exit_action exit_gp(struct vcpu *v, u64 q)
{
	return vmexit_inject_gp(v);
}

static enum exit_action exit_pause(struct vcpu *v)
{
	vmx_skip_instruction();
	return EXIT_ACT_YIELD;
}

static enum exit_action exit_preempt(struct vcpu *v, u64 q)
{
	/* Either the guest's APIC timer is due (the run loop fires it and
	 * rearms for what is left of the slice) or the slice ended: the
	 * timer counts in steps of 2^rate ticks, so it may come a few ticks
	 * before slice_end. */
	u64 dl = vcpu_lapic(v)->timer_deadline;
	if (!dl || rdtsc() < dl)
		return EXIT_ACT_PREEMPT;
	vcpu_lapic(v)->timer_dirty = true;
	v->attention = true;
	return EXIT_ACT_RESUME;
}

static enum exit_action exit_xsetbv(struct vcpu *v)
{
	u64 value = (v->gpr[GPR_RDX] << 32) | (u32)v->gpr[GPR_RAX];
	/* SDM Vol 2C XSETBV: ECX = 0 only (XCR0); the value by the XCR0
	 * rules (xstate.c), against what this monitor switches. The CPU has
	 * already raised #UD (CR4.OSXSAVE clear) and #GP (CPL > 0). */
	if ((u32)v->gpr[GPR_RCX] != 0 || !vcpu_fpu_set_xcr0(&v->arch->fpu, value))
		return vmexit_inject_gp(v);
	vmx_skip_instruction();
	return EXIT_ACT_RESUME;
}

/* The table's entries for exits that are not the common instructions:
 * the event the exit interrupted queued again, then the handler with the
 * exit qualification. Instruction exits that need the qualification read
 * it in their entry; the others are their handler. */
#define EXIT_EVENT(h)                                                  \
	static enum exit_action h##_entry(struct vcpu *v)              \
	{                                                              \
		vmx_requeue_vectoring(v);                              \
		return h(v, vmexit_qualification());                   \
	}
#define EXIT_INSN_Q(h)                                                 \
	static enum exit_action h##_entry(struct vcpu *v)              \
	{                                                              \
		return h(v, vmexit_qualification());                   \
	}
EXIT_EVENT(vmexit_unhandled)
EXIT_EVENT(exit_exception_nmi)
EXIT_EVENT(exit_external_interrupt)
EXIT_EVENT(exit_triple_fault)
EXIT_EVENT(exit_ignore)
EXIT_EVENT(exit_window)
EXIT_EVENT(exit_ud)
EXIT_EVENT(exit_skip)
EXIT_EVENT(exit_gp)
EXIT_EVENT(exit_ept_violation)
EXIT_EVENT(exit_preempt)
EXIT_EVENT(exit_apic_access)
EXIT_EVENT(exit_apic_write)
EXIT_EVENT(exit_eoi_induced)
EXIT_INSN_Q(exit_cr_access)
EXIT_INSN_Q(exit_io)

/* Every reason without a handler of its own goes to vmexit_unhandled (the
 * range first, the entries after it override it): dispatch calls the entry
 * without a NULL check. The instruction exits (SDM Vol 3C 28.2.4): CPUID
 * 10, HLT 12, VMCALL 18, CR 28, I/O 30, RDMSR 31, WRMSR 32, PAUSE 40,
 * XSETBV 55; the VMX instructions, INVD, WBINVD and the like keep the
 * event entry, which finds nothing to queue. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const exit_handler vmexit_table[VM_EXIT_STATS] = {
	[0 ... VM_EXIT_STATS - 1] = vmexit_unhandled_entry,
	[EXIT_EXCEPTION_NMI] = exit_exception_nmi_entry,
	[EXIT_EXTERNAL_INTERRUPT] = exit_external_interrupt_entry,
	[EXIT_TRIPLE_FAULT] = exit_triple_fault_entry,
	[EXIT_INIT] = exit_ignore_entry,
	[EXIT_SIPI] = exit_ignore_entry,
	[EXIT_INTERRUPT_WINDOW] = exit_window_entry,
	[EXIT_NMI_WINDOW] = exit_window_entry,
	[EXIT_CPUID] = exit_cpuid,
	[EXIT_GETSEC] = exit_ud_entry,
	[EXIT_HLT] = exit_hlt,
	[EXIT_INVD] = exit_skip_entry,
	[EXIT_RDPMC] = exit_gp_entry,
	[EXIT_VMCALL] = exit_vmcall,
	[EXIT_VMCLEAR] = exit_ud_entry,
	[EXIT_VMLAUNCH] = exit_ud_entry,
	[EXIT_VMPTRLD] = exit_ud_entry,
	[EXIT_VMPTRST] = exit_ud_entry,
	[EXIT_VMREAD] = exit_ud_entry,
	[EXIT_VMRESUME] = exit_ud_entry,
	[EXIT_VMWRITE] = exit_ud_entry,
	[EXIT_VMXOFF] = exit_ud_entry,
	[EXIT_VMXON] = exit_ud_entry,
	[EXIT_CR_ACCESS] = exit_cr_access_entry,
	[EXIT_IO_INSTRUCTION] = exit_io_entry,
	[EXIT_RDMSR] = exit_rdmsr,
	[EXIT_WRMSR] = exit_wrmsr,
	[EXIT_MWAIT] = exit_ud_entry,
	[EXIT_MONITOR] = exit_ud_entry,
	[EXIT_PAUSE] = exit_pause,
	[EXIT_EPT_VIOLATION] = exit_ept_violation_entry,
	[EXIT_INVEPT] = exit_ud_entry,
	[EXIT_PREEMPTION_TIMER] = exit_preempt_entry,
	[EXIT_INVVPID] = exit_ud_entry,
	[EXIT_WBINVD] = exit_skip_entry,
	[EXIT_XSETBV] = exit_xsetbv,
	[EXIT_APIC_ACCESS] = exit_apic_access_entry,
	[EXIT_APIC_WRITE] = exit_apic_write_entry,
	[EXIT_EOI_INDUCED] = exit_eoi_induced_entry,
	[EXIT_VMFUNC] = exit_ud_entry,
};
#pragma GCC diagnostic pop
