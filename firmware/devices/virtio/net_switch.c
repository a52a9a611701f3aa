/* A learning switch per guest network: see net_switch.h. Every length and
 * address the guest chose is checked before it is used; work per frame is
 * one copy per destination port (at most NET_PORTS_MAX - 1) and one walk
 * of the small address table. */
#include <cg/errno.h>
#include <cg/string.h>
#include "devices/virtio/net_switch.h"

void net_switch_init(struct net_switch *sw, const char *name)
{
	memset(sw, 0, sizeof(*sw));
	cg_strlcpy(sw->name, name, sizeof(sw->name) - 1, sizeof(sw->name));
}

static bool mac_eq(const u8 *a, const u8 *b)
{
	return !memcmp(a, b, NET_ETH_ALEN);
}

int net_switch_attach(struct net_switch *sw, const u8 *mac, bool locked, u64 bytes_per_s,
		      u64 packets_per_s, struct net_frame *q, void *owner, u64 now)
{
	struct net_port *free = NULL;

	for (u32 i = 0; i < NET_PORTS_MAX; i++) {
		struct net_port *p = &sw->ports[i];

		if (p->used && mac_eq(p->mac, mac))
			return -CG_EBUSY;
		if (!p->used && !free)
			free = p;
	}
	if (!free)
		return -CG_ENOMEM;
	memset(free, 0, sizeof(*free));
	free->used = true;
	free->locked = locked;
	memcpy(free->mac, mac, NET_ETH_ALEN);
	free->bps_limit = bytes_per_s;
	free->pps_limit = packets_per_s;
	token_bucket_init(&free->bps, bytes_per_s, NET_BURST_NS, now);
	token_bucket_init(&free->pps, packets_per_s, NET_BURST_NS, now);
	free->q = q;
	free->owner = owner;
	return (int)(free - sw->ports);
}

void net_switch_detach(struct net_switch *sw, u32 p)
{
	if (p >= NET_PORTS_MAX || !sw->ports[p].used)
		return;
	for (u32 i = 0; i < NET_FDB_SIZE; i++)
		if (sw->fdb[i].used && sw->fdb[i].port == p)
			sw->fdb[i].used = false;
	memset(&sw->ports[p], 0, sizeof(sw->ports[p]));
}

bool net_switch_admit(struct net_switch *sw, u32 p, u32 len, u64 now, u64 *ready_at,
		      bool first_try)
{
	struct net_port *pt;
	u64 a, b;

	*ready_at = 0;
	if (p >= NET_PORTS_MAX || !sw->ports[p].used)
		return true;
	pt = &sw->ports[p];
	if (token_bucket_conforms(&pt->bps, now) && token_bucket_conforms(&pt->pps, now)) {
		token_bucket_charge(&pt->bps, len, now);
		token_bucket_charge(&pt->pps, 1, now);
		return true;
	}
	a = token_bucket_ready_at(&pt->bps);
	b = token_bucket_ready_at(&pt->pps);
	*ready_at = a > b ? a : b;
	if (first_try)
		pt->st.throttled++;
	return false;
}

/* Learn src on port p: refresh its entry, or take a free one, or evict
 * the oldest. A MAC that moved ports (an uplink's hosts) moves with it. */
static void fdb_learn(struct net_switch *sw, const u8 *src, u32 p)
{
	struct net_fdb_entry *slot = NULL, *oldest = &sw->fdb[0];

	for (u32 i = 0; i < NET_FDB_SIZE; i++) {
		struct net_fdb_entry *e = &sw->fdb[i];

		if (e->used && mac_eq(e->mac, src)) {
			e->port = (u8)p;
			return;
		}
		if (!e->used && !slot)
			slot = e;
		if (e->used && e->age < oldest->age)
			oldest = e;
	}
	if (!slot)
		slot = oldest;
	memcpy(slot->mac, src, NET_ETH_ALEN);
	slot->port = (u8)p;
	slot->used = true;
	slot->age = ++sw->fdb_clock;
}

/* The port that learned dst, or -1. */
static int fdb_lookup(const struct net_switch *sw, const u8 *dst)
{
	for (u32 i = 0; i < NET_FDB_SIZE; i++)
		if (sw->fdb[i].used && mac_eq(sw->fdb[i].mac, dst))
			return sw->fdb[i].port;
	return -1;
}

/* Queue a copy of the frame on port d. Returns whether it was queued. */
static bool enqueue(struct net_switch *sw, u32 d, const u8 *frame, u32 len)
{
	struct net_port *pt = &sw->ports[d];
	struct net_frame *f;

	if (pt->count >= NET_QUEUE_LEN) {
		pt->st.queue_drops++;
		return false;
	}
	f = &pt->q[(pt->head + pt->count) % NET_QUEUE_LEN];
	memcpy(f->data, frame, len);
	f->len = (u16)len;
	pt->count++;
	return true;
}

u32 net_switch_send(struct net_switch *sw, u32 p, const u8 *frame, u32 len)
{
	struct net_port *src;
	const u8 *dst = frame, *sa = frame + NET_ETH_ALEN;
	u32 mask = 0;
	int to;

	if (p >= NET_PORTS_MAX || !sw->ports[p].used)
		return 0;
	src = &sw->ports[p];
	if (len < NET_ETH_HLEN || len > NET_FRAME_MAX) {
		src->st.bad++;
		return 0;
	}
	/* A group address is never a source (802.3 3.2.3); a locked port
	 * sends from its own address only. */
	if ((src->locked && !mac_eq(sa, src->mac)) || (sa[0] & 1)) {
		src->st.spoofed++;
		return 0;
	}
	src->st.tx_frames++;
	src->st.tx_bytes += len;
	fdb_learn(sw, sa, p);
	to = (dst[0] & 1) ? -1 : fdb_lookup(sw, dst);
	if (to == (int)p)
		return 0;	/* the destination is behind the sender: filtered */
	if (to >= 0) {
		if (sw->ports[to].used && enqueue(sw, (u32)to, frame, len))
			mask |= 1u << to;
		return mask;
	}
	sw->flooded++;
	for (u32 d = 0; d < NET_PORTS_MAX; d++)
		if (d != p && sw->ports[d].used && enqueue(sw, d, frame, len))
			mask |= 1u << d;
	return mask;
}

u32 net_switch_peek(const struct net_switch *sw, u32 p, const u8 **frame)
{
	const struct net_port *pt;
	const struct net_frame *f;

	if (p >= NET_PORTS_MAX || !sw->ports[p].used || !sw->ports[p].count)
		return 0;
	pt = &sw->ports[p];
	f = &pt->q[pt->head];
	*frame = f->data;
	return f->len;
}

void net_switch_pop(struct net_switch *sw, u32 p, bool delivered)
{
	struct net_port *pt;

	if (p >= NET_PORTS_MAX || !sw->ports[p].used || !sw->ports[p].count)
		return;
	pt = &sw->ports[p];
	if (delivered) {
		pt->st.rx_frames++;
		pt->st.rx_bytes += pt->q[pt->head].len;
	} else {
		pt->st.queue_drops++;
	}
	pt->head = (pt->head + 1) % NET_QUEUE_LEN;
	pt->count--;
}

void net_mac_derive(u16 machine_prefix, const char *vm_name, u32 index, u8 *mac)
{
	/* FNV-1a, 32 bits, over the name, a separator and the index. */
	u32 h = 2166136261u;

	for (const char *c = vm_name; *c; c++)
		h = (h ^ (u8)*c) * 16777619u;
	h = (h ^ 0xFF) * 16777619u;
	h = (h ^ (index & 0xFF)) * 16777619u;
	mac[0] = 0x02;
	mac[1] = (u8)(machine_prefix >> 8);
	mac[2] = (u8)machine_prefix;
	mac[3] = (u8)(h >> 16);
	mac[4] = (u8)(h >> 8);
	mac[5] = (u8)h;
}
