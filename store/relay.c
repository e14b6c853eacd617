/* lw_relay: the forwarding cursor in meta ("fwdcursor" -> u64 next seq,
 * u64 pinned segment id, both LE) and seq lookups through seqidx. */
#include "store/relay.h"
#include "store/store.h"
#include "store/store_int.h"

#include <lmdb.h>

#define CURSOR_LEN 16

static const MDB_val cursor_key = {9, (void *)"fwdcursor"};

int lw_relay_pin_load(struct lw_store *st, MDB_txn *txn, uint64_t *pin)
{
	MDB_val k = cursor_key, v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	*pin = 0;
	if (rc == MDB_NOTFOUND)
		return MDB_SUCCESS;
	if (rc != MDB_SUCCESS)
		return rc;
	if (v.mv_size != CURSOR_LEN)
		return MDB_CORRUPTED;
	*pin = lw_store_le_get((const uint8_t *)v.mv_data + 8, 8);
	return MDB_SUCCESS;
}

int lw_relay_cursor_load(struct lw_store *st, uint64_t *next_seq,
			 struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	MDB_txn *txn;
	MDB_val k = cursor_key, v;
	int rc;

	*next_seq = 0;
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = lw_store_reader_txn(rd, &txn, diag);
	if (rc == LW_OK) {
		int mrc = mdb_get(txn, st->meta, &k, &v);

		if (mrc == MDB_SUCCESS && v.mv_size == CURSOR_LEN)
			*next_seq = lw_store_le_get(v.mv_data, 8);
		else if (mrc == MDB_SUCCESS)
			rc = lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "bad fwdcursor record");
		else if (mrc != MDB_NOTFOUND)
			rc = lw_store_mdb_fail(diag, mrc, "get fwdcursor");
	}
	lw_store_reader_close(rd);
	return rc;
}

/* seqidx: last seq (BE) -> segment id, first seq (BE). */
static int span_in(struct lw_store *st, MDB_txn *txn, uint64_t seq,
		   uint64_t *id, uint64_t *first, uint32_t *count)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_cursor *cur;
	uint64_t last;
	int rc;

	rc = mdb_cursor_open(txn, st->seqidx, &cur);
	if (rc != MDB_SUCCESS)
		return rc;
	lw_store_be64(key, seq);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc != MDB_SUCCESS)
		return rc;
	if (k.mv_size != 8 || v.mv_size != 16)
		return MDB_CORRUPTED;
	last = lw_store_rd_be64(k.mv_data);
	*id = lw_store_rd_be64(v.mv_data);
	*first = lw_store_rd_be64((const uint8_t *)v.mv_data + 8);
	if (*first > last || last - *first >= UINT32_MAX)
		return MDB_CORRUPTED;
	*count = (uint32_t)(last - *first + 1);
	return MDB_SUCCESS;
}

int lw_relay_span(struct lw_store_reader *rd, uint64_t seq, uint64_t *id,
		  uint64_t *first, uint32_t *count, struct lw_diag *diag)
{
	MDB_txn *txn;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	if (rc != LW_OK)
		return rc;
	if (!rd->st->has_inc)
		return LW_ENOTFOUND;
	rc = span_in(rd->st, txn, seq, id, first, count);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc == MDB_CORRUPTED)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "bad seqidx record");
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "seqidx");
}

struct cursor_put {
	uint64_t next_seq;
};

static int cursor_put(struct lw_store *st, MDB_txn *txn, void *arg,
		      struct lw_diag *diag)
{
	const struct cursor_put *c = arg;
	struct lw_store_head head;
	uint8_t buf[CURSOR_LEN];
	MDB_val k = cursor_key, v = {CURSOR_LEN, buf};
	uint64_t id, first, pin;
	uint32_t count;
	int rc = span_in(st, txn, c->next_seq, &id, &first, &count);

	if (rc == MDB_NOTFOUND) {
		rc = lw_store_head_load(st, txn, &head, diag);
		if (rc != LW_OK)
			return rc;
		pin = head.last_id + 1;
	} else if (rc == MDB_SUCCESS) {
		pin = id;
	} else {
		return lw_store_mdb_fail(diag, rc, "seqidx");
	}
	lw_store_le_put(buf, c->next_seq, 8);
	lw_store_le_put(buf + 8, pin, 8);
	rc = mdb_put(txn, st->meta, &k, &v, 0);
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "put fwdcursor");
}

int lw_relay_cursor_save(struct lw_store *st, uint64_t next_seq,
			 struct lw_diag *diag)
{
	struct cursor_put c = {next_seq};

	return lw_store_write_txn(st, cursor_put, &c, diag);
}
