/* Ring 3 for the test guests: a GDT with ring-3 and conforming segments,
 * a TSS for the way back to ring 0, and IDT gates of any kind (guest.h).
 * run_user and the INT 0x81 return path are in ring3.asm. */
#include "guest.h"

void user_return(void);

/* The library's flat selectors (entry.asm's GDT), then ring-3 code and
 * data, the TSS (filled in by rings_init) and a conforming ring-0 code
 * segment. */
static u64 gdt[9] __attribute__((aligned(8))) = {
	0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull, 0x00009A000000FFFFull,
	0x000092000000FFFFull, 0x00CFFA000000FFFFull, 0x00CFF2000000FFFFull,
	0, 0x00CF9E000000FFFFull,
};
static u32 tss[26] __attribute__((aligned(16)));
static u8 kernel_stack[4096] __attribute__((aligned(16)));

u8 *idt_base(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) p;
	__asm__ volatile("sidt %0" : "=m"(p));
	return (u8 *)p.base;
}

void set_gate(u32 vec, void (*fn)(void), u16 sel, u8 type)
{
	u8 *g = idt_base() + vec * 8;
	u32 off = (u32)fn;
	g[0] = (u8)off;
	g[1] = (u8)(off >> 8);
	g[2] = (u8)sel;
	g[3] = (u8)(sel >> 8);
	g[4] = 0;
	g[5] = type;
	g[6] = (u8)(off >> 16);
	g[7] = (u8)(off >> 24);
}

void rings_init(void)
{
	u32 base = (u32)tss;
	tss[1] = (u32)(kernel_stack + sizeof(kernel_stack)); /* ESP0 */
	tss[2] = SEL_DATA32;                                 /* SS0 */
	tss[25] = sizeof(tss) << 16;                         /* no I/O bitmap */
	gdt[SEL_TSS / 8] = (sizeof(tss) - 1) | ((u64)(base & 0xFFFFFF) << 16) | (0x89ull << 40) |
			   ((u64)(base >> 24) << 56);
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) p = { sizeof(gdt) - 1, (u32)gdt };
	__asm__ volatile("lgdt %0; ltr %w1" : : "m"(p), "r"(SEL_TSS) : "memory");
	set_gate(VEC_USER_RETURN, user_return, SEL_CODE32, GATE_INT_DPL3);
}
