/* Unit tests for core/time.c (lw_time_*). */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"

#define NS 1000000000LL

static size_t p3339(const char *s, int64_t *ns)
{
	return lw_time_parse_rfc3339(s, strlen(s), ns);
}

static void expect_fmt(int64_t ns, const char *want)
{
	struct lw_buf b;

	lw_buf_init(&b);
	lw_time_format_rfc3339(ns, &b);
	cr_assert_eq(b.oom, 0);
	cr_expect_eq(b.len, strlen(want));
	cr_expect(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0,
		  "got %.*s want %s", (int)b.len, b.data, want);
	lw_buf_release(&b);
}

Test(time, civil_round_trip_known_days)
{
	int64_t y;
	unsigned m, d;

	cr_expect_eq(lw_time_days_from_civil(1970, 1, 1), 0);
	cr_expect_eq(lw_time_days_from_civil(2000, 3, 1), 11017);
	cr_expect_eq(lw_time_days_from_civil(1969, 12, 31), -1);
	cr_expect_eq(lw_time_days_from_civil(2026, 11, 27), 20784);
	lw_time_civil_from_days(20784, &y, &m, &d);
	cr_expect(y == 2026 && m == 11 && d == 27);
	lw_time_civil_from_days(-1, &y, &m, &d);
	cr_expect(y == 1969 && m == 12 && d == 31);
	for (int64_t day = -800000; day < 800000; day += 997) {
		lw_time_civil_from_days(day, &y, &m, &d);
		cr_assert_eq(lw_time_days_from_civil(y, m, d), day);
	}
}

Test(time, days_in_month_handles_leap_years)
{
	cr_expect_eq(lw_time_days_in_month(2024, 2), 29);
	cr_expect_eq(lw_time_days_in_month(2023, 2), 28);
	cr_expect_eq(lw_time_days_in_month(1900, 2), 28);
	cr_expect_eq(lw_time_days_in_month(2000, 2), 29);
	cr_expect_eq(lw_time_days_in_month(2023, 4), 30);
	cr_expect_eq(lw_time_days_in_month(2023, 13), 0);
}

Test(time, rfc3339_utc_with_fraction)
{
	int64_t ns = 0;

	cr_expect_eq(p3339("2003-10-11T22:14:15.003Z", &ns), 24);
	cr_expect_eq(ns, 1065910455LL * NS + 3000000);
}

Test(time, rfc3339_negative_offset)
{
	int64_t ns = 0;

	cr_expect_eq(p3339("2003-08-24T05:14:15.000003-07:00", &ns), 32);
	cr_expect_eq(ns, 1061727255LL * NS + 3000);
}

Test(time, rfc3339_positive_offset_and_space)
{
	int64_t ns = 0;

	cr_expect_eq(p3339("2026-11-27 12:30:05.123456+09:00", &ns), 32);
	cr_expect_eq(ns, (1795782605LL - 9 * 3600) * NS + 123456000);
}

Test(time, rfc3339_date_alone_is_midnight_utc)
{
	int64_t ns = 0;

	cr_expect_eq(p3339("2026-11-27", &ns), 10);
	cr_expect_eq(ns, 1795737600LL * NS);
}

Test(time, rfc3339_long_fraction_truncated_to_ns)
{
	int64_t ns = 0;
	const char *s = "2006-11-10T10:43:21.15600000000000000000000000000000000000000000000000000000000000+01:00";

	cr_expect_eq(p3339(s, &ns), strlen(s));
	cr_expect_eq(ns, 1163151801LL * NS + 156000000);
	cr_expect_eq(p3339("1970-01-01T00:00:00.1234567899Z", &ns), 31);
	cr_expect_eq(ns, 123456789);
}

Test(time, rfc3339_rejects_bad_fields)
{
	int64_t ns = 0;

	cr_expect_eq(p3339("2026-02-30T00:00:00Z", &ns), 0);
	cr_expect_eq(p3339("2026-13-01T00:00:00Z", &ns), 0);
	cr_expect_eq(p3339("2026-00-01", &ns), 0);
	cr_expect_eq(p3339("26-11-27", &ns), 0);
	cr_expect_eq(p3339("", &ns), 0);
	cr_expect_eq(p3339("2026-11-27T12:30:05.Z", &ns), 10, "bad time: the date alone remains");
	cr_expect_eq(p3339("2026-11-27T24:00:00Z", &ns), 10);
}

Test(time, iso_strict_requires_offset_and_upper_t)
{
	struct lw_time_parts tp;
	const char *a = "2026-11-27T12:30:05", *b = "2026-11-27t12:30:05Z";
	const char *c = "2026-11-27 12:30:05Z", *d = "2026-11-27T12:30:05z";

	cr_expect_eq(lw_time_parse_iso(a, strlen(a), LW_TIME_ISO_STRICT, &tp), 0);
	cr_expect_eq(lw_time_parse_iso(b, strlen(b), LW_TIME_ISO_STRICT, &tp), 0);
	cr_expect_eq(lw_time_parse_iso(c, strlen(c), LW_TIME_ISO_STRICT, &tp), 0);
	cr_expect_eq(lw_time_parse_iso(d, strlen(d), LW_TIME_ISO_STRICT, &tp), 0);
	cr_expect_eq(lw_time_parse_iso(a, strlen(a), 0, &tp), 19);
	cr_expect_eq(tp.has_offset, 0);
	cr_expect_eq(tp.local_sec, 1795782605LL);
	cr_expect_eq(lw_time_parse_iso(d, strlen(d), 0, &tp), 20);
	cr_expect_eq(tp.has_offset, 1);
}

Test(time, iso_offset_range_checked)
{
	struct lw_time_parts tp;
	const char *a = "2026-11-27T12:30:05+24:00", *b = "2026-11-27T12:30:05+09:60";
	const char *c = "2026-11-27T12:30:05+0900";

	cr_expect_eq(lw_time_parse_iso(a, strlen(a), LW_TIME_ISO_STRICT, &tp), 0);
	cr_expect_eq(lw_time_parse_iso(b, strlen(b), LW_TIME_ISO_STRICT, &tp), 0);
	cr_expect_eq(lw_time_parse_iso(c, strlen(c), LW_TIME_ISO_STRICT, &tp), 0);
}

Test(time, iso_does_not_read_past_len)
{
	struct lw_time_parts tp;

	cr_expect_eq(lw_time_parse_iso("2026-11-27T12:30:05Z", 19, 0, &tp), 19);
	cr_expect_eq(lw_time_parse_iso("2026-11-27T12:30:05Z", 18, 0, &tp), 0);
	cr_expect_eq(lw_time_parse_iso("2026-11-27T12:30:05.5", 20, 0, &tp), 0);
}

Test(time, query_relative_units)
{
	int64_t now = 1000000LL * NS, ns = 0;

	cr_expect_eq(lw_time_parse_query("30s", now, &ns), LW_OK);
	cr_expect_eq(ns, now - 30 * NS);
	cr_expect_eq(lw_time_parse_query("15m", now, &ns), LW_OK);
	cr_expect_eq(ns, now - 900 * NS);
	cr_expect_eq(lw_time_parse_query("2h", now, &ns), LW_OK);
	cr_expect_eq(ns, now - 7200 * NS);
	cr_expect_eq(lw_time_parse_query("7d", now, &ns), LW_OK);
	cr_expect_eq(ns, now - 7 * 86400 * NS);
}

Test(time, query_absolute_and_errors)
{
	int64_t ns = 0;

	cr_expect_eq(lw_time_parse_query("2026-11-27T12:30:05Z", 0, &ns), LW_OK);
	cr_expect_eq(ns, 1795782605LL * NS);
	cr_expect_eq(lw_time_parse_query("", 0, &ns), LW_EINVAL);
	cr_expect_eq(lw_time_parse_query("15", 0, &ns), LW_EINVAL);
	cr_expect_eq(lw_time_parse_query("m", 0, &ns), LW_EINVAL);
	cr_expect_eq(lw_time_parse_query("15x", 0, &ns), LW_EINVAL);
	cr_expect_eq(lw_time_parse_query("15mm", 0, &ns), LW_EINVAL);
	cr_expect_eq(lw_time_parse_query("2026-11-27T12:30:05Z junk", 0, &ns), LW_EINVAL);
	cr_expect_eq(lw_time_parse_query("99999999999999999999d", 0, &ns), LW_EINVAL);
}

Test(time, format_microseconds_utc)
{
	expect_fmt(1795782605LL * NS + 123456789, "2026-11-27T12:30:05.123456Z");
	expect_fmt(0, "1970-01-01T00:00:00.000000Z");
	expect_fmt(-1, "1969-12-31T23:59:59.999999Z");
	expect_fmt(951782400LL * NS, "2000-02-29T00:00:00.000000Z");
}

Test(time, format_then_parse_round_trips)
{
	for (int64_t s = -5000000000LL; s < 5000000000LL; s += 123456789) {
		struct lw_buf b;
		int64_t ns = 0;

		lw_buf_init(&b);
		lw_time_format_rfc3339(s * NS + 654321000, &b);
		cr_assert_eq(lw_time_parse_rfc3339(b.data, b.len, &ns), b.len);
		cr_assert_eq(ns, s * NS + 654321000);
		lw_buf_release(&b);
	}
}

Test(time, now_is_recent)
{
	cr_expect_gt(lw_time_now_ns(), 1700000000LL * NS);
}

Test(time, years_outside_int64_ns_refused)
{
	int64_t ns = 0;

	cr_expect_eq(p3339("2262-01-01T00:00:00Z", &ns), 0);
	cr_expect_eq(p3339("1677-12-31T23:59:59Z", &ns), 0);
	cr_expect_eq(p3339("2261-12-31T23:59:59-23:59", &ns), 25);
	cr_expect_gt(ns, 0);
	cr_expect_eq(p3339("1678-01-01T00:00:00+23:59", &ns), 25);
	cr_expect_lt(ns, 0);
	cr_expect_eq(p3339("9999-12-31T23:59:59Z", &ns), 0);
}
