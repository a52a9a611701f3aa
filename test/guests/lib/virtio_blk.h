/* A minimal virtio-blk driver for the test guests: virtio 1.x over the
 * modern PCI transport (virtio 1.1, 4.1), one split virtqueue (2.6), one
 * request in flight, completion by polling the used ring (no interrupts).
 * It also exposes the ring so a test can hand the device malformed chains
 * and watch what it does. The memory it works in (the rings, the request
 * header and status byte) is the caller's, identity-mapped guest RAM: the
 * test guests run with paging off. One CPU at a time. */
#ifndef GUEST_VIRTIO_BLK_H
#define GUEST_VIRTIO_BLK_H

#include "types.h"
#include "pci.h"
#include "virtio_pci.h"

/* 0x1040 + device type 2 (block): a modern-only device (4.1.2.1). */
#define VIRTIO_PCI_DEVICE_BLK 0x1042

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_RO 5

/* Request types and status values (5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VBLK_SECTOR 512u
/* Largest queue the driver sets up: everything fits one 4 KiB page. */
#define VBLK_QSIZE_MAX 128u
/* Bytes of RAM the caller gives vblk_probe, 4 KiB aligned. */
#define VBLK_RING_BYTES 4096u

struct vblk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
};

/* What went wrong; vblk_strerror names it. */
enum vblk_err {
	VBLK_OK = 0,
	VBLK_ENODEV = -1,     /* no such device on bus 0 */
	VBLK_EBAR = -2,	      /* a capability's BAR is I/O, unassigned or above 4 GiB */
	VBLK_ECAPS = -3,      /* a required virtio capability is missing */
	VBLK_ERESET = -4,     /* device_status did not read 0 after reset */
	VBLK_EFEATURES = -5,  /* no VERSION_1, or FEATURES_OK refused */
	VBLK_EQUEUE = -6,     /* no queue 0, or its size is not a power of 2 */
	VBLK_ETIMEOUT = -7,   /* no used entry in time */
	VBLK_EIOERR = -8,     /* the device answered VIRTIO_BLK_S_IOERR */
	VBLK_EUNSUPP = -9,    /* ... VIRTIO_BLK_S_UNSUPP */
	VBLK_ENEEDS_RESET = -10, /* the device set DEVICE_NEEDS_RESET */
	VBLK_EPROTO = -11,    /* a used entry for a descriptor we did not submit, or a bad status byte */
	VBLK_EARG = -12,      /* bad request (zero or too many sectors, past the end) */
};

struct vblk {
	pci_bdf bdf;
	struct virtio_regs r;	/* MMIO addresses of the structures (4.1.4) */
	u32 notify;	/* queue 0's notification address */
	u64 device_features;
	u64 capacity;	/* sectors (5.2.4) */
	bool ro;	/* VIRTIO_BLK_F_RO offered */
	u16 qsize;
	u16 qmax;	/* what the device offered */
	struct virtq_desc *desc;
	u16 *avail;	/* flags, idx, ring[qsize], used_event */
	u16 *used;	/* flags, idx, then used elements */
	struct vblk_req_hdr *hdr;
	u8 *status;
	u16 avail_idx;	/* next free slot count (driver's copy of avail->idx) */
	u16 used_seen;	/* used entries consumed */
	u32 timeout;	/* relax() steps before a request times out */
};

/* Finds the index'th virtio-blk device (vendor 0x1AF4, device 0x1042) on
 * bus 0, walks its virtio capabilities, resets it and negotiates
 * VERSION_1 (plus BLK_F_RO when offered), and sets up queue 0 with at most
 * want_qsize (a power of 2, <= VBLK_QSIZE_MAX) entries in ring_mem
 * (VBLK_RING_BYTES, 4 KiB aligned). Returns VBLK_OK or a negative
 * enum vblk_err; on an error after the reset the device is left FAILED. */
int vblk_probe(struct vblk *d, u32 index, void *ring_mem, u16 want_qsize);

/* Resets the device (status 0) and sets it up again over the same memory.
 * Returns as vblk_probe. */
int vblk_reinit(struct vblk *d);

/* One request: read (write == false) or write count sectors at sector
 * through buf, polled to completion. Returns VBLK_OK or a negative
 * enum vblk_err. */
int vblk_rw(struct vblk *d, bool write, u64 sector, void *buf, u32 count);

/* The raw ring, for tests that build their own chains: publish head in
 * the available ring and notify the device. */
void vblk_submit(struct vblk *d, u16 head);
/* Polls for the next used entry, up to d->timeout relax() steps, renotifying
 * now and then. Returns VBLK_OK with *id and *len set, VBLK_ENEEDS_RESET
 * when the device sets DEVICE_NEEDS_RESET first, or VBLK_ETIMEOUT. */
int vblk_wait_used(struct vblk *d, u32 *id, u32 *len);

/* The device_status register. */
u8 vblk_device_status(struct vblk *d);

const char *vblk_strerror(int err);

#endif
