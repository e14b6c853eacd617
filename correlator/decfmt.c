/* lw_decfmt: a decoder's format, map and where (correlator/decfmt.h). */
#include "correlator/decfmt.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/memfind.h"
#include "core/sd.h"
#include "correlator/fmt_cef.h"
#include "correlator/fmt_csv.h"
#include "correlator/fmt_json.h"
#include "correlator/fmt_kv.h"
#include "correlator/fmt_leef.h"
#include "correlator/fmt_winevt.h"

enum fmt_type { FMT_KV, FMT_CEF, FMT_LEEF, FMT_CSV, FMT_JSON, FMT_WINEVT, FMT_SD };

static const char *const type_names[] = {"kv", "cef", "leef", "csv", "json",
					 "winevt", "sd", NULL};

enum mod { MOD_NONE, MOD_LOWER, MOD_PROTOCOL, MOD_NODOMAIN, MOD_DOMAIN,
	   MOD_HOST, MOD_PORT, MOD_UPTO, MOD_IP };

static const char *const mod_names[] = {"", "lower", "protocol", "nodomain",
					"domain", "host", "port", "upto", "ip", NULL};

/* One way of parsing: bindings with equal options share one (and the
 * parse of an event). */
struct spec {
	enum fmt_type type;
	struct lw_fmt_kv_opts kv;
	char delim;                 /* csv; leef 1.0 (0: tab) */
	char *input;                /* pattern group to parse, or NULL */
	char *start;                /* parse after this literal, or NULL */
	uint32_t start_len;
	struct lw_str *columns;     /* csv; strings owned */
	uint32_t ncolumns;
	struct lw_fmt_winevt_entry *tmpl; /* winevt: the binding's map, in order */
	uint32_t ntmpl;
	/* Every key a binding of this spec maps or tests, hashed. */
	char **keys;
	uint32_t *keylens;
	uint32_t nkeys, keycap;
	uint32_t *table;            /* slot + 1, 0 empty; mask + 1 entries */
	uint32_t mask;
};

struct target {
	char *field;
	uint32_t len;
	char *alt;                  /* "<prefix>.address" for ".ip" fields */
	uint32_t altlen;
	uint8_t mod;
	char arg;                   /* upto's byte */
};

struct mapent {
	char *key;
	uint32_t keylen;
	uint32_t slot;
	uint32_t first, n;          /* targets */
};

struct whereent {
	char *key;
	uint32_t keylen;
	uint32_t slot;
	uint8_t member;             /* an event member (log.syslog.msgid ...), or 0 */
	char **vals;                /* lowered; "*" = present */
	uint32_t *vlens;
	uint32_t nvals;
};

struct binding {
	uint32_t spec;
	struct mapent *map;
	uint32_t nmap;
	struct target *targets;
	uint32_t ntargets;
	struct whereent *where;
	uint32_t nwhere;
};

struct lw_decfmt_set {
	struct spec *specs;
	uint32_t nspecs, speccap;
	struct binding *binds;
	uint32_t nbinds, bindcap;
	uint32_t maxkeys;
};

struct lw_decfmt_scratch {
	char *buf;                  /* parsers' values and keys */
	size_t cap;
	char *xbuf;                 /* modifiers' output */
	size_t xcap, xused;
	struct lw_str *vals;        /* per key slot of the cached spec */
	uint32_t nvals;
	/* The cached parse: spec, input bytes, event. */
	uint32_t spec;
	const char *in_ptr;
	uint32_t in_len;
	uint64_t gen;
	int parsed;                 /* pairs found (> 0 to match) */
	const struct spec *cur;
};

/* ---- the set ---- */

struct lw_decfmt_set *lw_decfmt_set_new(void)
{
	return calloc(1, sizeof(struct lw_decfmt_set));
}

static void spec_release(struct spec *sp)
{
	free(sp->input);
	free(sp->start);
	for (uint32_t i = 0; i < sp->ncolumns; i++)
		free((char *)sp->columns[i].ptr);
	free(sp->columns);
	free(sp->tmpl); /* its strings belong to the binding's map */
	for (uint32_t i = 0; i < sp->nkeys; i++)
		free(sp->keys[i]);
	free(sp->keys);
	free(sp->keylens);
	free(sp->table);
	memset(sp, 0, sizeof(*sp));
}

static void binding_release(struct binding *b)
{
	for (uint32_t i = 0; i < b->nmap; i++)
		free(b->map[i].key);
	free(b->map);
	for (uint32_t i = 0; i < b->ntargets; i++) {
		free(b->targets[i].field);
		free(b->targets[i].alt);
	}
	free(b->targets);
	for (uint32_t i = 0; i < b->nwhere; i++) {
		free(b->where[i].key);
		for (uint32_t k = 0; k < b->where[i].nvals; k++)
			free(b->where[i].vals[k]);
		free(b->where[i].vals);
		free(b->where[i].vlens);
	}
	free(b->where);
	memset(b, 0, sizeof(*b));
}

void lw_decfmt_set_free(struct lw_decfmt_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->nbinds; i++)
		binding_release(&set->binds[i]);
	for (uint32_t i = 0; i < set->nspecs; i++)
		spec_release(&set->specs[i]);
	free(set->binds);
	free(set->specs);
	free(set);
}

static int grow(void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
	void *p;
	uint32_t ncap;

	if (n < *cap)
		return LW_OK;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, (size_t)ncap * elem);
	if (p == NULL)
		return LW_ENOMEM;
	*arr = p;
	*cap = ncap;
	return LW_OK;
}

/* ---- addresses ---- */

static int is_ipv4(const char *p, size_t len)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, n = 0;

		if (part > 0 && (i >= len || p[i++] != '.'))
			return 0;
		while (i < len && p[i] >= '0' && p[i] <= '9' && n < 4) {
			v = v * 10 + (unsigned)(p[i] - '0');
			i++;
			n++;
		}
		if (n == 0 || n > 3 || v > 255 || (n > 1 && p[i - n] == '0'))
			return 0;
	}
	return i == len;
}

int lw_decfmt_is_ip(const char *p, size_t len)
{
	char tmp[64];
	unsigned char buf[16];

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	if (memchr(p, ':', len) == NULL)
		return is_ipv4(p, len);
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, buf) == 1;
}

/* ---- loading ---- */

static const char *str_of(yaml_node_t *n, size_t *len)
{
	if (n == NULL || !lw_ryaml_is_scalar(n) || lw_ryaml_is_null(n))
		return NULL;
	return lw_ryaml_str(n, len);
}

static int name_index(const char *const *names, const char *s, size_t len)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return i;
	return -1;
}

/* A one-byte option: "x", or "\t" spelled as a YAML escape. */
static int byte_opt(struct lw_ryaml *y, yaml_node_t *n, const char *what, char *out)
{
	size_t len;
	const char *s = str_of(n, &len);

	if (s == NULL || len != 1)
		return lw_ryaml_error(y, n, LW_EPARSE, "format: %s must be one character", what);
	*out = s[0];
	return LW_OK;
}

static int load_columns(struct lw_ryaml *y, yaml_node_t *n, struct spec *sp)
{
	uint32_t total;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "format: columns must be a list of names");
	total = (uint32_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	sp->columns = calloc(total, sizeof(*sp->columns));
	if (sp->columns == NULL)
		return LW_ENOMEM;
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *c = lw_ryaml_node(y, *it);
		size_t len = 0;
		const char *s = str_of(c, &len);
		struct lw_str *col = &sp->columns[sp->ncolumns++];

		if (s == NULL)
			s = "", len = 0; /* null: a column not reported */
		col->ptr = lw_memdup_z(s, len);
		col->len = (uint32_t)len;
		if (col->ptr == NULL)
			return LW_ENOMEM;
	}
	return LW_OK;
}

static const char *const format_keys[] = {
	"type", "input", "start", "assign", "quote", "separators", "delimiter",
	"columns", "blanks_inside", "value_after_blank", NULL};

static int load_spec(struct lw_ryaml *y, yaml_node_t *n, struct spec *sp)
{
	yaml_node_t *v, *t = n;
	const char *s;
	size_t len;
	int type, rc;

	lw_fmt_kv_defaults(&sp->kv);
	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = lw_ryaml_node(y, p->key);
			const char *ks = lw_ryaml_str(k, &len);

			if (ks == NULL || name_index(format_keys, ks, len) < 0)
				return lw_ryaml_error(y, k, LW_EPARSE, "unknown format key '%s'",
						      ks ? ks : "(not a string)");
		}
		t = lw_ryaml_get(y, n, "type", NULL);
	}
	s = str_of(t, &len);
	type = s != NULL ? name_index(type_names, s, len) : -1;
	if (type < 0)
		return lw_ryaml_error(y, t ? t : n, LW_EPARSE, "format: expected one of "
				      "kv, cef, leef, csv, json, winevt, sd");
	sp->type = (enum fmt_type)type;
	if (n->type != YAML_MAPPING_NODE)
		return sp->type == FMT_CSV ? lw_ryaml_error(y, n, LW_EPARSE,
			"format csv needs columns: {type: csv, columns: [...]}") : LW_OK;
	if ((v = lw_ryaml_get(y, n, "input", NULL)) != NULL) {
		if ((s = str_of(v, &len)) == NULL || len == 0)
			return lw_ryaml_error(y, v, LW_EPARSE, "format: input must name a pattern group");
		if ((sp->input = lw_memdup_z(s, len)) == NULL)
			return LW_ENOMEM;
	}
	if ((v = lw_ryaml_get(y, n, "start", NULL)) != NULL) {
		if ((s = str_of(v, &len)) == NULL || len == 0)
			return lw_ryaml_error(y, v, LW_EPARSE, "format: start must be a literal");
		if ((sp->start = lw_memdup_z(s, len)) == NULL)
			return LW_ENOMEM;
		sp->start_len = (uint32_t)len;
	}
	if ((v = lw_ryaml_get(y, n, "assign", NULL)) != NULL &&
	    (rc = byte_opt(y, v, "assign", &sp->kv.assign)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(y, n, "quote", NULL)) != NULL &&
	    (rc = byte_opt(y, v, "quote", &sp->kv.quote)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(y, n, "separators", NULL)) != NULL) {
		if ((s = str_of(v, &len)) == NULL || len == 0 || len >= sizeof(sp->kv.seps))
			return lw_ryaml_error(y, v, LW_EPARSE, "format: separators must be "
					      "1 to %zu characters", sizeof(sp->kv.seps) - 1);
		memcpy(sp->kv.seps, s, len);
	}
	if ((v = lw_ryaml_get(y, n, "blanks_inside", NULL)) != NULL &&
	    !lw_ryaml_bool(v, &sp->kv.blanks_inside))
		return lw_ryaml_error(y, v, LW_EPARSE, "format: blanks_inside must be true or false");
	if ((v = lw_ryaml_get(y, n, "value_after_blank", NULL)) != NULL &&
	    !lw_ryaml_bool(v, &sp->kv.value_after_blank))
		return lw_ryaml_error(y, v, LW_EPARSE, "format: value_after_blank must be true or false");
	if ((v = lw_ryaml_get(y, n, "delimiter", NULL)) != NULL &&
	    (rc = byte_opt(y, v, "delimiter", &sp->delim)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(y, n, "columns", NULL)) != NULL) {
		if (sp->type != FMT_CSV)
			return lw_ryaml_error(y, v, LW_EPARSE, "format: columns are for csv");
		if ((rc = load_columns(y, v, sp)) != LW_OK)
			return rc;
	}
	if (sp->type == FMT_CSV && sp->ncolumns == 0)
		return lw_ryaml_error(y, n, LW_EPARSE, "format csv needs columns");
	if (sp->type == FMT_CSV && sp->delim == 0)
		sp->delim = ',';
	return LW_OK;
}

int lw_decfmt_field_spec(const char *s, size_t len, size_t *flen, uint8_t *mod,
			 char *arg)
{
	const char *bar = memchr(s, '|', len);
	int m = MOD_NONE;

	*flen = bar ? (size_t)(bar - s) : len;
	*arg = 0;
	if (bar != NULL) {
		const char *ms = bar + 1, *colon;
		size_t mlen = len - *flen - 1;

		colon = memchr(ms, ':', mlen);
		m = name_index(mod_names, ms, colon ? (size_t)(colon - ms) : mlen);
		if (m <= 0 || (m == MOD_UPTO) != (colon != NULL) ||
		    (colon != NULL && (size_t)(ms + mlen - colon) != 2))
			return LW_EPARSE;
		if (colon != NULL)
			*arg = colon[1];
	}
	*mod = (uint8_t)m;
	return *flen > 0 && memchr(s, '.', *flen) != NULL ? LW_OK : LW_EINVAL;
}

/* "field|mod" or "field|upto:C" into t. */
static int load_target(struct lw_ryaml *y, yaml_node_t *n, struct target *t)
{
	size_t len, flen;
	const char *s = str_of(n, &len);
	int rc;

	if (s == NULL || len == 0)
		return lw_ryaml_error(y, n, LW_EPARSE, "map: expected a field name");
	rc = lw_decfmt_field_spec(s, len, &flen, &t->mod, &t->arg);
	if (rc == LW_EPARSE)
		return lw_ryaml_error(y, n, LW_EPARSE, "map: unknown modifier in '%s' "
				      "(lower, protocol, nodomain, domain, host, port, "
				      "upto:C, ip)", s);
	if (rc != LW_OK)
		return lw_ryaml_error(y, n, LW_EPARSE, "map: '%.*s' is not a dotted "
				      "field name", (int)flen, s);
	t->field = lw_memdup_z(s, flen);
	t->len = (uint32_t)flen;
	if (t->field == NULL)
		return LW_ENOMEM;
	if (flen > 3 && memcmp(s + flen - 3, ".ip", 3) == 0) {
		t->altlen = (uint32_t)(flen - 3 + sizeof(".address") - 1);
		t->alt = malloc(t->altlen + 1);
		if (t->alt == NULL)
			return LW_ENOMEM;
		memcpy(t->alt, s, flen - 3);
		memcpy(t->alt + flen - 3, ".address", sizeof(".address"));
	}
	return LW_OK;
}

static int add_target(struct lw_ryaml *y, yaml_node_t *n, struct binding *b,
		      uint32_t *cap)
{
	int rc = grow((void **)&b->targets, cap, b->ntargets, sizeof(*b->targets));

	if (rc != LW_OK)
		return rc;
	memset(&b->targets[b->ntargets], 0, sizeof(*b->targets));
	rc = load_target(y, n, &b->targets[b->ntargets]);
	b->ntargets++; /* released with the binding even when it failed */
	return rc;
}

static int load_map_pairs(struct lw_ryaml *y, yaml_node_t *m, struct binding *b,
			  uint32_t *mapcap, uint32_t *tcap, int winevt)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(y, p->key), *v = lw_ryaml_node(y, p->value);
		size_t klen;
		const char *ks = str_of(k, &klen);
		struct mapent *e;
		int rc;

		if (ks == NULL || klen == 0)
			return lw_ryaml_error(y, k, LW_EPARSE, "map: keys must be strings");
		if ((rc = grow((void **)&b->map, mapcap, b->nmap, sizeof(*b->map))) != LW_OK)
			return rc;
		e = &b->map[b->nmap++];
		memset(e, 0, sizeof(*e));
		e->key = lw_memdup_z(ks, klen);
		e->keylen = (uint32_t)klen;
		e->first = b->ntargets;
		if (e->key == NULL)
			return LW_ENOMEM;
		if (lw_ryaml_is_null(v)) {
			if (!winevt)
				return lw_ryaml_error(y, v, LW_EPARSE, "map: '%s' has no field "
						      "(null is for winevt labels that only "
						      "end the value before them)", e->key);
		} else if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++)
				if ((rc = add_target(y, lw_ryaml_node(y, *it), b, tcap)) != LW_OK)
					return rc;
		} else if ((rc = add_target(y, v, b, tcap)) != LW_OK) {
			return rc;
		}
		e->n = b->ntargets - e->first;
	}
	return LW_OK;
}

static int load_map(struct lw_ryaml *y, yaml_node_t *n, struct binding *b, int winevt)
{
	uint32_t mapcap = 0, tcap = 0;
	int rc;

	if (n->type == YAML_MAPPING_NODE)
		return load_map_pairs(y, n, b, &mapcap, &tcap, winevt);
	if (n->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE, "map: expected a mapping of key: "
				      "field, or a list of such mappings");
	/* A list of mappings, in order: shared parts can be YAML aliases. */
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *m = lw_ryaml_node(y, *it);

		if (m->type != YAML_MAPPING_NODE)
			return lw_ryaml_error(y, m, LW_EPARSE, "map: list items must be mappings");
		if ((rc = load_map_pairs(y, m, b, &mapcap, &tcap, winevt)) != LW_OK)
			return rc;
	}
	return LW_OK;
}

static int load_where(struct lw_ryaml *y, yaml_node_t *n, struct binding *b)
{
	uint32_t total;

	if (n->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE, "where: expected a mapping of key: value(s)");
	total = (uint32_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	b->where = calloc(total ? total : 1, sizeof(*b->where));
	if (b->where == NULL)
		return LW_ENOMEM;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(y, p->key), *v = lw_ryaml_node(y, p->value);
		struct whereent *w = &b->where[b->nwhere++];
		size_t klen;
		const char *ks = str_of(k, &klen);
		uint32_t nv = v->type == YAML_SEQUENCE_NODE ?
			(uint32_t)(v->data.sequence.items.top - v->data.sequence.items.start) : 1;

		if (ks == NULL || klen == 0)
			return lw_ryaml_error(y, k, LW_EPARSE, "where: keys must be strings");
		w->key = lw_memdup_z(ks, klen);
		w->keylen = (uint32_t)klen;
		w->member = (uint8_t)lw_event_member_lookup(ks, klen);
		w->vals = calloc(nv, sizeof(*w->vals));
		w->vlens = calloc(nv, sizeof(*w->vlens));
		if (w->key == NULL || w->vals == NULL || w->vlens == NULL)
			return LW_ENOMEM;
		for (uint32_t i = 0; i < nv; i++) {
			yaml_node_t *e = v->type == YAML_SEQUENCE_NODE ?
				lw_ryaml_node(y, v->data.sequence.items.start[i]) : v;
			size_t len;
			const char *s = str_of(e, &len);

			if (s == NULL || len == 0)
				return lw_ryaml_error(y, e, LW_EPARSE, "where: values must be "
						      "non-empty strings");
			w->vals[i] = lw_memdup_z(s, len);
			if (w->vals[i] == NULL)
				return LW_ENOMEM;
			for (size_t c = 0; c < len; c++)
				if (w->vals[i][c] >= 'A' && w->vals[i][c] <= 'Z')
					w->vals[i][c] = (char)(w->vals[i][c] + 32);
			w->vlens[i] = (uint32_t)len;
			w->nvals++;
		}
	}
	return LW_OK;
}

static int str_eq(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static int spec_equal(const struct spec *a, const struct spec *b)
{
	if (a->type != b->type || a->type == FMT_WINEVT || a->delim != b->delim ||
	    memcmp(&a->kv, &b->kv, sizeof(a->kv)) != 0 || !str_eq(a->input, b->input) ||
	    !str_eq(a->start, b->start) || a->ncolumns != b->ncolumns)
		return 0;
	for (uint32_t i = 0; i < a->ncolumns; i++)
		if (a->columns[i].len != b->columns[i].len ||
		    memcmp(a->columns[i].ptr, b->columns[i].ptr, a->columns[i].len) != 0)
			return 0;
	return 1;
}

/* A winevt template from the binding's map keys ("Section.Label" or
 * "Label"), in order. */
static int build_template(struct lw_ryaml *y, yaml_node_t *n, struct spec *sp,
			  const struct binding *b)
{
	if (b->nmap > LW_FMT_WINEVT_MAX)
		return lw_ryaml_error(y, n, LW_EPARSE, "map: winevt takes at most %d labels",
				      LW_FMT_WINEVT_MAX);
	sp->tmpl = calloc(b->nmap ? b->nmap : 1, sizeof(*sp->tmpl));
	if (sp->tmpl == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < b->nmap; i++) {
		const char *k = b->map[i].key, *dot = strchr(k, '.');
		struct lw_fmt_winevt_entry *e = &sp->tmpl[sp->ntmpl++];

		e->key = (struct lw_str){k, b->map[i].keylen};
		if (dot != NULL) {
			e->section = (struct lw_str){k, (uint32_t)(dot - k)};
			e->label = (struct lw_str){dot + 1, (uint32_t)strlen(dot + 1)};
		} else {
			e->label = e->key;
		}
		if (e->label.len == 0 || (dot != NULL && e->section.len == 0))
			return lw_ryaml_error(y, n, LW_EPARSE, "map: '%s' is not "
					      "\"Section.Label\" or \"Label\"", k);
	}
	return LW_OK;
}

int lw_decfmt_load(struct lw_decfmt_set *set, struct lw_ryaml *y,
		   yaml_node_t *dec, uint32_t *idx)
{
	yaml_node_t *fn = lw_ryaml_get(y, dec, "format", NULL);
	yaml_node_t *mn = lw_ryaml_get(y, dec, "map", NULL);
	yaml_node_t *wn = lw_ryaml_get(y, dec, "where", NULL);
	struct spec sp;
	struct binding b;
	uint32_t si;
	int rc;

	memset(&sp, 0, sizeof(sp));
	memset(&b, 0, sizeof(b));
	rc = load_spec(y, fn, &sp);
	if (rc == LW_OK && mn == NULL)
		rc = lw_ryaml_error(y, dec, LW_EPARSE, "a decoder with a format needs a map");
	if (rc == LW_OK)
		rc = load_map(y, mn, &b, sp.type == FMT_WINEVT);
	if (rc == LW_OK && wn != NULL)
		rc = load_where(y, wn, &b);
	if (rc == LW_OK && sp.type == FMT_WINEVT)
		rc = build_template(y, mn, &sp, &b);
	if (rc == LW_OK)
		rc = grow((void **)&set->binds, &set->bindcap, set->nbinds, sizeof(b));
	if (rc != LW_OK)
		goto fail;
	for (si = 0; si < set->nspecs; si++)
		if (spec_equal(&set->specs[si], &sp))
			break;
	if (si == set->nspecs) {
		rc = grow((void **)&set->specs, &set->speccap, set->nspecs, sizeof(sp));
		if (rc != LW_OK)
			goto fail;
		set->specs[set->nspecs++] = sp;
	} else {
		spec_release(&sp);
	}
	b.spec = si;
	set->binds[set->nbinds] = b;
	*idx = set->nbinds++;
	return LW_OK;

fail:
	spec_release(&sp);
	binding_release(&b);
	return rc;
}

void lw_decfmt_unload_last(struct lw_decfmt_set *set)
{
	struct binding *b;

	if (set->nbinds == 0)
		return;
	b = &set->binds[--set->nbinds];
	/* A spec only this binding used was added last: drop it too. */
	if (b->spec == set->nspecs - 1) {
		uint32_t users = 0;

		for (uint32_t i = 0; i < set->nbinds; i++)
			users += set->binds[i].spec == b->spec;
		if (users == 0)
			spec_release(&set->specs[--set->nspecs]);
	}
	binding_release(b);
}

/* ---- build: key tables ---- */

static uint32_t hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int64_t find_key(const struct spec *sp, const char *k, size_t n)
{
	uint32_t h;

	if (sp->table == NULL)
		return -1;
	for (h = hash(k, n) & sp->mask;; h = (h + 1) & sp->mask) {
		uint32_t e = sp->table[h];

		if (e == 0)
			return -1;
		if (sp->keylens[e - 1] == n && lw_memeq(sp->keys[e - 1], k, n))
			return e - 1;
	}
}

static int spec_key(struct spec *sp, const char *k, uint32_t n, uint32_t *slot)
{
	int rc;

	for (uint32_t i = 0; i < sp->nkeys; i++)
		if (sp->keylens[i] == n && memcmp(sp->keys[i], k, n) == 0) {
			*slot = i;
			return LW_OK;
		}
	rc = grow((void **)&sp->keys, &sp->keycap, sp->nkeys, sizeof(*sp->keys));
	if (rc != LW_OK)
		return rc;
	/* keylens grows with keys: keycap changed only above. */
	{
		uint32_t *nl = realloc(sp->keylens, sp->keycap * sizeof(*nl));
		if (nl == NULL)
			return LW_ENOMEM;
		sp->keylens = nl;
	}
	sp->keys[sp->nkeys] = lw_memdup_z(k, n);
	if (sp->keys[sp->nkeys] == NULL)
		return LW_ENOMEM;
	sp->keylens[sp->nkeys] = n;
	*slot = sp->nkeys++;
	return LW_OK;
}

int lw_decfmt_build(struct lw_decfmt_set *set)
{
	int rc;

	for (uint32_t i = 0; i < set->nbinds; i++) {
		struct binding *b = &set->binds[i];
		struct spec *sp = &set->specs[b->spec];

		for (uint32_t k = 0; k < b->nmap; k++) {
			if (sp->type == FMT_WINEVT) {
				b->map[k].slot = k; /* the template's order */
				continue;
			}
			rc = spec_key(sp, b->map[k].key, b->map[k].keylen, &b->map[k].slot);
			if (rc != LW_OK)
				return rc;
		}
		for (uint32_t k = 0; k < b->nwhere; k++) {
			if (b->where[k].member != LW_EVENT_MEMBER_NONE)
				continue;
			rc = spec_key(sp, b->where[k].key, b->where[k].keylen, &b->where[k].slot);
			if (rc != LW_OK)
				return rc;
		}
	}
	for (uint32_t i = 0; i < set->nspecs; i++) {
		struct spec *sp = &set->specs[i];
		uint32_t size = 16, n = sp->type == FMT_WINEVT ? sp->ntmpl : sp->nkeys;

		if (n > set->maxkeys)
			set->maxkeys = n;
		if (sp->type == FMT_WINEVT)
			continue;
		while (size < sp->nkeys * 2)
			size *= 2;
		sp->table = calloc(size, sizeof(*sp->table));
		if (sp->table == NULL)
			return LW_ENOMEM;
		sp->mask = size - 1;
		for (uint32_t k = 0; k < sp->nkeys; k++) {
			uint32_t h = hash(sp->keys[k], sp->keylens[k]) & sp->mask;

			while (sp->table[h] != 0)
				h = (h + 1) & sp->mask;
			sp->table[h] = k + 1;
		}
	}
	return LW_OK;
}

uint32_t lw_decfmt_max_fields(const struct lw_decfmt_set *set, uint32_t idx)
{
	return set->binds[idx].ntargets;
}

const char *lw_decfmt_input_group(const struct lw_decfmt_set *set, uint32_t idx)
{
	return set->specs[set->binds[idx].spec].input;
}

int lw_decfmt_reads_sd(const struct lw_decfmt_set *set, uint32_t idx)
{
	return set->specs[set->binds[idx].spec].type == FMT_SD;
}

void lw_decfmt_keys(const struct lw_decfmt_set *set, uint32_t idx,
		    void (*fn)(const char *key, size_t len, void *arg), void *arg)
{
	const struct binding *b = &set->binds[idx];

	for (uint32_t i = 0; i < b->ntargets; i++) {
		fn(b->targets[i].field, b->targets[i].len, arg);
		if (b->targets[i].alt != NULL)
			fn(b->targets[i].alt, b->targets[i].altlen, arg);
	}
}

/* ---- per thread ---- */

struct lw_decfmt_scratch *lw_decfmt_scratch_new(const struct lw_decfmt_set *set)
{
	struct lw_decfmt_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->nvals = set->maxkeys;
	s->vals = calloc(s->nvals ? s->nvals : 1, sizeof(*s->vals));
	s->spec = UINT32_MAX;
	if (s->vals == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void lw_decfmt_scratch_free(struct lw_decfmt_scratch *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	free(s->xbuf);
	free(s->vals);
	free(s);
}

int lw_decfmt_prepare(struct lw_decfmt_scratch *s, size_t n)
{
	size_t need = n + LW_FMT_KEY_MAX;

	s->xused = 0;
	s->spec = UINT32_MAX; /* a new event: the cached parse is stale */
	if (need > s->cap || 2 * need > s->xcap) {
		size_t cap = need < 4096 ? 4096 : need + need / 2;
		char *b = realloc(s->buf, cap), *x;

		if (b == NULL)
			return LW_ENOMEM;
		s->buf = b;
		s->cap = cap;
		x = realloc(s->xbuf, 2 * cap);
		if (x == NULL)
			return LW_ENOMEM;
		s->xbuf = x;
		s->xcap = 2 * cap;
	}
	return LW_OK;
}

static int sink(struct lw_str key, struct lw_str value, void *arg)
{
	struct lw_decfmt_scratch *s = arg;
	int64_t slot = find_key(s->cur, key.ptr, key.len);

	if (slot >= 0 && s->vals[slot].ptr == NULL)
		s->vals[slot] = value.ptr != NULL ? value : (struct lw_str){"", 0};
	return 0;
}

static int winevt_sink(struct lw_str key, struct lw_str value, void *arg)
{
	struct lw_decfmt_scratch *s = arg;

	/* Template entries report their own key: its index is the slot. */
	for (uint32_t i = 0; i < s->cur->ntmpl; i++)
		if (s->cur->tmpl[i].key.ptr == key.ptr) {
			s->vals[i] = value.ptr != NULL ? value : (struct lw_str){"", 0};
			break;
		}
	return 0;
}

static int sd_sink(struct lw_str sd_id, struct lw_str name, struct lw_str value,
		   void *arg)
{
	(void)sd_id;
	return name.len == 0 ? LW_OK : sink(name, value, arg);
}

/* Where a CEF/LEEF header starts: at the input's start or after a blank. */
static struct lw_str from_magic(struct lw_str in, const char *magic, size_t mlen)
{
	size_t off = 0;

	while (off < in.len) {
		const char *p = lw_memfind(in.ptr + off, in.len - off, magic, mlen);
		size_t at;

		if (p == NULL)
			return LW_STR_NULL;
		at = (size_t)(p - in.ptr);
		if (at == 0 || lw_fmt_blank((unsigned char)in.ptr[at - 1]))
			return (struct lw_str){p, (uint32_t)(in.len - at)};
		off = at + 1;
	}
	return LW_STR_NULL;
}

static int parse(struct lw_decfmt_scratch *s, const struct spec *sp, struct lw_str in)
{
	struct lw_fmt_buf fb;
	uint32_t nslots = sp->type == FMT_WINEVT ? sp->ntmpl : sp->nkeys;
	int rc;

	if (sp->start != NULL) {
		const char *p = lw_memfind(in.ptr, in.len, sp->start, sp->start_len);

		if (p == NULL)
			return 0;
		in.len -= (uint32_t)(p + sp->start_len - in.ptr);
		in.ptr = p + sp->start_len;
	}
	if (sp->type == FMT_CEF)
		in = from_magic(in, "CEF:", 4);
	else if (sp->type == FMT_LEEF)
		in = from_magic(in, "LEEF:", 5);
	if (in.len == 0 || in.len + LW_FMT_KEY_MAX > s->cap)
		return 0;
	memset(s->vals, 0, nslots * sizeof(*s->vals));
	s->cur = sp;
	fb = (struct lw_fmt_buf){s->buf, s->cap};
	switch (sp->type) {
	case FMT_KV: rc = lw_fmt_kv_parse(&sp->kv, in.ptr, in.len, &fb, sink, s); break;
	case FMT_CEF: rc = lw_fmt_cef_parse(in.ptr, in.len, &fb, sink, s); break;
	case FMT_LEEF: rc = lw_fmt_leef_parse(in.ptr, in.len, sp->delim, &fb, sink, s); break;
	case FMT_CSV:
		rc = lw_fmt_csv_parse(sp->delim, sp->columns, sp->ncolumns, in.ptr, in.len,
				      &fb, sink, s);
		break;
	case FMT_JSON: rc = lw_fmt_json_parse(in.ptr, in.len, &fb, sink, s); break;
	case FMT_WINEVT:
		rc = lw_fmt_winevt_parse(sp->tmpl, sp->ntmpl, in.ptr, in.len, winevt_sink, s);
		break;
	default:
		rc = lw_sd_each(in, s->buf, s->cap, sd_sink, s) == LW_OK ? 1 : 0;
		break;
	}
	/* A syntax error after some pairs (a cut JSON line) keeps them. */
	if (rc < 0) {
		for (uint32_t i = 0; i < nslots; i++)
			if (s->vals[i].ptr != NULL)
				return 1;
		return 0;
	}
	return rc > 0;
}

static int where_ok(const struct lw_decfmt_scratch *s, const struct binding *b,
		    const struct lw_event *ev)
{
	for (uint32_t i = 0; i < b->nwhere; i++) {
		const struct whereent *w = &b->where[i];
		char text[LW_EVENT_MEMBER_TEXT_MAX];
		struct lw_str v = w->member != LW_EVENT_MEMBER_NONE ?
			lw_event_member_value(ev, (enum lw_event_member)w->member, text) :
			s->vals[w->slot];
		uint32_t k;

		if (v.ptr == NULL)
			return 0;
		for (k = 0; k < w->nvals; k++) {
			uint32_t c;

			if (w->vlens[k] == 1 && w->vals[k][0] == '*') {
				if (v.len > 0)
					break;
				continue;
			}
			if (w->vlens[k] != v.len)
				continue;
			for (c = 0; c < v.len; c++) {
				char ch = v.ptr[c];
				if (ch >= 'A' && ch <= 'Z')
					ch = (char)(ch + 32);
				if (ch != w->vals[k][c])
					break;
			}
			if (c == v.len)
				break;
		}
		if (k == w->nvals)
			return 0;
	}
	return 1;
}

static const char *protocol_name(unsigned n)
{
	switch (n) {
	case 0: return "hopopt";
	case 1: return "icmp";
	case 2: return "igmp";
	case 4: return "ipv4";
	case 6: return "tcp";
	case 17: return "udp";
	case 41: return "ipv6";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "ipv6-icmp";
	case 88: return "eigrp";
	case 89: return "ospf";
	case 103: return "pim";
	case 112: return "vrrp";
	case 132: return "sctp";
	default: return NULL;
	}
}

static int icase_eq6(const char *p, const char *low)
{
	for (int i = 0; i < 6; i++)
		if ((p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]) != low[i])
			return 0;
	return 1;
}

static struct lw_str lowered(struct lw_decfmt_scratch *s, struct lw_str v)
{
	char *o;

	if (s->xused + v.len > s->xcap)
		return LW_STR_NULL;
	o = s->xbuf + s->xused;
	for (uint32_t i = 0; i < v.len; i++)
		o[i] = (char)(v.ptr[i] >= 'A' && v.ptr[i] <= 'Z' ? v.ptr[i] + 32 : v.ptr[i]);
	s->xused += v.len;
	return (struct lw_str){o, v.len};
}

/* "host:port[:iface]", "[v6]:port", or a bare address: which part. */
static struct lw_str hostport(struct lw_str v, int want_port)
{
	const char *c, *end = v.ptr + v.len;

	if (v.len > 0 && v.ptr[0] == '[') {
		const char *rb = memchr(v.ptr, ']', v.len);

		if (rb == NULL)
			return LW_STR_NULL;
		if (!want_port)
			return (struct lw_str){v.ptr + 1, (uint32_t)(rb - v.ptr - 1)};
		if (rb + 1 >= end || rb[1] != ':')
			return LW_STR_NULL;
		c = rb + 1;
	} else {
		if (lw_decfmt_is_ip(v.ptr, v.len))
			return want_port ? LW_STR_NULL : v;
		c = memchr(v.ptr, ':', v.len);
		if (c == NULL)
			return want_port ? LW_STR_NULL : v;
		if (!want_port)
			return (struct lw_str){v.ptr, (uint32_t)(c - v.ptr)};
	}
	{
		const char *p = c + 1, *e = memchr(p, ':', (size_t)(end - p));

		return (struct lw_str){p, (uint32_t)((e ? e : end) - p)};
	}
}

struct lw_str lw_decfmt_modify(struct lw_decfmt_scratch *s, uint8_t mod, char arg,
			       struct lw_str v)
{
	const char *p;

	switch (mod) {
	case MOD_LOWER:
		return lowered(s, v);
	case MOD_PROTOCOL: {
		unsigned n = 0;
		uint32_t i;
		const char *name;

		for (i = 0; i < v.len && i < 4 && v.ptr[i] >= '0' && v.ptr[i] <= '9'; i++)
			n = n * 10 + (unsigned)(v.ptr[i] - '0');
		if (i > 0 && i == v.len) {
			/* A number IANA names no keyword for stays out of
			 * network.transport (network.iana_number has it). */
			name = n == 0 ? NULL : protocol_name(n);
			return name ? (struct lw_str){name, (uint32_t)strlen(name)} : LW_STR_NULL;
		}
		/* Linux and Cisco write ICMPv6; IANA's keyword is ipv6-icmp. */
		if (v.len == 6 && icase_eq6(v.ptr, "icmpv6"))
			return (struct lw_str){"ipv6-icmp", 9};
		return lowered(s, v);
	}
	case MOD_NODOMAIN:
		for (p = v.ptr + v.len; p > v.ptr && p[-1] != '\\'; p--)
			;
		v = (struct lw_str){p, (uint32_t)(v.ptr + v.len - p)};
		p = memchr(v.ptr, '@', v.len);
		return p ? (struct lw_str){v.ptr, (uint32_t)(p - v.ptr)} : v;
	case MOD_DOMAIN:
		p = memchr(v.ptr, '\\', v.len);
		if (p != NULL)
			return (struct lw_str){v.ptr, (uint32_t)(p - v.ptr)};
		p = memchr(v.ptr, '@', v.len);
		return p ? (struct lw_str){p + 1, (uint32_t)(v.ptr + v.len - p - 1)} : LW_STR_NULL;
	case MOD_HOST:
		return hostport(v, 0);
	case MOD_PORT:
		return hostport(v, 1);
	case MOD_UPTO:
		p = memchr(v.ptr, arg, v.len);
		return p ? (struct lw_str){v.ptr, (uint32_t)(p - v.ptr)} : v;
	case MOD_IP:
		if (v.len > 7 && (memcmp(v.ptr, "::ffff:", 7) == 0 ||
				  memcmp(v.ptr, "::FFFF:", 7) == 0) &&
		    is_ipv4(v.ptr + 7, v.len - 7))
			return (struct lw_str){v.ptr + 7, v.len - 7};
		return lw_decfmt_is_ip(v.ptr, v.len) ? v : LW_STR_NULL;
	default:
		return v;
	}
}

/* 1 when the binding already emitted t's field (or its .address twin):
 * the first key in map order with a value gives a field. */
static int emitted(const struct lw_field *out, uint32_t from, uint32_t n,
		   const struct target *t)
{
	for (uint32_t i = from; i < n; i++)
		if (out[i].key.ptr == t->field || out[i].key.ptr == t->alt ||
		    (out[i].key.len == t->len && memcmp(out[i].key.ptr, t->field, t->len) == 0))
			return 1;
	return 0;
}

int lw_decfmt_apply(const struct lw_decfmt_set *set, struct lw_decfmt_scratch *s,
		    uint32_t idx, const struct lw_event *ev, struct lw_str input,
		    uint64_t gen, struct lw_field *out, uint32_t *nout, uint32_t max)
{
	const struct binding *b = &set->binds[idx];
	const struct spec *sp = &set->specs[b->spec];
	uint32_t first = *nout;

	if (s->gen != gen || s->spec != b->spec || s->in_ptr != input.ptr ||
	    s->in_len != input.len) {
		int rc = parse(s, sp, input);

		if (rc < 0) {
			s->spec = UINT32_MAX;
			return rc;
		}
		s->gen = gen;
		s->spec = b->spec;
		s->in_ptr = input.ptr;
		s->in_len = input.len;
		s->parsed = rc;
	}

	if (!s->parsed || !where_ok(s, b, ev))
		return 0;
	for (uint32_t i = 0; i < b->nmap; i++) {
		const struct mapent *e = &b->map[i];
		struct lw_str v = s->vals[e->slot];

		if (v.len == 0 || (v.len == 1 && v.ptr[0] == '-') ||
		    (v.len == 3 && memcmp(v.ptr, "N/A", 3) == 0))
			continue;
		for (uint32_t k = 0; k < e->n && *nout < max; k++) {
			const struct target *t = &b->targets[e->first + k];
			struct lw_str m = lw_decfmt_modify(s, t->mod, t->arg, v);
			struct lw_field *f;

			if (m.len == 0 || (m.len == 1 && m.ptr[0] == '-') ||
			    emitted(out, first, *nout, t))
				continue;
			f = &out[(*nout)++];
			f->value = m;
			if (t->alt != NULL && !lw_decfmt_is_ip(m.ptr, m.len))
				f->key = (struct lw_str){t->alt, t->altlen};
			else
				f->key = (struct lw_str){t->field, t->len};
		}
	}
	return 1;
}
