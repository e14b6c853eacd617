/* lw_config: the YAML configuration, loaded with libyaml's document API so
 * every error can name the line and column of the offending node. Keys are
 * table-driven (one table per section); an unknown key is an error, never
 * silently ignored, because a typo in a security config must not pass. */
#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

enum key_type {
	KEY_STRING,   /* char[] of size `size` */
	KEY_SIZE,     /* uint64_t bytes: 4MiB */
	KEY_SIZE32,   /* uint32_t bytes */
	KEY_DURATION_MS, /* uint64_t ms: 300s */
	KEY_DURATION_S,  /* uint64_t s */
	KEY_DURATION_MS32, /* uint32_t ms */
	KEY_UINT32,
	KEY_BOOL,     /* int */
	KEY_CIDRS,    /* struct lw_cidr_list */
	KEY_LISTENER_TYPE,
	KEY_FRAMING,
	KEY_NOTIFY_TYPE,
	KEY_LEVEL,    /* uint32_t 0..4: informational low medium high critical */
	KEY_ARGV,     /* struct lw_notify_argv */
	KEY_MAP       /* a nested mapping with its own key table (sub) */
};

/* One key: how it is parsed (type, bounds), where it goes (offset, size
 * of the member), and for listener keys what a reload does with it. The
 * loader and the reload comparison both walk these tables, so a key
 * exists in exactly one place. */
struct key_spec {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;    /* sizeof the member (KEY_STRING: its buffer) */
	uint64_t min, max; /* numeric bounds (inclusive); max 0 = none */
	enum lw_config_reload reload; /* listener keys; 0 elsewhere */
	const struct key_spec *sub;   /* KEY_MAP */
};

#define MEMBER(st, f) offsetof(st, f), sizeof(((st *)0)->f)
#define STR(st, f) KEY_STRING, MEMBER(st, f)
#define NUM(t, st, f) t, MEMBER(st, f)

static const struct key_spec top_keys[] = {
	{"data_dir", STR(struct lw_config, data_dir), 0, 0, 0, NULL},
	{"timezone", STR(struct lw_config, timezone), 0, 0, 0, NULL},
	{"user", STR(struct lw_config, user), 0, 0, 0, NULL},
	{"max_clock_skew", NUM(KEY_DURATION_S, struct lw_config, max_clock_skew_s), 0, 0, 0, NULL},
	{"queue_batches", NUM(KEY_UINT32, struct lw_config, queue_batches), 2, 4096, 0, NULL},
	{"batch_events", NUM(KEY_UINT32, struct lw_config, batch_events), 1, 1 << 20, 0, NULL},
	{"workers", NUM(KEY_UINT32, struct lw_config, workers), 0, LW_CONFIG_MAX_WORKERS, 0, NULL},
	{"notify_queue", NUM(KEY_UINT32, struct lw_config, notify_queue), 1, 65536, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec notify_keys[] = {
	{"type", NUM(KEY_NOTIFY_TYPE, struct lw_notify_config, type), 0, 0, 0, NULL},
	{"path", STR(struct lw_notify_config, path), 0, 0, 0, NULL},
	{"argv", NUM(KEY_ARGV, struct lw_notify_config, argv), 0, 0, 0, NULL},
	{"timeout", NUM(KEY_DURATION_MS32, struct lw_notify_config, timeout_ms), 1, 3600000, 0, NULL},
	{"max_attempts", NUM(KEY_UINT32, struct lw_notify_config, max_attempts), 1, 1000, 0, NULL},
	{"min_level", NUM(KEY_LEVEL, struct lw_notify_config, min_level), 0, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec storage_keys[] = {
	{"segment_bytes", NUM(KEY_SIZE, struct lw_storage_config, segment_bytes), 4096, 1ull << 30, 0, NULL},
	{"flush_interval", NUM(KEY_DURATION_MS, struct lw_storage_config, flush_interval_ms), 1, 3600000, 0, NULL},
	{"max_age", NUM(KEY_DURATION_S, struct lw_storage_config, max_age_s), 0, 0, 0, NULL},
	{"max_bytes", NUM(KEY_SIZE, struct lw_storage_config, max_bytes), 0, 0, 0, NULL},
	{"map_size", NUM(KEY_SIZE, struct lw_storage_config, map_size), 1 << 20, 0, 0, NULL},
	{"integrity_key", STR(struct lw_storage_config, integrity_key), 0, 0, 0, NULL},
	{"compression_level", NUM(KEY_UINT32, struct lw_storage_config, compression_level), 1, 19, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec metrics_keys[] = {
	{"address", STR(struct lw_config, metrics_address), 0, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec api_keys[] = {
	{"address", STR(struct lw_api_config, address), 0, 0, 0, NULL},
	{"cert", STR(struct lw_api_config, cert), 0, 0, 0, NULL},
	{"key", STR(struct lw_api_config, key), 0, 0, 0, NULL},
	{"session_idle", NUM(KEY_DURATION_MS, struct lw_api_config, session_idle_ms), 1000, 7 * 86400000ull, 0, NULL},
	{"session_max", NUM(KEY_DURATION_MS, struct lw_api_config, session_max_ms), 1000, 31 * 86400000ull, 0, NULL},
	{"max_sessions", NUM(KEY_UINT32, struct lw_api_config, max_sessions), 1, 1 << 20, 0, NULL},
	{"login_max_failures", NUM(KEY_UINT32, struct lw_api_config, login_max_failures), 1, 1000, 0, NULL},
	{"login_window", NUM(KEY_DURATION_MS, struct lw_api_config, login_window_ms), 1000, 86400000, 0, NULL},
	{"max_body_size", NUM(KEY_SIZE, struct lw_api_config, max_body_bytes), 1024, 16 << 20, 0, NULL},
	{"silent_after", NUM(KEY_DURATION_MS, struct lw_api_config, silent_after_ms), 1000, 0, 0, NULL},
	{"max_connections_per_source", NUM(KEY_UINT32, struct lw_api_config, max_connections_per_source), 1, 1 << 20, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec health_keys[] = {
	{"check_interval", NUM(KEY_DURATION_MS, struct lw_health_config, check_interval_ms), 100, 86400000, 0, NULL},
	{"loss_checks", NUM(KEY_UINT32, struct lw_health_config, loss_checks), 1, 1000, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec forward_keys[] = {
	{"type", STR(struct lw_forward_config, type), 0, 0, 0, NULL},
	{"servers", NUM(KEY_ARGV, struct lw_forward_config, servers), 0, 0, 0, NULL},
	{"stream", STR(struct lw_forward_config, stream), 0, 0, 0, NULL},
	{"subject", STR(struct lw_forward_config, subject), 0, 0, 0, NULL},
	{"node", STR(struct lw_forward_config, node), 0, 0, 0, NULL},
	{"max_in_flight", NUM(KEY_UINT32, struct lw_forward_config, max_in_flight), 1, 4096, 0, NULL},
	{"message_size", NUM(KEY_SIZE, struct lw_forward_config, message_bytes), 4096, 768 * 1024, 0, NULL},
	{"ack_timeout", NUM(KEY_DURATION_MS, struct lw_forward_config, ack_timeout_ms), 100, 600000, 0, NULL},
	{"replicas", NUM(KEY_UINT32, struct lw_forward_config, replicas), 1, 5, 0, NULL},
	{"duplicate_window", NUM(KEY_DURATION_MS, struct lw_forward_config, duplicate_window_ms), 1000, 7 * 86400000ull, 0, NULL},
	{"stream_max_age", NUM(KEY_DURATION_S, struct lw_forward_config, stream_max_age_s), 0, 0, 0, NULL},
	{"stream_max_bytes", NUM(KEY_SIZE, struct lw_forward_config, stream_max_bytes), 0, 0, 0, NULL},
	{"ca", STR(struct lw_forward_config, ca), 0, 0, 0, NULL},
	{"cert", STR(struct lw_forward_config, cert), 0, 0, 0, NULL},
	{"key", STR(struct lw_forward_config, key), 0, 0, 0, NULL},
	{"credentials", STR(struct lw_forward_config, credentials), 0, 0, 0, NULL},
	{"lag_alert", NUM(KEY_DURATION_S, struct lw_forward_config, lag_alert_s), 0, 0, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec correlation_keys[] = {
	{"memory", NUM(KEY_SIZE, struct lw_correlation_config, memory_bytes), 1 << 20, 1ull << 40, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

static const struct key_spec rate_limit_keys[] = {
	{"events_per_second", NUM(KEY_UINT32, struct lw_rate_limit_config, events_per_second), 1, 1000000000, 0, NULL},
	{"burst", NUM(KEY_UINT32, struct lw_rate_limit_config, burst), 1, 1000000000, 0, NULL},
	{"max_sources", NUM(KEY_UINT32, struct lw_rate_limit_config, max_sources), 16, 1 << 24, 0, NULL},
	{"listener_events_per_second", NUM(KEY_UINT32, struct lw_rate_limit_config, listener_events_per_second), 1, 1000000000, 0, NULL},
	{"listener_burst", NUM(KEY_UINT32, struct lw_rate_limit_config, listener_burst), 1, 1000000000, 0, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};

/* A key added here is compared on reload by its class (and named in the
 * reload log); tests/unit/test_config.c changes each one in turn. */
static const struct key_spec listener_keys[] = {
	{"type", NUM(KEY_LISTENER_TYPE, struct lw_listener_config, type), 0, 0, LW_RELOAD_SOCKET, NULL},
	{"address", STR(struct lw_listener_config, address), 0, 0, LW_RELOAD_SOCKET, NULL},
	{"path", STR(struct lw_listener_config, path), 0, 0, LW_RELOAD_SOCKET, NULL},
	{"zone", STR(struct lw_listener_config, zone), 0, 0, LW_RELOAD_LIVE, NULL},
	{"framing", NUM(KEY_FRAMING, struct lw_listener_config, framing), 0, 0, LW_RELOAD_LIVE, NULL},
	{"max_message_size", NUM(KEY_SIZE32, struct lw_listener_config, max_message_bytes), 64, 16 << 20, LW_RELOAD_LIVE, NULL},
	{"max_connections", NUM(KEY_UINT32, struct lw_listener_config, max_connections), 1, 1 << 20, LW_RELOAD_LIVE, NULL},
	{"max_connections_per_source", NUM(KEY_UINT32, struct lw_listener_config, max_connections_per_source), 1, 1 << 20, LW_RELOAD_LIVE, NULL},
	{"idle_timeout", NUM(KEY_DURATION_MS32, struct lw_listener_config, idle_timeout_ms), 1, 0, LW_RELOAD_LIVE, NULL},
	{"cert", STR(struct lw_listener_config, cert), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"key", STR(struct lw_listener_config, key), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"ca", STR(struct lw_listener_config, ca), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"ciphers", STR(struct lw_listener_config, ciphers), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"ciphersuites", STR(struct lw_listener_config, ciphersuites), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"verify_client", NUM(KEY_BOOL, struct lw_listener_config, verify_client), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"allow", NUM(KEY_CIDRS, struct lw_listener_config, allow), 0, 0, LW_RELOAD_LIVE, NULL},
	{"frame_timeout", NUM(KEY_DURATION_MS32, struct lw_listener_config, frame_timeout_ms), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"handshake_timeout", NUM(KEY_DURATION_MS32, struct lw_listener_config, handshake_timeout_ms), 1, 0, LW_RELOAD_AT_OPEN, NULL},
	{"rate_limit", NUM(KEY_MAP, struct lw_listener_config, rate_limit), 0, 0, LW_RELOAD_AT_OPEN, rate_limit_keys},
	{"max_body_size", NUM(KEY_SIZE, struct lw_listener_config, max_body_bytes), 0, 0, LW_RELOAD_LIVE, NULL},
	{"servers", NUM(KEY_ARGV, struct lw_listener_config, servers), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"stream", STR(struct lw_listener_config, stream), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"subject", STR(struct lw_listener_config, subject), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"durable", STR(struct lw_listener_config, durable), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"credentials", STR(struct lw_listener_config, credentials), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"ack_wait", NUM(KEY_DURATION_MS32, struct lw_listener_config, ack_wait_ms), 1000, 3600000, LW_RELOAD_AT_OPEN, NULL},
	{"max_ack_pending", NUM(KEY_UINT32, struct lw_listener_config, max_ack_pending), 1, 1 << 20, LW_RELOAD_AT_OPEN, NULL},
	{"replicas", NUM(KEY_UINT32, struct lw_listener_config, replicas), 1, 5, LW_RELOAD_AT_OPEN, NULL},
	{"duplicate_window", NUM(KEY_DURATION_MS, struct lw_listener_config, duplicate_window_ms), 1000, 7 * 86400000ull, LW_RELOAD_AT_OPEN, NULL},
	{"notify_once", NUM(KEY_BOOL, struct lw_listener_config, notify_once), 0, 0, LW_RELOAD_AT_OPEN, NULL},
	{"notify_claim_ttl", NUM(KEY_DURATION_S, struct lw_listener_config, notify_claim_ttl_s), 60, 366 * 86400ull, LW_RELOAD_AT_OPEN, NULL},
	{NULL, 0, 0, 0, 0, 0, 0, NULL}
};


/* By enum lw_listener_type. */
static const char *const listener_type_names[LW_LISTENER__COUNT] = {
	"udp", "tcp", "tls", "unix", "journal-http", "nats"
};

const char *lw_config_listener_type_name(enum lw_listener_type type)
{
	return (unsigned)type < LW_LISTENER__COUNT ? listener_type_names[type] : "?";
}

struct loader {
	yaml_document_t doc;
	const char *name;
	struct lw_diag *diag;
};

static int fail_at(struct loader *ld, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct loader *ld, const yaml_node_t *node, const char *fmt, ...)
{
	char detail[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return lw_diag_set(ld->diag, LW_EINVAL, ld->name,
			   node ? (int)node->start_mark.line + 1 : 0,
			   node ? (int)node->start_mark.column + 1 : 0, "%s", detail);
}

static const char *scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static void listener_defaults(struct lw_listener_config *l)
{
	memset(l, 0, sizeof(*l));
	l->type = LW_LISTENER_TCP;
	snprintf(l->zone, sizeof(l->zone), "default");
	l->framing = LW_FRAMING_AUTO;
	l->max_message_bytes = 64 * 1024;
	l->max_connections = 4096;
	/* One address must not lock every other sender out of the 4096. */
	l->max_connections_per_source = 64;
	l->idle_timeout_ms = 600 * 1000;
	l->frame_timeout_ms = 60 * 1000;
	l->handshake_timeout_ms = 10 * 1000;
	l->rate_limit.max_sources = 4096;
	snprintf(l->subject, sizeof(l->subject), "logward");
	l->ack_wait_ms = 30 * 1000;
	l->max_ack_pending = 1024;
	l->replicas = 1;
	l->duplicate_window_ms = 2 * 60000;
	l->notify_once = 1;
	l->notify_claim_ttl_s = 7 * 86400;
}

void lw_config_defaults(struct lw_config *cfg)
{
	struct lw_listener_config *l;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./var/logward");
	cfg->max_clock_skew_s = 300;
	cfg->queue_batches = 64;
	cfg->batch_events = 2048;
	cfg->storage.segment_bytes = 8u << 20; /* half the commits of 4 MiB: bench/README.md */
	cfg->storage.flush_interval_ms = 1000;
	cfg->storage.max_age_s = 400ull * 86400;
	cfg->storage.max_bytes = 100ull << 30;
	cfg->storage.map_size = 0;
	cfg->storage.compression_level = LW_CONFIG_DEFAULT_COMPRESSION_LEVEL;
	cfg->notify_queue = 1024;
	cfg->health.check_interval_ms = 10000;
	cfg->health.loss_checks = 3;
	snprintf(cfg->forward.type, sizeof(cfg->forward.type), "nats");
	snprintf(cfg->forward.subject, sizeof(cfg->forward.subject), "logward");
	cfg->forward.max_in_flight = 64;
	cfg->forward.message_bytes = 256 * 1024;
	cfg->forward.ack_timeout_ms = 5000;
	cfg->forward.replicas = 1;
	cfg->forward.duplicate_window_ms = 2 * 60000;
	cfg->forward.lag_alert_s = 300;
	cfg->correlation.memory_bytes = 256ull << 20;
	cfg->workers = LW_CONFIG_WORKERS_AUTO;
	snprintf(cfg->rule_dirs[0], sizeof(cfg->rule_dirs[0]), "rules/");
	cfg->nrule_dirs = 1;
	snprintf(cfg->api.address, sizeof(cfg->api.address), "%s",
		 LW_CONFIG_API_DEFAULT_ADDRESS);
	cfg->api.session_idle_ms = 30 * 60000;
	cfg->api.session_max_ms = 12 * 3600000;
	cfg->api.max_sessions = 1024;
	cfg->api.login_max_failures = 5;
	cfg->api.login_window_ms = 15 * 60000;
	cfg->api.max_body_bytes = 64 * 1024;
	cfg->api.silent_after_ms = 15 * 60000;
	cfg->api.max_connections_per_source = 32;

	l = &cfg->listeners[cfg->nlisteners++];
	listener_defaults(l);
	l->type = LW_LISTENER_UDP;
	snprintf(l->address, sizeof(l->address), "127.0.0.1:5514");
	l = &cfg->listeners[cfg->nlisteners++];
	listener_defaults(l);
	l->type = LW_LISTENER_TCP;
	snprintf(l->address, sizeof(l->address), "127.0.0.1:5514");
	l = &cfg->listeners[cfg->nlisteners++];
	listener_defaults(l);
	l->type = LW_LISTENER_UNIX;
	snprintf(l->path, sizeof(l->path), "%s/log.sock", cfg->data_dir);
}

static int parse_number(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return LW_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return LW_EINVAL;
	*out = v;
	return LW_OK;
}

int lw_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1000}, {"kib", 1024},
		{"m", 1000000}, {"mb", 1000000}, {"mib", 1 << 20},
		{"g", 1000000000}, {"gb", 1000000000}, {"gib", 1ull << 30},
		{"t", 1000000000000ull}, {"tb", 1000000000000ull}, {"tib", 1ull << 40},
	};
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return LW_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return LW_EINVAL;
	while (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return LW_EINVAL;
			*out = v * units[i].mult;
			return LW_OK;
		}
	}
	return LW_EINVAL;
}

int lw_parse_duration_ms(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000},
		{"d", 86400000}, {"w", 7 * 86400000ull},
	};
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return LW_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return LW_EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult)
				return LW_EINVAL;
			*out = v * units[i].mult;
			return LW_OK;
		}
	}
	return LW_EINVAL;
}

static int check_bounds(struct loader *ld, const struct key_spec *k,
			const yaml_node_t *node, uint64_t v)
{
	char range[96];

	if (v >= k->min && (k->max == 0 || v <= k->max))
		return LW_OK;
	if (k->max)
		snprintf(range, sizeof(range), "%llu..%llu",
			 (unsigned long long)k->min, (unsigned long long)k->max);
	else
		snprintf(range, sizeof(range), "at least %llu", (unsigned long long)k->min);
	return fail_at(ld, node, "key '%s': value out of range (%s)", k->name, range);
}

static int load_cidrs(struct loader *ld, const struct key_spec *k,
		      yaml_node_t *node, struct lw_cidr_list *list)
{
	yaml_node_item_t *it;

	if (node->type != YAML_SEQUENCE_NODE)
		return fail_at(ld, node, "key '%s': expected a list of CIDRs", k->name);
	list->count = 0;
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		const char *s = scalar(item);
		if (s == NULL || lw_cidr_parse(s, &list->items[list->count]) != LW_OK)
			return fail_at(ld, item, "key '%s': invalid CIDR '%s'", k->name, s ? s : "");
		if (++list->count == LW_CIDR_MAX && it + 1 < node->data.sequence.items.top)
			return fail_at(ld, item, "key '%s': too many CIDRs (max %s)", k->name, "64");
	}
	return LW_OK;
}

static int load_argv(struct loader *ld, const struct key_spec *k,
		     yaml_node_t *node, struct lw_notify_argv *argv)
{
	yaml_node_item_t *it;

	if (node->type != YAML_SEQUENCE_NODE)
		return fail_at(ld, node, "key '%s': expected a list of strings", k->name);
	argv->n = 0;
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		const char *s = scalar(item);

		if (s == NULL)
			return fail_at(ld, item, "key '%s': expected a string", k->name);
		if (strlen(s) >= LW_NOTIFY_ARG_MAX)
			return fail_at(ld, item, "key '%s': argument too long (max %d bytes)",
				       k->name, LW_NOTIFY_ARG_MAX - 1);
		if (argv->n == LW_NOTIFY_MAX_ARGS)
			return fail_at(ld, item, "key '%s': too many arguments (max %d)",
				       k->name, LW_NOTIFY_MAX_ARGS);
		memcpy(argv->v[argv->n++], s, strlen(s) + 1);
	}
	return LW_OK;
}

/* Enum-like keys: the index of s in names, stored as the key's type. */
static int apply_name(struct loader *ld, const struct key_spec *k,
		      yaml_node_t *node, const char *s, const char *const *names,
		      size_t n, const char *list, void *field)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, names[i]) != 0)
			continue;
		if (k->type == KEY_NOTIFY_TYPE)
			*(enum lw_notify_type *)field = (enum lw_notify_type)i;
		else
			*(uint32_t *)field = (uint32_t)i;
		return LW_OK;
	}
	return fail_at(ld, node, "key '%s': unknown value '%s' (%s)", k->name, s, list);
}

static int apply_map(struct loader *ld, yaml_node_t *map, const struct key_spec *keys,
		     const char *section, void *base);

static int apply_key(struct loader *ld, const struct key_spec *k,
		     yaml_node_t *node, void *base)
{
	static const char *const notify_types[] = {"file", "exec"};
	static const char *const levels[] = {"informational", "low", "medium",
					     "high", "critical"};
	char *field = (char *)base + k->offset;
	const char *s = scalar(node);
	uint64_t v = 0;
	int rc;

	if (k->type == KEY_CIDRS)
		return load_cidrs(ld, k, node, (struct lw_cidr_list *)(void *)field);
	if (k->type == KEY_ARGV)
		return load_argv(ld, k, node, (struct lw_notify_argv *)(void *)field);
	if (k->type == KEY_MAP)
		return apply_map(ld, node, k->sub, k->name, field);
	if (s != NULL && k->type == KEY_NOTIFY_TYPE)
		return apply_name(ld, k, node, s, notify_types, 2, "file, exec", field);
	if (s != NULL && k->type == KEY_LEVEL)
		return apply_name(ld, k, node, s, levels, 5,
				  "informational, low, medium, high, critical", field);
	if (s == NULL)
		return fail_at(ld, node, "key '%s': expected a scalar value", k->name);
	switch (k->type) {
	case KEY_STRING:
		if (strlen(s) >= k->size)
			return fail_at(ld, node, "key '%s': value too long", k->name);
		memcpy(field, s, strlen(s) + 1);
		return LW_OK;
	case KEY_SIZE:
	case KEY_SIZE32:
		if (lw_parse_size(s, &v) != LW_OK)
			return fail_at(ld, node, "key '%s': invalid size '%s' (e.g. 64KiB, 4MiB)", k->name, s);
		break;
	case KEY_DURATION_MS:
	case KEY_DURATION_S:
	case KEY_DURATION_MS32:
		if (lw_parse_duration_ms(s, &v) != LW_OK)
			return fail_at(ld, node, "key '%s': invalid duration '%s' (e.g. 250ms, 1s, 5m, 2h, 400d)", k->name, s);
		if (k->type == KEY_DURATION_S)
			v /= 1000;
		break;
	case KEY_UINT32:
		if (parse_number(s, &v) != LW_OK)
			return fail_at(ld, node, "key '%s': invalid number '%s'", k->name, s);
		break;
	case KEY_BOOL:
		if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))
			*(int *)(void *)field = 1;
		else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))
			*(int *)(void *)field = 0;
		else
			return fail_at(ld, node, "key '%s': expected true or false, got '%s'", k->name, s);
		return LW_OK;
	case KEY_LISTENER_TYPE: {
		for (size_t i = 0; i < LW_LISTENER__COUNT; i++) {
			if (!strcmp(s, listener_type_names[i])) {
				*(enum lw_listener_type *)(void *)field = (enum lw_listener_type)i;
				return LW_OK;
			}
		}
		return fail_at(ld, node, "key '%s': unknown listener type '%s' (udp, tcp, tls, unix, journal-http, nats)", k->name, s);
	}
	case KEY_FRAMING:
		if (!strcmp(s, "auto"))
			*(enum lw_framing_mode *)(void *)field = LW_FRAMING_AUTO;
		else if (!strcmp(s, "lf") || !strcmp(s, "newline"))
			*(enum lw_framing_mode *)(void *)field = LW_FRAMING_LF;
		else if (!strcmp(s, "octet-counted") || !strcmp(s, "octet"))
			*(enum lw_framing_mode *)(void *)field = LW_FRAMING_OCTET;
		else
			return fail_at(ld, node, "key '%s': unknown framing '%s' (auto, lf, octet-counted)", k->name, s);
		return LW_OK;
	case KEY_CIDRS:
	case KEY_ARGV:
	case KEY_MAP:
	case KEY_NOTIFY_TYPE:
	case KEY_LEVEL:
		break;
	}
	rc = check_bounds(ld, k, node, v);
	if (rc != LW_OK)
		return rc;
	switch (k->type) {
	case KEY_SIZE32:
	case KEY_DURATION_MS32:
	case KEY_UINT32:
		if (v > UINT32_MAX)
			return fail_at(ld, node, "key '%s': value too large", k->name);
		*(uint32_t *)(void *)field = (uint32_t)v;
		break;
	default:
		*(uint64_t *)(void *)field = v;
		break;
	}
	return LW_OK;
}

/* Applies a mapping node through a key table. */
static int apply_map(struct loader *ld, yaml_node_t *map, const struct key_spec *keys,
		     const char *section, void *base)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE)
		return fail_at(ld, map, "'%s' must be a mapping", section);
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&ld->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&ld->doc, pair->value);
		const char *key = scalar(kn);
		const struct key_spec *k;
		int rc;

		for (k = keys; k->name != NULL; k++)
			if (key && !strcmp(k->name, key))
				break;
		if (k->name == NULL)
			return fail_at(ld, kn, "unknown key '%s' in %s", key ? key : "?", section);
		rc = apply_key(ld, k, vn, base);
		if (rc != LW_OK)
			return rc;
	}
	return LW_OK;
}

static int node_name_ok(const char *s);
static int subject_ok(const char *s);

/* One consumer per node: the high-water marks of the origins it stores
 * (store/relay.h) assume one ordered stream. */
static int check_nats_listener(struct loader *ld, yaml_node_t *item,
			       const struct lw_config *cfg,
			       const struct lw_listener_config *l)
{
	if (l->servers.n == 0)
		return fail_at(ld, item, "listener: type nats needs '%s'", "servers");
	if (!node_name_ok(l->stream))
		return fail_at(ld, item, "listener: type nats needs '%s': letters, digits, '-' and '_'", "stream");
	if (!node_name_ok(l->durable))
		return fail_at(ld, item, "listener: type nats needs '%s': letters, digits, '-' and '_'", "durable");
	if (!subject_ok(l->subject))
		return fail_at(ld, item, "listener: key 'subject' must be a plain subject (no wildcards, no spaces)");
	if ((l->cert[0] == '\0') != (l->key[0] == '\0'))
		return fail_at(ld, item, "listener: 'cert' and 'key' go together");
	for (size_t i = 0; i + 1 < cfg->nlisteners; i++)
		if (cfg->listeners[i].type == LW_LISTENER_NATS)
			return fail_at(ld, item, "listener: at most one of type nats");
	return LW_OK;
}

static int load_listeners(struct loader *ld, yaml_node_t *node, struct lw_config *cfg)
{
	yaml_node_item_t *it;

	if (node->type != YAML_SEQUENCE_NODE)
		return fail_at(ld, node, "key '%s': expected a list of listeners", "listeners");
	cfg->nlisteners = 0;
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		struct lw_listener_config *l;
		int rc;

		if (cfg->nlisteners == LW_CONFIG_MAX_LISTENERS)
			return fail_at(ld, item, "too many %s (max %s)", "listeners", "32");
		l = &cfg->listeners[cfg->nlisteners++];
		listener_defaults(l);
		l->type = (enum lw_listener_type)-1;
		rc = apply_map(ld, item, listener_keys, "listener", l);
		if (rc != LW_OK)
			return rc;
		if ((int)l->type == -1)
			return fail_at(ld, item, "listener: missing key '%s'", "type");
		if (l->type == LW_LISTENER_UNIX && !l->path[0])
			return fail_at(ld, item, "listener: key '%s' is required for type unix", "path");
		if (l->type == LW_LISTENER_NATS) {
			rc = check_nats_listener(ld, item, cfg, l);
			if (rc != LW_OK)
				return rc;
			continue;
		}
		if (l->type != LW_LISTENER_UNIX && !l->address[0])
			return fail_at(ld, item, "listener: key '%s' is required (host:port)", "address");
		if (l->type == LW_LISTENER_TLS && (!l->cert[0] || !l->key[0]))
			return fail_at(ld, item, "listener: type tls needs '%s' and 'key'", "cert");
		if (l->type == LW_LISTENER_JOURNAL_HTTP && (l->cert[0] == '\0') != (l->key[0] == '\0'))
			return fail_at(ld, item, "listener: journal-http over HTTPS needs both '%s' and 'key'", "cert");
		if (l->verify_client && !l->ca[0])
			return fail_at(ld, item, "listener: verify_client needs '%s' (the CA that signs client certificates)", "ca");
		if (l->rate_limit.burst > 0 && l->rate_limit.events_per_second == 0)
			return fail_at(ld, item, "listener: rate_limit needs '%s'", "events_per_second");
		if (l->rate_limit.burst == 0)
			l->rate_limit.burst = l->rate_limit.events_per_second;
		if (l->rate_limit.listener_burst > 0 && l->rate_limit.listener_events_per_second == 0)
			return fail_at(ld, item, "listener: rate_limit needs '%s'", "listener_events_per_second");
		/* A stream is slowed, not dropped: its per-source limit already
		 * bounds what one address costs, and connections are capped. */
		if (l->rate_limit.listener_events_per_second > 0 && l->type != LW_LISTENER_UDP)
			return fail_at(ld, item, "listener: rate_limit.%s is for udp listeners",
				       "listener_events_per_second");
		if (l->rate_limit.listener_burst == 0)
			l->rate_limit.listener_burst = l->rate_limit.listener_events_per_second;
	}
	return LW_OK;
}

static int load_zones(struct loader *ld, yaml_node_t *node, struct lw_config *cfg)
{
	yaml_node_pair_t *pair;

	if (node->type != YAML_MAPPING_NODE)
		return fail_at(ld, node, "key '%s': expected a mapping of zone name to CIDR list", "zones");
	cfg->nzones = 0;
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&ld->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&ld->doc, pair->value);
		const char *name = scalar(kn);
		struct key_spec k = {"zones", KEY_CIDRS, 0, 0, 0, 0, 0, NULL};
		struct lw_zone_config *z;
		int rc;

		if (name == NULL || !name[0] || strlen(name) >= LW_NAME_MAX)
			return fail_at(ld, kn, "key '%s': invalid zone name", "zones");
		if (cfg->nzones == LW_CONFIG_MAX_ZONES)
			return fail_at(ld, kn, "too many %s (max %s)", "zones", "32");
		z = &cfg->zones[cfg->nzones++];
		memcpy(z->name, name, strlen(name) + 1);
		rc = load_cidrs(ld, &k, vn, &z->cidrs);
		if (rc != LW_OK)
			return rc;
	}
	return LW_OK;
}

static int load_notify(struct loader *ld, yaml_node_t *node, struct lw_config *cfg)
{
	yaml_node_item_t *it;

	if (node->type != YAML_SEQUENCE_NODE)
		return fail_at(ld, node, "key '%s': expected a list of outputs", "notify");
	cfg->nnotify = 0;
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		struct lw_notify_config *n;
		int rc;

		if (cfg->nnotify == LW_CONFIG_MAX_NOTIFY)
			return fail_at(ld, item, "too many %s (max %s)", "notify outputs", "8");
		n = &cfg->notify[cfg->nnotify++];
		memset(n, 0, sizeof(*n));
		n->type = (enum lw_notify_type)-1;
		n->timeout_ms = 10000;
		n->max_attempts = 5;
		rc = apply_map(ld, item, notify_keys, "notify output", n);
		if (rc != LW_OK)
			return rc;
		if ((int)n->type == -1)
			return fail_at(ld, item, "notify output: missing key '%s'", "type");
		if (n->type == LW_NOTIFY_FILE && !n->path[0])
			return fail_at(ld, item, "notify output: key '%s' is required for type file", "path");
		if (n->type == LW_NOTIFY_EXEC && n->argv.n == 0)
			return fail_at(ld, item, "notify output: key '%s' is required for type exec", "argv");
		/* No shell and no PATH search: the program is named by path. */
		if (n->type == LW_NOTIFY_EXEC && strchr(n->argv.v[0], '/') == NULL)
			return fail_at(ld, item, "notify output: argv[0] '%s' must be a path to the program (no PATH search, no shell)",
				       n->argv.v[0]);
	}
	return LW_OK;
}

static int load_rules(struct loader *ld, yaml_node_t *node, struct lw_config *cfg)
{
	yaml_node_item_t *it;
	const char *s = scalar(node);

	cfg->nrule_dirs = 0;
	cfg->rules_explicit = 1;
	if (s != NULL) {
		if (strlen(s) >= PATH_MAX)
			return fail_at(ld, node, "key '%s': path too long", "rules");
		memcpy(cfg->rule_dirs[cfg->nrule_dirs++], s, strlen(s) + 1);
		return LW_OK;
	}
	if (node->type != YAML_SEQUENCE_NODE)
		return fail_at(ld, node, "key '%s': expected a path or a list of paths", "rules");
	for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(&ld->doc, *it);
		s = scalar(item);
		if (s == NULL || strlen(s) >= PATH_MAX)
			return fail_at(ld, item, "key '%s': invalid path", "rules");
		if (cfg->nrule_dirs == LW_CONFIG_MAX_RULE_DIRS)
			return fail_at(ld, item, "too many %s (max %s)", "rules", "16");
		memcpy(cfg->rule_dirs[cfg->nrule_dirs++], s, strlen(s) + 1);
	}
	return LW_OK;
}

/* A node name is a NATS subject token and part of every message id:
 * letters, digits, '-' and '_' only. */
static int node_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* A subject prefix: tokens without wildcards, spaces or control bytes. */
static int subject_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
		return 0;
	for (; *s; s++)
		if (*s == '*' || *s == '>' || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int load_forward(struct loader *ld, yaml_node_t *node,
			struct lw_forward_config *f)
{
	int rc = apply_map(ld, node, forward_keys, "forward", f);

	if (rc != LW_OK)
		return rc;
	f->enabled = 1;
	if (strcmp(f->type, "nats") != 0)
		return fail_at(ld, node, "forward: key 'type' must be nats");
	if (f->servers.n == 0)
		return fail_at(ld, node, "forward: key '%s' is required", "servers");
	if (!node_name_ok(f->node))
		return fail_at(ld, node, "forward: key 'node' is required: letters, digits, '-' and '_'");
	if (!node_name_ok(f->stream))
		return fail_at(ld, node, "forward: key 'stream' is required: letters, digits, '-' and '_'");
	if (!subject_ok(f->subject))
		return fail_at(ld, node, "forward: key 'subject' must be a plain subject (no wildcards, no spaces)");
	if ((f->cert[0] == '\0') != (f->key[0] == '\0'))
		return fail_at(ld, node, "forward: 'cert' and 'key' go together");
	return LW_OK;
}

static int load_root(struct loader *ld, struct lw_config *cfg)
{
	yaml_node_t *root = yaml_document_get_root_node(&ld->doc);
	yaml_node_pair_t *pair;
	int unix_path_set = 0;

	if (root == NULL)
		return LW_OK; /* an empty file means all defaults */
	if (root->type != YAML_MAPPING_NODE)
		return fail_at(ld, root, "the configuration must be a mapping");
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *kn = yaml_document_get_node(&ld->doc, pair->key);
		yaml_node_t *vn = yaml_document_get_node(&ld->doc, pair->value);
		const char *key = scalar(kn);
		const struct key_spec *k;
		int rc;

		if (key == NULL)
			return fail_at(ld, kn, "keys must be scalars");
		if (!strcmp(key, "listeners")) {
			rc = load_listeners(ld, vn, cfg);
			unix_path_set = 1;
		} else if (!strcmp(key, "zones")) {
			rc = load_zones(ld, vn, cfg);
		} else if (!strcmp(key, "storage")) {
			rc = apply_map(ld, vn, storage_keys, "storage", &cfg->storage);
		} else if (!strcmp(key, "rules")) {
			rc = load_rules(ld, vn, cfg);
		} else if (!strcmp(key, "notify")) {
			rc = load_notify(ld, vn, cfg);
		} else if (!strcmp(key, "metrics")) {
			rc = apply_map(ld, vn, metrics_keys, "metrics", cfg);
		} else if (!strcmp(key, "api")) {
			snprintf(cfg->api.address, sizeof(cfg->api.address), "%s",
				 LW_CONFIG_API_DEFAULT_ADDRESS);
			rc = apply_map(ld, vn, api_keys, "api", &cfg->api);
			if (rc == LW_OK && (cfg->api.cert[0] == '\0') != (cfg->api.key[0] == '\0'))
				rc = fail_at(ld, vn, "api: 'cert' and 'key' go together");
		} else if (!strcmp(key, "forward")) {
			rc = load_forward(ld, vn, &cfg->forward);
		} else if (!strcmp(key, "health")) {
			rc = apply_map(ld, vn, health_keys, "health", &cfg->health);
		} else if (!strcmp(key, "correlation")) {
			rc = apply_map(ld, vn, correlation_keys, "correlation",
				       &cfg->correlation);
		} else {
			for (k = top_keys; k->name != NULL; k++)
				if (!strcmp(k->name, key))
					break;
			if (k->name == NULL)
				return fail_at(ld, kn, "unknown key '%s'", key);
			rc = apply_key(ld, k, vn, cfg);
		}
		if (rc != LW_OK)
			return rc;
	}
	/* The default unix listener lives in the data dir: follow data_dir
	 * when the file moved it but kept the default listeners. */
	if (!unix_path_set) {
		for (size_t i = 0; i < cfg->nlisteners; i++)
			if (cfg->listeners[i].type == LW_LISTENER_UNIX)
				snprintf(cfg->listeners[i].path, sizeof(cfg->listeners[i].path),
					 "%s/log.sock", cfg->data_dir);
	}
	return LW_OK;
}

int lw_config_load_string(const char *name, const char *yaml, size_t len,
			  struct lw_config *cfg, struct lw_diag *diag)
{
	yaml_parser_t parser;
	struct loader ld = {.name = name, .diag = diag};
	int rc;

	lw_config_defaults(cfg);
	cfg->api.address[0] = '\0'; /* a file turns the API on with `api:` */
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	if (!yaml_parser_initialize(&parser))
		return lw_diag_set(diag, LW_ENOMEM, name, 0, 0, "cannot initialise YAML parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		rc = lw_diag_set(diag, LW_EPARSE, name, (int)parser.problem_mark.line + 1,
				 (int)parser.problem_mark.column + 1, "YAML syntax error: %s",
				 parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		return rc;
	}
	rc = load_root(&ld, cfg);
	yaml_document_delete(&ld.doc);
	yaml_parser_delete(&parser);
	return rc;
}

int lw_config_load(const char *path, struct lw_config *cfg, struct lw_diag *diag)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (f == NULL) {
		int err = errno;
		char ebuf[128];

		rc = lw_diag_set(diag, LW_EIO, path, 0, 0, "cannot open: %s",
				 strerror_r(err, ebuf, sizeof(ebuf)));
		if (diag)
			diag->sys_errno = err;
		return rc;
	}
	for (;;) {
		size_t n;
		if (cap - len < 4096) {
			char *p = realloc(text, cap ? cap * 2 : 8192);
			if (p == NULL) {
				free(text);
				fclose(f);
				return lw_diag_set(diag, LW_ENOMEM, path, 0, 0, "out of memory");
			}
			text = p;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	rc = lw_config_load_string(path, text, len, cfg, diag);
	free(text);
	return rc;
}

const char *lw_config_zone_of(const struct lw_config *cfg, const struct sockaddr *sa)
{
	for (size_t i = 0; i < cfg->nzones; i++)
		if (lw_cidr_list_contains(&cfg->zones[i].cidrs, sa))
			return cfg->zones[i].name;
	return NULL;
}

/* ---- listener keys for reload ---------------------------------------- */

/* A key that holds one value (not a nested map), found under the
 * listener table: its spec, and where the struct its offset is relative
 * to starts inside struct lw_listener_config. */
struct leaf {
	const struct key_spec *spec;
	size_t base;
	char name[64];                /* "rate_limit.burst" */
	enum lw_config_reload reload; /* a nested key has its map's class */
};

/* 1 when leaf l holds the same value in listener configs a and b:
 * strings up to their NUL, lists up to their count, numbers, enums and
 * booleans as the bytes of the member. */
static int leaf_equal(const struct leaf *l, const void *a, const void *b)
{
	const char *x = (const char *)a + l->base + l->spec->offset;
	const char *y = (const char *)b + l->base + l->spec->offset;

	if (l->spec->type == KEY_STRING)
		return strcmp(x, y) == 0;
	if (l->spec->type == KEY_CIDRS)
		return lw_cidr_list_equal((const struct lw_cidr_list *)(const void *)x,
					  (const struct lw_cidr_list *)(const void *)y);
	return memcmp(x, y, l->spec->size) == 0;
}

/* Calls fn for every leaf below keys, in table order, until it returns
 * non-zero (which is returned). */
static int each_leaf(const struct key_spec *keys, const char *prefix, size_t base,
		     enum lw_config_reload reload,
		     int (*fn)(const struct leaf *l, void *arg), void *arg)
{
	for (const struct key_spec *k = keys; k->name != NULL; k++) {
		struct leaf l = {k, base, "", reload != 0 ? reload : k->reload};
		int rc;

		snprintf(l.name, sizeof(l.name), "%s%s%s", prefix, prefix[0] ? "." : "",
			 k->name);
		if (k->type == KEY_MAP)
			rc = each_leaf(k->sub, l.name, base + k->offset, l.reload, fn, arg);
		else
			rc = fn(&l, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct nth {
	size_t want, seen;
	struct lw_config_key_info *out;
};

static int take_nth(const struct leaf *l, void *arg)
{
	struct nth *n = arg;

	if (n->seen++ != n->want)
		return 0;
	memcpy(n->out->name, l->name, sizeof(n->out->name));
	n->out->offset = l->base + l->spec->offset;
	n->out->size = l->spec->size;
	n->out->reload = l->reload;
	return 1;
}

int lw_config_listener_key(size_t i, struct lw_config_key_info *out)
{
	struct nth n = {i, 0, out};

	return each_leaf(listener_keys, "", 0, 0, take_nth, &n) ? LW_OK : LW_ENOTFOUND;
}

struct diff {
	const struct lw_listener_config *a, *b;
	unsigned classes;
	size_t count;
	char *names;
	size_t len;
};

static int note_diff(const struct leaf *l, void *arg)
{
	struct diff *d = arg;
	size_t used;

	if (!(d->classes & (1u << l->reload)) || leaf_equal(l, d->a, d->b))
		return 0;
	if (d->names != NULL && d->len > 0) {
		used = strlen(d->names);
		snprintf(d->names + used, d->len - used, "%s%s", used ? ", " : "", l->name);
	}
	d->count++;
	return 0;
}

size_t lw_config_listener_diff(const struct lw_listener_config *a,
			       const struct lw_listener_config *b,
			       unsigned classes, char *names, size_t len)
{
	struct diff d = {a, b, classes, 0, names, len};

	if (names != NULL && len > 0)
		names[0] = '\0';
	each_leaf(listener_keys, "", 0, 0, note_diff, &d);
	return d.count;
}
