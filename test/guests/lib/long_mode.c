/* Page tables for long_mode_call (long_mode.h). */
#include "long_mode.h"

#define PAGE_PS (1ull << 7) /* 2 MiB page (SDM Vol 3A 4.5, table 4-17) */
#define PAGE_RW 0x3ull       /* present, writable */

void lm_map_low_1g(u64 *pml4, u64 *pdpt, u64 *pd)
{
	pml4[0] = (u32)pdpt | PAGE_RW;
	pdpt[0] = (u32)pd | PAGE_RW;
	for (u32 i = 0; i < 512; i++)
		pd[i] = ((u64)i << 21) | PAGE_PS | PAGE_RW;
}
