/* lw_correlation: Sigma correlation rules (loading, references, order) and
 * the sliding windows that turn detection matches into incident firings.
 * Rules are loaded with the ruleset; the window state is owned by the
 * writer thread. */
#include "correlator/correlation.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/memfind.h"
#include "core/time.h"
#include "correlator/response.h"
#include "correlator/ruleset.h"
#include "correlator/ryaml.h"

#define NONE32 UINT32_MAX
#define T_NONE INT64_MIN

enum ctype {
	CT_EVENT_COUNT = 0,
	CT_VALUE_COUNT,
	CT_TEMPORAL,
	CT_TEMPORAL_ORDERED,
	CT_ABSENCE,
	CT_DIRECT /* a detection rule firing on its own; never in a file */
};

static const char *const type_names[] = {
	"event_count", "value_count", "temporal", "temporal_ordered", "absence",
	"direct"};

enum op {
	OP_GT = 0, OP_GTE, OP_LT, OP_LTE, OP_EQ, OP_NEQ, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {"gt", "gte", "lt", "lte", "eq",
					       "neq"};

/* A group-by or value field: an event member, or an extra field (decoder
 * output, zones) looked up by its ECS name. */
struct fref {
	uint8_t member;   /* enum lw_event_member */
	uint32_t keylen;
	char *key;        /* ECS name (extra fields are looked up by it) */
};

/* ---- rules ---- */

struct alias {
	char *name;   /* the alias (used in group-by / condition.field) */
	char *ref;    /* the rule reference as written in `rules` */
	char *field;
	int line;
};

struct crule {
	struct lw_sigma_rule_info info;
	char **tagv;
	int has_category;
	enum ctype type;
	char **refs;          /* as written */
	int *ref_lines;
	uint32_t nrefs;
	uint32_t *ref_idx;    /* resolved: detection index, or nsigma + corr */
	char **group;         /* group-by names as written */
	uint32_t ngroup;
	struct alias *aliases;
	uint32_t naliases;
	char *value_field;    /* value_count: condition.field as written */
	struct fref *gf;      /* [slot * ngroup + g], slots = max(nrefs, 1) */
	struct fref *vf;      /* [slot] for value_count */
	int64_t timespan_ns;
	int64_t suppress_ns;
	uint32_t max_groups;
	uint32_t opmask;      /* 1 << enum op */
	int64_t opv[OP_COUNT];
	uint32_t k;           /* window capacity (event_count / value_count) */
	int generate;
	int line;
};

struct cons {           /* "when rule X matches, feed window w at ref slot" */
	uint32_t win;
	uint32_t slot;
};

struct lw_correlation_rules {
	struct crule *rules;
	uint32_t n, cap;
	int built;
	uint32_t nsigma;
	uint32_t *order;       /* topological: referenced correlations first */
	uint8_t *direct;       /* [nsigma]: fires on its own */
	uint32_t *cons_off;    /* [nsigma + n + 1] CSR offsets into cons */
	struct cons *cons;     /* win is a correlation index here */
	uint32_t *all_events;  /* correlations without `rules` */
	uint32_t nall;
};

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

static uint32_t slots_of(const struct crule *r)
{
	return r->nrefs > 0 ? r->nrefs : 1;
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

static int str_field(struct ctx *c, yaml_node_t *map, const char *key,
		     int required, char **out)
{
	yaml_node_t *v = lw_ryaml_get(c->y, map, key, NULL);
	const char *s;
	size_t len;

	*out = NULL;
	if (v == NULL)
		return required ? lw_ryaml_error(c->y, map, LW_EPARSE,
			"'%s' is required", key) : LW_OK;
	s = lw_ryaml_str(v, &len);
	if (s == NULL || len == 0 || lw_ryaml_is_null(v))
		return lw_ryaml_error(c->y, v, LW_EPARSE,
				      "'%s' must be a non-empty string", key);
	*out = lw_memdup_z(s, len);
	return *out ? LW_OK : LW_ENOMEM;
}

static int load_level(struct ctx *c, yaml_node_t *root, struct crule *r)
{
	yaml_node_t *v = lw_ryaml_get(c->y, root, "level", NULL);
	const char *s = lw_ryaml_str(v, NULL);

	r->info.level = LW_LEVEL_MEDIUM;
	if (v == NULL) {
		lw_ryaml_warn(c->y, root, "no 'level': medium is assumed");
		return LW_OK;
	}
	for (int i = 0; s != NULL && i <= LW_LEVEL_CRITICAL; i++)
		if (strcmp(s, lw_sigma_level_name(i)) == 0) {
			r->info.level = (enum lw_sigma_level)i;
			return LW_OK;
		}
	return lw_ryaml_error(c->y, v, LW_EPARSE, "level must be informational, "
			      "low, medium, high or critical");
}

static int load_tags(struct ctx *c, yaml_node_t *root, struct crule *r)
{
	yaml_node_t *tags = lw_ryaml_get(c->y, root, "tags", NULL);
	size_t n;

	if (tags == NULL)
		return LW_OK;
	if (tags->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(c->y, tags, LW_EPARSE,
				      "'tags' must be a list");
	n = (size_t)(tags->data.sequence.items.top - tags->data.sequence.items.start);
	r->tagv = calloc(n ? n : 1, sizeof(*r->tagv));
	if (r->tagv == NULL)
		return LW_ENOMEM;
	for (yaml_node_item_t *it = tags->data.sequence.items.start;
	     it < tags->data.sequence.items.top; it++) {
		yaml_node_t *t = lw_ryaml_node(c->y, *it);
		size_t len;
		const char *s = lw_ryaml_str(t, &len);

		if (s == NULL)
			return lw_ryaml_error(c->y, t, LW_EPARSE,
					      "a tag must be a string");
		if (len > 8 && memcmp(s, "logward.", 8) == 0) {
			int k = lw_category_parse(s + 8, len - 8);

			if (k < 0)
				return lw_ryaml_error(c->y, t, LW_EPARSE,
					"unknown category '%s' (expected one of "
					"unauthorized-access, dos, "
					"anomalous-outbound, malware, "
					"data-exfiltration, unauthorized-software, "
					"log-tampering, system-failure)", s + 8);
			if (r->has_category && (int)r->info.category != k)
				return lw_ryaml_error(c->y, t, LW_EPARSE,
					"two logward categories: '%s' and '%s'",
					lw_category_name(r->info.category), s + 8);
			r->info.category = (enum lw_category)k;
			r->has_category = 1;
		}
		r->tagv[r->info.ntags] = lw_memdup_z(s, len);
		if (r->tagv[r->info.ntags++] == NULL)
			return LW_ENOMEM;
	}
	r->info.tags = (const char *const *)r->tagv;
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
		if (!parse_u64(lw_ryaml_str(v, NULL), &num) ||
		    num > LW_CORRELATION_MAX_THRESHOLD)
			return lw_ryaml_error(c->y, v, LW_EPARSE,
					      "'%s' must be a whole "
					      "number from 0 to %d", ks,
					      LW_CORRELATION_MAX_THRESHOLD);
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
					      type_names[r->type]);
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
					      type_names[r->type]);
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
	if (r->nrefs > LW_CORRELATION_MAX_REFS)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "at most %d rules per correlation",
				      LW_CORRELATION_MAX_REFS);
	if (r->ngroup > LW_CORRELATION_MAX_GROUP_BY)
		return lw_ryaml_error(c->y, corr, LW_EPARSE,
				      "at most %d group-by fields",
				      LW_CORRELATION_MAX_GROUP_BY);
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
			"generate", NULL};
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
	for (t = 0; t <= CT_ABSENCE; t++)
		if (strcmp(ts, type_names[t]) == 0)
			break;
	if (t > CT_ABSENCE) {
		if (strncmp(ts, "value_", 6) == 0)
			return lw_ryaml_error(c->y, v, LW_EPARSE,
					      "correlation type '%s' is not "
					      "supported (event_count, "
					      "value_count, temporal, "
					      "temporal_ordered, absence)", ts);
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
	r.max_groups = LW_CORRELATION_MAX_GROUPS;
	if (root->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, root, LW_EPARSE,
				      "a rule must be a mapping");
	rc = check_top_keys(c, root);
	if (rc == LW_OK)
		rc = str_field(c, root, "title", 1, (char **)&r.info.title);
	if (rc == LW_OK)
		rc = str_field(c, root, "id", 1, (char **)&r.info.id);
	if (rc == LW_OK)
		rc = str_field(c, root, "name", 0, (char **)&r.info.name);
	if (rc == LW_OK)
		rc = str_field(c, root, "status", 0, (char **)&r.info.status);
	if (rc == LW_OK)
		rc = load_level(c, root, &r);
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

static int load_all(void *target, struct lw_ryaml *y)
{
	struct lw_correlation_rules *cr = target;
	struct ctx c = {cr, y};
	yaml_node_t *root;
	int rc = LW_OK, n;

	while ((n = lw_ryaml_next(y, &root)) == 1) {
		int lrc = load_rule(&c, root);

		if (lrc == LW_ENOMEM)
			return lrc;
		if (lrc != LW_OK && rc == LW_OK)
			rc = lrc;
	}
	if (n < 0 && rc == LW_OK)
		rc = n;
	return rc;
}

int lw_correlation_rules_load_file(struct lw_correlation_rules *cr,
				   const char *path, struct lw_diags *diags)
{
	if (cr->built)
		return LW_EINVAL;
	return lw_ryaml_load(path, NULL, 0, load_all, cr, diags);
}

int lw_correlation_rules_load_string(struct lw_correlation_rules *cr,
				     const char *name, const char *yaml,
				     size_t len, struct lw_diags *diags)
{
	if (cr->built)
		return LW_EINVAL;
	return lw_ryaml_load(name, yaml, len, load_all, cr, diags);
}

/* ---- build: references, fields, order ---- */

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
	return i < cr->n ? type_names[cr->rules[i].type] : NULL;
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

/* ---- window state ---- */

/* One group of one window table. Fixed size, so a table is two flat
 * arrays (groups + per-type state words) that grow by doubling up to
 * max_groups and are reused on eviction: no allocation per event.
 *
 * "Burst" fields describe the events since the last firing (delivered or
 * held back); "pending" fields the held-back firings not yet delivered. */
struct group {
	uint64_t hash;
	uint32_t prev, next;     /* LRU list, least recently updated first */
	uint16_t keylen;
	uint8_t host_state;      /* 0 none yet, 1 one host, 2 several */
	uint8_t zone_state;
	uint8_t absent_fired;    /* absence: reported, until the group returns */
	uint8_t has_seq;
	uint8_t host_len, zone_len; /* strlen of host / zone (no strlen per event) */
	uint32_t nev, evpos;     /* evidence ring */
	int64_t seen_ns;         /* newest event time of the group */
	uint64_t last_seq;
	int64_t first_ns, last_ns;
	uint64_t count;
	int64_t pfirst_ns, plast_ns;
	uint64_t pcount;
	int64_t last_fire_ns;    /* T_NONE: never delivered */
	uint64_t ev[LW_INCIDENT_MAX_EVIDENCE];
	char host[256];
	char zone[64];
	char key[LW_CORRELATION_KEY_MAX]; /* per group-by value: u8 len, bytes */
};

struct win {
	const struct lw_sigma_rule_info *info;
	const struct crule *r;   /* NULL for a direct window */
	const char *resp;
	enum ctype type;
	int64_t timespan_ns, suppress_ns;
	uint32_t max_groups;
	uint32_t words;          /* int64 state words per group */
	uint64_t defhash;        /* window definition, checked on restore */
	struct group *g;
	int64_t *st;
	uint32_t ng, cap;
	uint32_t *tab;           /* open addressing: group index + 1, 0 = empty */
	uint32_t tcap;           /* power of two, >= 2 * cap */
	uint32_t lru_head, lru_tail;
	uint32_t npending;
	int64_t due;             /* no absence or held-back fire before this */
};

struct lw_correlation {
	const struct lw_ruleset *rs;
	const struct lw_correlation_rules *cr;
	struct win *w;
	uint32_t nwin;
	uint32_t *direct_win;    /* [nsigma]: window index or NONE32 */
	uint32_t *q;             /* correlations that fired for this event */
	uint32_t nq;
	int64_t clock;           /* newest (unskewed) event time, or advance() */
	int64_t due;             /* min of the windows' due */
	uint64_t seed;
	struct lw_correlation_stats stats;
};

static const struct fref host_field = {LW_EVENT_MEMBER_HOST, 9, (char *)"host.name"};
static const char *const host_group_name[] = {"host.name"};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

static uint64_t win_defhash(const struct win *w)
{
	const struct crule *r = w->r;
	uint64_t h = fnv1a(FNV_OFFSET, type_names[w->type],
			   strlen(type_names[w->type]));

	h = fnv1a(h, &w->timespan_ns, sizeof(w->timespan_ns));
	h = fnv1a(h, &w->words, sizeof(w->words));
	if (r == NULL)
		return h;
	h = fnv1a(h, &r->k, sizeof(r->k));
	h = fnv1a(h, &r->nrefs, sizeof(r->nrefs));
	for (uint32_t i = 0; i < r->nrefs; i++)
		h = fnv1a(h, r->refs[i], strlen(r->refs[i]) + 1);
	for (uint32_t i = 0; i < r->ngroup; i++)
		h = fnv1a(h, r->group[i], strlen(r->group[i]) + 1);
	if (r->value_field != NULL)
		h = fnv1a(h, r->value_field, strlen(r->value_field) + 1);
	return h;
}

static uint32_t state_words(const struct crule *r)
{
	switch (r->type) {
	case CT_EVENT_COUNT: return 1 + r->k;
	case CT_VALUE_COUNT: return 1 + 2 * r->k;
	case CT_TEMPORAL: return r->nrefs;
	case CT_TEMPORAL_ORDERED: return 3 * r->nrefs;
	default: return 0;
	}
}

static void state_init(const struct win *w, int64_t *st)
{
	switch (w->type) {
	case CT_EVENT_COUNT:
	case CT_VALUE_COUNT:
		st[0] = 0;
		break;
	case CT_TEMPORAL:
		for (uint32_t i = 0; i < w->words; i++)
			st[i] = T_NONE;
		break;
	case CT_TEMPORAL_ORDERED:
		for (uint32_t i = 0; i < w->words; i++)
			st[i] = i < 2 * w->r->nrefs ? T_NONE : -1;
		break;
	default:
		break;
	}
}

struct lw_correlation *lw_correlation_new(const struct lw_ruleset *rs)
{
	const struct lw_correlation_rules *cr = lw_ruleset_correlations(rs);
	const struct lw_response *resp = lw_ruleset_response(rs);
	uint32_t nsigma = lw_ruleset_rule_count(rs), ndirect = 0, ncorr;
	struct lw_correlation *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->rs = rs;
	c->cr = cr;
	ncorr = cr != NULL && cr->built ? cr->n : 0;
	for (uint32_t i = 0; i < nsigma; i++)
		ndirect += cr != NULL && lw_correlation_rules_fires_directly(cr, i);
	if (cr == NULL || !cr->built) /* no correlation stage: all fire */
		ndirect = nsigma;
	c->nwin = ncorr + ndirect;
	c->w = calloc(c->nwin ? c->nwin : 1, sizeof(*c->w));
	c->direct_win = calloc(nsigma ? nsigma : 1, sizeof(*c->direct_win));
	c->q = calloc(ncorr ? ncorr : 1, sizeof(*c->q));
	if (c->w == NULL || c->direct_win == NULL || c->q == NULL)
		goto fail;
	for (uint32_t i = 0; i < ncorr; i++) {
		struct win *w = &c->w[i];

		w->r = &cr->rules[i];
		w->info = &w->r->info;
		w->type = w->r->type;
		w->timespan_ns = w->r->timespan_ns;
		w->suppress_ns = w->r->suppress_ns;
		w->max_groups = w->r->max_groups;
		w->words = state_words(w->r);
	}
	for (uint32_t i = 0, k = ncorr; i < nsigma; i++) {
		struct win *w;

		c->direct_win[i] = NONE32;
		if (cr != NULL && cr->built && !lw_correlation_rules_fires_directly(cr, i))
			continue;
		w = &c->w[k];
		w->info = lw_ruleset_rule(rs, i);
		w->type = CT_DIRECT;
		w->suppress_ns = LW_CORRELATION_DIRECT_SUPPRESS_NS;
		w->timespan_ns = LW_CORRELATION_DIRECT_SUPPRESS_NS;
		w->max_groups = LW_CORRELATION_MAX_GROUPS;
		c->direct_win[i] = k++;
	}
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		w->resp = resp != NULL ? lw_response_json(resp, w->info->category) :
			"{\"steps\":[],\"notify\":[]}";
		w->defhash = win_defhash(w);
		w->lru_head = w->lru_tail = NONE32;
		w->due = INT64_MAX;
	}
	c->clock = T_NONE;
	c->due = INT64_MAX;
	/* Group hashes are seeded so that nobody can aim log lines at one
	 * hash chain; nothing depends on the hash order. */
	c->seed = FNV_OFFSET ^ (uint64_t)lw_time_now_ns() ^ (uint64_t)(uintptr_t)c;
	return c;

fail:
	lw_correlation_free(c);
	return NULL;
}

static void win_clear(struct win *w)
{
	w->ng = 0;
	w->npending = 0;
	w->due = INT64_MAX;
	w->lru_head = w->lru_tail = NONE32;
	if (w->tab != NULL)
		memset(w->tab, 0, (size_t)w->tcap * sizeof(*w->tab));
}

void lw_correlation_free(struct lw_correlation *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->nwin && c->w != NULL; i++) {
		free(c->w[i].g);
		free(c->w[i].st);
		free(c->w[i].tab);
	}
	free(c->w);
	free(c->direct_win);
	free(c->q);
	free(c);
}

/* ---- group table ---- */

static void tab_insert(struct win *w, uint32_t gi)
{
	uint32_t mask = w->tcap - 1, i = (uint32_t)w->g[gi].hash & mask;

	while (w->tab[i] != 0)
		i = (i + 1) & mask;
	w->tab[i] = gi + 1;
}

/* Backward-shift deletion keeps linear probing free of tombstones. */
static void tab_remove(struct win *w, uint32_t gi)
{
	uint32_t mask = w->tcap - 1, i = (uint32_t)w->g[gi].hash & mask, j;

	while (w->tab[i] != gi + 1)
		i = (i + 1) & mask;
	j = i;
	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (w->tab[j] == 0)
			break;
		home = (uint32_t)w->g[w->tab[j] - 1].hash & mask;
		/* Move j's entry into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			w->tab[i] = w->tab[j];
			i = j;
		}
	}
	w->tab[i] = 0;
}

static uint32_t tab_find(const struct win *w, uint64_t h, const char *key,
			 uint16_t klen)
{
	uint32_t mask, i;

	if (w->tcap == 0)
		return NONE32;
	mask = w->tcap - 1;
	for (i = (uint32_t)h & mask; w->tab[i] != 0; i = (i + 1) & mask) {
		const struct group *g = &w->g[w->tab[i] - 1];

		if (g->hash == h && g->keylen == klen && lw_memeq(g->key, key, klen))
			return w->tab[i] - 1;
	}
	return NONE32;
}

static int win_grow(struct win *w)
{
	uint32_t cap = w->cap ? w->cap * 2 : 8;
	uint32_t tcap = w->tcap ? w->tcap : 16;
	struct group *ng;
	int64_t *nst = NULL;
	uint32_t *ntab;

	if (cap > w->max_groups)
		cap = w->max_groups;
	while (tcap < 2 * cap)
		tcap *= 2;
	ng = realloc(w->g, (size_t)cap * sizeof(*ng));
	if (ng == NULL)
		return LW_ENOMEM;
	w->g = ng;
	if (w->words > 0) {
		nst = realloc(w->st, (size_t)cap * w->words * sizeof(*nst));
		if (nst == NULL)
			return LW_ENOMEM;
		/* A ring is saved whole (lw_correlation_save), also the slots
		 * no event has filled yet: they must hold zeros, not whatever
		 * the heap held before. */
		memset(nst + (size_t)w->cap * w->words, 0,
		       (size_t)(cap - w->cap) * w->words * sizeof(*nst));
		w->st = nst;
	}
	w->cap = cap;
	if (tcap != w->tcap) {
		ntab = calloc(tcap, sizeof(*ntab));
		if (ntab == NULL)
			return LW_ENOMEM;
		free(w->tab);
		w->tab = ntab;
		w->tcap = tcap;
		for (uint32_t i = 0; i < w->ng; i++)
			tab_insert(w, i);
	}
	return LW_OK;
}

static void lru_unlink(struct win *w, uint32_t gi)
{
	struct group *g = &w->g[gi];

	if (g->prev != NONE32)
		w->g[g->prev].next = g->next;
	else
		w->lru_head = g->next;
	if (g->next != NONE32)
		w->g[g->next].prev = g->prev;
	else
		w->lru_tail = g->prev;
}

static void lru_append(struct win *w, uint32_t gi)
{
	struct group *g = &w->g[gi];

	g->prev = w->lru_tail;
	g->next = NONE32;
	if (w->lru_tail != NONE32)
		w->g[w->lru_tail].next = gi;
	else
		w->lru_head = gi;
	w->lru_tail = gi;
}

/* The group for key, created (possibly evicting the least recently
 * updated one) when new. NONE32 when the table cannot grow. */
static uint32_t get_group(struct lw_correlation *c, struct win *w,
			  const char *key, uint16_t klen)
{
	uint64_t h;
	uint32_t gi = w->lru_tail;
	struct group *g;

	/* Senders send in bursts: the group of the previous event of this
	 * table is the likeliest, and costs one memcmp to confirm. */
	if (gi != NONE32 && w->g[gi].keylen == klen &&
	    lw_memeq(w->g[gi].key, key, klen))
		return gi;
	h = fnv1a(c->seed, key, klen);
	gi = tab_find(w, h, key, klen);
	if (gi != NONE32) {
		if (w->lru_tail != gi) {
			lru_unlink(w, gi);
			lru_append(w, gi);
		}
		return gi;
	}
	if (w->ng < w->max_groups) {
		if (w->ng == w->cap && win_grow(w) != LW_OK)
			return NONE32;
		gi = w->ng++;
		c->stats.groups++;
	} else {
		/* Full: the least recently updated group goes, counted. Its
		 * held-back firings go with it. */
		gi = w->lru_head;
		tab_remove(w, gi);
		lru_unlink(w, gi);
		if (w->g[gi].pcount > 0)
			w->npending--;
		c->stats.evicted++;
	}
	g = &w->g[gi];
	memset(g, 0, offsetof(struct group, ev));
	g->hash = h;
	g->keylen = klen;
	memcpy(g->key, key, klen);
	g->seen_ns = g->first_ns = g->last_ns = T_NONE;
	g->pfirst_ns = g->plast_ns = g->last_fire_ns = T_NONE;
	g->host[0] = g->zone[0] = '\0';
	if (w->words > 0)
		state_init(w, &w->st[(size_t)gi * w->words]);
	tab_insert(w, gi);
	lru_append(w, gi);
	return gi;
}

/* ---- fields of an event ---- */

static struct lw_str field_value(const struct lw_event *ev, const struct fref *f,
				 char text[LW_EVENT_MEMBER_TEXT_MAX])
{
	const struct lw_field *x;

	if (f->member != LW_EVENT_MEMBER_NONE)
		return lw_event_member_value(ev, f->member, text);
	x = lw_event_field(ev, f->key, f->keylen);
	return x ? x->value : LW_STR_NULL;
}

/* Encodes the group-by values; 0 when one is missing (the event does not
 * belong to any group of this rule), unless empty values are allowed. */
static int make_key(const struct lw_event *ev, const struct fref *gf,
		    uint32_t ngroup, int allow_empty, char *key, uint16_t *klen)
{
	size_t n = 0;
	char num[LW_EVENT_MEMBER_TEXT_MAX];

	for (uint32_t g = 0; g < ngroup; g++) {
		struct lw_str v = field_value(ev, &gf[g], num);
		size_t room = LW_CORRELATION_KEY_MAX - n - 1 -
			(ngroup - g - 1); /* one length byte for each later value */
		size_t len = v.len;

		if (len == 0 && !allow_empty)
			return 0;
		if (len > 255)
			len = 255;
		if (len > room)
			len = room;
		key[n++] = (char)len;
		if (len > 0)
			memcpy(key + n, v.ptr, len);
		n += len;
	}
	*klen = (uint16_t)n;
	return 1;
}

static void track(char *dst, size_t cap, uint8_t *state, uint8_t *dlen,
		  struct lw_str v)
{
	size_t len = v.len < cap - 1 ? v.len : cap - 1;

	if (*state == 2)
		return;
	if (*state == 0) {
		if (len > 0)
			memcpy(dst, v.ptr, len);
		dst[len] = '\0';
		*dlen = (uint8_t)len;
		*state = 1;
	} else if (*dlen != len || (len > 0 && memcmp(dst, v.ptr, len) != 0)) {
		*state = 2;
	}
}

/* ---- firing ---- */

struct evctx {
	const struct lw_event *ev;
	uint64_t seq;
	int64_t ts;
	lw_incident_cb cb;
	void *arg;
};

struct jw {
	char *p;
	size_t n, cap;
};

static void jw_raw(struct jw *j, const char *s)
{
	size_t len = strlen(s);

	if (j->n + len < j->cap) {
		memcpy(j->p + j->n, s, len);
		j->n += len;
	}
}

/* A JSON string, cut (never mid-escape) when the object would not fit;
 * `reserve` bytes stay free for what must follow. */
static void jw_str(struct jw *j, const char *s, size_t len, size_t reserve)
{
	static const char hex[] = "0123456789abcdef";

	jw_raw(j, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[7];
		size_t el = 0;

		if (ch == '"' || ch == '\\') {
			esc[el++] = '\\';
			esc[el++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			/* Bytes outside printable ASCII as \u00XX: the group
			 * stays valid JSON whatever the log line held. */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			el = 6;
		} else {
			esc[el++] = (char)ch;
		}
		if (j->n + el + reserve + 2 > j->cap)
			break;
		memcpy(j->p + j->n, esc, el);
		j->n += el;
	}
	jw_raw(j, "\"");
}

static void render_group(const struct win *w, const struct group *g, char *out,
			 size_t cap)
{
	const char *const *names = w->r ? (const char *const *)w->r->group :
		host_group_name;
	uint32_t ng = w->r ? w->r->ngroup : 1;
	struct jw j = {out, 0, cap - 1};
	size_t pos = 0;

	jw_raw(&j, "{");
	for (uint32_t i = 0; i < ng && pos < g->keylen; i++) {
		size_t len = (unsigned char)g->key[pos++];

		if (pos + len > g->keylen)
			len = g->keylen - pos;
		if (i > 0)
			jw_raw(&j, ",");
		jw_str(&j, names[i], strlen(names[i]), 2 + (ng - i) * 8);
		jw_raw(&j, ":");
		jw_str(&j, g->key + pos, len, 2 + (ng - i - 1) * 40);
		pos += len;
	}
	jw_raw(&j, "}");
	out[j.n] = '\0';
}

static void evidence_push(struct group *g, uint64_t seq)
{
	g->ev[g->evpos] = seq;
	g->evpos = (g->evpos + 1) % LW_INCIDENT_MAX_EVIDENCE;
	if (g->nev < LW_INCIDENT_MAX_EVIDENCE)
		g->nev++;
}

static void reset_tracking(struct group *g)
{
	g->nev = g->evpos = 0;
	g->host_state = g->zone_state = 0;
	g->host_len = g->zone_len = 0;
	g->host[0] = g->zone[0] = '\0';
}

static void deliver(struct lw_correlation *c, const struct win *w,
		    const struct group *g, uint64_t count, int64_t first,
		    int64_t last, lw_incident_cb cb, void *arg)
{
	struct lw_incident_fire f;
	uint32_t start = g->nev < LW_INCIDENT_MAX_EVIDENCE ? 0 : g->evpos;

	memset(&f, 0, sizeof(f));
	f.rule = w->info;
	f.response_json = w->resp;
	render_group(w, g, f.group, sizeof(f.group));
	if (g->host_state == 1)
		snprintf(f.host, sizeof(f.host), "%s", g->host);
	if (g->zone_state == 1)
		snprintf(f.zone, sizeof(f.zone), "%s", g->zone);
	f.first_seen_ns = first;
	f.last_seen_ns = last;
	f.count = count;
	f.nevidence = g->nev;
	for (uint32_t i = 0; i < g->nev; i++)
		f.evidence[i] = g->ev[(start + i) % LW_INCIDENT_MAX_EVIDENCE];
	c->stats.fired++;
	if (cb != NULL)
		cb(&f, arg);
}

static void set_due(struct lw_correlation *c, struct win *w, int64_t t)
{
	if (t < w->due)
		w->due = t;
	if (t < c->due)
		c->due = t;
}

/* The window's condition held at time t: deliver, or hold back when the
 * group's last delivery is less than suppress ago. */
static void trigger(struct lw_correlation *c, struct win *w, uint32_t gi,
		    int64_t t, lw_incident_cb cb, void *arg)
{
	struct group *g = &w->g[gi];

	if (w->suppress_ns > 0 && g->last_fire_ns != T_NONE &&
	    t - g->last_fire_ns < w->suppress_ns) {
		if (g->pcount == 0) {
			g->pfirst_ns = g->first_ns;
			g->plast_ns = g->last_ns;
			w->npending++;
			set_due(c, w, g->last_fire_ns + w->suppress_ns);
		} else {
			if (g->first_ns < g->pfirst_ns)
				g->pfirst_ns = g->first_ns;
			if (g->last_ns > g->plast_ns)
				g->plast_ns = g->last_ns;
		}
		g->pcount += g->count;
		g->count = 0;
		c->stats.suppressed++;
		return;
	}
	deliver(c, w, g, g->pcount + g->count,
		g->pcount > 0 && g->pfirst_ns < g->first_ns ? g->pfirst_ns : g->first_ns,
		g->plast_ns > g->last_ns ? g->plast_ns : g->last_ns, cb, arg);
	if (g->pcount > 0)
		w->npending--;
	g->pcount = 0;
	g->count = 0;
	g->last_fire_ns = t;
	reset_tracking(g);
}

/* Held-back firings of a group, delivered at time t (or at flush). */
static void deliver_pending(struct lw_correlation *c, struct win *w,
			    uint32_t gi, int64_t t, lw_incident_cb cb, void *arg)
{
	struct group *g = &w->g[gi];

	deliver(c, w, g, g->pcount, g->pfirst_ns, g->plast_ns, cb, arg);
	g->pcount = 0;
	w->npending--;
	g->last_fire_ns = t;
	if (g->count == 0)
		reset_tracking(g);
}

/* ---- windows ---- */

static int cond_holds(const struct crule *r, int64_t n)
{
	for (int op = 0; op < OP_COUNT; op++) {
		int64_t v = r->opv[op];

		if (!(r->opmask & (1u << op)))
			continue;
		switch (op) {
		case OP_GT: if (!(n > v)) return 0; break;
		case OP_GTE: if (!(n >= v)) return 0; break;
		case OP_LT: if (!(n < v)) return 0; break;
		case OP_LTE: if (!(n <= v)) return 0; break;
		case OP_EQ: if (!(n == v)) return 0; break;
		default: if (!(n != v)) return 0; break;
		}
	}
	return 1;
}

/* Index i after head in a ring of k (i < k, head < k): no division on the
 * per-event path. */
static uint32_t ring_at(uint32_t head, uint32_t i, uint32_t k)
{
	uint32_t x = head + i;

	return x >= k ? x - k : x;
}

/* Sliding count: a ring of the newest k timestamps in time order. The
 * window ending at the newest event time is (ref - timespan, ref]; older
 * entries fall out, and with k = threshold + 1 entries every comparison
 * is exact (the count saturates at k). */
static int update_event_count(struct lw_correlation *c, const struct win *w,
			      int64_t *st, int64_t ts)
{
	uint32_t k = w->r->k;
	uint32_t head = (uint32_t)(st[0] & 0xffffffff);
	uint32_t len = (uint32_t)((uint64_t)st[0] >> 32);
	int64_t *ring = st + 1;
	int64_t newest = len ? ring[ring_at(head, len - 1, k)] : T_NONE;
	int64_t ref = newest > ts ? newest : ts;
	int64_t lo = ref - w->timespan_ns;
	uint32_t pos;

	while (len > 0 && ring[head] <= lo) {
		head = ring_at(head, 1, k);
		len--;
	}
	if (ts <= lo) { /* later events already moved the window past it */
		c->stats.out_of_order++;
		st[0] = (int64_t)((uint64_t)len << 32 | head);
		return 0;
	}
	if (ts < newest)
		c->stats.out_of_order++;
	if (len == k) {
		head = ring_at(head, 1, k);
		len--;
	}
	for (pos = len; pos > 0 && ring[ring_at(head, pos - 1, k)] > ts; pos--)
		ring[ring_at(head, pos, k)] = ring[ring_at(head, pos - 1, k)];
	ring[ring_at(head, pos, k)] = ts;
	len++;
	st[0] = (int64_t)((uint64_t)len << 32 | head);
	return cond_holds(w->r, len);
}

/* Distinct values: (value hash, newest time) per value, at most k of
 * them; a full list drops the value seen longest ago, which is the next
 * to expire anyway. */
static int update_value_count(const struct win *w, int64_t *st, int64_t ts,
			      uint64_t vh)
{
	uint32_t k = w->r->k, n = (uint32_t)st[0], i, oldest = 0;
	int64_t *e = st + 1, lo = ts - w->timespan_ns;

	for (i = 0; i < n;) {
		if (e[2 * i + 1] <= lo) {
			n--;
			e[2 * i] = e[2 * n];
			e[2 * i + 1] = e[2 * n + 1];
		} else {
			i++;
		}
	}
	for (i = 0; i < n; i++) {
		if ((uint64_t)e[2 * i] == vh) {
			if (ts > e[2 * i + 1])
				e[2 * i + 1] = ts;
			break;
		}
		if (e[2 * i + 1] < e[2 * oldest + 1])
			oldest = i;
	}
	if (i == n) {
		if (n == k)
			i = oldest;
		else
			n++;
		e[2 * i] = (int64_t)vh;
		e[2 * i + 1] = ts;
	}
	st[0] = n;
	return cond_holds(w->r, n);
}

static int update_temporal(const struct win *w, int64_t *st, uint32_t slot,
			   int64_t ts)
{
	uint32_t n = 0;

	if (st[slot] == T_NONE || ts > st[slot])
		st[slot] = ts;
	for (uint32_t j = 0; j < w->r->nrefs; j++)
		if (st[j] != T_NONE && st[j] > ts - w->timespan_ns)
			n++;
	return cond_holds(w->r, n);
}

/* chain[j]: the latest start time of a sequence matching rules 0..j in
 * order (a later start is always the better one to extend). old/sq keep
 * chain[j] as it was before the current event, so one event matching
 * rules j and j+1 cannot complete both steps. */
static int update_ordered(const struct win *w, int64_t *st, uint32_t slot,
			  int64_t ts, uint64_t seq)
{
	uint32_t n = w->r->nrefs;
	int64_t *chain = st, *old = st + n, *sq = st + 2 * n;
	int64_t cand = T_NONE;

	if (slot == 0) {
		cand = ts;
	} else {
		int64_t prev = sq[slot - 1] == (int64_t)seq ? old[slot - 1] :
			chain[slot - 1];

		if (prev != T_NONE && ts - prev <= w->timespan_ns)
			cand = prev;
	}
	if (cand == T_NONE)
		return 0;
	if (sq[slot] != (int64_t)seq) {
		old[slot] = chain[slot];
		sq[slot] = (int64_t)seq;
	}
	if (chain[slot] == T_NONE || cand > chain[slot])
		chain[slot] = cand;
	return slot == n - 1;
}

/* Feeds one event into window wi at reference slot. Returns 1 when the
 * window's condition held (the correlation fired, delivered or not), 0
 * otherwise, or LW_ENOMEM. */
static int feed(struct lw_correlation *c, uint32_t wi, uint32_t slot,
		const struct evctx *x)
{
	struct win *w = &c->w[wi];
	const struct lw_event *ev = x->ev;
	const struct fref *gf = w->r ? &w->r->gf[slot * w->r->ngroup] : &host_field;
	uint32_t ngroup = w->r ? w->r->ngroup : 1;
	char key[LW_CORRELATION_KEY_MAX];
	uint16_t klen = 0;
	uint64_t vh = 0;
	struct group *g;
	uint32_t gi;
	int64_t *st;
	int fire = 0;

	if (!make_key(ev, gf, ngroup, w->r == NULL, key, &klen)) {
		c->stats.no_group++;
		return 0;
	}
	if (w->type == CT_VALUE_COUNT) {
		char num[LW_EVENT_MEMBER_TEXT_MAX];
		struct lw_str v = field_value(ev, &w->r->vf[slot], num);

		if (v.len == 0) {
			c->stats.no_group++;
			return 0;
		}
		vh = fnv1a(FNV_OFFSET, v.ptr, v.len);
	}
	gi = get_group(c, w, key, klen);
	if (gi == NONE32)
		return LW_ENOMEM;
	g = &w->g[gi];
	st = w->words ? &w->st[(size_t)gi * w->words] : NULL;
	if (g->seen_ns == T_NONE || x->ts > g->seen_ns)
		g->seen_ns = x->ts;
	if (w->type == CT_ABSENCE) {
		if (g->absent_fired) { /* back: a later silence is news again */
			g->absent_fired = 0;
			reset_tracking(g);
		}
		g->last_seq = x->seq;
		g->has_seq = 1;
		track(g->host, sizeof(g->host), &g->host_state, &g->host_len, ev->host);
		track(g->zone, sizeof(g->zone), &g->zone_state, &g->zone_len, ev->zone);
		set_due(c, w, g->seen_ns + w->timespan_ns);
		return 0;
	}
	/* One event that matches several rules of one correlation counts
	 * once towards the incident. */
	if (!(g->has_seq && g->last_seq == x->seq)) {
		if (g->count > 0 && x->ts - g->last_ns > w->timespan_ns) {
			g->count = 0; /* the chain of events broke */
			if (g->pcount == 0)
				reset_tracking(g);
		}
		if (g->count == 0 || x->ts < g->first_ns)
			g->first_ns = x->ts;
		if (g->count == 0 || x->ts > g->last_ns)
			g->last_ns = x->ts;
		g->count++;
		evidence_push(g, x->seq);
		track(g->host, sizeof(g->host), &g->host_state, &g->host_len, ev->host);
		track(g->zone, sizeof(g->zone), &g->zone_state, &g->zone_len, ev->zone);
		g->last_seq = x->seq;
		g->has_seq = 1;
	}
	switch (w->type) {
	case CT_EVENT_COUNT: fire = update_event_count(c, w, st, x->ts); break;
	case CT_VALUE_COUNT: fire = update_value_count(w, st, x->ts, vh); break;
	case CT_TEMPORAL: fire = update_temporal(w, st, slot, x->ts); break;
	case CT_TEMPORAL_ORDERED:
		fire = update_ordered(w, st, slot, x->ts, x->seq);
		break;
	default: fire = 1; break; /* direct: every match */
	}
	if (!fire)
		return 0;
	if (st != NULL)
		state_init(w, st); /* re-arm: the next firing needs new events */
	trigger(c, w, gi, x->ts, x->cb, x->arg);
	return 1;
}

static void scan_window(struct lw_correlation *c, struct win *w, int64_t now,
			lw_incident_cb cb, void *arg)
{
	int64_t due = INT64_MAX;

	for (uint32_t gi = 0; gi < w->ng; gi++) {
		struct group *g = &w->g[gi];

		if (w->type == CT_ABSENCE && !g->absent_fired &&
		    g->seen_ns != T_NONE) {
			if (now - g->seen_ns > w->timespan_ns) {
				g->absent_fired = 1;
				g->count = 1;
				g->first_ns = g->last_ns = g->seen_ns;
				g->nev = g->evpos = 0;
				if (g->has_seq)
					evidence_push(g, g->last_seq);
				trigger(c, w, gi, now, cb, arg);
			} else if (g->seen_ns + w->timespan_ns < due) {
				due = g->seen_ns + w->timespan_ns;
			}
		}
		if (g->pcount > 0) {
			if (now - g->last_fire_ns >= w->suppress_ns)
				deliver_pending(c, w, gi, now, cb, arg);
			else if (g->last_fire_ns + w->suppress_ns < due)
				due = g->last_fire_ns + w->suppress_ns;
		}
	}
	w->due = due;
}

static void run_due(struct lw_correlation *c, lw_incident_cb cb, void *arg)
{
	int64_t now = c->clock;

	if (now == T_NONE || now < c->due)
		return;
	c->due = INT64_MAX;
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		if (w->due <= now)
			scan_window(c, w, now, cb, arg);
		if (w->due < c->due)
			c->due = w->due;
	}
}

static int feed_consumers(struct lw_correlation *c, uint32_t idx,
			  const struct evctx *x)
{
	const struct lw_correlation_rules *cr = c->cr;
	int rc = LW_OK;

	for (uint32_t k = cr->cons_off[idx]; k < cr->cons_off[idx + 1]; k++) {
		uint32_t wi = cr->cons[k].win;
		int r = feed(c, wi, cr->cons[k].slot, x);
		uint32_t q;

		if (r < 0) {
			rc = r;
			continue;
		}
		if (r == 0 || cr->cons_off[cr->nsigma + wi] ==
		    cr->cons_off[cr->nsigma + wi + 1])
			continue; /* nothing references this correlation */
		for (q = 0; q < c->nq && c->q[q] != wi; q++)
			;
		if (q == c->nq)
			c->q[c->nq++] = wi;
	}
	return rc;
}

int lw_correlation_process(struct lw_correlation *c, const struct lw_event *ev,
			   uint64_t event_seq, const uint32_t *matched,
			   uint32_t nmatched, lw_incident_cb cb, void *arg)
{
	const struct lw_correlation_rules *cr = c->cr;
	struct evctx x = {ev, event_seq, ev->timestamp_ns, cb, arg};
	uint32_t nsigma = lw_ruleset_rule_count(c->rs);
	int rc = LW_OK, r;
	int staged = cr != NULL && cr->built;

	c->nq = 0;
	for (uint32_t a = 0; staged && a < cr->nall; a++) {
		r = feed(c, cr->all_events[a], 0, &x);
		if (r == 1 && cr->cons_off[cr->nsigma + cr->all_events[a]] !=
		    cr->cons_off[cr->nsigma + cr->all_events[a] + 1])
			c->q[c->nq++] = cr->all_events[a];
		if (r < 0)
			rc = r;
	}
	for (uint32_t i = 0; i < nmatched; i++) {
		uint32_t d = matched[i];

		if (d >= nsigma)
			continue;
		if (c->direct_win[d] != NONE32) {
			r = feed(c, c->direct_win[d], 0, &x);
			if (r < 0)
				rc = r;
		}
		if (staged && (r = feed_consumers(c, d, &x)) < 0)
			rc = r;
	}
	/* Correlations that fired feed the correlations referencing them;
	 * the queue grows while it is walked (chains of any depth). */
	for (uint32_t q = 0; staged && q < c->nq; q++)
		if ((r = feed_consumers(c, cr->nsigma + c->q[q], &x)) < 0)
			rc = r;
	if (!(ev->flags & LW_EVENT_CLOCK_SKEW) &&
	    (c->clock == T_NONE || x.ts > c->clock))
		c->clock = x.ts;
	run_due(c, cb, arg);
	return rc;
}

void lw_correlation_advance(struct lw_correlation *c, int64_t now_ns,
			    lw_incident_cb cb, void *arg)
{
	if (c->clock == T_NONE || now_ns > c->clock)
		c->clock = now_ns;
	run_due(c, cb, arg);
}

void lw_correlation_flush(struct lw_correlation *c, lw_incident_cb cb,
			  void *arg)
{
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		for (uint32_t gi = 0; gi < w->ng && w->npending > 0; gi++)
			if (w->g[gi].pcount > 0)
				deliver_pending(c, w, gi, w->g[gi].plast_ns, cb, arg);
	}
}

void lw_correlation_get_stats(const struct lw_correlation *c,
			      struct lw_correlation_stats *out)
{
	*out = c->stats;
}

/* ---- save / restore ----
 *
 * Little-endian, all integers fixed width:
 *
 *   header   "LWCORR" | version u16 (1) | clock i64 | nwin u32
 *   window   kind u8 (0 correlation, 1 direct) | idlen u16 | id |
 *            defhash u64 | words u32 | ngroups u32 | groups...
 *   group    keylen u16 | key | host_state u8 | hostlen u8 | host |
 *            zone_state u8 | zonelen u8 | zone | absent_fired u8 |
 *            has_seq u8 | seen i64 | last_seq u64 | first i64 | last i64 |
 *            count u64 | pfirst i64 | plast i64 | pcount u64 |
 *            last_fire i64 | nev u8 | evidence u64 * nev (oldest first) |
 *            state i64 * words
 *   trailer  FNV-1a 64 of every byte before it, u64
 *
 * Groups are written least recently updated first, so restoring them in
 * order rebuilds the eviction order. A window is matched on restore by
 * kind, id and defhash (type, timespan, threshold, rules, group-by):
 * state saved under another definition would mean something else. */

#define SAVE_MAGIC "LWCORR"
#define SAVE_VERSION 1

static void put_u8(struct lw_buf *b, uint8_t v)
{
	lw_buf_append(b, &v, 1);
}

static void put_u16(struct lw_buf *b, uint16_t v)
{
	unsigned char p[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	lw_buf_append(b, p, 2);
}

static void put_u32(struct lw_buf *b, uint32_t v)
{
	unsigned char p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	lw_buf_append(b, p, 4);
}

static void put_u64(struct lw_buf *b, uint64_t v)
{
	unsigned char p[8];

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	lw_buf_append(b, p, 8);
}

static void save_group(struct lw_buf *b, const struct win *w, uint32_t gi)
{
	const struct group *g = &w->g[gi];
	uint32_t start = g->nev < LW_INCIDENT_MAX_EVIDENCE ? 0 : g->evpos;
	size_t hl = g->host_len, zl = g->zone_len;

	put_u16(b, g->keylen);
	lw_buf_append(b, g->key, g->keylen);
	put_u8(b, g->host_state);
	put_u8(b, (uint8_t)hl);
	lw_buf_append(b, g->host, hl);
	put_u8(b, g->zone_state);
	put_u8(b, (uint8_t)zl);
	lw_buf_append(b, g->zone, zl);
	put_u8(b, g->absent_fired);
	put_u8(b, g->has_seq);
	put_u64(b, (uint64_t)g->seen_ns);
	put_u64(b, g->last_seq);
	put_u64(b, (uint64_t)g->first_ns);
	put_u64(b, (uint64_t)g->last_ns);
	put_u64(b, g->count);
	put_u64(b, (uint64_t)g->pfirst_ns);
	put_u64(b, (uint64_t)g->plast_ns);
	put_u64(b, g->pcount);
	put_u64(b, (uint64_t)g->last_fire_ns);
	put_u8(b, (uint8_t)g->nev);
	for (uint32_t i = 0; i < g->nev; i++)
		put_u64(b, g->ev[(start + i) % LW_INCIDENT_MAX_EVIDENCE]);
	for (uint32_t i = 0; i < w->words; i++)
		put_u64(b, (uint64_t)w->st[(size_t)gi * w->words + i]);
}

int lw_correlation_save(const struct lw_correlation *c, struct lw_buf *out)
{
	size_t start = out->len;

	lw_buf_append(out, SAVE_MAGIC, 6);
	put_u16(out, SAVE_VERSION);
	put_u64(out, (uint64_t)c->clock);
	put_u32(out, c->nwin);
	for (uint32_t i = 0; i < c->nwin; i++) {
		const struct win *w = &c->w[i];
		size_t idlen = strlen(w->info->id);

		put_u8(out, w->r == NULL);
		put_u16(out, (uint16_t)idlen);
		lw_buf_append(out, w->info->id, idlen);
		put_u64(out, w->defhash);
		put_u32(out, w->words);
		put_u32(out, w->ng);
		for (uint32_t gi = w->lru_head; gi != NONE32; gi = w->g[gi].next)
			save_group(out, w, gi);
	}
	if (out->oom)
		return LW_ENOMEM;
	put_u64(out, fnv1a(FNV_OFFSET, out->data + start, out->len - start));
	return out->oom ? LW_ENOMEM : LW_OK;
}

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static const unsigned char *take(struct rd *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

static uint64_t get_le(struct rd *r, int n)
{
	const unsigned char *p = take(r, (size_t)n);
	uint64_t v = 0;

	for (int i = 0; p != NULL && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void clear_all(struct lw_correlation *c)
{
	for (uint32_t i = 0; i < c->nwin; i++)
		win_clear(&c->w[i]);
	c->stats.groups = 0;
	c->due = INT64_MAX;
	c->clock = T_NONE;
}

/* The saved window state of one group makes sense for this window. */
static int state_valid(const struct win *w, const int64_t *st)
{
	if (w->type == CT_EVENT_COUNT) {
		uint64_t head = (uint64_t)st[0] & 0xffffffff, len = (uint64_t)st[0] >> 32;

		return head < w->r->k && len <= w->r->k;
	}
	if (w->type == CT_VALUE_COUNT)
		return st[0] >= 0 && (uint64_t)st[0] <= w->r->k;
	return 1;
}

/* Reads one group; into window w (NULL: parse and drop). 0 when the
 * bytes do not describe a valid group. */
static int restore_group(struct lw_correlation *c, struct win *w,
			 uint32_t words, struct rd *r)
{
	struct group tmp;
	int64_t st[1 + 2 * LW_CORRELATION_MAX_THRESHOLD + 2];
	const unsigned char *p;
	uint32_t gi;
	struct group *g;
	size_t n;

	memset(&tmp, 0, sizeof(tmp));
	tmp.keylen = (uint16_t)get_le(r, 2);
	if (tmp.keylen > LW_CORRELATION_KEY_MAX || (p = take(r, tmp.keylen)) == NULL)
		return 0;
	memcpy(tmp.key, p, tmp.keylen);
	tmp.host_state = (uint8_t)get_le(r, 1);
	n = (size_t)get_le(r, 1);
	if ((p = take(r, n)) == NULL)
		return 0;
	memcpy(tmp.host, p, n); /* n <= 255 < sizeof(host) */
	tmp.host[n] = '\0';
	tmp.host_len = (uint8_t)n;
	tmp.zone_state = (uint8_t)get_le(r, 1);
	n = (size_t)get_le(r, 1);
	if (n >= sizeof(tmp.zone) || (p = take(r, n)) == NULL)
		return 0;
	memcpy(tmp.zone, p, n);
	tmp.zone[n] = '\0';
	tmp.zone_len = (uint8_t)n;
	tmp.absent_fired = (uint8_t)get_le(r, 1);
	tmp.has_seq = (uint8_t)get_le(r, 1);
	tmp.seen_ns = (int64_t)get_le(r, 8);
	tmp.last_seq = get_le(r, 8);
	tmp.first_ns = (int64_t)get_le(r, 8);
	tmp.last_ns = (int64_t)get_le(r, 8);
	tmp.count = get_le(r, 8);
	tmp.pfirst_ns = (int64_t)get_le(r, 8);
	tmp.plast_ns = (int64_t)get_le(r, 8);
	tmp.pcount = get_le(r, 8);
	tmp.last_fire_ns = (int64_t)get_le(r, 8);
	tmp.nev = (uint32_t)get_le(r, 1);
	if (tmp.host_state > 2 || tmp.zone_state > 2 || tmp.absent_fired > 1 ||
	    tmp.has_seq > 1 || tmp.nev > LW_INCIDENT_MAX_EVIDENCE)
		return 0;
	for (uint32_t i = 0; i < tmp.nev; i++)
		tmp.ev[i] = get_le(r, 8);
	tmp.evpos = tmp.nev % LW_INCIDENT_MAX_EVIDENCE;
	if (words > sizeof(st) / sizeof(st[0]))
		return 0;
	for (uint32_t i = 0; i < words; i++)
		st[i] = (int64_t)get_le(r, 8);
	if (r->bad)
		return 0;
	if (w == NULL)
		return 1;
	if (!state_valid(w, st))
		return 0;
	gi = get_group(c, w, tmp.key, tmp.keylen);
	if (gi == NONE32)
		return -1;
	g = &w->g[gi];
	tmp.hash = g->hash;
	tmp.prev = g->prev;
	tmp.next = g->next;
	*g = tmp;
	if (words > 0)
		memcpy(&w->st[(size_t)gi * words], st, words * sizeof(*st));
	if (g->pcount > 0) {
		w->npending++;
		set_due(c, w, g->last_fire_ns + w->suppress_ns);
	}
	if (w->type == CT_ABSENCE && !g->absent_fired && g->seen_ns != T_NONE)
		set_due(c, w, g->seen_ns + w->timespan_ns);
	return 1;
}

static struct win *find_win(struct lw_correlation *c, int direct,
			    const unsigned char *id, size_t idlen,
			    uint64_t defhash, uint32_t words)
{
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		if ((w->r == NULL) == direct && strlen(w->info->id) == idlen &&
		    memcmp(w->info->id, id, idlen) == 0 &&
		    w->defhash == defhash && w->words == words)
			return w;
	}
	return NULL;
}

int lw_correlation_restore(struct lw_correlation *c, const void *data,
			   size_t len, struct lw_diag *diag)
{
	const unsigned char *b = data;
	struct rd r;
	uint32_t nwin;
	int64_t clock;
	const char *why;

	clear_all(c);
	if (len < 6 + 2 + 8 + 4 + 8 || memcmp(b, SAVE_MAGIC, 6) != 0) {
		why = "not a correlation state (bad magic or too short)";
		goto corrupt;
	}
	r = (struct rd){b + len - 8, b + len, 0};
	if (get_le(&r, 8) != fnv1a(FNV_OFFSET, b, len - 8)) {
		why = "checksum mismatch";
		goto corrupt;
	}
	r = (struct rd){b + 6, b + len - 8, 0};
	if (get_le(&r, 2) != SAVE_VERSION) {
		why = "unknown version";
		goto corrupt;
	}
	clock = (int64_t)get_le(&r, 8);
	nwin = (uint32_t)get_le(&r, 4);
	for (uint32_t i = 0; i < nwin && !r.bad; i++) {
		int direct = (int)get_le(&r, 1);
		size_t idlen = (size_t)get_le(&r, 2);
		const unsigned char *id = take(&r, idlen);
		uint64_t defhash = get_le(&r, 8);
		uint32_t words = (uint32_t)get_le(&r, 4);
		uint32_t ng = (uint32_t)get_le(&r, 4);
		struct win *w;

		if (r.bad || direct > 1)
			break;
		/* A rule removed or redefined since the save: its state is
		 * read past and dropped. */
		w = find_win(c, direct, id, idlen, defhash, words);
		for (uint32_t k = 0; k < ng; k++) {
			int ok = restore_group(c, w, words, &r);

			if (ok < 0) {
				clear_all(c);
				return LW_ENOMEM;
			}
			if (ok == 0) {
				r.bad = 1;
				break;
			}
		}
	}
	if (r.bad || r.p != r.end) {
		why = r.bad ? "truncated or invalid window state" :
			"trailing bytes after the last window";
		goto corrupt;
	}
	c->clock = clock;
	return LW_OK;

corrupt:
	clear_all(c);
	return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
			   "correlation state: %s", why);
}
