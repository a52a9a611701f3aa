/* virtio-blk over the modern virtio PCI transport, polled (see
 * virtio_blk.h). Section numbers are virtio 1.1's. */
#include "virtio_blk.h"
#include "guest.h"

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

#define DEFAULT_TIMEOUT (1u << 24)
#define STATUS_POLL_EVERY 1024u
#define RENOTIFY_EVERY 65536u

static void set_status(struct vblk *d, u8 bits)
{
	virtio_set_status(&d->r, bits);
}

static int fail(struct vblk *d, int err)
{
	set_status(d, VIRTIO_STATUS_FAILED);
	return err;
}

/* The driver's side of 3.1.1, from reset to DRIVER_OK, then the capacity. */
static int setup(struct vblk *d, u16 want_qsize)
{
	u32 cc = d->r.common;
	if (!virtio_reset(&d->r))
		return VBLK_ERESET;
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_DRIVER);

	d->device_features = virtio_device_features(&d->r);
	if (!(d->device_features & (1ull << VIRTIO_F_VERSION_1)))
		return fail(d, VBLK_EFEATURES);
	d->ro = (d->device_features >> VIRTIO_BLK_F_RO) & 1;
	if (!virtio_set_features(&d->r, (1ull << VIRTIO_F_VERSION_1) | (d->ro ? 1ull << VIRTIO_BLK_F_RO : 0)))
		return fail(d, VBLK_EFEATURES);

	if (vio_rd16(cc + CC_NUM_QUEUES) < 1)
		return fail(d, VBLK_EQUEUE);
	vio_wr16(cc + CC_QUEUE_SELECT, 0);
	u16 qmax = vio_rd16(cc + CC_QUEUE_SIZE);
	/* Split queues have a power-of-2 size (2.6); a request takes 3 descriptors. */
	if (qmax < 4 || (qmax & (qmax - 1)))
		return fail(d, VBLK_EQUEUE);
	u16 q = qmax;
	if (want_qsize < 4 || want_qsize > VBLK_QSIZE_MAX || (want_qsize & (want_qsize - 1)))
		want_qsize = VBLK_QSIZE_MAX;
	if (q > want_qsize)
		q = want_qsize;
	d->qmax = qmax;
	memset(d->desc, 0, VBLK_RING_BYTES);
	d->notify = virtio_queue_setup(&d->r, 0, &q, d->desc, d->avail, d->used);
	d->qsize = q;
	d->avail_idx = 0;
	d->used_seen = 0;
	set_status(d, VIRTIO_STATUS_DRIVER_OK);

	/* A 64-bit config field read as two halves: retry until the generation holds still (4.1.3.1). */
	for (int tries = 0; tries < 16; tries++) {
		u8 gen = vio_rd8(cc + CC_CONFIG_GENERATION);
		u32 clo = vio_rd32(d->r.devcfg + BLK_CFG_CAPACITY);
		u32 chi = vio_rd32(d->r.devcfg + BLK_CFG_CAPACITY + 4);
		d->capacity = ((u64)chi << 32) | clo;
		if (vio_rd8(cc + CC_CONFIG_GENERATION) == gen)
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
	int rc = virtio_find_regs(d->bdf, &d->r);
	if (rc)
		return rc == -1 ? VBLK_EBAR : VBLK_ECAPS;
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
	return vio_rd8(d->r.common + CC_DEVICE_STATUS);
}

void vblk_submit(struct vblk *d, u16 head)
{
	d->avail[2 + d->avail_idx % d->qsize] = head;
	vio_barrier(); /* the entry before the index (2.6.13) */
	*(volatile u16 *)&d->avail[1] = ++d->avail_idx;
	vio_barrier();
	vio_wr16(d->notify, 0); /* queue 0 (4.1.4.4) */
}

int vblk_wait_used(struct vblk *d, u32 *id, u32 *len)
{
	volatile u16 *used_idx = &d->used[1];
	for (u32 i = 1; i <= d->timeout; i++) {
		if (*used_idx != d->used_seen) {
			vio_barrier();
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
			vio_wr16(d->notify, 0);
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
	vio_barrier();
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
