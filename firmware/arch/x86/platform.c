/* Boot-CPU set-up and the machine-wide controls core asks for (core/virt.h). */
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"

extern u8 boot_stack_top[];

/* The boot CPU's IST stacks exist before the page allocator does. */
static u8 bsp_ist[3][IST_STACK_SIZE] __attribute__((aligned(16)));

void arch_early_init(void)
{
	u64 ist_tops[3];
	for (int i = 0; i < 3; i++)
		ist_tops[i] = (u64)(uintptr_t)bsp_ist[i] + IST_STACK_SIZE;
	percpu_install(0, 0, (u64)(uintptr_t)boot_stack_top);
	gdt_load_cpu(&percpu_table[0], ist_tops);
	idt_load();
}

/* The 8259 PICs stay masked: their default vectors (0x08-0x0F after the
 * BIOS) would alias CPU exceptions, and nothing here uses legacy IRQs. */
static void pic_mask_all(void)
{
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
}

int arch_platform_init(void)
{
	pic_mask_all();
	tsc_calibrate();
	int rc = lapic_init_cpu();
	if (!rc)
		percpu_table[0].apic_id = lapic_id();
	return rc;
}

u32 arch_cpu_apic_id(void)
{
	return this_percpu()->apic_id;
}

void arch_cpu_relax(void)
{
	cpu_pause();
}

void arch_stop_others(void)
{
	lapic_send_ipi(0, ICR_DELIVERY_NMI | ICR_ALL_BUT_SELF);
}

void arch_halt_forever(void)
{
	for (;;) {
		cpu_cli();
		cpu_hlt();
	}
}

void arch_reboot(void)
{
	/* 8042 pulse reset line, then the PCI reset control register 0xCF9 */
	outb(0x64, 0xFE);
	tsc_delay_us(50000);
	outb(0xCF9, 0x02);
	outb(0xCF9, 0x06);
	tsc_delay_us(50000);
	arch_halt_forever();
}

void arch_cpu_wait(void)
{
	/* STI's one-instruction shadow makes "sti; hlt" atomic: a kick that
	 * arrived after the run queue was found empty still wakes us. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void arch_kick_cpu(u32 cpu)
{
	lapic_send_ipi(percpu_table[cpu].apic_id, TRAP_KICK);
}

/* Per CPU: the periodic tick, restored after a shorter idle wait. */
static u32 tick_lapic_ticks[CG_MAX_CPUS], lapic_per_ms[CG_MAX_CPUS];

void arch_tick_start(u32 hz)
{
	u32 cpu = arch_cpu_index();
	lapic_per_ms[cpu] = lapic_timer_calibrate();
	tick_lapic_ticks[cpu] = lapic_per_ms[cpu] * 1000 / hz;
	lapic_timer_periodic(TRAP_TICK, tick_lapic_ticks[cpu]);
}

void arch_cpu_wait_until(u64 deadline)
{
	u32 cpu = arch_cpu_index();
	u64 now = rdtsc(), per_ms_tsc = arch_timestamp_hz() / 1000;
	if (deadline && deadline <= now)
		return;
	/* A deadline a second or more away (a guest's far TSC deadline) waits
	 * for the tick: its product below would overflow. */
	u64 wait = deadline - now;
	u64 lapic_ticks = deadline && per_ms_tsc && wait / per_ms_tsc < 1000
				  ? wait * lapic_per_ms[cpu] / per_ms_tsc + 1
				  : ~0ULL;
	if (!tick_lapic_ticks[cpu] || lapic_ticks >= tick_lapic_ticks[cpu]) {
		arch_cpu_wait(); /* the tick comes first anyway */
		return;
	}
	/* A guest timer is due before the next tick: wake for it, then
	 * give the tick its period back. */
	lapic_timer_oneshot(TRAP_TICK, (u32)lapic_ticks);
	arch_cpu_wait();
	lapic_timer_periodic(TRAP_TICK, tick_lapic_ticks[cpu]);
}
