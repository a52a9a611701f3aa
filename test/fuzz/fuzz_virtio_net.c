/* Fuzz target: virtio-net (devices/virtio/virtio_net.c over virtq.c,
 * virtio_pci.c and net_switch.c) with one hostile NIC, A, whose transmit
 * and receive rings the fuzzer writes, and a well-behaved neighbour, B,
 * on the same switch, wired as test/unit/test_virtio_net.c wires them.
 * Input: options (1 byte: bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 A limited
 * to 100 packets/s, 3 B sends A a broadcast every round), queue size
 * (1: 2^(b % 9)), rounds (1: 1..8), then the start of A's 64 KiB guest
 * RAM (at most 4 KiB of it): TX available ring at 0, TX descriptors at
 * 0x40, RX available ring at 0x800, RX descriptors at 0x840; the used
 * rings lie at 0x8000 (TX) and 0xC000 (RX). The bytes after it give each
 * round's clock step (ms).
 * Each round notifies both of A's queues, lets the clock run, services A.
 * Invariants beyond "no crash, no access outside RAM":
 *  - B is never failed and every frame it gets has A's MAC as source
 *    (or B's own broadcast never comes back), at most NET_FRAME_MAX bytes;
 *  - the switch's queues stay bounded;
 *  - A, once it needs a reset, completes no more TX chains. */
#include <stdarg.h>
#include <cg/errno.h>
#include "fuzz.h"
#include "devices/virtio/virtio_net.h"

#define RAM_SIZE 0x10000ull
#define TXA 0x0ull
#define TXD 0x40ull
#define RXA 0x800ull
#define RXD 0x840ull
#define TXU 0x8000ull
#define RXU 0xC000ull
#define BQS 8u	/* B's buffers: 0x1000..0x5000, clear of its used rings */
#define MSI_ADDR 0xFEE00000u

struct fnic {
	struct virtio_net dev;
	struct pci_bus bus;
	u8 *ram;
	int port;
	struct net_frame q[NET_QUEUE_LEN];
	u64 bar0;
};

static struct fnic A, B;
static struct net_switch sw;
static u64 fake_now;
static const u8 MAC_A[6] = { 2, 0, 0, 0, 0, 0xA }, MAC_B[6] = { 2, 0, 0, 0, 0, 0xB };

static void *gmap(void *ctx, u64 gpa, u64 len)
{
	struct fnic *n = ctx;

	if (!len || gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return n->ram + gpa;
}

static u64 now_fn(void)
{
	return fake_now;
}

static int fake_msi(struct vm *vm, u64 addr, u32 data)
{
	FUZZ_CHECK(vm == (struct vm *)&A || vm == (struct vm *)&B, "MSI for another VM");
	(void)addr;
	(void)data;
	return 0;
}

static void fake_line(struct vm *vm, u32 gsi, bool level)
{
	(void)level;
	FUZZ_CHECK((vm == (struct vm *)&A || vm == (struct vm *)&B) && gsi < 24, "INTx outside the VM's lines");
}

static void fake_log(const char *fmt, ...)
{
	(void)fmt;
}

static const struct virtio_pci_env env = { fake_msi, fake_line, fake_log };

static u32 src_peek(void *ctx, const u8 **f)
{
	return net_switch_peek(&sw, (u32)((struct fnic *)ctx)->port, f);
}

static void src_pop(void *ctx, bool delivered)
{
	net_switch_pop(&sw, (u32)((struct fnic *)ctx)->port, delivered);
}

static void deliver(struct fnic *n)
{
	struct virtio_net_src src = { src_peek, src_pop, n };

	virtio_net_rx(&n->dev, &src, NET_QUEUE_LEN);
}

static bool p_admit(void *ctx, u32 len, u64 now, u64 *at, bool first)
{
	return net_switch_admit(&sw, (u32)((struct fnic *)ctx)->port, len, now, at, first);
}

static void p_send(void *ctx, const u8 *f, u32 len)
{
	u32 mask = net_switch_send(&sw, (u32)((struct fnic *)ctx)->port, f, len);

	if (mask & (1u << A.port))
		deliver(&A);
	if (mask & (1u << B.port))
		deliver(&B);
}

static void p_pull(void *ctx)
{
	deliver(ctx);
}

static void wr(struct fnic *n, u64 off, u32 size, u64 v)
{
	pci_mmio(&n->bus, n->bar0 + off, true, size, &v);
}

static u64 rd(struct fnic *n, u64 off, u32 size)
{
	u64 v = 0;

	pci_mmio(&n->bus, n->bar0 + off, false, size, &v);
	return v;
}

static u16 get16(struct fnic *n, u64 gpa)
{
	u16 v;

	memcpy(&v, n->ram + gpa, 2);
	return v;
}

static void queue(struct fnic *n, u32 q, u32 size, u64 d, u64 a, u64 u)
{
	wr(n, VIRTIO_PCI_Q_SELECT, 2, q);
	wr(n, VIRTIO_PCI_Q_SIZE, 2, size);
	wr(n, VIRTIO_PCI_Q_DESC, 8, d);
	wr(n, VIRTIO_PCI_Q_DRIVER, 8, a);
	wr(n, VIRTIO_PCI_Q_DEVICE, 8, u);
	wr(n, VIRTIO_PCI_Q_ENABLE, 2, 1);
}

static void nic_up(struct fnic *n, const u8 *mac, u64 features, u32 qsize, u64 pps)
{
	struct virtio_net_port ops = { .admit = p_admit, .send = p_send, .pull = p_pull, .ctx = n };
	struct virtq_mem m = { gmap, n };

	pci_bus_init(&n->bus);
	FUZZ_CHECK(virtio_net_init(&n->dev, (struct vm *)n, &env, "f", mac, &m, now_fn, &ops) == 0, "init");
	FUZZ_CHECK(pci_bus_add(&n->bus, &n->dev.tp.pci) == 1, "slot");
	virtio_pci_attached(&n->dev.tp);
	n->port = net_switch_attach(&sw, mac, true, 0, pps, n->q, n, fake_now);
	pci_cfg_write(&n->bus, 1, 4, 2, 0x6);
	n->bar0 = pci_bar_base(&n->dev.tp.pci, VIRTIO_PCI_BAR);
	wr(n, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(n, VIRTIO_PCI_GFSELECT, 4, 0);
	wr(n, VIRTIO_PCI_GF, 4, (u32)features);
	wr(n, VIRTIO_PCI_GFSELECT, 4, 1);
	wr(n, VIRTIO_PCI_GF, 4, (u32)(features >> 32));
	wr(n, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	queue(n, VIRTIO_NET_RXQ, qsize, RXD, RXA, RXU);
	queue(n, VIRTIO_NET_TXQ, qsize, TXD, TXA, TXU);
	wr(n, VIRTIO_PCI_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* B: BQS RX buffers of 1530 bytes at 0x1000 + 2 KiB each, reposted as used. */
static u16 b_posted;

static void b_post(void)
{
	while ((u16)(b_posted - get16(&B, RXU + 2)) < BQS) {
		u16 d = b_posted % BQS;
		u64 t = RXD + 16ull * d, buf = 0x1000 + 2048ull * d;
		u32 len = 1530;
		u16 fl = VIRTQ_DESC_F_WRITE;

		memcpy(B.ram + t, &buf, 8);
		memcpy(B.ram + t + 8, &len, 4);
		memcpy(B.ram + t + 12, &fl, 2);
		memcpy(B.ram + RXA + 4 + 2ull * d, &d, 2);
		b_posted++;
		memcpy(B.ram + RXA + 2, &b_posted, 2);
	}
	wr(&B, VIRTIO_PCI_NOTIFY + 4 * VIRTIO_NET_RXQ, 2, 0);
}

/* B sends one broadcast (TX descriptor 0, header + 60 bytes at 0xF000). */
static u16 b_sent;

static void b_send(void)
{
	u8 *f = B.ram + 0xF000;
	u64 buf = 0xF000;
	u32 len = VIRTIO_NET_HDR_LEN + 60;
	u16 d = b_sent % BQS, fl = 0;

	memset(f, 0, len);
	memset(f + VIRTIO_NET_HDR_LEN, 0xFF, 6);
	memcpy(f + VIRTIO_NET_HDR_LEN + 6, MAC_B, 6);
	memcpy(B.ram + TXD + 16ull * d, &buf, 8);
	memcpy(B.ram + TXD + 16ull * d + 8, &len, 4);
	memcpy(B.ram + TXD + 16ull * d + 12, &fl, 2);
	memcpy(B.ram + TXA + 4 + 2ull * d, &d, 2);
	b_sent++;
	memcpy(B.ram + TXA + 2, &b_sent, 2);
	wr(&B, VIRTIO_PCI_NOTIFY + 4 * VIRTIO_NET_TXQ, 2, 1);
}

/* Every frame B got since last time: from A, whole. */
FUZZ_NO_COVERAGE static void b_check(u16 *seen)
{
	u16 now = get16(&B, RXU + 2);

	for (; *seen != now; (*seen)++) {
		u32 id, len;

		memcpy(&id, B.ram + RXU + 4 + 8ull * (*seen % BQS), 4);
		memcpy(&len, B.ram + RXU + 4 + 8ull * (*seen % BQS) + 4, 4);
		FUZZ_CHECK(id < BQS, "B's used id is one of its buffers");
		FUZZ_CHECK(len >= VIRTIO_NET_HDR_LEN + NET_ETH_HLEN && len <= VIRTIO_NET_HDR_LEN + NET_FRAME_MAX,
			   "B gets whole frames");
		FUZZ_CHECK(!memcmp(B.ram + 0x1000 + 2048ull * id + VIRTIO_NET_HDR_LEN + 6, MAC_A, 6),
			   "every frame B gets comes from A's own MAC");
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	u8 opt = fuzz_u8(&in);
	u32 qsize = 1u << (fuzz_u8(&in) % 9);
	u32 rounds = 1 + fuzz_u8(&in) % 8;
	u64 feat = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC);
	u16 seen = 0, tx_done = 0;
	bool failed = false;

	if (opt & 1)
		feat |= VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	if (opt & 2)
		feat |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
	A.ram = calloc(1, RAM_SIZE);
	B.ram = calloc(1, RAM_SIZE);
	fake_now = 1000000000ull;
	b_posted = b_sent = 0;
	net_switch_init(&sw, "f");
	nic_up(&A, MAC_A, feat, qsize, (opt & 4) ? 100 : 0);
	nic_up(&B, MAC_B, VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC), BQS, 0);
	size_t n = in.n < 4096 ? in.n : 4096;

	memcpy(A.ram, in.p, n);
	in.p += n;
	in.n -= n;
	b_post();
	for (u32 r = 0; r < rounds; r++) {
		if (opt & 8)
			b_send();
		wr(&A, VIRTIO_PCI_NOTIFY + 4 * VIRTIO_NET_RXQ, 2, 0);
		wr(&A, VIRTIO_PCI_NOTIFY + 4 * VIRTIO_NET_TXQ, 2, 1);
		fake_now += 1000000ull * fuzz_u8(&in);
		virtio_net_service(&A.dev, fake_now);
		b_check(&seen);
		b_post();
		FUZZ_CHECK(!(rd(&B, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET), "B is never failed");
		FUZZ_CHECK(sw.ports[0].count <= NET_QUEUE_LEN && sw.ports[1].count <= NET_QUEUE_LEN, "bounded queues");
		if (failed)
			FUZZ_CHECK(get16(&A, TXU + 2) == tx_done, "a failed A completes nothing more");
		failed = rd(&A, VIRTIO_PCI_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET;
		tx_done = get16(&A, TXU + 2);
	}
	free(A.ram);
	free(B.ram);
	return 0;
}
