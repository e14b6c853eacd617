/* Sigma correlation rules and their windows (prefix lw_correlation).
 *
 * Two objects:
 *  - struct lw_correlation_rules: the rules of rules/correlation/ (*.yml),
 *    loaded with the ruleset and immutable after lw_correlation_rules_build
 *    (shared by any number of threads, like the rest of the ruleset);
 *  - struct lw_correlation: the window state of one ruleset, owned by the
 *    writer thread, fed one event at a time in commit order.
 *
 * Four modules, one job each; this header declares the windows' API and
 * includes the other three, so users of the stage include only it:
 *  - correlator/correlation_load.h: the rules object, loading files;
 *  - correlator/correlation_refs.h: reference resolution (build), lookups;
 *  - correlator/correlation.h (correlation.c): the windows;
 *  - correlator/correlation_state.h: saving and restoring window state.
 * Their shared private structs are in correlator/correlation_int.h.
 *
 * Rule format (docs/rules.md "Correlation rules"): Sigma correlation rules
 * (`correlation: {type, rules, group-by, timespan, condition, aliases,
 * generate}`) with types event_count, value_count, temporal,
 * temporal_ordered, plus logward's `absence` and a `logward:` section
 * (`suppress: 10m`, `max_groups: N`). A correlation may reference detection
 * rules and other correlation rules (by id or name); cycles are errors.
 *
 * Windows slide on event time: a condition is tested at every contributing
 * event against the events of the last `timespan` before it (not against
 * fixed bins). When a condition holds the rule fires for the group and the
 * group's window starts again empty (re-armed), so a sustained attack
 * fires once per `threshold` events rather than once per event; repeats
 * within `suppress` of the last delivered fire are not delivered but
 * accumulated and delivered later (see lw_correlation_advance).
 *
 * Detection rules fire on their own (count 1, grouped by host.name, with
 * LW_CORRELATION_DIRECT_SUPPRESS_NS suppression) when no correlation rule
 * references them, or one that does says `generate: true`, and their level
 * is at least low; informational rules are building blocks only.
 *
 * Memory: every window table is bounded (max_groups per rule, default
 * LW_CORRELATION_MAX_GROUPS); the least recently updated group is evicted
 * and counted. No allocation per event except when a table grows. */
#ifndef LW_CORRELATOR_CORRELATION_H
#define LW_CORRELATOR_CORRELATION_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "correlator/correlation_load.h"
#include "correlator/correlation_refs.h"
#include "correlator/correlation_state.h"
#include "correlator/incident.h"
#include "correlator/sigma.h"

struct lw_ruleset;
struct lw_correlation_rules;
struct lw_correlation;

/* Groups per rule unless the rule says `logward: {max_groups: N}`. */
#define LW_CORRELATION_MAX_GROUPS 4096
/* Upper bound for max_groups: the table index is 32-bit and one rule must
 * not be able to take all memory. */
#define LW_CORRELATION_MAX_GROUPS_LIMIT (1u << 20)
/* Direct fires of one detection rule for one host are delivered at most
 * once per this much event time; the matches in between are counted into
 * the next delivery. */
#define LW_CORRELATION_DIRECT_SUPPRESS_NS (300LL * 1000000000LL)
/* Largest threshold of event_count / value_count: windows keep one
 * timestamp (and value hash) per counted event up to threshold + 1. */
#define LW_CORRELATION_MAX_THRESHOLD 4096
/* Rules one correlation may reference (temporal keeps one time per rule). */
#define LW_CORRELATION_MAX_REFS 32
/* Group-by fields of one rule. */
#define LW_CORRELATION_MAX_GROUP_BY 8
/* Encoded group key (the group-by values); longer values are cut so that
 * one group's JSON fits struct lw_incident_fire.group. */
#define LW_CORRELATION_KEY_MAX 400

/* Called once per delivered firing. fire is valid only during the call.
 * The callback must not call back into the same lw_correlation. */
typedef void (*lw_incident_cb)(const struct lw_incident_fire *fire, void *arg);

/* ---- window state (writer thread) ---- */

struct lw_correlation_stats {
	uint64_t fired;        /* fire callbacks delivered */
	uint64_t suppressed;   /* firings held back by suppression */
	uint64_t evicted;      /* groups evicted because a table was full */
	uint64_t no_group;     /* events skipped: a group-by field was missing */
	uint64_t out_of_order; /* events older than their group's newest */
	uint64_t groups;       /* groups currently held */
};

/* Window state for the rules of rs (borrowed: must outlive the returned
 * object; its correlation rules, detection rules and response plan are
 * used). NULL on ENOMEM. */
struct lw_correlation *lw_correlation_new(const struct lw_ruleset *rs);
/* NULL is a no-op. */
void lw_correlation_free(struct lw_correlation *c);

/* Feeds one event in commit order. matched/nmatched are the detection
 * rules lw_ruleset_apply found (ascending indices, borrowed); event_seq is
 * the event's store sequence (evidence). cb is called for each firing,
 * including absences and held-back fires that became due because this
 * event moved event time forward. Cost: O(nmatched + rules that watch
 * every event), no allocation unless a window table grows. Returns LW_OK
 * or LW_ENOMEM (the event then counts for none of the tables that could
 * not grow). */
int lw_correlation_process(struct lw_correlation *c, const struct lw_event *ev,
			   uint64_t event_seq, const uint32_t *matched,
			   uint32_t nmatched, lw_incident_cb cb, void *arg);

/* Moves event time to now_ns (when later than the newest event time seen)
 * and delivers what became due: absences (a group seen before that sent
 * nothing for its timespan) and firings held back by suppression whose
 * suppression ended. The pipeline calls it when no events arrive (e.g. on
 * its flush timer with the wall clock), so a silent source is reported
 * even when nothing else is sending. Events flagged LW_EVENT_CLOCK_SKEW
 * never move event time. */
void lw_correlation_advance(struct lw_correlation *c, int64_t now_ns,
			    lw_incident_cb cb, void *arg);

/* Delivers every held-back firing now, whatever its suppression (end of
 * `logward rules test` input). Window contents are kept. */
void lw_correlation_flush(struct lw_correlation *c, lw_incident_cb cb,
			  void *arg);

void lw_correlation_get_stats(const struct lw_correlation *c,
			      struct lw_correlation_stats *out);

#endif
