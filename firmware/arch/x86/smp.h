/* Application-processor start-up (SDM Vol 3A 9.4.4, MP initialization). */
#ifndef X86_SMP_H
#define X86_SMP_H

#include <cg/types.h>
#include "core/virt.h"

/* The trampoline runs in real mode from this page (SIPI vector 0x08). */
#define AP_TRAMPOLINE_BASE 0x8000
/* Where the parameter block sits inside the trampoline page. */
#define AP_PARAMS_OFFSET_VALUE 0xF00

struct ap_boot_params {
	u64 cr3;
	u64 stack_top;
	u64 entry;     /* void ap_entry(u32 cpu_index) */
	u64 cpu_index;
	u32 arrived;   /* set by the AP once in long mode on its own stack */
};

struct acpi_madt_info;

/* smp_start_aps: start every enabled CPU of the MADT other than this one,
 * one at a time (INIT, SIPI, SIPI). Each AP sets itself up and runs
 * entry(index) (core's; see arch_smp_start). Returns the number of CPUs that came up, this one included; CPUs
 * that do not answer are reported and left out. */
u32 smp_start_aps(const struct acpi_madt_info *madt, arch_ap_entry_fn entry);

/* smp_cpu_total: CPUs that came up (valid after smp_start_aps). */
u32 smp_cpu_total(void);

#endif
