/* collector/listener.h - one listening socket and its connections
 * (prefix lw_listener): UDP and unix datagram (recvmmsg, many datagrams per
 * wakeup), TCP (accept, big read(2)s, lw_framing per connection), TLS
 * (RFC 5425: TCP through bufferevent_openssl, same framing).
 * Collector thread only; events live on the event_base lw_serve owns.
 *
 * Listeners do not know about batches: each frame goes to a sink (lw_serve)
 * that returns LW_EFULL when no batch is free. A stream connection then
 * keeps the frame in its framer and reports "stalled"; the sink pauses
 * every stream listener (lw_listener_pause) and later resumes them
 * (lw_listener_resume). A datagram refused with LW_EFULL is dropped and
 * counted in LW_CTR_DROPPED_UDP; one the kernel dropped (receive buffer
 * full) is counted in LW_CTR_DROPPED_KERNEL.
 *
 * Memory: a stream connection that holds refused bytes does not read
 * again until they are delivered, whatever the pause state, so it holds at
 * most one read buffer (rbuf_len) plus one max-size frame. A TLS
 * connection may also hold what its last wakeup decrypted (bounded by the
 * socket receive buffer) in its bufferevent.
 *
 * Guards (docs/tls.md): `allow` refuses connections at accept and drops
 * datagrams; `rate_limit` is per source IP: over it, a datagram is dropped
 * and a stream connection stops reading until its bucket refills (only
 * that connection, with its own timer: not a pause of the listener);
 * frame_timeout closes a connection whose frame stays incomplete, and
 * handshake_timeout one whose TLS handshake does not finish. Each is
 * counted in its own counter (core/counters.h).
 */
#ifndef LW_COLLECTOR_LISTENER_H
#define LW_COLLECTOR_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/syslog.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/event.h"
#include "core/log.h"

struct event_base;
struct lw_listener;

/* Who sent a frame: labels.zone and log.source.address. Both borrowed:
 * zone points into the immutable config, addr into the listener. */
struct lw_listener_src {
	const char *zone;
	uint32_t zone_len;
	const char *addr;
	uint32_t addr_len;
	/* Fields every event of this source carries (tls.client.subject):
	 * keys must be static; values are copied into the batch arena. */
	const struct lw_field *extra;
	uint32_t nextra;
};

struct lw_listener_sink {
	/* One frame (msg valid only during the call; flags: enum
	 * lw_msg_flags; now_ns: receive time of the read it came from).
	 * Returns LW_OK or LW_EFULL (no batch free right now). */
	int (*frame)(void *arg, const uint8_t *msg, size_t len, unsigned flags,
		     const struct lw_listener_src *src, int64_t now_ns);
	/* A stream connection holds a refused frame and stopped reading. */
	void (*stalled)(void *arg);
	void *arg;
};

/* Everything a listener borrows; all of it outlives the listener. */
struct lw_listener_env {
	struct event_base *base;
	const struct lw_config *cfg;
	const struct lw_listener_config *lc;
	const struct lw_log *log;
	struct lw_counters *counters;
	struct lw_listener_sink sink;
	uint8_t *rbuf; /* stream read buffer, shared by all connections */
	size_t rbuf_len;
};

/* Creates the socket, binds and listens, and creates (but does not add)
 * its events. UDP, TCP, TLS and UNIX; journal-http fails with LW_EINVAL
 * (it has its own module). Errors: LW_EIO (diag names the address and
 * errno), LW_EINVAL (bad address; TLS: unreadable or bad certificate, key
 * or CA, key not matching, diag names the file), LW_ENOMEM. *out is
 * closed with lw_listener_close. */
int lw_listener_open(const struct lw_listener_env *env,
		     struct lw_listener **out, struct lw_diag *diag);

/* Starts reading / accepting. LW_OK or LW_EIO. */
int lw_listener_start(struct lw_listener *l);

/* "udp 127.0.0.1:40001", "tcp [::1]:5514", "unix /run/log.sock": the
 * actual bound address (port 0 resolved). */
void lw_listener_describe(const struct lw_listener *l, char *out, size_t outlen);

/* Stops reading stream connections (backpressure); a paused listener is
 * left as it is, so calling it again is cheap and harmless. Datagram
 * listeners keep reading (and dropping, counted) so the kernel buffer
 * never hides loss. */
void lw_listener_pause(struct lw_listener *l);

/* Delivers the frames stream connections held back and finishes
 * connections that closed meanwhile, without re-enabling reading. Returns
 * LW_OK, or LW_EFULL when the sink refused again (the rest stays held).
 * O(connections). */
int lw_listener_deliver_held(struct lw_listener *l);

/* lw_listener_deliver_held, then re-enables reading of a paused listener:
 * connections are re-armed in list order, and a connection that stalled
 * was moved to the end of that list, so the next one gets to read first
 * (fairness). A connection that cannot be re-armed is logged and closed.
 * Returns LW_OK, or LW_EFULL when the sink refused again (the listener is
 * paused again). */
int lw_listener_resume(struct lw_listener *l);

/* Reload: re-points l at lc (an entry of cfg with the same socket, see
 * lw_reload_same_socket), so the old config may go. The socket and its
 * connections stay; zones are looked up again in cfg for every
 * connection and sender; zone, allow and max_connections apply at once,
 * framing, max_message_bytes and idle_timeout to connections accepted
 * from now on (and max_message_bytes to datagrams at once). Returns
 * LW_OK, or LW_ENOMEM when a datagram buffer of the new size could not
 * be allocated (the old size stays; everything else is updated). */
int lw_listener_update(struct lw_listener *l, const struct lw_config *cfg,
		       const struct lw_listener_config *lc);

/* Periodic work (the serve's batch timer): reads the kernel's drop total
 * of a datagram socket (SO_MEMINFO), so drops that no later datagram
 * reports are counted too. One getsockopt; streams: nothing. */
void lw_listener_tick(struct lw_listener *l);

/* Clean stop: closes the listening socket, reads what the kernel already
 * holds for it (bounded), delivers it, and closes every connection,
 * delivering a partial last frame flagged truncated. The sink must not
 * return LW_EFULL any more (it blocks for a batch instead). */
void lw_listener_drain(struct lw_listener *l);

/* Frees everything; NULL is allowed. */
void lw_listener_close(struct lw_listener *l);

/* Per-producer counts, summed into lw_counters once per batch (one atomic
 * add per counter per batch instead of per event). */
struct lw_listener_counts {
	uint64_t received, bytes, parsed, malformed, truncated, framing_errors;
};

/* Adds all non-zero counts to c and zeroes cnt. */
void lw_listener_counts_flush(struct lw_listener_counts *cnt,
			      struct lw_counters *c);

/* A parser with lw_syslog_parse's contract (never fails; keeps what it
 * cannot parse with LW_EVENT_PARSE_ERROR). */
typedef void (*lw_listener_parse_fn)(const char *line, size_t len,
				     const struct lw_parse_opts *opts,
				     struct lw_event *ev);

/* The one path from a frame to an event, shared by `serve` and `ingest`:
 * copies msg (and src->addr) into the batch arena once, parses it there
 * with parse (NULL = lw_syslog_parse), stamps zone and source address,
 * appends src->extra (values copied), and maps LW_MSG_TRUNCATED /
 * LW_MSG_PARTIAL to LW_EVENT_TRUNCATED.
 * Returns LW_OK, LW_EFULL (batch full: nothing was added) or LW_ENOMEM. */
int lw_listener_add_frame(struct lw_batch *b, const uint8_t *msg, size_t len,
			  unsigned flags, const struct lw_listener_src *src,
			  const struct lw_parse_opts *po,
			  lw_listener_parse_fn parse,
			  struct lw_listener_counts *cnt);

/* "10.20.0.5:4711" or "[2001:db8::5]:4711" (log.source.address), "?"
 * for other families. Also the journal-http listener's. */
void lw_listener_format_peer(const struct sockaddr *sa, char *out, size_t outlen);

/* "127.0.0.1:5514", "[::1]:5514", "localhost:5514" -> a bindable
 * sockaddr for socktype (SOCK_STREAM/SOCK_DGRAM); also used by the
 * journal-http listener and the metrics endpoint. LW_EINVAL with diag saying why. */
int lw_listener_resolve(const char *address, int socktype,
			struct sockaddr_storage *ss, socklen_t *sl,
			struct lw_diag *diag);

#endif
