/* virtio-blk from the guest's side: finds the disk on PCI bus 0, sets it
 * up (lib/virtio_blk.c) and runs one mode from the command line:
 *
 *   mode=rw-check sector=S seed=N [count=C] [expect_ro=1]
 *       reads sector S, writes a pattern made from N over C sectors, reads
 *       it back. Prints
 *         VBLK before sector=S <hex of the first 16 bytes>
 *         VBLK rw-check sector=S seed=N count=C ok|mismatch|refused
 *       The pattern's first 16 bytes are "cg-vblk %08x" of the seed.
 *       expect_ro=1: the write must fail with IOERR and change nothing.
 *   mode=read-base [sectors=K]
 *       FNV-1a (32-bit) over the first K sectors (default: the disk):
 *         VBLK read-base sectors=K fnv1a=0x<8 hex>
 *   mode=flood [ms=T] [warm_ms=W] [size=N] [write=1]
 *       requests of N sectors (default 8) back to back for W ms unmeasured,
 *       then T ms (default 1000) measured with RDTSC against the TSC
 *       frequency (lib/tsc.c):
 *         VBLK flood ms=T reqs=R bytes=B ticks_k=K tsc_khz=F src=S iops=I bps=P
 *   mode=bad-ring bad=loop|range|oversize
 *       one good read, then a malformed chain: a descriptor loop, a buffer
 *       that runs past the end of guest RAM, or a chain through every
 *       descriptor and back (longer than the queue). The device must
 *       refuse it (DEVICE_NEEDS_RESET or IOERR) and the guest runs on:
 *         VBLK bad=K result=needs-reset|ioerr|accepted|no-response status=0x..
 *         VBLK bad=K after-reset=ok|<error>
 *
 * Common: disk=I (the I'th virtio-blk device, default 0), qsize=Q (default
 * 16), linger=1 (after the summary, halt instead of exiting, so the VM
 * stays up to be reset from the console). Exit status as every guest's:
 * 0 (QEMU status 1) when every check passed. */
#include "guest.h"
#include "div64.h"
#include "tsc.h"
#include "virtio_blk.h"

#define MAX_SECTORS 64u /* per request: 32 KiB */

static u8 ring[VBLK_RING_BYTES] __attribute__((aligned(4096)));
static u8 buf[MAX_SECTORS * VBLK_SECTOR] __attribute__((aligned(4096)));
static u8 buf2[MAX_SECTORS * VBLK_SECTOR] __attribute__((aligned(4096)));
static struct vblk dev;

/* True when the command line has the word key=value. */
static bool arg_is(const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	for (const char *s = mb_cmdline(); *s;) {
		while (*s == ' ')
			s++;
		const char *w = s;
		while (*s && *s != ' ')
			s++;
		if ((size_t)(s - w) == kl + 1 + vl && !strncmp(w, key, kl) && w[kl] == '=' && !strncmp(w + kl + 1, value, vl))
			return true;
	}
	return false;
}

static const char *hex16(const u8 *p)
{
	static char out[33];
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[32] = 0;
	return out;
}

/* The rw-check pattern: "cg-vblk <seed as 8 hex>" then xorshift32 bytes. */
static void fill(u8 *p, u32 n, u32 seed)
{
	static const char digits[] = "0123456789abcdef";
	const char *head = "cg-vblk ";
	for (u32 i = 0; i < 8; i++)
		p[i] = (u8)head[i];
	for (u32 i = 0; i < 8; i++)
		p[8 + i] = (u8)digits[(seed >> (28 - 4 * i)) & 15];
	u32 x = seed ? seed : 0x9E3779B9u;
	for (u32 i = 16; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (u8)x;
	}
}

static void rw_check(void)
{
	u32 sector = cmdline_uint("sector", 1), seed = cmdline_uint("seed", 1), count = cmdline_uint("count", 1);
	bool expect_ro = cmdline_uint("expect_ro", 0) != 0;
	if (count < 1 || count > MAX_SECTORS)
		count = 1;
	u32 bytes = count * VBLK_SECTOR;
	int rc = vblk_rw(&dev, false, sector, buf2, count);
	report(rc == VBLK_OK, "read sector %u before writing: %s", sector, vblk_strerror(rc));
	printf("VBLK before sector=%u %s\n", sector, hex16(buf2));
	fill(buf, bytes, seed);
	rc = vblk_rw(&dev, true, sector, buf, count);
	if (expect_ro) {
		report(rc == VBLK_EIOERR, "a write to the read-only disk is refused with IOERR: %s", vblk_strerror(rc));
		memcpy(buf, buf2, bytes);
	} else {
		report(rc == VBLK_OK, "write %u sector(s) at %u: %s", count, sector, vblk_strerror(rc));
	}
	memset(buf2, 0, bytes);
	int rc2 = vblk_rw(&dev, false, sector, buf2, count);
	bool same = rc2 == VBLK_OK && !memcmp(buf, buf2, bytes);
	report(same, "sector %u reads back %s: %s", sector, expect_ro ? "unchanged" : "what was written", vblk_strerror(rc2));
	const char *verdict = expect_ro ? (rc == VBLK_EIOERR && same ? "refused" : "mismatch") : (rc == VBLK_OK && same ? "ok" : "mismatch");
	printf("VBLK rw-check sector=%u seed=%u count=%u %s\n", sector, seed, count, verdict);
}

static void read_base(void)
{
	u32 total = cmdline_uint("sectors", 0);
	if (total == 0 || total > dev.capacity)
		total = (u32)dev.capacity;
	u32 h = 0x811C9DC5u; /* FNV-1a, 32-bit */
	int rc = VBLK_OK;
	u32 done = 0;
	while (done < total && rc == VBLK_OK) {
		u32 n = total - done < MAX_SECTORS ? total - done : MAX_SECTORS;
		rc = vblk_rw(&dev, false, done, buf, n);
		if (rc)
			break;
		for (u32 i = 0; i < n * VBLK_SECTOR; i++) {
			h ^= buf[i];
			h *= 0x01000193u;
		}
		done += n;
	}
	report(rc == VBLK_OK && done == total, "read %u of %u sectors: %s", done, total, vblk_strerror(rc));
	printf("VBLK read-base sectors=%u fnv1a=0x%08x\n", done, h);
}

static void flood(void)
{
	u32 ms = cmdline_uint("ms", 1000), warm = cmdline_uint("warm_ms", 0), size = cmdline_uint("size", 8);
	bool wr = cmdline_uint("write", 0) != 0;
	if (size < 1 || size > MAX_SECTORS)
		size = 8;
	enum tsc_source src;
	u64 hz = tsc_hz(&src);
	report(hz != 0, "TSC frequency known: %u kHz from %s", (u32)udiv64(hz, 1000, NULL), tsc_source_name(src));
	if (!hz || dev.capacity < size)
		return;
	u32 span = (u32)dev.capacity - size + 1;
	fill(buf, size * VBLK_SECTOR, 0xF100D);
	u32 sector = 0, reqs = 0;
	int rc = VBLK_OK;
	/* Warm-up first, so a full token bucket's burst is spent before the measured window. */
	for (int phase = 0; phase < 2 && rc == VBLK_OK; phase++) {
		u64 t0 = rdtsc();
		u64 end = t0 + udiv64(hz * (phase ? ms : warm), 1000, NULL);
		reqs = 0;
		while (rdtsc() < end) {
			rc = vblk_rw(&dev, wr, sector, buf, size);
			if (rc)
				break;
			reqs++;
			sector = (sector + size) % span;
		}
		if (phase == 1) {
			u64 ticks = rdtsc() - t0;
			u64 bytes = (u64)reqs * size * VBLK_SECTOR;
			u32 iops = (u32)udiv64((u64)reqs * hz, ticks, NULL);
			u32 bps = (u32)udiv64(bytes * hz, ticks, NULL);
			report(rc == VBLK_OK, "every request completed: %s", vblk_strerror(rc));
			printf("VBLK flood ms=%u reqs=%u bytes=%u ticks_k=%u tsc_khz=%u src=%s iops=%u bps=%u\n", ms, reqs, (u32)bytes,
			       (u32)udiv64(ticks, 1000, NULL), (u32)udiv64(hz, 1000, NULL), tsc_source_name(src), iops, bps);
		}
	}
	if (rc)
		report(false, "flood stopped by %s after %u requests", vblk_strerror(rc), reqs);
}

/* End of guest RAM: the RAM size fw_cfg reports (key 3; RAM runs from 0
 * to there in the small VMs tests use), else the end of the highest usable
 * Multiboot map range below 4 GiB (which can fall short of the real end: a
 * firmware may keep the top of RAM reserved for its tables). */
static u32 ram_end(void)
{
	if (fwcfg_present()) {
		u64 size = 0;
		fwcfg_read(FWCFG_RAM_SIZE, &size, sizeof(size));
		if (size > 0x100000u && size <= 0xC0000000u)
			return (u32)size;
	}
	struct mb_mmap_entry e;
	u64 end = 0;
	for (u32 i = 0; mb_mmap_get(i, &e); i++)
		if (e.type == 1 && e.base + e.len > end && e.base + e.len <= 0x100000000ull)
			end = e.base + e.len;
	if (!end)
		end = 0x100000u + mb_mem_upper_kb() * 1024u;
	return (u32)end;
}

static void bad_ring(void)
{
	const char *kind = arg_is("bad", "loop") ? "loop" : arg_is("bad", "range") ? "range" : arg_is("bad", "oversize") ? "oversize" : NULL;
	if (!kind) {
		report(false, "bad= must be loop, range or oversize");
		return;
	}
	int rc = vblk_rw(&dev, false, 0, buf2, 1);
	report(rc == VBLK_OK, "a good request works first: %s", vblk_strerror(rc));
	struct virtq_desc *d = dev.desc;
	u16 q = dev.qsize;
	dev.hdr->type = VIRTIO_BLK_T_IN;
	dev.hdr->reserved = 0;
	dev.hdr->sector = 0;
	*dev.status = 0xFF;
	u8 *tail = NULL;
	u8 canary[256];
	if (kind[0] == 'l') { /* 0 -> 1 -> 0 -> ... */
		d[0] = (struct virtq_desc){ (u32)dev.hdr, sizeof(*dev.hdr), VIRTQ_DESC_F_NEXT, 1 };
		d[1] = (struct virtq_desc){ (u32)buf, VBLK_SECTOR, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0 };
	} else if (kind[0] == 'r') { /* a data buffer whose second half is past the end of RAM */
		u32 at = ram_end() - VBLK_SECTOR / 2;
		tail = (u8 *)at;
		for (u32 i = 0; i < sizeof(canary); i++)
			canary[i] = tail[i] = (u8)(0xA5 ^ i);
		d[0] = (struct virtq_desc){ (u32)dev.hdr, sizeof(*dev.hdr), VIRTQ_DESC_F_NEXT, 1 };
		d[1] = (struct virtq_desc){ at, VBLK_SECTOR, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2 };
		d[2] = (struct virtq_desc){ (u32)dev.status, 1, VIRTQ_DESC_F_WRITE, 0 };
		printf("VBLK bad=range buffer=0x%x len=%u ram_end=0x%x\n", at, VBLK_SECTOR, ram_end());
	} else { /* every descriptor in one chain, the last pointing back at the first */
		d[0] = (struct virtq_desc){ (u32)dev.hdr, sizeof(*dev.hdr), VIRTQ_DESC_F_NEXT, 1 };
		for (u16 i = 1; i + 1 < q; i++)
			d[i] = (struct virtq_desc){ (u32)buf, VBLK_SECTOR, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1) };
		d[q - 1] = (struct virtq_desc){ (u32)dev.status, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0 };
	}
	vblk_submit(&dev, 0);
	u32 id = 0, len = 0;
	rc = vblk_wait_used(&dev, &id, &len);
	u8 st = vblk_device_status(&dev);
	u8 blk = *(volatile u8 *)dev.status;
	bool needs_reset = rc == VBLK_ENEEDS_RESET || (st & VIRTIO_STATUS_NEEDS_RESET);
	bool ioerr = !needs_reset && rc == VBLK_OK && (blk == VIRTIO_BLK_S_IOERR || blk == VIRTIO_BLK_S_UNSUPP);
	const char *result = needs_reset ? "needs-reset" : ioerr ? "ioerr" : rc == VBLK_OK ? "accepted" : "no-response";
	printf("VBLK bad=%s result=%s status=0x%02x\n", kind, result, st);
	report(needs_reset || ioerr, "the device refuses the %s chain: %s", kind, result);
	if (tail)
		report(!memcmp(tail, canary, sizeof(canary)), "the RAM below the end was not written either");
	/* Still here: the monitor stopped the device, not the VM. */
	report(true, "the guest runs on after the %s chain", kind);
	rc = vblk_reinit(&dev);
	if (rc == VBLK_OK) {
		rc = vblk_rw(&dev, false, 0, buf, 1);
		if (rc == VBLK_OK && memcmp(buf, buf2, VBLK_SECTOR))
			rc = VBLK_EPROTO;
	}
	printf("VBLK bad=%s after-reset=%s\n", kind, rc == VBLK_OK ? "ok" : vblk_strerror(rc));
	report_info("after a reset the device %s", rc == VBLK_OK ? "works again" : "stays stopped");
}

int main(void)
{
	u32 index = cmdline_uint("disk", 0);
	int rc = vblk_probe(&dev, index, ring, (u16)cmdline_uint("qsize", 16));
	report(rc == VBLK_OK, "virtio-blk device %u set up: %s", index, vblk_strerror(rc));
	if (rc == VBLK_OK) {
		printf("VBLK probe pci=%02x:%02x.%x qsize=%u/%u capacity=%u ro=%u features=0x%llx\n", PCI_BUS(dev.bdf), PCI_DEV(dev.bdf),
		       PCI_FN(dev.bdf), dev.qsize, dev.qmax, (u32)dev.capacity, dev.ro, dev.device_features);
		if (arg_is("mode", "rw-check"))
			rw_check();
		else if (arg_is("mode", "read-base"))
			read_base();
		else if (arg_is("mode", "flood"))
			flood();
		else if (arg_is("mode", "bad-ring"))
			bad_ring();
		else
			report(false, "mode= must be rw-check, read-base, flood or bad-ring");
	}
	int status = report_summary();
	if (cmdline_uint("linger", 0)) {
		printf("VBLK linger\n");
		for (;;)
			sti_hlt();
	}
	return status;
}
