/* collector/listener.h - what every listener and `ingest` share (prefix
 * lw_listener): the one path from a received frame to an event in a
 * batch (lw_listener_add_frame), the per-producer counts, who sent it
 * (struct lw_listener_src), and the address helpers of the sockets.
 *
 * The listeners themselves are sources (collector/source.h): datagram
 * sources in collector/dgram.c, tcp and tls in collector/tcp.c,
 * journal-http in collector/journal_http.c, the connection plumbing they
 * share in collector/stream.c.
 *
 * Threads: the functions here keep no state; a batch and a counts struct
 * belong to the one thread filling them. Errors: LW_OK or a negative
 * enum lw_err.
 */
#ifndef LW_COLLECTOR_LISTENER_H
#define LW_COLLECTOR_LISTENER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/syslog.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/event.h"
#include "core/log.h"

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
 * for other families. */
void lw_listener_format_peer(const struct sockaddr *sa, char *out, size_t outlen);

/* "127.0.0.1:5514", "[::1]:5514", "localhost:5514" -> a bindable
 * sockaddr for socktype (SOCK_STREAM/SOCK_DGRAM): the listeners'
 * (lw_source_bind_inet) and the metrics endpoint's. LW_EINVAL with diag
 * saying why. */
int lw_listener_resolve(const char *address, int socktype,
			struct sockaddr_storage *ss, socklen_t *sl,
			struct lw_diag *diag);

#endif
