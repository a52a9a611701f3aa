/* Host tests for the 8254 PIT / port 0x61 model (firmware/devices/dev_pit.c):
 * the sequences Linux runs for TSC calibration and the legacy timer. */
#include "check.h"
#include "devices/dev_pit.h"

#define T0 UINT64_C(5000000000) /* arbitrary start: 5 s of uptime */

static u8 in61(struct pit *p, u64 t)
{
	return pit_read(p, PIT_PORT_SYS, t);
}

/* Linux pit_calibrate_tsc: gate on, speaker off, mode 0 lo/hi on ch2. */
static void test_calibrate_tsc(void)
{
	struct pit p;
	u32 latch = PIT_HZ / (1000 / 50); /* 50 ms */
	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_SYS, (in61(&p, T0) & ~PIT_SYS_SPEAKER) | PIT_SYS_GATE2, T0);
	pit_write(&p, PIT_PORT_CTRL, 0xB0, T0);
	pit_write(&p, PIT_PORT_CH2, latch & 0xFF, T0);
	pit_write(&p, PIT_PORT_CH2, latch >> 8, T0);
	u64 due = T0 + pit_ticks_to_ns(latch);
	CHECK(due > T0 + 49999000 && due < T0 + 50001000, "50 ms count lasts ~50 ms");
	CHECK(!(in61(&p, T0) & PIT_SYS_OUT2), "OUT2 low right after loading");
	/* poll as the guest would, 1 us apart, then at the last nanosecond */
	u64 t = T0, polls = 0;
	while (!(in61(&p, t) & PIT_SYS_OUT2) && polls < 100000) {
		t += 1000;
		polls++;
	}
	CHECK(t >= due && t < due + 1000, "OUT2 seen within one poll of due");
	CHECK(!(in61(&p, due - 1) & PIT_SYS_OUT2), "OUT2 still low 1 ns early");
	CHECK(in61(&p, due) & PIT_SYS_OUT2, "OUT2 high exactly at due");
	CHECK(in61(&p, due + 3000000000u) & PIT_SYS_OUT2, "mode 0 OUT stays high");
	/* bits 0-1 read back, bit 4 toggles */
	u8 a = in61(&p, due), b = in61(&p, due);
	CHECK((a & 3) == PIT_SYS_GATE2 && (b & 3) == PIT_SYS_GATE2, "0x61 bits 0-1 read back");
	CHECK(((a ^ b) & PIT_SYS_REFRESH) == PIT_SYS_REFRESH, "refresh bit toggles");
}

/* Gate low pauses mode 0; with the gate low from the start nothing counts. */
static void test_gate(void)
{
	struct pit p;
	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_CTRL, 0xB0, T0);
	pit_write(&p, PIT_PORT_CH2, 100, T0);
	pit_write(&p, PIT_PORT_CH2, 0, T0);
	CHECK(!(in61(&p, T0 + 1000000) & PIT_SYS_OUT2), "gate low: no counting");
	u64 t1 = T0 + 1000000;
	pit_write(&p, PIT_PORT_SYS, PIT_SYS_GATE2, t1);
	u64 half = pit_ticks_to_ns(50);
	pit_write(&p, PIT_PORT_SYS, 0, t1 + half);
	CHECK(!(in61(&p, t1 + 1000000) & PIT_SYS_OUT2), "paused at 50 left");
	u64 t2 = t1 + 2000000;
	pit_write(&p, PIT_PORT_SYS, PIT_SYS_GATE2, t2);
	CHECK(!(in61(&p, t2 + pit_ticks_to_ns(49)) & PIT_SYS_OUT2), "49 more: low");
	CHECK(in61(&p, t2 + pit_ticks_to_ns(50)) & PIT_SYS_OUT2, "50 more: high");
}

/* quick_pit_calibrate: mode 0, 0xFFFF, read LSB then MSB through 0x42. */
static void test_quick_calibrate(void)
{
	struct pit p;
	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_SYS, PIT_SYS_GATE2, T0);
	pit_write(&p, PIT_PORT_CTRL, 0xB0, T0);
	pit_write(&p, PIT_PORT_CH2, 0xFF, T0);
	pit_write(&p, PIT_PORT_CH2, 0xFF, T0);
	u32 prev = 0x100, ok = 1, bad_rate = 0;
	for (u32 i = 0; i < 200; i++) {
		u64 t = T0 + (u64)i * 200000; /* every 200 us */
		(void)pit_read(&p, PIT_PORT_CH2, t);
		u8 msb = pit_read(&p, PIT_PORT_CH2, t);
		if (msb > prev)
			ok = 0;
		prev = msb;
		/* expected MSB: (0xFFFF - ticks) >> 8 */
		u32 want = (u32)((0xFFFF - pit_ns_to_ticks((u64)i * 200000)) >> 8);
		if (msb != want)
			bad_rate++;
	}
	CHECK(ok, "MSB decreases monotonically");
	CHECK(bad_rate == 0, "MSB follows 1193182 Hz");
	/* a full LSB/MSB pair at one instant */
	u64 t = T0 + 10000000; /* 10 ms: 11931 ticks */
	u8 lo = pit_read(&p, PIT_PORT_CH2, t), hi = pit_read(&p, PIT_PORT_CH2, t);
	CHECK((u32)(lo | hi << 8) == 0xFFFFu - 11931, "count after 10 ms");
}

/* Linux's periodic clockevent: mode 2 (0x34), LATCH = HZ 1000. */
static void test_periodic(void)
{
	struct pit p;
	u32 n = (PIT_HZ + 500) / 1000; /* 1193 */
	pit_reset(&p, 0);
	CHECK(pit_ch0_next_irq(&p, T0) == PIT_NEVER, "unprogrammed: no irq");
	pit_write(&p, PIT_PORT_CTRL, 0x34, T0);
	pit_write(&p, PIT_PORT_CH0, n & 0xFF, T0);
	CHECK(pit_ch0_next_irq(&p, T0) == PIT_NEVER, "half a count: no irq");
	pit_write(&p, PIT_PORT_CH0, n >> 8, T0);
	u64 t = T0, bad = 0;
	for (u64 k = 1; k <= 5000; k++) {
		u64 next = pit_ch0_next_irq(&p, t);
		if (next != T0 + pit_ticks_to_ns(k * n))
			bad++;
		t = next;
	}
	CHECK(bad == 0, "mode 2 rises every N clocks, no drift");
	CHECK(pit_ch0_next_irq(&p, T0 + 1) == T0 + pit_ticks_to_ns(n), "mid-period");

	/* mode 3 (0x36), count 0 = 65536: 18.2 Hz */
	pit_write(&p, PIT_PORT_CTRL, 0x36, T0);
	pit_write(&p, PIT_PORT_CH0, 0, T0);
	pit_write(&p, PIT_PORT_CH0, 0, T0);
	u64 per = pit_ticks_to_ns(65536);
	CHECK(pit_ch0_next_irq(&p, T0) == T0 + per, "count 0 is 65536");
	CHECK(per > 54900000 && per < 55000000, "65536 clocks ~54.9 ms");
	CHECK(pit_ch0_next_irq(&p, T0 + per) == T0 + pit_ticks_to_ns(2 * 65536),
	      "next period strictly after now");
	/* mode 3 duty cycle via read-back status OUT bit */
	pit_write(&p, PIT_PORT_CTRL, 0xC2 | 0x20, T0 + pit_ticks_to_ns(32767));
	CHECK(pit_read(&p, PIT_PORT_CH0, 0) & 0x80, "mode 3 high in first half");
	pit_write(&p, PIT_PORT_CTRL, 0xC2 | 0x20, T0 + pit_ticks_to_ns(32768));
	CHECK(!(pit_read(&p, PIT_PORT_CH0, 0) & 0x80), "mode 3 low in second half");

	/* mode 0 one-shot on ch0 (0x30): one irq then none */
	pit_write(&p, PIT_PORT_CTRL, 0x30, T0);
	pit_write(&p, PIT_PORT_CH0, 0x10, T0);
	pit_write(&p, PIT_PORT_CH0, 0x00, T0);
	u64 due = T0 + pit_ticks_to_ns(16);
	CHECK(pit_ch0_next_irq(&p, T0) == due, "one-shot due");
	CHECK(pit_ch0_next_irq(&p, due) == PIT_NEVER, "one-shot fires once");
}

/* Counter latch command: value frozen until both bytes are read. */
static void test_latch(void)
{
	struct pit p;
	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_CTRL, 0x34, T0);
	pit_write(&p, PIT_PORT_CH0, 0x00, T0);
	pit_write(&p, PIT_PORT_CH0, 0x10, T0); /* 4096 */
	pit_write(&p, PIT_PORT_CTRL, 0x00, T0 + pit_ticks_to_ns(100));
	pit_write(&p, PIT_PORT_CTRL, 0x00, T0 + pit_ticks_to_ns(900)); /* ignored */
	u8 lo = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(2000));
	u8 hi = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(3000));
	CHECK((lo | hi << 8) == 4096 - 100, "latched value survives time");
	lo = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(3000));
	hi = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(3000));
	CHECK((lo | hi << 8) == 4096 - 3000, "latch released after the hibyte");
	/* wraps with the period */
	lo = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(4096 + 5));
	hi = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(4096 + 5));
	CHECK((lo | hi << 8) == 4096 - 5, "mode 2 reloads");
}

/* Read-back: status byte bits, then the count, per channel. */
static void test_readback(void)
{
	struct pit p;
	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_SYS, PIT_SYS_GATE2, T0);
	pit_write(&p, PIT_PORT_CTRL, 0xB0, T0); /* ch2 lohi mode 0 */
	pit_write(&p, PIT_PORT_CTRL, 0xC8, T0); /* status+count of ch2 */
	u8 s = pit_read(&p, PIT_PORT_CH2, T0);
	CHECK(s == (0x40 | 0x30), "null count set, OUT low, lohi mode 0");
	(void)pit_read(&p, PIT_PORT_CH2, T0);
	(void)pit_read(&p, PIT_PORT_CH2, T0);
	pit_write(&p, PIT_PORT_CH2, 200, T0);
	pit_write(&p, PIT_PORT_CH2, 0, T0);
	pit_write(&p, PIT_PORT_CTRL, 0xC8, T0 + pit_ticks_to_ns(50));
	pit_write(&p, PIT_PORT_CTRL, 0xC8, T0 + pit_ticks_to_ns(60)); /* ignored */
	s = pit_read(&p, PIT_PORT_CH2, T0 + pit_ticks_to_ns(500));
	CHECK(s == 0x30, "counting: null count clear, OUT low");
	u8 lo = pit_read(&p, PIT_PORT_CH2, T0 + pit_ticks_to_ns(500));
	u8 hi = pit_read(&p, PIT_PORT_CH2, T0 + pit_ticks_to_ns(500));
	CHECK((lo | hi << 8) == 150, "read-back latched count");
	pit_write(&p, PIT_PORT_CTRL, 0xE8, T0 + pit_ticks_to_ns(500)); /* status only */
	s = pit_read(&p, PIT_PORT_CH2, T0 + pit_ticks_to_ns(500));
	CHECK(s == (0x80 | 0x30), "expired: OUT high in status");
	/* ch0 mode 3 with BCD bit: kept in status (counting stays binary) */
	pit_write(&p, PIT_PORT_CTRL, 0x37, T0);
	pit_write(&p, PIT_PORT_CTRL, 0xE2, T0);
	CHECK(pit_read(&p, PIT_PORT_CH0, T0) == (0x80 | 0x40 | 0x37), "mode 3 BCD status");
	CHECK(pit_read(&p, PIT_PORT_CTRL, T0) == 0xFF, "0x43 reads 0xFF");
}

/* Access modes and the write flip-flop. */
static void test_flipflop(void)
{
	struct pit p;
	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_CTRL, 0x10 | 0x04, T0); /* ch0 lobyte, mode 2 */
	pit_write(&p, PIT_PORT_CH0, 0x80, T0);
	CHECK(pit_ch0_next_irq(&p, T0) == T0 + pit_ticks_to_ns(0x80), "lobyte only");
	CHECK(pit_read(&p, PIT_PORT_CH0, T0) == 0x80, "lobyte read");
	CHECK(pit_read(&p, PIT_PORT_CH0, T0) == 0x80, "lobyte read again");
	pit_write(&p, PIT_PORT_CTRL, 0x20 | 0x04, T0); /* hibyte */
	pit_write(&p, PIT_PORT_CH0, 0x02, T0);
	CHECK(pit_ch0_next_irq(&p, T0) == T0 + pit_ticks_to_ns(0x200), "hibyte only");
	CHECK(pit_read(&p, PIT_PORT_CH0, T0) == 0x02, "hibyte read");
	pit_write(&p, PIT_PORT_CTRL, 0x34, T0);
	pit_write(&p, PIT_PORT_CH0, 0x34, T0);
	pit_write(&p, PIT_PORT_CH0, 0x12, T0);
	pit_write(&p, PIT_PORT_CH0, 0x00, T0 + 10); /* new lobyte: waits */
	CHECK(pit_ch0_next_irq(&p, T0) == T0 + pit_ticks_to_ns(0x1234), "lo then hi");
	pit_write(&p, PIT_PORT_CH0, 0x01, T0 + 10);
	CHECK(pit_ch0_next_irq(&p, T0 + 10) == T0 + 10 + pit_ticks_to_ns(0x100), "second pair");
	/* a control word resets a half-written count */
	pit_write(&p, PIT_PORT_CH0, 0x99, T0);
	pit_write(&p, PIT_PORT_CTRL, 0x34, T0);
	pit_write(&p, PIT_PORT_CH0, 0x00, T0);
	pit_write(&p, PIT_PORT_CH0, 0x02, T0);
	CHECK(pit_ch0_next_irq(&p, T0) == T0 + pit_ticks_to_ns(0x200), "ctrl resets flip-flop");
	/* 0 in lobyte mode is 65536 too; mode 0 count reads 0 then wraps */
	pit_write(&p, PIT_PORT_CTRL, 0x30, T0);
	pit_write(&p, PIT_PORT_CH0, 0, T0);
	pit_write(&p, PIT_PORT_CH0, 0, T0);
	u8 lo = pit_read(&p, PIT_PORT_CH0, T0), hi = pit_read(&p, PIT_PORT_CH0, T0);
	CHECK(lo == 0 && hi == 0, "65536 reads as 0");
	lo = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(1));
	hi = pit_read(&p, PIT_PORT_CH0, T0 + pit_ticks_to_ns(1));
	CHECK(lo == 0xFF && hi == 0xFF, "then 0xFFFF");
	CHECK(pit_ch0_next_irq(&p, T0) == T0 + pit_ticks_to_ns(65536), "one-shot 65536");
}

/* Clock conversions, time going backwards, huge times. */
static void test_time_edges(void)
{
	struct pit p;
	CHECK(pit_ns_to_ticks(1000000000) == PIT_HZ, "1 s");
	CHECK(pit_ticks_to_ns(PIT_HZ) == 1000000000, "PIT_HZ ticks = 1 s");
	CHECK(pit_ns_to_ticks(PIT_NEVER) > 0, "max ns does not overflow");
	CHECK(pit_ticks_to_ns(PIT_NEVER) == PIT_NEVER, "huge ticks saturate");
	u64 bad = 0;
	for (u32 i = 0; i < 10000; i++) {
		u64 t = check_rand_below(UINT64_C(1) << 50);
		u64 ns = pit_ticks_to_ns(t);
		if (pit_ns_to_ticks(ns) < t || (ns && pit_ns_to_ticks(ns - 1) >= t))
			bad++;
	}
	CHECK(bad == 0, "ticks_to_ns is the least ns reaching t");

	pit_reset(&p, 0);
	pit_write(&p, PIT_PORT_SYS, PIT_SYS_GATE2, T0);
	pit_write(&p, PIT_PORT_CTRL, 0xB0, T0);
	pit_write(&p, PIT_PORT_CH2, 0x00, T0);
	pit_write(&p, PIT_PORT_CH2, 0x01, T0);
	CHECK(!(in61(&p, 0) & PIT_SYS_OUT2), "time before load: not expired");
	u8 lo = pit_read(&p, PIT_PORT_CH2, 0), hi = pit_read(&p, PIT_PORT_CH2, 0);
	CHECK((lo | hi << 8) == 0x100, "time before load: full count");
	CHECK(in61(&p, PIT_NEVER) & PIT_SYS_OUT2, "huge now: expired");
	pit_write(&p, PIT_PORT_SYS, 0, PIT_NEVER);
	pit_write(&p, PIT_PORT_SYS, PIT_SYS_GATE2, 1);
	(void)in61(&p, PIT_NEVER);

	pit_write(&p, PIT_PORT_CTRL, 0x34, PIT_NEVER - 10);
	pit_write(&p, PIT_PORT_CH0, 0, PIT_NEVER - 10);
	pit_write(&p, PIT_PORT_CH0, 0, PIT_NEVER - 10);
	CHECK(pit_ch0_next_irq(&p, PIT_NEVER - 10) == PIT_NEVER, "irq past u64: never");
	CHECK(pit_ch0_next_irq(&p, 0) == PIT_NEVER, "backwards near end: never");
	pit_write(&p, PIT_PORT_CH0, 0, 1000);
	pit_write(&p, PIT_PORT_CH0, 1, 1000);
	CHECK(pit_ch0_next_irq(&p, 0) == 1000 + pit_ticks_to_ns(256), "backwards: first rise");
	u64 ok = 1;
	for (u32 i = 0; i < 1000; i++) {
		u64 t = check_rand();
		u16 port = (u16)(0x40 + check_rand_below(4));
		if (check_rand_below(8) == 0)
			port = PIT_PORT_SYS;
		if (check_rand_below(2))
			pit_write(&p, port, (u8)check_rand(), t);
		else
			(void)pit_read(&p, port, t);
		u64 n = pit_ch0_next_irq(&p, t);
		if (n != PIT_NEVER && n <= t)
			ok = 0;
	}
	CHECK(ok, "random accesses: next irq always in the future");
}

int main(void)
{
	test_calibrate_tsc();
	test_gate();
	test_quick_calibrate();
	test_periodic();
	test_latch();
	test_readback();
	test_flipflop();
	test_time_edges();
	return check_summary();
}
