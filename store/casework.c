/* lw_casework: assignee, checklist and notes of an incident, one record
 * per incident in the store's `casework` database. */
#include "store/casework.h"

#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "store/rec.h"
#include "store/store_int.h"

static const char CW_MAGIC[4] = {'L', 'W', 'C', 'W'};
#define REC_VERSION 1

static struct lw_str cstr(const char *s)
{
	struct lw_str r = {s ? s : "", s ? (uint32_t)strlen(s) : 0};

	return r;
}

void lw_casework_encode(const struct lw_casework_view *v, struct lw_buf *out)
{
	size_t start = lw_rec_begin(out, CW_MAGIC, REC_VERSION);

	lw_rec_u64(out, v->id);
	lw_rec_str(out, v->assignee.ptr, v->assignee.len, LW_CASEWORK_MAX_NAME);
	lw_rec_str(out, v->assigned_by.ptr, v->assigned_by.len, LW_CASEWORK_MAX_NAME);
	lw_rec_u64(out, (uint64_t)v->assigned_ns);
	lw_rec_u32(out, v->nsteps);
	for (uint32_t i = 0; i < v->nsteps; i++) {
		lw_rec_u32(out, v->steps[i].index);
		lw_rec_u8(out, v->steps[i].done ? 1 : 0);
		lw_rec_u64(out, (uint64_t)v->steps[i].time_ns);
		lw_rec_str(out, v->steps[i].actor.ptr, v->steps[i].actor.len,
			   LW_CASEWORK_MAX_NAME);
	}
	lw_rec_u32(out, v->nnotes);
	for (uint32_t i = 0; i < v->nnotes; i++) {
		lw_rec_u64(out, (uint64_t)v->notes[i].time_ns);
		lw_rec_str(out, v->notes[i].actor.ptr, v->notes[i].actor.len,
			   LW_CASEWORK_MAX_NAME);
		lw_rec_str(out, v->notes[i].text.ptr, v->notes[i].text.len,
			   LW_CASEWORK_MAX_NOTE);
	}
	lw_rec_seal(out, start);
}

int lw_casework_decode(const void *rec, size_t len, struct lw_casework_view *v)
{
	struct lw_rec_cursor c;

	memset(v, 0, sizeof(*v));
	if (lw_rec_open(rec, len, CW_MAGIC, REC_VERSION, &c) != LW_OK)
		return LW_ECORRUPT;
	v->id = lw_rec_take(&c, 8);
	v->assignee = lw_rec_take_str(&c, LW_CASEWORK_MAX_NAME);
	v->assigned_by = lw_rec_take_str(&c, LW_CASEWORK_MAX_NAME);
	v->assigned_ns = (int64_t)lw_rec_take(&c, 8);
	v->nsteps = (uint32_t)lw_rec_take(&c, 4);
	if (v->nsteps > LW_CASEWORK_MAX_STEPS)
		return LW_ECORRUPT;
	for (uint32_t i = 0; i < v->nsteps; i++) {
		v->steps[i].index = (uint32_t)lw_rec_take(&c, 4);
		v->steps[i].done = (int)lw_rec_take(&c, 1);
		v->steps[i].time_ns = (int64_t)lw_rec_take(&c, 8);
		v->steps[i].actor = lw_rec_take_str(&c, LW_CASEWORK_MAX_NAME);
		if (v->steps[i].done > 1 || v->steps[i].index >= LW_CASEWORK_MAX_STEPS)
			return LW_ECORRUPT;
	}
	v->nnotes = (uint32_t)lw_rec_take(&c, 4);
	if (v->nnotes > LW_CASEWORK_MAX_NOTES)
		return LW_ECORRUPT;
	for (uint32_t i = 0; i < v->nnotes; i++) {
		v->notes[i].time_ns = (int64_t)lw_rec_take(&c, 8);
		v->notes[i].actor = lw_rec_take_str(&c, LW_CASEWORK_MAX_NAME);
		v->notes[i].text = lw_rec_take_str(&c, LW_CASEWORK_MAX_NOTE);
	}
	return lw_rec_close(&c);
}

static int get_in(struct lw_store *st, MDB_txn *txn, uint64_t id,
		  struct lw_casework_view *out, struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc;

	lw_rec_key64(key, id);
	rc = mdb_get(txn, st->casework, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(out, 0, sizeof(*out));
		out->id = id;
		out->assignee = out->assigned_by = cstr("");
		return LW_OK;
	}
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get casework");
	if (lw_casework_decode(v.mv_data, v.mv_size, out) != LW_OK || out->id != id)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "incident %llu: corrupt casework record",
				   (unsigned long long)id);
	return LW_OK;
}

int lw_casework_get(struct lw_store_reader *rd, uint64_t id,
		    struct lw_casework_view *out, struct lw_diag *diag)
{
	MDB_txn *txn;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	if (rc != LW_OK)
		return rc;
	if (!rd->st->has_console) {
		memset(out, 0, sizeof(*out));
		out->id = id;
		out->assignee = out->assigned_by = cstr("");
		return LW_OK;
	}
	return get_in(rd->st, txn, id, out, diag);
}

/* One change: what it is and its arguments. */
struct change {
	enum { ASSIGN, STEP, NOTE } kind;
	uint64_t id;
	const char *text;   /* assignee or note */
	uint32_t index;
	int done;
	const char *actor;
	int64_t now_ns;
	struct lw_casework_view view; /* scratch: large, kept off the stack */
};

static int change_txn(struct lw_store *st, MDB_txn *txn, void *arg,
		      struct lw_diag *diag)
{
	struct change *c = arg;
	struct lw_casework_view *v = &c->view;
	uint8_t key[8];
	MDB_val k = {8, key}, val;
	struct lw_buf rec;
	uint32_t i;
	int rc;

	lw_rec_key64(key, c->id);
	rc = st->has_inc ? mdb_get(txn, st->inc, &k, &val) : MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		return lw_diag_set(diag, LW_ENOTFOUND, NULL, 0, 0, "no incident %llu",
				   (unsigned long long)c->id);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get incident");
	rc = get_in(st, txn, c->id, v, diag);
	if (rc != LW_OK)
		return rc;
	switch (c->kind) {
	case ASSIGN:
		v->assignee = cstr(c->text);
		v->assigned_by = cstr(c->actor);
		v->assigned_ns = c->now_ns;
		break;
	case STEP:
		for (i = 0; i < v->nsteps && v->steps[i].index != c->index; i++)
			;
		if (i == v->nsteps)
			v->nsteps++;
		v->steps[i].index = c->index;
		v->steps[i].done = c->done;
		v->steps[i].time_ns = c->now_ns;
		v->steps[i].actor = cstr(c->actor);
		break;
	case NOTE:
		if (v->nnotes == LW_CASEWORK_MAX_NOTES)
			return lw_diag_set(diag, LW_EFULL, NULL, 0, 0,
					   "incident %llu already has %d notes",
					   (unsigned long long)c->id, LW_CASEWORK_MAX_NOTES);
		v->notes[v->nnotes].time_ns = c->now_ns;
		v->notes[v->nnotes].actor = cstr(c->actor);
		v->notes[v->nnotes].text = cstr(c->text);
		v->nnotes++;
		break;
	}
	lw_buf_init(&rec);
	lw_casework_encode(v, &rec); /* copies out of the map before the put */
	if (rec.oom) {
		lw_buf_release(&rec);
		return LW_ENOMEM;
	}
	val.mv_size = rec.len;
	val.mv_data = rec.data;
	rc = mdb_put(txn, st->casework, &k, &val, 0);
	lw_buf_release(&rec);
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "put casework");
}

static int run(struct lw_store *st, struct change *c, struct lw_diag *diag)
{
	struct change *heap = malloc(sizeof(*heap));
	int rc;

	if (heap == NULL)
		return LW_ENOMEM;
	*heap = *c;
	rc = lw_store_write_txn(st, change_txn, heap, diag);
	free(heap);
	return rc;
}

int lw_casework_assign(struct lw_store *st, uint64_t id, const char *assignee,
		       const char *actor, int64_t now_ns, struct lw_diag *diag)
{
	struct change c = {.kind = ASSIGN, .id = id, .text = assignee, .actor = actor,
			   .now_ns = now_ns};

	if (strlen(assignee) > LW_CASEWORK_MAX_NAME)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "assignee too long");
	return run(st, &c, diag);
}

int lw_casework_set_step(struct lw_store *st, uint64_t id, uint32_t index, int done,
			 const char *actor, int64_t now_ns, struct lw_diag *diag)
{
	struct change c = {.kind = STEP, .id = id, .index = index, .done = done ? 1 : 0,
			   .actor = actor, .now_ns = now_ns};

	if (index >= LW_CASEWORK_MAX_STEPS)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "no step %u", index);
	return run(st, &c, diag);
}

int lw_casework_add_note(struct lw_store *st, uint64_t id, const char *text,
			 const char *actor, int64_t now_ns, struct lw_diag *diag)
{
	struct change c = {.kind = NOTE, .id = id, .text = text, .actor = actor,
			   .now_ns = now_ns};
	size_t n = strlen(text);

	if (n == 0 || n > LW_CASEWORK_MAX_NOTE)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "a note has 1 to %d bytes", LW_CASEWORK_MAX_NOTE);
	return run(st, &c, diag);
}

static void time_or_null(struct lw_buf *out, int64_t ns)
{
	if (ns == 0) {
		lw_buf_puts(out, "null");
		return;
	}
	lw_buf_putc(out, '"');
	lw_time_format_rfc3339(ns, out);
	lw_buf_putc(out, '"');
}

void lw_casework_to_json(const struct lw_casework_view *v, struct lw_buf *out)
{
	lw_buf_puts(out, "{\"assignee\":");
	lw_buf_json_string(out, v->assignee.ptr, v->assignee.len);
	lw_buf_puts(out, ",\"assigned_by\":");
	lw_buf_json_string(out, v->assigned_by.ptr, v->assigned_by.len);
	lw_buf_puts(out, ",\"assigned_at\":");
	time_or_null(out, v->assigned_ns);
	lw_buf_puts(out, ",\"checklist\":[");
	for (uint32_t i = 0; i < v->nsteps; i++) {
		lw_buf_printf(out, "%s{\"step\":%u,\"done\":%s,\"time\":", i ? "," : "",
			      v->steps[i].index, v->steps[i].done ? "true" : "false");
		time_or_null(out, v->steps[i].time_ns);
		lw_buf_puts(out, ",\"actor\":");
		lw_buf_json_string(out, v->steps[i].actor.ptr, v->steps[i].actor.len);
		lw_buf_putc(out, '}');
	}
	lw_buf_puts(out, "],\"notes\":[");
	for (uint32_t i = 0; i < v->nnotes; i++) {
		lw_buf_puts(out, i ? ",{\"time\":" : "{\"time\":");
		time_or_null(out, v->notes[i].time_ns);
		lw_buf_puts(out, ",\"actor\":");
		lw_buf_json_string(out, v->notes[i].actor.ptr, v->notes[i].actor.len);
		lw_buf_puts(out, ",\"text\":");
		lw_buf_json_string(out, v->notes[i].text.ptr, v->notes[i].text.len);
		lw_buf_putc(out, '}');
	}
	lw_buf_puts(out, "]}");
}
