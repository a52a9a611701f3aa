/* A host NIC the monitor drives itself (never a guest): the small
 * interface every driver offers, so the uplink code in core knows NICs
 * only through it. The drivers: the Intel 8254x and 82574 (e1000.c); the
 * server NICs labs carry (igb i350, i40e X710) are meant to follow as
 * further tables of these ops.
 *
 * Calls into one NIC are serialised by the caller (core holds the lock of
 * the network the NIC is the uplink of). Every call does bounded work:
 * rx_poll at most `budget` frames, tx one frame, no waiting on the
 * device beyond a bounded register poll at probe. */
#ifndef CG_NIC_H
#define CG_NIC_H

#include <cg/types.h>
#include "drivers/pci_host.h"

#define HOST_NIC_MAX 4u
#define HOST_NIC_FRAME_MAX 1518u	/* what rx_poll hands on at most */

/* irq_ack's causes. */
#define HOST_NIC_EV_RX (1u << 0)	/* frames arrived */
#define HOST_NIC_EV_TX (1u << 1)	/* transmissions completed */
#define HOST_NIC_EV_LINK (1u << 2)	/* the link changed: ask link() */

struct host_nic;

/* One received frame, valid only during the call. */
typedef void (*host_nic_rx_fn)(void *ctx, const u8 *frame, u32 len);

struct host_nic_stats {
	u64 tx_frames, tx_bytes;
	u64 rx_frames, rx_bytes;
	u64 tx_busy;		/* tx refused: the ring was full */
	u64 rx_errors;		/* frames the device marked bad, cut into pieces, or too long */
};

struct host_nic_ops {
	const char *name;	/* "e1000" */
	/* match: whether the driver takes this vendor/device ID. */
	bool (*match)(u16 vendor, u16 device);
	/* probe: take the function at d (memory decoding and bus mastering
	 * on, the device reset, rings set up, interrupts masked) and fill
	 * nic->mac. 0, or a negative error with nic->why saying what failed. */
	int (*probe)(struct host_nic *nic, const struct pci_cfg *cfg, const struct pci_host_dev *d);
	/* tx: queue one frame (14..HOST_NIC_FRAME_MAX bytes, copied). 0, or
	 * -CG_EBUSY when the ring is full (the caller keeps the frame). */
	int (*tx)(struct host_nic *nic, const u8 *frame, u32 len);
	/* rx_poll: hand at most budget received frames to fn; returns how many
	 * descriptors it took (good frames and dropped ones). */
	u32 (*rx_poll)(struct host_nic *nic, host_nic_rx_fn fn, void *ctx, u32 budget);
	/* link: whether the link is up now. */
	bool (*link)(struct host_nic *nic);
	/* irq_ack: read and clear the device's interrupt causes
	 * (HOST_NIC_EV_*). With interrupts masked it is how a poller learns
	 * of link changes. */
	u32 (*irq_ack)(struct host_nic *nic);
	/* irq_enable: unmask (on) the causes worth an interrupt (frames
	 * received, the link), or mask every cause (off). Only for a NIC with
	 * an MSI vector (host_nic.vector): the device signals nothing else. */
	void (*irq_enable)(struct host_nic *nic, bool on);
};

struct host_nic {
	const struct host_nic_ops *ops;
	u32 index;		/* nicN: the order the scan found them in */
	u16 bdf, vendor, device;
	u8 mac[6];		/* the device's own (its EEPROM's) */
	bool msi;		/* the function lists an MSI or MSI-X capability */
	u8 vector;		/* its MSI vector to the boot CPU; 0: none, it is polled */
	const char *why;	/* probe's failure, for the log */
	struct host_nic_stats st;
	void *priv;		/* the driver's */
};

/* Where host NICs signal: the local APIC (the boot CPU's) and the first
 * of HOST_NIC_MAX vectors, nicN's being vector_base + N. */
struct host_nic_irq {
	u32 apic_id;
	u8 vector_base;
};

/* host_nics_probe: scan host PCI (cfg), and hand each function some
 * driver matches to it, in scan order, as nic0, nic1, ... (at most
 * HOST_NIC_MAX). A NIC whose function lists MSI gets its message set up
 * to irq (its causes stay masked: irq_enable); with irq NULL (no local
 * APIC) or no MSI it is to be polled. Logs each NIC and a `host-nic`
 * marker. Returns how many NICs work. Boot CPU, once, before any VM
 * starts. */
u32 host_nics_probe(const struct pci_cfg *cfg, const struct host_nic_irq *irq);

/* host_nic_get: nicN, or NULL when the scan found no such working NIC. */
struct host_nic *host_nic_get(u32 index);

/* host_nic_count: how many NICs probe_all took. */
u32 host_nic_count(void);

#endif
