/* lw_tamper: the attacks of tests/integration/test_integrity.sh and
 * test_retention.sh, done the way an insider with root would: straight
 * into data.mdb with LMDB, never through logward's store code. Segment
 * encoding (lw_segment_*) is used only to re-encode what an attacker
 * would rewrite.
 *
 * usage: lw_tamper COMMAND DIR [ARGS]
 *   flip DIR ID OFFSET     xor 0x01 into byte OFFSET of segment ID
 *   delete DIR ID          remove segment ID (and its metadata record)
 *   swap DIR A B           exchange the stored values of segments A and B
 *   truncate DIR N         remove the newest N segments and rewrite the
 *                          chain head so that it names the new newest one
 *   rechain DIR ID [keep]  drop the first event of segment ID, re-encode
 *                          it, and recompute the plain SHA-256 chain from
 *                          ID to the head (flags cleared, or kept with keep)
 *   unkey DIR              remove meta "integrity", clear every keyed flag
 *                          and recompute the whole chain with SHA-256
 *   forge-checkpoint DIR N [mac]  remove segments 1..N and write the
 *                          retention checkpoint that makes the rest link
 *                          (no MAC, or a made-up one with mac)
 *   edit-checkpoint DIR    flip a byte of the stored checkpoint's
 *                          previous-hash
 * Exit 0 done, 1 failure (message on stderr). */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/sha256.h"
#include "store/segment.h"
#include "store/store.h"

struct db {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi seg, segmeta, meta;
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "lw_tamper: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
	exit(1);
}

static void db_open(struct db *d, const char *dir)
{
	int rc;

	if ((rc = mdb_env_create(&d->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(d->env, 16)) != 0 ||
	    (rc = mdb_env_open(d->env, dir, 0, 0640)) != 0 ||
	    (rc = mdb_txn_begin(d->env, NULL, 0, &d->txn)) != 0 ||
	    (rc = mdb_dbi_open(d->txn, "segments", 0, &d->seg)) != 0 ||
	    (rc = mdb_dbi_open(d->txn, "segmeta", 0, &d->segmeta)) != 0 ||
	    (rc = mdb_dbi_open(d->txn, "meta", 0, &d->meta)) != 0)
		die("open", rc);
}

static void db_close(struct db *d)
{
	int rc = mdb_txn_commit(d->txn);

	if (rc != 0)
		die("commit", rc);
	mdb_env_close(d->env);
}

static void key_be(uint8_t k[8], uint64_t id)
{
	for (int i = 0; i < 8; i++)
		k[i] = (uint8_t)(id >> (56 - 8 * i));
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A malloc'ed copy of segment (dbi) id, or NULL when absent. */
static uint8_t *get_copy(struct db *d, MDB_dbi dbi, uint64_t id, size_t *len)
{
	uint8_t k[8], *out;
	MDB_val kv = {8, k}, v;

	key_be(k, id);
	if (mdb_get(d->txn, dbi, &kv, &v) != 0)
		return NULL;
	out = malloc(v.mv_size);
	if (out == NULL)
		die("malloc", 0);
	memcpy(out, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return out;
}

static void put(struct db *d, MDB_dbi dbi, uint64_t id, const void *val, size_t len)
{
	uint8_t k[8];
	MDB_val kv = {8, k}, v = {len, (void *)val};
	int rc;

	key_be(k, id);
	if ((rc = mdb_put(d->txn, dbi, &kv, &v, 0)) != 0)
		die("put", rc);
}

static void del(struct db *d, MDB_dbi dbi, uint64_t id)
{
	uint8_t k[8];
	MDB_val kv = {8, k};
	int rc;

	key_be(k, id);
	if ((rc = mdb_del(d->txn, dbi, &kv, NULL)) != 0)
		die("del", rc);
}

/* The head record (store.c: 104 bytes; last_id at 8, chain at 16,
 * segments at 48, events at 56). */
static uint8_t *head(struct db *d, MDB_val *v)
{
	MDB_val k = {4, (void *)"head"};
	int rc = mdb_get(d->txn, d->meta, &k, v);

	if (rc != 0 || v->mv_size != 104)
		die("get head", rc);
	return v->mv_data;
}

static void head_put(struct db *d, uint64_t last, const uint8_t chain[32],
		     uint64_t dsegs, uint64_t devents)
{
	MDB_val k = {4, (void *)"head"}, v;
	uint8_t h[104];
	int rc;

	memcpy(h, head(d, &v), sizeof(h));
	put_le(h + 8, last, 8);
	memcpy(h + 16, chain, 32);
	put_le(h + 48, le(h + 48, 8) - dsegs, 8);
	put_le(h + 56, le(h + 56, 8) - devents, 8);
	v.mv_size = sizeof(h);
	v.mv_data = h;
	if ((rc = mdb_put(d->txn, d->meta, &k, &v, 0)) != 0)
		die("put head", rc);
}

static struct lw_segment_header parse(const uint8_t *val, size_t len)
{
	struct lw_segment_header h;
	struct lw_diag dg = {0};

	if (lw_segment_header_parse(val, len, &h, &dg) != LW_OK) {
		fprintf(stderr, "lw_tamper: %s\n", dg.detail);
		exit(1);
	}
	return h;
}

/* Recomputes the plain SHA-256 chain of segments from..last, starting
 * from prev; clears the keyed flag unless keep. Returns the new head. */
static void rechain_from(struct db *d, uint64_t from, uint64_t last,
			 uint8_t prev[32], int keep)
{
	for (uint64_t id = from; id <= last; id++) {
		size_t len, mlen;
		uint8_t *val = get_copy(d, d->seg, id, &len);
		uint8_t *meta = get_copy(d, d->segmeta, id, &mlen);
		struct lw_segment_header h;

		if (val == NULL || meta == NULL)
			die("rechain: segment missing", 0);
		h = parse(val, len);
		if (!keep)
			h.flags = 0;
		memcpy(h.prev_chain, prev, 32);
		if (lw_segment_chain(&h, meta, mlen, val + LW_SEGMENT_HEADER_LEN,
				     len - LW_SEGMENT_HEADER_LEN, h.chain) != LW_OK)
			die("sha256", 0);
		lw_segment_header_write(&h, val);
		put(d, d->seg, id, val, len);
		memcpy(prev, h.chain, 32);
		free(val);
		free(meta);
	}
}

static void prev_of(struct db *d, uint64_t id, uint8_t prev[32])
{
	size_t len;
	uint8_t *val;

	memset(prev, 0, 32);
	if (id <= 1)
		return;
	val = get_copy(d, d->seg, id - 1, &len);
	if (val == NULL)
		die("previous segment missing", 0);
	memcpy(prev, parse(val, len).chain, 32);
	free(val);
}

/* Re-encodes segment id without its first event. */
static void drop_first_event(struct db *d, uint64_t id)
{
	struct lw_segment_decoder *dec = lw_segment_decoder_new();
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_sealed s;
	struct lw_diag dg = {0};
	const struct lw_event *evs;
	size_t len;
	uint8_t *val = get_copy(d, d->seg, id, &len);
	struct lw_segment_header old;
	uint32_t n;

	if (val == NULL || dec == NULL || b == NULL)
		die("rechain: no such segment", 0);
	old = parse(val, len);
	if (lw_segment_decode(dec, val, len, NULL, &dg) != LW_OK)
		die(dg.detail, 0);
	evs = lw_segment_decoder_events(dec, &n);
	if (n < 2)
		die("rechain: segment has fewer than 2 events", 0);
	for (uint32_t i = 1; i < n; i++)
		if (lw_segment_builder_add(b, &evs[i]) != LW_OK)
			die("builder add", 0);
	if (lw_segment_builder_seal(b, &s, &dg) != LW_OK)
		die(dg.detail, 0);
	s.hdr.id = id;
	s.hdr.flags = old.flags;
	memcpy(s.hdr.prev_chain, old.prev_chain, 32);
	lw_segment_header_write(&s.hdr, s.value);
	put(d, d->seg, id, s.value, s.value_len);
	put(d, d->segmeta, id, s.meta, s.meta_len);
	free(val);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(dec);
}

int main(int argc, char **argv)
{
	struct db d;
	MDB_val v;
	const char *cmd;
	uint64_t last;
	uint8_t prev[32];

	if (argc < 3) {
		fprintf(stderr, "usage: lw_tamper COMMAND DIR [ARGS] (see the source)\n");
		return 1;
	}
	cmd = argv[1];
	db_open(&d, argv[2]);
	last = le(head(&d, &v) + 8, 8);
	if (strcmp(cmd, "flip") == 0 && argc == 5) {
		uint64_t id = strtoull(argv[3], NULL, 10);
		size_t len, off = strtoull(argv[4], NULL, 10);
		uint8_t *val = get_copy(&d, d.seg, id, &len);

		if (val == NULL || off >= len)
			die("flip: no such segment or offset", 0);
		val[off] ^= 1;
		put(&d, d.seg, id, val, len);
		free(val);
	} else if (strcmp(cmd, "delete") == 0 && argc == 4) {
		uint64_t id = strtoull(argv[3], NULL, 10);

		del(&d, d.seg, id);
		del(&d, d.segmeta, id);
	} else if (strcmp(cmd, "swap") == 0 && argc == 5) {
		uint64_t a = strtoull(argv[3], NULL, 10), b = strtoull(argv[4], NULL, 10);
		size_t la, lb, ma, mb;
		uint8_t *va = get_copy(&d, d.seg, a, &la), *vb = get_copy(&d, d.seg, b, &lb);
		uint8_t *xa = get_copy(&d, d.segmeta, a, &ma), *xb = get_copy(&d, d.segmeta, b, &mb);

		if (!va || !vb || !xa || !xb)
			die("swap: no such segment", 0);
		put(&d, d.seg, a, vb, lb);
		put(&d, d.seg, b, va, la);
		put(&d, d.segmeta, a, xb, mb);
		put(&d, d.segmeta, b, xa, ma);
		free(va), free(vb), free(xa), free(xb);
	} else if (strcmp(cmd, "truncate") == 0 && argc == 4) {
		uint64_t n = strtoull(argv[3], NULL, 10), events = 0;

		for (uint64_t id = last - n + 1; id <= last; id++) {
			size_t len;
			uint8_t *val = get_copy(&d, d.seg, id, &len);

			if (val == NULL)
				die("truncate: segment missing", 0);
			events += parse(val, len).count;
			free(val);
			del(&d, d.seg, id);
			del(&d, d.segmeta, id);
		}
		prev_of(&d, last - n + 1, prev);
		head_put(&d, last - n, prev, n, events);
	} else if (strcmp(cmd, "rechain") == 0 && (argc == 4 || argc == 5)) {
		uint64_t id = strtoull(argv[3], NULL, 10);

		drop_first_event(&d, id);
		prev_of(&d, id, prev);
		rechain_from(&d, id, last, prev, argc == 5);
		head_put(&d, last, prev, 0, 1);
	} else if (strcmp(cmd, "unkey") == 0 && argc == 3) {
		MDB_val k = {9, (void *)"integrity"};

		if (mdb_del(d.txn, d.meta, &k, NULL) != 0)
			die("unkey: no integrity record", 0);
		memset(prev, 0, 32);
		rechain_from(&d, 1, last, prev, 0);
		head_put(&d, last, prev, 0, 0);
	} else if (strcmp(cmd, "forge-checkpoint") == 0 && (argc == 5 || argc == 4)) {
		uint64_t n = strtoull(argv[3], NULL, 10), events = 0;
		MDB_val k = {10, (void *)"checkpoint"}, cv;
		uint8_t c[168] = {0};
		int rc;

		prev_of(&d, n + 1, prev);
		for (uint64_t id = 1; id <= n; id++) {
			size_t len;
			uint8_t *val = get_copy(&d, d.seg, id, &len);

			if (val == NULL)
				die("forge: segment missing", 0);
			events += parse(val, len).count;
			free(val);
			del(&d, d.seg, id);
			del(&d, d.segmeta, id);
		}
		put_le(c, 1, 4);
		put_le(c + 4, 2, 4); /* max_bytes */
		put_le(c + 8, n + 1, 8);
		memcpy(c + 16, prev, 32);
		put_le(c + 56, n, 8);
		put_le(c + 64, events, 8);
		put_le(c + 80, n, 8);
		put_le(c + 88, events, 8);
		put_le(c + 104, 1, 8);
		if (argc == 5) {
			put_le(c + 128, last + 1, 8);
			memset(c + 136, 0xa5, 32);
		}
		cv.mv_size = sizeof(c);
		cv.mv_data = c;
		if ((rc = mdb_put(d.txn, d.meta, &k, &cv, 0)) != 0)
			die("put checkpoint", rc);
		{
			uint8_t hc[32];

			memcpy(hc, head(&d, &v) + 16, 32);
			head_put(&d, last, hc, n, events);
		}
	} else if (strcmp(cmd, "edit-checkpoint") == 0 && argc == 3) {
		MDB_val k = {10, (void *)"checkpoint"}, cv;
		uint8_t c[168];
		int rc;

		if (mdb_get(d.txn, d.meta, &k, &cv) != 0 || cv.mv_size != sizeof(c))
			die("no checkpoint", 0);
		memcpy(c, cv.mv_data, sizeof(c));
		c[16] ^= 1;
		cv.mv_data = c;
		if ((rc = mdb_put(d.txn, d.meta, &k, &cv, 0)) != 0)
			die("put checkpoint", rc);
	} else {
		fprintf(stderr, "lw_tamper: bad command or arguments\n");
		return 1;
	}
	db_close(&d);
	return 0;
}
