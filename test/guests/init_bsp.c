/* init_bsp: an AP sends INIT to the bootstrap processor, as an OS that
 * wants a warm reset might. A PC's BSP then starts over from its reset
 * vector; crossguard resets the VM (a vm-reset marker with
 * reason=init-bsp, then a fresh boot of this guest: it prints
 * "init_bsp: boot" each time). If the BSP is still running afterwards, or
 * the VM hangs with every vCPU waiting for a SIPI, that is the failure
 * (QEMU-style exit 3, or no new boot). Needs 2 vCPUs. */
#include "guest.h"
#include "smp.h"

static volatile u32 ap_sent;

static void ap_send_init(u32 id)
{
	(void)id;
	apic_enable();
	__atomic_store_n(&ap_sent, 1, __ATOMIC_SEQ_CST);
	apic_send_init(0);
}

int main(void)
{
	report_info("init_bsp: boot");
	apic_enable();
	if (!smp_start_ap(1, ap_send_init)) {
		report(false, "AP started (needs 2 vCPUs)");
		return report_summary();
	}
	for (u32 i = 0; i < SPIN_LIMIT && !ap_sent; i++)
		relax();
	delay(200000);
	report(false, "the BSP still runs after the AP sent it INIT (sent=%u)", ap_sent);
	return report_summary();
}
