/* VM-exit handling: one dispatch table, one handler per basic exit reason,
 * and one FATAL path for everything else. */
#ifndef X86_VMEXIT_H
#define X86_VMEXIT_H

#include <cg/types.h>
#include "core/virt.h"

struct vcpu;

enum exit_action {
	EXIT_ACT_RESUME,   /* re-enter the guest */
	EXIT_ACT_BLOCK,    /* the vCPU waits for an interrupt */
	EXIT_ACT_YIELD,    /* let other vCPUs of this CPU run */
	EXIT_ACT_PREEMPT,  /* the time slice ended */
	EXIT_ACT_KICK,     /* a kick or tick interrupt: look at the queue */
	EXIT_ACT_VM_ENDED, /* the VM ended */
};

/* A handler of the dispatch table: what it needs of the exit beyond the
 * reason it reads itself (vmexit_qualification), so that the common
 * instruction exits pay for no VMREAD they do not use. */
typedef enum exit_action (*exit_handler)(struct vcpu *v);

/* The dispatch table (vmexit.c): one entry per basic exit reason,
 * vmexit_unhandled (the FATAL path) where crossguard has none. An exit an
 * instruction caused cannot interrupt an event's delivery (SDM Vol 3C
 * 28.2.4): its entry is the handler itself; every other entry first
 * queues again the event the exit cut short (vmx_requeue_vectoring). */
extern const exit_handler vmexit_table[];
enum exit_action vmexit_unhandled(struct vcpu *v, u64 q);

/* vmexit_qualification: the exit qualification (SDM Vol 3C 28.2.1) of
 * the exit being handled. */
static inline u64 vmexit_qualification(void)
{
	u64 q;
	__asm__ volatile("vmread %1, %0" : "=r"(q) : "r"(0x6400ULL) : "cc");
	return q;
}

/* vmexit_dispatch: count and handle basic exit reason r of v, which the
 * caller has checked is below VM_EXIT_STATS (the table's size). Inline: it
 * is on every exit's path. */
static inline enum exit_action vmexit_dispatch(struct vcpu *v, u64 reason)
{
	/* Only this CPU writes v's counters: one add to memory, not a
	 * locked one (a reader elsewhere sees the old or the new count,
	 * never a torn one: an aligned 8-byte store). */
	__asm__ volatile("incq %0" : "+m"(v->exit_stats[reason]));
	return vmexit_table[reason](v);
}

/* vmexit_fatal: dump v's guest state with why, and stop its VM (not the
 * machine). Returns EXIT_ACT_VM_ENDED. */
enum exit_action vmexit_fatal(struct vcpu *v, const char *why, const char *reason_word);

/* vmexit_triple_fault: v shut down (a triple fault, or a fault the
 * monitor raised while #DF was being delivered): its VM stops, or resets
 * when its description says "on_triple_fault": "reset". Returns
 * EXIT_ACT_VM_ENDED. */
enum exit_action vmexit_triple_fault(struct vcpu *v);

/* Handlers living in their own files. */
enum exit_action exit_cpuid(struct vcpu *v);

/* exit_cpuid_bind: point a at this CPU's cache of CPUID answers for a's
 * IA32_MISC_ENABLE (exit_cpuid.c): whenever a is loaded on a CPU, and
 * after a write of that MSR. */
struct arch_vcpu;
void exit_cpuid_bind(struct arch_vcpu *a);
enum exit_action exit_io(struct vcpu *v, u64 q);
enum exit_action exit_rdmsr(struct vcpu *v);
enum exit_action exit_wrmsr(struct vcpu *v);
enum exit_action exit_cr_access(struct vcpu *v, u64 q);
enum exit_action exit_ept_violation(struct vcpu *v, u64 q);
enum exit_action exit_vmcall(struct vcpu *v);
enum exit_action exit_apic_access(struct vcpu *v, u64 q);
enum exit_action exit_apic_write(struct vcpu *v, u64 q);
enum exit_action exit_eoi_induced(struct vcpu *v, u64 q);

/* vmexit_emulate_mmio: emulate the guest instruction that touched device
 * memory at gpa (decoded from guest memory, one MOV form), through
 * vm_mmio, and step past it. q has the EPT-violation qualification's
 * read/write/fetch bits, for the report when the VM must stop. Returns
 * EXIT_ACT_RESUME, or EXIT_ACT_VM_ENDED for an access nothing can serve. */
enum exit_action vmexit_emulate_mmio(struct vcpu *v, u64 gpa, u64 q);

/* vmexit_gpr_read / vmexit_gpr_write: guest register n (encoding order),
 * RSP through the VMCS. */
u64 vmexit_gpr_read(struct vcpu *v, u32 n);
void vmexit_gpr_write(struct vcpu *v, u32 n, u64 value);

/* vmexit_guest_paging / vmexit_guest_mem: what guest_walk needs. */
struct guest_paging;
struct guest_mem;
void vmexit_guest_paging(struct guest_paging *p);
void vmexit_guest_mem(struct vcpu *v, struct guest_mem *gm);

/* vmexit_inject_gp / vmexit_inject_ud: fault the guest instruction. */
enum exit_action vmexit_inject_gp(struct vcpu *v);
enum exit_action vmexit_inject_ud(struct vcpu *v);

#endif
