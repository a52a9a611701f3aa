/* The CPUs of the machine, as core sees them. */
#ifndef CG_CPU_H
#define CG_CPU_H

#include <cg/types.h>
#include "core/virt.h"

enum cpu_state { CPU_ABSENT = 0, CPU_STARTING, CPU_ONLINE, CPU_FAILED };

struct cpu_info {
	u32 apic_id;
	volatile u32 state;
	bool virt_on;
	char virt_detail[192];
};

extern struct cpu_info cpu_table[CG_MAX_CPUS];

/* cpu_bringup: per-CPU start: enable virtualization, report it with an
 * "@cg cpu" marker, and mark the CPU online. Called once on each CPU. */
void cpu_bringup(u32 index);

/* cpu_ap_main: an application processor's life, passed to arch_smp_start:
 * cpu_bringup, then the scheduler's CPU loop. Never returns. */
NORETURN void cpu_ap_main(u32 index);

/* cpu_count_online / cpu_count_virt: CPUs up / CPUs in VMX root. */
u32 cpu_count_online(void);
u32 cpu_count_virt(void);

#endif
