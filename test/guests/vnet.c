/* virtio-net isolation, from inside the VMs (test/guests/guests.test.ts
 * boots the three roles as one VM set on network lab0, with the MACs
 * 02:00:00:00:0e:0R, R the role number). One guest, three roles
 * (cmdline role=R):
 *
 *   role=1 sink: the orchestrator and receiver. It checks every frame it
 *       gets (the pump's carry a sequence number and a checksum) and runs
 *       the phases, sending commands to the others:
 *       spoof   the bad VM sends frames with source MACs not its own (the
 *               pump's, a made-up one, a group address) to the sink and
 *               to broadcast, then a "done" from its own MAC: none of the
 *               spoofed ones may arrive before it (one port's frames
 *               keep their order through the switch);
 *       rate    the pump's frames delivered in a window of window=W
 *               million TSC ticks of the sink, with the bad VM quiet, then
 *               with it flooding broadcast (its NIC's packets_per_s bucket
 *               holds it back): at least 90 % of the quiet figure;
 *       malform the bad VM breaks its transmit ring in each way below;
 *               the pump's frames keep arriving meanwhile and after;
 *       then it stops the others and prints
 *         VNET rate quiet=Q flood=F flood_frames=N
 *   role=2 pump: sends sequence-numbered frames to the sink as fast as its
 *       ring takes them, until told to stop.
 *   role=3 bad: spoofs, floods and breaks its rings when told to. Each
 *       broken ring must set DEVICE_NEEDS_RESET on its device only (the
 *       monitor prints why, naming the VM and the NIC); after a reset the
 *       device works again (an "alive" frame reaches the sink). A runt
 *       frame is dropped and counted, the device goes on.
 * Exit status as every guest's. */
#include "guest.h"
#include "virtio_net.h"

#define ETHERTYPE 0x88B5	/* IEEE 802 local experimental */
#define ROLE_SINK 1
#define ROLE_PUMP 2
#define ROLE_BAD 3
#define DATA_LEN 1514u
#define SPOOF_EACH 8u
#define SPOOF_KINDS 4u
#define SEND_BATCH 16u
/* Ticks without an expected answer before a command is sent again, and
 * before a phase gives up. */
#define RESEND_TICKS 20000000ull
#define GIVE_UP_TICKS 4000000000ull

enum kind { K_DATA = 1, K_CMD, K_HELLO, K_SPOOF, K_DONE, K_FLOOD, K_ALIVE, K_BYE };
enum cmd { C_SPOOF = 1, C_FLOOD, C_FLOOD_STOP, C_MALFORM, C_EXIT };

struct hdr {
	u8 dst[6], src[6];
	u8 type[2];
	u8 kind, pad[3];
	u32 seq, arg, sum;
} __attribute__((packed));

static struct vnet nic;
static u8 frame[VNET_BUF] __attribute__((aligned(16)));
static u8 rxbuf[VNET_BUF] __attribute__((aligned(16)));
static struct virtq_desc indirect[300] __attribute__((aligned(16)));
static u32 role;

static void mac_of(u32 r, u8 *mac)
{
	memcpy(mac, nic.mac, 6);
	mac[5] = (u8)r;
}

static u32 checksum(const u8 *p, u32 n)
{
	u32 s = 0x811C9DC5u;
	for (u32 i = 0; i < n; i++)
		s = (s ^ p[i]) * 16777619u;
	return s;
}

/* A frame of len bytes to dst from src (NULL: our own). */
static u32 build(const u8 *dst, const u8 *src, enum kind k, u32 seq, u32 arg, u32 len)
{
	struct hdr *h = (struct hdr *)frame;
	memcpy(h->dst, dst, 6);
	memcpy(h->src, src ? src : nic.mac, 6);
	h->type[0] = ETHERTYPE >> 8;
	h->type[1] = ETHERTYPE & 0xFF;
	h->kind = (u8)k;
	h->seq = seq;
	h->arg = arg;
	for (u32 i = sizeof(*h); i < len; i++)
		frame[i] = (u8)(seq * 31 + i);
	h->sum = checksum(frame + sizeof(*h), len - sizeof(*h));
	return len;
}

static void send_to(u32 r, enum kind k, u32 seq, u32 arg)
{
	u8 dst[6];
	mac_of(r, dst);
	u32 len = build(dst, NULL, k, seq, arg, 64);
	for (u32 i = 0; i < SPIN_LIMIT && !vnet_send(&nic, frame, len, true); i++)
		relax();
}

/* ---- sink ---- */

static struct {
	u32 data, bad_data, flood, spoofed, alive, hello_pump, hello_bad;
	u32 done[C_MALFORM + 1], done_arg[C_MALFORM + 1], bye_pump, bye_bad;
	u32 last_seq, gaps;
} s;

static void sink_poll(void)
{
	u32 len;
	while ((len = vnet_recv(&nic, rxbuf, sizeof(rxbuf))) != 0) {
		const struct hdr *h = (const struct hdr *)rxbuf;
		if (len < sizeof(*h) || h->type[0] != (ETHERTYPE >> 8) || h->type[1] != (ETHERTYPE & 0xFF))
			continue;
		u32 from = h->src[5];
		switch (h->kind) {
		case K_DATA:
			if (len != DATA_LEN || checksum(rxbuf + sizeof(*h), len - sizeof(*h)) != h->sum) {
				s.bad_data++;
				break;
			}
			if (h->seq != s.last_seq + 1)
				s.gaps++;
			s.last_seq = h->seq;
			s.data++;
			break;
		case K_HELLO:
			if (from == ROLE_PUMP)
				s.hello_pump = 1;
			else if (from == ROLE_BAD)
				s.hello_bad = 1;
			break;
		case K_SPOOF:
			s.spoofed++;
			break;
		case K_DONE:
			/* The first answer counts: a resent command gets a second. */
			if (h->seq <= C_MALFORM && !s.done[h->seq]) {
				s.done[h->seq] = 1;
				s.done_arg[h->seq] = h->arg;
			}
			break;
		case K_FLOOD:
			s.flood++;
			break;
		case K_ALIVE:
			s.alive++;
			break;
		case K_BYE:
			if (from == ROLE_PUMP)
				s.bye_pump = 1;
			else if (from == ROLE_BAD)
				s.bye_bad = 1;
			break;
		}
	}
}

/* Polls until *flag is set, sending cmd to role r now and again. */
static bool sink_await(volatile u32 *flag, u32 r, enum cmd cmd)
{
	u64 start = rdtsc(), last = start;
	if (cmd)
		send_to(r, K_CMD, cmd, 0);
	while (!*flag) {
		sink_poll();
		u64 now = rdtsc();
		if (now - start > GIVE_UP_TICKS)
			return false;
		if (cmd && now - last > RESEND_TICKS) {
			send_to(r, K_CMD, cmd, 0);
			last = now;
		}
	}
	return true;
}

/* The pump's frames the sink takes in window ticks. */
static u32 sink_window(u64 window)
{
	u32 before = s.data;
	u64 start = rdtsc();
	while (rdtsc() - start < window)
		sink_poll();
	return s.data - before;
}

static int sink(void)
{
	u64 window = (u64)cmdline_uint("window", 20) * 1000000ull;

	/* Announce ourselves so the switch learns us, then wait for both. */
	send_to(ROLE_PUMP, K_HELLO, 0, 0);
	send_to(ROLE_BAD, K_HELLO, 0, 0);
	report(sink_await(&s.hello_pump, 0, 0) && sink_await(&s.hello_bad, 0, 0), "sink: pump and bad VM are up");
	u32 d0 = s.data;
	for (u64 t = rdtsc(); s.data < d0 + 16 && rdtsc() - t < GIVE_UP_TICKS;)
		sink_poll();
	report(s.data >= d0 + 16, "sink: the pump's frames arrive (%u)", s.data - d0);

	/* spoof */
	report(sink_await(&s.done[C_SPOOF], ROLE_BAD, C_SPOOF), "spoof: the bad VM sent its spoofed frames");
	report(s.spoofed == 0, "spoof: none of its %u frames with a source MAC not its own arrived (%u did)",
	       s.done_arg[C_SPOOF], s.spoofed);

	/* rate: quiet, then next to the flood */
	u32 quiet = sink_window(window);
	u32 f0 = s.flood;
	send_to(ROLE_BAD, K_CMD, C_FLOOD, 0);
	u64 t0 = rdtsc();
	while (s.flood == f0 && rdtsc() - t0 < GIVE_UP_TICKS)
		sink_poll();
	report(s.flood > f0, "flood: the bad VM's broadcast reaches the sink");
	u32 f1 = s.flood;
	u32 flooded = sink_window(window);
	u32 flood_frames = s.flood - f1;
	report(sink_await(&s.done[C_FLOOD], ROLE_BAD, C_FLOOD_STOP), "flood: the bad VM stopped flooding (%u frames sent)",
	       s.done_arg[C_FLOOD]);
	printf("VNET rate quiet=%u flood=%u flood_frames=%u\n", quiet, flooded, flood_frames);
	report(quiet > 0 && flooded * 10 >= quiet * 9, "flood: the pump keeps >= 90 %% of its quiet rate (%u of %u frames)",
	       flooded, quiet);

	/* malform */
	u32 m0 = s.data;
	report(sink_await(&s.done[C_MALFORM], ROLE_BAD, C_MALFORM), "malform: the bad VM went through its cases");
	u32 during = s.data - m0;
	report(s.done_arg[C_MALFORM] > 0 && s.alive == s.done_arg[C_MALFORM] + 1,
	       "malform: its device worked again after each of %u resets (%u alive frames)", s.done_arg[C_MALFORM], s.alive);
	u32 after = sink_window(window / 4);
	report(during > 0 && after > 0, "malform: the pump's frames kept arriving (%u during, %u after)", during, after);

	report(s.bad_data == 0, "sink: every frame of the pump arrived intact (%u bad)", s.bad_data);
	report_info("sink: %u frames from the pump, %u sequence gaps (drops on a full queue)", s.data, s.gaps);
	bool bye = sink_await(&s.bye_pump, ROLE_PUMP, C_EXIT) && sink_await(&s.bye_bad, ROLE_BAD, C_EXIT);
	report(bye, "sink: pump and bad VM acknowledged the end");
	return report_summary();
}

/* ---- pump and bad VM: commands ---- */

/* The next command for us, 0 when none. */
static u32 next_cmd(void)
{
	u32 len, cmd = 0;
	while (!cmd && (len = vnet_recv(&nic, rxbuf, sizeof(rxbuf))) != 0) {
		const struct hdr *h = (const struct hdr *)rxbuf;
		if (len >= sizeof(*h) && h->kind == K_CMD && h->src[5] == ROLE_SINK)
			cmd = h->seq;
	}
	return cmd;
}

static int pump(void)
{
	u8 dst[6];
	u32 seq = 0;
	mac_of(ROLE_SINK, dst);
	send_to(ROLE_SINK, K_HELLO, 0, 0);
	for (;;) {
		if (next_cmd() == C_EXIT)
			break;
		u32 n = 0;
		while (n < SEND_BATCH && vnet_send(&nic, frame, build(dst, NULL, K_DATA, seq + 1, 0, DATA_LEN), false)) {
			seq++;
			n++;
		}
		if (n)
			vnet_kick_tx(&nic);
		else
			relax();
	}
	report_info("pump: %u frames sent", seq);
	send_to(ROLE_SINK, K_BYE, 0, 0);
	return report_summary();
}

static void bad_spoof(void)
{
	u8 sink_mac[6], bcast[6], src[6];
	u32 sent = 0;
	mac_of(ROLE_SINK, sink_mac);
	memset(bcast, 0xFF, 6);
	for (u32 k = 0; k < SPOOF_KINDS; k++) {
		/* A neighbour's, a group address, made-up ones (the last to
		 * broadcast). */
		mac_of(k == 0 ? ROLE_PUMP : k == 1 ? ROLE_SINK : 0x70 + k, src);
		if (k == 1)
			src[0] |= 1;
		for (u32 i = 0; i < SPOOF_EACH; i++) {
			u32 len = build(k == 3 ? bcast : sink_mac, src, K_SPOOF, i, k, 64);
			while (!vnet_send(&nic, frame, len, true))
				relax();
			sent++;
		}
	}
	while (vnet_tx_reclaim(&nic))
		relax();
	report_info("bad: %u spoofed frames sent", sent);
	send_to(ROLE_SINK, K_DONE, C_SPOOF, sent);
}

static void bad_flood(void)
{
	u8 bcast[6];
	u32 sent = 0;
	memset(bcast, 0xFF, 6);
	while (next_cmd() != C_FLOOD_STOP) {
		u32 n = 0;
		while (n < SEND_BATCH && vnet_send(&nic, frame, build(bcast, NULL, K_FLOOD, sent, 0, DATA_LEN), false)) {
			sent++;
			n++;
		}
		if (n)
			vnet_kick_tx(&nic);
		else
			relax();
	}
	report_info("bad: %u broadcast frames flooded", sent);
	send_to(ROLE_SINK, K_DONE, C_FLOOD, sent);
}

/* One broken transmit ring: build it, publish, and expect NEEDS_RESET. */
struct malform {
	const char *what;
	void (*make)(void);
};

static u32 buf0(void) { return (u32)nic.tx.buf[0]; }

static void m_loop(void)
{
	nic.tx.desc[0] = (struct virtq_desc){ buf0(), 32, VIRTQ_DESC_F_NEXT, 1 };
	nic.tx.desc[1] = (struct virtq_desc){ buf0(), 32, VIRTQ_DESC_F_NEXT, 0 };
	vnet_tx_publish(&nic, 0);
}

static void m_next_range(void)
{
	nic.tx.desc[0] = (struct virtq_desc){ buf0(), 32, VIRTQ_DESC_F_NEXT, VNET_QSIZE + 3 };
	vnet_tx_publish(&nic, 0);
}

static void m_head_range(void)
{
	vnet_tx_publish(&nic, VNET_QSIZE + 7);
}

static void m_avail_idx(void)
{
	/* avail->idx more than the queue size past what the device took. */
	*(volatile u16 *)&nic.tx.avail[1] = (u16)(nic.tx.avail_idx + VNET_QSIZE + 1);
	vnet_kick_tx(&nic);
}

static void m_outside(void)
{
	nic.tx.desc[0] = (struct virtq_desc){ 0x7F000000u, 100, 0, 0 };
	vnet_tx_publish(&nic, 0);
}

static void m_straddle(void)
{
	nic.tx.desc[0] = (struct virtq_desc){ mb_ram_end() - 16, 100, 0, 0 };
	vnet_tx_publish(&nic, 0);
}

static void m_huge_len(void)
{
	nic.tx.desc[0] = (struct virtq_desc){ buf0(), 0xFFFFFF00u, 0, 0 };
	vnet_tx_publish(&nic, 0);
}

static void m_long_chain(void)
{
	/* 300 segments through an indirect table: more than a chain may carry. */
	for (u32 i = 0; i < ARRAY_SIZE(indirect); i++)
		indirect[i] = (struct virtq_desc){ buf0(), 8, (u16)(i + 1 < ARRAY_SIZE(indirect) ? VIRTQ_DESC_F_NEXT : 0), (u16)(i + 1) };
	nic.tx.desc[0] = (struct virtq_desc){ (u32)indirect, sizeof(indirect), VIRTQ_DESC_F_INDIRECT, 0 };
	vnet_tx_publish(&nic, 0);
}

static const struct malform cases[] = {
	{ "descriptor loop", m_loop },
	{ "next index beyond the queue size", m_next_range },
	{ "head index beyond the queue size", m_head_range },
	{ "avail index more than the queue size ahead", m_avail_idx },
	{ "buffer outside guest RAM", m_outside },
	{ "buffer across the end of guest RAM", m_straddle },
	{ "bogus buffer length", m_huge_len },
	{ "chain longer than the device takes (300 segments)", m_long_chain },
};

static bool wait_needs_reset(void)
{
	for (u32 i = 0; i < (1u << 16); i++) {
		if (vnet_status(&nic) & VIRTIO_STATUS_NEEDS_RESET)
			return true;
		relax();
	}
	return false;
}

static void bad_malform(void)
{
	u32 passed = 0;
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		vnet_tx_reclaim(&nic);
		cases[i].make();
		bool nr = wait_needs_reset();
		report(nr, "malform: %s: DEVICE_NEEDS_RESET", cases[i].what);
		int rc = vnet_reinit(&nic);
		report(rc == 0, "malform: %s: the device resets and comes back (%d)", cases[i].what, rc);
		passed += nr && rc == 0;
		send_to(ROLE_SINK, K_ALIVE, i, 0);
	}
	/* A runt (shorter than the header and an Ethernet header) is dropped
	 * and counted; the device takes it back and goes on. */
	vnet_tx_reclaim(&nic);
	nic.tx.desc[0] = (struct virtq_desc){ buf0(), 8, 0, 0 };
	u16 before = nic.tx.used[1];
	vnet_tx_publish(&nic, 0);
	report(*(volatile u16 *)&nic.tx.used[1] == (u16)(before + 1) && !(vnet_status(&nic) & VIRTIO_STATUS_NEEDS_RESET),
	       "malform: a runt frame comes back used, the device goes on");
	nic.tx.used_seen++;
	send_to(ROLE_SINK, K_ALIVE, ARRAY_SIZE(cases), 0);
	send_to(ROLE_SINK, K_DONE, C_MALFORM, passed);
}

static int bad(void)
{
	send_to(ROLE_SINK, K_HELLO, 0, 0);
	for (;;) {
		u32 cmd = next_cmd();
		if (cmd == C_SPOOF)
			bad_spoof();
		else if (cmd == C_FLOOD)
			bad_flood();
		else if (cmd == C_MALFORM)
			bad_malform();
		else if (cmd == C_EXIT)
			break;
		else if (cmd == C_FLOOD_STOP)
			send_to(ROLE_SINK, K_DONE, C_FLOOD, 0);	/* a resent stop */
		else
			relax();
	}
	send_to(ROLE_SINK, K_BYE, 0, 0);
	return report_summary();
}

int main(void)
{
	role = cmdline_uint("role", 0);
	int rc = vnet_probe(&nic, 0, role == ROLE_BAD ? 1ull << VIRTIO_F_INDIRECT_DESC : 0);
	report(rc == 0, "virtio-net device found and set up (%d)", rc);
	if (rc)
		return report_summary();
	report(nic.mac[5] == role, "MAC %02x:%02x:%02x:%02x:%02x:%02x is role %u's", nic.mac[0], nic.mac[1], nic.mac[2],
	       nic.mac[3], nic.mac[4], nic.mac[5], role);
	if (role == ROLE_SINK)
		return sink();
	if (role == ROLE_PUMP)
		return pump();
	if (role == ROLE_BAD)
		return bad();
	report(false, "role=%u is not 1 (sink), 2 (pump) or 3 (bad)", role);
	return report_summary();
}
