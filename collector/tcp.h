/* collector/tcp.h - the tcp and tls syslog sources (prefix lw_tcp):
 * RFC 6587 framing (collector/framing.h) over the stream base
 * (collector/stream.h); a `tls` listener is the same over TLS (RFC 5425).
 *
 * Each connection has a framer: a read goes through it in place, each
 * frame to the sink's frame callback with the connection's zone, address
 * and (TLS with a client certificate) tls.client.subject and issuer. A
 * frame the sink or the rate limit refuses stays in the framer with the
 * rest of its read (lw_framing_pending), so a connection holds at most
 * one read buffer (env.rbuf_len) plus one max-size frame, whatever the
 * pause state says. frame_timeout is the base's unit timeout: a frame
 * begun and not finished for that long is stored flagged truncated and
 * the connection closed (LW_CTR_FRAME_TIMEOUT). A frame cut by a
 * disconnect is stored flagged truncated and counted as a framing error.
 *
 * Threads, ownership, errors: as collector/source.h.
 */
#ifndef LW_COLLECTOR_TCP_H
#define LW_COLLECTOR_TCP_H

#include "collector/source.h"

/* lw_source_open for types tcp and tls. */
int lw_tcp_open(const struct lw_source_env *env, struct lw_source **out,
		struct lw_diag *diag);

#endif
