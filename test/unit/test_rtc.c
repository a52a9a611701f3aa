/* calendar and dev_rtc: civil-time conversions against the C library's
 * gmtime_r/timegm over 1900-9999; the CMOS RTC model's registers in BCD
 * and binary, 24- and 12-hour mode, the clock running across day, month,
 * leap-day and century boundaries, SET and divider-reset holds (Linux's
 * set-time sequence), single-field writes keeping the sub-second phase,
 * UIP timing, register C (UF, PF, AF, IRQF, clear on read), the next
 * interrupt instant, CMOS RAM, the index port's NMI bit, time going
 * backwards. */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>
#include "check.h"
#include "lib/calendar.h"
#include "devices/dev_rtc.h"

#define S UINT64_C(1000000000)
#define T0 UINT64_C(5000000000000) /* an arbitrary VM clock origin, ns */

static u8 rd(struct rtc *r, u8 index, u64 now)
{
	rtc_write(r, RTC_PORT_INDEX, index, now);
	return rtc_read(r, RTC_PORT_DATA, now);
}

static void wr(struct rtc *r, u8 index, u8 v, u64 now)
{
	rtc_write(r, RTC_PORT_INDEX, index, now);
	rtc_write(r, RTC_PORT_DATA, v, now);
}

static u64 unix_of(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (u64)timegm(&tm);
}

/* The clock's registers as "YYYY-MM-DD hh:mm:ss w" (BCD, 24-hour). */
static void show(struct rtc *r, u64 now, char *buf)
{
	u8 c = rd(r, RTC_CENTURY, now), y = rd(r, RTC_YEAR, now), mo = rd(r, RTC_MONTH, now);
	u8 d = rd(r, RTC_MDAY, now), h = rd(r, RTC_HOUR, now), mi = rd(r, RTC_MIN, now);
	u8 s = rd(r, RTC_SEC, now), w = rd(r, RTC_WDAY, now);
	sprintf(buf, "%02x%02x-%02x-%02x %02x:%02x:%02x %x", c, y, mo, d, h, mi, s, w);
}

static bool shows(struct rtc *r, u64 now, const char *expect)
{
	char buf[64];

	show(r, now, buf);
	if (strcmp(buf, expect))
		fprintf(stderr, "  clock shows %s, expected %s\n", buf, expect);
	return !strcmp(buf, expect);
}

static void check_calendar(void)
{
	struct cal_time t;
	int bad = 0;

	CHECK(cal_leap(2000) && cal_leap(2024) && !cal_leap(1900) && !cal_leap(2100), "leap years");
	CHECK(cal_days_in_month(2024, 2) == 29 && cal_days_in_month(2023, 2) == 28 &&
	      cal_days_in_month(2023, 12) == 31 && cal_days_in_month(2023, 13) == 0, "month lengths");
	cal_from_seconds(0, &t);
	CHECK(t.year == 1900 && t.month == 1 && t.day == 1 && t.wday == 1, "epoch: Monday 1900-01-01");
	cal_from_seconds(CAL_UNIX_OFFSET, &t);
	CHECK(t.year == 1970 && t.month == 1 && t.day == 1 && t.hour == 0 && t.wday == 4,
	      "Unix epoch: Thursday");
	cal_from_seconds(~(u64)0, &t);
	CHECK(t.year == 9999 && t.month == 12 && t.day == 31 && t.sec == 59, "clamped at 9999");

	/* gmtime_r as the oracle: every field, both directions. */
	for (int i = 0; i < 200000; i++) {
		u64 s = check_rand() % (UINT64_C(8100) * 365 * 86400);
		time_t ut = (time_t)((s64)s - (s64)CAL_UNIX_OFFSET);
		struct tm tm;
		if (!gmtime_r(&ut, &tm) || tm.tm_year + 1900 > 9999)
			continue;
		cal_from_seconds(s, &t);
		bad += t.year != tm.tm_year + 1900 || t.month != tm.tm_mon + 1 || t.day != tm.tm_mday ||
		       t.hour != tm.tm_hour || t.min != tm.tm_min || t.sec != tm.tm_sec ||
		       t.wday != tm.tm_wday || !cal_valid(&t) || cal_to_seconds(&t) != s;
	}
	CHECK(!bad, "cal_from_seconds / cal_to_seconds == gmtime_r over 1900-9999");

	t = (struct cal_time){ 2023, 4, 31, 0, 0, 0, 0 };
	CHECK(!cal_valid(&t), "April 31 invalid");
	CHECK(cal_to_seconds(&t) == unix_of(2023, 5, 1, 0, 0, 0) + CAL_UNIX_OFFSET,
	      "April 31 counts on to May 1");
}

static void check_format(void)
{
	struct rtc r;
	u64 t = T0;

	/* 2024-02-29 23:59:58 UTC, a Thursday (register value 5). */
	rtc_reset(&r, t, unix_of(2024, 2, 29, 23, 59, 58));
	CHECK(rd(&r, RTC_REG_A, t) == 0x26 && rd(&r, RTC_REG_B, t) == 0x02, "A, B after reset");
	CHECK(rd(&r, RTC_REG_D, t) == 0x80 && rd(&r, RTC_REG_C, t) == 0, "D valid, C clear");
	CHECK(shows(&r, t, "2024-02-29 23:59:58 5"), "BCD 24-hour");
	CHECK(shows(&r, t + S - 1, "2024-02-29 23:59:58 5"), "not a second yet");
	CHECK(shows(&r, t + 2 * S, "2024-03-01 00:00:00 6"), "leap day rolls to March, Friday");
	CHECK(rtc_seconds(&r, t + 2 * S) == unix_of(2024, 3, 1, 0, 0, 0) + CAL_UNIX_OFFSET,
	      "rtc_seconds");

	t += 2 * S + 3600 * S * 23 + 59 * 60 * S + 58 * S; /* 2024-03-01 23:59:58 */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, t);
	CHECK(rd(&r, RTC_YEAR, t) == 24 && rd(&r, RTC_CENTURY, t) == 20 && rd(&r, RTC_SEC, t) == 58,
	      "binary");
	CHECK(rd(&r, RTC_HOUR, t) == 23 && rd(&r, RTC_MDAY, t) == 1, "binary hour, day");

	wr(&r, RTC_REG_B, 0, t); /* BCD, 12-hour */
	CHECK(rd(&r, RTC_HOUR, t) == 0x91, "11 PM: 0x80 | 0x11");
	CHECK(rd(&r, RTC_HOUR, t + 2 * S) == 0x12, "midnight: 12 AM");
	CHECK(rd(&r, RTC_HOUR, t + 2 * S + 3600 * S) == 0x01, "1 AM");
	CHECK(rd(&r, RTC_HOUR, t + 2 * S + 12 * 3600 * S) == 0x92, "noon: 12 PM");
	CHECK(rd(&r, RTC_HOUR, t + 2 * S + 13 * 3600 * S) == 0x81, "1 PM");
	t = T0;

	/* New year and century. */
	rtc_reset(&r, t, unix_of(2099, 12, 31, 23, 59, 59));
	CHECK(shows(&r, t + S, "2100-01-01 00:00:00 6"), "2100: a Friday, century 21");
}

/* Linux's mc146818_set_time: SET, divider reset, the fields, then B and A
 * restored. The clock holds, reads back what was written, and restarts. */
static void check_set(void)
{
	struct rtc r;
	u64 t = T0;

	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 0, 0));
	wr(&r, RTC_REG_B, 0x02 | RTC_B_SET | RTC_B_UIE, t);
	CHECK(rd(&r, RTC_REG_B, t) == (0x02 | RTC_B_SET), "SET clears UIE");
	wr(&r, RTC_REG_A, 0x26 | 0x70, t);
	wr(&r, RTC_YEAR, 0x31, t);
	wr(&r, RTC_MONTH, 0x02, t);   /* Feb ... */
	wr(&r, RTC_MDAY, 0x31, t);    /* ... 31 while held: kept as written */
	CHECK(rd(&r, RTC_MDAY, t + 5 * S) == 0x31, "held: reads back what was written");
	wr(&r, RTC_MONTH, 0x12, t);
	wr(&r, RTC_HOUR, 0x23, t);
	wr(&r, RTC_MIN, 0x59, t);
	wr(&r, RTC_SEC, 0x59, t);
	CHECK(rd(&r, RTC_SEC, t + 10 * S) == 0x59, "held: not counting");
	CHECK(rtc_seconds(&r, t) == unix_of(2031, 12, 31, 23, 59, 59) + CAL_UNIX_OFFSET,
	      "rtc_seconds while held");
	wr(&r, RTC_REG_B, 0x02, t + 10 * S);
	CHECK(rd(&r, RTC_SEC, t + 20 * S) == 0x59, "divider still in reset: held");
	wr(&r, RTC_REG_A, 0x26, t + 20 * S);
	CHECK(shows(&r, t + 20 * S, "2031-12-31 23:59:59 7"), "restarted from the written time");
	CHECK(shows(&r, t + 21 * S, "2032-01-01 00:00:00 1"), "then counts (the day-of-week counter wraps 7 -> 1)");

	/* SET alone, in binary: released by clearing SET. */
	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 0, 0));
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_DM_BINARY, t);
	CHECK(rd(&r, RTC_HOUR, t) == 0x12, "held in the format it ran in (BCD)");
	wr(&r, RTC_HOUR, 7, t);
	wr(&r, RTC_MIN, 30, t);
	wr(&r, RTC_SEC, 0, t);
	wr(&r, RTC_MDAY, 1, t);
	wr(&r, RTC_MONTH, 6, t);
	wr(&r, RTC_YEAR, 24, t);
	wr(&r, RTC_CENTURY, 20, t);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_DM_BINARY, t + S / 2);
	CHECK(rd(&r, RTC_HOUR, t + S / 2) == 7 && rd(&r, RTC_MIN, t + S / 2) == 30,
	      "binary time written under SET");
	CHECK(rd(&r, RTC_SEC, t + S / 2 + S) == 1, "a second after the release");
}

/* A field written while the clock runs: the time jumps, the phase stays. */
static void check_field_write(void)
{
	struct rtc r;
	u64 t = T0;

	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 0, 0));
	wr(&r, RTC_MIN, 0x45, t + S / 2);
	CHECK(shows(&r, t + S / 2, "2024-06-01 12:45:00 7"), "minutes written");
	CHECK(rd(&r, RTC_SEC, t + S - 1) == 0x00 && rd(&r, RTC_SEC, t + S) == 0x01,
	      "next second at the old phase");
	wr(&r, RTC_WDAY, 0x02, t + S);
	CHECK(rd(&r, RTC_WDAY, t + S) == 0x02, "day of week written");
	CHECK(rd(&r, RTC_WDAY, t + S + 86400 * S) == 0x03, "and counts on from there");
	wr(&r, RTC_MDAY, 0x31, t + S); /* June 31: counts on to July 1 */
	CHECK(rd(&r, RTC_MONTH, t + S) == 0x07 && rd(&r, RTC_MDAY, t + S) == 0x01,
	      "June 31 is July 1");
	wr(&r, RTC_YEAR, 0x99, t + S);
	wr(&r, RTC_CENTURY, 0x19, t + S);
	CHECK(rtc_seconds(&r, t + S) == unix_of(1999, 7, 1, 12, 45, 1) + CAL_UNIX_OFFSET,
	      "year and century written");
	wr(&r, RTC_CENTURY, 0x18, t + S); /* before the calendar: clamped */
	CHECK(rd(&r, RTC_CENTURY, t + S) == 0x19, "year 1899 clamps to 1900");
}

static void check_uip(void)
{
	struct rtc r;
	u64 t = T0;

	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 0, 0));
	CHECK(!(rd(&r, RTC_REG_A, t + S - 244001) & RTC_A_UIP), "UIP low 244 us + 1 ns before");
	CHECK(rd(&r, RTC_REG_A, t + S - 244000) & RTC_A_UIP, "UIP high 244 us before the update");
	CHECK(rd(&r, RTC_REG_A, t + S - 1) & RTC_A_UIP, "UIP high just before");
	CHECK(!(rd(&r, RTC_REG_A, t + S) & RTC_A_UIP), "UIP low once updated");
	wr(&r, RTC_REG_B, 0x02 | RTC_B_SET, t + S);
	CHECK(!(rd(&r, RTC_REG_A, t + 2 * S - 1) & RTC_A_UIP), "no UIP while held");
}

static void check_flags(void)
{
	struct rtc r;
	u64 t = T0;

	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 0, 0));
	wr(&r, RTC_REG_A, 0x20, t); /* no periodic rate */
	CHECK(rd(&r, RTC_REG_C, t + S - 1) == 0, "nothing before the first update");
	CHECK(rd(&r, RTC_REG_C, t + S) == RTC_C_UF, "UF, no IRQF (UIE off)");
	CHECK(rd(&r, RTC_REG_C, t + S) == 0, "cleared by the read");
	CHECK(!rtc_irq_level(&r, t + 2 * S), "line low without enables");
	wr(&r, RTC_REG_B, 0x02 | RTC_B_UIE, t + 2 * S);
	CHECK(rtc_irq_level(&r, t + 2 * S), "enabling UIE with UF pending raises IRQF");
	CHECK(rtc_next_irq(&r, t + 2 * S) == RTC_NEVER, "no next edge while IRQF is high");
	CHECK(rd(&r, RTC_REG_C, t + 2 * S) == (RTC_C_IRQF | RTC_C_UF), "IRQF + UF");
	CHECK(rtc_next_irq(&r, t + 2 * S) == t + 3 * S, "UIE: next update");
	CHECK(!rtc_irq_level(&r, t + 3 * S - 1) && rtc_irq_level(&r, t + 3 * S), "rises on time");
	rd(&r, RTC_REG_C, t + 3 * S);

	/* Periodic at 1024 Hz (RS 6): 32 ticks of the 32.768 kHz base. */
	wr(&r, RTC_REG_B, 0x02 | RTC_B_PIE, t + 3 * S);
	wr(&r, RTC_REG_A, 0x26, t + 3 * S);
	rd(&r, RTC_REG_C, t + 3 * S);
	u64 next = rtc_next_irq(&r, t + 3 * S);
	CHECK(next > t + 3 * S && next <= t + 3 * S + 976563, "PF within 1/1024 s");
	CHECK(!(rd(&r, RTC_REG_C, next - 1) & RTC_C_PF), "no PF before");
	CHECK(rd(&r, RTC_REG_C, next) == (RTC_C_IRQF | RTC_C_PF), "PF + IRQF at the instant");
	u64 next2 = rtc_next_irq(&r, next);
	CHECK(next2 - next >= 976562 && next2 - next <= 976563, "then every 976.5625 us");
	wr(&r, RTC_REG_A, 0x2F, next2); /* RS 15: 2 Hz */
	rd(&r, RTC_REG_C, next2);
	u64 n3 = rtc_next_irq(&r, next2);
	CHECK(n3 > next2 && n3 - next2 <= S / 2 && (n3 - t) % (S / 2) == 0, "2 Hz: on the half second");
	wr(&r, RTC_REG_A, 0x76, n3); /* divider reset: no periodic interrupts */
	rd(&r, RTC_REG_C, n3);
	CHECK(rtc_next_irq(&r, n3) == RTC_NEVER && rd(&r, RTC_REG_C, n3 + 10 * S) == 0,
	      "divider reset: no events");
}

static void check_alarm(void)
{
	struct rtc r;
	u64 t = T0;

	rtc_reset(&r, t, unix_of(2024, 6, 1, 23, 59, 50));
	wr(&r, RTC_REG_A, 0x20, t);
	wr(&r, RTC_HOUR_ALARM, 0x00, t);
	wr(&r, RTC_MIN_ALARM, 0x00, t);
	wr(&r, RTC_SEC_ALARM, 0x05, t);
	wr(&r, RTC_REG_B, 0x02 | RTC_B_AIE, t);
	CHECK(rtc_next_irq(&r, t) == t + 15 * S, "alarm 00:00:05 tomorrow: 15 s away");
	CHECK(rd(&r, RTC_REG_C, t + 15 * S - 1) == RTC_C_UF, "UF only before the alarm");
	CHECK(rd(&r, RTC_REG_C, t + 15 * S) == (RTC_C_IRQF | RTC_C_AF | RTC_C_UF), "AF at 00:00:05");
	CHECK(rtc_next_irq(&r, t + 15 * S) == t + 15 * S + 86400 * S, "again a day later");
	/* A missed alarm is still flagged at the next access. */
	CHECK(rd(&r, RTC_REG_C, t + 15 * S + 86400 * S + 100 * S) & RTC_C_AF, "AF kept until read");

	wr(&r, RTC_HOUR_ALARM, 0xC0, t + 200000 * S);
	wr(&r, RTC_MIN_ALARM, 0xFF, t + 200000 * S);
	wr(&r, RTC_SEC_ALARM, 0x30, t + 200000 * S);
	rd(&r, RTC_REG_C, t + 200000 * S); /* alarms flagged meanwhile */
	u64 n = rtc_next_irq(&r, t + 200000 * S);
	CHECK(n > t + 200000 * S && n <= t + 200060 * S && (rtc_seconds(&r, n) % 60) == 30,
	      "any hour, any minute, second 30: within the minute");
	wr(&r, RTC_SEC_ALARM, 0xC0, n);
	rd(&r, RTC_REG_C, n);
	CHECK(rtc_next_irq(&r, n) == n + S, "all don't-care: every second");
	wr(&r, RTC_HOUR_ALARM, 0x24, n); /* hour 24: never matches */
	wr(&r, RTC_SEC_ALARM, 0x00, n);
	CHECK(rtc_next_irq(&r, n) == RTC_NEVER, "impossible alarm: never");
	/* 12-hour alarm format: 0x81 is 1 PM. */
	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 59, 59));
	wr(&r, RTC_REG_A, 0x20, t);
	wr(&r, RTC_REG_B, RTC_B_AIE, t);
	wr(&r, RTC_HOUR_ALARM, 0x81, t);
	wr(&r, RTC_MIN_ALARM, 0x00, t);
	wr(&r, RTC_SEC_ALARM, 0x00, t);
	CHECK(rtc_next_irq(&r, t) == t + S, "12-hour alarm 1 PM");
}

static void check_ram_and_ports(void)
{
	struct rtc r;
	u64 t = T0;
	int bad = 0;

	rtc_reset(&r, t, unix_of(2024, 6, 1, 12, 0, 0));
	for (u32 i = 0x0E; i < RTC_SIZE; i++)
		if (i != RTC_CENTURY)
			wr(&r, (u8)i, (u8)(i * 7 + 3), t);
	for (u32 i = 0x0E; i < RTC_SIZE; i++)
		if (i != RTC_CENTURY)
			bad += rd(&r, (u8)(i | 0x80), t) != (u8)(i * 7 + 3); /* NMI bit ignored */
	CHECK(!bad, "113 RAM bytes + century: read back, NMI bit ignored");
	CHECK(rtc_read(&r, RTC_PORT_INDEX, t) == 0xFF, "port 0x70 reads 0xFF");
	CHECK(rtc_read(&r, 0x72, t) == 0xFF, "other ports read 0xFF");
	wr(&r, RTC_REG_D, 0x00, t);
	wr(&r, RTC_REG_C, 0xFF, t);
	CHECK(rd(&r, RTC_REG_D, t) == 0x80 && rd(&r, RTC_REG_C, t) == 0, "C and D read-only");
	wr(&r, RTC_REG_A, 0xA6, t);
	CHECK(rd(&r, RTC_REG_A, t) == 0x26, "UIP is read-only");

	/* Time going backwards: clamped to the latest instant seen. */
	CHECK(rd(&r, RTC_SEC, t + 10 * S) == 0x10 && rd(&r, RTC_SEC, t + 5 * S) == 0x10,
	      "backwards clamped");
	rtc_reset(&r, t, ~(u64)0);
	CHECK(shows(&r, t, "9999-12-31 23:59:59 6"), "far future clamps to 9999");
}

int main(void)
{
	check_calendar();
	check_format();
	check_set();
	check_field_write();
	check_uip();
	check_flags();
	check_alarm();
	check_ram_and_ports();
	return check_summary();
}
