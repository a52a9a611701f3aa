/* Interrupts and exceptions taken in the monitor itself. The monitor has one
 * recoverable exception: a page fault in the fault window (core's guarded
 * policy memories, arch_set_fault_window) resumes at the window's fixup.
 * Anything else but a stop-NMI is a bug, reported once with the full
 * register state. */
#include "arch/x86/trap.h"
#include "core/virt.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "lib/fatal.h"
#include "lib/log.h"

static const char *const trap_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "rsvd", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

#define TRAP_PF 14 /* SDM Vol 3A 6.15, "Interrupt 14-Page-Fault Exception" */

static u64 fault_lo, fault_hi;
static void (*fault_fixup)(void);

void arch_set_fault_window(u64 lo, u64 hi, void (*fixup)(void))
{
	fault_lo = lo;
	fault_hi = hi;
	fault_fixup = fixup;
}

/* trap_fixup: a #PF in the fault window resumes at the fixup as if the
 * faulting instruction had called it: rsp aligned as at a function's entry
 * (16n + 8; the fixup never returns, so the slot is left as it is). */
static bool trap_fixup(struct trap_frame *tf)
{
	if (tf->vector != TRAP_PF || !fault_fixup || (tf->cs & 3))
		return false;
	u64 cr2 = read_cr2();
	if (cr2 < fault_lo || cr2 >= fault_hi)
		return false;
	tf->rsp = (tf->rsp & ~15ULL) - 8;
	tf->rip = (u64)(uintptr_t)fault_fixup;
	return true;
}

static const char *trap_name(u64 vector)
{
	if (vector < 32 && trap_names[vector])
		return trap_names[vector];
	return vector < 32 ? "reserved" : "interrupt";
}

static void trap_dump(const struct trap_frame *tf, u32 cpu)
{
	u64 cr2 = read_cr2();
	cg_marker("fatal", "cpu=%u kind=exception vector=%lu name=%s error=0x%lx rip=0x%lx cr2=0x%lx",
		  cpu, tf->vector, trap_name(tf->vector), tf->error, tf->rip, cr2);
	kprintf("FATAL: cpu %u: %s (vector %lu) error 0x%lx in the monitor\n", cpu,
		trap_name(tf->vector), tf->vector, tf->error);
	kprintf("  rip=%016lx cs=%04lx rflags=%016lx rsp=%016lx ss=%04lx\n", tf->rip, tf->cs,
		tf->rflags, tf->rsp, tf->ss);
	kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
	kprintf("  r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
	kprintf("  r13=%016lx r14=%016lx r15=%016lx\n", tf->r13, tf->r14, tf->r15);
	kprintf("  cr0=%016lx cr2=%016lx cr3=%016lx cr4=%016lx\n", read_cr0(), cr2, read_cr3(),
		read_cr4());
	const u64 *sp = (const u64 *)(uintptr_t)tf->rsp;
	/* Only walk the stack when it is one the monitor owns (identity-mapped
	 * low memory), so a wild rsp cannot fault the report itself. */
	if (tf->rsp >= 0x1000 && tf->rsp < 0x40000000 && !(tf->rsp & 7))
		kprintf("  stack: %016lx %016lx %016lx %016lx\n", sp[0], sp[1], sp[2], sp[3]);
}

void trap_dispatch(struct trap_frame *tf)
{
	if (tf->vector == TRAP_NMI && fatal_stopping())
		arch_halt_forever();
	if (tf->vector == TRAP_KICK || tf->vector == TRAP_TICK) {
		lapic_eoi();
		return;
	}
	/* A host device's MSI (core/virt.h): taken only in the idle wait,
	 * the one place the monitor runs with interrupts on. */
	if (tf->vector >= VIRT_HOST_IRQ_BASE && tf->vector < VIRT_HOST_IRQ_BASE + VIRT_HOST_IRQ_COUNT) {
		virt_host_irq((u8)tf->vector);
		lapic_eoi();
		return;
	}
	if (tf->vector == TRAP_SPURIOUS || trap_fixup(tf))
		return;
	fatal_begin();
	trap_dump(tf, this_percpu()->index);
	fatal_end();
}
