/* The host's wall clock (core/virt.h arch_wallclock_seconds): its CMOS RTC is
 * read once, on first use, and the timestamp counter carries it on. The
 * guest RTCs start from it. The RTC's time is taken as UTC, as Linux and
 * QEMU assume; a host RTC set to local time makes the guests' local. */
#include "core/virt.h"
#include "lib/calendar.h"
#include "lib/log.h"
#include "arch/x86/cpu_ops.h"
#include "arch/x86/tsc.h"
#include <cg/spinlock.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
/* MC146818A registers (datasheet register map); century at 0x32 (PC/AT). */
#define CMOS_SEC 0x00
#define CMOS_MIN 0x02
#define CMOS_HOUR 0x04
#define CMOS_MDAY 0x07
#define CMOS_MONTH 0x08
#define CMOS_YEAR 0x09
#define CMOS_REG_A 0x0A
#define CMOS_REG_B 0x0B
#define CMOS_CENTURY 0x32
#define CMOS_A_UIP 0x80
#define CMOS_B_BINARY 0x04
#define CMOS_B_24H 0x02
/* An update cycle: 244 us of warning plus at most 1984 us of update. */
#define CMOS_UIP_WAIT_US 2500
#define CMOS_TRIES 4
/* When the host RTC is unreadable: 2000-01-01 00:00:00 UTC. */
#define WALLCLOCK_FALLBACK UINT64_C(946684800)

static u32 wallclock_lock;
static bool wallclock_known;
static u64 wallclock_unix;  /* at wallclock_tsc */
static u64 wallclock_tsc;

static u8 cmos_read(u8 index)
{
	outb(CMOS_INDEX, index);
	return inb(CMOS_DATA);
}

static u32 cmos_value(u8 v, bool binary)
{
	return binary ? v : (u32)(v >> 4) * 10 + (v & 15);
}

/* Wait for the update-in-progress flag to clear; false if it stays set
 * (no RTC, or one that never finishes). */
static bool cmos_wait_uip(void)
{
	for (u32 us = 0; us < CMOS_UIP_WAIT_US; us += 10) {
		if (!(cmos_read(CMOS_REG_A) & CMOS_A_UIP))
			return true;
		tsc_delay_us(10);
	}
	return false;
}

/* One consistent reading as calendar seconds, or 0 when the RTC does not
 * answer with a valid date. */
static u64 cmos_read_time(void)
{
	for (u32 try = 0; try < CMOS_TRIES; try++) {
		if (!cmos_wait_uip())
			return 0;
		u8 sec = cmos_read(CMOS_SEC);
		u8 min = cmos_read(CMOS_MIN), hour = cmos_read(CMOS_HOUR);
		u8 mday = cmos_read(CMOS_MDAY), month = cmos_read(CMOS_MONTH);
		u8 year = cmos_read(CMOS_YEAR), century = cmos_read(CMOS_CENTURY);
		u8 b = cmos_read(CMOS_REG_B);
		/* An update between the reads changes the seconds. */
		if ((cmos_read(CMOS_REG_A) & CMOS_A_UIP) || cmos_read(CMOS_SEC) != sec)
			continue;
		bool bin = b & CMOS_B_BINARY;
		struct cal_time t;
		u32 h = cmos_value(hour & 0x7F, bin);
		if (!(b & CMOS_B_24H))
			h = h % 12 + (hour & 0x80 ? 12 : 0);
		u32 c = cmos_value(century, bin);
		/* Firmware that keeps no century byte: assume 20xx. */
		if (c < 19 || c > 99)
			c = 20;
		t.year = (u16)(c * 100 + cmos_value(year, bin));
		t.month = (u8)cmos_value(month, bin);
		t.day = (u8)cmos_value(mday, bin);
		t.hour = (u8)h;
		t.min = (u8)cmos_value(min, bin);
		t.sec = (u8)cmos_value(sec, bin);
		return cal_valid(&t) ? cal_to_seconds(&t) : 0;
	}
	return 0;
}

static u64 wallclock_elapsed(u64 since)
{
	u64 hz = arch_timestamp_hz(), d = arch_timestamp() - since;

	return hz ? d / hz : 0;
}

u64 arch_wallclock_seconds(void)
{
	spin_lock(&wallclock_lock);
	if (!wallclock_known) {
		u64 s = cmos_read_time();
		wallclock_tsc = arch_timestamp();
		if (s >= CAL_UNIX_OFFSET) {
			wallclock_unix = s - CAL_UNIX_OFFSET;
		} else {
			wallclock_unix = WALLCLOCK_FALLBACK;
			kprintf("wallclock: the host RTC gave no valid date; guest clocks start at 2000-01-01\n");
		}
		wallclock_known = true;
	}
	u64 now = wallclock_unix + wallclock_elapsed(wallclock_tsc);
	spin_unlock(&wallclock_lock);
	return now;
}
