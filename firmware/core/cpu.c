#include "core/cpu.h"
#include "core/sched.h"
#include "lib/log.h"

struct cpu_info cpu_table[CG_MAX_CPUS];

void cpu_bringup(u32 index)
{
	struct cpu_info *c = &cpu_table[index];
	c->apic_id = arch_cpu_apic_id();
	c->virt_on = arch_virt_enable(c->virt_detail, sizeof(c->virt_detail)) == 0;
	cg_marker("cpu", "index=%u apic=%u vmx=%u %s", index, c->apic_id, c->virt_on ? 1 : 0,
		  c->virt_detail);
	__atomic_store_n(&c->state, CPU_ONLINE, __ATOMIC_RELEASE);
	arch_cpu_up();
}

void cpu_ap_main(u32 index)
{
	/* Arrived: a CPU that hangs in bring-up is listed as not online. */
	__atomic_store_n(&cpu_table[index].state, CPU_STARTING, __ATOMIC_RELEASE);
	cpu_bringup(index);
	sched_cpu_loop(index);
}

u32 cpu_count_online(void)
{
	u32 n = 0;
	for (u32 i = 0; i < CG_MAX_CPUS; i++)
		n += cpu_table[i].state == CPU_ONLINE;
	return n;
}

u32 cpu_count_virt(void)
{
	u32 n = 0;
	for (u32 i = 0; i < CG_MAX_CPUS; i++)
		n += cpu_table[i].state == CPU_ONLINE && cpu_table[i].virt_on;
	return n;
}
