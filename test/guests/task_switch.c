/* A hardware task switch: crossguard does not emulate them, so the exit
 * must take the one FATAL path: that VM's state dumped, that VM stopped
 * (reason unhandled-exit), the monitor and other VMs untouched. */
#include "guest.h"

struct __attribute__((packed)) gdtr {
	u16 limit;
	u32 base;
};

static u64 gdt[8] __attribute__((aligned(8)));
static u8 tss[104] __attribute__((aligned(16)));

#define TSS_SEL 0x28

int main(void)
{
	struct gdtr g;
	__asm__ volatile("sgdt %0" : "=m"(g));
	const u64 *old = (const u64 *)g.base;
	for (u32 i = 0; i < 5; i++)
		gdt[i] = old[i];
	u32 base = (u32)tss, limit = sizeof(tss) - 1;
	/* available 32-bit TSS (type 9), present, DPL 0 */
	gdt[5] = (limit & 0xFFFF) | ((u64)(base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		 ((u64)((limit >> 16) & 0xF) << 48) | ((u64)(base >> 24) << 56);
	g.base = (u32)gdt;
	g.limit = sizeof(gdt) - 1;
	__asm__ volatile("lgdt %0" ::"m"(g));
	printf("task_switch: jumping to a TSS\n");
	__asm__ volatile("ljmp %0, $0" ::"i"(TSS_SEL));
	report(false, "a task switch returned to the old task");
	return report_summary();
}
