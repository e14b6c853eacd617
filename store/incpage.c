/* lw_incpage: merge of the per-status index ranges (id orders) or a walk
 * of the time index (last_seen order), decoding only what a page needs. */
#include "store/incpage.h"

#include <string.h>

#include "store/rec.h"
#include "store/segment.h"
#include "store/store_int.h"

/* One status's range of the status index, read in page order. */
struct head {
	MDB_cursor *cur;
	uint64_t id;
	int valid;
	uint8_t status;
};

static int head_take(struct head *h, const MDB_val *k, int rc)
{
	h->valid = rc == MDB_SUCCESS && k->mv_size == 9 &&
		   ((const uint8_t *)k->mv_data)[0] == h->status;
	if (h->valid)
		h->id = lw_rec_key64_get((const uint8_t *)k->mv_data + 1);
	return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* Positions h on the first id of its status after `after` in page order. */
static int head_start(struct head *h, int desc, const struct lw_incpage_cursor *after)
{
	uint8_t key[9];
	MDB_val k = {9, key}, v;
	int rc;

	key[0] = h->status;
	if (desc) {
		/* the first key >= (status, after.id), then one step back (no
		 * incident has id UINT64_MAX, so "from the start" works too) */
		lw_rec_key64(key + 1, after->set ? after->id : UINT64_MAX);
		rc = mdb_cursor_get(h->cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_SUCCESS)
			rc = mdb_cursor_get(h->cur, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(h->cur, &k, &v, MDB_LAST);
	} else {
		lw_rec_key64(key + 1, after->set ? after->id + 1 : 0);
		rc = mdb_cursor_get(h->cur, &k, &v, MDB_SET_RANGE);
	}
	return head_take(h, &k, rc);
}

static int head_step(struct head *h, int desc)
{
	MDB_val k, v;
	int rc = mdb_cursor_get(h->cur, &k, &v, desc ? MDB_PREV : MDB_NEXT);

	return head_take(h, &k, rc);
}

struct page {
	struct lw_store_reader *rd;
	const struct lw_incpage_req *req;
	int (*cb)(const struct lw_incident_view *v, void *arg);
	void *arg;
	uint32_t kept;
	uint64_t scanned;
	struct lw_incpage_cursor last;
};

/* Decodes id, filters, calls back; *stop when the page is full or the
 * callback said stop (its value is returned). */
static int offer(struct page *p, MDB_txn *txn, uint64_t id, int *stop)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	struct lw_incident_view view;
	int rc;

	*stop = 0;
	lw_rec_key64(key, id);
	rc = mdb_get(txn, p->rd->st->inc, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_OK;
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(NULL, rc, "get incident");
	p->scanned++;
	if (lw_incidents_decode(v.mv_data, v.mv_size, &view) != LW_OK)
		return LW_OK;
	if (!(p->req->status_mask & (1u << view.status)))
		return LW_OK;
	if (p->req->keep != NULL && !p->req->keep(&view, p->req->keep_arg))
		return LW_OK;
	rc = p->cb(&view, p->arg);
	if (rc != 0) {
		*stop = 1;
		return rc;
	}
	p->last.set = 1;
	p->last.id = view.id;
	p->last.last_seen_ns = view.last_seen_ns;
	if (++p->kept >= p->req->limit)
		*stop = 1;
	return LW_OK;
}

static int by_id(struct page *p, MDB_txn *txn, struct lw_diag *diag)
{
	int desc = p->req->order == LW_INCPAGE_NEWEST;
	struct head heads[3];
	size_t nh = 0;
	int rc = LW_OK, mrc = MDB_SUCCESS, stop = 0;

	for (uint8_t s = 0; s < 3; s++) {
		if (!(p->req->status_mask & (1u << s)))
			continue;
		memset(&heads[nh], 0, sizeof(heads[nh]));
		heads[nh].status = s;
		mrc = mdb_cursor_open(txn, p->rd->st->inc_status, &heads[nh].cur);
		if (mrc != MDB_SUCCESS)
			break;
		mrc = head_start(&heads[nh++], desc, &p->req->after);
		if (mrc != MDB_SUCCESS)
			break;
	}
	while (mrc == MDB_SUCCESS && rc == LW_OK && !stop) {
		struct head *best = NULL;

		for (size_t i = 0; i < nh; i++)
			if (heads[i].valid && (best == NULL ||
					       (desc ? heads[i].id > best->id
						     : heads[i].id < best->id)))
				best = &heads[i];
		if (best == NULL)
			break;
		rc = offer(p, txn, best->id, &stop);
		mrc = head_step(best, desc);
	}
	for (size_t i = 0; i < nh; i++)
		mdb_cursor_close(heads[i].cur);
	if (mrc != MDB_SUCCESS && rc == LW_OK)
		rc = lw_store_mdb_fail(diag, mrc, "incident status index");
	return rc;
}

static int by_time(struct page *p, MDB_txn *txn, struct lw_diag *diag)
{
	const struct lw_incpage_cursor *after = &p->req->after;
	uint8_t key[16];
	MDB_val k = {16, key}, v;
	MDB_cursor *cur;
	int rc = LW_OK, mrc, stop = 0;

	mrc = mdb_cursor_open(txn, p->rd->st->inc_time, &cur);
	if (mrc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, mrc, "cursor");
	if (after->set) {
		lw_rec_key64(key, (uint64_t)after->last_seen_ns ^ (1ull << 63));
		lw_rec_key64(key + 8, after->id);
		mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (mrc == MDB_SUCCESS)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		else if (mrc == MDB_NOTFOUND)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	} else {
		mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	for (; mrc == MDB_SUCCESS && rc == LW_OK && !stop;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		if (k.mv_size != 16)
			continue;
		rc = offer(p, txn, lw_rec_key64_get((const uint8_t *)k.mv_data + 8), &stop);
		if (stop || rc != LW_OK)
			break;
	}
	mdb_cursor_close(cur);
	if (mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND && rc == LW_OK)
		rc = lw_store_mdb_fail(diag, mrc, "incident time index");
	return rc;
}

int lw_incpage_walk(struct lw_store_reader *rd, const struct lw_incpage_req *req,
		    int (*cb)(const struct lw_incident_view *v, void *arg), void *arg,
		    struct lw_incpage_cursor *next, uint64_t *scanned,
		    struct lw_diag *diag)
{
	struct lw_incpage_req r = *req;
	struct page p = {.rd = rd, .req = &r, .cb = cb, .arg = arg};
	MDB_txn *txn;
	int rc;

	memset(next, 0, sizeof(*next));
	if (r.status_mask == 0)
		r.status_mask = LW_INCIDENTS_MASK_OPEN | LW_INCIDENTS_MASK_ACK;
	r.status_mask &= LW_INCIDENTS_MASK_ALL;
	if (r.limit == 0)
		r.limit = 1;
	rc = lw_store_reader_txn(rd, &txn, diag);
	if (rc != LW_OK || !rd->st->has_inc)
		return rc;
	rc = r.order == LW_INCPAGE_LAST_SEEN ? by_time(&p, txn, diag) : by_id(&p, txn, diag);
	if (scanned != NULL)
		*scanned = p.scanned;
	if (rc == LW_OK && p.kept >= r.limit)
		*next = p.last;
	return rc;
}

const struct lw_event *lw_incpage_evidence_event(struct lw_incpage_evidence *e,
						 uint64_t seq)
{
	uint64_t seg;
	uint32_t idx;
	const void *val;
	size_t len;

	if (lw_store_reader_find_seq(e->rd, seq, &seg, &idx, NULL) != LW_OK)
		return NULL;
	if (seg != e->seg) {
		e->seg = 0;
		if (lw_store_reader_get_segment(e->rd, seg, &val, &len, NULL) != LW_OK ||
		    lw_segment_decode(e->dec, val, len, NULL, NULL) != LW_OK)
			return NULL;
		e->seg = seg;
		e->events = lw_segment_decoder_events(e->dec, &e->nevents);
	}
	return idx < e->nevents ? &e->events[idx] : NULL;
}
