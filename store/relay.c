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

int lw_relay_reader_cursor(struct lw_store_reader *rd, uint64_t *next_seq,
			   int *found, struct lw_diag *diag)
{
	MDB_txn *txn;
	MDB_val k = cursor_key, v;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	*next_seq = 0;
	*found = 0;
	if (rc != LW_OK)
		return rc;
	rc = mdb_get(txn, rd->st->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_OK;
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get fwdcursor");
	if (v.mv_size != CURSOR_LEN)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "bad fwdcursor record");
	*next_seq = lw_store_le_get(v.mv_data, 8);
	*found = 1;
	return LW_OK;
}

int lw_relay_cursor_load(struct lw_store *st, uint64_t *next_seq,
			 struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	int found, rc = lw_store_reader_open(st, &rd, diag);

	*next_seq = 0;
	if (rc != LW_OK)
		return rc;
	rc = lw_relay_reader_cursor(rd, next_seq, &found, diag);
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

/* --- origins ----------------------------------------------------------- */

int lw_relay_origins_put(struct lw_store *st, MDB_txn *txn,
			 const struct lw_store_origin *o, size_t n)
{
	if (!st->has_origins)
		return MDB_INCOMPATIBLE;
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[8];
		MDB_val k = {o[i].node_len, (void *)o[i].node}, v = {8, buf};
		int rc;

		if (o[i].node_len == 0 || o[i].node_len > LW_STORE_ORIGIN_MAX)
			return MDB_BAD_VALSIZE;
		lw_store_le_put(buf, o[i].next_seq, 8);
		rc = mdb_put(txn, st->origins, &k, &v, 0);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	return MDB_SUCCESS;
}

int lw_relay_origin_load(struct lw_store *st, const char *node, size_t node_len,
			 uint64_t *next_seq, struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	MDB_txn *txn;
	MDB_val k = {node_len, (void *)node}, v;
	int rc;

	*next_seq = 0;
	if (node_len == 0 || node_len > LW_STORE_ORIGIN_MAX)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "bad origin name");
	if (!st->has_origins)
		return LW_OK;
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = lw_store_reader_txn(rd, &txn, diag);
	if (rc == LW_OK) {
		int mrc = mdb_get(txn, st->origins, &k, &v);

		if (mrc == MDB_SUCCESS && v.mv_size == 8)
			*next_seq = lw_store_le_get(v.mv_data, 8);
		else if (mrc == MDB_SUCCESS)
			rc = lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "bad origins record");
		else if (mrc != MDB_NOTFOUND)
			rc = lw_store_mdb_fail(diag, mrc, "get origin");
	}
	lw_store_reader_close(rd);
	return rc;
}

int lw_relay_reader_origins(struct lw_store_reader *rd, lw_relay_origin_cb cb,
			    void *arg, struct lw_diag *diag)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = lw_store_reader_txn(rd, &txn, diag), ret = 0;

	if (rc != LW_OK || !rd->st->has_origins)
		return rc;
	rc = mdb_cursor_open(txn, rd->st->origins, &cur);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && ret == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size != 8) {
			mdb_cursor_close(cur);
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "bad origins record");
		}
		ret = cb(k.mv_data, k.mv_size, lw_store_le_get(v.mv_data, 8), arg);
	}
	mdb_cursor_close(cur);
	if (ret != 0)
		return ret;
	return rc == MDB_NOTFOUND ? LW_OK : lw_store_mdb_fail(diag, rc, "cursor get");
}
