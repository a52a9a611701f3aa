#include "lib/mem.h"
#include <cg/errno.h>
#include <cg/string.h>

/* Below 1 MiB: real-mode structures, the AP trampoline page, BIOS areas. */
#define MEM_LOW_LIMIT MIB

struct pmm mem_pmm;
struct memmap mem_map;
static u64 mem_mapped_top = 4 * GIB;

static const void *mem_ident_map(const struct phys_access *pa, u64 addr, u64 len)
{
	(void)pa;
	if (addr + len > mem_mapped_top || addr + len < addr)
		return NULL;
	return (const void *)(uintptr_t)addr;
}

const struct phys_access mem_ident = { mem_ident_map, NULL };

void mem_set_mapped_top(u64 top)
{
	mem_mapped_top = top;
}

static void *mem_map_rw(u64 phys, u64 len, void *ctx)
{
	(void)ctx;
	return phys + len <= mem_mapped_top ? (void *)(uintptr_t)phys : NULL;
}

int mem_init(const struct boot_info *bi, u64 image_start, u64 image_end)
{
	int rc;
	mem_map = bi->mem;
	rc = memmap_reserve(&mem_map, image_start, image_end - image_start, MEMMAP_MONITOR);
	if (!rc && bi->info_len)
		rc = memmap_reserve(&mem_map, ALIGN_DOWN(bi->info_addr, PAGE_SIZE),
				    ALIGN_UP(bi->info_addr + bi->info_len, PAGE_SIZE) -
					    ALIGN_DOWN(bi->info_addr, PAGE_SIZE),
				    MEMMAP_MONITOR);
	for (u32 i = 0; !rc && i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (m->end > m->start)
			rc = memmap_reserve(&mem_map, ALIGN_DOWN(m->start, PAGE_SIZE),
					    ALIGN_UP(m->end, PAGE_SIZE) - ALIGN_DOWN(m->start, PAGE_SIZE),
					    MEMMAP_MONITOR);
	}
	if (rc)
		return rc;
	return pmm_init(&mem_pmm, &mem_map, MEM_LOW_LIMIT, mem_map_rw, NULL);
}

u64 mem_alloc_pages(u64 n)
{
	u64 p = n == 1 ? pmm_alloc(&mem_pmm) : pmm_alloc_contig(&mem_pmm, n, PAGE_SIZE);
	if (p)
		memset(mem_ptr(p), 0, n * PAGE_SIZE);
	return p;
}
