/* lw_qfield: names -> event members, member values for the matcher, and
 * the segment columns each field is stored in.
 *
 * The name tables below (members and their aliases, Sigma's generic
 * names) are the ones the correlator uses too; member_of and sigma_alias
 * are the only places that read them, so that pointing these two
 * functions at core/event's shared field table is the whole change when
 * it lands. */
#include "store/qfield.h"

#include <string.h>

#include "core/memfind.h"
#include "store/segment.h"

static const struct {
	const char *name;
	enum lw_qfield_id id;
	enum lw_qlang_type type;
	unsigned flags;
} members[] = {
	{"@timestamp", LW_QFIELD_TIMESTAMP, LW_QLANG_TIME, 0},
	{"event.created", LW_QFIELD_CREATED, LW_QLANG_TIME, 0},
	{"host.name", LW_QFIELD_HOST, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"host.hostname", LW_QFIELD_HOST, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"process.name", LW_QFIELD_APP, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"log.syslog.appname", LW_QFIELD_APP, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"process.pid", LW_QFIELD_PID, LW_QLANG_NUMBER, 0},
	{"log.syslog.procid", LW_QFIELD_PROCID, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"log.syslog.msgid", LW_QFIELD_MSGID, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"labels.zone", LW_QFIELD_ZONE, LW_QLANG_KEYWORD, LW_QLANG_EMPTY_IS_ABSENT},
	{"log.source.address", LW_QFIELD_SOURCE, LW_QLANG_IP,
	 LW_QLANG_EMPTY_IS_ABSENT | LW_QLANG_IP_PORT},
	{"message", LW_QFIELD_MESSAGE, LW_QLANG_TEXT, LW_QLANG_EMPTY_IS_ABSENT},
	{"log.syslog.structured_data", LW_QFIELD_SD, LW_QLANG_TEXT, LW_QLANG_EMPTY_IS_ABSENT},
	{"log.syslog.facility.code", LW_QFIELD_FACILITY, LW_QLANG_NUMBER, 0},
	{"log.syslog.facility.name", LW_QFIELD_FACILITY_NAME, LW_QLANG_KEYWORD, 0},
	{"log.syslog.severity.code", LW_QFIELD_SEVERITY, LW_QLANG_NUMBER, 0},
	{"log.syslog.severity.name", LW_QFIELD_SEVERITY_NAME, LW_QLANG_KEYWORD, 0},
	{"logward.flags", LW_QFIELD_FLAGS, LW_QLANG_KEYWORD, 0},
};

#define NMEMBERS (sizeof(members) / sizeof(members[0]))

/* Sigma's generic (Sysmon-style) field names -> ECS, as in rules. */
static const struct {
	const char *sigma;
	const char *ecs;
} sigma_aliases[] = {
	{"Image", "process.executable"},
	{"CommandLine", "process.command_line"},
	{"ParentImage", "process.parent.executable"},
	{"ParentCommandLine", "process.parent.command_line"},
	{"CurrentDirectory", "process.working_directory"},
	{"ProcessId", "process.pid"},
	{"ParentProcessId", "process.parent.pid"},
	{"User", "user.name"},
	{"TargetFilename", "file.path"},
	{"DestinationIp", "destination.ip"},
	{"DestinationPort", "destination.port"},
	{"DestinationHostname", "destination.domain"},
	{"SourceIp", "source.ip"},
	{"SourcePort", "source.port"},
	{"SourceHostname", "source.domain"},
	{"Protocol", "network.transport"},
	{"Computer", "host.name"},
	{"ComputerName", "host.name"},
	{"Hostname", "host.name"},
	{"Message", "message"},
};

static int name_is(const char *table_name, const char *name, size_t len)
{
	return strlen(table_name) == len && memcmp(table_name, name, len) == 0;
}

/* The ECS name a Sigma generic name stands for, or NULL. */
static const char *sigma_alias(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(sigma_aliases) / sizeof(sigma_aliases[0]); i++)
		if (name_is(sigma_aliases[i].sigma, name, len))
			return sigma_aliases[i].ecs;
	return NULL;
}

/* The members[] row of an ECS name or alias, or -1. */
static int member_of(const char *name, size_t len)
{
	for (size_t i = 0; i < NMEMBERS; i++)
		if (name_is(members[i].name, name, len))
			return (int)i;
	return -1;
}

int lw_qfield_resolve(const char *name, size_t len, struct lw_qlang_field *out)
{
	const char *ecs = sigma_alias(name, len);
	int row;

	memset(out, 0, sizeof(*out));
	if (ecs != NULL) {
		name = ecs;
		len = strlen(ecs);
		out->key = ecs;
		out->keylen = (uint32_t)len;
	}
	row = member_of(name, len);
	if (row >= 0) {
		out->id = (int)members[row].id;
		out->type = members[row].type;
		out->flags = members[row].flags;
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
	for (size_t i = 0; i < NMEMBERS; i++)
		if (members[i].id == id)
			return members[i].name;
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
