/* store/store_int.h - what the files of the store module share and nobody
 * else sees (lw_store internals): the LMDB handles of struct lw_store and
 * the reader, and the incident writes that lw_store_commit_ex runs inside
 * its write transaction. Include only from store/. */
#ifndef LW_STORE_STORE_INT_H
#define LW_STORE_STORE_INT_H

#include <lmdb.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/incidents.h"
#include "store/store.h"

struct lw_store {
	MDB_env *env;
	MDB_dbi seg, segmeta, names, meta;
	/* Added with incidents (docs/incidents.md). A store written by an
	 * older logward and opened readonly lacks them: has_inc = 0 and
	 * every incident read is empty, every seq lookup is LW_ENOTFOUND. */
	MDB_dbi seqidx, inc, inc_open, inc_status, inc_time;
	int has_inc;
	int readonly;
};

struct lw_store_reader {
	struct lw_store *st;
	MDB_txn *txn;
	int active; /* txn is live (not reset) */
};

/* The reader's live txn (begun or renewed as needed). LW_OK or LW_ESTORE. */
int lw_store_reader_txn(struct lw_store_reader *rd, MDB_txn **txn,
			struct lw_diag *diag);

/* Translates an LMDB code into LW_EFULL (map full) or LW_ESTORE. */
int lw_store_mdb_fail(struct lw_diag *diag, int rc, const char *what);

/* Creates or updates the incident of each raise inside txn (the commit's
 * write txn). Evidence seqs >= expect_seq are moved by (got_seq -
 * expect_seq): another process committed events first. Fills res
 * (created/updated counts, ids) and appends one JSON line per created
 * incident to res->created_json. Returns an LMDB code (MDB_SUCCESS ...):
 * a corrupt stored incident is not an error, it is replaced. */
int lw_incidents_apply(struct lw_store *st, MDB_txn *txn,
		       const struct lw_incidents_raise *raises, size_t n,
		       uint64_t expect_seq, uint64_t got_seq, int64_t now_ns,
		       struct lw_store_commit_result *res);

#endif
