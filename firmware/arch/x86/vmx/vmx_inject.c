/* Events into the guest at VM entry (SDM Vol 3C 26.6): exceptions the
 * exit handlers raise, events whose delivery an exit cut short (the
 * IDT-vectoring information, 28.2.4), NMIs, and the vLAPIC's interrupts,
 * in that order, with the interrupt- and NMI-window exits that bring the
 * vCPU back when one has to wait (26.7.5, 26.7.6).
 *
 * NMIs use "virtual NMIs" (25.3): the CPU keeps the guest's NMI blocking
 * in the interruptibility state (bit 3) from the delivery of an injected
 * NMI until the guest's IRET, and "NMI-window exiting" exits as soon as it
 * ends, so a latched NMI goes in exactly then. The monitor also knows when
 * that blocking can exist at all (arch_vcpu.nmi_blocked: only after an NMI
 * it delivered), and trusts the VMCS bit only then (vmx_nmi_blocked). */
#include "arch/x86/msr.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_debug.h"
#include "arch/x86/vmx/vmx_event.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_vcpu.h"

#define RFLAGS_IF (1ULL << 9)

static void set_proc(struct arch_vcpu *a, u32 bit, bool on)
{
	u32 want = on ? a->proc | bit : a->proc & ~bit;
	if (want != a->proc) {
		a->proc = want;
		vmcs_write(VMCS_PROC_CONTROLS, want);
	}
}

static void set_interruptibility(u64 clear, u64 set)
{
	u64 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	u64 want = (intr & ~clear) | set;
	if (want != intr)
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, want);
}

bool vmx_nmi_blocked(struct arch_vcpu *a)
{
	if (!a->vnmi)
		return false; /* no NMIs for this guest: bit 3 is not its */
	u64 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	if (!(intr & INTERRUPTIBILITY_NMI)) {
		a->nmi_blocked = false; /* the guest's IRET ended it */
		return false;
	}
	if (a->nmi_blocked)
		return true;
	/* Blocking that no NMI of this vCPU started: a CPU never reports it
	 * (only an NMI's delivery sets it, 26.6.1.2, and VM entry loads it
	 * from this field), but Bochs 2.7 keeps the blocking of the VMCS it
	 * ran before on that CPU until the guest's next IRET (its VM entry
	 * only ever sets it): the vCPU would wait for an IRET that may never
	 * come. Not ours: cleared. */
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(u64)INTERRUPTIBILITY_NMI);
	return false;
}

/* An external interrupt or NMI whose delivery gave way to an exception
 * raised during it (handled serially, table 6-5): the CPU would have
 * taken it from its source, so it is requested again and comes after the
 * exception. Faults and software interrupts need nothing: their
 * instruction runs again. */
static void vmx_event_repend(struct arch_vcpu *a, const struct pending_event *e)
{
	if (e->type == INTR_TYPE_EXTERNAL) {
		vlapic_unack(&a->lapic, e->vector);
	} else if (e->type == INTR_TYPE_NMI) {
		/* Its delivery had begun: NMIs stay blocked until the guest's
		 * next IRET, as on the CPU, and the NMI comes after that. */
		set_interruptibility(0, INTERRUPTIBILITY_NMI);
		a->nmi_blocked = true;
		__atomic_store_n(&a->lapic.nmi_pending, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&a->lapic.recheck, 1, __ATOMIC_RELEASE);
	}
}

void vmx_inject_event(struct vcpu *v, u32 type, u8 vector, u32 error)
{
	struct arch_vcpu *a = v->arch;
	struct pending_event *e = &a->event;
	if (e->valid && e->requeued) {
		/* Raised while e was being delivered. */
		switch (vmx_event_merge(e->type, e->vector, type, vector)) {
		case VMX_MERGE_TRIPLE_FAULT:
			e->valid = false;
			/* vmx_exit_fast ends the VM; attention takes its
			 * exit off the resume path, where it looks. */
			a->shutdown = true;
			__atomic_store_n(&v->attention, true, __ATOMIC_RELAXED);
			return;
		case VMX_MERGE_DOUBLE_FAULT:
			type = INTR_TYPE_HW_EXCEPTION;
			vector = VEC_DF;
			error = 0;
			break;
		case VMX_MERGE_SECOND:
			vmx_event_repend(a, e);
			break;
		}
	}
	e->valid = true;
	e->requeued = false;
	e->vector = vector;
	e->type = type;
	e->error = error;
}

void vmx_requeue_vectoring(struct vcpu *v)
{
	u32 info = (u32)vmcs_read(VMCS_IDT_VECTORING_INFO);
	if (!(info & INTR_INFO_VALID))
		return;
	struct pending_event *e = &v->arch->event;
	e->valid = true;
	e->requeued = true;
	e->vector = info & 0xFF;
	e->type = info & INTR_TYPE_MASK;
	e->error = (info & INTR_INFO_DELIVER_ERROR) ? (u32)vmcs_read(VMCS_IDT_VECTORING_ERROR) : 0;
	if (e->type == INTR_TYPE_SW_INTERRUPT || e->type == INTR_TYPE_SW_EXCEPTION ||
	    e->type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmcs_write(VMCS_ENTRY_INSTR_LEN, vmcs_read(VMCS_EXIT_INSTR_LEN));
	/* An NMI cut short may leave virtual-NMI blocking set (28.2.3); VM
	 * entry refuses to inject an NMI with it (26.3.1.5), and the
	 * delivery sets it again. */
	if (e->type == INTR_TYPE_NMI && v->arch->vnmi) {
		set_interruptibility(INTERRUPTIBILITY_NMI, 0);
		v->arch->nmi_blocked = false;
	}
}

/* The queued event goes into the entry fields: its error code by the
 * guest's mode now (a real-mode guest gets none, 26.2.1.3), and for a
 * fault the monitor raised, RF in the frame (vmx_event_sets_rf). An event
 * queued again after an exit keeps the RFLAGS that exit saved, which
 * already holds the RF its frame needs (27.3.3). */
static void vmx_inject_queued(struct arch_vcpu *a)
{
	struct pending_event *e = &a->event;
	bool pe = vmcs_read(VMCS_GUEST_CR0) & CR0_PE;
	bool err = vmx_event_has_error(e->type, e->vector, pe);
	vmcs_write(VMCS_ENTRY_INTR_INFO,
		   INTR_INFO_VALID | e->type | e->vector | (err ? INTR_INFO_DELIVER_ERROR : 0));
	if (err)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, e->error);
	if (!e->requeued && vmx_event_sets_rf(e->type, e->vector, pe)) {
		u64 rflags = vmcs_read(VMCS_GUEST_RFLAGS);
		if (!(rflags & RFLAGS_RF))
			vmcs_write(VMCS_GUEST_RFLAGS, rflags | RFLAGS_RF);
	}
	e->valid = false;
}

/* A latched NMI: injected when the guest is not blocking NMIs (blocking
 * by NMI or by MOV SS), else the NMI-window exit brings the vCPU back as
 * soon as it can take one. Returns true when it goes into this entry. */
static bool vmx_inject_nmi(struct arch_vcpu *a)
{
	if (!a->vnmi) {
		/* Without virtual NMIs nothing tells the monitor when the
		 * guest's handler returns: NMIs are not offered (dropped). */
		vlapic_take_nmi(&a->lapic);
		return false;
	}
	bool blocked = vmx_nmi_blocked(a);
	u64 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	/* A #DB the pending-debug-exceptions field holds is a trap on the
	 * previous instruction: it goes before an NMI (SDM Vol 3A 6.9), and
	 * the window exit comes after its delivery. */
	if (blocked || (intr & INTERRUPTIBILITY_MOV_SS) || vmx_debug_trap_pending()) {
		set_proc(a, PROC_NMI_WINDOW_EXITING, true);
		return false;
	}
	/* Whether STI's shadow holds back an NMI is up to the CPU model (SDM
	 * Vol 2B STI: "and, optionally, other events"), and some refuse to
	 * inject one into it (26.3.1.5): it goes in now, and a vectoring
	 * entry ends the shadow anyway (26.6.1). */
	if (intr & INTERRUPTIBILITY_STI)
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(u64)INTERRUPTIBILITY_STI);
	vlapic_take_nmi(&a->lapic);
	vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
	a->nmi_blocked = true; /* from its delivery until the guest's IRET */
	set_proc(a, PROC_NMI_WINDOW_EXITING, false);
	return true;
}

/* The event for this entry: a queued exception (or an event queued again)
 * first, then a latched NMI, then the highest deliverable APIC interrupt
 * when the guest can take it; what has to wait asks for its window exit,
 * which comes as soon as the guest can take it (after this entry's event
 * is delivered, at the latest at the handler's IRET). With APIC
 * virtualization the CPU delivers interrupts itself: only RVI, SVI and
 * the EOI-exit bitmap are brought up to date. */
void vmx_inject_slow(struct vcpu *v)
{
	struct arch_vcpu *a = v->arch;
	struct vlapic *l = &a->lapic;
	/* Taken before anything is looked at: a request that comes later
	 * (an NMI latched, an interrupt posted) asks again, and its kick
	 * brings the vCPU back here. */
	if (vlapic_take_recheck(l) && a->apicv)
		vmx_apicv_sync(v);
	bool busy = false; /* this entry carries an event already */
	bool nmi = __atomic_load_n(&l->nmi_pending, __ATOMIC_ACQUIRE);
	if (a->nmi_blocked && !nmi)
		vmx_nmi_blocked(a); /* only to see the guest's IRET */
	if (a->event.valid) {
		vmx_inject_queued(a);
		busy = true;
	}
	if (nmi) {
		if (!busy)
			busy = vmx_inject_nmi(a);
		else if (a->vnmi)
			set_proc(a, PROC_NMI_WINDOW_EXITING, true);
	} else if (a->proc & PROC_NMI_WINDOW_EXITING) {
		set_proc(a, PROC_NMI_WINDOW_EXITING, false);
	}
	if (a->apicv)
		return;
	int vec = vlapic_pending(l);
	if (vec < 0) {
		if (a->proc & PROC_INTERRUPT_WINDOW_EXITING)
			set_proc(a, PROC_INTERRUPT_WINDOW_EXITING, false);
		return;
	}
	/* A #DB the field holds goes first (a trap on the previous
	 * instruction, pending_dbg.h); the window exit comes after it. */
	bool can = !busy && (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
		   !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		     (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
		   !vmx_debug_trap_pending();
	if (can) {
		vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (u32)vec);
		vlapic_ack(l, (u8)vec);
	}
	set_proc(a, PROC_INTERRUPT_WINDOW_EXITING, !can);
}
