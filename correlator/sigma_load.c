/* lw_sigma_set_load_*: Sigma rule files compiled into a set
 * (correlator/sigma_load.h): metadata, logsource, selections, values and
 * modifiers, the condition. */
#include "correlator/sigma_load.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/regex.h"
#include "correlator/ryaml.h"
#include "correlator/sigma_int.h"
#include "correlator/sigma_meta.h"

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
	{"dns", 0, {"named", "bind", "bind9", "unbound", "dnsmasq", "nsd"}},
	{"auditd", 0, {"auditd", "audit", "audispd", "audisp-syslog"}},
	{"kernel", 0, {"kernel"}},
	{"systemd", 0, {"systemd"}},
	{"syslog", 0, {NULL}}, /* every event */
};

/* product: windows. A service names the event log channel the Windows
 * decoders (rules/decoders/windows.yml) put in winlog.channel; SigmaHQ's
 * field names are the event's data fields, kept under
 * winlog.event_data.<Name>, except these System fields. */
static const struct {
	const char *service, *channel;
} windows_channels[] = {
	{"security", "Security"},
	{"system", "System"},
	{"application", "Application"},
	{"sysmon", "Microsoft-Windows-Sysmon/Operational"},
	{"powershell", "Microsoft-Windows-PowerShell/Operational"},
	{"taskscheduler", "Microsoft-Windows-TaskScheduler/Operational"},
	{"windefend", "Microsoft-Windows-Windows Defender/Operational"},
};

static const struct {
	const char *sigma, *field;
} windows_fields[] = {
	{"EventID", "winlog.event_id"},
	{"Channel", "winlog.channel"},
	{"Provider_Name", "winlog.provider_name"},
	{"EventRecordID", "winlog.record_id"},
};

#define WINLOG_DATA "winlog.event_data."
#define LW_SIGMA_FIELD_MAX 128

static const char *const unrestricted_categories[] = {
	"firewall", "process_creation", "file_event", "file_create", "file_change",
	"file_delete", "file_access", "file_rename", "network_connection",
	"dns_query", "dns", "proxy", "webserver", "create_remote_thread",
	"image_load", "process_access", "antivirus", "authentication", NULL};

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

/* ---- load context ---- */

struct ctx {
	struct lw_sigma_set *set;
	struct lw_ryaml *y;
	int windows; /* the rule being loaded is for product windows */
};


/* The slot of a field name (Sigma or ECS), created on first use. */
static int field_slot(struct ctx *c, const yaml_node_t *n, const char *name,
		      size_t len, uint32_t *out)
{
	struct lw_sigma_set *set = c->set;
	const char *key = lw_event_sigma_alias(name, len);
	size_t klen;
	enum lw_event_member member;
	uint8_t unknown = 0;
	struct slot *s;
	char wbuf[sizeof(WINLOG_DATA) + LW_SIGMA_FIELD_MAX];

	if (c->windows && key == NULL && memchr(name, '.', len) == NULL) {
		for (size_t i = 0; key == NULL && i < sizeof(windows_fields) /
		     sizeof(windows_fields[0]); i++)
			if (strlen(windows_fields[i].sigma) == len &&
			    memcmp(windows_fields[i].sigma, name, len) == 0)
				key = windows_fields[i].field;
		if (key == NULL && len < LW_SIGMA_FIELD_MAX) {
			memcpy(wbuf, WINLOG_DATA, sizeof(WINLOG_DATA) - 1);
			memcpy(wbuf + sizeof(WINLOG_DATA) - 1, name, len);
			wbuf[sizeof(WINLOG_DATA) - 1 + len] = '\0';
			key = wbuf;
		}
	}
	klen = key != NULL ? strlen(key) : len;
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

/* ---- modifiers ---- */

enum mods {
	M_CONTAINS = 1u << 0, M_STARTS = 1u << 1, M_ENDS = 1u << 2,
	M_ALL = 1u << 3, M_RE = 1u << 4, M_CIDR = 1u << 5, M_EXISTS = 1u << 6,
	M_GT = 1u << 7, M_GTE = 1u << 8, M_LT = 1u << 9, M_LTE = 1u << 10,
	M_CASED = 1u << 11, M_RE_I = 1u << 12, M_RE_M = 1u << 13, M_RE_S = 1u << 14,
	M_LOOKUP = 1u << 15, M_EXPAND = 1u << 16
};

static const struct {
	const char *name;
	unsigned bit;
} mod_names[] = {
	{"contains", M_CONTAINS}, {"startswith", M_STARTS}, {"endswith", M_ENDS},
	{"all", M_ALL}, {"re", M_RE}, {"cidr", M_CIDR}, {"exists", M_EXISTS},
	{"gt", M_GT}, {"gte", M_GTE}, {"lt", M_LT}, {"lte", M_LTE},
	{"cased", M_CASED}, {"i", M_RE_I}, {"m", M_RE_M}, {"s", M_RE_S},
	{"lookup", M_LOOKUP}, {"expand", M_EXPAND},
};

static const char *const rejected_mods[] = {
	"windash", "base64", "base64offset", "utf16", "utf16le", "utf16be",
	"wide", "fieldref", "neq", NULL};

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
				       M_NUMERIC | M_LOOKUP)) > 1 ||
	    ((*out & M_LOOKUP) && (*out & (M_CASED | M_EXPAND))) ||
	    ((*out & M_EXPAND) && (*out & (M_RE | M_EXISTS | M_NUMERIC))))
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
	r->rule = set->nrules; /* the rule being loaded: rollback removes it on error */
	*out = set->nres++;
	return LW_OK;
}

void lw_sigma_set_use_lists(struct lw_sigma_set *set,
			    const struct lw_lookup_set *lists)
{
	set->lists = lists;
}

static const struct lw_lookup_list *find_list(struct ctx *c, const yaml_node_t *n,
					      const char *name, size_t len)
{
	const struct lw_lookup_list *l = lw_lookup_set_find(c->set->lists, name, len);

	if (l == NULL)
		lw_ryaml_error(c->y, n, LW_EPARSE, "no lookup list named '%.*s' "
			       "(lists are declared in <rules>/lists/, docs/rules.md)",
			       (int)len, name);
	return l;
}

/* `|expand` with text around the placeholder: one glob per list entry,
 * the entry's bytes literal (its * ? \ escaped). */
static int expand_text(struct ctx *c, const yaml_node_t *n, const char *s,
		       size_t len, size_t at, size_t plen,
		       const struct lw_lookup_list *l, unsigned mods)
{
	struct lw_sigma_set *set = c->set;
	int pre = (mods & (M_CONTAINS | M_ENDS)) != 0;
	int post = (mods & (M_CONTAINS | M_STARTS)) != 0;
	struct lw_buf b;
	int rc = LW_OK;

	if (mods & M_CIDR)
		return lw_ryaml_error(c->y, n, LW_EPARSE, "cidr|expand takes a "
				      "whole '%%name%%' of an ip list");
	lw_buf_init(&b);
	for (uint32_t i = 0; rc == LW_OK && i < lw_lookup_list_count(l); i++) {
		struct lw_str e = lw_lookup_list_entry(l, i, NULL);
		struct value *v;

		lw_buf_reset(&b);
		lw_buf_append(&b, s, at);
		for (uint32_t k = 0; k < e.len; k++) {
			if (strchr("*?\\", e.ptr[k]) != NULL)
				lw_buf_putc(&b, '\\');
			lw_buf_putc(&b, e.ptr[k]);
		}
		lw_buf_append(&b, s + at + plen, len - at - plen);
		if (b.oom ||
		    grow((void **)&set->vals, &set->valcap, set->nvals, sizeof(*v)) != LW_OK) {
			rc = LW_ENOMEM;
			break;
		}
		v = &set->vals[set->nvals];
		memset(v, 0, sizeof(*v));
		rc = glob_compile(v, b.data, b.len, pre, post, (mods & M_CASED) != 0);
		if (rc == LW_OK)
			set->nvals++;
	}
	lw_buf_release(&b);
	return rc;
}

/* `|lookup: name`, or `|expand` of a value holding one `%name%`: a
 * whole placeholder is membership in the list by its kind (networks,
 * domains and their subdomains ...), text around it expands to one
 * value per entry. */
static int list_value(struct ctx *c, const yaml_node_t *n, unsigned mods)
{
	struct lw_sigma_set *set = c->set;
	const struct lw_lookup_list *l;
	const char *s, *p1, *p2 = NULL;
	struct value *v;
	size_t len;

	if (lw_ryaml_is_null(n))
		return lw_ryaml_error(c->y, n, LW_EPARSE, "%s: expected a list name",
				      (mods & M_LOOKUP) ? "lookup" : "expand");
	s = lw_ryaml_str(n, &len);
	p1 = s;
	if (mods & M_EXPAND) {
		p1 = memchr(s, '%', len);
		if (p1 != NULL)
			p2 = memchr(p1 + 1, '%', len - (size_t)(p1 + 1 - s));
		if (p2 == NULL || p2 == p1 + 1)
			return lw_ryaml_error(c->y, n, LW_EPARSE, "expand: no "
					      "'%%name%%' placeholder in '%.*s'",
					      (int)len, s);
		if (memchr(p2 + 1, '%', len - (size_t)(p2 + 1 - s)) != NULL)
			return lw_ryaml_error(c->y, n, LW_EPARSE, "expand: one "
					      "placeholder per value");
		l = find_list(c, n, p1 + 1, (size_t)(p2 - p1 - 1));
		if (l == NULL)
			return LW_EPARSE;
		if (p1 != s || p2 != s + len - 1 || (mods & (M_STRPOS | M_CASED)))
			return expand_text(c, n, s, len, (size_t)(p1 - s),
					   (size_t)(p2 - p1 + 1), l, mods);
	} else if ((l = find_list(c, n, s, len)) == NULL) {
		return LW_EPARSE;
	}
	if ((mods & M_CIDR) && lw_lookup_list_kind(l) != LW_LOOKUP_IP)
		return lw_ryaml_error(c->y, n, LW_EPARSE, "cidr: list '%s' is a "
				      "%s list, not ip", lw_lookup_list_name(l),
				      lw_lookup_kind_name(lw_lookup_list_kind(l)));
	if (grow((void **)&set->vals, &set->valcap, set->nvals, sizeof(*v)) != LW_OK)
		return LW_ENOMEM;
	v = &set->vals[set->nvals++];
	memset(v, 0, sizeof(*v));
	v->kind = V_LOOKUP;
	v->list = l;
	return LW_OK;
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
	if (mods & (M_LOOKUP | M_EXPAND))
		return keyword ? lw_ryaml_error(c->y, n, LW_EPARSE, "keywords "
						"take no modifiers") :
			list_value(c, n, mods);
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

/* product: windows: the rule sees the events of the Windows decoders
 * (those with winlog.event_id), of one channel when a service names it. */
static int windows_logsource(struct ctx *c, yaml_node_t *ls, const char *service,
			     struct rule *r)
{
	static const char chan[] = "winlog.channel", id[] = "winlog.event_id";
	int rc;

	rc = field_slot(c, ls, id, sizeof(id) - 1, &r->need_slot);
	if (rc != LW_OK)
		return rc;
	if (service != NULL) {
		size_t i, n = sizeof(windows_channels) / sizeof(windows_channels[0]);

		for (i = 0; i < n; i++)
			if (strcmp(windows_channels[i].service, service) == 0)
				break;
		if (i == n) {
			lw_ryaml_warn(c->y, ls, "logsource service '%s' is not in "
				      "logward's Windows table; the rule applies "
				      "to every Windows event", service);
		} else {
			r->need_value = lw_memdup_z(windows_channels[i].channel,
						    strlen(windows_channels[i].channel));
			if (r->need_value == NULL)
				return LW_ENOMEM;
			return field_slot(c, ls, chan, sizeof(chan) - 1, &r->chan_slot);
		}
	}
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
	r->need_slot = UINT32_MAX;
	c->windows = product != NULL && strcmp(product, "windows") == 0;
	if (c->windows)
		return windows_logsource(c, ls, service, r);
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
	/* Linux's firewall is the kernel (iptables/nftables/UFW LOG); any
	 * other firewall is a device whose decoder's fields decide. */
	if (category != NULL && strcmp(category, "firewall") == 0) {
		static const char type[] = "observer.type";

		if (product != NULL)
			return add_program(r, "kernel");
		/* Every firewall decoder (the kernel's too) sets observer.type. */
		return field_slot(c, ls, type, sizeof(type) - 1, &r->need_slot);
	}
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
	int cat, rc;

	rc = lw_sigma_meta_tags(c->y, root, &r->tagv, &r->info.ntags, &cat);
	if (rc != LW_OK)
		return rc;
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
		lw_sigma_value_release(&set->vals[--set->nvals]);
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
		rc = lw_sigma_meta_names(c->y, root, &r.info);
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
		rc = lw_sigma_meta_level(c->y, root, &r.info.level);
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
		lw_sigma_rule_release(&r);
		rollback(set, &m);
		return rc;
	}
	set->rules[set->nrules++] = r;
	return LW_OK;
}

static int load_doc(void *target, struct lw_ryaml *y, yaml_node_t *root)
{
	struct ctx c = {target, y, 0};

	return load_rule(&c, root);
}

int lw_sigma_set_load_file(struct lw_sigma_set *set, const char *path,
			   struct lw_diags *diags)
{
	if (set->built)
		return LW_EINVAL;
	return lw_ryaml_load_docs(path, NULL, 0, load_doc, set, diags);
}

int lw_sigma_set_load_string(struct lw_sigma_set *set, const char *name,
			     const char *yaml, size_t len,
			     struct lw_diags *diags)
{
	if (set->built)
		return LW_EINVAL;
	return lw_ryaml_load_docs(name, yaml, len, load_doc, set, diags);
}
