/* What core and init ask of the architecture at bring-up and for time
 * (arch/x86 implements these). The basics every layer uses are in
 * cg/arch_base.h (included here); virtualization is in core/virt.h. Core
 * never includes an arch/ header. */
#ifndef CG_ARCH_H
#define CG_ARCH_H

#include <cg/arch_base.h>
#include <cg/types.h>

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

#endif
