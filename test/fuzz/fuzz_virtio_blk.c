/* Fuzz target: virtio-blk requests end to end (devices/virtio/virtio_blk.c
 * over virtq.c, virtio_pci.c, disk.c and the overlay), driven through the
 * PCI transport as test/unit/test_virtio_blk.c drives it, with guest RAM
 * the fuzzer writes.
 * Input: options (1 byte: bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 MSI-X, 3
 * read-only disk, 4 throttled to 1000 IOPS, 5 a 4 KiB poll budget so
 * work spills across rounds, 6 a 1 MiB overlay quota), queue size (1: 2^(b % 9)),
 * rounds (1: 1..8), then the start of a 64 KiB guest RAM (at most 4 KiB
 * of it) with the available ring at 0, the descriptor table at 0x40 and
 * the used ring at 0x8000 (an exactly-sized heap block: a stray access
 * trips ASan); the bytes after it give each round's clock step.
 * Each round notifies the queue, lets the clock run 0..255 ms and services
 * the device.
 * Invariants beyond "no crash, no access outside RAM":
 *  - the shared image is never written; a read-only disk writes nothing;
 *  - the device never completes more chains than it took;
 *  - it writes guest RAM only in the used ring and in buffers of
 *    writable descriptors (checked in rounds where no such buffer covers
 *    the rings themselves);
 *  - a device that needs a reset completes nothing more;
 *  - interrupts go only where the driver pointed them: MSI-X messages to
 *    the vectors it programmed, INTx to a line below 24. */
#include <stdarg.h>
#include <cg/errno.h>
#include "fuzz.h"
#include "devices/virtio/virtio_blk.h"

#define RAM_SIZE 0x10000ull
/* Rings first, so short inputs reach them (they overlap for big queues:
 * hostile layouts are welcome); the used ring, which the device writes,
 * well away. */
#define AVAIL 0x0ull
#define DESC 0x40ull
#define USED 0x8000ull
#define IMG_SECTORS 64u
#define VM ((struct vm *)(uintptr_t)0x1000)
#define MSI_ADDR 0xFEE00000u

static u8 *ram;
static u8 image[IMG_SECTORS * 512], image_copy[IMG_SECTORS * 512];
static u8 bounce[1024];
static struct pci_bus bus;
static struct disk_images images;
static struct disk disk;
static struct virtio_blk blk;
static u64 fake_now;
static u64 bar0, bar1;

static void *gmap(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (!len || gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static const struct virtq_mem mem = { gmap, NULL };

static u64 now_fn(void)
{
	return fake_now;
}

static int fake_msi(struct vm *vm, u64 addr, u32 data)
{
	FUZZ_CHECK(vm == VM, "MSI for another VM");
	FUZZ_CHECK(addr == MSI_ADDR && (data == 0x40 || data == 0x41), "MSI not as programmed");
	return 0;
}

static void fake_line(struct vm *vm, u32 gsi, bool level)
{
	(void)level;
	FUZZ_CHECK(vm == VM && gsi < 24, "INTx outside the VM's lines");
}

/* Messages are the transport's business; count them so a device that
 * needs a reset is seen to say so. */
static u32 logs;

static void fake_log(const char *fmt, ...)
{
	logs += fmt != NULL;
}

static const struct virtio_pci_env env = { fake_msi, fake_line, fake_log };

/* Overlay pages from the host heap, 4 KiB-aligned as the monitor's are. */
static void *page_get(void *ctx, u64 pages)
{
	void *p = NULL;

	(void)ctx;
	return posix_memalign(&p, PAGE_SIZE, pages * PAGE_SIZE) ? NULL : p;
}

static void page_put(void *ctx, void *p, u64 pages)
{
	(void)ctx;
	(void)pages;
	free(p);
}

static const struct blk_overlay_alloc alloc = { page_get, page_put, NULL };

static u64 rd(u64 base, u64 off, u32 size)
{
	u64 v = 0;

	pci_mmio(&bus, base + off, false, size, &v);
	return v;
}

static void wr(u64 base, u64 off, u32 size, u64 v)
{
	pci_mmio(&bus, base + off, true, size, &v);
}

static u16 get16(u64 gpa)
{
	u16 v;

	memcpy(&v, ram + gpa, 2);
	return v;
}

/* ---- where the device may write: the used ring and the buffers of
 * writable descriptors (direct, or in an indirect table), as the rings
 * stand; and whether any such buffer covers the rings or tables
 * themselves, in which case the device may rewrite them mid-round and the
 * set cannot be known in advance. ---- */

static u8 may_write[RAM_SIZE], ring_bytes[RAM_SIZE], snapshot[RAM_SIZE];

FUZZ_NO_COVERAGE static void mark(u8 *map, u64 gpa, u64 len)
{
	if (gpa < RAM_SIZE)
		memset(map + gpa, 1, len < RAM_SIZE - gpa ? len : RAM_SIZE - gpa);
}

FUZZ_NO_COVERAGE static void desc_at(u64 gpa, u64 *addr, u32 *len, u16 *flags)
{
	memcpy(addr, ram + gpa, 8);
	memcpy(len, ram + gpa + 8, 4);
	memcpy(flags, ram + gpa + 12, 2);
}

/* Returns whether the writable set is exact for the coming round. */
FUZZ_NO_COVERAGE static bool writable_set(u32 qsize, bool indirect)
{
	bool exact = true;

	memset(may_write, 0, sizeof(may_write));
	memset(ring_bytes, 0, sizeof(ring_bytes));
	mark(may_write, USED, 6 + 8ull * qsize);
	mark(ring_bytes, DESC, 16ull * qsize);
	mark(ring_bytes, AVAIL, 6 + 2ull * qsize);
	for (u32 i = 0; i < qsize; i++) {
		u64 addr;
		u32 len;
		u16 flags;

		desc_at(DESC + 16ull * i, &addr, &len, &flags);
		if (indirect && (flags & VIRTQ_DESC_F_INDIRECT)) {
			if (addr >= RAM_SIZE || len > RAM_SIZE - addr)
				continue;
			mark(ring_bytes, addr, len);
			for (u64 k = 0; k + 16 <= len; k += 16) {
				u64 a2;
				u32 l2;
				u16 f2;

				desc_at(addr + k, &a2, &l2, &f2);
				if (f2 & VIRTQ_DESC_F_WRITE)
					mark(may_write, a2, l2);
			}
		} else if (flags & VIRTQ_DESC_F_WRITE) {
			mark(may_write, addr, len);
		}
	}
	for (u64 a = 0; a < RAM_SIZE && exact; a++)
		exact = !(ring_bytes[a] && may_write[a] && a < USED);
	return exact;
}

/* Every byte the round changed was the device's to write. */
FUZZ_NO_COVERAGE static void check_writes(void)
{
	for (u64 a = 0; a < RAM_SIZE; a++)
		FUZZ_CHECK(ram[a] == snapshot[a] || may_write[a],
			   "the device wrote guest memory no writable descriptor names");
}

/* The driver's side of set-up (virtio 3.1.1), as a guest does it. */
static void drv_init(u64 features, bool msix, u32 qsize)
{
	u8 ok = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	bar0 = pci_bar_base(&blk.tp.pci, VIRTIO_PCI_BAR);
	bar1 = pci_bar_base(&blk.tp.pci, VIRTIO_PCI_MSIX_BAR);
	wr(bar0, VIRTIO_PCI_STATUS, 1, 0);
	wr(bar0, VIRTIO_PCI_STATUS, 1, ok);
	wr(bar0, VIRTIO_PCI_GFSELECT, 4, 0);
	wr(bar0, VIRTIO_PCI_GF, 4, (u32)features);
	wr(bar0, VIRTIO_PCI_GFSELECT, 4, 1);
	wr(bar0, VIRTIO_PCI_GF, 4, (u32)(features >> 32));
	wr(bar0, VIRTIO_PCI_STATUS, 1, ok | VIRTIO_STATUS_FEATURES_OK);
	pci_cfg_write(&bus, blk.tp.pci.slot, blk.tp.msix.cap + 2, 2, msix ? 0x8000 : 0);
	for (u32 v = 0; v < 2; v++) {
		wr(bar1, 16 * v, 4, MSI_ADDR);
		wr(bar1, 16 * v + 4, 4, 0);
		wr(bar1, 16 * v + 8, 4, 0x40 + v);
		wr(bar1, 16 * v + 12, 4, 0);
	}
	wr(bar0, VIRTIO_PCI_MSIX_CONFIG, 2, msix ? 0 : VIRTIO_NO_VECTOR);
	wr(bar0, VIRTIO_PCI_Q_SELECT, 2, 0);
	wr(bar0, VIRTIO_PCI_Q_SIZE, 2, qsize);
	wr(bar0, VIRTIO_PCI_Q_MSIX, 2, msix ? 1 : VIRTIO_NO_VECTOR);
	wr(bar0, VIRTIO_PCI_Q_DESC, 8, DESC);
	wr(bar0, VIRTIO_PCI_Q_DRIVER, 8, AVAIL);
	wr(bar0, VIRTIO_PCI_Q_DEVICE, 8, USED);
	wr(bar0, VIRTIO_PCI_Q_ENABLE, 2, 1);
	wr(bar0, VIRTIO_PCI_STATUS, 1, ok | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void device_up(bool ro, bool throttled, bool quota)
{
	struct disk_image *img;
	char err[160];

	pci_bus_init(&bus);
	memset(&images, 0, sizeof(images));
	fake_now = 1000000000ull;
	FUZZ_CHECK(disk_image_get(&images, "img", "img.img", image, sizeof(image), &img, err, sizeof(err)) == 0,
		   "image");
	FUZZ_CHECK(disk_attach(&disk, img, ro ? DISK_RO : DISK_RW, DISK_KEEP, throttled ? 1000 : 0, 0, quota ? 1 : 0, &alloc,
			       fake_now) == 0, "disk");
	FUZZ_CHECK(virtio_blk_init(&blk, VM, &env, "f", 0, &disk, &mem, now_fn, bounce, sizeof(bounce), NULL) == 0,
		   "device");
	FUZZ_CHECK(pci_bus_add(&bus, &blk.tp.pci) == 1, "slot");
	virtio_pci_attached(&blk.tp);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 opt = fuzz_u8(&in);
	u32 qsize = 1u << (fuzz_u8(&in) % 9);
	u32 rounds = 1 + fuzz_u8(&in) % 8;
	u64 features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		       VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
	bool ro = opt & 8;
	bool small_budget = opt & 32;
	u16 avail_start, used_start;
	size_t got;
	u8 *init;

	if (opt & 1)
		features |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (opt & 2)
		features |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	if (ro)
		features |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	if (!image[1]) {
		for (u32 i = 0; i < sizeof(image); i++)
			image[i] = (u8)(i / 512 * 7 + i % 251);
		memcpy(image_copy, image, sizeof(image));
	}
	ram = calloc(1, RAM_SIZE);
	init = fuzz_bytes(&in, 4096, &got);
	if (!ram)
		abort();
	device_up(ro, opt & 16, opt & 64);
	drv_init(features, opt & 4, qsize);
	/* The driver's view before the device runs: chains offered so far. */
	memcpy(ram, init, got);
	free(init);
	avail_start = 0;
	used_start = get16(USED + 2);

	for (u32 r = 0; r < rounds; r++) {
		bool broken = rd(bar0, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET;
		u16 used_before = get16(USED + 2);
		bool exact = writable_set(qsize, opt & 2);

		memcpy(snapshot, ram, RAM_SIZE);

		wr(bar0, VIRTIO_PCI_NOTIFY, 2, 0);
		fake_now += (u64)fuzz_u8(&in) * 1000000;
		u64 budget = small_budget ? 4096 : ~0ull;
		virtio_blk_service(&blk, fake_now, &budget);
		(void)rd(bar0, VIRTIO_PCI_ISR, 1);
		if (broken)
			FUZZ_CHECK(get16(USED + 2) == used_before, "a device needing reset completed a chain");
		if (exact)
			check_writes();
	}

	/* The used elements themselves are checked in fuzz_virtq.c: here a
	 * guest may point an IN buffer over its own used ring, and then reads
	 * disk bytes there (test/fuzz/crashes/virtio_blk/in-data-over-used-ring). */
	if (blk.q.size)
		FUZZ_CHECK((u16)(blk.q.used_idx - used_start) <= (u16)(blk.q.last_avail_idx - avail_start),
			   "more completions than chains taken");
	FUZZ_CHECK(!memcmp(image, image_copy, sizeof(image)), "the shared image was written");
	if (ro)
		FUZZ_CHECK(disk.st.write_bytes == 0, "a read-only disk took a write");
	wr(bar0, VIRTIO_PCI_STATUS, 1, 0);
	disk_detach(&disk);
	free(ram);
	return 0;
}
