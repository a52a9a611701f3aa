/* The IDT: every vector goes to its trap_entry.asm stub. Double fault, NMI
 * and machine check run on their own IST stacks so a blown monitor stack
 * still produces a report (SDM Vol 3A 6.14.5). */
#include "arch/x86/percpu.h"
#include <cg/spinlock.h>

struct PACKED idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 zero;
};

struct PACKED idt_ptr {
	u16 limit;
	u64 base;
};

extern const u64 trap_stub_table[256];

static struct idt_gate idt[256] __attribute__((aligned(16)));
static u32 idt_lock;
static bool idt_built;

static void idt_build(void)
{
	for (u32 v = 0; v < 256; v++) {
		u64 off = trap_stub_table[v];
		idt[v].offset_lo = off & 0xFFFF;
		idt[v].selector = GDT_KERNEL_CODE;
		idt[v].ist = 0;
		idt[v].type_attr = 0x8E; /* present, DPL 0, 64-bit interrupt gate */
		idt[v].offset_mid = (off >> 16) & 0xFFFF;
		idt[v].offset_hi = off >> 32;
		idt[v].zero = 0;
	}
	idt[8].ist = IST_DOUBLE_FAULT;
	idt[2].ist = IST_NMI;
	idt[18].ist = IST_MACHINE_CHECK;
	idt_built = true;
}

void idt_load(void)
{
	spin_lock(&idt_lock);
	if (!idt_built)
		idt_build();
	spin_unlock(&idt_lock);
	struct idt_ptr p = { sizeof(idt) - 1, (u64)(uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(p));
}
