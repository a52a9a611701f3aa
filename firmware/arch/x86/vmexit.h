/* VM-exit handling: one dispatch table, one handler per basic exit reason,
 * and one FATAL path for everything else. */
#ifndef X86_VMEXIT_H
#define X86_VMEXIT_H

#include <cg/types.h>

struct vcpu;

enum exit_action {
	EXIT_ACT_RESUME,   /* re-enter the guest */
	EXIT_ACT_BLOCK,    /* the vCPU waits for an interrupt */
	EXIT_ACT_YIELD,    /* let other vCPUs of this CPU run */
	EXIT_ACT_PREEMPT,  /* the time slice ended */
	EXIT_ACT_KICK,     /* a kick or tick interrupt: look at the queue */
	EXIT_ACT_VM_ENDED, /* the VM ended */
};

typedef enum exit_action (*exit_handler)(struct vcpu *v, u64 qualification);

/* vmexit_dispatch: handle basic exit reason r of v. */
enum exit_action vmexit_dispatch(struct vcpu *v, u32 reason);

/* vmexit_fatal: dump v's guest state with why, and stop its VM (not the
 * machine). Returns EXIT_ACT_VM_ENDED. */
enum exit_action vmexit_fatal(struct vcpu *v, const char *why, const char *reason_word);

/* Handlers living in their own files. */
enum exit_action exit_cpuid(struct vcpu *v, u64 q);
enum exit_action exit_io(struct vcpu *v, u64 q);
enum exit_action exit_rdmsr(struct vcpu *v, u64 q);
enum exit_action exit_wrmsr(struct vcpu *v, u64 q);
enum exit_action exit_cr_access(struct vcpu *v, u64 q);
enum exit_action exit_ept_violation(struct vcpu *v, u64 q);
enum exit_action exit_vmcall(struct vcpu *v, u64 q);

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
