/* The NATS connection both ends share (prefix lw_natsconn): options from
 * the config (servers, TLS, credentials, reconnect forever), and the
 * stream made when missing. The one place libnats's connection and stream
 * API is used; collector/forward.c publishes, collector/natsin.c consumes.
 *
 * Threads: any; libnats runs its own threads for I/O and callbacks.
 * Errors: LW_OK, LW_EINVAL (a TLS or credentials file libnats refuses),
 * LW_EIO (no server reachable, a JetStream request failed), LW_ENOMEM. */
#ifndef LW_COLLECTOR_NATSCONN_H
#define LW_COLLECTOR_NATSCONN_H

#include <stdint.h>

#include <nats/nats.h>

#include "core/config.h"
#include "core/err.h"

struct lw_natsconn_opts {
	const struct lw_notify_argv *servers; /* nats://host:port ... */
	const char *ca, *cert, *key;          /* "" = unset */
	const char *credentials;              /* "" = unset */
	const char *name;                     /* the client name servers show */
	/* May be NULL. connected: the first connection came up after the
	 * connect call returned (no server answered then). closed: the last
	 * callback libnats makes for the connection (natsConnection_Close
	 * posts it after a disconnected one): once it has run, closure is
	 * no longer used. */
	natsConnectionHandler connected, disconnected, reconnected, closed;
	void *closure;
};

/* Connects (retrying in the background when no server answers yet: the
 * connection then comes up by itself). *out is closed with
 * natsConnection_Destroy. */
int lw_natsconn_connect(const struct lw_natsconn_opts *o, natsConnection **out,
			struct lw_diag *diag);

/* The stream as this side would create it. */
struct lw_natsconn_stream {
	const char *name;
	const char *subject;       /* prefix: the stream takes "<subject>.>" */
	uint32_t replicas;
	uint64_t duplicate_window_ms;
	uint64_t max_age_s;        /* 0 = no limit */
	uint64_t max_bytes;        /* 0 = no limit */
};

/* Looks the stream up and creates it when it does not exist (a race with
 * another node creating it is fine). LW_EIO when JetStream does not
 * answer (retry later). */
int lw_natsconn_ensure_stream(jsCtx *js, const struct lw_natsconn_stream *s,
			      struct lw_diag *diag);

/* "nats: <status text>" into diag; returns LW_EIO (LW_ENOMEM for
 * NATS_NO_MEMORY). */
int lw_natsconn_fail(struct lw_diag *diag, natsStatus s, const char *what);

#endif
