/* collector/journal_http.h - the journal-http listener (prefix lw_jhttp):
 * speaks what systemd-journal-upload speaks: HTTP/1.1 `POST /upload` with
 * `Content-Type: application/vnd.fdo.journal`, a body in the Journal
 * Export Format sent chunked or with Content-Length, `Expect:
 * 100-continue` and keep-alive. It answers as systemd-journal-remote does
 * (202 "OK.", 404, 406, 411, 413, 415, 417 ...; docs/journald.md has the
 * table) and, unlike it, says why a malformed body was refused (400 with
 * the parser's reason) after keeping the entries before the fault.
 *
 * The body is parsed as it arrives (lw_journal): no upload is buffered
 * whole, so a `--follow` upload that never ends costs one read buffer
 * plus one partial entry (max_message_size) per connection.
 *
 * Backpressure, as for TCP (listener.h): an entry the sink refuses
 * (LW_EFULL) stays in the connection, which stops reading and reports
 * stalled(); the serve pauses every listener and later calls
 * lw_jhttp_deliver_held / lw_jhttp_resume. Access: the listener's allow
 * list (refused connections are closed and counted in LW_CTR_CONN_REFUSED),
 * max_connections and idle_timeout (LW_CTR_CONN_IDLE_CLOSED). A body that
 * is malformed or cut off counts in LW_CTR_FRAMING_ERRORS.
 *
 * Collector thread only.
 */
#ifndef LW_COLLECTOR_JOURNAL_HTTP_H
#define LW_COLLECTOR_JOURNAL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "collector/journal.h"
#include "collector/listener.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct event_base;
struct lw_jhttp;

/* Request head (request line + headers) larger than this: 431. */
#define LW_JHTTP_MAX_HEAD 16384

struct lw_jhttp_sink {
	/* One complete journal entry (views valid during the call). Returns
	 * LW_OK or LW_EFULL (no batch free right now). */
	int (*entry)(void *arg, const struct lw_journal_entry *e,
		     const struct lw_listener_src *src, int64_t now_ns);
	/* A connection holds a refused entry and stopped reading. */
	void (*stalled)(void *arg);
	void *arg;
};

/* Everything the listener borrows; all of it outlives the listener. */
struct lw_jhttp_env {
	struct event_base *base;
	const struct lw_config *cfg;
	const struct lw_listener_config *lc;
	const struct lw_log *log;
	struct lw_counters *counters;
	struct lw_jhttp_sink sink;
};

/* Binds and listens on lc->address; creates (does not add) its events.
 * Errors: LW_EINVAL (bad address), LW_EIO (diag names the address and the
 * errno), LW_ENOMEM. *out is freed with lw_jhttp_close. */
int lw_jhttp_open(const struct lw_jhttp_env *env, struct lw_jhttp **out,
		  struct lw_diag *diag);
/* Starts accepting. LW_OK or LW_EIO. */
int lw_jhttp_start(struct lw_jhttp *h);
/* "journal-http 127.0.0.1:19532" (port 0 resolved). */
void lw_jhttp_describe(const struct lw_jhttp *h, char *out, size_t outlen);
/* Stops reading every connection (cheap when already paused). */
void lw_jhttp_pause(struct lw_jhttp *h);
/* Delivers the entries connections held back and goes on with their
 * buffered bytes, without re-enabling reading. LW_OK or LW_EFULL. */
int lw_jhttp_deliver_held(struct lw_jhttp *h);
/* lw_jhttp_deliver_held, then re-enables reading (a connection that
 * stalled goes last). LW_OK or LW_EFULL (paused again). */
int lw_jhttp_resume(struct lw_jhttp *h);
/* Clean stop: stops accepting, reads and parses what connections already
 * sent (bounded), then closes them; an entry still incomplete is lost and
 * counted. The sink must block instead of returning LW_EFULL. */
void lw_jhttp_drain(struct lw_jhttp *h);
/* Reload: from now on h reads cfg and lc (same type and address as
 * before; both outlive h or the next update), and every open connection's
 * zone is looked up again in cfg, so nothing points into the old config
 * any more. A new idle_timeout applies to connections from their next
 * read; a new max_message_size to new connections. */
void lw_jhttp_update(struct lw_jhttp *h, const struct lw_config *cfg,
		     const struct lw_listener_config *lc);
/* Frees everything; NULL is allowed. */
void lw_jhttp_close(struct lw_jhttp *h);

struct sockaddr;
/* Serves fd (a connected, non-blocking stream socket; taken, closed on
 * failure) as if accepted from peer, with the same checks and counters.
 * For tests/fuzz/fuzz_jhttp.c, which drives the request state machine
 * through a socketpair; the listener need not be started. */
void lw_jhttp_adopt(struct lw_jhttp *h, int fd, const struct sockaddr *peer);

#endif
