/* A VM's time-stamp counter (docs/clock.md). Until the guest writes
 * IA32_TIME_STAMP_COUNTER or IA32_TSC_ADJUST its TSC is the host's; from
 * then on it is the host's plus one offset per VM, which the CPU adds to
 * RDTSC, RDTSCP and RDMSR of the TSC ("use TSC offsetting", the VMCS TSC
 * offset: SDM Vol 3C 25.6.5, 26.3) and the monitor adds where it deals in
 * guest TSC values itself (IA32_TSC_DEADLINE, vlapic_timer.c). Every vCPU
 * of the VM sees the same offset: one TSC per VM, so its vCPUs never
 * drift apart.
 *
 * IA32_TSC_ADJUST (SDM Vol 3B 18.17.3) starts at 0 and moves with every
 * TSC write by the same amount the TSC moves; a write to it moves the TSC
 * by the difference. Both start at 0 and change together, so the VM's
 * TSC_ADJUST is its offset: one number holds both.
 *
 * The arithmetic is modulo 2^64, as the CPU's is; the inline helpers are
 * pure (host-tested in test/unit/test_tsc_offset.c). */
#ifndef X86_VMX_TSC_H
#define X86_VMX_TSC_H

#include <cg/types.h>
#include "arch/x86/vmx/vmx_vcpu.h"

/* tsc_guest: the guest's TSC at host TSC host. */
static inline u64 tsc_guest(u64 host, u64 offset)
{
	return host + offset;
}

/* tsc_offset_for_write: the offset that makes the guest's TSC read value
 * at host TSC host_now (a WRMSR of IA32_TIME_STAMP_COUNTER). */
static inline u64 tsc_offset_for_write(u64 value, u64 host_now)
{
	return value - host_now;
}

/* tsc_offset_for_adjust: the offset after a WRMSR of IA32_TSC_ADJUST
 * with value: the TSC moves by value - old adjust, and the adjust is the
 * offset (see above), so the new offset is the value itself. */
static inline u64 tsc_offset_for_adjust(u64 value)
{
	return value;
}

/* tsc_adjust_read: what RDMSR of IA32_TSC_ADJUST returns. */
static inline u64 tsc_adjust_read(u64 offset)
{
	return offset;
}

/* tsc_host_deadline: the host TSC at which the guest's TSC reaches
 * deadline (guest units, as IA32_TSC_DEADLINE holds it), seen at host TSC
 * host_now. A deadline the guest TSC has reached (unsigned compare, as the
 * timer's, SDM Vol 3A 10.5.4.1) is due now: host_now (at least 1, since 0
 * means "disarmed" to the timer). One too far to express saturates at the
 * largest TSC value. */
static inline u64 tsc_host_deadline(u64 deadline, u64 host_now, u64 offset)
{
	u64 guest_now = tsc_guest(host_now, offset);
	if (deadline <= guest_now)
		return host_now ? host_now : 1;
	u64 ahead = deadline - guest_now;
	return host_now > ~0ULL - ahead ? ~0ULL : host_now + ahead;
}

/* vmx_tsc_vm_init: a new VM (or one rebuilt by a reset): offset 0, the
 * host's TSC. */
void vmx_tsc_vm_init(struct vm *vm);

/* vmx_tsc_offset: vm's current offset (any CPU). */
static inline u64 vmx_tsc_offset(const struct vm *vm)
{
	return __atomic_load_n(&vm->arch->tsc_offset, __ATOMIC_ACQUIRE);
}

/* vmx_tsc_set_offset: a WRMSR by v (its VMCS current on this CPU) gave
 * v's VM a new offset. Moves every vCPU's TSC-deadline timer with it,
 * writes v's VMCS, and makes each other vCPU that is in the guest leave it
 * (a kick) and take the new offset before it runs guest code again; waits
 * a bounded time for those to do so. Nothing happens for an unchanged
 * offset. Returns false when this CPU cannot offset the TSC (the VMX
 * control is missing): the caller refuses the write. */
bool vmx_tsc_set_offset(struct vcpu *v, u64 offset);

/* vmx_tsc_load: write the VM's offset into v's VMCS (current on this
 * CPU) whatever v saw last: at VMCS set-up. */
void vmx_tsc_load(struct vcpu *v);

/* vmx_tsc_sync: before an entry of v (its VMCS current on this CPU):
 * load the VM's offset into the VMCS if it changed since v last did. */
void vmx_tsc_sync(struct vcpu *v);

#endif
