/* The monitor's memory: the normalised map and the page allocator over it.
 * Monitor virtual addresses equal physical ones (identity map). */
#ifndef CG_MEM_H
#define CG_MEM_H

#include <cg/types.h>
#include "lib/bootinfo.h"
#include "lib/phys.h"
#include "lib/pmm.h"

extern struct pmm mem_pmm;
extern struct memmap mem_map;
/* Reads of loader and firmware tables through the identity map. */
extern const struct phys_access mem_ident;

/* mem_init: copy the loader's map, reserve the monitor image, the boot
 * information and every module, and start the page allocator. Returns 0
 * or a negative error from memmap/pmm. */
int mem_init(const struct boot_info *bi, u64 image_start, u64 image_end);

/* mem_set_mapped_top: tables at or above top are not readable yet. */
void mem_set_mapped_top(u64 top);

/* mem_alloc_pages: n zeroed contiguous pages; physical (= monitor) address,
 * or 0 when memory is exhausted. */
u64 mem_alloc_pages(u64 n);

static inline void *mem_ptr(u64 phys)
{
	return (void *)(uintptr_t)phys;
}

#endif
