/* pmm: allocate everything and prove each frame is unique, real RAM, above
 * the low limit and outside the bitmap; contiguous runs, bad frees, and a
 * fixed-seed fuzz over random maps. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "lib/pmm.h"

/* map_rw stand-in: hands out a host buffer and remembers the physical
 * range, so tests can check the bitmap was placed legally. */
struct rw_ctx {
	void *host;
	u64 phys;
	u64 len;
	bool refuse;
};

static void *test_map_rw(u64 phys, u64 len, void *ctx)
{
	struct rw_ctx *c = ctx;

	if (c->refuse)
		return NULL;
	free(c->host);
	c->host = malloc(len);
	c->phys = phys;
	c->len = len;
	return c->host;
}

static bool in_usable(const struct memmap *m, u64 a, u64 len)
{
	for (u32 i = 0; i < m->count; i++)
		if (m->e[i].type == MEMMAP_USABLE && a >= m->e[i].base &&
		    a - m->e[i].base <= m->e[i].len && len <= m->e[i].len - (a - m->e[i].base))
			return true;
	return false;
}

static u32 type_at(const struct memmap *m, u64 a)
{
	for (u32 i = 0; i < m->count; i++)
		if (a >= m->e[i].base && a - m->e[i].base < m->e[i].len)
			return m->e[i].type;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Drain p with pmm_alloc into out (capacity cap); count of frames got. */
static u64 drain(struct pmm *p, u64 *out, u64 cap)
{
	u64 n = 0, a;

	while (n < cap && (a = pmm_alloc(p)))
		out[n++] = a;
	return n;
}

/* Every invariant an allocation must satisfy, counted as failures. */
static int audit(u64 *addrs, u64 n, const struct memmap *orig, const struct rw_ctx *c, u64 low)
{
	int bad = 0;

	qsort(addrs, n, sizeof(*addrs), cmp_u64);
	for (u64 i = 0; i < n; i++) {
		u64 a = addrs[i];

		if (!a || a % PAGE_SIZE || a < low || !in_usable(orig, a, PAGE_SIZE))
			bad++;
		if (a >= c->phys && a - c->phys < c->len)
			bad++;
		if (i && addrs[i - 1] == a)
			bad++;
	}
	return bad;
}

static void build_map(struct memmap *m)
{
	memmap_init(m);
	memmap_add(m, 0, 0x9f000, MEMMAP_USABLE);
	memmap_add(m, 0xf0000, 0x10000, MEMMAP_RESERVED);
	memmap_add(m, 0x100000, 0xf00000, MEMMAP_USABLE);
	memmap_add(m, 0x400000, 0x10000, MEMMAP_RESERVED);
	memmap_add(m, 0x2000000, 0x100000, MEMMAP_USABLE);
	memmap_normalize(m);
}

static void test_drain_and_free(void)
{
	static u64 addrs[8192];
	struct memmap m, orig;
	struct pmm p;
	struct rw_ctx c = { 0 };
	u64 n, expect, hole = 0x400000, f;
	int err;

	build_map(&m);
	orig = m;
	err = pmm_init(&p, &m, MIB, test_map_rw, &c);
	CHECK(err == 0, "init on a normal map");
	CHECK(c.phys >= MIB && c.phys % PAGE_SIZE == 0 && in_usable(&orig, c.phys, c.len),
	      "bitmap placed in usable RAM above the low limit");
	CHECK(type_at(&m, c.phys) == MEMMAP_MONITOR && type_at(&m, c.phys + c.len - 1) == MEMMAP_MONITOR,
	      "bitmap pages recorded as MONITOR in the map");
	expect = (0xf00000 - 0x10000 + 0x100000 - c.len) / PAGE_SIZE;
	CHECK(p.total_frames == expect && p.free_frames == expect, "usable frames above 1 MiB, minus bitmap");

	n = drain(&p, addrs, ARRAY_SIZE(addrs));
	CHECK(n == expect, "drain hands out exactly the free frames");
	CHECK(pmm_alloc(&p) == 0 && p.free_frames == 0, "exhausted allocator returns 0");
	CHECK(pmm_alloc_contig(&p, 1, PAGE_SIZE) == 0, "exhausted contig returns 0");
	CHECK(audit(addrs, n, &orig, &c, MIB) == 0, "every frame unique, usable, above low, outside bitmap");

	for (u64 i = 0; i < n; i++)
		if (pmm_free(&p, addrs[i], 1))
			break;
	CHECK(p.free_frames == expect, "all frames freed");
	CHECK(pmm_free(&p, addrs[7], 1) == -CG_EBUSY, "double free detected");
	CHECK(pmm_free(&p, hole, 1) == -CG_ERANGE, "free of a reserved frame in a hole");
	CHECK(pmm_free(&p, c.phys, 1) == -CG_ERANGE, "free of a bitmap frame");
	CHECK(pmm_free(&p, 0x9000, 1) == -CG_ERANGE, "free below the low limit");
	CHECK(pmm_free(&p, 0x2100000, 1) == -CG_ERANGE, "free above the top");
	CHECK(pmm_free(&p, 0x200800, 1) == -CG_EINVAL, "unaligned free");
	CHECK(pmm_free(&p, 0x200000, ~0ULL) == -CG_ERANGE, "absurd count");
	CHECK(pmm_free(&p, 0x200000, 0) == 0, "empty free is a no-op");

	/* A run that is half allocated must be refused as a whole. */
	f = pmm_alloc(&p);
	CHECK(f != 0 && pmm_alloc(&p) == f + PAGE_SIZE, "lowest-first allocation");
	CHECK(pmm_free(&p, f, 3) == -CG_EBUSY, "run with a free frame refused");
	CHECK(pmm_free(&p, f + PAGE_SIZE, 1) == 0 && pmm_free(&p, f, 1) == 0,
	      "refused run left both frames allocated");
	CHECK(pmm_free(&p, hole - PAGE_SIZE, 2) == -CG_ERANGE, "run reaching into a hole refused");
	CHECK(p.free_frames == expect, "counts intact after errors");
	free(c.host);
}

static void test_contig(void)
{
	static u64 addrs[8192];
	struct memmap m, orig;
	struct pmm p;
	struct rw_ctx c = { 0 };
	u64 a, b, n;
	int bad = 0;

	build_map(&m);
	orig = m;
	CHECK(pmm_init(&p, &m, MIB, test_map_rw, &c) == 0, "init for contig");
	a = pmm_alloc_contig(&p, 16, 64 * 1024);
	CHECK(a && a % (64 * 1024) == 0 && in_usable(&orig, a, 16 * PAGE_SIZE), "16 frames at 64 KiB alignment");
	b = pmm_alloc_contig(&p, 512, 2 * MIB);
	CHECK(b && b % (2 * MIB) == 0 && in_usable(&orig, b, 2 * MIB), "2 MiB aligned 2 MiB run");
	CHECK(b + 2 * MIB <= 0x400000 || b >= 0x410000, "run avoids the reserved hole");
	CHECK(pmm_alloc_contig(&p, 1, 3 * PAGE_SIZE) == 0, "non-power-of-two alignment refused");
	CHECK(pmm_alloc_contig(&p, 1, 512) == 0, "sub-page alignment refused");
	CHECK(pmm_alloc_contig(&p, 0, PAGE_SIZE) == 0, "zero frames refused");
	CHECK(pmm_alloc_contig(&p, p.free_frames + 1, PAGE_SIZE) == 0, "more than free refused");
	CHECK(pmm_alloc_contig(&p, 0x1000, PAGE_SIZE) == 0, "16 MiB run does not exist");
	CHECK(pmm_alloc_contig(&p, 1, 1ULL << 63) == 0, "alignment beyond memory");

	n = drain(&p, addrs, ARRAY_SIZE(addrs));
	for (u64 i = 0; i < n; i++)
		if ((addrs[i] >= a && addrs[i] < a + 16 * PAGE_SIZE) || (addrs[i] >= b && addrs[i] < b + 2 * MIB))
			bad++;
	CHECK(bad == 0, "single frames never overlap contiguous runs");
	CHECK(n + 16 + 512 == p.total_frames, "runs and singles account for every frame");
	CHECK(pmm_free(&p, a, 16) == 0 && pmm_alloc_contig(&p, 16, 64 * 1024) == a, "freed run is reusable");
	free(c.host);
}

static void test_init_edges(void)
{
	struct memmap m;
	struct pmm p;
	struct rw_ctx c = { 0 };
	u64 a;
	bool zero = false;

	memmap_init(&m);
	CHECK(pmm_init(&p, &m, MIB, test_map_rw, &c) == -CG_ENOENT, "empty map");

	memmap_add(&m, 0, 0x9f000, MEMMAP_USABLE);
	memmap_add(&m, MIB, 0x1000000, MEMMAP_RESERVED);
	memmap_normalize(&m);
	CHECK(pmm_init(&p, &m, MIB, test_map_rw, &c) == -CG_ENOENT, "usable only below the low limit");

	memmap_init(&m);
	memmap_add(&m, MIB, PAGE_SIZE, MEMMAP_USABLE);
	memmap_add(&m, 64 * GIB, PAGE_SIZE, MEMMAP_USABLE);
	memmap_normalize(&m);
	CHECK(pmm_init(&p, &m, MIB, test_map_rw, &c) == -CG_ENOMEM, "no range big enough for the bitmap");

	memmap_init(&m);
	memmap_add(&m, MIB, 16 * MIB, MEMMAP_USABLE);
	memmap_normalize(&m);
	c.refuse = true;
	CHECK(pmm_init(&p, &m, MIB, test_map_rw, &c) == -CG_ENOMEM && m.count == 1 &&
	      m.e[0].type == MEMMAP_USABLE, "map_rw refusal leaves the map alone");
	c.refuse = false;

	/* Low limit 0: frame 0 must still never come out. */
	memmap_init(&m);
	memmap_add(&m, 0, 64 * PAGE_SIZE, MEMMAP_USABLE);
	memmap_normalize(&m);
	CHECK(pmm_init(&p, &m, 0, test_map_rw, &c) == 0, "init with low limit 0");
	while ((a = pmm_alloc(&p)))
		if (a == 0)
			zero = true;
	CHECK(!zero && c.phys != 0 && p.base >= PAGE_SIZE, "address 0 never handed out");
	CHECK(p.total_frames == 64 - 1 - c.len / PAGE_SIZE, "all but frame 0 and the bitmap");

	/* A map that was never normalised: pmm_init still obeys reservations. */
	memmap_init(&m);
	memmap_add(&m, MIB, 4 * MIB, MEMMAP_USABLE);
	memmap_add(&m, 2 * MIB, MIB, MEMMAP_RESERVED);
	CHECK(pmm_init(&p, &m, MIB, test_map_rw, &c) == 0, "init on raw map");
	{
		bool bad = false;

		while ((a = pmm_alloc(&p)))
			if (a >= 2 * MIB && a < 3 * MIB)
				bad = true;
		CHECK(!bad, "overlapping reserved range respected");
	}

	/* A hint left past the last frame must wrap, not fail. */
	memmap_init(&m);
	memmap_add(&m, MIB, 8 * MIB, MEMMAP_USABLE);
	pmm_init(&p, &m, MIB, test_map_rw, &c);
	a = pmm_alloc(&p);
	p.hint = p.frames + 100;
	CHECK(pmm_free(&p, a, 1) == 0 && pmm_alloc(&p) == a, "hint wraps to freed frame");
	free(c.host);
}

static void fuzz(int iters)
{
	static u64 addrs[1 << 15];
	int bad = 0, inits = 0;

	for (int it = 0; it < iters; it++) {
		struct memmap m, orig;
		struct pmm p;
		struct rw_ctx c = { 0 };
		u32 n = 1 + (u32)check_rand_below(12);
		u64 low = check_rand_below(3) * 0x80000, got;

		memmap_init(&m);
		for (u32 i = 0; i < n; i++)
			memmap_add(&m, check_rand_below(0x4000) * 0x800 + check_rand_below(2) * 0x123,
				   check_rand_below(0x100) * 0x1000 + check_rand_below(0x1000),
				   check_rand_below(3) ? MEMMAP_USABLE : 1 + (u32)check_rand_below(5));
		if (memmap_normalize(&m))
			continue;
		orig = m;
		if (pmm_init(&p, &m, low, test_map_rw, &c)) {
			free(c.host);
			continue;
		}
		inits++;
		/* Mix runs in, then drain the rest as singles. */
		got = 0;
		for (int k = 0; k < 4; k++) {
			u64 cn = 1 + check_rand_below(16), al = PAGE_SIZE << check_rand_below(6);
			u64 r = pmm_alloc_contig(&p, cn, al);

			if (r) {
				if (r % al)
					bad++;
				for (u64 j = 0; j < cn && got < ARRAY_SIZE(addrs); j++)
					addrs[got++] = r + j * PAGE_SIZE;
			}
		}
		got += drain(&p, addrs + got, ARRAY_SIZE(addrs) - got);
		if (got < ARRAY_SIZE(addrs)) {
			if (got != p.total_frames || p.free_frames != 0)
				bad++;
			bad += audit(addrs, got, &orig, &c, low);
			for (u64 i = 0; i < got; i++)
				if (pmm_free(&p, addrs[i], 1))
					bad++;
			if (p.free_frames != p.total_frames)
				bad++;
			if (got && pmm_free(&p, addrs[check_rand_below(got)], 1) != -CG_EBUSY)
				bad++;
		}
		free(c.host);
	}
	CHECK(bad == 0, "fuzz: random maps give unique, legal frames and exact accounting");
	CHECK(inits > iters / 4, "fuzz: most random maps initialise");
}

int main(void)
{
	test_drain_and_free();
	test_contig();
	test_init_edges();
	fuzz(2000);
	return check_summary();
}
