/* What core asks of the architecture's virtualization support (VMX on
 * x86). Core owns VMs and vCPUs; arch builds their page tables and VMCS,
 * enters the guest and handles exits. */
#ifndef CG_VIRT_H
#define CG_VIRT_H

#include <cg/types.h>

struct vm;
struct vcpu;

enum virt_run_result {
	VIRT_RUN_PREEMPTED, /* the slice ended */
	VIRT_RUN_BLOCKED,   /* the vCPU halted with nothing to do */
	VIRT_RUN_YIELD,     /* the guest asked to yield (PAUSE, hypercall) */
	VIRT_RUN_KICKED,    /* another CPU wants this one to look at its queue */
	VIRT_RUN_VM_ENDED,  /* the VM ended (exit, stop, fault) */
	VIRT_RUN_WAIT_SIPI, /* INIT received: back to wait-for-SIPI */
};

/* arch_vm_init: build the VM's second-level page tables mapping its RAM
 * chunks (2 MiB pages) and nothing else. Returns 0 or -CG_ENOMEM. */
int arch_vm_init(struct vm *vm);

/* arch_vm_free: free the page tables (after every vCPU is gone). */
void arch_vm_free(struct vm *vm);

/* arch_vcpu_create: allocate the vCPU's VMCS and state (not yet loaded on
 * any CPU). Returns 0 or -CG_ENOMEM. */
int arch_vcpu_create(struct vcpu *v);

/* arch_vcpu_put: this CPU lets go of v: the state the VMCS does not hold
 * is saved and the VMCS cleared, so any CPU may run v next. */
void arch_vcpu_put(struct vcpu *v);

/* arch_vcpu_free: free a stopped vCPU's VMX state (no CPU holds it). */
void arch_vcpu_free(struct vcpu *v);

/* arch_vm_retired: a VM's page tables were freed; every CPU flushes the
 * translations cached for them before its next guest entry. */
void arch_vm_retired(void);

/* arch_vcpu_run: enter the guest and handle exits until core must decide
 * something (see enum virt_run_result) or slice_end (timestamp) passes. */
enum virt_run_result arch_vcpu_run(struct vcpu *v, u64 slice_end);

/* arch_cpu_wait: idle until an interrupt (a kick or CPU 0's tick). */
void arch_cpu_wait(void);

/* arch_kick_cpu: send the kick interrupt to physical CPU cpu. */
void arch_kick_cpu(u32 cpu);

/* arch_tick_start: periodic tick on this CPU (CPU 0: the shell's pulse). */
void arch_tick_start(u32 hz);

/* arch_virt_set_apicv: allow (cg.apicv=1) or forbid (the default) the
 * CPU's APIC virtualization for VMs created from now on; forbidden, the
 * vLAPIC is emulated from exits alone. */
void arch_virt_set_apicv(bool allow);

/* arch_vm_apicv: vm's vCPUs use APIC virtualization. */
bool arch_vm_apicv(const struct vm *vm);

/* arch_exit_reason_name: short name of exit reason r, or NULL. */
const char *arch_exit_reason_name(u32 r);

#endif
