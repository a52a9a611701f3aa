/* delivery_unassigned: an exception whose delivery writes its frame
 * outside RAM (the stack pointer in unassigned space) must stop the VM
 * with a report naming the delivery. The instruction at RIP, a load
 * through a null FS (#GP), did not make that access: emulating it
 * instead (as the monitor once did) would skip the fault and let the
 * guest run on with all ones in EAX. */
#include "guest.h"

#define STACK_OUTSIDE_RAM 0x7F000000u

int main(void)
{
	u32 eax;
	report_info("delivery_unassigned: #GP with ESP = 0x%x", STACK_OUTSIDE_RAM);
	__asm__ volatile("cli\n\t"
			 "mov %%esp, %%esi\n\t"
			 "mov %1, %%esp\n\t"
			 "xor %%eax, %%eax\n\t"
			 "mov %%ax, %%fs\n\t"
			 "mov %%fs:0, %%eax\n\t"
			 "mov %%esi, %%esp\n\t"
			 : "=&a"(eax)
			 : "i"(STACK_OUTSIDE_RAM)
			 : "esi", "memory");
	report(false, "went on past a #GP whose delivery wrote outside RAM (EAX 0x%x)", eax);
	return report_summary();
}
