/* The audit trail (prefix lw_audit): one record per write made through
 * the console or its CLI commands, and per login, failed or not: who,
 * when, from which address, what, on what, with which result. LMDB
 * database `audit` (docs/storage.md "Console records"), key = a u64
 * big-endian sequence (1, 2, ...), so it is read newest first by walking
 * backwards. Records are never changed or deleted by logward.
 *
 * Threads: lw_audit_append runs one short write txn in the caller's
 * thread; reads take a store reader. */
#ifndef LW_STORE_AUDIT_H
#define LW_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"

struct lw_store;
struct lw_store_reader;

/* Ceilings: longer values are cut. */
#define LW_AUDIT_MAX_FIELD 256
#define LW_AUDIT_MAX_DETAIL 2048

/* What lw_audit_append takes; strings NUL-terminated, NULL = "". */
struct lw_audit_entry {
	int64_t time_ns;
	const char *actor;    /* user or token name; "" when unknown (bad login) */
	const char *address;  /* the client's ip:port, or "local" for the CLI */
	const char *action;   /* "login", "incident.ack", "user.add" ... */
	const char *target;   /* "incident:12", "user:alice" ... */
	unsigned status;      /* the HTTP status answered (200, 401, 403, 409 ...) */
	const char *detail;   /* free text: the note, the reason, the error */
};

struct lw_audit_view {
	uint64_t seq;
	int64_t time_ns;
	unsigned status;
	struct lw_str actor, address, action, target, detail;
};

/* Appends one record in its own write txn. LW_OK, LW_EINVAL (readonly),
 * LW_ESTORE, LW_EFULL. */
int lw_audit_append(struct lw_store *st, const struct lw_audit_entry *e,
		    struct lw_diag *diag);

/* Records newest first, starting below before_seq (0 = the newest), with
 * time >= since_ns, at most limit (0 = all). Views are valid during the
 * call. Non-zero from cb stops and is returned. A record that does not
 * decode is skipped and counted in *corrupt (may be NULL). */
typedef int (*lw_audit_cb)(const struct lw_audit_view *v, void *arg);
int lw_audit_list(struct lw_store_reader *rd, uint64_t before_seq, int64_t since_ns,
		  uint32_t limit, lw_audit_cb cb, void *arg, uint64_t *corrupt,
		  struct lw_diag *diag);

/* {"seq":N,"time":"...Z","actor":..,"address":..,"action":..,"target":..,
 *  "status":N,"result":"ok"|"denied"|"failed","detail":..} */
void lw_audit_to_json(const struct lw_audit_view *v, struct lw_buf *out);
/* "ok" (status < 400), "denied" (401, 403, 429), else "failed". */
const char *lw_audit_result(unsigned status);

int lw_audit_decode(const void *rec, size_t len, struct lw_audit_view *out);

#endif
