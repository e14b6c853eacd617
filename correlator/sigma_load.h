/* Loading Sigma detection rules into a set (prefix lw_sigma_set_load):
 * each rule's metadata, logsource (the programs it is filed under), its
 * selections compiled to matchers and values (globs, regexes, networks,
 * numbers), and its condition compiled by correlator/sigma_cond.h. The
 * supported subset is correlator/sigma.h's and docs/rules.md's.
 *
 * Ownership: the set copies everything it keeps; yaml is borrowed.
 * Threads: one loading thread; the set must not be built yet.
 * Errors: every problem goes to diags as file:line:col (a condition's
 * error at its column in the file) and loading goes on with the next
 * selection or rule, so `logward rules check` lists them all; a rule
 * with an error is left out and nothing of it stays in the set. */
#ifndef LW_CORRELATOR_SIGMA_LOAD_H
#define LW_CORRELATOR_SIGMA_LOAD_H

#include <stddef.h>

#include "correlator/diags.h"

struct lw_sigma_set;
struct lw_lookup_set;

/* The lookup lists `|lookup: name` and `|expand: '%name%'` name (borrowed;
 * they must outlive the set). Without it both are load errors. */
void lw_sigma_set_use_lists(struct lw_sigma_set *set,
			    const struct lw_lookup_set *lists);

/* Loads the rules of one YAML file (a file may hold several documents).
 * Every problem goes to diags with file:line and loading continues; a
 * rule with an error is left out. Returns LW_OK when the file had no
 * error, else the first error (LW_EPARSE, LW_EIO, LW_ENOMEM); LW_EINVAL
 * once the set is built. */
int lw_sigma_set_load_file(struct lw_sigma_set *set, const char *path,
			   struct lw_diags *diags);
/* Same from yaml[0..len) (copied), named name in messages. */
int lw_sigma_set_load_string(struct lw_sigma_set *set, const char *name,
			     const char *yaml, size_t len,
			     struct lw_diags *diags);

#endif
