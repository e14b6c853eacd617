/* Regular expressions (prefix lw_regex): the one place that uses pcre2.
 *
 * Patterns are compiled as UTF-8 with PCRE2_MATCH_INVALID_UTF, so subjects
 * may hold any bytes (log lines are not always valid UTF-8) and '.' still
 * matches a whole Japanese character. JIT is used when the platform has
 * it; without it matching falls back to the interpreter, same results.
 *
 * Threads: a compiled lw_regex carries its own match data, so one object
 * is matched by one thread at a time; compile one per thread to share a
 * pattern across threads. */
#ifndef LW_CORE_REGEX_H
#define LW_CORE_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lw_regex;

/* pcre2's match limit for rule patterns (decoders, Sigma `re`): the
 * main matching loop's turns per start position. A pattern that scans
 * its input once takes at most a few per byte, under 300,000 for a
 * 64 KiB message; past this one it backtracks, and the match is stopped
 * (taken as no match, counted per rule) within milliseconds instead of
 * pcre2's default of ten million turns. */
#define LW_REGEX_RULE_LIMIT 1000000u

enum lw_regex_flags {
	LW_REGEX_CASELESS = 1u << 0, /* (?i) for the whole pattern */
	LW_REGEX_LITERAL = 1u << 1,  /* the pattern is a plain string */
	/* For lw_regex_cost only: compiled with automatic callouts and
	 * matched by the interpreter (no JIT), so every step is seen. Slow;
	 * never for matching log data. */
	LW_REGEX_COSTED = 1u << 2
};

/* Compiles len bytes of pattern (no NUL needed). *out is owned by the
 * caller (lw_regex_free). Errors: LW_EPARSE with diag.col = 1-based byte
 * offset of the error and diag.detail = "pcre2: <message> at offset N";
 * LW_ENOMEM. */
int lw_regex_compile(const char *pattern, size_t len, unsigned flags,
		     struct lw_regex **out, struct lw_diag *diag);
/* NULL is allowed. */
void lw_regex_free(struct lw_regex *re);

/* Caps the work of each later lw_regex_match at limit (pcre2's match
 * limit: backtracking steps, JIT included), instead of pcre2's default of
 * ten million, so a pathological pattern answers LW_EFULL quickly.
 * LW_OK or LW_ENOMEM (the old limit stays). */
int lw_regex_set_match_limit(struct lw_regex *re, uint32_t limit);

/* What searching subject costs, deterministically: every pattern item
 * pcre2 tries, plus every subject byte it moves over between two items
 * (a repeat that takes 60 KB costs 60 K), summed over all start
 * positions (re must be compiled with LW_REGEX_COSTED). Independent of
 * the machine and its load, so tests can compare costs exactly: an
 * input that makes a pattern backtrack shows as a cost that grows faster
 * than the input. LW_OK with *cost, or LW_EFULL once the cost passed
 * limit (*cost = limit; the search is abandoned), LW_EINVAL (re not
 * compiled for it), LW_ENOMEM. */
int lw_regex_cost(struct lw_regex *re, const char *subject, size_t len,
		  uint64_t limit, uint64_t *cost);

/* Searches subject (len bytes, borrowed). Returns 1 on a match, 0 when
 * there is none, LW_EFULL when pcre2's match or depth limit was hit (a
 * pathological pattern; treat as no match and count it), LW_ENOMEM. */
int lw_regex_match(struct lw_regex *re, const char *subject, size_t len);

/* Capture groups of the last successful lw_regex_match. Group 0 is the
 * whole match. Returns LW_OK with *start and *len (offsets into the subject),
 * or LW_ENOTFOUND when the group did not take part or i is out of range. */
int lw_regex_group(const struct lw_regex *re, uint32_t i, size_t *start,
		   size_t *len);
/* Number of capture groups (not counting group 0). */
uint32_t lw_regex_group_count(const struct lw_regex *re);

/* Named groups, for decoders whose group names are ECS field names:
 * lw_regex_name_count() names exist; lw_regex_name(i) returns the i-th
 * name (NUL-terminated, owned by re) and its group number in *group, or
 * NULL when i is out of range. */
uint32_t lw_regex_name_count(const struct lw_regex *re);
const char *lw_regex_name(const struct lw_regex *re, uint32_t i,
			  uint32_t *group);

#endif
