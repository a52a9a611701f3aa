#include "arch/x86/percpu.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/msr.h"

struct percpu percpu_table[CG_MAX_CPUS];

void percpu_install(u32 index, u32 apic_id, u64 stack_top)
{
	struct percpu *pc = &percpu_table[index];
	pc->self = pc;
	pc->index = index;
	pc->apic_id = apic_id;
	pc->stack_top = stack_top;
	wrmsr(MSR_IA32_GS_BASE, (u64)(uintptr_t)pc);
}

u32 arch_cpu_index(void)
{
	return this_percpu()->index;
}
