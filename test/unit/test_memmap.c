/* memmap: normalisation against hostile loader maps, reservation, and a
 * fixed-seed fuzz loop checked against a brute-force oracle. Also the error
 * names from errno.c, which have no other home. */
#include <limits.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "lib/memmap.h"

static bool map_has(const struct memmap *m, u64 base, u64 len, u32 type)
{
	for (u32 i = 0; i < m->count; i++)
		if (m->e[i].base == base && m->e[i].len == len && m->e[i].type == type)
			return true;
	return false;
}

/* Type the normalised map gives address x, 0 for a hole. */
static u32 map_type_at(const struct memmap *m, u64 x)
{
	for (u32 i = 0; i < m->count; i++)
		if (x >= m->e[i].base && x - m->e[i].base < m->e[i].len)
			return m->e[i].type;
	return 0;
}

static u32 rank(u32 t)
{
	return t == MEMMAP_USABLE ? 0 : t;
}

/* What the raw input says about x under the precedence rule. */
static u32 raw_type_at(const struct memmap_entry *raw, u32 n, u64 x)
{
	u32 best = 0;

	for (u32 i = 0; i < n; i++) {
		if (x >= raw[i].base && x - raw[i].base < raw[i].len &&
		    (!best || rank(raw[i].type) >= rank(best)))
			best = raw[i].type;
	}
	return best;
}

/* Sorted, disjoint, nonempty, same-type neighbours merged, usable aligned. */
static bool map_is_normal(const struct memmap *m)
{
	if (m->count > MEMMAP_MAX)
		return false;
	for (u32 i = 0; i < m->count; i++) {
		const struct memmap_entry *e = &m->e[i];

		if (!e->len || e->base + e->len < e->base)
			return false;
		if (e->type == MEMMAP_USABLE && ((e->base | e->len) & (PAGE_SIZE - 1)))
			return false;
		if (i) {
			const struct memmap_entry *p = &m->e[i - 1];
			u64 pend = p->base + p->len;

			if (pend > e->base)
				return false;
			if (pend == e->base && p->type == e->type)
				return false;
		}
	}
	return true;
}

static void test_basic(void)
{
	struct memmap m;

	memmap_init(&m);
	CHECK(memmap_normalize(&m) == 0 && m.count == 0, "empty map normalises to empty");
	CHECK(memmap_top(&m) == 0 && memmap_usable_bytes(&m) == 0, "empty map: top and bytes 0");

	memmap_init(&m);
	CHECK(memmap_add(&m, 0x100000, 0x700000, MEMMAP_USABLE) == 0, "add usable");
	CHECK(memmap_add(&m, 0, 0x9f000, MEMMAP_USABLE) == 0, "add low usable");
	CHECK(memmap_add(&m, 0xf0000, 0x10000, MEMMAP_RESERVED) == 0, "add bios");
	CHECK(memmap_normalize(&m) == 0, "normalise unsorted map");
	CHECK(m.count == 3, "three ranges");
	CHECK(m.e[0].base == 0 && m.e[1].base == 0xf0000 && m.e[2].base == 0x100000, "sorted by base");
	CHECK(map_is_normal(&m), "result is normal");
	CHECK(memmap_usable_bytes(&m) == 0x9f000 + 0x700000, "usable bytes");
	CHECK(memmap_top(&m) == 0x800000, "top");
}

static void test_overlaps(void)
{
	struct memmap m;

	memmap_init(&m);
	memmap_add(&m, 0, 0x10000, MEMMAP_USABLE);
	memmap_add(&m, 0x8000, 0x1000, MEMMAP_RESERVED);
	CHECK(memmap_normalize(&m) == 0 && m.count == 3, "reserved splits usable in three");
	CHECK(map_has(&m, 0, 0x8000, MEMMAP_USABLE) && map_has(&m, 0x8000, 0x1000, MEMMAP_RESERVED) &&
	      map_has(&m, 0x9000, 0x7000, MEMMAP_USABLE), "split pieces exact");

	memmap_init(&m);
	memmap_add(&m, 0x1000, 0x3000, MEMMAP_RESERVED);
	memmap_add(&m, 0x2000, 0x3000, MEMMAP_ACPI_NVS);
	memmap_add(&m, 0x0, 0x8000, MEMMAP_USABLE);
	memmap_add(&m, 0x3000, 0x800, MEMMAP_MONITOR);
	CHECK(memmap_normalize(&m) == 0, "normalise layered overlaps");
	CHECK(map_type_at(&m, 0x1800) == MEMMAP_RESERVED, "reserved beats usable");
	CHECK(map_type_at(&m, 0x2800) == MEMMAP_ACPI_NVS, "nvs (4) beats reserved (2)");
	CHECK(map_type_at(&m, 0x3400) == MEMMAP_MONITOR, "monitor beats everything");
	CHECK(map_type_at(&m, 0x3800) == MEMMAP_ACPI_NVS, "nvs resumes after monitor");
	CHECK(map_type_at(&m, 0x5000) == MEMMAP_USABLE && map_type_at(&m, 0x800) == MEMMAP_USABLE,
	      "usable around the edges");
	CHECK(map_is_normal(&m), "layered result normal");

	/* Usable on top of reserved must not punch a hole in it. */
	memmap_init(&m);
	memmap_add(&m, 0, 0x10000, MEMMAP_RESERVED);
	memmap_add(&m, 0x4000, 0x1000, MEMMAP_USABLE);
	CHECK(memmap_normalize(&m) == 0 && m.count == 1 && map_has(&m, 0, 0x10000, MEMMAP_RESERVED),
	      "contained usable loses to reserved");

	memmap_init(&m);
	for (int i = 0; i < 5; i++)
		memmap_add(&m, 0x200000, 0x100000, MEMMAP_USABLE);
	CHECK(memmap_normalize(&m) == 0 && m.count == 1 && map_has(&m, 0x200000, 0x100000, MEMMAP_USABLE),
	      "duplicates collapse");

	memmap_init(&m);
	memmap_add(&m, 0x1800, 0x1800, MEMMAP_USABLE);
	memmap_add(&m, 0, 0x1800, MEMMAP_USABLE);
	CHECK(memmap_normalize(&m) == 0 && m.count == 1 && map_has(&m, 0, 0x3000, MEMMAP_USABLE),
	      "touching usable merge before trimming");

	memmap_init(&m);
	memmap_add(&m, 0x1001, 0x2ffe, MEMMAP_USABLE);
	memmap_add(&m, 0x10010, 0x100, MEMMAP_USABLE);
	memmap_add(&m, 0x20010, 0x100, MEMMAP_ACPI_RECLAIMABLE);
	CHECK(memmap_normalize(&m) == 0, "normalise unaligned");
	CHECK(map_has(&m, 0x2000, 0x1000, MEMMAP_USABLE), "usable trimmed inward to pages");
	CHECK(map_type_at(&m, 0x10010) == 0, "sub-page usable dropped");
	CHECK(map_has(&m, 0x20010, 0x100, MEMMAP_ACPI_RECLAIMABLE), "non-usable kept byte-exact");
	CHECK(m.count == 2, "two ranges left");
}

static void test_add_edges(void)
{
	struct memmap m;

	memmap_init(&m);
	CHECK(memmap_add(&m, 0x1000, 0, MEMMAP_USABLE) == 0 && m.count == 0, "zero length ignored");
	CHECK(memmap_add(&m, ~0ULL - 0xfff, 0x2000, MEMMAP_USABLE) == -CG_EINVAL, "wrap rejected");
	CHECK(memmap_add(&m, 1ULL << 63, 1ULL << 63, MEMMAP_USABLE) == -CG_EINVAL, "end at 2^64 rejected");
	CHECK(memmap_add(&m, ~0ULL - 0xfff, 0xfff, MEMMAP_RESERVED) == 0, "range ending at 2^64-1 accepted");
	CHECK(memmap_add(&m, 0x5000, 0x1000, 77) == 0 && m.e[m.count - 1].type == MEMMAP_RESERVED,
	      "unknown type becomes reserved");
	CHECK(memmap_add(&m, 0x6000, 0x1000, 0) == 0 && m.e[m.count - 1].type == MEMMAP_RESERVED,
	      "type 0 becomes reserved");
	CHECK(memmap_normalize(&m) == 0 && map_is_normal(&m), "edge map normalises");
	CHECK(memmap_top(&m) == ~0ULL, "top at the end of the space");
	CHECK(map_has(&m, 0x5000, 0x2000, MEMMAP_RESERVED), "converted reserved ranges merge");
}

static void test_capacity(void)
{
	struct memmap m, before;
	int err;

	memmap_init(&m);
	for (u32 i = 0; i < MEMMAP_MAX; i++)
		CHECK(memmap_add(&m, (u64)i * 0x3000, 0x1000, i % 2 ? MEMMAP_USABLE : MEMMAP_RESERVED) == 0,
		      "fill table");
	CHECK(memmap_add(&m, 0x10000000, 0x1000, MEMMAP_USABLE) == -CG_ENOMEM, "129th add refused");
	CHECK(memmap_normalize(&m) == 0 && m.count == MEMMAP_MAX && map_is_normal(&m),
	      "128 disjoint ranges survive normalisation");

	/* One big usable range with 127 holes: 255 pieces cannot fit. */
	memmap_init(&m);
	memmap_add(&m, 0, 0x1000000, MEMMAP_USABLE);
	for (u32 i = 0; i < MEMMAP_MAX - 1; i++)
		memmap_add(&m, 0x2000 + (u64)i * 0x4000, 0x1000, MEMMAP_RESERVED);
	before = m;
	err = memmap_normalize(&m);
	CHECK(err == -CG_ENOMEM, "split overflow reports ENOMEM");
	CHECK(memcmp(&before, &m, sizeof(m)) == 0, "map unchanged after ENOMEM");

	/* A full table whose normal form is small must still accept reserve. */
	memmap_init(&m);
	for (u32 i = 0; i < MEMMAP_MAX; i++)
		memmap_add(&m, 0x100000, 0x100000, MEMMAP_USABLE);
	CHECK(memmap_reserve(&m, 0x180000, 0x1000, MEMMAP_MONITOR) == 0 && m.count == 3,
	      "reserve on a full table of duplicates");
}

static void test_reserve(void)
{
	struct memmap m;

	memmap_init(&m);
	memmap_add(&m, 0x100000, 0x400000, MEMMAP_USABLE);
	memmap_add(&m, 0x600000, 0x100000, MEMMAP_ACPI_NVS);
	memmap_normalize(&m);
	CHECK(memmap_reserve(&m, 0x200000, 0x10000, MEMMAP_MONITOR) == 0, "reserve middle");
	CHECK(map_has(&m, 0x100000, 0x100000, MEMMAP_USABLE) && map_has(&m, 0x200000, 0x10000, MEMMAP_MONITOR) &&
	      map_has(&m, 0x210000, 0x2f0000, MEMMAP_USABLE), "middle reservation splits exactly");
	CHECK(memmap_reserve(&m, 0x100000, 0x800, MEMMAP_MONITOR) == 0, "reserve unaligned at start");
	CHECK(map_has(&m, 0x100000, 0x800, MEMMAP_MONITOR) && map_type_at(&m, 0x100800) == 0 &&
	      map_type_at(&m, 0x101000) == MEMMAP_USABLE, "usable remainder trimmed to the next page");
	CHECK(memmap_reserve(&m, 0x650000, 0x1000, MEMMAP_MONITOR) == 0 &&
	      map_type_at(&m, 0x650000) == MEMMAP_MONITOR && map_type_at(&m, 0x651000) == MEMMAP_ACPI_NVS,
	      "reserve overrides nvs only where asked");
	CHECK(memmap_reserve(&m, 0x4ff000, 0x2000, MEMMAP_MONITOR) == 0 &&
	      map_type_at(&m, 0x500000) == MEMMAP_MONITOR && map_type_at(&m, 0x4fe000) == MEMMAP_USABLE,
	      "reserve straddling a range end and a hole");
	CHECK(memmap_reserve(&m, ~0ULL, 2, MEMMAP_MONITOR) == -CG_EINVAL, "wrapping reserve refused");
	CHECK(memmap_reserve(&m, 0x300000, 0, MEMMAP_MONITOR) == 0 && map_type_at(&m, 0x300000) == MEMMAP_USABLE,
	      "zero-length reserve changes nothing");
	CHECK(map_is_normal(&m), "map normal after reservations");
	CHECK(memmap_usable_bytes(&m) == 0xff000 + 0x2ef000, "usable bytes after reserves");
}

static void test_names(void)
{
	CHECK(strcmp(memmap_type_name(MEMMAP_USABLE), "usable") == 0, "usable name");
	CHECK(strcmp(memmap_type_name(MEMMAP_MONITOR), "monitor") == 0, "monitor name");
	CHECK(strcmp(memmap_type_name(42), "unknown") == 0, "unknown name");
	CHECK(strcmp(cg_strerror(-CG_EINVAL), "EINVAL") == 0, "strerror negated");
	CHECK(strcmp(cg_strerror(CG_EBUSY), "EBUSY") == 0, "strerror positive");
	CHECK(strcmp(cg_strerror(0), "OK") == 0, "strerror 0");
	CHECK(strcmp(cg_strerror(-99), "E?") == 0 && strcmp(cg_strerror(INT_MIN), "E?") == 0,
	      "strerror unknown and INT_MIN");
}

static u64 fuzz_addr(void)
{
	switch (check_rand_below(8)) {
	case 0:
		return ~0ULL - check_rand_below(0x10000);
	case 1:
		return check_rand();
	default:
		/* A small space, so ranges collide often. */
		return check_rand_below(64) * 0x800 + (check_rand_below(4) ? 0 : check_rand_below(0x800));
	}
}

static u32 fuzz_type(void)
{
	static const u32 types[] = { 1, 1, 1, 2, 3, 4, 5, 100, 0, 9 };

	return types[check_rand_below(ARRAY_SIZE(types))];
}

static void fuzz_normalize(int iters)
{
	int bad_norm = 0, bad_oracle = 0, bad_reserve = 0;

	for (int it = 0; it < iters; it++) {
		struct memmap m;
		struct memmap_entry raw[MEMMAP_MAX];
		u32 n = 0, want = (u32)check_rand_below(MEMMAP_MAX + 8);

		memmap_init(&m);
		for (u32 i = 0; i < want; i++) {
			u64 base = fuzz_addr(), len = check_rand_below(4) ? check_rand_below(0x8000) : check_rand();
			u32 type = fuzz_type();
			int err = memmap_add(&m, base, len, type);

			if (err == 0 && len) {
				raw[n].base = base;
				raw[n].len = len;
				raw[n].type = m.e[m.count - 1].type;
				n++;
			}
			if (err == -CG_EINVAL && base + len >= base)
				bad_norm++;
		}
		if (memmap_normalize(&m))
			continue; /* overflow is allowed; the map is untouched */
		if (!map_is_normal(&m))
			bad_norm++;
		/* Probe every input boundary and its neighbours. */
		for (u32 i = 0; i < n; i++) {
			u64 pts[4] = { raw[i].base, raw[i].base - 1, raw[i].base + raw[i].len - 1,
				       raw[i].base + raw[i].len };
			for (int k = 0; k < 4; k++) {
				u32 got = map_type_at(&m, pts[k]), want_t = raw_type_at(raw, n, pts[k]);

				if (want_t && want_t != MEMMAP_USABLE && got != want_t)
					bad_oracle++;
				if (got && got != want_t)
					bad_oracle++;
			}
		}
		{
			u64 rb = fuzz_addr(), rl = check_rand_below(0x4000);

			if (rb + rl >= rb && memmap_reserve(&m, rb, rl, MEMMAP_MONITOR) == 0) {
				if (!map_is_normal(&m))
					bad_reserve++;
				if (rl && (map_type_at(&m, rb) != MEMMAP_MONITOR ||
					   map_type_at(&m, rb + rl - 1) != MEMMAP_MONITOR))
					bad_reserve++;
			}
		}
	}
	CHECK(bad_norm == 0, "fuzz: every normalised map is sorted, disjoint, merged, aligned");
	CHECK(bad_oracle == 0, "fuzz: normalised types agree with the precedence oracle");
	CHECK(bad_reserve == 0, "fuzz: reserve keeps the map normal and marks its range");
}

int main(void)
{
	test_basic();
	test_overlaps();
	test_add_edges();
	test_capacity();
	test_reserve();
	test_names();
	fuzz_normalize(3000);
	return check_summary();
}
