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
/* Copies ev into the builder. LW_OK or LW_ENOMEM. */
int lw_segment_builder_add(struct lw_segment_builder *b, const struct lw_event *ev);
uint32_t lw_segment_builder_count(const struct lw_segment_builder *b);
/* Uncompressed bytes added so far (what segment_bytes bounds). */
uint64_t lw_segment_builder_raw_bytes(const struct lw_segment_builder *b);

/* Compresses the builder into one segment and writes it, its indexes, the
 * new chain head and the counters snapshot (opaque bytes, may be NULL) in
 * ONE LMDB write transaction, then resets the builder. An empty builder
 * still stores the snapshot but no segment. On failure nothing is written
 * and the builder is unchanged, so the caller may retry.
 * Errors: LW_ENOMEM, LW_ECOMPRESS, LW_ESTORE, LW_EFULL (map full). */
int lw_store_commit(struct lw_store *st, struct lw_segment_builder *b,
		    const void *counters_snapshot, size_t snapshot_len,
		    struct lw_diag *diag);

/* Copies the stored counters snapshot into out (reset first). */
int lw_store_load_counters(struct lw_store *st, struct lw_buf *out,
			   struct lw_diag *diag);

#endif
