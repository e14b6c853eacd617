/* lw_correlation_rules_build and the lookups of a built set
 * (correlator/correlation_refs.h): references, fields, order, categories
 * and which detection rules fire directly. */
#include "correlator/correlation_refs.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "correlator/correlation_int.h"

static void rerr_at(struct lw_diags *diags, const struct crule *r, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* An error found after loading, at line of the rule's file (0: the
 * rule's own line), as "file:line: error: reason". */
static void rerr_at(struct lw_diags *diags, const struct crule *r, int line,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lw_diags_vadd(diags, LW_DIAG_ERROR, LW_EPARSE, r->info.file,
		      line ? line : r->line, 0, fmt, ap);
	va_end(ap);
}

/* Sigma generic name or ECS name -> fref. 0 when the name is neither. */
static int resolve_field(const char *name, struct fref *out)
{
	const char *key = lw_event_sigma_alias(name, strlen(name));

	if (key == NULL)
		key = name;
	out->member = (uint8_t)lw_event_member_lookup(key, strlen(key));
	if (out->member == LW_EVENT_MEMBER_NONE && strchr(key, '.') == NULL)
		return 0;
	out->key = strdup(key);
	out->keylen = (uint32_t)strlen(key);
	return out->key != NULL ? 1 : -1;
}

/* The field a group-by / value name means for reference slot s: the
 * alias's field for that rule when the name is an alias. NULL with
 * *line set when an alias lacks the rule. */
static const char *field_for(const struct crule *r, const char *name,
			     uint32_t s, int *line)
{
	int is_alias = 0;

	for (uint32_t i = 0; i < r->naliases; i++) {
		if (strcmp(r->aliases[i].name, name) != 0)
			continue;
		is_alias = 1;
		*line = r->aliases[i].line;
		if (r->nrefs > 0 && strcmp(r->aliases[i].ref, r->refs[s]) == 0)
			return r->aliases[i].field;
	}
	return is_alias ? NULL : name;
}

static int build_fields(struct crule *r, struct lw_diags *diags)
{
	uint32_t slots = slots_of(r);
	int rc = LW_OK;

	for (uint32_t i = 0; i < r->naliases; i++) {
		uint32_t j;

		for (j = 0; j < r->nrefs; j++)
			if (strcmp(r->aliases[i].ref, r->refs[j]) == 0)
				break;
		if (j == r->nrefs) {
			rerr_at(diags, r, r->aliases[i].line, "alias '%s' names rule "
				"'%s', which is not in 'rules'", r->aliases[i].name,
				r->aliases[i].ref);
			rc = LW_EPARSE;
		}
	}
	r->gf = calloc((size_t)slots * (r->ngroup ? r->ngroup : 1), sizeof(*r->gf));
	if (r->value_field != NULL)
		r->vf = calloc(slots, sizeof(*r->vf));
	if (r->gf == NULL || (r->value_field != NULL && r->vf == NULL))
		return LW_ENOMEM;
	for (uint32_t s = 0; s < slots; s++) {
		for (uint32_t g = 0; g <= r->ngroup; g++) {
			const char *name = g < r->ngroup ? r->group[g] : r->value_field;
			struct fref *f = g < r->ngroup ? &r->gf[s * r->ngroup + g] :
				(r->vf ? &r->vf[s] : NULL);
			int line = 0, ok;
			const char *fname;

			if (f == NULL)
				continue;
			fname = field_for(r, name, s, &line);
			if (fname == NULL) {
				rerr_at(diags, r, line, "alias '%s' has no field for "
					"rule '%s'", name, r->refs[s]);
				rc = LW_EPARSE;
				continue;
			}
			ok = resolve_field(fname, f);
			if (ok < 0)
				return LW_ENOMEM;
			if (ok == 0) {
				rerr_at(diags, r, 0, "field '%s' is neither an ECS name "
					"nor a known Sigma field", fname);
				rc = LW_EPARSE;
			}
		}
	}
	return rc;
}

static int64_t find_corr(const struct lw_correlation_rules *cr, const char *s)
{
	for (uint32_t i = 0; i < cr->n; i++)
		if (strcmp(cr->rules[i].info.id, s) == 0 ||
		    (cr->rules[i].info.name != NULL &&
		     strcmp(cr->rules[i].info.name, s) == 0))
			return i;
	return -1;
}

static int resolve_refs(struct lw_correlation_rules *cr, struct crule *r,
			const struct lw_sigma_set *sigma, struct lw_diags *diags)
{
	int rc = LW_OK;

	r->ref_idx = calloc(r->nrefs ? r->nrefs : 1, sizeof(*r->ref_idx));
	if (r->ref_idx == NULL)
		return LW_ENOMEM;
	for (uint32_t j = 0; j < r->nrefs; j++) {
		int64_t d = sigma ? lw_sigma_find(sigma, r->refs[j]) : -1;
		int64_t k = find_corr(cr, r->refs[j]);

		if (d >= 0 && k >= 0) {
			rerr_at(diags, r, r->ref_lines[j], "'%s' names both a "
				"detection rule and a correlation rule", r->refs[j]);
			rc = LW_EPARSE;
		} else if (d >= 0) {
			r->ref_idx[j] = (uint32_t)d;
		} else if (k >= 0) {
			if (&cr->rules[k] == r) {
				rerr_at(diags, r, r->ref_lines[j], "a correlation "
					"cannot reference itself");
				rc = LW_EPARSE;
			}
			r->ref_idx[j] = cr->nsigma + (uint32_t)k;
		} else {
			rerr_at(diags, r, r->ref_lines[j], "no detection or "
				"correlation rule with id or name '%s'", r->refs[j]);
			rc = LW_EPARSE;
		}
	}
	return rc;
}

static const struct lw_sigma_rule_info *ref_info(const struct lw_correlation_rules *cr,
						 const struct lw_sigma_set *sigma,
						 uint32_t idx)
{
	if (idx < cr->nsigma)
		return lw_sigma_rule(sigma, idx);
	return &cr->rules[idx - cr->nsigma].info;
}

/* Kahn's algorithm over "correlation a references correlation b". */
static int order_rules(struct lw_correlation_rules *cr, struct lw_diags *diags)
{
	uint32_t *indeg = calloc(cr->n ? cr->n : 1, sizeof(*indeg));
	uint32_t head = 0, tail = 0;
	int rc = LW_OK;

	cr->order = calloc(cr->n ? cr->n : 1, sizeof(*cr->order));
	if (indeg == NULL || cr->order == NULL) {
		free(indeg);
		return LW_ENOMEM;
	}
	for (uint32_t i = 0; i < cr->n; i++)
		for (uint32_t j = 0; j < cr->rules[i].nrefs; j++)
			if (cr->rules[i].ref_idx[j] >= cr->nsigma)
				indeg[i]++;
	for (uint32_t i = 0; i < cr->n; i++)
		if (indeg[i] == 0)
			cr->order[tail++] = i;
	while (head < tail) {
		uint32_t x = cr->order[head++];

		for (uint32_t i = 0; i < cr->n; i++)
			for (uint32_t j = 0; j < cr->rules[i].nrefs; j++)
				if (cr->rules[i].ref_idx[j] == cr->nsigma + x &&
				    --indeg[i] == 0)
					cr->order[tail++] = i;
	}
	for (uint32_t i = 0; i < cr->n; i++)
		if (indeg[i] > 0) {
			rerr_at(diags, &cr->rules[i], 0, "correlation '%s' is part "
				"of a reference cycle", cr->rules[i].info.id);
			rc = LW_EPARSE;
		}
	free(indeg);
	return rc;
}

static int inherit_category(struct lw_correlation_rules *cr, struct crule *r,
			    const struct lw_sigma_set *sigma,
			    struct lw_diags *diags)
{
	int cat = -1;

	if (r->has_category)
		return LW_OK;
	for (uint32_t j = 0; j < r->nrefs; j++) {
		const struct lw_sigma_rule_info *in = ref_info(cr, sigma, r->ref_idx[j]);

		if (in == NULL)
			continue;
		if (cat >= 0 && cat != (int)in->category) {
			rerr_at(diags, r, 0, "no 'logward.<category>' tag and the "
				"referenced rules have different categories (%s, %s)",
				lw_category_name(cat), lw_category_name(in->category));
			return LW_EPARSE;
		}
		cat = (int)in->category;
	}
	if (cat < 0) {
		rerr_at(diags, r, 0, "no 'logward.<category>' tag (and no "
			"referenced rule to take one from)");
		return LW_EPARSE;
	}
	r->info.category = (enum lw_category)cat;
	r->has_category = 1;
	return LW_OK;
}

/* CSR lists: which windows a detection rule (index < nsigma) or a
 * correlation (nsigma + i) feeds, and which detection rules fire directly. */
static int build_consumers(struct lw_correlation_rules *cr,
			   const struct lw_sigma_set *sigma)
{
	uint32_t nidx = cr->nsigma + cr->n, total = 0;
	uint32_t *fill;

	cr->cons_off = calloc((size_t)nidx + 1, sizeof(*cr->cons_off));
	cr->direct = calloc(cr->nsigma ? cr->nsigma : 1, 1);
	cr->all_events = calloc(cr->n ? cr->n : 1, sizeof(*cr->all_events));
	fill = calloc((size_t)nidx + 1, sizeof(*fill));
	if (cr->cons_off == NULL || cr->direct == NULL ||
	    cr->all_events == NULL || fill == NULL)
		goto oom;
	for (uint32_t i = 0; i < cr->n; i++) {
		total += cr->rules[i].nrefs;
		for (uint32_t j = 0; j < cr->rules[i].nrefs; j++)
			cr->cons_off[cr->rules[i].ref_idx[j] + 1]++;
		if (cr->rules[i].nrefs == 0)
			cr->all_events[cr->nall++] = i;
	}
	for (uint32_t x = 0; x < nidx; x++)
		cr->cons_off[x + 1] += cr->cons_off[x];
	cr->cons = calloc(total ? total : 1, sizeof(*cr->cons));
	if (cr->cons == NULL)
		goto oom;
	/* In topological order, so a window of a referenced correlation is
	 * fed before the windows that reference it. */
	for (uint32_t o = 0; o < cr->n; o++) {
		uint32_t i = cr->order[o];

		for (uint32_t j = 0; j < cr->rules[i].nrefs; j++) {
			uint32_t x = cr->rules[i].ref_idx[j];

			cr->cons[cr->cons_off[x] + fill[x]++] = (struct cons){i, j};
		}
	}
	for (uint32_t d = 0; d < cr->nsigma; d++) {
		const struct lw_sigma_rule_info *in = lw_sigma_rule(sigma, d);
		int referenced = 0, generate = 0;

		for (uint32_t k = cr->cons_off[d]; k < cr->cons_off[d + 1]; k++) {
			referenced = 1;
			generate |= cr->rules[cr->cons[k].win].generate;
		}
		cr->direct[d] = in != NULL && !in->never_matches &&
			in->level >= LW_LEVEL_LOW && (!referenced || generate);
	}
	free(fill);
	return LW_OK;

oom:
	free(fill);
	return LW_ENOMEM;
}

int lw_correlation_rules_build(struct lw_correlation_rules *cr,
			       const struct lw_sigma_set *sigma,
			       struct lw_diags *diags)
{
	int rc = LW_OK, r;

	if (cr->built)
		return LW_EINVAL;
	cr->nsigma = sigma ? lw_sigma_count(sigma) : 0;
	for (uint32_t i = 0; i < cr->n; i++) {
		struct crule *cu = &cr->rules[i];

		if (sigma != NULL && lw_sigma_find(sigma, cu->info.id) >= 0) {
			rerr_at(diags, cu, 0, "id %s is also a detection rule's id",
				cu->info.id);
			rc = LW_EPARSE;
		}
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(cr->rules[j].info.id, cu->info.id) == 0 ||
			    (cu->info.name != NULL && cr->rules[j].info.name != NULL &&
			     strcmp(cr->rules[j].info.name, cu->info.name) == 0)) {
				rerr_at(diags, cu, 0, "duplicate id or name %s (also "
					"in %s:%d)", cu->info.name ? cu->info.name :
					cu->info.id, cr->rules[j].info.file,
					cr->rules[j].line);
				rc = LW_EPARSE;
			}
		r = resolve_refs(cr, cu, sigma, diags);
		if (r == LW_ENOMEM)
			return r;
		if (r != LW_OK)
			rc = r;
		r = build_fields(cu, diags);
		if (r == LW_ENOMEM)
			return r;
		if (r != LW_OK)
			rc = r;
	}
	if (rc != LW_OK)
		return rc;
	rc = order_rules(cr, diags);
	if (rc != LW_OK)
		return rc;
	for (uint32_t o = 0; o < cr->n; o++) {
		r = inherit_category(cr, &cr->rules[cr->order[o]], sigma, diags);
		if (r != LW_OK)
			rc = r;
	}
	if (rc != LW_OK)
		return rc;
	rc = build_consumers(cr, sigma);
	if (rc == LW_OK)
		cr->built = 1;
	return rc;
}

uint32_t lw_correlation_rules_count(const struct lw_correlation_rules *cr)
{
	return cr->n;
}

const struct lw_sigma_rule_info *
lw_correlation_rules_info(const struct lw_correlation_rules *cr, uint32_t i)
{
	return i < cr->n ? &cr->rules[i].info : NULL;
}

const char *lw_correlation_rules_type(const struct lw_correlation_rules *cr,
				      uint32_t i)
{
	return i < cr->n ? ctype_name(cr->rules[i].type) : NULL;
}

int64_t lw_correlation_rules_find(const struct lw_correlation_rules *cr,
				  const char *id_or_name)
{
	return find_corr(cr, id_or_name);
}

int lw_correlation_rules_fires_directly(const struct lw_correlation_rules *cr,
					uint32_t rule)
{
	return cr->built && rule < cr->nsigma && cr->direct[rule];
}
