/* lw_ruleset: directories -> decoders + Sigma rules; the per-event apply. */
#include "correlator/ruleset.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/recost.h"
#include "correlator/correlation.h"
#include "correlator/decoder.h"
#include "correlator/lookup.h"
#include "correlator/response.h"

#define RULESET_MAX_DEPTH 8
#define RULESET_MAX_ADDED (LW_DECODER_MAX_FIELDS + 3)

struct lw_ruleset {
	struct lw_decoder_set *decoders;
	struct lw_sigma_set *sigma;
	struct lw_correlation_rules *corr;
	struct lw_response *resp;
	struct lw_lookup_set *lists; /* part of the generation: swapped with the rules */
	int from_dirs;      /* a rule directory was loaded: the plan is required */
	struct lw_zone_config *zones;
	size_t nzones;
	char **keys;        /* distinct field keys decoders produce, sorted */
	size_t nkeys;
	int built;
};

struct lw_ruleset_scratch {
	struct lw_decoder_scratch *dec;
	struct lw_sigma_scratch *sig;
	uint32_t *matches;
	uint32_t cap;
	struct lw_decoder_out dout;
};

struct lw_ruleset *lw_ruleset_new(const struct lw_config *cfg)
{
	struct lw_ruleset *rs = calloc(1, sizeof(*rs));

	if (rs == NULL)
		return NULL;
	rs->decoders = lw_decoder_set_new();
	rs->sigma = lw_sigma_set_new();
	rs->corr = lw_correlation_rules_new();
	rs->resp = lw_response_new();
	rs->lists = lw_lookup_set_new();
	if (rs->decoders == NULL || rs->sigma == NULL || rs->corr == NULL ||
	    rs->resp == NULL || rs->lists == NULL)
		goto fail;
	lw_sigma_set_use_lists(rs->sigma, rs->lists);
	if (cfg != NULL && cfg->nzones > 0) {
		rs->zones = malloc(cfg->nzones * sizeof(*rs->zones));
		if (rs->zones == NULL)
			goto fail;
		memcpy(rs->zones, cfg->zones, cfg->nzones * sizeof(*rs->zones));
		rs->nzones = cfg->nzones;
	}
	return rs;

fail:
	lw_ruleset_free(rs);
	return NULL;
}

void lw_ruleset_free(struct lw_ruleset *rs)
{
	if (rs == NULL)
		return;
	lw_decoder_set_free(rs->decoders);
	lw_sigma_set_free(rs->sigma);
	lw_correlation_rules_free(rs->corr);
	lw_response_free(rs->resp);
	lw_lookup_set_free(rs->lists); /* after the rules that point at them */
	free(rs->zones);
	for (size_t i = 0; i < rs->nkeys; i++)
		free(rs->keys[i]);
	free(rs->keys);
	free(rs);
}

/* ---- directory walk ---- */

struct pathlist {
	char **v;
	size_t n, cap;
};

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_yaml(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int collect(const char *dir, int depth, struct pathlist *pl,
		   struct lw_diags *diags)
{
	DIR *d;
	struct dirent *e;
	char ebuf[128];
	int rc = LW_OK;

	if (depth > RULESET_MAX_DEPTH)
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_ETOOBIG, dir, 0, 0,
				    "directories nested deeper than %d",
				    RULESET_MAX_DEPTH);
	d = opendir(dir);
	if (d == NULL)
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_EIO, dir, 0, 0,
				    "cannot open directory: %s",
				    strerror_r(errno, ebuf, sizeof(ebuf)));
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		size_t len;
		char *p;

		if (e->d_name[0] == '.')
			continue; /* hidden files, editors' swap files, . and .. */
		len = strlen(dir) + 1 + strlen(e->d_name) + 1;
		p = malloc(len);
		if (p == NULL) {
			rc = LW_ENOMEM;
			break;
		}
		snprintf(p, len, "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int r = collect(p, depth + 1, pl, diags);
			free(p);
			if (r == LW_ENOMEM) {
				rc = r;
				break;
			}
			if (r != LW_OK && rc == LW_OK)
				rc = r;
			continue;
		}
		if (!S_ISREG(st.st_mode) || !is_yaml(e->d_name)) {
			free(p);
			continue;
		}
		if (pl->n == pl->cap) {
			size_t cap = pl->cap ? pl->cap * 2 : 64;
			char **nv = realloc(pl->v, cap * sizeof(*nv));
			if (nv == NULL) {
				free(p);
				rc = LW_ENOMEM;
				break;
			}
			pl->v = nv;
			pl->cap = cap;
		}
		pl->v[pl->n++] = p;
	}
	closedir(d);
	return rc;
}

enum tree_kind { TREE_DECODERS, TREE_DETECTION, TREE_CORRELATION, TREE_LISTS };

static int load_one(struct lw_ruleset *rs, enum tree_kind kind,
		    const char *path, struct lw_diags *diags)
{
	switch (kind) {
	case TREE_DECODERS: return lw_ruleset_load_decoders(rs, path, diags);
	case TREE_DETECTION: return lw_ruleset_load_detection(rs, path, diags);
	case TREE_LISTS: return lw_ruleset_load_lists(rs, path, diags);
	default: return lw_ruleset_load_correlation(rs, path, diags);
	}
}

static int load_tree(struct lw_ruleset *rs, const char *dir,
		     enum tree_kind kind, struct lw_diags *diags)
{
	struct pathlist pl = {NULL, 0, 0};
	struct stat st;
	int rc;

	if (stat(dir, &st) != 0)
		return LW_OK; /* the subdirectory is optional */
	rc = collect(dir, 0, &pl, diags);
	if (rc != LW_ENOMEM) {
		qsort(pl.v, pl.n, sizeof(*pl.v), path_cmp);
		for (size_t i = 0; i < pl.n; i++) {
			int r = load_one(rs, kind, pl.v[i], diags);
			if (r == LW_ENOMEM) {
				rc = r;
				break;
			}
			if (r != LW_OK && rc == LW_OK)
				rc = r;
		}
	}
	for (size_t i = 0; i < pl.n; i++)
		free(pl.v[i]);
	free(pl.v);
	return rc;
}

int lw_ruleset_load_dir(struct lw_ruleset *rs, const char *dir,
			struct lw_diags *diags)
{
	struct stat st;
	char ebuf[128];
	char *sub;
	size_t len = strlen(dir) + sizeof("/response.yml") + sizeof("/correlation");
	int rc, r, dlen;

	if (rs->built)
		return LW_EINVAL;
	if (stat(dir, &st) != 0)
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_EIO, dir, 0, 0,
				    "not a rule directory: %s",
				    strerror_r(errno, ebuf, sizeof(ebuf)));
	if (!S_ISDIR(st.st_mode))
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_EIO, dir, 0, 0,
				    "not a rule directory: not a directory");
	sub = malloc(len);
	if (sub == NULL)
		return LW_ENOMEM;
	rs->from_dirs = 1;
	/* "rules/" and "rules" name the same directory: no "rules//x" in
	 * messages. */
	dlen = (int)strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	snprintf(sub, len, "%.*s/decoders", dlen, dir);
	rc = load_tree(rs, sub, TREE_DECODERS, diags);
	if (rc != LW_ENOMEM) {
		snprintf(sub, len, "%.*s/detection", dlen, dir);
		r = load_tree(rs, sub, TREE_DETECTION, diags);
		if (rc == LW_OK || r == LW_ENOMEM)
			rc = r;
	}
	if (rc != LW_ENOMEM) {
		snprintf(sub, len, "%.*s/correlation", dlen, dir);
		r = load_tree(rs, sub, TREE_CORRELATION, diags);
		if (rc == LW_OK || r == LW_ENOMEM)
			rc = r;
	}
	/* response.yml is optional per directory; lw_ruleset_build
	 * requires that some directory had one. */
	snprintf(sub, len, "%.*s/response.yml", dlen, dir);
	if (rc != LW_ENOMEM && stat(sub, &st) == 0) {
		r = lw_ruleset_load_response(rs, sub, diags);
		if (rc == LW_OK || r == LW_ENOMEM)
			rc = r;
	}
	free(sub);
	return rc;
}

int lw_ruleset_load_lists_dir(struct lw_ruleset *rs, const char *dir,
			      struct lw_diags *diags)
{
	size_t len = strlen(dir) + sizeof("/lists");
	char *sub;
	int rc, dlen = (int)strlen(dir);

	if (rs->built)
		return LW_EINVAL;
	sub = malloc(len);
	if (sub == NULL)
		return LW_ENOMEM;
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	snprintf(sub, len, "%.*s/lists", dlen, dir);
	rc = load_tree(rs, sub, TREE_LISTS, diags);
	free(sub);
	return rc;
}

int lw_ruleset_load_lists(struct lw_ruleset *rs, const char *path,
			  struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_lookup_set_load_file(rs->lists, path, diags);
}

int lw_ruleset_load_lists_string(struct lw_ruleset *rs, const char *name,
				 const char *yaml, size_t len,
				 struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_lookup_set_load_string(rs->lists, name, yaml, len, diags);
}

const struct lw_lookup_set *lw_ruleset_lists(const struct lw_ruleset *rs)
{
	return rs->lists;
}

int lw_ruleset_load_decoders(struct lw_ruleset *rs, const char *path,
			     struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_decoder_set_load_file(rs->decoders, path, diags);
}

int lw_ruleset_load_detection(struct lw_ruleset *rs, const char *path,
			      struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_sigma_set_load_file(rs->sigma, path, diags);
}

int lw_ruleset_load_decoders_string(struct lw_ruleset *rs, const char *name,
				    const char *yaml, size_t len,
				    struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_decoder_set_load_string(rs->decoders, name, yaml, len, diags);
}

int lw_ruleset_load_detection_string(struct lw_ruleset *rs, const char *name,
				     const char *yaml, size_t len,
				     struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_sigma_set_load_string(rs->sigma, name, yaml, len, diags);
}

int lw_ruleset_load_correlation(struct lw_ruleset *rs, const char *path,
				struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_correlation_rules_load_file(rs->corr, path, diags);
}

int lw_ruleset_load_correlation_string(struct lw_ruleset *rs, const char *name,
				       const char *yaml, size_t len,
				       struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_correlation_rules_load_string(rs->corr, name, yaml, len, diags);
}

int lw_ruleset_load_response(struct lw_ruleset *rs, const char *path,
			     struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL : lw_response_load_file(rs->resp, path, diags);
}

int lw_ruleset_load_response_string(struct lw_ruleset *rs, const char *name,
				    const char *yaml, size_t len,
				    struct lw_diags *diags)
{
	return rs->built ? LW_EINVAL :
		lw_response_load_string(rs->resp, name, yaml, len, diags);
}

/* ---- build ---- */

struct keyacc {
	struct lw_ruleset *rs;
	size_t cap;
	int oom;
};

static void add_key(const char *key, size_t len, void *arg)
{
	struct keyacc *ka = arg;
	struct lw_ruleset *rs = ka->rs;
	char *k;

	for (size_t i = 0; i < rs->nkeys; i++)
		if (strlen(rs->keys[i]) == len && memcmp(rs->keys[i], key, len) == 0)
			return;
	if (rs->nkeys == ka->cap) {
		size_t cap = ka->cap ? ka->cap * 2 : 32;
		char **nv = realloc(rs->keys, cap * sizeof(*nv));
		if (nv == NULL) {
			ka->oom = 1;
			return;
		}
		rs->keys = nv;
		ka->cap = cap;
	}
	k = malloc(len + 1);
	if (k == NULL) {
		ka->oom = 1;
		return;
	}
	memcpy(k, key, len);
	k[len] = '\0';
	rs->keys[rs->nkeys++] = k;
}

/* Extra fields that can be present on an event: decoder output, the zones
 * this module stamps, and what the collector attaches (journald fields,
 * RFC 5424 SD params) under their prefixes. */
static int known_key(const char *key, size_t len, void *arg)
{
	const struct lw_ruleset *rs = arg;
	static const char *const stamped[] = {"source.zone", "destination.zone"};
	static const char *const prefixes[] = {"journald.", "sd."};

	if (len == sizeof(LW_RULESET_FLAGS_FIELD) - 1 &&
	    memcmp(key, LW_RULESET_FLAGS_FIELD, len) == 0)
		return 1;

	for (size_t i = 0; i < 2; i++)
		if (strlen(stamped[i]) == len && memcmp(stamped[i], key, len) == 0)
			return rs->nzones > 0;
	for (size_t i = 0; i < 2; i++)
		if (len > strlen(prefixes[i]) &&
		    memcmp(prefixes[i], key, strlen(prefixes[i])) == 0)
			return 1;
	for (size_t i = 0; i < rs->nkeys; i++)
		if (strlen(rs->keys[i]) == len && memcmp(rs->keys[i], key, len) == 0)
			return 1;
	return 0;
}

int lw_ruleset_build(struct lw_ruleset *rs, struct lw_diags *diags)
{
	struct keyacc ka = {rs, 0, 0};
	int rc, r;

	if (rs->built)
		return LW_EINVAL;
	rc = lw_decoder_set_build(rs->decoders);
	if (rc != LW_OK)
		return rc;
	lw_decoder_set_keys(rs->decoders, add_key, &ka);
	if (ka.oom)
		return LW_ENOMEM;
	rc = lw_sigma_set_build(rs->sigma, known_key, rs, diags);
	if (rc != LW_OK)
		return rc;
	rc = lw_correlation_rules_build(rs->corr, rs->sigma, diags);
	r = lw_response_finish(rs->resp, rs->from_dirs ||
			       lw_response_files(rs->resp) > 0, diags);
	if (rc == LW_OK || r == LW_ENOMEM)
		rc = r;
	if (rc == LW_OK)
		rs->built = 1;
	return rc;
}

int lw_ruleset_load(const char *const *dirs, size_t ndirs,
		    const struct lw_config *cfg, struct lw_ruleset **out,
		    struct lw_diags *diags)
{
	struct lw_ruleset *rs = lw_ruleset_new(cfg);
	size_t errors_before = diags ? diags->nerrors : 0;
	int rc = LW_OK;

	*out = NULL;
	if (rs == NULL)
		return LW_ENOMEM;
	/* Every directory's lists first: a rule may use a list of any of
	 * them. */
	for (size_t i = 0; i < ndirs; i++) {
		int r = lw_ruleset_load_lists_dir(rs, dirs[i], diags);
		if (r == LW_ENOMEM) {
			rc = r;
			goto fail;
		}
		if (r != LW_OK && rc == LW_OK)
			rc = r;
	}
	for (size_t i = 0; i < ndirs; i++) {
		int r = lw_ruleset_load_dir(rs, dirs[i], diags);
		if (r == LW_ENOMEM) {
			rc = r;
			goto fail;
		}
		if (r != LW_OK && rc == LW_OK)
			rc = r;
	}
	if (rc != LW_OK || (diags != NULL && diags->nerrors > errors_before)) {
		if (rc == LW_OK)
			rc = LW_EPARSE;
		goto fail;
	}
	rc = lw_ruleset_build(rs, diags);
	if (rc == LW_OK && diags != NULL && diags->nerrors > errors_before)
		rc = LW_EPARSE;
	if (rc != LW_OK)
		goto fail;
	*out = rs;
	return LW_OK;

fail:
	lw_ruleset_free(rs);
	return rc;
}

uint32_t lw_ruleset_rule_count(const struct lw_ruleset *rs)
{
	return lw_sigma_count(rs->sigma);
}

const struct lw_sigma_rule_info *lw_ruleset_rule(const struct lw_ruleset *rs,
						 uint32_t i)
{
	return lw_sigma_rule(rs->sigma, i);
}

int64_t lw_ruleset_find(const struct lw_ruleset *rs, const char *id_or_name)
{
	return lw_sigma_find(rs->sigma, id_or_name);
}

const struct lw_correlation_rules *
lw_ruleset_correlations(const struct lw_ruleset *rs)
{
	return rs->corr;
}

const struct lw_response *lw_ruleset_response(const struct lw_ruleset *rs)
{
	return rs->resp;
}

uint32_t lw_ruleset_decoder_count(const struct lw_ruleset *rs)
{
	return lw_decoder_count(rs->decoders);
}

const char *lw_ruleset_decoder_name(const struct lw_ruleset *rs, uint32_t i)
{
	return lw_decoder_name(rs->decoders, i);
}

const char *lw_ruleset_decoder_program(const struct lw_ruleset *rs, uint32_t i)
{
	return lw_decoder_program(rs->decoders, i);
}

/* ---- apply ---- */

struct lw_ruleset_scratch *lw_ruleset_scratch_new(const struct lw_ruleset *rs)
{
	struct lw_ruleset_scratch *s;

	if (!rs->built)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->dec = lw_decoder_scratch_new(rs->decoders);
	s->sig = lw_sigma_scratch_new(rs->sigma);
	s->cap = lw_sigma_count(rs->sigma);
	s->matches = calloc(s->cap ? s->cap : 1, sizeof(*s->matches));
	if (s->dec == NULL || s->sig == NULL || s->matches == NULL) {
		lw_ruleset_scratch_free(s);
		return NULL;
	}
	return s;
}

void lw_ruleset_scratch_free(struct lw_ruleset_scratch *s)
{
	if (s == NULL)
		return;
	lw_decoder_scratch_free(s->dec);
	lw_sigma_scratch_free(s->sig);
	free(s->matches);
	free(s);
}

void lw_ruleset_each_regex(const struct lw_ruleset *rs,
			   void (*fn)(const char *rule, const char *pattern, size_t len,
				      unsigned flags, void *arg),
			   void *arg)
{
	lw_decoder_set_each_pattern(rs->decoders, fn, arg);
	lw_sigma_set_each_regex(rs->sigma, fn, arg);
}

struct cost_check {
	size_t n, reported;
	struct lw_diags *diags;
};

static void check_cost(const char *rule, const char *pattern, size_t len,
		       unsigned flags, void *arg)
{
	struct cost_check *c = arg;
	struct lw_recost_report r;

	if (lw_recost_probe(pattern, len, flags, c->n, &r) != LW_OK || !r.superlinear)
		return;
	c->reported++;
	if (r.growth > 1e8)
		lw_diags_add(c->diags, LW_DIAG_WARNING, LW_EINVAL, NULL, 0, 0,
			     "rule '%s': pattern '%.*s' can backtrack catastrophically: "
			     "input %s of %zu bytes passes %llu steps; use possessive "
			     "quantifiers (\\S*+, .*+), atomic groups (?>...) or anchored literals",
			     rule, (int)(len > 120 ? 120 : len), pattern, r.family, c->n,
			     (unsigned long long)r.limit);
	else
		lw_diags_add(c->diags, LW_DIAG_WARNING, LW_EINVAL, NULL, 0, 0,
			     "rule '%s': pattern '%.*s' can backtrack: input %s costs %.1fx "
			     "as much at twice the size (%llu -> %llu steps; a single pass "
			     "grows 2x); use possessive quantifiers (\\S*+, .*+), atomic "
			     "groups (?>...) or anchored literals",
			     rule, (int)(len > 120 ? 120 : len), pattern, r.family, r.growth,
			     (unsigned long long)r.cost_n, (unsigned long long)r.cost_2n);
}

size_t lw_ruleset_check_costs(const struct lw_ruleset *rs, size_t n,
			      struct lw_diags *diags)
{
	struct cost_check c = {n, 0, diags};

	lw_ruleset_each_regex(rs, check_cost, &c);
	return c.reported;
}

void lw_ruleset_scratch_take_hits(const struct lw_ruleset *rs,
				  struct lw_ruleset_scratch *s,
				  void (*fn)(const char *rule, uint64_t hits, void *arg),
				  void *arg)
{
	lw_decoder_scratch_take_hits(rs->decoders, s->dec, fn, arg);
	lw_sigma_scratch_take_hits(rs->sigma, s->sig, fn, arg);
}

void lw_ruleset_scratch_join_stats(const struct lw_ruleset_scratch *s,
				   struct lw_decoder_join_stats *out)
{
	lw_decoder_scratch_join_stats(s->dec, out);
}

void lw_ruleset_scratch_defer_joins(struct lw_ruleset_scratch *s)
{
	lw_decoder_scratch_defer_joins(s->dec);
}

/* The first zone whose CIDRs contain the textual address, or NULL. */
static const char *zone_of(const struct lw_ruleset *rs, struct lw_str ip)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	const struct sockaddr *sa;
	char tmp[64];

	if (ip.len == 0 || ip.len >= sizeof(tmp))
		return NULL;
	memcpy(tmp, ip.ptr, ip.len);
	tmp[ip.len] = '\0';
	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, tmp, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		sa = (const struct sockaddr *)&in;
	} else if (inet_pton(AF_INET6, tmp, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		sa = (const struct sockaddr *)&in6;
	} else {
		return NULL;
	}
	for (size_t i = 0; i < rs->nzones; i++)
		if (lw_cidr_list_contains(&rs->zones[i].cidrs, sa))
			return rs->zones[i].name;
	return NULL;
}

static struct lw_str find_value(const struct lw_event *ev,
				const struct lw_decoder_out *d, const char *key,
				size_t len)
{
	const struct lw_field *f;

	for (uint32_t i = 0; i < d->nfields; i++)
		if (d->fields[i].key.len == len &&
		    memcmp(d->fields[i].key.ptr, key, len) == 0)
			return d->fields[i].value;
	f = lw_event_field(ev, key, len);
	return f ? f->value : LW_STR_NULL;
}

static int in_message(const struct lw_event *ev, struct lw_str v)
{
	/* An event of structured data only has no message to point into. */
	if (ev->message.ptr == NULL || v.ptr == NULL)
		return 0;
	return v.ptr >= ev->message.ptr &&
	       v.ptr + v.len <= ev->message.ptr + ev->message.len;
}

/* Appends add[0..n) to ev->fields with one arena allocation for the new
 * array and every string that does not already live in the message. */
static int append_fields(struct lw_event *ev, struct lw_arena *arena,
			 const struct lw_field *add, uint32_t n)
{
	size_t bytes = 0;
	struct lw_field *nf;
	char *p;

	if (n == 0)
		return LW_OK;
	for (uint32_t i = 0; i < n; i++) {
		bytes += add[i].key.len;
		if (!in_message(ev, add[i].value))
			bytes += add[i].value.len;
	}
	nf = lw_arena_alloc(arena, (ev->nfields + n) * sizeof(*nf) + bytes);
	if (nf == NULL)
		return LW_ENOMEM;
	p = (char *)(nf + ev->nfields + n);
	if (ev->nfields > 0)
		memcpy(nf, ev->fields, ev->nfields * sizeof(*nf));
	for (uint32_t i = 0; i < n; i++) {
		struct lw_field *f = &nf[ev->nfields + i];

		memcpy(p, add[i].key.ptr, add[i].key.len);
		f->key = (struct lw_str){p, add[i].key.len};
		p += add[i].key.len;
		if (in_message(ev, add[i].value)) {
			f->value = add[i].value;
		} else {
			if (add[i].value.len > 0)
				memcpy(p, add[i].value.ptr, add[i].value.len);
			f->value = (struct lw_str){p, add[i].value.len};
			p += add[i].value.len;
		}
	}
	ev->fields = nf;
	ev->nfields += n;
	return LW_OK;
}

int lw_ruleset_apply(const struct lw_ruleset *rs, struct lw_ruleset_scratch *s,
		     struct lw_event *ev, struct lw_arena *arena,
		     struct lw_ruleset_matches *out)
{
	struct lw_decoder_out *d = &s->dout;
	struct lw_field add[RULESET_MAX_ADDED];
	uint32_t nadd = 0, pseudo = 0;
	int rc;

	out->decoder = UINT32_MAX;
	out->count = 0;
	out->rules = s->matches;
	rc = lw_decoder_apply(rs->decoders, s->dec, ev, d);
	if (rc < 0)
		return rc;
	if (rc == LW_DECODER_DEFERRED)
		return LW_RULESET_DEFERRED;
	if (rc == 0)
		d->nfields = 0;
	else
		out->decoder = d->decoder;
	memcpy(add, d->fields, d->nfields * sizeof(*add));
	nadd = d->nfields;
	if (rs->nzones > 0) {
		static const struct {
			const char *ip, *zone;
		} z[] = {{"source.ip", "source.zone"},
			 {"destination.ip", "destination.zone"}};

		for (size_t i = 0; i < 2; i++) {
			struct lw_str ip = find_value(ev, d, z[i].ip, strlen(z[i].ip));
			const char *name;

			if (ip.len == 0 || lw_event_field(ev, z[i].zone,
							  strlen(z[i].zone)) != NULL)
				continue;
			name = zone_of(rs, ip);
			if (name != NULL)
				add[nadd++] = (struct lw_field){
					{z[i].zone, (uint32_t)strlen(z[i].zone)},
					{name, (uint32_t)strlen(name)}};
		}
	}
	/* Event flags are not fields, so Sigma rules could not see them. The
	 * pseudo-field is appended last, only while the rules run, and only
	 * when a flag rules care about is set: the event keeps its flags as
	 * flags (lw_event_to_json renders them as logward.flags already), and
	 * the common path never sees it. */
	if ((ev->flags & LW_EVENT_CLOCK_SKEW) &&
	    lw_event_field(ev, LW_RULESET_FLAGS_FIELD,
			   sizeof(LW_RULESET_FLAGS_FIELD) - 1) == NULL) {
		add[nadd++] = (struct lw_field){LW_STR_LIT(LW_RULESET_FLAGS_FIELD),
						LW_STR_LIT("clock_skew")};
		pseudo = 1;
	}
	rc = append_fields(ev, arena, add, nadd);
	if (rc != LW_OK)
		return rc;
	rc = lw_sigma_eval(rs->sigma, s->sig, ev, s->matches, s->cap, &out->count);
	ev->nfields -= pseudo;
	return rc;
}
