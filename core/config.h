/* Configuration (prefix lw_config): the YAML file (README "Configuration") parsed into
 * an immutable struct. Every key has a default; lw_config_defaults() alone
 * gives the built-in configuration `logward serve` runs on with no -c.
 * After load the struct is read-only and shared by const pointer. */
#ifndef LW_CORE_CONFIG_H
#define LW_CORE_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"
#include "core/err.h"

#define LW_CONFIG_MAX_LISTENERS 32
#define LW_CONFIG_MAX_ZONES 32
#define LW_CONFIG_MAX_RULE_DIRS 16
#define LW_NAME_MAX 64

enum lw_listener_type {
	LW_LISTENER_UDP,
	LW_LISTENER_TCP,
	LW_LISTENER_TLS,
	LW_LISTENER_UNIX,         /* datagram socket, like /dev/log */
	LW_LISTENER_JOURNAL_HTTP,
	LW_LISTENER_NATS,         /* a JetStream durable pull consumer (collector/natsin.h) */
	LW_LISTENER__COUNT
};

/* "udp", "tcp", "tls", "unix", "journal-http", "nats": the config's names. */
const char *lw_config_listener_type_name(enum lw_listener_type type);

enum lw_framing_mode {
	LW_FRAMING_AUTO,  /* RFC 6587: octet-counted if the frame starts with a digit, else LF */
	LW_FRAMING_LF,
	LW_FRAMING_OCTET
};

#define LW_NOTIFY_MAX_ARGS 16
#define LW_NOTIFY_ARG_MAX 256
/* A list of up to 16 strings: an exec output's argv, NATS server URLs. */
struct lw_notify_argv {
	size_t n;
	char v[LW_NOTIFY_MAX_ARGS][LW_NOTIFY_ARG_MAX];
};

struct lw_listener_config {
	enum lw_listener_type type;
	char address[128];           /* "host:port" (udp/tcp/tls/journal-http) */
	char path[PATH_MAX];         /* unix socket path */
	char zone[LW_NAME_MAX];      /* labels.zone unless the zones map says otherwise */
	enum lw_framing_mode framing;
	uint32_t max_message_bytes;  /* longer messages are cut, flagged, counted */
	uint32_t max_connections;    /* stream listeners */
	uint32_t max_connections_per_source; /* stream listeners: per source address */
	uint32_t idle_timeout_ms;    /* stream connections without data are closed */
	char cert[PATH_MAX];         /* tls */
	char key[PATH_MAX];
	char ca[PATH_MAX];
	char ciphers[512];           /* tls: TLS 1.2 cipher list (OpenSSL syntax); "" = Mozilla intermediate */
	char ciphersuites[256];      /* tls: TLS 1.3 suites; "" = Mozilla intermediate */
	int verify_client;
	struct lw_cidr_list allow;   /* empty = everyone */
	uint32_t frame_timeout_ms;   /* stream: a frame incomplete this long is cut, connection closed; 0 = off */
	uint32_t handshake_timeout_ms; /* tls: handshake must finish within this */
	struct lw_rate_limit_config {  /* per source IP; events_per_second 0 = off */
		uint32_t events_per_second;
		uint32_t burst;              /* 0 = events_per_second */
		uint32_t max_sources;        /* bucket table slots (fixed memory) */
		/* udp: one budget for the whole listener beside the per-source
		 * buckets (spoofed sources each get a fresh bucket); 0 = none */
		uint32_t listener_events_per_second;
		uint32_t listener_burst;     /* 0 = listener_events_per_second */
	} rate_limit;
	uint64_t max_body_bytes;     /* journal-http: one upload's body; 0 = no limit */
	/* nats (a central node; docs/scale-out.md): the servers, the stream
	 * and subject prefix the edges forward to, this node's durable
	 * consumer; ca/cert/key above for TLS to the servers. */
	struct lw_notify_argv servers;
	char stream[LW_NAME_MAX];
	char subject[128];
	char durable[LW_NAME_MAX];
	char credentials[PATH_MAX];
	uint32_t ack_wait_ms;        /* unacknowledged this long: redelivered */
	uint32_t max_ack_pending;    /* messages delivered, not yet acknowledged */
	uint32_t replicas;           /* stream settings when this side creates it */
	uint64_t duplicate_window_ms;
	/* Each new incident's notification is claimed in the key-value
	 * bucket "<stream>_NOTIFY" first (collector/notifyclaim.h), so two
	 * central nodes send it once; claims expire after the TTL. */
	int notify_once;
	uint64_t notify_claim_ttl_s;
};

struct lw_zone_config {
	char name[LW_NAME_MAX];
	struct lw_cidr_list cidrs;
};

/* zstd level of segments unless the config says otherwise. */
#define LW_CONFIG_DEFAULT_COMPRESSION_LEVEL 1

struct lw_storage_config {
	uint64_t segment_bytes;      /* flush when the raw size reaches this */
	uint64_t flush_interval_ms;  /* ... or when the oldest unflushed event is this old */
	uint64_t max_age_s;          /* retention: 0 = keep forever */
	uint64_t max_bytes;          /* retention: 0 = no size bound */
	uint64_t map_size;           /* LMDB map size */
	char integrity_key[PATH_MAX]; /* key file of a keyed store; "" = unkeyed */
	uint32_t compression_level;  /* zstd level of new segments (1..19) */
};

/* The loss watcher (collector/health.h). */
struct lw_correlation_config {
	uint64_t memory_bytes;       /* budget of all correlation window state */
};

struct lw_health_config {
	uint64_t check_interval_ms;  /* how often the drop counters are compared */
	uint32_t loss_checks;        /* consecutive increasing checks that raise */
};

#define LW_CONFIG_MAX_NOTIFY 8

enum lw_notify_type {
	LW_NOTIFY_FILE,  /* append one JSON line per incident */
	LW_NOTIFY_EXEC   /* run argv (no shell), the incident JSON on stdin */
};


/* One `notify:` output (collector/notify.h). */
struct lw_notify_config {
	enum lw_notify_type type;
	char path[PATH_MAX];         /* file: the JSON-lines file */
	struct lw_notify_argv argv;  /* exec: argv[0] is a path (no PATH search) */
	uint32_t timeout_ms;         /* exec: SIGKILL after this */
	uint32_t max_attempts;       /* per incident, then dropped and counted */
	uint32_t min_level;          /* 0 informational .. 4 critical */
};

/* The HTTP API and console (web/web.h; docs/api.md). */
#define LW_CONFIG_API_DEFAULT_ADDRESS "127.0.0.1:8514"
struct lw_api_config {
	char address[128];           /* host:port; "" = no API */
	char cert[PATH_MAX];         /* both set: HTTPS, the TLS listener's settings */
	char key[PATH_MAX];
	uint64_t session_idle_ms;    /* a session unused this long ends */
	uint64_t session_max_ms;     /* ... and any session this old */
	uint32_t max_sessions;       /* the oldest is ended to make room */
	uint32_t login_max_failures; /* failed logins per user and per address ... */
	uint64_t login_window_ms;    /* ... within this window, then 429 until it passes */
	uint64_t max_body_bytes;     /* request bodies (413) */
	uint64_t silent_after_ms;    /* GET /sources: a host silent this long is flagged */
	uint32_t max_connections_per_source; /* further ones are closed at accept */
};

/* `forward:` (collector/forward.h, docs/scale-out.md): an edge sends what
 * it stored to a NATS JetStream stream. enabled = the section is present. */
#define LW_FORWARD_MAX_SERVERS 16
struct lw_forward_config {
	int enabled;
	char type[16];               /* "nats", the only kind */
	/* nats://host:port URLs; the same fixed-size string list as a
	 * notify output's argv. */
	struct lw_notify_argv servers;
	char stream[LW_NAME_MAX];    /* created when missing */
	char subject[128];           /* prefix: messages go to <subject>.<node>,
				      * a stream made here takes <subject>.> */
	char node[LW_NAME_MAX];      /* this edge's name: dedup ids, observer.name */
	uint32_t max_in_flight;      /* unacknowledged messages at most */
	uint64_t message_bytes;      /* events per message: raw columnar bytes at most */
	uint64_t ack_timeout_ms;     /* a message not acknowledged by then is resent */
	uint32_t replicas;           /* stream settings when this side creates it */
	uint64_t duplicate_window_ms;
	uint64_t stream_max_age_s;   /* 0 = keep until limits */
	uint64_t stream_max_bytes;   /* 0 = no bound */
	char ca[PATH_MAX];           /* TLS to the servers: CA file ("" = plain) */
	char cert[PATH_MAX];         /* client certificate and key (mutual TLS) */
	char key[PATH_MAX];
	char credentials[PATH_MAX];  /* NATS user credentials file (JWT + nkey) */
	uint64_t lag_alert_s;        /* oldest unacknowledged event this old: incident; 0 = off */
};

struct lw_config {
	char path[PATH_MAX];         /* the file loaded, "" for built-in defaults */
	char data_dir[PATH_MAX - 64]; /* room for "/log.sock" and the like */
	char timezone[LW_NAME_MAX];  /* "" = the system's (/etc/localtime) */
	char user[LW_NAME_MAX];      /* serve started as root runs as this user; "" = logward, else nobody */
	uint64_t max_clock_skew_s;
	uint32_t queue_batches;      /* batches in flight between collector and writer */
	uint32_t batch_events;       /* events per batch */
	/* Threads decoding and detecting beside the writer; LW_CONFIG_WORKERS_AUTO:
	 * the CPUs this process may use, minus one (the writer's). 0: the
	 * writer does it alone. */
	uint32_t workers;
	size_t nlisteners;
	struct lw_listener_config listeners[LW_CONFIG_MAX_LISTENERS];
	size_t nzones;
	struct lw_zone_config zones[LW_CONFIG_MAX_ZONES];
	struct lw_storage_config storage;
	size_t nrule_dirs;
	char rule_dirs[LW_CONFIG_MAX_RULE_DIRS][PATH_MAX];
	int rules_explicit;          /* the file named `rules:` (else the default) */
	size_t nnotify;
	struct lw_notify_config notify[LW_CONFIG_MAX_NOTIFY];
	uint32_t notify_queue;       /* incidents waiting per output; oldest dropped */
	char metrics_address[128];   /* metrics: {address: host:port}; "" = off */
	struct lw_health_config health;
	struct lw_correlation_config correlation;
	/* Built-in defaults: on at LW_CONFIG_API_DEFAULT_ADDRESS. A config
	 * file turns it on with an `api:` section (`api: {}` = that
	 * address), like `metrics:`. */
	struct lw_api_config api;
	struct lw_forward_config forward;
};

#define LW_CONFIG_WORKERS_AUTO UINT32_MAX
#define LW_CONFIG_MAX_WORKERS 256

/* Fills cfg with the built-in defaults (loopback UDP+TCP 5514, unix
 * socket <data_dir>/log.sock, data in ./var/logward, rules/). */
void lw_config_defaults(struct lw_config *cfg);

/* Loads path over the defaults. Unknown keys, wrong types and bad values
 * fail with LW_EINVAL (or LW_EIO/LW_EPARSE) and diag naming file, line,
 * column and key. cfg is caller-owned; on failure its content is undefined. */
int lw_config_load(const char *path, struct lw_config *cfg, struct lw_diag *diag);

/* Same, from a NUL-free YAML text in memory (name is used in messages). */
int lw_config_load_string(const char *name, const char *yaml, size_t len,
			  struct lw_config *cfg, struct lw_diag *diag);

/* The zone of an address: the first zones entry whose CIDRs contain it,
 * else NULL (the caller falls back to the listener's zone). */
const char *lw_config_zone_of(const struct lw_config *cfg,
			      const struct sockaddr *sa);

/* What a reload (SIGHUP, collector/reload.h) does with a listener key
 * whose value changed. Every listener key of config.c's table has one,
 * so a key added later is compared, and named, without other code. */
enum lw_config_reload {
	LW_RELOAD_SOCKET = 1, /* type, address, path: which socket it is */
	LW_RELOAD_LIVE,       /* a kept listener takes it at once */
	LW_RELOAD_AT_OPEN     /* fixed when the listener opens: a kept listener
			       * keeps the old value until a restart */
};
#define LW_RELOAD_ALL ((1u << LW_RELOAD_SOCKET) | (1u << LW_RELOAD_LIVE) | \
		       (1u << LW_RELOAD_AT_OPEN))

/* A listener key as the table knows it. Nested keys are listed on their
 * own ("rate_limit.burst"), with the class of the mapping they are in. */
struct lw_config_key_info {
	char name[64];
	size_t offset, size;          /* the member in struct lw_listener_config */
	enum lw_config_reload reload;
};

/* Key i of the listener table (0, 1, ... in table order): LW_OK, or
 * LW_ENOTFOUND past the last one. */
int lw_config_listener_key(size_t i, struct lw_config_key_info *out);

/* How many listener keys of the given classes (a mask of
 * 1u << LW_RELOAD_x, or LW_RELOAD_ALL) differ between a and b. When
 * names is not NULL it receives their names, ", "-separated ("" when
 * none differ), cut to len. */
size_t lw_config_listener_diff(const struct lw_listener_config *a,
			       const struct lw_listener_config *b,
			       unsigned classes, char *names, size_t len);

/* Parses "4MiB", "512k", "100GiB", "1024" into bytes. */
int lw_parse_size(const char *s, uint64_t *out);
/* Parses "300s", "1s", "250ms", "15m", "2h", "400d" into milliseconds. */
int lw_parse_duration_ms(const char *s, uint64_t *out);

#endif
