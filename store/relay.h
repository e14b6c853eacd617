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

/* --- central: origin high-water marks (the dedup index) --------------
 *
 * A central node stores, per origin node, the next origin seq it has not
 * stored (lw_store_commit_extra.origins writes it in the commit that
 * stores the events). A message whose events are all below it is a
 * redelivery or a resend; its events are dropped. */

/* The next origin seq of node (node_len <= LW_STORE_ORIGIN_MAX): 0 when
 * nothing from it was stored. Own short read txn. */
int lw_relay_origin_load(struct lw_store *st, const char *node, size_t node_len,
			 uint64_t *next_seq, struct lw_diag *diag);

/* Calls cb for every origin in name order (name valid during the call);
 * a non-zero return stops the walk and is returned. */
typedef int (*lw_relay_origin_cb)(const char *node, size_t len,
				  uint64_t next_seq, void *arg);
int lw_relay_reader_origins(struct lw_store_reader *rd, lw_relay_origin_cb cb,
			    void *arg, struct lw_diag *diag);
/* The edge's cursor in the reader's snapshot; *found 0 when none. */
int lw_relay_reader_cursor(struct lw_store_reader *rd, uint64_t *next_seq,
			   int *found, struct lw_diag *diag);

#endif
