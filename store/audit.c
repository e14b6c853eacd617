/* lw_audit: the append-only audit trail in the store's `audit` database. */
#include "store/audit.h"

#include <string.h>

#include "core/time.h"
#include "store/rec.h"
#include "store/store_int.h"

static const char AUDIT_MAGIC[4] = {'L', 'W', 'A', 'U'};
#define REC_VERSION 1

const char *lw_audit_result(unsigned status)
{
	if (status < 400)
		return "ok";
	if (status == 401 || status == 403 || status == 429)
		return "denied";
	return "failed";
}

static void put(struct lw_buf *out, const char *s, uint32_t max)
{
	s = s ? s : "";
	lw_rec_str(out, s, strlen(s), max);
}

static int append_txn(struct lw_store *st, MDB_txn *txn, void *arg,
		      struct lw_diag *diag)
{
	const struct lw_audit_entry *e = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t key[8];
	uint64_t seq = 1;
	struct lw_buf rec;
	size_t start;
	int rc = mdb_cursor_open(txn, st->audit, &cur);

	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "cursor");
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_SUCCESS && k.mv_size == 8)
		seq = lw_rec_key64_get(k.mv_data) + 1;
	else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return lw_store_mdb_fail(diag, rc, "last audit record");
	lw_buf_init(&rec);
	start = lw_rec_begin(&rec, AUDIT_MAGIC, REC_VERSION);
	lw_rec_u64(&rec, (uint64_t)e->time_ns);
	lw_rec_u16(&rec, (uint16_t)(e->status > 999 ? 999 : e->status));
	put(&rec, e->actor, LW_AUDIT_MAX_FIELD);
	put(&rec, e->address, LW_AUDIT_MAX_FIELD);
	put(&rec, e->action, LW_AUDIT_MAX_FIELD);
	put(&rec, e->target, LW_AUDIT_MAX_FIELD);
	put(&rec, e->detail, LW_AUDIT_MAX_DETAIL);
	lw_rec_seal(&rec, start);
	if (rec.oom) {
		lw_buf_release(&rec);
		return LW_ENOMEM;
	}
	lw_rec_key64(key, seq);
	k.mv_size = 8;
	k.mv_data = key;
	v.mv_size = rec.len;
	v.mv_data = rec.data;
	rc = mdb_put(txn, st->audit, &k, &v, MDB_APPEND);
	lw_buf_release(&rec);
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "put audit record");
}

int lw_audit_append(struct lw_store *st, const struct lw_audit_entry *e,
		    struct lw_diag *diag)
{
	return lw_store_write_txn(st, append_txn, (void *)e, diag);
}

int lw_audit_decode(const void *rec, size_t len, struct lw_audit_view *out)
{
	struct lw_rec_cursor c;

	memset(out, 0, sizeof(*out));
	if (lw_rec_open(rec, len, AUDIT_MAGIC, REC_VERSION, &c) != LW_OK)
		return LW_ECORRUPT;
	out->time_ns = (int64_t)lw_rec_take(&c, 8);
	out->status = (unsigned)lw_rec_take(&c, 2);
	out->actor = lw_rec_take_str(&c, LW_AUDIT_MAX_FIELD);
	out->address = lw_rec_take_str(&c, LW_AUDIT_MAX_FIELD);
	out->action = lw_rec_take_str(&c, LW_AUDIT_MAX_FIELD);
	out->target = lw_rec_take_str(&c, LW_AUDIT_MAX_FIELD);
	out->detail = lw_rec_take_str(&c, LW_AUDIT_MAX_DETAIL);
	return lw_rec_close(&c);
}

int lw_audit_list(struct lw_store_reader *rd, uint64_t before_seq, int64_t since_ns,
		  uint32_t limit, lw_audit_cb cb, void *arg, uint64_t *corrupt,
		  struct lw_diag *diag)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t key[8];
	uint32_t n = 0;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	if (corrupt != NULL)
		*corrupt = 0;
	if (rc != LW_OK || !rd->st->has_console)
		return rc;
	rc = mdb_cursor_open(txn, rd->st->audit, &cur);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "cursor");
	if (before_seq == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	} else {
		lw_rec_key64(key, before_seq);
		k.mv_size = 8;
		k.mv_data = key;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		/* at or after before_seq: step back once; past the end: the last */
		if (rc == MDB_SUCCESS)
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		struct lw_audit_view a;
		int r;

		if (k.mv_size != 8 || lw_audit_decode(v.mv_data, v.mv_size, &a) != LW_OK) {
			if (corrupt != NULL)
				(*corrupt)++;
			continue;
		}
		a.seq = lw_rec_key64_get(k.mv_data);
		if (a.time_ns < since_ns)
			break; /* seqs are appended in time order */
		r = cb(&a, arg);
		if (r != 0) {
			mdb_cursor_close(cur);
			return r;
		}
		if (limit != 0 && ++n >= limit)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? LW_OK
		: lw_store_mdb_fail(diag, rc, "audit walk");
}

static void jstr(struct lw_buf *out, const char *key, struct lw_str s)
{
	lw_buf_printf(out, ",\"%s\":", key);
	lw_buf_json_string(out, s.ptr, s.len);
}

void lw_audit_to_json(const struct lw_audit_view *v, struct lw_buf *out)
{
	lw_buf_printf(out, "{\"seq\":%llu,\"time\":\"", (unsigned long long)v->seq);
	lw_time_format_rfc3339(v->time_ns, out);
	lw_buf_putc(out, '"');
	jstr(out, "actor", v->actor);
	jstr(out, "address", v->address);
	jstr(out, "action", v->action);
	jstr(out, "target", v->target);
	lw_buf_printf(out, ",\"status\":%u,\"result\":\"%s\"", v->status,
		      lw_audit_result(v->status));
	jstr(out, "detail", v->detail);
	lw_buf_putc(out, '}');
}
