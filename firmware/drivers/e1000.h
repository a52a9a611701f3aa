/* Intel 8254x (e1000) and 82574 (e1000e) rings and registers, as the
 * 82540EM and 82574L that Bochs and QEMU emulate have them (Intel PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual,
 * 8254x, rev. 4.0: section 13 registers, 3.2/3.3 legacy descriptors, 14
 * initialisation; Intel 82574 GbE Controller Family Datasheet: section 10
 * registers, 7.1.4/7.2.10 legacy descriptors, 4.6 initialisation).
 *
 * The 82574 keeps the 8254x's register offsets, interrupt cause bits and
 * legacy descriptor formats for everything used here (one queue, legacy
 * descriptors, no offloads); where it differs the driver asks its model:
 * EERD's field layout (done bit 1, address from bit 2: 82574 10.2.2.5),
 * CTRL_EXT.DRV_LOAD (the driver owns the device, not its manageability
 * firmware: 10.2.2.3) and TXDCTL bit 22 (written 1: 10.2.6.9). MSI-X
 * and its IVAR routing are not used: the 82574 signals plain MSI (one
 * vector, ICR causes as on the 8254x) while MSI-X is off.
 *
 * Pure: the registers come through struct e1000_env (MMIO in the monitor,
 * a fake device model in host tests), descriptor rings and buffers live
 * in one block of the caller's DMA memory (virtual pointer plus the bus
 * address the device sees). Legacy descriptors only, no offloads.
 * Interrupt causes are masked (IMC) until the owner asks for them
 * (e1000_irq_enable, when the function signals by MSI: e1000_nic.c);
 * either way e1000_irq_ack reads and clears them.
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
#define E1000_CTRL_EXT 0x0018
#define E1000_ICR 0x00C0
#define E1000_IMS 0x00D0
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
#define E1000_TXDCTL 0x3828
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
#define E1000_EERD_DONE (1u << 4)		/* 8254x: address from bit 8 */
#define E1000_EERD_DONE_82574 (1u << 1)	/* 82574: address from bit 2 */
#define E1000_CTRL_EXT_DRV_LOAD (1u << 28)	/* 82574 10.2.2.3 */
#define E1000_TXDCTL_82574_BIT22 (1u << 22)	/* 82574 10.2.6.9: written 1 */
#define E1000_RAH_AV (1u << 31)
#define E1000_ICR_LSC (1u << 2)
#define E1000_ICR_TXDW (1u << 0)
#define E1000_ICR_RXDMT0 (1u << 4)	/* receive ring below its threshold */
#define E1000_ICR_RXO (1u << 6)		/* receive overrun */
#define E1000_ICR_RXT0 (1u << 7)
/* The causes the owner takes an interrupt for: frames in, the ring low
 * or overrun (frames waiting), the link. Not TXDW: transmits are pushed
 * by their sender and reclaimed on the next one. */
#define E1000_IRQ_CAUSES (E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0 | E1000_ICR_LSC)
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

/* Which register dialect (see the top of this file). */
enum e1000_model {
	E1000_MODEL_8254X,
	E1000_MODEL_82574,
};

struct e1000_env {
	u32 (*rd)(void *ctx, u32 reg);
	void (*wr)(void *ctx, u32 reg, u32 v);
	void *ctx;
};

struct e1000 {
	struct e1000_env env;
	enum e1000_model model;
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

/* e1000_init: reset the device (of model's dialect), read its MAC into
 * mac, set up both rings in dma (dma_bus as the device sees it), receive
 * everything (a bridge port: promiscuous, broadcast, FCS stripped),
 * transmit with padding, mask every interrupt, ask for link up. Counts
 * into st. Returns 0, or -CG_ETIMEDOUT when the reset never ends. */
int e1000_init(struct e1000 *e, enum e1000_model model, const struct e1000_env *env, void *dma,
	       u64 dma_bus, u8 *mac, struct host_nic_stats *st);

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

/* e1000_irq_ack: the pending interrupt causes as HOST_NIC_EV_* bits,
 * cleared: ICR is read, then the bits read are written back (write 1 to
 * clear), because the 82574 clears ICR on a read only while every cause
 * is masked or it auto-masks (82574 10.2.4.1), and an MSI device sends
 * its next message only for causes that were cleared. */
u32 e1000_irq_ack(struct e1000 *e);

/* e1000_irq_enable: on: unmask E1000_IRQ_CAUSES (IMS); off: mask every
 * cause (IMC). What an unmasked cause signals is the function's business
 * (MSI when set up; INTx stays disabled in the command register). */
void e1000_irq_enable(struct e1000 *e, bool on);

/* e1000_nic_ops, e1000e_nic_ops: the 8254x and the 82574 behind the host
 * NIC interface (e1000_nic.c; monitor only: MMIO and DMA memory). */
extern const struct host_nic_ops e1000_nic_ops;
extern const struct host_nic_ops e1000e_nic_ops;

#endif
