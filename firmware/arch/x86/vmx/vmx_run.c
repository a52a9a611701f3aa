/* Running a vCPU on this CPU: load it, inject what is pending, enter,
 * dispatch the exit, until core has to decide something. */
#include "lib/fatal.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/lapic.h"
#include "arch/x86/msr.h"
#include "arch/x86/percpu.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmexit.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_tlb.h"
#include "arch/x86/vmx/vmx_tsc.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include "arch/x86/vmx/spec_ctrl.h"
#include "arch/x86/vmx/vcpu_fpu.h"
#include "arch/x86/vmx/vcpu_msr.h"
#include "arch/x86/vmx/misc_enable.h"
#include <cg/errno.h>
#include <cg/string.h>

static struct arch_vcpu arch_vcpus[VM_MAX * VM_MAX_VCPUS];
static struct vcpu *loaded[CG_MAX_CPUS];

int arch_vcpu_create(struct vcpu *v)
{
	struct arch_vcpu *a = &arch_vcpus[v->vm->id * VM_MAX_VCPUS + v->index];
	memset(a, 0, sizeof(*a));
	a->vmcs_phys = mem_alloc_pages(1);
	/* The vLAPIC's register page (the virtual-APIC page with APICv) */
	u64 regs = mem_alloc_pages(1);
	/* A fresh vCPU (a new VM, or one rebuilt by a reset) starts from
	 * power-on FPU state and MSRs, never what the CPU last ran. */
	int fpu_err = vcpu_fpu_create(&a->fpu);
	if (!a->vmcs_phys || fpu_err || !regs) {
		if (a->vmcs_phys)
			pmm_free(&mem_pmm, a->vmcs_phys, 1);
		vcpu_fpu_free(&a->fpu);
		if (regs)
			pmm_free(&mem_pmm, regs, 1);
		a->vmcs_phys = 0;
		return -CG_ENOMEM;
	}
	vlapic_init(&a->lapic, mem_ptr(regs), v->index);
	a->misc_enable = misc_enable_power_on();
	*(u32 *)mem_ptr(a->vmcs_phys) = (u32)(rdmsr(MSR_IA32_VMX_BASIC) & 0x7FFFFFFF);
	a->vpid = (u16)(1 + v->vm->id * VM_MAX_VCPUS + v->index);
	v->arch = a;
	return 0;
}

/* Guest state the VMCS does not hold, switched only when another vCPU
 * takes this CPU (the monitor itself never touches any of it). */
static void vcpu_state_save(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	a->cr2 = read_cr2();
	__asm__ volatile("mov %%dr0, %0" : "=r"(a->dr[0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(a->dr[1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(a->dr[2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(a->dr[3]));
	__asm__ volatile("mov %%dr6, %0" : "=r"(a->dr6));
	vcpu_msr_save(a->msr);
	vcpu_fpu_save(&a->fpu);
}

static void vcpu_state_restore(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	write_cr2(a->cr2);
	__asm__ volatile("mov %0, %%dr0" ::"r"(a->dr[0]));
	__asm__ volatile("mov %0, %%dr1" ::"r"(a->dr[1]));
	__asm__ volatile("mov %0, %%dr2" ::"r"(a->dr[2]));
	__asm__ volatile("mov %0, %%dr3" ::"r"(a->dr[3]));
	__asm__ volatile("mov %0, %%dr6" ::"r"(a->dr6 | 0xFFFF0FF0ULL));
	vcpu_msr_restore(a->msr);
	vcpu_fpu_restore(&a->fpu);
}

/* Bumped whenever a VM's EPT is freed: a new VM may get the same PML4
 * page, so every CPU flushes EPT-derived translations before it enters a
 * guest again (INVEPT all-context, SDM Vol 3C 29.4.3). */
static u32 ept_generation;
static u32 ept_generation_seen[CG_MAX_CPUS];

void arch_vm_retired(void)
{
	__atomic_fetch_add(&ept_generation, 1, __ATOMIC_RELEASE);
}

static void vmx_flush_retired(u32 cpu)
{
	u32 g = __atomic_load_n(&ept_generation, __ATOMIC_ACQUIRE);
	if (ept_generation_seen[cpu] != g) {
		struct invept_desc d = { 0, 0 };
		__asm__ volatile("invept %0, %1" ::"m"(d), "r"(2ULL) : "cc", "memory");
		ept_generation_seen[cpu] = g;
	}
}

void vmx_vcpu_load(struct vcpu *v)
{
	u32 cpu = this_percpu()->index;
	/* CPUID exits answer from this CPU's cache through a pointer
	 * (exit_cpuid_bind): set before anything else, even for a vCPU
	 * this CPU still holds. */
	exit_cpuid_bind(v->arch);
	if (loaded[cpu] == v)
		return;
	if (loaded[cpu])
		arch_vcpu_put(loaded[cpu]);
	if (!vmx_vmptrld(v->arch->vmcs_phys))
		panic("vmx_vcpu_load: VMPTRLD of vm %s vcpu %u failed", v->vm->name, v->index);
	spec_ctrl_vcpu_load(v);
	vcpu_state_restore(v);
	loaded[cpu] = v;
	/* A VMCS moved to another CPU needs that CPU's host state, and this
	 * CPU may still cache translations the guest revoked elsewhere. */
	if (vmx_vcpu_migrated(v->arch->initialized, v->arch->cpu, cpu)) {
		vmx_vcpu_host_state();
		vmx_vcpu_flush_tlb(v->arch);
		v->migrations++;
	}
	v->arch->cpu = cpu;
}

void vmx_vcpu_flush_tlb(const struct arch_vcpu *a)
{
	if (a->vpid_flush)
		vmx_invvpid(a->vpid_flush, a->vpid);
}

void arch_vcpu_put(struct vcpu *v)
{
	u32 cpu = this_percpu()->index;
	if (loaded[cpu] != v)
		return;
	vcpu_state_save(v);
	vmx_vmclear(v->arch->vmcs_phys);
	v->arch->launched = false; /* VMCLEAR resets the launch state */
	loaded[cpu] = NULL;
}

void arch_vcpu_free(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	if (!a || !a->vmcs_phys)
		return;
	pmm_free(&mem_pmm, a->vmcs_phys, 1);
	vcpu_fpu_free(&a->fpu);
	a->vmcs_phys = 0;
	/* v->arch stays: the vLAPIC still takes interrupts until the VM goes
	 * (vmx_vm_lapics_free). */
}

void vmx_vm_lapics_free(struct vm *vm)
{
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v || !v->arch)
			continue;
		if (v->arch->lapic.regs)
			pmm_free(&mem_pmm, (u64)(uintptr_t)v->arch->lapic.regs, 1);
		/* v->arch itself stays (static storage): a late look at a
		 * stopped vCPU finds a disabled vLAPIC, not a NULL. */
		v->arch->lapic.regs = NULL;
	}
}

static inline void vmx_inject_pending(struct vcpu *v, struct arch_vcpu *a)
{
	/* The common case, checked inline on every exit: nothing to deliver,
	 * and nothing that changed what is deliverable. The exit stub makes
	 * the same four checks after a handler (vmx_entry.asm): a fifth
	 * condition goes there too. */
	if (a->event.valid || a->lapic.recheck || a->nmi_blocked ||
	    (a->proc & (PROC_INTERRUPT_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)))
		vmx_inject_slow(v);
}

static enum virt_run_result run_result(enum exit_action act)
{
	switch (act) {
	case EXIT_ACT_BLOCK:
		return VIRT_RUN_BLOCKED;
	case EXIT_ACT_YIELD:
		return VIRT_RUN_YIELD;
	case EXIT_ACT_KICK:
		return VIRT_RUN_KICKED;
	case EXIT_ACT_VM_ENDED:
		return VIRT_RUN_VM_ENDED;
	default:
		return VIRT_RUN_PREEMPTED;
	}
}

/* vmx_exit_acted: called by the exit stub (and below) when the handler's
 * action act is not a plain resume, or core asked for the vCPU back: the
 * action is left for arch_vcpu_run, the stub goes back there. */
void vmx_exit_acted(struct vcpu *v, enum exit_action act);
void vmx_exit_acted(struct vcpu *v, enum exit_action act)
{
	struct arch_vcpu *a = v->arch;
	/* Only arch_vcpu_run reads it, once the stub went back there */
	a->exit_action = act;
	/* The handler raised a fault while #DF was being delivered
	 * (vmx_inject_event set attention with it). */
	if (a->shutdown) {
		a->shutdown = false;
		a->exit_action = vmexit_triple_fault(v);
	}
}

/* Handle basic exit reason `reason` (below VM_EXIT_STATS) of v and say
 * whether the stub may resume the guest at once (vmx_exit_fast). */
static inline __attribute__((always_inline)) bool vmx_exit_handle(struct vcpu *v, u64 reason)
{
	struct arch_vcpu *a = v->arch;
	/* The table's entry queues again an event the exit cut short, for
	 * the reasons that can carry IDT-vectoring info (vmexit.h). */
	enum exit_action act = vmexit_dispatch(v, reason);
	if (__builtin_expect(act != EXIT_ACT_RESUME || v->attention, 0)) {
		vmx_exit_acted(v, act);
		return false;
	}
	vmx_inject_pending(v, a);
	return true;
}

/* An exit reason with more than a basic reason below VM_EXIT_STATS: a
 * failed VM entry (bit 31), a basic reason with flag bits above it (SDM
 * Vol 3C table 25-17 / 28.2.1), or a reason no table entry exists for. */
static __attribute__((noinline)) bool vmx_exit_unusual(struct vcpu *v, u32 reason)
{
	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		v->arch->exit_action =
			vmexit_fatal(v, "VM entry failed on guest state", "invalid-guest-state");
		return false;
	}
	reason &= 0xFFFF;
	if (reason >= VM_EXIT_STATS) {
		v->arch->exit_action = vmexit_unhandled(v, 0);
		return false;
	}
	return vmx_exit_handle(v, reason);
}

/* vmx_exit_fast: the whole of an exit's handling in C: handles the exit
 * and, when the guest can simply go on, prepares the next entry and
 * returns true so the stub resumes at once; otherwise the action is left
 * in a->exit_action for arch_vcpu_run. The exit stub dispatches the
 * common exits itself (vmx_entry.asm) and calls this for the unusual
 * reasons (entry failure, flag bits, out of the table), which one
 * compare sends aside. */
bool vmx_exit_fast(struct vcpu *v);
bool vmx_exit_fast(struct vcpu *v)
{
	u64 reason = vmcs_read(VMCS_EXIT_REASON); /* 32 bits, zero-extended */
	if (__builtin_expect(reason >= VM_EXIT_STATS, 0))
		return vmx_exit_unusual(v, (u32)reason);
	return vmx_exit_handle(v, reason);
}

enum virt_run_result arch_vcpu_run(struct vcpu *v, u64 slice_end)
{
	struct arch_vcpu *a = v->arch;
	vmx_flush_retired(this_percpu()->index);
	vmx_vcpu_load(v);
	if (!a->initialized)
		vmx_vcpu_setup(v);
	if (v->sipi_pending) {
		vmx_vcpu_reset_realmode(v, v->sipi_vector);
		v->sipi_pending = false;
	}
	enum virt_run_result result = VIRT_RUN_PREEMPTED;
	a->slice_end = slice_end;
	/* Running again: an NMI for it needs a kick, whatever its last HLT
	 * saw (vlapic.h). */
	__atomic_store_n(&a->lapic.nmi_masked, false, __ATOMIC_RELEASE);
	/* Cleared before the checks below, so a request that comes later is
	 * seen at the next exit; without a saved timer every exit comes back
	 * here to rearm it. */
	__atomic_store_n(&v->attention, !a->timer_saved, __ATOMIC_SEQ_CST);
	/* The timer counts down in the guest only and, with "save preemption
	 * timer value", keeps its count across exits: one write per slice. */
	bool first = true;
	for (;;) {
		/* Back here for a new APIC timer deadline (attention too): clear
		 * it again before the checks, as above. */
		if (a->timer_saved && !first)
			__atomic_store_n(&v->attention, false, __ATOMIC_SEQ_CST);
		if (v->vm->state != VM_RUNNING) {
			result = VIRT_RUN_VM_ENDED;
			break;
		}
		if (v->init_pending) {
			v->init_pending = false;
			result = VIRT_RUN_WAIT_SIPI;
			break;
		}
		if (first || !a->timer_saved || a->lapic.timer_dirty) {
			u64 now = rdtsc();
			if (now >= slice_end)
				break;
			/* The guest's APIC timer and the slice share the one
			 * preemption timer: it stops at whichever comes first. */
			a->lapic.timer_dirty = false;
			vlapic_timer_fire(v, now);
			u64 until = slice_end, dl = a->lapic.timer_deadline;
			if (dl && dl < until)
				until = dl;
			u64 timer = until > now ? (until - now) >> a->timer_rate : 0;
			vmcs_write(VMCS_PREEMPTION_TIMER, timer > 0xFFFFFFFFu ? 0xFFFFFFFFu : timer);
			first = false;
		}
		/* Another vCPU may have written the VM's TSC (vmx_tsc.c) */
		vmx_tsc_sync(v);
		vmx_inject_pending(v, a);
		if (spec_ctrl_enter(v, a->launched)) {
			kprintf("vm %s: VM entry failed, VM-instruction error %lu\n", v->vm->name,
				vmcs_read(VMCS_INSTRUCTION_ERROR));
			result = run_result(vmexit_fatal(v, "VMLAUNCH/VMRESUME failed", "vmentry-failed"));
			break;
		}
		/* Exits resumed from the stub use VMRESUME; this is the first
		 * return to C since the (possible) VMLAUNCH. */
		a->launched = true;
		if (a->exit_action != EXIT_ACT_RESUME) {
			result = run_result(a->exit_action);
			break;
		}
	}
	return result;
}
