/* lw_sigma: the rule set's lifecycle, its lookups and the names of levels
 * and categories (correlator/sigma.h). Loading is sigma_load.c, gating
 * sigma_gate.c, evaluation sigma_eval.c. */
#include "correlator/sigma.h"

#include <stdlib.h>
#include <string.h>

#include "correlator/sigma_int.h"

/* ---- names ---- */

static const char *const category_names[LW_CAT_COUNT] = {
	"unauthorized-access", "dos", "anomalous-outbound", "malware",
	"data-exfiltration", "unauthorized-software", "log-tampering",
	"system-failure"};

static const char *const level_names[] = {
	"informational", "low", "medium", "high", "critical"};

const char *lw_category_name(int cat)
{
	return cat >= 0 && cat < LW_CAT_COUNT ? category_names[cat] : NULL;
}

int lw_category_parse(const char *name, size_t len)
{
	for (int i = 0; i < LW_CAT_COUNT; i++)
		if (strlen(category_names[i]) == len &&
		    memcmp(category_names[i], name, len) == 0)
			return i;
	return -1;
}

const char *lw_sigma_level_name(int level)
{
	return level >= 0 && level <= LW_LEVEL_CRITICAL ? level_names[level] : NULL;
}

struct lw_sigma_set *lw_sigma_set_new(void)
{
	struct lw_sigma_set *set = calloc(1, sizeof(*set));

	if (set != NULL)
		lw_progmap_init(&set->map);
	return set;
}

void lw_sigma_value_release(struct value *v)
{
	free(v->bytes);
	free(v->cls);
	free(v->segs);
}

void lw_sigma_rule_release(struct rule *r)
{
	free((char *)r->info.id);
	free((char *)r->info.title);
	free((char *)r->info.name);
	free((char *)r->info.status);
	free((char *)r->info.file);
	for (uint32_t i = 0; i < r->info.ntags; i++)
		free(r->tagv[i]);
	free(r->tagv);
	for (uint32_t i = 0; i < r->nprograms; i++)
		free(r->programs[i]);
	free(r->programs);
	lw_sigma_cond_free(r->cond);
	free(r->dead_reason);
	free(r->need_value);
}

void lw_sigma_set_free(struct lw_sigma_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->nrules; i++)
		lw_sigma_rule_release(&set->rules[i]);
	for (uint32_t i = 0; i < set->nvals; i++)
		lw_sigma_value_release(&set->vals[i]);
	for (uint32_t i = 0; i < set->nslots; i++)
		free(set->slots[i].key);
	for (uint32_t i = 0; i < set->nres; i++)
		free(set->res[i].src);
	free(set->rules);
	free(set->sels);
	free(set->groups);
	free(set->matchers);
	free(set->vals);
	free(set->slots);
	free(set->res);
	free(set->global);
	free(set->global_maps);
	for (uint32_t i = 0; i < set->nneeds; i++)
		free(set->needs[i].rules);
	free(set->needs);
	free(set->facrules);
	free(set->gate_vals);
	for (uint32_t i = 0; i < set->ngates; i++)
		lw_progmap_release(&set->gates[i].map);
	free(set->gates);
	lw_progmap_release(&set->map);
	free(set);
}

uint32_t lw_sigma_count(const struct lw_sigma_set *set)
{
	return set->nrules;
}

const struct lw_sigma_rule_info *lw_sigma_rule(const struct lw_sigma_set *set,
					       uint32_t i)
{
	return i < set->nrules ? &set->rules[i].info : NULL;
}

int64_t lw_sigma_find(const struct lw_sigma_set *set, const char *id_or_name)
{
	for (uint32_t i = 0; i < set->nrules; i++) {
		const struct lw_sigma_rule_info *in = &set->rules[i].info;
		if (strcmp(in->id, id_or_name) == 0 ||
		    (in->name != NULL && strcmp(in->name, id_or_name) == 0))
			return i;
	}
	return -1;
}
