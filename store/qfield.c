/* lw_qfield: names -> event members, member values for the matcher, and
 * the segment columns each field is stored in.
 *
 * Names resolve through core/event's field table (members, their aliases,
 * Sigma's generic names: the one the rules use too); this file adds only
 * the query language's types and the few names only queries have. */
#include "store/qfield.h"

#include <string.h>

#include "core/memfind.h"
#include "store/segment.h"

/* What the query language knows of an event member of core/event's field
 * table (the one map of names to members, shared with the rules). */
static const struct member_type {
	enum lw_qfield_id id;
	enum lw_qlang_type type;
	unsigned flags;
} member_types[LW_EVENT_MEMBER_COUNT] = {
	[LW_EVENT_MEMBER_MESSAGE] = {LW_QFIELD_MESSAGE, LW_QLANG_TEXT, LW_QLANG_EMPTY_IS_ABSENT},
	[LW_EVENT_MEMBER_HOST] = {LW_QFIELD_HOST, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	[LW_EVENT_MEMBER_APP] = {LW_QFIELD_APP, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	[LW_EVENT_MEMBER_PROCID] = {LW_QFIELD_PROCID, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	[LW_EVENT_MEMBER_MSGID] = {LW_QFIELD_MSGID, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	[LW_EVENT_MEMBER_ZONE] = {LW_QFIELD_ZONE, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	[LW_EVENT_MEMBER_SOURCE_ADDRESS] = {LW_QFIELD_SOURCE, LW_QLANG_IP,
					    LW_QLANG_EMPTY_IS_ABSENT | LW_QLANG_IP_PORT},
	[LW_EVENT_MEMBER_FACILITY] = {LW_QFIELD_FACILITY, LW_QLANG_NUMBER, 0},
	[LW_EVENT_MEMBER_SEVERITY] = {LW_QFIELD_SEVERITY, LW_QLANG_NUMBER, 0},
	[LW_EVENT_MEMBER_STRUCTURED_DATA] = {LW_QFIELD_SD, LW_QLANG_TEXT, LW_QLANG_EMPTY_IS_ABSENT},
};

/* Names only queries have: the times, the pid as a number (core's table
 * maps process.pid to the procid text, which rules compare as text), the
 * syslog code names and the flags. Looked up before core's table. */
static const struct {
	const char *name;
	struct member_type t;
} query_only[] = {
	{"@timestamp", {LW_QFIELD_TIMESTAMP, LW_QLANG_TIME, 0}},
	{"event.created", {LW_QFIELD_CREATED, LW_QLANG_TIME, 0}},
	{"process.pid", {LW_QFIELD_PID, LW_QLANG_NUMBER, 0}},
	{"log.syslog.facility.name", {LW_QFIELD_FACILITY_NAME, LW_QLANG_KEYWORD, 0}},
	{"log.syslog.severity.name", {LW_QFIELD_SEVERITY_NAME, LW_QLANG_KEYWORD, 0}},
	{"logward.flags", {LW_QFIELD_FLAGS, LW_QLANG_KEYWORD, 0}},
};

#define NQUERY_ONLY (sizeof(query_only) / sizeof(query_only[0]))

static int name_is(const char *table_name, const char *name, size_t len)
{
	return strlen(table_name) == len && memcmp(table_name, name, len) == 0;
}

/* The type of a member name, or NULL for an extra field. */
static const struct member_type *member_of(const char *name, size_t len)
{
	enum lw_event_member m;

	for (size_t i = 0; i < NQUERY_ONLY; i++)
		if (name_is(query_only[i].name, name, len))
			return &query_only[i].t;
	m = lw_event_member_lookup(name, len);
	return m == LW_EVENT_MEMBER_NONE ? NULL : &member_types[m];
}

int lw_qfield_resolve(const char *name, size_t len, struct lw_qlang_field *out)
{
	const char *ecs = lw_event_sigma_alias(name, len);
	const struct member_type *t;

	memset(out, 0, sizeof(*out));
	if (ecs != NULL) {
		name = ecs;
		len = strlen(ecs);
		out->key = ecs;
		out->keylen = (uint32_t)len;
	}
	t = member_of(name, len);
	if (t != NULL) {
		out->id = (int)t->id;
		out->type = t->type;
		out->flags = t->flags;
		return LW_OK;
	}
	/* Extra fields carry ECS names, which are dotted: an undotted name
	 * is a typo ("hostname"), not a field nobody stores. */
	if (memchr(name, '.', len) == NULL)
		return LW_ENOTFOUND;
	out->id = LW_QFIELD_EXTRA;
	out->type = len > 3 && memcmp(name + len - 3, ".ip", 3) == 0 ?
		LW_QLANG_IP : LW_QLANG_KEYWORD;
	return LW_OK;
}

const char *lw_qfield_name(enum lw_qfield_id id)
{
	for (size_t i = 0; i < NQUERY_ONLY; i++)
		if (query_only[i].t.id == id)
			return query_only[i].name;
	for (int m = 0; m < LW_EVENT_MEMBER_COUNT; m++)
		if (member_types[m].id == id && m != LW_EVENT_MEMBER_NONE)
			return lw_event_member_name((enum lw_event_member)m);
	return NULL;
}

unsigned lw_qfield_columns(const struct lw_qlang_field *f)
{
	switch ((enum lw_qfield_id)f->id) {
	case LW_QFIELD_TIMESTAMP: return LW_SEGMENT_COL_TS;
	case LW_QFIELD_CREATED: return LW_SEGMENT_COL_CREATED;
	case LW_QFIELD_HOST: return LW_SEGMENT_COL_HOST;
	case LW_QFIELD_APP: return LW_SEGMENT_COL_APP;
	case LW_QFIELD_PID:
	case LW_QFIELD_PROCID: return LW_SEGMENT_COL_PROCID;
	case LW_QFIELD_MSGID: return LW_SEGMENT_COL_MSGID;
	case LW_QFIELD_ZONE: return LW_SEGMENT_COL_ZONE;
	case LW_QFIELD_SOURCE: return LW_SEGMENT_COL_SOURCE;
	case LW_QFIELD_MESSAGE: return LW_SEGMENT_COL_MESSAGE;
	case LW_QFIELD_SD: return LW_SEGMENT_COL_SD;
	case LW_QFIELD_FACILITY:
	case LW_QFIELD_FACILITY_NAME: return LW_SEGMENT_COL_FACILITY;
	case LW_QFIELD_SEVERITY:
	case LW_QFIELD_SEVERITY_NAME: return LW_SEGMENT_COL_SEVERITY;
	case LW_QFIELD_FLAGS: return LW_SEGMENT_COL_FLAGS;
	default: return LW_SEGMENT_COL_FIELDS;
	}
}

static int one_str(struct lw_str s, uint32_t *cursor, struct lw_qlang_value *out)
{
	if ((*cursor)++ > 0)
		return 0;
	out->kind = LW_QLANG_V_STR;
	out->str = s;
	return 1;
}

static int one_time(int64_t ns, uint32_t *cursor, struct lw_qlang_value *out)
{
	if ((*cursor)++ > 0)
		return 0;
	out->kind = LW_QLANG_V_TIME;
	out->ns = ns;
	return 1;
}

/* A syslog code as a number, or its name; nothing when absent. */
static int one_code(uint8_t code, const char *name, int as_name, uint32_t *cursor,
		    struct lw_qlang_value *out)
{
	if (code == LW_SYSLOG_NONE || (*cursor)++ > 0)
		return 0;
	if (as_name) {
		if (name == NULL)
			return 0;
		out->kind = LW_QLANG_V_STR;
		out->str = (struct lw_str){name, (uint32_t)strlen(name)};
		return 1;
	}
	out->kind = LW_QLANG_V_NUM;
	out->num = code;
	return 1;
}

/* process.pid: the procid when it is all digits (as JSON renders it). */
static int one_pid(struct lw_str procid, uint32_t *cursor, struct lw_qlang_value *out)
{
	double v = 0;

	if (procid.len == 0 || procid.len > 18 || (*cursor)++ > 0)
		return 0;
	for (uint32_t i = 0; i < procid.len; i++) {
		if (procid.ptr[i] < '0' || procid.ptr[i] > '9')
			return 0;
		v = v * 10 + (procid.ptr[i] - '0');
	}
	out->kind = LW_QLANG_V_NUM;
	out->num = v;
	return 1;
}

static int next_flag(uint16_t flags, uint32_t *cursor, struct lw_qlang_value *out)
{
	for (; *cursor < 16; (*cursor)++) {
		const char *name = lw_event_flag_name(*cursor);

		if ((flags & (1u << *cursor)) && name != NULL) {
			(*cursor)++;
			out->kind = LW_QLANG_V_STR;
			out->str = (struct lw_str){name, (uint32_t)strlen(name)};
			return 1;
		}
	}
	return 0;
}

/* Extra fields may repeat a key (several SD params of one name): every
 * one is a value. */
static int next_extra(const struct lw_event *ev, const struct lw_qlang_field *f,
		      uint32_t *cursor, struct lw_qlang_value *out)
{
	for (; *cursor < ev->nfields; (*cursor)++) {
		const struct lw_field *fd = &ev->fields[*cursor];

		if (fd->key.len == f->keylen && lw_memeq(fd->key.ptr, f->key, f->keylen)) {
			(*cursor)++;
			out->kind = LW_QLANG_V_STR;
			out->str = fd->value;
			return 1;
		}
	}
	return 0;
}

static int event_value(const void *rec, const struct lw_qlang_field *f,
		       uint32_t *cursor, struct lw_qlang_value *out)
{
	const struct lw_event *ev = rec;

	switch ((enum lw_qfield_id)f->id) {
	case LW_QFIELD_TIMESTAMP: return one_time(ev->timestamp_ns, cursor, out);
	case LW_QFIELD_CREATED: return one_time(ev->created_ns, cursor, out);
	case LW_QFIELD_HOST: return one_str(ev->host, cursor, out);
	case LW_QFIELD_APP: return one_str(ev->app, cursor, out);
	case LW_QFIELD_PID: return one_pid(ev->procid, cursor, out);
	case LW_QFIELD_PROCID: return one_str(ev->procid, cursor, out);
	case LW_QFIELD_MSGID: return one_str(ev->msgid, cursor, out);
	case LW_QFIELD_ZONE: return one_str(ev->zone, cursor, out);
	case LW_QFIELD_SOURCE: return one_str(ev->source_address, cursor, out);
	case LW_QFIELD_MESSAGE: return one_str(ev->message, cursor, out);
	case LW_QFIELD_SD: return one_str(ev->structured_data, cursor, out);
	case LW_QFIELD_FACILITY:
	case LW_QFIELD_FACILITY_NAME:
		return one_code(ev->facility, lw_event_facility_name(ev->facility),
				f->id == LW_QFIELD_FACILITY_NAME, cursor, out);
	case LW_QFIELD_SEVERITY:
	case LW_QFIELD_SEVERITY_NAME:
		return one_code(ev->severity, lw_event_severity_name(ev->severity),
				f->id == LW_QFIELD_SEVERITY_NAME, cursor, out);
	case LW_QFIELD_FLAGS: return next_flag(ev->flags, cursor, out);
	default: return next_extra(ev, f, cursor, out);
	}
}

const struct lw_qlang_schema lw_qfield_schema = {
	.text_field = "message",
	.resolve = lw_qfield_resolve,
	.value = event_value,
};
