/* core/recost.h - does a regular expression's cost grow faster than its
 * input (prefix lw_recost)? A rule's pattern runs on messages a sender
 * wrote: one that backtracks lets 64 KB of crafted text cost a core
 * milliseconds. The probe builds inputs from the pattern's own literals
 * and character classes (the literal pieces repeated, with and without
 * the literals that follow them: the shape of every backtracking attack
 * on a log pattern, such as "IN= OUT= " x 7000 + " SRC=1 DST=2" against
 * the kernel firewall decoder), measures each at size n and 2n with
 * lw_regex_cost (deterministic: pattern steps and bytes, not time), and
 * reports the worst growth. A pattern that scans its input once grows
 * about 2x; one that backtracks grows 4x (quadratic) or hits the limit
 * (exponential).
 *
 * Used by `logward rules check` (a warning per such pattern) and by the
 * test that holds the shipped rule pack to it. Not on any hot path: a
 * probe costs milliseconds. Pure; any thread. */
#ifndef LW_CORE_RECOST_H
#define LW_CORE_RECOST_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Growth over which a pattern is reported: a single pass grows by 2 and
 * a little less; quadratic backtracking by 4. */
#define LW_RECOST_MAX_GROWTH 3.0
/* Steps per input byte one probe may take before the pattern counts as
 * catastrophic (20M at 2 KiB; a single pass takes tens per byte). */
#define LW_RECOST_STEPS_PER_BYTE 10000u

struct lw_recost_report {
	int superlinear;     /* worst growth > LW_RECOST_MAX_GROWTH, or limit hit */
	double growth;       /* worst cost(2n) / cost(n) */
	uint64_t cost_n, cost_2n; /* of that input family */
	uint64_t limit;      /* steps a probe of 2n bytes may take */
	size_t inputs;       /* input families tried */
	char family[160];    /* the worst one, e.g. "'IN= OUT= ' x N + ' SRC=x DST=x'" */
	/* The worst family's pieces, raw (for lw_recost_build). */
	char head[400], unit[80], tail[400];
};

/* Probes pattern (len bytes; flags as lw_regex_compile's) with inputs of
 * about n and 2n bytes (n >= 64). LW_OK with *out filled, LW_EPARSE
 * (the pattern does not compile), LW_ENOMEM. */
int lw_recost_probe(const char *pattern, size_t len, unsigned flags, size_t n,
		    struct lw_recost_report *out);

/* Appends the worst input family of r at about size bytes to out: the
 * crafted message a benchmark sends (bench/crafted). */
void lw_recost_build(const struct lw_recost_report *r, size_t size, struct lw_buf *out);

#endif
