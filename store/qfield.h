/* Event fields for the query language (prefix lw_qfield): the schema that
 * binds an lw_qlang expression to struct lw_event, and what each field
 * costs to read from a segment.
 *
 * Names are the ECS names `query --output json` prints (host.name,
 * process.name, labels.zone, log.syslog.severity.code, message ...), their
 * aliases (host.hostname, log.syslog.appname) and Sigma's generic names
 * (Computer, User, SourceIp ...); any other dotted name is an extra field
 * (source.ip, user.name, journald._SYSTEMD_UNIT), an address when its
 * last component is "ip". docs/query.md lists them with their types.
 *
 * Threads: everything here is constant; any thread may use it. */
#ifndef LW_STORE_QFIELD_H
#define LW_STORE_QFIELD_H

#include <stddef.h>

#include "store/qlang.h"

/* The id of a resolved field (struct lw_qlang_field.id). */
enum lw_qfield_id {
	LW_QFIELD_EXTRA = -1,  /* looked up by key among the extra fields */
	LW_QFIELD_TIMESTAMP = 0, /* @timestamp */
	LW_QFIELD_CREATED,     /* event.created */
	LW_QFIELD_HOST,        /* host.name */
	LW_QFIELD_APP,         /* process.name */
	LW_QFIELD_PID,         /* process.pid: procid when it is a number */
	LW_QFIELD_PROCID,      /* log.syslog.procid */
	LW_QFIELD_MSGID,       /* log.syslog.msgid */
	LW_QFIELD_ZONE,        /* labels.zone */
	LW_QFIELD_SOURCE,      /* log.source.address */
	LW_QFIELD_MESSAGE,     /* message */
	LW_QFIELD_SD,          /* log.syslog.structured_data */
	LW_QFIELD_FACILITY,    /* log.syslog.facility.code */
	LW_QFIELD_FACILITY_NAME, /* log.syslog.facility.name */
	LW_QFIELD_SEVERITY,    /* log.syslog.severity.code */
	LW_QFIELD_SEVERITY_NAME, /* log.syslog.severity.name */
	LW_QFIELD_FLAGS,       /* logward.flags: parse_error, truncated ... */
	LW_QFIELD__COUNT
};

/* The schema: text field "message"; records are const struct lw_event *. */
extern const struct lw_qlang_schema lw_qfield_schema;

/* Resolves a name as the schema does (exported for count-by and
 * histogram fields). LW_OK or LW_ENOTFOUND. */
int lw_qfield_resolve(const char *name, size_t len, struct lw_qlang_field *out);

/* The segment columns (enum lw_segment_cols) field f is read from. */
unsigned lw_qfield_columns(const struct lw_qlang_field *f);

/* The canonical name of a member id ("host.name"); NULL for EXTRA. */
const char *lw_qfield_name(enum lw_qfield_id id);

#endif
