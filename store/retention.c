/* Retention and the keyed store's setup (part of lw_store): deletes the
 * oldest segments in small write transactions, each recording a chain
 * checkpoint so that verify still proves everything that is left, and
 * `init-key`. Writer thread. Format: docs/integrity.md, docs/storage.md. */
#include "store/segment.h"
#include "store/store.h"
#include "store/relay.h"
#include "store/store_int.h"
#include "core/hmac.h"
#include "core/time.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define CKPT_VERSION 1
#define CKPT_MAC_AT 136
/* One deletion transaction holds the writer for at most this much. */
#define RETAIN_TXN_SEGMENTS 16
#define RETAIN_TXN_BYTES (16ull << 20)
/* Transactions per pass; the rest waits for the next interval. */
#define RETAIN_PASS_TXNS 64

static const char ckpt_label[] = "logward/v1/checkpoint";

void lw_store_checkpoint_encode(const struct lw_store_checkpoint *c,
				uint8_t out[LW_STORE_CHECKPOINT_LEN])
{
	const uint64_t f[] = {c->time_ns, c->last_segments, c->last_events,
			      c->last_bytes, c->total_segments, c->total_events,
			      c->total_bytes, c->txns, c->last_cost_ns,
			      c->total_cost_ns, c->key_index};

	memset(out, 0, LW_STORE_CHECKPOINT_LEN);
	lw_store_le_put(out, CKPT_VERSION, 4);
	lw_store_le_put(out + 4, c->reason, 4);
	lw_store_le_put(out + 8, c->first_id, 8);
	memcpy(out + 16, c->first_prev, 32);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		lw_store_le_put(out + 48 + 8 * i, f[i], 8);
	memcpy(out + CKPT_MAC_AT, c->mac, 32);
}

int lw_store_checkpoint_decode(const void *rec, size_t len,
			       struct lw_store_checkpoint *c)
{
	const uint8_t *p = rec;
	uint64_t *f[] = {NULL, &c->last_segments, &c->last_events,
			 &c->last_bytes, &c->total_segments, &c->total_events,
			 &c->total_bytes, &c->txns, &c->last_cost_ns,
			 &c->total_cost_ns, &c->key_index};

	memset(c, 0, sizeof(*c));
	if (len != LW_STORE_CHECKPOINT_LEN || lw_store_le_get(p, 4) != CKPT_VERSION)
		return LW_ECORRUPT;
	c->reason = (uint32_t)lw_store_le_get(p + 4, 4);
	c->first_id = lw_store_le_get(p + 8, 8);
	memcpy(c->first_prev, p + 16, 32);
	c->time_ns = (int64_t)lw_store_le_get(p + 48, 8);
	for (size_t i = 1; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = lw_store_le_get(p + 48 + 8 * i, 8);
	memcpy(c->mac, p + CKPT_MAC_AT, 32);
	if (c->first_id < 2 || (c->reason != LW_STORE_RETAIN_MAX_AGE &&
				c->reason != LW_STORE_RETAIN_MAX_BYTES))
		return LW_ECORRUPT;
	return LW_OK;
}

int lw_store_checkpoint_mac(const struct lw_store_checkpoint *c,
			    const uint8_t key[32], uint8_t out[32])
{
	uint8_t rec[LW_STORE_CHECKPOINT_LEN];

	lw_store_checkpoint_encode(c, rec);
	return lw_hmac2(key, 32, ckpt_label, sizeof(ckpt_label) - 1, rec,
			CKPT_MAC_AT, out);
}

/* --- init-key --------------------------------------------------------- */

int lw_store_init_key(struct lw_store *st, const char *key_path,
		      uint8_t initial_key[32], struct lw_diag *diag)
{
	MDB_val ik = {9, (void *)"integrity"}, v;
	struct lw_store_head h;
	struct lw_integrity_key k;
	uint8_t rec[16];
	MDB_txn *txn = NULL;
	int rc;

	if (st->readonly)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "store opened readonly");
	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "begin write");
	rc = lw_store_head_load(st, txn, &h, diag);
	if (rc != LW_OK)
		goto out;
	if (h.keyed_from != 0) {
		rc = lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				 "the store is already keyed (from segment %llu)",
				 (unsigned long long)h.keyed_from);
		goto out;
	}
	/* Keying from segment 1 only: older unkeyed segments would be
	 * rewritable by anyone, and an auditor's key must cover all. */
	if (h.last_id != 0 || h.has_checkpoint) {
		rc = lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				 "the store already holds %llu segments: init-key needs a new data directory, so that every segment is keyed",
				 (unsigned long long)h.last_id);
		goto out;
	}
	rc = lw_integrity_file_create(key_path, &k, diag);
	if (rc != LW_OK)
		goto out;
	lw_store_le_put(rec, 1, 4);
	lw_store_le_put(rec + 4, 0, 4);
	lw_store_le_put(rec + 8, 1, 8);
	v.mv_size = sizeof(rec);
	v.mv_data = rec;
	rc = mdb_put(txn, st->meta, &ik, &v, 0);
	if (rc == MDB_SUCCESS)
		rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != MDB_SUCCESS) {
		unlink(key_path);
		lw_integrity_key_wipe(&k);
		return lw_store_mdb_fail(diag, rc, "commit");
	}
	memcpy(initial_key, k.key, 32);
	lw_integrity_key_wipe(&k);
	st->keyed_from = 1;
	return LW_OK;
out:
	mdb_txn_abort(txn);
	return rc;
}

/* --- retention -------------------------------------------------------- */

struct victim {
	uint64_t id;
	struct lw_segment_header h;
	size_t len; /* stored value bytes */
};

/* Takes one segment's counts off the names database. */
static int names_sub(struct lw_store *st, MDB_txn *txn, const struct lw_segment_meta *m)
{
	static const uint8_t kinds[LW_SEGMENT_META__KINDS] = {
		LW_STORE_HOST, LW_STORE_ZONE, LW_STORE_APP};
	uint8_t key[1 + LW_STORE_NAME_MAX], val[16];

	for (int kind = 0; kind < LW_SEGMENT_META__KINDS; kind++) {
		struct lw_segment_meta_item it;
		size_t pos = 0;

		while (lw_segment_meta_next(m, (enum lw_segment_meta_kind)kind, &pos, &it)) {
			size_t n = it.name.len < LW_STORE_NAME_MAX ? it.name.len
								   : LW_STORE_NAME_MAX;
			MDB_val k = {1 + n, key}, v;
			uint64_t events = 0, skew = 0;
			int rc;

			key[0] = kinds[kind];
			if (n)
				memcpy(key + 1, it.name.ptr, n);
			rc = mdb_get(txn, st->names, &k, &v);
			if (rc == MDB_NOTFOUND)
				continue;
			if (rc != MDB_SUCCESS)
				return rc;
			if (v.mv_size == 16) {
				events = lw_store_le_get(v.mv_data, 8);
				skew = lw_store_le_get((const uint8_t *)v.mv_data + 8, 8);
			}
			events = events > it.count ? events - it.count : 0;
			skew = skew > it.skew ? skew - it.skew : 0;
			if (events == 0) {
				rc = mdb_del(txn, st->names, &k, NULL);
			} else {
				lw_store_le_put(val, events, 8);
				lw_store_le_put(val + 8, skew, 8);
				v.mv_size = 16;
				v.mv_data = val;
				rc = mdb_put(txn, st->names, &k, &v, 0);
			}
			if (rc != MDB_SUCCESS)
				return rc;
		}
	}
	return MDB_SUCCESS;
}

/* The oldest seqidx entry belongs to the oldest segment with events. */
static int seqidx_drop(struct lw_store *st, MDB_txn *txn, uint64_t id)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (!st->has_inc)
		return MDB_SUCCESS;
	rc = mdb_cursor_open(txn, st->seqidx, &cur);
	if (rc != MDB_SUCCESS)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (rc == MDB_SUCCESS && v.mv_size == 16 && lw_store_rd_be64(v.mv_data) == id)
		rc = mdb_cursor_del(cur, 0);
	else if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND)
		rc = MDB_SUCCESS;
	mdb_cursor_close(cur);
	return rc;
}

/* The event time range of what is left, from the 48-byte fixed part of
 * each remaining metadata record (no segment is read). */
static int time_range(struct lw_store *st, MDB_txn *txn, struct lw_store_head *h)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, first = 1;

	h->min_ts = h->max_ts = 0;
	rc = mdb_cursor_open(txn, st->segmeta, &cur);
	if (rc != MDB_SUCCESS)
		return rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t lo, hi;

		if (v.mv_size < 24)
			continue;
		lo = (int64_t)lw_store_le_get((const uint8_t *)v.mv_data + 8, 8);
		hi = (int64_t)lw_store_le_get((const uint8_t *)v.mv_data + 16, 8);
		if (first || lo < h->min_ts)
			h->min_ts = lo;
		if (first || hi > h->max_ts)
			h->max_ts = hi;
		first = 0;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* Picks up to RETAIN_TXN_SEGMENTS oldest segments that the policy
 * deletes for one reason. */
static int pick(struct lw_store *st, MDB_txn *txn, const struct lw_store_head *head,
		int64_t now_ns, struct victim *vs, int *nv, uint32_t *reason,
		uint64_t *unforwarded, struct lw_diag *diag)
{
	int64_t cutoff = INT64_MIN;
	uint64_t pin = UINT64_MAX;
	uint64_t stored = head->stored_bytes, bytes = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	*nv = 0;
	*reason = LW_STORE_RETAIN_NONE;
	*unforwarded = 0;
	if (st->keep_unforwarded) {
		rc = lw_relay_pin_load(st, txn, &pin);
		if (rc != MDB_SUCCESS)
			return lw_store_mdb_fail(diag, rc, "fwdcursor");
	}
	if (st->max_age_s > 0 && st->max_age_s < (uint64_t)INT64_MAX / 1000000000 &&
	    now_ns > INT64_MIN + (int64_t)st->max_age_s * 1000000000)
		cutoff = now_ns - (int64_t)st->max_age_s * 1000000000;
	rc = mdb_cursor_open(txn, st->seg, &cur);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	     rc == MDB_SUCCESS && *nv < RETAIN_TXN_SEGMENTS && bytes < RETAIN_TXN_BYTES;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct victim *x = &vs[*nv];
		struct lw_diag d = {0};
		uint32_t why = LW_STORE_RETAIN_NONE;

		if (k.mv_size != 8)
			break;
		x->id = lw_store_rd_be64(k.mv_data);
		if (lw_segment_header_parse(v.mv_data, v.mv_size, &x->h, &d) != LW_OK) {
			mdb_cursor_close(cur);
			/* Deleting what does not parse would destroy the
			 * evidence of tampering: stop and say so. */
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "retention stopped at segment %llu: %s (run logward verify)",
					   (unsigned long long)x->id, d.detail);
		}
		if (cutoff != INT64_MIN) {
			/* Age is arrival time (the newest event.created in the
			 * metadata record), not event time: an imported
			 * archive, an old journal or a sender with a wrong
			 * clock must not be deleted as soon as it is stored. */
			struct lw_segment_meta m;
			MDB_val mv;
			int mrc = mdb_get(txn, st->segmeta, &k, &mv);

			if (mrc != MDB_SUCCESS ||
			    lw_segment_meta_parse(mv.mv_data, mv.mv_size, &m) != LW_OK) {
				mdb_cursor_close(cur);
				return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
						   "retention stopped at segment %llu: no readable metadata record (run logward verify)",
						   (unsigned long long)x->id);
			}
			/* An edge keeps what the centre has not acknowledged,
			 * however old (relay.h). */
			if (m.max_created < cutoff && x->id < pin)
				why = LW_STORE_RETAIN_MAX_AGE;
		}
		if (why == LW_STORE_RETAIN_NONE && st->max_bytes > 0 && stored > st->max_bytes)
			why = LW_STORE_RETAIN_MAX_BYTES;
		if (why == LW_STORE_RETAIN_NONE || (*reason != why && *reason != 0))
			break;
		*reason = why;
		if (x->id >= pin)
			*unforwarded += x->h.count;
		x->len = v.mv_size;
		stored -= stored > v.mv_size ? v.mv_size : stored;
		bytes += v.mv_size;
		(*nv)++;
	}
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return lw_store_mdb_fail(diag, rc, "cursor get");
	return LW_OK;
}

/* Deletes the picked segments, their metadata, seqidx entries and names
 * counts, and advances head and the checkpoint. LMDB code, or an lw_err
 * (negative, below LMDB's range) for a bad metadata record or key. */
static int drop(struct lw_store *st, MDB_txn *txn, struct lw_store_head *head,
		const struct victim *vs, int nv, struct lw_store_checkpoint *c,
		struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc, extreme = 0;

	for (int i = 0; i < nv; i++) {
		struct lw_segment_meta m;

		if (vs[i].h.min_ts <= head->min_ts || vs[i].h.max_ts >= head->max_ts)
			extreme = 1;

		lw_store_be64(key, vs[i].id);
		rc = mdb_get(txn, st->segmeta, &k, &v);
		if (rc == MDB_SUCCESS && lw_segment_meta_parse(v.mv_data, v.mv_size, &m) != LW_OK)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "retention stopped at segment %llu: its metadata record does not parse",
					   (unsigned long long)vs[i].id);
		if (rc == MDB_SUCCESS) {
			head->text_bytes -= head->text_bytes > m.text_bytes ? m.text_bytes
									  : head->text_bytes;
			rc = names_sub(st, txn, &m);
			if (rc == MDB_SUCCESS)
				rc = mdb_del(txn, st->segmeta, &k, NULL);
		} else if (rc == MDB_NOTFOUND) {
			rc = MDB_SUCCESS;
		}
		if (rc == MDB_SUCCESS)
			rc = mdb_del(txn, st->seg, &k, NULL);
		if (rc == MDB_SUCCESS)
			rc = seqidx_drop(st, txn, vs[i].id);
		if (rc != MDB_SUCCESS)
			return rc;
		head->segments -= head->segments > 0;
		head->events -= head->events > vs[i].h.count ? vs[i].h.count : head->events;
		head->raw_bytes -= head->raw_bytes > vs[i].h.raw_size ? vs[i].h.raw_size
								      : head->raw_bytes;
		head->stored_bytes -= head->stored_bytes > vs[i].len ? vs[i].len
								     : head->stored_bytes;
		c->last_segments++;
		c->last_events += vs[i].h.count;
		c->last_bytes += vs[i].len;
		c->first_id = vs[i].id + 1;
		memcpy(c->first_prev, vs[i].h.chain, 32);
	}
	/* The scan is O(segments kept): only when a deleted segment held
	 * the oldest or newest event time. */
	if (head->segments == 0) {
		head->min_ts = head->max_ts = 0;
		return MDB_SUCCESS;
	}
	return extreme ? time_range(st, txn, head) : MDB_SUCCESS;
}

/* One deletion transaction. *done = 1 when nothing (more) is due. */
static int retain_txn(struct lw_store *st, int64_t now_ns,
		      struct lw_store_retain_result *res, int *done,
		      struct lw_diag *diag)
{
	int64_t t0 = lw_time_mono_ns();
	struct victim vs[RETAIN_TXN_SEGMENTS];
	struct lw_store_head head;
	struct lw_store_checkpoint c;
	struct lw_integrity_key key = {0};
	uint8_t rec[LW_STORE_CHECKPOINT_LEN];
	MDB_val ck = {10, (void *)"checkpoint"}, v = {sizeof(rec), rec};
	MDB_txn *txn = NULL;
	uint32_t reason;
	uint64_t unforwarded = 0;
	int nv, rc;

	*done = 0;
	rc = lw_store_begin_write(st, &txn);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "begin write");
	rc = lw_store_head_load(st, txn, &head, diag);
	if (rc == LW_OK)
		rc = pick(st, txn, &head, now_ns, vs, &nv, &reason, &unforwarded, diag);
	if (rc != LW_OK)
		goto out;
	if (nv == 0) {
		*done = 1;
		goto out;
	}
	if (head.keyed_from != 0 && st->key_fd < 0) {
		/* A checkpoint without a MAC would read as forged. */
		rc = lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				 "the store is keyed (logward init-key): retention needs storage.integrity_key");
		goto out;
	}
	c = head.has_checkpoint ? head.ckpt : (struct lw_store_checkpoint){0};
	c.last_segments = c.last_events = c.last_bytes = 0;
	rc = drop(st, txn, &head, vs, nv, &c, diag);
	if (rc < 0 && rc >= LW_ECOMPRESS)
		goto out;
	if (rc != MDB_SUCCESS)
		goto mdb_out;
	c.reason = reason;
	c.time_ns = now_ns;
	c.total_segments += c.last_segments;
	c.total_events += c.last_events;
	c.total_bytes += c.last_bytes;
	c.txns++;
	c.last_cost_ns = (uint64_t)(lw_time_mono_ns() - t0);
	c.total_cost_ns += c.last_cost_ns;
	c.key_index = 0;
	memset(c.mac, 0, sizeof(c.mac));
	if (st->key_fd >= 0) {
		/* MAC'ed with the key of the next segment: whoever forges a
		 * checkpoint needs a key at least that new (docs/integrity.md). */
		rc = lw_store_key_for(st, head.last_id + 1, &key, diag);
		if (rc != LW_OK)
			goto out;
		c.key_index = key.index;
		rc = lw_store_checkpoint_mac(&c, key.key, c.mac);
		lw_integrity_key_wipe(&key);
		if (rc != LW_OK)
			goto out;
	}
	lw_store_checkpoint_encode(&c, rec);
	rc = mdb_put(txn, st->meta, &ck, &v, 0);
	if (rc == MDB_SUCCESS)
		rc = lw_store_head_put(st, txn, &head);
	if (rc == MDB_SUCCESS)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	txn = NULL;
	lw_store_unlock(st);
	if (rc != MDB_SUCCESS)
		goto mdb_out;
	res->segments += c.last_segments;
	res->events += c.last_events;
	res->unforwarded += unforwarded;
	res->bytes += c.last_bytes;
	res->txns++;
	res->first_id = c.first_id;
	res->cost_ns += (int64_t)c.last_cost_ns;
	return LW_OK;

mdb_out:
	rc = lw_store_mdb_fail(diag, rc, "retention");
out:
	mdb_txn_abort(txn);
	if (txn != NULL)
		lw_store_unlock(st);
	return rc;
}

int lw_store_retain(struct lw_store *st, int64_t now_ns,
		    struct lw_store_retain_result *res, struct lw_diag *diag)
{
	int done = 0, rc = LW_OK;

	memset(res, 0, sizeof(*res));
	if (st->readonly)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "store opened readonly");
	if (st->max_age_s == 0 && st->max_bytes == 0)
		return LW_OK;
	/* Separate small transactions, so the writer (and readers waiting
	 * for new segments) never waits long behind a big deletion. */
	for (int i = 0; i < RETAIN_PASS_TXNS && !done && rc == LW_OK; i++) {
		rc = retain_txn(st, now_ns, res, &done, diag);
		if (rc == LW_EFULL) {
			/* Deleting copies pages too: make room once. */
			uint64_t cur = lw_store_map_size(st);

			if (lw_store_resize(st, cur + (64ull << 20)) == MDB_SUCCESS)
				rc = retain_txn(st, now_ns, res, &done, diag);
		}
	}
	return rc;
}

int lw_store_retention_tick(struct lw_store *st, struct lw_store_retain_result *res,
			    struct lw_diag *diag)
{
	int64_t now_ms = lw_time_mono_ns() / 1000000;
	int dead = 0;

	memset(res, 0, sizeof(*res));
	/* Early when a burst went more than 1/16 past max_bytes: the bound
	 * holds within that, whatever the rate, and each early pass still
	 * deletes at least 1/16 of max_bytes. */
	if (st->retention_last_ms != 0 &&
	    now_ms - st->retention_last_ms < (int64_t)st->retention_interval_ms &&
	    (st->max_bytes == 0 ||
	     st->committed_stored_bytes <= st->max_bytes + st->max_bytes / 16))
		return LW_OK;
	st->retention_last_ms = now_ms;
	/* A reader killed mid-snapshot keeps its slot, and LMDB then keeps
	 * every page freed since: the file would grow however much is
	 * deleted. */
	mdb_reader_check(st->env, &dead);
	return lw_store_retain(st, lw_time_now_ns(), res, diag);
}
