/* Sigma detection rules (prefix lw_sigma): loading the YAML, compiling
 * selections and the condition, and evaluating them per event.
 *
 * Supported subset (docs/rules.md has the full description):
 *  - title, id (required, unique), name, level, tags, status, logsource,
 *    detection; other Sigma metadata keys are accepted and ignored.
 *  - selections: a map (every field must match), a list of maps (any map),
 *    a keyword list or a keyword string (matched against `message`).
 *  - values: strings with Sigma wildcards `*` `?` and `\` escapes, numbers,
 *    null (field absent or empty), lists (any value; all with |all).
 *  - modifiers: contains startswith endswith all re (re|i re|m re|s) cidr
 *    exists gt gte lt lte cased, expand (%name% from the ruleset's lookup
 *    lists, correlator/lookup.h) and logward's lookup (value in a list).
 *    windash, base64, base64offset, utf16*, wide and fieldref are
 *    rejected with an error naming them.
 *  - condition: and or not ( ) `1 of x*` `all of x*` `1 of them`
 *    `all of them`, or a list of conditions (any). Aggregations (`| count`)
 *    and `near` are rejected: they are correlation rules.
 *
 * Matching is case-insensitive (ASCII) except for `re` and `cased`.
 * Fields: ECS names resolve to event members (message, host.name,
 * process.name, process.pid, log.syslog.*, labels.zone, log.source.address)
 * or to extra fields (decoder output); Sigma's generic names are mapped to
 * ECS (Image -> process.executable, User -> user.name ...). Both tables
 * are core/event.h's (lw_event_member_lookup, lw_event_sigma_alias).
 * A name that is neither ECS-shaped (dotted) nor an alias is unknown: a
 * load warning, and it behaves as an absent field.
 *
 * Conditions compile to a short jump program (correlator/sigma_cond.h), so no
 * string is looked at per event. Rules are filed by the programs their
 * logsource implies (service sshd -> process.name sshd ...), so an event
 * only runs the rules that can apply to its program.
 *
 * Category: every rule names its response-plan category with one tag
 * `logward.<category>` (e.g. logward.unauthorized-access). A rule without
 * one gets LW_CAT_UNAUTHORIZED_ACCESS and a load warning.
 *
 * Threads: a built set is immutable and shared; each thread evaluates with
 * its own lw_sigma_scratch.
 *
 * Four modules; this header declares the set's lifecycle and lookups and
 * includes the other three, so users include only it:
 *  - correlator/sigma.h (sigma.c): the set, its lookups, level and
 *    category names;
 *  - correlator/sigma_load.h: loading rule files into a set;
 *  - correlator/sigma_gate.h: folding, gates, filing by program (build);
 *  - correlator/sigma_eval.h: evaluating events.
 * Their shared private structs are in correlator/sigma_int.h. */
#ifndef LW_CORRELATOR_SIGMA_H
#define LW_CORRELATOR_SIGMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "correlator/diags.h"
#include "correlator/sigma_eval.h"
#include "correlator/sigma_gate.h"
#include "correlator/sigma_load.h"

enum lw_sigma_level {
	LW_LEVEL_INFORMATIONAL = 0,
	LW_LEVEL_LOW,
	LW_LEVEL_MEDIUM,
	LW_LEVEL_HIGH,
	LW_LEVEL_CRITICAL
};

/* Whether a firing of a rule at level l raises an incident: an
 * informational correlation is a building block that only feeds the
 * correlations referencing it (docs/rules.md). The one test for serve,
 * `rules test` and `rules replay`. */
static inline int lw_sigma_level_raises(enum lw_sigma_level l)
{
	return l >= LW_LEVEL_LOW;
}

/* The response plan's incident categories (rules/response.yml ids). */
enum lw_category {
	LW_CAT_UNAUTHORIZED_ACCESS = 0,
	LW_CAT_DOS,
	LW_CAT_ANOMALOUS_OUTBOUND,
	LW_CAT_MALWARE,
	LW_CAT_DATA_EXFILTRATION,
	LW_CAT_UNAUTHORIZED_SOFTWARE,
	LW_CAT_LOG_TAMPERING,
	LW_CAT_SYSTEM_FAILURE,
	LW_CAT_COUNT
};

/* "unauthorized-access" ...; NULL when out of range. */
const char *lw_category_name(int cat);
/* The category of a name, or -1. */
int lw_category_parse(const char *name, size_t len);
/* "informational" ... "critical". */
const char *lw_sigma_level_name(int level);

/* Read-only description of a loaded rule; strings owned by the set. */
struct lw_sigma_rule_info {
	const char *id;
	const char *title;
	const char *name;      /* Sigma `name` (for correlation rules) or NULL */
	const char *status;    /* or NULL */
	const char *file;
	int line;
	enum lw_sigma_level level;
	enum lw_category category;
	const char *const *tags;
	uint32_t ntags;
	int never_matches;     /* only fields nobody produces: never evaluated */
};

struct lw_sigma_set;
struct lw_sigma_scratch;

/* An empty set, to load rules into. NULL on ENOMEM. */
struct lw_sigma_set *lw_sigma_set_new(void);
/* NULL is a no-op. */
void lw_sigma_set_free(struct lw_sigma_set *set);

uint32_t lw_sigma_count(const struct lw_sigma_set *set);
/* NULL when i is out of range. */
const struct lw_sigma_rule_info *lw_sigma_rule(const struct lw_sigma_set *set,
					       uint32_t i);
/* Index of the rule with this id (or Sigma name), or -1. */
int64_t lw_sigma_find(const struct lw_sigma_set *set, const char *id_or_name);

#endif
