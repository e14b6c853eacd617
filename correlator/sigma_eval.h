/* Evaluating Sigma rules on events (prefix lw_sigma): the per-event hot
 * path of the writer thread (and of `logward rules test`).
 *
 * Only the rules filed under the event's program (or facility), and the
 * global ones, run; a rule's gate (correlator/sigma_gate.h) is checked
 * before its condition. A field's value is resolved at most once per
 * event, through core/event.h's field table for event members, and
 * lowered for case-insensitive matching at most once.
 *
 * Threads: a built set is shared; each thread evaluates with its own
 * scratch (compiled regexes, field cache), never shared.
 * Memory: no allocation per event unless the lowered-text buffer grows. */
#ifndef LW_CORRELATOR_SIGMA_EVAL_H
#define LW_CORRELATOR_SIGMA_EVAL_H

#include <stdint.h>

#include "core/event.h"

struct lw_sigma_set;
struct lw_sigma_scratch;

/* Per-thread state (regex match data, per-event field cache) for a built
 * set, which must outlive it. NULL on ENOMEM. */
struct lw_sigma_scratch *lw_sigma_scratch_new(const struct lw_sigma_set *set);
/* NULL is a no-op. */
void lw_sigma_scratch_free(struct lw_sigma_scratch *s);

/* Evaluates every rule that applies to ev. Matching rule indices go to
 * out (ascending), at most cap of them (cap >= lw_sigma_count() never
 * truncates); *nout receives their number. ev is borrowed for the call.
 * Returns LW_OK or LW_ENOMEM. */
int lw_sigma_eval(const struct lw_sigma_set *set, struct lw_sigma_scratch *s,
		  const struct lw_event *ev, uint32_t *out, uint32_t cap,
		  uint32_t *nout);

/* Regex/limit hits in this scratch (a pattern that hit pcre2's limit
 * counts as not matching). */
uint64_t lw_sigma_scratch_limit_hits(const struct lw_sigma_scratch *s);

/* The label a rule is counted under: its `name`, else its id. */
const char *lw_sigma_rule_label(const struct lw_sigma_set *set, uint32_t rule);

/* Calls fn for every `re` value of the set: its rule's label, the
 * pattern (with the m/s modifiers as inline options), its flags. */
void lw_sigma_set_each_regex(const struct lw_sigma_set *set,
			     void (*fn)(const char *rule, const char *pattern,
					size_t len, unsigned flags, void *arg),
			     void *arg);

/* Calls fn for each rule whose `re` values hit the match limit since the
 * last call, with how many times, and zeroes those counts. */
void lw_sigma_scratch_take_hits(const struct lw_sigma_set *set,
				struct lw_sigma_scratch *s,
				void (*fn)(const char *rule, uint64_t hits, void *arg),
				void *arg);

#endif
