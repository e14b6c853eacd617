/* tests/unit/test_pipeline.c - lw_pipeline against a real store in a
 * mkdtemp directory: counts in = counts stored, flush by size and by
 * interval, a burst that ended is committed early, stop drains,
 * backpressure wakes the producer, segments from the commit thread keep
 * arrival order, and the windows fed on the correlation thread raise the
 * same incidents, with the same evidence, as when the writer feeds them. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/pipeline.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "correlator/ruleset.h"
#include "store/incidents.h"
#include "store/query.h"
#include "store/relay.h"
#include "store/store.h"

static char dir[] = "/tmp/lw_test_pipeline.XXXXXX";
static struct lw_config *cfg;
static struct lw_store *store;
static struct lw_counters counters;
static struct lw_log log_;
static atomic_int resumed;

static void setup(void)
{
	struct lw_diag diag;

	cr_assert_not_null(mkdtemp(dir));
	cfg = malloc(sizeof(*cfg));
	cr_assert_not_null(cfg);
	lw_config_defaults(cfg);
	cfg->batch_events = 16;
	cfg->queue_batches = 4;
	cfg->storage.flush_interval_ms = 3600 * 1000; /* only when a test says */
	cfg->storage.segment_bytes = 1u << 30;
	lw_counters_init(&counters);
	lw_log_init(&log_, stderr, LW_LOG_ERR);
	atomic_store(&resumed, 0);
	cr_assert_eq(lw_store_open(dir, &(struct lw_store_opts){0}, &store, &diag), LW_OK,
		     "%s", diag.detail);
}

static void teardown(void)
{
	char cmd[128];

	lw_store_close(store);
	free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(pipeline, .init = setup, .fini = teardown, .timeout = 60);

static void on_resume(void *arg)
{
	(void)arg;
	atomic_fetch_add(&resumed, 1);
}

static struct lw_pipeline *start(void)
{
	struct lw_pipeline *p;
	struct lw_diag diag;
	struct lw_pipeline_opts o = {.cfg = cfg, .store = store, .log = &log_,
				     .counters = &counters,
				     .resume_cb = on_resume};

	cr_assert_eq(lw_pipeline_start(&o, &p, &diag), LW_OK);
	return p;
}

static void fill(struct lw_batch *b, uint32_t n, const char *msg)
{
	int64_t now = lw_time_now_ns();

	for (uint32_t i = 0; i < n; i++) {
		struct lw_event *ev = lw_batch_push(b);
		cr_assert_not_null(ev);
		ev->timestamp_ns = now;
		ev->created_ns = now;
		ev->host = LW_STR_LIT("host1");
		ev->app = LW_STR_LIT("app");
		ev->message.ptr = msg;
		ev->message.len = (uint32_t)strlen(msg);
		b->raw_bytes += strlen(msg);
	}
}

/* Polls a counter; the deadline only bounds a failure, nothing is timed. */
static uint64_t wait_for(enum lw_counter id, uint64_t want)
{
	struct timespec ts = {0, 5 * 1000 * 1000};

	for (int i = 0; i < 2000 && lw_counters_get(&counters, id) < want; i++)
		nanosleep(&ts, NULL);
	return lw_counters_get(&counters, id);
}

static uint64_t stored_in_snapshot(void)
{
	struct lw_buf snap;
	struct lw_counters c;

	lw_buf_init(&snap);
	lw_counters_init(&c);
	cr_assert_eq(lw_store_load_counters(store, &snap, NULL), LW_OK);
	lw_counters_merge(&c, snap.data, snap.len);
	lw_buf_release(&snap);
	return lw_counters_get(&c, LW_CTR_STORED);
}

Test(pipeline, every_submitted_event_is_stored_once)
{
	struct lw_pipeline *p = start();
	uint64_t total = 0;

	for (int i = 0; i < 100; i++) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);
		cr_assert_not_null(b);
		fill(b, (uint32_t)(1 + i % 16), "<13>Nov 27 12:00:00 h app: hello");
		total += b->count;
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), total);
	cr_expect_eq(stored_in_snapshot(), total, "the snapshot counts the last segment");
}

Test(pipeline, flushes_by_size)
{
	struct lw_pipeline *p;
	static char msg[1024];

	cfg->storage.segment_bytes = 4096;
	memset(msg, 'x', sizeof(msg) - 1);
	p = start();
	for (int i = 0; i < 4; i++) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);
		fill(b, 4, msg); /* 4 KiB raw per batch */
		lw_pipeline_submit(p, b);
	}
	cr_expect_geq(wait_for(LW_CTR_SEGMENTS, 2), 2, "size bound commits without stop");
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 16);
}

Test(pipeline, flushes_by_interval)
{
	struct lw_pipeline *p;
	struct lw_batch *b;

	cfg->storage.flush_interval_ms = 50;
	p = start();
	b = lw_pipeline_acquire(p, 1);
	fill(b, 3, "quiet sender");
	lw_pipeline_submit(p, b);
	/* The counter moves just before the commit; the snapshot after it. */
	for (int i = 0; i < 2000 && stored_in_snapshot() < 3; i++)
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	cr_expect_eq(stored_in_snapshot(), 3, "stored without a stop");
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_SEGMENTS), 1);
}

Test(pipeline, stop_drains_the_queue)
{
	struct lw_pipeline *p = start();
	struct lw_batch *b[4];

	for (int i = 0; i < 4; i++) {
		b[i] = lw_pipeline_acquire(p, 0);
		cr_assert_not_null(b[i]);
		fill(b[i], 16, "burst");
	}
	for (int i = 0; i < 4; i++)
		lw_pipeline_submit(p, b[i]);
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 64);
	cr_expect_eq(stored_in_snapshot(), 64);
}

Test(pipeline, starved_producer_is_resumed)
{
	struct lw_pipeline *p = start();
	struct lw_batch *b[4];

	for (int i = 0; i < 4; i++)
		b[i] = lw_pipeline_acquire(p, 0);
	cr_expect_null(lw_pipeline_acquire(p, 0), "pool of queue_batches is the bound");
	cr_expect_eq(atomic_load(&resumed), 0);
	fill(b[0], 1, "x");
	lw_pipeline_submit(p, b[0]);
	for (int i = 0; i < 2000 && atomic_load(&resumed) == 0; i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	cr_expect_eq(atomic_load(&resumed), 1);
	b[0] = lw_pipeline_acquire(p, 0);
	cr_expect_not_null(b[0]);
	for (int i = 0; i < 4; i++)
		lw_pipeline_submit(p, b[i]); /* empty ones go straight back */
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 1);
}

Test(pipeline, clock_skew_is_flagged_and_counted)
{
	struct lw_pipeline *p = start();
	struct lw_batch *b = lw_pipeline_acquire(p, 1);

	fill(b, 3, "skew");
	b->events[1].timestamp_ns -= (int64_t)(cfg->max_clock_skew_s + 1) * 1000000000;
	b->events[2].timestamp_ns += (int64_t)cfg->max_clock_skew_s * 1000000000;
	lw_pipeline_submit(p, b);
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CLOCK_SKEW), 1,
		     "exactly max_clock_skew is not skew");
}

/* The decoders' join table is bounded: a flood of sessions replaces the
 * oldest ones, and the writer counts each replacement. */
Test(pipeline, decoder_session_evictions_are_counted)
{
	static const char yaml[] =
		"decoders:\n"
		"  - match: {process.name: app}\n"
		"    pattern: '^open (?<sess__id>\\d+) from (?<source__ip>\\S+)$'\n"
		"    join: {key: sess.id, save: [source.ip]}\n";
	struct lw_pipeline_opts o = {.cfg = cfg, .store = store, .log = &log_,
				     .counters = &counters};
	uint32_t sessions = 2 * LW_DECODER_JOIN_ENTRIES, done = 0;
	struct lw_ruleset *rs = lw_ruleset_new(NULL);
	struct lw_diags diags;
	struct lw_pipeline *p;
	struct lw_diag diag;
	static char msgs[2 * LW_DECODER_JOIN_ENTRIES][48];

	lw_diags_init(&diags);
	cr_assert_not_null(rs);
	cr_assert_eq(lw_ruleset_load_decoders_string(rs, "t.yml", yaml, sizeof(yaml) - 1,
						     &diags), LW_OK);
	cr_assert_eq(lw_ruleset_build(rs, &diags), LW_OK);
	o.ruleset = rs;
	cr_assert_eq(lw_pipeline_start(&o, &p, &diag), LW_OK);
	while (done < sessions) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		for (uint32_t i = 0; i < 16 && done < sessions; i++, done++) {
			snprintf(msgs[done], sizeof(msgs[0]), "open %u from 192.0.2.1", done);
			fill(b, 1, msgs[done]);
		}
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_geq(lw_counters_get(&counters, LW_CTR_DECODER_SESSIONS_EVICTED),
		      sessions - LW_DECODER_JOIN_ENTRIES);
	cr_expect_leq(lw_counters_get(&counters, LW_CTR_DECODER_SESSIONS_EVICTED), sessions);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
}

/* n batches of `events` 1 KiB events each (a batch holds 16). */
static void submit_kib(struct lw_pipeline *p, int n, uint32_t events)
{
	static char msg[1024];

	memset(msg, 'x', sizeof(msg) - 1);
	for (int i = 0; i < n; i++) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		fill(b, events, msg);
		lw_pipeline_submit(p, b);
	}
}

/* A burst (8 full batches in a row) that ends with a partial batch is
 * committed once nothing more comes, not after flush_interval (an hour
 * here), when it holds at least 1/8 of segment_bytes. */
Test(pipeline, an_ended_burst_is_committed_without_waiting_for_the_interval)
{
	struct lw_pipeline *p;

	cfg->storage.segment_bytes = 1u << 20;
	p = start();
	submit_kib(p, 9, 16); /* 144 KiB: over 128 KiB, under 1 MiB */
	submit_kib(p, 1, 1);
	for (int i = 0; i < 2000 && stored_in_snapshot() < 145; i++)
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	cr_expect_eq(stored_in_snapshot(), 145, "stored without a stop or the interval");
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_SEGMENTS), 1);
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 145);
}

/* Steady traffic comes in partial batches (the collector hands one over
 * every 50 ms): however long the gaps, it waits for flush_interval, or
 * every gap would commit a small segment. */
Test(pipeline, steady_partial_batches_wait_for_the_interval)
{
	struct lw_pipeline *p;

	cfg->storage.segment_bytes = 1u << 20;
	p = start();
	for (int i = 0; i < 12; i++) { /* 180 KiB in all */
		submit_kib(p, 1, 15);
		nanosleep(&(struct timespec){0, 40 * 1000000}, NULL); /* 2x the quiet time */
	}
	nanosleep(&(struct timespec){0, 100 * 1000000}, NULL);
	cr_expect_eq(stored_in_snapshot(), 0, "not committed before the interval");
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(stored_in_snapshot(), 180);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_SEGMENTS), 1);
}

/* A small burst waits for the interval too: committing it would make a
 * segment (and an fsync) per batch of a bursty trickle. */
Test(pipeline, a_small_burst_waits_for_the_interval)
{
	struct lw_pipeline *p;

	cfg->storage.segment_bytes = 4u << 20; /* 1/8 = 512 KiB */
	p = start();
	submit_kib(p, 9, 16);
	submit_kib(p, 1, 1);
	nanosleep(&(struct timespec){0, 300 * 1000000}, NULL); /* 15x the quiet time */
	cr_expect_eq(stored_in_snapshot(), 0, "not committed before the interval");
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(stored_in_snapshot(), 145);
}

#define ORDER_EVENTS 1200

struct order_check {
	uint32_t next;
	uint64_t last_segment;
	int bad;
};

static int check_order(const struct lw_event *ev, uint64_t segment_id, void *arg)
{
	struct order_check *oc = arg;
	char want[16];

	snprintf(want, sizeof(want), "m%05u ", oc->next);
	if (ev->message.len < 7 || memcmp(ev->message.ptr, want, 7) != 0 ||
	    segment_id < oc->last_segment)
		oc->bad++;
	oc->next++;
	oc->last_segment = segment_id;
	return 0;
}

/* Small segments make the writer seal while the committer is still busy
 * with the previous one: every event is stored once, in arrival order. */
Test(pipeline, segments_from_the_commit_thread_keep_arrival_order)
{
	static char msgs[ORDER_EVENTS][640];
	struct order_check oc = {0, 0, 0};
	struct lw_query_filter f;
	struct lw_query *q;
	struct lw_diag diag;
	struct lw_pipeline *p;

	cfg->storage.segment_bytes = 4096;
	p = start();
	for (uint32_t i = 0; i < ORDER_EVENTS; i += 4) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		for (uint32_t k = i; k < i + 4; k++) {
			snprintf(msgs[k], sizeof(msgs[k]), "m%05u ", k);
			memset(msgs[k] + 7, 'y', sizeof(msgs[k]) - 8);
			fill(b, 1, msgs[k]);
		}
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), ORDER_EVENTS);
	cr_expect_geq(lw_counters_get(&counters, LW_CTR_SEGMENTS), 100);
	lw_query_filter_init(&f);
	cr_assert_eq(lw_query_new(store, &f, &q, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_query_run(q, check_order, &oc, &diag), LW_OK, "%s", diag.detail);
	lw_query_free(q);
	cr_expect_eq(oc.next, ORDER_EVENTS, "each event once");
	cr_expect_eq(oc.bad, 0, "in the order they were submitted");
}

#define JOIN_SESSIONS 512

struct join_check {
	uint32_t fails, joined, wrong;
};

static int check_joined(const struct lw_event *ev, uint64_t segment_id, void *arg)
{
	struct join_check *jc = arg;
	const struct lw_field *ip;
	unsigned k;
	char want[32];

	(void)segment_id;
	if (sscanf(ev->message.ptr, "fail %u", &k) != 1 || ev->message.ptr[0] != 'f')
		return 0;
	jc->fails++;
	ip = lw_event_field(ev, "source.ip", 9);
	if (ip == NULL)
		return 0;
	snprintf(want, sizeof(want), "192.0.2.%u", k % 250);
	if (ip->value.len == strlen(want) && memcmp(ip->value.ptr, want, ip->value.len) == 0)
		jc->joined++;
	else
		jc->wrong++;
	return 0;
}

/* A session's lines reach different batches, so with workers they are
 * decoded by different threads: the join still sees them in arrival
 * order (the workers leave join lines to the writer). */
Test(pipeline, joins_hold_across_batches_with_workers)
{
	static const char yaml[] =
		"decoders:\n"
		"  - name: open\n"
		"    match: {process.name: app}\n"
		"    pattern: '^open (?<sess__id>\\d+) from (?<source__ip>\\S+)$'\n"
		"    join: {key: sess.id, save: [source.ip]}\n"
		"  - name: fail\n"
		"    match: {process.name: app}\n"
		"    pattern: '^fail (?<sess__id>\\d+)$'\n"
		"    join: {key: sess.id, load: [source.ip]}\n";
	struct lw_pipeline_opts o = {.cfg = cfg, .store = store, .log = &log_,
				     .counters = &counters};
	static char msgs[2 * JOIN_SESSIONS][48];
	struct lw_ruleset *rs = lw_ruleset_new(NULL);
	struct join_check jc = {0, 0, 0};
	struct lw_query_filter f;
	struct lw_query *q;
	struct lw_diags diags;
	struct lw_pipeline *p;
	struct lw_diag diag;
	uint32_t n = 0;

	lw_diags_init(&diags);
	cr_assert_not_null(rs);
	cr_assert_eq(lw_ruleset_load_decoders_string(rs, "t.yml", yaml, sizeof(yaml) - 1,
						     &diags), LW_OK);
	cr_assert_eq(lw_ruleset_build(rs, &diags), LW_OK);
	cfg->workers = 2;
	cfg->queue_batches = 16;
	o.ruleset = rs;
	cr_assert_eq(lw_pipeline_start(&o, &p, &diag), LW_OK);
	/* Batch j opens sessions 8j..8j+7 and fails those of batch j-1. */
	for (uint32_t j = 0; j <= JOIN_SESSIONS / 8; j++) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		for (uint32_t k = 8 * j; k < 8 * j + 8 && k < JOIN_SESSIONS; k++) {
			snprintf(msgs[n], sizeof(msgs[0]), "open %u from 192.0.2.%u", k, k % 250);
			fill(b, 1, msgs[n++]);
		}
		for (uint32_t k = 8 * j - 8; j > 0 && k < 8 * j; k++) {
			snprintf(msgs[n], sizeof(msgs[0]), "fail %u", k);
			fill(b, 1, msgs[n++]);
		}
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 2 * JOIN_SESSIONS);
	lw_query_filter_init(&f);
	cr_assert_eq(lw_query_new(store, &f, &q, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_query_run(q, check_joined, &jc, &diag), LW_OK, "%s", diag.detail);
	lw_query_free(q);
	cr_expect_eq(jc.fails, JOIN_SESSIONS);
	cr_expect_eq(jc.joined, JOIN_SESSIONS, "every fail line got its session's address");
	cr_expect_eq(jc.wrong, 0);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
}

/* More edges than one segment's origin set holds (ORIGINS_MAX, 64), one
 * event each, all in one segment's time: every commit stores the mark of
 * every origin whose event it stores (a central node acknowledges and
 * deduplicates by these marks), so after each commit the events stored
 * equal the origins marked. */
#define MANY_ORIGINS 150

struct marks_check {
	uint32_t marked, bad;
	uint64_t stored;
};

static void on_committed(void *arg, const struct lw_store_origin *o, size_t n)
{
	struct marks_check *mc = arg;

	for (size_t i = 0; i < n; i++)
		if (o[i].next_seq == 1)
			mc->marked++; /* each origin is in one commit only */
	/* The writer thread: no assertion here, the test reads bad. */
	if (lw_store_events_total(store, &mc->stored, NULL) != LW_OK ||
	    mc->stored != mc->marked)
		mc->bad++;
}

Test(pipeline, every_commit_holds_the_marks_of_its_origins)
{
	struct marks_check mc = {0, 0, 0};
	struct lw_pipeline *p;
	struct lw_diag diag;

	cr_assert_eq(lw_pipeline_start(&(struct lw_pipeline_opts){.cfg = cfg,
				.store = store, .log = &log_, .counters = &counters,
				.committed_cb = on_committed, .committed_arg = &mc},
				       &p, &diag), LW_OK);
	for (uint32_t k = 0; k < MANY_ORIGINS; k++) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		fill(b, 1, "<13>Nov 27 12:00:00 h app: from an edge");
		b->origin_len = (uint32_t)snprintf(b->origin, sizeof(b->origin), "town-%u", k);
		b->origin_first = 0;
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(mc.stored, MANY_ORIGINS);
	cr_expect_eq(mc.marked, MANY_ORIGINS);
	cr_expect_eq(mc.bad, 0, "a commit stored events without their origin's mark");
	for (uint32_t k = 0; k < MANY_ORIGINS; k++) {
		char node[32];
		uint64_t next = 0;
		int len = snprintf(node, sizeof(node), "town-%u", k);

		cr_assert_eq(lw_relay_origin_load(store, node, (size_t)len, &next, NULL), LW_OK);
		cr_expect_eq(next, 1, "%s", node);
	}
}

/* A rule pack from strings (decoders, detection, correlation) and its
 * windows, for a pipeline with correlation. */
struct pack {
	struct lw_ruleset *rs;
	struct lw_correlation *corr;
	struct lw_diags diags;
};

static void pack_load(struct pack *k, const char *dec, const char *det, const char *cor)
{
	lw_diags_init(&k->diags);
	k->rs = lw_ruleset_new(NULL);
	cr_assert_not_null(k->rs);
	cr_assert_eq(lw_ruleset_load_decoders_string(k->rs, "d.yml", dec, strlen(dec),
						     &k->diags), LW_OK);
	cr_assert_eq(lw_ruleset_load_detection_string(k->rs, "r.yml", det, strlen(det),
						      &k->diags), LW_OK);
	cr_assert_eq(lw_ruleset_load_correlation_string(k->rs, "c.yml", cor, strlen(cor),
							&k->diags), LW_OK);
	cr_assert_eq(lw_ruleset_build(k->rs, &k->diags), LW_OK);
	cr_assert_eq(k->diags.nerrors, 0);
	k->corr = lw_correlation_new(k->rs);
	cr_assert_not_null(k->corr);
}

static void pack_free(struct pack *k)
{
	lw_correlation_free(k->corr);
	lw_ruleset_free(k->rs);
	lw_diags_release(&k->diags);
}

/* SOURCES addresses fail 3 times each, interleaved (source k at events
 * k, k + SOURCES, k + 2 * SOURCES), over a rule that fires at 3 per
 * address: every firing comes with the last third of the stream, more
 * than PENDING_COMMIT of them, so the forced commit runs while the
 * correlation thread is busy. The oracle is arithmetic: one incident per
 * address, count 3, evidence exactly its three seqs. */
#define SOURCES 2000

static const char fail_decoder[] =
	"decoders:\n"
	"  - name: fail\n"
	"    pattern: '^(?<event__action>\\S+) from (?<source__ip>\\S+)$'\n";
static const char fail_rules[] =
	"title: F\nid: 00000000-0000-4000-8000-0000000000f1\nname: t_fail\n"
	"level: informational\ntags: [logward.unauthorized-access]\n"
	"logsource: {product: linux}\n"
	"detection: {sel: {event.action: fail}, condition: sel}\n";
static const char fail_corr[] =
	"title: Three\nid: 00000000-0000-4000-8000-0000000000f2\nname: t_three\n"
	"level: high\ntags: [logward.unauthorized-access]\n"
	"correlation: {type: event_count, rules: [t_fail], group-by: [source.ip],\n"
	"  timespan: 5m, condition: {gte: 3}}\n";

struct fail_check {
	uint32_t seen, wrong;
};

static int check_fail_incident(const struct lw_incident_view *v, void *arg)
{
	struct fail_check *fc = arg;
	char group[128];
	unsigned a, b;
	uint32_t k;

	fc->seen++;
	snprintf(group, sizeof(group), "%.*s", (int)v->group.len, v->group.ptr);
	if (strstr(group, "\"10.0.") == NULL ||
	    sscanf(strstr(group, "\"10.0.") + 6, "%u.%u", &a, &b) != 2) {
		fc->wrong++;
		return 0;
	}
	k = a * 256 + b;
	if (v->count != 3 || v->nevidence != 3 ||
	    lw_incident_evidence(v, 0) != k ||
	    lw_incident_evidence(v, 1) != k + SOURCES ||
	    lw_incident_evidence(v, 2) != k + 2 * SOURCES) {
		cr_log_error("%s: count %llu, %u evidence", group,
			     (unsigned long long)v->count, v->nevidence);
		fc->wrong++;
	}
	return 0;
}

static void raise_fail_incidents(uint32_t workers, uint64_t segment_bytes)
{
	static char msgs[3 * SOURCES][40];
	struct lw_pipeline_opts o = {.cfg = cfg, .store = store, .log = &log_,
				     .counters = &counters};
	struct lw_incidents_filter f = {.status_mask = 0};
	struct fail_check fc = {0, 0};
	struct lw_store_reader *rd;
	struct pack pk;
	struct lw_pipeline *p;
	struct lw_diag diag;
	uint32_t e = 0;

	pack_load(&pk, fail_decoder, fail_rules, fail_corr);
	cfg->workers = workers;
	cfg->storage.segment_bytes = segment_bytes;
	o.ruleset = pk.rs;
	o.correlation = pk.corr;
	cr_assert_eq(lw_pipeline_start(&o, &p, &diag), LW_OK, "%s", diag.detail);
	while (e < 3 * SOURCES) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		for (uint32_t n = 0; n < cfg->batch_events && e < 3 * SOURCES; n++, e++) {
			uint32_t k = e % SOURCES;

			snprintf(msgs[e], sizeof(msgs[0]), "fail from 10.0.%u.%u", k / 256, k % 256);
			fill(b, 1, msgs[e]);
		}
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 3 * SOURCES);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_INCIDENTS_DROPPED), 0);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_INCIDENTS_RAISED), SOURCES);
	cr_assert_eq(lw_store_reader_open(store, &rd, &diag), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &f, check_fail_incident, &fc, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	cr_expect_eq(fc.seen, SOURCES);
	cr_expect_eq(fc.wrong, 0, "incidents with the wrong count or evidence");
	pack_free(&pk);
}

Test(pipeline, the_writer_feeding_the_windows_raises_every_incident)
{
	raise_fail_incidents(0, 1u << 30);
}

Test(pipeline, the_correlation_thread_raises_every_incident)
{
	raise_fail_incidents(1, 1u << 30);
}

/* Segments of about 40 events: seals in the middle of batches and of
 * the correlation thread's ranges. */
Test(pipeline, the_correlation_thread_keeps_evidence_across_small_segments)
{
	raise_fail_incidents(1, 1024);
}

/* Each event fires several windows at once (gte: 1, a new address each
 * time), in batches of 2048: the correlation thread feeds what it has
 * in hand (up to 2,303 events handed over before the first firings)
 * after the writer sees PENDING_COMMIT reached, so the firings pass
 * PENDING_MAX, and the overflow's first 2048, before the forced commit.
 * They wait for the commits after; none is dropped while storage works.
 * Six windows an event is within the bound (8); with a ring of 32 ranges
 * the test dropped thousands of firings in most runs on one core. */
#define FIRING_EVENTS 8192
#define FIRING_CORR_MAX 6

/* n correlations of t_fail by source.ip that fire at the first event. */
static void firing_corr(char *out, size_t cap, uint32_t n)
{
	size_t len = 0;

	for (uint32_t i = 1; i <= n; i++)
		len += (size_t)snprintf(out + len, cap - len,
			"%stitle: C%u\nid: 00000000-0000-4000-8000-0000000000c%u\n"
			"name: t_c%u\nlevel: high\ntags: [logward.unauthorized-access]\n"
			"correlation: {type: event_count, rules: [t_fail], group-by: [source.ip],\n"
			"  timespan: %um, condition: {gte: 1}}\n",
			i > 1 ? "---\n" : "", i, i, i, 4 + i);
	cr_assert_lt(len, cap);
}

static int count_incident(const struct lw_incident_view *v, void *arg)
{
	(void)v;
	(*(uint32_t *)arg)++;
	return 0;
}

static void fire_per_event(uint32_t workers, uint32_t ncorr)
{
	static char msgs[FIRING_EVENTS][40];
	char corr[FIRING_CORR_MAX * 256];
	struct lw_pipeline_opts o = {.cfg = cfg, .store = store, .log = &log_,
				     .counters = &counters};
	struct lw_incidents_filter f = {.status_mask = 0};
	struct lw_store_reader *rd;
	struct pack pk;
	struct lw_pipeline *p;
	struct lw_diag diag;
	uint32_t e = 0, listed = 0;

	firing_corr(corr, sizeof(corr), ncorr);
	pack_load(&pk, fail_decoder, fail_rules, corr);
	cfg->workers = workers;
	cfg->batch_events = 2048;
	o.ruleset = pk.rs;
	o.correlation = pk.corr;
	cr_assert_eq(lw_pipeline_start(&o, &p, &diag), LW_OK, "%s", diag.detail);
	while (e < FIRING_EVENTS) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		for (uint32_t n = 0; n < cfg->batch_events && e < FIRING_EVENTS; n++, e++) {
			snprintf(msgs[e], sizeof(msgs[0]), "fail from 10.1.%u.%u", e / 256, e % 256);
			fill(b, 1, msgs[e]);
		}
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), FIRING_EVENTS);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_INCIDENTS_DROPPED), 0);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_INCIDENTS_RAISED), ncorr * FIRING_EVENTS);
	cr_assert_eq(lw_store_reader_open(store, &rd, &diag), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &f, count_incident, &listed, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	cr_expect_eq(listed, ncorr * FIRING_EVENTS);
	pack_free(&pk);
}

Test(pipeline, firings_past_the_pending_limit_wait_for_the_next_commit)
{
	fire_per_event(1, 3);
}

Test(pipeline, firings_past_the_pending_limit_wait_without_the_thread_too)
{
	fire_per_event(0, 3);
}

Test(pipeline, six_firings_an_event_are_all_kept_with_the_thread)
{
	fire_per_event(1, FIRING_CORR_MAX);
}

/* Joined sessions with the correlation thread: each batch of 2048 holds
 * 1024 lines that only match a rule, then 1024 join lines (open N, fail
 * N-1024) the writer decodes itself. Their matches grow the slot's pool,
 * which the thread reads for the lines before them: under ASan a pool
 * moved while the thread reads it is a use after free. Oracle: every
 * fail line got its session's address, and the window counted every
 * event (one incident for the one group, count = all events). */
#define JOIN_BATCHES 4

static const char join_corr_decoders[] =
	"decoders:\n"
	"  - name: open\n"
	"    match: {process.name: app}\n"
	"    pattern: '^open (?<sess__id>\\d+) from (?<source__ip>\\S+)$'\n"
	"    join: {key: sess.id, save: [source.ip]}\n"
	"  - name: fail\n"
	"    match: {process.name: app}\n"
	"    pattern: '^fail (?<sess__id>\\d+)$'\n"
	"    join: {key: sess.id, load: [source.ip]}\n";
static const char join_corr_rules[] =
	"title: Any\nid: 00000000-0000-4000-8000-0000000000d1\nname: t_any\n"
	"level: informational\ntags: [logward.unauthorized-access]\n"
	"logsource: {product: linux}\n"
	"detection: {sel: {process.name: app}, condition: sel}\n";
static const char join_corr_corr[] =
	"title: All\nid: 00000000-0000-4000-8000-0000000000d2\nname: t_all\n"
	"level: high\ntags: [logward.unauthorized-access]\n"
	"correlation: {type: event_count, rules: [t_any], group-by: [process.name],\n"
	"  timespan: 1h, condition: {gte: 1}}\n";

static int sum_counts(const struct lw_incident_view *v, void *arg)
{
	((uint64_t *)arg)[0]++;
	((uint64_t *)arg)[1] += v->count;
	return 0;
}

Test(pipeline, joins_hold_with_the_correlation_thread)
{
	static char msgs[JOIN_BATCHES * 2048][48];
	struct lw_pipeline_opts o = {.cfg = cfg, .store = store, .log = &log_,
				     .counters = &counters};
	struct lw_incidents_filter inf = {.status_mask = 0};
	struct join_check jc = {0, 0, 0};
	struct lw_store_reader *rd;
	struct lw_query_filter f;
	struct lw_query *q;
	struct pack pk;
	struct lw_pipeline *p;
	struct lw_diag diag;
	uint64_t inc[2] = {0, 0};
	uint32_t n = 0, sess = 0;

	pack_load(&pk, join_corr_decoders, join_corr_rules, join_corr_corr);
	cfg->workers = 1;
	cfg->batch_events = 2048;
	o.ruleset = pk.rs;
	o.correlation = pk.corr;
	cr_assert_eq(lw_pipeline_start(&o, &p, &diag), LW_OK, "%s", diag.detail);
	for (uint32_t j = 0; j < JOIN_BATCHES; j++) {
		struct lw_batch *b = lw_pipeline_acquire(p, 1);

		cr_assert_not_null(b);
		for (uint32_t k = 0; k < 1024; k++) {
			snprintf(msgs[n], sizeof(msgs[0]), "hit %u", k);
			fill(b, 1, msgs[n++]);
		}
		for (uint32_t k = 0; k < 512; k++, sess++) {
			snprintf(msgs[n], sizeof(msgs[0]), "open %u from 192.0.2.%u", sess, sess % 250);
			fill(b, 1, msgs[n++]);
			snprintf(msgs[n], sizeof(msgs[0]), "fail %u", sess);
			fill(b, 1, msgs[n++]);
		}
		lw_pipeline_submit(p, b);
	}
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), JOIN_BATCHES * 2048);
	lw_query_filter_init(&f);
	cr_assert_eq(lw_query_new(store, &f, &q, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_query_run(q, check_joined, &jc, &diag), LW_OK, "%s", diag.detail);
	lw_query_free(q);
	cr_expect_eq(jc.fails, JOIN_BATCHES * 512);
	cr_expect_eq(jc.joined, JOIN_BATCHES * 512, "every fail line got its session's address");
	cr_assert_eq(lw_store_reader_open(store, &rd, &diag), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &inf, sum_counts, inc, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	cr_expect_eq(inc[0], 1, "one group");
	cr_expect_eq(inc[1], JOIN_BATCHES * 2048, "every event counted");
	pack_free(&pk);
}
