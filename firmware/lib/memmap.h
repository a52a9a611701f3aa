/* The physical memory map: what the loader reported, normalised into sorted,
 * non-overlapping ranges, then with the monitor's own reservations carved out. */
#ifndef CG_MEMMAP_H
#define CG_MEMMAP_H

#include <cg/types.h>

/* Types follow the E820 / Multiboot numbering so loader values pass through. */
enum memmap_type {
	MEMMAP_USABLE = 1,
	MEMMAP_RESERVED = 2,
	MEMMAP_ACPI_RECLAIMABLE = 3,
	MEMMAP_ACPI_NVS = 4,
	MEMMAP_BAD = 5,
	MEMMAP_MONITOR = 100, /* monitor image, boot modules, boot info */
};

#define MEMMAP_MAX 128

struct memmap_entry {
	u64 base;
	u64 len;
	u32 type;
};

struct memmap {
	struct memmap_entry e[MEMMAP_MAX];
	u32 count;
};

/* memmap_init: empty map. */
void memmap_init(struct memmap *m);

/* memmap_add: record a range as reported; unknown type values count as
 * reserved, zero-length ranges are ignored, ranges that wrap past 2^64 are
 * rejected. Returns 0, -CG_EINVAL (wrap) or -CG_ENOMEM (table full). */
int memmap_add(struct memmap *m, u64 base, u64 len, u32 type);

/* memmap_normalize: sort by base, resolve overlaps (where ranges overlap the
 * more restrictive type wins: anything beats USABLE, higher type number beats
 * lower), merge touching ranges of the same type. Usable ranges are then
 * trimmed inward to page boundaries. Returns 0 or -CG_ENOMEM if splitting
 * overflows the table. */
int memmap_normalize(struct memmap *m);

/* memmap_reserve: mark [base, base+len) with type (normally MEMMAP_MONITOR)
 * over whatever was there, keeping the map normalised. Returns as
 * memmap_normalize. */
int memmap_reserve(struct memmap *m, u64 base, u64 len, u32 type);

/* memmap_usable_bytes: total bytes of USABLE ranges. */
u64 memmap_usable_bytes(const struct memmap *m);

/* memmap_top: highest end address of any range (0 for an empty map). */
u64 memmap_top(const struct memmap *m);

/* memmap_type_name: short name for a type ("usable", "reserved", ...). */
const char *memmap_type_name(u32 type);

#endif
