/* Intel 8254x rings: see e1000.h. The driver owns every index; the device
 * only ever moves RDH/TDH and writes descriptor status, which are read
 * once and range-checked. */
#include <cg/errno.h>
#include <cg/string.h>
#include "drivers/e1000.h"

static u32 rd(struct e1000 *e, u32 reg)
{
	return e->env.rd(e->env.ctx, reg);
}

static void wr(struct e1000 *e, u32 reg, u32 v)
{
	e->env.wr(e->env.ctx, reg, v);
}

static u8 *rx_buf(struct e1000 *e, u32 i)
{
	return e->dma + E1000_RING_BYTES + i * E1000_BUF;
}

static u8 *tx_buf(struct e1000 *e, u32 i)
{
	return e->dma + E1000_RING_BYTES + (E1000_RX_DESCS + i) * E1000_BUF;
}

static u64 bus_of(struct e1000 *e, const u8 *p)
{
	return e->dma_bus + (u64)(p - e->dma);
}

/* The MAC the device loaded from its EEPROM into receive address 0 after
 * reset (14.3); when that entry is not valid, the EEPROM's words 0-2
 * through EERD (8254x 13.4.4: address at bit 8, done bit 4; the 82574's
 * 10.2.2.5: address at bit 2, done bit 1). */
static void read_mac(struct e1000 *e, u8 *mac)
{
	u32 lo = rd(e, E1000_RAL0), hi = rd(e, E1000_RAH0);
	bool i82574 = e->model == E1000_MODEL_82574;
	u32 shift = i82574 ? 2 : 8, done = i82574 ? E1000_EERD_DONE_82574 : E1000_EERD_DONE;

	if (!(hi & E1000_RAH_AV)) {
		u16 w[3] = { 0, 0, 0 };

		for (u32 i = 0; i < 3; i++) {
			wr(e, E1000_EERD, E1000_EERD_START | i << shift);
			for (u32 n = 0; n < E1000_POLL_MAX; n++) {
				u32 v = rd(e, E1000_EERD);

				if (v & done) {
					w[i] = (u16)(v >> 16);
					break;
				}
			}
		}
		lo = (u32)w[0] | (u32)w[1] << 16;
		hi = w[2];
	}
	for (u32 i = 0; i < 4; i++)
		mac[i] = (u8)(lo >> (8 * i));
	mac[4] = (u8)hi;
	mac[5] = (u8)(hi >> 8);
}

int e1000_init(struct e1000 *e, enum e1000_model model, const struct e1000_env *env, void *dma,
	       u64 dma_bus, u8 *mac, struct host_nic_stats *st)
{
	u32 ctrl, n;

	memset(e, 0, sizeof(*e));
	e->env = *env;
	e->model = model;
	e->dma = dma;
	e->dma_bus = dma_bus;
	e->rx = (struct e1000_rx_desc *)e->dma;
	e->tx = (struct e1000_tx_desc *)(e->dma + E1000_RX_DESCS * sizeof(struct e1000_rx_desc));
	e->st = st;
	memset(e->dma, 0, E1000_RING_BYTES);

	/* A global reset (14.5): masks first, as the device may be mid-DMA. */
	wr(e, E1000_IMC, 0xFFFFFFFF);
	wr(e, E1000_RCTL, 0);
	wr(e, E1000_TCTL, 0);
	wr(e, E1000_CTRL, rd(e, E1000_CTRL) | E1000_CTRL_RST);
	for (n = 0; n < E1000_POLL_MAX && (rd(e, E1000_CTRL) & E1000_CTRL_RST); n++)
		;
	if (n == E1000_POLL_MAX)
		return -CG_ETIMEDOUT;
	wr(e, E1000_IMC, 0xFFFFFFFF);
	(void)rd(e, E1000_ICR);
	read_mac(e, mac);

	/* Link (14.3): set link up, auto speed; no PHY or link reset, no VLAN
	 * stripping (a bridge forwards tags as they come). */
	ctrl = rd(e, E1000_CTRL);
	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_ILOS | E1000_CTRL_VME | E1000_CTRL_PHY_RST);
	wr(e, E1000_CTRL, ctrl);
	for (u32 i = 0; i < 128; i++)
		wr(e, E1000_MTA + 4 * i, 0);

	/* Receive (14.4): every descriptor but one given to the device (RDT
	 * one behind RDH means all free buffers are its). */
	for (u32 i = 0; i < E1000_RX_DESCS; i++)
		e->rx[i].addr = bus_of(e, rx_buf(e, i));
	wr(e, E1000_RDBAL, (u32)bus_of(e, (u8 *)e->rx));
	wr(e, E1000_RDBAH, (u32)(bus_of(e, (u8 *)e->rx) >> 32));
	wr(e, E1000_RDLEN, E1000_RX_DESCS * sizeof(struct e1000_rx_desc));
	wr(e, E1000_RDH, 0);
	wr(e, E1000_RDT, E1000_RX_DESCS - 1);
	wr(e, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | E1000_RCTL_BAM |
				  E1000_RCTL_SECRC);

	/* Transmit (14.5). */
	wr(e, E1000_TDBAL, (u32)bus_of(e, (u8 *)e->tx));
	wr(e, E1000_TDBAH, (u32)(bus_of(e, (u8 *)e->tx) >> 32));
	wr(e, E1000_TDLEN, E1000_TX_DESCS * sizeof(struct e1000_tx_desc));
	wr(e, E1000_TDH, 0);
	wr(e, E1000_TDT, 0);
	wr(e, E1000_TIPG, E1000_TIPG_COPPER);
	if (model == E1000_MODEL_82574)
		wr(e, E1000_TXDCTL, rd(e, E1000_TXDCTL) | E1000_TXDCTL_82574_BIT22);
	wr(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT | E1000_TCTL_COLD);
	/* The 82574: the driver, not manageability firmware, owns it now. */
	if (model == E1000_MODEL_82574)
		wr(e, E1000_CTRL_EXT, rd(e, E1000_CTRL_EXT) | E1000_CTRL_EXT_DRV_LOAD);
	return 0;
}

/* Take back descriptors the device finished (DD), oldest first, never
 * past our own tail. */
static void tx_reclaim(struct e1000 *e)
{
	while (e->tx_clean != e->tx_tail &&
	       (__atomic_load_n(&e->tx[e->tx_clean].status, __ATOMIC_ACQUIRE) & E1000_TXD_DD))
		e->tx_clean = (e->tx_clean + 1) % E1000_TX_DESCS;
}

int e1000_tx(struct e1000 *e, const u8 *frame, u32 len)
{
	struct e1000_tx_desc *d;
	u32 next;

	if (!len || len > E1000_BUF)
		return -CG_EINVAL;
	tx_reclaim(e);
	next = (e->tx_tail + 1) % E1000_TX_DESCS;
	if (next == e->tx_clean) {
		e->st->tx_busy++;
		return -CG_EBUSY;
	}
	memcpy(tx_buf(e, e->tx_tail), frame, len);
	d = &e->tx[e->tx_tail];
	d->addr = bus_of(e, tx_buf(e, e->tx_tail));
	d->length = (u16)len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	/* The descriptor is whole before the device may see the tail move. */
	__atomic_store_n(&d->cmd, E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS, __ATOMIC_RELEASE);
	e->tx_tail = next;
	wr(e, E1000_TDT, next);
	e->st->tx_frames++;
	e->st->tx_bytes += len;
	return 0;
}

u32 e1000_rx_poll(struct e1000 *e, host_nic_rx_fn fn, void *ctx, u32 budget)
{
	u32 taken = 0;

	while (taken < budget) {
		struct e1000_rx_desc *d = &e->rx[e->rx_next];
		u8 status = __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
		u32 len = d->length;
		bool eop = status & E1000_RXD_EOP;

		if (!(status & E1000_RXD_DD))
			break;
		if (e->rx_discard || !eop || (d->errors & E1000_RXD_ERR_FRAME) || !len ||
		    len > HOST_NIC_FRAME_MAX) {
			/* A frame that spans descriptors is cut: count it once,
			 * at its first piece, and drop pieces until EOP. */
			if (!e->rx_discard)
				e->st->rx_errors++;
			e->rx_discard = !eop;
		} else {
			e->st->rx_frames++;
			e->st->rx_bytes += len;
			fn(ctx, rx_buf(e, e->rx_next), len);
		}
		/* Back to the device: our own buffer address, status cleared. */
		d->addr = bus_of(e, rx_buf(e, e->rx_next));
		d->length = 0;
		d->errors = 0;
		__atomic_store_n(&d->status, 0, __ATOMIC_RELEASE);
		wr(e, E1000_RDT, e->rx_next);
		e->rx_next = (e->rx_next + 1) % E1000_RX_DESCS;
		taken++;
	}
	return taken;
}

bool e1000_link(struct e1000 *e)
{
	return rd(e, E1000_STATUS) & E1000_STATUS_LU;
}

u32 e1000_irq_ack(struct e1000 *e)
{
	u32 icr = rd(e, E1000_ICR), ev = 0;

	if (icr)
		wr(e, E1000_ICR, icr);

	if (icr & E1000_ICR_RXT0)
		ev |= HOST_NIC_EV_RX;
	if (icr & E1000_ICR_TXDW)
		ev |= HOST_NIC_EV_TX;
	if (icr & E1000_ICR_LSC)
		ev |= HOST_NIC_EV_LINK;
	return ev;
}

void e1000_irq_enable(struct e1000 *e, bool on)
{
	if (on)
		wr(e, E1000_IMS, E1000_IRQ_CAUSES);
	else
		wr(e, E1000_IMC, 0xFFFFFFFF);
}
