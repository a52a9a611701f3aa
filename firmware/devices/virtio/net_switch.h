/* A learning Ethernet switch for one guest network: every NIC attached to
 * the network is one port. Frames are copied from the sender's staging
 * buffer into the queue of each port they go to (monitor memory the
 * caller gives at attach), and leave a queue only into the receiving VM's
 * own RX buffers (the device model pulls them with net_switch_peek /
 * net_switch_pop). Nothing else is ever read or written: no frame can
 * reach a port of another switch, since a switch knows only its own ports.
 *
 * Rules (IEEE 802.1D learning, minus spanning tree: the topology is a
 * star):
 *   - a frame shorter than an Ethernet header or longer than
 *     NET_FRAME_MAX is dropped and counted (bad);
 *   - a port that is locked to its MAC (every VM's NIC) may send only
 *     from that MAC as source: anything else is dropped and counted
 *     (spoofed), and is never learned;
 *   - the source is learned (MAC -> port) in a small table that forgets
 *     the oldest entry when full;
 *   - a group destination (bit 0 of the first byte: broadcast and
 *     multicast) and an unknown unicast go to every other port; a known
 *     unicast to its port only (not back to the sender);
 *   - a destination queue that is full drops the frame there and counts
 *     it on that port (queue_drops): a VM that posts no RX buffers loses
 *     its own frames and slows nobody else.
 * The sender's rate limits are token buckets per port (the disks' kind):
 * net_switch_admit says when a frame of a given size may go, so the
 * device leaves it in the guest's TX ring until then (no drop).
 *
 * Pure logic: no locks (the caller holds one per switch), time from the
 * caller, queue memory from the caller. */
#ifndef CG_NET_SWITCH_H
#define CG_NET_SWITCH_H

#include <cg/types.h>
#include "devices/virtio/token_bucket.h"

#define NET_ETH_ALEN 6
#define NET_ETH_HLEN 14		/* destination, source, type */
/* MTU 1500 plus the Ethernet header and one 802.1Q tag; no FCS. */
#define NET_FRAME_MAX 1518u
#define NET_PORTS_MAX 16u	/* ports per switch: 4 NICs of 4 VMs, and more */
#define NET_QUEUE_LEN 64u	/* frames waiting per port for RX buffers */
#define NET_FDB_SIZE 64u	/* learned addresses per switch */
/* How far a port's buckets may run ahead: 20 ms worth of bytes or packets
 * pass at once after an idle spell. */
#define NET_BURST_NS 20000000ull

/* One queued frame. */
struct net_frame {
	u16 len;
	u8 data[NET_FRAME_MAX];
};

/* Bytes of queue memory one port needs (net_switch_attach's queue). */
#define NET_QUEUE_BYTES (NET_QUEUE_LEN * sizeof(struct net_frame))

struct net_port_stats {
	u64 tx_frames, tx_bytes;	/* accepted from the port's VM */
	u64 rx_frames, rx_bytes;	/* handed to the port's VM */
	u64 spoofed;			/* dropped: source MAC not the port's */
	u64 bad;			/* dropped: runt or oversized */
	u64 queue_drops;		/* dropped here: this port's queue was full */
	u64 throttled;			/* frames that waited for a bucket */
};

struct net_port {
	bool used;
	bool locked;			/* source must be mac */
	u8 mac[NET_ETH_ALEN];
	u64 bps_limit, pps_limit;	/* 0: unlimited */
	struct token_bucket bps, pps;
	struct net_frame *q;		/* NET_QUEUE_LEN frames */
	u32 head, count;
	struct net_port_stats st;
	void *owner;			/* the caller's (the device) */
};

struct net_fdb_entry {
	u8 mac[NET_ETH_ALEN];
	u8 port;
	bool used;
	u64 age;			/* insertion order, for eviction */
};

struct net_switch {
	char name[32];
	u32 lock;			/* the caller's: one per switch */
	struct net_port ports[NET_PORTS_MAX];
	struct net_fdb_entry fdb[NET_FDB_SIZE];
	u64 fdb_clock;
	u64 flooded;			/* frames sent to every other port */
};

/* net_switch_init: an empty switch called name (cut to 31 bytes). */
void net_switch_init(struct net_switch *sw, const char *name);

/* net_switch_attach: a new port with MAC mac, locked to it or not, rate
 * limited to bytes_per_s and packets_per_s (0 = unlimited, buckets full as
 * of now), queueing into q (NET_QUEUE_BYTES of the caller's memory),
 * owned by owner. Returns the port number, or -CG_ENOMEM when the switch
 * is full, -CG_EBUSY when another port has that MAC. */
int net_switch_attach(struct net_switch *sw, const u8 *mac, bool locked, u64 bytes_per_s,
		      u64 packets_per_s, struct net_frame *q, void *owner, u64 now);

/* net_switch_detach: remove port p: its queue is dropped and what was
 * learned on it forgotten. No-op for a port not in use. */
void net_switch_detach(struct net_switch *sw, u32 p);

/* net_switch_admit: whether port p may send a frame of len bytes at now;
 * if so both buckets are charged, else *ready_at says when it can (the
 * frame is counted once as throttled when first_try). */
bool net_switch_admit(struct net_switch *sw, u32 p, u32 len, u64 now, u64 *ready_at,
		      bool first_try);

/* net_switch_send: forward frame (len bytes) sent by port p. Returns the
 * mask of ports it was queued to (bit i = port i), 0 when dropped (bad,
 * spoofed, or no port to take it). */
u32 net_switch_send(struct net_switch *sw, u32 p, const u8 *frame, u32 len);

/* net_switch_peek: the oldest frame queued for port p (*frame set), its
 * length, or 0 when the queue is empty. */
u32 net_switch_peek(const struct net_switch *sw, u32 p, const u8 **frame);

/* net_switch_pop: drop the oldest frame queued for p, counting it as
 * received when delivered (else as a queue drop). */
void net_switch_pop(struct net_switch *sw, u32 p, bool delivered);

/* net_mac_derive: the MAC of NIC index of VM vm_name when the description
 * gives none: locally administered unicast (first byte 0x02), the
 * machine's 16-bit prefix in bytes 1-2 and a hash of the VM's name and
 * the index in bytes 3-5, so NICs on one machine differ unless the hash
 * collides (the monitor checks) and machines with different prefixes
 * never collide. */
void net_mac_derive(u16 machine_prefix, const char *vm_name, u32 index, u8 *mac);

#endif
