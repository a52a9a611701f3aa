/* virtio-net (virtio_net.c) over the virtio-pci transport, three NICs on
 * one switch (net_switch.c) wired as the monitor wires them (vm_net.c:
 * a sender delivers straight into a free receiver), each with its own
 * fake guest RAM on the heap so a stray access trips AddressSanitizer.
 * Driven the way a driver does it: discovery, the configuration (MAC,
 * link up, MTU 1500), RX and TX queues, frames from one guest's TX ring
 * into another's RX buffers with the virtio_net_hdr, frames waiting for
 * RX buffers, buffers too small, oversized and runt frames, the source
 * MAC lock, the token buckets holding frames in the ring, the per-exit
 * budget, event-index suppression, transmit streams, receive interrupt
 * coalescing, and malformed rings (loops, buffers
 * outside RAM, oversized chains) that fail only the device that has them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/virtio_net.h"

#define RAM_SIZE 0x200000ull
#define RXD 0x10000ull
#define RXA 0x12000ull
#define RXU 0x13000ull
#define TXD 0x20000ull
#define TXA 0x22000ull
#define TXU 0x23000ull
#define RXBUF 0x40000ull	/* 2 KiB per descriptor */
#define TXBUF 0x100000ull	/* 2 KiB per descriptor */
#define QS 128u
#define NICS 3

struct tnic {
	struct virtio_net dev;
	struct pci_bus bus;
	u8 *ram;
	int port;
	struct net_frame q[NET_QUEUE_LEN];
	u64 bar0, bar1;
	u16 rx_avail, tx_avail, rx_seen, tx_seen;
	u32 msis[3];		/* per vector: config, rx, tx */
	u32 links_up, links_down;
};

static struct tnic nics[NICS];
static struct net_switch sw;
static u64 fake_now = 1000000000ull;
static u32 nlogs;
static const u8 MACS[NICS][6] = { { 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 2, 0, 0, 0, 0, 3 } };
static const u8 BCAST[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static void *gmap(void *ctx, u64 gpa, u64 len)
{
	struct tnic *t = ctx;

	if (!len || gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return t->ram + gpa;
}

static u64 now_fn(void)
{
	return fake_now;
}

/* The VM pointer is the NIC: MSIs are recorded on it (vector = data & 0xFF - 0x40). */
static int fake_msi(struct vm *vm, u64 addr, u32 data)
{
	struct tnic *t = (struct tnic *)vm;
	u32 v = (data & 0xFF) - 0x40;

	(void)addr;
	if (v < 3)
		t->msis[v]++;
	return 0;
}

static void fake_line(struct vm *vm, u32 gsi, bool level)
{
	(void)vm;
	(void)gsi;
	(void)level;
}

static void fake_log(const char *fmt, ...)
{
	(void)fmt;
	nlogs++;
}

static const struct virtio_pci_env env = { fake_msi, fake_line, fake_log };

/* ---- the port, as vm_net.c wires it (locks left out: one thread) ---- */

static u32 src_peek(void *ctx, const u8 **f)
{
	struct tnic *t = ctx;

	return net_switch_peek(&sw, (u32)t->port, f);
}

static void src_pop(void *ctx, bool delivered)
{
	struct tnic *t = ctx;

	net_switch_pop(&sw, (u32)t->port, delivered);
}

static void deliver(struct tnic *t)
{
	struct virtio_net_src src = { src_peek, src_pop, t };

	virtio_net_rx(&t->dev, &src, NET_QUEUE_LEN);
}

static bool p_admit(void *ctx, u32 len, u64 now, u64 *at, bool first)
{
	struct tnic *t = ctx;

	return net_switch_admit(&sw, (u32)t->port, len, now, at, first);
}

static void p_send(void *ctx, const u8 *f, u32 len)
{
	struct tnic *t = ctx;
	u32 mask = net_switch_send(&sw, (u32)t->port, f, len);

	for (u32 d = 0; d < NICS; d++)
		if (mask & (1u << d))
			deliver(&nics[d]);
}

static void p_pull(void *ctx)
{
	deliver(ctx);
}

static void p_link(void *ctx, bool up)
{
	struct tnic *t = ctx;

	if (up)
		t->links_up++;
	else
		t->links_down++;
}

/* ---- driver side ---- */

static void put16(struct tnic *t, u64 a, u16 v) { memcpy(t->ram + a, &v, 2); }
static void put32(struct tnic *t, u64 a, u32 v) { memcpy(t->ram + a, &v, 4); }
static void put64(struct tnic *t, u64 a, u64 v) { memcpy(t->ram + a, &v, 8); }
static u16 get16(struct tnic *t, u64 a) { u16 v; memcpy(&v, t->ram + a, 2); return v; }
static u32 get32(struct tnic *t, u64 a) { u32 v; memcpy(&v, t->ram + a, 4); return v; }

static void desc(struct tnic *t, u64 table, u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	put64(t, table + 16ull * i, addr);
	put32(t, table + 16ull * i + 8, len);
	put16(t, table + 16ull * i + 12, flags);
	put16(t, table + 16ull * i + 14, next);
}

static u64 rd(struct tnic *t, u64 off, u32 size)
{
	u64 v = 0;

	pci_mmio(&t->bus, t->bar0 + off, false, size, &v);
	return v;
}

static void wr(struct tnic *t, u64 off, u32 size, u64 v)
{
	pci_mmio(&t->bus, t->bar0 + off, true, size, &v);
}

static void set_status(struct tnic *t, u8 s)
{
	wr(t, VIRTIO_PCI_STATUS, 1, s);
}

static u8 status(struct tnic *t)
{
	return (u8)rd(t, VIRTIO_PCI_STATUS, 1);
}

static void queue(struct tnic *t, u32 q, u64 d, u64 a, u64 u, u16 vec)
{
	wr(t, VIRTIO_PCI_Q_SELECT, 2, q);
	wr(t, VIRTIO_PCI_Q_SIZE, 2, QS);
	wr(t, VIRTIO_PCI_Q_MSIX, 2, vec);
	wr(t, VIRTIO_PCI_Q_DESC, 8, d);
	wr(t, VIRTIO_PCI_Q_DRIVER, 8, a);
	wr(t, VIRTIO_PCI_Q_DEVICE, 8, u);
	wr(t, VIRTIO_PCI_Q_ENABLE, 2, 1);
}

/* Driver bring-up with features f, MSI-X vectors 0 (config), 1 (rx), 2 (tx). */
static void drv_init(struct tnic *t, u64 f)
{
	u64 x;

	memset(t->ram, 0, RAM_SIZE);
	t->rx_avail = t->tx_avail = t->rx_seen = t->tx_seen = 0;
	memset(t->msis, 0, sizeof(t->msis));
	set_status(t, 0);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(t, VIRTIO_PCI_GFSELECT, 4, 0);
	wr(t, VIRTIO_PCI_GF, 4, (u32)f);
	wr(t, VIRTIO_PCI_GFSELECT, 4, 1);
	wr(t, VIRTIO_PCI_GF, 4, (u32)(f >> 32));
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	CHECK(status(t) & VIRTIO_STATUS_FEATURES_OK, "features accepted");
	pci_cfg_write(&t->bus, t->dev.tp.pci.slot, t->dev.tp.msix.cap + 2, 2, 0x8000);
	for (u32 v = 0; v < 3; v++) {
		x = 0xFEE00000u;
		pci_mmio(&t->bus, t->bar1 + 16 * v, true, 4, &x);
		x = 0x40 + v;
		pci_mmio(&t->bus, t->bar1 + 16 * v + 8, true, 4, &x);
		x = 0;
		pci_mmio(&t->bus, t->bar1 + 16 * v + 12, true, 4, &x);
	}
	wr(t, VIRTIO_PCI_MSIX_CONFIG, 2, 0);
	queue(t, VIRTIO_NET_RXQ, RXD, RXA, RXU, 1);
	queue(t, VIRTIO_NET_TXQ, TXD, TXA, TXU, 2);
	set_status(t, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		      VIRTIO_STATUS_DRIVER_OK);
}

static const u64 FEATURES = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
			    VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_NET_F_MTU);

static void kick(struct tnic *t, u32 q)
{
	wr(t, VIRTIO_PCI_NOTIFY + 4 * q, 2, q);
}

/* Post n RX buffers of len bytes each. */
static void post_rx(struct tnic *t, u32 n, u32 len, bool notify)
{
	for (u32 i = 0; i < n; i++) {
		u16 d = t->rx_avail % QS;

		desc(t, RXD, d, RXBUF + 2048ull * d, len, VIRTQ_DESC_F_WRITE, 0);
		put16(t, RXA + 4 + 2ull * d, d);
		t->rx_avail++;
	}
	put16(t, RXA + 2, t->rx_avail);
	if (notify)
		kick(t, VIRTIO_NET_RXQ);
}

/* Queue a frame (header + len bytes: dst, src, type, payload tag) on TX. */
static void post_tx(struct tnic *t, const u8 *dst, const u8 *src, u32 len, u8 tag, bool notify)
{
	u16 d = t->tx_avail % QS;
	u8 *b = t->ram + TXBUF + 2048ull * d;

	memset(b, 0, VIRTIO_NET_HDR_LEN);
	memset(b + VIRTIO_NET_HDR_LEN, tag, len);
	memcpy(b + VIRTIO_NET_HDR_LEN, dst, 6);
	memcpy(b + VIRTIO_NET_HDR_LEN + 6, src, 6);
	desc(t, TXD, d, TXBUF + 2048ull * d, VIRTIO_NET_HDR_LEN + len, 0, 0);
	put16(t, TXA + 4 + 2ull * d, d);
	t->tx_avail++;
	put16(t, TXA + 2, t->tx_avail);
	if (notify)
		kick(t, VIRTIO_NET_TXQ);
}

static u16 rx_used(struct tnic *t) { return get16(t, RXU + 2); }
static u16 tx_used(struct tnic *t) { return get16(t, TXU + 2); }
static u32 rx_used_len(struct tnic *t, u16 k) { return get32(t, RXU + 4 + 8ull * (k % QS) + 4); }
static u32 rx_used_id(struct tnic *t, u16 k) { return get32(t, RXU + 4 + 8ull * (k % QS)); }

static void setup(u64 bps, u64 pps)
{
	struct virtq_mem m;

	net_switch_init(&sw, "lab0");
	nlogs = 0;
	for (u32 i = 0; i < NICS; i++) {
		struct tnic *t = &nics[i];
		struct virtio_net_port ops = { .admit = p_admit, .send = p_send, .pull = p_pull, .link = p_link, .ctx = t };

		if (!t->ram)
			t->ram = malloc(RAM_SIZE);
		m.map = gmap;
		m.ctx = t;
		pci_bus_init(&t->bus);
		CHECK(virtio_net_init(&t->dev, (struct vm *)t, &env, "t", MACS[i], &m, now_fn, &ops) == 0,
		      "device");
		CHECK(pci_bus_add(&t->bus, &t->dev.tp.pci) == 1, "slot 1");
		virtio_pci_attached(&t->dev.tp);
		t->port = net_switch_attach(&sw, MACS[i], true, i == 0 ? bps : 0, i == 0 ? pps : 0, t->q,
					    t, fake_now);
		CHECK(t->port == (int)i, "port");
		pci_cfg_write(&t->bus, 1, 4, 2, 0x6);	/* memory space, bus master */
		t->bar0 = pci_bar_base(&t->dev.tp.pci, VIRTIO_PCI_BAR);
		t->bar1 = pci_bar_base(&t->dev.tp.pci, VIRTIO_PCI_MSIX_BAR);
		t->links_up = t->links_down = 0;
		drv_init(t, FEATURES);
	}
}

/* ---- tests ---- */

static void test_discovery(void)
{
	struct tnic *t = &nics[0];
	u64 f;

	setup(0, 0);
	CHECK(pci_cfg_read(&t->bus, 1, 0, 4) == (0x1041u << 16 | 0x1AF4), "1AF4:1041 (virtio-net, modern)");
	CHECK(pci_cfg_read(&t->bus, 1, 8, 4) >> 8 == VIRTIO_NET_CLASS, "class: Ethernet controller");
	wr(t, VIRTIO_PCI_DFSELECT, 4, 0);
	f = rd(t, VIRTIO_PCI_DF, 4);
	wr(t, VIRTIO_PCI_DFSELECT, 4, 1);
	f |= rd(t, VIRTIO_PCI_DF, 4) << 32;
	CHECK((f & FEATURES) == FEATURES && (f & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)), "MAC, STATUS, MTU, EVENT_IDX, VERSION_1");
	CHECK(!(f & 1) && !(f & 2) && !(f & (1ull << 15)) && !(f & (1ull << 17)),
	      "no offloads, no mergeable buffers, no control queue");
	for (u32 i = 0; i < 6; i++)
		CHECK(rd(t, VIRTIO_PCI_DEVICE + i, 1) == MACS[0][i], "mac in the configuration");
	CHECK(rd(t, VIRTIO_PCI_DEVICE + VIRTIO_NET_CFG_STATUS, 2) == VIRTIO_NET_S_LINK_UP, "link up");
	CHECK(rd(t, VIRTIO_PCI_DEVICE + VIRTIO_NET_CFG_MTU, 2) == 1500, "MTU 1500");
	CHECK(rd(t, VIRTIO_PCI_NUM_QUEUES, 2) == 2, "two queues");
}

static void test_frames(void)
{
	struct tnic *a = &nics[0], *b = &nics[1], *c = &nics[2];
	u8 *got;

	setup(0, 0);
	post_rx(b, 8, 1530, true);
	post_rx(c, 8, 1530, true);
	CHECK(a->links_up == 1 && b->links_up == 1 && a->links_down == 0, "link up at DRIVER_OK");
	post_tx(a, BCAST, MACS[0], 60, 0x5A, true);
	CHECK(tx_used(a) == 1, "a's TX buffer back");
	CHECK(a->msis[2] == 1, "a's TX interrupt");
	CHECK(rx_used(b) == 1 && rx_used(c) == 1, "the broadcast reached b and c");
	CHECK(rx_used_len(b, 0) == VIRTIO_NET_HDR_LEN + 60, "used length: header + frame");
	got = b->ram + RXBUF + 2048ull * rx_used_id(b, 0);
	CHECK(got[0] == 0 && get16(b, RXBUF + 2048ull * rx_used_id(b, 0) + 10) == 1, "header: no flags, one buffer");
	CHECK(!memcmp(got + VIRTIO_NET_HDR_LEN, BCAST, 6) && !memcmp(got + VIRTIO_NET_HDR_LEN + 6, MACS[0], 6) &&
	      got[VIRTIO_NET_HDR_LEN + 59] == 0x5A, "the frame");
	CHECK(b->msis[1] == 1, "b's RX interrupt");
	CHECK(a->dev.st.tx_frames == 1 && b->dev.st.rx_frames == 1 && b->dev.st.rx_bytes == 60, "counted");
	/* b answers a unicast: only a (learned) gets it, and a has no
	 * buffers yet: it waits in a's queue until a posts some. */
	post_tx(b, MACS[0], MACS[1], 100, 1, true);
	CHECK(sw.ports[0].count == 1 && rx_used(c) == 1, "queued for a, not flooded to c");
	post_rx(a, 4, 1530, true);
	CHECK(rx_used(a) == 1 && sw.ports[0].count == 0, "delivered when a posted buffers");
	/* Spoofed: a sends as b. */
	post_tx(a, BCAST, MACS[1], 60, 2, true);
	CHECK(rx_used(b) == 1 && rx_used(c) == 1, "a spoofed frame reaches nobody");
	CHECK(sw.ports[0].st.spoofed == 1 && tx_used(a) == 2, "counted, buffer back");
	/* Oversized and runt frames: dropped, the device goes on. */
	post_tx(a, BCAST, MACS[0], NET_FRAME_MAX + 1, 3, false);
	post_tx(a, BCAST, MACS[0], 10, 4, true);
	CHECK(a->dev.st.tx_bad == 2 && tx_used(a) == 4 && !(status(a) & VIRTIO_STATUS_NEEDS_RESET),
	      "oversized and runt dropped, device live");
	post_tx(a, BCAST, MACS[0], NET_FRAME_MAX, 5, true);
	CHECK(rx_used(b) == 2 && rx_used_len(b, 1) == VIRTIO_NET_HDR_LEN + NET_FRAME_MAX, "the largest frame goes");
	/* A buffer too small for the frame: dropped, buffer back empty. */
	post_rx(c, 1, 40, true);
	u16 left = (u16)(8 - rx_used(c));
	for (u32 i = 0; i < left; i++)
		post_tx(b, MACS[2], MACS[1], 60, 6, true);	/* fill c's remaining 1530-byte buffers */
	CHECK(c->dev.st.rx_small == 0 && rx_used(c) == 8, "the big buffers first");
	post_tx(b, MACS[2], MACS[1], 60, 7, true);
	CHECK(c->dev.st.rx_small == 1 && rx_used(c) == 9 && rx_used_len(c, 8) == 0, "too small: dropped, length 0");
	post_tx(b, MACS[2], MACS[1], 30, 8, true);
	CHECK(sw.ports[2].count == 1, "the next waits for a buffer");
}

static void test_queue_full(void)
{
	struct tnic *a = &nics[0], *b = &nics[1];

	setup(0, 0);
	post_rx(a, 1, 1530, true);
	/* b posts no RX buffers: its queue fills, the rest is dropped there. */
	for (u32 i = 0; i < NET_QUEUE_LEN + 20; i++)
		post_tx(a, MACS[1], MACS[0], 200, (u8)i, true);
	CHECK(sw.ports[1].count == NET_QUEUE_LEN && sw.ports[1].st.queue_drops == 20, "b's queue bounded, drops counted");
	CHECK(tx_used(a) == NET_QUEUE_LEN + 20, "a is never held up by b");
	post_rx(b, QS, 1530, true);
	CHECK(rx_used(b) == NET_QUEUE_LEN && sw.ports[1].count == 0, "b gets the queued frames, in order");
	CHECK(b->ram[RXBUF + VIRTIO_NET_HDR_LEN + 20] == 0 && b->ram[RXBUF + 2048 * 63 + VIRTIO_NET_HDR_LEN + 20] == 63,
	      "oldest first");
}

static void test_budget_and_event_idx(void)
{
	struct tnic *a = &nics[0], *b = &nics[1];

	setup(0, 0);
	drv_init(a, FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	post_rx(b, QS, 1530, true);
	for (u32 i = 0; i < 100; i++)
		post_tx(a, MACS[1], MACS[0], 64, (u8)i, false);
	kick(a, VIRTIO_NET_TXQ);
	CHECK(tx_used(a) == VIRTIO_NET_EXIT_FRAMES, "one exit moves at most VIRTIO_NET_EXIT_FRAMES");
	CHECK(virtio_net_ready_at(&a->dev) != 0 && a->dev.st.deferrals == 1, "the rest waits as a backlog");
	CHECK(virtio_net_service(&a->dev, fake_now) == 0, "a service call finishes it");
	CHECK(tx_used(a) == 100 && rx_used(b) == 100, "all 100 delivered");
	CHECK(get16(a, TXU + 4 + 8ull * QS) == 100, "avail_event: notify me at the next frame");
	/* used_event far ahead: no TX interrupt. */
	u32 irq = a->msis[2];
	put16(a, TXA + 4 + 2ull * QS, 500);
	post_tx(a, MACS[1], MACS[0], 64, 1, true);
	CHECK(a->msis[2] == irq, "event index suppresses the interrupt");
}

/* A stream: notifications every VIRTIO_NET_TX_KICK_EVERY frames, the
 * rest taken by polls; the transmit interrupt held until the stream ends;
 * a lone frame notifies and interrupts at once. The driver asks for an
 * interrupt at the next used entry, as Linux does with one frame out. */
static void test_stream(void)
{
	struct tnic *a = &nics[0], *b = &nics[1];
	const u64 used_event = TXA + 4 + 2ull * QS, avail_event = TXU + 4 + 8ull * QS;

	setup(0, 0);
	drv_init(a, FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	post_rx(b, QS, 1530, true);
	u32 irq = a->msis[2];
	put16(a, used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 1, true);
	CHECK(tx_used(a) == 1 && rx_used(b) == 1 && a->msis[2] == irq + 1, "a lone frame: sent, interrupt at once");
	CHECK(get16(a, avail_event) == 1 && !a->dev.tx_stream, "the next frame notifies");
	fake_now += VIRTIO_NET_TX_STREAM_NS / 4;
	put16(a, used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 2, true);
	CHECK(a->dev.tx_stream && tx_used(a) == 2 && rx_used(b) == 2, "a second one soon after: a stream, sent at once");
	CHECK(get16(a, avail_event) == 2 + VIRTIO_NET_TX_KICK_EVERY - 1, "the next notification only TX_KICK_EVERY frames on");
	CHECK(a->msis[2] == irq + 1 && a->dev.tx_irq_owed, "its interrupt waits");
	/* The driver adds three without notifying (avail_event ahead). */
	for (u32 i = 0; i < 3; i++)
		post_tx(a, MACS[1], MACS[0], 64, (u8)(3 + i), false);
	fake_now += 1000;
	CHECK(virtio_net_ready_at(&a->dev) != 0, "a poll is wanted while streaming");
	virtio_net_service(&a->dev, fake_now);
	CHECK(tx_used(a) == 5 && rx_used(b) == 5 && a->dev.st.tx_polled == 3, "a poll takes them");
	CHECK(a->msis[2] == irq + 1, "the interrupt still waits");
	fake_now += VIRTIO_NET_TX_STREAM_NS;
	virtio_net_service(&a->dev, fake_now);
	CHECK(!a->dev.tx_stream && get16(a, avail_event) == 5, "a quiet poll ends the stream: the next frame notifies");
	CHECK(a->msis[2] == irq + 2 && !a->dev.tx_irq_owed, "the held interrupt goes");
	CHECK(virtio_net_ready_at(&a->dev) == 0, "nothing more to do");
	fake_now += VIRTIO_NET_TX_STREAM_NS * 2;
	put16(a, used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 9, true);
	CHECK(tx_used(a) == 6 && a->msis[2] == irq + 3, "a lone frame after the stream: at once again");
}

/* Receive interrupt coalescing (RX_IRQ_* in virtio_net.h): b's driver
 * asks for an interrupt at the next used entry each time (Linux, after
 * its receive poll), a sends to b. */
static const u64 RX_USED_EVENT = RXA + 4 + 2ull * QS;

static void rx_want_next(struct tnic *t)
{
	put16(t, RX_USED_EVENT, rx_used(t));
}

static void coalesce_setup(u32 rx_buffers)
{
	setup(0, 0);
	drv_init(&nics[1], FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	post_rx(&nics[1], rx_buffers, 1530, true);
}

static void send_ab(u32 frames, u8 tag)
{
	for (u32 i = 0; i < frames; i++)
		post_tx(&nics[0], MACS[1], MACS[0], 64, tag, true);
}

static void test_rx_coalesce(void)
{
	struct tnic *b = &nics[1];
	u32 irq;

	/* A lone frame (nothing received before): its interrupt at once. */
	coalesce_setup(QS);
	rx_want_next(b);
	send_ab(1, 1);
	CHECK(rx_used(b) == 1 && b->msis[1] == 1 && !b->dev.rx_irq_owed, "a lone frame: interrupt at once");
	/* One soon after: held, and a timer asked for. */
	fake_now += 100000;
	rx_want_next(b);
	send_ab(3, 2);
	CHECK(rx_used(b) == 4 && b->msis[1] == 1, "frames soon after: in the ring, interrupt held");
	CHECK(b->dev.rx_irq_owed && b->dev.st.rx_irqs_held == 1, "held once, counted once");
	CHECK(virtio_net_ready_at(&b->dev) == fake_now + VIRTIO_NET_RX_IRQ_HOLD_NS, "a call wanted when the hold ends");
	/* Timer expiry: not a tick before, then it goes. */
	fake_now += VIRTIO_NET_RX_IRQ_HOLD_NS - 1;
	virtio_net_service(&b->dev, fake_now);
	CHECK(b->msis[1] == 1, "not before its time");
	fake_now += 1;
	virtio_net_service(&b->dev, fake_now);
	CHECK(b->msis[1] == 2 && !b->dev.rx_irq_owed && b->dev.st.rx_interrupts == 2, "the held interrupt goes when due");
	CHECK(virtio_net_ready_at(&b->dev) == 0, "nothing more to do");
	/* The driver is polling (used_event not crossed): nothing held, nothing sent. */
	fake_now += 100000;
	put16(b, RX_USED_EVENT, (u16)(rx_used(b) + 100));
	send_ab(2, 3);
	CHECK(b->msis[1] == 2 && !b->dev.rx_irq_owed && virtio_net_ready_at(&b->dev) == 0,
	      "used_event ahead: no interrupt owed");
	/* The 64-frame limit. */
	fake_now += 100000;
	rx_want_next(b);
	irq = b->msis[1];
	send_ab(VIRTIO_NET_RX_IRQ_FRAMES - 1, 4);
	CHECK(b->msis[1] == irq && b->dev.rx_irq_owed, "63 frames: still held");
	send_ab(1, 4);
	CHECK(b->msis[1] == irq + 1 && !b->dev.rx_irq_owed, "the 64th: the interrupt goes");
	/* A frame after RX_QUIET_NS: at once; just under it: held. */
	fake_now += VIRTIO_NET_RX_QUIET_NS - 1;
	rx_want_next(b);
	irq = b->msis[1];
	send_ab(1, 5);
	CHECK(b->msis[1] == irq && b->dev.rx_irq_owed, "a frame just under the quiet spell: held");
	fake_now += VIRTIO_NET_RX_IRQ_HOLD_NS;
	virtio_net_service(&b->dev, fake_now);
	CHECK(b->msis[1] == irq + 1, "and sent when due");
	fake_now += VIRTIO_NET_RX_QUIET_NS;
	rx_want_next(b);
	send_ab(1, 6);
	CHECK(b->msis[1] == irq + 2 && !b->dev.rx_irq_owed, "after a quiet spell: at once (no added latency)");

	/* The ring running dry: 4 buffers, the last one used sends it. */
	coalesce_setup(4);
	send_ab(1, 7);
	fake_now += 100000;
	rx_want_next(b);
	irq = b->msis[1];
	send_ab(2, 8);
	CHECK(b->msis[1] == irq && b->dev.rx_irq_owed, "one buffer left: held");
	send_ab(1, 9);
	CHECK(rx_used(b) == 4 && b->msis[1] == irq + 1 && !b->dev.rx_irq_owed, "the last buffer used: at once");
	/* No buffer at all: a frame waits, and the refill takes it. */
	fake_now += 100000;
	rx_want_next(b);
	send_ab(1, 10);
	CHECK(sw.ports[1].count == 1 && b->msis[1] == irq + 1, "no buffer: the frame waits, no interrupt");
	post_rx(b, 1, 1530, true);
	CHECK(rx_used(b) == 5 && b->msis[1] == irq + 2, "the refill takes it; the ring is dry again: at once");

	/* A reset forgets a held interrupt. */
	coalesce_setup(QS);
	send_ab(1, 11);
	fake_now += 100000;
	rx_want_next(b);
	send_ab(1, 12);
	CHECK(b->dev.rx_irq_owed, "held");
	drv_init(b, FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	CHECK(!b->dev.rx_irq_owed && virtio_net_ready_at(&b->dev) == 0, "a reset forgets it");
}

/* A receive interrupt makes a held transmit one wait TX_IRQ_AFTER_RX_NS
 * more, at most TX_IRQ_MAX_NS after it began to wait; if the driver's
 * receive poll reclaimed the transmit buffers (used_event moved past
 * them), the transmit one is not sent at all. */
static void test_tx_irq_after_rx(void)
{
	struct tnic *a = &nics[0], *b = &nics[1];
	const u64 tx_used_event = TXA + 4 + 2ull * QS;
	u64 since;
	u32 txirq, rxirq;

	setup(0, 0);
	drv_init(a, FEATURES | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	post_rx(a, QS, 1530, true);
	post_rx(b, QS, 1530, true);
	put16(a, tx_used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 1, true);
	fake_now += 100000;
	put16(a, tx_used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 2, true);
	txirq = a->msis[2];
	since = fake_now;
	CHECK(a->dev.tx_stream && a->dev.tx_irq_owed && a->dev.tx_irq_due == since + VIRTIO_NET_TX_IRQ_DEFER_NS,
	      "streaming: a's transmit interrupt held");
	/* b answers: a's receive interrupt goes at once (a lone frame)... */
	fake_now += 500000;
	rxirq = a->msis[1];
	rx_want_next(a);
	post_tx(b, MACS[0], MACS[1], 64, 3, true);
	CHECK(a->msis[1] == rxirq + 1, "a's receive interrupt");
	CHECK(a->dev.tx_irq_due == fake_now + VIRTIO_NET_TX_IRQ_AFTER_RX_NS, "the transmit one waits 2 ms more");
	/* ... and a later one cannot push it past the cap. */
	fake_now = since + 3000000;
	rx_want_next(a);
	post_tx(b, MACS[0], MACS[1], 64, 4, true);
	CHECK(a->msis[1] == rxirq + 2, "another receive interrupt (after a quiet spell)");
	CHECK(a->dev.tx_irq_due == since + VIRTIO_NET_TX_IRQ_MAX_NS, "capped at 4 ms after it began to wait");
	CHECK(a->msis[2] == txirq, "the transmit interrupt still waits");
	/* a's receive poll reclaimed its transmit buffers: used_event is at
	 * the used index now, so when it is due it is not wanted. */
	put16(a, tx_used_event, tx_used(a));
	fake_now = since + VIRTIO_NET_TX_IRQ_MAX_NS;
	virtio_net_service(&a->dev, fake_now);
	CHECK(!a->dev.tx_irq_owed && a->msis[2] == txirq, "due, but not wanted any more: not sent");
	/* The other way round: the transmit interrupt falls due while a
	 * receive one is held: the receive one goes in its place, and the
	 * transmit one waits 2 ms more (its poll may reclaim the buffers). */
	fake_now += VIRTIO_NET_TX_STREAM_NS * 2;
	virtio_net_service(&a->dev, fake_now);
	put16(a, tx_used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 6, true);
	fake_now += 100000;
	put16(a, tx_used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 7, true);
	since = fake_now;
	txirq = a->msis[2];
	CHECK(a->dev.tx_stream && a->dev.tx_irq_owed, "a streams again, its transmit interrupt held");
	fake_now += 100000;
	rx_want_next(a);
	post_tx(b, MACS[0], MACS[1], 64, 8, true);	/* after a quiet spell: at once */
	rxirq = a->msis[1];
	fake_now += 100000;
	rx_want_next(a);
	post_tx(b, MACS[0], MACS[1], 64, 9, true);
	CHECK(a->dev.rx_irq_owed && a->msis[1] == rxirq, "a receive interrupt held too");
	fake_now = since + VIRTIO_NET_TX_IRQ_DEFER_NS;
	virtio_net_service(&a->dev, fake_now);
	CHECK(a->msis[1] == rxirq + 1 && !a->dev.rx_irq_owed, "the transmit one due: the receive one goes instead");
	CHECK(a->msis[2] == txirq && a->dev.tx_irq_owed &&
	      a->dev.tx_irq_due == since + VIRTIO_NET_TX_IRQ_MAX_NS, "the transmit one waits, up to the cap");
	fake_now = since + VIRTIO_NET_TX_IRQ_MAX_NS;
	virtio_net_service(&a->dev, fake_now);
	CHECK(!a->dev.tx_irq_owed && a->msis[2] == txirq + 1, "not reclaimed meanwhile: it goes at the cap");
	/* A lone frame after all this: its interrupt at once. */
	fake_now += VIRTIO_NET_TX_STREAM_NS * 2;
	virtio_net_service(&a->dev, fake_now);
	txirq = a->msis[2];
	put16(a, tx_used_event, tx_used(a));
	post_tx(a, MACS[1], MACS[0], 64, 5, true);
	CHECK(a->msis[2] == txirq + 1, "a lone frame's transmit interrupt: at once");
}

static void test_throttle(void)
{
	struct tnic *a = &nics[0], *b = &nics[1];

	setup(0, 10);	/* a: 10 packets a second */
	post_rx(b, 8, 1530, true);
	post_tx(a, MACS[1], MACS[0], 60, 1, true);
	post_tx(a, MACS[1], MACS[0], 60, 2, true);
	CHECK(rx_used(b) == 1 && tx_used(a) == 1, "the second frame waits in a's ring");
	CHECK(sw.ports[0].st.throttled == 1, "throttled counted");
	u64 at = virtio_net_ready_at(&a->dev);
	CHECK(at > fake_now, "a time to come back");
	CHECK(virtio_net_service(&a->dev, fake_now) == at && rx_used(b) == 1, "not before its time");
	fake_now = at;
	CHECK(virtio_net_service(&a->dev, fake_now) == 0, "served");
	CHECK(rx_used(b) == 2 && tx_used(a) == 2 && sw.ports[0].st.throttled == 1, "sent when due, counted once");
}

/* A malformed TX ring of a fails a only; b and c go on. */
static void bad_ring(u32 kind)
{
	struct tnic *a = &nics[0], *b = &nics[1], *c = &nics[2];
	u16 d;

	setup(0, 0);
	drv_init(a, FEATURES | VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	post_rx(a, 4, 1530, true);
	post_rx(b, 8, 1530, true);
	post_rx(c, 8, 1530, true);
	d = a->tx_avail % QS;
	switch (kind) {
	case 0: /* a loop: 0 -> 1 -> 0 */
		desc(a, TXD, d, TXBUF, 60, VIRTQ_DESC_F_NEXT, (u16)(d + 1));
		desc(a, TXD, d + 1, TXBUF, 60, VIRTQ_DESC_F_NEXT, d);
		break;
	case 1: /* a buffer running past the end of RAM */
		desc(a, TXD, d, RAM_SIZE - 30, 60, 0, 0);
		break;
	case 2: /* an indirect table of 300 chained descriptors: over VIRTQ_MAX_SEGS */
		for (u32 i = 0; i < 300; i++)
			desc(a, 0x180000ull, i, TXBUF, 8, i < 299 ? VIRTQ_DESC_F_NEXT : 0, (u16)(i + 1));
		desc(a, TXD, d, 0x180000ull, 300 * 16, VIRTQ_DESC_F_INDIRECT, 0);
		break;
	default: /* a head index past the queue */
		put16(a, TXA + 4 + 2ull * d, QS + 5);
		a->tx_avail++;
		put16(a, TXA + 2, a->tx_avail);
		kick(a, VIRTIO_NET_TXQ);
		goto check;
	}
	put16(a, TXA + 4 + 2ull * d, d);
	a->tx_avail++;
	put16(a, TXA + 2, a->tx_avail);
	kick(a, VIRTIO_NET_TXQ);
check:
	CHECK(status(a) & VIRTIO_STATUS_NEEDS_RESET, "a: NEEDS_RESET");
	CHECK(a->msis[0] == 1, "a: configuration-change interrupt");
	CHECK(nlogs == 1, "reported once");
	CHECK(rx_used(b) == 0 && rx_used(c) == 0, "nothing went out");
	/* b and c still talk; b's broadcast to a is dropped (a is broken). */
	post_tx(b, BCAST, MACS[1], 60, 9, true);
	CHECK(rx_used(c) == 1 && !(status(b) & VIRTIO_STATUS_NEEDS_RESET), "b to c works");
	CHECK(rx_used(a) == 0 && a->dev.st.rx_down == 1, "a, broken, receives nothing");
	/* a's driver resets it: a works again. */
	u32 downs = a->links_down;
	drv_init(a, FEATURES);
	CHECK(a->links_down == downs + 1, "link down at the reset");
	post_rx(a, 4, 1530, true);
	post_tx(a, BCAST, MACS[0], 60, 10, true);
	CHECK(rx_used(b) == 1 && rx_used(c) == 2, "a works after its reset");
	post_tx(b, MACS[0], MACS[1], 60, 11, true);
	CHECK(rx_used(a) == 1, "and receives");
}

static void test_bad_rings(void)
{
	for (u32 k = 0; k < 4; k++)
		bad_ring(k);
}

/* A malformed RX ring: a's RX buffer outside RAM. */
static void test_bad_rx(void)
{
	struct tnic *a = &nics[0], *b = &nics[1];

	setup(0, 0);
	desc(a, RXD, 0, RAM_SIZE - 100, 1530, VIRTQ_DESC_F_WRITE, 0);
	put16(a, RXA + 4, 0);
	put16(a, RXA + 2, 1);
	kick(a, VIRTIO_NET_RXQ);
	post_rx(b, 2, 1530, true);
	post_tx(b, BCAST, MACS[1], 60, 1, true);
	CHECK(status(a) & VIRTIO_STATUS_NEEDS_RESET, "a: NEEDS_RESET");
	CHECK(tx_used(b) == 1 && !(status(b) & VIRTIO_STATUS_NEEDS_RESET), "b goes on");
}

/* Random ring contents on a; b and c must stay sane. */
static void test_random_rings(void)
{
	struct tnic *a = &nics[0], *b = &nics[1], *c = &nics[2];

	for (u32 round = 0; round < 300; round++) {
		setup(0, 0);
		post_rx(b, QS, 1530, true);
		post_rx(c, QS, 1530, true);
		for (u32 i = 0; i < QS; i++)
			desc(a, TXD, i, check_rand() % (RAM_SIZE + 4096), (u32)(check_rand() % 4000),
			     (u16)(check_rand() & 7), (u16)(check_rand() % (QS + 8)));
		for (u32 i = 0; i < QS; i++)
			put16(a, TXA + 4 + 2ull * i, (u16)(check_rand() % (QS + 4)));
		put16(a, TXA + 2, (u16)(check_rand() % (2 * QS)));
		kick(a, VIRTIO_NET_TXQ);
		kick(a, VIRTIO_NET_TXQ);
		CHECK(!(status(b) & VIRTIO_STATUS_NEEDS_RESET) && !(status(c) & VIRTIO_STATUS_NEEDS_RESET),
		      "the others are never failed");
		CHECK(sw.ports[1].count <= NET_QUEUE_LEN, "bounded");
		post_tx(b, MACS[2], MACS[1], 60, 1, true);
		CHECK(c->dev.st.rx_frames >= 1, "b still reaches c");
	}
}

int main(void)
{
	test_discovery();
	test_frames();
	test_queue_full();
	test_budget_and_event_idx();
	test_stream();
	test_rx_coalesce();
	test_tx_irq_after_rx();
	test_throttle();
	test_bad_rings();
	test_bad_rx();
	test_random_rings();
	for (u32 i = 0; i < NICS; i++)
		free(nics[i].ram);
	return check_summary();
}
