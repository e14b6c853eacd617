/* The LMDB store (prefix lw_store): one environment in the data directory
 * holding zstd-compressed, hash-chained segments, their indexes, and meta.
 * Format: see docs/storage.md.
 *
 * Threads: one process opens a directory once. The writer (one thread)
 * calls lw_store_commit; readers in any process open with readonly=1 and
 * never block the writer. */
#ifndef LW_STORE_STORE_H
#define LW_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"

struct lw_store;
struct lw_segment_builder;

struct lw_store_opts {
	uint64_t map_size; /* 0 = default (16 GiB on 64-bit) */
	int readonly;      /* open for reading only (query, verify, stats) */
};

/* Opens (creating when writable) the store in dir. *out is owned by the
 * caller and closed with lw_store_close. Errors: LW_EIO (diag.sys_errno),
 * LW_ESTORE, LW_ECORRUPT (format version mismatch). */
int lw_store_open(const char *dir, const struct lw_store_opts *opts,
		  struct lw_store **out, struct lw_diag *diag);
/* NULL is allowed. */
void lw_store_close(struct lw_store *st);

/* A segment being built: events are copied in, column by column, so the
 * batch they came from can be reused at once. NULL on ENOMEM. */
struct lw_segment_builder *lw_segment_builder_new(void);
void lw_segment_builder_free(struct lw_segment_builder *b);
/* Copies ev into the builder (column appends, no allocation once the
 * columns have grown). LW_OK, LW_ENOMEM, or LW_ETOOBIG when the segment
 * would pass LW_SEGMENT_MAX_RAW (1 GiB): commit first. On failure the
 * builder is unchanged. */
int lw_segment_builder_add(struct lw_segment_builder *b, const struct lw_event *ev);
uint32_t lw_segment_builder_count(const struct lw_segment_builder *b);
/* Uncompressed bytes added so far (what segment_bytes bounds). */
uint64_t lw_segment_builder_raw_bytes(const struct lw_segment_builder *b);

/* Compresses the builder into one segment and writes it, its indexes, the
 * new chain head and the counters snapshot (opaque bytes, may be NULL) in
 * ONE LMDB write transaction, then resets the builder. An empty builder
 * still stores the snapshot but no segment. On failure nothing is written
 * and the builder is unchanged, so the caller may retry.
 * Errors: LW_ENOMEM, LW_ECOMPRESS, LW_ESTORE, LW_EFULL (map full even
 * after growing it once), LW_ECORRUPT (the segments database and the
 * chain head disagree), LW_EINVAL (store opened readonly).
 * On MDB_MAP_FULL the map is grown (mdb_env_set_mapsize) and the txn
 * retried once. Cost: zstd of the segment, then one SHA-256 over the
 * compressed bytes and one fsync'ed LMDB commit. */
int lw_store_commit(struct lw_store *st, struct lw_segment_builder *b,
		    const void *counters_snapshot, size_t snapshot_len,
		    struct lw_diag *diag);

struct lw_incidents_raise; /* store/incidents.h */

/* What a commit writes besides the segment, in the same transaction
 * (lw_store_commit_ex). Everything is borrowed for the call. */
struct lw_store_commit_extra {
	const void *counters;     /* counters snapshot, or NULL to keep the stored one */
	size_t counters_len;
	const void *state;        /* correlation state blob, or NULL to keep it */
	size_t state_len;
	const struct lw_incidents_raise *raises; /* incidents to create or update */
	size_t nraises;
	/* The seq the caller gave the builder's first event (its
	 * lw_store_events_total when the builder was empty). Evidence seqs
	 * from first_seq on are moved if another process committed first. */
	uint64_t first_seq;
	int64_t now_ns;           /* time of the "open" history entry; 0 = now */
};

/* What lw_store_commit_ex did; all optional (pass NULL). The arrays are
 * caller-provided with extra->nraises entries. */
struct lw_store_commit_result {
	uint64_t first_seq;       /* seq the store gave the segment's first event */
	uint32_t created, updated;
	uint64_t *ids;            /* or NULL: the incident id of each raise */
	uint8_t *created_flags;   /* or NULL: 1 where the raise opened a new incident */
	struct lw_buf *created_json; /* or NULL: reset, then one JSON line
				      * (lw_incidents_to_json + '\n') per
				      * created incident, in raise order */
};

/* lw_store_commit plus incidents and correlation state, all in ONE write
 * transaction with the segment (extra may be NULL: like lw_store_commit
 * without a snapshot). For each raise: an open or acknowledged incident
 * with the same identity (rule id, group) is updated (count added,
 * last_seen max, evidence appended, host/zone cleared when they differ),
 * else a new one is created (ids from 1, in order). Same errors and
 * retry-on-MAP_FULL as lw_store_commit; LW_ESTORE also when the store
 * cannot hold incidents (readonly-era database). */
int lw_store_commit_ex(struct lw_store *st, struct lw_segment_builder *b,
		       const struct lw_store_commit_extra *extra,
		       struct lw_store_commit_result *res, struct lw_diag *diag);

/* The number of events ever committed = the seq the next committed event
 * gets (retention does not lower it). Short read txn. LW_OK/LW_ESTORE. */
int lw_store_events_total(struct lw_store *st, uint64_t *out,
			  struct lw_diag *diag);

/* Copies the stored correlation state blob into out (reset first; empty
 * when none was stored). Short read txn. */
int lw_store_load_state(struct lw_store *st, struct lw_buf *out,
			struct lw_diag *diag);

/* Copies the stored counters snapshot into out (reset first); out is
 * empty when none was stored. Uses a short read txn. */
int lw_store_load_counters(struct lw_store *st, struct lw_buf *out,
			   struct lw_diag *diag);

/* --- read side (query, verify, stats) ----------------------------------
 *
 * A reader is one MDB_RDONLY snapshot. Pointers it returns point into the
 * LMDB map and stay valid only until the reader's next call, reset or
 * close. One thread at a time per reader (the env is opened MDB_NOTLS, so
 * a reader may move between threads and one thread may hold several). */
struct lw_store_reader;

/* Which counted name a names callback reports. */
enum lw_store_name_kind {
	LW_STORE_HOST = 'h',
	LW_STORE_ZONE = 'z',
	LW_STORE_APP = 'a'
};

/* Totals kept in meta and updated by every commit, so stats reads them
 * without touching a segment. */
struct lw_store_head {
	uint64_t last_id;     /* newest segment id; 0 = none yet */
	uint8_t chain[32];    /* its chain hash (zeros when none) */
	uint64_t segments;
	uint64_t events;
	uint64_t raw_bytes;    /* columnar bytes before zstd */
	uint64_t text_bytes;   /* about the events' size as syslog lines */
	uint64_t stored_bytes; /* stored values (header + frame) */
	int64_t min_ts, max_ts; /* event time range; 0/0 when empty */
	/* Chain checkpoint: the first id that verification expects and the
	 * prev_chain it must carry. 1 and zeros unless retention removed
	 * the oldest segments (meta key "checkpoint"). */
	uint64_t first_id;
	uint8_t first_prev[32];
};

/* Starts a read snapshot. *out is closed with lw_store_reader_close.
 * Errors: LW_ENOMEM, LW_ESTORE. */
int lw_store_reader_open(struct lw_store *st, struct lw_store_reader **out,
			 struct lw_diag *diag);
/* NULL is allowed. */
void lw_store_reader_close(struct lw_store_reader *rd);
/* Ends the snapshot but keeps the reader slot (mdb_txn_reset); the next
 * read call renews it and then sees every commit made meanwhile. Use
 * between polls of a follow loop so old pages can be reused. */
void lw_store_reader_reset(struct lw_store_reader *rd);

/* Reads the totals and chain head. LW_OK or LW_ESTORE/LW_ECORRUPT. */
int lw_store_reader_head(struct lw_store_reader *rd, struct lw_store_head *out,
			 struct lw_diag *diag);
/* The segment metadata record (store/segment.h) with the smallest id >
 * after. LW_OK with *id, *rec, *len; LW_ENOTFOUND when there is none;
 * LW_ESTORE. */
int lw_store_reader_next_meta(struct lw_store_reader *rd, uint64_t after,
			      uint64_t *id, const void **rec, size_t *len,
			      struct lw_diag *diag);
/* The stored segment (header + frame) with the smallest id > after, in
 * key order. Same returns as lw_store_reader_next_meta. */
int lw_store_reader_next_segment(struct lw_store_reader *rd, uint64_t after,
				 uint64_t *id, const void **val, size_t *len,
				 struct lw_diag *diag);
/* Exact lookups; LW_ENOTFOUND when id is absent. */
int lw_store_reader_get_segment(struct lw_store_reader *rd, uint64_t id,
				const void **val, size_t *len,
				struct lw_diag *diag);
int lw_store_reader_get_meta(struct lw_store_reader *rd, uint64_t id,
			     const void **rec, size_t *len,
			     struct lw_diag *diag);

/* Calls cb for every host, zone and app with its event count (and, for
 * hosts, the events flagged LW_EVENT_CLOCK_SKEW), hosts first, each kind
 * in byte order of the name. name points into the map (valid during the
 * call). Names longer than LW_STORE_NAME_MAX are counted under their
 * first LW_STORE_NAME_MAX bytes. A non-zero return from cb stops the walk
 * and is returned. */
#define LW_STORE_NAME_MAX 400
typedef int (*lw_store_name_cb)(enum lw_store_name_kind kind,
				struct lw_str name, uint64_t events,
				uint64_t skew, void *arg);
int lw_store_reader_names(struct lw_store_reader *rd, lw_store_name_cb cb,
			  void *arg, struct lw_diag *diag);
/* Copies the counters snapshot of the reader's snapshot into out (reset
 * first); empty when none was stored. */
int lw_store_reader_counters(struct lw_store_reader *rd, struct lw_buf *out,
			     struct lw_diag *diag);

/* Where event seq lives: *segment_id and the event's *index inside the
 * decoded segment. LW_ENOTFOUND when no stored segment holds it (not yet
 * committed, or removed by retention); LW_ESTORE; LW_ECORRUPT. */
int lw_store_reader_find_seq(struct lw_store_reader *rd, uint64_t seq,
			     uint64_t *segment_id, uint32_t *index,
			     struct lw_diag *diag);

/* The current map size in bytes (grows on MDB_MAP_FULL). */
uint64_t lw_store_map_size(const struct lw_store *st);

#endif
