/* For the fuzz harnesses that produce a memory map (bootinfo, memmap):
 * the shape every normalised map must have. */
#ifndef CG_TEST_FUZZ_MEMMAP_CHECK_H
#define CG_TEST_FUZZ_MEMMAP_CHECK_H

#include "fuzz.h"
#include "lib/memmap.h"

/* memmap_check_normal: at most MEMMAP_MAX sorted, disjoint, non-empty,
 * non-wrapping ranges; usable ones page-aligned. Aborts otherwise. */
static inline void memmap_check_normal(const struct memmap *m)
{
	FUZZ_CHECK(m->count <= MEMMAP_MAX, "map overruns its table");
	for (u32 i = 0; i < m->count; i++) {
		const struct memmap_entry *e = &m->e[i];

		FUZZ_CHECK(e->len && e->base + e->len > e->base, "empty or wrapping range");
		if (i)
			FUZZ_CHECK(m->e[i - 1].base + m->e[i - 1].len <= e->base, "ranges unsorted or overlapping");
		if (e->type == MEMMAP_USABLE)
			FUZZ_CHECK(!(e->base % PAGE_SIZE) && !(e->len % PAGE_SIZE), "usable range not page-aligned");
	}
}

#endif
