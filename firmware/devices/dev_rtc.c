/* CMOS RTC model (dev_rtc.h). While the clock runs, the time registers are
 * not stored: they are computed from base_sec + elapsed whole seconds at
 * every read, in the format register B asks for. While it is held they
 * live in reg[] as the guest wrote them. Register C's flags are brought up
 * to date lazily (rtc_sync) before any access that reads or changes what
 * they depend on. */
#include "devices/dev_rtc.h"
#include "lib/calendar.h"
#include <cg/string.h>

#define NS_PER_S UINT64_C(1000000000)
#define RTC_HZ 32768u            /* time-base crystal: the divider's input */
#define RTC_UIP_NS UINT64_C(244000) /* UIP leads the update by 244 us */
#define RTC_DV_RESET 0x60        /* DV = 11x: divider chain held in reset */
#define RTC_DV_NORMAL 0x20       /* DV = 010: 32.768 kHz time base */
#define RTC_ALARM_ANY 0xC0       /* alarm byte 11xxxxxx: matches any value */

static bool rtc_div_reset(const struct rtc *r)
{
	return (r->reg[RTC_REG_A] & RTC_DV_RESET) == RTC_DV_RESET;
}

static bool rtc_should_run(const struct rtc *r)
{
	return !(r->reg[RTC_REG_B] & RTC_B_SET) && !rtc_div_reset(r);
}

/* Whole seconds the running clock has advanced at t (t >= base_ns). */
static u64 rtc_elapsed_s(const struct rtc *r, u64 t)
{
	return t > r->base_ns ? (t - r->base_ns) / NS_PER_S : 0;
}

/* 32.768 kHz ticks in ns nanoseconds (floor), without overflow. */
static u64 rtc_ns_to_ticks(u64 ns)
{
	return ns / NS_PER_S * RTC_HZ + ns % NS_PER_S * RTC_HZ / NS_PER_S;
}

/* The least ns with rtc_ns_to_ticks(ns) >= t. */
static u64 rtc_ticks_to_ns(u64 t)
{
	return t / RTC_HZ * NS_PER_S + (t % RTC_HZ * NS_PER_S + RTC_HZ - 1) / RTC_HZ;
}

/* Periodic interrupt period in time-base ticks for rate select rs (1..15):
 * 1 and 2 are 256 Hz and 128 Hz, 3..15 are 32768 >> (rs - 1) Hz. */
static u64 rtc_period_ticks(u8 rs)
{
	return rs < 3 ? UINT64_C(1) << (rs + 6) : UINT64_C(1) << (rs - 1);
}

static bool rtc_binary(const struct rtc *r)
{
	return r->reg[RTC_REG_B] & RTC_B_DM_BINARY;
}

static u8 rtc_encode(const struct rtc *r, u32 v)
{
	return rtc_binary(r) ? (u8)v : (u8)((v / 10) << 4 | v % 10);
}

static u32 rtc_decode(const struct rtc *r, u8 v)
{
	return rtc_binary(r) ? v : (u32)(v >> 4) * 10 + (v & 15);
}

static u8 rtc_encode_hour(const struct rtc *r, u32 h)
{
	if (r->reg[RTC_REG_B] & RTC_B_24H)
		return rtc_encode(r, h);
	return (u8)(rtc_encode(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0));
}

/* Hours 0..23 from the register format (12-hour: 12 AM is 0, 12 PM 12). */
static u32 rtc_decode_hour(const struct rtc *r, u8 v)
{
	if (r->reg[RTC_REG_B] & RTC_B_24H)
		return rtc_decode(r, v);
	u32 h = rtc_decode(r, v & 0x7F) % 12;
	return h + (v & 0x80 ? 12 : 0);
}

/* The running clock's time registers at t, encoded, into reg[]. */
static void rtc_store_time(struct rtc *r, u64 t)
{
	struct cal_time c;

	cal_from_seconds(r->base_sec + rtc_elapsed_s(r, t), &c);
	r->reg[RTC_SEC] = rtc_encode(r, c.sec);
	r->reg[RTC_MIN] = rtc_encode(r, c.min);
	r->reg[RTC_HOUR] = rtc_encode_hour(r, c.hour);
	r->reg[RTC_WDAY] = rtc_encode(r, (u32)(c.wday + r->wday_adj) % 7 + 1);
	r->reg[RTC_MDAY] = rtc_encode(r, c.day);
	r->reg[RTC_MONTH] = rtc_encode(r, c.month);
	r->reg[RTC_YEAR] = rtc_encode(r, c.year % 100);
	r->reg[RTC_CENTURY] = rtc_encode(r, c.year / 100);
}

/* Calendar seconds from the time registers in reg[]; the day-of-week
 * register's offset from that date goes to wday_adj. */
static u64 rtc_load_time(struct rtc *r)
{
	struct cal_time c, back;
	u32 year = rtc_decode(r, r->reg[RTC_CENTURY]) * 100 + rtc_decode(r, r->reg[RTC_YEAR]);
	u32 day = rtc_decode(r, r->reg[RTC_MDAY]), month = rtc_decode(r, r->reg[RTC_MONTH]);
	u32 hour = rtc_decode_hour(r, r->reg[RTC_HOUR]), min = rtc_decode(r, r->reg[RTC_MIN]);
	u32 sec = rtc_decode(r, r->reg[RTC_SEC]), wday = rtc_decode(r, r->reg[RTC_WDAY]);

	c.year = (u16)(year < CAL_YEAR_MIN ? CAL_YEAR_MIN : year > CAL_YEAR_MAX ? CAL_YEAR_MAX : year);
	c.month = (u8)(month > 255 ? 255 : month);
	c.day = (u8)(day > 255 ? 255 : day);
	c.hour = (u8)(hour > 255 ? 255 : hour);
	c.min = (u8)(min > 255 ? 255 : min);
	c.sec = (u8)(sec > 255 ? 255 : sec);
	u64 s = cal_to_seconds(&c);
	cal_from_seconds(s, &back);
	r->wday_adj = wday >= 1 && wday <= 7 ? (u8)((wday - 1 + 7 - back.wday) % 7) : 0;
	return s;
}

/* Smallest calendar second >= from whose hour, minute and second match
 * the alarm registers, or RTC_NEVER when a fixed alarm value is out of
 * range. The alarm repeats daily, so the search spans today and tomorrow. */
static u64 rtc_alarm_next(const struct rtc *r, u64 from)
{
	u8 hr = r->reg[RTC_HOUR_ALARM], mr = r->reg[RTC_MIN_ALARM], sr = r->reg[RTC_SEC_ALARM];
	bool h_any = (hr & RTC_ALARM_ANY) == RTC_ALARM_ANY;
	bool m_any = (mr & RTC_ALARM_ANY) == RTC_ALARM_ANY;
	bool s_any = (sr & RTC_ALARM_ANY) == RTC_ALARM_ANY;
	u32 ah = h_any ? 0 : rtc_decode_hour(r, hr);
	u32 am = m_any ? 0 : rtc_decode(r, mr), as = s_any ? 0 : rtc_decode(r, sr);

	if (ah > 23 || am > 59 || as > 59)
		return RTC_NEVER;
	u64 day = from - from % CAL_SECS_PER_DAY;
	u32 sod = (u32)(from % CAL_SECS_PER_DAY);
	for (u32 d = 0; d < 2; d++, day += CAL_SECS_PER_DAY, sod = 0) {
		u32 h0 = sod / 3600, m0 = sod / 60 % 60, s0 = sod % 60;
		for (u32 h = h_any ? h0 : ah; h < 24 && (h_any || h == ah); h++) {
			if (h < h0)
				break;
			u32 mstart = h == h0 ? m0 : 0;
			for (u32 m = m_any ? mstart : am; m < 60 && (m_any || m == am); m++) {
				if (m < mstart)
					break;
				u32 sstart = h == h0 && m == m0 ? s0 : 0;
				u32 s = s_any ? sstart : as;
				if (s >= sstart)
					return day + h * 3600 + m * 60 + s;
			}
		}
	}
	return RTC_NEVER;
}

/* Register C's PF, AF and UF for everything in (flags_ns, now]. */
static void rtc_sync(struct rtc *r, u64 now)
{
	if (now <= r->flags_ns)
		return;
	if (r->running) {
		u64 s0 = rtc_elapsed_s(r, r->flags_ns), s1 = rtc_elapsed_s(r, now);
		if (s1 > s0) {
			r->flags |= RTC_C_UF;
			if (rtc_alarm_next(r, r->base_sec + s0 + 1) <= r->base_sec + s1)
				r->flags |= RTC_C_AF;
		}
	}
	u8 rs = r->reg[RTC_REG_A] & RTC_A_RS;
	if (rs && !rtc_div_reset(r) && now > r->div_ns) {
		u64 per = rtc_period_ticks(rs);
		u64 k0 = r->flags_ns > r->div_ns ? rtc_ns_to_ticks(r->flags_ns - r->div_ns) : 0;
		if (rtc_ns_to_ticks(now - r->div_ns) / per > k0 / per)
			r->flags |= RTC_C_PF;
	}
	r->flags_ns = now;
}

static bool rtc_irqf(const struct rtc *r)
{
	u8 b = r->reg[RTC_REG_B];

	return ((r->flags & RTC_C_PF) && (b & RTC_B_PIE)) ||
	       ((r->flags & RTC_C_AF) && (b & RTC_B_AIE)) ||
	       ((r->flags & RTC_C_UF) && (b & RTC_B_UIE));
}

/* Hold or release the clock after a write to A or B changed SET or DV. */
static void rtc_update_running(struct rtc *r, u64 now, bool div_was_reset)
{
	bool run = rtc_should_run(r);

	if (r->running && !run) {
		rtc_store_time(r, now);
	} else if (!r->running && run) {
		r->base_sec = rtc_load_time(r);
		r->base_ns = now;
	}
	r->running = run;
	if (div_was_reset && !rtc_div_reset(r))
		r->div_ns = now;
}

/* A write to a time register of the running clock: the new time takes
 * effect now, keeping the sub-second phase. */
static void rtc_set_field(struct rtc *r, u8 index, u8 value, u64 now)
{
	u64 elapsed = rtc_elapsed_s(r, now);

	rtc_store_time(r, now);
	r->reg[index] = value;
	r->base_sec = rtc_load_time(r) - elapsed; /* wraps back exactly at now */
}

static u64 rtc_clamp(struct rtc *r, u64 now)
{
	if (now < r->last_ns)
		return r->last_ns;
	r->last_ns = now;
	return now;
}

void rtc_reset(struct rtc *r, u64 now_ns, u64 unix_seconds)
{
	u64 max = cal_to_seconds(&(struct cal_time){ CAL_YEAR_MAX, 12, 31, 23, 59, 59, 0 });

	memset(r, 0, sizeof(*r));
	r->reg[RTC_REG_A] = RTC_DV_NORMAL | 0x06;
	r->reg[RTC_REG_B] = RTC_B_24H;
	r->running = true;
	r->base_sec = unix_seconds > max - CAL_UNIX_OFFSET ? max : unix_seconds + CAL_UNIX_OFFSET;
	r->base_ns = now_ns;
	r->div_ns = now_ns;
	r->flags_ns = now_ns;
	r->last_ns = now_ns;
}

static bool rtc_is_time(u8 index)
{
	return index == RTC_SEC || index == RTC_MIN || index == RTC_HOUR || index == RTC_WDAY ||
	       index == RTC_MDAY || index == RTC_MONTH || index == RTC_YEAR || index == RTC_CENTURY;
}

u8 rtc_read(struct rtc *r, u16 port, u64 now_ns)
{
	u64 now = rtc_clamp(r, now_ns);
	u8 i = r->index, v;

	if (port != RTC_PORT_DATA)
		return 0xFF;
	if (rtc_is_time(i) && r->running) {
		rtc_store_time(r, now);
		return r->reg[i];
	}
	switch (i) {
	case RTC_REG_A:
		v = r->reg[i] & (u8)~RTC_A_UIP;
		if (r->running && (now - r->base_ns) % NS_PER_S >= NS_PER_S - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		rtc_sync(r, now);
		v = (u8)(r->flags | (rtc_irqf(r) ? RTC_C_IRQF : 0));
		r->flags = 0;
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->reg[i];
	}
}

void rtc_write(struct rtc *r, u16 port, u8 value, u64 now_ns)
{
	u64 now = rtc_clamp(r, now_ns);
	u8 i = r->index;
	bool div_was_reset;

	if (port == RTC_PORT_INDEX) {
		r->index = value & 0x7F;
		return;
	}
	if (port != RTC_PORT_DATA)
		return;
	/* Events so far count under the old settings. */
	rtc_sync(r, now);
	if (rtc_is_time(i) && r->running) {
		rtc_set_field(r, i, value, now);
		return;
	}
	switch (i) {
	case RTC_REG_A:
		div_was_reset = rtc_div_reset(r);
		r->reg[i] = value & (u8)~RTC_A_UIP;
		rtc_update_running(r, now, div_was_reset);
		break;
	case RTC_REG_B:
		if (value & RTC_B_SET)
			value &= (u8)~RTC_B_UIE;
		if (r->running && (value & RTC_B_SET)) {
			rtc_store_time(r, now); /* held in the format it had */
			r->running = false;
		}
		r->reg[i] = value;
		rtc_update_running(r, now, rtc_div_reset(r));
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;
	default:
		r->reg[i] = value;
	}
}

bool rtc_irq_level(struct rtc *r, u64 now_ns)
{
	rtc_sync(r, rtc_clamp(r, now_ns));
	return rtc_irqf(r);
}

u64 rtc_next_irq(struct rtc *r, u64 now_ns)
{
	u64 now = rtc_clamp(r, now_ns), next = RTC_NEVER;
	u8 b = r->reg[RTC_REG_B], rs = r->reg[RTC_REG_A] & RTC_A_RS;

	rtc_sync(r, now);
	if (rtc_irqf(r))
		return RTC_NEVER;
	if ((b & RTC_B_PIE) && rs && !rtc_div_reset(r)) {
		u64 per = rtc_period_ticks(rs);
		u64 k = now > r->div_ns ? rtc_ns_to_ticks(now - r->div_ns) : 0;
		u64 t = r->div_ns + rtc_ticks_to_ns((k / per + 1) * per);
		next = t < next ? t : next;
	}
	if (r->running && (b & (RTC_B_UIE | RTC_B_AIE))) {
		u64 s = rtc_elapsed_s(r, now) + 1; /* the next update */
		u64 a = s;
		if (!(b & RTC_B_UIE)) {
			u64 m = rtc_alarm_next(r, r->base_sec + s);
			a = m == RTC_NEVER ? RTC_NEVER : m - r->base_sec;
		}
		if (a != RTC_NEVER) {
			u64 t = r->base_ns + a * NS_PER_S;
			next = t < next ? t : next;
		}
	}
	return next;
}

u64 rtc_seconds(struct rtc *r, u64 now_ns)
{
	u64 now = rtc_clamp(r, now_ns);

	if (r->running)
		return r->base_sec + rtc_elapsed_s(r, now);
	struct rtc copy = *r;
	return rtc_load_time(&copy);
}
