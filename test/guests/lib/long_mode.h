/* 64-bit mode for the 32-bit test guests, one call at a time
 * (long_mode.asm): for an instruction or a rule that exists only there. */
#ifndef GUEST_LONG_MODE_H
#define GUEST_LONG_MODE_H

#include "types.h"

/* The 64-bit code segment while there (for the gates of a 64-bit IDT). */
#define LM_SEL_CODE64 0x18

/* One trip. Every address is below 4 GiB. */
struct lm_call {
	u32 cr3;  /* PML4 that identity-maps the image and its stacks */
	u32 fn;   /* 64-bit code, called with RDI = arg; it may change RAX,
		   * RCX, RDX, RSI, RDI and R8-R11, nothing else */
	u32 arg;
	u32 idtr; /* a 64-bit IDTR (2-byte limit, 8-byte base) to use while
		   * there, or 0: then any exception there is a triple fault */
} __attribute__((packed));

/* long_mode_call: go to 64-bit mode, run c->fn(c->arg), come back to 32-bit
 * protected mode with paging off. Interrupts stay off; EFLAGS, the GDT
 * and the IDT are restored. One CPU at a time. */
void long_mode_call(struct lm_call *c);

/* lm_map_low_1g: make pml4 -> pdpt -> pd an identity map of the first
 * GiB (2 MiB pages, writable); the caller may add entries. Each table is
 * 512 entries, 4 KiB aligned, below 4 GiB. */
void lm_map_low_1g(u64 *pml4, u64 *pdpt, u64 *pd);

#endif
