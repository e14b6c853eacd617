/* store/store_int.h - what the files of the store module share and nobody
 * else sees (lw_store internals): the LMDB handles of struct lw_store and
 * the reader, and the incident writes that lw_store_commit_ex runs inside
 * its write transaction. Include only from store/. */
#ifndef LW_STORE_STORE_INT_H
#define LW_STORE_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/incidents.h"
#include "store/integrity.h"
#include "store/store.h"

struct lw_store {
	MDB_env *env;
	MDB_dbi seg, segmeta, names, meta;
	/* Added with incidents (docs/incidents.md). A store written by an
	 * older logward and opened readonly lacks them: has_inc = 0 and
	 * every incident read is empty, every seq lookup is LW_ENOTFOUND. */
	MDB_dbi seqidx, inc, inc_open, inc_status, inc_time;
	int has_inc;
	/* Added with the console (docs/storage.md "Console records"); like
	 * has_inc, 0 on an older store opened readonly. */
	MDB_dbi users, tokens, audit, casework;
	int has_console;
	/* Added with forwarding (store/relay.h): origin node -> the next
	 * origin seq stored; 0 on an older store opened readonly. */
	MDB_dbi origins;
	int has_origins;
	/* mdb_env_set_mapsize may run only while no transaction of this
	 * process is active: since the console (web/) reads and writes from
	 * its own thread beside the committer, every transaction holds this
	 * lock shared and a map resize holds it exclusive (lw_store_resize). */
	pthread_rwlock_t map_lock;
	int readonly;
	/* Keyed chain (docs/integrity.md): the key file, -1 when unkeyed;
	 * keyed_from from meta "integrity" (0 = unkeyed). */
	int key_fd;
	uint64_t keyed_from;
	/* Retention policy and the monotonic ms of the last pass (0 = none
	 * yet); lw_store_retention_tick. */
	uint64_t max_age_s, max_bytes, retention_interval_ms;
	int64_t retention_last_ms;
	/* Stored segment bytes after this process's last commit: a commit
	 * that takes the store well past max_bytes runs retention at once
	 * instead of waiting for the interval. */
	uint64_t committed_stored_bytes;
	int keep_unforwarded; /* lw_store_opts; store/relay.h */
};

struct lw_store_reader {
	struct lw_store *st;
	MDB_txn *txn;
	int active; /* txn is live (not reset) */
};

/* The reader's live txn (begun or renewed as needed). LW_OK or LW_ESTORE. */
int lw_store_reader_txn(struct lw_store_reader *rd, MDB_txn **txn,
			struct lw_diag *diag);

/* The map lock (struct lw_store.map_lock): shared around every txn of
 * this process (glibc's rwlock lets a thread take it shared twice), and
 * lw_store_resize takes it exclusive around mdb_env_set_mapsize (size 0:
 * adopt the size another process grew the map to). A thread must not
 * call lw_store_resize while it holds the lock shared. Returns an LMDB
 * code. */
void lw_store_lock_shared(struct lw_store *st);
void lw_store_unlock(struct lw_store *st);
int lw_store_resize(struct lw_store *st, uint64_t size);
/* Takes the map lock shared and begins a write txn, adopting a map
 * another process grew (MDB_MAP_RESIZED). On MDB_SUCCESS the lock stays
 * held: commit or abort the txn, then lw_store_unlock. Else it is
 * released. Returns an LMDB code. */
int lw_store_begin_write(struct lw_store *st, MDB_txn **txn);

/* One short write txn: begins, runs fn (which returns an LW_ code and
 * fills diag), commits when it returned LW_OK, else aborts. LW_EINVAL on
 * a readonly store. What the console's writes (users, audit, casework)
 * share. */
/* The oldest segment id the forwarding cursor pins (store/relay.c): 0
 * when no cursor was stored (everything is unforwarded). LMDB code. */
int lw_relay_pin_load(struct lw_store *st, MDB_txn *txn, uint64_t *pin);

/* Writes the origin high-water marks of one commit (relay.c), inside
 * the commit's txn. LMDB code (MDB_INCOMPATIBLE: no origins database). */
int lw_relay_origins_put(struct lw_store *st, MDB_txn *txn,
			 const struct lw_store_origin *o, size_t n);

typedef int (*lw_store_txn_fn)(struct lw_store *st, MDB_txn *txn, void *arg,
			       struct lw_diag *diag);
int lw_store_write_txn(struct lw_store *st, lw_store_txn_fn fn, void *arg,
		       struct lw_diag *diag);

/* Translates an LMDB code into LW_EFULL (map full) or LW_ESTORE. */
int lw_store_mdb_fail(struct lw_diag *diag, int rc, const char *what);

/* Little-endian / big-endian field helpers shared by store.c and
 * retention.c. */
void lw_store_le_put(uint8_t *p, uint64_t v, int n);
uint64_t lw_store_le_get(const uint8_t *p, int n);
void lw_store_be64(uint8_t out[8], uint64_t v);
uint64_t lw_store_rd_be64(const uint8_t *p);

/* Reads meta "head", "checkpoint" and "integrity" in txn. LW_OK,
 * LW_ECORRUPT, LW_ESTORE. */
int lw_store_head_load(struct lw_store *st, MDB_txn *txn,
		       struct lw_store_head *h, struct lw_diag *diag);
/* Writes h's totals and chain head (not the checkpoint) to meta "head".
 * LMDB code. */
int lw_store_head_put(struct lw_store *st, MDB_txn *txn,
		      const struct lw_store_head *h);

/* The writer's key for segment index (K_index): reads the key file and
 * ratchets forward. LW_ECORRUPT when the file is already past index (the
 * store lost its newest segments); LW_EIO, LW_ENOMEM. */
int lw_store_key_for(struct lw_store *st, uint64_t index,
		     struct lw_integrity_key *k, struct lw_diag *diag);

/* meta "checkpoint" (LW_STORE_CHECKPOINT_LEN bytes; docs/integrity.md). */
#define LW_STORE_CHECKPOINT_LEN 168
void lw_store_checkpoint_encode(const struct lw_store_checkpoint *c,
				uint8_t out[LW_STORE_CHECKPOINT_LEN]);
/* LW_OK or LW_ECORRUPT (length, version, first id 0, unknown reason). */
int lw_store_checkpoint_decode(const void *rec, size_t len,
			       struct lw_store_checkpoint *c);

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
