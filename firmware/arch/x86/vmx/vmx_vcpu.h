/* VMX state of a vCPU and of a VM. */
#ifndef X86_VMX_VCPU_H
#define X86_VMX_VCPU_H

#include <cg/types.h>
#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vcpu_fpu.h"
#include "arch/x86/vmx/vcpu_msr.h"
#include "arch/x86/vmx/vmx_debug.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/pending_dbg.h"
#include "core/virt.h"

struct vcpu;
struct vm;
struct cpuid_cache;

struct arch_vm {
	u64 ept_root;  /* physical address of the EPT PML4 */
	u64 eptp;
	bool apicv;    /* its vCPUs use APIC virtualization (vmx_apicv.c) */
	u64 spec_tag;  /* this VM instance, for IBPB between VMs (spec_ctrl.c) */
	/* The guest's TSC (vmx_tsc.h): host TSC + tsc_offset on every vCPU,
	 * and IA32_TSC_ADJUST; tsc_gen counts changes, under tsc_lock. */
	volatile u64 tsc_offset;
	volatile u32 tsc_gen;
	u32 tsc_lock;
};

struct pending_event {
	bool valid;
	bool requeued; /* was being delivered when the last exit came */
	u8 vector;
	u32 type;      /* INTR_TYPE_* */
	u32 error;     /* delivered where vmx_event_has_error says so */
};

struct arch_vcpu {
	u64 vmcs_phys;
	bool launched;
	bool initialized;  /* VMCS written on its CPU */
	u64 cr2;
	u64 dr[4];
	u64 dr6;
	struct vcpu_fpu fpu;            /* x87/SSE/AVX registers and XCR0 */
	u64 msr[VCPU_MSR_SWITCHED];     /* MSRs switched by hand (vcpu_msr.c) */
	u32 proc;          /* current primary processor-based controls */
	u32 proc2;         /* secondary controls, as set up */
	u32 entry;         /* current VM-entry controls */
	bool vnmi;         /* "virtual NMIs" and NMI-window exiting: NMIs for the guest */
	bool nmi_blocked;  /* an NMI was delivered and the guest has not been seen past its IRET */
	bool shutdown;     /* a fault while delivering #DF: triple fault at the exit's end */
	struct pending_event event;
	u16 vpid;
	u32 vpid_flush;    /* INVVPID type for vpid (vmx_tlb.h); 0: VPID off */
	u8 timer_rate;     /* preemption timer ticks every 2^rate TSC ticks */
	bool timer_saved;  /* the CPU keeps the timer count across exits */
	u64 slice_end;     /* TSC at which this run's slice ends */
	int exit_action;   /* enum exit_action of the last exit (vmexit.h) */
	u32 cpu;           /* CPU whose host state the VMCS holds */
	bool apicv;        /* APIC virtualization on now: the VM's choice, off
			    * while the vCPU's APIC is disabled */
	u64 eoi_exit[4];   /* the VMCS's EOI-exit bitmap, as last written */
	volatile u32 tsc_gen_seen; /* the VM's tsc_gen whose offset the VMCS holds */
	u64 misc_enable;   /* IA32_MISC_ENABLE (misc_enable.h) */
	/* This CPU's cache of CPUID answers for misc_enable's limit
	 * (exit_cpuid_bind): set at every load and MISC_ENABLE write. */
	struct cpuid_cache *cpuid_cache;
	/* The vCPU's local APIC (vlapic.c). Its register page lives as long
	 * as the VM, not the vCPU: a device or another vCPU may still aim an
	 * interrupt at a vCPU that stopped (freed by vmx_vm_lapics_free). */
	struct vlapic lapic;
};

/* vcpu_lapic: v's vLAPIC. v->arch stays set from arch_vcpu_create on
 * (arch_vcpu_free keeps it: the vLAPIC outlives the vCPU's VMX state). */
static inline struct vlapic *vcpu_lapic(const struct vcpu *v)
{
	return &v->arch->lapic;
}

/* vmx_vm_lapics_free: give back the vLAPIC register pages of vm's vCPUs
 * (arch_vm_free, once no vCPU runs and no device delivers any more). */
void vmx_vm_lapics_free(struct vm *vm);

/* vmx_vcpu_load: make v current on this CPU (VMPTRLD, switch the state
 * the VMCS does not carry). */
void vmx_vcpu_load(struct vcpu *v);

/* vmx_vcpu_setup: write the whole VMCS for v's first run on this CPU:
 * controls from the capability MSRs, host state, and the guest state the
 * loader left in v (32-bit protected mode, paging off). */
void vmx_vcpu_setup(struct vcpu *v);

/* vmx_vcpu_host_state: write this CPU's host state into the current VMCS. */
void vmx_vcpu_host_state(void);

/* vmx_vcpu_reset_realmode: put v in real mode at vector:0 after a SIPI. */
void vmx_vcpu_reset_realmode(struct vcpu *v, u8 vector);

/* vmx_guest_cr0: CR0 as the guest last wrote it: the bits it owns from
 * the VMCS guest CR0 (it changes them without an exit), the rest from the
 * read shadow. */
u64 vmx_guest_cr0(void);

/* vmx_inject_event: queue an event of type (INTR_TYPE_*) and vector for
 * the next entry. The error code goes with it exactly where the CPU would
 * push one (vmx_event_has_error, decided at entry from the guest's mode
 * then): never in real mode; a fault's frame gets RF set
 * (vmx_event_sets_rf). If the exit came while another event was being
 * delivered (queued again from the IDT-vectoring information), the two
 * combine as on the CPU (vmx_event_merge): #DF, or a triple fault that
 * ends the VM at the end of this exit, or the new one, with an external
 * interrupt or NMI whose delivery it cut short pending again. */
void vmx_inject_event(struct vcpu *v, u32 type, u8 vector, u32 error);

/* vmx_requeue_vectoring: after an exit that came while an event was being
 * delivered (the IDT-vectoring information, SDM Vol 3C 28.2.4), queue
 * that event again for the next entry (vmx_inject.c). */
void vmx_requeue_vectoring(struct vcpu *v);

/* vmx_nmi_blocked: whether the guest blocks NMIs now (in its NMI handler,
 * before the IRET), from the interruptibility state of its last exit.
 * Blocking the monitor did not start (no NMI delivered since the guest's
 * last IRET) is cleared and counts as none (vmx_inject.c says why). */
bool vmx_nmi_blocked(struct arch_vcpu *a);

/* vmx_inject_slow: before an entry, when something is queued or may have
 * become deliverable: write the event for this entry (the queued one, a
 * latched NMI, or the vLAPIC's highest deliverable interrupt) and turn
 * the interrupt- and NMI-window exits on or off for what has to wait. */
void vmx_inject_slow(struct vcpu *v);

/* vmx_inject_exception: queue hardware exception vector (error: its error
 * code, where it has one). */
static inline void vmx_inject_exception(struct vcpu *v, u8 vector, u32 error)
{
	vmx_inject_event(v, INTR_TYPE_HW_EXCEPTION, vector, error);
}

/* vmx_vcpu_flush_tlb: drop the linear and combined translations this CPU
 * caches for a's VPID (nothing when VPIDs are off): on a move to another
 * CPU, at the first run and at INIT (vmx_tlb.h says why). */
void vmx_vcpu_flush_tlb(const struct arch_vcpu *a);

/* vmx_advance_rip: the monitor has completed, for the guest, the
 * instruction that exited (len bytes; 0 for one iteration of a REP string
 * instruction that is to go on): advance RIP past it, end an STI/MOV SS
 * shadow (the instruction consumed it, SDM Vol 3A 6.8.3), and raise the
 * trap-class #DB a CPU would raise after it (vmx_debug_traps): the
 * breakpoints its emulated accesses hit (bp_hits, B0-B3 from bp_match)
 * and a single step when RFLAGS.TF was set as it began. Debug exceptions
 * the exit saved as pending (a MOV SS held them back) stay and come with
 * it. A completed instruction also leaves RF clear (an instruction clears
 * it once it has begun, Vol 3A 17.3.1.1): EPT-violation and APIC-access
 * exits save RF = 1 for a restart (Vol 3C 27.3.3), which would hide the
 * next instruction's breakpoint and go into an interrupt's frame.
 * Inline: it is on every instruction exit's path. */
static inline void vmx_advance_rip(u64 len, u32 bp_hits)
{
	u64 rip, intr, rflags;
	__asm__ volatile("vmread %1, %0" : "=r"(rip) : "r"((u64)VMCS_GUEST_RIP) : "cc");
	__asm__ volatile("vmwrite %0, %1" ::"r"(rip + len), "r"((u64)VMCS_GUEST_RIP) : "cc");
	__asm__ volatile("vmread %1, %0" : "=r"(intr) : "r"((u64)VMCS_GUEST_INTERRUPTIBILITY) : "cc");
	if (intr & 3)
		__asm__ volatile("vmwrite %0, %1" ::"r"(intr & ~3ULL),
				 "r"((u64)VMCS_GUEST_INTERRUPTIBILITY) : "cc");
	__asm__ volatile("vmread %1, %0" : "=r"(rflags) : "r"((u64)VMCS_GUEST_RFLAGS) : "cc");
	/* Instruction exits save RF = 0 (Vol 3C 27.3.3) and TF is rare: one
	 * test keeps both off the common path. */
	if (__builtin_expect((rflags & (RFLAGS_RF | RFLAGS_TF)) || bp_hits, 0))
		vmx_debug_completed(len, rflags, bp_hits);
}

/* vmx_skip_instruction: vmx_advance_rip past the exiting instruction (its
 * length from the exit), for an instruction that touched no memory or
 * port the guest may watch. */
static inline void vmx_skip_instruction(void)
{
	u64 len;
	__asm__ volatile("vmread %1, %0" : "=r"(len) : "r"((u64)VMCS_EXIT_INSTR_LEN) : "cc");
	vmx_advance_rip(len, 0);
}

/* ept_map_2m: map guest-physical gpa to host hpa (2 MiB, RWX, WB) in vm.
 * Returns 0 or -CG_ENOMEM. */
int ept_map_2m(struct vm *vm, u64 gpa, u64 hpa);

/* ept_map_4k_uc: map the 4 KiB page at gpa to hpa (read/write, uncached)
 * in vm, where no 2 MiB page covers gpa. Returns 0, -CG_ENOMEM, or
 * -CG_EBUSY when a 2 MiB page is there. */
int ept_map_4k_uc(struct vm *vm, u64 gpa, u64 hpa);

/* APIC virtualization (vmx_apicv.c, SDM Vol 3C chapter 29). */

/* vmx_apicv_vm_init: decide whether vm's vCPUs use APIC virtualization
 * (allowed and offered by this CPU) and if so map the APIC-access page at
 * the guest's APIC base. Returns 0 or -CG_ENOMEM. */
int vmx_apicv_vm_init(struct vm *vm);

/* vmx_apicv_controls: for a vCPU of an APICv VM, add what APIC
 * virtualization needs to the wanted primary and secondary processor-based
 * controls (and drop CR8 exiting), before vmx_ctl trims them. */
void vmx_apicv_controls(struct vcpu *v, u32 *proc, u32 *proc2);

/* vmx_apicv_setup: the APICv fields of v's VMCS (current on this CPU);
 * panics if this CPU lacks a control the VM was set up for. */
void vmx_apicv_setup(struct vcpu *v, u32 proc, u32 proc2);

/* vmx_apicv_apic_state: after a write of IA32_APIC_BASE by v (its VMCS
 * current here): in an APICv VM, a vCPU whose APIC is disabled runs with
 * the emulation's controls (every access to the APIC page exits and
 * finds unassigned memory, interrupts are injected by the run loop: none,
 * while it is off); re-enabled, it gets APICv back. */
void vmx_apicv_apic_state(struct vcpu *v);

/* vmx_apicv_sync: before an entry, when v's vLAPIC asked for a recheck:
 * merge posted requests into VIRR, then bring RVI, SVI and the EOI-exit
 * bitmap up to date (the CPU delivers from there). */
void vmx_apicv_sync(struct vcpu *v);

#endif
