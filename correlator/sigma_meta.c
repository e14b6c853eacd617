/* lw_sigma_meta: `level` and `tags` of a Sigma detection or correlation
 * rule (correlator/sigma_meta.h). */
#include "correlator/sigma_meta.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static int str_field(struct lw_ryaml *y, yaml_node_t *map, const char *key,
		     int required, const char **out)
{
	yaml_node_t *v = lw_ryaml_get(y, map, key, NULL);
	const char *s;
	size_t len;

	*out = NULL;
	if (v == NULL)
		return required ? lw_ryaml_error(y, map, LW_EPARSE,
						 "'%s' is required", key) : LW_OK;
	s = lw_ryaml_str(v, &len);
	if (s == NULL || len == 0 || lw_ryaml_is_null(v))
		return lw_ryaml_error(y, v, LW_EPARSE,
				      "'%s' must be a non-empty string", key);
	*out = lw_memdup_z(s, len);
	return *out ? LW_OK : LW_ENOMEM;
}

int lw_sigma_meta_names(struct lw_ryaml *y, yaml_node_t *root,
			struct lw_sigma_rule_info *info)
{
	int rc = str_field(y, root, "title", 1, &info->title);

	if (rc == LW_OK)
		rc = str_field(y, root, "id", 1, &info->id);
	if (rc == LW_OK)
		rc = str_field(y, root, "name", 0, &info->name);
	if (rc == LW_OK)
		rc = str_field(y, root, "status", 0, &info->status);
	return rc;
}

int lw_sigma_meta_level(struct lw_ryaml *y, yaml_node_t *root,
			enum lw_sigma_level *out)
{
	yaml_node_t *v = lw_ryaml_get(y, root, "level", NULL);
	const char *s = lw_ryaml_str(v, NULL);

	*out = LW_LEVEL_MEDIUM;
	if (v == NULL) {
		lw_ryaml_warn(y, root, "no 'level': medium is assumed");
		return LW_OK;
	}
	for (int i = 0; s != NULL && i <= LW_LEVEL_CRITICAL; i++)
		if (strcmp(s, lw_sigma_level_name(i)) == 0) {
			*out = (enum lw_sigma_level)i;
			return LW_OK;
		}
	return lw_ryaml_error(y, v, LW_EPARSE, "level must be informational, "
			      "low, medium, high or critical");
}

int lw_sigma_meta_tags(struct lw_ryaml *y, yaml_node_t *root, char ***tagv,
		       uint32_t *ntags, int *category)
{
	yaml_node_t *tags = lw_ryaml_get(y, root, "tags", NULL);
	size_t n;

	*category = -1;
	if (tags == NULL)
		return LW_OK;
	if (tags->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(y, tags, LW_EPARSE, "'tags' must be a list");
	n = (size_t)(tags->data.sequence.items.top - tags->data.sequence.items.start);
	*tagv = calloc(n ? n : 1, sizeof(**tagv));
	if (*tagv == NULL)
		return LW_ENOMEM;
	for (yaml_node_item_t *it = tags->data.sequence.items.start;
	     it < tags->data.sequence.items.top; it++) {
		yaml_node_t *t = lw_ryaml_node(y, *it);
		size_t len;
		const char *s = lw_ryaml_str(t, &len);

		if (s == NULL)
			return lw_ryaml_error(y, t, LW_EPARSE, "a tag must be a string");
		if (len > 8 && memcmp(s, "logward.", 8) == 0) {
			int k = lw_category_parse(s + 8, len - 8);

			if (k < 0)
				return lw_ryaml_error(y, t, LW_EPARSE,
					"unknown category '%s' (expected one of "
					"unauthorized-access, dos, "
					"anomalous-outbound, malware, "
					"data-exfiltration, unauthorized-software, "
					"log-tampering, system-failure)", s + 8);
			if (*category >= 0 && *category != k)
				return lw_ryaml_error(y, t, LW_EPARSE,
					"two logward categories: '%s' and '%s'",
					lw_category_name(*category), s + 8);
			*category = k;
		}
		(*tagv)[*ntags] = lw_memdup_z(s, len);
		if ((*tagv)[(*ntags)++] == NULL)
			return LW_ENOMEM;
	}
	return LW_OK;
}
