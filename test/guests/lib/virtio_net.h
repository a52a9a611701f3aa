/* A minimal virtio-net driver for the test guests: virtio 1.x over the
 * modern PCI transport (virtio 1.1, 5.1), one receive and one transmit
 * queue of VNET_QSIZE entries, one buffer per descriptor (header and
 * frame together), polled (no interrupts). It also exposes the transmit
 * ring so a test can hand the device malformed chains. One CPU at a time. */
#ifndef GUEST_VIRTIO_NET_H
#define GUEST_VIRTIO_NET_H

#include "types.h"
#include "virtio_pci.h"

/* 0x1040 + device type 1 (network): a modern-only device (4.1.2.1). */
#define VIRTIO_PCI_DEVICE_NET 0x1041
#define VIRTIO_NET_F_MAC 5
/* struct virtio_net_hdr of VERSION_1 (5.1.6). */
#define VNET_HDR_LEN 12u
#define VNET_ETH_ALEN 6
#define VNET_FRAME_MAX 1514u	/* no VLAN tag here */
#define VNET_QSIZE 64u
#define VNET_BUF 1536u

struct vnet_queue {
	struct virtq_desc desc[VNET_QSIZE];
	u16 avail[2 + VNET_QSIZE + 1];	/* flags, idx, ring, used_event */
	u16 used[2 + 4 * VNET_QSIZE + 1] __attribute__((aligned(4)));
	u8 buf[VNET_QSIZE][VNET_BUF];
	u32 notify;
	u16 size;
	u16 avail_idx;		/* driver's copy of avail->idx */
	u16 used_seen;		/* used entries consumed */
} __attribute__((aligned(16)));

struct vnet {
	pci_bdf bdf;
	struct virtio_regs r;
	u64 features;		/* negotiated */
	u8 mac[VNET_ETH_ALEN];
	struct vnet_queue rx, tx;
	u16 tx_free[VNET_QSIZE];	/* stack of free transmit slots */
	u32 tx_nfree;
	u32 rx_unkicked;	/* buffers given back since the last RX notify */
};

/* Finds the index'th virtio-net device on bus 0, resets it, negotiates
 * VERSION_1, MAC and whatever of extra (feature bits) it offers, sets up
 * both queues, gives every receive buffer to the device and sets
 * DRIVER_OK. Returns 0, or a negative number (strerror-less: -1 no
 * device, -2 bad capabilities, -3 no reset, -4 features refused, -5 no
 * queues). */
int vnet_probe(struct vnet *n, u32 index, u64 extra);

/* Resets the device and sets it up again (after NEEDS_RESET). Returns as
 * vnet_probe. */
int vnet_reinit(struct vnet *n);

/* Queues frame (len bytes, no virtio header) for transmission, notifying
 * the device when kick. Returns false when every slot is in flight even
 * after taking back what the device has used. */
bool vnet_send(struct vnet *n, const void *frame, u32 len, bool kick);

/* Notifies the transmit queue. */
void vnet_kick_tx(struct vnet *n);

/* Takes back transmit slots the device has used; returns how many are in
 * flight still. */
u32 vnet_tx_reclaim(struct vnet *n);

/* The next received frame: copies at most max bytes of it (header
 * stripped) to buf and returns its length, 0 when none is waiting. The
 * buffer goes back to the device at once. */
u32 vnet_recv(struct vnet *n, void *buf, u32 max);

/* The transmit ring as it is: publish head in the available ring and
 * notify, for tests that build their own (malformed) chains in
 * n->tx.desc. */
void vnet_tx_publish(struct vnet *n, u16 head);

/* The device_status register. */
u8 vnet_status(const struct vnet *n);

#endif
