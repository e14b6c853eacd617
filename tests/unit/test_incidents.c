/* Unit tests for store/incidents: created with their segment in one
 * commit, merged by identity, seq -> event lookup, ack/close/history,
 * listing filters, correlation state, and corrupt records. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/incidents.h"
#include "store/segment.h"
#include "store/store.h"

static char dir[64];
static struct lw_store *st;
static struct lw_segment_builder *b;

static void rm_store(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static void setup(void)
{
	struct lw_diag d = {0};

	snprintf(dir, sizeof(dir), "/tmp/lw-inc-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, &d), LW_OK, "%s", d.detail);
	b = lw_segment_builder_new();
	cr_assert_not_null(b);
}

static void teardown(void)
{
	lw_segment_builder_free(b);
	lw_store_close(st);
	rm_store();
}

TestSuite(incidents, .init = setup, .fini = teardown);

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static void add_events(int first, int n, const char *host)
{
	char msg[64];

	for (int i = first; i < first + n; i++) {
		struct lw_event ev;

		memset(&ev, 0, sizeof(ev));
		snprintf(msg, sizeof(msg), "Failed password for root from 203.0.113.%d", i);
		ev.timestamp_ns = 1000000000ll * (1000 + i);
		ev.created_ns = ev.timestamp_ns;
		ev.host = S(host);
		ev.app = S("sshd");
		ev.zone = S("internet");
		ev.message = S(msg);
		ev.facility = 4;
		ev.severity = 5;
		cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
	}
}

static struct lw_incidents_raise raise_of(const char *group, const char *host,
					  const uint64_t *ev, uint32_t nev,
					  int64_t first, int64_t last)
{
	struct lw_incidents_raise r = {
		.rule_id = "rule-brute", .rule_title = "SSH brute force",
		.rule_level = "high", .category = "unauthorized-access",
		.level = "high",
		.response = "{\"steps\":[\"block the source\"],\"notify\":[\"soc\"]}",
		.group = group, .host = host, .zone = "internet",
		.first_seen_ns = first, .last_seen_ns = last,
		.count = nev, .nevidence = nev, .evidence = ev};
	return r;
}

static uint64_t total(void)
{
	uint64_t n;

	cr_assert_eq(lw_store_events_total(st, &n, NULL), LW_OK);
	return n;
}

static int commit_raises(const struct lw_incidents_raise *r, size_t n,
			 uint64_t first_seq, struct lw_store_commit_result *res)
{
	struct lw_store_commit_extra x = {0};
	struct lw_diag d = {0};
	int rc;

	x.raises = r;
	x.nraises = n;
	x.first_seq = first_seq;
	x.now_ns = 5000000000ll;
	rc = lw_store_commit_ex(st, b, &x, res, &d);
	cr_assert_eq(rc, LW_OK, "%s", d.detail);
	return rc;
}

static int get(uint64_t id, struct lw_incident_view *v, struct lw_store_reader **rd)
{
	cr_assert_eq(lw_store_reader_open(st, rd, NULL), LW_OK);
	return lw_incidents_get(*rd, id, v, NULL);
}

Test(incidents, created_in_the_commit_of_its_segment)
{
	uint64_t ev[3] = {0, 1, 2}, ids[1];
	uint8_t created[1];
	struct lw_buf json;
	struct lw_store_commit_result res = {.ids = ids, .created_flags = created,
					     .created_json = &json};
	struct lw_incidents_raise r = raise_of("{\"source.ip\":\"203.0.113.50\"}",
					       "web1", ev, 3, 1000, 1002);
	struct lw_incident_view v;
	struct lw_store_reader *rd;

	lw_buf_init(&json);
	cr_assert_eq(total(), 0);
	add_events(0, 3, "web1");
	commit_raises(&r, 1, 0, &res);
	cr_expect_eq(res.created, 1);
	cr_expect_eq(res.updated, 0);
	cr_expect_eq(ids[0], 1);
	cr_expect_eq(created[0], 1);
	cr_expect_eq(total(), 3);
	cr_assert(json.len > 0 && json.data[json.len - 1] == '\n');
	cr_expect(strstr(json.data, "\"group\":{\"source.ip\":\"203.0.113.50\"}") != NULL,
		  "%.*s", (int)json.len, json.data);
	cr_expect(strstr(json.data, "\"status\":\"open\"") != NULL);
	cr_expect(strstr(json.data, "\"host\":\"web1\"") != NULL);
	cr_expect(strstr(json.data, "\"response\":{\"steps\":[\"block the source\"]") != NULL);

	cr_assert_eq(get(1, &v, &rd), LW_OK);
	cr_expect_eq(v.count, 3);
	cr_expect_eq(v.nevidence, 3);
	cr_expect_eq(lw_incident_evidence(&v, 2), 2);
	cr_expect_eq(v.nhistory, 1);
	cr_expect_eq(v.history[0].status, LW_INCIDENTS_OPEN);
	/* Evidence seqs lead back to the stored events. */
	{
		uint64_t seg;
		uint32_t idx, n;
		const void *val;
		size_t len;
		struct lw_segment_decoder *dec = lw_segment_decoder_new();
		const struct lw_event *evs;

		cr_assert_eq(lw_store_reader_find_seq(rd, 2, &seg, &idx, NULL), LW_OK);
		cr_expect_eq(seg, 1);
		cr_expect_eq(idx, 2);
		cr_assert_eq(lw_store_reader_get_segment(rd, seg, &val, &len, NULL), LW_OK);
		cr_assert_eq(lw_segment_decode(dec, val, len, NULL, NULL), LW_OK);
		evs = lw_segment_decoder_events(dec, &n);
		cr_assert_eq(n, 3);
		cr_expect(memmem(evs[idx].message.ptr, evs[idx].message.len,
				 "203.0.113.2", 11) != NULL);
		cr_expect_eq(lw_store_reader_find_seq(rd, 3, &seg, &idx, NULL), LW_ENOTFOUND);
		lw_segment_decoder_free(dec);
	}
	lw_store_reader_close(rd);
	lw_buf_release(&json);
}

Test(incidents, repeat_of_same_identity_updates_the_open_incident)
{
	uint64_t ev1[2] = {0, 1}, ev2[3] = {1, 2, 3};
	struct lw_incidents_raise r1 = raise_of("{\"source.ip\":\"1.2.3.4\"}", "web1", ev1, 2, 1000, 1001);
	struct lw_incidents_raise r2 = raise_of("{\"source.ip\":\"1.2.3.4\"}", "web2", ev2, 3, 999, 1003);
	struct lw_incidents_raise r3 = raise_of("{\"source.ip\":\"5.6.7.8\"}", "web1", ev1, 2, 1000, 1001);
	struct lw_store_commit_result res = {0};
	struct lw_incident_view v;
	struct lw_store_reader *rd;

	add_events(0, 2, "web1");
	commit_raises(&r1, 1, 0, &res);
	add_events(2, 2, "web2");
	commit_raises(&r2, 1, 2, &res);
	cr_expect_eq(res.created, 0);
	cr_expect_eq(res.updated, 1);
	commit_raises(&r3, 1, 4, &res);
	cr_expect_eq(res.created, 1, "another group is another incident");

	cr_assert_eq(get(1, &v, &rd), LW_OK);
	cr_expect_eq(v.count, 5);
	cr_expect_eq(v.first_seen_ns, 999);
	cr_expect_eq(v.last_seen_ns, 1003);
	cr_expect_eq(v.host.len, 0, "two hosts: no single host");
	cr_expect_eq(v.zone.len, 8);
	/* seq 1 reported twice is kept once. */
	cr_assert_eq(v.nevidence, 4);
	for (uint32_t i = 0; i < 4; i++)
		cr_expect_eq(lw_incident_evidence(&v, i), i);
	lw_store_reader_close(rd);
}

Test(incidents, evidence_seqs_follow_events_another_process_committed_first)
{
	uint64_t ev[2] = {0, 1};
	struct lw_incidents_raise r = raise_of("{}", "web1", ev, 2, 1, 2);
	struct lw_store_commit_result res = {0};
	struct lw_incident_view v;
	struct lw_store_reader *rd;

	/* Another writer stores 5 events after we numbered ours from 0. */
	add_events(100, 5, "other");
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
	add_events(0, 2, "web1");
	commit_raises(&r, 1, 0, &res);
	cr_expect_eq(res.first_seq, 5);
	cr_assert_eq(get(1, &v, &rd), LW_OK);
	cr_expect_eq(lw_incident_evidence(&v, 0), 5);
	cr_expect_eq(lw_incident_evidence(&v, 1), 6);
	lw_store_reader_close(rd);
}

static int collect_ids(const struct lw_incident_view *v, void *arg)
{
	char *s = arg;
	size_t n = strlen(s);

	snprintf(s + n, 256 - n, "%llu:%s ", (unsigned long long)v->id,
		 lw_incidents_status_name(v->status));
	return 0;
}

static void list(unsigned mask, int64_t since, const char *cat, char *out)
{
	struct lw_incidents_filter f = {.status_mask = mask, .since_ns = since,
					.category = cat};
	struct lw_store_reader *rd;
	uint64_t corrupt = 0;

	out[0] = '\0';
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &f, collect_ids, out, &corrupt, NULL), LW_OK);
	lw_store_reader_close(rd);
}

Test(incidents, ack_close_history_and_listing)
{
	uint64_t ev[1] = {0};
	struct lw_incidents_raise r[3] = {
		raise_of("{\"a\":1}", "h", ev, 1, 10, 10),
		raise_of("{\"a\":2}", "h", ev, 1, 20, 20),
		raise_of("{\"a\":3}", "h", ev, 1, 30, 30)};
	struct lw_store_commit_result res = {0};
	struct lw_incident_view v;
	struct lw_store_reader *rd;
	struct lw_diag d = {0};
	struct lw_buf json;
	char out[256];

	lw_buf_init(&json);
	r[2].category = "malware";
	add_events(0, 1, "h");
	commit_raises(r, 3, 0, &res);
	cr_assert_eq(res.created, 3);

	cr_assert_eq(lw_incidents_set_status(st, 2, LW_INCIDENTS_ACKNOWLEDGED,
					     "alice", "looking", 100, &json, &d), LW_OK);
	cr_expect(strstr(json.data, "\"actor\":\"alice\",\"note\":\"looking\"") != NULL,
		  "%s", json.data);
	cr_assert_eq(lw_incidents_set_status(st, 3, LW_INCIDENTS_CLOSED,
					     "bob", NULL, 200, NULL, &d), LW_OK);
	cr_expect_eq(lw_incidents_set_status(st, 3, LW_INCIDENTS_CLOSED,
					     "bob", NULL, 300, NULL, &d), LW_EINVAL,
		     "closing a closed incident is an error");
	cr_expect_eq(lw_incidents_set_status(st, 3, LW_INCIDENTS_ACKNOWLEDGED,
					     "bob", NULL, 300, NULL, &d), LW_EINVAL);
	cr_expect_eq(lw_incidents_set_status(st, 2, LW_INCIDENTS_ACKNOWLEDGED,
					     "bob", NULL, 300, NULL, &d), LW_EINVAL);
	cr_expect_eq(lw_incidents_set_status(st, 99, LW_INCIDENTS_CLOSED,
					     "bob", NULL, 300, NULL, &d), LW_ENOTFOUND);

	list(0, 0, NULL, out);
	cr_expect_str_eq(out, "1:open 2:acknowledged ");
	list(LW_INCIDENTS_MASK_ALL, 0, NULL, out);
	cr_expect_str_eq(out, "1:open 2:acknowledged 3:closed ");
	list(LW_INCIDENTS_MASK_CLOSED, 0, NULL, out);
	cr_expect_str_eq(out, "3:closed ");
	list(LW_INCIDENTS_MASK_ALL, 15, NULL, out);
	cr_expect_str_eq(out, "2:acknowledged 3:closed ");
	list(LW_INCIDENTS_MASK_ALL, 0, "malware", out);
	cr_expect_str_eq(out, "3:closed ");

	cr_assert_eq(get(3, &v, &rd), LW_OK);
	cr_assert_eq(v.nhistory, 2);
	cr_expect_eq(v.history[1].status, LW_INCIDENTS_CLOSED);
	cr_expect_eq(v.history[1].time_ns, 200);
	cr_expect_eq(v.history[1].actor.len, 3);
	lw_store_reader_close(rd);

	/* The closed identity fires again: a new incident, not a reopening. */
	add_events(1, 1, "h");
	commit_raises(&r[2], 1, 1, &res);
	cr_expect_eq(res.created, 1);
	list(0, 0, NULL, out);
	cr_expect_str_eq(out, "1:open 2:acknowledged 4:open ");
	/* An acknowledged one still merges. */
	commit_raises(&r[1], 1, 2, &res);
	cr_expect_eq(res.updated, 1);
	lw_buf_release(&json);
}

Test(incidents, history_is_capped_keeping_the_creation)
{
	uint64_t ev[1] = {0};
	struct lw_incidents_raise r = raise_of("{}", "h", ev, 1, 1, 1);
	struct lw_incident_view v;
	struct lw_store_reader *rd;

	add_events(0, 1, "h");
	commit_raises(&r, 1, 0, NULL);
	cr_assert_eq(lw_incidents_set_status(st, 1, LW_INCIDENTS_ACKNOWLEDGED,
					     "a", "first ack", 10, NULL, NULL), LW_OK);
	cr_assert_eq(get(1, &v, &rd), LW_OK);
	{
		struct lw_buf rec;
		struct lw_incident_view big = v;

		/* Fill the history through the codec directly. */
		lw_buf_init(&rec);
		for (uint32_t i = big.nhistory; i < LW_INCIDENTS_MAX_HISTORY; i++) {
			big.history[i] = big.history[1];
			big.history[i].time_ns = 100 + i;
		}
		big.nhistory = LW_INCIDENTS_MAX_HISTORY;
		lw_incidents_encode(&big, &rec);
		cr_assert_eq(lw_incidents_decode(rec.data, rec.len, &v), LW_OK);
		cr_expect_eq(v.nhistory, LW_INCIDENTS_MAX_HISTORY);
		cr_expect_eq(v.history[0].status, LW_INCIDENTS_OPEN);
		lw_buf_release(&rec);
	}
	lw_store_reader_close(rd);
}

Test(incidents, evidence_is_capped_to_the_most_recent)
{
	uint64_t ev[40];
	struct lw_incidents_raise r;
	struct lw_incident_view v;
	struct lw_store_reader *rd;

	for (int i = 0; i < 40; i++)
		ev[i] = (uint64_t)i;
	r = raise_of("{}", "h", ev, 40, 1, 1);
	add_events(0, 40, "h");
	commit_raises(&r, 1, 0, NULL);
	for (int i = 0; i < 40; i++)
		ev[i] = (uint64_t)(40 + i);
	add_events(40, 40, "h");
	commit_raises(&r, 1, 40, NULL);
	cr_assert_eq(get(1, &v, &rd), LW_OK);
	cr_expect_eq(v.count, 80);
	cr_assert_eq(v.nevidence, LW_INCIDENTS_MAX_EVIDENCE);
	cr_expect_eq(lw_incident_evidence(&v, 0), 80 - LW_INCIDENTS_MAX_EVIDENCE);
	cr_expect_eq(lw_incident_evidence(&v, LW_INCIDENTS_MAX_EVIDENCE - 1), 79);
	lw_store_reader_close(rd);
}

Test(incidents, corrupt_records_are_rejected_never_crash)
{
	uint64_t ev[3] = {1, 2, 3};
	struct lw_incidents_raise r = raise_of("{\"x\":\"y\"}", "h", ev, 3, 1, 2);
	struct lw_incident_view v;
	struct lw_buf rec;

	lw_buf_init(&rec);
	memset(&v, 0, sizeof(v));
	v.id = 7;
	v.rule_id = S(r.rule_id);
	v.group = S(r.group);
	v.response = S(r.response);
	v.count = 3;
	v.nevidence = 0;
	v.nhistory = 1;
	v.history[0].actor = S("logward");
	lw_incidents_encode(&v, &rec);
	cr_assert_eq(lw_incidents_decode(rec.data, rec.len, &v), LW_OK);
	cr_expect_eq(v.id, 7);
	/* Every truncation and every single-byte flip is refused. */
	for (size_t n = 0; n < rec.len; n++)
		cr_expect_eq(lw_incidents_decode(rec.data, n, &v), LW_ECORRUPT, "len %zu", n);
	for (size_t i = 0; i < rec.len; i++) {
		char *copy = malloc(rec.len);

		memcpy(copy, rec.data, rec.len);
		copy[i] ^= 0x5a;
		cr_expect_eq(lw_incidents_decode(copy, rec.len, &v), LW_ECORRUPT, "byte %zu", i);
		free(copy);
	}
	/* Garbage of every small size. */
	for (size_t n = 0; n < 200; n++) {
		char *g = malloc(n + 1);

		for (size_t i = 0; i < n; i++)
			g[i] = (char)(i * 37 + n);
		if (n >= 4)
			memcpy(g, "LWIN", 4);
		(void)lw_incidents_decode(g, n, &v);
		free(g);
	}
	lw_buf_release(&rec);
}

Test(incidents, corrupt_stored_incident_is_replaced_and_listed_as_corrupt)
{
	uint64_t ev[1] = {0};
	struct lw_incidents_raise r = raise_of("{}", "h", ev, 1, 1, 1);
	struct lw_store_commit_result res = {0};
	struct lw_store_reader *rd;
	struct lw_incidents_filter f = {0};
	uint64_t corrupt = 0;
	char out[256] = "";
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, val;
	uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 1};

	add_events(0, 1, "h");
	commit_raises(&r, 1, 0, &res);
	lw_store_close(st);
	st = NULL;
	/* Flip a byte of record 1 behind the store's back. */
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "incidents", 0, &dbi), 0);
	k.mv_size = 8;
	k.mv_data = key;
	cr_assert_eq(mdb_get(txn, dbi, &k, &val), 0);
	{
		char *copy = malloc(val.mv_size);
		MDB_val nv = {val.mv_size, copy};

		memcpy(copy, val.mv_data, val.mv_size);
		copy[70] ^= 1;
		cr_assert_eq(mdb_put(txn, dbi, &k, &nv, 0), 0);
		free(copy);
	}
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	cr_assert_eq(lw_store_open(dir, NULL, &st, NULL), LW_OK);

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &f, collect_ids, out, &corrupt, NULL), LW_OK);
	cr_expect_eq(corrupt, 1);
	cr_expect_str_eq(out, "");
	lw_store_reader_close(rd);
	cr_expect_eq(lw_incidents_set_status(st, 1, LW_INCIDENTS_CLOSED, "a", NULL, 1,
					     NULL, NULL), LW_ECORRUPT);
	/* The next firing does not fail the commit: a new incident. */
	add_events(1, 1, "h");
	commit_raises(&r, 1, 1, &res);
	cr_expect_eq(res.created, 1);
}

struct logged {
	uint64_t seq[8];
	char text[8][16];
	int n;
};

static int on_change_set(void *arg, uint64_t seq, const void *data, size_t len)
{
	struct logged *l = arg;

	cr_assert_lt(l->n, 8);
	cr_assert_lt(len, sizeof(l->text[0]));
	l->seq[l->n] = seq;
	memcpy(l->text[l->n], data, len);
	l->text[l->n][len] = '\0';
	l->n++;
	return LW_OK;
}

static void commit_change_set(uint64_t seq, const char *text, uint64_t keep_from)
{
	struct lw_store_commit_extra x = {0};

	x.state_log = text;
	x.state_log_len = strlen(text);
	x.state_log_seq = seq;
	x.state_log_keep_from = keep_from;
	cr_assert_eq(lw_store_commit_ex(st, b, &x, NULL, NULL), LW_OK);
}

Test(incidents, correlation_change_log_keeps_what_is_needed)
{
	struct lw_store_commit_extra x = {0};
	struct logged l = {0};
	int legacy = 1;

	cr_assert_eq(lw_store_load_state_log(st, on_change_set, &l, &legacy, NULL), LW_OK);
	cr_expect_eq(l.n, 0);
	cr_expect_eq(legacy, 0);
	commit_change_set(1, "full", 1);
	commit_change_set(2, "two", 1);
	commit_change_set(3, "three", 1);
	/* NULL leaves the log as it is. */
	cr_assert_eq(lw_store_commit_ex(st, b, &x, NULL, NULL), LW_OK);
	cr_assert_eq(lw_store_load_state_log(st, on_change_set, &l, &legacy, NULL), LW_OK);
	cr_assert_eq(l.n, 3);
	cr_expect_eq(l.seq[0], 1);
	cr_expect_str_eq(l.text[0], "full");
	cr_expect_str_eq(l.text[2], "three");
	/* A sweep cycle completed: 1 and 2 are no longer needed. */
	commit_change_set(4, "four", 3);
	l.n = 0;
	cr_assert_eq(lw_store_load_state_log(st, on_change_set, &l, &legacy, NULL), LW_OK);
	cr_assert_eq(l.n, 2);
	cr_expect_eq(l.seq[0], 3);
	cr_expect_eq(l.seq[1], 4);
	cr_expect_str_eq(l.text[1], "four");
}

Test(incidents, json_shape_and_bad_stored_json_stay_valid)
{
	struct lw_incident_view v;
	struct lw_buf out;

	lw_buf_init(&out);
	memset(&v, 0, sizeof(v));
	v.id = 3;
	v.rule_id = S("r1");
	v.rule_title = S("T \"q\"");
	v.rule_level = S("high");
	v.category = S("malware");
	v.level = S("high");
	v.group = S("{\"source.ip\":");  /* not an object: rendered as {} */
	v.response = S("nonsense");
	v.nhistory = 1;
	v.history[0].actor = S("logward");
	v.history[0].note = S("raised");
	lw_incidents_to_json(&v, &out);
	lw_buf_putc(&out, '\0');
	cr_expect_str_eq(out.data,
		"{\"id\":3,\"rule\":{\"id\":\"r1\",\"title\":\"T \\\"q\\\"\",\"level\":\"high\"},"
		"\"category\":\"malware\",\"level\":\"high\",\"status\":\"open\",\"zone\":\"\","
		"\"group\":{},\"related\":{\"ip\":[],\"user\":[],\"hosts\":[]},"
		"\"related_more\":{\"ip\":0,\"user\":0,\"hosts\":0},"
		"\"first_seen\":\"1970-01-01T00:00:00.000000Z\","
		"\"last_seen\":\"1970-01-01T00:00:00.000000Z\",\"count\":0,"
		"\"response\":{\"steps\":[],\"notify\":[]},"
		"\"history\":[{\"time\":\"1970-01-01T00:00:00.000000Z\",\"status\":\"open\","
		"\"actor\":\"logward\",\"note\":\"raised\"}]}");
	lw_buf_release(&out);
}

static int count_listed(const struct lw_incident_view *v, void *arg)
{
	(void)v;
	(*(int *)arg)++;
	return 0;
}

static int listed_with(const char *related)
{
	struct lw_incidents_filter f = {.related = related};
	struct lw_store_reader *rd;
	int n = 0;

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &f, count_listed, &n, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	return n;
}

/* related.* of a firing are stored, unioned with the incident's on every
 * update, bounded at 16 values each with an estimate of the rest, shown
 * in JSON and text, and found by the --related filter. */
Test(incidents, related_entities_merged_bounded_and_listed)
{
	uint64_t ev1[2] = {0, 1}, ev2[2] = {2, 3};
	struct lw_store_commit_result res = {0};
	struct lw_related_set a, c;
	struct lw_incidents_raise r1, r2;
	struct lw_incident_view v;
	struct lw_store_reader *rd;
	struct lw_buf out;
	char ip[32];

	lw_related_clear(&a);
	lw_related_add(&a, LW_RELATED_IP, "203.0.113.50", 12);
	lw_related_add(&a, LW_RELATED_IP, "10.0.0.5", 8);
	lw_related_add(&a, LW_RELATED_USER, "root", 4);
	lw_related_add(&a, LW_RELATED_HOSTS, "web1", 4);
	r1 = raise_of("{\"source.ip\":\"203.0.113.50\"}", "web1", ev1, 2, 1000, 1001);
	r1.related = &a;
	add_events(0, 2, "web1");
	commit_raises(&r1, 1, 0, &res);

	/* The second firing repeats one address and brings 20 users. */
	lw_related_clear(&c);
	lw_related_add(&c, LW_RELATED_IP, "203.0.113.50", 12);
	for (int i = 0; i < 20; i++) {
		snprintf(ip, sizeof(ip), "user%02d", i);
		lw_related_add(&c, LW_RELATED_USER, ip, strlen(ip));
	}
	r2 = raise_of("{\"source.ip\":\"203.0.113.50\"}", "web1", ev2, 2, 1002, 1003);
	r2.related = &c;
	add_events(2, 2, "web1");
	commit_raises(&r2, 1, 2, &res);
	cr_expect_eq(res.updated, 1);

	cr_assert_eq(get(1, &v, &rd), LW_OK);
	cr_expect_eq(v.nrelated[LW_RELATED_IP], 2);
	cr_expect_eq(v.nrelated[LW_RELATED_USER], 16);
	cr_expect_eq(v.nrelated[LW_RELATED_HOSTS], 1);
	cr_expect_eq(lw_incident_related_more(&v, LW_RELATED_IP), 0);
	/* 21 users: root + user00..user14 kept, 5 more */
	cr_expect_eq(lw_incident_related_more(&v, LW_RELATED_USER), 5);
	lw_buf_init(&out);
	lw_incidents_to_json(&v, &out);
	lw_buf_putc(&out, '\0');
	cr_expect(strstr(out.data, "\"related\":{\"ip\":[\"203.0.113.50\",\"10.0.0.5\"],"
			 "\"user\":[\"root\",\"user00\",") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\"user14\"],\"hosts\":[\"web1\"]},"
			 "\"related_more\":{\"ip\":0,\"user\":5,\"hosts\":0}") != NULL, "%s", out.data);
	lw_buf_reset(&out);
	lw_incidents_to_text(&v, &out);
	lw_buf_putc(&out, '\0');
	cr_expect(strstr(out.data, " related.ip=203.0.113.50,10.0.0.5 related.user=root,user00,") != NULL,
		  "%s", out.data);
	cr_expect(strstr(out.data, "user14,+5 related.hosts=web1") != NULL, "%s", out.data);
	lw_buf_release(&out);
	lw_store_reader_close(rd);

	cr_expect_eq(listed_with("10.0.0.5"), 1);      /* related.ip only */
	cr_expect_eq(listed_with("user07"), 1);
	cr_expect_eq(listed_with("203.0.113.50"), 1);  /* group and related */
	cr_expect_eq(listed_with("203.0.113.5"), 0);   /* exact, not a prefix */
	cr_expect_eq(listed_with("user19"), 0);        /* counted, not kept */
}

/* An incident record with evidence seq 7 (and related_ip, when not
 * NULL), encoded as the current version, in *rec. */
static void encode_old_style(struct lw_buf *rec, uint64_t id, const char *related_ip)
{
	static const uint64_t ev[1] = {7};
	struct lw_incident_view v;

	memset(&v, 0, sizeof(v));
	v.id = id;
	v.rule_id = S("r");
	v.group = S("{}");
	v.count = 1;
	v.nevidence = 1;
	v.evidence = (const uint8_t *)ev; /* little-endian host */
	if (related_ip != NULL) {
		v.nrelated[LW_RELATED_IP] = 1;
		v.related[LW_RELATED_IP][0] = S(related_ip);
	}
	lw_buf_init(rec);
	lw_incidents_encode(&v, rec);
	cr_assert_eq(((uint8_t *)rec->data)[4], 3);
}

/* Marks rec as `version` and checksums it again with FNV-1a 64, as
 * versions 1 and 2 wrote it. */
static void as_fnv_version(struct lw_buf *rec, uint8_t version)
{
	uint8_t *p = (uint8_t *)rec->data;
	uint64_t h = 0xcbf29ce484222325ull;

	p[4] = version;
	for (size_t i = 16; i < rec->len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	for (int i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(h >> (8 * i));
}

/* A version 1 record (before related lists) still decodes: no entities. */
Test(incidents, version_1_record_decodes_without_related)
{
	struct lw_incident_view back;
	struct lw_buf rec;

	encode_old_style(&rec, 9, NULL);
	/* Cut the related section (3 x (u32 0 + 256-byte sketch)). */
	rec.len -= 3 * (4 + LW_RELATED_SKETCH_BYTES);
	as_fnv_version(&rec, 1);
	cr_assert_eq(lw_incidents_decode(rec.data, rec.len, &back), LW_OK);
	cr_expect_eq(back.id, 9);
	cr_expect_eq(lw_incident_evidence(&back, 0), 7);
	cr_expect_eq(back.nrelated[LW_RELATED_IP], 0);
	cr_expect_null(back.related_sketch[LW_RELATED_IP]);
	cr_expect_eq(lw_incident_related_more(&back, LW_RELATED_USER), 0);
	lw_buf_release(&rec);
}

/* A version 2 record (related lists, FNV-1a checksum: written before
 * version 3's faster checksum) still decodes, related values included;
 * the same bytes marked version 3 do not (the checksum is checked with
 * the version's own function). */
Test(incidents, version_2_record_decodes_with_its_fnv_checksum)
{
	struct lw_incident_view back;
	struct lw_buf rec;
	uint8_t *p;

	encode_old_style(&rec, 11, "203.0.113.9");
	as_fnv_version(&rec, 2);
	cr_assert_eq(lw_incidents_decode(rec.data, rec.len, &back), LW_OK);
	cr_expect_eq(back.id, 11);
	cr_expect_eq(lw_incident_evidence(&back, 0), 7);
	cr_assert_eq(back.nrelated[LW_RELATED_IP], 1);
	cr_expect(back.related[LW_RELATED_IP][0].len == 11 &&
		  memcmp(back.related[LW_RELATED_IP][0].ptr, "203.0.113.9", 11) == 0);
	p = (uint8_t *)rec.data;
	p[4] = 3;
	cr_expect_eq(lw_incidents_decode(rec.data, rec.len, &back), LW_ECORRUPT);
	p[4] = 4;
	cr_expect_eq(lw_incidents_decode(rec.data, rec.len, &back), LW_ECORRUPT);
	lw_buf_release(&rec);
}
