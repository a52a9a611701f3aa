/* virtio-blk over the modern virtio PCI transport, polled (see
 * virtio_blk.h). Section numbers are virtio 1.1's. */
#include "virtio_blk.h"
#include "guest.h"

/* Vendor-specific PCI capability carrying a virtio structure (4.1.4):
 * cap_vndr 0x09, cap_next, cap_len, cfg_type, bar, id, padding[2],
 * offset (le32), length (le32); the notify capability adds
 * notify_off_multiplier (le32) after it. */
#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_CAP_CFG_TYPE 3
#define VIRTIO_CAP_BAR 4
#define VIRTIO_CAP_OFFSET 8
#define VIRTIO_CAP_NOTIFY_MULT 16
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4

/* struct virtio_pci_common_cfg (4.1.4.3). */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0C
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_CONFIG_GENERATION 0x15
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_ENABLE 0x1C
#define CC_QUEUE_NOTIFY_OFF 0x1E
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30

/* virtio_blk_config.capacity (5.2.4), in 512-byte sectors. */
#define BLK_CFG_CAPACITY 0x00

/* Where the parts live in the caller's page: each is aligned as 2.6
 * requires (descriptors 16, available ring 2, used ring 4) and sized for
 * VBLK_QSIZE_MAX entries. */
#define RING_DESC 0
#define RING_AVAIL 2048
#define RING_USED 2560
#define RING_HDR 3600
#define RING_STATUS 3616

#define RESET_SPINS (1u << 20)
#define DEFAULT_TIMEOUT (1u << 24)
#define STATUS_POLL_EVERY 1024u
#define RENOTIFY_EVERY 65536u

/* Plain MOVs of the width the field has (4.1.3.1): the monitor sees the
 * exact access a driver makes. */
static inline u8 rd8(u32 a)
{
	u8 v;
	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
	return v;
}

static inline u16 rd16(u32 a)
{
	u16 v;
	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline u32 rd32(u32 a)
{
	u32 v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	return v;
}

static inline void wr8(u32 a, u8 v) { __asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory"); }
static inline void wr16(u32 a, u16 v) { __asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory"); }
static inline void wr32(u32 a, u32 v) { __asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory"); }
/* 64-bit fields as two 32-bit halves, low first (4.1.3.1 allows it). */
static inline void wr64(u32 a, u64 v)
{
	wr32(a, (u32)v);
	wr32(a + 4, (u32)(v >> 32));
}

static inline void barrier(void) { __asm__ volatile("" : : : "memory"); }

/* The MMIO address of the structure a virtio capability at `cap` points at. */
static int cap_addr(pci_bdf bdf, u8 cap, u32 *out)
{
	u8 bar = pci_read8(bdf, (u8)(cap + VIRTIO_CAP_BAR));
	bool high;
	u32 base = pci_bar_mem(bdf, bar, &high);
	if (!base || high)
		return VBLK_EBAR;
	*out = base + pci_read32(bdf, (u8)(cap + VIRTIO_CAP_OFFSET));
	return VBLK_OK;
}

/* Fills in the structure addresses from the first capability of each type (4.1.4). */
static int find_caps(struct vblk *d)
{
	bool seen[5] = { false };
	for (u8 cap = pci_find_cap(d->bdf, PCI_CAP_ID_VNDR, 0); cap; cap = pci_find_cap(d->bdf, PCI_CAP_ID_VNDR, cap)) {
		u8 type = pci_read8(d->bdf, (u8)(cap + VIRTIO_CAP_CFG_TYPE));
		if (type < 1 || type > 4 || seen[type])
			continue;
		u32 at;
		int rc = cap_addr(d->bdf, cap, &at);
		if (rc)
			return rc;
		seen[type] = true;
		if (type == VIRTIO_PCI_CAP_COMMON_CFG)
			d->common = at;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			d->notify_base = at;
			d->notify_mult = pci_read32(d->bdf, (u8)(cap + VIRTIO_CAP_NOTIFY_MULT));
		} else if (type == VIRTIO_PCI_CAP_ISR_CFG)
			d->isr = at;
		else
			d->devcfg = at;
	}
	return seen[1] && seen[2] && seen[4] ? VBLK_OK : VBLK_ECAPS;
}

static void set_status(struct vblk *d, u8 bits)
{
	wr8(d->common + CC_DEVICE_STATUS, (u8)(rd8(d->common + CC_DEVICE_STATUS) | bits));
}

static int fail(struct vblk *d, int err)
{
	set_status(d, VIRTIO_STATUS_FAILED);
	return err;
}

/* The driver's side of 3.1.1, from reset to DRIVER_OK, then the capacity. */
static int setup(struct vblk *d, u16 want_qsize)
{
	u32 cc = d->common;
	wr8(cc + CC_DEVICE_STATUS, 0);
	u32 spins = 0;
	while (rd8(cc + CC_DEVICE_STATUS) != 0 && ++spins < RESET_SPINS)
		relax();
	if (spins >= RESET_SPINS)
		return VBLK_ERESET;
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_DRIVER);

	wr32(cc + CC_DEVICE_FEATURE_SELECT, 0);
	u32 lo = rd32(cc + CC_DEVICE_FEATURE);
	wr32(cc + CC_DEVICE_FEATURE_SELECT, 1);
	u32 hi = rd32(cc + CC_DEVICE_FEATURE);
	d->device_features = ((u64)hi << 32) | lo;
	if (!(d->device_features & (1ull << VIRTIO_F_VERSION_1)))
		return fail(d, VBLK_EFEATURES);
	d->ro = (d->device_features >> VIRTIO_BLK_F_RO) & 1;
	u64 want = (1ull << VIRTIO_F_VERSION_1) | (d->ro ? 1ull << VIRTIO_BLK_F_RO : 0);
	wr32(cc + CC_DRIVER_FEATURE_SELECT, 0);
	wr32(cc + CC_DRIVER_FEATURE, (u32)want);
	wr32(cc + CC_DRIVER_FEATURE_SELECT, 1);
	wr32(cc + CC_DRIVER_FEATURE, (u32)(want >> 32));
	set_status(d, VIRTIO_STATUS_FEATURES_OK);
	if (!(rd8(cc + CC_DEVICE_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return fail(d, VBLK_EFEATURES);

	if (rd16(cc + CC_NUM_QUEUES) < 1)
		return fail(d, VBLK_EQUEUE);
	wr16(cc + CC_QUEUE_SELECT, 0);
	u16 qmax = rd16(cc + CC_QUEUE_SIZE);
	/* Split queues have a power-of-2 size (2.6); a request takes 3 descriptors. */
	if (qmax < 4 || (qmax & (qmax - 1)))
		return fail(d, VBLK_EQUEUE);
	u16 q = qmax;
	if (want_qsize < 4 || want_qsize > VBLK_QSIZE_MAX || (want_qsize & (want_qsize - 1)))
		want_qsize = VBLK_QSIZE_MAX;
	if (q > want_qsize) {
		q = want_qsize;
		wr16(cc + CC_QUEUE_SIZE, q);
	}
	d->qmax = qmax;
	d->qsize = q;
	u8 *page = (u8 *)d->desc;
	memset(page, 0, VBLK_RING_BYTES);
	wr64(cc + CC_QUEUE_DESC, (u32)d->desc);
	wr64(cc + CC_QUEUE_DRIVER, (u32)d->avail);
	wr64(cc + CC_QUEUE_DEVICE, (u32)d->used);
	d->notify = d->notify_base + rd16(cc + CC_QUEUE_NOTIFY_OFF) * d->notify_mult;
	wr16(cc + CC_QUEUE_ENABLE, 1);
	d->avail_idx = 0;
	d->used_seen = 0;
	set_status(d, VIRTIO_STATUS_DRIVER_OK);

	/* A 64-bit config field read as two halves: retry until the generation holds still (4.1.3.1). */
	for (int tries = 0; tries < 16; tries++) {
		u8 gen = rd8(cc + CC_CONFIG_GENERATION);
		u32 clo = rd32(d->devcfg + BLK_CFG_CAPACITY);
		u32 chi = rd32(d->devcfg + BLK_CFG_CAPACITY + 4);
		d->capacity = ((u64)chi << 32) | clo;
		if (rd8(cc + CC_CONFIG_GENERATION) == gen)
			break;
	}
	return VBLK_OK;
}

int vblk_probe(struct vblk *d, u32 index, void *ring_mem, u16 want_qsize)
{
	memset(d, 0, sizeof(*d));
	if (!pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BLK, index, &d->bdf))
		return VBLK_ENODEV;
	pci_enable_mem_master(d->bdf);
	int rc = find_caps(d);
	if (rc)
		return rc;
	u8 *page = ring_mem;
	d->desc = (struct virtq_desc *)(page + RING_DESC);
	d->avail = (u16 *)(page + RING_AVAIL);
	d->used = (u16 *)(page + RING_USED);
	d->hdr = (struct vblk_req_hdr *)(page + RING_HDR);
	d->status = page + RING_STATUS;
	d->timeout = DEFAULT_TIMEOUT;
	return setup(d, want_qsize);
}

int vblk_reinit(struct vblk *d)
{
	return setup(d, d->qsize);
}

u8 vblk_device_status(struct vblk *d)
{
	return rd8(d->common + CC_DEVICE_STATUS);
}

void vblk_submit(struct vblk *d, u16 head)
{
	d->avail[2 + d->avail_idx % d->qsize] = head;
	barrier(); /* the entry before the index (2.6.13) */
	*(volatile u16 *)&d->avail[1] = ++d->avail_idx;
	barrier();
	wr16(d->notify, 0); /* queue 0 (4.1.4.4) */
}

int vblk_wait_used(struct vblk *d, u32 *id, u32 *len)
{
	volatile u16 *used_idx = &d->used[1];
	for (u32 i = 1; i <= d->timeout; i++) {
		if (*used_idx != d->used_seen) {
			barrier();
			const struct virtq_used_elem *e = (const struct virtq_used_elem *)(d->used + 2) + d->used_seen % d->qsize;
			*id = e->id;
			*len = e->len;
			d->used_seen++;
			return VBLK_OK;
		}
		if (i % STATUS_POLL_EVERY == 0 && (vblk_device_status(d) & VIRTIO_STATUS_NEEDS_RESET))
			return VBLK_ENEEDS_RESET;
		/* Harmless to a device that saw the first one; wakes one that waits for a kick. */
		if (i % RENOTIFY_EVERY == 0)
			wr16(d->notify, 0);
		relax();
	}
	return (vblk_device_status(d) & VIRTIO_STATUS_NEEDS_RESET) ? VBLK_ENEEDS_RESET : VBLK_ETIMEOUT;
}

int vblk_rw(struct vblk *d, bool write, u64 sector, void *buf, u32 count)
{
	if (count == 0 || count > (1u << 22) / VBLK_SECTOR || sector + count > d->capacity || sector + count < sector)
		return VBLK_EARG;
	d->hdr->type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	d->hdr->reserved = 0;
	d->hdr->sector = sector;
	*d->status = 0xFF;
	d->desc[0] = (struct virtq_desc){ (u32)d->hdr, sizeof(*d->hdr), VIRTQ_DESC_F_NEXT, 1 };
	d->desc[1] = (struct virtq_desc){ (u32)buf, count * VBLK_SECTOR, (u16)(VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE)), 2 };
	d->desc[2] = (struct virtq_desc){ (u32)d->status, 1, VIRTQ_DESC_F_WRITE, 0 };
	vblk_submit(d, 0);
	u32 id, len;
	int rc = vblk_wait_used(d, &id, &len);
	if (rc)
		return rc;
	if (id != 0)
		return VBLK_EPROTO;
	barrier();
	switch (*(volatile u8 *)d->status) {
	case VIRTIO_BLK_S_OK:
		return VBLK_OK;
	case VIRTIO_BLK_S_IOERR:
		return VBLK_EIOERR;
	case VIRTIO_BLK_S_UNSUPP:
		return VBLK_EUNSUPP;
	default:
		return VBLK_EPROTO;
	}
}

const char *vblk_strerror(int err)
{
	static const char *const names[] = {
		"ok", "no virtio-blk device (1AF4:1042) on bus 0", "BAR is I/O, unassigned or above 4 GiB",
		"virtio capability missing (common, notify or device cfg)", "device did not reset",
		"feature negotiation failed (VERSION_1)", "no usable queue 0", "timed out waiting for the used ring",
		"device answered IOERR", "device answered UNSUPP", "device set DEVICE_NEEDS_RESET",
		"protocol error (unknown used id or status byte)", "bad request arguments",
	};
	u32 i = (u32)-err;
	return err <= 0 && i < ARRAY_SIZE(names) ? names[i] : "unknown error";
}
