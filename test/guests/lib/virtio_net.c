/* virtio-net over the modern virtio PCI transport, polled (see
 * virtio_net.h). Section numbers are virtio 1.1's. */
#include "virtio_net.h"
#include "guest.h"

#define RXQ 0
#define TXQ 1
/* Receive buffers given back before the driver notifies: the device takes
 * them without a notification when a frame arrives; the notification only
 * hurries frames that waited for buffers. */
#define RX_KICK_EVERY 16u

static void publish(struct vnet_queue *q, u16 head)
{
	q->avail[2 + q->avail_idx % q->size] = head;
	vio_barrier(); /* the entry before the index (2.6.13) */
	*(volatile u16 *)&q->avail[1] = ++q->avail_idx;
	vio_barrier();
}

static void rx_post(struct vnet *n, u16 i)
{
	n->rx.desc[i] = (struct virtq_desc){ (u32)n->rx.buf[i], VNET_BUF, VIRTQ_DESC_F_WRITE, 0 };
	publish(&n->rx, i);
}

static int setup(struct vnet *n, u64 extra)
{
	if (!virtio_reset(&n->r))
		return -3;
	virtio_set_status(&n->r, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_set_status(&n->r, VIRTIO_STATUS_DRIVER);
	u64 offered = virtio_device_features(&n->r);
	u64 want = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) | extra;
	if ((offered & want) != want) {
		virtio_set_status(&n->r, VIRTIO_STATUS_FAILED);
		return -4;
	}
	if (!virtio_set_features(&n->r, want)) {
		virtio_set_status(&n->r, VIRTIO_STATUS_FAILED);
		return -4;
	}
	n->features = want;
	for (u32 i = 0; i < VNET_ETH_ALEN; i++)
		n->mac[i] = vio_rd8(n->r.devcfg + i);
	struct vnet_queue *qs[2] = { &n->rx, &n->tx };
	for (u16 k = 0; k < 2; k++) {
		struct vnet_queue *q = qs[k];
		memset(q->desc, 0, sizeof(q->desc));
		memset(q->avail, 0, sizeof(q->avail));
		memset(q->used, 0, sizeof(q->used));
		q->avail_idx = q->used_seen = 0;
		q->size = VNET_QSIZE;
		/* Polled: no used-buffer notifications wanted (2.6.7). */
		q->avail[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
		q->notify = virtio_queue_setup(&n->r, k, &q->size, q->desc, q->avail, q->used);
		if (!q->notify || q->size != VNET_QSIZE) {
			virtio_set_status(&n->r, VIRTIO_STATUS_FAILED);
			return -5;
		}
	}
	n->tx_nfree = 0;
	for (u16 i = 0; i < VNET_QSIZE; i++)
		n->tx_free[n->tx_nfree++] = (u16)(VNET_QSIZE - 1 - i);
	for (u16 i = 0; i < VNET_QSIZE; i++)
		rx_post(n, i);
	n->rx_unkicked = 0;
	virtio_set_status(&n->r, VIRTIO_STATUS_DRIVER_OK);
	return 0;
}

int vnet_probe(struct vnet *n, u32 index, u64 extra)
{
	memset(n, 0, sizeof(*n));
	if (!pci_find(VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_NET, index, &n->bdf))
		return -1;
	pci_enable_mem_master(n->bdf);
	if (virtio_find_regs(n->bdf, &n->r))
		return -2;
	return setup(n, extra);
}

int vnet_reinit(struct vnet *n)
{
	return setup(n, n->features & ~((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC)));
}

u8 vnet_status(const struct vnet *n)
{
	return vio_rd8(n->r.common + CC_DEVICE_STATUS);
}

void vnet_kick_tx(struct vnet *n)
{
	vio_wr16(n->tx.notify, TXQ);
}

u32 vnet_tx_reclaim(struct vnet *n)
{
	struct vnet_queue *q = &n->tx;
	volatile u16 *idx = &q->used[1];
	while (*idx != q->used_seen) {
		vio_barrier();
		const struct virtq_used_elem *e = (const struct virtq_used_elem *)(q->used + 2) + q->used_seen % q->size;
		/* A head we never gave out would corrupt the free stack: skip it. */
		if (e->id < VNET_QSIZE && n->tx_nfree < VNET_QSIZE)
			n->tx_free[n->tx_nfree++] = (u16)e->id;
		q->used_seen++;
	}
	return VNET_QSIZE - n->tx_nfree;
}

bool vnet_send(struct vnet *n, const void *frame, u32 len, bool kick)
{
	if (len > VNET_FRAME_MAX)
		len = VNET_FRAME_MAX;
	if (!n->tx_nfree)
		vnet_tx_reclaim(n);
	if (!n->tx_nfree)
		return false;
	u16 i = n->tx_free[--n->tx_nfree];
	memset(n->tx.buf[i], 0, VNET_HDR_LEN);
	memcpy(n->tx.buf[i] + VNET_HDR_LEN, frame, len);
	n->tx.desc[i] = (struct virtq_desc){ (u32)n->tx.buf[i], VNET_HDR_LEN + len, 0, 0 };
	publish(&n->tx, i);
	if (kick)
		vnet_kick_tx(n);
	return true;
}

u32 vnet_recv(struct vnet *n, void *buf, u32 max)
{
	struct vnet_queue *q = &n->rx;
	volatile u16 *idx = &q->used[1];
	if (*idx == q->used_seen)
		return 0;
	vio_barrier();
	const struct virtq_used_elem *e = (const struct virtq_used_elem *)(q->used + 2) + q->used_seen % q->size;
	u32 id = e->id, len = e->len;
	q->used_seen++;
	if (id >= VNET_QSIZE)
		return 0;
	u32 flen = len > VNET_HDR_LEN ? len - VNET_HDR_LEN : 0;
	if (flen > VNET_BUF - VNET_HDR_LEN)
		flen = VNET_BUF - VNET_HDR_LEN;
	memcpy(buf, q->buf[id] + VNET_HDR_LEN, flen < max ? flen : max);
	rx_post(n, (u16)id);
	if (++n->rx_unkicked >= RX_KICK_EVERY) {
		n->rx_unkicked = 0;
		vio_wr16(q->notify, RXQ);
	}
	return flen;
}

void vnet_tx_publish(struct vnet *n, u16 head)
{
	publish(&n->tx, head);
	vnet_kick_tx(n);
}
