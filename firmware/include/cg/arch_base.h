/* The few architecture basics every layer may use: the operator serial
 * line, the timestamp counter, the CPU index, and stopping CPUs. lib/log.c
 * and lib/fatal.c are built on these, so they sit below every layer;
 * arch/x86 implements them (uart16550.c, tsc.c, percpu.c, platform.c).
 * Everything else arch offers is declared in core/virt.h (bring-up, time,
 * virtualization). */
#ifndef CG_ARCH_BASE_H
#define CG_ARCH_BASE_H

#include <cg/types.h>

/* CPU indexes run 0 .. CG_MAX_CPUS - 1 (per-CPU tables are this long). */
#define CG_MAX_CPUS 64

/* arch_serial_init: bring up the operator serial line on the 16550 at I/O
 * port `port` (COM1 0x3F8, COM2 0x2F8) at `baud` (a divisor of 115200).
 * Returns 0 (the line is now that UART), -CG_EINVAL for a rate or port no
 * 16550 can take, or -CG_ENOENT when no UART answers there; on an error
 * the line in use before (if any) stays in use. */
int arch_serial_init(u16 port, u32 baud);

/* arch_serial_putc: send one byte on the operator line (blocks briefly). */
void arch_serial_putc(char c);

/* arch_serial_getc: next received byte, or -1 when none is waiting. */
int arch_serial_getc(void);

/* arch_cpu_index: this CPU's dense index (0 = boot CPU). */
u32 arch_cpu_index(void);

/* arch_cpu_relax: spin-wait hint. */
void arch_cpu_relax(void);

/* arch_timestamp: the CPU's timestamp counter. */
u64 arch_timestamp(void);

/* arch_timestamp_hz: timestamp ticks per second (calibrated at boot). */
u64 arch_timestamp_hz(void);

/* arch_stop_others: stop every other CPU (NMI); they never return. */
void arch_stop_others(void);

/* arch_halt_forever: disable interrupts and halt this CPU for good. */
NORETURN void arch_halt_forever(void);

#endif
