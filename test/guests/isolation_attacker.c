/* isolation_attacker: writes outside its own RAM. Under crossguard the
 * first write stops the VM (reason=bad-memory-access) and nothing after it
 * runs. Under QEMU the write lands in unbacked space and is dropped, so
 * the guest goes on to report the failure and exits with status 3. */
#include "guest.h"

#define GAP (16u << 20)
#define HIGH_TARGET 0x7F000000u
#define PATTERN 0xA77AC4EDu

static void poke(u32 addr)
{
	printf("attacker: writing outside RAM at 0x%x\n", addr);
	*(volatile u32 *)addr = PATTERN;
}

int main(void)
{
	u32 upper = mb_mem_upper_kb();

	if (!upper) {
		report(false, "loader gave mem_upper");
		return report_summary();
	}
	/* mem_upper counts KiB from 1 MiB up to the first hole. */
	u32 ram_end = (1u << 20) + upper * 1024;
	report_info("attacker: RAM ends at 0x%x", ram_end);

	poke(ram_end + GAP);
	poke(HIGH_TARGET);
	report(false, "write outside RAM was not stopped");
	return report_summary();
}
