/* The event model and the batch that carries events between threads
 * (prefix lw_event / lw_batch).
 *
 * An event is a set of views (struct lw_str) into memory owned by someone
 * else: the batch arena on the ingest path, a decoded segment on the query
 * path. Nothing in an event is NUL-terminated unless said so. Field names
 * follow ECS; enum lw_event_member below maps each member to its ECS name. */
#ifndef LW_CORE_EVENT_H
#define LW_CORE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

/* A byte view; ptr may be NULL when len is 0. Not NUL-terminated. */
struct lw_str {
	const char *ptr;
	uint32_t len;
};

#define LW_STR_NULL ((struct lw_str){NULL, 0})
#define LW_STR_LIT(s) ((struct lw_str){(s), (uint32_t)(sizeof(s) - 1)})

enum lw_event_flags {
	LW_EVENT_PARSE_ERROR = 1u << 0, /* stored whole as message, fields unset */
	LW_EVENT_TRUNCATED = 1u << 1,   /* cut at the max message size */
	LW_EVENT_CLOCK_SKEW = 1u << 2,  /* |@timestamp - event.created| > max skew */
	LW_EVENT_NO_PRI = 1u << 3,      /* no <PRI>; facility/severity defaulted */
	LW_EVENT_RFC5424 = 1u << 4,     /* parsed as RFC 5424 */
	LW_EVENT_NO_TIMESTAMP = 1u << 5, /* no usable time; @timestamp = created */
	LW_EVENT_BAD_UTF8 = 1u << 6     /* message holds bytes that are not UTF-8 */
};

/* Facility/severity value meaning "not present". */
#define LW_SYSLOG_NONE 0xff

/* An extra field: decoder output, journald fields, SD params. key is an ECS
 * dotted name ("source.ip", "journald._SYSTEMD_UNIT"). */
struct lw_field {
	struct lw_str key;
	struct lw_str value;
};

struct lw_event {
	int64_t timestamp_ns;         /* @timestamp, UTC ns since the epoch */
	int64_t created_ns;           /* event.created: receive time */
	struct lw_str host;           /* host.name */
	struct lw_str app;            /* process.name (APP-NAME / TAG) */
	struct lw_str procid;         /* log.syslog.procid; process.pid when numeric */
	struct lw_str msgid;          /* log.syslog.msgid */
	struct lw_str structured_data; /* raw RFC 5424 SD ("[id k=\"v\"]..."), validated */
	struct lw_str message;        /* message */
	struct lw_str zone;           /* labels.zone */
	struct lw_str source_address; /* log.source.address: "ip:port", "[v6]:port" or unix path */
	uint8_t facility;             /* log.syslog.facility.code or LW_SYSLOG_NONE */
	uint8_t severity;             /* log.syslog.severity.code or LW_SYSLOG_NONE */
	uint16_t flags;               /* enum lw_event_flags */
	uint32_t nfields;
	struct lw_field *fields;      /* nfields extra fields, or NULL */
};

/* A batch is full at this many arena bytes even when event slots remain:
 * it bounds memory per batch (so queue_batches bounds the whole pipeline)
 * whatever the message sizes. */
#define LW_BATCH_MAX_BYTES (1u << 20)
/* Longest origin node name a batch carries. */
#define LW_BATCH_ORIGIN_MAX 64

/* A batch: events plus the arena their bytes live in. Filled by one thread,
 * handed over whole by pointer (the queue transfers ownership). */
struct lw_batch {
	struct lw_arena arena;
	struct lw_event *events;
	uint32_t count;
	uint32_t cap;
	size_t raw_bytes;  /* sum of the input frame sizes */
	/* Events another node stored first (a central node consuming an
	 * edge's stream, collector/natsin.h): the origin node's name and the
	 * origin seq of events[0], consecutive after it. origin_len 0 =
	 * local input. */
	char origin[LW_BATCH_ORIGIN_MAX];
	uint32_t origin_len;
	uint64_t origin_first;
	struct lw_batch *next; /* queue / free-list link, owned by the holder */
	uint32_t id;       /* the owner's number for it (a pipeline slot) */
};

/* Returns a batch able to hold cap events, or NULL on ENOMEM. */
struct lw_batch *lw_batch_new(uint32_t cap);
/* Frees the batch and its arena; NULL is allowed. */
void lw_batch_free(struct lw_batch *batch);
/* Empties the batch for reuse, keeping its memory. */
void lw_batch_reset(struct lw_batch *batch);
/* Returns the next free event slot, zeroed with facility/severity set to
 * LW_SYSLOG_NONE, or NULL when the batch is full. count is incremented. */
struct lw_event *lw_batch_push(struct lw_batch *batch);
/* 1 when no event slot is left or LW_BATCH_MAX_BYTES are used. */
int lw_batch_full(const struct lw_batch *batch);

/* Puts an event into the LW_EVENT_PARSE_ERROR shape: every parsed field
 * cleared, message = the whole input, flag set. Keeps created_ns, zone,
 * source_address, extra fields and the truncated / bad-UTF-8 flags. */
void lw_event_set_unparsed(struct lw_event *ev, const char *line, size_t len);

/* Looks up an extra field by key; returns NULL when absent. */
const struct lw_field *lw_event_field(const struct lw_event *ev,
				      const char *key, size_t keylen);

/* ---- field names ----
 *
 * The one map from field names to event members, used by everything that
 * lets a user name a field: detection and correlation rules, queries. A
 * name is an event member's ECS name or an alias of it (host.hostname,
 * log.syslog.appname, process.pid); any other dotted name is an extra
 * field, looked up with lw_event_field. Sigma's generic names (Image,
 * User, SourceIp ...) stand for ECS names; lw_event_sigma_alias maps them.
 * The tables are constant: every function here is thread-safe. */

/* The event members a field name can address. */
enum lw_event_member {
	LW_EVENT_MEMBER_NONE = 0,        /* not a member: an extra field */
	LW_EVENT_MEMBER_MESSAGE,         /* message */
	LW_EVENT_MEMBER_HOST,            /* host.name, host.hostname */
	LW_EVENT_MEMBER_APP,             /* process.name, log.syslog.appname */
	LW_EVENT_MEMBER_PROCID,          /* log.syslog.procid, process.pid */
	LW_EVENT_MEMBER_MSGID,           /* log.syslog.msgid */
	LW_EVENT_MEMBER_ZONE,            /* labels.zone */
	LW_EVENT_MEMBER_SOURCE_ADDRESS,  /* log.source.address */
	LW_EVENT_MEMBER_FACILITY,        /* log.syslog.facility.code */
	LW_EVENT_MEMBER_SEVERITY,        /* log.syslog.severity.code */
	LW_EVENT_MEMBER_STRUCTURED_DATA, /* log.syslog.structured_data */
	LW_EVENT_MEMBER_COUNT
};

/* Bytes lw_event_member_value may write: a facility or severity code as
 * decimal text ("255" at most, no NUL). */
#define LW_EVENT_MEMBER_TEXT_MAX 4

/* The member that name[0..len) (its ECS name or an alias; exact bytes,
 * case-sensitive) addresses, or LW_EVENT_MEMBER_NONE. */
enum lw_event_member lw_event_member_lookup(const char *name, size_t len);

/* The ECS name of member m ("host.name"), the name the JSON rendering
 * uses; NULL for LW_EVENT_MEMBER_NONE and out of range. Static storage. */
const char *lw_event_member_name(enum lw_event_member m);

/* Member m of ev as text: string members as stored (a view into the
 * event), facility and severity as their decimal code written into text.
 * len 0 when ev lacks it (an empty member, a code of LW_SYSLOG_NONE) and
 * for LW_EVENT_MEMBER_NONE. Allocates nothing; the view lives as long as
 * ev's bytes and text. Inline: rules call it for every event. */
static inline struct lw_str lw_event_member_value(const struct lw_event *ev,
						  enum lw_event_member m,
						  char text[LW_EVENT_MEMBER_TEXT_MAX])
{
	uint8_t code;
	uint32_t n = 0;

	switch (m) {
	case LW_EVENT_MEMBER_MESSAGE: return ev->message;
	case LW_EVENT_MEMBER_HOST: return ev->host;
	case LW_EVENT_MEMBER_APP: return ev->app;
	case LW_EVENT_MEMBER_PROCID: return ev->procid;
	case LW_EVENT_MEMBER_MSGID: return ev->msgid;
	case LW_EVENT_MEMBER_ZONE: return ev->zone;
	case LW_EVENT_MEMBER_SOURCE_ADDRESS: return ev->source_address;
	case LW_EVENT_MEMBER_STRUCTURED_DATA: return ev->structured_data;
	case LW_EVENT_MEMBER_FACILITY: code = ev->facility; break;
	case LW_EVENT_MEMBER_SEVERITY: code = ev->severity; break;
	default: return LW_STR_NULL;
	}
	if (code == LW_SYSLOG_NONE)
		return LW_STR_NULL;
	if (code >= 100)
		text[n++] = (char)('0' + code / 100);
	if (code >= 10)
		text[n++] = (char)('0' + code / 10 % 10);
	text[n++] = (char)('0' + code % 10);
	return (struct lw_str){text, n};
}

/* The ECS name a Sigma generic (Sysmon-style) field name stands for
 * ("Image" -> "process.executable", "Computer" -> "host.name"), or NULL
 * when name[0..len) is not one. Static storage. */
const char *lw_event_sigma_alias(const char *name, size_t len);

/* Appends the event as one ECS-nested JSON object (no newline). */
void lw_event_to_json(const struct lw_event *ev, struct lw_buf *out);
/* Appends a syslog-like text line (no newline):
 * "2026-11-27T12:30:05.123456+00:00 host app[pid]: message zone=lgwan". */
void lw_event_to_text(const struct lw_event *ev, struct lw_buf *out);

/* The names the JSON rendering gives a facility code ("auth"), a
 * severity code ("err") and flag bit i ("parse_error"); NULL when out of
 * range. Static storage. */
const char *lw_event_facility_name(unsigned code);
const char *lw_event_severity_name(unsigned code);
const char *lw_event_flag_name(unsigned bit);

#endif
