/* collector/journal_http.h - the journal-http source (prefix lw_jhttp):
 * speaks what systemd-journal-upload speaks: HTTP/1.1 `POST /upload` with
 * `Content-Type: application/vnd.fdo.journal`, a body in the Journal
 * Export Format sent chunked or with Content-Length, `Expect:
 * 100-continue` and keep-alive. It answers as systemd-journal-remote does
 * (202 "OK.", 404, 406, 411, 413, 415, 417 ...; docs/journald.md has the
 * table) and, unlike it, says why a malformed body was refused (400 with
 * the parser's reason) after keeping the entries before the fault. With
 * `cert` and `key` it speaks HTTPS.
 *
 * A protocol over the stream base (collector/stream.h), which does the
 * accepting, TLS, timeouts, rate limit, backpressure and drain as for
 * tcp: this module is the request state machine only. The body is parsed
 * as it arrives (lw_journal): no upload is buffered whole, so a
 * `--follow` upload that never ends costs one read (at most 64 KiB) plus
 * one partial entry (max_message_size) per connection. An entry the sink
 * or the rate limit refuses stays in the parser (LW_EFULL), with the
 * unread bytes in the connection's buffer. A body that is malformed or
 * cut off counts in LW_CTR_FRAMING_ERRORS; error answers close the
 * connection after the base's linger.
 *
 * Threads, ownership, errors: as collector/source.h.
 */
#ifndef LW_COLLECTOR_JOURNAL_HTTP_H
#define LW_COLLECTOR_JOURNAL_HTTP_H

#include "collector/source.h"

/* Request head (request line + headers) larger than this: 431. */
#define LW_JHTTP_MAX_HEAD 16384

/* lw_source_open for type journal-http. */
int lw_jhttp_open(const struct lw_source_env *env, struct lw_source **out,
		  struct lw_diag *diag);

#endif
