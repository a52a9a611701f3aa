/* virtio-blk over the virtio-pci transport on a PCI bus, driven the way a
 * guest driver does it (configuration cycles, BAR accesses, rings in a
 * fake guest RAM on the heap so a stray access trips AddressSanitizer):
 * discovery through the capability list, feature negotiation, the
 * device configuration, reads from the image, writes into the overlay
 * (the image untouched), ro disks, GET_ID, FLUSH, unknown types, bounds,
 * event-index suppression of notifications and interrupts, MSI-X masking
 * and the pending bits, INTx with the ISR, the PCI configuration access
 * window, token-bucket throttling with deferred completion, malformed
 * rings (loops, addresses outside RAM, oversized chains, bad requests)
 * that must end in DEVICE_NEEDS_RESET and nothing else, device reset,
 * and a bounded fuzz of register writes and ring contents. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/virtio_blk.h"

#define RAM_SIZE 0x400000ull
#define DESC 0x10000ull
#define AVAIL 0x12000ull
#define USED 0x13000ull
#define HDRS 0x20000ull		/* 16 bytes per descriptor head */
#define STATUS 0x30000ull	/* 1 byte per descriptor head */
#define DATA 0x40000ull
#define ITAB 0x80000ull		/* indirect tables */
#define BIGBUF 0x100000ull	/* 3 MiB for requests of size_max and more */
#define IMG_SECTORS 4096u	/* 2 MiB: more than size_max */
#define VM ((struct vm *)(uintptr_t)0x1000)

static u8 *ram;
static u8 image[IMG_SECTORS * 512], image_copy[IMG_SECTORS * 512];
static struct pci_bus bus;
static struct disk_images images;
static struct disk disk;
static struct virtio_blk *blk;
static u8 bounce[1024];	/* small: requests take several rounds */
static u64 fake_now;

/* ---- the fake monitor: guest RAM, clock, interrupts, log ---- */

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

static struct { u64 addr; u32 data; } msis[64];
static u32 nmsi;
static bool levels[32];
static u32 line_changes;
static char last_log[256];
static u32 nlogs;

static int fake_msi(struct vm *vm, u64 addr, u32 data)
{
	CHECK(vm == VM, "msi for the device's VM");
	if (nmsi < 64) {
		msis[nmsi].addr = addr;
		msis[nmsi].data = data;
	}
	nmsi++;
	return 0;
}

static void fake_line(struct vm *vm, u32 gsi, bool level)
{
	CHECK(vm == VM && gsi < 32, "line of the device's VM");
	levels[gsi] = level;
	line_changes++;
}

static void fake_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	nlogs++;
}

static const struct virtio_pci_env env = { fake_msi, fake_line, fake_log };

static void *pg_alloc(void *ctx, u64 n)
{
	(void)ctx;
	return aligned_alloc(4096, n * 4096);
}

static void pg_free(void *ctx, void *p, u64 n)
{
	(void)ctx;
	(void)n;
	free(p);
}

static const struct blk_overlay_alloc alloc = { pg_alloc, pg_free, NULL };

/* ---- guest memory helpers ---- */

static void put16(u64 gpa, u16 v) { memcpy(ram + gpa, &v, 2); }
static void put32(u64 gpa, u32 v) { memcpy(ram + gpa, &v, 4); }
static void put64(u64 gpa, u64 v) { memcpy(ram + gpa, &v, 8); }
static u16 get16(u64 gpa) { u16 v; memcpy(&v, ram + gpa, 2); return v; }
static u32 get32(u64 gpa) { u32 v; memcpy(&v, ram + gpa, 4); return v; }

static void desc(u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	put64(table + 16ull * i, addr);
	put32(table + 16ull * i + 8, len);
	put16(table + 16ull * i + 12, flags);
	put16(table + 16ull * i + 14, next);
}

/* ---- the driver side ---- */

static u64 bar0, bar1;
static u32 qsize, next_head;
static u16 avail_idx, used_seen;
static bool event_idx;

static u64 rd(u64 off, u32 size)
{
	u64 v = 0;

	CHECK(pci_mmio(&bus, bar0 + off, false, size, &v) == DEV_OK, "BAR read DEV_OK");
	return v;
}

static void wr(u64 off, u32 size, u64 v)
{
	CHECK(pci_mmio(&bus, bar0 + off, true, size, &v) == DEV_OK, "BAR write DEV_OK");
}

static void msix_wr(u64 off, u32 v)
{
	u64 x = v;

	pci_mmio(&bus, bar1 + off, true, 4, &x);
}

static u32 msix_rd(u64 off)
{
	u64 x = 0;

	pci_mmio(&bus, bar1 + off, false, 4, &x);
	return (u32)x;
}

static u8 status(void)
{
	return (u8)rd(VIRTIO_PCI_COMMON + VIRTIO_PCI_STATUS, 1);
}

static void set_status(u8 s)
{
	wr(VIRTIO_PCI_COMMON + VIRTIO_PCI_STATUS, 1, s);
}

static u64 device_features(void)
{
	wr(VIRTIO_PCI_DFSELECT, 4, 0);
	u64 lo = rd(VIRTIO_PCI_DF, 4);
	wr(VIRTIO_PCI_DFSELECT, 4, 1);
	return lo | rd(VIRTIO_PCI_DF, 4) << 32;
}

static bool negotiate(u64 f)
{
	set_status(0);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_PCI_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_GF, 4, (u32)f);
	wr(VIRTIO_PCI_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_GF, 4, (u32)(f >> 32));
	set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return status() & VIRTIO_STATUS_FEATURES_OK;
}

static void msix_enable(bool on)
{
	u32 c = blk->tp.msix.cap;

	pci_cfg_write(&bus, blk->tp.pci.slot, c + 2, 2, on ? 0x8000 : 0);
}

/* Bring the device up: features, queue 0 of size qs, MSI-X (vector 0
 * for config changes, 1 for the queue) or INTx. */
static void drv_init(u64 f, bool msix, u32 qs)
{
	memset(ram, 0, BIGBUF); /* the rings and small buffers; BIGBUF users clear it */
	qsize = qs;
	next_head = 0;
	avail_idx = used_seen = 0;
	event_idx = f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	bar0 = pci_bar_base(&blk->tp.pci, VIRTIO_PCI_BAR);
	bar1 = pci_bar_base(&blk->tp.pci, VIRTIO_PCI_MSIX_BAR);
	CHECK(negotiate(f), "features accepted");
	msix_enable(msix);
	for (u32 v = 0; v < 2; v++) {
		msix_wr(16 * v, 0xFEE00000u);
		msix_wr(16 * v + 4, 0);
		msix_wr(16 * v + 8, 0x40 + v);
		msix_wr(16 * v + 12, 0);
	}
	wr(VIRTIO_PCI_MSIX_CONFIG, 2, msix ? 0 : VIRTIO_NO_VECTOR);
	wr(VIRTIO_PCI_Q_SELECT, 2, 0);
	CHECK(rd(VIRTIO_PCI_Q_SIZE, 2) == VIRTIO_BLK_QUEUE_SIZE, "queue maximum");
	wr(VIRTIO_PCI_Q_SIZE, 2, qs);
	wr(VIRTIO_PCI_Q_MSIX, 2, msix ? 1 : VIRTIO_NO_VECTOR);
	wr(VIRTIO_PCI_Q_DESC, 4, (u32)DESC);
	wr(VIRTIO_PCI_Q_DESC + 4, 4, 0);
	wr(VIRTIO_PCI_Q_DRIVER, 8, AVAIL);
	wr(VIRTIO_PCI_Q_DEVICE, 4, (u32)USED);
	wr(VIRTIO_PCI_Q_DEVICE + 4, 4, 0);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK(rd(VIRTIO_PCI_Q_ENABLE, 2) == 1, "queue enabled");
	set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	nmsi = 0;
}

static void notify(void)
{
	wr(VIRTIO_PCI_NOTIFY, 2, 0);
}

static void avail_push(u16 head)
{
	put16(AVAIL + 4 + 2ull * (avail_idx % qsize), head);
	avail_idx++;
	put16(AVAIL + 2, avail_idx);
}

/* One request as three descriptors (header, data, status); returns its
 * head. data_write: the device writes the data (IN, GET_ID). */
static u16 submit(u32 type, u64 sector, u64 data, u32 len, bool kick)
{
	u16 h = (u16)(next_head % (qsize / 3 * 3));
	u16 i = h;
	bool dw = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

	next_head += 3;
	put32(HDRS + 16ull * h, type);
	put32(HDRS + 16ull * h + 4, 0);
	put64(HDRS + 16ull * h + 8, sector);
	ram[STATUS + h] = 0xEE;
	desc(DESC, i, HDRS + 16ull * h, 16, VIRTQ_DESC_F_NEXT, (u16)(i + 1));
	if (len) {
		i++;
		desc(DESC, i, data, len, VIRTQ_DESC_F_NEXT | (dw ? VIRTQ_DESC_F_WRITE : 0), (u16)(i + 1));
	}
	i++;
	desc(DESC, i, STATUS + h, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_push(h);
	if (kick)
		notify();
	return h;
}

static u16 used_idx(void)
{
	return get16(USED + 2);
}

static u32 used_len(u16 k)
{
	return get32(USED + 4 + 8ull * (k % qsize) + 4);
}

static u32 used_id(u16 k)
{
	return get32(USED + 4 + 8ull * (k % qsize));
}

static void set_used_event(u16 v)
{
	put16(AVAIL + 4 + 2ull * qsize, v);
}

static u16 avail_event(void)
{
	return get16(USED + 4 + 8ull * qsize);
}

/* ---- device set-up ---- */

static u32 quota_calls, quota_index;

static void fake_quota(struct vm *vm, u32 index)
{
	CHECK(vm == VM, "quota report for the device's VM");
	quota_calls++;
	quota_index = index;
}

/* setup_quota: as setup, with an overlay quota in MiB (0: default). */
static void setup_quota(enum disk_mode mode, enum disk_reset rst, u64 iops, u64 bps, u64 quota_mib)
{
	struct disk_image *img;
	char err[160];

	if (blk && blk->tp.pci.slot)
		disk_detach(&disk);
	pci_bus_init(&bus);
	memset(&images, 0, sizeof(images));
	fake_now = 1000000000ull;
	CHECK(disk_image_get(&images, "img", "img.img", image, sizeof(image), &img, err, sizeof(err)) == 0,
	      "image");
	CHECK(disk_attach(&disk, img, mode, rst, iops, bps, quota_mib, &alloc, fake_now) == 0, "disk");
	CHECK(virtio_blk_init(blk, VM, &env, "t", 0, &disk, &mem, now_fn, bounce, sizeof(bounce),
			      fake_quota) == 0, "device");
	CHECK(pci_bus_add(&bus, &blk->tp.pci) == 1, "on slot 1");
	virtio_pci_attached(&blk->tp);
	nmsi = 0;
	nlogs = 0;
	line_changes = 0;
	quota_calls = 0;
	memset(levels, 0, sizeof(levels));
}

static void setup(enum disk_mode mode, enum disk_reset rst, u64 iops, u64 bps)
{
	setup_quota(mode, rst, iops, bps, 0);
}

/* A poll as the monitor makes it, with a budget of plenty. */
static u64 service(u64 now)
{
	u64 budget = ~0ull;

	return virtio_blk_service(blk, now, &budget);
}

#define STD_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
		      VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))

/* ---- tests ---- */

static u32 find_vcap(u8 type, u32 *cap)
{
	u32 slot = blk->tp.pci.slot;
	u32 p = pci_cfg_read(&bus, slot, PCI_CAP_PTR, 1);

	for (u32 n = 0; p && n < 48; n++, p = pci_cfg_read(&bus, slot, p + 1, 1))
		if (pci_cfg_read(&bus, slot, p, 1) == PCI_CAP_ID_VNDR &&
		    pci_cfg_read(&bus, slot, p + 3, 1) == type) {
			*cap = p;
			return pci_cfg_read(&bus, slot, p + 8, 4);
		}
	*cap = 0;
	return 0xFFFFFFFFu;
}

static void test_discovery(void)
{
	u32 slot, c;

	setup(DISK_RW, DISK_KEEP, 0, 0);
	slot = blk->tp.pci.slot;
	CHECK(pci_cfg_read(&bus, slot, PCI_VENDOR_ID, 4) == (0x1042u << 16 | 0x1AF4), "1AF4:1042");
	CHECK(pci_cfg_read(&bus, slot, PCI_REVISION, 1) == 1, "revision 1 (modern)");
	CHECK(pci_cfg_read(&bus, slot, PCI_SUBSYS_VENDOR, 2) == 0x1AF4, "subsystem vendor");
	CHECK(pci_cfg_read(&bus, slot, PCI_CLASS_PROG, 4) >> 8 == 0x0180, "class mass storage");
	CHECK(find_vcap(VIRTIO_PCI_CAP_COMMON_CFG, &c) == VIRTIO_PCI_COMMON && c &&
	      pci_cfg_read(&bus, slot, c + 4, 1) == VIRTIO_PCI_BAR &&
	      pci_cfg_read(&bus, slot, c + 12, 4) >= VIRTIO_PCI_COMMON_LEN, "common cfg capability");
	CHECK(find_vcap(VIRTIO_PCI_CAP_NOTIFY_CFG, &c) == VIRTIO_PCI_NOTIFY && c &&
	      pci_cfg_read(&bus, slot, c + 2, 1) == 20 &&
	      pci_cfg_read(&bus, slot, c + 16, 4) == VIRTIO_PCI_NOTIFY_MULT, "notify capability");
	CHECK(find_vcap(VIRTIO_PCI_CAP_ISR_CFG, &c) == VIRTIO_PCI_ISR, "ISR capability");
	CHECK(find_vcap(VIRTIO_PCI_CAP_DEVICE_CFG, &c) == VIRTIO_PCI_DEVICE, "device cfg capability");
	find_vcap(VIRTIO_PCI_CAP_PCI_CFG, &c);
	CHECK(c != 0, "PCI cfg access capability");
	u32 m = blk->tp.msix.cap;
	CHECK(pci_cfg_read(&bus, slot, m, 1) == PCI_CAP_ID_MSIX &&
	      (pci_cfg_read(&bus, slot, m + 2, 2) & 0x7FF) == 1, "MSI-X with 2 vectors");
	CHECK(pci_cfg_read(&bus, slot, m + 4, 4) == VIRTIO_PCI_MSIX_BAR &&
	      pci_cfg_read(&bus, slot, m + 8, 4) == (VIRTIO_PCI_MSIX_PBA | VIRTIO_PCI_MSIX_BAR),
	      "table and PBA in BAR 1");
	pci_cfg_write(&bus, slot, PCI_BAR0, 4, 0xFFFFFFFFu);
	CHECK(pci_cfg_read(&bus, slot, PCI_BAR0, 4) == (u32)~(VIRTIO_PCI_BAR_SIZE - 1), "BAR 0 size");
	pci_cfg_write(&bus, slot, PCI_BAR0, 4, (u32)(PCI_MMIO_BASE + PCI_SLOT_MMIO));

	bar0 = pci_bar_base(&blk->tp.pci, 0);
	u64 f = device_features();
	CHECK(f & VIRTIO_BIT(VIRTIO_F_VERSION_1), "VERSION_1 offered");
	CHECK((f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)) && (f & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC)),
	      "EVENT_IDX and INDIRECT_DESC offered");
	CHECK(!(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)), "rw disk: no RO");
	wr(VIRTIO_PCI_DFSELECT, 4, 7);
	CHECK(rd(VIRTIO_PCI_DF, 4) == 0, "feature words past 1 read zero");
	CHECK(rd(VIRTIO_PCI_NUM_QUEUES, 2) == 1, "one queue");
	CHECK(rd(VIRTIO_PCI_DEVICE, 8) == IMG_SECTORS, "capacity");
	CHECK(rd(VIRTIO_PCI_DEVICE + 12, 4) == VIRTIO_BLK_SEG_MAX && rd(VIRTIO_PCI_DEVICE + 8, 4) ==
	      VIRTIO_BLK_SIZE_MAX && rd(VIRTIO_PCI_DEVICE + 20, 4) == 512, "seg_max, size_max, blk_size");
	CHECK(rd(VIRTIO_PCI_DEVICE + 0x100, 4) == 0, "past the config: zero");

	/* Negotiation: no VERSION_1, or a bit not offered: refused. */
	CHECK(!negotiate(VIRTIO_BIT(VIRTIO_F_EVENT_IDX)), "legacy driver refused");
	CHECK(!negotiate(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(40)), "unknown feature refused");
	CHECK(negotiate(VIRTIO_BIT(VIRTIO_F_VERSION_1)), "VERSION_1 alone accepted");
	wr(VIRTIO_PCI_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_GF, 4, 0xFFFFFFFFu);
	CHECK(rd(VIRTIO_PCI_GF, 4) == 0, "features frozen after FEATURES_OK");
	wr(VIRTIO_PCI_MSIX_CONFIG, 2, 7);
	CHECK(rd(VIRTIO_PCI_MSIX_CONFIG, 2) == VIRTIO_NO_VECTOR, "vector past the table: NO_VECTOR");
	wr(VIRTIO_PCI_Q_SELECT, 2, 5);
	CHECK(rd(VIRTIO_PCI_Q_SIZE, 2) == 0, "absent queue has size 0");
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET), "enabling an absent queue is ignored");

	/* The same through the PCI configuration access window. */
	find_vcap(VIRTIO_PCI_CAP_PCI_CFG, &c);
	wr(VIRTIO_PCI_DFSELECT, 4, 1);
	pci_cfg_write(&bus, slot, c + 4, 1, VIRTIO_PCI_BAR);
	pci_cfg_write(&bus, slot, c + 8, 4, VIRTIO_PCI_DF);
	pci_cfg_write(&bus, slot, c + 12, 4, 4);
	CHECK(pci_cfg_read(&bus, slot, c + 16, 4) == (u32)(device_features() >> 32), "window read");
	pci_cfg_write(&bus, slot, c + 8, 4, VIRTIO_PCI_Q_SELECT);
	pci_cfg_write(&bus, slot, c + 12, 4, 2);
	pci_cfg_write(&bus, slot, c + 16, 4, 0);
	CHECK(rd(VIRTIO_PCI_Q_SELECT, 2) == 0, "window write");
	pci_cfg_write(&bus, slot, c + 8, 4, VIRTIO_PCI_BAR_SIZE - 2);
	pci_cfg_write(&bus, slot, c + 12, 4, 4);
	CHECK(pci_cfg_read(&bus, slot, c + 16, 4) == 0, "window past the BAR: nothing");
	CHECK(nlogs == 0, "nothing reported");
}

static void test_io(void)
{
	setup(DISK_RW, DISK_DISCARD, 0, 0);
	drv_init(STD_FEATURES, true, 16);

	/* Read 3 sectors from sector 5. */
	u16 h = submit(VIRTIO_BLK_T_IN, 5, DATA, 3 * 512, true);
	CHECK(used_idx() == 1 && used_id(0) == h && used_len(0) == 3 * 512 + 1, "read completed");
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "status OK");
	CHECK(!memcmp(ram + DATA, image + 5 * 512, 3 * 512), "data from the image");
	CHECK(nmsi == 1 && msis[0].addr == 0xFEE00000u && msis[0].data == 0x41, "MSI-X vector 1");

	/* Write 2 sectors at 7, read 4 from 6 back. */
	memset(ram + DATA, 0xA5, 1024);
	set_used_event(1);
	h = submit(VIRTIO_BLK_T_OUT, 7, DATA, 1024, true);
	CHECK(used_idx() == 2 && ram[STATUS + h] == VIRTIO_BLK_S_OK && used_len(1) == 1, "write OK");
	CHECK(!memcmp(image, image_copy, sizeof(image)), "the image is never written");
	set_used_event(2);
	memset(ram + DATA, 0, 4096);
	h = submit(VIRTIO_BLK_T_IN, 6, DATA, 2048, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "read back OK");
	CHECK(!memcmp(ram + DATA, image + 6 * 512, 512) && ram[DATA + 512] == 0xA5 &&
	      ram[DATA + 1535] == 0xA5 && !memcmp(ram + DATA + 1536, image + 9 * 512, 512),
	      "overlay over the image");
	CHECK(disk.st.read_bytes == 3 * 512 + 2048 && disk.st.write_bytes == 1024 &&
	      disk.st.requests == 3, "counters");
	CHECK(nmsi == 3, "one interrupt per request when used_event asks");

	/* GET_ID, FLUSH, an unknown type, out of range. */
	set_used_event(3);
	h = submit(VIRTIO_BLK_T_GET_ID, 0, DATA, 20, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && !memcmp(ram + DATA, "img-0\0", 6) &&
	      used_len(3) == 21, "GET_ID");
	h = submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "FLUSH");
	h = submit(99, 0, 0, 0, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_UNSUPP, "unknown type: UNSUPP");
	h = submit(VIRTIO_BLK_T_IN, IMG_SECTORS - 1, DATA, 1024, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "read past the end: IOERR");
	h = submit(VIRTIO_BLK_T_OUT, ~0ull / 1024, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "write far past the end: IOERR");
	CHECK(used_idx() == 8 && disk.st.errors == 2, "all completed, errors counted");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET) && nlogs == 0, "device still fine");

	/* Device reset drops the queue; the overlay stays (VM reset decides). */
	set_status(0);
	CHECK(status() == 0 && rd(VIRTIO_PCI_Q_ENABLE, 2) == 0 && blk->q.size == 0, "reset");
	CHECK(disk.overlay.data_blocks == 2, "overlay kept across a device reset (sectors 7-8: blocks 0-1)");
	disk_vm_reset(&disk);
	CHECK(disk.overlay.data_blocks == 0, "discard overlay emptied at VM reset");
}

static void test_ro(void)
{
	setup(DISK_RO, DISK_KEEP, 0, 0);
	bar0 = pci_bar_base(&blk->tp.pci, 0);
	CHECK(device_features() & VIRTIO_BIT(VIRTIO_BLK_F_RO), "RO offered");
	drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_BLK_F_RO), true, 8);
	u16 h = submit(VIRTIO_BLK_T_OUT, 0, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "write to ro: IOERR");
	h = submit(VIRTIO_BLK_T_IN, 0, DATA, 4096, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && !memcmp(ram + DATA, image, 4096), "ro read");
	CHECK(disk.st.write_bytes == 0 && disk.st.errors == 1, "no bytes written");
}

/* With EVENT_IDX a batch costs one notification and one interrupt. */
static void test_event_idx(void)
{
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 32);
	for (u32 i = 0; i < 10; i++)
		submit(VIRTIO_BLK_T_IN, i, DATA + 4096ull * i, 512, false);
	set_used_event(9); /* interrupt only when the 10th is used */
	notify();
	CHECK(used_idx() == 10, "whole batch from one notification");
	CHECK(nmsi == 1, "one interrupt for the batch");
	CHECK(avail_event() == 10, "avail_event asks for the next chain");
	for (u32 i = 0; i < 10; i++)
		CHECK(!memcmp(ram + DATA + 4096ull * i, image + 512 * i, 512), "batch data");
	set_used_event(100);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(used_idx() == 11 && nmsi == 1, "used_event far ahead: no interrupt");

	/* Without EVENT_IDX: NO_INTERRUPT in avail->flags is honoured. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(VIRTIO_BIT(VIRTIO_F_VERSION_1), true, 8);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(used_idx() == 1 && nmsi == 0, "NO_INTERRUPT honoured");
	put16(AVAIL, 0);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 1, "interrupt again");

	/* Indirect descriptors. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), true, 8);
	put32(HDRS, VIRTIO_BLK_T_IN);
	put64(HDRS + 8, 2);
	desc(ITAB, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(ITAB, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(ITAB, 2, DATA + 512, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	desc(ITAB, 3, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITAB, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(0);
	notify();
	CHECK(used_idx() == 1 && ram[STATUS] == 0 && !memcmp(ram + DATA, image + 1024, 1024),
	      "indirect chain");
}

static void test_interrupts(void)
{
	u32 slot, gsi;

	/* INTx: ISR bit, line up, read clears and lowers it. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, false, 8);
	slot = blk->tp.pci.slot;
	gsi = PCI_INTX_GSI(slot);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 0 && levels[gsi], "INTx asserted");
	CHECK(pci_cfg_read(&bus, slot, PCI_STATUS, 2) & PCI_STATUS_INTX, "interrupt status bit");
	u64 probe = 0;
	CHECK(pci_mmio(&bus, bar0 + VIRTIO_PCI_ISR, false, 0, &probe) == DEV_OK && levels[gsi],
	      "a probe does not read the ISR");
	CHECK(rd(VIRTIO_PCI_ISR, 1) == VIRTIO_ISR_QUEUE, "ISR says queue");
	CHECK(!levels[gsi] && rd(VIRTIO_PCI_ISR, 1) == 0, "read cleared it, line low");
	set_used_event(1);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(levels[gsi], "asserted again");
	pci_cfg_write(&bus, slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	CHECK(!levels[gsi], "INTx disable lowers the line");
	pci_cfg_write(&bus, slot, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(levels[gsi], "and enabling raises it again");
	msix_enable(true);
	CHECK(!levels[gsi], "MSI-X on: INTx off");

	/* MSI-X masking: per vector and the function mask, with the PBA. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 8);
	msix_wr(16 + 12, 1); /* mask vector 1 */
	set_used_event(0);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 0 && (msix_rd(VIRTIO_PCI_MSIX_PBA) & 2), "masked: pending bit");
	msix_wr(16 + 12, 0);
	CHECK(nmsi == 1 && msis[0].data == 0x41 && !(msix_rd(VIRTIO_PCI_MSIX_PBA) & 2),
	      "unmask delivers it");
	u32 m = blk->tp.msix.cap;
	pci_cfg_write(&bus, slot, m + 2, 2, 0xC000); /* enable + mask all */
	set_used_event(1);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(nmsi == 1 && (msix_rd(VIRTIO_PCI_MSIX_PBA) & 2), "function mask: pending");
	pci_cfg_write(&bus, slot, m + 2, 2, 0x8000);
	CHECK(nmsi == 2, "function unmask delivers");
	CHECK(msix_rd(16 + 8) == 0x41 && msix_rd(0x7F0) == 0, "table reads back; past it zero");
	u64 v = 0;
	pci_mmio(&bus, bar1 + 2, false, 4, &v);
	CHECK(v == 0, "misaligned table access ignored");
}

static void test_throttle(void)
{
	/* 10 requests a second: 1 + 1 pass at once (100 ms burst). */
	setup(DISK_RW, DISK_KEEP, 10, 0);
	drv_init(STD_FEATURES, true, 32);
	set_used_event(0xFFFF);
	for (u32 i = 0; i < 6; i++)
		submit(VIRTIO_BLK_T_IN, i, DATA + 512 * i, 512, false);
	notify();
	CHECK(used_idx() == 2, "burst passes");
	CHECK(disk.st.throttled_requests == 1 && disk.st.throttled_bytes == 512, "one waits, counted once");
	u64 at = virtio_blk_ready_at(blk);
	CHECK(at == fake_now + 100000000ull, "ready 100 ms later");
	notify();
	CHECK(used_idx() == 2 && disk.st.throttled_requests == 1, "a notify does not jump the queue");
	CHECK(service(at - 1) == at && used_idx() == 2, "too early: nothing");
	u64 t = at, steps = 0;
	while (used_idx() < 6 && steps++ < 10) {
		fake_now = t;
		t = service(t);
	}
	CHECK(used_idx() == 6 && steps == 4, "the rest one per 100 ms, none failed");
	CHECK(t == 0 && !blk->pending, "nothing waits any more");
	CHECK(fake_now == 1000000000ull + 400000000ull, "paced at the rate");
	CHECK(disk.st.throttled_requests == 4, "each delayed request counted");
	for (u32 i = 0; i < 6; i++)
		CHECK(ram[STATUS + 3 * i] == VIRTIO_BLK_S_OK &&
		      !memcmp(ram + DATA + 512 * i, image + 512 * i, 512), "throttled data intact");

	/* Bytes: 64 KiB/s, 8 KiB requests. */
	setup(DISK_RW, DISK_KEEP, 0, 65536);
	drv_init(STD_FEATURES, true, 32);
	for (u32 i = 0; i < 4; i++)
		submit(VIRTIO_BLK_T_OUT, 16 * i, DATA, 8192, false);
	notify();
	CHECK(used_idx() == 1 && disk.st.throttled_bytes == 8192, "bytes bucket defers the second");
	CHECK(virtio_blk_ready_at(blk) == fake_now + 125000000ull - 100000000ull, "ready when paid");
	/* A driver that polls its status gets it without a timer's help. */
	fake_now = virtio_blk_ready_at(blk) - 1;
	(void)status();
	CHECK(used_idx() == 1, "register access before it is due: nothing");
	fake_now++;
	(void)status();
	CHECK(used_idx() == 2 && blk->pending, "register access when due completes it; the next waits");

	/* A device reset with a request waiting forgets it cleanly. */
	set_status(0);
	CHECK(!blk->pending && service(~0ull) == 0, "reset drops the waiting request");
	CHECK(disk.st.requests == 2, "nothing completed after the reset");
}

/* Each malformed shape: NEEDS_RESET, a config interrupt, a report, and
 * the device then ignores notifications until reset. */
static void expect_broken(const char *what)
{
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, what);
	CHECK(nlogs == 1 && strstr(last_log, "needs reset"), "reported once");
	CHECK(nmsi >= 1 && msis[nmsi - 1].data == 0x40, "config-change interrupt (vector 0)");
	u16 before = used_idx();
	submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(used_idx() == before, "a failed device does nothing");
	set_status(0);
	CHECK(status() == 0 && blk->tp.fail_reason == NULL, "reset clears it");
	drv_init(STD_FEATURES, true, 16);
	nlogs = 0;
	submit(VIRTIO_BLK_T_IN, 1, DATA, 512, true);
	CHECK(used_idx() == 1 && ram[STATUS] == VIRTIO_BLK_S_OK, "works again after reset");
}

static void test_malformed(void)
{
	setup(DISK_RW, DISK_KEEP, 0, 0);

	drv_init(STD_FEATURES, true, 16);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0); /* loop */
	avail_push(0);
	notify();
	expect_broken("descriptor loop");

	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	put32(HDRS, VIRTIO_BLK_T_IN);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, RAM_SIZE - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(DESC, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_push(0);
	notify();
	expect_broken("buffer past the end of guest RAM");

	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 200); /* next >= size */
	avail_push(0);
	notify();
	expect_broken("next index out of range");

	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	avail_push(77); /* head out of range */
	notify();
	expect_broken("head index out of range");

	/* An indirect table of 300 data segments: over VIRTQ_MAX_SEGS. */
	nlogs = 0;
	drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), true, 16);
	put32(HDRS, VIRTIO_BLK_T_IN);
	desc(ITAB, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	for (u32 i = 1; i < 301; i++)
		desc(ITAB, i, DATA + 512 * i, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1));
	desc(ITAB, 301, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, 0, ITAB, 302 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(0);
	notify();
	expect_broken("oversized chain");

	/* Indirect without negotiating it. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	desc(DESC, 0, ITAB, 64, VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(0);
	notify();
	expect_broken("indirect not negotiated");

	/* A request with no status byte (all readable). */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	put32(HDRS, VIRTIO_BLK_T_OUT);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(DESC, 1, DATA, 512, 0, 0);
	avail_push(0);
	notify();
	expect_broken("request without status");

	/* Data not whole sectors. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	submit(VIRTIO_BLK_T_IN, 0, DATA, 100, true);
	expect_broken("partial sector");

	/* avail->idx runs more than a queue ahead. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	put16(AVAIL + 2, 40);
	notify();
	expect_broken("avail idx too far ahead");

	/* Rings outside RAM at enable: a 64-bit address far away. */
	nlogs = 0;
	drv_init(STD_FEATURES, true, 16);
	set_status(0);
	CHECK(negotiate(STD_FEATURES), "renegotiated");
	wr(VIRTIO_PCI_Q_SIZE, 2, 16);
	wr(VIRTIO_PCI_Q_DESC, 8, 1ull << 50);
	wr(VIRTIO_PCI_Q_DRIVER, 8, AVAIL);
	wr(VIRTIO_PCI_Q_DEVICE, 8, USED);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	set_status(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	put16(AVAIL + 2, 1);
	notify();
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, "descriptor table outside RAM");

	/* Bad queue parameters at enable. */
	nlogs = 0;
	set_status(0);
	CHECK(negotiate(STD_FEATURES), "renegotiated");
	wr(VIRTIO_PCI_Q_SIZE, 2, 12);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK((status() & VIRTIO_STATUS_NEEDS_RESET) && rd(VIRTIO_PCI_Q_ENABLE, 2) == 0,
	      "queue size not a power of two");
	set_status(0);
	CHECK(negotiate(STD_FEATURES), "renegotiated");
	wr(VIRTIO_PCI_Q_DESC, 8, DESC + 8);
	wr(VIRTIO_PCI_Q_ENABLE, 2, 1);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, "misaligned descriptor table");
	set_status(VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK(status() & VIRTIO_STATUS_NEEDS_RESET, "the driver cannot clear NEEDS_RESET");
}

/* A request of nsegs data segments of seglen bytes, all at the same
 * guest address buf (aliasing), direction by type, in an indirect table
 * so it fits any queue: returns the head (always 0 + k for request k). */
static u16 submit_alias(u16 h, u32 type, u64 sector, u64 buf, u32 seglen, u32 nsegs)
{
	u64 tab = ITAB + 0x2000ull * h;
	u16 wf = type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0;
	u32 i;

	put32(HDRS + 16ull * h, type);
	put32(HDRS + 16ull * h + 4, 0);
	put64(HDRS + 16ull * h + 8, sector);
	ram[STATUS + h] = 0xEE;
	desc(tab, 0, HDRS + 16ull * h, 16, VIRTQ_DESC_F_NEXT, 1);
	for (i = 1; i <= nsegs; i++)
		desc(tab, i, buf, seglen, VIRTQ_DESC_F_NEXT | wf, (u16)(i + 1));
	desc(tab, i, STATUS + h, 1, VIRTQ_DESC_F_WRITE, 0);
	desc(DESC, h, tab, 16 * (nsegs + 2), VIRTQ_DESC_F_INDIRECT, 0);
	avail_push(h);
	return h;
}

#define IND_FEATURES (STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

/* The advertised limits hold: a data segment over size_max or more than
 * seg_max of them is an I/O error with nothing copied; aliasing segments
 * within the limits still move only a budget's worth per exit; one head
 * that takes every descriptor of the ring is an error, not a stall. */
static void test_limits(void)
{
	u64 work;
	u16 h;

	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(IND_FEATURES, true, 16);
	memset(ram + BIGBUF, 0x77, 2 * MIB);
	h = submit_alias(0, VIRTIO_BLK_T_IN, 0, BIGBUF, VIRTIO_BLK_SIZE_MAX + 512, 1);
	notify();
	CHECK(used_idx() == 1 && ram[STATUS + h] == VIRTIO_BLK_S_IOERR && used_len(0) == 1,
	      "a segment over size_max: IOERR");
	CHECK(ram[BIGBUF] == 0x77 && disk.st.read_bytes == 0, "nothing copied for it");
	h = submit_alias(1, VIRTIO_BLK_T_OUT, 0, BIGBUF, 4096, VIRTIO_BLK_SEG_MAX + 1);
	notify();
	CHECK(used_idx() == 2 && ram[STATUS + h] == VIRTIO_BLK_S_IOERR, "seg_max + 1 segments: IOERR");
	CHECK(disk.st.write_bytes == 0 && disk.overlay.data_blocks == 0, "nothing written for it");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET) && nlogs == 0, "the device goes on");

	/* Within the limits: 126 segments all aliasing one 16 KiB buffer,
	 * 2016 KiB of copying. One exit does at most its budget. */
	work = blk->work_bytes;
	h = submit_alias(2, VIRTIO_BLK_T_IN, 0, BIGBUF, 16384, VIRTIO_BLK_SEG_MAX);
	notify();
	CHECK(blk->work_bytes - work <= VIRTIO_BLK_EXIT_BUDGET, "one exit: at most its budget");
	CHECK(used_idx() == 2 && blk->backlog, "the aliased request is not done in one exit");
	for (u32 polls = 0; used_idx() == 2 && polls < 100; polls++)
		service(fake_now);
	CHECK(used_idx() == 3 && ram[STATUS + h] == VIRTIO_BLK_S_OK &&
	      used_len(2) == 16384 * VIRTIO_BLK_SEG_MAX + 1, "completed across polls");
	CHECK(!memcmp(ram + BIGBUF, image + 16384 * (VIRTIO_BLK_SEG_MAX - 1), 16384),
	      "the last segment's data landed last");
	/* Exactly size_max in one segment is fine. */
	h = submit_alias(3, VIRTIO_BLK_T_IN, 8, BIGBUF, VIRTIO_BLK_SIZE_MAX, 1);
	notify();
	for (u32 polls = 0; used_idx() == 3 && polls < 100; polls++)
		service(fake_now);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && !memcmp(ram + BIGBUF, image + 8 * 512, MIB),
	      "size_max exactly: OK");

	/* One head filling the whole ring (queue of 256): header, 254 data
	 * descriptors, status. Over seg_max: IOERR; the device still works. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 256);
	put32(HDRS, VIRTIO_BLK_T_IN);
	put64(HDRS + 8, 0);
	desc(DESC, 0, HDRS, 16, VIRTQ_DESC_F_NEXT, 1);
	for (u32 i = 1; i < 255; i++)
		desc(DESC, i, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, (u16)(i + 1));
	desc(DESC, 255, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_push(0);
	notify();
	CHECK(used_idx() == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR, "one head filling the ring: IOERR");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET) && disk.st.read_bytes == 0, "no copy, device fine");
	next_head = 0;
	h = submit(VIRTIO_BLK_T_IN, 3, DATA, 512, true);
	CHECK(used_idx() == 2 && ram[STATUS + h] == VIRTIO_BLK_S_OK, "and the next request works");
}

/* A notification whose work passes the exit budget: the rest goes on at
 * the next polls, each within its budget, in order, nothing lost. */
static void test_budget(void)
{
	u64 budget, left;
	u32 polls = 0;

	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 32);
	blk->exit_budget = 20000;
	set_used_event(0xFFFF);
	for (u32 i = 0; i < 8; i++)
		submit(i & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 64ull * i, DATA + 0x4000ull * i, 0x4000, false);
	for (u32 i = 1; i < 8; i += 2)
		memset(ram + DATA + 0x4000ull * i, 0x30 + i, 0x4000);
	notify();
	CHECK(used_idx() == 1, "the exit stopped at its budget after one 16 KiB request");
	CHECK(blk->backlog && virtio_blk_ready_at(blk) == fake_now, "a backlog, due now");
	while (used_idx() < 8 && polls++ < 50) {
		budget = 10000;
		left = budget;
		service(fake_now);	/* plenty: must not be needed to finish */
		CHECK(used_idx() <= 8, "sanity");
		if (used_idx() == 8)
			break;
		(void)virtio_blk_service(blk, fake_now, &left);
		CHECK(left <= budget, "a poll spends at most its budget");
	}
	CHECK(used_idx() == 8, "every request completed");
	for (u16 k = 0; k < 8; k++)
		CHECK(used_id(k) == 3 * k && ram[STATUS + 3 * k] == VIRTIO_BLK_S_OK, "in order, all OK");
	for (u32 i = 0; i < 8; i += 2)
		CHECK(!memcmp(ram + DATA + 0x4000ull * i, image + 512 * 64ull * i, 0x4000), "read data intact");
	for (u32 i = 1; i < 8; i += 2) {
		u8 back[0x4000];

		CHECK(disk_read(&disk, 64ull * i, 32, back) == 0 && back[0] == 0x30 + i &&
		      back[0x3FFF] == 0x30 + i, "written data intact");
	}
	CHECK(!blk->backlog && virtio_blk_ready_at(blk) == 0, "nothing left");

	/* Small polls only: progress of at most the budget each, still in
	 * order; a poll with no budget does nothing. */
	setup(DISK_RW, DISK_KEEP, 0, 0);
	drv_init(STD_FEATURES, true, 32);
	blk->exit_budget = 0;
	submit(VIRTIO_BLK_T_IN, 0, DATA, 0x4000, false);
	submit(VIRTIO_BLK_T_IN, 32, DATA + 0x4000, 0x4000, true);
	CHECK(used_idx() == 0 && blk->backlog, "no exit budget: everything deferred");
	left = 0;
	CHECK(virtio_blk_service(blk, fake_now, &left) == fake_now && used_idx() == 0,
	      "no poll budget: nothing done, still due");
	polls = 0;
	while (used_idx() < 2 && polls++ < 100) {
		left = 4096;
		virtio_blk_service(blk, fake_now, &left);
	}
	CHECK(used_idx() == 2 && used_id(0) == 0 && used_id(1) == 3, "in order with 4 KiB polls");
	CHECK(polls >= 8 && polls <= 10, "about 32 KiB / 4 KiB polls");
	CHECK(!memcmp(ram + DATA, image, 0x8000), "data intact");
}

/* The overlay quota: past it a write is an I/O error, reported once per
 * disk; reads, writes within what is held and other requests go on. */
static void test_quota(void)
{
	u32 n_ok = 0, n_err = 0;
	u16 h;

	setup_quota(DISK_RW, DISK_KEEP, 0, 0, 1);
	drv_init(STD_FEATURES, true, 16);
	memset(ram + BIGBUF, 0x42, 0x10000);
	/* 1 MiB = 256 pages: one index page and 255 blocks of 4 KiB. */
	for (u32 i = 0; i < 20; i++) {
		h = submit(VIRTIO_BLK_T_OUT, 128ull * i, BIGBUF, 0x10000, true);
		if (ram[STATUS + h] == VIRTIO_BLK_S_OK)
			n_ok++;
		else if (ram[STATUS + h] == VIRTIO_BLK_S_IOERR)
			n_err++;
	}
	CHECK(n_ok == 15 && n_err == 5, "15 writes of 64 KiB fit in 1 MiB, the rest are IOERR");
	CHECK(disk.overlay.data_blocks + disk.overlay.index_pages <= 256, "held within the quota");
	CHECK(disk.st.quota_errors >= 5 && quota_calls == 1 && quota_index == 0, "reported once");
	CHECK(!(status() & VIRTIO_STATUS_NEEDS_RESET), "the device goes on");
	h = submit(VIRTIO_BLK_T_IN, 0, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK && ram[DATA] == 0x42, "reads work");
	h = submit(VIRTIO_BLK_T_OUT, 0, DATA + 0x1000, 4096, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_OK, "rewriting held blocks works");
	h = submit(VIRTIO_BLK_T_OUT, 3000, DATA, 512, true);
	CHECK(ram[STATUS + h] == VIRTIO_BLK_S_IOERR && quota_calls == 1, "still refused, not reported again");
	CHECK(!memcmp(image, image_copy, sizeof(image)), "the image is never written");
}

/* Random register writes and random rings: never a crash or an access
 * outside RAM (ASan), the device either works or needs a reset. */
static void test_fuzz(void)
{
	static const u32 offs[] = {
		VIRTIO_PCI_DFSELECT, VIRTIO_PCI_GFSELECT, VIRTIO_PCI_GF, VIRTIO_PCI_MSIX_CONFIG,
		VIRTIO_PCI_STATUS, VIRTIO_PCI_Q_SELECT, VIRTIO_PCI_Q_SIZE, VIRTIO_PCI_Q_MSIX,
		VIRTIO_PCI_Q_ENABLE, VIRTIO_PCI_Q_DESC, VIRTIO_PCI_Q_DESC + 4, VIRTIO_PCI_Q_DRIVER,
		VIRTIO_PCI_Q_DEVICE, VIRTIO_PCI_NOTIFY, VIRTIO_PCI_ISR, VIRTIO_PCI_DEVICE,
	};
	unsigned completed = 0, broken = 0;

	setup(DISK_RW, DISK_DISCARD, 1000, 0);
	check_rng_state = 0xB10CB10Cull;
	for (u32 round = 0; round < 3000; round++) {
		drv_init(STD_FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC), check_rand_below(2), 16);
		/* Mostly plausible chains, with random corruption. */
		for (u32 i = 0; i < 4; i++)
			submit((u32)check_rand_below(10), check_rand_below(IMG_SECTORS + 4),
			       DATA + 4096 * check_rand_below(8), 512 * (u32)check_rand_below(5), false);
		for (u32 k = check_rand_below(6); k; k--) {
			u64 gpa = k & 1 ? DESC + check_rand_below(16 * 16) : AVAIL + check_rand_below(4 + 2 * 16 + 2);
			ram[gpa] = (u8)check_rand();
		}
		for (u32 k = 0; k < 8; k++) {
			u32 off = offs[check_rand_below(ARRAY_SIZE(offs))] + (u32)check_rand_below(2);
			u32 size = 1u << check_rand_below(4);

			if (check_rand_below(3))
				wr(off, size, check_rand());
			else
				(void)rd(off, size);
			if (check_rand_below(2))
				notify();
			fake_now += check_rand_below(50000000);
			service(fake_now);
		}
		completed += used_idx();
		broken += !!(status() & VIRTIO_STATUS_NEEDS_RESET);
	}
	CHECK(!memcmp(image, image_copy, sizeof(image)), "fuzz: the image is never written");
	CHECK(completed > 1000 && broken > 100, "fuzz: reaches completions and failures");
	printf("fuzz: %u completions, %u rounds ended broken\n", completed, broken);
	set_status(0);
}

int main(void)
{
	ram = malloc(RAM_SIZE);
	blk = calloc(1, sizeof(*blk));
	if (!ram || !blk)
		abort();
	for (u32 i = 0; i < sizeof(image); i++)
		image[i] = (u8)(i / 512 * 7 + i % 251);
	memcpy(image_copy, image, sizeof(image));
	test_discovery();
	test_io();
	test_ro();
	test_event_idx();
	test_interrupts();
	test_throttle();
	test_malformed();
	test_limits();
	test_budget();
	test_quota();
	test_fuzz();
	disk_detach(&disk);
	free(blk);
	free(ram);
	return check_summary();
}
