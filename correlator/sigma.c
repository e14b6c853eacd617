/* lw_sigma: Sigma rule loading, selection compilation and evaluation. */
#include "correlator/sigma.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/memfind.h"
#include "core/cidr.h"
#include "core/regex.h"
#include "correlator/progmap.h"
#include "correlator/ryaml.h"
#include "correlator/sigma_cond.h"

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

/* ---- logsource -> programs ---- */

#define AUTH_PROGRAMS "sshd", "sshd-session", "sudo", "su", "login", "passwd", \
	"useradd", "userdel", "usermod", "groupadd", "groupdel", "chpasswd", \
	"chage", "systemd-logind", "polkitd", "pkexec", "CRON", "cron"

static const struct {
	const char *service;
	unsigned facilities; /* bit per syslog facility code, OR programs */
	const char *programs[20];
} service_map[] = {
	{"sshd", 0, {"sshd", "sshd-session"}},
	{"auth", (1u << 4) | (1u << 10), {AUTH_PROGRAMS}},
	{"sudo", 0, {"sudo"}},
	{"su", 0, {"su"}},
	{"cron", 0, {"cron", "CRON", "crond"}},
	{"clamav", 0, {"clamd", "clamscan", "freshclam", "clamav-milter",
		       "clamonacc"}},
	{"vsftpd", 0, {"vsftpd"}},
	{"guacamole", 0, {"guacd", "guacamole"}},
	{"auditd", 0, {"auditd", "audit", "audispd", "audisp-syslog"}},
	{"kernel", 0, {"kernel"}},
	{"systemd", 0, {"systemd"}},
	{"syslog", 0, {NULL}}, /* every event */
};

static const char *const unrestricted_categories[] = {
	"process_creation", "file_event", "file_create", "file_change",
	"file_delete", "file_access", "file_rename", "network_connection",
	"dns_query", "dns", "proxy", "webserver", "create_remote_thread",
	"image_load", "process_access", "antivirus", "authentication", NULL};

/* ---- compiled rule data ---- */

enum vkind { V_GLOB, V_NULL, V_RE, V_CIDR, V_NUM };
enum gkind { G_ANY, G_EMPTY, G_SEGS, G_GENERIC };
enum numop { NUM_GT, NUM_GTE, NUM_LT, NUM_LTE };

struct seg {
	uint32_t off, len;
};

struct value {
	uint8_t kind;      /* enum vkind */
	uint8_t gkind;     /* enum gkind */
	uint8_t cased;
	uint8_t op;        /* enum numop */
	uint8_t anch_start, anch_end;
	uint32_t re;       /* regex index */
	uint32_t nsegs;
	uint32_t plen;
	char *bytes;       /* glob literals (lowered unless cased) */
	uint8_t *cls;      /* G_GENERIC: per byte 0 literal, 1 '?', 2 '*' */
	struct seg *segs;
	double num;
	struct lw_cidr cidr;
};

struct matcher {
	uint32_t slot;
	uint8_t all;
	int8_t exists;     /* -1: value matcher, 0/1: exists: false/true */
	uint32_t first_val, nvals;
};

struct group {         /* every matcher must match */
	uint32_t first, n;
};

struct selection {     /* any group may match */
	uint32_t first_group, ngroups;
	int8_t constant;   /* -1 variable, else folded value */
};

struct slot {
	char *key;
	uint32_t keylen;
	uint8_t member;    /* enum lw_event_member */
	uint8_t absent;    /* build: nobody produces this extra field */
	uint8_t unknown;   /* non-ECS name without alias */
};

struct rule {
	struct lw_sigma_rule_info info;
	char **tagv;
	uint32_t first_sel, nsels;
	struct lw_sigma_cond *cond;
	char **programs;   /* NULL-terminated, or NULL: no program filter */
	uint32_t nprograms;
	unsigned facilities;
	int dead;          /* never evaluated */
	char *dead_reason;
	/* The gate (lw_sigma_set_build): the rule can match only if one of
	 * the values gate_vals[gate_first .. +gate_n] matches slot gate_slot
	 * (UINT32_MAX: no gate). Most rules name the event.action values
	 * they are about; checking that first spares every other event the
	 * whole condition. */
	uint32_t gate_slot, gate_first, gate_n;
};

struct regex_src {
	char *src;
	size_t len;
	unsigned flags;
};

struct lw_sigma_set {
	struct rule *rules;
	uint32_t nrules, rulecap;
	struct selection *sels;
	uint32_t nsels, selcap;
	struct group *groups;
	uint32_t ngroups, groupcap;
	struct matcher *matchers;
	uint32_t nmatchers, matchercap;
	struct value *vals;
	uint32_t nvals, valcap;
	struct slot *slots;
	uint32_t nslots, slotcap;
	struct regex_src *res;
	uint32_t nres, recap;
	struct lw_progmap map;   /* program -> rules */
	uint32_t *global;        /* rules without a program filter */
	uint32_t nglobal;
	uint32_t *facrules;      /* rules filtered by program OR facility */
	uint32_t nfacrules;
	uint32_t *gate_vals;     /* value indices of every rule's gate */
	uint32_t ngate_vals;
	int built;
};

struct slot_cache {
	uint64_t gen;
	uint8_t found;
	uint8_t low_ok;
	uint8_t ip_state;  /* 0 not parsed, 1 ok, 2 not an address */
	uint8_t num_state; /* same */
	struct lw_str raw;
	uint32_t low_off;
	double num;
	struct sockaddr_storage ip;
	char numbuf[LW_EVENT_MEMBER_TEXT_MAX];
};

struct lw_sigma_scratch {
	struct slot_cache *slots;
	uint32_t nslots;
	uint64_t gen;
	struct lw_regex **re;
	uint32_t nre;
	char *low;
	size_t low_len, low_cap;
	uint64_t limit_hits;
	const struct lw_sigma_set *set;
	const struct lw_event *ev;
	const struct rule *rule;
};

/* Grows *arr (of elem bytes) so one more fits. */
static int grow(void **arr, uint32_t *cap, uint32_t n, size_t elem)
{
	void *p;
	uint32_t ncap;

	if (n < *cap)
		return LW_OK;
	ncap = *cap ? *cap * 2 : 32;
	p = realloc(*arr, (size_t)ncap * elem);
	if (p == NULL)
		return LW_ENOMEM;
	*arr = p;
	*cap = ncap;
	return LW_OK;
}

struct lw_sigma_set *lw_sigma_set_new(void)
{
	struct lw_sigma_set *set = calloc(1, sizeof(*set));

	if (set != NULL)
		lw_progmap_init(&set->map);
	return set;
}

static void value_release(struct value *v)
{
	free(v->bytes);
	free(v->cls);
	free(v->segs);
}

static void rule_release(struct rule *r)
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
}

void lw_sigma_set_free(struct lw_sigma_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->nrules; i++)
		rule_release(&set->rules[i]);
	for (uint32_t i = 0; i < set->nvals; i++)
		value_release(&set->vals[i]);
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
	free(set->facrules);
	free(set->gate_vals);
	lw_progmap_release(&set->map);
	free(set);
}

/* ---- load context ---- */

struct ctx {
	struct lw_sigma_set *set;
	struct lw_ryaml *y;
};


/* The slot of a field name (Sigma or ECS), created on first use. */
static int field_slot(struct ctx *c, const yaml_node_t *n, const char *name,
		      size_t len, uint32_t *out)
{
	struct lw_sigma_set *set = c->set;
	const char *key = lw_event_sigma_alias(name, len);
	size_t klen = key != NULL ? strlen(key) : len;
	enum lw_event_member member;
	uint8_t unknown = 0;
	struct slot *s;

	if (key == NULL)
		key = name;
	member = lw_event_member_lookup(key, klen);
	if (member == LW_EVENT_MEMBER_NONE && memchr(key, '.', klen) == NULL) {
		unknown = 1;
		lw_ryaml_warn(c->y, n, "field '%.*s' is neither an ECS name nor a "
			      "known Sigma field: it never matches (it is "
			      "treated as absent)", (int)len, name);
	}
	for (uint32_t i = 0; i < set->nslots; i++)
		if (set->slots[i].keylen == klen &&
		    memcmp(set->slots[i].key, key, klen) == 0) {
			*out = i;
			return LW_OK;
		}
	if (grow((void **)&set->slots, &set->slotcap, set->nslots, sizeof(*s)) != LW_OK)
		return LW_ENOMEM;
	s = &set->slots[set->nslots];
	memset(s, 0, sizeof(*s));
	s->key = lw_memdup_z(key, klen);
	if (s->key == NULL)
		return LW_ENOMEM;
	s->keylen = (uint32_t)klen;
	s->member = (uint8_t)member;
	s->unknown = unknown;
	*out = set->nslots++;
	return LW_OK;
}

/* ---- values ---- */

static int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* Sigma string -> glob. Escapes: "\*" "\?" "\\" give the literal char;
 * any other backslash is literal (Windows paths in rules stay as typed). */
static int glob_compile(struct value *v, const char *s, size_t len,
			int pre_star, int post_star, int cased)
{
	size_t n = 0, i, nstar = 0, nq = 0;
	char *b = malloc(len + 3);
	uint8_t *cls = malloc(len + 3);
	int rc = LW_ENOMEM;

	if (b == NULL || cls == NULL)
		goto fail;
	if (pre_star) {
		b[n] = '*';
		cls[n++] = 2;
	}
	for (i = 0; i < len; i++) {
		char ch = s[i];
		uint8_t k = 0;

		if (ch == '\\' && i + 1 < len && strchr("*?\\", s[i + 1]) && s[i + 1]) {
			ch = s[++i];
		} else if (ch == '*') {
			k = 2;
		} else if (ch == '?') {
			k = 1;
		}
		if (k == 2 && n > 0 && cls[n - 1] == 2)
			continue; /* "**" is "*" */
		b[n] = k == 0 && !cased ? (char)lower((unsigned char)ch) : ch;
		cls[n++] = k;
	}
	if (post_star && !(n > 0 && cls[n - 1] == 2)) {
		b[n] = '*';
		cls[n++] = 2;
	}
	for (i = 0; i < n; i++) {
		nstar += cls[i] == 2;
		nq += cls[i] == 1;
	}
	v->kind = V_GLOB;
	v->cased = (uint8_t)cased;
	if (n == 0) {
		v->gkind = G_EMPTY;
	} else if (nstar == n) {
		v->gkind = G_ANY;
	} else if (nq > 0) {
		v->gkind = G_GENERIC;
		v->bytes = b;
		v->cls = cls;
		v->plen = (uint32_t)n;
		return LW_OK;
	} else {
		/* Literal runs between stars, in order; the first and last are
		 * anchored unless a star stands before/after them. */
		size_t w = 0, nsegs = 0, start;

		v->gkind = G_SEGS;
		v->anch_start = cls[0] != 2;
		v->anch_end = cls[n - 1] != 2;
		v->segs = calloc(nstar + 1, sizeof(*v->segs));
		v->bytes = malloc(n + 1);
		if (v->segs == NULL || v->bytes == NULL)
			goto fail;
		for (i = 0; i < n;) {
			if (cls[i] == 2) {
				i++;
				continue;
			}
			start = w;
			while (i < n && cls[i] != 2)
				v->bytes[w++] = b[i++];
			v->segs[nsegs++] = (struct seg){(uint32_t)start,
							(uint32_t)(w - start)};
		}
		v->nsegs = (uint32_t)nsegs;
		v->plen = (uint32_t)w;
	}
	free(b);
	free(cls);
	return LW_OK;

fail:
	free(b);
	free(cls);
	return rc;
}

static int glob_generic(const struct value *v, const char *s, size_t n)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < n) {
		if (pi < v->plen && v->cls[pi] == 2) {
			star = pi++;
			mark = si;
		} else if (pi < v->plen && (v->cls[pi] == 1 || v->bytes[pi] == s[si])) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < v->plen && v->cls[pi] == 2)
		pi++;
	return pi == v->plen;
}

static int glob_match(const struct value *v, const char *s, size_t n)
{
	size_t pos = 0, end = n;
	uint32_t i = 0, last;

	switch (v->gkind) {
	case G_ANY:
		return 1;
	case G_EMPTY:
		return n == 0;
	case G_GENERIC:
		return glob_generic(v, s, n);
	default:
		break;
	}
	last = v->nsegs;
	if (v->anch_start) {
		const struct seg *g = &v->segs[0];
		if (n < g->len || !lw_memeq(s, v->bytes + g->off, g->len))
			return 0;
		if (v->nsegs == 1 && v->anch_end)
			return n == g->len;
		pos = g->len;
		i = 1;
	}
	if (v->anch_end && last > i) {
		const struct seg *g = &v->segs[last - 1];
		if (end - pos < g->len ||
		    !lw_memeq(s + end - g->len, v->bytes + g->off, g->len))
			return 0;
		end -= g->len;
		last--;
	}
	for (; i < last; i++) {
		const struct seg *g = &v->segs[i];
		const char *f = lw_memfind(s + pos, end - pos, v->bytes + g->off, g->len);
		if (f == NULL)
			return 0;
		pos = (size_t)(f - s) + g->len;
	}
	return 1;
}

/* ---- modifiers ---- */

enum mods {
	M_CONTAINS = 1u << 0, M_STARTS = 1u << 1, M_ENDS = 1u << 2,
	M_ALL = 1u << 3, M_RE = 1u << 4, M_CIDR = 1u << 5, M_EXISTS = 1u << 6,
	M_GT = 1u << 7, M_GTE = 1u << 8, M_LT = 1u << 9, M_LTE = 1u << 10,
	M_CASED = 1u << 11, M_RE_I = 1u << 12, M_RE_M = 1u << 13, M_RE_S = 1u << 14
};

static const struct {
	const char *name;
	unsigned bit;
} mod_names[] = {
	{"contains", M_CONTAINS}, {"startswith", M_STARTS}, {"endswith", M_ENDS},
	{"all", M_ALL}, {"re", M_RE}, {"cidr", M_CIDR}, {"exists", M_EXISTS},
	{"gt", M_GT}, {"gte", M_GTE}, {"lt", M_LT}, {"lte", M_LTE},
	{"cased", M_CASED}, {"i", M_RE_I}, {"m", M_RE_M}, {"s", M_RE_S},
};

static const char *const rejected_mods[] = {
	"windash", "base64", "base64offset", "utf16", "utf16le", "utf16be",
	"wide", "expand", "fieldref", "neq", NULL};

#define M_NUMERIC (M_GT | M_GTE | M_LT | M_LTE)
#define M_STRPOS (M_CONTAINS | M_STARTS | M_ENDS)

static int parse_mods(struct ctx *c, const yaml_node_t *kn, const char *mods,
		      size_t len, unsigned *out)
{
	size_t i = 0;

	*out = 0;
	while (i < len) {
		size_t j = i, k;
		unsigned bit = 0;

		while (j < len && mods[j] != '|')
			j++;
		for (k = 0; k < sizeof(mod_names) / sizeof(mod_names[0]); k++)
			if (strlen(mod_names[k].name) == j - i &&
			    memcmp(mod_names[k].name, mods + i, j - i) == 0)
				bit = mod_names[k].bit;
		if ((bit & (M_RE_I | M_RE_M | M_RE_S)) && !(*out & M_RE))
			bit = 0; /* i/m/s only qualify re */
		if (bit == 0) {
			for (k = 0; rejected_mods[k] != NULL; k++)
				if (strlen(rejected_mods[k]) == j - i &&
				    memcmp(rejected_mods[k], mods + i, j - i) == 0)
					return lw_ryaml_error(c->y, kn, LW_EPARSE,
						"modifier '%s' is not supported",
						rejected_mods[k]);
			return lw_ryaml_error(c->y, kn, LW_EPARSE,
					      "unknown modifier '%.*s'",
					      (int)(j - i), mods + i);
		}
		*out |= bit;
		i = j + 1;
	}
	if (__builtin_popcount(*out & (M_STRPOS | M_RE | M_CIDR | M_EXISTS |
				       M_NUMERIC)) > 1)
		return lw_ryaml_error(c->y, kn, LW_EPARSE,
				      "conflicting modifiers in '%.*s'", (int)len,
				      mods);
	return LW_OK;
}

static int add_regex(struct ctx *c, const char *src, size_t len, unsigned mods,
		     const yaml_node_t *n, uint32_t *out)
{
	struct lw_sigma_set *set = c->set;
	struct lw_regex *re = NULL;
	struct lw_diag d;
	struct regex_src *r;
	char *full;
	size_t plen = 0;
	int rc;

	/* m and s have no lw_regex flag: they become pcre2 inline options. */
	full = malloc(len + 8);
	if (full == NULL)
		return LW_ENOMEM;
	if (mods & (M_RE_M | M_RE_S)) {
		full[plen++] = '(';
		full[plen++] = '?';
		if (mods & M_RE_M)
			full[plen++] = 'm';
		if (mods & M_RE_S)
			full[plen++] = 's';
		full[plen++] = ')';
	}
	memcpy(full + plen, src, len);
	plen += len;
	memset(&d, 0, sizeof(d));
	rc = lw_regex_compile(full, plen, (mods & M_RE_I) ? LW_REGEX_CASELESS : 0,
			      &re, &d);
	lw_regex_free(re);
	if (rc != LW_OK) {
		free(full);
		return lw_ryaml_error(c->y, n, rc, "re: %s", d.detail);
	}
	if (grow((void **)&set->res, &set->recap, set->nres, sizeof(*r)) != LW_OK) {
		free(full);
		return LW_ENOMEM;
	}
	r = &set->res[set->nres];
	r->src = full;
	r->len = plen;
	r->flags = (mods & M_RE_I) ? LW_REGEX_CASELESS : 0;
	*out = set->nres++;
	return LW_OK;
}

static int parse_number(const char *s, size_t len, double *out)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &end);
	return *end == '\0' && !isnan(*out);
}

/* One value of a field (or a keyword) under modifiers mods. */
static int add_value(struct ctx *c, const yaml_node_t *n, unsigned mods,
		     int keyword)
{
	struct lw_sigma_set *set = c->set;
	struct value *v;
	const char *s;
	size_t len;
	int rc;

	if (!lw_ryaml_is_scalar(n))
		return lw_ryaml_error(c->y, n, LW_EPARSE,
				      "expected a value (string, number or "
				      "null), not a %s",
				      n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	if (grow((void **)&set->vals, &set->valcap, set->nvals, sizeof(*v)) != LW_OK)
		return LW_ENOMEM;
	v = &set->vals[set->nvals];
	memset(v, 0, sizeof(*v));
	s = lw_ryaml_str(n, &len);
	if (lw_ryaml_is_null(n)) {
		if (mods & ~(M_ALL | M_CASED))
			return lw_ryaml_error(c->y, n, LW_EPARSE,
					      "null cannot take modifiers");
		if (keyword)
			return lw_ryaml_error(c->y, n, LW_EPARSE,
					      "a keyword cannot be null");
		v->kind = V_NULL;
	} else if (mods & M_RE) {
		v->kind = V_RE;
		rc = add_regex(c, s, len, mods, n, &v->re);
		if (rc != LW_OK)
			return rc;
	} else if (mods & M_CIDR) {
		char tmp[64];

		v->kind = V_CIDR;
		if (len >= sizeof(tmp))
			return lw_ryaml_error(c->y, n, LW_EPARSE,
					      "cidr: value too long");
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		if (lw_cidr_parse(tmp, &v->cidr) != LW_OK)
			return lw_ryaml_error(c->y, n, LW_EPARSE,
					      "cidr: '%s' is not a network "
					      "like 10.0.0.0/8", tmp);
	} else if (mods & M_NUMERIC) {
		v->kind = V_NUM;
		v->op = (mods & M_GT) ? NUM_GT : (mods & M_GTE) ? NUM_GTE :
			(mods & M_LT) ? NUM_LT : NUM_LTE;
		if (!parse_number(s, len, &v->num))
			return lw_ryaml_error(c->y, n, LW_EPARSE,
					      "'%.*s' is not a number", (int)len, s);
	} else {
		int pre = keyword || (mods & (M_CONTAINS | M_ENDS));
		int post = keyword || (mods & (M_CONTAINS | M_STARTS));

		rc = glob_compile(v, s, len, pre, post, (mods & M_CASED) != 0);
		if (rc != LW_OK)
			return rc;
	}
	set->nvals++;
	return LW_OK;
}

static int add_matcher(struct ctx *c, const yaml_node_t *kn, const char *key,
		       size_t klen, const yaml_node_t *vn)
{
	struct lw_sigma_set *set = c->set;
	struct matcher m;
	const char *bar = memchr(key, '|', klen);
	size_t flen = bar ? (size_t)(bar - key) : klen;
	unsigned mods = 0;
	int keyword = flen == 0, rc;

	memset(&m, 0, sizeof(m));
	m.exists = -1;
	if (bar != NULL) {
		rc = parse_mods(c, kn, bar + 1, klen - flen - 1, &mods);
		if (rc != LW_OK)
			return rc;
	}
	if (keyword)
		rc = field_slot(c, kn, "message", 7, &m.slot);
	else
		rc = field_slot(c, kn, key, flen, &m.slot);
	if (rc != LW_OK)
		return rc;
	m.all = (mods & M_ALL) != 0;
	if (mods & M_EXISTS) {
		int b;

		if (!lw_ryaml_bool(vn, &b))
			return lw_ryaml_error(c->y, vn, LW_EPARSE,
					      "exists: expected true or false");
		m.exists = (int8_t)b;
	} else {
		m.first_val = set->nvals;
		if (vn->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it = vn->data.sequence.items.start;

			if (it == vn->data.sequence.items.top)
				return lw_ryaml_error(c->y, vn, LW_EPARSE,
					"empty list of values");
			int first_err = LW_OK;

			for (; it < vn->data.sequence.items.top; it++) {
				rc = add_value(c, lw_ryaml_node(c->y, *it), mods, keyword);
				if (rc == LW_ENOMEM)
					return rc;
				if (rc != LW_OK && first_err == LW_OK)
					first_err = rc;
			}
			if (first_err != LW_OK)
				return first_err;
		} else {
			rc = add_value(c, vn, mods, keyword);
			if (rc != LW_OK)
				return rc;
		}
		m.nvals = set->nvals - m.first_val;
	}
	if (grow((void **)&set->matchers, &set->matchercap, set->nmatchers,
		 sizeof(m)) != LW_OK)
		return LW_ENOMEM;
	set->matchers[set->nmatchers++] = m;
	return LW_OK;
}

static int add_group(struct ctx *c, uint32_t first)
{
	struct lw_sigma_set *set = c->set;

	if (grow((void **)&set->groups, &set->groupcap, set->ngroups,
		 sizeof(struct group)) != LW_OK)
		return LW_ENOMEM;
	set->groups[set->ngroups++] = (struct group){first, set->nmatchers - first};
	return LW_OK;
}

/* A map: every key must match -> one group. */
static int map_group(struct ctx *c, yaml_node_t *n)
{
	uint32_t first = c->set->nmatchers;
	int rc, first_err = LW_OK;

	if (n->data.mapping.pairs.start == n->data.mapping.pairs.top)
		return lw_ryaml_error(c->y, n, LW_EPARSE, "empty selection");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(c->y, p->key);
		const char *ks;
		size_t kl;

		ks = lw_ryaml_str(k, &kl);
		if (ks == NULL) {
			first_err = first_err ? first_err :
				lw_ryaml_error(c->y, k, LW_EPARSE,
					       "field names must be strings");
			continue;
		}
		/* Keep going after a bad field so `rules check` lists every
		 * bad field of the selection, not just the first. */
		rc = add_matcher(c, k, ks, kl, lw_ryaml_node(c->y, p->value));
		if (rc == LW_ENOMEM)
			return rc;
		if (rc != LW_OK && first_err == LW_OK)
			first_err = rc;
	}
	return first_err != LW_OK ? first_err : add_group(c, first);
}

/* A keyword list (or single keyword) -> one matcher on message. */
static int keyword_group(struct ctx *c, yaml_node_t *n)
{
	uint32_t first = c->set->nmatchers;
	int rc = add_matcher(c, n, "", 0, n);

	return rc != LW_OK ? rc : add_group(c, first);
}

static int load_selection(struct ctx *c, yaml_node_t *n)
{
	struct lw_sigma_set *set = c->set;
	struct selection sel = {set->ngroups, 0, -1};
	int rc = LW_OK, nscalars = 0;

	if (n->type == YAML_MAPPING_NODE) {
		rc = map_group(c, n);
	} else if (n->type == YAML_SCALAR_NODE) {
		rc = keyword_group(c, n);
	} else {
		yaml_node_item_t *it = n->data.sequence.items.start;

		if (it == n->data.sequence.items.top)
			return lw_ryaml_error(c->y, n, LW_EPARSE,
					      "empty selection");
		for (; it < n->data.sequence.items.top; it++) {
			yaml_node_t *e = lw_ryaml_node(c->y, *it);
			if (e->type == YAML_SCALAR_NODE)
				nscalars++;
			else if (e->type == YAML_MAPPING_NODE)
				rc = map_group(c, e);
			else
				rc = lw_ryaml_error(c->y, e, LW_EPARSE,
					"a list of lists is not a selection");
			if (rc != LW_OK)
				return rc;
		}
		/* The scalars of a list are one keyword matcher (any of them). */
		if (nscalars == (int)(n->data.sequence.items.top -
				      n->data.sequence.items.start))
			rc = keyword_group(c, n);
		else if (nscalars > 0)
			rc = lw_ryaml_error(c->y, n, LW_EPARSE,
					    "a selection list mixes keywords and "
					    "maps; split it into two selections");
	}
	if (rc != LW_OK)
		return rc;
	sel.ngroups = set->ngroups - sel.first_group;
	if (grow((void **)&set->sels, &set->selcap, set->nsels, sizeof(sel)) != LW_OK)
		return LW_ENOMEM;
	set->sels[set->nsels++] = sel;
	return LW_OK;
}

/* ---- rule ---- */

static const char *const known_rule_keys[] = {
	"title", "id", "name", "status", "description", "references", "author",
	"date", "modified", "tags", "logsource", "detection", "falsepositives",
	"level", "fields", "related", "license", "scope", "taxonomy", NULL};

static int str_field(struct ctx *c, yaml_node_t *root, const char *key,
		     int required, char **out)
{
	yaml_node_t *k, *v = lw_ryaml_get(c->y, root, key, &k);
	const char *s;
	size_t len;

	*out = NULL;
	if (v == NULL) {
		if (required)
			return lw_ryaml_error(c->y, root, LW_EPARSE,
					      "'%s' is required", key);
		return LW_OK;
	}
	s = lw_ryaml_str(v, &len);
	if (s == NULL || len == 0)
		return lw_ryaml_error(c->y, v, LW_EPARSE,
				      "'%s' must be a non-empty string", key);
	*out = lw_memdup_z(s, len);
	return *out ? LW_OK : LW_ENOMEM;
}

static int add_program(struct rule *r, const char *p)
{
	char **n = realloc(r->programs, (r->nprograms + 2) * sizeof(*n));

	if (n == NULL)
		return LW_ENOMEM;
	r->programs = n;
	n[r->nprograms] = lw_memdup_z(p, strlen(p));
	if (n[r->nprograms] == NULL)
		return LW_ENOMEM;
	n[++r->nprograms] = NULL;
	return LW_OK;
}

static int load_logsource(struct ctx *c, yaml_node_t *root, struct rule *r)
{
	yaml_node_t *ls = lw_ryaml_get(c->y, root, "logsource", NULL), *v;
	const char *product = NULL, *service = NULL, *category = NULL;

	if (ls == NULL || ls->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, ls ? ls : root, LW_EPARSE,
				      "'logsource' (a mapping) is required");
	v = lw_ryaml_get(c->y, ls, "product", NULL);
	product = lw_ryaml_str(v, NULL);
	v = lw_ryaml_get(c->y, ls, "service", NULL);
	service = lw_ryaml_str(v, NULL);
	v = lw_ryaml_get(c->y, ls, "category", NULL);
	category = lw_ryaml_str(v, NULL);
	if (product != NULL && strcmp(product, "linux") != 0 &&
	    strcmp(product, "unix") != 0) {
		r->dead = 1;
		r->dead_reason = lw_memdup_z("logsource product is not linux", 30);
		lw_ryaml_warn(c->y, ls, "logsource product '%s': logward only "
			      "receives Linux/syslog events, the "
			      "rule never matches", product);
		return LW_OK;
	}
	if (service != NULL) {
		size_t i, n = sizeof(service_map) / sizeof(service_map[0]);

		for (i = 0; i < n; i++)
			if (strcmp(service_map[i].service, service) == 0)
				break;
		if (i == n) {
			lw_ryaml_warn(c->y, ls, "logsource service '%s' is not in "
				      "logward's table; the rule applies to "
				      "process.name '%s'", service, service);
			return add_program(r, service);
		}
		r->facilities = service_map[i].facilities;
		for (size_t p = 0; service_map[i].programs[p] != NULL; p++)
			if (add_program(r, service_map[i].programs[p]) != LW_OK)
				return LW_ENOMEM;
		return LW_OK;
	}
	if (category != NULL && strcmp(category, "firewall") == 0)
		return add_program(r, "kernel"); /* iptables/nftables/UFW LOG */
	if (category != NULL) {
		size_t i;

		for (i = 0; unrestricted_categories[i] != NULL; i++)
			if (strcmp(unrestricted_categories[i], category) == 0)
				break;
		if (unrestricted_categories[i] == NULL)
			lw_ryaml_warn(c->y, ls, "logsource category '%s' is not in "
				      "logward's table; the rule applies "
				      "to every event", category);
	}
	return LW_OK;
}

static int load_tags(struct ctx *c, yaml_node_t *root, struct rule *r)
{
	yaml_node_t *tags = lw_ryaml_get(c->y, root, "tags", NULL);
	int cat = -1;
	yaml_node_t *catnode = NULL;

	if (tags != NULL && tags->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(c->y, tags, LW_EPARSE,
				      "'tags' must be a list");
	if (tags != NULL) {
		size_t n = (size_t)(tags->data.sequence.items.top -
				    tags->data.sequence.items.start);
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
						"unknown category '%s' (expected "
						"one of unauthorized-access, dos, "
						"anomalous-outbound, malware, "
						"data-exfiltration, "
						"unauthorized-software, "
						"log-tampering, system-failure)",
						s + 8);
				if (cat >= 0 && cat != k)
					return lw_ryaml_error(c->y, t, LW_EPARSE,
						"two logward categories: '%s' and '%s'",
						category_names[cat], s + 8);
				cat = k;
				catnode = t;
			}
			r->tagv[r->info.ntags] = lw_memdup_z(s, len);
			if (r->tagv[r->info.ntags++] == NULL)
				return LW_ENOMEM;
		}
	}
	(void)catnode;
	r->info.tags = (const char *const *)r->tagv;
	if (cat < 0) {
		if (!r->dead)
			lw_ryaml_warn(c->y, root, "no 'logward.<category>' tag: "
				      "the rule's incidents get category "
				      "unauthorized-access");
		cat = LW_CAT_UNAUTHORIZED_ACCESS;
	}
	r->info.category = (enum lw_category)cat;
	return LW_OK;
}

static int load_level(struct ctx *c, yaml_node_t *root, struct rule *r)
{
	yaml_node_t *v = lw_ryaml_get(c->y, root, "level", NULL);
	const char *s = lw_ryaml_str(v, NULL);

	r->info.level = LW_LEVEL_MEDIUM;
	if (v == NULL) {
		lw_ryaml_warn(c->y, root, "no 'level': medium is assumed");
		return LW_OK;
	}
	for (int i = 0; s != NULL && i <= LW_LEVEL_CRITICAL; i++)
		if (strcmp(s, level_names[i]) == 0) {
			r->info.level = (enum lw_sigma_level)i;
			return LW_OK;
		}
	return lw_ryaml_error(c->y, v, LW_EPARSE, "level must be informational, "
			      "low, medium, high or critical");
}

static int load_detection(struct ctx *c, yaml_node_t *root, struct rule *r)
{
	struct lw_sigma_set *set = c->set;
	yaml_node_t *det = lw_ryaml_get(c->y, root, "detection", NULL);
	yaml_node_t *cond = NULL, *v;
	const char **names = NULL;
	struct lw_buf text;
	struct lw_diag d;
	uint32_t nnames = 0;
	int rc = LW_OK;

	lw_buf_init(&text);
	if (det == NULL || det->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, det ? det : root, LW_EPARSE,
				      "'detection' (a mapping) is required");
	names = calloc((size_t)(det->data.mapping.pairs.top -
				det->data.mapping.pairs.start) + 1, sizeof(*names));
	if (names == NULL)
		return LW_ENOMEM;
	r->first_sel = set->nsels;
	for (yaml_node_pair_t *p = det->data.mapping.pairs.start;
	     p < det->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(c->y, p->key);
		const char *ks = lw_ryaml_str(k, NULL);

		v = lw_ryaml_node(c->y, p->value);
		if (ks == NULL) {
			rc = lw_ryaml_error(c->y, k, LW_EPARSE,
					    "selection names must be strings");
			goto out;
		}
		if (strcmp(ks, "condition") == 0) {
			cond = v;
			continue;
		}
		if (strcmp(ks, "timeframe") == 0) {
			rc = lw_ryaml_error(c->y, k, LW_EPARSE,
					    "'timeframe' is not supported in a "
					    "detection rule; write a "
					    "correlation rule");
			goto out;
		}
		/* A bad selection still gets its name, so the condition is
		 * checked too and reports its own errors. */
		rc = load_selection(c, v);
		if (rc == LW_ENOMEM)
			goto out;
		names[nnames++] = ks;
	}
	rc = LW_OK;
	r->nsels = set->nsels - r->first_sel;
	if (cond == NULL) {
		rc = lw_ryaml_error(c->y, det, LW_EPARSE,
				    "detection has no 'condition'");
		goto out;
	}
	if (cond->type == YAML_SEQUENCE_NODE) {
		/* Sigma 1 allowed a list of conditions: any of them. */
		for (yaml_node_item_t *it = cond->data.sequence.items.start;
		     it < cond->data.sequence.items.top; it++) {
			const char *s = lw_ryaml_str(lw_ryaml_node(c->y, *it), NULL);
			if (s == NULL) {
				rc = lw_ryaml_error(c->y, cond, LW_EPARSE,
					"condition: expected strings");
				goto out;
			}
			lw_buf_printf(&text, "%s(%s)", text.len ? " or " : "", s);
		}
	} else if (lw_ryaml_is_scalar(cond)) {
		size_t len;
		const char *s = lw_ryaml_str(cond, &len);
		lw_buf_append(&text, s, len);
	} else {
		rc = lw_ryaml_error(c->y, cond, LW_EPARSE,
				    "condition must be a string");
		goto out;
	}
	if (text.oom) {
		rc = LW_ENOMEM;
		goto out;
	}
	memset(&d, 0, sizeof(d));
	rc = lw_sigma_cond_compile(text.data ? text.data : "", text.len, names,
				   nnames, &r->cond, &d);
	if (rc == LW_EPARSE) {
		/* The column is exact for a one-line condition; for lists it
		 * points into the joined text, so only the line is given. */
		lw_ryaml_error_at(c->y, lw_ryaml_line(cond),
				  cond->type == YAML_SEQUENCE_NODE ? 0 :
				  lw_ryaml_col(cond) + d.col - 1, rc, "%s", d.detail);
	}
out:
	free(names);
	lw_buf_release(&text);
	return rc;
}

static int check_rule_keys(struct ctx *c, yaml_node_t *root)
{
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(c->y, p->key);
		const char *ks = lw_ryaml_str(k, NULL);
		size_t i;

		if (ks == NULL)
			continue;
		if (strcmp(ks, "correlation") == 0)
			return lw_ryaml_error(c->y, k, LW_EPARSE,
					      "a correlation rule: put it in "
					      "rules/correlation/");
		if (strcmp(ks, "action") == 0)
			return lw_ryaml_error(c->y, k, LW_EPARSE,
					      "rule collections (action: "
					      "global/reset/repeat) "
					      "are not supported");
		for (i = 0; known_rule_keys[i] != NULL; i++)
			if (strcmp(ks, known_rule_keys[i]) == 0)
				break;
		if (known_rule_keys[i] == NULL)
			lw_ryaml_warn(c->y, k, "unknown key '%s' ignored", ks);
	}
	return LW_OK;
}

/* Everything a failed rule added to the set's arrays is dropped again. */
struct marks {
	uint32_t sels, groups, matchers, vals, res;
};

static void rollback(struct lw_sigma_set *set, const struct marks *m)
{
	while (set->nvals > m->vals)
		value_release(&set->vals[--set->nvals]);
	while (set->nres > m->res)
		free(set->res[--set->nres].src);
	set->nsels = m->sels;
	set->ngroups = m->groups;
	set->nmatchers = m->matchers;
}

static int load_rule(struct ctx *c, yaml_node_t *root)
{
	struct lw_sigma_set *set = c->set;
	struct marks m = {set->nsels, set->ngroups, set->nmatchers, set->nvals,
			  set->nres};
	struct rule r;
	int rc;

	memset(&r, 0, sizeof(r));
	c->y->err = LW_OK;
	if (root->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(c->y, root, LW_EPARSE,
				      "a rule must be a mapping");
	rc = check_rule_keys(c, root);
	if (rc == LW_OK)
		rc = str_field(c, root, "title", 1, (char **)&r.info.title);
	if (rc == LW_OK)
		rc = str_field(c, root, "id", 1, (char **)&r.info.id);
	if (rc == LW_OK)
		rc = str_field(c, root, "name", 0, (char **)&r.info.name);
	if (rc == LW_OK)
		rc = str_field(c, root, "status", 0, (char **)&r.info.status);
	if (rc == LW_OK)
		for (uint32_t i = 0; i < set->nrules; i++)
			if (strcmp(set->rules[i].info.id, r.info.id) == 0) {
				rc = lw_ryaml_error(c->y, lw_ryaml_get(c->y, root, "id", NULL),
					LW_EPARSE, "duplicate id %s (also in %s:%d)",
					r.info.id, set->rules[i].info.file,
					set->rules[i].info.line);
				break;
			}
	if (rc == LW_OK)
		rc = load_level(c, root, &r);
	if (rc == LW_OK)
		rc = load_logsource(c, root, &r);
	if (rc == LW_OK)
		rc = load_tags(c, root, &r);
	/* Detection errors are worth collecting even after a metadata error,
	 * but a missing id/title already makes the rule unusable. */
	if (rc != LW_ENOMEM) {
		int drc = load_detection(c, root, &r);
		if (rc == LW_OK)
			rc = drc;
	}
	if (rc == LW_OK && c->y->err != LW_OK)
		rc = c->y->err;
	if (rc == LW_OK) {
		r.info.file = lw_memdup_z(c->y->path, strlen(c->y->path));
		r.info.line = lw_ryaml_line(root);
		if (r.info.file == NULL)
			rc = LW_ENOMEM;
	}
	if (rc == LW_OK && grow((void **)&set->rules, &set->rulecap, set->nrules,
				sizeof(r)) != LW_OK)
		rc = LW_ENOMEM;
	if (rc != LW_OK) {
		rule_release(&r);
		rollback(set, &m);
		return rc;
	}
	set->rules[set->nrules++] = r;
	return LW_OK;
}

static int load_all(void *target, struct lw_ryaml *y)
{
	struct lw_sigma_set *set = target;
	struct ctx c = {set, y};
	yaml_node_t *root;
	int rc = LW_OK, r;

	while ((r = lw_ryaml_next(y, &root)) == 1) {
		int lrc = load_rule(&c, root);
		if (lrc == LW_ENOMEM)
			return lrc;
		if (lrc != LW_OK && rc == LW_OK)
			rc = lrc;
	}
	if (r < 0 && rc == LW_OK)
		rc = r;
	return rc;
}

int lw_sigma_set_load_file(struct lw_sigma_set *set, const char *path,
			   struct lw_diags *diags)
{
	if (set->built)
		return LW_EINVAL;
	return lw_ryaml_load(path, NULL, 0, load_all, set, diags);
}

int lw_sigma_set_load_string(struct lw_sigma_set *set, const char *name,
			     const char *yaml, size_t len,
			     struct lw_diags *diags)
{
	if (set->built)
		return LW_EINVAL;
	return lw_ryaml_load(name, yaml, len, load_all, set, diags);
}

/* ---- build: constant folding and filing by program ---- */

/* The value of a matcher on a field that is always absent. */
static int absent_matcher(const struct lw_sigma_set *set, const struct matcher *m)
{
	if (m->exists >= 0)
		return m->exists == 0;
	for (uint32_t i = 0; i < m->nvals; i++) {
		int r = set->vals[m->first_val + i].kind == V_NULL;
		if (m->all && !r)
			return 0;
		if (!m->all && r)
			return 1;
	}
	return m->all;
}

static void fold_selection(struct lw_sigma_set *set, struct selection *sel)
{
	int any_variable = 0;

	sel->constant = 0;
	for (uint32_t g = 0; g < sel->ngroups; g++) {
		const struct group *gr = &set->groups[sel->first_group + g];
		int gconst = 1, gvar = 0;

		for (uint32_t k = 0; k < gr->n; k++) {
			const struct matcher *m = &set->matchers[gr->first + k];
			if (!set->slots[m->slot].absent) {
				gvar = 1;
				continue;
			}
			if (!absent_matcher(set, m)) {
				gconst = 0;
				gvar = 0;
				break;
			}
		}
		if (!gconst)
			continue; /* this alternative is always false */
		if (!gvar) {
			sel->constant = 1; /* always true */
			return;
		}
		any_variable = 1;
	}
	sel->constant = any_variable ? -1 : 0;
}

/* 1 when r's condition is false for every assignment of the selections
 * var[0..nvar) (the others fixed as in base, a bit per selection). */
static int never_true(const struct rule *r, uint64_t base,
		      const uint32_t *var, uint32_t nvar)
{
	for (uint64_t a = 0; a < (1ull << nvar); a++) {
		uint64_t mask = base;

		for (uint32_t k = 0; k < nvar; k++)
			if ((a >> k) & 1)
				mask |= 1ull << var[k];
		if (lw_sigma_cond_eval_mask(r->cond, mask))
			return 0;
	}
	return 1;
}

/* 1 when no assignment of the variable selections makes the condition
 * true. Exhaustive up to 16 variable selections, else assumed live. */
static int rule_is_dead(const struct lw_sigma_set *set, const struct rule *r)
{
	uint32_t var[16], nvar = 0;
	uint64_t base = 0;

	if (r->nsels > 64)
		return 0;
	for (uint32_t i = 0; i < r->nsels; i++) {
		const struct selection *s = &set->sels[r->first_sel + i];
		if (s->constant == 1)
			base |= 1ull << i;
		else if (s->constant < 0) {
			if (nvar == 16)
				return 0;
			var[nvar++] = i;
		}
	}
	return never_true(r, base, var, nvar);
}

static int push_u32(uint32_t **arr, uint32_t *n, uint32_t v)
{
	uint32_t *p = realloc(*arr, (*n + 1) * sizeof(*p));

	if (p == NULL)
		return LW_ENOMEM;
	p[(*n)++] = v;
	*arr = p;
	return LW_OK;
}

/* A value matcher on slot whose values are all globs: the selection's
 * group can be true only if one of them matches (a glob never matches a
 * missing field; null values, which do, are not globs). */
static const struct matcher *gate_matcher(const struct lw_sigma_set *set,
					  const struct group *gr, uint32_t slot)
{
	for (uint32_t k = 0; k < gr->n; k++) {
		const struct matcher *m = &set->matchers[gr->first + k];
		uint32_t v;

		if (m->slot != slot || m->exists >= 0 || m->nvals == 0)
			continue;
		for (v = 0; v < m->nvals; v++)
			if (set->vals[m->first_val + v].kind != V_GLOB)
				break;
		if (v == m->nvals)
			return m;
	}
	return NULL;
}

/* 1 when every alternative (group) of sel has a gate matcher on slot:
 * then sel is false unless one of their values matches. */
static int sel_needs(const struct lw_sigma_set *set, const struct selection *sel,
		     uint32_t slot)
{
	if (sel->constant == 0)
		return 1;
	if (sel->constant == 1 || sel->ngroups == 0)
		return 0;
	for (uint32_t g = 0; g < sel->ngroups; g++)
		if (gate_matcher(set, &set->groups[sel->first_group + g], slot) == NULL)
			return 0;
	return 1;
}

/* 1 when no assignment of the selections that do not need slot makes the
 * condition true while those that need it are false (exhaustive up to 16
 * free selections, else no). */
static int slot_gates_rule(const struct lw_sigma_set *set, const struct rule *r,
			   uint32_t slot, uint64_t *needs)
{
	uint32_t var[16], nvar = 0;
	uint64_t base = 0;

	*needs = 0;
	if (r->nsels > 64)
		return 0;
	for (uint32_t i = 0; i < r->nsels; i++) {
		const struct selection *s = &set->sels[r->first_sel + i];

		if (sel_needs(set, s, slot))
			*needs |= 1ull << i;
		else if (s->constant == 1)
			base |= 1ull << i;
		else {
			if (nvar == 16)
				return 0;
			var[nvar++] = i;
		}
	}
	return never_true(r, base, var, nvar);
}

/* Finds r's gate: of the slots that gate the rule, the one with the
 * fewest values; its values are those of the gate matchers of every
 * selection that needs it. A rule without one keeps gate_slot
 * UINT32_MAX and is always evaluated. */
static int find_gate(struct lw_sigma_set *set, struct rule *r)
{
	uint32_t best = UINT32_MAX, best_n = UINT32_MAX;
	uint64_t best_needs = 0;

	r->gate_slot = UINT32_MAX;
	for (uint32_t i = 0; i < r->nsels; i++) {
		const struct selection *sel = &set->sels[r->first_sel + i];

		for (uint32_t g = 0; g < sel->ngroups; g++) {
			const struct group *gr = &set->groups[sel->first_group + g];

			for (uint32_t k = 0; k < gr->n; k++) {
				uint32_t slot = set->matchers[gr->first + k].slot;
				uint64_t needs;
				uint32_t n = 0;

				if (slot == best || set->slots[slot].absent ||
				    !slot_gates_rule(set, r, slot, &needs))
					continue;
				for (uint32_t j = 0; j < r->nsels; j++) {
					const struct selection *sj = &set->sels[r->first_sel + j];
					if (!((needs >> j) & 1) || sj->constant == 0)
						continue;
					for (uint32_t h = 0; h < sj->ngroups; h++)
						n += gate_matcher(set, &set->groups[sj->first_group + h],
								  slot)->nvals;
				}
				if (n < best_n) {
					best = slot;
					best_n = n;
					best_needs = needs;
				}
			}
		}
	}
	if (best == UINT32_MAX)
		return LW_OK;
	r->gate_first = set->ngate_vals;
	for (uint32_t j = 0; j < r->nsels; j++) {
		const struct selection *sj = &set->sels[r->first_sel + j];

		if (!((best_needs >> j) & 1) || sj->constant == 0)
			continue;
		for (uint32_t h = 0; h < sj->ngroups; h++) {
			const struct matcher *m =
				gate_matcher(set, &set->groups[sj->first_group + h], best);
			for (uint32_t v = 0; v < m->nvals; v++) {
				int rc = push_u32(&set->gate_vals, &set->ngate_vals,
						  m->first_val + v);
				if (rc != LW_OK)
					return rc;
			}
		}
	}
	r->gate_n = set->ngate_vals - r->gate_first;
	r->gate_slot = best;
	return LW_OK;
}

int lw_sigma_set_build(struct lw_sigma_set *set, lw_sigma_known_fn known,
		       void *arg, struct lw_diags *diags)
{
	int rc;

	if (set->built)
		return LW_EINVAL;
	for (uint32_t i = 0; i < set->nslots; i++) {
		struct slot *s = &set->slots[i];
		s->absent = s->unknown ||
			(s->member == LW_EVENT_MEMBER_NONE && known != NULL &&
			 !known(s->key, s->keylen, arg));
	}
	for (uint32_t i = 0; i < set->nsels; i++)
		fold_selection(set, &set->sels[i]);
	for (uint32_t i = 0; i < set->nrules; i++) {
		struct rule *r = &set->rules[i];

		if (!r->dead && rule_is_dead(set, r)) {
			r->dead = 1;
			lw_diags_add(diags, LW_DIAG_WARNING, LW_OK, r->info.file,
				     r->info.line, 0, "rule %s can never match: "
				     "the fields it needs are never present (no "
				     "decoder produces them, or no zones are "
				     "configured)", r->info.id);
		}
		r->info.never_matches = r->dead;
		r->gate_slot = UINT32_MAX;
		if (r->dead)
			continue;
		rc = find_gate(set, r);
		if (rc != LW_OK)
			return rc;
		if (r->nprograms == 0)
			rc = push_u32(&set->global, &set->nglobal, i);
		else if (r->facilities != 0)
			rc = push_u32(&set->facrules, &set->nfacrules, i);
		else {
			rc = LW_OK;
			for (uint32_t p = 0; p < r->nprograms && rc == LW_OK; p++)
				rc = lw_progmap_add(&set->map, r->programs[p],
						    strlen(r->programs[p]), i);
		}
		if (rc != LW_OK)
			return rc;
	}
	rc = lw_progmap_build(&set->map);
	if (rc == LW_OK)
		set->built = 1;
	return rc;
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

/* ---- evaluation ---- */

struct lw_sigma_scratch *lw_sigma_scratch_new(const struct lw_sigma_set *set)
{
	struct lw_sigma_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->set = set;
	s->nslots = set->nslots;
	s->slots = calloc(set->nslots ? set->nslots : 1, sizeof(*s->slots));
	s->re = calloc(set->nres ? set->nres : 1, sizeof(*s->re));
	s->low_cap = 4096;
	s->low = malloc(s->low_cap);
	if (s->slots == NULL || s->re == NULL || s->low == NULL)
		goto fail;
	for (; s->nre < set->nres; s->nre++)
		if (lw_regex_compile(set->res[s->nre].src, set->res[s->nre].len,
				     set->res[s->nre].flags, &s->re[s->nre],
				     NULL) != LW_OK)
			goto fail;
	return s;

fail:
	lw_sigma_scratch_free(s);
	return NULL;
}

void lw_sigma_scratch_free(struct lw_sigma_scratch *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nre; i++)
		lw_regex_free(s->re[i]);
	free(s->re);
	free(s->slots);
	free(s->low);
	free(s);
}

uint64_t lw_sigma_scratch_limit_hits(const struct lw_sigma_scratch *s)
{
	return s->limit_hits;
}

static struct slot_cache *resolve(struct lw_sigma_scratch *s, uint32_t slot)
{
	struct slot_cache *sc = &s->slots[slot];
	const struct slot *sl = &s->set->slots[slot];
	const struct lw_event *ev = s->ev;
	struct lw_str v = LW_STR_NULL;
	int present = 0;

	if (sc->gen == s->gen)
		return sc;
	sc->gen = s->gen;
	sc->low_ok = 0;
	sc->ip_state = 0;
	sc->num_state = 0;
	if (sl->member != LW_EVENT_MEMBER_NONE) {
		v = lw_event_member_value(ev, sl->member, sc->numbuf);
	} else if (!sl->absent) {
		const struct lw_field *f = lw_event_field(ev, sl->key, sl->keylen);

		if (f != NULL) {
			v = f->value;
			present = 1; /* an extra field may be present and empty */
		}
	}
	sc->raw = v;
	/* An empty member is how the event says "not present". */
	sc->found = v.len > 0 || present;
	return sc;
}

/* The lowered copy of a slot's value, made once per event. */
static const char *lowered(struct lw_sigma_scratch *s, struct slot_cache *sc)
{
	if (!sc->low_ok) {
		size_t need = s->low_len + sc->raw.len;
		if (need > s->low_cap) {
			size_t cap = s->low_cap * 2 > need ? s->low_cap * 2 : need;
			char *n = realloc(s->low, cap);
			if (n == NULL)
				return NULL;
			s->low = n;
			s->low_cap = cap;
		}
		for (uint32_t i = 0; i < sc->raw.len; i++)
			s->low[s->low_len + i] =
				(char)lower((unsigned char)sc->raw.ptr[i]);
		sc->low_off = (uint32_t)s->low_len;
		s->low_len = need;
		sc->low_ok = 1;
	}
	return s->low + sc->low_off;
}

static int value_match(struct lw_sigma_scratch *s, const struct value *v,
		       struct slot_cache *sc)
{
	if (v->kind == V_NULL)
		return !sc->found || sc->raw.len == 0;
	if (!sc->found)
		return 0;
	switch (v->kind) {
	case V_GLOB: {
		const char *subj = sc->raw.ptr;
		if (v->gkind == G_ANY)
			return 1;
		if (!v->cased && (subj = lowered(s, sc)) == NULL)
			return 0; /* out of memory: cannot match */
		return glob_match(v, subj, sc->raw.len);
	}
	case V_RE: {
		int rc = lw_regex_match(s->re[v->re], sc->raw.ptr, sc->raw.len);
		if (rc == LW_EFULL)
			s->limit_hits++;
		return rc == 1;
	}
	case V_CIDR:
		if (sc->ip_state == 0) {
			char tmp[64];
			struct sockaddr_in *in = (struct sockaddr_in *)&sc->ip;
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sc->ip;

			sc->ip_state = 2;
			memset(&sc->ip, 0, sizeof(sc->ip));
			if (sc->raw.len < sizeof(tmp)) {
				memcpy(tmp, sc->raw.ptr, sc->raw.len);
				tmp[sc->raw.len] = '\0';
				if (inet_pton(AF_INET, tmp, &in->sin_addr) == 1) {
					in->sin_family = AF_INET;
					sc->ip_state = 1;
				} else if (inet_pton(AF_INET6, tmp, &in6->sin6_addr) == 1) {
					in6->sin6_family = AF_INET6;
					sc->ip_state = 1;
				}
			}
		}
		return sc->ip_state == 1 &&
		       lw_cidr_contains(&v->cidr, (const struct sockaddr *)&sc->ip);
	case V_NUM:
		if (sc->num_state == 0)
			sc->num_state = parse_number(sc->raw.ptr, sc->raw.len,
						     &sc->num) ? 1 : 2;
		if (sc->num_state != 1)
			return 0;
		switch (v->op) {
		case NUM_GT: return sc->num > v->num;
		case NUM_GTE: return sc->num >= v->num;
		case NUM_LT: return sc->num < v->num;
		default: return sc->num <= v->num;
		}
	default:
		return 0;
	}
}

static int matcher_match(struct lw_sigma_scratch *s, const struct matcher *m)
{
	const struct lw_sigma_set *set = s->set;
	struct slot_cache *sc = resolve(s, m->slot);

	if (m->exists >= 0)
		return sc->found == (uint8_t)m->exists;
	for (uint32_t i = 0; i < m->nvals; i++) {
		int r = value_match(s, &set->vals[m->first_val + i], sc);
		if (m->all && !r)
			return 0;
		if (!m->all && r)
			return 1;
	}
	return m->all;
}

static int selection_test(uint32_t sel, void *arg)
{
	struct lw_sigma_scratch *s = arg;
	const struct lw_sigma_set *set = s->set;
	const struct selection *se = &set->sels[s->rule->first_sel + sel];

	if (se->constant >= 0)
		return se->constant;
	for (uint32_t g = 0; g < se->ngroups; g++) {
		const struct group *gr = &set->groups[se->first_group + g];
		uint32_t k;

		for (k = 0; k < gr->n; k++)
			if (!matcher_match(s, &set->matchers[gr->first + k]))
				break;
		if (k == gr->n)
			return 1;
	}
	return 0;
}

static int rule_match(struct lw_sigma_scratch *s, uint32_t ri)
{
	const struct lw_sigma_set *set = s->set;
	const struct rule *r = &set->rules[ri];

	if (r->gate_slot != UINT32_MAX) {
		struct slot_cache *sc = resolve(s, r->gate_slot);
		uint32_t i;

		if (!sc->found)
			return 0;
		for (i = 0; i < r->gate_n; i++) {
			const struct value *v = &set->vals[set->gate_vals[r->gate_first + i]];

			/* An exact string of another length cannot match:
			 * skip lowering the value and comparing it. */
			if (v->kind == V_GLOB && v->gkind == G_SEGS && v->nsegs == 1 &&
			    v->anch_start && v->anch_end && v->segs[0].len != sc->raw.len)
				continue;
			if (value_match(s, v, sc))
				break;
		}
		if (i == r->gate_n)
			return 0;
	}
	s->rule = r;
	return lw_sigma_cond_eval(r->cond, selection_test, s);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int program_in(const struct rule *r, const struct lw_str *app)
{
	for (uint32_t i = 0; i < r->nprograms; i++)
		/* The first byte (the NUL of an empty name at worst) rules
		 * out most names; strnlen rejects a long one without
		 * measuring it all. */
		if ((app->len == 0 || r->programs[i][0] == app->ptr[0]) &&
		    strnlen(r->programs[i], (size_t)app->len + 1) == app->len &&
		    lw_memeq(r->programs[i], app->ptr, app->len))
			return 1;
	return 0;
}

int lw_sigma_eval(const struct lw_sigma_set *set, struct lw_sigma_scratch *s,
		  const struct lw_event *ev, uint32_t *out, uint32_t cap,
		  uint32_t *nout)
{
	const uint32_t *idx;
	uint32_t n, k = 0;

	*nout = 0;
	s->gen++;
	s->ev = ev;
	s->low_len = 0;
	idx = lw_progmap_find(&set->map, ev->app.ptr, ev->app.len, &n);
	for (uint32_t i = 0; i < n; i++)
		if (rule_match(s, idx[i]) && k < cap)
			out[k++] = idx[i];
	for (uint32_t i = 0; i < set->nfacrules; i++) {
		const struct rule *r = &set->rules[set->facrules[i]];
		int fac_ok = ev->facility < 32 && ((r->facilities >> ev->facility) & 1);

		if ((fac_ok || program_in(r, &ev->app)) &&
		    rule_match(s, set->facrules[i]) && k < cap)
			out[k++] = set->facrules[i];
	}
	for (uint32_t i = 0; i < set->nglobal; i++)
		if (rule_match(s, set->global[i]) && k < cap)
			out[k++] = set->global[i];
	if (k > 1)
		qsort(out, k, sizeof(*out), u32_cmp);
	*nout = k;
	s->ev = NULL;
	return LW_OK;
}
