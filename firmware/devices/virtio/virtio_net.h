/* virtio-net (virtio-v1.1 section 5.1) over the PCI transport: one receive
 * queue (0) and one transmit queue (1), no control queue, no offloads:
 * VIRTIO_NET_F_MAC (the VM's MAC in the configuration), F_STATUS (link
 * up), F_MTU (1500), and the ring features EVENT_IDX and INDIRECT_DESC.
 * Every frame carries the 12-byte virtio_net_hdr of VERSION_1 (5.1.6),
 * which the device writes as "no checksum, no GSO, one buffer" and
 * ignores on transmit (no offload is offered, so the driver sends whole
 * frames with their checksums done).
 *
 * Transmit runs on the vCPU that notifies, inside its exit: at most
 * VIRTIO_NET_EXIT_FRAMES frames per exit, each copied once from guest RAM
 * into the device's staging buffer and handed to the port (the switch
 * copies it into the receiving ports' queues). The port's token buckets
 * may hold a frame back: it stays in the guest's ring (nothing dropped)
 * until virtio_net_service finds its time has come. Receive pulls frames
 * from the port's queue into the guest's RX buffers, when there are some;
 * a frame that does not fit the buffer (shorter than header + frame) is
 * dropped and counted, the buffer returned empty.
 *
 * A ring that breaks the rules (loop, index out of range, buffer outside
 * guest RAM, chain over the queue size or VIRTQ_MAX_SEGS) fails this
 * device only: NEEDS_RESET until the driver resets it; other NICs, the
 * switch and other VMs go on. A transmitted frame that is too short or
 * too long is dropped and counted, the device goes on. */
#ifndef CG_VIRTIO_NET_H
#define CG_VIRTIO_NET_H

#include <cg/types.h>
#include "devices/virtio/net_switch.h"
#include "devices/virtio/virtio_pci.h"
#include "devices/virtio/virtq.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1
/* virtio-net feature bits (5.1.3). */
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
/* struct virtio_net_hdr (5.1.6): flags, gso_type, le16 hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers. */
#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
/* virtio_net_config (5.1.4): mac[6], le16 status, le16
 * max_virtqueue_pairs, le16 mtu. */
#define VIRTIO_NET_CFG_LEN 12
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_CFG_PAIRS 8
#define VIRTIO_NET_CFG_MTU 10
#define VIRTIO_NET_MTU 1500
/* Class code: network controller, Ethernet. */
#define VIRTIO_NET_CLASS 0x020000
/* Frames one exit (or one service call) transmits, and receives. */
#define VIRTIO_NET_EXIT_FRAMES 64u
/* Batching (net_exits_per_packet). A transmit notification within
 * TX_STREAM_NS of the previous frame starts a stream: the device then
 * asks for the next notification only TX_KICK_EVERY frames on (event
 * index, 2.7.10) and takes the frames before it from its polls (every
 * scheduler pass: the vCPU halting, a tick; any access of the driver to
 * the device); a poll TX_STREAM_NS after the last frame ends the stream,
 * so a lone frame always notifies and goes at once. While streaming the
 * transmit-used interrupt waits up to TX_IRQ_DEFER_NS (the driver
 * reclaims buffers on every transmit). Frames go to the receiving NICs
 * in bunches of up to DELIVER_EVERY, each bunch one interrupt at most.
 * TX_STREAM_NS is 5 ms, not 2: Linux's TCP under Bochs sends in rounds a
 * few ms apart (a few frames, then it waits for the ACK), and a stream
 * that ended between rounds cost a notification per round (net.bench:
 * 0.468 exits per frame with 2 ms, 0.296 with 5 ms; the ping round trip
 * unchanged, as a frame after a pause of a second still notifies). */
#define VIRTIO_NET_TX_STREAM_NS 5000000ull
#define VIRTIO_NET_TX_KICK_EVERY 16u
#define VIRTIO_NET_TX_IRQ_DEFER_NS 2000000ull
#define VIRTIO_NET_DELIVER_EVERY 16u
/* Receive interrupt coalescing. A receive interrupt the driver asked for
 * (used_event crossed, 2.7.10) waits up to RX_IRQ_HOLD_NS, until
 * RX_IRQ_FRAMES frames came in since it began to wait, or until the RX
 * ring runs dry (the driver refills it only when interrupted): one
 * interrupt then serves them all. A frame after RX_QUIET_NS without one
 * interrupts at once: a lone packet (a ping, a request) waits for
 * nothing. When a receive interrupt goes, a held transmit interrupt
 * waits TX_IRQ_AFTER_RX_NS more (Linux's receive poll reclaims transmit
 * buffers as well, and moves used_event past what it took, so the
 * transmit one is often not wanted any more), at most TX_IRQ_MAX_NS
 * after it began to wait. */
#define VIRTIO_NET_RX_IRQ_HOLD_NS 1000000ull
#define VIRTIO_NET_RX_IRQ_FRAMES 64u
#define VIRTIO_NET_RX_QUIET_NS 2000000ull
#define VIRTIO_NET_TX_IRQ_AFTER_RX_NS 2000000ull
#define VIRTIO_NET_TX_IRQ_MAX_NS 4000000ull

/* A queue of frames for the receive side, read while whatever guards it
 * is held (the caller's switch lock). */
struct virtio_net_src {
	u32 (*peek)(void *ctx, const u8 **frame); /* length, 0: empty */
	void (*pop)(void *ctx, bool delivered);
	void *ctx;
};

/* How the device reaches its port of a switch (vm_net.c; fakes in host
 * tests). All but unlocked are called with the device's lock held. */
struct virtio_net_port {
	/* May a frame of len bytes go at now? If not, *ready_at is when;
	 * first says this is the frame's first try (counting). */
	bool (*admit)(void *ctx, u32 len, u64 now, u64 *ready_at, bool first);
	/* Forward a frame (the device's staging buffer: copy it). */
	void (*send)(void *ctx, const u8 *frame, u32 len);
	/* Move what the port holds into the device: take the switch's lock
	 * and call virtio_net_rx with a source on the port's queue. */
	void (*pull)(void *ctx);
	/* The driver brought the device up (DRIVER_OK) or reset it. */
	void (*link)(void *ctx, bool up);
	/* Optional, called WITHOUT the device lock after each guest access:
	 * deliver what the switch queued while the lock was busy. */
	void (*unlocked)(void *ctx);
	/* Optional, device lock held: the frames sent since the last call
	 * are all there is for now: hand them to the receiving devices (send
	 * may only queue them). */
	void (*flush)(void *ctx);
	void *ctx;
};

struct virtio_net_stats {
	u64 tx_frames, tx_bytes;
	u64 rx_frames, rx_bytes;
	u64 tx_bad;		/* dropped: header missing, runt or oversized */
	u64 rx_small;		/* dropped: the RX buffer was too small */
	u64 rx_down;		/* dropped: the driver was not running */
	u64 tx_notifies, rx_notifies;
	u64 interrupts;		/* both queues */
	u64 rx_interrupts;	/* of those, the receive queue's */
	u64 deferrals;		/* transmit stopped on the per-exit budget */
	u64 tx_polled;		/* frames taken without a notification */
	u64 irqs_deferred;	/* transmit interrupts held while streaming */
	u64 rx_irqs_held;	/* receive interrupts held (coalescing) */
};

struct virtio_net {
	struct virtio_pci tp;
	struct virtq rxq, txq;
	struct virtq_mem mem;
	struct virtio_net_port port;
	u64 (*now)(void);
	char label[64];
	u8 mac[NET_ETH_ALEN];
	bool up;		/* link reported up (DRIVER_OK seen) */
	bool tx_pending;	/* chain popped, waiting for the buckets */
	bool tx_first;		/* the pending one's first try is still to come */
	bool backlog;		/* stopped on the budget with frames left */
	u32 tx_len;		/* frame length of the pending one */
	u64 ready_at;		/* when the pending frame may go */
	bool tx_stream;		/* notifications suppressed: polls drain */
	u64 tx_last;		/* when transmit last took a frame */
	bool tx_irq_owed;	/* a transmit interrupt waits (streaming) */
	u16 tx_irq_old;		/* used index when it started waiting */
	u64 tx_irq_due;
	u64 tx_irq_since;	/* when it started waiting */
	bool tx_irq_after_rx;	/* a receive interrupt pushed tx_irq_due */
	bool rx_irq_owed;	/* a receive interrupt waits (coalescing) */
	u16 rx_irq_old;		/* used index when it started waiting */
	u32 rx_irq_frames;	/* frames received since */
	u64 rx_irq_due;
	u64 rx_last;		/* when receive last filled a buffer, 0: never */
	struct virtio_net_stats st;
	u8 frame[NET_FRAME_MAX];
	struct virtq_chain chain;	/* transmit's */
	struct virtq_chain rx_chain;
};

/* virtio_net_init: a virtio-net device of vm (messages name it label) with
 * MAC mac, reading guest memory through mem, with the clock now,
 * forwarding through port, interrupts through env. Add n->tp.pci to the
 * VM's bus afterwards, then call virtio_pci_attached(&n->tp). Returns 0 or
 * -CG_EINVAL. */
int virtio_net_init(struct virtio_net *n, struct vm *vm, const struct virtio_pci_env *env,
		    const char *label, const u8 *mac, const struct virtq_mem *mem,
		    u64 (*now)(void), const struct virtio_net_port *port);

/* virtio_net_rx: move up to max frames from src into the guest's receive
 * buffers (device lock held, and whatever guards src). Stops when src is
 * empty or the guest has no buffer; drops what arrives while the driver
 * is not running. Interrupts the driver if it asked for it, at once or
 * coalesced (RX_IRQ_*: virtio_net_service sends a held one when due).
 * Returns the frames taken from src. */
u32 virtio_net_rx(struct virtio_net *n, const struct virtio_net_src *src, u32 max);

/* virtio_net_service: go on with transmit when its time has come (a
 * frame the buckets held back, a backlog the budget left, a stream's
 * frames), and send a held transmit or receive interrupt when due, at now.
 * Takes the device lock. Returns when it next needs a call, or 0. */
u64 virtio_net_service(struct virtio_net *n, u64 now);

/* virtio_net_ready_at: as virtio_net_service returns, doing nothing (a
 * racy hint for timers). */
u64 virtio_net_ready_at(const struct virtio_net *n);

#endif
