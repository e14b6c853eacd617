/* lw_response: rules/response.yml, the emergency response plan. Loaded
 * once with the ruleset (single-threaded), then read-only. */
#include "correlator/response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"
#include "correlator/ryaml.h"

/* A plan that long is a mistake, not a plan; it also bounds the JSON that
 * every incident of the category carries. */
#define RESPONSE_MAX_ITEMS 64
#define RESPONSE_MAX_ITEM_LEN 1024

struct cat_plan {
	int defined;
	enum lw_sigma_level level;
	char *title;
	char **steps;
	uint32_t nsteps;
	char **notify;
	uint32_t nnotify;
	char *json;
};

struct lw_response {
	struct cat_plan cats[LW_CAT_COUNT];
	uint32_t files;
	char *last_file;       /* for "missing category" messages */
	int last_line;
	int finished;
};

struct lw_response *lw_response_new(void)
{
	return calloc(1, sizeof(struct lw_response));
}

static void strv_free(char **v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void cat_release(struct cat_plan *c)
{
	free(c->title);
	strv_free(c->steps, c->nsteps);
	strv_free(c->notify, c->nnotify);
	free(c->json);
	memset(c, 0, sizeof(*c));
}

void lw_response_free(struct lw_response *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < LW_CAT_COUNT; i++)
		cat_release(&r->cats[i]);
	free(r->last_file);
	free(r);
}

/* A list of non-empty strings into a fresh vector. */
static int load_strv(struct lw_ryaml *y, yaml_node_t *n, const char *what,
		     char ***out, uint32_t *nout)
{
	size_t count;
	char **v;
	uint32_t k = 0;

	*out = NULL;
	*nout = 0;
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "'%s' must be a list of strings", what);
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (count == 0)
		return lw_ryaml_error(y, n, LW_EPARSE, "'%s' must not be empty",
				      what);
	if (count > RESPONSE_MAX_ITEMS)
		return lw_ryaml_error(y, n, LW_EPARSE, "'%s' has %zu "
				      "entries (at most %d)", what, count,
				      RESPONSE_MAX_ITEMS);
	v = calloc(count, sizeof(*v));
	if (v == NULL)
		return LW_ENOMEM;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = lw_ryaml_node(y, *it);
		size_t len;
		const char *s = lw_ryaml_str(e, &len);

		if (s == NULL || len == 0 || lw_ryaml_is_null(e)) {
			lw_ryaml_error(y, e ? e : n, LW_EPARSE,
				       "each entry of '%s' must be a "
				       "non-empty string", what);
			goto fail;
		}
		if (len > RESPONSE_MAX_ITEM_LEN) {
			lw_ryaml_error(y, e, LW_EPARSE, "an entry of '%s' is "
				       "longer than %d bytes", what,
				       RESPONSE_MAX_ITEM_LEN);
			goto fail;
		}
		v[k] = strdup(s);
		if (v[k] == NULL) {
			strv_free(v, k);
			return LW_ENOMEM;
		}
		k++;
	}
	*out = v;
	*nout = k;
	return LW_OK;

fail:
	strv_free(v, k);
	return LW_EPARSE;
}

static int parse_level(const char *s, enum lw_sigma_level *out)
{
	for (int i = 0; i <= LW_LEVEL_CRITICAL; i++)
		if (strcmp(s, lw_sigma_level_name(i)) == 0) {
			*out = (enum lw_sigma_level)i;
			return 1;
		}
	return 0;
}

static int load_category(struct lw_ryaml *y, struct cat_plan *out, yaml_node_t *n)
{
	static const char *const keys[] = {"title", "level", "steps", "notify",
					   "description", NULL};
	struct cat_plan p;
	yaml_node_t *v;
	const char *s;
	int rc;

	memset(&p, 0, sizeof(p));
	if (n->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE, "a category must be a "
				      "mapping with level, steps and notify");
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = lw_ryaml_node(y, pr->key);
		const char *ks = lw_ryaml_str(k, NULL);
		size_t i;

		for (i = 0; ks != NULL && keys[i] != NULL; i++)
			if (strcmp(ks, keys[i]) == 0)
				break;
		if (ks == NULL || keys[i] == NULL)
			lw_ryaml_error(y, k, LW_EPARSE, "unknown key '%s' "
				       "(expected title, level, steps, "
				       "notify, description)", ks ? ks : "?");
	}
	v = lw_ryaml_get(y, n, "level", NULL);
	s = lw_ryaml_str(v, NULL);
	if (v == NULL)
		lw_ryaml_error(y, n, LW_EPARSE, "'level' is required");
	else if (s == NULL || !parse_level(s, &p.level))
		lw_ryaml_error(y, v, LW_EPARSE, "level must be informational, low, "
			       "medium, high or critical");
	v = lw_ryaml_get(y, n, "title", NULL);
	s = lw_ryaml_str(v, NULL);
	if (s != NULL && (p.title = strdup(s)) == NULL)
		goto oom;
	rc = load_strv(y, lw_ryaml_get(y, n, "steps", NULL) ?
		       lw_ryaml_get(y, n, "steps", NULL) : n,
		       "steps", &p.steps, &p.nsteps);
	if (rc == LW_ENOMEM)
		goto oom;
	rc = load_strv(y, lw_ryaml_get(y, n, "notify", NULL) ?
		       lw_ryaml_get(y, n, "notify", NULL) : n,
		       "notify", &p.notify, &p.nnotify);
	if (rc == LW_ENOMEM)
		goto oom;
	if (p.nsteps == 0 || p.nnotify == 0 || y->err != LW_OK) {
		cat_release(&p);
		return LW_EPARSE;
	}
	p.defined = 1;
	cat_release(out);
	*out = p;
	return LW_OK;

oom:
	cat_release(&p);
	return LW_ENOMEM;
}

static int load_doc(struct lw_response *r, struct lw_ryaml *y, yaml_node_t *root)
{
	yaml_node_t *cats, *k;
	int rc = LW_OK;

	if (root->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, root, LW_EPARSE,
				      "response.yml must be a mapping "
				      "with 'categories'");
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = lw_ryaml_node(y, pr->key);
		const char *ks = lw_ryaml_str(kn, NULL);

		if (ks == NULL || (strcmp(ks, "categories") != 0 &&
				   strcmp(ks, "title") != 0 &&
				   strcmp(ks, "description") != 0 &&
				   strcmp(ks, "version") != 0))
			lw_ryaml_error(y, kn, LW_EPARSE, "unknown key '%s' "
				       "(expected categories, title, "
				       "description, version)", ks ? ks : "?");
	}
	cats = lw_ryaml_get(y, root, "categories", &k);
	if (cats == NULL || cats->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, cats ? cats : root, LW_EPARSE,
				      "'categories' (a mapping of category id to "
				      "plan) is required");
	free(r->last_file);
	r->last_file = strdup(y->path);
	if (r->last_file == NULL)
		return LW_ENOMEM;
	r->last_line = lw_ryaml_line(k);
	for (yaml_node_pair_t *pr = cats->data.mapping.pairs.start;
	     pr < cats->data.mapping.pairs.top; pr++) {
		yaml_node_t *kn = lw_ryaml_node(y, pr->key);
		yaml_node_t *vn = lw_ryaml_node(y, pr->value);
		size_t len;
		const char *ks = lw_ryaml_str(kn, &len);
		int cat = ks ? lw_category_parse(ks, len) : -1;
		int lrc;

		if (cat < 0) {
			lw_ryaml_error(y, kn, LW_EPARSE, "unknown category '%s' "
				       "(expected one of unauthorized-access, dos, "
				       "anomalous-outbound, malware, "
				       "data-exfiltration, unauthorized-software, "
				       "log-tampering, system-failure)",
				       ks ? ks : "?");
			continue;
		}
		lrc = load_category(y, &r->cats[cat], vn);
		if (lrc == LW_ENOMEM)
			return lrc;
		if (lrc != LW_OK && rc == LW_OK)
			rc = lrc;
	}
	return rc;
}

static int load_all(void *target, struct lw_ryaml *y)
{
	struct lw_response *r = target;
	yaml_node_t *root;
	int n, docs = 0, rc = LW_OK;

	while ((n = lw_ryaml_next(y, &root)) == 1) {
		if (docs++ > 0) {
			lw_ryaml_error(y, root, LW_EPARSE,
				       "response.yml holds one document");
			continue;
		}
		rc = load_doc(r, y, root);
		if (rc == LW_ENOMEM)
			return rc;
	}
	if (n < 0)
		return n;
	if (docs == 0)
		return lw_ryaml_error_at(y, 1, 1, LW_EPARSE, "empty response plan");
	r->files++;
	return y->err != LW_OK ? y->err : rc;
}

int lw_response_load_file(struct lw_response *r, const char *path,
			  struct lw_diags *diags)
{
	if (r->finished)
		return LW_EINVAL;
	return lw_ryaml_load(path, NULL, 0, load_all, r, diags);
}

int lw_response_load_string(struct lw_response *r, const char *name,
			    const char *yaml, size_t len, struct lw_diags *diags)
{
	if (r->finished)
		return LW_EINVAL;
	return lw_ryaml_load(name, yaml, len, load_all, r, diags);
}

static void json_strv(struct lw_buf *b, char *const *v, uint32_t n)
{
	lw_buf_putc(b, '[');
	for (uint32_t i = 0; i < n; i++) {
		if (i > 0)
			lw_buf_putc(b, ',');
		lw_escape_json_string(b, v[i], strlen(v[i]));
	}
	lw_buf_putc(b, ']');
}

static int render(struct cat_plan *p)
{
	struct lw_buf b;

	lw_buf_init(&b);
	lw_buf_puts(&b, "{\"steps\":");
	json_strv(&b, p->steps, p->nsteps);
	lw_buf_puts(&b, ",\"notify\":");
	json_strv(&b, p->notify, p->nnotify);
	lw_buf_putc(&b, '}');
	lw_buf_putc(&b, '\0');
	if (b.oom) {
		lw_buf_release(&b);
		return LW_ENOMEM;
	}
	free(p->json);
	p->json = b.data; /* the buffer's storage becomes the string */
	return LW_OK;
}

int lw_response_finish(struct lw_response *r, int require,
		       struct lw_diags *diags)
{
	int rc = LW_OK;

	if (r->finished)
		return LW_EINVAL;
	if (require && r->files == 0)
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_EPARSE, NULL, 0, 0,
				    "no response.yml in any rule directory: every "
				    "incident category needs its response plan");
	for (int i = 0; i < LW_CAT_COUNT; i++) {
		struct cat_plan *p = &r->cats[i];

		if (!p->defined && require) {
			rc = lw_diags_add(diags, LW_DIAG_ERROR, LW_EPARSE,
					  r->last_file, r->last_line, 1,
					  "category '%s' is missing from the "
					  "response plan", lw_category_name(i));
			continue;
		}
		if (!p->defined)
			p->level = LW_LEVEL_MEDIUM;
		if (render(p) != LW_OK)
			return LW_ENOMEM;
	}
	if (rc == LW_OK)
		r->finished = 1;
	return rc;
}

uint32_t lw_response_files(const struct lw_response *r)
{
	return r->files;
}

const char *lw_response_json(const struct lw_response *r, enum lw_category cat)
{
	if ((unsigned)cat >= LW_CAT_COUNT || r->cats[cat].json == NULL)
		return "{\"steps\":[],\"notify\":[]}";
	return r->cats[cat].json;
}

enum lw_sigma_level lw_response_level(const struct lw_response *r,
				      enum lw_category cat)
{
	if ((unsigned)cat >= LW_CAT_COUNT || !r->cats[cat].defined)
		return LW_LEVEL_MEDIUM;
	return r->cats[cat].level;
}

const char *const *lw_response_steps(const struct lw_response *r,
				     enum lw_category cat, uint32_t *n)
{
	*n = (unsigned)cat < LW_CAT_COUNT ? r->cats[cat].nsteps : 0;
	return *n ? (const char *const *)r->cats[cat].steps : NULL;
}

const char *const *lw_response_notify(const struct lw_response *r,
				      enum lw_category cat, uint32_t *n)
{
	*n = (unsigned)cat < LW_CAT_COUNT ? r->cats[cat].nnotify : 0;
	return *n ? (const char *const *)r->cats[cat].notify : NULL;
}
