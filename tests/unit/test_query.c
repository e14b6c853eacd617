/* Unit tests for store/query (lw_query): each filter with exact counts,
 * metadata skipping, limit, and follow polling. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "store/query.h"
#include "store/segment.h"
#include "store/store.h"

static char dir[64];
static struct lw_store *st;

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

/* 4 segments x 100 events. Event i (0..399):
 *   ts = 1000 + i seconds; host h(i%4); app sshd when i even else cron;
 *   zone mynumber for segment 0 only, else lgwan (odd i) / internet;
 *   severity i%8; message "Failed password for uN" when i%10==0 else
 *   "Accepted publickey for uN"; field user.name=uN, source.ip=10.0.0.(i%3);
 *   msgid "M" + (i%2). */
static void add(struct lw_segment_builder *b, int i)
{
	static char hosts[4][8] = {"h0", "h1", "h2", "h3"};
	char msg[64], user[16], ip[16], msgid[4];
	struct lw_field f[2];
	struct lw_event ev;

	memset(&ev, 0, sizeof(ev));
	snprintf(msg, sizeof(msg), "%s for u%d",
		 i % 10 == 0 ? "Failed password" : "Accepted publickey", i);
	snprintf(user, sizeof(user), "u%d", i);
	snprintf(ip, sizeof(ip), "10.0.0.%d", i % 3);
	snprintf(msgid, sizeof(msgid), "M%d", i % 2);
	ev.timestamp_ns = 1000000000ll * (1000 + i);
	ev.created_ns = ev.timestamp_ns;
	ev.host = S(hosts[i % 4]);
	ev.app = S(i % 2 ? "cron" : "sshd");
	ev.zone = S(i < 100 ? "mynumber" : i % 2 ? "lgwan" : "internet");
	ev.msgid = S(msgid);
	ev.message = S(msg);
	ev.facility = 4;
	ev.severity = (uint8_t)(i % 8);
	f[0].key = S("user.name");
	f[0].value = S(user);
	f[1].key = S("source.ip");
	f[1].value = S(ip);
	ev.fields = f;
	ev.nfields = 2;
	cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
}

static void commit_range(int from, int to)
{
	struct lw_segment_builder *b = lw_segment_builder_new();

	for (int i = from; i < to; i++)
		add(b, i);
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
	lw_segment_builder_free(b);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lw-query-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, NULL), LW_OK);
	for (int s = 0; s < 4; s++)
		commit_range(s * 100, s * 100 + 100);
}

static void teardown(void)
{
	char p[128];

	lw_store_close(st);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

TestSuite(query, .init = setup, .fini = teardown);

struct seen {
	int n;
	int64_t last_ts;
	int ordered;
};

static int count_cb(const struct lw_event *ev, uint64_t seg, void *arg)
{
	struct seen *s = arg;

	(void)seg;
	if (s->n > 0 && ev->timestamp_ns < s->last_ts)
		s->ordered = 0;
	s->last_ts = ev->timestamp_ns;
	s->n++;
	return 0;
}

static int run(const struct lw_query_filter *f, struct lw_query_stats *stats)
{
	struct lw_query *q;
	struct seen s = {0, 0, 1};
	struct lw_diag d = {0};

	cr_assert_eq(lw_query_new(st, f, &q, &d), LW_OK, "%s", d.detail);
	cr_assert_eq(lw_query_run(q, count_cb, &s, &d), LW_OK, "%s", d.detail);
	cr_expect(s.ordered);
	if (stats != NULL)
		lw_query_get_stats(q, stats);
	lw_query_free(q);
	return s.n;
}

Test(query, no_filter_returns_every_event_in_order)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	cr_expect_eq(run(&f, NULL), 400);
}

Test(query, since_and_until_are_inclusive_and_skip_segments)
{
	struct lw_query_filter f;
	struct lw_query_stats s;

	lw_query_filter_init(&f);
	f.since_ns = 1000000000ll * 1150;
	f.until_ns = 1000000000ll * 1249;
	cr_expect_eq(run(&f, &s), 100);
	cr_expect_eq(s.segments_skipped, 2);
	cr_expect_eq(s.segments_decoded, 2);
}

Test(query, host_filter_is_exact)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	f.host = "h1";
	cr_expect_eq(run(&f, NULL), 100);
	f.host = "h";
	cr_expect_eq(run(&f, NULL), 0);
}

Test(query, unknown_host_decodes_nothing)
{
	struct lw_query_filter f;
	struct lw_query_stats s;

	lw_query_filter_init(&f);
	f.host = "nowhere";
	cr_expect_eq(run(&f, &s), 0);
	cr_expect_eq(s.segments_decoded, 0);
	cr_expect_eq(s.segments_skipped, 4);
}

Test(query, zone_filter_skips_segments_without_the_zone)
{
	struct lw_query_filter f;
	struct lw_query_stats s;

	lw_query_filter_init(&f);
	f.zone = "mynumber";
	cr_expect_eq(run(&f, &s), 100);
	cr_expect_eq(s.segments_decoded, 1);
	f.zone = "lgwan";
	cr_expect_eq(run(&f, &s), 150);
	cr_expect_eq(s.segments_skipped, 1);
}

Test(query, app_filter)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	f.app = "cron";
	cr_expect_eq(run(&f, NULL), 200);
}

Test(query, severity_means_at_or_above)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	f.max_severity = 3; /* err and worse: 0,1,2,3 */
	cr_expect_eq(run(&f, NULL), 200);
	f.max_severity = 0;
	cr_expect_eq(run(&f, NULL), 50);
}

Test(query, severity_names_parse)
{
	cr_expect_eq(lw_query_parse_severity("warning"), 4);
	cr_expect_eq(lw_query_parse_severity("WARN"), 4);
	cr_expect_eq(lw_query_parse_severity("err"), 3);
	cr_expect_eq(lw_query_parse_severity("error"), 3);
	cr_expect_eq(lw_query_parse_severity("emerg"), 0);
	cr_expect_eq(lw_query_parse_severity("7"), 7);
	cr_expect_eq(lw_query_parse_severity("8"), LW_EINVAL);
	cr_expect_eq(lw_query_parse_severity("loud"), LW_EINVAL);
}

Test(query, field_matches_extra_fields_and_members)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	f.nfields = 1;
	f.fields[0].key = "user.name";
	f.fields[0].value = "u42";
	cr_expect_eq(run(&f, NULL), 1);
	f.fields[0].key = "source.ip";
	f.fields[0].value = "10.0.0.1";
	cr_expect_eq(run(&f, NULL), 133);
	f.fields[0].key = "log.syslog.msgid";
	f.fields[0].value = "M1";
	cr_expect_eq(run(&f, NULL), 200);
	f.fields[0].key = "host.name";
	f.fields[0].value = "h2";
	cr_expect_eq(run(&f, NULL), 100);
	f.fields[0].key = "labels.zone";
	f.fields[0].value = "internet";
	cr_expect_eq(run(&f, NULL), 150);
	f.fields[0].key = "log.syslog.severity.code";
	f.fields[0].value = "7";
	cr_expect_eq(run(&f, NULL), 50);
	/* two conditions are ANDed */
	f.nfields = 2;
	f.fields[0].key = "source.ip";
	f.fields[0].value = "10.0.0.0";
	f.fields[1].key = "process.name";
	f.fields[1].value = "sshd";
	cr_expect_eq(run(&f, NULL), 67);
}

Test(query, grep_uses_pcre2)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	f.grep = "^Failed password for u\\d+$";
	cr_expect_eq(run(&f, NULL), 40);
	f.grep = "u(1|2)00\\b";
	cr_expect_eq(run(&f, NULL), 2);
}

Test(query, bad_grep_is_a_parse_error_with_offset)
{
	struct lw_query_filter f;
	struct lw_query *q;
	struct lw_diag d = {0};

	lw_query_filter_init(&f);
	f.grep = "abc(";
	cr_expect_eq(lw_query_new(st, &f, &q, &d), LW_EPARSE);
	cr_expect_eq(d.col, 5);
	cr_expect(strstr(d.detail, "pcre2") != NULL);
}

Test(query, combined_filters)
{
	struct lw_query_filter f;

	lw_query_filter_init(&f);
	f.host = "h0";       /* i % 4 == 0: even, so sshd */
	f.app = "sshd";
	f.zone = "internet"; /* i >= 100 and even */
	f.grep = "Failed";   /* i % 10 == 0 */
	/* i in [100,400), i % 20 == 0 */
	cr_expect_eq(run(&f, NULL), 15);
}

Test(query, limit_stops_early)
{
	struct lw_query_filter f;
	struct lw_query_stats s;

	lw_query_filter_init(&f);
	f.limit = 150;
	cr_expect_eq(run(&f, &s), 150);
	cr_expect_eq(s.segments_decoded, 2);
}

Test(query, follow_sees_only_new_segments)
{
	struct lw_query_filter f;
	struct lw_query *q;
	struct seen s = {0, 0, 1};

	lw_query_filter_init(&f);
	f.host = "h3";
	cr_assert_eq(lw_query_new(st, &f, &q, NULL), LW_OK);
	cr_assert_eq(lw_query_run(q, count_cb, &s, NULL), LW_OK);
	cr_expect_eq(s.n, 100);
	cr_expect_eq(lw_query_last_segment(q), 4);
	cr_assert_eq(lw_query_run(q, count_cb, &s, NULL), LW_OK);
	cr_expect_eq(s.n, 100, "nothing new");
	commit_range(400, 440);
	cr_assert_eq(lw_query_run(q, count_cb, &s, NULL), LW_OK);
	cr_expect_eq(s.n, 110);
	cr_expect_eq(lw_query_last_segment(q), 5);
	lw_query_free(q);
}

/* --- the read txn is not held while callbacks run ----------------------- */

struct reader_scan {
	char pid[16];
	int live;
};

static int on_reader_line(const char *msg, void *ctx)
{
	struct reader_scan *rs = ctx;
	char pid[16], tid[32], txn[32];

	/* "    pid     thread     txnid" lines; a reset slot shows "-" */
	if (sscanf(msg, "%15s %31s %31s", pid, tid, txn) == 3 &&
	    strcmp(pid, rs->pid) == 0 && strcmp(txn, "-") != 0)
		rs->live++;
	return 0;
}

/* How many live read txns this process holds on the store, as LMDB's
 * reader table says. Asked from a child process: the env must not be
 * opened twice in one process. */
static int live_readers_of_this_process(void)
{
	pid_t parent = getpid(), child;
	int status;

	fflush(NULL);
	child = fork();
	cr_assert_neq(child, -1);
	if (child == 0) {
		struct reader_scan rs = {{0}, 0};
		MDB_env *env;

		snprintf(rs.pid, sizeof(rs.pid), "%d", (int)parent);
		if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 16) != 0 ||
		    mdb_env_open(env, dir, MDB_RDONLY, 0640) != 0 ||
		    mdb_reader_list(env, on_reader_line, &rs) < 0)
			_exit(100);
		mdb_env_close(env);
		_exit(rs.live);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status));
	cr_assert_neq(WEXITSTATUS(status), 100, "reader probe failed");
	return WEXITSTATUS(status);
}

struct pause_probe {
	int n;
	int committed;
	int live_in_callback;
	uint64_t last_seg;
};

/* At the first event: ask LMDB whether a read txn is live, then commit
 * a new segment (as the writer would while `query | sleep 20` blocks). */
static int pause_cb(const struct lw_event *ev, uint64_t seg, void *arg)
{
	struct pause_probe *p = arg;

	(void)ev;
	p->n++;
	p->last_seg = seg;
	if (!p->committed) {
		p->committed = 1;
		p->live_in_callback = live_readers_of_this_process();
		commit_range(400, 450);
	}
	return 0;
}

Test(query, callbacks_run_without_a_read_txn_and_see_later_commits)
{
	struct lw_query_filter f;
	struct lw_query *q;
	struct lw_store_reader *rd;
	struct pause_probe p = {0};
	struct lw_diag d = {0};

	/* the probe does see a live txn */
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(live_readers_of_this_process(), 1);
	lw_store_reader_close(rd);
	cr_assert_eq(live_readers_of_this_process(), 0);

	lw_query_filter_init(&f);
	cr_assert_eq(lw_query_new(st, &f, &q, &d), LW_OK, "%s", d.detail);
	cr_assert_eq(lw_query_run(q, pause_cb, &p, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(p.live_in_callback, 0, "a read txn was held during the callback");
	/* The segment committed during segment 1's callbacks is read by the
	 * same run: each segment gets a renewed snapshot. */
	cr_expect_eq(p.n, 450);
	cr_expect_eq(p.last_seg, 5);
	cr_expect_eq(lw_query_last_segment(q), 5);
	lw_query_free(q);
}

Test(query_args, field_splits_at_the_first_equals_sign)
{
	struct lw_query_filter f;
	char a[] = "labels.zone=dmz=x", b[] = "=v", c[] = "novalue", d[] = "k=";

	lw_query_filter_init(&f);
	cr_assert_eq(lw_query_filter_add_field(&f, a), LW_OK);
	cr_expect_eq(f.nfields, 1);
	cr_expect_str_eq(f.fields[0].key, "labels.zone");
	cr_expect_str_eq(f.fields[0].value, "dmz=x");
	cr_expect_eq(lw_query_filter_add_field(&f, b), LW_EPARSE, "empty key");
	cr_expect_eq(lw_query_filter_add_field(&f, c), LW_EPARSE, "no '='");
	cr_expect_eq(f.nfields, 1, "a refused field is not added");
	cr_assert_eq(lw_query_filter_add_field(&f, d), LW_OK);
	cr_expect_str_eq(f.fields[1].value, "", "an empty value is a condition");
}

Test(query_args, at_most_max_fields)
{
	struct lw_query_filter f;
	char kv[LW_QUERY_MAX_FIELDS + 1][8];

	lw_query_filter_init(&f);
	for (int i = 0; i < LW_QUERY_MAX_FIELDS; i++) {
		snprintf(kv[i], sizeof(kv[i]), "k%d=v", i);
		cr_assert_eq(lw_query_filter_add_field(&f, kv[i]), LW_OK);
	}
	snprintf(kv[LW_QUERY_MAX_FIELDS], sizeof(kv[0]), "x=y");
	cr_expect_eq(lw_query_filter_add_field(&f, kv[LW_QUERY_MAX_FIELDS]), LW_EINVAL);
	cr_expect_eq(f.nfields, LW_QUERY_MAX_FIELDS);
}
