/* The monitor's page tables. entry.asm identity-maps 0-4 GiB; RAM above
 * that gets 2 MiB pages here, once the page allocator runs (SDM Vol 3A
 * 4.5); and windows (arch_map_window) map a few pages away from the
 * identity map with nothing around them. */
#include "core/virt.h"
#include "lib/mem.h"
#include "arch/x86/cpu_ops.h"
#include <cg/errno.h>

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PS (1ULL << 7)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL
/* Lower canonical half: 47-bit addresses (SDM Vol 3A 4.5). */
#define CANONICAL_TOP (1ULL << 47)
#define BOOT_MAPPED (4 * GIB)

static u64 *paging_next(u64 *table, u32 idx)
{
	if (!(table[idx] & PTE_P)) {
		u64 page = mem_alloc_pages(1);
		if (!page)
			return NULL;
		table[idx] = page | PTE_P | PTE_RW;
	}
	return mem_ptr(table[idx] & PTE_ADDR);
}

int arch_map_ram(u64 top)
{
	u64 *pml4 = mem_ptr(read_cr3() & PTE_ADDR);
	top = ALIGN_UP(top, 2 * MIB);
	for (u64 a = BOOT_MAPPED; a < top; a += 2 * MIB) {
		u64 *pdpt = paging_next(pml4, (a >> 39) & 511);
		u64 *pd = pdpt ? paging_next(pdpt, (a >> 30) & 511) : NULL;
		if (!pd)
			return -CG_ENOMEM;
		pd[(a >> 21) & 511] = a | PTE_P | PTE_RW | PTE_PS;
	}
	write_cr3(read_cr3());
	if (top > BOOT_MAPPED)
		mem_set_mapped_top(top);
	return 0;
}

int arch_map_window(u64 va, u64 phys, u64 bytes)
{
	if ((va | phys | bytes) & (PAGE_SIZE - 1) || !bytes || bytes > 2 * MIB ||
	    va < BOOT_MAPPED || va + bytes > CANONICAL_TOP ||
	    (va >> 21) != ((va + bytes - 1) >> 21))
		return -CG_EINVAL;
	u64 *pml4 = mem_ptr(read_cr3() & PTE_ADDR);
	u64 *pdpt = paging_next(pml4, (va >> 39) & 511);
	u64 *pd = pdpt ? paging_next(pdpt, (va >> 30) & 511) : NULL;
	if (pd && (pd[(va >> 21) & 511] & PTE_PS))
		return -CG_EBUSY;
	u64 *pt = pd ? paging_next(pd, (va >> 21) & 511) : NULL;
	if (!pt)
		return -CG_ENOMEM;
	for (u64 off = 0; off < bytes; off += PAGE_SIZE) {
		u64 e = pt[((va + off) >> 12) & 511];
		if ((e & PTE_P) && (e & PTE_ADDR) != phys + off)
			return -CG_EBUSY;
	}
	/* Only not-present entries become present (or stay as they were):
	 * no CPU caches a not-present translation (SDM Vol 3A 4.10.2.3), so
	 * no TLB flush on any CPU. */
	for (u64 off = 0; off < bytes; off += PAGE_SIZE)
		pt[((va + off) >> 12) & 511] = (phys + off) | PTE_P | PTE_RW;
	return 0;
}
