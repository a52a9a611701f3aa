/* The Intel 8254x/82574 driver's rings (firmware/drivers/e1000.c) against
 * a small fake device model given as its environment: registers in an
 * array, DMA straight into the test's memory (the bus address of the
 * driver's block is its host address). The fake device transmits what
 * TDH..TDT holds when the test lets it, and receives frames the test
 * injects at RDH, with whatever length, status and errors a hostile or
 * broken device might write back. It speaks either dialect: the 8254x's
 * EERD layout and clear-on-read ICR, or the 82574's EERD layout and ICR
 * that a read clears only while every cause is masked (82574 10.2.4.1);
 * both clear ICR bits written 1 and keep an IMS/IMC mask. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "drivers/e1000.h"

#define WIRE_MAX 256

struct fake {
	u32 regs[0x6000 / 4];
	bool rst_stuck;		/* CTRL.RST never clears */
	bool tx_hold;		/* the device does not transmit yet */
	bool eeprom_only;	/* RAH0.AV clear: the MAC comes through EERD */
	bool i82574;		/* the 82574's dialect */
	u32 icr, ims;
	u32 wire_n;
	u32 wire_len[WIRE_MAX];
	u8 wire[WIRE_MAX][E1000_BUF];
};

static u32 reg(struct fake *f, u32 r)
{
	return f->regs[r / 4];
}

static void fake_tx(struct fake *f)
{
	u8 *ring = (u8 *)(uintptr_t)((u64)reg(f, E1000_TDBAH) << 32 | reg(f, E1000_TDBAL));
	u32 n = reg(f, E1000_TDLEN) / sizeof(struct e1000_tx_desc);

	while (!f->tx_hold && reg(f, E1000_TDH) != reg(f, E1000_TDT)) {
		struct e1000_tx_desc *d = (struct e1000_tx_desc *)ring + reg(f, E1000_TDH);

		if (f->wire_n < WIRE_MAX) {
			memcpy(f->wire[f->wire_n], (void *)(uintptr_t)d->addr, d->length);
			f->wire_len[f->wire_n++] = d->length;
		}
		d->status |= E1000_TXD_DD;
		f->regs[E1000_TDH / 4] = (reg(f, E1000_TDH) + 1) % n;
	}
}

static u32 fake_rd(void *ctx, u32 r)
{
	struct fake *f = ctx;
	u32 v;

	switch (r) {
	case E1000_CTRL:
		return f->rst_stuck ? reg(f, r) : reg(f, r) & ~E1000_CTRL_RST;
	case E1000_ICR:
		v = f->icr;
		if (!f->i82574 || !f->ims)
			f->icr = 0;
		return v;
	case E1000_IMS:
		return f->ims;
	case E1000_RAL0:
		return 0x00545452;	/* 52:54:54:00 */
	case E1000_RAH0:
		return (f->eeprom_only ? 0 : E1000_RAH_AV) | 0x0201;
	case E1000_EERD: {
		/* Words 0-2 of a fake EEPROM: 02:00 | 00:5e | 10:01 */
		static const u16 words[3] = { 0x0002, 0x5e00, 0x0110 };
		u32 a = f->i82574 ? (reg(f, r) >> 2) & 0x3FFF : (reg(f, r) >> 8) & 0xFF;

		if (f->i82574)	/* bit 4 is address bit 2 there: not "done" */
			return (a < 3 ? (u32)words[a] << 16 : 0) | E1000_EERD_DONE_82574 | (reg(f, r) & 0xFFFC);
		return (a < 3 ? (u32)words[a] << 16 : 0) | E1000_EERD_DONE;
	}
	}
	return reg(f, r);
}

static void fake_wr(void *ctx, u32 r, u32 v)
{
	struct fake *f = ctx;

	switch (r) {
	case E1000_ICR:
		f->icr &= ~v;
		return;
	case E1000_IMS:
		f->ims |= v;
		return;
	case E1000_IMC:
		f->ims &= ~v;
		return;
	}
	f->regs[r / 4] = v;
	if (r == E1000_TDT)
		fake_tx(f);
}

/* The device writes one received frame at RDH, if RDT leaves it one:
 * len bytes of data, a length field of claimed, the given status and
 * errors. Returns false when the ring was full. */
static bool fake_rx(struct fake *f, const u8 *data, u32 len, u32 claimed, u8 status, u8 errors)
{
	u8 *ring = (u8 *)(uintptr_t)((u64)reg(f, E1000_RDBAH) << 32 | reg(f, E1000_RDBAL));
	u32 n = reg(f, E1000_RDLEN) / sizeof(struct e1000_rx_desc), h = reg(f, E1000_RDH);
	struct e1000_rx_desc *d = (struct e1000_rx_desc *)ring + h;

	if (h == reg(f, E1000_RDT))
		return false;
	memcpy((void *)(uintptr_t)d->addr, data, len);
	d->length = (u16)claimed;
	d->errors = errors;
	d->status = status;
	f->regs[E1000_RDH / 4] = (h + 1) % n;
	return true;
}

struct got {
	u32 n;
	u32 len[WIRE_MAX];
	u8 first[WIRE_MAX];
};

static void on_rx(void *ctx, const u8 *frame, u32 len)
{
	struct got *g = ctx;

	if (g->n < WIRE_MAX) {
		g->len[g->n] = len;
		g->first[g->n] = frame[0];
	}
	g->n++;
}

static struct fake *fake;
static struct e1000 dev;
static struct host_nic_stats st;
static u8 *dma;
static u8 mac[6];

static int setup_model(enum e1000_model model, bool eeprom_only)
{
	struct e1000_env env = { fake_rd, fake_wr, NULL };

	memset(fake, 0, sizeof(*fake));
	memset(&st, 0, sizeof(st));
	memset(dma, 0xA5, E1000_DMA_BYTES);	/* the driver must not rely on zeroed memory */
	fake->i82574 = model == E1000_MODEL_82574;
	fake->eeprom_only = eeprom_only;
	env.ctx = fake;
	return e1000_init(&dev, model, &env, dma, (u64)(uintptr_t)dma, mac, &st);
}

static int setup(void)
{
	return setup_model(E1000_MODEL_8254X, false);
}

static void frame(u8 *b, u32 len, u8 tag)
{
	memset(b, tag, len);
}

static void test_init(void)
{
	static const u8 want[6] = { 0x52, 0x54, 0x54, 0x00, 0x01, 0x02 };
	static const u8 want_ee[6] = { 0x02, 0x00, 0x00, 0x5e, 0x10, 0x01 };

	CHECK(setup() == 0, "init");
	CHECK(!memcmp(mac, want, 6), "MAC from receive address 0");
	CHECK(fake->ims == 0, "every interrupt masked");
	CHECK((reg(fake, E1000_RCTL) & (E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM | E1000_RCTL_SECRC)) ==
		      (E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM | E1000_RCTL_SECRC),
	      "receive on, promiscuous (a bridge port), broadcast, FCS stripped");
	CHECK(!(reg(fake, E1000_RCTL) & (3u << 16)), "2 KiB receive buffers");
	CHECK((reg(fake, E1000_TCTL) & (E1000_TCTL_EN | E1000_TCTL_PSP)) == (E1000_TCTL_EN | E1000_TCTL_PSP), "transmit on, padding");
	CHECK(reg(fake, E1000_RDLEN) == E1000_RX_DESCS * 16 && reg(fake, E1000_TDLEN) == E1000_TX_DESCS * 16, "ring lengths");
	CHECK(reg(fake, E1000_RDLEN) % 128 == 0, "RDLEN a multiple of 128 bytes");
	CHECK(reg(fake, E1000_RDH) == 0 && reg(fake, E1000_RDT) == E1000_RX_DESCS - 1, "all RX buffers but one the device's");
	CHECK(reg(fake, E1000_CTRL) & E1000_CTRL_SLU, "link up asked for");
	CHECK(!(reg(fake, E1000_CTRL) & (E1000_CTRL_RST | E1000_CTRL_PHY_RST | E1000_CTRL_VME)), "no reset left, no VLAN stripping");
	fake->eeprom_only = true;
	{
		struct e1000_env env = { fake_rd, fake_wr, fake };

		CHECK(e1000_init(&dev, E1000_MODEL_8254X, &env, dma, (u64)(uintptr_t)dma, mac, &st) == 0 && !memcmp(mac, want_ee, 6),
		      "MAC from the EEPROM when receive address 0 is not valid");
	}
	CHECK(setup() == 0, "again");
	fake->rst_stuck = true;
	{
		struct e1000_env env = { fake_rd, fake_wr, fake };

		CHECK(e1000_init(&dev, E1000_MODEL_8254X, &env, dma, (u64)(uintptr_t)dma, mac, &st) == -CG_ETIMEDOUT,
		      "a reset that never ends: an error, not a hang");
	}
}

static void test_tx(void)
{
	u8 b[E1000_BUF + 1];
	u32 accepted = 0;

	CHECK(setup() == 0, "init");
	for (u32 i = 0; i < 3; i++) {
		frame(b, 60 + i, (u8)(0x10 + i));
		CHECK(e1000_tx(&dev, b, 60 + i) == 0, "frame sent");
	}
	CHECK(fake->wire_n == 3 && fake->wire_len[0] == 60 && fake->wire_len[2] == 62 && fake->wire[1][0] == 0x11 &&
		      fake->wire[2][61] == 0x12,
	      "on the wire in order, whole");
	CHECK(st.tx_frames == 3 && st.tx_bytes == 183, "counted");
	CHECK(e1000_tx(&dev, b, 0) == -CG_EINVAL && e1000_tx(&dev, b, E1000_BUF + 1) == -CG_EINVAL, "lengths out of range");

	/* A device that does not keep up: the ring fills, one descriptor
	 * short (tail never meets the oldest unfinished one). */
	fake->tx_hold = true;
	for (u32 i = 0; i < 2 * E1000_TX_DESCS; i++) {
		frame(b, 100, (u8)i);
		if (e1000_tx(&dev, b, 100) == 0)
			accepted++;
	}
	CHECK(accepted == E1000_TX_DESCS - 1, "a full ring takes no more");
	CHECK(st.tx_busy == E1000_TX_DESCS + 1, "each refusal counted");
	fake->tx_hold = false;
	fake_tx(fake);
	CHECK(fake->wire_n == 3 + E1000_TX_DESCS - 1, "all of them went out once the device ran");
	CHECK(e1000_tx(&dev, b, 100) == 0, "finished descriptors are taken back");
	/* Wrap the ring several times. */
	for (u32 i = 0; i < 3 * E1000_TX_DESCS; i++) {
		frame(b, 64, (u8)i);
		if (e1000_tx(&dev, b, 64))
			break;
		accepted++;
	}
	CHECK(accepted == E1000_TX_DESCS - 1 + 3 * E1000_TX_DESCS, "the ring wraps");
}

static void test_rx(void)
{
	struct got g;
	u8 b[E1000_BUF];
	u32 n;

	CHECK(setup() == 0, "init");
	memset(&g, 0, sizeof(g));
	CHECK(e1000_rx_poll(&dev, on_rx, &g, 8) == 0 && g.n == 0, "nothing received: nothing taken");
	for (u32 i = 0; i < 3; i++) {
		frame(b, 64, (u8)(0x20 + i));
		CHECK(fake_rx(fake, b, 64, 64, E1000_RXD_DD | E1000_RXD_EOP, 0), "device receives");
	}
	CHECK(e1000_rx_poll(&dev, on_rx, &g, 2) == 2 && g.n == 2, "the budget bounds a poll");
	CHECK(g.first[0] == 0x20 && g.first[1] == 0x21 && g.len[0] == 64, "frames in order, whole");
	CHECK(reg(fake, E1000_RDT) == 1, "their descriptors go back to the device at once");
	CHECK(e1000_rx_poll(&dev, on_rx, &g, 8) == 1 && g.n == 3 && g.first[2] == 0x22, "the rest next time");
	CHECK(st.rx_frames == 3 && st.rx_bytes == 192 && st.rx_errors == 0, "counted");

	/* What a broken or hostile device may write back. */
	memset(&g, 0, sizeof(g));
	frame(b, 64, 0x30);
	fake_rx(fake, b, 64, 4000, E1000_RXD_DD | E1000_RXD_EOP, 0);	/* length past the buffer */
	fake_rx(fake, b, 64, 1519, E1000_RXD_DD | E1000_RXD_EOP, 0);	/* longer than a frame */
	fake_rx(fake, b, 64, 0, E1000_RXD_DD | E1000_RXD_EOP, 0);	/* empty */
	fake_rx(fake, b, 64, 64, E1000_RXD_DD | E1000_RXD_EOP, 0x01);	/* CRC error */
	fake_rx(fake, b, 64, 64, E1000_RXD_DD, 0);			/* a frame in three pieces */
	fake_rx(fake, b, 64, 64, E1000_RXD_DD, 0);
	fake_rx(fake, b, 64, 64, E1000_RXD_DD | E1000_RXD_EOP, 0);
	frame(b, 60, 0x31);
	fake_rx(fake, b, 60, 60, E1000_RXD_DD | E1000_RXD_EOP, 0x20);	/* a TCP checksum flag only: forwarded */
	n = e1000_rx_poll(&dev, on_rx, &g, 64);
	CHECK(n == 8, "every descriptor taken");
	CHECK(g.n == 1 && g.first[0] == 0x31 && g.len[0] == 60, "only the good frame handed on");
	CHECK(st.rx_errors == 5, "one error per bad frame (the cut one once)");
	for (u32 i = 0; i < E1000_RX_DESCS; i++)
		CHECK(dev.rx[i].addr == (u64)(uintptr_t)(dma + E1000_RING_BYTES + i * E1000_BUF) && !dev.rx[i].status,
		      "descriptors given back with the driver's own buffer, status clear");

	/* A device that scribbles another address into a descriptor: the
	 * driver puts its own back before the device may use it again. */
	{
		u32 h = reg(fake, E1000_RDH);

		frame(b, 64, 0x40);
		fake_rx(fake, b, 64, 64, E1000_RXD_DD | E1000_RXD_EOP, 0);
		dev.rx[h].addr = 0xDEAD0000;
		e1000_rx_poll(&dev, on_rx, &g, 1);
		CHECK(dev.rx[h].addr == (u64)(uintptr_t)(dma + E1000_RING_BYTES + h * E1000_BUF), "own address restored");
	}

	/* A full ring (the device stops at RDT), then many laps. */
	CHECK(setup() == 0, "init");
	n = 0;
	while (fake_rx(fake, b, 64, 64, E1000_RXD_DD | E1000_RXD_EOP, 0))
		n++;
	CHECK(n == E1000_RX_DESCS - 1, "the device fills all but one");
	memset(&g, 0, sizeof(g));
	CHECK(e1000_rx_poll(&dev, on_rx, &g, 1000) == n, "a poll takes what is there, no more");
	for (u32 i = 0; i < 5 * E1000_RX_DESCS; i++) {
		frame(b, 64, (u8)i);
		fake_rx(fake, b, 64, 64, E1000_RXD_DD | E1000_RXD_EOP, 0);
		if (e1000_rx_poll(&dev, on_rx, &g, 4) != 1)
			break;
		n++;
	}
	CHECK(n == E1000_RX_DESCS - 1 + 5 * E1000_RX_DESCS && st.rx_frames == n, "the ring wraps");
}

static void test_link(void)
{
	CHECK(setup() == 0, "init");
	CHECK(!e1000_link(&dev), "link down");
	fake->regs[E1000_STATUS / 4] = E1000_STATUS_LU;
	fake->icr = E1000_ICR_LSC | E1000_ICR_RXT0;
	CHECK(e1000_link(&dev), "link up");
	CHECK(e1000_irq_ack(&dev) == (HOST_NIC_EV_LINK | HOST_NIC_EV_RX), "causes read");
	CHECK(e1000_irq_ack(&dev) == 0, "and cleared");
}

/* Interrupt causes: masked after init, unmasked on request, and acked
 * by read plus write-back, which clears them on both dialects (the
 * 82574's ICR read alone would not while causes are unmasked). */
static void test_irq(void)
{
	for (u32 m = 0; m < 2; m++) {
		enum e1000_model model = m ? E1000_MODEL_82574 : E1000_MODEL_8254X;

		CHECK(setup_model(model, false) == 0, "init");
		CHECK(fake->ims == 0, "every cause masked after init");
		e1000_irq_enable(&dev, true);
		CHECK(fake->ims == E1000_IRQ_CAUSES, "RXT0, RXO, RXDMT0, LSC unmasked");
		CHECK(!(fake->ims & E1000_ICR_TXDW), "not TXDW");
		fake->icr = E1000_ICR_RXT0 | E1000_ICR_RXO | (1u << 31);
		CHECK(e1000_irq_ack(&dev) == HOST_NIC_EV_RX, "overrun and timer: frames to take");
		CHECK(fake->icr == 0, "cleared while unmasked");
		CHECK(e1000_irq_ack(&dev) == 0, "nothing pending after");
		fake->icr = E1000_ICR_TXDW;
		CHECK(e1000_irq_ack(&dev) == HOST_NIC_EV_TX, "TX done read");
		e1000_irq_enable(&dev, false);
		CHECK(fake->ims == 0, "masked again");
	}
}

/* The 82574's differences: its EERD layout, DRV_LOAD, TXDCTL bit 22;
 * rings as on the 8254x. */
static void test_82574(void)
{
	static const u8 want[6] = { 0x02, 0x00, 0x00, 0x5e, 0x10, 0x01 };
	u8 b[64];
	struct got g = { 0 };

	CHECK(setup_model(E1000_MODEL_82574, true) == 0, "init");
	CHECK(!memcmp(mac, want, 6), "MAC through the 82574's EERD layout");
	CHECK(reg(fake, E1000_CTRL_EXT) & E1000_CTRL_EXT_DRV_LOAD, "driver loaded");
	CHECK(reg(fake, E1000_TXDCTL) & E1000_TXDCTL_82574_BIT22, "TXDCTL bit 22 written 1");
	CHECK(setup_model(E1000_MODEL_8254X, false) == 0 && !reg(fake, E1000_CTRL_EXT) && !reg(fake, E1000_TXDCTL),
	      "neither on the 8254x");
	CHECK(setup_model(E1000_MODEL_82574, false) == 0, "init");
	frame(b, 60, 0x33);
	CHECK(e1000_tx(&dev, b, 60) == 0 && fake->wire_n == 1 && fake->wire_len[0] == 60, "a frame out");
	CHECK(fake_rx(fake, b, 60, 60, E1000_RXD_DD | E1000_RXD_EOP, 0), "a frame in");
	CHECK(e1000_rx_poll(&dev, on_rx, &g, 8) == 1 && g.n == 1 && g.len[0] == 60, "and taken");
}

int main(void)
{
	fake = calloc(1, sizeof(*fake));
	dma = aligned_alloc(4096, E1000_DMA_BYTES);
	test_init();
	test_tx();
	test_rx();
	test_link();
	test_irq();
	test_82574();
	free(dma);
	free(fake);
	return check_summary();
}
