/* One GDT for all CPUs: kernel code and data, then a 16-byte TSS descriptor
 * per CPU (SDM Vol 3A 3.4.5, 8.2.3). */
#include "arch/x86/percpu.h"
#include <cg/spinlock.h>

#define GDT_ENTRIES (3 + 2 * CG_MAX_CPUS)

static u64 gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static u32 gdt_lock;
static bool gdt_built;

struct PACKED desc_ptr {
	u16 limit;
	u64 base;
};

static void gdt_build(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFFULL; /* 64-bit code, DPL 0 */
	gdt[2] = 0x00CF92000000FFFFULL; /* data, DPL 0 */
	gdt_built = true;
}

static void gdt_set_tss(u32 index, struct tss64 *tss)
{
	u64 base = (u64)(uintptr_t)tss;
	u64 limit = sizeof(*tss) - 1;
	u32 slot = 3 + 2 * index;
	/* type 9 = available 64-bit TSS, present */
	gdt[slot] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
		    (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[slot + 1] = base >> 32;
}

void gdt_load_cpu(struct percpu *pc, const u64 ist_tops[3])
{
	spin_lock(&gdt_lock);
	if (!gdt_built)
		gdt_build();
	pc->tss.ist[IST_DOUBLE_FAULT - 1] = ist_tops[0];
	pc->tss.ist[IST_NMI - 1] = ist_tops[1];
	pc->tss.ist[IST_MACHINE_CHECK - 1] = ist_tops[2];
	pc->tss.iomap_base = sizeof(pc->tss);
	gdt_set_tss(pc->index, &pc->tss);
	spin_unlock(&gdt_lock);

	struct desc_ptr p = { sizeof(gdt) - 1, (u64)(uintptr_t)gdt };
	u16 tr = (u16)(GDT_TSS_BASE + 16 * pc->index);
	/* GS base is per-CPU state set through the MSR; reloading GS (null)
	 * here would clear it, so only CS, DS, ES, SS and FS are reloaded. */
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %3\n\t"
			 :
			 : "m"(p), "i"((u64)GDT_KERNEL_CODE), "r"((u16)GDT_KERNEL_DATA), "r"(tr)
			 : "rax", "memory");
}
