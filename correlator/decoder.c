/* lw_decoder: loading decoder YAML and running the patterns that apply to
 * an event's program. */
#include "correlator/decoder.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/memfind.h"
#include "core/regex.h"
#include "correlator/progmap.h"
#include "correlator/ryaml.h"

struct dec_group {
	uint32_t group;     /* pcre2 group number */
	char *key;          /* ECS name */
	uint32_t keylen;
	char *alt_key;      /* "<prefix>.address" for ".ip" keys, else NULL */
	uint32_t alt_keylen;
};

struct dec_pattern {
	char *src;
	size_t len;
	char *prefix;       /* literal the message must start with, or NULL */
	uint32_t prefix_len;
	struct dec_group *groups;
	uint32_t ngroups;
};

struct dec_lit {
	char *s;
	uint32_t len;
};

struct decoder {
	char *name;
	char *program;           /* the first of `match: process.name`, or NULL */
	uint32_t first_pat, npat;
	struct dec_lit *pre;
	uint32_t npre;
	struct lw_field *consts; /* keys and values owned (malloc'd) */
	uint32_t nconsts;
};

struct lw_decoder_set {
	struct decoder *decs;
	uint32_t ndecs, deccap;
	struct dec_pattern *pats;
	uint32_t npats, patcap;
	uint32_t *any;          /* decoders without `match` */
	uint32_t nany, anycap;
	struct lw_progmap map;
	int built;
};

struct lw_decoder_scratch {
	struct lw_regex **re;   /* one per set->pats entry */
	uint64_t *hits;         /* match-limit hits per pattern, since the last take */
	uint32_t n;
	uint64_t limit_hits;
};

struct lw_decoder_set *lw_decoder_set_new(void)
{
	struct lw_decoder_set *set = calloc(1, sizeof(*set));

	if (set != NULL)
		lw_progmap_init(&set->map);
	return set;
}

static void pattern_release(struct dec_pattern *p)
{
	for (uint32_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].key);
		free(p->groups[i].alt_key);
	}
	free(p->groups);
	free(p->src);
	free(p->prefix);
	memset(p, 0, sizeof(*p));
}

static void decoder_release(struct decoder *d)
{
	for (uint32_t i = 0; i < d->npre; i++)
		free(d->pre[i].s);
	free(d->pre);
	for (uint32_t i = 0; i < d->nconsts; i++) {
		free((char *)d->consts[i].key.ptr);
		free((char *)d->consts[i].value.ptr);
	}
	free(d->consts);
	free(d->name);
	free(d->program);
	memset(d, 0, sizeof(*d));
}

void lw_decoder_set_free(struct lw_decoder_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->ndecs; i++)
		decoder_release(&set->decs[i]);
	for (uint32_t i = 0; i < set->npats; i++)
		pattern_release(&set->pats[i]);
	free(set->decs);
	free(set->pats);
	free(set->any);
	lw_progmap_release(&set->map);
	free(set);
}

/* The literal an anchored pattern's match must start with ("^Failed "
 * gives "Failed "), so most non-matching lines are rejected by one memcmp.
 * Conservative: any construct we do not fully understand ends the prefix,
 * and a top-level alternation or a leading option setting gives none. */
static size_t literal_prefix(const char *p, size_t len, char *out)
{
	size_t i = 1, n = 0, depth = 0;
	int in_class = 0;

	if (len == 0 || p[0] != '^')
		return 0;
	/* A '|' outside any group means the '^' binds only the first branch. */
	for (size_t k = 0; k < len; k++) {
		if (p[k] == '\\') {
			k++;
			continue;
		}
		if (in_class) {
			if (p[k] == ']')
				in_class = 0;
			continue;
		}
		if (p[k] == '[')
			in_class = 1;
		else if (p[k] == '(')
			depth++;
		else if (p[k] == ')' && depth > 0)
			depth--;
		else if (p[k] == '|' && depth == 0)
			return 0;
	}
	while (i < len) {
		char c = p[i];
		size_t step = 1;

		if (c == '\\') {
			/* Only escaped punctuation is a literal; \d, \s ... end it. */
			if (i + 1 >= len || !strchr(".[](){}*+?^$|\\/-: ", p[i + 1]))
				break;
			c = p[i + 1];
			step = 2;
		} else if (strchr(".[](){}*+?^$|", c)) {
			break;
		}
		if (i + step < len && strchr("?*{", p[i + step]))
			break; /* optional or repeated: not required as is */
		if (i + step < len && p[i + step] == '+') {
			out[n++] = c; /* one occurrence is still required */
			break;
		}
		out[n++] = c;
		i += step;
	}
	return n;
}

/* "source__ip" -> "source.ip". Returns 0 when the result is not a usable
 * ECS name (empty component, e.g. "__x" or "x__"). */
static int group_key(const char *name, char *out, size_t outlen, size_t *keylen)
{
	size_t n = 0;

	for (size_t i = 0; name[i] != '\0'; i++) {
		if (n + 1 >= outlen)
			return 0;
		if (name[i] == '_' && name[i + 1] == '_') {
			out[n++] = '.';
			i++;
		} else {
			out[n++] = name[i];
		}
	}
	out[n] = '\0';
	*keylen = n;
	if (n == 0 || out[0] == '.' || out[n - 1] == '.' || strstr(out, ".."))
		return 0;
	return 1;
}

/* Collects scalar or list-of-scalars into an array of dup'd strings. */
static int scalars(struct lw_ryaml *y, yaml_node_t *n, struct dec_lit **out,
		   uint32_t *count, const char *what)
{
	yaml_node_item_t *it;
	struct dec_lit *v;
	uint32_t k = 0, total;

	*out = NULL;
	*count = 0;
	if (n->type == YAML_SCALAR_NODE)
		total = 1;
	else if (n->type == YAML_SEQUENCE_NODE)
		total = (uint32_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	else
		return lw_ryaml_error(y, n, LW_EPARSE, "%s: expected a string or a "
				      "list of strings", what);
	if (total == 0)
		return lw_ryaml_error(y, n, LW_EPARSE, "%s: empty list", what);
	v = calloc(total, sizeof(*v));
	if (v == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < total; i++) {
		yaml_node_t *s = n;
		size_t len;
		const char *str;

		if (n->type == YAML_SEQUENCE_NODE) {
			it = n->data.sequence.items.start + i;
			s = lw_ryaml_node(y, *it);
		}
		str = lw_ryaml_str(s, &len);
		if (str == NULL || len == 0) {
			lw_ryaml_error(y, s, LW_EPARSE, "%s: expected a "
				       "non-empty string", what);
			goto fail;
		}
		v[k].s = lw_memdup_z(str, len);
		v[k].len = (uint32_t)len;
		if (v[k++].s == NULL)
			goto fail;
	}
	*out = v;
	*count = k;
	return LW_OK;

fail:
	for (uint32_t i = 0; i < k; i++)
		free(v[i].s);
	free(v);
	return LW_EPARSE;
}

static void lits_free(struct dec_lit *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i].s);
	free(v);
}

static int push_pattern(struct lw_decoder_set *set, struct dec_pattern *p)
{
	if (set->npats == set->patcap) {
		uint32_t cap = set->patcap ? set->patcap * 2 : 32;
		struct dec_pattern *n = realloc(set->pats, cap * sizeof(*n));
		if (n == NULL)
			return LW_ENOMEM;
		set->pats = n;
		set->patcap = cap;
	}
	set->pats[set->npats++] = *p;
	return LW_OK;
}

/* Compiles one pattern to check it and to learn its named groups; the
 * compiled code itself is per thread (lw_decoder_scratch_new). */
static int load_pattern(struct lw_decoder_set *set, struct lw_ryaml *y,
			yaml_node_t *n, yaml_node_t *rename, uint32_t nconsts,
			const struct lw_field *consts)
{
	struct dec_pattern p;
	struct lw_regex *re = NULL;
	struct lw_diag d;
	char pre[512], key[256];
	const char *src;
	size_t len, plen, klen;
	uint32_t nnames;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&d, 0, sizeof(d));
	src = lw_ryaml_str(n, &len);
	if (src == NULL || len == 0)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "pattern: expected a non-empty string");
	rc = lw_regex_compile(src, len, 0, &re, &d);
	if (rc != LW_OK)
		return lw_ryaml_error(y, n, rc, "pattern: %s", d.detail);
	nnames = lw_regex_name_count(re);
	if (nnames == 0) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "pattern has no named group: "
				    "it would extract nothing");
		goto fail;
	}
	if (nnames + nconsts > LW_DECODER_MAX_FIELDS) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "more than %d fields",
				    LW_DECODER_MAX_FIELDS);
		goto fail;
	}
	p.groups = calloc(nnames, sizeof(*p.groups));
	p.src = lw_memdup_z(src, len);
	if (p.groups == NULL || p.src == NULL) {
		rc = LW_ENOMEM;
		goto fail;
	}
	p.len = len;
	for (uint32_t i = 0; i < nnames; i++) {
		struct dec_group *g = &p.groups[i];
		const char *name = lw_regex_name(re, i, &g->group);
		const char *alias = lw_ryaml_str(lw_ryaml_get(y, rename, name, NULL),
						 &klen);

		if (alias != NULL && klen > 0 && klen < sizeof(key)) {
			/* pcre2 names stop at 32 bytes: long ECS names are
			 * spelled out in the decoder's `groups` map instead. */
			memcpy(key, alias, klen);
			key[klen] = '\0';
		} else if (!group_key(name, key, sizeof(key), &klen)) {
			rc = lw_ryaml_error(y, n, LW_EPARSE,
					    "group name '%s' is not an ECS field "
					    "name ('__' stands for '.')", name);
			goto fail;
		}
		for (uint32_t c = 0; c < nconsts; c++)
			if (consts[c].key.len == klen &&
			    memcmp(consts[c].key.ptr, key, klen) == 0) {
				rc = lw_ryaml_error(y, n, LW_EPARSE,
					"field '%s' is both a group and a constant",
					key);
				goto fail;
			}
		p.ngroups++;
		g->key = lw_memdup_z(key, klen);
		g->keylen = (uint32_t)klen;
		if (g->key == NULL) {
			rc = LW_ENOMEM;
			goto fail;
		}
		if (klen > 3 && memcmp(key + klen - 3, ".ip", 3) == 0) {
			g->alt_keylen = (uint32_t)(klen - 3 + sizeof(".address") - 1);
			g->alt_key = malloc(g->alt_keylen + 1);
			if (g->alt_key == NULL) {
				rc = LW_ENOMEM;
				goto fail;
			}
			memcpy(g->alt_key, key, klen - 3);
			memcpy(g->alt_key + klen - 3, ".address", sizeof(".address"));
		}
	}
	plen = literal_prefix(src, len < sizeof(pre) ? len : sizeof(pre) - 1, pre);
	if (plen > 0) {
		p.prefix = lw_memdup_z(pre, plen);
		if (p.prefix == NULL) {
			rc = LW_ENOMEM;
			goto fail;
		}
		p.prefix_len = (uint32_t)plen;
	}
	lw_regex_free(re);
	rc = push_pattern(set, &p);
	if (rc != LW_OK)
		pattern_release(&p);
	return rc;

fail:
	lw_regex_free(re);
	pattern_release(&p);
	return rc;
}

static int load_consts(struct lw_ryaml *y, yaml_node_t *n, struct decoder *d)
{
	yaml_node_pair_t *pr;
	size_t total;

	if (n->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "fields: expected a mapping of field: value");
	total = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (total > LW_DECODER_MAX_FIELDS)
		return lw_ryaml_error(y, n, LW_EPARSE, "more than %d fields",
				      LW_DECODER_MAX_FIELDS);
	d->consts = calloc(total ? total : 1, sizeof(*d->consts));
	if (d->consts == NULL)
		return LW_ENOMEM;
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = lw_ryaml_node(y, pr->key);
		yaml_node_t *v = lw_ryaml_node(y, pr->value);
		const char *ks, *vs;
		size_t kl, vl;
		struct lw_field *f;

		ks = lw_ryaml_str(k, &kl);
		vs = lw_ryaml_str(v, &vl);
		if (ks == NULL || kl == 0 || vs == NULL || lw_ryaml_is_null(v))
			return lw_ryaml_error(y, v ? v : k, LW_EPARSE,
					      "fields: each value must be a string");
		f = &d->consts[d->nconsts];
		f->key.ptr = lw_memdup_z(ks, kl);
		f->value.ptr = lw_memdup_z(vs, vl);
		f->key.len = (uint32_t)kl;
		f->value.len = (uint32_t)vl;
		d->nconsts++;
		if (f->key.ptr == NULL || f->value.ptr == NULL)
			return LW_ENOMEM;
	}
	return LW_OK;
}

static int push_decoder(struct lw_decoder_set *set, struct decoder *d)
{
	if (set->ndecs == set->deccap) {
		uint32_t cap = set->deccap ? set->deccap * 2 : 32;
		struct decoder *n = realloc(set->decs, cap * sizeof(*n));
		if (n == NULL)
			return LW_ENOMEM;
		set->decs = n;
		set->deccap = cap;
	}
	set->decs[set->ndecs++] = *d;
	return LW_OK;
}

static int file_any(struct lw_decoder_set *set, uint32_t idx)
{
	if (set->nany == set->anycap) {
		uint32_t cap = set->anycap ? set->anycap * 2 : 8;
		uint32_t *n = realloc(set->any, cap * sizeof(*n));
		if (n == NULL)
			return LW_ENOMEM;
		set->any = n;
		set->anycap = cap;
	}
	set->any[set->nany++] = idx;
	return LW_OK;
}

static const char *const decoder_keys[] = {
	"name", "description", "match", "prefilter", "pattern", "patterns",
	"groups", "fields", NULL};

static int check_keys(struct lw_ryaml *y, yaml_node_t *map,
		      const char *const *known, const char *what)
{
	int rc = LW_OK;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(y, p->key);
		const char *ks = lw_ryaml_str(k, NULL);
		size_t i;

		for (i = 0; ks != NULL && known[i] != NULL; i++)
			if (strcmp(ks, known[i]) == 0)
				break;
		if (ks == NULL || known[i] == NULL)
			rc = lw_ryaml_error(y, k, LW_EPARSE, "unknown %s key '%s'",
					    what, ks ? ks : "(not a string)");
	}
	return rc;
}

/* One decoder entry. On any error nothing of it stays in the set. */
static int load_decoder(struct lw_decoder_set *set, struct lw_ryaml *y,
			yaml_node_t *n, uint32_t ordinal)
{
	struct decoder d;
	struct dec_lit *progs = NULL;
	uint32_t nprogs = 0, pats_before = set->npats;
	yaml_node_t *v, *m, *pat, *pats, *rename;
	char defname[64];
	const char *s;
	size_t len;
	int rc;

	memset(&d, 0, sizeof(d));
	if (n->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE, "decoder: expected a mapping");
	rc = check_keys(y, n, decoder_keys, "decoder");
	if (rc != LW_OK)
		return rc;
	v = lw_ryaml_get(y, n, "name", NULL);
	s = lw_ryaml_str(v, &len);
	if (v != NULL && (s == NULL || len == 0))
		return lw_ryaml_error(y, v, LW_EPARSE, "name: expected a string");
	if (s == NULL) {
		snprintf(defname, sizeof(defname), "decoder-%u", ordinal + 1);
		s = defname;
		len = strlen(defname);
	}
	d.name = lw_memdup_z(s, len);
	if (d.name == NULL)
		return LW_ENOMEM;

	m = lw_ryaml_get(y, n, "match", NULL);
	if (m != NULL) {
		yaml_node_t *pn;

		if (m->type != YAML_MAPPING_NODE) {
			rc = lw_ryaml_error(y, m, LW_EPARSE,
					    "match: expected a mapping");
			goto fail;
		}
		rc = check_keys(y, m, (const char *const[]){"process.name", NULL},
				"match");
		if (rc != LW_OK)
			goto fail;
		pn = lw_ryaml_get(y, m, "process.name", NULL);
		if (pn == NULL) {
			rc = lw_ryaml_error(y, m, LW_EPARSE,
					    "match: process.name is required");
			goto fail;
		}
		rc = scalars(y, pn, &progs, &nprogs, "match: process.name");
		if (rc != LW_OK)
			goto fail;
	}
	v = lw_ryaml_get(y, n, "prefilter", NULL);
	if (v != NULL) {
		rc = scalars(y, v, &d.pre, &d.npre, "prefilter");
		if (rc != LW_OK)
			goto fail;
	}
	v = lw_ryaml_get(y, n, "fields", NULL);
	if (v != NULL) {
		rc = load_consts(y, v, &d);
		if (rc != LW_OK)
			goto fail;
	}
	rename = lw_ryaml_get(y, n, "groups", NULL);
	if (rename != NULL && rename->type != YAML_MAPPING_NODE) {
		rc = lw_ryaml_error(y, rename, LW_EPARSE, "groups: expected a "
				    "mapping of group name: field");
		goto fail;
	}
	pat = lw_ryaml_get(y, n, "pattern", NULL);
	pats = lw_ryaml_get(y, n, "patterns", NULL);
	if ((pat == NULL) == (pats == NULL)) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "decoder '%s': exactly one "
				    "of pattern or patterns is required", d.name);
		goto fail;
	}
	d.first_pat = set->npats;
	if (pat != NULL) {
		rc = load_pattern(set, y, pat, rename, d.nconsts, d.consts);
		if (rc != LW_OK)
			goto fail;
	} else if (pats->type != YAML_SEQUENCE_NODE ||
		   pats->data.sequence.items.top == pats->data.sequence.items.start) {
		rc = lw_ryaml_error(y, pats, LW_EPARSE,
				    "patterns: expected a non-empty list");
		goto fail;
	} else {
		for (yaml_node_item_t *it = pats->data.sequence.items.start;
		     it < pats->data.sequence.items.top; it++) {
			int prc = load_pattern(set, y, lw_ryaml_node(y, *it),
					       rename, d.nconsts, d.consts);
			if (prc != LW_OK && rc == LW_OK)
				rc = prc;
		}
		if (rc != LW_OK)
			goto fail;
	}
	d.npat = set->npats - d.first_pat;
	for (uint32_t i = 0; i < nprogs; i++) {
		rc = lw_progmap_add(&set->map, progs[i].s, progs[i].len, set->ndecs);
		if (rc != LW_OK)
			goto fail;
	}
	if (nprogs > 0 && (d.program = lw_memdup_z(progs[0].s, progs[0].len)) == NULL) {
		rc = LW_ENOMEM;
		goto fail;
	}
	if (nprogs == 0) {
		rc = file_any(set, set->ndecs);
		if (rc != LW_OK)
			goto fail;
	}
	rc = push_decoder(set, &d);
	if (rc != LW_OK)
		goto fail;
	lits_free(progs, nprogs);
	return LW_OK;

fail:
	/* The program map is filled last: only ENOMEM can fail after it, and
	 * ENOMEM fails the whole load, so no name is left filed under an
	 * index another decoder will take. */
	while (set->npats > pats_before)
		pattern_release(&set->pats[--set->npats]);
	lits_free(progs, nprogs);
	decoder_release(&d);
	return rc;
}

static int load_doc(void *target, struct lw_ryaml *y, yaml_node_t *root)
{
	struct lw_decoder_set *set = target;
	yaml_node_t *list;
	uint32_t ordinal = 0;
	int rc = LW_OK;

	if (root->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, root, LW_EPARSE,
				      "expected a mapping with a 'decoders' list");
	rc = check_keys(y, root, (const char *const[]){"decoders", NULL}, "top-level");
	list = lw_ryaml_get(y, root, "decoders", NULL);
	if (list == NULL || list->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(y, list ? list : root, LW_EPARSE,
				      "'decoders' must be a list");
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		int drc = load_decoder(set, y, lw_ryaml_node(y, *it), ordinal++);
		if (drc == LW_ENOMEM)
			return drc;
		if (drc != LW_OK && rc == LW_OK)
			rc = drc;
	}
	return rc;
}

int lw_decoder_set_load_file(struct lw_decoder_set *set, const char *path,
			     struct lw_diags *diags)
{
	if (set->built)
		return LW_EINVAL;
	return lw_ryaml_load_docs(path, NULL, 0, load_doc, set, diags);
}

int lw_decoder_set_load_string(struct lw_decoder_set *set, const char *name,
			       const char *yaml, size_t len,
			       struct lw_diags *diags)
{
	if (set->built)
		return LW_EINVAL;
	return lw_ryaml_load_docs(name, yaml, len, load_doc, set, diags);
}

int lw_decoder_set_build(struct lw_decoder_set *set)
{
	int rc;

	if (set->built)
		return LW_EINVAL;
	rc = lw_progmap_build(&set->map);
	if (rc == LW_OK)
		set->built = 1;
	return rc;
}

uint32_t lw_decoder_count(const struct lw_decoder_set *set)
{
	return set->ndecs;
}

const char *lw_decoder_name(const struct lw_decoder_set *set, uint32_t i)
{
	return i < set->ndecs ? set->decs[i].name : NULL;
}

const char *lw_decoder_program(const struct lw_decoder_set *set, uint32_t i)
{
	return i < set->ndecs ? set->decs[i].program : NULL;
}

void lw_decoder_set_keys(const struct lw_decoder_set *set,
			 void (*fn)(const char *key, size_t len, void *arg),
			 void *arg)
{
	for (uint32_t i = 0; i < set->npats; i++)
		for (uint32_t g = 0; g < set->pats[i].ngroups; g++) {
			const struct dec_group *gr = &set->pats[i].groups[g];
			fn(gr->key, gr->keylen, arg);
			if (gr->alt_key != NULL)
				fn(gr->alt_key, gr->alt_keylen, arg);
		}
	for (uint32_t i = 0; i < set->ndecs; i++)
		for (uint32_t c = 0; c < set->decs[i].nconsts; c++)
			fn(set->decs[i].consts[c].key.ptr,
			   set->decs[i].consts[c].key.len, arg);
}

struct lw_decoder_scratch *lw_decoder_scratch_new(const struct lw_decoder_set *set)
{
	struct lw_decoder_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->re = calloc(set->npats ? set->npats : 1, sizeof(*s->re));
	s->hits = calloc(set->npats ? set->npats : 1, sizeof(*s->hits));
	if (s->re == NULL || s->hits == NULL)
		goto fail;
	for (; s->n < set->npats; s->n++)
		if (lw_regex_compile(set->pats[s->n].src, set->pats[s->n].len, 0,
				     &s->re[s->n], NULL) != LW_OK ||
		    lw_regex_set_match_limit(s->re[s->n], LW_REGEX_RULE_LIMIT) != LW_OK)
			goto fail;
	return s;

fail:
	lw_decoder_scratch_free(s);
	return NULL;
}

void lw_decoder_scratch_free(struct lw_decoder_scratch *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->n; i++)
		lw_regex_free(s->re[i]);
	free(s->re);
	free(s->hits);
	free(s);
}

uint64_t lw_decoder_scratch_limit_hits(const struct lw_decoder_scratch *s)
{
	return s->limit_hits;
}

void lw_decoder_set_each_pattern(const struct lw_decoder_set *set,
				 void (*fn)(const char *decoder, const char *pattern,
					    size_t len, unsigned flags, void *arg),
				 void *arg)
{
	for (uint32_t d = 0; d < set->ndecs; d++)
		for (uint32_t i = 0; i < set->decs[d].npat; i++) {
			const struct dec_pattern *p = &set->pats[set->decs[d].first_pat + i];

			fn(set->decs[d].name, p->src, p->len, 0, arg);
		}
}

void lw_decoder_scratch_take_hits(const struct lw_decoder_set *set,
				  struct lw_decoder_scratch *s,
				  void (*fn)(const char *decoder, uint64_t hits, void *arg),
				  void *arg)
{
	for (uint32_t d = 0; d < set->ndecs; d++) {
		uint64_t n = 0;

		for (uint32_t i = 0; i < set->decs[d].npat; i++) {
			n += s->hits[set->decs[d].first_pat + i];
			s->hits[set->decs[d].first_pat + i] = 0;
		}
		if (n > 0)
			fn(set->decs[d].name, n, arg);
	}
}

static int is_ip(const char *p, size_t len)
{
	char tmp[64];
	unsigned char buf[16];

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	return inet_pton(memchr(tmp, ':', len) ? AF_INET6 : AF_INET, tmp, buf) == 1;
}

/* 1 matched (out filled), 0 not, <0 error. */
static int try_decoder(const struct lw_decoder_set *set,
		       struct lw_decoder_scratch *s, uint32_t di,
		       const struct lw_event *ev, struct lw_decoder_out *out)
{
	const struct decoder *d = &set->decs[di];
	const char *msg = ev->message.ptr;
	size_t mlen = ev->message.len;

	for (uint32_t i = 0; i < d->npre; i++)
		if (mlen < d->pre[i].len ||
		    lw_memfind(msg, mlen, d->pre[i].s, d->pre[i].len) == NULL)
			return 0;
	for (uint32_t pi = d->first_pat; pi < d->first_pat + d->npat; pi++) {
		const struct dec_pattern *p = &set->pats[pi];
		int rc;

		/* The first byte rules out most patterns of a program without
		 * a call (perf: memcmp was 1.5% of the daemon here). */
		if (p->prefix_len > 0 &&
		    (mlen < p->prefix_len || msg[0] != p->prefix[0] ||
		     !lw_memeq(msg, p->prefix, p->prefix_len)))
			continue;
		rc = lw_regex_match(s->re[pi], msg, mlen);
		if (rc == LW_EFULL) {
			s->limit_hits++;
			s->hits[pi]++;
			continue;
		}
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		out->decoder = di;
		out->nfields = 0;
		for (uint32_t g = 0; g < p->ngroups; g++) {
			const struct dec_group *gr = &p->groups[g];
			struct lw_field *f;
			size_t st, len;

			if (lw_regex_group(s->re[pi], gr->group, &st, &len) != LW_OK ||
			    len == 0)
				continue;
			f = &out->fields[out->nfields++];
			f->value = (struct lw_str){msg + st, (uint32_t)len};
			if (gr->alt_key != NULL && !is_ip(msg + st, len))
				f->key = (struct lw_str){gr->alt_key, gr->alt_keylen};
			else
				f->key = (struct lw_str){gr->key, gr->keylen};
		}
		for (uint32_t c = 0; c < d->nconsts; c++)
			out->fields[out->nfields++] = d->consts[c];
		return 1;
	}
	return 0;
}

int lw_decoder_apply(const struct lw_decoder_set *set,
		     struct lw_decoder_scratch *s, const struct lw_event *ev,
		     struct lw_decoder_out *out)
{
	const uint32_t *idx;
	uint32_t n;
	int rc;

	out->nfields = 0;
	if (ev->message.len == 0)
		return 0;
	idx = lw_progmap_find(&set->map, ev->app.ptr, ev->app.len, &n);
	for (uint32_t i = 0; i < n; i++) {
		rc = try_decoder(set, s, idx[i], ev, out);
		if (rc != 0)
			return rc;
	}
	for (uint32_t i = 0; i < set->nany; i++) {
		rc = try_decoder(set, s, set->any[i], ev, out);
		if (rc != 0)
			return rc;
	}
	return 0;
}
