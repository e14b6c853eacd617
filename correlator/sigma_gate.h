/* Gating Sigma rules before any event arrives (prefix lw_sigma_set_build):
 * the work done once so that each event pays only for rules that can
 * match it.
 *
 *  - Folding: a field nothing produces is always absent, so matchers on it
 *    are constants; a selection made of them folds to true or false, and a
 *    rule whose condition can then never be true is reported (warning)
 *    and never evaluated. This is why most SigmaHQ process_creation rules
 *    cost nothing on a syslog stream.
 *  - Gates: when every way of satisfying a rule's condition needs one of
 *    a few values of one field (in practice event.action), those values
 *    are checked first and the rest of the rule only when one matches.
 *    Found by evaluating the condition over the assignments of its other
 *    selections, like the dead-rule check (docs/performance.md).
 *  - Filing: rules are listed under the programs their logsource implies
 *    (correlator/progmap.h), by facility, or as global.
 *
 * Threads: runs once on the loading thread; afterwards the set is
 * immutable and shared by every evaluating thread.
 * Errors: only LW_ENOMEM (and LW_EINVAL when built already); dead rules
 * are warnings in diags at the rule's file:line. */
#ifndef LW_CORRELATOR_SIGMA_GATE_H
#define LW_CORRELATOR_SIGMA_GATE_H

#include <stddef.h>

#include "correlator/diags.h"

struct lw_sigma_set;

/* Says whether an extra field can ever be present (a decoder produces it,
 * the correlator stamps it ...). */
typedef int (*lw_sigma_known_fn)(const char *key, size_t len, void *arg);

/* Freezes the set: files rules by program. When known is not NULL, extra
 * fields it rejects are treated as always absent: selections on them are
 * folded to constants at load time, and a rule that can then never match
 * is reported (warning) and never evaluated. LW_OK or LW_ENOMEM. */
int lw_sigma_set_build(struct lw_sigma_set *set, lw_sigma_known_fn known,
		       void *arg, struct lw_diags *diags);

#endif
