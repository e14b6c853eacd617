/* The metadata of Sigma's rule format that detection rules
 * (correlator/sigma_load.c) and correlation rules
 * (correlator/correlation_load.c) both carry, read one way (prefix
 * lw_sigma_meta): `title`, `id`, `name`, `status`, `level`, and `tags`
 * with logward's `logward.<category>` tag (docs/rules.md "Category").
 *
 * Problems are reported through correlator/ryaml.h at the offending node.
 * Threads: the loading thread's. */
#ifndef LW_CORRELATOR_SIGMA_META_H
#define LW_CORRELATOR_SIGMA_META_H

#include <stdint.h>

#include "correlator/ryaml.h"
#include "correlator/sigma.h"

/* title and id (required), name and status (optional) of rule mapping
 * root, copied into info's strings (the caller frees them, after an error
 * too). Each must be a non-empty string, not YAML's null. LW_OK,
 * LW_EPARSE (reported) or LW_ENOMEM. */
int lw_sigma_meta_names(struct lw_ryaml *y, yaml_node_t *root,
			struct lw_sigma_rule_info *info);

/* The `level` of rule mapping root into *out; medium, with a warning, when
 * the rule has none. LW_OK or LW_EPARSE (reported). */
int lw_sigma_meta_level(struct lw_ryaml *y, yaml_node_t *root,
			enum lw_sigma_level *out);

/* The `tags` of rule mapping root, each copied into *tagv (allocated here,
 * *ntags entries; the caller frees both, after an error too), and the
 * category its logward.<category> tag names in *category (-1: none).
 * LW_OK, LW_EPARSE (reported: not a list of strings, an unknown category,
 * two categories) or LW_ENOMEM. */
int lw_sigma_meta_tags(struct lw_ryaml *y, yaml_node_t *root, char ***tagv,
		       uint32_t *ntags, int *category);

#endif
