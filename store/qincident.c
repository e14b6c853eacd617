/* lw_qincident: the incident field table and its value callback. Most
 * fields are members of struct lw_incident_view read through offsetof;
 * group.KEY looks KEY up in the group's JSON object; related.ip, .user and
 * .hosts are multi-valued (a query matches when any value does). */
#include "store/qincident.h"

#include <stddef.h>
#include <string.h>

#include "core/memfind.h"

enum kind {
	K_STR,    /* struct lw_str member */
	K_U64,    /* uint64_t member: a number */
	K_TIME,   /* int64_t ns member */
	K_STATUS, /* the status as its name */
	K_GROUP,  /* group.KEY */
	K_RELATED /* related.*: off is the enum lw_related_kind */
};

#define GROUP_ID (-1)

static const struct {
	const char *name;
	enum lw_qlang_type type;
	enum kind kind;
	size_t off;
} fields[] = {
	{"id", LW_QLANG_NUMBER, K_U64, offsetof(struct lw_incident_view, id)},
	{"count", LW_QLANG_NUMBER, K_U64, offsetof(struct lw_incident_view, count)},
	{"first_seen", LW_QLANG_TIME, K_TIME, offsetof(struct lw_incident_view, first_seen_ns)},
	{"last_seen", LW_QLANG_TIME, K_TIME, offsetof(struct lw_incident_view, last_seen_ns)},
	{"status", LW_QLANG_KEYWORD, K_STATUS, 0},
	{"category", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, category)},
	{"level", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, level)},
	{"rule.id", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, rule_id)},
	{"rule.name", LW_QLANG_TEXT, K_STR, offsetof(struct lw_incident_view, rule_title)},
	{"rule.title", LW_QLANG_TEXT, K_STR, offsetof(struct lw_incident_view, rule_title)},
	{"rule.level", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, rule_level)},
	{"host.name", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, host)},
	{"host", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, host)},
	{"labels.zone", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, zone)},
	{"zone", LW_QLANG_KEYWORD, K_STR, offsetof(struct lw_incident_view, zone)},
	{"related.ip", LW_QLANG_IP, K_RELATED, LW_RELATED_IP},
	{"related.user", LW_QLANG_KEYWORD, K_RELATED, LW_RELATED_USER},
	{"related.hosts", LW_QLANG_KEYWORD, K_RELATED, LW_RELATED_HOSTS},
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int resolve(const char *name, size_t len, struct lw_qlang_field *out)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (strlen(fields[i].name) != len || memcmp(fields[i].name, name, len) != 0)
			continue;
		out->id = (int)i;
		out->type = fields[i].type;
		out->flags = LW_QLANG_EMPTY_IS_ABSENT;
		return LW_OK;
	}
	if (len > 6 && memcmp(name, "group.", 6) == 0) {
		out->id = GROUP_ID;
		out->type = len > 9 && memcmp(name + len - 3, ".ip", 3) == 0 ?
			LW_QLANG_IP : LW_QLANG_KEYWORD;
		out->flags = LW_QLANG_EMPTY_IS_ABSENT;
		return LW_OK;
	}
	return LW_ENOTFOUND;
}

/* A JSON string at p (on its opening quote) as raw bytes, escapes left
 * in: the group object is written by logward from ECS names and values,
 * and a value with escapes compares as written. 0 when p is not one. */
static size_t json_string(const char *p, const char *end, struct lw_str *out)
{
	const char *q = p + 1;

	if (p >= end || *p != '"')
		return 0;
	while (q < end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	if (q >= end)
		return 0;
	out->ptr = p + 1;
	out->len = (uint32_t)(q - p - 1);
	return (size_t)(q + 1 - p);
}

/* The value of key in a flat JSON object of strings ({"k":"v",...}). */
static int group_value(struct lw_str group, const char *key, size_t keylen,
		       struct lw_str *value)
{
	const char *p = group.ptr, *end = group.ptr + group.len;
	struct lw_str k, v;
	size_t n;

	if (p == NULL || p >= end || *p++ != '{')
		return 0;
	while (p < end && *p != '}') {
		if ((n = json_string(p, end, &k)) == 0)
			return 0;
		p += n;
		if (p >= end || *p++ != ':' || (n = json_string(p, end, &v)) == 0)
			return 0;
		p += n;
		if (k.len == keylen && lw_memeq(k.ptr, key, keylen)) {
			*value = v;
			return 1;
		}
		if (p < end && *p == ',')
			p++;
	}
	return 0;
}

static int incident_value(const void *rec, const struct lw_qlang_field *f,
			  uint32_t *cursor, struct lw_qlang_value *out)
{
	const struct lw_incident_view *v = rec;
	const char *base = rec;
	const char *status;

	if (f->id != GROUP_ID && fields[f->id].kind == K_RELATED) {
		size_t k = fields[f->id].off;

		if (*cursor >= v->nrelated[k])
			return 0;
		out->kind = LW_QLANG_V_STR;
		out->str = v->related[k][(*cursor)++];
		return 1;
	}
	if ((*cursor)++ > 0)
		return 0;
	if (f->id == GROUP_ID) {
		out->kind = LW_QLANG_V_STR;
		return group_value(v->group, f->key + 6, f->keylen - 6, &out->str);
	}
	switch (fields[f->id].kind) {
	case K_STR:
		out->kind = LW_QLANG_V_STR;
		memcpy(&out->str, base + fields[f->id].off, sizeof(out->str));
		return 1;
	case K_U64: {
		uint64_t n;

		memcpy(&n, base + fields[f->id].off, sizeof(n));
		out->kind = LW_QLANG_V_NUM;
		out->num = (double)n;
		return 1;
	}
	case K_TIME:
		out->kind = LW_QLANG_V_TIME;
		memcpy(&out->ns, base + fields[f->id].off, sizeof(out->ns));
		return 1;
	case K_STATUS:
		status = lw_incidents_status_name(v->status);
		out->kind = LW_QLANG_V_STR;
		out->str = (struct lw_str){status, (uint32_t)strlen(status)};
		return 1;
	default:
		return 0;
	}
}

const struct lw_qlang_schema lw_qincident_schema = {
	.text_field = "rule.name",
	.resolve = resolve,
	.value = incident_value,
};
