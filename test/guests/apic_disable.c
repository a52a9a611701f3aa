/* apic_disable: the local APIC's global enable, IA32_APIC_BASE[11] (SDM
 * Vol 3A 10.4.3). Cleared, the processor is one without an APIC: CPUID.1
 * EDX.APIC reads 0, nothing answers at 0xFEE00000 (reads all ones, writes
 * go nowhere) and no interrupt arrives, neither its timer's nor a request
 * left pending. Set again, the APIC is back in its power-on state
 * (10.4.7.1: SVR 0xFF, LVTs masked, TPR, LDR, IRR, ISR 0, DFR all ones)
 * and works once software-enabled. The APIC-base MSR refuses x2APIC and
 * the invalid EN=0 EXTD=1 state (10.12.5). */
#include "guest.h"
#include "smp.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define CPUID1_EDX_APIC (1u << 9)
#define APIC_LDR 0x0D0
#define APIC_DFR 0x0E0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define LVT_MASKED (1u << 16)
#define ICR_SELF (1u << 18)
#define TIMER_VECTOR 0xE2
#define IPI_VECTOR 0x52
#define LATE_VECTOR 0x53

static volatile u32 timer_count, ipi_count, late_count;

static void on_timer(u32 vector)
{
	(void)vector;
	__atomic_fetch_add(&timer_count, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

static void on_ipi(u32 vector)
{
	(void)vector;
	__atomic_fetch_add(&ipi_count, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

static void on_late(u32 vector)
{
	(void)vector;
	__atomic_fetch_add(&late_count, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

/* Interrupts on for a while (PAUSEs), then off again. */
static void open_window(void)
{
	sti();
	delay(200000);
	cli();
}

static void self_ipi(u32 vector)
{
	apic_write(APIC_ICR_LO, ICR_SELF | (1u << 14) | vector);
}

int main(void)
{
	/* With the APIC off, a PC's 8259 drives the CPU's INTR directly: mask
	 * it, so that its timer (QEMU's PIT, at the BIOS's vector 8) does not
	 * come in while the APIC is away. */
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
	u64 base = rdmsr(MSR_APIC_BASE);
	report((base & APIC_BASE_EN) && (cpuid(1, 0).edx & CPUID1_EDX_APIC), "APIC enabled at start, CPUID says so");
	u32 version = apic_read(APIC_VERSION);
	irq_register(TIMER_VECTOR, on_timer);
	irq_register(IPI_VECTOR, on_ipi);
	irq_register(LATE_VECTOR, on_late);
	apic_enable();
	cli();

	/* A running periodic timer, a request left pending (interrupts off),
	 * and registers set away from their power-on values. */
	apic_write(APIC_TIMER_DIVIDE, 0xB);
	apic_write(APIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	apic_write(APIC_TIMER_INITIAL, 20000);
	open_window();
	report(timer_count > 0, "the periodic timer runs (%u interrupts)", timer_count);
	apic_write(APIC_TPR, 0x10);
	apic_write(APIC_LDR, 0x02000000);
	self_ipi(IPI_VECTOR);
	report(ipi_count == 0, "a self-IPI waits with interrupts off");

	int v = wrmsr_safe(MSR_APIC_BASE, base & ~APIC_BASE_EN);
	report(v == NO_EXCEPTION, "IA32_APIC_BASE: EN cleared (vector %d)", v);
	u64 off = rdmsr(MSR_APIC_BASE);
	report(!(off & APIC_BASE_EN) && (off & ~0xFFFull) == (base & ~0xFFFull) &&
		       (off & APIC_BASE_BSP) == (base & APIC_BASE_BSP),
	       "it reads back disabled, same base and BSP flag (0x%llx)", off);
	report(!(cpuid(1, 0).edx & CPUID1_EDX_APIC), "CPUID.1:EDX.APIC reads 0");
	u32 id = apic_read(APIC_ID), ver = apic_read(APIC_VERSION), svr = apic_read(APIC_SVR);
	report(id == 0xFFFFFFFFu && ver == 0xFFFFFFFFu && svr == 0xFFFFFFFFu,
	       "its page reads all ones (ID %x, version %x, SVR %x)", id, ver, svr);
	u32 t0 = timer_count;
	self_ipi(LATE_VECTOR); /* goes nowhere: the page is not the APIC's */
	apic_write(APIC_SVR, 0x1FF);
	open_window();
	report(timer_count == t0 && ipi_count == 0 && late_count == 0,
	       "no interrupt while disabled (timer %u, pending IPI %u, new IPI %u)", timer_count - t0,
	       ipi_count, late_count);
	if (on_crossguard()) {
		v = wrmsr_safe(MSR_APIC_BASE, (base & ~APIC_BASE_EN) | APIC_BASE_EXTD);
		report(v == VEC_GP, "EN=0 EXTD=1 is no state: #GP (vector %d)", v);
	}

	v = wrmsr_safe(MSR_APIC_BASE, base);
	report(v == NO_EXCEPTION && rdmsr(MSR_APIC_BASE) == base, "EN set again (vector %d)", v);
	report(cpuid(1, 0).edx & CPUID1_EDX_APIC, "CPUID.1:EDX.APIC reads 1 again");
	report(apic_id() == 0 && apic_read(APIC_VERSION) == version, "ID 0 and the version as before");
	svr = apic_read(APIC_SVR);
	report(svr == 0xFF, "SVR 0x%x: the power-on 0xFF, software-disabled", svr);
	u32 tpr = apic_read(APIC_TPR), ldr = apic_read(APIC_LDR), dfr = apic_read(APIC_DFR);
	report(tpr == 0 && ldr == 0 && dfr == 0xFFFFFFFFu, "TPR %x, LDR %x, DFR %x: power-on values", tpr, ldr, dfr);
	u32 lvt = apic_read(APIC_LVT_TIMER), init = apic_read(APIC_TIMER_INITIAL);
	report(lvt == LVT_MASKED && init == 0, "LVT timer 0x%x masked, initial count %u", lvt, init);
	u32 pending = 0;
	for (u32 off2 = 0; off2 < 0x80; off2 += 0x10)
		pending |= apic_read(APIC_IRR + off2) | apic_read(APIC_ISR + off2);
	report(pending == 0, "IRR and ISR empty");
	apic_enable();
	open_window();
	report(timer_count == t0 && ipi_count == 0 && late_count == 0,
	       "software-enabled: nothing from before arrives (timer %u, IPIs %u %u)", timer_count - t0,
	       ipi_count, late_count);
	self_ipi(IPI_VECTOR);
	open_window();
	report(ipi_count == 1, "a new self-IPI is delivered (%u)", ipi_count);
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR);
	apic_write(APIC_TIMER_DIVIDE, 0xB);
	apic_write(APIC_TIMER_INITIAL, 20000);
	open_window();
	report(timer_count == t0 + 1, "a new one-shot timer fires once (%u)", timer_count - t0);
	return report_summary();
}
