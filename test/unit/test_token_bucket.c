/* token_bucket and disk_admit on a fake clock: unlimited buckets, the
 * burst after idle, ready_at, the exact long-run rate with a carried
 * remainder, charges larger than the burst, huge costs and rates without
 * overflow, and both of a disk's buckets together. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/disk.h"
#include "devices/virtio/token_bucket.h"

#define MS 1000000ull
#define S 1000000000ull

static void test_unlimited(void)
{
	struct token_bucket b;

	token_bucket_init(&b, 0, 100 * MS, 5 * S);
	for (u32 i = 0; i < 1000; i++)
		token_bucket_charge(&b, 1ull << 40, 5 * S);
	CHECK(token_bucket_conforms(&b, 0) && token_bucket_ready_at(&b) == 0, "rate 0 never refuses");
}

static void test_burst_and_wait(void)
{
	struct token_bucket b;
	u64 now = 10 * S;
	u32 passed = 0;

	/* 100 a second, 100 ms of burst: 1 + 10 pass at once. */
	token_bucket_init(&b, 100, 100 * MS, now);
	while (token_bucket_conforms(&b, now) && passed < 1000) {
		token_bucket_charge(&b, 1, now);
		passed++;
	}
	CHECK(passed == 11, "burst of 1 + burst_ns * rate");
	u64 at = token_bucket_ready_at(&b);
	CHECK(at == now + 10 * MS, "next one 10 ms later");
	CHECK(!token_bucket_conforms(&b, at - 1) && token_bucket_conforms(&b, at), "ready_at is exact");

	/* A long idle spell saves no more than the burst. */
	now += 3600 * S;
	passed = 0;
	while (token_bucket_conforms(&b, now) && passed < 1000) {
		token_bucket_charge(&b, 1, now);
		passed++;
	}
	CHECK(passed == 11, "credit capped at the burst after idle");
}

/* Paced at ready_at, the long-run rate is the configured one, exactly
 * (3 a second does not divide 10^9). */
static void test_rate(void)
{
	struct token_bucket b;
	u64 now = 0, start = 0;
	u32 n = 0;

	token_bucket_init(&b, 3, 0, now);
	while (n < 3001) {
		now = token_bucket_ready_at(&b);
		if (!n)
			start = now;
		CHECK(token_bucket_conforms(&b, now), "conforms at ready_at");
		token_bucket_charge(&b, 1, now);
		n++;
	}
	CHECK(now - start == 1000 * S, "3000 intervals at 3/s take exactly 1000 s");

	/* Bytes: 1 MiB/s, 4 KiB requests, 10 s of saturation. */
	token_bucket_init(&b, 1 << 20, 100 * MS, 0);
	u64 bytes = 0;
	for (now = 0; now <= 10 * S; now += MS) {
		while (token_bucket_conforms(&b, now)) {
			token_bucket_charge(&b, 4096, now);
			bytes += 4096;
		}
	}
	u64 expect = 10ull << 20, burst = (1 << 20) / 10;
	CHECK(bytes >= expect && bytes <= expect + burst + 8192, "bytes over 10 s: rate plus one burst");
}

static void test_big_charges(void)
{
	struct token_bucket b;

	/* One request much larger than the burst passes once the bucket is
	 * full, then the debt delays the next by cost / rate. */
	token_bucket_init(&b, 4096, 100 * MS, S);
	CHECK(token_bucket_conforms(&b, S), "full bucket admits");
	token_bucket_charge(&b, 1 << 20, S);
	CHECK(token_bucket_ready_at(&b) == S + 256 * S - 100 * MS, "1 MiB at 4 KiB/s: 256 s of debt");

	/* Extremes: the largest rate and cost, time near the end of u64. */
	token_bucket_init(&b, TOKEN_BUCKET_RATE_MAX * 10, 0, 0);
	CHECK(b.rate == TOKEN_BUCKET_RATE_MAX, "rate clamped");
	token_bucket_charge(&b, ~0ull, 0);
	CHECK(b.tat == TOKEN_BUCKET_COST_MAX * S / TOKEN_BUCKET_RATE_MAX, "cost clamped, no overflow");
	token_bucket_init(&b, 1, 0, UINT64_MAX - 5);
	token_bucket_charge(&b, 1000, UINT64_MAX - 5);
	CHECK(b.tat == UINT64_MAX, "tat saturates");
	token_bucket_init(&b, 7, 0, 0);
	for (u32 i = 0; i < 1000; i++)
		token_bucket_charge(&b, TOKEN_BUCKET_COST_MAX, 0);
	CHECK(b.frac < b.rate, "remainder stays below the rate");
}

static void *mem_alloc(void *ctx, u64 n)
{
	(void)ctx;
	return aligned_alloc(4096, n * 4096);
}

static void mem_free(void *ctx, void *p, u64 n)
{
	(void)ctx;
	(void)n;
	free(p);
}

static void test_disk_admit(void)
{
	static u8 data[64 * 1024];
	struct blk_overlay_alloc a = { mem_alloc, mem_free, NULL };
	struct disk_images t;
	struct disk_image *img;
	struct disk d;
	char err[160];
	u64 at = 0;

	memset(&t, 0, sizeof(t));
	CHECK(disk_image_get(&t, "base", "base.img", data, sizeof(data), &img, err, sizeof(err)) == 0,
	      "image registered");
	/* 10 requests/s and 8 KiB/s: whichever is tighter decides. */
	CHECK(disk_attach(&d, img, DISK_RW, DISK_DISCARD, 10, 8192, 0, &a, 0) == 0, "attached");
	CHECK(disk_admit(&d, 4096, 0, &at), "first request");
	CHECK(!disk_admit(&d, 4096, 0, &at), "bytes bucket refuses the second at once");
	CHECK(at == 500 * MS - 100 * MS, "ready when the bytes bucket is");
	CHECK(disk_admit(&d, 4096, at, &at), "admitted at ready_at");
	/* Zero-byte requests (FLUSH) still count against iops. */
	u32 n = 0;
	u64 now = 10 * S;
	while (disk_admit(&d, 0, now, &at))
		n++;
	CHECK(n == 2, "iops bucket: 1 + 100 ms at 10/s");
	CHECK(at == now + 100 * MS, "next flush 100 ms later");
	/* An unlimited disk admits everything. */
	struct disk u;
	CHECK(disk_attach(&u, img, DISK_RO, DISK_DISCARD, 0, 0, 0, &a, 0) == 0, "ro attached");
	CHECK(u.on_reset == DISK_KEEP, "ro is always keep");
	for (n = 0; n < 10000 && disk_admit(&u, 1 << 20, 0, &at); n++)
		;
	CHECK(n == 10000, "unlimited disk never throttles");
	CHECK(img->users == 2, "two disks on one image");
	disk_detach(&u);
	disk_detach(&d);
	disk_detach(&d);
	CHECK(img->users == 0, "detach is idempotent");
}

int main(void)
{
	test_unlimited();
	test_burst_and_wait();
	test_rate();
	test_big_charges();
	test_disk_admit();
	return check_summary();
}
