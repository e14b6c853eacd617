/* The anomaly correlations (new_terms, value_sum, beaconing): each fires
 * exactly at the event where its documented condition first holds and
 * not one event, hour or percent before; their state survives a save and
 * restore, and stays within the memory budget (what does not fit is
 * counted). Oracle: event times and values chosen by hand around each
 * boundary (docs/rules.md "Anomaly correlations"). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/correlation.h"
#include "correlator/ruleset.h"

#define SEC 1000000000LL
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T0 (1795046400LL * SEC) /* a UTC midnight: whole hours and windows */

static const char detection[] =
	"title: A\nid: 00000000-0000-4000-8000-00000000000a\nname: rule_a\n"
	"level: informational\ntags: [logward.anomalous-outbound]\n"
	"logsource: {category: firewall}\n"
	"detection: {sel: {event.action: a}, condition: sel}\n"
	"---\n"
	"title: B\nid: 00000000-0000-4000-8000-00000000000b\nname: rule_b\n"
	"level: informational\ntags: [logward.anomalous-outbound]\n"
	"logsource: {category: firewall}\n"
	"detection: {sel: {event.action: a}, condition: sel}\n";

static const char decoders[] =
	"decoders:\n  - name: action\n    pattern: '^(?<event__action>\\S+)'\n";

struct fired {
	char rule[64];
	char group[512];
	uint64_t count;
	int64_t first, last;
	uint32_t nev;
};

static struct lw_ruleset *rs;
static struct lw_correlation *corr;
static struct lw_diags diags;
static struct fired fires[512];
static int nfires;
static uint64_t seq;

static void on_fire(const struct lw_incident_fire *f, void *arg)
{
	struct fired *x;

	(void)arg;
	cr_assert_lt(nfires, 512);
	x = &fires[nfires++];
	snprintf(x->rule, sizeof(x->rule), "%s", f->rule->name);
	snprintf(x->group, sizeof(x->group), "%s", f->group);
	x->count = f->count;
	x->first = f->first_seen_ns;
	x->last = f->last_seen_ns;
	x->nev = f->nevidence;
}

/* Loads the correlation rule yaml; the number of errors it must give. */
static void load_expecting(const char *yaml, size_t errors)
{
	char buf[1024];

	lw_diags_init(&diags);
	rs = lw_ruleset_new(NULL);
	cr_assert_not_null(rs);
	cr_assert_eq(lw_ruleset_load_decoders_string(rs, "dec.yml", decoders,
						     sizeof(decoders) - 1, &diags), LW_OK);
	cr_assert_eq(lw_ruleset_load_detection_string(rs, "det.yml", detection,
						      sizeof(detection) - 1, &diags), LW_OK);
	lw_ruleset_load_correlation_string(rs, "corr.yml", yaml, strlen(yaml), &diags);
	lw_ruleset_build(rs, &diags);
	for (size_t i = 0; i < diags.count; i++) {
		lw_diags_format(&diags.items[i], buf, sizeof(buf));
		cr_log_info("%s", buf);
	}
	cr_assert_eq(diags.nerrors, errors, "%zu errors", diags.nerrors);
	corr = lw_correlation_new(rs);
	cr_assert_not_null(corr);
	nfires = 0;
	seq = 0;
}

static void load(const char *yaml)
{
	load_expecting(yaml, 0);
}

static void teardown(void)
{
	lw_correlation_free(corr);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	corr = NULL;
	rs = NULL;
}

TestSuite(anomaly, .fini = teardown);

/* A connection from src to dst of `bytes` bytes sent, at ts, matching
 * rule_a (bytes NULL: no byte count). */
static void conn(int64_t ts, const char *src, const char *dst, const char *bytes)
{
	struct lw_field f[3];
	struct lw_event ev;
	uint32_t m[2] = {(uint32_t)lw_ruleset_find(rs, "rule_a"),
			 (uint32_t)lw_ruleset_find(rs, "rule_b")};

	memset(&ev, 0, sizeof(ev));
	ev.timestamp_ns = ev.created_ns = ts;
	ev.host = LW_STR_LIT("fw01");
	ev.facility = ev.severity = LW_SYSLOG_NONE;
	f[0] = (struct lw_field){LW_STR_LIT("source.ip"), {src, (uint32_t)strlen(src)}};
	f[1] = (struct lw_field){LW_STR_LIT("destination.ip"), {dst, (uint32_t)strlen(dst)}};
	f[2] = (struct lw_field){LW_STR_LIT("source.bytes"),
				 {bytes ? bytes : "", bytes ? (uint32_t)strlen(bytes) : 0}};
	ev.fields = f;
	ev.nfields = bytes ? 3 : 2;
	/* Both rules match every connection: the windows that reference
	 * both must still take it once. */
	cr_assert_eq(lw_correlation_process(corr, &ev, seq++, m, 2, on_fire, NULL), LW_OK);
}

/* The state saved whole and restored into a fresh correlation, which
 * then replaces the running one (a restart). */
static void restart(void)
{
	struct lw_buf b;
	struct lw_correlation *c2 = lw_correlation_new(rs);

	cr_assert_not_null(c2);
	lw_buf_init(&b);
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	cr_assert_eq(lw_correlation_restore(c2, b.data, b.len, NULL), LW_OK);
	lw_buf_release(&b);
	lw_correlation_free(corr);
	corr = c2;
}

static uint64_t rule_bytes(void)
{
	struct lw_correlation_rule_stats s;

	lw_correlation_rule_stats(corr, 0, &s);
	return s.bytes;
}

/* ---- new_terms ---- */

static const char new_dest[] =
	"title: New destination\nid: 20000000-0000-4000-8000-000000000001\n"
	"name: nt\nlevel: high\n"
	"correlation: {type: new_terms, rules: [rule_a, rule_b], group-by: [source.ip],"
	" timespan: 2d, condition: {field: destination.ip}, learn: 1d}\n";

Test(anomaly, new_terms_fires_for_a_term_unseen_in_the_timespan_after_learning)
{
	load(new_dest);
	conn(T0, "10.1.0.5", "198.51.100.1", NULL);
	conn(T0 + HOUR, "10.1.0.5", "198.51.100.2", NULL);
	conn(T0 + DAY - SEC, "10.1.0.5", "198.51.100.4", NULL);
	cr_expect_eq(nfires, 0, "learning: a day not yet watched");
	conn(T0 + DAY, "10.1.0.5", "198.51.100.1", NULL);
	conn(T0 + DAY, "10.1.0.5", "198.51.100.4", NULL);
	cr_expect_eq(nfires, 0, "terms learnt are known");
	conn(T0 + DAY, "10.1.0.9", "198.51.100.77", NULL);
	cr_expect_eq(nfires, 0, "a group of its own learns on its own");
	conn(T0 + DAY, "10.1.0.5", "198.51.100.5", NULL);
	cr_assert_eq(nfires, 1, "the first term after a day of learning");
	cr_expect_str_eq(fires[0].group,
			 "{\"source.ip\":\"10.1.0.5\",\"destination.ip\":\"198.51.100.5\"}");
	cr_expect_eq(fires[0].count, 1, "the incident cites the new term's event only");
	cr_expect_eq(fires[0].first, T0 + DAY);
	cr_expect_eq(fires[0].nev, 1);
	conn(T0 + DAY + MIN, "10.1.0.5", "198.51.100.5", NULL);
	cr_expect_eq(nfires, 1, "seen once, known");
	/* 198.51.100.5 was last seen at hour 24: known through hour 71,
	 * new again at hour 72 (2 days). */
	conn(T0 + 3 * DAY - HOUR, "10.1.0.5", "198.51.100.5", NULL);
	cr_expect_eq(nfires, 1, "47 hours after: still known");
	conn(T0 + 3 * DAY + HOUR + MIN, "10.1.0.5", "198.51.100.1", NULL);
	cr_assert_eq(nfires, 2, "a term unseen for 2 days is new again");
	cr_expect(strstr(fires[1].group, "198.51.100.1") != NULL, "%s", fires[1].group);
	conn(T0 + 5 * DAY - 2 * HOUR, "10.1.0.5", "198.51.100.5", NULL);
	cr_expect_eq(nfires, 2, "refreshed at hour 71: known through hour 118");
	conn(T0 + 5 * DAY, "10.1.0.5", "198.51.100.2", NULL);
	cr_expect_eq(nfires, 3);
}

Test(anomaly, new_terms_state_survives_a_restart)
{
	load(new_dest);
	conn(T0, "10.1.0.5", "198.51.100.1", NULL);
	conn(T0 + DAY, "10.1.0.5", "198.51.100.2", NULL);
	cr_assert_eq(nfires, 1);
	restart();
	conn(T0 + DAY + HOUR, "10.1.0.5", "198.51.100.1", NULL);
	conn(T0 + DAY + HOUR, "10.1.0.5", "198.51.100.2", NULL);
	cr_expect_eq(nfires, 1, "both terms restored as known (%d)", nfires);
	conn(T0 + DAY + HOUR, "10.1.0.5", "198.51.100.3", NULL);
	cr_expect_eq(nfires, 2, "and learning is over: a new one fires");
	conn(T0 + DAY + HOUR, "10.1.0.6", "198.51.100.3", NULL);
	cr_expect_eq(nfires, 2, "a new group still learns");
}

/* A table of 8 slots holds 6 terms: the 7th pushes out the one seen
 * longest ago, which is then new again (the documented bound). */
Test(anomaly, new_terms_forgets_the_oldest_term_when_the_table_is_full)
{
	char dst[32];

	load("title: New destination\nid: 20000000-0000-4000-8000-000000000002\n"
	     "name: nt8\nlevel: high\n"
	     "correlation: {type: new_terms, rules: [rule_a], group-by: [source.ip],"
	     " timespan: 30d, condition: {field: destination.ip}, learn: 0s, terms: 8}\n");
	for (int i = 1; i <= 7; i++) {
		snprintf(dst, sizeof(dst), "192.0.2.%d", i);
		conn(T0 + i * HOUR, "10.1.0.5", dst, NULL);
	}
	cr_assert_eq(nfires, 7, "learn 0: every first sighting fires");
	for (int i = 2; i <= 7; i++) {
		snprintf(dst, sizeof(dst), "192.0.2.%d", i);
		conn(T0 + 8 * HOUR, "10.1.0.5", dst, NULL);
	}
	cr_expect_eq(nfires, 7, "the six newest are kept");
	conn(T0 + 9 * HOUR, "10.1.0.5", "192.0.2.1", NULL);
	cr_expect_eq(nfires, 8, "the oldest was forgotten");
}

/* A budget too small for many term tables: what does not fit is
 * refused and counted, the budget is never passed, and the groups that
 * are in still fire. */
Test(anomaly, new_terms_tables_stay_within_the_budget)
{
	struct lw_correlation_stats st;
	struct lw_correlation_rule_stats rst;
	char src[32];

	load("title: New destination\nid: 20000000-0000-4000-8000-000000000003\n"
	     "name: nt4k\nlevel: high\n"
	     "correlation: {type: new_terms, rules: [rule_a], group-by: [source.ip],"
	     " timespan: 30d, condition: {field: destination.ip}, learn: 0s,"
	     " terms: 4096}\n");
	lw_correlation_set_memory(corr, LW_CORRELATION_MIN_MEMORY);
	for (int i = 0; i < 100; i++) {
		snprintf(src, sizeof(src), "10.2.0.%d", i);
		conn(T0 + i * SEC, src, "192.0.2.1", NULL);
		lw_correlation_get_stats(corr, &st);
		cr_assert_leq(st.bytes, st.budget);
	}
	lw_correlation_rule_stats(corr, 0, &rst);
	cr_log_info("groups %llu not_admitted %llu evicted %llu bytes %llu fires %d",
		    (unsigned long long)rst.groups, (unsigned long long)rst.not_admitted,
		    (unsigned long long)rst.evicted, (unsigned long long)rst.bytes, nfires);
	cr_expect_gt(rst.not_admitted, 50, "a 32 KiB table each: most do not fit");
	cr_expect_eq(rst.evicted, 0, "a learnt term outweighs a source seen once");
	cr_expect_eq(rst.groups, 100 - rst.not_admitted);
	cr_expect_eq((uint64_t)nfires, rst.groups, "every admitted group fired");
	cr_expect_gt(rule_bytes(), rst.groups * 4096 * 8, "the tables are counted");
}

/* ---- value_sum ---- */

Test(anomaly, value_sum_fires_when_the_window_sum_reaches_the_threshold)
{
	load("title: Volume\nid: 20000000-0000-4000-8000-000000000010\n"
	     "name: vs\nlevel: high\n"
	     "correlation: {type: value_sum, rules: [rule_a, rule_b], group-by: [source.ip],"
	     " timespan: 10m, condition: {field: source.bytes, gte: 1000}}\n");
	conn(T0 + MIN, "10.1.0.5", "198.51.100.1", "600");
	conn(T0 + 2 * MIN, "10.1.0.5", "198.51.100.2", "399");
	conn(T0 + 3 * MIN, "10.1.0.5", "198.51.100.2", NULL);
	conn(T0 + 3 * MIN, "10.1.0.5", "198.51.100.2", "x12");
	cr_expect_eq(nfires, 0, "999 bytes; events without a number add nothing");
	/* The next window: the sum starts again. */
	conn(T0 + 10 * MIN, "10.1.0.5", "198.51.100.1", "999");
	cr_expect_eq(nfires, 0, "999 in the second window");
	conn(T0 + 19 * MIN, "10.1.0.5", "198.51.100.9", "1");
	cr_assert_eq(nfires, 1, "1000 reached");
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"10.1.0.5\"}");
	cr_expect_eq(fires[0].count, 2, "the window's two events");
	cr_expect_eq(fires[0].first, T0 + 10 * MIN);
	conn(T0 + 19 * MIN, "10.1.0.5", "198.51.100.9", "5000");
	cr_expect_eq(nfires, 1, "once per window");
	conn(T0 + 20 * MIN, "10.1.0.5", "198.51.100.9", "5000");
	cr_expect_eq(nfires, 2, "the next window fires on its own");
}

/* A firing held back by suppression keeps the group's sums: a window
 * firing on its first event (the group still in its record) is held,
 * the next window's sum is still exact, and the held firings come out
 * together when the suppression ends. */
Test(anomaly, value_sum_held_back_firings_keep_the_sums)
{
	struct lw_buf b;

	load("title: Volume\nid: 20000000-0000-4000-8000-000000000012\n"
	     "name: vsh\nlevel: high\n"
	     "correlation: {type: value_sum, rules: [rule_a], group-by: [source.ip],"
	     " timespan: 10m, condition: {field: source.bytes, gte: 1000}}\n"
	     "logward: {suppress: 1h}\n");
	conn(T0, "10.1.0.5", "198.51.100.1", "5000");
	cr_assert_eq(nfires, 1);
	conn(T0 + 10 * MIN, "10.1.0.5", "198.51.100.1", "5000");
	cr_expect_eq(nfires, 1, "held back");
	conn(T0 + 11 * MIN, "10.1.0.5", "198.51.100.1", "2000");
	conn(T0 + 20 * MIN, "10.1.0.5", "198.51.100.1", "500");
	conn(T0 + 21 * MIN, "10.1.0.5", "198.51.100.1", "499");
	conn(T0 + 22 * MIN, "10.1.0.5", "198.51.100.1", "1");
	/* The sums are saved and restored with the held firings. */
	lw_buf_init(&b);
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	lw_buf_release(&b);
	lw_correlation_advance(corr, T0 + 61 * MIN, on_fire, NULL);
	cr_assert_eq(nfires, 2, "the held firings, delivered together");
	cr_expect_eq(fires[1].count, 4, "the second window's firing event and the third's "
		     "three (the second window fired once)");
	cr_expect_eq(fires[1].first, T0 + 10 * MIN);
	cr_expect_eq(fires[1].last, T0 + 22 * MIN);
}

static const char baseline[] =
	"title: Volume above baseline\nid: 20000000-0000-4000-8000-000000000011\n"
	"name: vsb\nlevel: high\n"
	"correlation:\n  type: value_sum\n  rules: [rule_a]\n  group-by: [source.ip]\n"
	"  timespan: 10m\n  condition: {field: source.bytes, gte: 100}\n"
	"  baseline: {factor: 5, learn: 3, weight: 0.5, keep: 7d}\n";

/* Windows of 10 minutes, weight 0.5: the baseline after the windows
 * 50000, 50000, 200 is 25100; the 4th window (125500) is not above 5
 * times that. Learning: 3 windows before anything fires. */
static void baseline_windows(void)
{
	conn(T0, "10.1.0.5", "198.51.100.1", "50000");
	conn(T0 + 10 * MIN, "10.1.0.5", "198.51.100.1", "50000");
	cr_expect_eq(nfires, 0, "learning: two windows in the baseline");
	conn(T0 + 20 * MIN, "10.1.0.5", "198.51.100.1", "200");
	/* 50000, 50000, 200 -> baseline 50000, 50000, 25100 */
	conn(T0 + 30 * MIN, "10.1.0.5", "198.51.100.1", "125500");
	cr_expect_eq(nfires, 0, "5 x 25100 is not exceeded");
	/* baseline 25100 + 0.5 x (125500 - 25100) = 75300; nights without
	 * traffic do not lower it. */
}

Test(anomaly, value_sum_fires_above_factor_times_baseline_only)
{
	load(baseline);
	baseline_windows();
	conn(T0 + 14 * HOUR, "10.1.0.5", "198.51.100.1", "376500");
	cr_expect_eq(nfires, 0, "5 x 75300 = 376500: not above");
	conn(T0 + 14 * HOUR, "10.1.0.5", "203.0.113.7", "1");
	cr_assert_eq(nfires, 1, "one byte more");
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"10.1.0.5\"}");
}

Test(anomaly, value_sum_baseline_survives_a_restart)
{
	load(baseline);
	baseline_windows();
	restart();
	conn(T0 + 14 * HOUR, "10.1.0.5", "198.51.100.1", "376500");
	cr_expect_eq(nfires, 0, "the restored baseline: 75300");
	conn(T0 + 14 * HOUR, "10.1.0.5", "203.0.113.7", "1");
	cr_expect_eq(nfires, 1);
}

Test(anomaly, value_sum_threshold_is_a_floor_for_the_baseline)
{
	load(baseline);
	conn(T0, "10.1.0.5", "198.51.100.1", "1");
	conn(T0 + 10 * MIN, "10.1.0.5", "198.51.100.1", "1");
	conn(T0 + 20 * MIN, "10.1.0.5", "198.51.100.1", "1");
	conn(T0 + 30 * MIN, "10.1.0.5", "198.51.100.1", "99");
	cr_expect_eq(nfires, 0, "99 is 99 times the baseline, but under gte 100");
	conn(T0 + 30 * MIN, "10.1.0.5", "198.51.100.1", "1");
	cr_expect_eq(nfires, 1);
}

/* ---- beaconing ---- */

static const char beacon[] =
	"title: Beacon\nid: 20000000-0000-4000-8000-000000000020\n"
	"name: bc\nlevel: high\n"
	"correlation: {type: beaconing, rules: [rule_a, rule_b],"
	" group-by: [source.ip, destination.ip], timespan: 1h,"
	" condition: {gte: 6}, jitter: 10%, min_interval: 5s}\n";

/* Occurrences from src to dst at T0 + the running sum of gaps (s). */
static void series(int64_t start, const char *dst, const int *gaps, int n)
{
	int64_t ts = start;

	conn(ts, "10.1.0.5", dst, NULL);
	for (int i = 0; i < n; i++) {
		ts += gaps[i] * SEC;
		conn(ts, "10.1.0.5", dst, NULL);
	}
}

Test(anomaly, beaconing_fires_at_the_nth_regular_occurrence)
{
	static const int regular[] = {55, 65, 55, 65, 55};   /* cv 0.083 */
	static const int jittery[] = {52, 68, 52, 68, 52};   /* cv 0.133 */

	load(beacon);
	series(T0, "198.51.100.1", regular, 4);
	cr_expect_eq(nfires, 0, "five occurrences: one short");
	conn(T0 + 295 * SEC, "10.1.0.5", "198.51.100.1", NULL);
	cr_assert_eq(nfires, 1, "the sixth");
	cr_expect_str_eq(fires[0].group,
			 "{\"source.ip\":\"10.1.0.5\",\"destination.ip\":\"198.51.100.1\"}");
	cr_expect_eq(fires[0].count, 6);
	cr_expect_eq(fires[0].first, T0);
	series(T0, "198.51.100.2", jittery, 5);
	cr_expect_eq(nfires, 1, "jitter 13 %% is over 10 %%");
}

Test(anomaly, beaconing_merges_close_events_and_breaks_on_long_gaps)
{
	static const int with_pairs[] = {60, 2, 58, 60, 1, 59, 60}; /* 2 s, 1 s: same occurrence */
	static const int broken[] = {600, 600, 3601, 600, 600, 600};

	load(beacon);
	series(T0, "198.51.100.1", with_pairs, 6);
	cr_expect_eq(nfires, 0, "six occurrences in seven events... minus one");
	conn(T0 + 300 * SEC, "10.1.0.5", "198.51.100.1", NULL);
	cr_expect_eq(nfires, 1, "the sixth occurrence");
	series(T0, "198.51.100.3", broken, 6);
	cr_expect_eq(nfires, 1, "the gap over the timespan started a new series");
	conn(T0 + (600 * 2 + 3601 + 600 * 4) * SEC, "10.1.0.5", "198.51.100.3", NULL);
	conn(T0 + (600 * 2 + 3601 + 600 * 5) * SEC, "10.1.0.5", "198.51.100.3", NULL);
	cr_expect_eq(nfires, 2, "six after the break");
}

Test(anomaly, beaconing_series_survives_a_restart)
{
	static const int regular[] = {60, 60, 60};

	load(beacon);
	series(T0, "198.51.100.1", regular, 3);
	restart();
	conn(T0 + 240 * SEC, "10.1.0.5", "198.51.100.1", NULL);
	cr_expect_eq(nfires, 0, "five");
	conn(T0 + 300 * SEC, "10.1.0.5", "198.51.100.1", NULL);
	cr_expect_eq(nfires, 1, "four restored + two");
	cr_expect_eq(fires[0].count, 6);
}

/* Pairs seen once or twice stay in the group record (no block); under a
 * tiny budget, pairs are refused and counted, the budget holds, and a
 * beacon among them is still found (it keeps coming back). */
Test(anomaly, beaconing_state_is_bounded)
{
	struct lw_correlation_stats st;
	struct lw_correlation_rule_stats rst;
	char dst[32];

	load(beacon);
	lw_correlation_set_memory(corr, LW_CORRELATION_MIN_MEMORY);
	conn(T0, "10.1.0.5", "203.0.113.1", NULL);
	conn(T0 + 60 * SEC, "10.1.0.5", "203.0.113.1", NULL);
	lw_correlation_rule_stats(corr, 0, &rst);
	cr_expect_lt(rst.bytes, 1024, "a pair seen twice holds no block (%llu bytes)",
		     (unsigned long long)rst.bytes);
	/* 100 one-off pairs a second, and the beacon every minute: 12
	 * occurrences, so it fires at the 6th and (re-armed) the 11th. */
	for (int i = 0; i < 60000; i++) {
		int64_t ts = T0 + 120 * SEC + i * 10000000LL;

		if (i % 6000 == 0)
			conn(ts, "10.1.0.5", "203.0.113.1", NULL);
		snprintf(dst, sizeof(dst), "10.%d.%d.%d", 100 + (i >> 16), (i >> 8) & 255, i & 255);
		conn(ts, "10.9.0.1", dst, NULL);
	}
	lw_correlation_get_stats(corr, &st);
	cr_expect_leq(st.bytes, st.budget);
	lw_correlation_rule_stats(corr, 0, &rst);
	cr_log_info("groups %llu not_admitted %llu evicted %llu bytes %llu fires %d",
		    (unsigned long long)rst.groups, (unsigned long long)rst.not_admitted,
		    (unsigned long long)rst.evicted, (unsigned long long)rst.bytes, nfires);
	cr_expect_gt(rst.not_admitted, 30000, "most one-off pairs do not fit");
	cr_assert_eq(nfires, 2, "the beacon every 60 s is found (%d)", nfires);
	cr_expect(strstr(fires[0].group, "203.0.113.1") != NULL);
	cr_expect(strstr(fires[1].group, "203.0.113.1") != NULL);
}

/* ---- loading ---- */

Test(anomaly, misplaced_or_missing_parameters_are_errors)
{
	load_expecting(
		"title: x\nid: 20000000-0000-4000-8000-000000000030\nlevel: high\n"
		"correlation: {type: new_terms, rules: [rule_a], group-by: [source.ip],"
		" timespan: 1d, condition: {field: destination.ip}, jitter: 0.1}\n"
		"---\n"
		"title: x\nid: 20000000-0000-4000-8000-000000000031\nlevel: high\n"
		"correlation: {type: value_sum, rules: [rule_a], group-by: [source.ip],"
		" timespan: 10m, condition: {field: source.bytes}}\n"
		"---\n"
		"title: x\nid: 20000000-0000-4000-8000-000000000032\nlevel: high\n"
		"correlation: {type: beaconing, rules: [rule_a], group-by: [source.ip],"
		" timespan: 1h, condition: {gte: 2}}\n"
		"---\n"
		"title: x\nid: 20000000-0000-4000-8000-000000000033\nlevel: high\n"
		"correlation: {type: new_terms, rules: [rule_a], group-by: [source.ip],"
		" timespan: 1d, condition: {field: destination.ip}, terms: 100}\n"
		"---\n"
		"title: x\nid: 20000000-0000-4000-8000-000000000034\nlevel: high\n"
		"correlation: {type: value_sum, rules: [rule_a], group-by: [source.ip],"
		" timespan: 10m, condition: {field: source.bytes, lt: 5}}\n"
		"---\n"
		"title: ok\nid: 20000000-0000-4000-8000-000000000035\nlevel: high\n"
		"correlation: {type: value_sum, rules: [rule_a], group-by: [source.ip],"
		" timespan: 10m, condition: {field: source.bytes, gte: 5000000000}}\n",
		5);
	cr_expect_eq(lw_correlation_rule_count(corr), 1, "the valid one");
}
