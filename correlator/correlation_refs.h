/* Correlation rules: reference resolution and the lookups of a built set
 * (prefix lw_correlation_rules; the object and its loading are
 * correlator/correlation_load.h).
 *
 * Building resolves every `rules` reference to a detection rule or
 * another correlation (by id or name), resolves group-by and value fields
 * through core/event.h's field table (aliases per referenced rule), orders
 * the correlations so a referenced one is fed first, gives a rule without
 * a category the one of its referenced rules, and decides which detection
 * rules fire on their own (correlator/correlation.h, header comment).
 *
 * Threads: build runs once, on the loading thread; afterwards the set is
 * immutable and the lookups are safe from any thread.
 * Errors: build reports every problem to diags at the rule's file and
 * line (of the reference or alias when there is one). */
#ifndef LW_CORRELATOR_CORRELATION_REFS_H
#define LW_CORRELATOR_CORRELATION_REFS_H

#include <stdint.h>

#include "correlator/diags.h"
#include "correlator/sigma.h"

struct lw_correlation_rules;

/* Resolves `rules` references against the detection rules in sigma (and
 * the correlation rules themselves), checks ids are unique across both,
 * orders correlations so a referenced one runs first (cycles are errors),
 * inherits a category from the referenced rules when a rule has no
 * `logward.<category>` tag, and decides which detection rules fire
 * directly. Errors go to diags with the rule's file:line. After this the
 * set is immutable. LW_OK, LW_EPARSE or LW_ENOMEM; LW_EINVAL when built
 * already. sigma is borrowed and must outlive cr (rule infos point into
 * it). */
int lw_correlation_rules_build(struct lw_correlation_rules *cr,
			       const struct lw_sigma_set *sigma,
			       struct lw_diags *diags);

uint32_t lw_correlation_rules_count(const struct lw_correlation_rules *cr);
/* id, title, name, level, category, tags, file, line of correlation i;
 * NULL when out of range. Owned by cr. */
const struct lw_sigma_rule_info *
lw_correlation_rules_info(const struct lw_correlation_rules *cr, uint32_t i);
/* "event_count", "value_count", "temporal", "temporal_ordered", "absence". */
const char *lw_correlation_rules_type(const struct lw_correlation_rules *cr,
				      uint32_t i);
/* Index of the correlation rule with this id or name, or -1. */
int64_t lw_correlation_rules_find(const struct lw_correlation_rules *cr,
				  const char *id_or_name);
/* 1 when detection rule `rule` (a lw_sigma index) fires incidents on its
 * own (correlator/correlation.h, header comment); only after build. */
int lw_correlation_rules_fires_directly(const struct lw_correlation_rules *cr,
					uint32_t rule);

#endif
