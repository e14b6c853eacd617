/* lw_decoder: loading decoder YAML and running the patterns that apply to
 * an event's program. */
#include "correlator/decoder.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/memfind.h"
#include "core/regex.h"
#include "correlator/decfmt.h"
#include "correlator/litscan.h"
#include "correlator/patlit.h"
#include "correlator/progmap.h"
#include "correlator/ryaml.h"

#define JOIN_WAYS 4
#define JOIN_SETS (LW_DECODER_JOIN_ENTRIES / JOIN_WAYS)
#define JOIN_DEFAULT_TTL_NS (600 * 1000000000LL)

struct dec_group {
	uint32_t group;     /* pcre2 group number */
	char *key;          /* ECS name */
	uint32_t keylen;
	char *alt_key;      /* "<prefix>.address" for ".ip" keys, else NULL */
	uint32_t alt_keylen;
	uint8_t mod;        /* a `groups` modifier (correlator/decfmt.h), or 0 */
	char mod_arg;
};

struct dec_pattern {
	char *src;
	size_t len;
	char *prefix;       /* literal the message must start with, or NULL */
	uint32_t prefix_len;
	char *anchor;       /* the longest literal every match contains, or NULL */
	uint32_t anchor_len;
	struct dec_group *groups;
	uint32_t ngroups;
	uint32_t input_group; /* pcre2 group the decoder's format parses, or 0 */
};

struct dec_lit {
	char *s;
	uint32_t len;
};

/* A decoder's `join`: fields are indices into set->join_names. */
struct dec_join {
	char *key;          /* a field the patterns capture; NULL: process.pid */
	uint32_t key_len;
	uint16_t save[LW_DECODER_JOIN_FIELDS], load[LW_DECODER_JOIN_FIELDS];
	uint32_t nsave, nload;
	int forget;
	int64_t ttl_ns;
};

struct decoder {
	char *name;
	char *program;           /* the first of `match: process.name`, or NULL */
	uint32_t first_pat, npat;
	struct dec_lit *pre;
	uint32_t npre;
	struct dec_lit *anch;    /* `anchors`: any of them files it for the scan */
	uint32_t nanch;
	struct lw_field *consts; /* keys and values owned (malloc'd) */
	uint32_t nconsts;
	struct dec_join *join;   /* NULL when the decoder has none */
	int64_t fmt;             /* lw_decfmt binding, or -1 */
	/* When every pattern starts with a literal: the bytes a message can
	 * start with, so most decoders of a program cost one bit test. */
	int first_known;
	uint64_t first[4];
};

struct lw_decoder_set {
	struct decoder *decs;
	uint32_t ndecs, deccap;
	struct dec_pattern *pats;
	uint32_t npats, patcap;
	uint32_t *any;          /* decoders without `match` */
	uint32_t nany, anycap;
	struct lw_progmap map;
	struct lw_litscan *anchors; /* decoder anchors, for unfiled programs */
	/* The first prefilter literal of each decoder without `match` that
	 * has one long enough for the scan: one pass over a message tells
	 * which of them can match (a literal missing rules its decoder out,
	 * exactly as try_decoder's own search would). */
	struct lw_litscan *any_lits;
	/* Candidate sets, nwords bits each (bit d: decoder d): per progmap
	 * slot its decoders, per first byte of a message the decoders that
	 * can match it, and the decoders without `match` that are always
	 * tried (no literal in any_lits; the scan adds the others). Their
	 * AND is the list to try, in load order. */
	uint32_t nwords;
	uint64_t *slot_bits;
	uint64_t *first_bits;
	uint64_t *any_open_bits;
	/* Program names given as "prefix*" (Cisco's "%ASA-6-302013"): each
	 * with the decoders filed under it (nwords bits). */
	struct dec_lit *prefixes;
	uint64_t *prefix_bits;
	uint32_t *prefix_dec;   /* during load: the decoder of each prefix */
	uint32_t nprefixes, prefixcap;
	struct lw_decfmt_set *fmts;
	char **join_names;      /* distinct field names joins save or load */
	uint32_t *join_name_len;
	uint32_t njoin_names;
	int built;
};

/* One session of the join table. */
struct join_entry {
	uint64_t tag;           /* hash of (host, program, key) | 1; 0 = empty */
	int64_t seen_ns;        /* event time of the last save */
	int64_t ttl_ns;
	uint16_t name[LW_DECODER_JOIN_FIELDS]; /* join_names index + 1; 0 = none */
	uint8_t len[LW_DECODER_JOIN_FIELDS];
	char val[LW_DECODER_JOIN_FIELDS][LW_DECODER_JOIN_VALUE_MAX];
};

struct lw_decoder_scratch {
	struct lw_regex **re;   /* one per set->pats entry */
	uint64_t *hits;         /* match-limit hits per pattern, since the last take */
	uint32_t n;
	uint64_t limit_hits;
	uint64_t *cand;         /* candidate decoders of an event */
	struct join_entry *join; /* JOIN_SETS * JOIN_WAYS, allocated at first save */
	struct lw_decoder_join_stats stats;
	char loaded[LW_DECODER_JOIN_FIELDS][LW_DECODER_JOIN_VALUE_MAX];
	int defer_joins;        /* lw_decoder_scratch_defer_joins */
	struct lw_decfmt_scratch *fmt;
	uint64_t gen;           /* events applied: the format parse cache's key */
};

struct lw_decoder_set *lw_decoder_set_new(void)
{
	struct lw_decoder_set *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	lw_progmap_init(&set->map);
	set->anchors = lw_litscan_new();
	set->any_lits = lw_litscan_new();
	set->fmts = lw_decfmt_set_new();
	if (set->anchors == NULL || set->any_lits == NULL || set->fmts == NULL) {
		lw_litscan_free(set->anchors);
		lw_litscan_free(set->any_lits);
		lw_decfmt_set_free(set->fmts);
		free(set);
		return NULL;
	}
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
	free(p->anchor);
	memset(p, 0, sizeof(*p));
}

static void lits_free(struct dec_lit *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i].s);
	free(v);
}

static void decoder_release(struct decoder *d)
{
	for (uint32_t i = 0; i < d->npre; i++)
		free(d->pre[i].s);
	free(d->pre);
	lits_free(d->anch, d->nanch);
	for (uint32_t i = 0; i < d->nconsts; i++) {
		free((char *)d->consts[i].key.ptr);
		free((char *)d->consts[i].value.ptr);
	}
	free(d->consts);
	free(d->name);
	free(d->program);
	if (d->join != NULL)
		free(d->join->key);
	free(d->join);
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
	free(set->slot_bits);
	free(set->first_bits);
	free(set->any_open_bits);
	lw_progmap_release(&set->map);
	lw_litscan_free(set->anchors);
	lw_litscan_free(set->any_lits);
	lw_decfmt_set_free(set->fmts);
	for (uint32_t i = 0; i < set->nprefixes; i++)
		free(set->prefixes[i].s);
	free(set->prefixes);
	free(set->prefix_bits);
	free(set->prefix_dec);
	for (uint32_t i = 0; i < set->njoin_names; i++)
		free(set->join_names[i]);
	free(set->join_names);
	free(set->join_name_len);
	free(set);
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

/* A copy of lit[0..len) in *out (NULL when len is 0). */
static int keep_literal(const char *lit, size_t len, char **out, uint32_t *outlen)
{
	if (len == 0)
		return LW_OK;
	*out = lw_memdup_z(lit, len);
	*outlen = (uint32_t)len;
	return *out == NULL ? LW_ENOMEM : LW_OK;
}

/* Compiles one pattern to check it and to learn its named groups; the
 * compiled code itself is per thread (lw_decoder_scratch_new). */
static int load_pattern(struct lw_decoder_set *set, struct lw_ryaml *y,
			yaml_node_t *n, yaml_node_t *rename,
			const struct decoder *dec)
{
	const char *input = dec->fmt >= 0 ?
		lw_decfmt_input_group(set->fmts, (uint32_t)dec->fmt) : NULL;
	uint32_t nmapped = dec->fmt >= 0 ?
		lw_decfmt_max_fields(set->fmts, (uint32_t)dec->fmt) : 0;
	uint32_t nconsts = dec->nconsts;
	const struct lw_field *consts = dec->consts;
	uint32_t nloaded = dec->join != NULL ? dec->join->nload : 0;
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
	if (nnames + nconsts + nloaded + nmapped > LW_DECODER_MAX_FIELDS) {
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
		struct dec_group *g = &p.groups[p.ngroups];
		const char *name = lw_regex_name(re, i, &g->group);
		const char *alias = lw_ryaml_str(lw_ryaml_get(y, rename, name, NULL),
						 &klen);

		if (input != NULL && strcmp(name, input) == 0) {
			/* What the format parses, not a field. */
			p.input_group = g->group;
			g->group = 0;
			continue;
		}
		if (alias != NULL && klen > 0 && klen < sizeof(key)) {
			/* pcre2 names stop at 32 bytes: long ECS names are
			 * spelled out in the decoder's `groups` map instead,
			 * with a modifier when the text needs one. */
			size_t flen;

			if (lw_decfmt_field_spec(alias, klen, &flen, &g->mod,
						 &g->mod_arg) == LW_EPARSE) {
				rc = lw_ryaml_error(y, n, LW_EPARSE, "groups: unknown "
						    "modifier in '%s'", alias);
				goto fail;
			}
			klen = flen;
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
	if (input != NULL && p.input_group == 0) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "pattern has no group '%s' "
				    "for the format to parse", input);
		goto fail;
	}
	plen = lw_patlit_prefix(src, len < sizeof(pre) ? len : sizeof(pre) - 1, pre);
	rc = keep_literal(pre, plen, &p.prefix, &p.prefix_len);
	if (rc == LW_OK) {
		plen = lw_patlit_required(src, len, pre, sizeof(pre));
		rc = keep_literal(pre, plen, &p.anchor, &p.anchor_len);
	}
	if (rc != LW_OK)
		goto fail;
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
	"groups", "fields", "join", "format", "map", "where", "anchors", NULL};
static const char *const join_keys[] = {
	"key", "save", "load", "forget", "ttl", NULL};

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

/* The index of a join field name, filed once per set. */
static int join_name(struct lw_decoder_set *set, const char *name, size_t len,
		     uint16_t *idx)
{
	char **nv;
	uint32_t *lv;

	for (uint32_t i = 0; i < set->njoin_names; i++)
		if (set->join_name_len[i] == len &&
		    memcmp(set->join_names[i], name, len) == 0) {
			*idx = (uint16_t)i;
			return LW_OK;
		}
	if (set->njoin_names >= UINT16_MAX)
		return LW_ETOOBIG;
	nv = realloc(set->join_names, (set->njoin_names + 1) * sizeof(*nv));
	if (nv == NULL)
		return LW_ENOMEM;
	set->join_names = nv;
	lv = realloc(set->join_name_len, (set->njoin_names + 1) * sizeof(*lv));
	if (lv == NULL)
		return LW_ENOMEM;
	set->join_name_len = lv;
	nv[set->njoin_names] = lw_memdup_z(name, len);
	if (nv[set->njoin_names] == NULL)
		return LW_ENOMEM;
	lv[set->njoin_names] = (uint32_t)len;
	*idx = (uint16_t)set->njoin_names++;
	return LW_OK;
}

/* save: / load: lists of field names. */
static int join_fields(struct lw_decoder_set *set, struct lw_ryaml *y,
		       yaml_node_t *n, const char *what, uint16_t *out,
		       uint32_t *count)
{
	struct dec_lit *names;
	uint32_t nnames;
	int rc;

	rc = scalars(y, n, &names, &nnames, what);
	if (rc != LW_OK)
		return rc;
	if (nnames > LW_DECODER_JOIN_FIELDS)
		rc = lw_ryaml_error(y, n, LW_EPARSE,
				      "%s: at most %d fields", what, LW_DECODER_JOIN_FIELDS);
	for (uint32_t i = 0; rc == LW_OK && i < nnames; i++)
		rc = join_name(set, names[i].s, names[i].len, &out[i]);
	if (rc == LW_OK)
		*count = nnames;
	lits_free(names, nnames);
	return rc;
}

/* A decoder's `join:` mapping. */
static int load_join(struct lw_decoder_set *set, struct lw_ryaml *y,
		     yaml_node_t *n, struct decoder *d)
{
	struct dec_join *j;
	yaml_node_t *v;
	const char *s;
	size_t len;
	int rc;

	if (n->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "join: expected a mapping with key, save, load, forget, ttl");
	rc = check_keys(y, n, join_keys, "join");
	if (rc != LW_OK)
		return rc;
	j = d->join = calloc(1, sizeof(*j));
	if (j == NULL)
		return LW_ENOMEM;
	j->ttl_ns = JOIN_DEFAULT_TTL_NS;
	v = lw_ryaml_get(y, n, "key", NULL);
	s = lw_ryaml_str(v, &len);
	if (s == NULL || len == 0 || lw_ryaml_is_null(v))
		return lw_ryaml_error(y, v ? v : n, LW_EPARSE,
				      "join: key is required (process.pid or a captured field)");
	if (strcmp(s, "process.pid") != 0) {
		j->key = lw_memdup_z(s, len);
		if (j->key == NULL)
			return LW_ENOMEM;
		j->key_len = (uint32_t)len;
	}
	if ((v = lw_ryaml_get(y, n, "save", NULL)) != NULL &&
	    (rc = join_fields(set, y, v, "join: save", j->save, &j->nsave)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(y, n, "load", NULL)) != NULL &&
	    (rc = join_fields(set, y, v, "join: load", j->load, &j->nload)) != LW_OK)
		return rc;
	if ((v = lw_ryaml_get(y, n, "forget", NULL)) != NULL &&
	    !lw_ryaml_bool(v, &j->forget))
		return lw_ryaml_error(y, v, LW_EPARSE,
				      "join: forget must be true or false");
	if ((v = lw_ryaml_get(y, n, "ttl", NULL)) != NULL) {
		uint64_t ms;

		s = lw_ryaml_str(v, NULL);
		if (s == NULL || lw_parse_duration_ms(s, &ms) != LW_OK || ms == 0 ||
		    ms > 7 * 86400000ull)
			return lw_ryaml_error(y, v, LW_EPARSE,
				      "join: ttl must be a duration from 1ms to 7d (e.g. 2m)");
		j->ttl_ns = (int64_t)ms * 1000000;
	}
	if (j->nsave == 0 && j->nload == 0 && !j->forget)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "join: nothing to do (give save, load or forget)");
	return LW_OK;
}

/* A join keyed by a field needs every pattern of the decoder to capture
 * it, or some matches would have no session to join. */
static int check_join_key(const struct lw_decoder_set *set, struct lw_ryaml *y,
			  yaml_node_t *n, const struct decoder *d)
{
	const struct dec_join *j = d->join;

	if (j == NULL || j->key == NULL)
		return LW_OK;
	for (uint32_t pi = d->first_pat; pi < set->npats; pi++) {
		const struct dec_pattern *p = &set->pats[pi];
		uint32_t g;

		for (g = 0; g < p->ngroups; g++)
			if (p->groups[g].keylen == j->key_len &&
			    memcmp(p->groups[g].key, j->key, j->key_len) == 0)
				break;
		if (g == p->ngroups)
			return lw_ryaml_error(y, n, LW_EPARSE,
					      "decoder '%s': join key '%s' is not captured by pattern %u",
					      d->name, j->key, pi - d->first_pat + 1);
	}
	return LW_OK;
}

/* Files decoder idx's anchors: its first prefilter literal (the author
 * lists the rarest first) when it is LW_LITSCAN_MIN bytes or longer, else
 * the longest required literal of each of its patterns (those long
 * enough). */
static int add_anchors(struct lw_decoder_set *set, const struct decoder *d,
		       uint32_t idx)
{
	int rc = LW_OK;

	for (uint32_t i = 0; i < d->nanch; i++) {
		rc = lw_litscan_add(set->anchors, d->anch[i].s, d->anch[i].len, idx);
		if (rc != LW_OK || i + 1 == d->nanch)
			return rc;
	}
	if (d->npre > 0 && d->pre[0].len >= LW_LITSCAN_MIN)
		return lw_litscan_add(set->anchors, d->pre[0].s, d->pre[0].len, idx);
	/* A prefilter too short for the scan: the patterns' literals then. */
	for (uint32_t pi = d->first_pat; rc == LW_OK && pi < d->first_pat + d->npat; pi++)
		if (set->pats[pi].anchor_len >= LW_LITSCAN_MIN)
			rc = lw_litscan_add(set->anchors, set->pats[pi].anchor,
					    set->pats[pi].anchor_len, idx);
	return rc;
}

struct const_clash {
	const struct decoder *d;
	const char *key;    /* the first mapped field that is also a constant */
};

static void find_const_clash(const char *key, size_t len, void *arg)
{
	struct const_clash *cc = arg;

	for (uint32_t c = 0; cc->key == NULL && c < cc->d->nconsts; c++)
		if (cc->d->consts[c].key.len == len &&
		    memcmp(cc->d->consts[c].key.ptr, key, len) == 0)
			cc->key = cc->d->consts[c].key.ptr;
}

/* Files decoder idx under the program prefix p[0..len) ("%ASA-"). */
static int add_prefix(struct lw_decoder_set *set, const char *p, size_t len,
		      uint32_t idx)
{
	if (set->nprefixes == set->prefixcap) {
		uint32_t cap = set->prefixcap ? set->prefixcap * 2 : 8;
		struct dec_lit *np = realloc(set->prefixes, cap * sizeof(*np));
		uint32_t *nd;

		if (np == NULL)
			return LW_ENOMEM;
		set->prefixes = np;
		nd = realloc(set->prefix_dec, cap * sizeof(*nd));
		if (nd == NULL)
			return LW_ENOMEM;
		set->prefix_dec = nd;
		set->prefixcap = cap;
	}
	set->prefixes[set->nprefixes].s = lw_memdup_z(p, len);
	if (set->prefixes[set->nprefixes].s == NULL)
		return LW_ENOMEM;
	set->prefixes[set->nprefixes].len = (uint32_t)len;
	set->prefix_dec[set->nprefixes++] = idx;
	return LW_OK;
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
	d.fmt = -1;
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
	v = lw_ryaml_get(y, n, "anchors", NULL);
	if (v != NULL) {
		rc = scalars(y, v, &d.anch, &d.nanch, "anchors");
		for (uint32_t i = 0; rc == LW_OK && i < d.nanch; i++)
			if (d.anch[i].len < LW_LITSCAN_MIN)
				rc = lw_ryaml_error(y, v, LW_EPARSE, "anchors: '%s' is "
						    "shorter than %d bytes", d.anch[i].s,
						    LW_LITSCAN_MIN);
		if (rc == LW_OK && nprogs == 0)
			rc = lw_ryaml_error(y, v, LW_EPARSE, "anchors are for decoders "
					    "with a match (the others see every event)");
		if (rc != LW_OK)
			goto fail;
	}
	v = lw_ryaml_get(y, n, "fields", NULL);
	if (v != NULL) {
		rc = load_consts(y, v, &d);
		if (rc != LW_OK)
			goto fail;
	}
	v = lw_ryaml_get(y, n, "join", NULL);
	if (v != NULL) {
		rc = load_join(set, y, v, &d);
		if (rc != LW_OK)
			goto fail;
	}
	if (lw_ryaml_get(y, n, "format", NULL) != NULL) {
		struct const_clash cc = {&d, NULL};
		uint32_t fi;

		rc = lw_decfmt_load(set->fmts, y, n, &fi);
		if (rc != LW_OK)
			goto fail;
		d.fmt = fi;
		lw_decfmt_keys(set->fmts, fi, find_const_clash, &cc);
		if (cc.key != NULL) {
			rc = lw_ryaml_error(y, n, LW_EPARSE, "decoder '%s': field '%s' is "
					    "both mapped and a constant", d.name, cc.key);
			goto fail;
		}
	} else if ((v = lw_ryaml_get(y, n, "map", NULL)) != NULL ||
		   (v = lw_ryaml_get(y, n, "where", NULL)) != NULL) {
		rc = lw_ryaml_error(y, v, LW_EPARSE, "map and where need a format");
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
	if (pat != NULL && pats != NULL) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "decoder '%s': give pattern or "
				    "patterns, not both", d.name);
		goto fail;
	}
	if (pat == NULL && pats == NULL && d.fmt < 0) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "decoder '%s': one of pattern, "
				    "patterns or format is required", d.name);
		goto fail;
	}
	if (pat == NULL && pats == NULL &&
	    lw_decfmt_input_group(set->fmts, (uint32_t)d.fmt) != NULL) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "decoder '%s': format input "
				    "names a group, but there is no pattern", d.name);
		goto fail;
	}
	if (pat == NULL && pats == NULL &&
	    d.nconsts + lw_decfmt_max_fields(set->fmts, (uint32_t)d.fmt) +
	    (d.join ? d.join->nload : 0) > LW_DECODER_MAX_FIELDS) {
		rc = lw_ryaml_error(y, n, LW_EPARSE, "more than %d fields",
				    LW_DECODER_MAX_FIELDS);
		goto fail;
	}
	d.first_pat = set->npats;
	if (pat == NULL && pats == NULL) {
		/* A format alone: nothing to load here. */
	} else if (pat != NULL) {
		rc = load_pattern(set, y, pat, rename, &d);
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
					       rename, &d);
			if (prc != LW_OK && rc == LW_OK)
				rc = prc;
		}
		if (rc != LW_OK)
			goto fail;
	}
	d.npat = set->npats - d.first_pat;
	d.first_known = d.npat > 0;
	for (uint32_t pi = d.first_pat; pi < set->npats; pi++) {
		unsigned char c = (unsigned char)(set->pats[pi].prefix_len ?
						  set->pats[pi].prefix[0] : 0);

		if (set->pats[pi].prefix_len == 0)
			d.first_known = 0;
		d.first[c / 64] |= 1ull << (c % 64);
	}
	rc = check_join_key(set, y, n, &d);
	if (rc != LW_OK)
		goto fail;
	for (uint32_t i = 0; i < nprogs; i++) {
		if (progs[i].len > 1 && progs[i].s[progs[i].len - 1] == '*')
			rc = add_prefix(set, progs[i].s, progs[i].len - 1, set->ndecs);
		else
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
		if (rc == LW_OK && d.npre > 0 && d.pre[0].len >= LW_LITSCAN_MIN)
			rc = lw_litscan_add(set->any_lits, d.pre[0].s, d.pre[0].len,
					    set->ndecs);
		if (rc != LW_OK)
			goto fail;
	}
	rc = push_decoder(set, &d);
	if (rc != LW_OK)
		goto fail;
	lits_free(progs, nprogs);
	/* Only ENOMEM can fail here, and it fails the whole load. */
	return nprogs > 0 ? add_anchors(set, &set->decs[set->ndecs - 1],
					set->ndecs - 1) : LW_OK;

fail:
	/* The program map is filled last: only ENOMEM can fail after it, and
	 * ENOMEM fails the whole load, so no name is left filed under an
	 * index another decoder will take. */
	while (set->npats > pats_before)
		pattern_release(&set->pats[--set->npats]);
	if (d.fmt >= 0)
		lw_decfmt_unload_last(set->fmts);
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

static void set_bit(uint64_t *bits, uint32_t i)
{
	bits[i / 64] |= 1ull << (i % 64);
}

static int build_candidates(struct lw_decoder_set *set)
{
	uint32_t nw = set->ndecs / 64 + 1, nslots = lw_progmap_nslots(&set->map);

	set->nwords = nw;
	set->slot_bits = calloc((size_t)(nslots ? nslots : 1) * nw, sizeof(uint64_t));
	set->first_bits = calloc((size_t)256 * nw, sizeof(uint64_t));
	set->any_open_bits = calloc(nw, sizeof(uint64_t));
	if (set->slot_bits == NULL || set->first_bits == NULL || set->any_open_bits == NULL)
		return LW_ENOMEM;
	for (uint32_t k = 0; k < nslots; k++) {
		uint32_t n;
		const uint32_t *v = lw_progmap_slot_values(&set->map, k, &n);

		for (uint32_t i = 0; i < n; i++)
			set_bit(&set->slot_bits[(size_t)k * nw], v[i]);
	}
	for (uint32_t i = 0; i < set->nany; i++) {
		const struct decoder *d = &set->decs[set->any[i]];

		if (d->npre == 0 || d->pre[0].len < LW_LITSCAN_MIN)
			set_bit(set->any_open_bits, set->any[i]);
	}
	set->prefix_bits = calloc((size_t)(set->nprefixes ? set->nprefixes : 1) * nw,
				  sizeof(uint64_t));
	if (set->prefix_bits == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < set->nprefixes; i++)
		set_bit(&set->prefix_bits[(size_t)i * nw], set->prefix_dec[i]);
	for (uint32_t c = 0; c < 256; c++)
		for (uint32_t d = 0; d < set->ndecs; d++)
			if (!set->decs[d].first_known ||
			    (set->decs[d].first[c / 64] >> (c % 64) & 1))
				set_bit(&set->first_bits[(size_t)c * nw], d);
	return LW_OK;
}

int lw_decoder_set_build(struct lw_decoder_set *set)
{
	int rc;

	if (set->built)
		return LW_EINVAL;
	rc = lw_progmap_build(&set->map);
	if (rc == LW_OK)
		rc = lw_litscan_build(set->anchors);
	if (rc == LW_OK)
		rc = lw_litscan_build(set->any_lits);
	if (rc == LW_OK)
		rc = lw_decfmt_build(set->fmts);
	if (rc == LW_OK)
		rc = build_candidates(set);
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
	for (uint32_t i = 0; i < set->ndecs; i++) {
		const struct decoder *d = &set->decs[i];

		for (uint32_t c = 0; c < d->nconsts; c++)
			fn(d->consts[c].key.ptr, d->consts[c].key.len, arg);
		for (uint32_t k = 0; d->join != NULL && k < d->join->nload; k++)
			fn(set->join_names[d->join->load[k]],
			   set->join_name_len[d->join->load[k]], arg);
		if (d->fmt >= 0)
			lw_decfmt_keys(set->fmts, (uint32_t)d->fmt, fn, arg);
	}
}

struct lw_decoder_scratch *lw_decoder_scratch_new(const struct lw_decoder_set *set)
{
	struct lw_decoder_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->re = calloc(set->npats ? set->npats : 1, sizeof(*s->re));
	s->hits = calloc(set->npats ? set->npats : 1, sizeof(*s->hits));
	s->cand = calloc(set->nwords, sizeof(*s->cand));
	s->fmt = lw_decfmt_scratch_new(set->fmts);
	if (s->re == NULL || s->hits == NULL || s->cand == NULL || s->fmt == NULL)
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
	free(s->cand);
	free(s->join);
	lw_decfmt_scratch_free(s->fmt);
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

void lw_decoder_scratch_join_stats(const struct lw_decoder_scratch *s,
				   struct lw_decoder_join_stats *out)
{
	*out = s->stats;
}

void lw_decoder_scratch_defer_joins(struct lw_decoder_scratch *s)
{
	s->defer_joins = 1;
}

/* ---- joins ---- */

static uint64_t mix(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	/* A separator, so ("ab", "c") and ("a", "bc") differ. */
	h ^= 0xff;
	return h * 0x100000001b3ull;
}

/* The session's bucket, or NULL when the line has no key. */
static struct join_entry *join_bucket(struct lw_decoder_scratch *s,
				      const struct dec_join *j,
				      const struct lw_event *ev,
				      const struct lw_decoder_out *out,
				      uint64_t *tag)
{
	struct lw_str key = ev->procid;
	uint64_t h = 0xcbf29ce484222325ull;

	if (j->key != NULL) {
		key = LW_STR_NULL;
		for (uint32_t i = 0; i < out->nfields; i++)
			if (out->fields[i].key.len == j->key_len &&
			    memcmp(out->fields[i].key.ptr, j->key, j->key_len) == 0)
				key = out->fields[i].value;
	}
	if (key.len == 0)
		return NULL;
	h = mix(h, ev->host.ptr, ev->host.len);
	h = mix(h, ev->app.ptr, ev->app.len);
	h = mix(h, key.ptr, key.len);
	h ^= h >> 29;
	*tag = h | 1;
	return &s->join[(h >> 1) % JOIN_SETS * JOIN_WAYS];
}

static int join_live(const struct join_entry *e, int64_t now)
{
	return e->tag != 0 && now - e->seen_ns <= e->ttl_ns;
}

static int has_field(const struct lw_decoder_out *out, const char *key,
		     size_t len)
{
	for (uint32_t i = 0; i < out->nfields; i++)
		if (out->fields[i].key.len == len &&
		    memcmp(out->fields[i].key.ptr, key, len) == 0)
			return 1;
	return 0;
}

/* Fills the fields `load` names that the line lacks from its session. */
static void join_load(const struct lw_decoder_set *set,
		      struct lw_decoder_scratch *s, const struct dec_join *j,
		      struct join_entry *e, struct lw_decoder_out *out)
{
	int got = 0;

	for (uint32_t k = 0; k < j->nload; k++) {
		const char *name = set->join_names[j->load[k]];
		size_t nlen = set->join_name_len[j->load[k]];

		if (has_field(out, name, nlen))
			continue;
		for (uint32_t f = 0; f < LW_DECODER_JOIN_FIELDS; f++) {
			if (e->name[f] != j->load[k] + 1)
				continue;
			/* Copied: a later save may overwrite the entry. */
			memcpy(s->loaded[k], e->val[f], e->len[f]);
			out->fields[out->nfields++] = (struct lw_field){
				{name, (uint32_t)nlen}, {s->loaded[k], e->len[f]}};
			got = 1;
			break;
		}
	}
	s->stats.joined += got;
}

/* Stores the fields `save` names that the line has in its session. */
static void join_save(const struct lw_decoder_set *set,
		      struct lw_decoder_scratch *s, const struct dec_join *j,
		      struct join_entry *e, const struct lw_decoder_out *out)
{
	for (uint32_t k = 0; k < j->nsave; k++) {
		const char *name = set->join_names[j->save[k]];
		size_t nlen = set->join_name_len[j->save[k]];
		struct lw_str v = LW_STR_NULL;
		uint32_t f, slot = LW_DECODER_JOIN_FIELDS;

		for (uint32_t i = 0; i < out->nfields; i++)
			if (out->fields[i].key.len == nlen &&
			    memcmp(out->fields[i].key.ptr, name, nlen) == 0)
				v = out->fields[i].value;
		if (v.len == 0)
			continue;
		for (f = 0; f < LW_DECODER_JOIN_FIELDS; f++) {
			if (e->name[f] == j->save[k] + 1)
				break;
			if (e->name[f] == 0 && slot == LW_DECODER_JOIN_FIELDS)
				slot = f;
		}
		if (f == LW_DECODER_JOIN_FIELDS)
			f = slot;
		if (f == LW_DECODER_JOIN_FIELDS)
			continue; /* the session holds other fields already */
		if (v.len >= LW_DECODER_JOIN_VALUE_MAX) {
			/* A cut value would be a wrong one: keep none. */
			e->name[f] = 0;
			s->stats.too_long++;
			continue;
		}
		e->name[f] = (uint16_t)(j->save[k] + 1);
		e->len[f] = (uint8_t)v.len;
		memcpy(e->val[f], v.ptr, v.len);
	}
}

/* Loads, saves and forgets for one decoded line. */
static int join_apply(const struct lw_decoder_set *set,
		      struct lw_decoder_scratch *s, const struct dec_join *j,
		      const struct lw_event *ev, struct lw_decoder_out *out)
{
	struct join_entry *bucket, *e = NULL;
	int64_t now = ev->timestamp_ns;
	uint64_t tag = 0;

	if (s->join == NULL) {
		if (j->nsave == 0)
			return LW_OK; /* nothing saved yet: nothing to load or forget */
		s->join = calloc(JOIN_SETS * JOIN_WAYS, sizeof(*s->join));
		if (s->join == NULL)
			return LW_ENOMEM;
	}
	bucket = join_bucket(s, j, ev, out, &tag);
	if (bucket == NULL)
		return LW_OK;
	for (uint32_t w = 0; w < JOIN_WAYS; w++)
		if (bucket[w].tag == tag)
			e = &bucket[w];
	if (e != NULL && !join_live(e, now)) {
		memset(e, 0, sizeof(*e));
		if (j->nsave == 0)
			return LW_OK;
		e->tag = tag;
	}
	if (e != NULL && j->nload > 0)
		join_load(set, s, j, e, out);
	if (j->nsave > 0) {
		if (e == NULL) {
			/* An empty or expired way, else the oldest session. */
			for (uint32_t w = 0; w < JOIN_WAYS; w++)
				if (!join_live(&bucket[w], now)) {
					e = &bucket[w];
					break;
				}
			if (e == NULL) {
				e = &bucket[0];
				for (uint32_t w = 1; w < JOIN_WAYS; w++)
					if (bucket[w].seen_ns < e->seen_ns)
						e = &bucket[w];
				s->stats.evicted++;
			}
			memset(e, 0, sizeof(*e));
			e->tag = tag;
		}
		join_save(set, s, j, e, out);
		e->seen_ns = now;
		e->ttl_ns = j->ttl_ns;
		s->stats.saved++;
	}
	if (j->forget && e != NULL)
		memset(e, 0, sizeof(*e));
	return LW_OK;
}

/* ---- matching ---- */

/* The part of a message the patterns see (decoder.h: wrappers other
 * software puts around the daemon's text, trailing blanks). */
static struct lw_str subject_of(struct lw_str m)
{
	static const char repeated[] = "message repeated ";
	const char *p, *end;

	/* An event without a message (structured data only) reaches the sd
	 * decoders with a null view: no arithmetic on it. */
	if (m.ptr == NULL)
		return m;
	p = m.ptr;
	end = m.ptr + m.len;
	/* Trailing blanks are padding, not the daemon's text ("rhost=1.2.3.4 "). */
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			   end[-1] == '\n'))
		end--;
	if (m.len > sizeof(repeated) && p[0] == 'm' &&
	    memcmp(p, repeated, sizeof(repeated) - 1) == 0) {
		const char *q = p + sizeof(repeated) - 1, *d = q;

		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q > d && end - q >= 9 && memcmp(q, " times: [", 9) == 0 &&
		    end[-1] == ']') {
			p = q + 9;
			end--;
			if (p < end && *p == ' ')
				p++;
		}
	}
	/* Solaris syslogd: "[ID <msgid> <facility>.<level>] ". */
	if (end - p > 8 && p[0] == '[' && memcmp(p, "[ID ", 4) == 0) {
		const char *q = p + 4, *d = q;

		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q > d && q < end && *q == ' ') {
			const char *r = memchr(q, ']', (size_t)(end - q));

			if (r != NULL && r - q < 32 && r + 1 < end && r[1] == ' ' &&
			    memchr(q, '.', (size_t)(r - q)) != NULL)
				p = r + 2;
		}
	}
	return (struct lw_str){p, (uint32_t)(end - p)};
}

/* The format stage of decoder d for a line its pattern pi matched (pi
 * UINT32_MAX: a decoder without patterns). 1 matched, 0 not, <0 error. */
static int apply_format(const struct lw_decoder_set *set,
			struct lw_decoder_scratch *s, const struct decoder *d,
			uint32_t pi, const struct lw_event *ev, struct lw_str subj,
			struct lw_decoder_out *out)
{
	struct lw_str in = subj;

	if (lw_decfmt_reads_sd(set->fmts, (uint32_t)d->fmt)) {
		in = ev->structured_data;
	} else if (pi != UINT32_MAX && set->pats[pi].input_group != 0) {
		size_t st, len;

		if (lw_regex_group(s->re[pi], set->pats[pi].input_group, &st, &len) != LW_OK)
			return 0;
		in = (struct lw_str){subj.ptr + st, (uint32_t)len};
	}
	if (in.len == 0)
		return 0;
	return lw_decfmt_apply(set->fmts, s->fmt, (uint32_t)d->fmt, ev, in, s->gen,
			       out->fields, &out->nfields, LW_DECODER_MAX_FIELDS);
}

/* The constants and the join of a decoder that matched. */
static int finish(const struct lw_decoder_set *set, struct lw_decoder_scratch *s,
		  const struct decoder *d, uint32_t di, const struct lw_event *ev,
		  struct lw_decoder_out *out)
{
	out->decoder = di;
	for (uint32_t c = 0; c < d->nconsts; c++)
		out->fields[out->nfields++] = d->consts[c];
	if (d->join != NULL) {
		int rc = join_apply(set, s, d->join, ev, out);
		if (rc < 0)
			return rc;
	}
	return 1;
}

/* 1 matched (out filled), 0 not, <0 error. */
static int try_decoder(const struct lw_decoder_set *set,
		       struct lw_decoder_scratch *s, uint32_t di,
		       const struct lw_event *ev, struct lw_str subj,
		       struct lw_decoder_out *out)
{
	const struct decoder *d = &set->decs[di];
	const char *msg = subj.ptr;
	size_t mlen = subj.len;
	int rc;

	for (uint32_t i = 0; i < d->npre; i++)
		if (mlen < d->pre[i].len ||
		    lw_memfind(msg, mlen, d->pre[i].s, d->pre[i].len) == NULL)
			return 0;
	if (d->npat == 0) {
		if (d->join != NULL && s->defer_joins)
			return LW_DECODER_DEFERRED;
		out->nfields = 0;
		rc = apply_format(set, s, d, UINT32_MAX, ev, subj, out);
		return rc <= 0 ? rc : finish(set, s, d, di, ev, out);
	}
	for (uint32_t pi = d->first_pat; pi < d->first_pat + d->npat; pi++) {
		const struct dec_pattern *p = &set->pats[pi];

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
		if (d->join != NULL && s->defer_joins)
			return LW_DECODER_DEFERRED;
		out->nfields = 0;
		for (uint32_t g = 0; g < p->ngroups; g++) {
			const struct dec_group *gr = &p->groups[g];
			struct lw_field *f;
			size_t st, len;

			if (lw_regex_group(s->re[pi], gr->group, &st, &len) != LW_OK ||
			    len == 0)
				continue;
			f = &out->fields[out->nfields];
			f->value = (struct lw_str){msg + st, (uint32_t)len};
			if (gr->mod != 0) {
				f->value = lw_decfmt_modify(s->fmt, gr->mod, gr->mod_arg,
							    f->value);
				if (f->value.len == 0)
					continue;
			}
			out->nfields++;
			if (gr->alt_key != NULL && !lw_decfmt_is_ip(f->value.ptr, f->value.len))
				f->key = (struct lw_str){gr->alt_key, gr->alt_keylen};
			else
				f->key = (struct lw_str){gr->key, gr->keylen};
		}
		if (d->fmt >= 0) {
			rc = apply_format(set, s, d, pi, ev, subj, out);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue;
		}
		return finish(set, s, d, di, ev, out);
	}
	return 0;
}

/* Tries the decoders of cand (nwords bits) in load order. */
static int try_set(const struct lw_decoder_set *set,
		   struct lw_decoder_scratch *s, const uint64_t *cand,
		   const struct lw_event *ev, struct lw_str subj,
		   struct lw_decoder_out *out)
{
	for (uint32_t w = 0; w < set->nwords; w++)
		for (uint64_t bits = cand[w]; bits != 0; bits &= bits - 1) {
			int rc = try_decoder(set, s, w * 64 + (uint32_t)__builtin_ctzll(bits),
					     ev, subj, out);
			if (rc != 0)
				return rc;
		}
	return 0;
}

int lw_decoder_apply(const struct lw_decoder_set *set,
		     struct lw_decoder_scratch *s, const struct lw_event *ev,
		     struct lw_decoder_out *out)
{
	const uint64_t *first;
	struct lw_str subj;
	int64_t slot;
	size_t family;
	int rc;

	out->nfields = 0;
	/* A message may be empty when the structured data carries the event
	 * (Juniper's RFC 5424 RT_FLOW lines): sd decoders still apply. */
	subj = subject_of(ev->message);
	if (subj.len == 0 && ev->structured_data.len == 0)
		return 0;
	s->gen++;
	rc = lw_decfmt_prepare(s->fmt, (size_t)subj.len + ev->structured_data.len);
	if (rc != LW_OK)
		return rc;
	first = &set->first_bits[(size_t)(subj.len ? (unsigned char)subj.ptr[0] : 0) *
				 set->nwords];
	slot = lw_progmap_slot(&set->map, ev->app.ptr, ev->app.len);
	if (slot < 0 && (family = lw_progmap_family_len(ev->app.ptr, ev->app.len)) > 0)
		slot = lw_progmap_slot(&set->map, ev->app.ptr, family);
	if (slot >= 0) {
		const uint64_t *mine = &set->slot_bits[(size_t)slot * set->nwords];

		for (uint32_t w = 0; w < set->nwords; w++)
			s->cand[w] = mine[w] & first[w];
	} else {
		/* An unfiled program: the decoders filed under a prefix of its
		 * name, and those whose anchors occur (their load order is the
		 * precedence, as if filed together). */
		memset(s->cand, 0, set->nwords * sizeof(*s->cand));
		for (uint32_t i = 0; i < set->nprefixes; i++)
			if (ev->app.len >= set->prefixes[i].len &&
			    lw_memeq(ev->app.ptr, set->prefixes[i].s, set->prefixes[i].len))
				for (uint32_t w = 0; w < set->nwords; w++)
					s->cand[w] |= set->prefix_bits[(size_t)i * set->nwords + w];
		lw_litscan_find(set->anchors, subj.ptr, subj.len, s->cand);
		for (uint32_t w = 0; w < set->nwords; w++)
			s->cand[w] &= first[w];
	}
	rc = try_set(set, s, s->cand, ev, subj, out);
	if (rc != 0)
		return rc;
	/* The decoders for any program, mostly vendors' formats that a
	 * server's line is not: one scan instead of a prefilter search per
	 * decoder (those were 10 % of the daemon on the auth.log replay). */
	memcpy(s->cand, set->any_open_bits, set->nwords * sizeof(*s->cand));
	lw_litscan_find(set->any_lits, subj.ptr, subj.len, s->cand);
	for (uint32_t w = 0; w < set->nwords; w++)
		s->cand[w] &= first[w];
	return try_set(set, s, s->cand, ev, subj, out);
}
