/* The virtio-blk test rig shared by test_virtio_blk.c and
 * test_virtio_blk_limits.c: a fake monitor (guest RAM on the heap so a
 * stray access trips AddressSanitizer, a settable clock, recorded MSIs,
 * INTx levels and log lines, a malloc page allocator) and the driver side
 * (configuration cycles, BAR accesses, rings and requests built in guest
 * RAM), around one virtio-blk device on one disk. Each test file includes
 * it once; everything is static to that test. */
#ifndef CG_TEST_VIRTIO_BLK_RIG_H
#define CG_TEST_VIRTIO_BLK_RIG_H

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

static inline void *gmap(void *ctx, u64 gpa, u64 len)
{
	(void)ctx;
	if (!len || gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

static const struct virtq_mem mem = { gmap, NULL };

static inline u64 now_fn(void)
{
	return fake_now;
}

static struct { u64 addr; u32 data; } msis[64];
static u32 nmsi;
static bool levels[32];
static u32 line_changes;
static char last_log[256];
static u32 nlogs;

static inline int fake_msi(struct vm *vm, u64 addr, u32 data)
{
	CHECK(vm == VM, "msi for the device's VM");
	if (nmsi < 64) {
		msis[nmsi].addr = addr;
		msis[nmsi].data = data;
	}
	nmsi++;
	return 0;
}

static inline void fake_line(struct vm *vm, u32 gsi, bool level)
{
	CHECK(vm == VM && gsi < 32, "line of the device's VM");
	levels[gsi] = level;
	line_changes++;
}

static inline void fake_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	nlogs++;
}

static const struct virtio_pci_env env = { fake_msi, fake_line, fake_log };

static inline void *pg_alloc(void *ctx, u64 n)
{
	(void)ctx;
	return aligned_alloc(4096, n * 4096);
}

static inline void pg_free(void *ctx, void *p, u64 n)
{
	(void)ctx;
	(void)n;
	free(p);
}

static const struct blk_overlay_alloc alloc = { pg_alloc, pg_free, NULL };

/* ---- guest memory helpers ---- */

static inline void put16(u64 gpa, u16 v) { memcpy(ram + gpa, &v, 2); }
static inline void put32(u64 gpa, u32 v) { memcpy(ram + gpa, &v, 4); }
static inline void put64(u64 gpa, u64 v) { memcpy(ram + gpa, &v, 8); }
static inline u16 get16(u64 gpa) { u16 v; memcpy(&v, ram + gpa, 2); return v; }
static inline u32 get32(u64 gpa) { u32 v; memcpy(&v, ram + gpa, 4); return v; }

static inline void desc(u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next)
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

static inline u64 rd(u64 off, u32 size)
{
	u64 v = 0;

	CHECK(pci_mmio(&bus, bar0 + off, false, size, &v) == DEV_OK, "BAR read DEV_OK");
	return v;
}

static inline void wr(u64 off, u32 size, u64 v)
{
	CHECK(pci_mmio(&bus, bar0 + off, true, size, &v) == DEV_OK, "BAR write DEV_OK");
}

static inline void msix_wr(u64 off, u32 v)
{
	u64 x = v;

	pci_mmio(&bus, bar1 + off, true, 4, &x);
}

static inline u32 msix_rd(u64 off)
{
	u64 x = 0;

	pci_mmio(&bus, bar1 + off, false, 4, &x);
	return (u32)x;
}

static inline u8 status(void)
{
	return (u8)rd(VIRTIO_PCI_COMMON + VIRTIO_PCI_STATUS, 1);
}

static inline void set_status(u8 s)
{
	wr(VIRTIO_PCI_COMMON + VIRTIO_PCI_STATUS, 1, s);
}

static inline u64 device_features(void)
{
	wr(VIRTIO_PCI_DFSELECT, 4, 0);
	u64 lo = rd(VIRTIO_PCI_DF, 4);
	wr(VIRTIO_PCI_DFSELECT, 4, 1);
	return lo | rd(VIRTIO_PCI_DF, 4) << 32;
}

static inline bool negotiate(u64 f)
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

static inline void msix_enable(bool on)
{
	u32 c = blk->tp.msix.cap;

	pci_cfg_write(&bus, blk->tp.pci.slot, c + 2, 2, on ? 0x8000 : 0);
}

/* Bring the device up: features, queue 0 of size qs, MSI-X (vector 0
 * for config changes, 1 for the queue) or INTx. */
static inline void drv_init(u64 f, bool msix, u32 qs)
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

static inline void notify(void)
{
	wr(VIRTIO_PCI_NOTIFY, 2, 0);
}

static inline void avail_push(u16 head)
{
	put16(AVAIL + 4 + 2ull * (avail_idx % qsize), head);
	avail_idx++;
	put16(AVAIL + 2, avail_idx);
}

/* One request as three descriptors (header, data, status); returns its
 * head. data_write: the device writes the data (IN, GET_ID). */
static inline u16 submit(u32 type, u64 sector, u64 data, u32 len, bool kick)
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

static inline u16 used_idx(void)
{
	return get16(USED + 2);
}

static inline u32 used_len(u16 k)
{
	return get32(USED + 4 + 8ull * (k % qsize) + 4);
}

static inline u32 used_id(u16 k)
{
	return get32(USED + 4 + 8ull * (k % qsize));
}

static inline void set_used_event(u16 v)
{
	put16(AVAIL + 4 + 2ull * qsize, v);
}

static inline u16 avail_event(void)
{
	return get16(USED + 4 + 8ull * qsize);
}

/* ---- device set-up ---- */

static u32 quota_calls, quota_index;

static inline void fake_quota(struct vm *vm, u32 index)
{
	CHECK(vm == VM, "quota report for the device's VM");
	quota_calls++;
	quota_index = index;
}

/* setup_quota: as setup, with an overlay quota in MiB (0: default). */
static inline void setup_quota(enum disk_mode mode, enum disk_reset rst, u64 iops, u64 bps, u64 quota_mib)
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

static inline void setup(enum disk_mode mode, enum disk_reset rst, u64 iops, u64 bps)
{
	setup_quota(mode, rst, iops, bps, 0);
}

/* A poll as the monitor makes it, with a budget of plenty. */
static inline u64 service(u64 now)
{
	u64 budget = ~0ull;

	return virtio_blk_service(blk, now, &budget);
}

#define STD_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
		      VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH))

/* rig_open: guest RAM, the device's memory and the image's pattern. */
static inline void rig_open(void)
{
	ram = malloc(RAM_SIZE);
	blk = calloc(1, sizeof(*blk));
	if (!ram || !blk)
		abort();
	for (u32 i = 0; i < sizeof(image); i++)
		image[i] = (u8)(i / 512 * 7 + i % 251);
	memcpy(image_copy, image, sizeof(image));
}

/* rig_close: the disk detached, everything freed (LeakSanitizer). */
static inline void rig_close(void)
{
	disk_detach(&disk);
	free(blk);
	free(ram);
}

#endif
