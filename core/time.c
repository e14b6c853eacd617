/* Time parsing and formatting (prefix lw_time). Pure functions, no state;
 * safe from any thread. Parsing is hand-written (no sscanf/strptime)
 * because it sits on the per-message hot path of the syslog parsers. */
#include "core/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

#define NS_PER_SEC 1000000000LL

int64_t lw_time_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t lw_time_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t lw_time_mono_ms(void)
{
	return lw_time_mono_ns() / 1000000;
}

/* Howard Hinnant's days_from_civil algorithm (public domain description):
 * exact for every proleptic Gregorian date, no tables, no loops. */
int64_t lw_time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void lw_time_civil_from_days(int64_t z, int64_t *year, unsigned *mon,
			     unsigned *mday)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*mday = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*year = y + (*mon <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned lw_time_days_in_month(int64_t year, unsigned mon)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
					      31, 31, 30, 31, 30, 31};

	if (mon < 1 || mon > 12)
		return 0;
	if (mon == 2 && is_leap(year))
		return 29;
	return dim[mon - 1];
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at s; returns -1 when one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Parses "+hh:mm", "-hh:mm" or "Z" at s; returns bytes consumed or 0. */
static size_t parse_offset(const char *s, size_t len, unsigned flags,
			   int32_t *off)
{
	int hh, mm;

	if (len >= 1 && (s[0] == 'Z' || (s[0] == 'z' && !(flags & LW_TIME_ISO_STRICT)))) {
		*off = 0;
		return 1;
	}
	if (len < 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':')
		return 0;
	hh = digits(s + 1, 2);
	mm = digits(s + 4, 2);
	if (hh < 0 || mm < 0 || hh > 23 || mm > 59)
		return 0;
	*off = (hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
	return 6;
}

size_t lw_time_parse_iso(const char *s, size_t len, unsigned flags,
			 struct lw_time_parts *out)
{
	int year, mon, mday, hh, mi, ss;
	size_t i;
	int64_t days;

	if (len < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	year = digits(s, 4);
	mon = digits(s + 5, 2);
	mday = digits(s + 8, 2);
	/* int64 ns spans 1677-09-21..2262-04-11; whole years inside it, with
	 * room for a +-24 h offset, so callers can multiply without overflow. */
	if (year < LW_TIME_YEAR_MIN || year > LW_TIME_YEAR_MAX || mon < 1 || mon > 12 || mday < 1 ||
	    (unsigned)mday > lw_time_days_in_month(year, (unsigned)mon))
		return 0;
	days = lw_time_days_from_civil(year, (unsigned)mon, (unsigned)mday);
	out->nsec = 0;
	out->offset_sec = 0;
	out->has_offset = 0;
	out->local_sec = days * 86400;
	if (len < 19 || !(s[10] == 'T' || (!(flags & LW_TIME_ISO_STRICT) &&
					   (s[10] == 't' || s[10] == ' ')))) {
		if (!(flags & LW_TIME_ISO_DATE_ONLY))
			return 0;
		return 10;
	}
	if (s[13] != ':' || s[16] != ':')
		return (flags & LW_TIME_ISO_DATE_ONLY) ? 10 : 0;
	hh = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	ss = digits(s + 17, 2);
	if (hh < 0 || mi < 0 || ss < 0 || hh > 23 || mi > 59 || ss > 59)
		return (flags & LW_TIME_ISO_DATE_ONLY) ? 10 : 0;
	out->local_sec += hh * 3600 + mi * 60 + ss;
	i = 19;
	if (i < len && s[i] == '.') {
		int32_t ns = 0;
		int n = 0;

		/* Any number of digits is accepted (syslog-ng sees senders
		 * with 60); digits past the 9th are dropped, not rounded. */
		for (i++; i < len && is_digit(s[i]); i++, n++)
			if (n < 9)
				ns = ns * 10 + (s[i] - '0');
		if (n == 0)
			return (flags & LW_TIME_ISO_DATE_ONLY) ? 10 : 0;
		for (; n < 9; n++)
			ns *= 10;
		out->nsec = ns;
	}
	{
		size_t k = parse_offset(s + i, len - i, flags, &out->offset_sec);

		if (k > 0) {
			out->has_offset = 1;
			i += k;
		} else if (flags & LW_TIME_ISO_STRICT) {
			return 0;
		}
	}
	return i;
}

size_t lw_time_parse_rfc3339(const char *s, size_t len, int64_t *ns)
{
	struct lw_time_parts tp;
	size_t n;

	n = lw_time_parse_iso(s, len, LW_TIME_ISO_DATE_ONLY, &tp);
	if (n == 0)
		return 0;
	/* Without an offset the time is taken as UTC (documented in the
	 * header): the query side has no better zone to assume. */
	*ns = (tp.local_sec - tp.offset_sec) * NS_PER_SEC + tp.nsec;
	return n;
}

int lw_time_parse_age(const char *s, int64_t *ns)
{
	size_t len = strlen(s);
	int64_t v = 0, unit;
	size_t i;

	for (i = 0; i < len && is_digit(s[i]); i++) {
		if (v > 1000000000LL)   /* > 31 years of seconds: refuse */
			return LW_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || i + 1 != len)
		return LW_EINVAL;
	switch (s[i]) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return LW_EINVAL;
	}
	if (v > INT64_MAX / NS_PER_SEC / unit)
		return LW_EINVAL;
	*ns = v * unit * NS_PER_SEC;
	return LW_OK;
}

int lw_time_parse_query(const char *s, int64_t now_ns, int64_t *ns)
{
	size_t len = strlen(s);
	int64_t age;

	if (len == 0)
		return LW_EINVAL;
	if (lw_time_parse_rfc3339(s, len, ns) == len)
		return LW_OK;
	if (lw_time_parse_age(s, &age) != LW_OK)
		return LW_EINVAL;
	*ns = now_ns - age;
	return LW_OK;
}

void lw_time_format_rfc3339(int64_t ns, struct lw_buf *out)
{
	int64_t sec = ns / NS_PER_SEC, frac = ns % NS_PER_SEC, days, rem, year;
	unsigned mon, mday;

	if (frac < 0) {            /* floor, so pre-1970 times print right */
		frac += NS_PER_SEC;
		sec--;
	}
	days = sec / 86400;
	rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	lw_time_civil_from_days(days, &year, &mon, &mday);
	lw_buf_printf(out, "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ",
		      (long long)year, mon, mday, (int)(rem / 3600),
		      (int)(rem / 60 % 60), (int)(rem % 60), (int)(frac / 1000));
}
