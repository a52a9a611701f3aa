/* The learning switch of a guest network (net_switch.c), pure: flooding
 * of group and unknown destinations within one switch only, learning,
 * the source-MAC lock (spoofed and group sources dropped and counted),
 * runts and oversized frames, bounded queues with drops counted on the
 * receiving port, the token buckets holding frames back, detach, the
 * derived MACs, and a random walk that keeps the invariants. */
#include <stdlib.h>
#include <string.h>
#include <cg/errno.h>
#include "check.h"
#include "devices/virtio/net_switch.h"

static struct net_switch sw, other;
static struct net_frame qs[6][NET_QUEUE_LEN];
static const u8 MACS[6][6] = {
	{ 2, 0, 0, 0, 0, 1 }, { 2, 0, 0, 0, 0, 2 }, { 2, 0, 0, 0, 0, 3 },
	{ 2, 0, 0, 0, 1, 1 }, { 2, 0, 0, 0, 1, 2 }, { 2, 0, 0, 0, 1, 3 },
};
static const u8 BCAST[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

/* A frame from src to dst of len bytes, payload byte tag. */
static u32 frame(u8 *f, const u8 *dst, const u8 *src, u32 len, u8 tag)
{
	memset(f, tag, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	return len;
}

/* Three ports on sw (0..2), three on other (0..2, MACs 3..5). */
static void setup(void)
{
	net_switch_init(&sw, "lab0");
	net_switch_init(&other, "lab1");
	for (u32 i = 0; i < 3; i++) {
		CHECK(net_switch_attach(&sw, MACS[i], true, 0, 0, qs[i], NULL, 0) == (int)i, "port on lab0");
		CHECK(net_switch_attach(&other, MACS[3 + i], true, 0, 0, qs[3 + i], NULL, 0) == (int)i,
		      "port on lab1");
	}
}

static u32 queued(struct net_switch *s, u32 p)
{
	return s->ports[p].count;
}

static void drain(struct net_switch *s, u32 p)
{
	const u8 *f;

	while (net_switch_peek(s, p, &f))
		net_switch_pop(s, p, true);
}

static void test_flood_and_learn(void)
{
	u8 f[NET_FRAME_MAX];
	const u8 *got;
	u32 len;

	setup();
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[0], 60, 0xA1)) == 0x6,
	      "broadcast to both other ports, not back to the sender");
	CHECK(sw.flooded == 1, "counted as flooded");
	for (u32 p = 0; p < 3; p++)
		CHECK(queued(&other, p) == 0, "nothing on the other network");
	len = net_switch_peek(&sw, 1, &got);
	CHECK(len == 60 && got[0] == 0xFF && got[13] == 0 && got[59] == 0xA1, "the frame, copied whole");
	drain(&sw, 1);
	drain(&sw, 2);
	CHECK(sw.ports[1].st.rx_frames == 1 && sw.ports[1].st.rx_bytes == 60, "rx counted on delivery");
	/* Port 1 has not sent yet: a frame for it floods. */
	CHECK(net_switch_send(&sw, 0, f, frame(f, MACS[1], MACS[0], 60, 1)) == 0x6, "unknown unicast floods");
	drain(&sw, 1);
	drain(&sw, 2);
	CHECK(net_switch_send(&sw, 1, f, frame(f, MACS[0], MACS[1], 100, 2)) == 0x1,
	      "port 0 was learned: only there");
	CHECK(net_switch_send(&sw, 0, f, frame(f, MACS[1], MACS[0], 70, 3)) == 0x2,
	      "port 1 learned now: only there");
	CHECK(queued(&sw, 2) == 0, "port 2 sees neither unicast");
	/* Multicast floods like broadcast. */
	u8 mc[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	drain(&sw, 0);
	drain(&sw, 1);
	CHECK(net_switch_send(&sw, 2, f, frame(f, mc, MACS[2], 90, 4)) == 0x3, "multicast floods");
	CHECK(sw.ports[0].st.tx_frames == 3 && sw.ports[2].st.tx_frames == 1, "tx counted per port");
}

static void test_spoof_and_bad(void)
{
	u8 f[NET_FRAME_MAX + 8];

	setup();
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[1], 60, 0)) == 0, "another port's MAC: dropped");
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[4], 60, 0)) == 0, "a made-up MAC: dropped");
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, BCAST, 60, 0)) == 0, "a group source: dropped");
	CHECK(sw.ports[0].st.spoofed == 3 && sw.ports[0].st.tx_frames == 0, "counted as spoofed");
	CHECK(queued(&sw, 1) == 0 && queued(&sw, 2) == 0, "nobody got them");
	/* The spoofed source was not learned: a frame to MACS[1] from port
	 * 2 floods (reaching the real port 1), it does not go to port 0. */
	CHECK(net_switch_send(&sw, 2, f, frame(f, MACS[1], MACS[2], 60, 0)) == 0x3, "spoofed MAC not learned");
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[0], 13, 0)) == 0, "runt dropped");
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[0], NET_FRAME_MAX + 1, 0)) == 0,
	      "oversized dropped");
	CHECK(sw.ports[0].st.bad == 2, "counted as bad");
	CHECK(net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[0], NET_FRAME_MAX, 0)) == 0x6,
	      "the largest frame goes");
	/* An unlocked port (an uplink, later) may send from any address. */
	net_switch_detach(&sw, 2);
	CHECK(net_switch_attach(&sw, MACS[2], false, 0, 0, qs[2], NULL, 0) == 2, "unlocked port");
	CHECK(net_switch_send(&sw, 2, f, frame(f, BCAST, MACS[5], 60, 0)) != 0, "unlocked: any source");
	CHECK(net_switch_attach(&sw, MACS[0], true, 0, 0, qs[3], NULL, 0) == -CG_EBUSY, "a MAC twice refused");
}

static void test_queue_bound(void)
{
	u8 f[128];
	u32 sent = 0;

	setup();
	for (u32 i = 0; i < NET_QUEUE_LEN + 10; i++)
		if (net_switch_send(&sw, 0, f, frame(f, BCAST, MACS[0], 100, (u8)i)) & 0x2)
			sent++;
	CHECK(sent == NET_QUEUE_LEN && queued(&sw, 1) == NET_QUEUE_LEN, "port 1 holds NET_QUEUE_LEN frames");
	CHECK(sw.ports[1].st.queue_drops == 10, "the rest dropped and counted there");
	CHECK(sw.ports[0].st.queue_drops == 0 && sw.ports[0].st.tx_frames == NET_QUEUE_LEN + 10,
	      "the sender is not charged for the receiver's queue");
	/* Oldest first, and a dropped delivery counts as a drop. */
	const u8 *g;
	CHECK(net_switch_peek(&sw, 1, &g) == 100 && g[20] == 0, "oldest first");
	net_switch_pop(&sw, 1, false);
	CHECK(sw.ports[1].st.queue_drops == 11 && queued(&sw, 1) == NET_QUEUE_LEN - 1, "pop undelivered");
	CHECK(net_switch_peek(&sw, 1, &g) == 100 && g[20] == 1, "then the next");
	/* Detach drops its queue and what was learned on it. */
	net_switch_detach(&sw, 1);
	CHECK(net_switch_peek(&sw, 1, &g) == 0, "detached port: no queue");
	drain(&sw, 2);
	CHECK(net_switch_send(&sw, 0, f, frame(f, MACS[1], MACS[0], 60, 0)) == 0x4, "detached: not a destination");
}

static void test_buckets(void)
{
	u64 now = 1000000000ull, at;

	net_switch_init(&sw, "lab0");
	CHECK(net_switch_attach(&sw, MACS[0], true, 0, 10, qs[0], NULL, now) == 0, "10 packets/s");
	CHECK(net_switch_admit(&sw, 0, 60, now, &at, true), "first frame goes");
	CHECK(!net_switch_admit(&sw, 0, 60, now, &at, true), "second waits");
	CHECK(at == now + 100000000ull - NET_BURST_NS, "until its token is due");
	CHECK(!net_switch_admit(&sw, 0, 60, now + 1000, &at, false), "still waiting");
	CHECK(sw.ports[0].st.throttled == 1, "counted once");
	CHECK(net_switch_admit(&sw, 0, 60, at, &at, false), "goes when due");
	CHECK(net_switch_attach(&sw, MACS[1], true, 15180, 0, qs[1], NULL, now) == 1, "15180 bytes/s");
	u32 n = 0;
	while (net_switch_admit(&sw, 1, 1518, now, &at, true))
		n++;
	CHECK(n == 1, "one full frame in a 20 ms burst at 10 frames/s");
	CHECK(at > now && at <= now + 100000000ull, "the next within 100 ms");
}

static void test_mac_derive(void)
{
	u8 a[6], b[6], c[6], d[6];

	net_mac_derive(0x4347, "deb1", 0, a);
	net_mac_derive(0x4347, "deb1", 0, b);
	net_mac_derive(0x4347, "deb1", 1, c);
	net_mac_derive(0x4347, "deb2", 0, d);
	CHECK(!memcmp(a, b, 6), "deterministic");
	CHECK(a[0] == 0x02, "locally administered, unicast");
	CHECK(a[1] == 0x43 && a[2] == 0x47, "the machine's prefix");
	CHECK(memcmp(a, c, 6) && memcmp(a, d, 6), "differs by index and by name");
	net_mac_derive(0x1234, "deb1", 0, b);
	CHECK(memcmp(a, b, 6) && !memcmp(a + 3, b + 3, 3), "another machine: another prefix");
}

/* Random frames between random ports of both switches: queues stay
 * bounded, nothing crosses, counters add up. */
static void test_random(void)
{
	u8 f[NET_FRAME_MAX + 16];
	u64 to_other = 0;

	setup();
	for (u32 i = 0; i < 20000; i++) {
		u32 p = (u32)(check_rand() % 3);
		u32 len = (u32)(check_rand() % (NET_FRAME_MAX + 16));
		const u8 *dst = (check_rand() & 1) ? BCAST : MACS[check_rand() % 6];
		const u8 *src = (check_rand() % 8) ? MACS[p] : MACS[check_rand() % 6];
		u32 m;

		frame(f, dst, src, len < 14 ? 14 : len, (u8)i);
		if (len < 14)
			len = (u32)(check_rand() % 14);
		m = net_switch_send(&sw, p, f, len);
		CHECK(!(m & (1u << p)) && !(m & ~0x7u), "never back to the sender, only lab0's ports");
		to_other += queued(&other, 0) + queued(&other, 1) + queued(&other, 2);
		if (check_rand() % 3 == 0)
			drain(&sw, (u32)(check_rand() % 3));
		for (u32 k = 0; k < 3; k++)
			CHECK(queued(&sw, k) <= NET_QUEUE_LEN, "bounded");
	}
	CHECK(to_other == 0, "nothing ever reached lab1");
}

int main(void)
{
	test_flood_and_learn();
	test_spoof_and_bad();
	test_queue_bound();
	test_buckets();
	test_mac_derive();
	test_random();
	return check_summary();
}
