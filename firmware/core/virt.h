/* The one header between arch and core (firmware/layers.txt: arch's only
 * way up). Core owns VMs and vCPUs; arch (VMX on x86) builds their page
 * tables and VMCS, enters the guest, handles exits and emulates the local
 * APIC. Two halves:
 *   1. what arch implements for core: bring-up and time (init and core),
 *      then VMs and vCPUs;
 *   2. what core implements for arch: the work exits hand up (port and
 *      MMIO accesses, hypercalls, VM end), guest memory, vCPU wake, EOI.
 * Arch includes nothing else of core's; struct vm and struct vcpu come
 * with it (core/vm.h, core/vcpu.h) because arch reads their fields. */
#ifndef CG_VIRT_H
#define CG_VIRT_H

#include <cg/types.h>
#include <cg/arch_base.h>
#include "core/vcpu.h"
#include "core/vm.h"

struct vm;
struct vcpu;

/* The guest's local APIC page (SDM Vol 3A 10.4.1: the IA32_APIC_BASE
 * power-on value): arch emulates it, core's stats name its exits. */
#define VLAPIC_BASE 0xFEE00000ULL
#define VLAPIC_SIZE 0x1000ULL

/* ---- 1. What arch implements for core ---------------------------------- */

/* Bring-up and time. The basics every layer uses (serial byte,
 * timestamp, CPU index, halt) are in cg/arch_base.h. */

/* arch_wallclock_seconds: wall-clock time as Unix seconds (UTC): the
 * host's RTC read once, on the first call, then advanced by the timestamp
 * counter. A host RTC with no valid date gives 2000-01-01 (logged once).
 * Safe from any CPU. */
u64 arch_wallclock_seconds(void);

/* arch_cpu_wait_until: like arch_cpu_wait (sleep until an interrupt:
 * a kick or the periodic tick), but also wake by TSC deadline (0: none).
 * Returns at once when the deadline has passed. */
void arch_cpu_wait_until(u64 deadline);

/* arch_reboot: reset the machine (keyboard controller, then 0xCF9). */
NORETURN void arch_reboot(void);

struct acpi_madt_info;

/* arch_early_init: boot CPU tables (GDT, TSS with IST stacks, IDT, per-CPU
 * base) so that any exception from here on gets a FATAL report. */
void arch_early_init(void);

/* arch_platform_init: timers and the local APIC of the boot CPU. Returns
 * 0 or a negative error (the APIC is disabled: no SMP). */
int arch_platform_init(void);

/* arch_map_ram: extend the monitor's identity map to cover [0, top).
 * Returns 0 or -CG_ENOMEM. */
int arch_map_ram(u64 top);

/* arch_map_window: map [va, va + bytes) onto the physical range at phys
 * with 4 KiB pages (both page-aligned, va outside the identity map, at
 * most 2 MiB, within one page table), present on every CPU (they share
 * the tables). Returns 0; -CG_EINVAL for a bad range; -CG_EBUSY if a page
 * of it is already mapped elsewhere (a remap would need a TLB shootdown);
 * -CG_ENOMEM. Pages around it stay unmapped: accesses there fault. */
int arch_map_window(u64 va, u64 phys, u64 bytes);

/* arch_set_fault_window: a page fault in the monitor at an address in
 * [lo, hi) resumes at fixup, on the faulting stack as if called from the
 * faulting instruction, instead of stopping the machine (core's guarded
 * policy memories: fixup unwinds the policy call). One window; set once. */
void arch_set_fault_window(u64 lo, u64 hi, void (*fixup)(void));

/* arch_ap_entry_fn: core's life of an application processor, called on
 * it (with its dense index) once arch has set it up (stacks, GDT, IDT,
 * local APIC); it must call arch_cpu_up when its bring-up is done. */
typedef void (*arch_ap_entry_fn)(u32 index) __attribute__((noreturn));

/* arch_smp_start: start the other CPUs of the MADT one at a time; each
 * runs entry(index) and the next is started once it calls arch_cpu_up (or
 * after a timeout, reported). Arch calls nothing in core but entry.
 * Returns the number of CPUs up, this one included. */
u32 arch_smp_start(const struct acpi_madt_info *madt, arch_ap_entry_fn entry);

/* arch_cpu_up: this CPU finished core's bring-up (arch_smp_start, on the
 * boot CPU, waits for it). Harmless on the boot CPU. */
void arch_cpu_up(void);

/* arch_virt_enable: check for and turn on hardware virtualization on this
 * CPU. On success detail holds "key=value" capability pairs and 0 is
 * returned; otherwise detail holds "reason=<word>" and the return is
 * -CG_ENOTSUP (missing or disabled) or -CG_EIO (VMXON failed). */
int arch_virt_enable(char *detail, size_t size);

/* arch_cpu_apic_id: this CPU's interrupt-controller ID. */
u32 arch_cpu_apic_id(void);

/* VMs and vCPUs. */

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

/* arch_vm_free: free the page tables and the vCPUs' local APIC pages
 * (after every vCPU is gone: until then a device or another vCPU may
 * still aim an interrupt at a stopped vCPU). */
void arch_vm_free(struct vm *vm);

/* arch_vcpu_create: allocate the vCPU's VMCS and state (not yet loaded on
 * any CPU) and give it a local APIC in its power-on state (APIC ID =
 * v->index). Returns 0 or -CG_ENOMEM. */
int arch_vcpu_create(struct vcpu *v);

/* arch_vcpu_put: this CPU lets go of v: the state the VMCS does not hold
 * is saved and the VMCS cleared, so any CPU may run v next. */
void arch_vcpu_put(struct vcpu *v);

/* arch_vcpu_free: free a stopped vCPU's VMX state (no CPU holds it); its
 * local APIC stays until arch_vm_free. */
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

/* Speculative-execution hygiene between VMs (cg.spec=, docs/spec-ctrl.md):
 * AUTO applies what the CPU says it needs, ON every barrier the CPU
 * offers, OFF none. */
enum virt_spec { VIRT_SPEC_AUTO = 0, VIRT_SPEC_ON, VIRT_SPEC_OFF };

/* arch_virt_set_spec: the operator's choice, before any CPU's bring-up
 * (each CPU decides and reports when it turns virtualization on). */
void arch_virt_set_spec(enum virt_spec mode);

/* arch_vm_apicv: vm's vCPUs use APIC virtualization. */
bool arch_vm_apicv(const struct vm *vm);

/* arch_exit_reason_name: short name of exit reason r, or NULL. */
const char *arch_exit_reason_name(u32 r);


/* arch_vcpu_irq_pending: v's local APIC has an interrupt it could deliver
 * now (above its in-service and task priority): a halted v should run.
 * For a vCPU no CPU runs (the scheduler's blocked check). */
bool arch_vcpu_irq_pending(struct vcpu *v);

/* arch_vcpu_timer_deadline: timestamp of v's next local APIC timer
 * expiry, 0 when disarmed. Any CPU may read it. */
u64 arch_vcpu_timer_deadline(struct vcpu *v);

/* arch_vcpu_timer_fire: if v's APIC timer is due at timestamp now, request
 * its interrupt (waking v) and rearm or disarm it. Returns true when it
 * fired. For a vCPU no CPU runs (the scheduler, for halted vCPUs). */
bool arch_vcpu_timer_fire(struct vcpu *v, u64 now);

/* The delivery modes arch_irq_deliver takes (SDM Vol 3A 10.11.2); core
 * drops the others (SMI, INIT, ExtINT) before asking. */
enum virt_irq_mode { VIRT_IRQ_FIXED, VIRT_IRQ_LOWEST, VIRT_IRQ_NMI };

/* arch_irq_deliver: an interrupt from outside the vCPUs (IOAPIC or MSI)
 * to the vCPUs of vm matching dest (physical APIC ID, 0xFF = all; or,
 * logical, a flat-model mask). Fixed and NMI: every match; lowest
 * priority: the first match. NMI ignores vector and level. level marks
 * the vector level-triggered, so its EOI comes back through
 * virt_eoi_level. Returns the number of vCPUs it went to. */
u32 arch_irq_deliver(struct vm *vm, u32 dest, bool logical, enum virt_irq_mode mode, u8 vector,
		     bool level);

/* What an edge on a local APIC input pin became (arch_vcpu_lint). */
enum virt_lint_result {
	VIRT_LINT_NMI,     /* an NMI (LVT delivery mode NMI, or APIC globally disabled) */
	VIRT_LINT_FIXED,   /* the LVT entry's vector was requested */
	VIRT_LINT_MASKED,  /* the LVT entry is masked (or the APIC software-disabled) */
	VIRT_LINT_DROPPED, /* a mode with nothing behind it: SMI, INIT, ExtINT, vector < 16 */
};

/* arch_vcpu_lint: an edge on v's local interrupt pin (0: LINT0, 1:
 * LINT1), delivered as its LVT entry says (SDM Vol 3A 10.5.1). With the
 * APIC globally disabled the pins are the CPU's INTR and NMI inputs
 * (10.4.3): LINT1 is an NMI, LINT0 (INTR, from an 8259 a VM does not
 * connect) nothing. Any CPU; v is woken for what it must take. */
enum virt_lint_result arch_vcpu_lint(struct vcpu *v, u32 pin);

/* ---- 2. What core implements for arch ---------------------------------- */

/* Port and MMIO accesses (core/vm_io.c). */

/* vm_port_io: a guest IN or OUT of size 1, 2 or 4 bytes. For IN, *val
 * receives the value (unknown ports read all ones); for OUT, *val holds it
 * (unknown ports ignore it). A reset, power-off or debug-exit the access
 * asked for ends the VM here (vm_end). Returns DEV_OK, DEV_VM_ENDED, or
 * DEV_RETRY: the device cannot take the output yet (the VM's console is
 * at its rate), nothing happened, the vCPU yields and executes the
 * instruction again. */
enum dev_result vm_port_io(struct vcpu *v, u16 port, bool in, u32 size, u32 *val);

/* vm_mmio: a guest data access of size bytes (1, 2, 4 or 8) to
 * guest-physical gpa that is not RAM; size 0 is the EPT handler's probe
 * (may the access go on?). For a read, *val receives the value; where no
 * device answers it is all ones of size and a write is dropped, unless
 * the VM's on_unassigned_access is stop. Returns DEV_OK, DEV_UNHANDLED
 * (unassigned and the VM stops on it: the caller stops it) or
 * DEV_BAD_ACCESS (a malformed device register access). */
enum dev_result vm_mmio(struct vcpu *v, u64 gpa, bool write, u32 size, u64 *val);

/* virt_count_lapic_exit: count one exit for the guest's local APIC page in
 * v's VM's device-exit stats (arch emulates the page, core keeps stats). */
void virt_count_lapic_exit(struct vcpu *v);

/* virt_hypercall: do hypercall nr (abi/hypercall.h) with arguments
 * a0-a2 (RBX, RCX, RDX), once arch checked the caller may make it (CPL 0).
 * Returns RAX's new value and what the vCPU does next; VIRT_HC_VM_ENDED:
 * the VM was ended, RAX is left alone. Two words, returned in registers:
 * HC_VERSION is an exit-round-trip benchmark. */
enum virt_hc_action {
	VIRT_HC_RESUME,
	VIRT_HC_YIELD,
	VIRT_HC_VM_ENDED,
	VIRT_HC_RETRY, /* not done yet: the vCPU yields and makes the call again */
};
struct virt_hc_result {
	s64 ret;
	u64 action; /* enum virt_hc_action */
};
struct virt_hc_result virt_hypercall(struct vcpu *v, u64 nr, u64 a0, u64 a1, u64 a2);

/* vm_end: v's VM ends (guest exit with status, stopped with reason, or
 * reset); every vCPU leaves the guest at its next exit. */
void vm_end(struct vm *vm, enum vm_end_kind kind, u64 status, const char *reason);

/* vm_gpa_ptr: host pointer for guest-physical [gpa, gpa+len), or NULL if
 * the range is not all in one RAM chunk. */
void *vm_gpa_ptr(struct vm *vm, u64 gpa, u64 len);

/* vm_read: copy guest RAM at gpa across chunks. Returns 0 or -CG_ERANGE. */
int vm_read(struct vm *vm, u64 gpa, void *dst, u64 len);

/* virt_vcpu_wake: v has something to do (an interrupt, INIT, SIPI): a
 * running v is kicked out of the guest, a halted one made runnable. */
void virt_vcpu_wake(struct vcpu *v);

/* virt_eoi_level: a vCPU of vm ended level-triggered vector (its TMR bit
 * was set): the IOAPIC pin that sent it delivers again if still asserted. */
void virt_eoi_level(struct vm *vm, u8 vector);

#endif
