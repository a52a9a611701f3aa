/* A VM's TSC offset (vmx_tsc.h): one per VM, in every vCPU's VMCS.
 *
 * A change is made by one vCPU in a WRMSR exit, while the others may be
 * running guest code on other CPUs with the old offset in their VMCS,
 * which only their own CPU can write. So the VM counts changes (tsc_gen),
 * each vCPU loads the offset when it sees a new count before it enters
 * (vmx_tsc_sync, from the run loop), and the writer kicks the vCPUs that
 * are running and waits until each has taken the new count or stopped
 * running: once the WRMSR completes, no vCPU of the VM runs guest code
 * with the old offset (up to a time bound, for a CPU that does not
 * answer; it still loads the offset before its next entry). */
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/vmx/vlapic.h"
#include "arch/x86/vmx/vmcs.h"
#include "arch/x86/vmx/vmx_ops.h"
#include "arch/x86/vmx/vmx_tsc.h"
#include "arch/x86/vmx/vmx_vcpu.h"
#include <cg/spinlock.h>

/* How long a writer waits for the other vCPUs: 20 ms. A kicked vCPU
 * takes microseconds; the bound is for a CPU stuck elsewhere. */
#define TSC_SYNC_WAIT_DIV 50

void vmx_tsc_vm_init(struct vm *vm)
{
	vm->arch->tsc_offset = 0;
	vm->arch->tsc_gen = 0;
	vm->arch->tsc_lock = 0;
}

void vmx_tsc_load(struct vcpu *v)
{
	struct arch_vm *av = v->vm->arch;
	spin_lock(&av->tsc_lock);
	u64 offset = av->tsc_offset;
	u32 gen = av->tsc_gen;
	spin_unlock(&av->tsc_lock);
	vmcs_write(VMCS_TSC_OFFSET, offset);
	__atomic_store_n(&v->arch->tsc_gen_seen, gen, __ATOMIC_RELEASE);
}

void vmx_tsc_sync(struct vcpu *v)
{
	/* The common case: one load and a compare per entry from the loop */
	if (__atomic_load_n(&v->vm->arch->tsc_gen, __ATOMIC_ACQUIRE) != v->arch->tsc_gen_seen)
		vmx_tsc_load(v);
}

/* Whether t may still be in the guest with an offset older than gen. */
static bool tsc_behind(const struct vcpu *t, u32 gen)
{
	return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == VCPU_RUNNING &&
	       __atomic_load_n(&t->arch->tsc_gen_seen, __ATOMIC_ACQUIRE) != gen;
}

bool vmx_tsc_set_offset(struct vcpu *v, u64 offset)
{
	if (!(v->arch->proc & PROC_USE_TSC_OFFSETTING))
		return offset == vmx_tsc_offset(v->vm);
	struct vm *vm = v->vm;
	struct arch_vm *av = vm->arch;
	spin_lock(&av->tsc_lock);
	if (av->tsc_offset == offset) {
		spin_unlock(&av->tsc_lock);
		return true;
	}
	__atomic_store_n(&av->tsc_offset, offset, __ATOMIC_RELEASE);
	u32 gen = av->tsc_gen + 1;
	__atomic_store_n(&av->tsc_gen, gen, __ATOMIC_SEQ_CST);
	/* IA32_TSC_DEADLINE is in guest TSC units: every armed one moves
	 * (under the lock, so two writers leave the last offset's deadlines) */
	for (u32 i = 0; i < vm->vcpu_count; i++)
		if (vm->vcpus[i] && vm->vcpus[i]->arch)
			vlapic_tsc_offset_changed(vm->vcpus[i], offset);
	spin_unlock(&av->tsc_lock);
	vmx_tsc_load(v);

	/* The count is stored (sequentially consistent) before any state is
	 * read: a vCPU that is not running yet reads the new count after it
	 * starts (arch_vcpu_run's own full barrier), one that is gets kicked. */
	for (u32 i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *t = vm->vcpus[i];
		if (!t || t == v || !t->arch)
			continue;
		__atomic_store_n(&t->attention, true, __ATOMIC_RELEASE);
		s32 cpu = __atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE);
		if (tsc_behind(t, gen) && cpu >= 0)
			arch_kick_cpu((u32)cpu);
	}
	u64 until = rdtsc() + arch_timestamp_hz() / TSC_SYNC_WAIT_DIV;
	for (;;) {
		/* A vCPU writing at the same time waits for this one too: take
		 * its count here, so neither waits for the other. */
		vmx_tsc_sync(v);
		gen = __atomic_load_n(&av->tsc_gen, __ATOMIC_ACQUIRE);
		bool behind = false;
		for (u32 i = 0; i < vm->vcpu_count && !behind; i++) {
			struct vcpu *t = vm->vcpus[i];
			behind = t && t != v && t->arch && tsc_behind(t, gen);
		}
		if (!behind || rdtsc() >= until)
			break;
		cpu_pause();
	}
	return true;
}
