/* triple_fault: an IDT with limit 0 turns INT3 into #GP, #GP into #DF and
 * #DF into a triple fault. crossguard stops the VM (reason=triple-fault);
 * QEMU with -no-reboot exits with status 0. */
#include "guest.h"

int main(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) empty = { 0, 0 };

	printf("triple: about to fault\n");
	__asm__ volatile("lidt %0; int3" : : "m"(empty) : "memory");
	report(false, "still running after the triple fault");
	return report_summary();
}
