/* The correlation window state as bytes (prefix lw_correlation, for its
 * save and restore), so open windows, groups and held-back firings survive
 * a restart: the pipeline saves it in the store's transaction and restores
 * it at startup (docs/incidents.md).
 *
 * Format: versioned, little-endian, with a checksum; described field by
 * field in correlator/correlation_state.c. Rules are identified by id and
 * a hash of their window definition, so state of a rule that changed is
 * dropped rather than misread.
 * Threads: the writer thread's, like the lw_correlation it reads/writes.
 * Errors: save fails only for memory; restore rejects anything it cannot
 * fully check and then leaves c empty. */
#ifndef LW_CORRELATOR_CORRELATION_STATE_H
#define LW_CORRELATOR_CORRELATION_STATE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct lw_correlation;

/* Appends the whole window state to out. LW_OK or LW_ENOMEM (out->oom). */
int lw_correlation_save(const struct lw_correlation *c, struct lw_buf *out);

/* Replaces the window state with a saved one. State of rules that no
 * longer exist, or whose window definition changed, is skipped. Corrupt
 * or truncated input, a bad checksum or an unknown version is rejected
 * with LW_ECORRUPT (diag says why) and leaves c empty, as after
 * lw_correlation_new. data is borrowed. LW_OK, LW_ECORRUPT or LW_ENOMEM. */
int lw_correlation_restore(struct lw_correlation *c, const void *data,
			   size_t len, struct lw_diag *diag);

#endif
