/* collector/stream.h - the stream base (prefix lw_stream): a listening
 * TCP socket and its connections, for every connection-based source
 * (tcp and tls syslog in collector/tcp.c, journal-http in
 * collector/journal_http.c). It owns what they would otherwise each
 * copy; a protocol (struct lw_stream_proto) only turns bytes into units.
 *
 * What the base does, in one place each:
 *   - accept: a burst per wakeup; EMFILE/ENFILE stop accepting for
 *     100 ms instead of spinning; `allow`, `max_connections` and
 *     `max_connections_per_source` checked before anything is read
 *     (refused, counted, logged first and then every 1000th). The
 *     connections of one address are found through a table of buckets
 *     keyed by a seeded hash of the address, so the check costs the
 *     connections in one bucket, not all of them.
 *   - transport: read(2), or TLS (collector/tls.h context) over the
 *     non-blocking socket; the handshake (handshake_timeout, counted,
 *     the client certificate's subject and issuer put on every unit of
 *     the connection) happens in conn_handshake. lw_stream_read,
 *     lw_stream_write and lw_stream_linger are the protocol's transport.
 *   - timers: idle_timeout (a libevent common timeout on the
 *     connection's read event: O(1) re-arm), the handshake timeout, the
 *     linger after an answer, and one sweep per source for a unit left
 *     incomplete (the protocol says when a unit began: unit_since_ns).
 *   - the connection list: the order reading is turned back on in, and
 *     where a connection that stalled goes (last: fairness).
 *   - rate limit (per source address, core/ratelimit.h): lw_stream_admit
 *     per unit; over it the protocol holds the unit, and only that
 *     connection stops reading until its own timer says a token is due.
 *   - backpressure: a unit the sink refuses is held by the protocol; the
 *     connection stops reading, goes last, and the sink's stalled() makes
 *     the serve pause every source; deliver_held and resume (the
 *     lw_source_ops) offer held units again and read on.
 *   - drain at stop: within a 5 s deadline for all connections, each
 *     connection's held units, then what the kernel holds (up to 64 MiB,
 *     waiting out 100 ms quiet periods for bytes still in flight), then
 *     its partial unit.
 *
 * A connection's states: handshaking (TLS not done), reading, held (the
 * protocol holds a refused unit; throttled when the refusal was the rate
 * limit), lingering (the protocol answered and is done: the base reads
 * and discards for at most 2 s or 1 MiB so the client sees the answer
 * instead of a reset), closing (the peer is gone and the socket closed,
 * but the protocol still holds a unit the sink refused).
 *
 * Memory: one read buffer shared by all connections (env.rbuf); per
 * connection this struct, the protocol's state, and with TLS the SSL
 * and 512 bytes of certificate names.
 *
 * Ownership: a connection is created and freed by the base only; the
 * protocol's struct embeds struct lw_stream_conn first, and its release
 * callback frees what its init made. Threads: the collector thread only.
 */
#ifndef LW_COLLECTOR_STREAM_H
#define LW_COLLECTOR_STREAM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "collector/source.h"
#include "core/ratelimit.h"
#include "core/time.h"

struct event;
struct ssl_st;
struct ssl_ctx_st;
struct timeval;
struct lw_stream;

/* Protocol results beyond LW_OK and LW_EFULL (positive: never an
 * enum lw_err). */
enum {
	LW_STREAM_AGAIN = 1, /* nothing to read now */
	LW_STREAM_CLOSE = 2  /* the peer is gone, or the protocol is done:
			      * finish (partial unit) and close */
};

/* Buckets of the per-source connection table: 8 KiB per listener; with
 * the default 4096 connections, 4 per bucket on average. */
#define LW_STREAM_SOURCE_BUCKETS 1024

struct lw_stream_conn {
	struct lw_stream *st;
	int fd;
	struct ssl_st *ssl;          /* TLS, else NULL */
	struct event *ev;            /* read readiness, with the current timeout */
	struct event *throttle_ev;   /* rate limit wake-up, made on first use */
	int64_t throttle_wait_ns;
	/* Monotonic time the unit in progress began (0 = none): the
	 * protocol sets it, the sweep closes the connection when it is older
	 * than the source's unit timeout. */
	int64_t unit_since_ns;
	uint64_t bytes_read;         /* over the connection's life */
	uint32_t lingered;           /* bytes discarded while lingering */
	uint8_t handshaking, held, throttled, lingering, closing;
	struct lw_ratelimit_key rkey;
	/* The connection's labels.zone and log.source.address (addr), and
	 * over TLS with a client certificate its subject and issuer. */
	struct lw_listener_src src;
	struct lw_field tls_fields[2];
	char *tls_names;
	char addr[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage peer; /* its zone is looked up again on reload */
	struct lw_stream_conn *prev, *next;
	struct lw_stream_conn *sprev, *snext; /* same bucket of by_source */
};

/* A protocol over the base. Every callback gets a connection whose
 * struct is the protocol's (lw_stream_conn first). Results: LW_OK (go
 * on), LW_EFULL (the protocol holds a unit the sink or the rate limit
 * refused; the base stops reading the connection), LW_STREAM_AGAIN,
 * LW_STREAM_CLOSE; the protocol logs its own errors and returns
 * LW_STREAM_CLOSE for them. */
struct lw_stream_proto {
	size_t size;      /* the protocol's source struct, struct lw_stream first */
	size_t conn_size; /* its connection struct */
	/* A new connection: LW_OK, or LW_ENOMEM having freed what it made. */
	int (*init)(struct lw_stream_conn *c);
	/* Frees what init made. */
	void (*release)(struct lw_stream_conn *c);
	/* The socket is readable: read with lw_stream_read, hand over what
	 * is complete. Never called while the connection holds a unit. */
	int (*readable)(struct lw_stream_conn *c);
	/* Offer the held unit, and what was read after it, again. */
	int (*deliver_held)(struct lw_stream_conn *c);
	/* The peer is gone or the base closes the connection: deliver what
	 * is left (a partial unit). LW_OK, or LW_EFULL (called again later). */
	int (*finish)(struct lw_stream_conn *c);
	/* unit_since_ns is older than the unit timeout; results as readable.
	 * May be NULL when the source has no unit timeout. */
	int (*unit_timeout)(struct lw_stream_conn *c);
};

struct lw_stream_opts {
	int tls;                  /* speak TLS (env.lc's cert, key, ca, verify_client) */
	uint32_t unit_timeout_ms; /* 0 = none */
};

/* The base's part of a source. Protocols read env, now_ns and the
 * counters here; the rest is the base's. */
struct lw_stream {
	struct lw_source src;
	const struct lw_stream_proto *proto;
	int paused;
	int draining;            /* stopping: no rate limit, the sink blocks */
	struct ssl_ctx_st *tls;  /* NULL = plain TCP */
	struct lw_ratelimit *rl; /* NULL = no rate limit */
	struct event *ev;        /* accept */
	struct event *backoff;   /* re-enables accept after EMFILE */
	struct event *sweep;     /* unit timeouts; NULL = none */
	const struct timeval *idle_tv, *handshake_tv, *linger_tv; /* NULL = none */
	int64_t unit_timeout_ns;
	int64_t now_ns;          /* receive time of the last read */
	struct lw_stream_conn *conns, *conns_tail; /* re-armed head first */
	uint32_t nconns;
	/* Connections by source address (LW_STREAM_SOURCE_BUCKETS lists). */
	struct lw_stream_conn **by_source;
	uint64_t source_seed;
	uint64_t refused_logged, hs_failed_logged;
};

/* Opens a stream source speaking proto: TLS context (before the socket:
 * a bad certificate is the error the operator needs to see, not a bind
 * conflict), rate limiter, bound and listening socket, events (not
 * added). Errors as lw_source_open. */
int lw_stream_open(const struct lw_source_env *env,
		   const struct lw_stream_proto *proto,
		   const struct lw_stream_opts *opts, struct lw_source **out,
		   struct lw_diag *diag);

/* Serves fd (a connected, non-blocking stream socket; taken: closed on
 * refusal) as if s, a stream source, had accepted it from peer, with the
 * same checks and counters. The source need not be started. For tests
 * and fuzzing (tests/fuzz/fuzz_jhttp.c drives a socketpair). */
void lw_stream_adopt(struct lw_source *s, int fd, const struct sockaddr *peer);

/* Up to cap bytes of what the peer sent (decrypted with TLS): > 0, 0
 * when the peer closed, -1 with errno EAGAIN (nothing now) or another
 * error. Sets st->now_ns on success. */
ssize_t lw_stream_read(struct lw_stream_conn *c, void *buf, size_t cap);

/* All of p, or -1: a client that does not read its answers (full socket
 * buffer) is not waited for, with TLS as without. */
int lw_stream_write(struct lw_stream_conn *c, const void *p, size_t n);

/* The protocol has answered and is done with c: our side is shut down
 * (close_notify with TLS, then FIN) and c lingers (see above) once the
 * callback returns. 0, or -1 when the shutdown failed (then return
 * LW_STREAM_CLOSE). */
int lw_stream_linger(struct lw_stream_conn *c);

/* Per unit, before handing it to the sink: LW_OK, or LW_EFULL when the
 * source is over its rate limit (c is throttled; hold the unit). Not
 * applied while draining. */
static inline int lw_stream_admit(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;
	int64_t wait;

	if (st->rl == NULL || st->draining)
		return LW_OK;
	wait = lw_ratelimit_take(st->rl, &c->rkey, lw_time_mono_ns());
	if (wait <= 0)
		return LW_OK;
	c->throttled = 1;
	c->throttle_wait_ns = wait;
	return LW_EFULL;
}

#endif
