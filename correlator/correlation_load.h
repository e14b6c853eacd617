/* Correlation rules: the rules object and loading it (prefix
 * lw_correlation_rules), the first half of the rules' life; the second is
 * correlator/correlation_refs.h. The rule format is described in
 * correlator/correlation.h and docs/rules.md "Correlation rules".
 *
 * Ownership: the object owns every string and array it holds;
 * lw_correlation_rules_free frees them all, built parts included.
 * Threads: loading runs on one thread (the ruleset loader's); after
 * lw_correlation_rules_build the object is immutable and any number of
 * threads may read it.
 * Errors: every problem of a file goes to diags as file:line:col and
 * loading continues with the next rule, so `logward rules check` lists
 * them all; a rule with an error is left out. */
#ifndef LW_CORRELATOR_CORRELATION_LOAD_H
#define LW_CORRELATOR_CORRELATION_LOAD_H

#include <stddef.h>

#include "correlator/diags.h"

struct lw_correlation_rules;

/* NULL on ENOMEM. */
struct lw_correlation_rules *lw_correlation_rules_new(void);
/* NULL is a no-op. */
void lw_correlation_rules_free(struct lw_correlation_rules *cr);

/* Loads the correlation rules of one YAML file (several documents
 * allowed). Every problem goes to diags with file:line and loading
 * continues; returns LW_OK when the file had no error, else the first
 * error (LW_EPARSE, LW_EIO, LW_ENOMEM). LW_EINVAL after build. */
int lw_correlation_rules_load_file(struct lw_correlation_rules *cr,
				   const char *path, struct lw_diags *diags);
/* Same from yaml[0..len) (copied), named name in messages. */
int lw_correlation_rules_load_string(struct lw_correlation_rules *cr,
				     const char *name, const char *yaml,
				     size_t len, struct lw_diags *diags);

#endif
