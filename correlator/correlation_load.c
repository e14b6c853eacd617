/* lw_correlation_rules: the rules object and loading rules/correlation/
 * files into it (correlator/correlation_load.h). */
#include "correlator/correlation_load.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "correlator/correlation_int.h"
#include "correlator/ryaml.h"
#include "correlator/sigma_meta.h"

static const char *const op_names[OP_COUNT] = {"gt", "gte", "lt", "lte", "eq",
					       "neq"};

static void strv_free(char **v, uint32_t n)
{
	if (v == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void fref_release(struct fref *f, uint32_t n)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(f[i].key);
	free(f);
}

static void crule_release(struct crule *r)
{
	free((char *)r->info.id);
	free((char *)r->info.title);
	free((char *)r->info.name);
	free((char *)r->info.status);
	free((char *)r->info.file);
	strv_free(r->tagv, r->info.ntags);
	strv_free(r->refs, r->nrefs);
	free(r->ref_lines);
	free(r->ref_idx);
	strv_free(r->group, r->ngroup);
	for (uint32_t i = 0; i < r->naliases; i++) {
		free(r->aliases[i].name);
		free(r->aliases[i].ref);
		free(r->aliases[i].field);
	}
	free(r->aliases);
	free(r->value_field);
	fref_release(r->gf, slots_of(r) * r->ngroup);
	fref_release(r->vf, r->vf ? slots_of(r) : 0);
	memset(r, 0, sizeof(*r));
}

struct lw_correlation_rules *lw_correlation_rules_new(void)
{
	return calloc(1, sizeof(struct lw_correlation_rules));
}

void lw_correlation_rules_free(struct lw_correlation_rules *cr)
{
	if (cr == NULL)
		return;
	for (uint32_t i = 0; i < cr->n; i++)
		crule_release(&cr->rules[i]);
	free(cr->rules);
	free(cr->order);
	free(cr->direct);
	free(cr->cons_off);
	free(cr->cons);
	free(cr->all_events);
	free(cr);
}

/* ---- loading ---- */

struct ctx {
	struct lw_correlation_rules *cr;
	struct lw_ryaml *y;
};


static const char *const top_keys[] = {
	"title", "id", "name", "status", "description", "references", "author",
	"date", "modified", "tags", "level", "correlation", "falsepositives",
	"taxonomy", "generate", "logward", "related", "license", "fields", NULL};

static int check_top_keys(struct ctx *c, yaml_node_t *root)
{
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(c->y, p->key);
		const char *ks = lw_ryaml_str(k, NULL);
		size_t i;

		if (ks == NULL)
			continue;
		if (strcmp(ks, "detection") == 0 || strcmp(ks, "logsource") == 0)
			return lw_ryaml_error(c->y, k, LW_EPARSE,
					      "a detection rule ('%s'): put it in "
					      "rules/detection/", ks);
		for (i = 0; top_keys[i] != NULL; i++)
			if (strcmp(ks, top_keys[i]) == 0)
				break;
		if (top_keys[i] == NULL)
			lw_ryaml_warn(c->y, k, "unknown key '%s' ignored", ks);
	}
	return LW_OK;
}

static int load_tags(struct ctx *c, yaml_node_t *root, struct crule *r)
{
	int cat, rc;

	rc = lw_sigma_meta_tags(c->y, root, &r->tagv, &r->info.ntags, &cat);
	if (rc != LW_OK)
		return rc;
	r->info.tags = (const char *const *)r->tagv;
	if (cat >= 0) {
		r->info.category = (enum lw_category)cat;
		r->has_category = 1;
	}
	return LW_OK;
}

/* A Sigma timespan ("30s", "5m", "1h", "2d"; logward also takes "ms" and
 * "w") as ns, > 0. */
static int parse_timespan(struct ctx *c, yaml_node_t *v, const char *what,
			  int64_t *out)
{
	const char *s = lw_ryaml_str(v, NULL);
	uint64_t ms;

	if (s == NULL || lw_parse_duration_ms(s, &ms) != LW_OK || ms == 0 ||
	    ms > (uint64_t)INT64_MAX / 1000000)
		return lw_ryaml_error(c->y, v, LW_EPARSE,
				      "'%s' must be a duration like "
				      "30s, 5m, 1h or 2d", what);
	*out = (int64_t)ms * 1000000;
	return LW_OK;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	*out = strtoull(s, &end, 10);
	return *end == '\0';
}

static int load_strlist(struct ctx *c, yaml_node_t *n, const char *what,
			char ***out, uint32_t *nout, int **lines)
{
	size_t cnt;

	if (n->type == YAML_SCALAR_NODE && !lw_ryaml_is_null(n))
		cnt = 1;
	else if (n->type == YAML_SEQUENCE_NODE)
		cnt = (size_t)(n->data.sequence.items.top -
			       n->data.sequence.items.start);
	else
		return lw_ryaml_error(c->y, n, LW_EPARSE,
				      "'%s' must be a list of strings", what);
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (*out == NULL)
		return LW_ENOMEM;
	if (lines != NULL) {
		*lines = calloc(cnt ? cnt : 1, sizeof(**lines));
		if (*lines == NULL)
			return LW_ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *e = n->type == YAML_SCALAR_NODE ? n :
			lw_ryaml_node(c->y, n->data.sequence.items.start[i]);
		size_t len;
		const char *s = lw_ryaml_str(e, &len);

		if (s == NULL || len == 0)
			return lw_ryaml_error(c->y, e ? e : n, LW_EPARSE,
					      "each entry of '%s' must be a "
					      "non-empty string", what);
		for (uint32_t j = 0; j < *nout; j++)
			if (strcmp((*out)[j], s) == 0)
				return lw_ryaml_error(c->y, e, LW_EPARSE,
					"'%s' lists '%s' twice", what, s);
		(*out)[*nout] = lw_memdup_z(s, len);
		if ((*out)[*nout] == NULL)
			return LW_ENOMEM;
		if (lines != NULL)
			(*lines)[*nout] = lw_ryaml_line(e);
		(*nout)++;
	}
	return LW_OK;
}

static int load_condition(struct ctx *c, yaml_node_t *cond, struct crule *r)
{
	if (cond->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, cond, LW_EPARSE,
				      "'condition' must be a mapping "
				      "like {gte: 10}");
	for (yaml_node_pair_t *p = cond->data.mapping.pairs.start;
	     p < cond->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(c->y, p->key);
		yaml_node_t *v = lw_ryaml_node(c->y, p->value);
		const char *ks = lw_ryaml_str(k, NULL);
		uint64_t num;
		int op;

		if (ks != NULL && strcmp(ks, "field") == 0) {
			size_t len;
			const char *s = lw_ryaml_str(v, &len);

			if (v->type == YAML_SEQUENCE_NODE)
				return lw_ryaml_error(c->y, v, LW_EPARSE,
					"'field' with several fields is not "
					"supported: give one field");
			if (s == NULL || len == 0)
				return lw_ryaml_error(c->y, v, LW_EPARSE,
					"'field' must be a field name");
			free(r->value_field);
			r->value_field = lw_memdup_z(s, len);
			if (r->value_field == NULL)
				return LW_ENOMEM;
			continue;
		}
		for (op = 0; op < OP_COUNT; op++)
			if (ks != NULL && strcmp(ks, op_names[op]) == 0)
				break;
		if (op == OP_COUNT)
			return lw_ryaml_error(c->y, k, LW_EPARSE,
					      "unknown condition '%s' (expected "
					      "gt, gte, lt, lte, eq, neq or field)",
					      ks ? ks : "?");
		if (r->type == CT_VALUE_SUM) {
			/* A sum of bytes: thresholds well past the counts' */
			if (!parse_u64(lw_ryaml_str(v, NULL), &num) ||
			    num > 1000000000000000000ULL ||
			    (op != OP_GT && op != OP_GTE))
				return lw_ryaml_error(c->y, v, LW_EPARSE,
						      "value_sum takes gt or gte, "
						      "a whole number up to 10^18");
		} else if (!parse_u64(lw_ryaml_str(v, NULL), &num) ||
			   num > LW_CORRELATION_MAX_THRESHOLD) {
			return lw_ryaml_error(c->y, v, LW_EPARSE,
					      "'%s' must be a whole "
					      "number from 0 to %d", ks,
					      LW_CORRELATION_MAX_THRESHOLD);
		}
		r->opmask |= 1u << op;
		r->opv[op] = (int64_t)num;
	}
	return LW_OK;
}

static int load_aliases(struct ctx *c, yaml_node_t *al, struct crule *r)
{
	size_t total = 0;

	if (al->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, al, LW_EPARSE,
				      "'aliases' must map an alias "
				      "to {rule: field}");
	for (yaml_node_pair_t *p = al->data.mapping.pairs.start;
	     p < al->data.mapping.pairs.top; p++) {
		yaml_node_t *v = lw_ryaml_node(c->y, p->value);

		if (v == NULL || v->type != YAML_MAPPING_NODE)
			return lw_ryaml_error(c->y, v ? v : al, LW_EPARSE,
					      "an alias must map each "
					      "rule to its field");
		total += (size_t)(v->data.mapping.pairs.top -
				  v->data.mapping.pairs.start);
	}
	r->aliases = calloc(total ? total : 1, sizeof(*r->aliases));
	if (r->aliases == NULL)
		return LW_ENOMEM;
	for (yaml_node_pair_t *p = al->data.mapping.pairs.start;
	     p < al->data.mapping.pairs.top; p++) {
		const char *an = lw_ryaml_str(lw_ryaml_node(c->y, p->key), NULL);
		yaml_node_t *v = lw_ryaml_node(c->y, p->value);

		if (an == NULL)
			return lw_ryaml_error(c->y, al, LW_EPARSE,
					      "an alias name must be a string");
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			yaml_node_t *rk = lw_ryaml_node(c->y, q->key);
			const char *rn = lw_ryaml_str(rk, NULL);
			const char *fn = lw_ryaml_str(lw_ryaml_node(c->y, q->value), NULL);
			struct alias *a = &r->aliases[r->naliases];

			if (rn == NULL || fn == NULL || *fn == '\0')
				return lw_ryaml_error(c->y, rk, LW_EPARSE,
					"alias '%s': each rule must map "
					"to a field name", an);
			a->name = strdup(an);
			a->ref = strdup(rn);
			a->field = strdup(fn);
			a->line = lw_ryaml_line(rk);
			r->naliases++;
			if (a->name == NULL || a->ref == NULL || a->field == NULL)
				return LW_ENOMEM;
		}
	}
	return LW_OK;
}

static int load_logward(struct ctx *c, yaml_node_t *lw, struct crule *r)
{
	if (lw->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, lw, LW_EPARSE,
				      "'logward' must be a mapping "
				      "(suppress, max_groups)");
	for (yaml_node_pair_t *p = lw->data.mapping.pairs.start;
	     p < lw->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(c->y, p->key);
		yaml_node_t *v = lw_ryaml_node(c->y, p->value);
		const char *ks = lw_ryaml_str(k, NULL);
		uint64_t n;

		if (ks != NULL && strcmp(ks, "suppress") == 0) {
			int rc = parse_timespan(c, v, "logward.suppress",
						&r->suppress_ns);
			if (rc != LW_OK)
				return rc;
		} else if (ks != NULL && strcmp(ks, "max_groups") == 0) {
			if (!parse_u64(lw_ryaml_str(v, NULL), &n) || n == 0 ||
			    n > LW_CORRELATION_MAX_GROUPS_LIMIT)
				return lw_ryaml_error(c->y, v, LW_EPARSE,
					"'max_groups' must be a "
					"number from 1 to %u",
					LW_CORRELATION_MAX_GROUPS_LIMIT);
			r->max_groups = (uint32_t)n;
		} else {
			return lw_ryaml_error(c->y, k, LW_EPARSE,
					      "unknown key 'logward.%s' (expected "
					      "suppress, max_groups)",
					      ks ? ks : "?");
		}
	}
	return LW_OK;
}

static int load_generate(struct ctx *c, yaml_node_t *v, struct crule *r)
{
	if (v == NULL)
		return LW_OK;
	if (!lw_ryaml_bool(v, &r->generate))
		return lw_ryaml_error(c->y, v, LW_EPARSE,
				      "'generate' must be true or false");
	return LW_OK;
}

/* A number in [lo, hi] ("0.1"; "10%" when pct): *out. */
static int parse_real(struct ctx *c, yaml_node_t *v, const char *what,
		      double lo, double hi, int pct, double *out)
{
	const char *s = lw_ryaml_str(v, NULL);
	char *end = NULL;
	double d = s != NULL ? strtod(s, &end) : NAN;

	if (pct && end != NULL && end != s && *end == '%') {
		d /= 100;
		end++;
	}
	if (s == NULL || end == s || end == NULL || *end != '\0' || !(d >= lo && d <= hi))
		return lw_ryaml_error(c->y, v ? v : NULL, LW_EPARSE,
				      "'%s' must be a number from %g to %g%s",
				      what, lo, hi, pct ? " (or a percentage)" : "");
	*out = d;
	return LW_OK;
}

/* value_sum's `baseline: {factor, learn, weight, keep}`. */
static int load_baseline(struct ctx *c, yaml_node_t *b, struct crule *r)
{
	yaml_node_t *v;
	uint64_t n;
	int rc;

	if (b->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, b, LW_EPARSE, "'baseline' must be a "
				      "mapping (factor, learn, weight, keep)");
	for (yaml_node_pair_t *p = b->data.mapping.pairs.start;
	     p < b->data.mapping.pairs.top; p++) {
		const char *ks = lw_ryaml_str(lw_ryaml_node(c->y, p->key), NULL);

		if (ks == NULL || (strcmp(ks, "factor") != 0 && strcmp(ks, "learn") != 0 &&
				   strcmp(ks, "weight") != 0 && strcmp(ks, "keep") != 0))
			return lw_ryaml_error(c->y, lw_ryaml_node(c->y, p->key), LW_EPARSE,
					      "unknown key 'baseline.%s' (expected "
					      "factor, learn, weight, keep)", ks ? ks : "?");
	}
	v = lw_ryaml_get(c->y, b, "factor", NULL);
	if (v == NULL)
		return lw_ryaml_error(c->y, b, LW_EPARSE, "'baseline.factor' is required");
	if ((rc = parse_real(c, v, "baseline.factor", 1, 1e9, 0, &r->factor)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(c->y, b, "learn", NULL)) != NULL) {
		if (!parse_u64(lw_ryaml_str(v, NULL), &n) || n < 1 || n > 100000)
			return lw_ryaml_error(c->y, v, LW_EPARSE, "'baseline.learn' "
					      "must be a number of windows from 1 to 100000");
		r->learn_windows = (uint32_t)n;
	}
	if ((v = lw_ryaml_get(c->y, b, "weight", NULL)) != NULL &&
	    (rc = parse_real(c, v, "baseline.weight", 0.001, 1, 0, &r->weight)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(c->y, b, "keep", NULL)) != NULL &&
	    (rc = parse_timespan(c, v, "baseline.keep", &r->keep_ns)) != LW_OK)
		return rc;
	return LW_OK;
}

/* The anomaly types' own keys in `correlation` (docs/rules.md "Anomaly
 * correlations"), each refused on a type it does not belong to. */
static int load_anomaly(struct ctx *c, yaml_node_t *corr, struct crule *r)
{
	static const struct {
		const char *key;
		enum ctype type;
	} own[] = {{"learn", CT_NEW_TERMS}, {"terms", CT_NEW_TERMS},
		   {"baseline", CT_VALUE_SUM}, {"jitter", CT_BEACONING},
		   {"min_interval", CT_BEACONING}};
	yaml_node_t *v;
	uint64_t n;
	int rc;

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		v = lw_ryaml_get(c->y, corr, own[i].key, NULL);
		if (v != NULL && r->type != own[i].type)
			return lw_ryaml_error(c->y, v, LW_EPARSE, "'%s' belongs to "
					      "type %s", own[i].key,
					      ctype_name(own[i].type));
	}
	r->terms = LW_CORRELATION_DEFAULT_TERMS;
	r->learn_ns = r->timespan_ns;
	r->learn_windows = 12;
	r->weight = 0.1;
	r->keep_ns = 0;
	r->jitter = 0.1;
	r->min_gap_ns = 1000000000LL;
	if ((v = lw_ryaml_get(c->y, corr, "learn", NULL)) != NULL) {
		const char *s = lw_ryaml_str(v, NULL);

		if (s != NULL && (strcmp(s, "0") == 0 || strcmp(s, "0s") == 0))
			r->learn_ns = 0;
		else if ((rc = parse_timespan(c, v, "learn", &r->learn_ns)) != LW_OK)
			return rc;
	}
	if ((v = lw_ryaml_get(c->y, corr, "terms", NULL)) != NULL &&
	    (!parse_u64(lw_ryaml_str(v, NULL), &n) || n < 8 ||
	     n > LW_CORRELATION_MAX_TERMS || (n & (n - 1)) != 0))
		return lw_ryaml_error(c->y, v, LW_EPARSE, "'terms' must be a power "
				      "of two from 8 to %d", LW_CORRELATION_MAX_TERMS);
	if (v != NULL)
		r->terms = (uint32_t)n;
	if ((v = lw_ryaml_get(c->y, corr, "baseline", NULL)) != NULL &&
	    (rc = load_baseline(c, v, r)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(c->y, corr, "jitter", NULL)) != NULL &&
	    (rc = parse_real(c, v, "jitter", 0, 1, 1, &r->jitter)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(c->y, corr, "min_interval", NULL)) != NULL &&
	    (rc = parse_timespan(c, v, "min_interval", &r->min_gap_ns)) != LW_OK)
		return rc;
	return LW_OK;
}

/* The anomaly types' conditions and windows. */
static int check_anomaly(struct ctx *c, yaml_node_t *corr, struct crule *r)
{
	uint32_t cmp = r->opmask;

	switch (r->type) {
	case CT_NEW_TERMS:
		if (r->value_field == NULL || cmp != 0)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "new_terms needs 'condition.field' "
					      "(the term) and no comparison");
		if (r->timespan_ns < 3600000000000LL ||
		    r->timespan_ns > 3660LL * 86400 * 1000000000LL)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "new_terms' timespan (its history) "
					      "must be from 1h to 3660d");
		break;
	case CT_VALUE_SUM:
		if (r->value_field == NULL)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "value_sum needs 'condition.field' "
					      "(the number summed)");
		if (cmp == 0 && r->factor == 0)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "value_sum needs a threshold "
					      "(condition gt/gte), a baseline, or both");
		if (r->factor == 0 || r->keep_ns == 0)
			r->keep_ns = r->factor == 0 ? r->timespan_ns :
				7LL * 86400 * 1000000000LL;
		if (r->keep_ns < r->timespan_ns)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "'baseline.keep' must be at least "
					      "the timespan");
		break;
	case CT_BEACONING:
		if (r->value_field != NULL || cmp != (1u << OP_GTE) ||
		    r->opv[OP_GTE] < 3 || r->opv[OP_GTE] > LW_CORRELATION_MAX_BEACON)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "beaconing needs 'condition: {gte: N}' "
					      "(occurrences in a row, 3 to %d) and "
					      "no field", LW_CORRELATION_MAX_BEACON);
		if (r->min_gap_ns >= r->timespan_ns)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "'min_interval' must be below the "
					      "timespan (the longest interval)");
		r->k = (uint32_t)r->opv[OP_GTE];
		break;
	default:
		break;
	}
	if (r->nrefs == 0)
		return lw_ryaml_error(c->y, corr, LW_EPARSE, "'rules' is required");
	return LW_OK;
}

static int check_limits(struct ctx *c, yaml_node_t *corr, struct crule *r);

/* What each type needs and allows (Sigma correlation spec + absence). */
static int check_type(struct ctx *c, yaml_node_t *corr, struct crule *r)
{
	uint32_t cmp = r->opmask;

	switch (r->type) {
	case CT_EVENT_COUNT:
	case CT_VALUE_COUNT:
		if (cmp == 0)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "%s needs a 'condition' "
					      "such as {gte: 10}",
					      ctype_name(r->type));
		if (r->type == CT_VALUE_COUNT && r->value_field == NULL)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "value_count needs 'condition.field' "
					      "(the field whose distinct "
					      "values are counted)");
		if (r->type == CT_EVENT_COUNT && r->value_field != NULL)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "'condition.field' belongs to "
					      "value_count, not event_count");
		if (cmp & ((1u << OP_LT) | (1u << OP_LTE) | (1u << OP_NEQ)))
			lw_ryaml_warn(c->y, corr, "lt/lte/neq are tested at each "
				      "contributing event, so they hold for the "
				      "first events of every window; to detect "
				      "'nothing arrives' use type: absence");
		if (r->nrefs == 0 && r->type == CT_VALUE_COUNT)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "'rules' is required");
		break;
	case CT_TEMPORAL:
	case CT_TEMPORAL_ORDERED:
		if (r->nrefs < 2)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "%s needs at least two 'rules'",
					      ctype_name(r->type));
		if (r->value_field != NULL)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "'condition.field' belongs "
					      "to value_count");
		if (r->type == CT_TEMPORAL_ORDERED && cmp != 0)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "temporal_ordered takes no "
					      "condition: every rule must "
					      "match, in order");
		if (cmp == 0) {
			r->opmask = 1u << OP_GTE;
			r->opv[OP_GTE] = r->nrefs;
		}
		break;
	case CT_ABSENCE:
		if (cmp != 0 || r->value_field != NULL)
			return lw_ryaml_error(c->y, corr, LW_EPARSE,
					      "absence takes no condition: it "
					      "fires when a group seen before "
					      "sends nothing for 'timespan'");
		break;
	default:
		break;
	}
	if (ctype_is_anomaly(r->type)) {
		int rc = check_anomaly(c, corr, r);

		if (rc != LW_OK)
			return rc;
	}
	return check_limits(c, corr, r);
}

/* Limits every type shares, and the window capacity k. */
static int check_limits(struct ctx *c, yaml_node_t *corr, struct crule *r)
{
	if (r->nrefs > LW_CORRELATION_MAX_REFS)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "at most %d rules per correlation",
				      LW_CORRELATION_MAX_REFS);
	if (r->ngroup > LW_CORRELATION_MAX_GROUP_BY)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "at most %d group-by fields",
				      LW_CORRELATION_MAX_GROUP_BY);
	if (ctype_is_anomaly(r->type))
		return LW_OK; /* k is beaconing's series length, or unused */
	/* The window keeps threshold + 1 entries: enough to tell every
	 * comparison apart, never more. */
	r->k = 1;
	for (int op = 0; op < OP_COUNT; op++)
		if ((r->opmask & (1u << op)) && (uint32_t)r->opv[op] + 1 > r->k)
			r->k = (uint32_t)r->opv[op] + 1;
	return LW_OK;
}

static int load_correlation(struct ctx *c, yaml_node_t *root, struct crule *r)
{
	yaml_node_t *corr = lw_ryaml_get(c->y, root, "correlation", NULL), *v;
	const char *ts;
	int rc, t;

	if (corr == NULL || corr->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, corr ? corr : root, LW_EPARSE,
				      "'correlation' (a mapping) is required");
	for (yaml_node_pair_t *p = corr->data.mapping.pairs.start;
	     p < corr->data.mapping.pairs.top; p++) {
		static const char *const keys[] = {"type", "rules", "group-by",
			"timespan", "timeframe", "condition", "aliases",
			"generate", "learn", "terms", "baseline", "jitter",
			"min_interval", NULL};
		const char *ks = lw_ryaml_str(lw_ryaml_node(c->y, p->key), NULL);
		size_t i;

		for (i = 0; ks != NULL && keys[i] != NULL; i++)
			if (strcmp(ks, keys[i]) == 0)
				break;
		if (ks == NULL || keys[i] == NULL)
			return lw_ryaml_error(c->y, lw_ryaml_node(c->y, p->key),
					      LW_EPARSE, "unknown key "
					      "'correlation.%s'", ks ? ks : "?");
	}
	v = lw_ryaml_get(c->y, corr, "type", NULL);
	ts = lw_ryaml_str(v, NULL);
	if (ts == NULL)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "'correlation.type' is required");
	for (t = 0; t < CT_NTYPES; t++)
		if (t != CT_DIRECT && strcmp(ts, ctype_name((enum ctype)t)) == 0)
			break;
	if (t == CT_NTYPES) {
		if (strncmp(ts, "value_", 6) == 0)
			return lw_ryaml_error(c->y, v, LW_EPARSE,
					      "correlation type '%s' is not "
					      "supported (event_count, "
					      "value_count, value_sum, temporal, "
					      "temporal_ordered, absence, "
					      "new_terms, beaconing)", ts);
		return lw_ryaml_error(c->y, v, LW_EPARSE,
				      "unknown correlation type '%s'", ts);
	}
	r->type = (enum ctype)t;
	v = lw_ryaml_get(c->y, corr, "rules", NULL);
	if (v != NULL) {
		rc = load_strlist(c, v, "rules", &r->refs, &r->nrefs, &r->ref_lines);
		if (rc != LW_OK)
			return rc;
	}
	if (v == NULL && r->type != CT_ABSENCE && r->type != CT_EVENT_COUNT)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "'correlation.rules' is required");
	v = lw_ryaml_get(c->y, corr, "group-by", NULL);
	if (v != NULL) {
		rc = load_strlist(c, v, "group-by", &r->group, &r->ngroup, NULL);
		if (rc != LW_OK)
			return rc;
	}
	v = lw_ryaml_get(c->y, corr, "timespan", NULL);
	if (v == NULL)
		v = lw_ryaml_get(c->y, corr, "timeframe", NULL);
	if (v == NULL)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "'correlation.timespan' is required");
	rc = parse_timespan(c, v, "timespan", &r->timespan_ns);
	if (rc != LW_OK)
		return rc;
	v = lw_ryaml_get(c->y, corr, "condition", NULL);
	if (v != NULL && (rc = load_condition(c, v, r)) != LW_OK)
		return rc;
	if ((rc = load_anomaly(c, corr, r)) != LW_OK)
		return rc;
	v = lw_ryaml_get(c->y, corr, "aliases", NULL);
	if (v != NULL && (rc = load_aliases(c, v, r)) != LW_OK)
		return rc;
	/* The spec has had `generate` both inside `correlation` and at the
	 * top level; take either. */
	rc = load_generate(c, lw_ryaml_get(c->y, corr, "generate", NULL), r);
	if (rc == LW_OK)
		rc = load_generate(c, lw_ryaml_get(c->y, root, "generate", NULL), r);
	if (rc != LW_OK)
		return rc;
	return check_type(c, corr, r);
}

static int load_rule(struct ctx *c, yaml_node_t *root)
{
	struct lw_correlation_rules *cr = c->cr;
	struct crule r;
	yaml_node_t *v;
	int rc;

	memset(&r, 0, sizeof(r));
	c->y->err = LW_OK;
	r.max_groups = 0; /* the memory budget only */
	if (root->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, root, LW_EPARSE,
				      "a rule must be a mapping");
	rc = check_top_keys(c, root);
	if (rc == LW_OK)
		rc = lw_sigma_meta_names(c->y, root, &r.info);
	if (rc == LW_OK)
		rc = lw_sigma_meta_level(c->y, root, &r.info.level);
	if (rc == LW_OK)
		rc = load_tags(c, root, &r);
	if (rc != LW_ENOMEM) {
		int lrc = load_correlation(c, root, &r);
		if (rc == LW_OK)
			rc = lrc;
	}
	v = lw_ryaml_get(c->y, root, "logward", NULL);
	if (rc == LW_OK && v != NULL)
		rc = load_logward(c, v, &r);
	if (rc == LW_OK && c->y->err != LW_OK)
		rc = c->y->err;
	if (rc == LW_OK) {
		r.info.file = strdup(c->y->path);
		r.info.line = r.line = lw_ryaml_line(root);
		if (r.info.file == NULL)
			rc = LW_ENOMEM;
	}
	if (rc == LW_OK && cr->n == cr->cap) {
		uint32_t cap = cr->cap ? cr->cap * 2 : 16;
		struct crule *nr = realloc(cr->rules, cap * sizeof(*nr));

		if (nr == NULL) {
			rc = LW_ENOMEM;
		} else {
			cr->rules = nr;
			cr->cap = cap;
		}
	}
	if (rc != LW_OK) {
		crule_release(&r);
		return rc;
	}
	cr->rules[cr->n++] = r;
	return LW_OK;
}

static int load_doc(void *target, struct lw_ryaml *y, yaml_node_t *root)
{
	struct ctx c = {target, y};

	return load_rule(&c, root);
}

int lw_correlation_rules_load_file(struct lw_correlation_rules *cr,
				   const char *path, struct lw_diags *diags)
{
	if (cr->built)
		return LW_EINVAL;
	return lw_ryaml_load_docs(path, NULL, 0, load_doc, cr, diags);
}

int lw_correlation_rules_load_string(struct lw_correlation_rules *cr,
				     const char *name, const char *yaml,
				     size_t len, struct lw_diags *diags)
{
	if (cr->built)
		return LW_EINVAL;
	return lw_ryaml_load_docs(name, yaml, len, load_doc, cr, diags);
}
