/* bench/seqtrack.h - the sink's loss and duplicate check (prefix
 * lw_seqtrack).
 *
 * Every message logward-bench sends carries "seq=CCCC-NNNNNNNNNNNN"
 * (msggen.h): sender connection C and that connection's message number N,
 * starting at 1.  A tracker keeps one bitmap per connection, indexed by N,
 * grown on demand up to LW_SEQTRACK_MAX_N bits; a bit seen twice is a
 * duplicate, a hole below the highest N seen is a gap (a loss).
 *
 * Threading: one tracker per sink thread, no locks; trackers are merged
 * into one after the threads are joined (a number seen by two threads is a
 * duplicate too).  Memory: N/8 bytes per connection for the highest N.
 */
#ifndef LW_BENCH_SEQTRACK_H
#define LW_BENCH_SEQTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "bench/msggen.h"

/* 2^30 messages per sender connection (128 MiB of bitmap at most). */
#define LW_SEQTRACK_MAX_N ((uint64_t)1 << 30)

struct lw_seqtrack_conn {
	uint64_t *bits;   /* owned; bit n set when N == n was seen */
	size_t nwords;
	uint64_t unique;
	uint64_t max;     /* highest N seen */
};

struct lw_seqtrack {
	struct lw_seqtrack_conn *conns; /* owned, LW_MSGGEN_MAX_CONNS entries,
					 * allocated at the first add */
	uint64_t duplicates;
	uint64_t untracked; /* N over the cap, or no memory for the bitmap */
};

struct lw_seqtrack_totals {
	uint64_t unique;
	uint64_t duplicates;
	uint64_t gaps;        /* numbers below a connection's max never seen */
	uint64_t untracked;
	unsigned connections; /* sender connections seen */
};

void lw_seqtrack_init(struct lw_seqtrack *t);
void lw_seqtrack_release(struct lw_seqtrack *t);

/* Finds the sequence field in one message (no framing, no LF).  The fast
 * path is the RFC 3164 / replay suffix at a fixed distance from the end;
 * otherwise the first "seq=" (optionally quoted, as in RFC 5424 SD) is
 * parsed.  Returns 0 and sets <conn>, <n>, or -1 when there is none. */
int lw_seqtrack_parse(const char *msg, size_t len, unsigned *conn, uint64_t *n);

/* Records (conn, n).  Never fails: what cannot be tracked is counted in
 * t->untracked. */
void lw_seqtrack_add(struct lw_seqtrack *t, unsigned conn, uint64_t n);

/* ORs <src> into <dst>, counting numbers present in both as duplicates.
 * <src> is left unchanged.  Returns LW_OK or LW_ENOMEM (dst incomplete,
 * the missing part is counted as untracked). */
int lw_seqtrack_merge(struct lw_seqtrack *dst, const struct lw_seqtrack *src);

void lw_seqtrack_totals(const struct lw_seqtrack *t, struct lw_seqtrack_totals *out);

#endif
