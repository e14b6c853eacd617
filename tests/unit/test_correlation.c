/* lw_correlation: sliding windows on event time (event_count, value_count,
 * temporal, temporal_ordered, absence), suppression, bounded group tables,
 * direct firing of unreferenced detection rules, and the saved state.
 * Oracle: hand-computed firings for event times chosen so that sliding and
 * fixed windows disagree. Matches are given directly (no decoders). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/correlation.h"
#include "correlator/correlation_int.h"
#include "correlator/ruleset.h"

#define SEC 1000000000LL
#define T0 (1795000000LL * SEC) /* a minute boundary: 1795000000 % 60 == 40, see t() */

/* Event time at minute m, second s after a whole minute. */
static int64_t t(int m, int s)
{
	int64_t base = T0 - (T0 / SEC % 60) * SEC;

	return base + ((int64_t)m * 60 + s) * SEC;
}

static const char detection[] =
	"title: A\nid: 00000000-0000-4000-8000-00000000000a\nname: rule_a\n"
	"level: informational\ntags: [logward.unauthorized-access]\n"
	"logsource: {product: linux}\n"
	"detection: {sel: {event.action: a}, condition: sel}\n"
	"---\n"
	"title: B\nid: 00000000-0000-4000-8000-00000000000b\nname: rule_b\n"
	"level: informational\ntags: [logward.unauthorized-access]\n"
	"logsource: {product: linux}\n"
	"detection: {sel: {event.action: b}, condition: sel}\n"
	"---\n"
	"title: Direct\nid: 00000000-0000-4000-8000-00000000000d\nname: rule_d\n"
	"level: high\ntags: [logward.malware]\n"
	"logsource: {product: linux}\n"
	"detection: {sel: {event.action: d}, condition: sel}\n";

/* Makes event.action a field some decoder produces, so the rules above
 * are not folded away as "never matches". */
static const char decoders[] =
	"decoders:\n  - name: action\n    pattern: '^(?<event__action>\\S+)'\n";

struct fired {
	char rule[64];
	char group[512];
	char host[256];
	uint64_t count;
	int64_t first, last;
	uint32_t nev;
	uint64_t ev0, evn;
};

static struct lw_ruleset *rs;
static struct lw_correlation *corr;
static struct lw_diags diags;
static struct fired fires[256];
static int nfires;
static uint64_t seq;

static void on_fire(const struct lw_incident_fire *f, void *arg)
{
	struct fired *x;

	(void)arg;
	cr_assert_lt(nfires, 256);
	x = &fires[nfires++];
	snprintf(x->rule, sizeof(x->rule), "%s", f->rule->name ? f->rule->name : f->rule->id);
	snprintf(x->group, sizeof(x->group), "%s", f->group);
	snprintf(x->host, sizeof(x->host), "%s", f->host);
	x->count = f->count;
	x->first = f->first_seen_ns;
	x->last = f->last_seen_ns;
	x->nev = f->nevidence;
	x->ev0 = f->nevidence ? f->evidence[0] : 0;
	x->evn = f->nevidence ? f->evidence[f->nevidence - 1] : 0;
	cr_expect_not_null(f->response_json);
}

static void load(const char *corr_yaml)
{
	char buf[1024];

	lw_diags_init(&diags);
	rs = lw_ruleset_new(NULL);
	cr_assert_not_null(rs);
	cr_assert_eq(lw_ruleset_load_decoders_string(rs, "dec.yml", decoders,
						     sizeof(decoders) - 1, &diags), LW_OK);
	cr_assert_eq(lw_ruleset_load_detection_string(rs, "det.yml", detection,
						      sizeof(detection) - 1, &diags), LW_OK);
	if (corr_yaml != NULL)
		lw_ruleset_load_correlation_string(rs, "corr.yml", corr_yaml,
						   strlen(corr_yaml), &diags);
	lw_ruleset_build(rs, &diags);
	for (size_t i = 0; i < diags.count; i++) {
		lw_diags_format(&diags.items[i], buf, sizeof(buf));
		cr_log_info("%s", buf);
	}
	cr_assert_eq(diags.nerrors, 0, "the rules load");
	corr = lw_correlation_new(rs);
	cr_assert_not_null(corr);
	nfires = 0;
	seq = 0;
}

static void teardown(void)
{
	lw_correlation_free(corr);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	corr = NULL;
	rs = NULL;
}

TestSuite(correlation, .fini = teardown);

/* One event at time ts from host with source.ip / user.name, matching
 * the rules named in `rules` ("a", "b", "ab", "d", ""). */
static void feed_flags(int64_t ts, const char *host, const char *ip, const char *user,
		       const char *rules, uint32_t flags)
{
	struct lw_field f[2];
	struct lw_event ev;
	uint32_t m[3], n = 0;

	memset(&ev, 0, sizeof(ev));
	ev.timestamp_ns = ev.created_ns = ts;
	ev.flags = flags;
	ev.host = (struct lw_str){host, (uint32_t)strlen(host)};
	ev.facility = ev.severity = LW_SYSLOG_NONE;
	f[0] = (struct lw_field){LW_STR_LIT("source.ip"), {ip, (uint32_t)strlen(ip)}};
	f[1] = (struct lw_field){LW_STR_LIT("user.name"), {user, (uint32_t)strlen(user)}};
	ev.fields = f;
	ev.nfields = 2;
	for (const char *r = rules; *r; r++) {
		char name[8];
		snprintf(name, sizeof(name), "rule_%c", *r);
		m[n++] = (uint32_t)lw_ruleset_find(rs, name);
	}
	cr_assert_eq(lw_correlation_process(corr, &ev, seq++, m, n, on_fire, NULL), LW_OK);
}

static void feed(int64_t ts, const char *host, const char *ip, const char *user,
		 const char *rules)
{
	feed_flags(ts, host, ip, user, rules, 0);
}

static int count_fires(const char *rule)
{
	int n = 0;

	for (int i = 0; i < nfires; i++)
		n += strcmp(fires[i].rule, rule) == 0;
	return n;
}

static const char ec5[] =
	"title: five in a minute\nid: 10000000-0000-4000-8000-000000000001\n"
	"name: c_count\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a], group-by: [source.ip],"
	" timespan: 1m, condition: {gte: 5}}\n";

Test(correlation, event_count_window_slides_across_fixed_bins)
{
	load(ec5);
	/* 0:40 0:45 0:50 0:55 | 1:00: fixed one-minute bins hold 4 and 1,
	 * the sliding minute ending at 1:00 holds all five. */
	feed(t(0, 40), "h", "203.0.113.5", "u", "a");
	feed(t(0, 45), "h", "203.0.113.5", "u", "a");
	feed(t(0, 50), "h", "203.0.113.5", "u", "a");
	feed(t(0, 55), "h", "203.0.113.5", "u", "a");
	cr_expect_eq(nfires, 0);
	feed(t(1, 0), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].rule, "c_count");
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"203.0.113.5\"}");
	cr_expect_str_eq(fires[0].host, "h");
	cr_expect_eq(fires[0].count, 5);
	cr_expect_eq(fires[0].first, t(0, 40));
	cr_expect_eq(fires[0].last, t(1, 0));
	cr_expect_eq(fires[0].nev, 5);
	cr_expect_eq(fires[0].ev0, 0);
	cr_expect_eq(fires[0].evn, 4);
}

Test(correlation, event_count_old_events_leave_the_window)
{
	load(ec5);
	/* Every 20 s: any minute-long window holds at most 3 (or 4 with
	 * both ends, but the window is half-open: (t - 1m, t]). */
	for (int i = 0; i < 10; i++)
		feed(t(0, 0) + i * 20 * SEC, "h", "203.0.113.5", "u", "a");
	cr_expect_eq(nfires, 0);
	/* Other groups and other rules do not count. */
	feed(t(3, 0), "h", "203.0.113.6", "u", "a");
	feed(t(3, 1), "h", "203.0.113.5", "u", "b");
	cr_expect_eq(nfires, 0);
}

Test(correlation, event_count_rearms_after_firing)
{
	load(ec5);
	for (int i = 0; i < 10; i++)
		feed(t(0, i), "h", "203.0.113.5", "u", "a");
	cr_expect_eq(nfires, 2, "one firing per five events, not one per event");
	cr_expect_eq(fires[1].count, 5);
	cr_expect_eq(fires[1].ev0, 5);
}

Test(correlation, value_count_counts_distinct_values)
{
	load("title: spray\nid: 10000000-0000-4000-8000-000000000002\nname: c_spray\n"
	     "level: high\ncorrelation: {type: value_count, rules: [rule_a],"
	     " group-by: [source.ip], timespan: 10m, condition: {field: user.name, gte: 3}}\n");
	feed(t(0, 0), "h", "198.51.100.1", "alice", "a");
	feed(t(0, 1), "h", "198.51.100.1", "alice", "a");
	feed(t(0, 2), "h", "198.51.100.1", "bob", "a");
	feed(t(0, 3), "h", "198.51.100.1", "bob", "a");
	feed(t(0, 4), "h", "198.51.100.2", "carol", "a");
	cr_expect_eq(nfires, 0, "two users from .1, one from .2");
	/* alice expires (10 minutes after her last attempt) before carol. */
	feed(t(10, 1), "h", "198.51.100.1", "carol", "a");
	cr_expect_eq(nfires, 0, "alice's attempts are out of the window");
	feed(t(10, 2), "h", "198.51.100.1", "dave", "a");
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"198.51.100.1\"}");
}

/* The group is JSON an operator reads: a Japanese user name stays
 * text, controls are escaped by code point (U+009B is \u009b, not its
 * two bytes \u00c2\u009b as before, and not raw). */
Test(correlation, group_json_escapes_by_code_point_and_keeps_utf8)
{
	load("title: user\nid: 10000000-0000-4000-8000-000000000009\nname: c_user\n"
	     "level: high\ncorrelation: {type: event_count, rules: [rule_a],"
	     " group-by: [user.name], timespan: 1m, condition: {gte: 2}}\n");
	feed(t(0, 0), "h", "x", "\xe5\xb1\xb1\xe7\x94\xb0\xc2\x9b\x1b[2J\xe2\x80\xae\"", "a");
	feed(t(0, 1), "h", "x", "\xe5\xb1\xb1\xe7\x94\xb0\xc2\x9b\x1b[2J\xe2\x80\xae\"", "a");
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].group,
			 "{\"user.name\":\"\xe5\xb1\xb1\xe7\x94\xb0\\u009b\\u001b[2J\\u202e\\\"\"}");
}

Test(correlation, temporal_needs_every_rule_in_any_order)
{
	load("title: both\nid: 10000000-0000-4000-8000-000000000003\nname: c_both\n"
	     "level: high\ncorrelation: {type: temporal, rules: [rule_a, rule_b],"
	     " group-by: [host.name], timespan: 5m}\n");
	feed(t(0, 0), "h1", "x", "u", "b");
	feed(t(6, 0), "h1", "x", "u", "a");
	cr_expect_eq(nfires, 0, "b is more than 5m before a");
	feed(t(7, 0), "h2", "x", "u", "a");
	feed(t(8, 0), "h1", "x", "u", "b");
	cr_assert_eq(nfires, 1, "b after a on h1, within 5m");
	cr_expect_str_eq(fires[0].group, "{\"host.name\":\"h1\"}");
	cr_expect_eq(fires[0].count, 2);
}

static const char ordered[] =
	"title: then\nid: 10000000-0000-4000-8000-000000000004\nname: c_then\n"
	"level: high\ncorrelation: {type: temporal_ordered, rules: [rule_a, rule_b],"
	" group-by: [source.ip], timespan: 5m}\n";

Test(correlation, temporal_ordered_respects_order)
{
	load(ordered);
	feed(t(0, 0), "h", "192.0.2.1", "u", "b");
	feed(t(0, 10), "h", "192.0.2.1", "u", "a");
	cr_expect_eq(nfires, 0, "b before a");
	feed(t(0, 20), "h", "192.0.2.1", "u", "b");
	cr_assert_eq(nfires, 1, "a then b");
	feed(t(0, 30), "h", "192.0.2.1", "u", "b");
	cr_expect_eq(nfires, 1, "re-armed: needs a new a");
	feed(t(1, 0), "h", "192.0.2.1", "u", "a");
	feed(t(6, 1), "h", "192.0.2.1", "u", "b");
	cr_expect_eq(nfires, 1, "a more than 5m before b");
}

/* A later step seen before the sequence began (a login an hour before
 * the failures, within the chain's gaps) is not part of the incident. */
Test(correlation, temporal_ordered_cites_only_the_sequence)
{
	load(ordered);
	feed(t(0, 0), "h", "192.0.2.1", "u", "b");
	feed(t(4, 0), "h", "192.0.2.1", "u", "a");
	feed(t(4, 30), "h", "192.0.2.1", "u", "b");
	cr_assert_eq(nfires, 1);
	cr_expect_eq(fires[0].first, t(4, 0), "first_seen: the sequence's start");
	cr_expect_eq(fires[0].count, 2, "a then b, not the earlier b");
	cr_expect_eq(fires[0].nev, 2);
	cr_expect_eq(fires[0].ev0, 1, "evidence begins with a");
}

Test(correlation, temporal_ordered_one_event_is_not_a_sequence)
{
	load(ordered);
	feed(t(0, 0), "h", "192.0.2.1", "u", "ab");
	cr_expect_eq(nfires, 0, "one event matching a and b");
	feed(t(0, 5), "h", "192.0.2.1", "u", "ab");
	cr_expect_eq(nfires, 1, "the first event's a, then this one's b");
}

static const char absence[] =
	"title: silent\nid: 10000000-0000-4000-8000-000000000005\nname: c_silent\n"
	"level: medium\ntags: [logward.log-tampering]\n"
	"correlation: {type: absence, group-by: [host.name], timespan: 30m}\n";

Test(correlation, absence_fires_once_when_event_time_passes)
{
	load(absence);
	feed(t(0, 0), "quiet", "x", "u", "");
	feed(t(0, 0), "busy", "x", "u", "");
	for (int m = 10; m <= 30; m += 10)
		feed(t(m, 0), "busy", "x", "u", "");
	cr_expect_eq(nfires, 0, "exactly 30m is not more than 30m");
	feed(t(30, 1), "busy", "x", "u", "");
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].rule, "c_silent");
	cr_expect_str_eq(fires[0].group, "{\"host.name\":\"quiet\"}");
	cr_expect_eq(fires[0].last, t(0, 0), "last seen");
	cr_expect_eq(fires[0].nev, 1);
	cr_expect_eq(fires[0].ev0, 0, "evidence: its last event");
	feed(t(50, 0), "busy", "x", "u", "");
	cr_expect_eq(nfires, 1, "one report per silence");
	feed(t(51, 0), "quiet", "x", "u", "");
	lw_correlation_advance(corr, t(81, 1), on_fire, NULL);
	cr_expect_eq(nfires, 3, "quiet (again) and busy, through advance()");
}

Test(correlation, absence_ignores_skewed_clocks)
{
	struct lw_event ev;

	load(absence);
	feed(t(0, 0), "a", "x", "u", "");
	memset(&ev, 0, sizeof(ev));
	ev.timestamp_ns = t(600, 0);
	ev.flags = LW_EVENT_CLOCK_SKEW;
	ev.host = LW_STR_LIT("future");
	cr_assert_eq(lw_correlation_process(corr, &ev, seq++, NULL, 0, on_fire, NULL), LW_OK);
	cr_expect_eq(nfires, 0, "a clock ten hours ahead does not make others silent");
}

Test(correlation, suppression_holds_back_and_delivers_later)
{
	load("title: each\nid: 10000000-0000-4000-8000-000000000006\nname: c_each\n"
	     "level: high\ncorrelation: {type: event_count, rules: [rule_a],"
	     " group-by: [source.ip], timespan: 1m, condition: {gte: 1}}\n"
	     "logward: {suppress: 10m}\n");
	feed(t(0, 0), "h", "192.0.2.9", "u", "a");
	cr_assert_eq(nfires, 1);
	for (int i = 1; i <= 5; i++)
		feed(t(0, i), "h", "192.0.2.9", "u", "a");
	cr_expect_eq(nfires, 1, "repeats within 10m are held back");
	feed(t(9, 0), "h", "192.0.2.8", "u", "");
	cr_expect_eq(nfires, 1);
	feed(t(10, 0), "h", "192.0.2.8", "u", "");
	cr_assert_eq(nfires, 2, "delivered when the suppression ends");
	cr_expect_eq(fires[1].count, 5);
	cr_expect_eq(fires[1].first, t(0, 1));
	cr_expect_eq(fires[1].last, t(0, 5));
	feed(t(10, 1), "h", "192.0.2.9", "u", "a");
	cr_expect_eq(nfires, 2, "the delivery started a new suppression");
	lw_correlation_flush(corr, on_fire, NULL);
	cr_expect_eq(nfires, 3);
	cr_expect_eq(fires[2].count, 1);
}

Test(correlation, unreferenced_detection_rules_fire_directly)
{
	struct lw_correlation_stats st;

	load(ec5);
	cr_expect(lw_correlation_rules_fires_directly(lw_ruleset_correlations(rs),
						      (uint32_t)lw_ruleset_find(rs, "rule_d")));
	cr_expect(!lw_correlation_rules_fires_directly(lw_ruleset_correlations(rs),
						       (uint32_t)lw_ruleset_find(rs, "rule_a")),
		  "referenced by a correlation");
	cr_expect(!lw_correlation_rules_fires_directly(lw_ruleset_correlations(rs),
						       (uint32_t)lw_ruleset_find(rs, "rule_b")),
		  "informational");
	feed(t(0, 0), "srv1", "x", "u", "d");
	feed(t(0, 1), "srv1", "x", "u", "d");
	feed(t(0, 2), "srv2", "x", "u", "d");
	feed(t(0, 3), "srv1", "x", "u", "b");
	cr_assert_eq(nfires, 2, "srv1 once (then held back), srv2 once");
	cr_expect_str_eq(fires[0].group, "{\"host.name\":\"srv1\"}");
	cr_expect_eq(fires[0].count, 1);
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.suppressed, 1);
}

Test(correlation, a_full_table_admits_keys_seen_again_and_sheds_single_events)
{
	struct lw_correlation_stats st;

	load("title: capped\nid: 10000000-0000-4000-8000-000000000007\nname: c_cap\n"
	     "level: high\ncorrelation: {type: event_count, rules: [rule_a],"
	     " group-by: [source.ip], timespan: 1h, condition: {gte: 3}}\n"
	     "logward: {max_groups: 2}\n");
	feed(t(0, 0), "h", "10.0.0.1", "u", "a");
	feed(t(0, 1), "h", "10.0.0.2", "u", "a");
	feed(t(0, 2), "h", "10.0.0.2", "u", "a"); /* .2 holds two events */
	feed(t(0, 3), "h", "10.0.0.3", "u", "a"); /* seen once: refused */
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.not_admitted, 1);
	cr_expect_eq(st.evicted, 0);
	cr_expect_eq(st.groups, 2);
	feed(t(0, 4), "h", "10.0.0.3", "u", "a"); /* seen twice: sheds .1 */
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.evicted, 1, "the single-event group .1 is shed");
	cr_expect_eq(st.groups, 2);
	/* .3 was seen twice too: .4 must be seen more often to displace it,
	 * and then .3 goes, not .2 with its two events. */
	feed(t(0, 5), "h", "10.0.0.4", "u", "a");
	feed(t(0, 6), "h", "10.0.0.4", "u", "a");
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.evicted, 1);
	cr_expect_eq(st.not_admitted, 3);
	feed(t(0, 7), "h", "10.0.0.4", "u", "a");
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.evicted, 2);
	feed(t(0, 8), "h", "10.0.0.2", "u", "a");
	cr_assert_eq(nfires, 1, "the group with two events was never shed");
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"10.0.0.2\"}");
	cr_expect_eq(fires[0].count, 3);
	/* .1 held one event when it was shed: it starts over, so two more
	 * are not enough (three would have been with the old one). */
	feed(t(0, 9), "h", "10.0.0.1", "u", "a");
	feed(t(0, 10), "h", "10.0.0.1", "u", "a");
	cr_expect_eq(nfires, 1, ".1 starts over after it was shed");
	feed(t(0, 11), "h", "10.0.0.1", "u", "a");
	cr_expect_eq(nfires, 2);
}

Test(correlation, chained_correlations_feed_each_other)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), "%s---\n"
		 "title: after\nid: 10000000-0000-4000-8000-000000000008\nname: c_after\n"
		 "level: critical\ncorrelation: {type: temporal_ordered, rules: [c_count,"
		 " rule_b], group-by: [source.ip], timespan: 10m}\n", ec5);
	load(yaml);
	for (int i = 0; i < 5; i++)
		feed(t(0, i), "h", "203.0.113.7", "u", "a");
	feed(t(2, 0), "h", "203.0.113.7", "u", "b");
	cr_assert_eq(nfires, 2);
	cr_expect_str_eq(fires[0].rule, "c_count");
	cr_expect_str_eq(fires[1].rule, "c_after");
	cr_expect_eq(count_fires("c_after"), 1);
	/* It cites the events that satisfied it: the five a's that made
	 * c_count fire, then the b; first_seen is the first a. */
	cr_expect_eq(fires[1].first, t(0, 0));
	cr_expect_eq(fires[1].last, t(2, 0));
	cr_expect_eq(fires[1].nev, 6);
	cr_expect_eq(fires[1].ev0, 0);
	cr_expect_eq(fires[1].evn, 5);
	cr_expect_eq(fires[1].count, 2, "c_count's firing counts as one event");
}

/* A temporal group of one event keeps its evidence inline (two seqs):
 * the five events a firing brings still all reach the incident. */
Test(correlation, chained_firing_brings_its_evidence_to_a_small_group)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), "%s---\n"
		 "title: near\nid: 10000000-0000-4000-8000-000000000019\nname: c_near\n"
		 "level: critical\ncorrelation: {type: temporal, rules: [c_count,"
		 " rule_b], group-by: [source.ip], timespan: 10m}\n", ec5);
	load(yaml);
	feed(t(0, 0), "h", "203.0.113.7", "u", "b");
	for (int i = 1; i <= 5; i++)
		feed(t(1, i), "h", "203.0.113.7", "u", "a");
	cr_assert_eq(nfires, 2);
	cr_expect_str_eq(fires[1].rule, "c_near");
	cr_expect_eq(fires[1].first, t(0, 0), "the b came first");
	cr_expect_eq(fires[1].last, t(1, 5));
	cr_expect_eq(fires[1].nev, 6, "the b, then the five a's");
	cr_expect_eq(fires[1].ev0, 0);
	cr_expect_eq(fires[1].evn, 5);
	cr_expect_eq(fires[1].count, 2);
}

/* One RFC 5424 event carrying structured data sd (NULL: none), matching
 * rule_a. */
static void feed_sd(int64_t ts, const char *sd)
{
	struct lw_event ev;
	uint32_t m = (uint32_t)lw_ruleset_find(rs, "rule_a");

	memset(&ev, 0, sizeof(ev));
	ev.timestamp_ns = ev.created_ns = ts;
	ev.host = LW_STR_LIT("fw01");
	ev.facility = 4;
	ev.severity = 6;
	ev.flags = LW_EVENT_RFC5424;
	if (sd != NULL)
		ev.structured_data = (struct lw_str){sd, (uint32_t)strlen(sd)};
	cr_assert_eq(lw_correlation_process(corr, &ev, seq++, &m, 1, on_fire, NULL), LW_OK);
}

Test(correlation, group_by_structured_data_fires)
{
	static const char origin_a[] = "[origin ip=\"10.1.2.3\"]";
	static const char origin_b[] = "[origin ip=\"10.1.2.4\"]";
	struct lw_correlation_stats st;

	load("title: three from one origin\nid: 10000000-0000-4000-8000-00000000000e\n"
	     "name: c_origin\nlevel: high\n"
	     "correlation: {type: event_count, rules: [rule_a],"
	     " group-by: [log.syslog.structured_data], timespan: 1m,"
	     " condition: {gte: 3}}\n");
	feed_sd(t(0, 0), origin_a);
	feed_sd(t(0, 1), origin_b);
	feed_sd(t(0, 2), origin_a);
	feed_sd(t(0, 3), NULL);
	cr_expect_eq(nfires, 0, "two from A, one from B, one without SD");
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.no_group, 1, "the event without SD belongs to no group");
	feed_sd(t(0, 4), origin_a);
	cr_assert_eq(nfires, 1, "the third from A");
	cr_expect_str_eq(fires[0].rule, "c_origin");
	cr_expect_str_eq(fires[0].group,
			 "{\"log.syslog.structured_data\":\"[origin ip=\\\"10.1.2.3\\\"]\"}");
	cr_expect_str_eq(fires[0].host, "fw01");
	cr_expect_eq(fires[0].count, 3);
	cr_expect_eq(fires[0].ev0, 0);
	cr_expect_eq(fires[0].evn, 4);
}

Test(correlation, group_by_every_member_name_and_alias)
{
	static const char *const names[][2] = {
		{"host.hostname", "fw01"}, {"process.name", ""}, {"Computer", "fw01"},
		{"log.syslog.facility.code", "4"}, {"log.syslog.severity.code", "6"},
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(yaml, sizeof(yaml),
			 "title: by member\nid: 10000000-0000-4000-8000-00000000000f\n"
			 "name: c_member\nlevel: high\n"
			 "correlation: {type: event_count, rules: [rule_a],"
			 " group-by: ['%s'], timespan: 1m, condition: {gte: 2}}\n",
			 names[i][0]);
		load(yaml);
		feed_sd(t(0, 0), NULL);
		feed_sd(t(0, 1), NULL);
		if (names[i][1][0] == '\0') {
			cr_expect_eq(nfires, 0, "%s: empty in every event, so no group",
				     names[i][0]);
		} else {
			char group[128];

			snprintf(group, sizeof(group), "{\"%s\":\"%s\"}", names[i][0],
				 names[i][1]);
			cr_expect_eq(nfires, 1, "%s", names[i][0]);
			cr_expect_str_eq(fires[0].group, group);
		}
		teardown();
	}
}

Test(correlation, load_errors_name_file_and_line)
{
	static const char bad[] =
		"title: bad\nid: 10000000-0000-4000-8000-000000000009\nlevel: high\n"
		"correlation:\n  type: event_count\n  rules: [no_such_rule]\n"
		"  group-by: [source.ip]\n  timespan: 5m\n  condition: {gte: 3}\n"
		"---\n"
		"title: cyc1\nid: 10000000-0000-4000-8000-00000000000a\nname: cyc1\n"
		"level: high\ncorrelation: {type: temporal, rules: [cyc2, rule_a], timespan: 1m}\n"
		"---\n"
		"title: cyc2\nid: 10000000-0000-4000-8000-00000000000b\nname: cyc2\n"
		"level: high\ncorrelation: {type: temporal, rules: [cyc1, rule_a], timespan: 1m}\n"
		"---\n"
		"title: novalue\nid: 10000000-0000-4000-8000-00000000000c\nlevel: high\n"
		"correlation: {type: value_count, rules: [rule_a], timespan: 1m,"
		" condition: {gte: 3}}\n"
		"---\n"
		"title: sum\nid: 10000000-0000-4000-8000-00000000000d\nlevel: high\n"
		"correlation: {type: value_avg, rules: [rule_a], timespan: 1m}\n";
	struct lw_ruleset *r = lw_ruleset_new(NULL);
	struct lw_diags d;
	int unresolved = 0, value = 0, sum = 0;

	lw_diags_init(&d);
	lw_ruleset_load_detection_string(r, "det.yml", detection, sizeof(detection) - 1, &d);
	lw_ruleset_load_correlation_string(r, "bad.yml", bad, sizeof(bad) - 1, &d);
	for (size_t i = 0; i < d.count; i++) {
		const struct lw_diag *x = &d.items[i].diag;

		cr_expect_str_eq(x->file, "bad.yml");
		value += strstr(x->detail, "condition.field") != NULL && x->line == 26;
		sum += strstr(x->detail, "value_avg") != NULL && x->line == 31;
	}
	cr_expect_eq(value, 1, "value_count without field, at its line");
	cr_expect_eq(sum, 1, "value_avg is not supported");
	cr_expect_neq(lw_ruleset_build(r, &d), LW_OK);
	for (size_t i = 0; i < d.count; i++) {
		const struct lw_diag *x = &d.items[i].diag;

		unresolved += strstr(x->detail, "no_such_rule") != NULL && x->line == 6;
	}
	cr_expect_eq(unresolved, 1, "unresolved reference at the line of the reference");
	lw_ruleset_free(r);
	lw_diags_release(&d);
}

Test(correlation, save_and_restore_round_trip)
{
	struct lw_buf b;
	struct lw_correlation *c2;

	load(ec5);
	lw_buf_init(&b);
	for (int i = 0; i < 4; i++)
		feed(t(0, i), "h", "203.0.113.5", "u", "a");
	feed(t(0, 4), "srv", "x", "u", "d");
	cr_expect_eq(nfires, 1, "the direct one");
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	c2 = lw_correlation_new(rs);
	cr_assert_not_null(c2);
	cr_assert_eq(lw_correlation_restore(c2, b.data, b.len, NULL), LW_OK);
	lw_correlation_free(corr);
	corr = c2;
	feed(t(0, 5), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(nfires, 2, "four restored events + one new");
	cr_expect_eq(fires[1].count, 5);
	cr_expect_eq(fires[1].first, t(0, 0));
	cr_expect_eq(fires[1].ev0, 0);
	feed(t(0, 6), "srv", "x", "u", "d");
	cr_expect_eq(nfires, 2, "the direct rule's suppression survived");
	lw_buf_release(&b);
}

/* A log line carries its sender's clock, and an attacker's line can be
 * dated anywhere the parser reads (years 1678 to 2261). Such events reach
 * the windows like any other; before the windows kept their times within
 * +-2^62 ns, one dated 2200 made every later saved state unreadable (the
 * restart began with empty windows) and one group fed both 1700 and 2200
 * overflowed the window arithmetic. */
Test(correlation, events_dated_far_off_do_not_spoil_the_saved_windows)
{
	const int64_t y2200 = INT64_C(230) * 31557600 * SEC;
	const int64_t y1700 = -INT64_C(270) * 31557600 * SEC;
	struct lw_diag d;
	struct lw_buf b;
	struct lw_correlation *c2;

	load(ec5);
	lw_buf_init(&b);
	for (int i = 0; i < 4; i++)
		feed(t(0, i), "h", "203.0.113.5", "u", "a");
	/* Live input that far from the receive time is flagged (it moves no
	 * clock, so the windows above are not expired by it). */
	feed_flags(y2200, "h", "198.51.100.9", "u", "a", LW_EVENT_CLOCK_SKEW);
	feed_flags(y1700, "h", "198.51.100.9", "u", "a", LW_EVENT_CLOCK_SKEW);
	feed_flags(y2200, "h", "198.51.100.9", "u", "a", LW_EVENT_CLOCK_SKEW);
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	c2 = lw_correlation_new(rs);
	cr_assert_not_null(c2);
	memset(&d, 0, sizeof(d));
	cr_assert_eq(lw_correlation_restore(c2, b.data, b.len, &d), LW_OK,
		     "the saved windows are readable: %s", d.detail);
	lw_correlation_free(corr);
	corr = c2;
	feed(t(0, 4), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(nfires, 1, "four restored events + one new");
	cr_expect_eq(fires[0].count, 5);
	cr_expect_eq(fires[0].first, t(0, 0));
	lw_buf_release(&b);
}

Test(correlation, restore_skips_rules_that_no_longer_exist)
{
	struct lw_buf b;

	load(ec5);
	lw_buf_init(&b);
	feed(t(0, 0), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	teardown();
	/* Same id, other window definition: the state means something else. */
	load("title: five in a minute\nid: 10000000-0000-4000-8000-000000000001\n"
	     "name: c_count\nlevel: high\n"
	     "correlation: {type: event_count, rules: [rule_a], group-by: [source.ip],"
	     " timespan: 2m, condition: {gte: 2}}\n");
	cr_expect_eq(lw_correlation_restore(corr, b.data, b.len, NULL), LW_OK);
	feed(t(0, 1), "h", "203.0.113.5", "u", "a");
	cr_expect_eq(nfires, 0, "the old window's event was not restored");
	teardown();
	load(NULL);
	cr_expect_eq(lw_correlation_restore(corr, b.data, b.len, NULL), LW_OK);
	lw_buf_release(&b);
}

Test(correlation, corrupt_state_is_rejected)
{
	struct lw_buf b;
	struct lw_diag d;
	char *copy;

	load(ec5);
	lw_buf_init(&b);
	for (int i = 0; i < 4; i++)
		feed(t(0, i), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	copy = malloc(b.len);
	cr_assert_not_null(copy);
	for (size_t i = 0; i < b.len; i += 7) {
		memcpy(copy, b.data, b.len);
		copy[i] ^= 0x5a;
		memset(&d, 0, sizeof(d));
		cr_expect_eq(lw_correlation_restore(corr, copy, b.len, &d), LW_ECORRUPT,
			     "byte %zu flipped", i);
	}
	for (size_t n = 0; n < b.len; n += 5)
		cr_expect_eq(lw_correlation_restore(corr, b.data, n, NULL), LW_ECORRUPT,
			     "truncated at %zu", n);
	cr_expect_neq(strstr(d.detail, "correlation state"), NULL);
	/* A rejected state leaves empty windows, not half of one. */
	feed(t(0, 5), "h", "203.0.113.5", "u", "a");
	cr_expect_eq(nfires, 0);
	free(copy);
	lw_buf_release(&b);
}

static const char ec5_hour[] =
	"title: five in an hour\nid: 10000000-0000-4000-8000-000000000011\n"
	"name: c_hour\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a], group-by: [source.ip],"
	" timespan: 1h, condition: {gte: 5}}\n";

/* The scaled-down high-cardinality case: 1 MiB holds a few thousand
 * groups; 200,000 sources each seen once pass through it, and one source
 * seen 12 times among them (every 16,000 events) must still be named.
 * The budget is never exceeded, and what is shed is counted. */
Test(correlation, the_budget_holds_and_a_returning_source_is_still_found)
{
	struct lw_correlation_stats st;
	char ip[32];
	int seen = 0;

	load(ec5_hour);
	lw_correlation_set_memory(corr, LW_CORRELATION_MIN_MEMORY);
	for (int i = 0; i < 200000; i++) {
		int64_t ts = t(0, 0) + (int64_t)i * 10000000; /* 100 per second */

		if (i % 16000 == 8000 && seen < 12) {
			feed(ts, "h", "203.0.113.9", "u", "a");
			seen++;
			continue;
		}
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		feed(ts, "h", ip, "u", "a");
		if (i % 1000 == 0) {
			lw_correlation_get_stats(corr, &st);
			cr_assert_leq(st.bytes, st.budget, "event %d: %llu bytes", i,
				      (unsigned long long)st.bytes);
		}
	}
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.budget, LW_CORRELATION_MIN_MEMORY);
	cr_expect_gt(st.not_admitted, 150000, "sources seen once are turned away");
	cr_expect_lt(st.groups, 10000);
	cr_expect_eq(seen, 12);
	/* Admitted at its second sighting, it fires at its sixth and again
	 * at its eleventh; no source seen once ever fires. */
	cr_assert_eq(nfires, 2, "the returning source is found (%d firings)", nfires);
	for (int i = 0; i < nfires; i++) {
		cr_expect_str_eq(fires[i].group, "{\"source.ip\":\"203.0.113.9\"}");
		cr_expect_eq(fires[i].count, 5);
	}
	/* A scanner key displaces a live group only when the doorkeeper
	 * mistakes it for one seen before (about 2 % here). */
	cr_expect_lt(st.evicted * 20, st.not_admitted);
}

/* Groups whose window has passed make room before any live one goes. */
Test(correlation, expired_groups_are_reclaimed_before_live_ones_are_shed)
{
	struct lw_correlation_stats st;
	uint64_t before, refused;
	char ip[32];

	load(ec5);
	lw_correlation_set_memory(corr, LW_CORRELATION_MIN_MEMORY);
	for (int i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i >> 8, i & 255);
		feed(t(0, 0), "h", ip, "u", "a");
	}
	lw_correlation_get_stats(corr, &st);
	cr_expect_gt(st.not_admitted, 0, "the budget filled up");
	cr_expect_gt(st.groups, 3000, "more groups than the new keys below");
	before = st.evicted;
	refused = st.not_admitted;
	/* Two minutes on, every window of a minute has passed, the first
	 * new key's included: its room too comes from an expired group, not
	 * from a live one shed (or from a refusal) because the wheel had not
	 * run yet (that happened for 4 of 300 hash seeds: the first key's
	 * sketch estimate came out 2 and a group of one event was shed). */
	for (int i = 0; i < 3000; i++) {
		snprintf(ip, sizeof(ip), "10.2.%d.%d", i >> 8, i & 255);
		feed(t(2, 0), "h", ip, "u", "a");
	}
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.evicted, before, "no live group was shed");
	cr_expect_eq(st.not_admitted, refused, "every new key was admitted");
	cr_expect_eq(st.reclaimed, 3000, "expired groups made the room, one per new key");
	cr_expect_leq(st.bytes, st.budget);
}

static int apply_all(struct lw_correlation *c, struct lw_buf *sets, uint64_t *seqs,
		     int n, uint64_t keep_from)
{
	lw_correlation_restore_begin(c);
	for (int i = 0; i < n; i++) {
		if (seqs[i] < keep_from)
			continue;
		if (lw_correlation_restore_apply(c, seqs[i], sets[i].data, sets[i].len,
						 NULL) != LW_OK)
			return -1;
	}
	return 0;
}

/* The change log: a full first set, then only what changed (and the
 * sweep); applying the sets kept rebuilds the same windows, deletions
 * included, and the log keeps going after a restore. A group never
 * written that holds one event is left out until it has more (a crash
 * forgets a scanner's first attempt), but a clean stop's set has it. */
Test(correlation, change_sets_rebuild_the_windows)
{
	struct lw_buf sets[8];
	uint64_t seqs[8], keep = 0;
	struct lw_correlation_save_info info;
	struct lw_correlation *c2;
	int n = 0;

	load(ec5);
	for (int i = 0; i < 8; i++)
		lw_buf_init(&sets[i]);
	for (int i = 0; i < 3; i++)
		feed(t(0, i), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(lw_correlation_save_changes(corr, &sets[n], &info, 0), LW_OK);
	cr_expect(info.full, "the first change set holds everything");
	cr_expect_eq(info.groups, 1);
	seqs[n++] = info.seq;
	keep = info.keep_from;
	feed(t(0, 3), "h", "203.0.113.5", "u", "a");
	feed(t(0, 4), "h", "198.51.100.1", "u", "a");
	cr_assert_eq(lw_correlation_save_changes(corr, &sets[n], &info, 0), LW_OK);
	cr_expect(!info.full);
	cr_expect_eq(info.groups, 1, "the changed group; 198.51.100.1's single event waits");
	seqs[n++] = info.seq;
	feed(t(0, 5), "h", "192.0.2.1", "u", "a");
	feed(t(0, 6), "h", "192.0.2.1", "u", "a");
	cr_assert_eq(lw_correlation_save_changes(corr, &sets[n], &info, 0), LW_OK);
	seqs[n++] = info.seq;
	if (info.keep_from > keep)
		keep = info.keep_from;
	c2 = lw_correlation_new(rs);
	cr_assert_not_null(c2);
	cr_assert_eq(apply_all(c2, sets, seqs, n, keep), 0);
	lw_correlation_free(corr);
	corr = c2;
	nfires = 0;
	/* 203.0.113.5's four events were in the minute ending at t(1,0):
	 * at t(0, 10) the restored ring still holds them all. */
	feed(t(0, 10), "h", "203.0.113.5", "u", "a");
	cr_expect_eq(nfires, 1, "four restored events + one new");
	for (int i = 0; i < 3; i++)
		feed(t(0, 11 + i), "h", "192.0.2.1", "u", "a");
	cr_assert_eq(nfires, 2, "192.0.2.1: two restored events + three new");
	cr_expect_eq(fires[1].count, 5);
	cr_expect_eq(fires[1].first, t(0, 5));
	/* The log goes on with numbers after the restored ones. */
	feed(t(0, 20), "h", "198.51.100.9", "u", "a");
	cr_assert_eq(lw_correlation_save_changes(corr, &sets[n], &info, 0), LW_OK);
	cr_expect(!info.full, "a restored log is continued, not restarted");
	cr_expect_gt(info.seq, seqs[n - 1]);
	seqs[n++] = info.seq;
	/* A clean stop's change set holds the changes and every single
	 * event left out so far, not the groups the log already holds:
	 * the log it continues plus this set restore exactly. */
	feed(t(0, 20), "h", "192.0.2.77", "u", "a");
	cr_assert_eq(lw_correlation_save_changes(corr, &sets[n], &info, 0), LW_OK);
	seqs[n++] = info.seq;
	keep = info.keep_from;
	cr_assert_eq(lw_correlation_save_changes(corr, &sets[n], &info, 1), LW_OK);
	cr_expect(!info.full, "the log is continued, not rewritten");
	cr_expect_eq(info.keep_from, keep, "the older change sets are still needed");
	cr_expect_eq(info.groups, 2, "198.51.100.9 and 192.0.2.77, nothing else");
	seqs[n] = info.seq;
	c2 = lw_correlation_new(rs);
	cr_assert_not_null(c2);
	cr_assert_eq(apply_all(c2, sets, seqs, n + 1, keep), 0);
	lw_correlation_free(corr);
	corr = c2;
	for (int i = 0; i < 4; i++)
		feed(t(0, 21 + i), "h", "198.51.100.9", "u", "a");
	cr_expect_eq(nfires, 3, "198.51.100.9: its single event came back after a clean stop");
	for (int i = 0; i < 4; i++)
		feed(t(0, 25 + i), "h", "192.0.2.77", "u", "a");
	cr_expect_eq(nfires, 4, "192.0.2.77: its single event came back too");
	for (int i = 0; i <= n; i++)
		lw_buf_release(&sets[i]);
}

/* FNV-1a 64 (its published offset and prime): the trailer of version 2. */
static uint64_t fnv1a_64(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

Test(correlation, state_of_version_2_is_still_restored)
{
	struct lw_buf b;
	struct lw_correlation *c2;
	uint64_t sum;

	load(ec5);
	lw_buf_init(&b);
	for (int i = 0; i < 4; i++)
		feed(t(0, i), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	cr_assert_eq(b.data[6], 3, "this build writes version 3");
	/* The same state as the previous release wrote it: version 2, the
	 * trailer FNV-1a 64 of the bytes before it, little-endian. */
	b.data[6] = 2;
	sum = fnv1a_64((const unsigned char *)b.data, b.len - 8);
	for (int i = 0; i < 8; i++)
		b.data[b.len - 8 + i] = (char)(sum >> (8 * i));
	c2 = lw_correlation_new(rs);
	cr_assert_not_null(c2);
	cr_assert_eq(lw_correlation_restore(c2, b.data, b.len, NULL), LW_OK);
	lw_correlation_free(corr);
	corr = c2;
	feed(t(0, 5), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(nfires, 1, "four restored events + one new");
	cr_expect_eq(fires[0].count, 5);
	cr_expect_eq(fires[0].first, t(0, 0));
	/* Version 3's sum on a version-2 blob is a mismatch. */
	b.data[6] = 3;
	cr_expect_eq(lw_correlation_restore(corr, b.data, b.len, NULL), LW_ECORRUPT);
	lw_buf_release(&b);
}

Test(correlation, state_of_the_version_before_change_sets_is_rejected)
{
	struct lw_buf b;
	struct lw_diag d = {0};

	load(ec5);
	lw_buf_init(&b);
	feed(t(0, 0), "h", "203.0.113.5", "u", "a");
	cr_assert_eq(lw_correlation_save(corr, &b), LW_OK);
	b.data[6] = 1; /* version 1, checksum left as it was */
	cr_expect_eq(lw_correlation_restore(corr, b.data, b.len, &d), LW_ECORRUPT);
	cr_expect(strstr(d.detail, "unknown version") != NULL, "%s", d.detail);
	lw_buf_release(&b);
}

/* key_hash as first written (a memcpy of the tail): value hashes are in
 * the saved state (value_count's distinct values), so a faster form must
 * give the same hash for every length and every byte. */
static uint64_t key_hash_reference(uint64_t seed, const unsigned char *s, size_t n)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

	for (; n >= 8; s += 8, n -= 8) {
		w = 0;
		for (int i = 0; i < 8; i++)
			w |= (uint64_t)s[i] << (8 * i);
		h = (h ^ (w * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
		h ^= h >> 29;
	}
	w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)s[i] << (8 * i);
	h = (h ^ (w * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 32);
}

Test(correlation, key_hash_is_the_saved_states_hash_for_every_length)
{
	unsigned char buf[80];
	uint64_t x = 0x243f6a8885a308d3ULL;

	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (unsigned char)(round == 0 ? 0xff : x);
		}
		/* every length at every offset, so no tail reads past its key */
		for (size_t off = 0; off < 8; off++)
			for (size_t n = 0; n + off <= 64; n++) {
				unsigned char *key = malloc(n ? n : 1);

				cr_assert_not_null(key);
				memcpy(key, buf + off, n);
				cr_assert_eq(key_hash(FNV_OFFSET, key, n),
					     key_hash_reference(FNV_OFFSET, key, n),
					     "length %zu", n);
				free(key);
			}
	}
}

/* ---- events prepared ahead (lw_correlation_ahead) ---- */

/* An event that outlives the call that prepares it. */
struct held_event {
	struct lw_event ev;
	struct lw_field f[2];
	char ip[32], user[16];
	uint32_t m[3], n;
};

static void hold(struct held_event *h, int64_t ts, const char *ip, const char *user,
		 const char *rules)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->ip, sizeof(h->ip), "%s", ip);
	snprintf(h->user, sizeof(h->user), "%s", user);
	h->ev.timestamp_ns = h->ev.created_ns = ts;
	h->ev.host = (struct lw_str){"h", 1};
	h->ev.facility = h->ev.severity = LW_SYSLOG_NONE;
	h->f[0] = (struct lw_field){LW_STR_LIT("source.ip"), {h->ip, (uint32_t)strlen(h->ip)}};
	h->f[1] = (struct lw_field){LW_STR_LIT("user.name"), {h->user, (uint32_t)strlen(h->user)}};
	h->ev.fields = h->f;
	h->ev.nfields = 2;
	for (const char *r = rules; *r; r++) {
		char name[8];
		snprintf(name, sizeof(name), "rule_%c", *r);
		h->m[h->n++] = (uint32_t)lw_ruleset_find(rs, name);
	}
}

static void ahead(const struct held_event *h, uint64_t s)
{
	lw_correlation_ahead(corr, &h->ev, s, h->n ? h->m : NULL, h->n);
}

static void process(const struct held_event *h, uint64_t s)
{
	cr_assert_eq(lw_correlation_process(corr, &h->ev, s, h->n ? h->m : NULL, h->n,
					    on_fire, NULL), LW_OK);
}

/* Three windows fed by rule_a, at most 4 groups each (a whole-window
 * look: which group is shed does not depend on the random sample), a
 * chain, and rule_d firing on its own. */
static const char ahead_rules[] =
	"title: three\nid: 10000000-0000-4000-8000-000000000031\nname: c_three\n"
	"level: high\ncorrelation: {type: event_count, rules: [rule_a],"
	" group-by: [source.ip], timespan: 1m, condition: {gte: 3}}\n"
	"logward: {max_groups: 4}\n"
	"---\n"
	"title: users\nid: 10000000-0000-4000-8000-000000000032\nname: c_users\n"
	"level: high\ncorrelation: {type: value_count, rules: [rule_a],"
	" group-by: [source.ip], timespan: 1m, condition: {field: user.name, gte: 3}}\n"
	"logward: {max_groups: 4}\n"
	"---\n"
	"title: then b\nid: 10000000-0000-4000-8000-000000000033\nname: c_then_b\n"
	"level: critical\ncorrelation: {type: temporal_ordered, rules: [c_three,"
	" rule_b], group-by: [source.ip], timespan: 10m}\n";

#define AHEAD_EVENTS 600

/* A deterministic mix: 10 addresses (more than a window holds: groups
 * are shed and refused), 4 users, some events without an address, some
 * b's and d's; an address often repeats at once, so the group an event
 * needs is created by the event just before it, after it was prepared. */
static void ahead_mix(struct held_event *evs)
{
	uint32_t x = 12345;

	for (int i = 0; i < AHEAD_EVENTS; i++) {
		char ip[32], user[16];
		uint32_t r;

		x = x * 1103515245u + 12345u;
		r = x >> 16;
		snprintf(ip, sizeof(ip), "198.51.100.%u", (r % 3 == 0 && i > 0) ?
			 (unsigned)((x >> 8) % 10) : (unsigned)(i / 3 % 10));
		snprintf(user, sizeof(user), "u%u", (r >> 4) % 4);
		hold(&evs[i], t(0, 0) + (int64_t)i * SEC / 4, r % 17 == 0 ? "" : ip, user,
		     r % 13 == 0 ? "b" : r % 29 == 0 ? "d" : "a");
	}
}

/* The mix processed in turn (ahead_by 0), or each event prepared
 * ahead_by events before it; firings into fires[], counts into st. */
static void run_ahead_mix(const struct held_event *evs, uint32_t ahead_by,
			  struct lw_correlation_stats *st)
{
	uint32_t next = 0;

	for (uint32_t i = 0; i < AHEAD_EVENTS; i++) {
		for (; ahead_by > 0 && next < AHEAD_EVENTS && next <= i + ahead_by; next++)
			ahead(&evs[next], next);
		process(&evs[i], i);
	}
	lw_correlation_get_stats(corr, st);
}

Test(correlation, events_prepared_ahead_fire_exactly_as_in_turn)
{
	static struct held_event evs[AHEAD_EVENTS];
	static struct fired in_turn[256];
	struct lw_correlation_stats a, b;
	int n_in_turn;

	load(ahead_rules);
	ahead_mix(evs);
	run_ahead_mix(evs, 0, &a);
	n_in_turn = nfires;
	memcpy(in_turn, fires, sizeof(in_turn));
	cr_assert_gt(n_in_turn, 20, "the mix fires (%d)", n_in_turn);
	cr_assert_gt(count_fires("c_then_b"), 0, "the chain fires");
	cr_assert_gt(count_fires("rule_d"), 0, "the direct rule fires");
	cr_assert_gt(a.evicted + a.not_admitted, 0, "the windows shed");
	cr_assert_gt(a.no_group, 0, "some events have no address");
	teardown();

	for (uint32_t by = 1; by <= LW_CORRELATION_AHEAD; by++) {
		load(ahead_rules);
		ahead_mix(evs);
		run_ahead_mix(evs, by, &b);
		cr_assert_eq(nfires, n_in_turn, "%u ahead: %d firings, %d in turn", by,
			     nfires, n_in_turn);
		for (int i = 0; i < nfires; i++) {
			cr_expect_str_eq(fires[i].rule, in_turn[i].rule, "firing %d", i);
			cr_expect_str_eq(fires[i].group, in_turn[i].group, "firing %d", i);
			cr_expect_eq(fires[i].count, in_turn[i].count, "firing %d", i);
			cr_expect_eq(fires[i].first, in_turn[i].first, "firing %d", i);
			cr_expect_eq(fires[i].last, in_turn[i].last, "firing %d", i);
			cr_expect_eq(fires[i].nev, in_turn[i].nev, "firing %d", i);
			cr_expect_eq(fires[i].ev0, in_turn[i].ev0, "firing %d", i);
			cr_expect_eq(fires[i].evn, in_turn[i].evn, "firing %d", i);
		}
		cr_expect_eq(corr->ahead_used, AHEAD_EVENTS, "%u ahead: every event fed"
			     " from its prepared set", by);
		cr_expect_eq(corr->ahead_dropped, 0);
		cr_expect_eq(b.no_group, a.no_group, "each missing address counted once");
		cr_expect_eq(b.evicted, a.evicted);
		cr_expect_eq(b.not_admitted, a.not_admitted);
		cr_expect_eq(b.groups, a.groups);
		cr_expect_eq(b.bytes, a.bytes);
		teardown();
	}
}

Test(correlation, an_event_prepared_but_not_in_its_turn_is_prepared_again)
{
	char yaml[1024];
	struct held_event e1, e2, e3, none;
	struct lw_correlation_stats st;

	/* c_all watches every event, matched or not. */
	snprintf(yaml, sizeof(yaml), "%s---\n"
		 "title: all\nid: 10000000-0000-4000-8000-000000000034\nname: c_all\n"
		 "level: low\ntags: [logward.dos]\ncorrelation: {type: event_count, group-by: [source.ip],"
		 " timespan: 1m, condition: {gte: 1000}}\n", ec5);
	load(yaml);
	hold(&e1, t(0, 1), "203.0.113.1", "u", "a");
	hold(&e2, t(0, 2), "203.0.113.2", "u", "a");
	hold(&e3, t(0, 3), "203.0.113.3", "u", "a");
	hold(&none, t(0, 4), "", "u", "a");
	/* Prepared, never processed: nothing counted. */
	ahead(&none, 100);
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.no_group, 0);
	cr_expect_eq(st.groups, 0);
	/* e1 and e2 prepared, e3 comes first: e3 is fed as e3. */
	ahead(&e1, 0);
	ahead(&e2, 1);
	for (int i = 0; i < 5; i++)
		process(&e3, 10 + (uint64_t)i);
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"203.0.113.3\"}");
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.groups, 2, "c_count and c_all: 203.0.113.3");
	/* Another event under the seq (and the matches: none) an event was
	 * prepared with is fed as itself. */
	hold(&e2, t(0, 2), "203.0.113.2", "u", "");
	hold(&e3, t(0, 3), "203.0.113.3", "u", "");
	ahead(&e2, 40);
	process(&e3, 40);
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.groups, 2, "e2 was not fed for e3");
	/* At the same address under another seq is another event (a
	 * batch's slot used again). */
	ahead(&e1, 20);
	hold(&e1, t(0, 5), "203.0.113.9", "u", "a");
	for (int i = 0; i < 4; i++)
		process(&e1, 21 + (uint64_t)i);
	cr_expect_eq(nfires, 1);
	process(&e1, 25);
	cr_assert_eq(nfires, 2);
	cr_expect_str_eq(fires[1].group, "{\"source.ip\":\"203.0.113.9\"}");
	cr_expect_eq(fires[1].ev0, 21);
	cr_expect_eq(fires[1].evn, 25);
	process(&none, 30);
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.no_group, 2, "once in each window");
	cr_expect_eq(st.groups, 4);
}

/* A caller whose event slot is used again under the same seq (a batch
 * back in the pool) drops what it prepared first: the new event is fed
 * as itself. */
Test(correlation, a_dropped_preparation_is_never_used)
{
	struct held_event e;

	load(ec5);
	hold(&e, t(0, 1), "203.0.113.1", "u", "a");
	ahead(&e, 7);
	lw_correlation_ahead_drop(corr);
	hold(&e, t(0, 1), "203.0.113.2", "u", "a");
	for (int i = 0; i < 5; i++)
		process(&e, 7 + (uint64_t)i);
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"203.0.113.2\"}");
	cr_expect_eq(corr->ahead_dropped, 1);
	cr_expect_eq(corr->ahead_used, 0);
}

/* From 65,537 groups a window's table (two slots a group, a power of
 * two of 8-byte slots) is 2 MiB or more, a mapping of its own (huge
 * pages): it grows into one, and from one into a larger one, keeping
 * every group. */
Test(correlation, a_window_of_many_groups_keeps_them_all)
{
	struct lw_correlation_stats st;
	char ip[32];
	int n = 300000;

	load(ec5_hour);
	for (int i = 0; i < n; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		feed(t(0, 0) + i * (int64_t)1000000, "h", ip, "u", "a");
	}
	lw_correlation_get_stats(corr, &st);
	cr_assert_eq(st.groups, (uint64_t)n);
	cr_expect_eq(st.not_admitted + st.evicted, 0);
	/* The first address is still found, not made again: its fifth
	 * event fires. */
	for (int i = 0; i < 4; i++)
		feed(t(1, 0) + i * SEC, "h", "10.0.0.0", "u", "a");
	cr_assert_eq(nfires, 1);
	cr_expect_str_eq(fires[0].group, "{\"source.ip\":\"10.0.0.0\"}");
	cr_expect_eq(fires[0].count, 5);
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.groups, (uint64_t)n);
}

/* A budget of megabytes has an admission sketch of megabytes (a mapping
 * of its own, like large tables): memory fills, the sketch turns
 * scanners away, and a returning source is still found. */
Test(correlation, a_full_budget_of_megabytes_still_finds_a_returning_source)
{
	struct lw_correlation_stats st;
	char ip[32];
	int seen = 0;

	load(ec5_hour);
	lw_correlation_set_memory(corr, 48u << 20);
	for (int i = 0; i < 400000; i++) {
		int64_t ts = t(0, 0) + (int64_t)i * 1000000; /* 1000 per second */

		if (i % 32000 == 16000 && seen < 12) {
			feed(ts, "h", "203.0.113.9", "u", "a");
			seen++;
			continue;
		}
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		feed(ts, "h", ip, "u", "a");
	}
	lw_correlation_get_stats(corr, &st);
	cr_expect_leq(st.bytes, st.budget);
	cr_expect_gt(st.not_admitted, 50000, "memory filled: scanners turned away");
	cr_expect_eq(seen, 12);
	cr_assert_eq(nfires, 2, "the returning source is found (%d firings)", nfires);
	for (int i = 0; i < nfires; i++)
		cr_expect_str_eq(fires[i].group, "{\"source.ip\":\"203.0.113.9\"}");
}

/* Windows grouped by the same fields share one key per event (made and
 * hashed once); windows grouped otherwise each get their own, and a
 * missing field is still counted in every window that needs it. */
static const char shared_keys[] =
	"title: by address\nid: 10000000-0000-4000-8000-000000000041\n"
	"name: c_ip3\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a], group-by: [source.ip],"
	" timespan: 1m, condition: {gte: 3}}\n"
	"---\n"
	"title: by user\nid: 10000000-0000-4000-8000-000000000042\n"
	"name: c_user3\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a], group-by: [user.name],"
	" timespan: 1m, condition: {gte: 3}}\n"
	"---\n"
	"title: by both\nid: 10000000-0000-4000-8000-000000000043\n"
	"name: c_both2\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a],"
	" group-by: [source.ip, user.name], timespan: 1m, condition: {gte: 2}}\n"
	"---\n"
	"title: users by address\nid: 10000000-0000-4000-8000-000000000044\n"
	"name: c_spray2\nlevel: high\n"
	"correlation: {type: value_count, rules: [rule_a], group-by: [source.ip],"
	" timespan: 1m, condition: {field: user.name, gte: 2}}\n"
	"---\n"
	"title: by destination\nid: 10000000-0000-4000-8000-000000000045\n"
	"name: c_dst\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a],"
	" group-by: [destination.ip], timespan: 1m, condition: {gte: 1}}\n"
	"---\n"
	"title: by destination too\nid: 10000000-0000-4000-8000-000000000046\n"
	"name: c_dst_too\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a],"
	" group-by: [destination.ip], timespan: 1m, condition: {gte: 1}}\n";

static const struct fired *fire_of(const char *rule, const char *group)
{
	for (int i = 0; i < nfires; i++)
		if (strcmp(fires[i].rule, rule) == 0 && strcmp(fires[i].group, group) == 0)
			return &fires[i];
	return NULL;
}

Test(correlation, windows_grouped_alike_share_a_key_and_the_others_do_not)
{
	struct lw_correlation_stats st;
	const struct fired *f;

	load(shared_keys);
	feed(t(0, 1), "h", "10.0.0.1", "alice", "a");
	feed(t(0, 2), "h", "10.0.0.2", "alice", "a");
	feed(t(0, 3), "h", "10.0.0.1", "bob", "a");
	cr_assert_eq(nfires, 1, "two users from 10.0.0.1");
	cr_expect_not_null(fire_of("c_spray2", "{\"source.ip\":\"10.0.0.1\"}"));
	feed(t(0, 4), "h", "10.0.0.2", "alice", "a");
	cr_assert_eq(nfires, 3, "alice's third attempt; 10.0.0.2 as alice twice");
	f = fire_of("c_user3", "{\"user.name\":\"alice\"}");
	cr_assert_not_null(f);
	cr_expect_eq(f->count, 3);
	f = fire_of("c_both2", "{\"source.ip\":\"10.0.0.2\",\"user.name\":\"alice\"}");
	cr_assert_not_null(f);
	cr_expect_eq(f->count, 2);
	feed(t(0, 5), "h", "10.0.0.1", "alice", "a");
	cr_assert_eq(nfires, 5, "10.0.0.1's third attempt, its second as alice");
	f = fire_of("c_ip3", "{\"source.ip\":\"10.0.0.1\"}");
	cr_assert_not_null(f);
	cr_expect_eq(f->count, 3);
	cr_expect_eq(f->ev0, 0);
	cr_expect_eq(f->evn, 4);
	f = fire_of("c_both2", "{\"source.ip\":\"10.0.0.1\",\"user.name\":\"alice\"}");
	cr_assert_not_null(f);
	cr_expect_eq(f->ev0, 0);
	cr_expect_eq(f->evn, 4);
	cr_expect_eq(count_fires("c_dst") + count_fires("c_dst_too"), 0);
	lw_correlation_get_stats(corr, &st);
	cr_expect_eq(st.no_group, 10, "no destination.ip: 5 events in each of 2 windows");
	cr_expect_eq(st.groups, 2 + 2 + 3 + 2, "c_ip3, c_user3, c_both2, c_spray2");
}

/* A late event goes to its place in a window of many events, whether
 * the ring holding them wraps there or not: the window slides on those
 * times afterwards, so a misplaced one would drop or keep the wrong
 * events. */
static const char ec50[] =
	"title: fifty in a minute\nid: 10000000-0000-4000-8000-000000000051\n"
	"name: c_fifty\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a], group-by: [source.ip],"
	" timespan: 1m, condition: {gte: 50}}\n";

Test(correlation, late_events_take_their_place_in_a_long_window)
{
	const struct fired *f;

	load(ec50);
	/* Not wrapped: 30..59 s in order, then 29 s down to 10 s. */
	for (int s = 30; s < 60; s++)
		feed(t(0, s), "h", "192.0.2.1", "u", "a");
	for (int s = 29; s >= 11; s--)
		feed(t(0, s), "h", "192.0.2.1", "u", "a");
	cr_expect_eq(nfires, 0, "49 events");
	feed(t(0, 10), "h", "192.0.2.1", "u", "a");
	cr_assert_eq(nfires, 1);
	cr_expect_eq(fires[0].count, 50);
	cr_expect_eq(fires[0].first, t(0, 10));
	cr_expect_eq(fires[0].last, t(0, 59));
	/* Wrapped: 0..39 s, then at 95 s the first 36 leave the window
	 * (35, 95], so the ring starts 36 places in; 94 s down to 51 s go
	 * between 39 s and 95 s, past the ring's end and round. Then the
	 * window slides on: 97-99 s each push the oldest out (36-39 s), 100
	 * s and 101 s are the 49th and 50th events in it. */
	for (int s = 0; s < 40; s++)
		feed(t(0, s), "h", "192.0.2.2", "u", "a");
	feed(t(1, 35), "h", "192.0.2.2", "u", "a");
	for (int s = 94; s > 50; s--)
		feed(t(0, s), "h", "192.0.2.2", "u", "a");
	for (int s = 37; s <= 40; s++)
		feed(t(1, s), "h", "192.0.2.2", "u", "a");
	cr_expect_eq(nfires, 1, "49 events in the window");
	feed(t(1, 41), "h", "192.0.2.2", "u", "a");
	cr_assert_eq(nfires, 2);
	f = fire_of("c_fifty", "{\"source.ip\":\"192.0.2.2\"}");
	cr_assert_not_null(f);
	cr_expect_eq(f->count, 90, "the burst: every event since the group's first");
	cr_expect_eq(f->first, t(0, 0));
	cr_expect_eq(f->last, t(1, 41));
}

/* The window against a model of it (a plain sorted array) over 3,000
 * events up to 5 s late: the same events fire, and the same are late
 * (older than the window's newest). About 46 a minute keep the window
 * sliding (and its ring wrapping) all along, and a burst now and then
 * makes it fire: a late event put in the wrong place, or an entry lost
 * or doubled when the ring moves, changes when it fires or which entry
 * is the newest. */
static int model_fifty(int64_t *win, uint32_t *len, int64_t ts, uint64_t *late)
{
	int64_t newest = *len > 0 ? win[*len - 1] : INT64_MIN;
	int64_t lo = (newest > ts ? newest : ts) - 60 * SEC;
	uint32_t drop = 0, pos;

	while (drop < *len && win[drop] <= lo)
		drop++;
	memmove(win, win + drop, (*len - drop) * sizeof(*win));
	*len -= drop;
	*late += ts < newest;
	if (ts <= lo)
		return 0;
	if (*len == 51) {
		memmove(win, win + 1, 50 * sizeof(*win));
		(*len)--;
	}
	for (pos = *len; pos > 0 && win[pos - 1] > ts; pos--)
		;
	memmove(win + pos + 1, win + pos, (*len - pos) * sizeof(*win));
	win[pos] = ts;
	if (++*len < 50)
		return 0;
	*len = 0; /* a firing re-arms the window */
	return 1;
}

Test(correlation, a_long_window_fires_as_a_sorted_model_with_late_events)
{
	struct lw_correlation_stats st;
	int64_t win[52];
	uint32_t len = 0, rng = 12345, fired = 0;
	uint64_t late = 0;

	load(ec50);
	for (int i = 0; i < 3000; i++) {
		int64_t ts;
		int before = nfires, want;

		rng = rng * 1103515245u + 12345u;
		ts = t(0, 0) + (int64_t)i * 1300 * (SEC / 1000) -
			(int64_t)((rng >> 8) % 5000) * (SEC / 1000);
		if (i % 100 < 5) /* a burst, now and then */
			ts = t(0, 0) + (int64_t)(i - i % 100) * 1300 * (SEC / 1000);
		want = model_fifty(win, &len, ts, &late);
		feed(ts, "h", "192.0.2.3", "u", "a");
		cr_assert_eq(nfires - before, want, "event %d", i);
		/* Late against the window's newest: its last entry. */
		lw_correlation_get_stats(corr, &st);
		cr_assert_eq(st.out_of_order, late, "event %d", i);
		fired += (uint32_t)want;
	}
	cr_log_info("%u firings, %llu late", fired, (unsigned long long)late);
	cr_expect_gt(fired, 5, "the model fires often enough to mean something");
	cr_expect_gt(late, 500, "and many events are late");
}
