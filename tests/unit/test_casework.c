/* Unit tests for store/casework (and the record framing of store/rec):
 * assignment, checklist ticks and notes are kept per incident, refused
 * for an incident that does not exist, bounded, and a record that is cut
 * or has any byte changed is refused, never misread. Also the console's
 * other records: users, tokens (store/users), the audit trail
 * (store/audit), incident pages (store/incpage), and an older store
 * opened readonly. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/secret.h"
#include "store/audit.h"
#include "store/casework.h"
#include "store/incidents.h"
#include "store/incpage.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/users.h"

static char dir[64];
static struct lw_store *st;

static void rm_store(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* n incidents, ids 1..n, groups "10.0.0.<i>", last_seen 1000+i s; the
 * even ones closed. */
static void make_incidents(int n)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_incidents_raise *r = calloc((size_t)n, sizeof(*r));
	char (*groups)[64] = calloc((size_t)n, 64);
	struct lw_store_commit_extra x = {0};
	struct lw_diag d = {0};

	for (int i = 0; i < n; i++) {
		snprintf(groups[i], 64, "{\"source.ip\":\"10.0.0.%d\"}", i + 1);
		r[i] = (struct lw_incidents_raise){
			.rule_id = "rule-brute", .rule_title = "SSH brute force", .rule_level = "high",
			.category = i % 3 ? "unauthorized-access" : "dos", .level = "high",
			.response = "{\"steps\":[\"a\",\"b\",\"c\"],\"notify\":[]}", .group = groups[i],
			.host = "web1", .zone = "lgwan", .first_seen_ns = 1000000000000ll + i * 1000000000ll,
			.last_seen_ns = 1000000000000ll + i * 1000000000ll, .count = 1};
	}
	x.raises = r;
	x.nraises = (size_t)n;
	x.now_ns = 5000000000ll;
	cr_assert_eq(lw_store_commit_ex(st, b, &x, NULL, &d), LW_OK, "%s", d.detail);
	for (int i = 2; i <= n; i += 2)
		cr_assert_eq(lw_incidents_set_status(st, (uint64_t)i, LW_INCIDENTS_CLOSED, "t", NULL,
						     6000000000ll, NULL, NULL), LW_OK);
	lw_segment_builder_free(b);
	free(r);
	free(groups);
}

static void setup(void)
{
	struct lw_diag d = {0};

	snprintf(dir, sizeof(dir), "/tmp/lw-cw-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, &d), LW_OK, "%s", d.detail);
	make_incidents(7);
}

static void teardown(void)
{
	lw_store_close(st);
	rm_store();
}

TestSuite(casework, .init = setup, .fini = teardown);

static struct lw_casework_view *get(uint64_t id)
{
	static struct lw_casework_view v;
	struct lw_store_reader *rd;

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_casework_get(rd, id, &v, NULL), LW_OK);
	lw_store_reader_close(rd);
	return &v;
}

static int str_is(struct lw_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

Test(casework, assign_steps_notes)
{
	struct lw_casework_view *v = get(1);
	struct lw_diag d = {0};

	cr_assert_eq(v->nsteps + v->nnotes + v->assignee.len, 0, "nobody worked on it yet");
	cr_assert_eq(lw_casework_assign(st, 1, "yamada", "suzuki", 100, NULL), LW_OK);
	cr_assert_eq(lw_casework_set_step(st, 1, 2, 1, "yamada", 200, NULL), LW_OK);
	cr_assert_eq(lw_casework_set_step(st, 1, 0, 1, "yamada", 300, NULL), LW_OK);
	cr_assert_eq(lw_casework_set_step(st, 1, 2, 0, "suzuki", 400, NULL), LW_OK);
	cr_assert_eq(lw_casework_add_note(st, 1, "<b>blocked</b>", "yamada", 500, NULL), LW_OK);
	v = get(1);
	cr_assert(str_is(v->assignee, "yamada") && str_is(v->assigned_by, "suzuki"));
	cr_assert_eq(v->assigned_ns, 100);
	cr_assert_eq(v->nsteps, 2);
	cr_assert_eq(v->steps[0].index, 2);
	cr_assert_eq(v->steps[0].done, 0, "unticked again");
	cr_assert(str_is(v->steps[0].actor, "suzuki"));
	cr_assert_eq(v->steps[0].time_ns, 400);
	cr_assert_eq(v->steps[1].index, 0);
	cr_assert_eq(v->steps[1].done, 1);
	cr_assert_eq(v->nnotes, 1);
	cr_assert(str_is(v->notes[0].text, "<b>blocked</b>"));
	cr_assert_eq(get(3)->nnotes, 0, "other incidents untouched");
	cr_assert_eq(lw_casework_assign(st, 99, "x", "y", 1, &d), LW_ENOTFOUND);
	cr_assert_eq(lw_casework_add_note(st, 99, "x", "y", 1, NULL), LW_ENOTFOUND);
	cr_assert_eq(lw_casework_set_step(st, 1, 64, 1, "y", 1, NULL), LW_EINVAL);
	cr_assert_eq(lw_casework_add_note(st, 1, "", "y", 1, NULL), LW_EINVAL);
	cr_assert_eq(lw_casework_assign(st, 1, "", "y", 600, NULL), LW_OK);
	cr_assert_eq(get(1)->assignee.len, 0, "unassigned");
}

Test(casework, notes_are_bounded)
{
	for (int i = 0; i < LW_CASEWORK_MAX_NOTES; i++)
		cr_assert_eq(lw_casework_add_note(st, 3, "n", "a", i, NULL), LW_OK);
	cr_assert_eq(lw_casework_add_note(st, 3, "one too many", "a", 1, NULL), LW_EFULL);
	cr_assert_eq(get(3)->nnotes, LW_CASEWORK_MAX_NOTES);
}

Test(casework, every_truncation_and_flip_is_refused)
{
	struct lw_casework_view v, out;
	struct lw_buf rec;

	memset(&v, 0, sizeof(v));
	v.id = 5;
	v.assignee = (struct lw_str){"yamada", 6};
	v.assigned_by = (struct lw_str){"suzuki", 6};
	v.nsteps = 1;
	v.steps[0] = (struct lw_casework_step){1, 1, 77, {"yamada", 6}};
	v.nnotes = 1;
	v.notes[0] = (struct lw_casework_note){88, {"a", 1}, {"note", 4}};
	lw_buf_init(&rec);
	lw_casework_encode(&v, &rec);
	cr_assert_eq(lw_casework_decode(rec.data, rec.len, &out), LW_OK);
	cr_assert_eq(out.id, 5);
	cr_assert(str_is(out.notes[0].text, "note"));
	for (size_t n = 0; n < rec.len; n++)
		cr_assert_eq(lw_casework_decode(rec.data, n, &out), LW_ECORRUPT, "cut at %zu", n);
	for (size_t i = 0; i < rec.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			rec.data[i] ^= (char)(1 << bit);
			cr_assert_eq(lw_casework_decode(rec.data, rec.len, &out), LW_ECORRUPT,
				     "flip at %zu bit %d", i, bit);
			rec.data[i] ^= (char)(1 << bit);
		}
	}
	lw_buf_release(&rec);
}

/* --- users, tokens, audit ----------------------------------------------- */

Test(casework, users)
{
	struct lw_store_reader *rd;
	struct lw_user u = {.name = "yamada", .role = LW_ROLE_OPERATOR, .created_ns = 1}, got;
	struct lw_diag d = {0};

	cr_assert_eq(lw_secret_hash_password("pw", 2, 10, u.hash), LW_OK);
	cr_assert_eq(lw_users_put(st, &u, 1, &d), LW_OK, "%s", d.detail);
	cr_assert_eq(lw_users_put(st, &u, 1, &d), LW_EINVAL, "exists");
	snprintf(u.name, sizeof(u.name), "%s", "new");
	cr_assert_eq(lw_users_put(st, &u, 0, NULL), LW_ENOTFOUND, "update of a missing user");
	snprintf(u.name, sizeof(u.name), "%s", "a b");
	cr_assert_eq(lw_users_put(st, &u, 1, NULL), LW_EINVAL, "space in a name");
	snprintf(u.name, sizeof(u.name), "%s", "山田");
	u.role = LW_ROLE_VIEWER;
	cr_assert_eq(lw_users_put(st, &u, 1, NULL), LW_OK, "a Japanese name");
	u.role = LW_ROLE_NONE;
	cr_assert_eq(lw_users_put(st, &u, 0, NULL), LW_EINVAL, "no role");
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_users_get(rd, "yamada", &got, NULL), LW_OK);
	cr_assert_eq(got.role, LW_ROLE_OPERATOR);
	cr_assert_eq(lw_secret_check_password("pw", 2, got.hash), 1);
	cr_assert_eq(lw_users_get(rd, "nobody", &got, NULL), LW_ENOTFOUND);
	lw_store_reader_close(rd);
	cr_assert_eq(lw_users_role_parse("admin"), LW_ROLE_ADMIN);
	cr_assert_eq(lw_users_role_parse("root"), LW_ROLE_NONE);
}

Test(casework, tokens)
{
	char t1[LW_TOKEN_TEXT_LEN], t2[LW_TOKEN_TEXT_LEN];
	struct lw_store_reader *rd;
	struct lw_token t;

	cr_assert_eq(lw_tokens_add(st, "script", LW_ROLE_OPERATOR, "admin", 10, t1, NULL), LW_OK);
	cr_assert_eq(strlen(t1), LW_TOKEN_TEXT_LEN - 1);
	cr_assert_eq(strncmp(t1, "lwt_", 4), 0);
	cr_assert_eq(lw_tokens_add(st, "script", LW_ROLE_VIEWER, "admin", 10, t2, NULL), LW_EINVAL);
	cr_assert_eq(lw_tokens_add(st, "report", LW_ROLE_VIEWER, "admin", 10, t2, NULL), LW_OK);
	cr_assert_str_neq(t1, t2);
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_tokens_find(rd, t1, strlen(t1), &t, NULL), LW_OK);
	cr_assert_str_eq(t.name, "script");
	cr_assert_eq(t.role, LW_ROLE_OPERATOR);
	t1[10] ^= 1;
	cr_assert_eq(lw_tokens_find(rd, t1, strlen(t1), &t, NULL), LW_ENOTFOUND, "one bit off");
	t1[10] ^= 1;
	lw_store_reader_close(rd);
	cr_assert_eq(lw_tokens_revoke(st, "script", 20, NULL), LW_OK);
	cr_assert_eq(lw_tokens_revoke(st, "script", 20, NULL), LW_ENOTFOUND);
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_tokens_find(rd, t1, strlen(t1), &t, NULL), LW_ENOTFOUND, "revoked");
	cr_assert_eq(lw_tokens_find(rd, t2, strlen(t2), &t, NULL), LW_OK);
	lw_store_reader_close(rd);
	/* the name can be reused once revoked */
	cr_assert_eq(lw_tokens_add(st, "script", LW_ROLE_VIEWER, "admin", 30, t1, NULL), LW_OK);
}

static int collect_audit(const struct lw_audit_view *v, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%llu:%.*s:%u ", (unsigned long long)v->seq,
		 (int)v->action.len, v->action.ptr, v->status);
	return 0;
}

Test(casework, audit_newest_first)
{
	struct lw_store_reader *rd;
	char seen[256] = "";

	for (int i = 1; i <= 5; i++)
		cr_assert_eq(lw_audit_append(st, &(struct lw_audit_entry){
			.time_ns = i * 100, .actor = "a", .address = "127.0.0.1:1",
			.action = i % 2 ? "login" : "incident.ack", .status = 200 + i}, NULL), LW_OK);
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_audit_list(rd, 0, INT64_MIN, 0, collect_audit, seen, NULL, NULL), LW_OK);
	cr_assert_str_eq(seen, "5:login:205 4:incident.ack:204 3:login:203 2:incident.ack:202 1:login:201 ");
	seen[0] = '\0';
	cr_assert_eq(lw_audit_list(rd, 4, INT64_MIN, 2, collect_audit, seen, NULL, NULL), LW_OK);
	cr_assert_str_eq(seen, "3:login:203 2:incident.ack:202 ", "before 4, two");
	seen[0] = '\0';
	cr_assert_eq(lw_audit_list(rd, 0, 300, 0, collect_audit, seen, NULL, NULL), LW_OK);
	cr_assert_str_eq(seen, "5:login:205 4:incident.ack:204 3:login:203 ", "since 300");
	lw_store_reader_close(rd);
	cr_assert_str_eq(lw_audit_result(200), "ok");
	cr_assert_str_eq(lw_audit_result(403), "denied");
	cr_assert_str_eq(lw_audit_result(409), "failed");
}

/* --- incident pages ---------------------------------------------------- */

static int collect_ids(const struct lw_incident_view *v, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 128 - strlen(out), "%llu ", (unsigned long long)v->id);
	return 0;
}

static int only_unauth(const struct lw_incident_view *v, void *arg)
{
	(void)arg;
	return v->category.len == 19;
}

static void page(unsigned mask, enum lw_incpage_order o, struct lw_incpage_cursor *after,
		 uint32_t limit, int filtered, const char *want)
{
	struct lw_incpage_req req = {.status_mask = mask, .order = o, .limit = limit,
				     .keep = filtered ? only_unauth : NULL};
	struct lw_store_reader *rd;
	char seen[128] = "";

	req.after = *after;
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_incpage_walk(rd, &req, collect_ids, seen, after, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	cr_assert_str_eq(seen, want);
}

Test(casework, incident_pages)
{
	struct lw_incpage_cursor c = {0};

	/* ids 1..7; 2, 4, 6 closed; 1, 4, 7 are dos */
	page(0, LW_INCPAGE_NEWEST, &c, 2, 0, "7 5 ");
	cr_assert(c.set);
	page(0, LW_INCPAGE_NEWEST, &c, 2, 0, "3 1 ");
	page(0, LW_INCPAGE_NEWEST, &c, 2, 0, "");
	cr_assert(!c.set, "no more");
	memset(&c, 0, sizeof(c));
	page(LW_INCIDENTS_MASK_ALL, LW_INCPAGE_NEWEST, &c, 3, 0, "7 6 5 ");
	page(LW_INCIDENTS_MASK_ALL, LW_INCPAGE_NEWEST, &c, 3, 0, "4 3 2 ");
	page(LW_INCIDENTS_MASK_ALL, LW_INCPAGE_NEWEST, &c, 3, 0, "1 ");
	memset(&c, 0, sizeof(c));
	page(LW_INCIDENTS_MASK_CLOSED, LW_INCPAGE_OLDEST, &c, 2, 0, "2 4 ");
	page(LW_INCIDENTS_MASK_CLOSED, LW_INCPAGE_OLDEST, &c, 2, 0, "6 ");
	memset(&c, 0, sizeof(c));
	page(LW_INCIDENTS_MASK_ALL, LW_INCPAGE_LAST_SEEN, &c, 4, 0, "7 6 5 4 ");
	page(LW_INCIDENTS_MASK_ALL, LW_INCPAGE_LAST_SEEN, &c, 4, 0, "3 2 1 ");
	memset(&c, 0, sizeof(c));
	page(LW_INCIDENTS_MASK_ALL, LW_INCPAGE_NEWEST, &c, 10, 1, "6 5 3 2 ");
}

Test(casework, older_store_opened_readonly_reads_empty)
{
	char old[64];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	struct lw_store *ro;
	struct lw_store_opts opts = {.readonly = 1};
	struct lw_store_reader *rd;
	struct lw_user u;
	struct lw_casework_view v;
	char seen[256] = "";

	/* a store as logward wrote it before the console: no console databases */
	snprintf(old, sizeof(old), "/tmp/lw-old-XXXXXX");
	cr_assert_not_null(mkdtemp(old));
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	cr_assert_eq(mdb_env_open(env, old, 0, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (const char *const *n = (const char *const[]){"segments", "segmeta", "names", "meta",
		"seqidx", "incidents", "incopen", "incstatus", "inctime", NULL}; *n; n++)
		cr_assert_eq(mdb_dbi_open(txn, *n, MDB_CREATE, &dbi), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	cr_assert_eq(lw_store_open(old, &opts, &ro, NULL), LW_OK);
	cr_assert_eq(lw_store_reader_open(ro, &rd, NULL), LW_OK);
	cr_assert_eq(lw_users_get(rd, "x", &u, NULL), LW_ENOTFOUND);
	cr_assert_eq(lw_casework_get(rd, 1, &v, NULL), LW_OK);
	cr_assert_eq(lw_audit_list(rd, 0, INT64_MIN, 0, collect_audit, seen, NULL, NULL), LW_OK);
	cr_assert_str_eq(seen, "");
	lw_store_reader_close(rd);
	cr_assert_eq(lw_audit_append(ro, &(struct lw_audit_entry){.action = "x"}, NULL), LW_EINVAL);
	lw_store_close(ro);
	/* the first writable open adds them */
	cr_assert_eq(lw_store_open(old, NULL, &ro, NULL), LW_OK);
	cr_assert_eq(lw_audit_append(ro, &(struct lw_audit_entry){.action = "x", .status = 200}, NULL), LW_OK);
	lw_store_close(ro);
	snprintf(seen, sizeof(seen), "rm -rf %s", old);
	cr_assert_eq(system(seen), 0);
}

/* The console reads and writes from its own thread while the committer
 * may grow the map: a resize must wait until no snapshot of the process
 * is active, and a write txn of the console waits for nothing but LMDB. */
static atomic_int resized;

static void *resize_thread(void *arg)
{
	struct lw_store *s = arg;

	cr_assert_eq(lw_store_resize(s, lw_store_map_size(s) * 2), MDB_SUCCESS);
	atomic_store(&resized, 1);
	return NULL;
}

Test(casework, map_resize_waits_for_active_readers)
{
	struct lw_store_reader *rd;
	struct lw_store_head h;
	pthread_t t;
	uint64_t before = lw_store_map_size(st);

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_store_reader_head(rd, &h, NULL), LW_OK); /* a live snapshot */
	atomic_store(&resized, 0);
	cr_assert_eq(pthread_create(&t, NULL, resize_thread, st), 0);
	usleep(200000);
	cr_assert_eq(atomic_load(&resized), 0, "the map was resized under an active snapshot");
	/* the same thread may still write (the lock is shared twice) */
	cr_assert_eq(lw_casework_add_note(st, 1, "while reading", "a", 1, NULL), LW_OK);
	lw_store_reader_reset(rd);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(atomic_load(&resized), 1);
	cr_assert_eq(lw_store_map_size(st), 2 * before);
	/* the reader renews on the grown map */
	cr_assert_eq(lw_store_reader_head(rd, &h, NULL), LW_OK);
	lw_store_reader_close(rd);
}
