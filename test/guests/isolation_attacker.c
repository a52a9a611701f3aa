/* isolation_attacker: writes outside its own RAM, then reads each address
 * back. Nothing there is its own, so a write must land nowhere: under
 * crossguard (on_unassigned_access ignore, the default) the
 * write is dropped and the read sees all ones; QEMU 7.2 reads 0. Either
 * way the pattern must not come back, and the victim VM running next to
 * it (guests.test.ts) must keep its memory intact. With
 * on_unassigned_access stop the first write stops this VM instead. */
#include "guest.h"

#define GAP (16u << 20)
#define HIGH_TARGET 0x7F000000u
#define PATTERN 0xA77AC4EDu

static void poke(u32 addr)
{
	printf("attacker: writing outside RAM at 0x%x\n", addr);
	*(volatile u32 *)addr = PATTERN;
	u32 back = *(volatile u32 *)addr;
	report(back != PATTERN, "write at 0x%x landed nowhere (reads back 0x%x)", addr, back);
}

int main(void)
{
	u32 ram_end = mb_ram_end();
	if (!ram_end) {
		report(false, "loader gave mem_upper");
		return report_summary();
	}
	report_info("attacker: RAM ends at 0x%x", ram_end);

	poke(ram_end + GAP);
	poke(HIGH_TARGET);
	return report_summary();
}
