/* The audit report's numbers (report/facts.h) read from a real store
 * built here, with exact expected values: per-zone per-day counts,
 * sources with first/last, gaps and silence, clock skew, incidents with
 * their times to acknowledge and close and their false positives, and
 * the words and escaping of the document built from them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "report/facts.h"
#include "report/html.h"
#include "report/report.h"
#include "store/incidents.h"
#include "store/store.h"

#define NS 1000000000LL
#define H (3600 * NS)
#define DAY0 1764547200LL /* 2025-12-01T00:00:00Z */

static char dir[64];
static struct lw_store *st;

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static void add(struct lw_segment_builder *b, const char *host, const char *zone,
		int64_t ts, unsigned flags)
{
	struct lw_event ev = {.timestamp_ns = ts, .created_ns = ts, .host = S(host),
			      .zone = S(zone), .message = S("m"), .flags = (uint16_t)flags,
			      .facility = LW_SYSLOG_NONE, .severity = LW_SYSLOG_NONE};

	cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
}

/* Day 0 and day 1 (UTC):
 *   web01 (lgwan)  every hour of both days, written out of order over
 *                  two segments: 48 events, no gap
 *   web02 (lgwan)  day 0 01:00-03:00 and 12:00: a 9 h gap; 4 events
 *   mn-db (mynumber) day 0 02:00 twice and 05:00 flagged skewed: silent
 *   old  (lgwan)   one event before the period: silent, 0 events */
static void build_store(void)
{
	int64_t t0 = DAY0 * NS;
	struct lw_segment_builder *b = lw_segment_builder_new();

	snprintf(dir, sizeof(dir), "/tmp/lw-facts-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, NULL), LW_OK);
	add(b, "old", "lgwan", t0 - 30 * H, 0);
	for (int h = 47; h >= 24; h--)
		add(b, "web01", "lgwan", t0 + h * H, 0);
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
	for (int h = 0; h < 24; h++)
		add(b, "web01", "lgwan", t0 + h * H, 0);
	for (int h = 1; h <= 3; h++)
		add(b, "web02", "lgwan", t0 + h * H, 0);
	add(b, "web02", "lgwan", t0 + 12 * H, 0);
	add(b, "mn-db", "mynumber", t0 + 2 * H, 0);
	add(b, "mn-db", "mynumber", t0 + 2 * H, 0);
	add(b, "mn-db", "mynumber", t0 + 5 * H, LW_EVENT_CLOCK_SKEW);
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
	lw_segment_builder_free(b);
}

static void drop_store(void)
{
	char cmd[128];

	lw_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct lw_facts_opts period(void)
{
	struct lw_facts_opts o = {.from_ns = DAY0 * NS, .to_ns = (DAY0 + 2 * 86400) * NS,
				  .now_ns = (DAY0 + 20 * 86400) * NS, .gap_ns = 6 * H,
				  .silent_ns = 24 * H, .open_ns = 7 * 24 * H};

	return o;
}

static const struct lw_facts_source *source(const struct lw_facts *f, const char *host)
{
	for (size_t i = 0; i < f->nsources; i++)
		if (strcmp(f->sources[i].host, host) == 0)
			return &f->sources[i];
	cr_assert_fail("no source %s", host);
	return NULL;
}

static uint64_t zone_day(const struct lw_facts *f, const char *zone, uint32_t day)
{
	for (size_t z = 0; z < f->nzones; z++)
		if (strcmp(f->zones[z], zone) == 0)
			return f->zone_days[z * f->ndays + day];
	return 0;
}

Test(facts, sources_zones_gaps_silence_and_skew_are_exact)
{
	struct lw_facts_opts o = period();
	struct lw_facts *f;
	const struct lw_facts_source *s;

	build_store();
	cr_assert_eq(lw_facts_read(st, &o, &f, NULL), LW_OK);
	cr_expect_eq(f->events, 55);
	cr_expect_eq(f->ndays, 2);
	cr_expect_eq(zone_day(f, "lgwan", 0), 28);
	cr_expect_eq(zone_day(f, "lgwan", 1), 24);
	cr_expect_eq(zone_day(f, "mynumber", 0), 3);
	cr_expect_eq(zone_day(f, "mynumber", 1), 0);
	cr_expect_eq(f->nsources, 4);
	cr_expect_str_eq(f->sources[0].host, "mn-db", "sorted by name");
	s = source(f, "web01");
	cr_expect_eq(s->events, 48);
	cr_expect_eq(s->first_ns, DAY0 * NS);
	cr_expect_eq(s->last_ns, DAY0 * NS + 47 * H);
	cr_expect_eq(s->ngaps, 0);
	cr_expect_eq(s->silent, 0);
	s = source(f, "web02");
	cr_expect_eq(s->events, 4);
	cr_assert_eq(s->ngaps, 1);
	cr_expect_eq(s->gaps[0].start_ns, DAY0 * NS + 3 * H);
	cr_expect_eq(s->gaps[0].end_ns, DAY0 * NS + 12 * H);
	cr_expect_eq(s->silent, 1, "last event 36 h before the end");
	s = source(f, "mn-db");
	cr_expect_eq(s->events, 3);
	cr_expect_eq(s->skewed, 1);
	cr_expect_str_eq(s->zone, "mynumber");
	cr_expect_eq(s->ngaps, 0, "3 h apart is no gap under 6 h");
	s = source(f, "old");
	cr_expect_eq(s->events, 0);
	cr_expect_eq(s->silent, 1);
	cr_expect_eq(f->verify_rc, LW_OK);
	cr_expect_eq(f->verify.events, 56, "verify covers the whole store");
	lw_facts_free(f);
	drop_store();
}

static void raise(const char *rule, const char *group, int64_t first)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_incidents_raise r = {.rule_id = rule, .rule_title = rule,
				       .rule_level = "high", .category = "dos", .level = "high",
				       .response = "{}", .group = group, .first_seen_ns = first,
				       .last_seen_ns = first, .count = 1};
	struct lw_store_commit_extra x = {.raises = &r, .nraises = 1, .now_ns = first};

	cr_assert_eq(lw_store_commit_ex(st, b, &x, NULL, NULL), LW_OK);
	lw_segment_builder_free(b);
}

Test(facts, incidents_response_times_and_false_positives)
{
	struct lw_facts_opts o = period();
	struct lw_facts *f;
	int64_t t0 = DAY0 * NS;

	build_store();
	raise("r1", "{\"a\":\"1\"}", t0 + H);
	raise("r1", "{\"a\":\"2\"}", t0 + 2 * H);
	raise("r1", "{\"a\":\"3\"}", t0 + 3 * H);
	raise("r2", "{\"a\":\"4\"}", t0 + 4 * H);
	raise("r2", "{\"a\":\"5\"}", t0 - 5 * 86400 * NS); /* before the period */
	/* 1: ack after 1 h, closed as a false positive after 3 h */
	cr_assert_eq(lw_incidents_set_status(st, 1, LW_INCIDENTS_ACKNOWLEDGED, "a", NULL,
					     t0 + 2 * H, NULL, NULL), LW_OK);
	cr_assert_eq(lw_incidents_set_status(st, 1, LW_INCIDENTS_CLOSED, "a",
					     "誤検知: backup job", t0 + 4 * H, NULL, NULL), LW_OK);
	/* 2: closed directly after 2 h, "False Positive" */
	cr_assert_eq(lw_incidents_set_status(st, 2, LW_INCIDENTS_CLOSED, "a",
					     "False Positive", t0 + 4 * H, NULL, NULL), LW_OK);
	/* 3: ack after 5 h, left open; 4: untouched */
	cr_assert_eq(lw_incidents_set_status(st, 3, LW_INCIDENTS_ACKNOWLEDGED, "a", "looking",
					     t0 + 8 * H, NULL, NULL), LW_OK);
	cr_assert_eq(lw_facts_read(st, &o, &f, NULL), LW_OK);
	cr_assert_eq(f->nincidents, 4, "the one before the period is left out");
	cr_expect_eq(f->incidents[0].ack_ns - f->incidents[0].opened_ns, H);
	cr_expect_eq(f->incidents[0].closed_ns - f->incidents[0].opened_ns, 3 * H);
	cr_expect_eq(f->incidents[0].false_positive, 1);
	cr_expect_eq(f->incidents[1].ack_ns - f->incidents[1].opened_ns, 2 * H,
		     "closing unacknowledged acknowledges");
	cr_expect_eq(f->incidents[1].false_positive, 1);
	cr_expect_eq(f->incidents[2].closed_ns, 0);
	cr_expect_eq(f->incidents[3].ack_ns, 0);
	cr_assert_eq(f->nrules_fp, 1);
	cr_expect_str_eq(f->rules_fp[0].rule_id, "r1");
	cr_expect_eq(f->rules_fp[0].closed, 2);
	cr_expect_eq(f->rules_fp[0].false_positives, 2);
	lw_facts_free(f);
	drop_store();
}

Test(facts, percentile_is_nearest_rank)
{
	int64_t v[] = {50, 10, 40, 20, 30, 60, 70, 80, 90, 100};

	cr_expect_eq(lw_facts_percentile(v, 10, 50), 50);
	cr_expect_eq(lw_facts_percentile(v, 10, 90), 90);
	cr_expect_eq(lw_facts_percentile(v, 1, 90), 10);
	cr_expect_eq(lw_facts_percentile(v, 0, 50), 0);
}

Test(facts, false_positive_notes)
{
	cr_expect(lw_facts_note_is_false_positive("FALSE POSITIVE", 14));
	cr_expect(lw_facts_note_is_false_positive("was a false-positive.", 21));
	cr_expect(lw_facts_note_is_false_positive("過検知のため", strlen("過検知のため")));
	cr_expect(!lw_facts_note_is_false_positive("blocked at the border", 21));
	cr_expect(!lw_facts_note_is_false_positive("false", 5));
	cr_expect(!lw_facts_note_is_false_positive(NULL, 0));
}

static char *render_html(const struct lw_facts *f, int english)
{
	struct lw_report_opts ro = {.english = english, .generated_ns = f->opts.now_ns};
	struct lw_doc *d;
	struct lw_buf b;
	char *s;

	cr_assert_eq(lw_report_build(f, &ro, &d), LW_OK);
	lw_buf_init(&b);
	cr_assert_eq(lw_html_render(d, &b), LW_OK);
	lw_buf_putc(&b, '\0');
	s = strdup(b.data);
	lw_buf_release(&b);
	lw_doc_free(d);
	return s;
}

Test(facts, report_words_findings_and_escapes_host_names)
{
	struct lw_facts_opts o = period();
	struct lw_facts *f;
	struct lw_segment_builder *b;
	char *ja, *en;

	build_store();
	b = lw_segment_builder_new();
	add(b, "<script>alert(1)</script>", "lgwan", DAY0 * NS + 30 * H, 0);
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
	lw_segment_builder_free(b);
	cr_assert_eq(lw_facts_read(st, &o, &f, NULL), LW_OK);
	ja = render_html(f, 0);
	en = render_html(f, 1);
	cr_expect_null(strstr(ja, "<script"), "a host name never becomes markup");
	cr_expect_not_null(strstr(ja, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	cr_expect_not_null(strstr(ja, "<html lang=\"ja\">"));
	cr_expect_not_null(strstr(ja, "検出事項"));
	cr_expect_not_null(strstr(ja, "期間の終わりに停止していた送信元 (3): mn-db, old, web02"));
	cr_expect_not_null(strstr(ja, "期間内にログの途絶があった送信元 (1): web02"));
	cr_expect_not_null(strstr(ja, "時刻がずれている送信元 (1): mn-db"));
	cr_expect_not_null(strstr(ja, "鍵付き改ざん検知が有効になっていない"));
	cr_expect_not_null(strstr(en, "Sources with gaps in the period (1): web02"));
	cr_expect_not_null(strstr(en, "<svg"), "the zones chart");
	free(ja);
	free(en);
	lw_facts_free(f);
	drop_store();
}
