/* Access to physical memory for parsers that follow pointers found in firmware
 * tables (Multiboot info, ACPI). The monitor identity-maps RAM; host unit tests
 * back a window of "physical" addresses with a buffer. A parser never
 * dereferences a physical address except through phys_map, so a pointer that
 * leaves the window is a clean error, not a crash. */
#ifndef CG_PHYS_H
#define CG_PHYS_H

#include <cg/types.h>

struct phys_access {
	/* Host pointer for [addr, addr+len), or NULL if any byte is outside. */
	const void *(*map)(const struct phys_access *pa, u64 addr, u64 len);
	void *ctx;
};

static inline const void *phys_map(const struct phys_access *pa, u64 addr, u64 len)
{
	if (len && addr + len < addr)
		return NULL;
	return pa->map(pa, addr, len);
}

#endif
