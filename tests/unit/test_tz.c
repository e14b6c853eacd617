/* Unit tests for core/tz.c (lw_tz_*). Expected instants were computed with
 * Python's zoneinfo (fold=0) against the same tzdata files. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/time.h"
#include "core/tz.h"

static struct lw_tz *load(const char *name)
{
	struct lw_tz *tz = NULL;
	struct lw_diag diag;

	memset(&diag, 0, sizeof(diag));
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0)
		cr_skip_test("no tzdata installed");
	cr_assert_eq(lw_tz_load(name, &tz, &diag), LW_OK, "%s: %s", name, diag.detail);
	cr_assert_not_null(tz);
	return tz;
}

static int64_t local(int64_t y, unsigned mo, unsigned d, int h, int mi, int s)
{
	return lw_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

Test(tz, null_is_utc)
{
	cr_expect_eq(lw_tz_local_to_utc(NULL, 12345), 12345);
	cr_expect_eq(lw_tz_offset_at(NULL, 12345), 0);
	cr_expect_str_eq(lw_tz_name(NULL), "UTC");
}

Test(tz, tokyo_fixed_offset)
{
	struct lw_tz *tz = load("Asia/Tokyo");

	cr_expect_str_eq(lw_tz_name(tz), "Asia/Tokyo");
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2026, 11, 27, 21, 30, 5)), 1795782605);
	cr_expect_eq(lw_tz_offset_at(tz, 1795782605), 9 * 3600);
	/* 1950: Japan observed DST then (JDT, +10). */
	cr_expect_eq(lw_tz_local_to_utc(tz, local(1950, 7, 1, 12, 0, 0)), -615506400);
	/* Before the first transition: local mean time +09:18:59. */
	cr_expect_eq(lw_tz_local_to_utc(tz, local(1800, 1, 1, 0, 0, 0)), -5364695939LL);
	lw_tz_free(tz);
}

Test(tz, berlin_spring_forward_edges)
{
	struct lw_tz *tz = load("Europe/Berlin");

	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 3, 26, 1, 59, 59)), 1143334799);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 3, 26, 3, 0, 0)), 1143334800);
	/* 02:30 does not exist: read with the offset before the change. */
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 3, 26, 2, 30, 0)),
		     local(2006, 3, 26, 2, 30, 0) - 3600);
	lw_tz_free(tz);
}

Test(tz, berlin_fall_back_ambiguous_picks_earlier)
{
	struct lw_tz *tz = load("Europe/Berlin");

	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 10, 29, 2, 30, 0)), 1162081800);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 10, 29, 3, 0, 0)), 1162087200);
	cr_expect_eq(lw_tz_offset_at(tz, 1162081800), 7200);
	cr_expect_eq(lw_tz_offset_at(tz, 1162085400), 3600);
	lw_tz_free(tz);
}

Test(tz, berlin_after_last_transition_uses_posix_rule)
{
	struct lw_tz *tz = load("Europe/Berlin");

	cr_expect_eq(lw_tz_local_to_utc(tz, local(2100, 7, 1, 12, 0, 0)), 4118119200);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2100, 1, 1, 12, 0, 0)), 4102484400);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2100, 3, 28, 2, 30, 0)), 4109880600);
	lw_tz_free(tz);
}

Test(tz, sydney_southern_hemisphere)
{
	struct lw_tz *tz = load("Australia/Sydney");

	cr_expect_eq(lw_tz_local_to_utc(tz, local(2024, 1, 15, 12, 0, 0)), 1705280400);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2024, 7, 15, 12, 0, 0)), 1721008800);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2200, 1, 15, 12, 0, 0)), 7259331600);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2200, 7, 15, 12, 0, 0)), 7274973600);
	lw_tz_free(tz);
}

Test(tz, new_york_edges)
{
	struct lw_tz *tz = load("America/New_York");

	cr_expect_eq(lw_tz_local_to_utc(tz, local(2024, 3, 10, 1, 59, 59)), 1710053999);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2024, 3, 10, 3, 0, 0)), 1710054000);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2024, 11, 3, 1, 30, 0)), 1730611800);
	lw_tz_free(tz);
}

Test(tz, unknown_zone_is_not_found_with_diag)
{
	struct lw_tz *tz = (struct lw_tz *)1;
	struct lw_diag diag;

	memset(&diag, 0, sizeof(diag));
	cr_expect_eq(lw_tz_load("Mars/Olympus_Mons", &tz, &diag), LW_ENOTFOUND);
	cr_expect_null(tz);
	cr_expect_neq(strstr(diag.detail, "Mars/Olympus_Mons"), NULL, "%s", diag.detail);
}

Test(tz, dotdot_refused)
{
	struct lw_tz *tz = NULL;

	cr_expect_eq(lw_tz_load("../../etc/passwd", &tz, NULL), LW_EINVAL);
	cr_expect_null(tz);
}

Test(tz, non_tzif_file_is_parse_error)
{
	struct lw_tz *tz = NULL;

	cr_expect_eq(lw_tz_load("/etc/hostname", &tz, NULL), LW_EPARSE);
	cr_expect_null(tz);
	cr_expect_eq(lw_tz_load("/", &tz, NULL), LW_EPARSE);
}

Test(tz, localtime_loads)
{
	struct lw_tz *tz = NULL;

	if (access("/etc/localtime", R_OK) != 0)
		cr_skip_test("no /etc/localtime");
	cr_expect_eq(lw_tz_load("", &tz, NULL), LW_OK);
	cr_expect_str_eq(lw_tz_name(tz), "localtime");
	lw_tz_free(tz);
	cr_expect_eq(lw_tz_load(NULL, &tz, NULL), LW_OK);
	lw_tz_free(tz);
}

/* A hand-built v2 file: one type, no transitions, footer rule only. */
static size_t build_rule_only(unsigned char *b, const char *rule)
{
	size_t n = 0;

	memset(b, 0, 200);
	/* v1 header: typecnt 1, charcnt 4 */
	memcpy(b, "TZif2", 5);
	b[39] = 1;
	b[43] = 4;
	n = 44;
	b[n + 0] = 0; b[n + 1] = 0; b[n + 2] = 0x0e; b[n + 3] = 0x10; /* +3600 */
	n += 6;
	memcpy(b + n, "CET", 4);
	n += 4;
	memcpy(b + n, b, 44);
	n += 44;
	b[n + 0] = 0; b[n + 1] = 0; b[n + 2] = 0x0e; b[n + 3] = 0x10;
	n += 6;
	memcpy(b + n, "CET", 4);
	n += 4;
	b[n++] = '\n';
	memcpy(b + n, rule, strlen(rule));
	n += strlen(rule);
	b[n++] = '\n';
	return n;
}

Test(tz, rule_only_file_follows_rule)
{
	unsigned char b[200];
	size_t n = build_rule_only(b, "CET-1CEST,M3.5.0,M10.5.0/3");
	struct lw_tz *tz = NULL;

	cr_assert_eq(lw_tz_parse(b, n, "test", &tz, NULL), LW_OK);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 3, 26, 1, 59, 59)), 1143334799);
	cr_expect_eq(lw_tz_local_to_utc(tz, local(2006, 10, 29, 2, 30, 0)), 1162081800);
	cr_expect_eq(lw_tz_offset_at(tz, 1162085400), 3600);
	lw_tz_free(tz);
}

Test(tz, rule_with_quoted_names_and_julian_days)
{
	unsigned char b[200];
	size_t n = build_rule_only(b, "<+03>-3");
	struct lw_tz *tz = NULL;

	cr_assert_eq(lw_tz_parse(b, n, "q", &tz, NULL), LW_OK);
	cr_expect_eq(lw_tz_offset_at(tz, 0), 3 * 3600);
	lw_tz_free(tz);
	n = build_rule_only(b, "XST5XDT,J60/2,J300/2");
	cr_assert_eq(lw_tz_parse(b, n, "j", &tz, NULL), LW_OK);
	/* 2023-03-01 is J60: DST (-4 h) from 02:00 local. */
	cr_expect_eq(lw_tz_offset_at(tz, local(2023, 3, 1, 12, 0, 0)), -4 * 3600);
	cr_expect_eq(lw_tz_offset_at(tz, local(2023, 2, 27, 12, 0, 0)), -5 * 3600);
	lw_tz_free(tz);
}

Test(tz, bad_rule_is_parse_error)
{
	unsigned char b[200];
	size_t n = build_rule_only(b, "CET-1CEST,M13.5.0,M10.5.0");
	struct lw_tz *tz = NULL;

	cr_expect_eq(lw_tz_parse(b, n, "bad", &tz, NULL), LW_EPARSE);
	cr_expect_null(tz);
}

Test(tz, truncated_files_are_rejected)
{
	unsigned char b[200];
	size_t n = build_rule_only(b, "JST-9");
	struct lw_tz *tz = NULL;

	for (size_t cut = 0; cut < 98; cut++) {
		cr_expect_eq(lw_tz_parse(b, cut, "cut", &tz, NULL), LW_EPARSE, "cut %zu", cut);
		cr_expect_null(tz);
	}
	cr_expect_eq(lw_tz_parse(b, n, "ok", &tz, NULL), LW_OK);
	lw_tz_free(tz);
}

Test(tz, free_null_is_noop)
{
	lw_tz_free(NULL);
}
