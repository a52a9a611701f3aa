/* virtq: split rings built by hand in a fake guest RAM of two separate heap
 * regions (so a parser that strays past either trips AddressSanitizer):
 * direct, indirect and mixed chains, push and the used ring, index
 * wraparound across 65535, notification decisions against a brute-force
 * reference, every adversarial shape virtq_pop must refuse, the chain copy
 * helpers, virtio-blk request parsing, and a fixed-seed fuzz over random
 * rings. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/virtq.h"

/* Guest RAM: two regions with a hole between and around them. */
#define R0_BASE 0x10000ull
#define R0_SIZE 0x10000ull
#define R1_BASE 0x40000ull
#define R1_SIZE 0x10000ull
/* A huge "region" that maps to a dummy byte, for lengths no heap holds.
 * Only virtq_pop's range checks see it: it never dereferences buffers. */
#define BIG_BASE (1ull << 40)
#define BIG_SIZE (8ull << 30)

static u8 *r0, *r1;
static bool big_on;
static u8 big_dummy[16];
static unsigned long bad_map_calls; /* len 0 or wrapping: vmap must filter */

static bool in_region(u64 gpa, u64 len, u64 base, u64 size)
{
	return gpa >= base && gpa - base <= size && len <= size - (gpa - base);
}

static bool in_ram(u64 gpa, u64 len)
{
	return in_region(gpa, len, R0_BASE, R0_SIZE) || in_region(gpa, len, R1_BASE, R1_SIZE);
}

static void *gmap(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (!len || gpa + len < gpa)
		bad_map_calls++;
	if (in_region(gpa, len, R0_BASE, R0_SIZE))
		return r0 + (gpa - R0_BASE);
	if (in_region(gpa, len, R1_BASE, R1_SIZE))
		return r1 + (gpa - R1_BASE);
	if (big_on && in_region(gpa, len, BIG_BASE, BIG_SIZE))
		return big_dummy;
	return NULL;
}

static const struct virtq_mem mem = { gmap, NULL };

/* Host pointer for a test-chosen guest range; aborts outside RAM. */
static u8 *at(u64 gpa, u64 len)
{
	u8 *p = gmap(NULL, gpa, len);

	if (!p || p == big_dummy)
		abort();
	return p;
}

/* Store into guest memory only where it is RAM (for fuzzed layouts). */
static void poke(u64 gpa, const void *v, u64 len)
{
	if (in_ram(gpa, len))
		memcpy(at(gpa, len), v, len);
}

static void put16(u64 gpa, u16 v) { memcpy(at(gpa, 2), &v, 2); }
static u16 get16(u64 gpa) { u16 v; memcpy(&v, at(gpa, 2), 2); return v; }
static u32 get32(u64 gpa) { u32 v; memcpy(&v, at(gpa, 4), 4); return v; }

static void desc_put(u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	u8 d[16];

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	memcpy(at(table + 16ull * i, 16), d, 16);
}

/* The standard test queue: rings in region 0, buffers in region 1. */
#define DESC (R0_BASE)
#define AVAIL (R0_BASE + 0x8000)
#define USED (R0_BASE + 0xA000)
#define BUF (R1_BASE)
#define ITAB (R1_BASE + 0x8000) /* indirect tables */

struct tq {
	struct virtq q;
	u32 size;
};

static void tq_setup(struct tq *t, u32 size, u32 flags)
{
	memset(r0, 0, R0_SIZE);
	memset(r1, 0, R1_SIZE);
	t->size = size;
	if (virtq_init(&t->q, size, DESC, AVAIL, USED, flags))
		abort();
}

static void avail_add(struct tq *t, u16 head)
{
	u16 idx = get16(AVAIL + 2);

	put16(AVAIL + 4 + 2u * (idx & (t->size - 1)), head);
	put16(AVAIL + 2, idx + 1);
}

/* Start both rings and the device at index start (wraparound tests). */
static void tq_start_at(struct tq *t, u16 start)
{
	put16(AVAIL + 2, start);
	put16(USED + 2, start);
	t->q.last_avail_idx = start;
	t->q.used_idx = start;
}

static int pop1(struct tq *t, struct virtq_chain *c)
{
	return virtq_pop(&t->q, &mem, c);
}

static bool seg_is(const struct virtq_chain *c, u32 i, u64 gpa, u32 len, bool write)
{
	return i < c->nsegs && c->segs[i].gpa == gpa && c->segs[i].len == len &&
	       c->segs[i].write == write;
}

static void test_init(void)
{
	struct virtq q;

	CHECK(virtq_init(&q, 0, DESC, AVAIL, USED, 0) == -CG_EINVAL, "size 0");
	CHECK(q.size == 0, "failed init leaves the queue disabled");
	CHECK(virtq_init(&q, 3, DESC, AVAIL, USED, 0) == -CG_EINVAL, "size not a power of 2");
	CHECK(virtq_init(&q, 65536, DESC, AVAIL, USED, 0) == -CG_EINVAL, "size above 32768");
	CHECK(virtq_init(&q, 32768, DESC, AVAIL, USED, 0) == 0, "size 32768");
	CHECK(virtq_init(&q, 1, DESC, AVAIL, USED, 0) == 0, "size 1");
	CHECK(virtq_init(&q, 8, DESC + 8, AVAIL, USED, 0) == -CG_EINVAL, "desc not 16-aligned");
	CHECK(virtq_init(&q, 8, DESC, AVAIL + 1, USED, 0) == -CG_EINVAL, "avail not 2-aligned");
	CHECK(virtq_init(&q, 8, DESC, AVAIL, USED + 2, 0) == -CG_EINVAL, "used not 4-aligned");
	CHECK(virtq_init(&q, 8, DESC, AVAIL, USED, 1u << 7) == -CG_EINVAL, "unknown flag");
	CHECK(virtq_init(&q, 8, DESC, AVAIL, USED, VIRTQ_EVENT_IDX | VIRTQ_INDIRECT |
					VIRTQ_ANY_ORDER) == 0, "all flags");
	virtq_reset(&q);
	CHECK(q.size == 0 && q.last_avail_idx == 0 && q.used_idx == 0, "reset clears");
}

static void test_empty_and_disabled(void)
{
	struct tq t;
	struct virtq_chain c;
	struct virtq q;

	tq_setup(&t, 8, 0);
	CHECK(pop1(&t, &c) == 0, "empty ring pops nothing");
	virtq_reset(&q);
	CHECK(virtq_pop(&q, &mem, &c) == 0, "disabled queue pops nothing");
	CHECK(virtq_push(&q, &mem, 0, 0) == -CG_EINVAL, "disabled queue refuses push");
	CHECK(!virtq_should_notify(&q, &mem, 5), "disabled queue never notifies");
}

static void test_direct(void)
{
	struct tq t;
	struct virtq_chain c;

	tq_setup(&t, 8, 0);
	desc_put(DESC, 5, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	desc_put(DESC, 2, BUF + 0x100, 512, VIRTQ_DESC_F_NEXT, 7);
	desc_put(DESC, 7, BUF + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&t, 5);
	CHECK(pop1(&t, &c) == 1, "direct chain pops");
	CHECK(c.head == 5 && c.nsegs == 3, "head and segment count");
	CHECK(seg_is(&c, 0, BUF, 16, false) && seg_is(&c, 1, BUF + 0x100, 512, false) &&
	      seg_is(&c, 2, BUF + 0x400, 1, true), "segments in chain order");
	CHECK(c.read_len == 528 && c.write_len == 1, "stream lengths");
	CHECK(t.q.last_avail_idx == 1, "last_avail_idx advanced");
	CHECK(pop1(&t, &c) == 0, "then empty");

	CHECK(virtq_push(&t.q, &mem, 5, 1) == 0, "push");
	CHECK(get16(USED + 2) == 1 && t.q.used_idx == 1, "used idx published");
	CHECK(get32(USED + 4) == 5 && get32(USED + 8) == 1, "used element id and len");
	CHECK(virtq_push(&t.q, &mem, 8, 0) == -CG_EINVAL, "push head >= size");
	CHECK(get16(USED + 2) == 1, "refused push writes nothing");

	/* A zero-length descriptor is walked but carries no segment. */
	desc_put(DESC, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 1);
	desc_put(DESC, 1, BUF + 0x10, 4, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 1 && seg_is(&c, 0, BUF + 0x10, 4, true),
	      "zero-length descriptor left out");
	/* A lone zero-length descriptor: an empty chain, still a chain. */
	desc_put(DESC, 3, 0xdead0000, 0, 0, 0);
	avail_add(&t, 3);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 0 && c.head == 3, "empty chain, any address");

	/* A buffer ending exactly at the end of a region is fine. */
	desc_put(DESC, 4, R1_BASE + R1_SIZE - 8, 8, 0, 0);
	avail_add(&t, 4);
	CHECK(pop1(&t, &c) == 1 && seg_is(&c, 0, R1_BASE + R1_SIZE - 8, 8, false),
	      "buffer ending at region end");
}

static void test_indirect(void)
{
	struct tq t;
	struct virtq_chain c;

	tq_setup(&t, 4, VIRTQ_INDIRECT);
	desc_put(ITAB, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_put(ITAB, 1, BUF + 0x200, 4096, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc_put(ITAB, 2, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	/* WRITE on the indirect descriptor itself is ignored (2.7.5.3.2). */
	desc_put(DESC, 3, ITAB, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	avail_add(&t, 3);
	CHECK(pop1(&t, &c) == 1, "indirect chain pops");
	CHECK(c.head == 3 && c.nsegs == 3, "indirect head and count");
	CHECK(seg_is(&c, 0, BUF, 16, false) && seg_is(&c, 1, BUF + 0x200, 4096, true) &&
	      seg_is(&c, 2, BUF + 0x2000, 1, true), "indirect segments");
	CHECK(c.read_len == 16 && c.write_len == 4097, "indirect stream lengths");

	/* Indirect next may point anywhere in the table, out of order. */
	desc_put(ITAB + 0x100, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 3);
	desc_put(ITAB + 0x100, 3, BUF + 8, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_put(ITAB + 0x100, 1, BUF + 16, 8, 0, 0);
	desc_put(DESC, 0, ITAB + 0x100, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 3 && seg_is(&c, 2, BUF + 16, 8, false),
	      "indirect out-of-order next");

	/* Mixed: two direct descriptors, then an indirect one (2.7.5.3.2). */
	desc_put(DESC, 1, BUF + 0x3000, 16, VIRTQ_DESC_F_NEXT, 2);
	desc_put(DESC, 2, BUF + 0x3100, 512, VIRTQ_DESC_F_NEXT, 0);
	desc_put(DESC, 0, ITAB + 0x200, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc_put(ITAB + 0x200, 0, BUF + 0x3400, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc_put(ITAB + 0x200, 1, BUF + 0x3800, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&t, 1);
	CHECK(pop1(&t, &c) == 1, "mixed chain pops");
	CHECK(c.head == 1 && c.nsegs == 4 && seg_is(&c, 0, BUF + 0x3000, 16, false) &&
	      seg_is(&c, 1, BUF + 0x3100, 512, false) &&
	      seg_is(&c, 2, BUF + 0x3400, 512, true) && seg_is(&c, 3, BUF + 0x3800, 1, true),
	      "mixed segments");
	/* Misaligned by 8 only: allowed (kmalloc may give 8-aligned tables). */
	desc_put(ITAB + 0x308, 0, BUF, 8, 0, 0);
	desc_put(DESC, 2, ITAB + 0x308, 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&t, 2);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 1, "8-aligned indirect table");
}

/* Each case: a fresh queue of size 8, the driver's descriptors, one chain
 * at head 0 made available; pop must give err and not advance. */
static void expect_pop_err(struct tq *t, int err, const char *msg)
{
	struct virtq_chain c;
	u16 before = t->q.last_avail_idx;

	avail_add(t, 0);
	CHECK(pop1(t, &c) == err, msg);
	CHECK(t->q.last_avail_idx == before, "error does not advance");
}

static void test_adversarial(void)
{
	struct tq t;
	struct virtq_chain c;
	u32 i;

	/* Loops. */
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	expect_pop_err(&t, -CG_EINVAL, "self loop");
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_put(DESC, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	expect_pop_err(&t, -CG_EINVAL, "two-cycle");
	tq_setup(&t, 8, 0);
	for (i = 0; i < 8; i++)
		desc_put(DESC, i, BUF, 8, VIRTQ_DESC_F_NEXT, (u16)((i + 3) & 7));
	expect_pop_err(&t, -CG_EINVAL, "cycle through the whole table");
	tq_setup(&t, 8, 0);
	for (i = 0; i < 8; i++)
		desc_put(DESC, i, BUF, 8, VIRTQ_DESC_F_NEXT, (u16)(i == 7 ? 4 : i + 1));
	expect_pop_err(&t, -CG_EINVAL, "tail loop after a straight run");
	/* Empty descriptors add no segment, so only the walk bound stops these. */
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 0);
	expect_pop_err(&t, -CG_EINVAL, "self loop of an empty descriptor");
	tq_setup(&t, 8, VIRTQ_INDIRECT);
	desc_put(ITAB, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 1);
	desc_put(ITAB, 1, BUF, 0, VIRTQ_DESC_F_NEXT, 0);
	desc_put(DESC, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_pop_err(&t, -CG_EINVAL, "empty-descriptor loop in an indirect table");
	/* The longest legal chain: every descriptor once. */
	tq_setup(&t, 8, 0);
	for (i = 0; i < 8; i++)
		desc_put(DESC, i, BUF, 8, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (u16)(i + 1));
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 8, "chain as long as the queue");

	/* Bad indices. */
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 8);
	expect_pop_err(&t, -CG_EINVAL, "next == size");
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 0xffff);
	expect_pop_err(&t, -CG_EINVAL, "next 0xffff");
	tq_setup(&t, 8, 0);
	put16(AVAIL + 4, 8);
	put16(AVAIL + 2, 1);
	CHECK(pop1(&t, &c) == -CG_EINVAL, "head >= size");
	tq_setup(&t, 8, 0);
	put16(AVAIL + 2, 9);
	CHECK(pop1(&t, &c) == -CG_EINVAL, "avail idx more than size ahead");
	put16(AVAIL + 2, 8);
	desc_put(DESC, 0, BUF, 8, 0, 0);
	CHECK(pop1(&t, &c) == 1, "avail idx exactly size ahead");

	/* Oversized chains: more segments than VIRTQ_MAX_SEGS (a queue larger
	 * than that, so the walk bound is not what stops it). */
	tq_setup(&t, 2 * VIRTQ_MAX_SEGS, 0);
	for (i = 0; i < VIRTQ_MAX_SEGS + 1; i++)
		desc_put(DESC, i, BUF + 8 * i, 8, i < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
			 (u16)(i + 1));
	expect_pop_err(&t, -CG_EINVAL, "VIRTQ_MAX_SEGS + 1 segments");
	desc_put(DESC, VIRTQ_MAX_SEGS - 1, BUF, 8, 0, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == VIRTQ_MAX_SEGS, "VIRTQ_MAX_SEGS segments");
	/* An indirect table may be longer than the queue, but one chain's
	 * walk is capped at max(size, VIRTQ_MAX_SEGS) descriptors in all, so
	 * a table of empty descriptors costs a bounded number of loads. */
	tq_setup(&t, 8, VIRTQ_INDIRECT);
	for (i = 0; i < 2048; i++)
		desc_put(ITAB, i, BUF, 0, i < 2047 ? VIRTQ_DESC_F_NEXT : 0, (u16)(i + 1));
	desc_put(DESC, 0, ITAB, 2048 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_pop_err(&t, -CG_EINVAL, "indirect run of 2048 empty descriptors");
	desc_put(ITAB, VIRTQ_MAX_SEGS - 2, BUF, 8, 0, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 1, "indirect walk of exactly VIRTQ_MAX_SEGS");
	/* Total length past 2^32 - 1. */
	big_on = true;
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BIG_BASE, 0xffffffffu, VIRTQ_DESC_F_NEXT, 1);
	desc_put(DESC, 1, BIG_BASE, 1, 0, 0);
	expect_pop_err(&t, -CG_EINVAL, "chain longer than 2^32 - 1 bytes");
	desc_put(DESC, 1, BIG_BASE, 0, 0, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.read_len == 0xffffffffu, "chain of 2^32 - 1 bytes");
	big_on = false;

	/* Order: a readable descriptor after a writable one. */
	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	desc_put(DESC, 1, BUF, 8, 0, 0);
	expect_pop_err(&t, -CG_EINVAL, "read after write");
	t.q.flags |= VIRTQ_ANY_ORDER;
	CHECK(pop1(&t, &c) == 1 && c.write_len == 8 && c.read_len == 8,
	      "read after write with VIRTQ_ANY_ORDER");

	/* Rings outside guest RAM. */
	tq_setup(&t, 8, 0);
	CHECK(virtq_init(&t.q, 8, DESC, R0_BASE + R0_SIZE - 8, USED, 0) == 0, "init");
	CHECK(pop1(&t, &c) == -CG_ERANGE, "avail ring crosses the end of RAM");
	CHECK(virtq_init(&t.q, 8, 0x2000000, AVAIL, USED, 0) == 0, "init");
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == -CG_ERANGE, "descriptor table outside RAM");
	CHECK(virtq_init(&t.q, 8, R0_BASE + R0_SIZE - 64, AVAIL, USED, 0) == 0, "init");
	CHECK(pop1(&t, &c) == -CG_ERANGE, "descriptor table crosses the end of RAM");
	CHECK(virtq_init(&t.q, 8, DESC, AVAIL, 0x30000, 0) == 0, "init");
	CHECK(virtq_push(&t.q, &mem, 0, 0) == -CG_ERANGE, "used ring in the hole");
	CHECK(virtq_init(&t.q, 8, DESC, AVAIL, R0_BASE + R0_SIZE - 64, 0) == 0, "init");
	CHECK(virtq_push(&t.q, &mem, 0, 0) == -CG_ERANGE, "used ring crosses the end");
	CHECK(t.q.used_idx == 0, "refused push leaves used_idx");
	CHECK(virtq_init(&t.q, 8, DESC, UINT64_MAX - 1, USED, 0) == 0, "init");
	CHECK(pop1(&t, &c) == -CG_ERANGE, "avail ring wraps the address space");
	/* With EVENT_IDX the used ring also holds avail_event: size+1 slots. */
	CHECK(virtq_init(&t.q, 8, DESC, AVAIL, R0_BASE + R0_SIZE - 4 - 64, VIRTQ_EVENT_IDX) == 0,
	      "init");
	CHECK(virtq_push(&t.q, &mem, 0, 0) == 0, "used ring ends exactly at RAM end");
	virtq_set_avail_event(&t.q, &mem); /* avail_event lies outside: ignored */
	CHECK(virtq_should_notify(&t.q, &mem, 0), "notify: used_event 0 crossed");

	/* Buffers outside guest RAM. */
	static const struct {
		u64 addr;
		u32 len;
		const char *what;
	} bufs[] = {
		{ 0, 8, "buffer at 0" },
		{ R0_BASE - 8, 8, "buffer just below RAM" },
		{ R0_BASE - 4, 8, "buffer straddling RAM start" },
		{ R0_BASE + R0_SIZE - 4, 8, "buffer straddling region end" },
		{ R0_BASE + R0_SIZE, 1, "buffer in the hole" },
		{ R0_BASE + 0x100, (u32)R0_SIZE, "buffer longer than its region" },
		{ R1_BASE - 1, 2, "buffer straddling a region start" },
		{ R1_BASE + R1_SIZE, 1, "buffer just past the last region" },
		{ UINT64_MAX - 3, 8, "buffer wrapping the address space" },
		{ UINT64_MAX, 1, "buffer at the last address" },
	};
	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		tq_setup(&t, 8, 0);
		desc_put(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
		desc_put(DESC, 1, bufs[i].addr, bufs[i].len, VIRTQ_DESC_F_WRITE, 0);
		expect_pop_err(&t, -CG_ERANGE, bufs[i].what);
	}
	/* The same inside an indirect table. */
	tq_setup(&t, 8, VIRTQ_INDIRECT);
	desc_put(ITAB, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_put(ITAB, 1, R1_BASE + R1_SIZE - 1, 2, VIRTQ_DESC_F_WRITE, 0);
	desc_put(DESC, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_pop_err(&t, -CG_ERANGE, "indirect entry outside RAM");

	/* Indirect tables. */
	struct {
		u64 addr;
		u32 len;
		u16 flags;
		u32 qflags;
		int err;
		const char *what;
	} ind[] = {
		{ ITAB, 0, 0, VIRTQ_INDIRECT, -CG_EINVAL, "indirect length 0" },
		{ ITAB, 24, 0, VIRTQ_INDIRECT, -CG_EINVAL, "indirect length not 16n" },
		{ ITAB, 15, 0, VIRTQ_INDIRECT, -CG_EINVAL, "indirect length 15" },
		{ ITAB + 4, 16, 0, VIRTQ_INDIRECT, -CG_EINVAL, "indirect table 4-aligned" },
		{ ITAB + 1, 16, 0, VIRTQ_INDIRECT, -CG_EINVAL, "indirect table odd address" },
		{ ITAB, 16 * (VIRTQ_MAX_SIZE + 1), 0, VIRTQ_INDIRECT, -CG_EINVAL,
		  "indirect table over 32768 entries" },
		{ ITAB, 16, VIRTQ_DESC_F_NEXT, VIRTQ_INDIRECT, -CG_EINVAL, "indirect with NEXT" },
		{ ITAB, 16, 0, 0, -CG_EINVAL, "indirect not negotiated" },
		{ 0x30000, 16, 0, VIRTQ_INDIRECT, -CG_ERANGE, "indirect table in the hole" },
		{ R1_BASE + R1_SIZE - 16, 32, 0, VIRTQ_INDIRECT, -CG_ERANGE,
		  "indirect table crossing the end" },
	};
	for (i = 0; i < ARRAY_SIZE(ind); i++) {
		tq_setup(&t, 8, ind[i].qflags);
		desc_put(ITAB, 0, BUF + 0x100, 8, 0, 0);
		desc_put(DESC, 0, ind[i].addr, ind[i].len,
			 VIRTQ_DESC_F_INDIRECT | ind[i].flags, 1);
		desc_put(DESC, 1, BUF, 8, 0, 0);
		expect_pop_err(&t, ind[i].err, ind[i].what);
	}
	tq_setup(&t, 8, VIRTQ_INDIRECT);
	desc_put(ITAB + 0x100, 0, BUF, 8, 0, 0);
	desc_put(ITAB, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_put(ITAB, 1, ITAB + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_put(DESC, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_pop_err(&t, -CG_EINVAL, "nested indirect");
	tq_setup(&t, 8, VIRTQ_INDIRECT);
	desc_put(ITAB, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_put(ITAB, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	desc_put(DESC, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_pop_err(&t, -CG_EINVAL, "loop inside an indirect table");
	tq_setup(&t, 8, VIRTQ_INDIRECT);
	desc_put(ITAB, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	desc_put(DESC, 0, ITAB, 32, VIRTQ_DESC_F_INDIRECT, 0);
	expect_pop_err(&t, -CG_EINVAL, "indirect next >= table entries");
	/* An indirect table larger than the queue is fine (Linux does that). */
	tq_setup(&t, 2, VIRTQ_INDIRECT);
	for (i = 0; i < 40; i++)
		desc_put(ITAB, i, BUF + 16 * i, 16, i < 39 ? VIRTQ_DESC_F_NEXT : 0, (u16)(i + 1));
	desc_put(DESC, 0, ITAB, 16 * 40, VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.nsegs == 40, "indirect table of 40 on a queue of 2");
}

/* 300 chains through a queue of 8 starting at 65530: ring slots and both
 * indices wrap, the used ring shows each head and length in order. */
static void test_wraparound(void)
{
	struct tq t;
	struct virtq_chain c;
	unsigned ok_pop = 0, ok_used = 0;
	u16 start = 65530;

	tq_setup(&t, 8, VIRTQ_EVENT_IDX);
	tq_start_at(&t, start);
	for (u32 n = 0; n < 300; n++) {
		u16 head = (u16)(n * 3 & 7);
		u16 slot = (u16)(start + n) & 7;

		desc_put(DESC, head, BUF + 16 * head, 16 + head, 0, 0);
		avail_add(&t, head);
		if (pop1(&t, &c) == 1 && c.head == head && c.read_len == 16u + head)
			ok_pop++;
		if (virtq_push(&t.q, &mem, c.head, n) == 0 &&
		    get16(USED + 2) == (u16)(start + n + 1) &&
		    get32(USED + 4 + 8u * slot) == head && get32(USED + 8 + 8u * slot) == n)
			ok_used++;
	}
	CHECK(ok_pop == 300, "pops across the 65535 wrap");
	CHECK(ok_used == 300, "used ring across the 65535 wrap");
	CHECK(t.q.last_avail_idx == (u16)(start + 300) && t.q.used_idx == (u16)(start + 300),
	      "indices wrapped");
	/* A full ring exactly at the wrap: 8 outstanding, idx 65535 -> 7. */
	tq_setup(&t, 8, 0);
	tq_start_at(&t, 65535);
	for (u16 h = 0; h < 8; h++) {
		desc_put(DESC, h, BUF, 8, 0, 0);
		avail_add(&t, h);
	}
	unsigned got = 0;
	for (u16 h = 0; h < 8; h++)
		got += pop1(&t, &c) == 1 && c.head == h;
	CHECK(got == 8 && pop1(&t, &c) == 0, "full ring across the wrap");
}

/* Reference for VIRTIO_F_EVENT_IDX: notify iff, counting from old up to
 * (but not including) new modulo 2^16, one step hits used_event. */
static bool ref_need_event(u16 event, u16 now, u16 old)
{
	u16 steps = (u16)(now - old);

	for (u32 k = 0; k < steps; k++)
		if ((u16)(old + k) == event)
			return true;
	return false;
}

static void test_notify(void)
{
	struct tq t;
	unsigned mismatches = 0, notified = 0, cases = 0;
	u64 used_event_gpa = AVAIL + 4 + 2 * 8;

	tq_setup(&t, 8, VIRTQ_EVENT_IDX);
	/* Exhaustive over event for a few (old, count) pairs near the wrap. */
	static const u16 olds[] = { 0, 1, 65535, 65534, 65530, 32767, 32768 };
	static const u16 counts[] = { 0, 1, 2, 7, 300, 32768, 65535 };
	for (u32 a = 0; a < ARRAY_SIZE(olds); a++) {
		for (u32 b = 0; b < ARRAY_SIZE(counts); b++) {
			for (u32 ev = 0; ev < 65536; ev += (counts[b] > 300 ? 257 : 1)) {
				u16 old = olds[a], now = (u16)(old + counts[b]);

				put16(used_event_gpa, (u16)ev);
				t.q.used_idx = now;
				bool got = virtq_should_notify(&t.q, &mem, old);
				mismatches += got != ref_need_event((u16)ev, now, old);
				notified += got;
				cases++;
			}
		}
	}
	/* Random cases, mostly short runs of pushes. */
	for (u32 n = 0; n < 20000; n++) {
		u16 old = (u16)check_rand();
		u16 count = (u16)(check_rand_below(4) ? check_rand_below(64) : check_rand());
		u16 ev = (u16)(check_rand_below(2) ? old + check_rand_below(80) - 8 : check_rand());
		u16 now = (u16)(old + count);

		put16(used_event_gpa, ev);
		t.q.used_idx = now;
		bool got = virtq_should_notify(&t.q, &mem, old);
		mismatches += got != ref_need_event(ev, now, old);
		notified += got;
		cases++;
	}
	CHECK(mismatches == 0, "event-index decisions match the reference");
	CHECK(notified > 0 && notified < cases, "both decisions occur");

	/* Through the real path: used_event = 2, pushes 0,1 quiet, 2 notifies. */
	tq_setup(&t, 8, VIRTQ_EVENT_IDX);
	put16(used_event_gpa, 2);
	bool seq[4];
	for (u16 i = 0; i < 4; i++) {
		u16 old = t.q.used_idx;

		virtq_push(&t.q, &mem, 0, 0);
		seq[i] = virtq_should_notify(&t.q, &mem, old);
	}
	CHECK(!seq[0] && !seq[1] && seq[2] && !seq[3], "notify exactly when crossing used_event");

	/* Without EVENT_IDX: the NO_INTERRUPT flag. */
	tq_setup(&t, 8, 0);
	virtq_push(&t.q, &mem, 0, 0);
	CHECK(virtq_should_notify(&t.q, &mem, 0), "flags 0: notify");
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK(!virtq_should_notify(&t.q, &mem, 0), "NO_INTERRUPT: quiet");
	CHECK(!virtq_should_notify(&t.q, &mem, 1), "nothing pushed: quiet");
	/* Avail ring outside RAM: notify (spurious beats lost). */
	CHECK(virtq_init(&t.q, 8, DESC, 0x30000, USED, 0) == 0, "init");
	t.q.used_idx = 1;
	CHECK(virtq_should_notify(&t.q, &mem, 0), "unmapped avail ring: notify");
	CHECK(virtq_init(&t.q, 8, DESC, R0_BASE + R0_SIZE - 20, USED, VIRTQ_EVENT_IDX) == 0,
	      "init");
	t.q.used_idx = 1;
	CHECK(virtq_should_notify(&t.q, &mem, 0), "unmapped used_event: notify");

	/* avail_event follows last_avail_idx; only with EVENT_IDX. */
	tq_setup(&t, 8, VIRTQ_EVENT_IDX);
	tq_start_at(&t, 65534);
	struct virtq_chain c;
	desc_put(DESC, 0, BUF, 8, 0, 0);
	avail_add(&t, 0);
	avail_add(&t, 0);
	avail_add(&t, 0);
	pop1(&t, &c);
	pop1(&t, &c);
	virtq_set_avail_event(&t.q, &mem);
	CHECK(get16(USED + 4 + 8 * 8) == 0, "avail_event = last_avail_idx (wrapped)");
	CHECK(pop1(&t, &c) == 1, "re-check after setting avail_event finds the late chain");
	tq_setup(&t, 8, 0);
	put16(USED + 4 + 8 * 8, 0x1234);
	t.q.last_avail_idx = 5;
	virtq_set_avail_event(&t.q, &mem);
	CHECK(get16(USED + 4 + 8 * 8) == 0x1234, "no avail_event without EVENT_IDX");
}

static void test_chain_copy(void)
{
	struct tq t;
	struct virtq_chain c;
	u8 out[64], in[64];
	int i;

	tq_setup(&t, 8, 0);
	desc_put(DESC, 0, BUF + 0x10, 5, VIRTQ_DESC_F_NEXT, 1);
	desc_put(DESC, 1, BUF + 0x100, 7, VIRTQ_DESC_F_NEXT, 2);
	desc_put(DESC, 2, BUF + 0x200, 3, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	desc_put(DESC, 3, BUF + 0x300, 9, VIRTQ_DESC_F_WRITE, 0);
	for (i = 0; i < 5; i++)
		at(BUF + 0x10, 5)[i] = (u8)i;
	for (i = 0; i < 7; i++)
		at(BUF + 0x100, 7)[i] = (u8)(5 + i);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && c.read_len == 12 && c.write_len == 12, "copy chain");

	memset(out, 0xee, sizeof(out));
	CHECK(virtq_chain_read(&c, 3, out, 6) == 0, "read across segments");
	CHECK(out[0] == 3 && out[1] == 4 && out[2] == 5 && out[5] == 8 && out[6] == 0xee,
	      "read bytes");
	CHECK(virtq_chain_read(&c, 0, out, 12) == 0 && out[11] == 11, "read all");
	CHECK(virtq_chain_read(&c, 12, out, 0) == 0, "empty read at end");
	CHECK(virtq_chain_read(&c, 5, out, 8) == -CG_EINVAL, "read past read stream");
	CHECK(virtq_chain_read(&c, 13, out, 0) == -CG_EINVAL, "offset past read stream");
	CHECK(virtq_chain_read(&c, 1, out, UINT64_MAX) == -CG_EINVAL, "huge read");

	for (i = 0; i < 12; i++)
		in[i] = (u8)(0xa0 + i);
	CHECK(virtq_chain_write(&c, 1, in, 11) == 0, "write across segments");
	CHECK(at(BUF + 0x200, 3)[0] == 0 && at(BUF + 0x200, 3)[1] == 0xa0 &&
	      at(BUF + 0x200, 3)[2] == 0xa1 && at(BUF + 0x300, 9)[0] == 0xa2 &&
	      at(BUF + 0x300, 9)[8] == 0xaa, "written bytes");
	CHECK(at(BUF + 0x10, 5)[0] == 0, "write stream skips readable segments");
	CHECK(virtq_chain_write(&c, 12, in, 1) == -CG_EINVAL, "write past write stream");
}

/* Build a virtio-blk chain from parts: header (split in two when split),
 * then data of dlen bytes (writable for IN-like), then status. */
static int blk_chain(struct tq *t, u32 type, u64 sector, u32 dlen, bool data_write,
		     bool split_hdr, bool status_sep, struct virtq_chain *c)
{
	u8 hdr[16];
	u16 i = 0;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	memcpy(at(BUF, 16), hdr, 16);
	if (split_hdr) {
		desc_put(DESC, i, BUF, 5, VIRTQ_DESC_F_NEXT, (u16)(i + 1));
		i++;
		desc_put(DESC, i, BUF + 5, 11, VIRTQ_DESC_F_NEXT, (u16)(i + 1));
		i++;
	} else {
		desc_put(DESC, i, BUF, 16, VIRTQ_DESC_F_NEXT, (u16)(i + 1));
		i++;
	}
	if (status_sep) {
		if (dlen) {
			desc_put(DESC, i, BUF + 0x1000, dlen,
				 VIRTQ_DESC_F_NEXT | (data_write ? VIRTQ_DESC_F_WRITE : 0),
				 (u16)(i + 1));
			i++;
		}
		desc_put(DESC, i, BUF + 0x800, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		/* Data and status in one writable segment. */
		desc_put(DESC, i, BUF + 0x1000, dlen + 1, VIRTQ_DESC_F_WRITE, 0);
	}
	avail_add(t, 0);
	return pop1(t, c);
}

static void test_blk(void)
{
	struct tq t;
	struct virtq_chain c;
	struct blk_req r;

	tq_setup(&t, 16, 0);
	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, 7, 4096, true, false, true, &c) == 1, "IN chain");
	CHECK(virtio_blk_parse(&c, &r) == 0, "IN parses");
	CHECK(r.type == VIRTIO_BLK_T_IN && r.sector == 7 && r.offset == 7 * 512 &&
	      r.data_off == 0 && r.data_len == 4096 && r.status_off == 4096, "IN fields");

	CHECK(blk_chain(&t, VIRTIO_BLK_T_OUT, 1ull << 40, 1024, false, true, true, &c) == 1,
	      "OUT chain, split header");
	CHECK(virtio_blk_parse(&c, &r) == 0, "OUT parses");
	CHECK(r.type == VIRTIO_BLK_T_OUT && r.sector == 1ull << 40 && r.data_off == 16 &&
	      r.data_len == 1024 && r.status_off == 0, "OUT fields");

	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, 0, 512, true, false, false, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == 0 && r.data_len == 512 && r.status_off == 512,
	      "IN with status sharing the data segment");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_FLUSH, 0, 0, false, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == 0 && r.type == VIRTIO_BLK_T_FLUSH && r.data_len == 0,
	      "FLUSH");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_GET_ID, 0, 20, true, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == 0 && r.data_len == 20 && r.status_off == 20,
	      "GET_ID");
	CHECK(blk_chain(&t, 11, 0, 0, false, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == -CG_ENOTSUP && r.type == 11 && r.status_off == 0,
	      "unknown type: ENOTSUP with status_off");

	/* Malformed. */
	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, 0, 100, true, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == -CG_EINVAL, "IN data not whole sectors");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_OUT, 0, 512, true, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == -CG_EINVAL, "OUT data in the write stream");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, 0, 512, false, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == -CG_EINVAL, "IN data in the read stream");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_FLUSH, 0, 512, false, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == -CG_EINVAL, "FLUSH with data");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_GET_ID, 0, 0, true, false, true, &c) == 1 &&
	      virtio_blk_parse(&c, &r) == -CG_EINVAL, "GET_ID with no room for the id");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512, true, false, true, &c) ==
		      1 && virtio_blk_parse(&c, &r) == -CG_EINVAL, "sector * 512 overflows");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, UINT64_MAX / 512, 1024, true, false, true, &c) ==
		      1 && virtio_blk_parse(&c, &r) == -CG_EINVAL, "offset + length overflows");
	CHECK(blk_chain(&t, VIRTIO_BLK_T_IN, UINT64_MAX / 512 - 1, 512, true, false, true, &c) ==
		      1 && virtio_blk_parse(&c, &r) == 0, "last sector of the u64 space");

	/* No status: header only. */
	desc_put(DESC, 0, BUF, 16, 0, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && virtio_blk_parse(&c, &r) == -CG_EINVAL, "no status byte");
	/* Short header. */
	desc_put(DESC, 0, BUF, 12, VIRTQ_DESC_F_NEXT, 1);
	desc_put(DESC, 1, BUF + 0x800, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && virtio_blk_parse(&c, &r) == -CG_EINVAL, "short header");
	/* Status not in the last segment (needs ANY_ORDER to get that far). */
	t.q.flags |= VIRTQ_ANY_ORDER;
	desc_put(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	desc_put(DESC, 1, BUF + 0x800, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc_put(DESC, 2, BUF + 0x1000, 512, 0, 0);
	avail_add(&t, 0);
	CHECK(pop1(&t, &c) == 1 && virtio_blk_parse(&c, &r) == -CG_EINVAL,
	      "last segment not writable");
}

/* Random guest address for the fuzz: mostly inside a region, sometimes
 * near or past an edge, sometimes anywhere. */
static u64 fuzz_addr(u64 align)
{
	u64 a;

	switch (check_rand_below(8)) {
	case 0: a = check_rand(); break;
	case 1: a = R0_BASE + R0_SIZE - check_rand_below(64); break;
	case 2: a = R1_BASE + R1_SIZE - check_rand_below(64); break;
	case 3: a = R1_BASE - 32 + check_rand_below(64); break;
	case 4: case 5: a = R0_BASE + check_rand_below(R0_SIZE); break;
	default: a = R1_BASE + check_rand_below(R1_SIZE); break;
	}
	return a & ~(align - 1);
}

static u32 fuzz_len(void)
{
	switch (check_rand_below(8)) {
	case 0: return (u32)check_rand();
	case 1: return 0;
	case 2: return (u32)(check_rand_below(5) * 16);
	default: return (u32)check_rand_below(600);
	}
}

/* One random descriptor. A tame one lies in RAM, is short, and mostly
 * continues to a later entry in readable-then-writable order, so tame
 * rings yield many whole chains; a wild one is anything. */
static void fuzz_desc(u64 table, u32 i, u32 entries, bool tame)
{
	u16 flags = (u16)check_rand_below(8);
	u16 next;
	u64 addr;
	u32 len;

	if (tame) {
		flags = (u16)((check_rand_below(3) ? VIRTQ_DESC_F_NEXT : 0) |
			      (2 * i >= entries ? VIRTQ_DESC_F_WRITE : 0) |
			      (check_rand_below(16) ? 0 : VIRTQ_DESC_F_INDIRECT));
		next = (u16)(i + 1 + check_rand_below(3));
	} else {
		next = (u16)(check_rand_below(8) ? check_rand_below(entries + 1) : check_rand());
	}
	/* Indirect descriptors point at a table inside region 1 most times. */
	if ((flags & VIRTQ_DESC_F_INDIRECT) && (tame || check_rand_below(4))) {
		addr = R1_BASE + 0x8000 + 16 * check_rand_below(0x700);
		len = (u32)(16 * (1 + check_rand_below(16)));
		if (!tame && !check_rand_below(8))
			len += (u32)check_rand_below(16);
		if (!tame && !check_rand_below(8))
			addr += check_rand_below(16);
	} else if (tame) {
		len = (u32)check_rand_below(600);
		addr = R1_BASE + check_rand_below(R1_SIZE - len);
	} else {
		addr = fuzz_addr(1);
		len = fuzz_len();
	}
	u8 d[16];
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	poke(table + 16ull * i, d, 16);
}

/* ~50k random rings: pop must never crash or read outside RAM (ASan), must
 * return 0, 1, -EINVAL or -ERANGE, and a popped chain must lie in RAM. */
static void test_fuzz(void)
{
	unsigned bad_rc = 0, bad_seg = 0, bad_len = 0, bad_other = 0;
	unsigned popped = 0, einval = 0, erange = 0, empty = 0;
	struct virtq_chain c;
	struct virtq q;

	memset(r0, 0, R0_SIZE);
	memset(r1, 0, R1_SIZE);
	check_rng_state = 0x5EEDF00DCAFEull;
	for (u32 iter = 0; iter < 50000; iter++) {
		u32 size = 1u << check_rand_below(9);
		u32 flags = (u32)check_rand_below(8);
		bool tame = check_rand_below(2);
		u64 desc = fuzz_addr(16), avail = fuzz_addr(2), used = fuzz_addr(4);
		u32 i;

		if (tame) {
			/* Rings in region 0, clear of each other. */
			desc = R0_BASE;
			avail = R0_BASE + 0x8000;
			used = R0_BASE + 0xA000;
		}

		if (virtq_init(&q, size, desc, avail, used, flags)) {
			bad_other++;
			continue;
		}
		for (i = 0; i < size; i++)
			fuzz_desc(desc, i, size, tame);
		/* A few indirect tables' worth of random entries. */
		for (i = 0; i < (tame ? 64u : 8u); i++)
			fuzz_desc(R1_BASE + 0x8000, (u32)check_rand_below(0x710), 16, tame);
		u16 aidx = (u16)check_rand();
		u16 lag = (u16)(check_rand_below(16) ? check_rand_below(size + 1) : check_rand());
		poke(avail + 2, &aidx, 2);
		for (i = 0; i < size; i++) {
			u16 h = (u16)(check_rand_below(16) ? check_rand_below(size) : check_rand());
			poke(avail + 4 + 2ull * i, &h, 2);
		}
		q.last_avail_idx = (u16)(aidx - lag);
		q.used_idx = (u16)check_rand();

		for (u32 k = 0; k < 4; k++) {
			u16 old_used = q.used_idx;
			int rc = virtq_pop(&q, &mem, &c);

			if (rc == 0) {
				empty++;
				break;
			}
			if (rc == -CG_EINVAL || rc == -CG_ERANGE) {
				if (rc == -CG_EINVAL)
					einval++;
				else
					erange++;
				break;
			}
			if (rc != 1) {
				bad_rc++;
				break;
			}
			popped++;
			u64 rl = 0, wl = 0;
			if (c.nsegs > VIRTQ_MAX_SEGS || c.head >= size)
				bad_seg++;
			for (i = 0; i < c.nsegs && i < VIRTQ_MAX_SEGS; i++) {
				if (!c.segs[i].len || !in_ram(c.segs[i].gpa, c.segs[i].len))
					bad_seg++;
				*(c.segs[i].write ? &wl : &rl) += c.segs[i].len;
			}
			if (rl != c.read_len || wl != c.write_len)
				bad_len++;
			/* Exercise the copy helpers and the blk parser. */
			u8 buf[64];
			struct blk_req r;

			memset(buf, 0x5a, sizeof(buf));
			u64 off = check_rand_below(c.read_len + 2);
			u64 n = check_rand_below(sizeof(buf) + 1);
			int e = virtq_chain_read(&c, off, buf, n);
			if (e != 0 && e != -CG_EINVAL)
				bad_other++;
			if (e == 0 && off + n > c.read_len)
				bad_other++;
			off = check_rand_below(c.write_len + 2);
			e = virtq_chain_write(&c, off, buf, n < sizeof(buf) ? n : 0);
			if (e != 0 && e != -CG_EINVAL)
				bad_other++;
			e = virtio_blk_parse(&c, &r);
			if (e != 0 && e != -CG_EINVAL && e != -CG_ENOTSUP)
				bad_other++;
			e = virtq_push(&q, &mem, c.head, (u32)check_rand());
			if (e != 0 && e != -CG_ERANGE)
				bad_other++;
			(void)virtq_should_notify(&q, &mem, old_used);
			virtq_set_avail_event(&q, &mem);
		}
	}
	CHECK(bad_rc == 0, "fuzz: pop returns only 0, 1, -EINVAL, -ERANGE");
	CHECK(bad_seg == 0, "fuzz: popped segments lie in guest RAM");
	CHECK(bad_len == 0, "fuzz: stream lengths add up");
	CHECK(bad_other == 0, "fuzz: helpers return documented codes");
	CHECK(popped > 1000 && einval > 1000 && erange > 1000 && empty > 1000,
	      "fuzz: reaches chains, EINVAL, ERANGE and empty rings");
	printf("fuzz: %u chains, %u EINVAL, %u ERANGE, %u empty\n", popped, einval, erange,
	       empty);
}

int main(void)
{
	r0 = malloc(R0_SIZE);
	r1 = malloc(R1_SIZE);
	if (!r0 || !r1)
		abort();
	test_init();
	test_empty_and_disabled();
	test_direct();
	test_indirect();
	test_adversarial();
	test_wraparound();
	test_notify();
	test_chain_copy();
	test_blk();
	test_fuzz();
	CHECK(bad_map_calls == 0, "map never called with an empty or wrapping range");
	free(r0);
	free(r1);
	return check_summary();
}
