/* Core's side of core/virt.h's second half that has no better home: the
 * calls arch's vLAPIC makes up into core (waking a vCPU, a level EOI for
 * the IOAPIC) and the LAPIC page's exit count. Each is a direct call on,
 * so arch names only virt.h and core keeps its own names. */
#include "core/virt.h"
#include "core/sched.h"
#include "core/irq.h"

void virt_vcpu_wake(struct vcpu *v)
{
	sched_wake(v);
}

void virt_eoi_level(struct vm *vm, u8 vector)
{
	irq_eoi(vm, vector);
}

void virt_count_lapic_exit(struct vcpu *v)
{
	/* Device-exit stats by class (core/vm_io.h), as core's router counts
	 * the others: many vCPUs of a VM may exit at once. */
	__atomic_fetch_add(&v->vm->dev.exits[VM_IO_LAPIC], 1, __ATOMIC_RELAXED);
}
