/* collector/source.h - where events come from (prefix lw_source): one
 * configured listener, of any type, behind one ops table, so that the
 * serve loop (collector/serve.c) and the reload (collector/reload.c) deal
 * with sources, never with kinds of sources.
 *
 * Kinds, chosen by the listener's `type` in source.c's table (the only
 * place that names them all):
 *   udp, unix      collector/dgram.h: datagram sockets, no connections;
 *   tcp, tls       collector/tcp.h: RFC 6587 framing over the stream base;
 *   journal-http   collector/journal_http.h: HTTP uploads over the stream
 *                  base.
 * The stream base (collector/stream.h) is the connection plumbing every
 * connection-based kind shares: accept with back-off, allow and
 * max_connections, the connection list, TLS and its handshake, idle and
 * linger timeouts, the deadline sweep, the rate-limit throttle,
 * backpressure and the drain at stop. A new connection-based source is a
 * struct lw_stream_proto plus one line in source.c's table; a source
 * without connections implements struct lw_source_ops itself, as dgram.c
 * does.
 *
 * Sink: every unit a source reads (a syslog frame, a journal entry) goes
 * to the sink (lw_serve), which returns LW_EFULL when no batch is free. A
 * source that can hold a refused unit holds it, stops reading that
 * connection and calls stalled(); the serve then pauses every source, and
 * later calls deliver_held and resume. A source that cannot hold
 * (datagrams) drops the unit and counts it.
 *
 * Ownership and lifetime: a source borrows everything in its env (all of
 * it outlives the source, or, for cfg and lc, lasts until the next
 * update), and owns its sockets, events and connections:
 * lw_source_close frees all of them.
 * Threads: the collector thread only (the one that runs env.base).
 * Errors: LW_OK or a negative enum lw_err (core/err.h); open and bind
 * errors also fill the caller's struct lw_diag.
 */
#ifndef LW_COLLECTOR_SOURCE_H
#define LW_COLLECTOR_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/journal.h"
#include "collector/listener.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct event_base;
struct lw_ratelimit;
struct lw_source;

struct lw_source_sink {
	/* One syslog frame (msg valid only during the call; flags: enum
	 * lw_msg_flags; now_ns: receive time of the read it came from).
	 * LW_OK, or LW_EFULL when no batch is free right now. */
	int (*frame)(void *arg, const uint8_t *msg, size_t len, unsigned flags,
		     const struct lw_listener_src *src, int64_t now_ns);
	/* One complete journal entry (views valid during the call). LW_OK or
	 * LW_EFULL, as frame. */
	int (*entry)(void *arg, const struct lw_journal_entry *e,
		     const struct lw_listener_src *src, int64_t now_ns);
	/* A connection holds a refused unit and stopped reading. */
	void (*stalled)(void *arg);
	void *arg;
};

/* Everything a source borrows. */
struct lw_source_env {
	struct event_base *base;
	const struct lw_config *cfg;
	const struct lw_listener_config *lc; /* an entry of cfg->listeners */
	const struct lw_log *log;            /* may be NULL: nothing logged */
	struct lw_counters *counters;
	struct lw_source_sink sink;
	/* Stream read buffer, shared by every connection of every source
	 * (units are copied into the batch arena anyway). */
	uint8_t *rbuf;
	size_t rbuf_len;
};

/* What the serve and the reload do with a source. Every member is set
 * but pause, deliver_held, resume and tick, which may be NULL: a kind
 * that holds nothing back has no backpressure to take part in (it reads
 * on and drops, counted), and one without periodic work has no tick. */
struct lw_source_ops {
	/* Starts reading or accepting (the events were made at open).
	 * LW_OK or LW_EIO. */
	int (*start)(struct lw_source *s);
	/* Stops reading (backpressure). Cheap and harmless when paused. */
	void (*pause)(struct lw_source *s);
	/* Offers the units held back again, and finishes connections that
	 * closed meanwhile, without reading. LW_OK, or LW_EFULL when the
	 * sink refused again (the rest stays held). */
	int (*deliver_held)(struct lw_source *s);
	/* deliver_held, then reads again: the connection that stalled goes
	 * last (fairness). LW_OK, or LW_EFULL (paused again). */
	int (*resume)(struct lw_source *s);
	/* Periodic work, on the serve's batch timer (50 ms). */
	void (*tick)(struct lw_source *s);
	/* Clean stop: stops accepting, reads what the kernel already holds
	 * (bounded), delivers it and partial units, closes every connection.
	 * The sink must block for a batch instead of returning LW_EFULL. */
	void (*drain)(struct lw_source *s);
	/* Reload: from now on s reads cfg and lc (the same socket, see
	 * lw_source_same_socket), so the old config may go; every zone
	 * borrowed from the old one is looked up again in cfg. Keys of class
	 * LW_RELOAD_LIVE (core/config.c) apply, AT_OPEN ones keep their old
	 * values. LW_OK, or an error when a setting could not be applied
	 * (the old one stays; everything else was updated). */
	int (*update)(struct lw_source *s, const struct lw_config *cfg,
		      const struct lw_listener_config *lc);
	/* Frees everything (after drain, or instead of it). */
	void (*close)(struct lw_source *s);
};

/* Every kind's source struct starts with this (kinds cast back). */
struct lw_source {
	const struct lw_source_ops *ops;
	struct lw_source_env env;
	int fd;          /* its socket, -1 once closed */
	char bound[160]; /* "127.0.0.1:40001" (port 0 resolved) or the unix path */
};

/* Opens the kind of source env->lc names: creates, binds (and listens),
 * makes its events but does not add them. Errors: LW_EINVAL (bad address,
 * unreadable or bad TLS files; diag names them), LW_EIO (diag names the
 * address and the errno), LW_ENOMEM. *out is freed with lw_source_close. */
int lw_source_open(const struct lw_source_env *env, struct lw_source **out,
		   struct lw_diag *diag);

int lw_source_start(struct lw_source *s);
void lw_source_pause(struct lw_source *s);
int lw_source_deliver_held(struct lw_source *s);
int lw_source_resume(struct lw_source *s);
void lw_source_tick(struct lw_source *s);
void lw_source_drain(struct lw_source *s);
int lw_source_update(struct lw_source *s, const struct lw_config *cfg,
		     const struct lw_listener_config *lc);
/* NULL is allowed. */
void lw_source_close(struct lw_source *s);

/* "udp 127.0.0.1:40001", "tcp [::1]:5514", "unix /run/log.sock",
 * "journal-http 127.0.0.1:19532": the type and the bound address. */
void lw_source_describe(const struct lw_source *s, char *out, size_t outlen);

/* 1 when a and b name the same socket: the same type, and the same path
 * (unix) or address (the others). Such a listener is kept across a
 * reload, with its connections. */
int lw_source_same_socket(const struct lw_listener_config *a,
			  const struct lw_listener_config *b);

/* ---- for the kinds ------------------------------------------------------ */

/* Fills the base of a kind's struct (fd -1, nothing bound). */
void lw_source_init(struct lw_source *s, const struct lw_source_ops *ops,
		    const struct lw_source_env *env);

/* Binds s->fd to env.lc->address for socktype (SOCK_STREAM also
 * listens), non-blocking, close-on-exec, SO_REUSEADDR, and records the
 * bound address. LW_OK, LW_EINVAL (cannot resolve) or LW_EIO. */
int lw_source_bind_inet(struct lw_source *s, int socktype, struct lw_diag *diag);

/* LW_EIO with "cannot WHAT 'WHERE': strerror(err)" in diag. */
int lw_source_sys_fail(struct lw_diag *diag, int err, const char *what,
		       const char *where);

/* Sets src's zone (the zones map of sa, else the listener's zone; sa
 * NULL: the listener's) and address (addr, borrowed). src->extra stays. */
void lw_source_set_src(const struct lw_source *s, struct lw_listener_src *src,
		       const struct sockaddr *sa, const char *addr);

/* 1 when the listener's allow list is empty or contains sa. */
int lw_source_allows(const struct lw_source *s, const struct sockaddr *sa);

/* The per-source rate limiter of env.lc->rate_limit, or NULL when it
 * has none. LW_OK or LW_ENOMEM (diag says so). */
int lw_source_ratelimit_new(const struct lw_source *s, struct lw_ratelimit **out,
			    struct lw_diag *diag);

/* The listener's overall budget (rate_limit.listener_events_per_second),
 * a limiter whose one key is the all-zero key, or NULL when it has none.
 * LW_OK or LW_ENOMEM (diag says so). */
int lw_source_budget_new(const struct lw_source *s, struct lw_ratelimit **out,
			 struct lw_diag *diag);

#endif
