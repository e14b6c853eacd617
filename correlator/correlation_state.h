/* The correlation window state as bytes (prefix lw_correlation, for its
 * save and restore), so open windows, groups and held-back firings survive
 * a restart: the pipeline stores it with its commits and restores it at
 * startup (docs/rules.md "Bounded state and restarts").
 *
 * Two ways to save:
 *  - lw_correlation_save: everything, in one blob (a reload carries the
 *    windows into the new rules with it);
 *  - lw_correlation_save_changes: a numbered change set holding only the
 *    groups changed since the previous change set and the keys deleted,
 *    plus a slice of the unchanged groups (the sweep), so that every
 *    live group is rewritten once per cycle and older change sets can be
 *    dropped (info.keep_from). The stored log is the change sets from
 *    keep_from on; applying them in order rebuilds the windows.
 *
 * Format: versioned (3; 2 still read), little-endian, with a checksum; described field
 * by field in correlator/correlation_state.c. Rules are identified by id
 * and a hash of their window definition, so state of a rule that changed
 * is dropped rather than misread. Version 1 blobs (one whole-state blob
 * per commit) are rejected as of an unknown version.
 * Threads: the writer thread's, like the lw_correlation it reads/writes.
 * Errors: saving fails only for memory; restoring rejects anything it
 * cannot fully check and then leaves c empty. */
#ifndef LW_CORRELATOR_CORRELATION_STATE_H
#define LW_CORRELATOR_CORRELATION_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct lw_correlation;

/* Appends the whole window state to out (c is not changed: the change
 * log goes on as if this save had not happened). LW_OK or LW_ENOMEM. */
int lw_correlation_save(const struct lw_correlation *c, struct lw_buf *out);

/* Replaces the window state with a saved one (a whole-state blob or one
 * change set). State of rules that no longer exist, or whose window
 * definition changed, is skipped, and so are groups the memory budget
 * has no room for. Corrupt or truncated input, a bad checksum or an
 * unknown version is rejected with LW_ECORRUPT (diag says why) and leaves
 * c empty, as after lw_correlation_new. data is borrowed. LW_OK,
 * LW_ECORRUPT or LW_ENOMEM. */
int lw_correlation_restore(struct lw_correlation *c, const void *data,
			   size_t len, struct lw_diag *diag);

/* The trailer a blob of len bytes (everything before the trailer) must
 * end with, by the version its header names. Restore checks it; the
 * state fuzz target appends it so that mutations reach the decoder. */
uint64_t lw_correlation_state_checksum(const void *data, size_t len);

/* What a change set is. */
struct lw_correlation_save_info {
	uint64_t seq;       /* its number: store it under this key */
	uint64_t keep_from; /* change sets below this number are not needed */
	int full;           /* it holds every group (the first one, or after
			     * a failure): keep_from == seq */
	uint64_t groups;    /* groups written */
	uint64_t deleted;   /* keys deleted */
};

/* Appends the next change set to out. Groups changed since the previous
 * change set are written, except groups never written that hold a single
 * event and nothing else (a scanner's first attempt: a crash forgets it),
 * and at least as many live groups not written since the sweep cycle
 * began (the sweep, at least 1/64 of them), so a cycle over every group
 * takes at most 64 change sets and the log holds about twice the live
 * state. With `everything` set (a clean stop) the single-event groups
 * are written too and there is no sweep: the log ends exact. The first
 * change set of a correlation, the first after lw_correlation_save_failed,
 * and a clean stop's when a change could not be listed (no memory) are
 * full: every live group, and keep_from == seq. LW_OK or LW_ENOMEM (then
 * the next one is full). */
int lw_correlation_save_changes(struct lw_correlation *c, struct lw_buf *out,
				struct lw_correlation_save_info *info, int everything);
/* The last change set was not stored: the next one writes everything. */
void lw_correlation_save_failed(struct lw_correlation *c);

/* Restoring a log: begin empties c; apply each stored change set in
 * number order (same checks as lw_correlation_restore; on any error c is
 * left empty and the next change set is full); the change sets go on
 * after the last one applied. */
void lw_correlation_restore_begin(struct lw_correlation *c);
int lw_correlation_restore_apply(struct lw_correlation *c, uint64_t seq,
				 const void *data, size_t len,
				 struct lw_diag *diag);

#endif
