/* Intel 8254x (e1000) rings and registers, as the 82540EM that Bochs and
 * QEMU emulate has them (Intel PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual, 8254x, rev. 4.0: section 13
 * registers, 3.2/3.3 legacy descriptors, 14 initialisation).
 *
 * Pure: the registers come through struct e1000_env (MMIO in the monitor,
 * a fake device model in host tests), descriptor rings and buffers live
 * in one block of the caller's DMA memory (virtual pointer plus the bus
 * address the device sees). Legacy descriptors only, no offloads, no
 * interrupts (IMC masks them all; the owner polls, see e1000_nic.c).
 *
 * Everything the device writes back (descriptor length, status, errors)
 * is checked before use: a length past the 2 KiB buffer is never read,
 * a frame cut into several descriptors (no EOP) is dropped whole, and
 * ring indexes are only ever the driver's own. */
#ifndef CG_E1000_H
#define CG_E1000_H

#include <cg/types.h>
#include "drivers/nic.h"

/* Registers (8254x SDM 13.4). */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_ICR 0x00C0
#define E1000_IMC 0x00D8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_MTA 0x5200	/* 128 dwords */
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404

#define E1000_CTRL_LRST (1u << 3)
#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_ILOS (1u << 7)
#define E1000_CTRL_RST (1u << 26)
#define E1000_CTRL_VME (1u << 30)
#define E1000_CTRL_PHY_RST (1u << 31)
#define E1000_STATUS_LU (1u << 1)
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_RAH_AV (1u << 31)
#define E1000_ICR_LSC (1u << 2)
#define E1000_ICR_TXDW (1u << 0)
#define E1000_ICR_RXT0 (1u << 7)
#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_UPE (1u << 3)	/* unicast promiscuous: a bridge port */
#define E1000_RCTL_MPE (1u << 4)
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_SECRC (1u << 26)	/* strip the FCS */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)	/* pad short frames */
#define E1000_TCTL_CT (0x0Fu << 4)
#define E1000_TCTL_COLD (0x40u << 12)	/* full duplex */
#define E1000_TIPG_COPPER (10u | 8u << 10 | 6u << 20)	/* IPGT, IPGR1, IPGR2 (13.4.34) */

/* Legacy descriptor bits (3.2.3, 3.3.3). */
#define E1000_RXD_DD (1u << 0)
#define E1000_RXD_EOP (1u << 1)
#define E1000_RXD_ERR_FRAME 0x97u	/* CE, SE, SEQ, CXE, RXE: the frame is bad */
#define E1000_TXD_EOP (1u << 0)
#define E1000_TXD_IFCS (1u << 1)
#define E1000_TXD_RS (1u << 3)
#define E1000_TXD_DD (1u << 0)

struct e1000_rx_desc {
	u64 addr;
	u16 length;
	u16 csum;
	u8 status;
	u8 errors;
	u16 special;
};

struct e1000_tx_desc {
	u64 addr;
	u16 length;
	u8 cso;
	u8 cmd;
	u8 status;
	u8 css;
	u16 special;
};

/* Ring sizes: a multiple of 8 descriptors (RDLEN/TDLEN in 128-byte units). */
#define E1000_RX_DESCS 64u
#define E1000_TX_DESCS 64u
#define E1000_BUF 2048u		/* RCTL.BSIZE 00: 2048-byte receive buffers */
#define E1000_RING_BYTES 4096u	/* both rings, in the first page */
#define E1000_DMA_BYTES (E1000_RING_BYTES + (E1000_RX_DESCS + E1000_TX_DESCS) * E1000_BUF)
/* Register polls at reset and EEPROM reads give up after this many reads. */
#define E1000_POLL_MAX 100000u

struct e1000_env {
	u32 (*rd)(void *ctx, u32 reg);
	void (*wr)(void *ctx, u32 reg, u32 v);
	void *ctx;
};

struct e1000 {
	struct e1000_env env;
	u8 *dma;		/* E1000_DMA_BYTES, 16-byte aligned (a page, really) */
	u64 dma_bus;		/* the same block as the device addresses it */
	struct e1000_rx_desc *rx;
	struct e1000_tx_desc *tx;
	u32 rx_next;		/* the next descriptor the device fills */
	u32 tx_tail;		/* the next descriptor we fill */
	u32 tx_clean;		/* the oldest descriptor the device may still own */
	bool rx_discard;	/* inside a frame cut over descriptors: drop to EOP */
	struct host_nic_stats *st;
};

/* e1000_init: reset the device, read its MAC into mac, set up both rings
 * in dma (dma_bus as the device sees it), receive everything (a bridge
 * port: promiscuous, broadcast, FCS stripped), transmit with padding,
 * mask every interrupt, ask for link up. Counts into st. Returns 0, or
 * -CG_ETIMEDOUT when the reset never ends. */
int e1000_init(struct e1000 *e, const struct e1000_env *env, void *dma, u64 dma_bus, u8 *mac,
	       struct host_nic_stats *st);

/* e1000_tx: copy one frame (1..E1000_BUF bytes) into the next TX buffer
 * and hand it to the device, after taking back what it finished. 0, or
 * -CG_EBUSY when every descriptor is still the device's, -CG_EINVAL for
 * a length out of range. */
int e1000_tx(struct e1000 *e, const u8 *frame, u32 len);

/* e1000_rx_poll: up to budget filled RX descriptors: good frames (one
 * descriptor, EOP, no frame error, 1..HOST_NIC_FRAME_MAX bytes) go to fn,
 * the rest are counted as rx_errors; each descriptor goes back to the
 * device at once. Returns the descriptors taken. */
u32 e1000_rx_poll(struct e1000 *e, host_nic_rx_fn fn, void *ctx, u32 budget);

/* e1000_link: STATUS.LU. */
bool e1000_link(struct e1000 *e);

/* e1000_irq_ack: read ICR (which clears it) as HOST_NIC_EV_* bits. */
u32 e1000_irq_ack(struct e1000 *e);

/* e1000_nic_ops: the 8254x behind the host NIC interface (e1000_nic.c;
 * monitor only: MMIO and DMA memory). */
extern const struct host_nic_ops e1000_nic_ops;

#endif
