/* debug: debug exceptions around the instructions the monitor emulates or
 * completes itself, checked against what the SDM says a CPU does (Vol 3A
 * chapter 17, 6.8.3, 6.9): each #DB's DR6 bits and the EIP of its frame.
 * - TF single step over CPUID, OUT, RDMSR, HLT, and a store to device
 *   memory: one #DB (BS) right after the instruction; after HLT and after
 *   a store that raises an interrupt, the #DB before that interrupt (a
 *   trap on the previous instruction outranks it, SDM Vol 3A 6.9; the
 *   pending #DB also ends the halt).
 * - MOV SS shadow: MOV SS (or POP SS) with TF (and a data breakpoint on
 *   its operand) then CPUID, or then a device-memory store: one #DB after
 *   the second instruction, with BS (and B0). STI's shadow: the #DB
 *   right after it.
 * - Data breakpoints on device registers (IOAPIC, local APIC), reads and
 *   writes by their R/W and LEN; I/O breakpoints (CR4.DE) on UART ports;
 *   a data breakpoint on memory a REP INSB writes (the #DB after that
 *   iteration, on the instruction, the rest still to do).
 * - DR7.GD: MOV from DR0 faults with #DB (BD) on itself, GD cleared.
 * - INIT resets DR0-DR3 and DR6 (SDM Vol 3A table 9-1). Needs 2 vCPUs.
 * Sequences and handler: debug.asm. */
#include "guest.h"
#include "smp.h"

#define DR6_B(n) (1u << (n))
#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR6_HITS (DR6_B(0) | DR6_B(1) | DR6_B(2) | DR6_B(3) | DR6_BD | DR6_BS)
#define DR7_GD (1u << 13)
#define DR7_FIXED 0x400u
#define CR4_DE (1u << 3)
/* DR7 fields for breakpoint n (SDM Vol 3A 17.2.4): L<n>, R/W<n>, LEN<n> */
#define RW_EXEC 0u
#define RW_WRITE 1u
#define RW_IO 2u
#define RW_RW 3u
#define LEN_1 0u
#define LEN_2 1u
#define LEN_8 2u
#define LEN_4 3u
#define DR7_BP(n, rw, len) ((1u << (2 * (n))) | ((rw) << (16 + 4 * (n))) | ((len) << (18 + 4 * (n))))

#define IOAPIC 0xFEC00000u
#define IOAPIC_WINDOW 0xFEC00010u
#define TIMER_VECTOR 0xE0
#define IPI_VECTOR 0x41
#define DIVIDE_BY_1 0xB

extern volatile u32 db_count, event_seq, db_eip[4], db_dr6[4], db_dr7[4], db_ecx[4], db_seq[4];
void db_handler(void);
void step_cpuid(void), step_out(void), step_rdmsr(void), step_hlt(void);
void step_store_irq(volatile u32 *icr, u32 value);
void step_movss_cpuid(const u16 *ss);
void step_popss_cpuid(void), step_sti(void);
void step_movss_mmio(const u16 *ss, volatile u32 *mmio);
u32 load32(volatile const u32 *p);
void store32(volatile u32 *p, u32 v);
u8 port_in(u16 port);
void port_out(u16 port, u8 v);
void rep_insb_at(u16 port, u8 *dst, u32 n);
void gd_probe(void);
extern const u8 step_cpuid_next[], step_out_next[], step_rdmsr_next[], step_hlt_next[];
extern const u8 step_store_irq_next[], step_movss_cpuid_next[], step_movss_mmio_next[];
extern const u8 step_popss_cpuid_next[], step_sti_next[];
extern const u8 load32_next[], store32_next[], port_in_next[], port_out_next[];
extern const u8 rep_insb_insn[], gd_mov[];

static volatile u32 irq_count, irq_seq;
static volatile u32 ap_dr[6], ap_phase;

static void set_dr(u32 n, u32 v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%dr3" : : "r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%dr6" : : "r"(v)); break;
	default: __asm__ volatile("mov %0, %%dr7" : : "r"(v)); break;
	}
}

static u32 get_dr(u32 n)
{
	u32 v;
	switch (n) {
	case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
	case 6: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%dr7, %0" : "=r"(v)); break;
	}
	return v;
}

static void on_irq(u32 vector)
{
	(void)vector;
	irq_seq = __atomic_add_fetch(&event_seq, 1, __ATOMIC_SEQ_CST);
	irq_count++;
	apic_eoi();
}

/* A clean slate: no breakpoint, DR6 at its fixed value, nothing logged. */
static void reset(void)
{
	set_dr(7, DR7_FIXED);
	set_dr(6, 0xFFFF0FF0u);
	db_count = 0;
	event_seq = 0;
	irq_count = 0;
	irq_seq = 0;
}

/* The one #DB expected since reset(): its DR6 hit bits and frame EIP. */
static void expect_one(const char *what, u32 dr6_hits, const void *eip)
{
	u32 n = db_count;
	report(n == 1, "%s: exactly one #DB (%u)", what, n);
	if (!n)
		return;
	report((db_dr6[0] & DR6_HITS) == dr6_hits, "%s: DR6 0x%x has exactly hits 0x%x", what,
	       db_dr6[0], dr6_hits);
	report(db_eip[0] == (u32)eip, "%s: #DB frame EIP 0x%x, expected 0x%x", what, db_eip[0],
	       (u32)eip);
}

static void expect_none(const char *what)
{
	report(db_count == 0, "%s: no #DB (%u, DR6 0x%x)", what, db_count, db_count ? db_dr6[0] : 0);
}

static void single_steps(void)
{
	reset();
	step_cpuid();
	expect_one("TF over CPUID", DR6_BS, step_cpuid_next);

	reset();
	step_out();
	expect_one("TF over OUT to the UART", DR6_BS, step_out_next);

	reset();
	step_rdmsr();
	expect_one("TF over RDMSR", DR6_BS, step_rdmsr_next);

	/* HLT with a one-shot APIC timer armed: the single step's #DB ends
	 * the halt (a pending debug exception resumes execution, SDM Vol 2
	 * HLT; Vol 3C 27.7.3 delivers it from the HLT state too), so it comes
	 * before the timer, which the guest then waits for. */
	reset();
	apic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR);
	apic_write(APIC_TIMER_INITIAL, 200000);
	step_hlt();
	for (u32 i = 0; i < SPIN_LIMIT && !irq_count; i++)
		sti_hlt();
	cli();
	expect_one("TF over HLT", DR6_BS, step_hlt_next);
	report(irq_count == 1, "HLT: the timer interrupt came too (%u)", irq_count);
	report(db_count && irq_count && db_seq[0] < irq_seq,
	       "HLT: the #DB came before the interrupt (#DB %u, interrupt %u)", db_seq[0], irq_seq);

	/* A store that sends a self-IPI, with IF set: #DB, then the IPI. */
	reset();
	apic_write(APIC_ICR_HI, apic_id() << 24);
	step_store_irq((volatile u32 *)(APIC_BASE + APIC_ICR_LO), (1u << 14) | IPI_VECTOR);
	expect_one("TF over a self-IPI store", DR6_BS, step_store_irq_next);
	report(irq_count == 1, "self-IPI: delivered once (%u)", irq_count);
	report(db_count && irq_count && db_seq[0] < irq_seq,
	       "self-IPI: the #DB came before the interrupt (#DB %u, interrupt %u)", db_seq[0],
	       irq_seq);
}

static void mov_ss_shadow(void)
{
	static u16 ss_value;
	__asm__ volatile("mov %%ss, %0" : "=r"(ss_value));

	reset();
	step_movss_cpuid(&ss_value);
	expect_one("MOV SS then CPUID, TF", DR6_BS, step_movss_cpuid_next);

	reset();
	set_dr(0, (u32)&ss_value);
	set_dr(7, DR7_FIXED | DR7_BP(0, RW_RW, LEN_2));
	step_movss_cpuid(&ss_value);
	set_dr(7, DR7_FIXED);
	expect_one("MOV SS (data breakpoint) then CPUID, TF", DR6_B(0) | DR6_BS,
		   step_movss_cpuid_next);

	reset();
	step_popss_cpuid();
	expect_one("POP SS then CPUID, TF", DR6_BS, step_popss_cpuid_next);

	reset();
	step_sti();
	expect_one("STI (opening a shadow), TF", DR6_BS, step_sti_next);

	reset();
	step_movss_mmio(&ss_value, (volatile u32 *)IOAPIC);
	expect_one("MOV SS then a device-memory store, TF", DR6_BS, step_movss_mmio_next);
}

static void device_breakpoints(void)
{
	reset();
	set_dr(0, IOAPIC);
	set_dr(7, DR7_FIXED | DR7_BP(0, RW_WRITE, LEN_4));
	store32((volatile u32 *)IOAPIC, 1);
	expect_one("write breakpoint on IOAPIC IOREGSEL, store", DR6_B(0), store32_next);

	reset();
	set_dr(0, IOAPIC);
	set_dr(7, DR7_FIXED | DR7_BP(0, RW_WRITE, LEN_4));
	u32 sel = load32((volatile u32 *)IOAPIC);
	expect_none("write breakpoint on IOAPIC IOREGSEL, load");
	report(sel == 1, "IOREGSEL reads back what was written (%u)", sel);

	reset();
	set_dr(1, IOAPIC_WINDOW);
	set_dr(7, DR7_FIXED | DR7_BP(1, RW_RW, LEN_4));
	u32 version = load32((volatile u32 *)IOAPIC_WINDOW);
	expect_one("read/write breakpoint on IOAPIC IOWIN, load", DR6_B(1), load32_next);
	report((version & 0xFF) != 0, "the load still read the IOAPIC version (0x%x)", version);

	/* 1-byte breakpoint inside the dword the load reads; DR2 watches a
	 * neighbouring register that is not touched. */
	reset();
	set_dr(3, APIC_BASE + APIC_TPR + 2);
	set_dr(2, APIC_BASE + APIC_TPR + 4);
	set_dr(7, DR7_FIXED | DR7_BP(3, RW_RW, LEN_1) | DR7_BP(2, RW_RW, LEN_4));
	load32((volatile u32 *)(APIC_BASE + APIC_TPR));
	expect_one("1-byte breakpoint inside the local APIC TPR dword", DR6_B(3), load32_next);
	set_dr(7, DR7_FIXED);
}

static void io_breakpoints(void)
{
	write_cr4(read_cr4() | CR4_DE);

	reset();
	set_dr(2, 0x3FC);
	set_dr(7, DR7_FIXED | DR7_BP(2, RW_IO, LEN_4));
	port_out(0x3FF, 0xA5);
	expect_one("I/O breakpoint 0x3FC-0x3FF, OUT to 0x3FF", DR6_B(2), port_out_next);

	reset();
	set_dr(2, 0x3FC);
	set_dr(7, DR7_FIXED | DR7_BP(2, RW_IO, LEN_4));
	u8 scratch = port_in(0x3FF);
	expect_one("I/O breakpoint 0x3FC-0x3FF, IN from 0x3FF", DR6_B(2), port_in_next);
	report(scratch == 0xA5, "the IN still read the scratch register (0x%x)", scratch);

	reset();
	set_dr(2, 0x3FC);
	set_dr(7, DR7_FIXED | DR7_BP(2, RW_IO, LEN_4));
	port_in(0x3F9);
	expect_none("I/O breakpoint 0x3FC-0x3FF, IN from 0x3F9");

	reset();
	set_dr(2, 0x3FC);
	set_dr(7, DR7_FIXED | DR7_BP(2, RW_WRITE, LEN_4));
	port_out(0x3FF, 0x5A);
	expect_none("data (not I/O) breakpoint on 0x3FC, OUT to 0x3FF");
	set_dr(7, DR7_FIXED);
	write_cr4(read_cr4() & ~CR4_DE);

	/* REP INSB into buf: a write breakpoint on buf[2] stops it after the
	 * third element, on the instruction, with one element left. */
	static u8 buf[4];
	reset();
	set_dr(1, (u32)&buf[2]);
	set_dr(7, DR7_FIXED | DR7_BP(1, RW_WRITE, LEN_1));
	rep_insb_at(0x3FF, buf, 4);
	set_dr(7, DR7_FIXED);
	expect_one("write breakpoint on the 3rd byte a REP INSB stores", DR6_B(1), rep_insb_insn);
	report(db_count && db_ecx[0] == 1, "REP INSB: #DB with ECX 1, one element left (%u)",
	       db_ecx[0]);
	report(buf[0] == 0x5A && buf[3] == 0x5A, "REP INSB: all four bytes stored (0x%x 0x%x)",
	       buf[0], buf[3]);
}

static void general_detect(void)
{
	reset();
	gd_probe();
	expect_one("MOV from DR0 with DR7.GD", DR6_BD, gd_mov);
	report(db_count && !(db_dr7[0] & DR7_GD), "GD clear in the #DB handler (DR7 0x%x)",
	       db_dr7[0]);
}

static void ap_dirty(u32 id)
{
	(void)id;
	set_dr(0, 0x1000);
	set_dr(1, 0x2000);
	set_dr(2, 0x3000);
	set_dr(3, 0x4000);
	set_dr(6, 0xFFFF4FF3u);
	__atomic_store_n(&ap_phase, 1, __ATOMIC_SEQ_CST);
}

static void ap_look(u32 id)
{
	(void)id;
	for (u32 i = 0; i < 4; i++)
		ap_dr[i] = get_dr(i);
	ap_dr[4] = get_dr(6);
	ap_dr[5] = get_dr(7);
	__atomic_store_n(&ap_phase, 2, __ATOMIC_SEQ_CST);
}

static void wait_phase(u32 phase)
{
	for (u32 i = 0; i < SPIN_LIMIT && __atomic_load_n(&ap_phase, __ATOMIC_SEQ_CST) < phase; i++)
		relax();
}

/* INIT, then SIPI, to an AP that had set its debug registers. */
static void init_resets(void)
{
	u32 ap = apic_id() == 0 ? 1 : 0;
	if (!smp_start_ap(ap, ap_dirty)) {
		report(false, "AP started (needs 2 vCPUs)");
		return;
	}
	wait_phase(1);
	if (!smp_start_ap(ap, ap_look)) {
		report(false, "AP started again after INIT");
		return;
	}
	wait_phase(2);
	report(ap_phase == 2, "AP ran again after INIT-SIPI");
	report(!ap_dr[0] && !ap_dr[1] && !ap_dr[2] && !ap_dr[3],
	       "INIT cleared DR0-DR3 (0x%x 0x%x 0x%x 0x%x)", ap_dr[0], ap_dr[1], ap_dr[2], ap_dr[3]);
	report(!(ap_dr[4] & DR6_HITS), "INIT cleared DR6's B0-B3, BD, BS (0x%x)", ap_dr[4]);
	report(ap_dr[5] == DR7_FIXED, "INIT reset DR7 to 0x400 (0x%x)", ap_dr[5]);
}

int main(void)
{
	set_gate(VEC_DB, db_handler, SEL_CODE32, GATE_INT_DPL0);
	irq_register(TIMER_VECTOR, on_irq);
	irq_register(IPI_VECTOR, on_irq);
	apic_enable();
	cli();
	outb(0x21, 0xFF); /* the 8259s stay masked: only the local APIC interrupts */
	outb(0xA1, 0xFF);
	single_steps();
	mov_ss_shadow();
	device_breakpoints();
	io_breakpoints();
	general_detect();
	init_resets();
	return report_summary();
}
