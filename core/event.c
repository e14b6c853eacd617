/* lw_event / lw_batch: batch lifecycle and the two renderings operators
 * see (ECS-nested JSON and a syslog-like text line). Rendering is off the
 * ingest hot path, so it favours clarity over speed. */
#include "core/event.h"
#include "core/err.h"
#include "core/escape.h"
#include "core/sd.h"
#include "core/time.h"

#include <stdlib.h>
#include <string.h>

struct lw_batch *lw_batch_new(uint32_t cap)
{
	struct lw_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->events = calloc(cap ? cap : 1, sizeof(*b->events));
	if (b->events == NULL) {
		free(b);
		return NULL;
	}
	b->cap = cap ? cap : 1;
	lw_arena_init(&b->arena, 0);
	return b;
}

void lw_batch_free(struct lw_batch *batch)
{
	if (batch == NULL)
		return;
	lw_arena_release(&batch->arena);
	free(batch->events);
	free(batch);
}

void lw_batch_reset(struct lw_batch *batch)
{
	lw_arena_reset(&batch->arena);
	batch->count = 0;
	batch->raw_bytes = 0;
	batch->origin_len = 0;
	batch->origin_first = 0;
	batch->next = NULL;
}

int lw_batch_full(const struct lw_batch *batch)
{
	return batch->count >= batch->cap ||
	       batch->arena.used_bytes >= LW_BATCH_MAX_BYTES;
}

struct lw_event *lw_batch_push(struct lw_batch *batch)
{
	struct lw_event *ev;

	if (batch->count >= batch->cap)
		return NULL;
	ev = &batch->events[batch->count++];
	memset(ev, 0, sizeof(*ev));
	ev->facility = LW_SYSLOG_NONE;
	ev->severity = LW_SYSLOG_NONE;
	return ev;
}

void lw_event_set_unparsed(struct lw_event *ev, const char *line, size_t len)
{
	int64_t created = ev->created_ns;
	struct lw_str zone = ev->zone, source = ev->source_address;
	struct lw_field *fields = ev->fields;
	uint32_t nfields = ev->nfields;
	uint16_t keep = ev->flags & (LW_EVENT_TRUNCATED | LW_EVENT_BAD_UTF8);

	memset(ev, 0, sizeof(*ev));
	ev->created_ns = created;
	ev->timestamp_ns = created;
	ev->zone = zone;
	ev->source_address = source;
	ev->fields = fields;
	ev->nfields = nfields;
	ev->facility = LW_SYSLOG_NONE;
	ev->severity = LW_SYSLOG_NONE;
	ev->message = (struct lw_str){line, (uint32_t)len};
	ev->flags = keep | LW_EVENT_PARSE_ERROR | LW_EVENT_NO_TIMESTAMP;
}

const struct lw_field *lw_event_field(const struct lw_event *ev, const char *key,
				      size_t keylen)
{
	for (uint32_t i = 0; i < ev->nfields; i++)
		if (ev->fields[i].key.len == keylen &&
		    memcmp(ev->fields[i].key.ptr, key, keylen) == 0)
			return &ev->fields[i];
	return NULL;
}

/* The first entry of a member is its ECS name, the others its aliases. */
static const struct {
	const char *name;
	enum lw_event_member member;
} member_names[] = {
	{"message", LW_EVENT_MEMBER_MESSAGE},
	{"host.name", LW_EVENT_MEMBER_HOST},
	{"host.hostname", LW_EVENT_MEMBER_HOST},
	{"process.name", LW_EVENT_MEMBER_APP},
	{"log.syslog.appname", LW_EVENT_MEMBER_APP},
	{"log.syslog.procid", LW_EVENT_MEMBER_PROCID},
	{"process.pid", LW_EVENT_MEMBER_PROCID},
	{"log.syslog.msgid", LW_EVENT_MEMBER_MSGID},
	{"labels.zone", LW_EVENT_MEMBER_ZONE},
	{"log.source.address", LW_EVENT_MEMBER_SOURCE_ADDRESS},
	{"log.syslog.facility.code", LW_EVENT_MEMBER_FACILITY},
	{"log.syslog.severity.code", LW_EVENT_MEMBER_SEVERITY},
	{"log.syslog.structured_data", LW_EVENT_MEMBER_STRUCTURED_DATA},
};

#define NMEMBER_NAMES (sizeof(member_names) / sizeof(member_names[0]))

/* Sigma's generic field names (docs/rules.md "Field names"). */
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
	{"SourceIp", "source.ip"},
	{"SourcePort", "source.port"},
	{"SourceHostname", "source.domain"},
	{"DestinationIp", "destination.ip"},
	{"DestinationPort", "destination.port"},
	{"DestinationHostname", "destination.domain"},
	{"Protocol", "network.transport"},
	{"Computer", "host.name"},
	{"ComputerName", "host.name"},
	{"Hostname", "host.name"},
	{"Message", "message"},
	/* category firewall */
	{"src_ip", "source.ip"},
	{"src_port", "source.port"},
	{"dst_ip", "destination.ip"},
	{"dst_port", "destination.port"},
	{"action", "event.action"},
	/* category proxy and webserver (W3C extended log names) */
	{"c-ip", "source.ip"},
	{"c-uri", "url.original"},
	{"c-uri-query", "url.query"},
	{"c-uri-stem", "url.path"},
	{"c-useragent", "user_agent.original"},
	{"cs-host", "url.domain"},
	{"cs-method", "http.request.method"},
	{"cs-uri-query", "url.query"},
	{"cs-uri-stem", "url.path"},
	{"cs-user-agent", "user_agent.original"},
	{"cs-referrer", "http.request.referrer"},
	{"cs-username", "user.name"},
	{"sc-status", "http.response.status_code"},
	{"r-dns", "url.domain"},
	/* category dns */
	{"query", "dns.question.name"},
	{"record_type", "dns.question.type"},
};

static int name_is(const char *table_name, const char *name, size_t len)
{
	return strlen(table_name) == len && memcmp(table_name, name, len) == 0;
}

enum lw_event_member lw_event_member_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < NMEMBER_NAMES; i++)
		if (name_is(member_names[i].name, name, len))
			return member_names[i].member;
	return LW_EVENT_MEMBER_NONE;
}

const char *lw_event_member_name(enum lw_event_member m)
{
	for (size_t i = 0; i < NMEMBER_NAMES; i++)
		if (member_names[i].member == m)
			return member_names[i].name;
	return NULL;
}

const char *lw_event_sigma_alias(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(sigma_aliases) / sizeof(sigma_aliases[0]); i++)
		if (name_is(sigma_aliases[i].sigma, name, len))
			return sigma_aliases[i].ecs;
	return NULL;
}

static const char *const facility_names[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console",
	"solaris-cron", "local0", "local1", "local2", "local3", "local4",
	"local5", "local6", "local7"};
static const char *const severity_names[8] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
static const char *const flag_names[] = {
	"parse_error", "truncated", "clock_skew", "no_pri", "rfc5424",
	"no_timestamp", "bad_utf8"};

enum kv_kind { KV_STR, KV_NUM, KV_RAW };

struct kv {
	const char *key;
	size_t keylen;
	enum kv_kind kind;
	const char *val;
	size_t vlen;
	int64_t num;
};

/* Orders dotted keys component by component ('.' sorts first), so every
 * key of one JSON object is contiguous after sorting. */
static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;

	for (size_t i = 0; i < n; i++) {
		unsigned char cx = (unsigned char)x->key[i], cy = (unsigned char)y->key[i];
		if (cx == cy)
			continue;
		if (cx == '.')
			return -1;
		if (cy == '.')
			return 1;
		return cx < cy ? -1 : 1;
	}
	return (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/* Number of leading components a and b share (whole components only). */
static size_t shared_components(const struct kv *a, const struct kv *b, size_t *bytes)
{
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	size_t comps = 0, last = 0;

	for (size_t i = 0; i <= n; i++) {
		int end_a = i == a->keylen || a->key[i] == '.';
		int end_b = i == b->keylen || b->key[i] == '.';
		if (end_a && end_b) {
			if (i == a->keylen || i == b->keylen)
				break; /* a leaf is never an object prefix */
			comps++;
			last = i + 1;
			continue;
		}
		if (end_a || end_b || a->key[i] != b->key[i])
			break;
	}
	*bytes = last;
	return comps;
}

static size_t count_dots(const char *s, size_t n)
{
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		d += s[i] == '.';
	return d;
}

static void emit_value(const struct kv *kv, struct lw_buf *out)
{
	switch (kv->kind) {
	case KV_STR: lw_escape_json_string(out, kv->val, kv->vlen); break;
	case KV_NUM: lw_buf_printf(out, "%lld", (long long)kv->num); break;
	case KV_RAW: lw_buf_append(out, kv->val, kv->vlen); break;
	}
}

/* Writes sorted dotted pairs as nested objects. */
static void emit_nested(struct kv *kvs, size_t n, struct lw_buf *out)
{
	size_t depth = 0; /* open objects below the root */

	lw_buf_putc(out, '{');
	for (size_t i = 0; i < n; i++) {
		size_t keep = 0, keep_bytes = 0, start, total;

		if (i > 0)
			keep = shared_components(&kvs[i - 1], &kvs[i], &keep_bytes);
		for (; depth > keep; depth--)
			lw_buf_putc(out, '}');
		if (i > 0)
			lw_buf_putc(out, ',');
		total = count_dots(kvs[i].key, kvs[i].keylen);
		start = keep_bytes;
		for (size_t level = keep; level < total; level++) {
			const char *dot = memchr(kvs[i].key + start, '.', kvs[i].keylen - start);
			lw_escape_json_string(out, kvs[i].key + start, (size_t)(dot - kvs[i].key) - start);
			lw_buf_puts(out, ":{");
			start = (size_t)(dot - kvs[i].key) + 1;
			depth++;
		}
		lw_escape_json_string(out, kvs[i].key + start, kvs[i].keylen - start);
		lw_buf_putc(out, ':');
		emit_value(&kvs[i], out);
	}
	for (; depth > 0; depth--)
		lw_buf_putc(out, '}');
	lw_buf_putc(out, '}');
}

/* Renders SD as {"id":{"name":"value"}}; the walker reports params, and a
 * param-less element once with an empty name, so a new element is seen as
 * a change of sd_id position. */
struct sd_json {
	struct lw_buf *out;
	const char *cur_id;
	int first_param;
};

static int sd_json_param(struct lw_str id, struct lw_str name, struct lw_str value, void *arg)
{
	struct sd_json *s = arg;

	if (id.ptr != s->cur_id) {
		if (s->cur_id != NULL)
			lw_buf_puts(s->out, "},");
		lw_escape_json_string(s->out, id.ptr, id.len);
		lw_buf_puts(s->out, ":{");
		s->cur_id = id.ptr;
		s->first_param = 1;
	}
	if (name.len == 0)
		return LW_OK;
	if (!s->first_param)
		lw_buf_putc(s->out, ',');
	lw_escape_json_string(s->out, name.ptr, name.len);
	lw_buf_putc(s->out, ':');
	lw_escape_json_string(s->out, value.ptr, value.len);
	s->first_param = 0;
	return LW_OK;
}

#define FIXED_KV 24

static void add_str(struct kv *kvs, size_t *n, const char *key, struct lw_str v)
{
	if (v.len == 0)
		return;
	kvs[(*n)++] = (struct kv){key, strlen(key), KV_STR, v.ptr, v.len, 0};
}

/* Like add_str but kept when empty: @timestamp and message always appear. */
static void add_text(struct kv *kvs, size_t *n, const char *key, const char *v, size_t len)
{
	kvs[(*n)++] = (struct kv){key, strlen(key), KV_STR, v, len, 0};
}

static void add_num(struct kv *kvs, size_t *n, const char *key, int64_t v)
{
	kvs[(*n)++] = (struct kv){key, strlen(key), KV_NUM, NULL, 0, v};
}

static void add_raw(struct kv *kvs, size_t *n, const char *key, const char *v, size_t len)
{
	kvs[(*n)++] = (struct kv){key, strlen(key), KV_RAW, v, len, 0};
}

static int parse_pid(struct lw_str procid, int64_t *pid)
{
	int64_t v = 0;

	if (procid.len == 0 || procid.len > 18)
		return 0;
	for (uint32_t i = 0; i < procid.len; i++) {
		if (procid.ptr[i] < '0' || procid.ptr[i] > '9')
			return 0;
		v = v * 10 + (procid.ptr[i] - '0');
	}
	*pid = v;
	return 1;
}

void lw_event_to_json(const struct lw_event *ev, struct lw_buf *out)
{
	struct kv fixed[FIXED_KV + 16];
	struct kv *kvs = fixed;
	struct lw_buf ts, created, sd, flags, scratch;
	size_t n = 0;
	int64_t pid;

	if (ev->nfields > 16) {
		kvs = malloc((FIXED_KV + ev->nfields) * sizeof(*kvs));
		if (kvs == NULL) {
			out->oom = 1;
			return;
		}
	}
	lw_buf_init(&ts);
	lw_buf_init(&created);
	lw_buf_init(&sd);
	lw_buf_init(&flags);
	lw_buf_init(&scratch);
	lw_time_format_rfc3339(ev->timestamp_ns, &ts);
	lw_time_format_rfc3339(ev->created_ns, &created);
	add_text(kvs, &n, "@timestamp", ts.data, ts.len);
	add_str(kvs, &n, "event.created", (struct lw_str){created.data, (uint32_t)created.len});
	add_str(kvs, &n, "host.name", ev->host);
	add_str(kvs, &n, "process.name", ev->app);
	if (parse_pid(ev->procid, &pid))
		add_num(kvs, &n, "process.pid", pid);
	add_str(kvs, &n, "log.syslog.procid", ev->procid);
	add_str(kvs, &n, "log.syslog.msgid", ev->msgid);
	if (ev->facility < 24) {
		add_num(kvs, &n, "log.syslog.facility.code", ev->facility);
		add_text(kvs, &n, "log.syslog.facility.name", facility_names[ev->facility],
			 strlen(facility_names[ev->facility]));
	}
	if (ev->severity < 8) {
		add_num(kvs, &n, "log.syslog.severity.code", ev->severity);
		add_text(kvs, &n, "log.syslog.severity.name", severity_names[ev->severity],
			 strlen(severity_names[ev->severity]));
	}
	if (ev->structured_data.len) {
		struct sd_json js = {&sd, NULL, 1};
		lw_buf_putc(&sd, '{');
		if (lw_buf_reserve(&scratch, ev->structured_data.len) == LW_OK &&
		    lw_sd_each(ev->structured_data, scratch.data, scratch.cap,
			       sd_json_param, &js) == LW_OK) {
			lw_buf_puts(&sd, js.cur_id ? "}}" : "}");
			add_raw(kvs, &n, "log.syslog.structured_data", sd.data, sd.len);
		} else {
			add_str(kvs, &n, "log.syslog.structured_data", ev->structured_data);
		}
	}
	add_str(kvs, &n, "log.source.address", ev->source_address);
	add_str(kvs, &n, "labels.zone", ev->zone);
	add_text(kvs, &n, "message", ev->message.ptr, ev->message.len);
	if (ev->flags) {
		const char *sep = "[";
		for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
			if (ev->flags & (1u << i)) {
				lw_buf_printf(&flags, "%s\"%s\"", sep, flag_names[i]);
				sep = ",";
			}
		}
		lw_buf_putc(&flags, ']');
		add_raw(kvs, &n, "logward.flags", flags.data, flags.len);
	}
	for (uint32_t i = 0; i < ev->nfields; i++)
		kvs[n++] = (struct kv){ev->fields[i].key.ptr, ev->fields[i].key.len, KV_STR,
				       ev->fields[i].value.ptr, ev->fields[i].value.len, 0};
	qsort(kvs, n, sizeof(*kvs), kv_cmp);
	emit_nested(kvs, n, out);
	if (kvs != fixed)
		free(kvs);
	lw_buf_release(&ts);
	lw_buf_release(&created);
	lw_buf_release(&sd);
	lw_buf_release(&flags);
	lw_buf_release(&scratch);
}

/* Every field a sender chose is escaped (core/escape.h): a stored line
 * can neither rewrite the operator's terminal nor print a fake line. */
void lw_event_to_text(const struct lw_event *ev, struct lw_buf *out)
{
	lw_time_format_rfc3339(ev->timestamp_ns, out);
	lw_buf_putc(out, ' ');
	if (ev->zone.len) {
		lw_buf_putc(out, '[');
		lw_escape_text(out, ev->zone.ptr, ev->zone.len, 0);
		lw_buf_puts(out, "] ");
	}
	if (ev->host.len) {
		lw_escape_text(out, ev->host.ptr, ev->host.len, 0);
		lw_buf_putc(out, ' ');
	}
	if (ev->app.len) {
		lw_escape_text(out, ev->app.ptr, ev->app.len, 0);
		if (ev->procid.len) {
			lw_buf_putc(out, '[');
			lw_escape_text(out, ev->procid.ptr, ev->procid.len, 0);
			lw_buf_putc(out, ']');
		}
		lw_buf_puts(out, ": ");
	}
	lw_escape_text(out, ev->message.ptr, ev->message.len, 0);
	if (ev->flags & LW_EVENT_PARSE_ERROR)
		lw_buf_puts(out, " (unparsed)");
}

const char *lw_event_facility_name(unsigned code)
{
	return code < 24 ? facility_names[code] : NULL;
}

const char *lw_event_severity_name(unsigned code)
{
	return code < 8 ? severity_names[code] : NULL;
}

const char *lw_event_flag_name(unsigned bit)
{
	return bit < sizeof(flag_names) / sizeof(flag_names[0]) ? flag_names[bit] : NULL;
}
