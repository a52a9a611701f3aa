/* smp: bring up every AP. Each adds one to a shared counter with LOCK XADD
 * and records its APIC ID; the BSP checks the count and that the IDs are
 * distinct. The CPU count comes from fw_cfg key 5, or `cpus=N`. */
#include "guest.h"
#include "smp.h"

static volatile u32 counter;
static volatile u32 ids[AP_MAX];

static void ap_count(u32 id)
{
	u32 slot = 1;

	__asm__ volatile("lock xaddl %0, %1" : "+r"(slot), "+m"(counter) : : "memory");
	if (slot < AP_MAX)
		ids[slot] = id;
}

int main(void)
{
	u32 fw = fwcfg_cpu_count();
	u32 n = cmdline_uint("cpus", fw);

	report_info("fw_cfg reports %u CPUs, cpus= gives %u", fw, cmdline_uint("cpus", 0));
	if (fw && cmdline_uint("cpus", 0))
		report(fw == n, "fw_cfg CPU count %u matches cpus=%u", fw, n);
	if (n < 2 || n > AP_MAX + 1) {
		report(false, "usable CPU count (got %u, need 2..%u)", n, AP_MAX + 1);
		return report_summary();
	}

	u32 self = apic_id();
	u32 started = smp_start_all(n, ap_count);
	report(started == n - 1, "%u of %u APs started", started, n - 1);

	for (u32 i = 0; i < SPIN_LIMIT && __atomic_load_n(&counter, __ATOMIC_SEQ_CST) < n - 1; i++)
		relax();
	report(counter == n - 1, "shared counter is %u, expected %u", counter, n - 1);

	bool distinct = true;
	for (u32 i = 0; i < counter && i < AP_MAX; i++) {
		if (ids[i] == self)
			distinct = false;
		for (u32 j = 0; j < i; j++)
			if (ids[i] == ids[j])
				distinct = false;
		report_info("AP %u has APIC ID %u", i, ids[i]);
	}
	report(distinct, "AP APIC IDs are distinct and differ from the BSP's (%u)", self);
	return report_summary();
}
