/* Civil time arithmetic (calendar.h): day counts from the closed form of
 * the Gregorian rules, conversions back by a short search. */
#include "lib/calendar.h"

#define CAL_MAX_SECONDS UINT64_C(255611289599) /* 9999-12-31 23:59:59 */

bool cal_leap(u32 year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

u8 cal_days_in_month(u32 year, u32 month)
{
	static const u8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	return (u8)(days[month - 1] + (month == 2 && cal_leap(year)));
}

/* Days from 0001-01-01 to January 1st of year (year >= 1). */
static u64 cal_days_before_year(u32 year)
{
	u64 y = year - 1;

	return 365 * y + y / 4 - y / 100 + y / 400;
}

static u32 cal_days_before_month(u32 year, u32 month)
{
	u32 d = 0;

	for (u32 m = 1; m < month; m++)
		d += cal_days_in_month(year, m);
	return d;
}

u64 cal_to_seconds(const struct cal_time *t)
{
	u32 year = t->year, month = t->month;

	if (year < CAL_YEAR_MIN)
		year = CAL_YEAR_MIN;
	if (year > CAL_YEAR_MAX)
		year = CAL_YEAR_MAX;
	if (month < 1)
		month = 1;
	if (month > 12)
		month = 12;
	u64 days = cal_days_before_year(year) - cal_days_before_year(CAL_YEAR_MIN) +
		   cal_days_before_month(year, month) + t->day - (t->day ? 1 : 0);
	/* Day 0 counts as day 1 of the month: a counter never shows it. */
	return days * CAL_SECS_PER_DAY + (u64)t->hour * 3600 + (u64)t->min * 60 + t->sec;
}

void cal_from_seconds(u64 s, struct cal_time *t)
{
	if (s > CAL_MAX_SECONDS)
		s = CAL_MAX_SECONDS;
	u64 days = s / CAL_SECS_PER_DAY;
	u32 rem = (u32)(s % CAL_SECS_PER_DAY);
	u64 base = cal_days_before_year(CAL_YEAR_MIN);
	/* No year has more than 366 days: start below and step up (at most
	 * about 22 steps at the far end of the range). */
	u32 year = CAL_YEAR_MIN + (u32)(days / 366);
	while (year < CAL_YEAR_MAX && cal_days_before_year(year + 1) - base <= days)
		year++;
	u32 yday = (u32)(days - (cal_days_before_year(year) - base));
	u32 month = 1;
	while (month < 12 && yday >= cal_days_in_month(year, month))
		yday -= cal_days_in_month(year, month++);
	t->year = (u16)year;
	t->month = (u8)month;
	t->day = (u8)(yday + 1);
	t->hour = (u8)(rem / 3600);
	t->min = (u8)(rem / 60 % 60);
	t->sec = (u8)(rem % 60);
	/* 1900-01-01 was a Monday. */
	t->wday = (u8)((days + 1) % 7);
}

bool cal_valid(const struct cal_time *t)
{
	return t->year >= CAL_YEAR_MIN && t->year <= CAL_YEAR_MAX && t->month >= 1 &&
	       t->month <= 12 && t->day >= 1 && t->day <= cal_days_in_month(t->year, t->month) &&
	       t->hour < 24 && t->min < 60 && t->sec < 60;
}
