/* What operators add to an incident besides its status (prefix
 * lw_casework): the assignee, the response-plan checklist (which step
 * was ticked, by whom, when) and notes. One record per incident in the
 * LMDB database `casework` (key: incident id, u64 big-endian; format in
 * docs/storage.md "Console records"), kept apart from the incident record
 * so the collector's commits never rewrite it and it never rewrites
 * theirs. Status changes stay in the incident (store/incidents.h).
 *
 * Threads: each change is one short write txn in the caller's thread,
 * which first checks that the incident exists; reads take a reader. */
#ifndef LW_STORE_CASEWORK_H
#define LW_STORE_CASEWORK_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"

struct lw_store;
struct lw_store_reader;

#define LW_CASEWORK_MAX_STEPS 64    /* checklist entries (step indexes < 64) */
#define LW_CASEWORK_MAX_NOTES 256   /* further notes are refused (LW_EFULL) */
#define LW_CASEWORK_MAX_NOTE 4096   /* bytes of one note */
#define LW_CASEWORK_MAX_NAME 128    /* actor, assignee */

struct lw_casework_step {
	uint32_t index;  /* the step's position in the incident's response steps */
	int done;        /* ticked (1) or unticked again (0) */
	int64_t time_ns;
	struct lw_str actor;
};

struct lw_casework_note {
	int64_t time_ns;
	struct lw_str actor, text;
};

/* A decoded record; strings are views into the bytes decoded. */
struct lw_casework_view {
	uint64_t id;
	struct lw_str assignee, assigned_by;  /* assignee "" = nobody */
	int64_t assigned_ns;
	uint32_t nsteps;
	struct lw_casework_step steps[LW_CASEWORK_MAX_STEPS];
	uint32_t nnotes;
	struct lw_casework_note notes[LW_CASEWORK_MAX_NOTES];
};

/* The incident's record; an incident nobody worked on yet gives an empty
 * view (id set) and LW_OK. LW_ECORRUPT, LW_ESTORE. */
int lw_casework_get(struct lw_store_reader *rd, uint64_t id,
		    struct lw_casework_view *out, struct lw_diag *diag);

/* Changes; each returns LW_OK, LW_ENOTFOUND (no such incident), LW_EINVAL
 * (readonly store, bad argument), LW_EFULL (notes full, or the map),
 * LW_ESTORE. assignee "" unassigns. */
int lw_casework_assign(struct lw_store *st, uint64_t id, const char *assignee,
		       const char *actor, int64_t now_ns, struct lw_diag *diag);
int lw_casework_set_step(struct lw_store *st, uint64_t id, uint32_t index, int done,
			 const char *actor, int64_t now_ns, struct lw_diag *diag);
int lw_casework_add_note(struct lw_store *st, uint64_t id, const char *text,
			 const char *actor, int64_t now_ns, struct lw_diag *diag);

/* {"assignee":..,"assigned_by":..,"assigned_at":..|null,
 *  "checklist":[{"step":i,"done":true,"time":..,"actor":..}],
 *  "notes":[{"time":..,"actor":..,"text":..}]} */
void lw_casework_to_json(const struct lw_casework_view *v, struct lw_buf *out);

int lw_casework_decode(const void *rec, size_t len, struct lw_casework_view *out);
void lw_casework_encode(const struct lw_casework_view *v, struct lw_buf *out);

#endif
