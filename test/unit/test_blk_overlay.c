/* blk_overlay: random sector reads and writes against a reference model (a
 * full private copy of the disk), isolation of two overlays sharing one
 * base (the base checksums the same before and after), reset, range
 * errors, allocator exhaustion with no visible change, a partial last
 * block, and the multi-page directory of a disk over 1 GiB. The allocator
 * counts live pages so every test ends with nothing leaked. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/blk_overlay.h"

#define SECT 512u
#define BLK 4096u

/* malloc-backed page allocator with a page budget. */
struct talloc {
	u64 live;	/* pages handed out and not yet freed */
	u64 budget;	/* pages that may still be handed out */
	u64 calls;
};

static void *talloc_alloc(void *ctx, u64 npages)
{
	struct talloc *t = ctx;
	void *p;

	t->calls++;
	if (npages > t->budget)
		return NULL;
	p = aligned_alloc(BLK, npages * BLK);
	if (!p)
		abort();
	memset(p, 0xcd, npages * BLK); /* contents are undefined */
	t->budget -= npages;
	t->live += npages;
	return p;
}

static void talloc_free(void *ctx, void *p, u64 npages)
{
	struct talloc *t = ctx;

	t->live -= npages;
	t->budget += npages;
	free(p);
}

static struct blk_overlay_alloc talloc_ops(struct talloc *t, u64 budget)
{
	struct blk_overlay_alloc a = { talloc_alloc, talloc_free, t };

	memset(t, 0, sizeof(*t));
	t->budget = budget;
	return a;
}

static u64 fnv1a(const u8 *p, u64 n)
{
	u64 h = 0xcbf29ce484222325ull;

	for (u64 i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void fill_random(u8 *p, u64 n)
{
	for (u64 i = 0; i < n; i++)
		p[i] = (u8)check_rand();
}

/* A random sector range of the disk, often crossing 4 KiB blocks. */
static void rand_range(u64 sectors, u64 max, u64 *sector, u64 *count)
{
	*count = 1 + check_rand_below(max);
	if (*count > sectors)
		*count = sectors;
	*sector = check_rand_below(sectors - *count + 1);
}

/* Whole-disk comparison of the overlay against a reference copy. */
static bool same_as(const struct blk_overlay *o, const u8 *ref, u64 size)
{
	u8 *buf = malloc(size);
	bool same;

	if (!buf)
		abort();
	same = blk_overlay_read(o, 0, size / SECT, buf) == 0 && !memcmp(buf, ref, size);
	free(buf);
	return same;
}

static void test_init(void)
{
	struct talloc t;
	struct blk_overlay_alloc a = talloc_ops(&t, 100);
	struct blk_overlay o;
	static u8 base[8192];

	CHECK(blk_overlay_init(&o, NULL, 8192, &a) == -CG_EINVAL, "NULL base");
	CHECK(blk_overlay_init(&o, base, 0, &a) == -CG_EINVAL, "size 0");
	CHECK(blk_overlay_init(&o, base, 1000, &a) == -CG_EINVAL, "size not whole sectors");
	CHECK(t.calls == 0, "nothing allocated for bad arguments");
	a = talloc_ops(&t, 0);
	CHECK(blk_overlay_init(&o, base, 8192, &a) == -CG_ENOMEM, "no page for the directory");
	a = talloc_ops(&t, 100);
	CHECK(blk_overlay_init(&o, base, 8192, &a) == 0, "init");
	CHECK(blk_overlay_sectors(&o) == 16 && t.live == 1, "one directory page");
	blk_overlay_destroy(&o);
	CHECK(t.live == 0, "destroy frees the directory");
}

/* Random workload against the reference on a disk whose last block is
 * short; stats track the distinct blocks written. */
static void test_random(void)
{
	const u64 size = 8 * MIB + 3 * SECT; /* 2049 blocks, last one 1.5 KiB */
	const u64 sectors = size / SECT;
	const u64 nblocks = (size + BLK - 1) / BLK;
	struct talloc t;
	struct blk_overlay_alloc a = talloc_ops(&t, UINT64_MAX);
	struct blk_overlay o;
	struct blk_overlay_stats st;
	u8 *base = malloc(size), *ref = malloc(size), *buf = malloc(64 * SECT);
	u8 *written = calloc(nblocks, 1);
	u64 base_sum, nwritten = 0;
	unsigned bad_read = 0, bad_rc = 0;

	if (!base || !ref || !buf || !written)
		abort();
	fill_random(base, size);
	memcpy(ref, base, size);
	base_sum = fnv1a(base, size);
	CHECK(blk_overlay_init(&o, base, size, &a) == 0, "init 8 MiB + 1.5 KiB");

	for (u32 op = 0; op < 20000; op++) {
		u64 sector, count;

		rand_range(sectors, check_rand_below(4) ? 20 : 64, &sector, &count);
		if (check_rand_below(8) == 0)
			sector = sectors - count; /* the short last block */
		if (check_rand_below(2)) {
			fill_random(buf, count * SECT);
			if (blk_overlay_write(&o, sector, count, buf))
				bad_rc++;
			memcpy(ref + sector * SECT, buf, count * SECT);
			for (u64 b = sector * SECT / BLK; b <= ((sector + count) * SECT - 1) / BLK; b++) {
				nwritten += !written[b];
				written[b] = 1;
			}
		} else {
			if (blk_overlay_read(&o, sector, count, buf))
				bad_rc++;
			bad_read += memcmp(buf, ref + sector * SECT, count * SECT) != 0;
		}
	}
	CHECK(bad_rc == 0, "random ops succeed");
	CHECK(bad_read == 0, "random reads match the reference");
	CHECK(same_as(&o, ref, size), "whole disk matches the reference");
	CHECK(fnv1a(base, size) == base_sum, "base untouched");
	blk_overlay_get_stats(&o, &st);
	CHECK(st.data_blocks == nwritten, "data_blocks = distinct blocks written");
	CHECK(st.index_pages == 5 && st.dir_pages == 1, "index pages for a 2049-block disk");
	CHECK(st.bytes == (st.data_blocks + st.index_pages + st.dir_pages) * BLK, "bytes");
	CHECK(t.live == st.data_blocks + st.index_pages + st.dir_pages, "pages held = stats");

	/* Reset: the base again, and only the directory held. */
	blk_overlay_reset(&o);
	blk_overlay_get_stats(&o, &st);
	CHECK(st.data_blocks == 0 && st.index_pages == 0 && t.live == 1, "reset frees blocks");
	CHECK(same_as(&o, base, size), "after reset the disk reads as the base");
	CHECK(blk_overlay_write(&o, 9, 1, buf) == 0, "write after reset");
	CHECK(blk_overlay_read(&o, 8, 2, buf + SECT) == 0 && !memcmp(buf + SECT, base + 8 * SECT, SECT) &&
	      !memcmp(buf + 2 * SECT, buf, SECT), "read-modify-write kept the neighbour sector");
	blk_overlay_destroy(&o);
	CHECK(t.live == 0, "destroy frees everything");
	free(base);
	free(ref);
	free(buf);
	free(written);
}

static void test_isolation(void)
{
	const u64 size = 2 * MIB;
	const u64 sectors = size / SECT;
	struct talloc ta, tb;
	struct blk_overlay_alloc aa = talloc_ops(&ta, UINT64_MAX), ab = talloc_ops(&tb, UINT64_MAX);
	struct blk_overlay oa, ob;
	u8 *base = malloc(size), *ra = malloc(size), *rb = malloc(size), *buf = malloc(32 * SECT);
	u64 base_sum;

	if (!base || !ra || !rb || !buf)
		abort();
	fill_random(base, size);
	memcpy(ra, base, size);
	memcpy(rb, base, size);
	base_sum = fnv1a(base, size);
	CHECK(blk_overlay_init(&oa, base, size, &aa) == 0 && blk_overlay_init(&ob, base, size, &ab) == 0,
	      "two overlays on one base");
	for (u32 op = 0; op < 4000; op++) {
		u64 sector, count;
		bool to_a = check_rand_below(2);

		rand_range(sectors, 32, &sector, &count);
		fill_random(buf, count * SECT);
		blk_overlay_write(to_a ? &oa : &ob, sector, count, buf);
		memcpy((to_a ? ra : rb) + sector * SECT, buf, count * SECT);
	}
	CHECK(same_as(&oa, ra, size), "overlay A sees only its own writes");
	CHECK(same_as(&ob, rb, size), "overlay B sees only its own writes");
	CHECK(fnv1a(base, size) == base_sum, "base byte-identical after both");
	blk_overlay_reset(&oa);
	CHECK(same_as(&oa, base, size) && same_as(&ob, rb, size), "resetting A leaves B alone");
	blk_overlay_destroy(&oa);
	blk_overlay_destroy(&ob);
	CHECK(ta.live == 0 && tb.live == 0, "both freed");
	free(base);
	free(ra);
	free(rb);
	free(buf);
}

static void test_errors(void)
{
	static u8 base[16 * BLK];
	static u8 buf[16 * BLK];
	struct talloc t;
	struct blk_overlay_alloc a = talloc_ops(&t, UINT64_MAX);
	struct blk_overlay o;
	const u64 sectors = sizeof(base) / SECT;

	memset(base, 0x11, sizeof(base));
	CHECK(blk_overlay_init(&o, base, sizeof(base), &a) == 0, "init");
	memset(buf, 0x77, sizeof(buf));
	CHECK(blk_overlay_read(&o, sectors, 1, buf) == -CG_ERANGE, "read past the end");
	CHECK(buf[0] == 0x77, "refused read leaves dst");
	CHECK(blk_overlay_read(&o, sectors - 1, 2, buf) == -CG_ERANGE, "read straddling the end");
	CHECK(blk_overlay_read(&o, 1, UINT64_MAX, buf) == -CG_ERANGE, "count overflow");
	CHECK(blk_overlay_read(&o, UINT64_MAX, 1, buf) == -CG_ERANGE, "sector overflow");
	CHECK(blk_overlay_read(&o, sectors, 0, buf) == 0, "empty read at the end");
	CHECK(blk_overlay_read(&o, sectors - 1, 1, buf) == 0 && buf[0] == 0x11, "last sector");
	CHECK(blk_overlay_write(&o, sectors, 1, buf) == -CG_ERANGE, "write past the end");
	CHECK(blk_overlay_write(&o, UINT64_MAX / SECT, 2, buf) == -CG_ERANGE, "write overflow");
	CHECK(blk_overlay_write(&o, 0, 0, buf) == 0 && t.live == 1, "empty write allocates nothing");
	CHECK(t.live == 1, "refused writes allocate nothing");
	blk_overlay_destroy(&o);
}

/* Exhaustion: a write needing more pages than remain fails whole, leaving
 * contents, stats and held pages as they were; with one more page it
 * succeeds. */
static void test_exhaustion(void)
{
	const u64 size = 4 * MIB;
	struct talloc t;
	struct blk_overlay_alloc a = talloc_ops(&t, 1 + 1 + 4);
	struct blk_overlay o;
	struct blk_overlay_stats before, after;
	u8 *base = malloc(size), *ref = malloc(size), *buf = malloc(64 * SECT);

	if (!base || !ref || !buf)
		abort();
	fill_random(base, size);
	memcpy(ref, base, size);
	CHECK(blk_overlay_init(&o, base, size, &a) == 0, "init");
	fill_random(buf, 64 * SECT);
	/* 4 blocks + 1 index page fit the budget of 5 left. */
	CHECK(blk_overlay_write(&o, 1, 8 * 3 + 6, buf) == 0, "write of 4 partial blocks");
	memcpy(ref + SECT, buf, (8 * 3 + 6) * SECT);
	CHECK(t.budget == 0, "budget used up");
	blk_overlay_get_stats(&o, &before);
	u64 live = t.live;

	/* Spans an old block and a new one: needs 1 page, has none. */
	fill_random(buf, 64 * SECT);
	CHECK(blk_overlay_write(&o, 28, 8, buf) == -CG_ENOMEM, "ENOMEM for one new block");
	/* Blocks 511 and 512, the latter in the second index page: needs 3
	 * (block 511, index page 1, block 512). */
	CHECK(blk_overlay_write(&o, 4094, 4, buf) == -CG_ENOMEM, "ENOMEM across index pages");
	blk_overlay_get_stats(&o, &after);
	CHECK(!memcmp(&before, &after, sizeof(before)) && t.live == live, "no state change");
	CHECK(same_as(&o, ref, size), "contents unchanged after ENOMEM");
	/* Rewriting only blocks already held needs nothing. */
	CHECK(blk_overlay_write(&o, 3, 9, buf) == 0, "rewrite of held blocks without memory");
	memcpy(ref + 3 * SECT, buf, 9 * SECT);
	/* With a partial budget (2 of the 3 needed) still nothing changes. */
	t.budget = 2;
	CHECK(blk_overlay_write(&o, 4094, 4, buf) == -CG_ENOMEM && t.live == live &&
	      t.budget == 2, "partial reserve handed back");
	CHECK(same_as(&o, ref, size), "contents unchanged after a partial reserve");
	t.budget = 3;
	CHECK(blk_overlay_write(&o, 4094, 4, buf) == 0, "succeeds with enough pages");
	memcpy(ref + 4094 * SECT, buf, 4 * SECT);
	CHECK(same_as(&o, ref, size), "contents after the successful write");
	blk_overlay_destroy(&o);
	CHECK(t.live == 0, "all freed");
	free(base);
	free(ref);
	free(buf);
}

/* A 2 GiB + 512 B disk: 1025 index pages' worth, so the directory takes
 * three pages (512 entries each), the last for the one short block. The base is a
 * read-only anonymous mapping, so the untouched gigabytes cost nothing and
 * any write to the base would fault. */
static void test_large(void)
{
	const u64 size = 2 * GIB + SECT;
	const u64 sectors = size / SECT;
	struct talloc t;
	struct blk_overlay_alloc a = talloc_ops(&t, UINT64_MAX);
	struct blk_overlay o;
	struct blk_overlay_stats st;
	u8 buf[2 * SECT], out[3 * SECT];
	void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED) {
		printf("skip: test_large (mmap of 2 GiB failed)\n");
		return;
	}
	CHECK(blk_overlay_init(&o, base, size, &a) == 0, "init 2 GiB + 512");
	blk_overlay_get_stats(&o, &st);
	CHECK(st.dir_pages == 3 && t.live == 3, "three directory pages");
	memset(buf, 0xab, sizeof(buf));
	CHECK(blk_overlay_write(&o, sectors - 1, 1, buf) == 0, "write the last sector");
	CHECK(blk_overlay_write(&o, (1ull << 30) / SECT - 1, 2, buf) == 0, "write across 1 GiB");
	CHECK(blk_overlay_read(&o, sectors - 2, 2, out) == 0 && out[0] == 0 && out[SECT] == 0xab,
	      "read back the last sector");
	CHECK(blk_overlay_read(&o, (1ull << 30) / SECT - 2, 3, out) == 0 && out[0] == 0 &&
	      out[SECT] == 0xab && out[2 * SECT + 511] == 0xab, "read back across 1 GiB");
	blk_overlay_get_stats(&o, &st);
	CHECK(st.data_blocks == 3 && st.index_pages == 3, "three blocks in three index pages");
	blk_overlay_destroy(&o);
	CHECK(t.live == 0, "freed");
	munmap(base, size);
}

/* Quotas: the default lets the whole disk be rewritten and not a page
 * more; a small quota refuses the write that would pass it with nothing
 * changed (no allocation, old data intact), rewrites of held blocks still
 * pass, scattered writes pay their index pages, and a reset frees it all
 * so the quota is whole again. */
static void test_quota(void)
{
	const u64 size = 4 * MIB + 2 * SECT; /* 1025 blocks, 3 index pages */
	const u64 sectors = size / SECT;
	struct talloc t;
	struct blk_overlay_alloc a = talloc_ops(&t, UINT64_MAX);
	struct blk_overlay o;
	struct blk_overlay_stats st;
	u8 *base = calloc(1, size), *buf = malloc(16 * BLK), out[BLK];
	u64 calls;

	CHECK(blk_overlay_full_pages(size) == 1025 + 3, "full cost: blocks and index pages");
	CHECK(blk_overlay_full_pages(4096) == 2 && blk_overlay_full_pages(512) == 2,
	      "full cost of a one-block disk");
	CHECK(blk_overlay_init(&o, base, size, &a) == 0, "init");
	blk_overlay_get_stats(&o, &st);
	CHECK(st.quota_pages == 1028, "default quota: the whole disk");
	memset(buf, 0x5a, 16 * BLK);
	for (u64 s = 0; s < sectors; s += 8) {
		u64 n = sectors - s < 8 ? sectors - s : 8;

		if (blk_overlay_write(&o, s, n, buf)) {
			CHECK(0, "every block of the disk fits the default quota");
			break;
		}
	}
	blk_overlay_get_stats(&o, &st);
	CHECK(st.data_blocks == 1025 && st.index_pages == 3, "whole disk written");
	blk_overlay_set_quota(&o, 1u << 30);
	blk_overlay_get_stats(&o, &st);
	CHECK(st.quota_pages == 1028, "a quota above the full cost is the full cost");
	blk_overlay_destroy(&o);

	/* 6 pages: one index page and five blocks. */
	CHECK(blk_overlay_init(&o, base, size, &a) == 0, "init");
	blk_overlay_set_quota(&o, 6);
	CHECK(blk_overlay_write(&o, 0, 4 * 8, buf) == 0, "4 blocks + index: 5 of 6");
	calls = t.calls;
	CHECK(blk_overlay_write(&o, 4 * 8, 2 * 8, buf) == -CG_EDQUOT, "2 more blocks: over");
	CHECK(t.calls == calls, "refused before any allocation");
	CHECK(blk_overlay_read(&o, 4 * 8, 8, out) == 0 && out[0] == 0, "nothing of it written");
	CHECK(blk_overlay_write(&o, 0, 4 * 8, buf + BLK) == 0, "rewriting held blocks passes");
	CHECK(blk_overlay_write(&o, 4 * 8, 8, buf) == 0, "the sixth page");
	CHECK(blk_overlay_write(&o, 5 * 8, 1, buf) == -CG_EDQUOT, "full: one sector more refused");
	blk_overlay_get_stats(&o, &st);
	CHECK(st.data_blocks + st.index_pages == 6 && t.live == 6 + st.dir_pages, "held == quota");
	/* Scattered: a block in another index page costs two pages. */
	blk_overlay_reset(&o);
	CHECK(t.live == o.dir_pages, "reset frees every block");
	CHECK(blk_overlay_write(&o, 0, 1, buf) == 0 && blk_overlay_write(&o, 512 * 8, 1, buf) == 0 &&
	      blk_overlay_write(&o, 1024 * 8, 1, buf) == 0, "three blocks, three index pages: 6");
	CHECK(blk_overlay_write(&o, 8, 1, buf) == -CG_EDQUOT, "then nothing more");
	blk_overlay_set_quota(&o, 2);
	CHECK(blk_overlay_write(&o, 0, 1, buf) == 0, "a lowered quota keeps what is held");
	blk_overlay_destroy(&o);
	CHECK(t.live == 0, "all freed");
	free(base);
	free(buf);
}

int main(void)
{
	test_quota();
	test_init();
	test_random();
	test_isolation();
	test_errors();
	test_exhaustion();
	test_large();
	return check_summary();
}
