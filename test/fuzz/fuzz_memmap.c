/* Fuzz target: the physical memory map (lib/memmap.c): the ranges a loader
 * reports, normalised, then the monitor's reservation carved out.
 * Input: the reservation (base 8, len 8 bytes), then ranges of 17 bytes
 * each (base 8, len 8, type 1), at most 160 of them.
 * Invariants beyond "no crash":
 *  - memmap_add refuses only wrapping ranges and a full table;
 *  - after memmap_normalize (unless -CG_ENOMEM) the map is normal (sorted,
 *    disjoint, usable ranges page-aligned), and at every range edge the
 *    type is the one the rules give: the highest type reported there
 *    (unknown types as reserved, MEMMAP_MONITOR as itself), usable possibly trimmed away, never
 *    usable where anything else was reported;
 *  - after memmap_reserve the reserved range is MEMMAP_MONITOR throughout,
 *    and the usable byte count did not grow. */
#include <cg/errno.h>
#include "fuzz.h"
#include "memmap_check.h"

#define RANGES_MAX 160

struct range {
	u64 base, len;
	u32 type;
};

static struct memmap map;
static struct range in_r[RANGES_MAX];

/* The type the map gives addr, 0 where no range covers it: the last
 * range starting at or below addr, if it reaches addr (the map is sorted). */
static u32 type_at(const struct memmap *m, u64 addr)
{
	u32 k = 0;

	while (k < m->count && m->e[k].base <= addr)
		k++;
	if (!k || addr - m->e[k - 1].base >= m->e[k - 1].len)
		return 0;
	return m->e[k - 1].type;
}

static u32 rule_type(u32 t)
{
	bool known = (t >= MEMMAP_USABLE && t <= MEMMAP_BAD) || t == MEMMAP_MONITOR;

	return known ? t : MEMMAP_RESERVED;
}

static u32 expected_at(u32 n, u64 addr)
{
	u32 best = 0;

	for (u32 i = 0; i < n; i++)
		if (addr >= in_r[i].base && addr - in_r[i].base < in_r[i].len && rule_type(in_r[i].type) > best)
			best = rule_type(in_r[i].type);
	return best;
}

static void check_point(u32 n, u64 addr)
{
	u32 want = expected_at(n, addr), got = type_at(&map, addr);

	if (want == MEMMAP_USABLE)
		FUZZ_CHECK(got == MEMMAP_USABLE || got == 0, "usable memory became another type");
	else
		FUZZ_CHECK(got == want, "normalised type differs from the rules");
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u64 rbase = fuzz_u64(&in), rlen = fuzz_u64(&in), before;
	u32 n = 0;
	int rc;

	memmap_init(&map);
	while (in.n && n < RANGES_MAX) {
		struct range r = { fuzz_u64(&in), fuzz_u64(&in), fuzz_u8(&in) };

		rc = memmap_add(&map, r.base, r.len, r.type);
		if (r.len && r.base + r.len < r.base) {
			FUZZ_CHECK(rc == -CG_EINVAL, "wrapping range accepted");
			continue;
		}
		FUZZ_CHECK(rc == 0 || (rc == -CG_ENOMEM && map.count == MEMMAP_MAX), "range refused");
		if (rc == 0 && r.len)
			in_r[n++] = r;
	}
	if (memmap_normalize(&map))
		return 0;
	memmap_check_normal(&map);
	for (u32 i = 0; i < n; i++) {
		check_point(n, in_r[i].base);
		check_point(n, in_r[i].base + in_r[i].len - 1);
	}
	before = memmap_usable_bytes(&map);
	if (!rlen || rbase + rlen < rbase)
		return 0;
	if (memmap_reserve(&map, rbase, rlen, MEMMAP_MONITOR))
		return 0;
	memmap_check_normal(&map);
	FUZZ_CHECK(type_at(&map, rbase) == MEMMAP_MONITOR && type_at(&map, rbase + rlen - 1) == MEMMAP_MONITOR,
		   "reserved range not MEMMAP_MONITOR");
	FUZZ_CHECK(memmap_usable_bytes(&map) <= before, "reserving made memory usable");
	return 0;
}
