/* Civil time <-> a count of seconds, for the guest RTC and the host wall
 * clock. Proleptic Gregorian calendar, no time zones, no leap seconds.
 * The count starts at 1900-01-01 00:00:00, the first instant a PC CMOS
 * clock (century register 19) can show, and reaches 9999-12-31 23:59:59. */
#ifndef CG_CALENDAR_H
#define CG_CALENDAR_H

#include <cg/types.h>

#define CAL_YEAR_MIN 1900
#define CAL_YEAR_MAX 9999
#define CAL_SECS_PER_DAY 86400u
/* Seconds from 1900-01-01 to 1970-01-01: 70 years with 17 leap days. */
#define CAL_UNIX_OFFSET UINT64_C(2208988800)

struct cal_time {
	u16 year;  /* CAL_YEAR_MIN..CAL_YEAR_MAX */
	u8 month;  /* 1..12 */
	u8 day;    /* 1..31 */
	u8 hour;   /* 0..23 */
	u8 min;    /* 0..59 */
	u8 sec;    /* 0..59 */
	u8 wday;   /* 0 = Sunday .. 6 (cal_from_seconds only) */
};

/* cal_leap: year is a Gregorian leap year. */
bool cal_leap(u32 year);

/* cal_days_in_month: 28..31; 0 for a month outside 1..12. */
u8 cal_days_in_month(u32 year, u32 month);

/* cal_to_seconds: seconds since 1900-01-01 for t. Year and month must be
 * in range (else the result is clamped to them); day, hour, minute and
 * second count linearly, so day 31 of a 30-day month is the 1st of the
 * next one, as a counter that was set to it and then ran would show.
 * t->wday is ignored. */
u64 cal_to_seconds(const struct cal_time *t);

/* cal_from_seconds: the civil time s seconds after 1900-01-01, wday
 * included; s past 9999-12-31 23:59:59 gives that instant. */
void cal_from_seconds(u64 s, struct cal_time *t);

/* cal_valid: every field of t in range, day within its month. */
bool cal_valid(const struct cal_time *t);

#endif
