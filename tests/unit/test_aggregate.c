/* Unit tests for store/aggregate's renderings and step parsing: exact
 * text, JSON and CSV, with values an attacker chose (formulas, quotes,
 * commas, line breaks, terminal escapes). The counting itself is checked
 * against an oracle in test_qplan.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "store/aggregate.h"

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static char *render(void (*fn)(const struct lw_agg_result *, struct lw_buf *),
		    const struct lw_agg_result *r)
{
	static char out[4096];
	struct lw_buf b;

	lw_buf_init(&b);
	fn(r, &b);
	cr_assert(!b.oom);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
	lw_buf_release(&b);
	return out;
}

static struct lw_agg_value hostile[] = {
	{{"=HYPERLINK(\"http://x\")", 22}, 9, NULL},
	{{"+1", 2}, 8, NULL},
	{{"-2+3", 4}, 7, NULL},
	{{"@SUM(A1)", 8}, 6, NULL},
	{{"\tx", 2}, 5, NULL},
	{{"\rx", 2}, 4, NULL},
	{{"a,b", 3}, 3, NULL},
	{{"say \"hi\"", 8}, 2, NULL},
	{{"two\nlines", 9}, 1, NULL},
	{{"\x1b[31mred", 8}, 1, NULL},
};

static struct lw_agg_result count_by(void)
{
	struct lw_agg_result r = {.kind = LW_AGG_COUNT_BY, .field = "user.name",
				  .total = 50, .missing = 4, .distinct = 12,
				  .nvalues = 10, .values = hostile, .other = 3};

	return r;
}

Test(aggregate, csv_neutralises_formulas_and_quotes_per_rfc4180)
{
	struct lw_agg_result r = count_by();

	cr_expect_str_eq(render(lw_agg_to_csv, &r),
			 "user.name,count\r\n"
			 "\"'=HYPERLINK(\"\"http://x\"\")\",9\r\n"
			 "'+1,8\r\n"
			 "'-2+3,7\r\n"
			 "'@SUM(A1),6\r\n"
			 "\\x09x,5\r\n"
			 "\\x0dx,4\r\n"
			 "\"a,b\",3\r\n"
			 "\"say \"\"hi\"\"\",2\r\n"
			 "two\\x0alines,1\r\n"
			 "\\x1b[31mred,1\r\n");
}

Test(aggregate, csv_quotes_a_formula_that_needs_quoting_too)
{
	struct lw_agg_value v[] = {{{"=1,2", 4}, 1, NULL}, {{"-", 1}, 1, NULL}};
	struct lw_agg_result r = {.kind = LW_AGG_COUNT_BY, .field = "=evil", .total = 2,
				  .nvalues = 2, .values = v};

	cr_expect_str_eq(render(lw_agg_to_csv, &r), "'=evil,count\r\n\"'=1,2\",1\r\n'-,1\r\n");
}

Test(aggregate, json_escapes_every_value)
{
	struct lw_agg_result r = count_by();

	r.nvalues = 2;
	r.values = hostile + 7;
	cr_expect_str_eq(render(lw_agg_to_json, &r),
			 "{\"field\":\"user.name\",\"total\":50,\"missing\":4,\"distinct\":12,"
			 "\"values\":[{\"value\":\"say \\\"hi\\\"\",\"count\":2},"
			 "{\"value\":\"two\\nlines\",\"count\":1}],\"other\":3}\n");
}

Test(aggregate, text_shows_control_bytes_escaped_and_the_remainders)
{
	struct lw_agg_result r = count_by();

	r.nvalues = 2;
	r.values = hostile + 8;
	cr_expect_str_eq(render(lw_agg_to_text, &r),
			 "count  user.name\n"
			 "    1  two\\x0alines\n"
			 "    1  \\x1b[31mred\n"
			 "    3  (10 other values)\n"
			 "    4  (no user.name)\n"
			 "   50  events in all\n");
}

Test(aggregate, a_count_in_each_format)
{
	struct lw_agg_result r = {.kind = LW_AGG_COUNT, .total = 1234567};

	cr_expect_str_eq(render(lw_agg_to_text, &r), "1234567\n");
	cr_expect_str_eq(render(lw_agg_to_json, &r), "{\"count\":1234567}\n");
	cr_expect_str_eq(render(lw_agg_to_csv, &r), "count\r\n1234567\r\n");
}

Test(aggregate, histogram_in_each_format)
{
	uint64_t counts[3] = {5, 0, 7}, lg[3] = {3, 0, 1}, mn[3] = {1, 0, 6};
	uint64_t other[3] = {0, 0, 0}, none[3] = {1, 0, 0};
	struct lw_agg_value v[] = {{S("mynumber"), 7, mn}, {S("lgwan"), 4, lg}};
	/* 2025-12-01T09:00:00Z, one minute */
	struct lw_agg_result r = {.kind = LW_AGG_HISTOGRAM, .field = "labels.zone",
				  .total = 12, .missing = 1, .distinct = 2, .nvalues = 2,
				  .values = v, .step_ns = 60000000000LL,
				  .start_ns = 1764579600000000000LL, .nbuckets = 3,
				  .counts = counts, .other_series = other, .missing_series = none};

	cr_expect_str_eq(render(lw_agg_to_text, &r),
			 "time                  mynumber  lgwan  (none)\n"
			 "2025-12-01T09:00:00Z         1      3       1\n"
			 "2025-12-01T09:01:00Z         0      0       0\n"
			 "2025-12-01T09:02:00Z         6      1       0\n");
	cr_expect_str_eq(render(lw_agg_to_csv, &r),
			 "time,labels.zone,count\r\n"
			 "2025-12-01T09:00:00Z,mynumber,1\r\n2025-12-01T09:00:00Z,lgwan,3\r\n"
			 "2025-12-01T09:01:00Z,mynumber,0\r\n2025-12-01T09:01:00Z,lgwan,0\r\n"
			 "2025-12-01T09:02:00Z,mynumber,6\r\n2025-12-01T09:02:00Z,lgwan,1\r\n");
	cr_expect_str_eq(render(lw_agg_to_json, &r),
			 "{\"start\":\"2025-12-01T09:00:00Z\",\"step_s\":60,\"buckets\":3,"
			 "\"total\":12,\"counts\":[5,0,7],\"field\":\"labels.zone\",\"distinct\":2,"
			 "\"series\":[{\"value\":\"mynumber\",\"count\":7,\"counts\":[1,0,6]},"
			 "{\"value\":\"lgwan\",\"count\":4,\"counts\":[3,0,1]}],"
			 "\"other\":{\"count\":0,\"counts\":[0,0,0]},"
			 "\"missing\":{\"count\":1,\"counts\":[1,0,0]}}\n");
	r.field = NULL;
	cr_expect_str_eq(render(lw_agg_to_text, &r),
			 "time                  count\n"
			 "2025-12-01T09:00:00Z      5\n"
			 "2025-12-01T09:01:00Z      0\n"
			 "2025-12-01T09:02:00Z      7\n");
	cr_expect_str_eq(render(lw_agg_to_csv, &r),
			 "time,count\r\n2025-12-01T09:00:00Z,5\r\n2025-12-01T09:01:00Z,0\r\n"
			 "2025-12-01T09:02:00Z,7\r\n");
}

Test(aggregate, steps_parse_with_units)
{
	int64_t ns = 0;

	cr_expect_eq(lw_agg_parse_step("1m", &ns), LW_OK);
	cr_expect_eq(ns, 60000000000LL);
	cr_expect_eq(lw_agg_parse_step("30s", &ns), LW_OK);
	cr_expect_eq(ns, 30000000000LL);
	cr_expect_eq(lw_agg_parse_step("2h", &ns), LW_OK);
	cr_expect_eq(ns, 7200000000000LL);
	cr_expect_eq(lw_agg_parse_step("1d", &ns), LW_OK);
	cr_expect_eq(ns, 86400000000000LL);
	cr_expect_eq(lw_agg_parse_step("0m", &ns), LW_EINVAL);
	cr_expect_eq(lw_agg_parse_step("m", &ns), LW_EINVAL);
	cr_expect_eq(lw_agg_parse_step("5", &ns), LW_EINVAL);
	cr_expect_eq(lw_agg_parse_step("1w", &ns), LW_OK);
	cr_expect_eq(ns, 604800000000000LL);
	cr_expect_eq(lw_agg_parse_step("5x", &ns), LW_EINVAL);
	cr_expect_eq(lw_agg_parse_step("-5m", &ns), LW_EINVAL);
	cr_expect_eq(lw_agg_parse_step("99999999999999d", &ns), LW_EINVAL);
}
