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
	/* Writers only. The key file of a store made by `logward init-key`
	 * (storage.integrity_key), or "" for an unkeyed store: a keyed
	 * store refuses to open with "", an unkeyed one with a key
	 * (docs/integrity.md). NULL (writers of incidents only, e.g.
	 * `incidents ack`) opens either; lw_store_commit and retention
	 * then refuse segments of a keyed store. */
	const char *integrity_key;
	/* Retention (lw_store_retention_tick): 0 = no bound. */
	uint64_t max_age_s;
	uint64_t max_bytes;           /* bound on stored segment bytes */
	uint64_t retention_interval_ms; /* 0 = LW_STORE_RETENTION_INTERVAL_MS */
	/* An edge (forward: configured): max_age keeps every segment from
	 * the forwarding cursor on (store/relay.h). */
	int keep_unforwarded;
};

#define LW_STORE_RETENTION_INTERVAL_MS 10000

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
/* A hint for an event added a few events later: prefetches the lines
 * its dictionary lookups will read, stage 0 (the slots), then 1 (the
 * entries), then 2 (the strings), each called nearer to the add.
 * Changes nothing. */
void lw_segment_builder_prefetch(const struct lw_segment_builder *b,
				 const struct lw_event *ev, int stage);
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

/* A central node's high-water mark for one origin (an edge, store/relay.h):
 * every event of node up to next_seq - 1 is stored. */
struct lw_store_origin {
	const char *node;
	size_t node_len;     /* 1..LW_STORE_ORIGIN_MAX */
	uint64_t next_seq;
};
#define LW_STORE_ORIGIN_MAX 64

/* What a commit writes besides the segment, in the same transaction
 * (lw_store_commit_ex). Everything is borrowed for the call. */
struct lw_store_commit_extra {
	const void *counters;     /* counters snapshot, or NULL to keep the stored one */
	size_t counters_len;
	/* Correlation window state (correlator/correlation_state.h) as a log
	 * of change sets: state_log is stored under number state_log_seq
	 * and every change set numbered below state_log_keep_from is
	 * deleted (with the whole-state record of stores made before the
	 * log). NULL: the log is not touched. */
	const void *state_log;
	size_t state_log_len;
	uint64_t state_log_seq, state_log_keep_from;
	/* Per-rule correlation counts (lw_correlation_stats_text), or NULL
	 * to keep the stored ones. */
	const void *corr_stats;
	size_t corr_stats_len;
	const struct lw_incidents_raise *raises; /* incidents to create or update */
	size_t nraises;
	/* The seq the caller gave the builder's first event (its
	 * lw_store_events_total when the builder was empty). Evidence seqs
	 * from first_seq on are moved if another process committed first. */
	uint64_t first_seq;
	int64_t now_ns;           /* time of the "open" history entry; 0 = now */
	/* Origins whose events this commit stores (a central node): their
	 * new high-water marks, written in the same transaction, so a
	 * redelivery is recognised exactly (store/relay.h). */
	const struct lw_store_origin *origins;
	size_t norigins;
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

/* Calls cb with each stored correlation change set, in number order
 * (data valid during the call; a non-zero return stops the walk and is
 * returned). *legacy is set when the store holds a whole-state record of
 * the format before the log (removed by the next commit with a log).
 * One read txn. LW_OK, cb's value, or LW_ESTORE. */
int lw_store_load_state_log(struct lw_store *st,
			    int (*cb)(void *arg, uint64_t seq, const void *data,
				      size_t len),
			    void *arg, int *legacy, struct lw_diag *diag);

/* Copies the stored per-rule correlation counts into out (reset first;
 * empty when none). Short read txn. */
int lw_store_load_corr_stats(struct lw_store *st, struct lw_buf *out,
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
 * a reader may move between threads). A live snapshot holds the store's
 * map lock shared, so a map resize in this process (the writer growing a
 * full map) waits until it is reset or closed: reset readers promptly,
 * and keep at most one snapshot live per thread (adopting a map another
 * process grew waits for every snapshot of this process). */
struct lw_store_reader;

/* Which counted name a names callback reports. */
enum lw_store_name_kind {
	LW_STORE_HOST = 'h',
	LW_STORE_ZONE = 'z',
	LW_STORE_APP = 'a'
};

/* Why retention deleted segments. */
enum lw_store_retain_reason {
	LW_STORE_RETAIN_NONE = 0,
	LW_STORE_RETAIN_MAX_AGE = 1,
	LW_STORE_RETAIN_MAX_BYTES = 2
};

/* The chain checkpoint retention writes (meta "checkpoint") with every
 * deletion transaction: where the chain now starts, what the last
 * transaction deleted and why, the totals, and, for a keyed store, a MAC
 * under K_key_index (the writer's key when it deleted). Layout:
 * docs/integrity.md. */
struct lw_store_checkpoint {
	uint64_t first_id;        /* oldest kept id = newest deleted + 1 */
	uint8_t first_prev[32];   /* chain value of the newest deleted segment */
	uint32_t reason;          /* enum lw_store_retain_reason, last txn */
	int64_t time_ns;          /* wall time of the last deletion */
	uint64_t last_segments, last_events, last_bytes; /* last txn */
	uint64_t total_segments, total_events, total_bytes; /* ever */
	uint64_t txns;            /* deletion transactions ever */
	uint64_t last_cost_ns, total_cost_ns; /* writer time spent deleting */
	uint64_t key_index;       /* 0 = unkeyed store */
	uint8_t mac[32];          /* zeros when unkeyed */
};

/* The MAC a keyed checkpoint carries: HMAC-SHA-256(key,
 * "logward/v1/checkpoint" || the record's bytes before the MAC).
 * LW_OK, LW_ENOMEM, LW_ECORRUPT. */
int lw_store_checkpoint_mac(const struct lw_store_checkpoint *c,
			    const uint8_t key[32], uint8_t out[32]);

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
	int has_checkpoint;   /* retention deleted segments: ckpt is set */
	struct lw_store_checkpoint ckpt;
	/* The store was made by `logward init-key`: segments from
	 * keyed_from on carry LW_SEGMENT_FLAG_KEYED (meta "integrity"). */
	uint64_t keyed_from;  /* 0 = unkeyed store */
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
/* The metadata record with the largest id < before (UINT64_MAX: the
 * newest). Same returns as lw_store_reader_next_meta. */
int lw_store_reader_prev_meta(struct lw_store_reader *rd, uint64_t before,
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
/* The same for the per-rule correlation counts (store commit extra
 * corr_stats: correlator/correlation.h, lw_correlation_stats_text). */
int lw_store_reader_corr_stats(struct lw_store_reader *rd, struct lw_buf *out,
			       struct lw_diag *diag);

/* Where event seq lives: *segment_id and the event's *index inside the
 * decoded segment. LW_ENOTFOUND when no stored segment holds it (not yet
 * committed, or removed by retention); LW_ESTORE; LW_ECORRUPT. */
int lw_store_reader_find_seq(struct lw_store_reader *rd, uint64_t seq,
			     uint64_t *segment_id, uint32_t *index,
			     struct lw_diag *diag);

/* --- integrity and retention (store/retention.c) --------------------- */

/* `logward init-key`: makes the store (opened for writing, without a key)
 * keyed. It must hold no segment yet, so every segment is keyed. Creates
 * the key file at key_path (mode 0600, O_EXCL) with K_1, records
 * "integrity" in meta, and returns K_1 in initial_key for the auditor.
 * Errors: LW_EINVAL (segments exist, already keyed), LW_EIO (key file),
 * LW_ESTORE. On failure nothing is left behind. */
int lw_store_init_key(struct lw_store *st, const char *key_path,
		      uint8_t initial_key[32], struct lw_diag *diag);

/* What one retention pass deleted (summed over its transactions). */
struct lw_store_retain_result {
	uint64_t segments, events, bytes;
	/* Of events: those not yet forwarded (keep_unforwarded), deleted
	 * because max_bytes left no choice. */
	uint64_t unforwarded;
	uint32_t txns;
	uint64_t first_id;   /* the new oldest id (0 when nothing deleted) */
	int64_t cost_ns;     /* writer time spent */
};

/* Deletes whole segments, oldest first, while the oldest segment's newest
 * event is older than max_age (now_ns - max_age) or the stored bytes pass
 * max_bytes, in transactions of at most 16 segments / 16 MiB each, and
 * records a chain checkpoint in each. Also removes their seqidx entries
 * and subtracts their names counts. Writer thread. LW_OK with *res filled
 * (nothing deleted is LW_OK), or the errors of a commit. */
int lw_store_retain(struct lw_store *st, int64_t now_ns,
		    struct lw_store_retain_result *res, struct lw_diag *diag);
/* The hook the writer calls after each commit: lw_store_retain with the
 * policy of lw_store_opts, at most once per retention interval (the first
 * call runs at once), or at once when this process's last commit took the
 * stored bytes more than max_bytes / 16 past max_bytes. res->txns == 0 when it did not run or deleted
 * nothing. Also clears reader slots of dead processes (mdb_reader_check)
 * so their stale snapshots do not keep freed pages from being reused. */
int lw_store_retention_tick(struct lw_store *st, struct lw_store_retain_result *res,
			    struct lw_diag *diag);

/* The current map size in bytes (grows on MDB_MAP_FULL). */
uint64_t lw_store_map_size(const struct lw_store *st);

#endif
