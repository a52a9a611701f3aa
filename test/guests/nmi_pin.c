/* nmi_pin: NMIs that come from outside the CPU.
 *
 * Always: an I/O APIC redirection entry with delivery mode NMI (100b,
 * 82093AA datasheet 3.2.4; the vector is ignored) delivers an NMI: the
 * UART's pin (ISA IRQ 4, GSI 4) programmed as NMI, the UART's "transmitter
 * empty" interrupt raised; the same entry as SMI delivers nothing.
 *
 * With button=1 (test/boot/console.test.ts, which presses the monitor's
 * NMI button, `vm nmi NAME`, at each "press NMI" line): the edge on LINT1
 * is delivered as the LVT LINT1 entry says (SDM Vol. 3A 10.5.1): delivery
 * mode NMI gives an NMI; masked, nothing (the test then types a byte on
 * the UART to say it has pressed); fixed, that vector; and with the APIC
 * disabled in IA32_APIC_BASE, LINT1 is the CPU's NMI pin (10.4.3). */
#include "guest.h"
#include "smp.h"

#define COM1 0x3F8
#define UART_IER (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define UART_MCR (COM1 + 4)
#define UART_LSR (COM1 + 5)
#define IER_THRE 0x02
#define MCR_OUT2 0x08
#define LSR_DATA_READY 0x01

#define IOAPIC_SEL 0xFEC00000u
#define IOAPIC_WIN 0xFEC00010u
#define UART_GSI 4

#define LVT_MASKED (1u << 16)
#define LVT_MODE_NMI (4u << 8)
#define RTE_MODE_SMI (2u << 8)
#define RTE_MODE_NMI (4u << 8)
#define IA32_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1u << 11)
#define LINT_VECTOR 0x45
#define IGNORED_VECTOR 0x33

static volatile u32 nmis, fixed;

static void nmi_handler(struct trap_frame *f)
{
	(void)f;
	__atomic_fetch_add(&nmis, 1, __ATOMIC_SEQ_CST);
}

static void lint_handler(u32 vector)
{
	(void)vector;
	__atomic_fetch_add(&fixed, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

static void ioapic_write(u32 reg, u32 val)
{
	mmio_write32(IOAPIC_SEL, reg);
	mmio_write32(IOAPIC_WIN, val);
}

/* Raise the UART's interrupt with its GSI routed as rte_low (to APIC ID
 * me, edge) and wait for the NMI count to reach want (or a while when
 * nothing must come), then take it back and mask the entry again. No
 * output in between: a byte written would raise another interrupt. */
static void uart_interrupt_as(u32 rte_low, u32 me, u32 want)
{
	ioapic_write(0x11 + 2 * UART_GSI, me << 24);
	ioapic_write(0x10 + 2 * UART_GSI, rte_low);
	u8 mcr = inb(UART_MCR);
	outb(UART_MCR, mcr | MCR_OUT2);
	outb(UART_IER, IER_THRE); /* transmitter empty: the line goes high */
	if (want)
		wait_until(&nmis, want);
	else
		delay(200000);
	(void)inb(UART_IIR); /* takes THRE */
	outb(UART_IER, 0);
	outb(UART_MCR, mcr);
	ioapic_write(0x10 + 2 * UART_GSI, LVT_MASKED);
}

static void ioapic_nmi(void)
{
	u32 me = apic_id();
	uart_interrupt_as(RTE_MODE_NMI | IGNORED_VECTOR, me, 1);
	u32 got = nmis;
	report(got == 1, "IOAPIC entry with delivery mode NMI: one NMI (%u)", got);
	report(!apic_vector_set(APIC_IRR, IGNORED_VECTOR) && !apic_vector_set(APIC_ISR, IGNORED_VECTOR),
	       "its vector field requested nothing");
	uart_interrupt_as(RTE_MODE_SMI | IGNORED_VECTOR, me, 0);
	report(nmis == 1 && !apic_vector_set(APIC_IRR, IGNORED_VECTOR),
	       "the same entry as SMI: nothing delivered (%u NMIs)", nmis);
}

/* Tell the operator (the test) to press, then wait for what must come. */
static void press(const char *what)
{
	printf("nmi_pin: press NMI: %s\n", what);
}

static void until_changed(volatile u32 *p, u32 was)
{
	while (*p == was)
		relax();
}

static void button(void)
{
	apic_write(APIC_LVT_LINT1, LVT_MODE_NMI | 0x77);
	u32 n = nmis;
	press("lint1=nmi");
	until_changed(&nmis, n);
	report(nmis == n + 1 && !apic_vector_set(APIC_IRR, 0x77), "LINT1 as NMI: one NMI, no vector");

	apic_write(APIC_LVT_LINT1, LVT_MASKED | LVT_MODE_NMI);
	n = nmis;
	press("lint1=masked");
	while (!(inb(UART_LSR) & LSR_DATA_READY))
		relax();
	(void)inb(COM1);
	report(nmis == n, "LINT1 masked: the press delivered nothing (%u NMIs)", nmis - n);

	apic_write(APIC_LVT_LINT1, LINT_VECTOR);
	n = nmis;
	u32 f = fixed;
	sti();
	press("lint1=fixed");
	until_changed(&fixed, f);
	cli();
	report(fixed == f + 1 && nmis == n, "LINT1 fixed: vector 0x%x once, no NMI", LINT_VECTOR);

	wrmsr(IA32_APIC_BASE, rdmsr(IA32_APIC_BASE) & ~(u64)APIC_BASE_ENABLE);
	n = nmis;
	press("apic=off");
	until_changed(&nmis, n);
	report(nmis == n + 1, "APIC disabled: LINT1 is the NMI pin, one NMI");
}

int main(void)
{
	trap_register(VEC_NMI, nmi_handler);
	irq_register(LINT_VECTOR, lint_handler);
	apic_enable();
	ioapic_nmi();
	if (cmdline_uint("button", 0))
		button();
	return report_summary();
}
