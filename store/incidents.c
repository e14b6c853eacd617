/* store/incidents.c - stored incidents (prefix lw_incidents): record
 * codec, JSON/text rendering, the commit-time create-or-update, listing
 * and the operator's ack/close. Writer thread for lw_incidents_apply
 * (inside lw_store_commit_ex); any process for the rest.
 *
 * Databases (docs/incidents.md):
 *   incidents  id (u64 BE) -> record (below)
 *   incopen    SHA-256(rule id || 0 || group) -> id (u64 BE); only open and
 *              acknowledged incidents, so a repeat finds the one to update
 *   incstatus  status byte || id (BE) -> ""
 *   inctime    last_seen (i64 with the sign bit flipped, BE) || id -> ""
 *
 * Record, little-endian:
 *
 *   0      4        6        8                16               24
 *   +------+--------+--------+----------------+----------------+
 *   |"LWIN"| version| 0      | checksum of [16, len)| id       |
 *   +------+--------+--------+----------------+----------------+
 *   24     25       28       32               40               48
 *   +------+--------+--------+----------------+----------------+
 *   |status| 0 0 0  |nhistory| first_seen i64 | last_seen i64  |
 *   +------+--------+--------+----------------+----------------+
 *   48               56        60       64
 *   +----------------+---------+--------+
 *   | count u64      |nevidence| 0      |
 *   +----------------+---------+--------+
 *   64: 9 strings, each u32 len + bytes: rule_id rule_title rule_level
 *       category level zone group host response
 *   then nhistory x { i64 time, u8 status, u32 len + actor, u32 len + note }
 *   then nevidence x u64 seq;
 *   versions 2 and 3: 3 x { u32 n, n x (u32 len + value), 256-byte
 *       sketch } for related.ip, related.user, related.hosts;
 *   the record ends exactly there. The checksum is lw_checksum64 in
 *   version 3, FNV-1a 64 in versions 1 and 2 (its byte loop was most of
 *   encoding a record). Version 1 and 2 records still decode; version 1
 *   (no related lists) reads as "nothing known".
 *
 * The checksum makes a flipped byte a clean LW_ECORRUPT instead of a
 * plausible-looking but wrong incident; every length is checked anyway. */
#include "store/incidents.h"

#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/escape.h"
#include "core/sha256.h"
#include "core/time.h"
#include "store/store_int.h"

#define REC_MAGIC "LWIN"
#define REC_VERSION 3            /* lw_checksum64 */
#define REC_VERSION_FNV 2        /* FNV-1a, read, never written */
#define REC_VERSION_NO_RELATED 1 /* FNV-1a, no related lists: read only */
#define REC_FIXED 64
#define NSTR 9
#define IDENT_LEN LW_SHA256_LEN
#define JSON_MAX_DEPTH 32

static const char *const status_names[3] = {"open", "acknowledged", "closed"};
static const char empty_plan[] = "{\"steps\":[],\"notify\":[]}";

/* --- little helpers --------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_be(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static struct lw_str cstr(const char *s)
{
	struct lw_str r = {s ? s : "", s ? (uint32_t)strnlen(s, UINT32_MAX / 2) : 0};

	return r;
}

static int str_eq(struct lw_str a, struct lw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

const char *lw_incidents_status_name(enum lw_incidents_status s)
{
	return (unsigned)s < 3 ? status_names[s] : "unknown";
}

int lw_incidents_status_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, status_names[i]) == 0)
			return i;
	if (strcmp(s, "ack") == 0)
		return LW_INCIDENTS_ACKNOWLEDGED;
	return -1;
}

uint64_t lw_incident_evidence(const struct lw_incident_view *v, uint32_t i)
{
	return i < v->nevidence ? get_le(v->evidence + 8 * (size_t)i, 8) : 0;
}

uint64_t lw_incident_related_more(const struct lw_incident_view *v,
				  enum lw_related_kind k)
{
	if ((unsigned)k >= LW_RELATED_KINDS || v->related_sketch[k] == NULL)
		return 0;
	return lw_related_more(v->related_sketch[k], v->nrelated[k]);
}

/* The view's lists over set's values (s must outlive the view). */
static void related_to_view(struct lw_incident_view *v,
			    const struct lw_related_set *s)
{
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		v->nrelated[k] = s->n[k];
		for (uint32_t i = 0; i < s->n[k]; i++)
			v->related[k][i] = cstr(lw_related_value(s, (enum lw_related_kind)k, i));
		v->related_sketch[k] = s->sketch[k];
	}
}

static void related_from_view(struct lw_related_set *s,
			      const struct lw_incident_view *v)
{
	lw_related_clear(s);
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		for (uint32_t i = 0; i < v->nrelated[k]; i++)
			lw_related_add(s, (enum lw_related_kind)k,
				       v->related[k][i].ptr, v->related[k][i].len);
		if (v->related_sketch[k] != NULL)
			lw_related_merge_sketch(s, (enum lw_related_kind)k,
						v->related_sketch[k]);
	}
}

/* --- codec ------------------------------------------------------------ */

static void put_str(struct lw_buf *out, struct lw_str s, uint32_t max)
{
	uint8_t len[4];
	uint32_t n = s.len < max ? s.len : max;

	put_le(len, n, 4);
	lw_buf_append(out, len, 4);
	if (n > 0)
		lw_buf_append(out, s.ptr, n);
}

static void put_related(struct lw_buf *out, const struct lw_incident_view *v)
{
	static const uint8_t no_sketch[LW_RELATED_SKETCH_BYTES];

	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		uint8_t n[4];
		uint32_t kept = v->nrelated[k] < LW_RELATED_MAX ? v->nrelated[k]
								 : LW_RELATED_MAX;

		put_le(n, kept, 4);
		lw_buf_append(out, n, 4);
		for (uint32_t i = 0; i < kept; i++)
			put_str(out, v->related[k][i], LW_RELATED_VALUE_MAX - 1);
		lw_buf_append(out, v->related_sketch[k] ? v->related_sketch[k]
			      : no_sketch, LW_RELATED_SKETCH_BYTES);
	}
}

void lw_incidents_encode(const struct lw_incident_view *v, struct lw_buf *out)
{
	const struct lw_str *strs[NSTR] = {&v->rule_id, &v->rule_title,
		&v->rule_level, &v->category, &v->level, &v->zone, &v->group,
		&v->host, &v->response};
	uint8_t fixed[REC_FIXED] = {0};
	uint32_t nh = v->nhistory < LW_INCIDENTS_MAX_HISTORY ? v->nhistory
							      : LW_INCIDENTS_MAX_HISTORY;
	uint32_t ne = v->nevidence < LW_INCIDENTS_MAX_EVIDENCE ? v->nevidence
								: LW_INCIDENTS_MAX_EVIDENCE;
	size_t start = out->len;

	memcpy(fixed, REC_MAGIC, 4);
	put_le(fixed + 4, REC_VERSION, 2);
	put_le(fixed + 16, v->id, 8);
	fixed[24] = (uint8_t)v->status;
	put_le(fixed + 28, nh, 4);
	put_le(fixed + 32, (uint64_t)v->first_seen_ns, 8);
	put_le(fixed + 40, (uint64_t)v->last_seen_ns, 8);
	put_le(fixed + 48, v->count, 8);
	put_le(fixed + 56, ne, 4);
	lw_buf_append(out, fixed, REC_FIXED);
	for (int i = 0; i < NSTR; i++)
		put_str(out, *strs[i], i >= 6 ? LW_INCIDENTS_MAX_TEXT : 1024);
	for (uint32_t i = 0; i < nh; i++) {
		const struct lw_incidents_history *h = &v->history[i];
		uint8_t t[9];

		put_le(t, (uint64_t)h->time_ns, 8);
		t[8] = (uint8_t)h->status;
		lw_buf_append(out, t, 9);
		put_str(out, h->actor, LW_INCIDENTS_MAX_ACTOR);
		put_str(out, h->note, LW_INCIDENTS_MAX_NOTE);
	}
	/* The most recent evidence is at the end of the view's array. */
	if (ne > 0)
		lw_buf_append(out, v->evidence + 8 * (size_t)(v->nevidence - ne),
			      8 * (size_t)ne);
	put_related(out, v);
	if (out->oom)
		return;
	put_le((uint8_t *)out->data + start + 8,
	       lw_checksum64((const uint8_t *)out->data + start + 16,
			     out->len - start - 16), 8);
}

struct cursor {
	const uint8_t *p, *end;
};

static int take_str(struct cursor *c, struct lw_str *s)
{
	uint32_t n;

	if (c->end - c->p < 4)
		return -1;
	n = (uint32_t)get_le(c->p, 4);
	c->p += 4;
	if ((size_t)(c->end - c->p) < n)
		return -1;
	s->ptr = (const char *)c->p;
	s->len = n;
	c->p += n;
	return 0;
}

static int take_related(struct cursor *c, struct lw_incident_view *v)
{
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		if (c->end - c->p < 4)
			return -1;
		v->nrelated[k] = (uint32_t)get_le(c->p, 4);
		c->p += 4;
		if (v->nrelated[k] > LW_RELATED_MAX)
			return -1;
		for (uint32_t i = 0; i < v->nrelated[k]; i++)
			if (take_str(c, &v->related[k][i]) != 0 ||
			    v->related[k][i].len == 0 ||
			    v->related[k][i].len >= LW_RELATED_VALUE_MAX ||
			    memchr(v->related[k][i].ptr, '\0', v->related[k][i].len))
				return -1;
		if (c->end - c->p < LW_RELATED_SKETCH_BYTES)
			return -1;
		v->related_sketch[k] = c->p;
		c->p += LW_RELATED_SKETCH_BYTES;
	}
	return 0;
}

int lw_incidents_decode(const void *rec, size_t len, struct lw_incident_view *v)
{
	const uint8_t *p = rec;
	struct lw_str *strs[NSTR] = {&v->rule_id, &v->rule_title,
		&v->rule_level, &v->category, &v->level, &v->zone, &v->group,
		&v->host, &v->response};
	struct cursor c;
	uint64_t version;

	memset(v, 0, sizeof(*v));
	if (len < REC_FIXED || memcmp(p, REC_MAGIC, 4) != 0 ||
	    (version = get_le(p + 4, 2)) < REC_VERSION_NO_RELATED ||
	    version > REC_VERSION ||
	    get_le(p + 6, 2) != 0 || get_le(p + 25, 3) != 0 ||
	    get_le(p + 60, 4) != 0 ||
	    get_le(p + 8, 8) != (version == REC_VERSION ? lw_checksum64(p + 16, len - 16)
							 : fnv1a(p + 16, len - 16)) ||
	    p[24] > 2)
		return LW_ECORRUPT;
	v->id = get_le(p + 16, 8);
	v->status = (enum lw_incidents_status)p[24];
	v->nhistory = (uint32_t)get_le(p + 28, 4);
	v->first_seen_ns = (int64_t)get_le(p + 32, 8);
	v->last_seen_ns = (int64_t)get_le(p + 40, 8);
	v->count = get_le(p + 48, 8);
	v->nevidence = (uint32_t)get_le(p + 56, 4);
	if (v->nhistory > LW_INCIDENTS_MAX_HISTORY ||
	    v->nevidence > LW_INCIDENTS_MAX_EVIDENCE)
		return LW_ECORRUPT;
	c.p = p + REC_FIXED;
	c.end = p + len;
	for (int i = 0; i < NSTR; i++)
		if (take_str(&c, strs[i]) != 0)
			return LW_ECORRUPT;
	for (uint32_t i = 0; i < v->nhistory; i++) {
		struct lw_incidents_history *h = &v->history[i];

		if (c.end - c.p < 9 || c.p[8] > 2)
			return LW_ECORRUPT;
		h->time_ns = (int64_t)get_le(c.p, 8);
		h->status = (enum lw_incidents_status)c.p[8];
		c.p += 9;
		if (take_str(&c, &h->actor) != 0 || take_str(&c, &h->note) != 0)
			return LW_ECORRUPT;
	}
	if ((size_t)(c.end - c.p) < 8 * (size_t)v->nevidence)
		return LW_ECORRUPT;
	v->evidence = c.p;
	c.p += 8 * (size_t)v->nevidence;
	if (version != REC_VERSION_NO_RELATED && take_related(&c, v) != 0)
		return LW_ECORRUPT;
	return c.p == c.end ? LW_OK : LW_ECORRUPT;
}

/* --- JSON ------------------------------------------------------------- */

/* A strict JSON syntax check with a depth bound: group and response are
 * stored texts pasted into the output, which must stay valid JSON. */
struct jscan {
	const char *p, *end;
};

static void jws(struct jscan *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jlit(struct jscan *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int jstring(struct jscan *j)
{
	if (j->p >= j->end || *j->p != '"')
		return -1;
	for (j->p++; j->p < j->end; j->p++) {
		unsigned char ch = (unsigned char)*j->p;

		if (ch == '"') {
			j->p++;
			return 0;
		}
		if (ch < 0x20)
			return -1;
		if (ch == '\\') {
			if (++j->p >= j->end || !strchr("\"\\/bfnrtu", *j->p))
				return -1;
		}
	}
	return -1;
}

static int jnumber(struct jscan *j)
{
	const char *s = j->p;

	while (j->p < j->end && strchr("+-0123456789.eE", *j->p) && *j->p)
		j->p++;
	return j->p > s ? 0 : -1;
}

static int jvalue(struct jscan *j, int depth);

static int jcontainer(struct jscan *j, int depth, char close, int object)
{
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		if (object) {
			jws(j);
			if (jstring(j) != 0)
				return -1;
			jws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return -1;
		}
		if (jvalue(j, depth + 1) != 0)
			return -1;
		jws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		if (*j->p++ != ',')
			return -1;
	}
}

static int jvalue(struct jscan *j, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return -1;
	jws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{': return jcontainer(j, depth, '}', 1);
	case '[': return jcontainer(j, depth, ']', 0);
	case '"': return jstring(j);
	case 't': return jlit(j, "true");
	case 'f': return jlit(j, "false");
	case 'n': return jlit(j, "null");
	default: return jnumber(j);
	}
}

int lw_incidents_json_object_ok(struct lw_str s)
{
	struct jscan j = {s.ptr, s.ptr + s.len};

	jws(&j);
	if (j.p >= j.end || *j.p != '{' || jvalue(&j, 0) != 0)
		return 0;
	jws(&j);
	return j.p == j.end;
}

/* first: 0 a member after another, 1 the first (no comma), 2 the first
 * member of a new object (opens it). */
static void json_key(struct lw_buf *out, const char *key, int first)
{
	if (first == 2)
		lw_buf_putc(out, '{');
	else if (!first)
		lw_buf_putc(out, ',');
	lw_buf_putc(out, '"');
	lw_buf_puts(out, key);
	lw_buf_puts(out, "\":");
}

static void json_str(struct lw_buf *out, const char *key, struct lw_str s)
{
	json_key(out, key, 0);
	lw_escape_json_string(out, s.ptr, s.len);
}

static void json_time(struct lw_buf *out, const char *key, int64_t ns, int first)
{
	json_key(out, key, first);
	lw_buf_putc(out, '"');
	lw_time_format_rfc3339(ns, out);
	lw_buf_putc(out, '"');
}

/* "related":{"ip":[..],"user":[..],"hosts":[..]} (ECS), then the
 * estimated number of values each list could not keep. */
static void json_related(struct lw_buf *out, const struct lw_incident_view *v)
{
	json_key(out, "related", 0);
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		json_key(out, lw_related_kind_name((enum lw_related_kind)k), k == 0 ? 2 : 0);
		lw_buf_putc(out, '[');
		for (uint32_t i = 0; i < v->nrelated[k]; i++) {
			if (i > 0)
				lw_buf_putc(out, ',');
			lw_buf_json_string(out, v->related[k][i].ptr, v->related[k][i].len);
		}
		lw_buf_putc(out, ']');
	}
	lw_buf_putc(out, '}');
	json_key(out, "related_more", 0);
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		json_key(out, lw_related_kind_name((enum lw_related_kind)k), k == 0 ? 2 : 0);
		lw_buf_printf(out, "%llu", (unsigned long long)
			      lw_incident_related_more(v, (enum lw_related_kind)k));
	}
	lw_buf_putc(out, '}');
}

void lw_incidents_to_json(const struct lw_incident_view *v, struct lw_buf *out)
{
	lw_buf_printf(out, "{\"id\":%llu,\"rule\":{", (unsigned long long)v->id);
	json_key(out, "id", 1);
	lw_escape_json_string(out, v->rule_id.ptr, v->rule_id.len);
	json_str(out, "title", v->rule_title);
	json_str(out, "level", v->rule_level);
	lw_buf_putc(out, '}');
	json_str(out, "category", v->category);
	json_str(out, "level", v->level);
	json_key(out, "status", 0);
	lw_escape_json_string(out, lw_incidents_status_name(v->status),
			   strlen(lw_incidents_status_name(v->status)));
	json_str(out, "zone", v->zone);
	json_key(out, "group", 0);
	if (lw_incidents_json_object_ok(v->group))
		lw_escape_json_text(out, v->group.ptr, v->group.len);
	else
		lw_buf_puts(out, "{}");
	if (v->host.len > 0)
		json_str(out, "host", v->host);
	json_related(out, v);
	lw_buf_putc(out, ',');
	json_time(out, "first_seen", v->first_seen_ns, 1);
	lw_buf_putc(out, ',');
	json_time(out, "last_seen", v->last_seen_ns, 1);
	lw_buf_printf(out, ",\"count\":%llu", (unsigned long long)v->count);
	json_key(out, "response", 0);
	if (lw_incidents_json_object_ok(v->response))
		lw_escape_json_text(out, v->response.ptr, v->response.len);
	else
		lw_buf_puts(out, empty_plan);
	json_key(out, "history", 0);
	lw_buf_putc(out, '[');
	for (uint32_t i = 0; i < v->nhistory; i++) {
		const struct lw_incidents_history *h = &v->history[i];

		lw_buf_puts(out, i ? ",{" : "{");
		json_time(out, "time", h->time_ns, 1);
		json_key(out, "status", 0);
		lw_escape_json_string(out, lw_incidents_status_name(h->status),
				   strlen(lw_incidents_status_name(h->status)));
		json_str(out, "actor", h->actor);
		json_str(out, "note", h->note);
		lw_buf_putc(out, '}');
	}
	lw_buf_puts(out, "]}");
}

static void text_field(struct lw_buf *out, const char *key, struct lw_str s)
{
	if (s.len == 0)
		return;
	lw_buf_printf(out, " %s=", key);
	lw_escape_text(out, s.ptr, s.len, 0);
}

void lw_incidents_to_text(const struct lw_incident_view *v, struct lw_buf *out)
{
	lw_buf_printf(out, "#%llu %s ", (unsigned long long)v->id,
		      lw_incidents_status_name(v->status));
	lw_escape_text(out, v->level.ptr, v->level.len, 0);
	lw_buf_putc(out, ' ');
	lw_escape_text(out, v->category.ptr, v->category.len, 0);
	lw_buf_puts(out, " '");
	lw_escape_text(out, v->rule_title.ptr, v->rule_title.len, 0);
	lw_buf_printf(out, "' count=%llu first=", (unsigned long long)v->count);
	lw_time_format_rfc3339(v->first_seen_ns, out);
	lw_buf_puts(out, " last=");
	lw_time_format_rfc3339(v->last_seen_ns, out);
	text_field(out, "zone", v->zone);
	text_field(out, "host", v->host);
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		uint64_t more = lw_incident_related_more(v, (enum lw_related_kind)k);

		if (v->nrelated[k] == 0)
			continue;
		lw_buf_printf(out, " related.%s=",
			      lw_related_kind_name((enum lw_related_kind)k));
		for (uint32_t i = 0; i < v->nrelated[k]; i++) {
			if (i > 0)
				lw_buf_putc(out, ',');
			lw_escape_text(out, v->related[k][i].ptr, v->related[k][i].len, 0);
		}
		if (more > 0)
			lw_buf_printf(out, ",+%llu", (unsigned long long)more);
	}
	/* The group is JSON already; one stored before core/escape may
	 * still hold raw C1 or bidi characters, which text escaping shows. */
	if (v->group.len > 2 && lw_incidents_json_object_ok(v->group)) {
		lw_buf_puts(out, " group=");
		lw_escape_text(out, v->group.ptr, v->group.len, 0);
	}
}

int lw_incidents_involves(const struct lw_incident_view *v, const char *value)
{
	struct lw_str val = cstr(value);
	struct lw_buf quoted;
	int found = 0;

	if (val.len == 0)
		return 0;
	if (str_eq(v->host, val) || str_eq(v->zone, val))
		return 1;
	for (int k = 0; k < LW_RELATED_KINDS && !found; k++)
		for (uint32_t i = 0; i < v->nrelated[k] && !found; i++)
			found = str_eq(v->related[k][i], val);
	if (found || v->group.len == 0)
		return found;
	/* A group value is a JSON string member of the stored group text:
	 * the quoted value, found whole, is one of them. */
	lw_buf_init(&quoted);
	lw_buf_json_string(&quoted, val.ptr, val.len);
	found = !quoted.oom &&
		memmem(v->group.ptr, v->group.len, quoted.data, quoted.len) != NULL;
	lw_buf_release(&quoted);
	return found;
}

/* --- index keys --------------------------------------------------------- */

static int identity(struct lw_str rule_id, struct lw_str group,
		    uint8_t out[IDENT_LEN])
{
	struct lw_sha256 h;
	int rc = lw_sha256_init(&h);

	if (rc != LW_OK)
		return rc;
	lw_sha256_update(&h, rule_id.ptr, rule_id.len);
	lw_sha256_update(&h, "", 1);
	lw_sha256_update(&h, group.ptr, group.len);
	rc = lw_sha256_final(&h, out);
	lw_sha256_release(&h);
	return rc;
}

static void status_key(uint8_t key[9], enum lw_incidents_status s, uint64_t id)
{
	key[0] = (uint8_t)s;
	put_be(key + 1, id);
}

static void time_key(uint8_t key[16], int64_t ns, uint64_t id)
{
	put_be(key, (uint64_t)ns ^ (1ull << 63));
	put_be(key + 8, id);
}

static int put_empty(MDB_txn *txn, MDB_dbi dbi, void *key, size_t klen)
{
	MDB_val k = {klen, key}, v = {0, (void *)""};

	return mdb_put(txn, dbi, &k, &v, 0);
}

static int del_key(MDB_txn *txn, MDB_dbi dbi, void *key, size_t klen)
{
	MDB_val k = {klen, key};
	int rc = mdb_del(txn, dbi, &k, NULL);

	return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

/* --- commit-time create or update ------------------------------------- */

static int next_id(struct lw_store *st, MDB_txn *txn, uint64_t *id)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, st->inc, &cur);

	if (rc != MDB_SUCCESS)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND) {
		*id = 1;
		return MDB_SUCCESS;
	}
	if (rc != MDB_SUCCESS)
		return rc;
	*id = k.mv_size == 8 ? get_be(k.mv_data) + 1 : 1;
	return MDB_SUCCESS;
}

static int put_record(struct lw_store *st, MDB_txn *txn, uint64_t id,
		      const struct lw_buf *rec, unsigned flags)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v = {rec->len, rec->data};

	put_be(key, id);
	return mdb_put(txn, st->inc, &k, &v, flags);
}

/* seq moved by the other process's events (see lw_incidents_apply). */
static uint64_t shift_seq(uint64_t seq, uint64_t expect, uint64_t got)
{
	return seq >= expect ? seq - expect + got : seq;
}

/* evidence = old evidence, then the raise's seqs after the last old one
 * (windows may report an event again), the most recent kept. */
static uint32_t merge_evidence(const struct lw_incident_view *old,
			       const struct lw_incidents_raise *r,
			       uint64_t expect, uint64_t got,
			       uint8_t out[8 * LW_INCIDENTS_MAX_EVIDENCE])
{
	uint64_t all[LW_INCIDENTS_MAX_EVIDENCE * 2];
	uint32_t n = 0, skip;
	uint64_t last = 0;
	int have_last = 0;

	for (uint32_t i = 0; old != NULL && i < old->nevidence; i++) {
		all[n++] = lw_incident_evidence(old, i);
		last = all[n - 1];
		have_last = 1;
	}
	/* Only the last MAX of the raise can survive. */
	skip = r->nevidence > LW_INCIDENTS_MAX_EVIDENCE ?
		r->nevidence - LW_INCIDENTS_MAX_EVIDENCE : 0;
	for (uint32_t i = skip; i < r->nevidence; i++) {
		uint64_t s = shift_seq(r->evidence[i], expect, got);

		if (have_last && s <= last)
			continue;
		all[n++] = s;
		last = s;
		have_last = 1;
	}
	skip = n > LW_INCIDENTS_MAX_EVIDENCE ? n - LW_INCIDENTS_MAX_EVIDENCE : 0;
	for (uint32_t i = skip; i < n; i++)
		put_le(out + 8 * (i - skip), all[i], 8);
	return n - skip;
}

static void view_from_raise(struct lw_incident_view *v,
			    const struct lw_incidents_raise *r)
{
	memset(v, 0, sizeof(*v));
	v->status = LW_INCIDENTS_OPEN;
	v->rule_id = cstr(r->rule_id);
	v->rule_title = cstr(r->rule_title);
	v->rule_level = cstr(r->rule_level);
	v->category = cstr(r->category);
	v->level = cstr(r->level);
	v->zone = cstr(r->zone);
	v->group = cstr(r->group && r->group[0] ? r->group : "{}");
	v->host = cstr(r->host);
	v->response = cstr(r->response && r->response[0] ? r->response : empty_plan);
	v->first_seen_ns = r->first_seen_ns;
	v->last_seen_ns = r->last_seen_ns;
	v->count = r->count;
}

/* Updates the open incident old (decoded from its stored bytes: encode
 * copies everything out before the put). */
static int update_one(struct lw_store *st, MDB_txn *txn,
		      const struct lw_incident_view *old,
		      const struct lw_incidents_raise *r, uint64_t expect,
		      uint64_t got, struct lw_buf *rec)
{
	struct lw_incident_view v = *old;
	uint8_t ev[8 * LW_INCIDENTS_MAX_EVIDENCE];
	uint8_t oldt[16], newt[16];
	struct lw_related_set *rel = NULL;
	int rc;

	v.count += r->count;
	if (r->first_seen_ns < v.first_seen_ns)
		v.first_seen_ns = r->first_seen_ns;
	if (r->last_seen_ns > v.last_seen_ns)
		v.last_seen_ns = r->last_seen_ns;
	if (!str_eq(v.host, cstr(r->host)))
		v.host = cstr("");
	if (!str_eq(v.zone, cstr(r->zone)))
		v.zone = cstr("");
	v.nevidence = merge_evidence(old, r, expect, got, ev);
	v.evidence = ev;
	if (r->related != NULL) {
		rel = malloc(sizeof(*rel));
		if (rel == NULL)
			return MDB_PANIC;
		related_from_view(rel, old);
		lw_related_merge(rel, r->related);
		related_to_view(&v, rel);
	}
	lw_buf_reset(rec);
	lw_incidents_encode(&v, rec);
	free(rel);
	if (rec->oom)
		return MDB_PANIC; /* reported as an LMDB failure: retried */
	time_key(oldt, old->last_seen_ns, old->id);
	time_key(newt, v.last_seen_ns, v.id);
	rc = put_record(st, txn, v.id, rec, 0);
	if (rc == MDB_SUCCESS && memcmp(oldt, newt, 16) != 0) {
		rc = del_key(txn, st->inc_time, oldt, 16);
		if (rc == MDB_SUCCESS)
			rc = put_empty(txn, st->inc_time, newt, 16);
	}
	return rc;
}

static int create_one(struct lw_store *st, MDB_txn *txn,
		      const struct lw_incidents_raise *r, const uint8_t ident[IDENT_LEN],
		      uint64_t expect, uint64_t got, int64_t now_ns,
		      struct lw_buf *rec, uint64_t *id_out)
{
	struct lw_incident_view v;
	uint8_t ev[8 * LW_INCIDENTS_MAX_EVIDENCE], idb[8], sk[9], tk[16];
	MDB_val k = {IDENT_LEN, (void *)ident}, val = {8, idb};
	uint64_t id;
	int rc;

	rc = next_id(st, txn, &id);
	if (rc != MDB_SUCCESS)
		return rc;
	view_from_raise(&v, r);
	if (r->related != NULL)
		related_to_view(&v, r->related);
	v.id = id;
	v.nevidence = merge_evidence(NULL, r, expect, got, ev);
	v.evidence = ev;
	v.nhistory = 1;
	v.history[0].time_ns = now_ns;
	v.history[0].status = LW_INCIDENTS_OPEN;
	v.history[0].actor = cstr("logward");
	v.history[0].note = cstr("raised");
	lw_buf_reset(rec);
	lw_incidents_encode(&v, rec);
	if (rec->oom)
		return MDB_PANIC;
	put_be(idb, id);
	status_key(sk, LW_INCIDENTS_OPEN, id);
	time_key(tk, v.last_seen_ns, id);
	rc = put_record(st, txn, id, rec, MDB_APPEND);
	if (rc == MDB_SUCCESS)
		rc = mdb_put(txn, st->inc_open, &k, &val, 0);
	if (rc == MDB_SUCCESS)
		rc = put_empty(txn, st->inc_status, sk, 9);
	if (rc == MDB_SUCCESS)
		rc = put_empty(txn, st->inc_time, tk, 16);
	*id_out = id;
	return rc;
}

/* The open incident of ident, decoded into *v (views into the map, valid
 * until the next put); 0 when there is none usable. */
static int find_open(struct lw_store *st, MDB_txn *txn, const uint8_t *ident,
		     const struct lw_incidents_raise *r,
		     struct lw_incident_view *v, int *found)
{
	MDB_val k = {IDENT_LEN, (void *)ident}, idv, rec;
	uint8_t key[8];
	MDB_val rk = {8, key};
	int rc;

	*found = 0;
	rc = mdb_get(txn, st->inc_open, &k, &idv);
	if (rc == MDB_NOTFOUND)
		return MDB_SUCCESS;
	if (rc != MDB_SUCCESS)
		return rc;
	if (idv.mv_size != 8)
		return MDB_SUCCESS; /* corrupt index entry: replaced */
	memcpy(key, idv.mv_data, 8);
	rc = mdb_get(txn, st->inc, &rk, &rec);
	if (rc == MDB_NOTFOUND)
		return MDB_SUCCESS;
	if (rc != MDB_SUCCESS)
		return rc;
	/* A record that no longer decodes, was closed behind the index's
	 * back, or hashes alike by accident is not this incident. */
	if (lw_incidents_decode(rec.mv_data, rec.mv_size, v) != LW_OK ||
	    v->status == LW_INCIDENTS_CLOSED || v->id != get_be(key) ||
	    !str_eq(v->rule_id, cstr(r->rule_id)) ||
	    !str_eq(v->group, cstr(r->group && r->group[0] ? r->group : "{}")))
		return MDB_SUCCESS;
	*found = 1;
	return MDB_SUCCESS;
}

static void append_json(struct lw_buf *json, const struct lw_buf *rec)
{
	struct lw_incident_view v;

	if (json == NULL || lw_incidents_decode(rec->data, rec->len, &v) != LW_OK)
		return;
	lw_incidents_to_json(&v, json);
	lw_buf_putc(json, '\n');
}

int lw_incidents_apply(struct lw_store *st, MDB_txn *txn,
		       const struct lw_incidents_raise *raises, size_t n,
		       uint64_t expect_seq, uint64_t got_seq, int64_t now_ns,
		       struct lw_store_commit_result *res)
{
	struct lw_buf rec;
	int rc = MDB_SUCCESS;

	if (now_ns == 0)
		now_ns = lw_time_now_ns();
	lw_buf_init(&rec);
	for (size_t i = 0; i < n && rc == MDB_SUCCESS; i++) {
		const struct lw_incidents_raise *r = &raises[i];
		struct lw_incident_view old;
		uint8_t ident[IDENT_LEN];
		uint64_t id = 0;
		int found;

		if (identity(cstr(r->rule_id),
			     cstr(r->group && r->group[0] ? r->group : "{}"),
			     ident) != LW_OK) {
			rc = MDB_PANIC;
			break;
		}
		rc = find_open(st, txn, ident, r, &old, &found);
		if (rc != MDB_SUCCESS)
			break;
		if (found) {
			id = old.id;
			rc = update_one(st, txn, &old, r, expect_seq, got_seq, &rec);
			res->updated++;
		} else {
			rc = create_one(st, txn, r, ident, expect_seq, got_seq,
					now_ns, &rec, &id);
			res->created++;
			if (rc == MDB_SUCCESS)
				append_json(res->created_json, &rec);
		}
		if (res->ids != NULL)
			res->ids[i] = id;
		if (res->created_flags != NULL)
			res->created_flags[i] = !found;
	}
	lw_buf_release(&rec);
	return rc;
}

/* --- reads -------------------------------------------------------------- */

int lw_incidents_get(struct lw_store_reader *rd, uint64_t id,
		     struct lw_incident_view *out, struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_txn *txn;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	if (rc != LW_OK)
		return rc;
	if (!rd->st->has_inc)
		return LW_ENOTFOUND;
	put_be(key, id);
	rc = mdb_get(txn, rd->st->inc, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get incident");
	if (lw_incidents_decode(v.mv_data, v.mv_size, out) != LW_OK)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "incident %llu: corrupt record",
				   (unsigned long long)id);
	return LW_OK;
}

static int passes(const struct lw_incident_view *v,
		  const struct lw_incidents_filter *f, unsigned mask)
{
	if (!(mask & (1u << v->status)))
		return 0;
	if (f->since_ns != 0 && v->last_seen_ns < f->since_ns)
		return 0;
	if (f->category != NULL && !str_eq(v->category, cstr(f->category)))
		return 0;
	if (f->level != NULL && !str_eq(v->level, cstr(f->level)))
		return 0;
	if (f->related != NULL && !lw_incidents_involves(v, f->related))
		return 0;
	return 1;
}

struct idlist {
	uint64_t *ids;
	size_t n, cap;
};

static int idlist_add(struct idlist *l, uint64_t id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint64_t *p = realloc(l->ids, cap * sizeof(*p));

		if (p == NULL)
			return LW_ENOMEM;
		l->ids = p;
		l->cap = cap;
	}
	l->ids[l->n++] = id;
	return LW_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Collects the ids an index holds from key prefix `from` on: the status
 * index (prefix = the status byte) or the time index (range from since). */
static int collect(MDB_txn *txn, MDB_dbi dbi, const uint8_t *from,
		   size_t flen, size_t prefix, struct idlist *l)
{
	MDB_cursor *cur;
	MDB_val k = {flen, (void *)from}, v;
	int rc = mdb_cursor_open(txn, dbi, &cur);

	if (rc != MDB_SUCCESS)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS) {
		if (k.mv_size < 8 ||
		    (prefix > 0 && memcmp(k.mv_data, from, prefix) != 0))
			break;
		if (idlist_add(l, get_be((const uint8_t *)k.mv_data +
					 k.mv_size - 8)) != LW_OK) {
			rc = MDB_PANIC;
			break;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == MDB_SUCCESS ? MDB_SUCCESS : rc;
}

static int candidates(struct lw_store *st, MDB_txn *txn,
		      const struct lw_incidents_filter *f, unsigned mask,
		      struct idlist *l)
{
	int rc = MDB_SUCCESS;

	if (f->since_ns != 0) {
		uint8_t tk[16];

		time_key(tk, f->since_ns, 0);
		rc = collect(txn, st->inc_time, tk, 16, 0, l);
	} else if (mask == LW_INCIDENTS_MASK_ALL) {
		uint8_t zero[8] = {0};

		rc = collect(txn, st->inc, zero, 8, 0, l);
	} else {
		for (int s = 0; s < 3 && rc == MDB_SUCCESS; s++) {
			uint8_t sk[9];

			if (!(mask & (1u << s)))
				continue;
			status_key(sk, (enum lw_incidents_status)s, 0);
			rc = collect(txn, st->inc_status, sk, 9, 1, l);
		}
	}
	if (rc == MDB_SUCCESS && l->n > 1)
		qsort(l->ids, l->n, sizeof(*l->ids), cmp_u64);
	return rc;
}

int lw_incidents_list(struct lw_store_reader *rd,
		      const struct lw_incidents_filter *f, lw_incidents_cb cb,
		      void *arg, uint64_t *corrupt, struct lw_diag *diag)
{
	unsigned mask = f->status_mask ? f->status_mask & LW_INCIDENTS_MASK_ALL
		: LW_INCIDENTS_MASK_OPEN | LW_INCIDENTS_MASK_ACK;
	struct idlist l = {0};
	MDB_txn *txn;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	if (corrupt != NULL)
		*corrupt = 0;
	if (rc != LW_OK || !rd->st->has_inc)
		return rc;
	rc = candidates(rd->st, txn, f, mask, &l);
	if (rc != MDB_SUCCESS) {
		free(l.ids);
		return rc == MDB_PANIC ? LW_ENOMEM :
			lw_store_mdb_fail(diag, rc, "incident index");
	}
	for (size_t i = 0; i < l.n; i++) {
		struct lw_incident_view v;

		if (i > 0 && l.ids[i] == l.ids[i - 1])
			continue;
		rc = lw_incidents_get(rd, l.ids[i], &v, diag);
		if (rc == LW_ENOTFOUND)
			continue;
		if (rc == LW_ECORRUPT) {
			if (corrupt != NULL)
				(*corrupt)++;
			continue;
		}
		if (rc != LW_OK)
			break;
		if (passes(&v, f, mask) && (rc = cb(&v, arg)) != 0)
			break;
	}
	free(l.ids);
	return rc == LW_ECORRUPT || rc == LW_ENOTFOUND ? LW_OK : rc;
}

/* --- operator status changes -------------------------------------------- */

static int check_transition(const struct lw_incident_view *v,
			    enum lw_incidents_status to, struct lw_diag *diag)
{
	if (to == LW_INCIDENTS_OPEN || (unsigned)to > LW_INCIDENTS_CLOSED)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "an incident can only be acknowledged or closed");
	if (v->status == to)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "incident %llu is already %s",
				   (unsigned long long)v->id,
				   lw_incidents_status_name(to));
	if (v->status == LW_INCIDENTS_CLOSED)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "incident %llu is closed",
				   (unsigned long long)v->id);
	return LW_OK;
}

/* Appends one history entry; a full history keeps its first entry (the
 * creation) and drops the oldest change after it. */
static void add_history(struct lw_incident_view *v, int64_t now_ns,
			enum lw_incidents_status to, const char *actor,
			const char *note)
{
	struct lw_incidents_history *h;

	if (v->nhistory == LW_INCIDENTS_MAX_HISTORY) {
		memmove(&v->history[1], &v->history[2],
			(LW_INCIDENTS_MAX_HISTORY - 2) * sizeof(v->history[0]));
		v->nhistory--;
	}
	h = &v->history[v->nhistory++];
	h->time_ns = now_ns;
	h->status = to;
	h->actor = cstr(actor);
	h->note = cstr(note);
}

static int change(struct lw_store *st, MDB_txn *txn, uint64_t id,
		  enum lw_incidents_status to, const char *actor,
		  const char *note, int64_t now_ns, struct lw_buf *rec,
		  struct lw_diag *diag)
{
	struct lw_incident_view v;
	uint8_t key[8], oldk[9], newk[9], ident[IDENT_LEN];
	MDB_val k = {8, key}, val;
	enum lw_incidents_status from;
	int rc;

	put_be(key, id);
	rc = mdb_get(txn, st->inc, &k, &val);
	if (rc == MDB_NOTFOUND)
		return lw_diag_set(diag, LW_ENOTFOUND, NULL, 0, 0,
				   "no incident %llu", (unsigned long long)id);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get incident");
	if (lw_incidents_decode(val.mv_data, val.mv_size, &v) != LW_OK)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "incident %llu: corrupt record",
				   (unsigned long long)id);
	rc = check_transition(&v, to, diag);
	if (rc != LW_OK)
		return rc;
	from = v.status;
	v.status = to;
	add_history(&v, now_ns, to, actor, note);
	if (identity(v.rule_id, v.group, ident) != LW_OK)
		return LW_ENOMEM;
	lw_buf_reset(rec);
	lw_incidents_encode(&v, rec); /* copies out of the map before any put */
	if (rec->oom)
		return LW_ENOMEM;
	status_key(oldk, from, id);
	status_key(newk, to, id);
	rc = put_record(st, txn, id, rec, 0);
	if (rc == MDB_SUCCESS)
		rc = del_key(txn, st->inc_status, oldk, 9);
	if (rc == MDB_SUCCESS)
		rc = put_empty(txn, st->inc_status, newk, 9);
	if (rc == MDB_SUCCESS && to == LW_INCIDENTS_CLOSED) {
		MDB_val ik = {IDENT_LEN, ident}, iv;

		/* Only when the index still names this incident. */
		rc = mdb_get(txn, st->inc_open, &ik, &iv);
		if (rc == MDB_SUCCESS && iv.mv_size == 8 && get_be(iv.mv_data) == id)
			rc = mdb_del(txn, st->inc_open, &ik, NULL);
		else if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND)
			rc = MDB_SUCCESS;
	}
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "update incident");
}

int lw_incidents_set_status(struct lw_store *st, uint64_t id,
			    enum lw_incidents_status to, const char *actor,
			    const char *note, int64_t now_ns, struct lw_buf *json,
			    struct lw_diag *diag)
{
	struct lw_buf rec;
	MDB_txn *txn = NULL;
	int rc;

	if (st->readonly || !st->has_inc)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "store opened readonly");
	lw_buf_init(&rec);
	/* Short: one get and four puts; LMDB serialises it with the daemon's
	 * commits (one writer at a time across processes). */
	/* under the map lock: the console changes status from its own thread */
	rc = lw_store_begin_write(st, &txn);
	if (rc != MDB_SUCCESS) {
		rc = lw_store_mdb_fail(diag, rc, "begin write");
		goto out;
	}
	rc = change(st, txn, id, to, actor, note, now_ns, &rec, diag);
	if (rc != LW_OK) {
		mdb_txn_abort(txn);
		txn = NULL;
		lw_store_unlock(st);
		goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	lw_store_unlock(st);
	if (rc != MDB_SUCCESS) {
		rc = lw_store_mdb_fail(diag, rc, "commit");
		goto out;
	}
	if (json != NULL) {
		struct lw_incident_view v;

		lw_buf_reset(json);
		if (lw_incidents_decode(rec.data, rec.len, &v) == LW_OK)
			lw_incidents_to_json(&v, json);
	}
out:
	mdb_txn_abort(txn);
	lw_buf_release(&rec);
	return rc;
}
