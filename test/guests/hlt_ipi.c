/* hlt_ipi: an AP halts with interrupts on; a fixed IPI from the BSP must
 * wake it, run its handler exactly once, and let it halt again. Under
 * crossguard this covers HLT exits, IPI delivery to a halted vCPU and
 * EOI. Needs 2 vCPUs. */
#include "guest.h"
#include "smp.h"

#define IPI_VECTOR 0x40

static volatile u32 ap_ready, ap_wakeups, ipi_count, ap_id = ~0u;

static void ipi_handler(u32 vector)
{
	(void)vector;
	__atomic_fetch_add(&ipi_count, 1, __ATOMIC_SEQ_CST);
	apic_eoi();
}

static void ap_halt_loop(u32 id)
{
	ap_id = id;
	irq_register(IPI_VECTOR, ipi_handler);
	apic_enable();
	__atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		sti_hlt();
		__atomic_fetch_add(&ap_wakeups, 1, __ATOMIC_SEQ_CST);
	}
}

int main(void)
{
	u32 n = fwcfg_cpu_count();

	report_info("fw_cfg reports %u CPUs", n);
	apic_enable();
	if (!smp_start_ap(apic_id() == 0 ? 1 : 0, ap_halt_loop) || !wait_until(&ap_ready, 1)) {
		report(false, "AP started (needs -smp 2)");
		return report_summary();
	}
	report(true, "AP with APIC ID %u started and set up vector 0x%x", ap_id, IPI_VECTOR);

	/* Give the AP time to reach HLT, so the IPI has to wake it. */
	delay(100000);
	u32 before = ap_wakeups;
	report(ipi_count == 0, "no interrupt before the IPI");
	report(apic_send_fixed(ap_id, IPI_VECTOR), "fixed IPI 0x%x sent (ICR delivery status cleared)", IPI_VECTOR);
	/* Wait first, then report: argument evaluation order is unspecified. */
	bool ran = wait_until(&ipi_count, 1);
	report(ran, "AP handler ran after the IPI (count %u)", ipi_count);
	bool woke = wait_until(&ap_wakeups, before + 1);
	report(woke, "AP left HLT (wakeups %u -> %u)", before, ap_wakeups);

	/* A lost EOI or a re-injected IPI would show up as more handler runs. */
	delay(100000);
	report(ipi_count == 1, "handler ran exactly once (count %u)", ipi_count);
	bool again = apic_send_fixed(ap_id, IPI_VECTOR) && wait_until(&ipi_count, 2);
	report(again, "second IPI also delivered (count %u)", ipi_count);
	return report_summary();
}
