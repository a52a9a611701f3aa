/* virtio-net device model: see virtio_net.h. Everything runs with the
 * transport's lock held (guest accesses take it in virtio_pci.c, the
 * service call and the switch's delivery here and in vm_net.c). */
#include <cg/errno.h>
#include <cg/string.h>
#include <cg/unaligned.h>
#include "devices/virtio/virtio_net.h"

static void net_fail(struct virtio_net *n, int rc)
{
	virtio_pci_fail(&n->tp, rc == -CG_ERANGE
			? "a ring, descriptor table or buffer lies outside guest RAM"
			: "malformed descriptor chain (loop, index out of range, too long, or bad order)");
}

/* Pop the next chain of q, asking for a notification at the next one
 * when the ring is empty and then looking once more (the driver may have
 * added one before it saw the request). 1, 0 (empty) or an error. */
static int net_pop(struct virtio_net *n, struct virtq *q, struct virtq_chain *c)
{
	int rc = virtq_pop(q, &n->mem, c);

	if (rc == 0) {
		virtq_set_avail_event(q, &n->mem);
		rc = virtq_pop(q, &n->mem, c);
	}
	return rc;
}

/* Pop the next transmit chain. On an empty ring it asks for the next
 * notification: at the next frame, or while streaming TX_KICK_EVERY
 * frames on (the polls take the ones before), then looks once more. */
static int tx_pop(struct virtio_net *n)
{
	int rc = virtq_pop(&n->txq, &n->mem, &n->chain);

	if (rc == 0) {
		virtq_set_avail_event_ahead(&n->txq, &n->mem,
					    n->tx_stream ? (u16)(VIRTIO_NET_TX_KICK_EVERY - 1) : 0);
		rc = virtq_pop(&n->txq, &n->mem, &n->chain);
	}
	return rc;
}

/* The held receive interrupt goes now, if the driver still wants it
 * (used_event crossed since it began to wait); a held transmit one then
 * waits a little more (tx_irq_after_rx), as this one's poll may reclaim
 * its buffers. */
static void rx_irq_send(struct virtio_net *n, u64 now)
{
	u64 due, cap;

	n->rx_irq_owed = false;
	if (!virtq_should_notify(&n->rxq, &n->mem, n->rx_irq_old))
		return;
	n->st.interrupts++;
	n->st.rx_interrupts++;
	virtio_pci_queue_interrupt(&n->tp, VIRTIO_NET_RXQ);
	if (!n->tx_irq_owed)
		return;
	due = now + VIRTIO_NET_TX_IRQ_AFTER_RX_NS;
	cap = n->tx_irq_since + VIRTIO_NET_TX_IRQ_MAX_NS;
	if (due > cap)
		due = cap;
	if (due > n->tx_irq_due) {
		n->tx_irq_due = due;
		n->tx_irq_after_rx = true;
	}
}

/* The transmit-used interrupt the frames pushed since old earned: at once
 * unless streaming (the driver reclaims its buffers on every transmit
 * anyway), then when the stream ends, TX_IRQ_DEFER_NS later, or when
 * half the ring came back in one go (the driver may have stopped its
 * queue for want of descriptors). A receive interrupt, sent meanwhile
 * or sent in its place, makes it wait up to TX_IRQ_MAX_NS in all. */
static void tx_interrupt(struct virtio_net *n, u16 old, u64 now, u32 frames)
{
	bool fresh = false, hold, urgent = frames >= n->txq.size / 2u;

	if (n->txq.used_idx != old && !n->tx_irq_owed) {
		n->tx_irq_owed = true;
		n->tx_irq_old = old;
		n->tx_irq_due = now + VIRTIO_NET_TX_IRQ_DEFER_NS;
		n->tx_irq_since = now;
		n->tx_irq_after_rx = false;
		fresh = true;
	}
	if (!n->tx_irq_owed)
		return;
	hold = (n->tx_stream || n->tx_irq_after_rx) && now < n->tx_irq_due && !urgent;
	/* Due, with a receive interrupt waiting as well: that one goes
	 * instead, and this one waits TX_IRQ_AFTER_RX_NS more (rx_irq_send),
	 * since the driver's receive poll may reclaim the transmit buffers. */
	if (!hold && !urgent && n->rx_irq_owed && now < n->tx_irq_since + VIRTIO_NET_TX_IRQ_MAX_NS) {
		rx_irq_send(n, now);
		hold = now < n->tx_irq_due;
	}
	if (hold) {
		if (fresh)
			n->st.irqs_deferred++;
		return;
	}
	n->tx_irq_owed = false;
	if (virtq_should_notify(&n->txq, &n->mem, n->tx_irq_old)) {
		n->st.interrupts++;
		virtio_pci_queue_interrupt(&n->tp, VIRTIO_NET_TXQ);
	}
}

/* The receive interrupt the frames pushed since old earned, at now (dry:
 * the driver has no RX buffer left). It waits (RX_IRQ_* in virtio_net.h)
 * unless the frames came after a quiet spell, the ring ran dry or
 * enough came in; whether the driver wants it is its used_event's say,
 * checked when it begins to wait and again when it goes. */
static void rx_interrupt(struct virtio_net *n, u16 old, u64 now, bool dry)
{
	u16 got = (u16)(n->rxq.used_idx - old);
	bool quiet = false;

	if (!n->rx_irq_owed) {
		if (!got || !virtq_should_notify(&n->rxq, &n->mem, old))
			goto out;
		n->rx_irq_owed = true;
		n->rx_irq_old = old;
		n->rx_irq_frames = 0;
		n->rx_irq_due = now + VIRTIO_NET_RX_IRQ_HOLD_NS;
		quiet = !n->rx_last || now - n->rx_last >= VIRTIO_NET_RX_QUIET_NS;
	}
	n->rx_irq_frames += got;
	if (quiet || dry || n->rx_irq_frames >= VIRTIO_NET_RX_IRQ_FRAMES || now >= n->rx_irq_due)
		rx_irq_send(n, now);
	else if (got && n->rx_irq_frames == got)
		n->st.rx_irqs_held++;	/* once per interrupt held */
out:
	if (got)
		n->rx_last = now;
}

/* The driver runs now: the link comes up once per DRIVER_OK. */
static void net_check_up(struct virtio_net *n)
{
	if (!n->up && virtio_pci_live(&n->tp)) {
		n->up = true;
		if (n->port.link)
			n->port.link(n->port.ctx, true);
	}
}

/* Hand what this batch queued on to the receiving NICs. */
static void tx_flush(struct virtio_net *n)
{
	if (n->port.flush)
		n->port.flush(n->port.ctx);
}

/* Transmit within VIRTIO_NET_EXIT_FRAMES frames at now, on a notification
 * (kicked) or a poll. */
static void net_tx(struct virtio_net *n, u64 now, bool kicked)
{
	u16 old = n->txq.used_idx;
	u32 frames = 0;

	n->backlog = false;
	if (!virtio_pci_live(&n->tp)) {
		n->tx_pending = false;
		return;
	}
	/* A notification soon after the last frame: a stream. A poll long
	 * after it: the stream is over, the next frame notifies again. */
	if (kicked)
		n->tx_stream = n->tx_last && now - n->tx_last < VIRTIO_NET_TX_STREAM_NS;
	else if (n->tx_stream && now - n->tx_last >= VIRTIO_NET_TX_STREAM_NS)
		n->tx_stream = false;
	while (n->txq.size) {
		if (!n->tx_pending) {
			int rc;

			if (frames == VIRTIO_NET_EXIT_FRAMES) {
				n->backlog = true;
				n->ready_at = now;
				n->st.deferrals++;
				break;
			}
			rc = tx_pop(n);
			if (rc == 0)
				break;
			if (rc < 0) {
				net_fail(n, rc);
				break;
			}
			frames++;
			if (!kicked)
				n->st.tx_polled++;
			/* The header, then one whole frame; anything else is
			 * dropped (the buffer goes back, nothing is sent). */
			if (n->chain.read_len < VIRTIO_NET_HDR_LEN + NET_ETH_HLEN ||
			    n->chain.read_len > VIRTIO_NET_HDR_LEN + NET_FRAME_MAX) {
				n->st.tx_bad++;
				if (virtq_push(&n->txq, &n->mem, n->chain.head, 0)) {
					virtio_pci_fail(&n->tp, "the used ring lies outside guest RAM");
					break;
				}
				continue;
			}
			n->tx_len = n->chain.read_len - VIRTIO_NET_HDR_LEN;
			n->tx_pending = true;
			n->tx_first = true;
		}
		if (!n->port.admit(n->port.ctx, n->tx_len, now, &n->ready_at, n->tx_first)) {
			n->tx_first = false;
			break;
		}
		n->tx_pending = false;
		if (virtq_chain_read(&n->chain, VIRTIO_NET_HDR_LEN, n->frame, n->tx_len) ||
		    virtq_push(&n->txq, &n->mem, n->chain.head, 0)) {
			virtio_pci_fail(&n->tp, "a transmit buffer or the used ring lies outside guest RAM");
			break;
		}
		n->st.tx_frames++;
		n->st.tx_bytes += n->tx_len;
		n->port.send(n->port.ctx, n->frame, n->tx_len);
		/* Receivers get frames in bunches (one interrupt each), but
		 * before their queues could fill. */
		if (frames % VIRTIO_NET_DELIVER_EVERY == 0)
			tx_flush(n);
	}
	tx_flush(n);
	if (frames)
		n->tx_last = now;
	tx_interrupt(n, old, now, frames);
}

u32 virtio_net_rx(struct virtio_net *n, const struct virtio_net_src *src, u32 max)
{
	u16 old = n->rxq.used_idx;
	u32 taken = 0;
	bool dry = false;
	const u8 *f;
	u32 len;

	while (taken < max && (len = src->peek(src->ctx, &f)) != 0) {
		u8 hdr[VIRTIO_NET_HDR_LEN];
		int rc;

		if (!virtio_pci_live(&n->tp) || !n->rxq.size) {
			n->st.rx_down++;
			src->pop(src->ctx, false);
			taken++;
			continue;
		}
		rc = net_pop(n, &n->rxq, &n->rx_chain);
		if (rc == 0) {
			dry = true;
			break;	/* no buffer: the frame waits in the port's queue */
		}
		if (rc < 0) {
			net_fail(n, rc);
			break;
		}
		taken++;
		if (n->rx_chain.write_len < VIRTIO_NET_HDR_LEN + len) {
			n->st.rx_small++;
			src->pop(src->ctx, false);
			if (virtq_push(&n->rxq, &n->mem, n->rx_chain.head, 0)) {
				virtio_pci_fail(&n->tp, "the used ring lies outside guest RAM");
				break;
			}
			continue;
		}
		memset(hdr, 0, sizeof(hdr));
		le16_put(hdr + VIRTIO_NET_HDR_NUM_BUFFERS, 1);
		if (virtq_chain_write(&n->rx_chain, 0, hdr, sizeof(hdr)) ||
		    virtq_chain_write(&n->rx_chain, VIRTIO_NET_HDR_LEN, f, len) ||
		    virtq_push(&n->rxq, &n->mem, n->rx_chain.head, VIRTIO_NET_HDR_LEN + len)) {
			src->pop(src->ctx, false);
			virtio_pci_fail(&n->tp, "a receive buffer or the used ring lies outside guest RAM");
			break;
		}
		src->pop(src->ctx, true);
		n->st.rx_frames++;
		n->st.rx_bytes += len;
	}
	if (virtio_pci_live(&n->tp) && n->rxq.size)
		rx_interrupt(n, old, n->now(), dry || virtq_avail_empty(&n->rxq, &n->mem));
	return taken;
}

static int net_queue_enable(void *ctx, u32 q, u32 size, u64 desc, u64 driver, u64 device,
			    u64 features)
{
	struct virtio_net *n = ctx;
	u32 flags = 0;

	if (features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX))
		flags |= VIRTQ_EVENT_IDX;
	if (features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
		flags |= VIRTQ_INDIRECT;
	if (q == VIRTIO_NET_RXQ)
		return virtq_init(&n->rxq, size, desc, driver, device, flags);
	if (q == VIRTIO_NET_TXQ)
		return virtq_init(&n->txq, size, desc, driver, device, flags);
	return -CG_EINVAL;
}

static void net_queue_notify(void *ctx, u32 q)
{
	struct virtio_net *n = ctx;

	net_check_up(n);
	if (q == VIRTIO_NET_TXQ) {
		n->st.tx_notifies++;
		if (!n->tx_pending || n->now() >= n->ready_at)
			net_tx(n, n->now(), true);
	} else {
		/* New receive buffers: frames that waited for them go now. */
		n->st.rx_notifies++;
		n->port.pull(n->port.ctx);
	}
}

static void net_reset(void *ctx)
{
	struct virtio_net *n = ctx;

	virtq_reset(&n->rxq);
	virtq_reset(&n->txq);
	n->tx_pending = false;
	n->backlog = false;
	n->ready_at = 0;
	n->tx_stream = false;
	n->tx_last = 0;
	n->tx_irq_owed = false;
	n->rx_irq_owed = false;
	n->rx_last = 0;
	if (n->up) {
		n->up = false;
		if (n->port.link)
			n->port.link(n->port.ctx, false);
	}
}

/* A driver that polls finishes held-back transmit as soon as it is due;
 * while streaming, any access of its takes what it queued. */
static void net_access(void *ctx)
{
	struct virtio_net *n = ctx;

	if (((n->tx_pending || n->backlog) && n->now() >= n->ready_at) ||
	    (n->tx_stream && !n->tx_pending))
		net_tx(n, n->now(), false);
}

static void net_unlocked(void *ctx)
{
	struct virtio_net *n = ctx;

	if (n->port.unlocked)
		n->port.unlocked(n->port.ctx);
}

static const struct virtio_pci_ops net_ops = {
	.queue_enable = net_queue_enable,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.access = net_access,
	.unlocked = net_unlocked,
};

int virtio_net_init(struct virtio_net *n, struct vm *vm, const struct virtio_pci_env *env,
		    const char *label, const u8 *mac, const struct virtq_mem *mem,
		    u64 (*now)(void), const struct virtio_net_port *port)
{
	u8 cfg[VIRTIO_NET_CFG_LEN];
	u64 features = VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		       VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC) |
		       VIRTIO_BIT(VIRTIO_F_EVENT_IDX);

	memset(n, 0, sizeof(*n));
	if (!port->admit || !port->send || !port->pull)
		return -CG_EINVAL;
	n->mem = *mem;
	n->now = now;
	n->port = *port;
	memcpy(n->mac, mac, NET_ETH_ALEN);
	cg_strlcpy(n->label, label, sizeof(n->label) - 1, sizeof(n->label));

	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg, mac, NET_ETH_ALEN);
	le16_put(cfg + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	le16_put(cfg + VIRTIO_NET_CFG_PAIRS, 1);
	le16_put(cfg + VIRTIO_NET_CFG_MTU, VIRTIO_NET_MTU);
	return virtio_pci_init(&n->tp, vm, env, n->label, VIRTIO_ID_NET, VIRTIO_NET_CLASS, features, 2,
			       VIRTIO_NET_QUEUE_SIZE, cfg, sizeof(cfg), &net_ops, n);
}

u64 virtio_net_ready_at(const struct virtio_net *n)
{
	u64 t = n->tx_pending || n->backlog ? (n->ready_at ? n->ready_at : 1) : 0;

	/* While streaming: polls take its frames, and one at the end of the
	 * stream turns notifications back on. */
	if (n->tx_stream && !n->tx_pending) {
		u64 end = n->tx_last + VIRTIO_NET_TX_STREAM_NS;

		if (!t || end < t)
			t = end;
	}
	if (n->tx_irq_owed && (!t || n->tx_irq_due < t))
		t = n->tx_irq_due;
	if (n->rx_irq_owed && (!t || n->rx_irq_due < t))
		t = n->rx_irq_due;
	return t;
}

u64 virtio_net_service(struct virtio_net *n, u64 now)
{
	u64 next;

	virtio_pci_lock(&n->tp);
	/* Receive first: its interrupt may make the transmit one wait. */
	if (n->rx_irq_owed && now >= n->rx_irq_due)
		rx_irq_send(n, now);
	if (((n->tx_pending || n->backlog) && now >= n->ready_at) || (n->tx_stream && !n->tx_pending))
		net_tx(n, now, false);
	else if (n->tx_irq_owed)
		tx_interrupt(n, n->txq.used_idx, now, 0);
	next = virtio_net_ready_at(n);
	virtio_pci_unlock(&n->tp);
	return next;
}
