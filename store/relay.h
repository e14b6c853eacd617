/* The store's side of forwarding between nodes (prefix lw_relay): the
 * edge's cursor (the next event seq not yet acknowledged by the central
 * stream, meta "fwdcursor") and where an event seq lives, so that the
 * forwarder (collector/forward.h) walks the store by seq.
 *
 * The cursor also pins retention: with lw_store_opts.keep_unforwarded,
 * max_age never deletes a segment holding an event at or after the
 * cursor; max_bytes still does (the disk would fill otherwise) and the
 * events it removes that way are counted in
 * lw_store_retain_result.unforwarded (docs/scale-out.md).
 *
 * Threads: any thread (own read or write txn per call; writes serialise
 * with the committer's in LMDB). Errors: LW_OK, LW_ESTORE, LW_ECORRUPT,
 * LW_EINVAL (readonly store). */
#ifndef LW_STORE_RELAY_H
#define LW_STORE_RELAY_H

#include <stdint.h>

#include "core/err.h"

struct lw_store;
struct lw_store_reader;

/* The next seq to forward: 0 when no cursor was ever stored. */
int lw_relay_cursor_load(struct lw_store *st, uint64_t *next_seq,
			 struct lw_diag *diag);

/* Stores next_seq in one write txn, with the id of the segment holding it
 * (the oldest segment retention must keep), or the next segment id when
 * every stored event is before next_seq. */
int lw_relay_cursor_save(struct lw_store *st, uint64_t next_seq,
			 struct lw_diag *diag);

/* The stored segment holding seq, or the first one after it when seq is
 * gone (retention) or between segments: its id, first seq and count.
 * LW_ENOTFOUND when no segment holds seq or anything after it. */
int lw_relay_span(struct lw_store_reader *rd, uint64_t seq, uint64_t *id,
		  uint64_t *first, uint32_t *count, struct lw_diag *diag);

#endif
