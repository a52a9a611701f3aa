/* A noisy disk neighbour and its victim, for the overlay-quota and
 * device-work tests (test/boot/disk_quota.test.ts). One guest, two roles:
 *
 *   flood=1 quota=Q window=W [size=N]
 *       writes N sectors (default 64: 32 KiB) at a time to fresh sectors of
 *       a rw disk whose overlay may hold Q MiB, until the device answers
 *       IOERR; then checks that every further write to a fresh sector is
 *       refused too while rewriting a held sector and reading still work,
 *       and keeps writing (each one refused) until W million TSC ticks
 *       have passed since it started, so its exits compete with the
 *       victim the whole time. Prints
 *         VBLK quota ok_bytes=B refused=R rewrite=ok|<error> read=ok|<error>
 *   (no flood=) window=W [every=K]
 *       the victim: a CPU-bound spin for W million TSC ticks, with one disk
 *       request (alternately a write and a read-back of 8 sectors) every K
 *       spin rounds (default 8). Prints the spinner's line, read as the
 *       spinner's by test/boot/spin.ts, and its disk count:
 *         spin iterations=I burst_iters=B burst_ticks=T window=W
 *         VBLK victim requests=R failed=F
 *
 * Under Bochs with one CPU and `clock: sync=none` the TSC counts the whole
 * machine's instructions, so the victim's iterations measure its share of
 * the CPU (see spinner.c). Exit status as every guest's. */
#include "guest.h"
#include "spin.h"
#include "virtio_blk.h"

#define SPIN_ROUND 1024u
#define MAX_SECTORS 64u
#define VICTIM_SECTORS 8u

static u8 ring[VBLK_RING_BYTES] __attribute__((aligned(4096)));
static u8 buf[MAX_SECTORS * VBLK_SECTOR] __attribute__((aligned(4096)));
static u8 back[MAX_SECTORS * VBLK_SECTOR] __attribute__((aligned(4096)));
static struct vblk dev;

static void fill(u8 *p, u32 n, u32 seed)
{
	for (u32 i = 0; i < n; i++)
		p[i] = (u8)(seed + i * 7 + (i >> 9));
}

static void flood(void)
{
	u64 start = rdtsc(), window = (u64)cmdline_uint("window", 200) * 1000000ull;
	u32 size = cmdline_uint("size", MAX_SECTORS), quota = cmdline_uint("quota", 1);
	u64 sector = 0, ok_bytes = 0;
	u32 refused = 0, wrongly_ok = 0;
	int rc = VBLK_OK;

	if (size < 8 || size > MAX_SECTORS)
		size = MAX_SECTORS;
	fill(buf, size * VBLK_SECTOR, 0x5A);
	/* Fresh sectors until the quota answers. */
	while (sector + size <= dev.capacity) {
		rc = vblk_rw(&dev, true, sector, buf, size);
		if (rc)
			break;
		ok_bytes += size * VBLK_SECTOR;
		sector += size;
	}
	report(rc == VBLK_EIOERR, "a write past the %u MiB quota is refused with IOERR: %s", quota,
	       vblk_strerror(rc));
	report(ok_bytes <= (u64)quota << 20, "at most the quota was written: %u bytes", (u32)ok_bytes);
	/* Everything fresh from here on is refused, for the whole window. */
	u64 fresh = sector;
	while (rdtsc() - start < window) {
		rc = vblk_rw(&dev, true, fresh, buf, size);
		if (rc == VBLK_EIOERR)
			refused++;
		else
			wrongly_ok++;
		fresh += size;
		if (fresh + size > dev.capacity)
			fresh = sector;
	}
	report(refused > 0 && wrongly_ok == 0, "every later write to a fresh sector refused (%u, %u not)",
	       refused, wrongly_ok);
	/* What the overlay holds stays usable. */
	fill(buf, VBLK_SECTOR, 0xC3);
	int rw = vblk_rw(&dev, true, 0, buf, 1);
	int rd = vblk_rw(&dev, false, 0, back, 1);
	report(rw == VBLK_OK, "rewriting a held sector works: %s", vblk_strerror(rw));
	report(rd == VBLK_OK && !memcmp(buf, back, VBLK_SECTOR), "and reads back: %s", vblk_strerror(rd));
	printf("VBLK quota ok_bytes=%u refused=%u rewrite=%s read=%s\n", (u32)ok_bytes, refused,
	       rw == VBLK_OK ? "ok" : vblk_strerror(rw), rd == VBLK_OK ? "ok" : vblk_strerror(rd));
}

static void victim(void)
{
	u64 window = (u64)cmdline_uint("window", 200) * 1000000ull;
	u32 every = cmdline_uint("every", 8), iterations = 0, requests = 0, failed = 0, round = 0;
	u32 span = dev.capacity > VICTIM_SECTORS ? (u32)dev.capacity / VICTIM_SECTORS : 1;

	if (!every)
		every = 8;
	u64 best = spin_burst_ticks();
	u64 start = rdtsc();
	while (rdtsc() - start < window) {
		iterations += spin(SPIN_ROUND);
		if (++round % every)
			continue;
		u64 sector = (u64)(requests / 2 % span) * VICTIM_SECTORS;
		int rc;
		if (requests % 2 == 0) {
			fill(buf, VICTIM_SECTORS * VBLK_SECTOR, requests);
			rc = vblk_rw(&dev, true, sector, buf, VICTIM_SECTORS);
		} else {
			rc = vblk_rw(&dev, false, sector, back, VICTIM_SECTORS);
			if (!rc && memcmp(buf, back, VICTIM_SECTORS * VBLK_SECTOR))
				rc = VBLK_EPROTO;
		}
		requests++;
		failed += rc != VBLK_OK;
	}
	report(requests > 0 && failed == 0, "every disk request completed (%u, %u failed)", requests, failed);
	printf("spin iterations=%u burst_iters=%u burst_ticks=%u window=%u\n", iterations, SPIN_BURST_ITERS,
	       (u32)best, (u32)(window / 1000000u));
	printf("VBLK victim requests=%u failed=%u\n", requests, failed);
}

int main(void)
{
	int rc = vblk_probe(&dev, 0, ring, 16);
	report(rc == VBLK_OK, "virtio-blk device set up: %s", vblk_strerror(rc));
	if (rc == VBLK_OK) {
		if (cmdline_uint("flood", 0))
			flood();
		else
			victim();
	}
	return report_summary();
}
