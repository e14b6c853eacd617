/* Unit tests for store/retention (and the keyed chain through the store):
 * exact counts deleted by max_bytes and max_age, small transactions, the
 * checkpoint verify starts from, gaps verify still finds, and the keyed
 * store: init-key, commits, checkpoint MAC, crash between commit and key
 * file update, a key file ahead of the store. */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "store/integrity.h"
#include "store/segment.h"
#include "store/store.h"
#include "store/verify.h"

static char dir[64], keypath[128];

static void rm_store(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	unlink(keypath);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lw-ret-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(keypath, sizeof(keypath), "%s/integrity.key", dir);
}

TestSuite(retention, .init = setup, .fini = rm_store);

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

#define SEC 1000000000ll

/* Commits one segment of n events; event i has time base_s + i seconds
 * and host "h<seg>" so names counts tell segments apart. */
static void commit_seg(struct lw_store *st, int seg, int n, int64_t base_s)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_diag d = {0};
	char host[16], msg[32];

	snprintf(host, sizeof(host), "h%d", seg);
	for (int i = 0; i < n; i++) {
		struct lw_event ev;

		memset(&ev, 0, sizeof(ev));
		snprintf(msg, sizeof(msg), "seg %d event %d", seg, i);
		ev.timestamp_ns = (base_s + i) * SEC;
		ev.created_ns = ev.timestamp_ns;
		ev.host = S(host);
		ev.app = S("sshd");
		ev.message = S(msg);
		ev.facility = 4;
		ev.severity = 6;
		cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
	}
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, &d), LW_OK, "%s", d.detail);
	lw_segment_builder_free(b);
}

static struct lw_store *open_rw(const struct lw_store_opts *o)
{
	struct lw_store *st;
	struct lw_diag d = {0};

	cr_assert_eq(lw_store_open(dir, o, &st, &d), LW_OK, "%s", d.detail);
	return st;
}

/* Stored value size and chain of segment id (reader). */
static size_t seg_info(struct lw_store *st, uint64_t id, uint8_t chain[32])
{
	struct lw_store_reader *rd;
	struct lw_segment_header h;
	const void *val;
	size_t len;

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_store_reader_get_segment(rd, id, &val, &len, NULL), LW_OK);
	cr_assert_eq(lw_segment_header_parse(val, len, &h, NULL), LW_OK);
	if (chain)
		memcpy(chain, h.chain, 32);
	lw_store_reader_close(rd);
	return len;
}

static struct lw_store_head head_of(struct lw_store *st)
{
	struct lw_store_reader *rd;
	struct lw_store_head h;

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_store_reader_head(rd, &h, NULL), LW_OK);
	lw_store_reader_close(rd);
	return h;
}

static int verify(struct lw_store *st, const uint8_t *key, struct lw_verify_result *res)
{
	struct lw_verify_opts o = {.key = key, .key_file = key ? keypath : NULL};
	struct lw_diag d = {0};

	return lw_verify_run(st, &o, res, &d);
}

static uint64_t host_events(struct lw_store *st, const char *host);

Test(retention, max_bytes_deletes_the_oldest_segments_until_under_the_bound)
{
	struct lw_store_opts o = {0};
	struct lw_store *st;
	struct lw_store_retain_result r;
	struct lw_store_head h;
	struct lw_verify_result vr;
	struct lw_store_reader *rd;
	struct lw_diag d = {0};
	uint8_t chain3[32];
	size_t sz[7] = {0};
	uint64_t seg, total;
	uint32_t idx;

	st = open_rw(NULL);
	for (int s = 1; s <= 6; s++)
		commit_seg(st, s, 20, 1000000 + s * 100);
	for (int s = 1; s <= 6; s++)
		sz[s] = seg_info(st, (uint64_t)s, s == 3 ? chain3 : NULL);
	lw_store_close(st);
	o.max_bytes = sz[4] + sz[5] + sz[6];
	st = open_rw(&o);
	cr_assert_eq(lw_store_retain(st, 2000000 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 3);
	cr_expect_eq(r.events, 60);
	cr_expect_eq(r.bytes, sz[1] + sz[2] + sz[3]);
	cr_expect_eq(r.txns, 1);
	cr_expect_eq(r.first_id, 4);
	h = head_of(st);
	cr_expect_eq(h.segments, 3);
	cr_expect_eq(h.events, 60);
	cr_expect_eq(h.stored_bytes, o.max_bytes);
	cr_expect_eq(h.min_ts, (1000000 + 400) * SEC);
	cr_expect_eq(h.max_ts, (1000000 + 600 + 19) * SEC);
	cr_assert(h.has_checkpoint);
	cr_expect_eq(h.first_id, 4);
	cr_expect_arr_eq(h.first_prev, chain3, 32);
	cr_expect_eq(h.ckpt.reason, LW_STORE_RETAIN_MAX_BYTES);
	cr_expect_eq(h.ckpt.time_ns, 2000000 * SEC);
	cr_expect_eq(h.ckpt.total_segments, 3);
	cr_expect_eq(h.ckpt.total_events, 60);
	cr_expect_eq(h.ckpt.key_index, 0);
	cr_expect_gt(h.ckpt.last_cost_ns, 0);
	/* Evidence seqs keep their numbers; the deleted ones are gone. */
	cr_assert_eq(lw_store_events_total(st, &total, NULL), LW_OK);
	cr_expect_eq(total, 120);
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_expect_eq(lw_store_reader_find_seq(rd, 0, &seg, &idx, NULL), LW_ENOTFOUND);
	cr_expect_eq(lw_store_reader_find_seq(rd, 59, &seg, &idx, NULL), LW_ENOTFOUND);
	cr_expect_eq(lw_store_reader_find_seq(rd, 60, &seg, &idx, NULL), LW_OK);
	cr_expect_eq(seg, 4);
	cr_expect_eq(idx, 0);
	lw_store_reader_close(rd);
	cr_expect_eq(host_events(st, "h1"), 0);
	cr_expect_eq(host_events(st, "h4"), 20);
	/* Nothing more is due: a second pass deletes nothing. */
	cr_assert_eq(lw_store_retain(st, 2000000 * SEC, &r, &d), LW_OK);
	cr_expect_eq(r.segments, 0);
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 3);
	cr_expect_eq(vr.events, 60);
	cr_expect(vr.has_checkpoint);
	/* New segments chain on. */
	commit_seg(st, 7, 5, 1000000 + 700);
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 4);
	lw_store_close(st);
}

struct host_count {
	const char *name;
	uint64_t events;
};

static int on_name(enum lw_store_name_kind kind, struct lw_str name,
		   uint64_t events, uint64_t skew, void *arg)
{
	struct host_count *hc = arg;

	(void)skew;
	if (kind == LW_STORE_HOST && name.len == strlen(hc->name) &&
	    memcmp(name.ptr, hc->name, name.len) == 0)
		hc->events = events;
	return 0;
}

static uint64_t host_events(struct lw_store *st, const char *host)
{
	struct lw_store_reader *rd;
	struct host_count hc = {host, 0};

	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_store_reader_names(rd, on_name, &hc, NULL), LW_OK);
	lw_store_reader_close(rd);
	return hc.events;
}

Test(retention, max_age_deletes_segments_whose_newest_event_is_too_old)
{
	struct lw_store_opts o = {.max_age_s = 1000};
	struct lw_store *st = open_rw(&o);
	struct lw_store_retain_result r;
	struct lw_store_head h;
	struct lw_verify_result vr;
	struct lw_diag d = {0};

	commit_seg(st, 1, 10, 10000);  /* newest event 10009 s */
	commit_seg(st, 2, 10, 11000);  /* 11009 */
	commit_seg(st, 3, 10, 12000);  /* 12009: kept at now = 13009 - 0 */
	commit_seg(st, 4, 10, 5000);   /* old, but behind a kept segment */
	/* cutoff = 13009 - 1000 = 12009: max_ts < cutoff goes. */
	cr_assert_eq(lw_store_retain(st, 13009 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 2);
	cr_expect_eq(r.events, 20);
	h = head_of(st);
	cr_expect_eq(h.ckpt.reason, LW_STORE_RETAIN_MAX_AGE);
	cr_expect_eq(h.first_id, 3);
	cr_expect_eq(h.events, 20);
	cr_expect_eq(h.min_ts, 5000 * SEC);
	cr_expect_eq(h.max_ts, 12009 * SEC);
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	/* Everything old: the whole store goes, the chain still verifies
	 * (checkpoint = head) and the next segment links to it. */
	cr_assert_eq(lw_store_retain(st, 100000 * SEC, &r, &d), LW_OK);
	cr_expect_eq(r.segments, 2);
	h = head_of(st);
	cr_expect_eq(h.segments, 0);
	cr_expect_eq(h.events, 0);
	cr_expect_eq(h.first_id, 5);
	cr_expect_eq(h.ckpt.total_segments, 4);
	cr_expect_eq(h.ckpt.total_events, 40);
	cr_expect_eq(h.ckpt.txns, 2);
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 0);
	commit_seg(st, 5, 3, 99999);
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 1);
	lw_store_close(st);
}

Test(retention, big_deletions_run_in_transactions_of_at_most_16_segments)
{
	struct lw_store_opts o = {.max_bytes = 1};
	struct lw_store *st = open_rw(&o);
	struct lw_store_retain_result r;
	struct lw_verify_result vr;
	struct lw_diag d = {0};

	for (int s = 1; s <= 40; s++)
		commit_seg(st, s, 2, 1000 + s);
	cr_assert_eq(lw_store_retain(st, 0, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 40);
	cr_expect_eq(r.events, 80);
	cr_expect_eq(r.txns, 3);
	cr_expect_eq(head_of(st).ckpt.last_segments, 8);
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	lw_store_close(st);
}

/* Raw LMDB, as an attacker. */
static void raw(void (*fn)(MDB_txn *, MDB_dbi seg, MDB_dbi segmeta, MDB_dbi meta))
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi seg, segmeta, meta;

	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "segments", 0, &seg), 0);
	cr_assert_eq(mdb_dbi_open(txn, "segmeta", 0, &segmeta), 0);
	cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	fn(txn, seg, segmeta, meta);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void del_5(MDB_txn *txn, MDB_dbi seg, MDB_dbi segmeta, MDB_dbi meta)
{
	uint8_t k[8] = {0, 0, 0, 0, 0, 0, 0, 5};
	MDB_val kv = {8, k};

	(void)meta;
	cr_assert_eq(mdb_del(txn, seg, &kv, NULL), 0);
	cr_assert_eq(mdb_del(txn, segmeta, &kv, NULL), 0);
}

static void edit_checkpoint(MDB_txn *txn, MDB_dbi seg, MDB_dbi segmeta, MDB_dbi meta)
{
	MDB_val k = {10, (void *)"checkpoint"}, v;
	uint8_t c[168];

	(void)seg;
	(void)segmeta;
	cr_assert_eq(mdb_get(txn, meta, &k, &v), 0);
	cr_assert_eq(v.mv_size, sizeof(c));
	memcpy(c, v.mv_data, sizeof(c));
	c[20] ^= 0x40; /* inside first_prev */
	v.mv_data = c;
	cr_assert_eq(mdb_put(txn, meta, &k, &v, 0), 0);
}

Test(retention, verify_still_finds_a_gap_after_retention_and_an_edited_checkpoint)
{
	struct lw_store_opts o = {.max_age_s = 1};
	struct lw_store *st = open_rw(&o);
	struct lw_store_retain_result r;
	struct lw_verify_result vr;
	struct lw_diag d = {0};

	for (int s = 1; s <= 6; s++)
		commit_seg(st, s, 4, s <= 2 ? 100 : 100000);
	cr_assert_eq(lw_store_retain(st, 50000 * SEC, &r, &d), LW_OK);
	cr_assert_eq(r.segments, 2);
	lw_store_close(st);
	raw(del_5);
	o.readonly = 1;
	st = open_rw(&o);
	cr_expect_eq(verify(st, NULL, &vr), LW_ECORRUPT);
	cr_expect_eq(vr.bad_id, 5, "%s", vr.reason);
	cr_expect_str_eq(vr.reason, "segment missing (next stored segment is 6)");
	lw_store_close(st);
	raw(edit_checkpoint);
	st = open_rw(&o);
	cr_expect_eq(verify(st, NULL, &vr), LW_ECORRUPT);
	cr_expect_eq(vr.bad_id, 3, "%s", vr.reason);
	cr_expect(strstr(vr.reason, "retention checkpoint does not match") != NULL, "%s", vr.reason);
	lw_store_close(st);
}

/* --- keyed store ------------------------------------------------------ */

static void init_key(uint8_t k1[32])
{
	struct lw_store *st = open_rw(NULL);
	struct lw_diag d = {0};

	cr_assert_eq(lw_store_init_key(st, keypath, k1, &d), LW_OK, "%s", d.detail);
	lw_store_close(st);
}

static struct lw_integrity_key key_file(void)
{
	struct lw_integrity_key k;

	cr_assert_eq(lw_integrity_file_load(keypath, &k, NULL), LW_OK);
	return k;
}

Test(retention, keyed_store_chains_with_the_ratchet_and_macs_its_checkpoint)
{
	struct lw_store_opts o = {.integrity_key = keypath, .max_bytes = 0};
	struct lw_store_retain_result r;
	struct lw_verify_result vr;
	struct lw_integrity_key want = {.index = 1}, f;
	struct lw_diag d = {0};
	struct lw_store *st;
	uint8_t k1[32], wrong[32];

	init_key(k1);
	f = key_file();
	cr_expect_eq(f.index, 1);
	cr_expect_arr_eq(f.key, k1, 32);
	st = open_rw(&o);
	for (int s = 1; s <= 5; s++)
		commit_seg(st, s, 3, 1000 * s);
	/* The file holds K_6 and nothing older. */
	memcpy(want.key, k1, 32);
	cr_assert_eq(lw_integrity_ratchet_to(&want, 6), LW_OK);
	f = key_file();
	cr_expect_eq(f.index, 6);
	cr_expect_arr_eq(f.key, want.key, 32);
	cr_expect_eq(verify(st, k1, &vr), LW_OK, "%s", vr.reason);
	cr_expect(vr.keyed_checked);
	cr_expect(vr.key_file_checked);
	lw_store_close(st);

	o.max_age_s = 1;
	st = open_rw(&o);
	cr_assert_eq(lw_store_retain(st, 2500 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 2);
	cr_expect_eq(head_of(st).ckpt.key_index, 6);
	cr_expect_eq(verify(st, k1, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 3);
	commit_seg(st, 6, 3, 6000);
	cr_expect_eq(verify(st, k1, &vr), LW_OK, "%s", vr.reason);
	/* Without the key: structure only, and it says so. */
	cr_expect_eq(verify(st, NULL, &vr), LW_OK, "%s", vr.reason);
	cr_expect(vr.keyed_store);
	cr_expect(!vr.keyed_checked);
	memcpy(wrong, k1, 32);
	wrong[0] ^= 1;
	cr_expect_eq(verify(st, wrong, &vr), LW_ECORRUPT);
	cr_expect_eq(vr.bad_id, 3, "%s", vr.reason);
	cr_expect_str_eq(vr.reason, "the retention checkpoint's MAC does not verify (forged or edited checkpoint)");
	lw_store_close(st);
}

Test(retention, a_crash_between_commit_and_key_file_update_is_ratcheted_at_open)
{
	struct lw_store_opts o = {.integrity_key = keypath};
	struct lw_verify_result vr;
	struct lw_integrity_key f, stale;
	struct lw_diag d = {0};
	struct lw_store *st;
	uint8_t k1[32];
	int fd;

	init_key(k1);
	st = open_rw(&o);
	commit_seg(st, 1, 3, 1000);
	stale = key_file(); /* (2, K_2) */
	commit_seg(st, 2, 3, 2000);
	lw_store_close(st);
	/* Put the file back to where a crash after segment 2's commit
	 * would have left it: the write goes around the forward-only
	 * advance, as a crash does. */
	{
		uint8_t buf[LW_INTEGRITY_FILE_LEN];
		FILE *fp = fopen(keypath, "r+");

		cr_assert_not_null(fp);
		lw_integrity_file_encode(&stale, buf);
		cr_assert_eq(fwrite(buf, 1, sizeof(buf), fp), sizeof(buf));
		fclose(fp);
	}
	cr_expect_eq(key_file().index, 2);
	st = open_rw(&o);
	f = key_file();
	cr_expect_eq(f.index, 3);
	commit_seg(st, 3, 3, 3000);
	cr_expect_eq(verify(st, k1, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 3);
	lw_store_close(st);
	/* A key file ahead of the store: the newest segments were removed.
	 * The writer refuses to go on (it cannot chain them anyway). */
	cr_assert_eq(lw_integrity_file_open(keypath, &fd, NULL), LW_OK);
	f = key_file();
	cr_assert_eq(lw_integrity_ratchet_to(&f, 9), LW_OK);
	cr_assert_eq(lw_integrity_file_advance(fd, &f, NULL), LW_OK);
	close(fd);
	cr_expect_eq(lw_store_open(dir, &o, &st, &d), LW_ECORRUPT);
	cr_expect_str_eq(d.detail,
			 "the key file is at segment 9 but the store's next segment is 4: the newest segments were removed (run logward verify --key)");
	o.readonly = 1;
	o.integrity_key = NULL;
	st = open_rw(&o);
	cr_expect_eq(verify(st, k1, &vr), LW_ECORRUPT);
	cr_expect_eq(vr.bad_id, 4, "%s", vr.reason);
	lw_store_close(st);
}

Test(retention, keyed_and_unkeyed_stores_refuse_the_wrong_writer)
{
	struct lw_store_opts keyed = {.integrity_key = keypath};
	struct lw_diag d = {0};
	struct lw_store *st;
	uint8_t k1[32];

	st = open_rw(NULL);
	commit_seg(st, 1, 2, 100);
	cr_expect_eq(lw_store_init_key(st, keypath, k1, &d), LW_EINVAL);
	cr_expect_str_eq(d.detail,
			 "the store already holds 1 segments: init-key needs a new data directory, so that every segment is keyed");
	cr_expect_eq(access(keypath, F_OK), -1);
	lw_store_close(st);
	cr_expect_eq(lw_store_open(dir, &keyed, &st, &d), LW_EINVAL);
	cr_expect_str_eq(d.detail, "storage.integrity_key is set but the store was not made with logward init-key");
	rm_store();
	cr_assert_eq(mkdir(dir, 0700), 0);
	init_key(k1);
	cr_expect_eq(lw_store_open(dir, &(struct lw_store_opts){.integrity_key = ""}, &st, &d),
		     LW_EINVAL);
	cr_expect_str_eq(d.detail, "the store is keyed (logward init-key): set storage.integrity_key to its key file");
	/* NULL opens (incidents ack/close need that) but stores no segment. */
	st = open_rw(NULL);
	{
		struct lw_segment_builder *b = lw_segment_builder_new();
		struct lw_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.message = S("x");
		cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
		cr_expect_eq(lw_store_commit(st, b, NULL, 0, &d), LW_EINVAL);
		cr_expect_str_eq(d.detail, "the store is keyed (logward init-key): set storage.integrity_key to its key file");
		cr_expect_eq(lw_segment_builder_count(b), 1);
		lw_segment_builder_free(b);
	}
	cr_expect_eq(head_of(st).last_id, 0);
	lw_store_close(st);
}

Test(retention, tick_waits_for_the_interval_unless_a_commit_overshoots_by_a_sixteenth)
{
	struct lw_store_opts o = {.retention_interval_ms = 3600000};
	struct lw_store_retain_result r;
	struct lw_diag d = {0};
	struct lw_store *st;
	size_t sz[5] = {0};

	st = open_rw(NULL);
	for (int s = 1; s <= 4; s++)
		commit_seg(st, s, 30, 1000 * s);
	for (int s = 1; s <= 4; s++)
		sz[s] = seg_info(st, (uint64_t)s, NULL);
	lw_store_close(st);
	/* One byte over: not worth an early pass. */
	o.max_bytes = sz[1] + sz[2] + sz[3] + sz[4] - 1;
	st = open_rw(&o);
	cr_assert_eq(lw_store_retention_tick(st, &r, &d), LW_OK); /* the first runs */
	cr_expect_eq(r.segments, 1);
	commit_seg(st, 5, 30, 5000);
	cr_assert_eq(lw_store_retention_tick(st, &r, &d), LW_OK);
	cr_expect_eq(r.txns, 0, "only %llu bytes over", (unsigned long long)sz[2]);
	lw_store_close(st);
	/* A bound of 2.5 segments: four stored go down to two, and a
	 * third is far enough over to run at once. */
	o.max_bytes = sz[1] + sz[2] + sz[3] / 2;
	st = open_rw(&o);
	cr_assert_eq(lw_store_retention_tick(st, &r, &d), LW_OK);
	cr_expect_eq(r.segments, 2); /* 2,3 go; 4,5 stay */
	commit_seg(st, 6, 30, 6000);
	cr_assert_eq(lw_store_retention_tick(st, &r, &d), LW_OK);
	cr_expect_eq(r.segments, 1);
	cr_expect_eq(head_of(st).first_id, 5);
	lw_store_close(st);
}

/* verify on a keyed store that a writer (another process, like serve) is
 * appending to: its snapshot misses the newest commits, so the key file
 * may already be past the snapshot's newest segment + 1. That is not a
 * truncation: every verify must pass. */
Test(retention, verify_of_a_live_keyed_store_is_not_a_truncation_alarm)
{
	struct lw_store_opts o = {.integrity_key = keypath};
	struct lw_verify_result vr;
	struct lw_store *st;
	uint8_t k1[32];
	int runs = 0, bad = 0, status;
	char first_bad[256] = "";
	pid_t pid;

	init_key(k1);
	st = open_rw(&o);
	for (int s = 1; s <= 40; s++)
		commit_seg(st, s, 200, 1000 * s);
	lw_store_close(st);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct lw_store *w;

		if (lw_store_open(dir, &o, &w, NULL) != LW_OK)
			_exit(2);
		for (int s = 41; s <= 100; s++) {
			struct timespec ts = {0, 3 * 1000 * 1000};

			commit_seg(w, s, 20, 1000 * s);
			nanosleep(&ts, NULL);
		}
		lw_store_close(w);
		_exit(0);
	}
	o.readonly = 1;
	o.integrity_key = NULL;
	st = open_rw(&o);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (verify(st, k1, &vr) != LW_OK && bad++ == 0)
			snprintf(first_bad, sizeof(first_bad), "%s", vr.reason);
		runs++;
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_eq(verify(st, k1, &vr), LW_OK, "%s", vr.reason);
	cr_expect_eq(vr.segments, 100);
	lw_store_close(st);
	cr_expect_gt(runs, 0);
	cr_expect_eq(bad, 0, "%d of %d verify runs failed: %s", bad, runs, first_bad);
}

/* A writer that opens a keyed store while another one (serve, ingest)
 * appends: the key file may advance between reading the store's head
 * and reading the file. That is no truncation: every open succeeds. */
Test(retention, opening_a_keyed_store_while_another_writer_appends)
{
	struct lw_store_opts o = {.integrity_key = keypath};
	struct lw_store *st;
	uint8_t k1[32];
	int opens = 0, bad = 0, status;
	char first_bad[600] = "";
	pid_t pid;

	init_key(k1);
	st = open_rw(&o);
	commit_seg(st, 1, 3, 1000);
	lw_store_close(st);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct lw_store *w;

		if (lw_store_open(dir, &o, &w, NULL) != LW_OK)
			_exit(2);
		for (int s = 2; s <= 600; s++)
			commit_seg(w, s, 1, 1000 * s);
		lw_store_close(w);
		_exit(0);
	}
	while (waitpid(pid, &status, WNOHANG) == 0) {
		struct lw_diag d = {0};

		if (lw_store_open(dir, &o, &st, &d) != LW_OK) {
			if (bad++ == 0)
				snprintf(first_bad, sizeof(first_bad), "%s", d.detail);
		} else {
			lw_store_close(st);
		}
		opens++;
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_expect_gt(opens, 0);
	cr_expect_eq(bad, 0, "%d of %d opens failed: %s", bad, opens, first_bad);
}
