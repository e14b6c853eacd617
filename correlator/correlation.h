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
 * temporal_ordered, plus logward's `absence`, the anomaly types
 * `new_terms`, `value_sum` and `beaconing` (their state in
 * correlation_anomaly.c, docs/rules.md "Anomaly correlations") and a
 * `logward:` section
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
 * Memory: all window state shares one budget (lw_correlation_set_memory,
 * config `correlation.memory`); rules may cap their groups too
 * (`max_groups`). Groups whose window has passed are reclaimed first when
 * room is needed; live groups are shed only when the budget is exhausted,
 * by admission (a new group needs its key seen more often than the
 * weakest live group it would replace: single-event groups go first).
 * Every shed group is counted per rule (lw_correlation_rule_stats). The
 * semantics and the measured guarantee: docs/rules.md "Bounded state and
 * restarts". */
#ifndef LW_CORRELATOR_CORRELATION_H
#define LW_CORRELATOR_CORRELATION_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
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

/* Memory for all window state unless set (config correlation.memory). */
#define LW_CORRELATION_DEFAULT_MEMORY (256ull << 20)
/* The smallest budget accepted (a few groups of every rule fit). */
#define LW_CORRELATION_MIN_MEMORY (1ull << 20)
/* Groups of one direct window (a detection rule firing on its own,
 * grouped by host): its suppression state, not its detection, is what
 * the cap bounds (a match that finds no room still fires). */
#define LW_CORRELATION_MAX_GROUPS 4096
/* Upper bound for a rule's max_groups: table indices are 32-bit. */
#define LW_CORRELATION_MAX_GROUPS_LIMIT (1u << 28)
/* Direct fires of one detection rule for one host are delivered at most
 * once per this much event time; the matches in between are counted into
 * the next delivery. */
#define LW_CORRELATION_DIRECT_SUPPRESS_NS (300LL * 1000000000LL)
/* Largest threshold of event_count / value_count: windows keep one
 * timestamp (and value hash) per counted event up to threshold + 1. */
#define LW_CORRELATION_MAX_THRESHOLD 4096
/* beaconing: most occurrences a series may need (one interval word
 * each per (source, destination) group). */
#define LW_CORRELATION_MAX_BEACON 64
/* new_terms: slots of a group's term table unless `terms` says (8 bytes
 * each; at most three quarters hold terms), and the most it may say. */
#define LW_CORRELATION_DEFAULT_TERMS 512
#define LW_CORRELATION_MAX_TERMS 4096
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
	uint64_t evicted;      /* live groups shed to make room */
	uint64_t not_admitted; /* events of new groups refused: no room */
	uint64_t reclaimed;    /* groups whose window had passed, freed for room */
	uint64_t no_group;     /* events skipped: a group-by field was missing */
	uint64_t out_of_order; /* events older than their group's newest */
	uint64_t groups;       /* groups currently held (live + expired) */
	uint64_t live;         /* groups whose window has not passed */
	uint64_t bytes;        /* window state bytes (all of it, counted) */
	uint64_t budget;       /* the budget they are held to */
};

/* One rule's window (a correlation rule, or a detection rule firing on
 * its own). Totals since lw_correlation_new. */
struct lw_correlation_rule_stats {
	const struct lw_sigma_rule_info *info; /* borrowed from the ruleset */
	int direct;            /* a detection rule firing on its own */
	uint64_t fired, suppressed, evicted, not_admitted, reclaimed;
	uint64_t groups, live, bytes;
};

/* Window state for the rules of rs (borrowed: must outlive the returned
 * object; its correlation rules, detection rules and response plan are
 * used). NULL on ENOMEM. */
struct lw_correlation *lw_correlation_new(const struct lw_ruleset *rs);
/* NULL is a no-op. */
void lw_correlation_free(struct lw_correlation *c);
/* The memory budget of all window state (default
 * LW_CORRELATION_DEFAULT_MEMORY; at least LW_CORRELATION_MIN_MEMORY).
 * Call before the first event; a smaller budget than what is held only
 * stops growth. */
void lw_correlation_set_memory(struct lw_correlation *c, uint64_t bytes);

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

/* Events a caller may prepare ahead of their lw_correlation_process. */
#define LW_CORRELATION_AHEAD 2

/* Prepares an event that lw_correlation_process will be given soon, with
 * the same arguments, after at most LW_CORRELATION_AHEAD others: its keys
 * are made and hashed and its table slots prefetched now, its groups one
 * call later, so that these cache misses overlap the events processed
 * meanwhile instead of stalling this event's turn. Changes nothing that
 * is saved or counted: an event prepared but never processed (or
 * processed out of turn) is prepared again when its turn comes. The
 * event and matched must stay as they are until then. */
void lw_correlation_ahead(struct lw_correlation *c, const struct lw_event *ev,
			  uint64_t event_seq, const uint32_t *matched,
			  uint32_t nmatched);

/* Forgets every event prepared and not processed yet. A caller whose
 * events may be reused (a batch given back) calls it before they are:
 * a prepared event is recognised by its address and seq, and another
 * event at the same address under the same seq would be fed with the
 * first one's keys. */
void lw_correlation_ahead_drop(struct lw_correlation *c);

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
/* Windows: the correlation rules, then the detection rules that fire on
 * their own. */
uint32_t lw_correlation_rule_count(const struct lw_correlation *c);
void lw_correlation_rule_stats(const struct lw_correlation *c, uint32_t i,
			       struct lw_correlation_rule_stats *out);

/* Per-rule shedding as text, for the store (logward stats) and the
 * metrics endpoint: one line per window,
 *   LABEL TAB evicted TAB not_admitted TAB groups TAB live TAB bytes LF
 * LABEL is the rule's name (its id when it has none; tabs and line
 * breaks become spaces). evicted and not_admitted add base's values for
 * the same label (the totals of earlier runs, a text of this format, may
 * be NULL), so they continue across restarts. */
void lw_correlation_stats_text(const struct lw_correlation *c,
			       const char *base, size_t base_len,
			       struct lw_buf *out);

/* One line of that text: the label (a view into the text) and its five
 * numbers; ok is 0 for a line that is not of the format (skip it). */
struct lw_correlation_stats_line {
	const char *label;
	size_t label_len;
	int ok;
	uint64_t evicted, not_admitted, groups, live, bytes;
};
/* Reads the line at p (p < end) into *out and returns the start of the
 * next one (end or past it when there is none). */
const char *lw_correlation_stats_next(const char *p, const char *end,
				      struct lw_correlation_stats_line *out);

#endif
