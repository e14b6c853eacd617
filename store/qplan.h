/* The query planner (prefix lw_qplan): decides per segment, from its
 * metadata record alone, whether none, some or every one of its events
 * can match an expression and a time window, and scans the segments it
 * cannot rule out reading as few columns as the expression needs.
 *
 * What the metadata knows: each segment's event time range and its
 * host.name, labels.zone and process.name values with their counts
 * (store/segment.h). A term on one of those fields is tested against the
 * listed values (exact, prefix*, regex, ...), so an AND with such a term
 * skips the segments without a matching value, an OR of them keeps the
 * union, and NOT turns "every event" into "none" and back, never "some"
 * into anything narrower. A segment where every event matches is counted
 * from its record without decompressing it (lw_query_run_cols).
 *
 * Scanning: when the expression is an AND with a full-text term on
 * message, that term's literal is searched first in the segment's whole
 * message column (one case-insensitive search per segment); a segment
 * without it decodes nothing else, and only the events holding it are
 * matched against the whole expression. Otherwise the columns the
 * expression reads are decoded (a count per host never decompresses the
 * messages, which are stored last).
 *
 * Threads: a plan is used by one thread at a time. */
#ifndef LW_STORE_QPLAN_H
#define LW_STORE_QPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "store/qlang.h"
#include "store/segment.h"

struct lw_qplan;

/* What the plan did, summed over the segments given to it. */
struct lw_qplan_stats {
	uint64_t skipped_time;     /* segments outside the time window */
	uint64_t skipped_index;    /* ruled out by host/zone/app (metadata) */
	uint64_t every;            /* every event matched per the metadata */
	uint64_t literal_searched; /* message columns searched for the literal */
	uint64_t literal_missing;  /* ... that did not hold it: nothing more decoded */
	uint64_t candidates;       /* events holding the literal, matched in full */
};

/* Binds expr (taken: freed with the plan, or at once on failure; NULL
 * means every event) to the event fields and plans it over the window
 * [since_ns, until_ns]. now_ns anchors relative times in the expression.
 * Errors: those of lw_qlang_bind, LW_ENOMEM. */
int lw_qplan_new(struct lw_qlang *expr, int64_t since_ns, int64_t until_ns,
		 int64_t now_ns, struct lw_qplan **out, struct lw_diag *diag);
/* NULL is allowed. */
void lw_qplan_free(struct lw_qplan *p);

/* What segment m's metadata says: LW_QLANG_NONE (skip it), SOME, EVERY. */
enum lw_qlang_tri lw_qplan_segment(struct lw_qplan *p, const struct lw_segment_meta *m);

/* The events of the segment begun in d (lw_segment_decode_begin) that
 * match, given the segment's verdict: *matches (owned by p, valid until
 * its next scan) holds their indices in stored order. Decodes what the
 * expression needs, then, when something matched, the members in cols
 * that the caller will read. LW_OK; LW_EFULL when a regex hit its match
 * limit (diag says which); LW_ETOOBIG past the deadline; the decoder's
 * errors. */
int lw_qplan_scan(struct lw_qplan *p, struct lw_segment_decoder *d,
		  enum lw_qlang_tri verdict, unsigned cols,
		  const uint32_t **matches, uint32_t *n, struct lw_diag *diag);

/* 1 when ev (every member decoded) is in the window and matches; 0;
 * LW_EFULL (regex limit). */
int lw_qplan_match(struct lw_qplan *p, const struct lw_event *ev);

/* The members the expression reads (enum lw_segment_cols). */
unsigned lw_qplan_columns(const struct lw_qplan *p);

/* Appends what the plan will do, one "key: value" line each: the
 * expression in canonical form, the time window, the metadata fields
 * that can skip segments, the literal searched first. */
void lw_qplan_describe(const struct lw_qplan *p, struct lw_buf *out);
/* 1 when a term of the expression is a regex (field:/re/, --grep). */
int lw_qplan_has_regex(const struct lw_qplan *p);

/* Later scans stop with LW_ETOOBIG once the monotonic clock
 * (lw_time_mono_ns) passes deadline_ns; 0 = no deadline. */
void lw_qplan_set_deadline(struct lw_qplan *p, int64_t deadline_ns);

void lw_qplan_get_stats(const struct lw_qplan *p, struct lw_qplan_stats *out);

#endif
