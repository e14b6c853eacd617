/* collector/stream.c - the stream base (prefix lw_stream). See stream.h.
 *
 * TLS without a bufferevent: OpenSSL reads records straight from the
 * non-blocking socket (no read-ahead), so readiness of the socket is what
 * the event loop watches. The one thing no socket event announces is
 * plaintext OpenSSL decrypted but we did not take yet (a read that
 * filled its buffer mid-record): conn_arm and conn_after activate the
 * read event themselves when SSL_pending says so.
 *
 * Deferred freeing: a connection is freed only by the function that
 * decided to (conn_free, conn_finish); every caller that may have lost
 * it says so (conn_finish returns LW_OK when it freed), and loops over
 * the list take next before the call.
 */
#include "collector/stream.h"

#include <errno.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/tls.h"

#define ACCEPT_BURST 64            /* accepts per wakeup */
#define ACCEPT_BACKOFF_MS 100      /* pause accepting after EMFILE */
#define DRAIN_STREAM_MAX (64u << 20) /* bytes read per connection at stop */
#define DRAIN_QUIET_MS 100         /* no new bytes for this long: the sender is done */
#define DRAIN_DEADLINE_MS 5000     /* the whole drain at stop, all connections */
#define SWEEP_MIN_MS 50            /* unit timeout sweep period bounds */
#define SWEEP_MAX_MS 1000
#define LINGER_MS 2000             /* discard what the client still sends */
#define LINGER_MAX (1u << 20)
#define NAME_LEN 256               /* a certificate subject or issuer, cut to fit */

static struct lw_stream *stream_of(struct lw_source *s)
{
	return (struct lw_stream *)(void *)s;
}

static void log_conn(const struct lw_stream_conn *c, const char *msg, const char *err)
{
	lw_log(c->st->src.env.log, LW_LOG_ERR, "collector", msg, "peer", c->addr,
	       "error", err, NULL);
}

/* ---- the connection list ----------------------------------------------- */

static void conn_unlink(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		st->conns_tail = c->prev;
	c->prev = c->next = NULL;
}

static void conn_append(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;

	c->prev = st->conns_tail;
	c->next = NULL;
	if (st->conns_tail != NULL)
		st->conns_tail->next = c;
	else
		st->conns = c;
	st->conns_tail = c;
}

/* The SSL does not own the fd (SSL_set_fd: no close), so both go. */
static void conn_close_socket(struct lw_stream_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

static struct lw_stream_conn **source_bucket(struct lw_stream *st,
					    const struct lw_ratelimit_key *key)
{
	return &st->by_source[lw_ratelimit_key_hash(key, st->source_seed) &
			      (LW_STREAM_SOURCE_BUCKETS - 1)];
}

static void source_link(struct lw_stream_conn *c)
{
	struct lw_stream_conn **b = source_bucket(c->st, &c->rkey);

	c->sprev = NULL;
	c->snext = *b;
	if (*b != NULL)
		(*b)->sprev = c;
	*b = c;
}

static void source_unlink(struct lw_stream_conn *c)
{
	if (c->sprev != NULL)
		c->sprev->snext = c->snext;
	else
		*source_bucket(c->st, &c->rkey) = c->snext;
	if (c->snext != NULL)
		c->snext->sprev = c->sprev;
	c->sprev = c->snext = NULL;
}

/* Connections from key's address: O(connections in its bucket). */
static uint32_t source_count(struct lw_stream *st, const struct lw_ratelimit_key *key)
{
	uint32_t n = 0;

	for (struct lw_stream_conn *c = *source_bucket(st, key); c != NULL; c = c->snext)
		n += memcmp(&c->rkey, key, sizeof(*key)) == 0;
	return n;
}

static void conn_free(struct lw_stream_conn *c)
{
	conn_unlink(c);
	source_unlink(c);
	c->st->nconns--;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->throttle_ev != NULL)
		event_free(c->throttle_ev);
	conn_close_socket(c);
	c->st->proto->release(c);
	free(c->tls_names);
	free(c);
}

/* ---- transport ------------------------------------------------------------ */

static ssize_t tls_read(struct lw_stream_conn *c, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		size_t want = cap - got < INT32_MAX ? cap - got : INT32_MAX;
		int n = SSL_read(c->ssl, buf + got, (int)want), err;

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		if (got > 0)
			break; /* the same condition comes back on the next call */
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			errno = EAGAIN;
			return -1;
		}
		if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && n == 0))
			return 0; /* close_notify, or EOF without it */
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

ssize_t lw_stream_read(struct lw_stream_conn *c, void *buf, size_t cap)
{
	ssize_t n = c->ssl != NULL ? tls_read(c, buf, cap) : read(c->fd, buf, cap);

	if (n > 0) {
		c->bytes_read += (uint64_t)n;
		c->st->now_ns = lw_time_now_ns();
	}
	return n;
}

int lw_stream_write(struct lw_stream_conn *c, const void *p, size_t n)
{
	const char *s = p;

	if (c->ssl != NULL) {
		int w = SSL_write(c->ssl, s, (int)n);

		ERR_clear_error();
		return w == (int)n ? 0 : -1;
	}
	while (n > 0) {
		ssize_t w = write(c->fd, s, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int lw_stream_linger(struct lw_stream_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	if (shutdown(c->fd, SHUT_WR) == -1)
		return -1;
	c->lingering = 1;
	c->lingered = 0;
	return 0;
}

/* Turns reading on with the timeout of c's state. LW_OK or LW_EIO. */
static int conn_arm(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;
	const struct timeval *tv = c->handshaking ? st->handshake_tv :
				   c->lingering ? st->linger_tv : st->idle_tv;

	if (event_add(c->ev, tv) != 0)
		return LW_EIO;
	if (c->ssl != NULL && !c->handshaking && SSL_pending(c->ssl) > 0)
		event_active(c->ev, EV_READ, 0);
	return LW_OK;
}

/* ---- connection states ------------------------------------------------------ */

/* Delivers what c held. LW_OK clears held. */
static int conn_deliver(struct lw_stream_conn *c)
{
	int rc;

	c->st->now_ns = lw_time_now_ns();
	rc = c->st->proto->deliver_held(c);
	if (rc == LW_OK)
		c->held = 0;
	return rc;
}

/* The peer is gone (or idle, or we stop): what OpenSSL still holds
 * decrypted goes to the protocol, then the partial unit; then c is freed.
 * When the sink is full (or the source is over its rate limit) c stays,
 * closing, its socket closed, until a resume (or its timer) finishes it.
 * Returns LW_OK (c was freed) or LW_EFULL. */
static int conn_finish(struct lw_stream_conn *c)
{
	const struct lw_stream_proto *proto = c->st->proto;
	int rc = LW_OK;

	if (!c->closing && !c->held && c->ssl != NULL && !c->handshaking &&
	    !c->lingering && SSL_pending(c->ssl) > 0)
		rc = proto->readable(c);
	c->closing = 1;
	event_del(c->ev);
	conn_close_socket(c);
	if (!c->handshaking && !c->lingering) {
		c->st->now_ns = lw_time_now_ns();
		rc = proto->finish(c);
	}
	if (rc == LW_EFULL)
		return LW_EFULL;
	conn_free(c);
	return LW_OK;
}

/* c holds a refused unit: it goes last in the re-arm order (fairness),
 * and the sink pauses every source. */
static void conn_stall(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;

	conn_unlink(c);
	conn_append(c);
	st->src.env.sink.stalled(st->src.env.sink.arg);
}

static void throttle_cb(evutil_socket_t fd, short what, void *arg);

/* c holds a unit it could not deliver. Over its rate limit: it alone
 * stops reading until its bucket has a token. Otherwise the sink is
 * full: stall (every source pauses). */
static void conn_blocked(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;
	/* At least 1 ms: a wait under the timer's resolution would fire at
	 * once, find no token and count another pause. */
	int64_t ns = c->throttle_wait_ns < 1000000 ? 1000000 : c->throttle_wait_ns;
	struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};

	c->held = 1;
	if (!c->closing)
		event_del(c->ev);
	if (!c->throttled) {
		conn_stall(c);
		return;
	}
	lw_counters_add(st->src.env.counters, LW_CTR_RATE_PAUSED, 1);
	if (c->throttle_ev == NULL)
		c->throttle_ev = evtimer_new(st->src.env.base, throttle_cb, c);
	if (c->throttle_ev != NULL && evtimer_add(c->throttle_ev, &tv) == 0)
		return;
	/* Without a timer nothing would ever wake it. */
	log_conn(c, "cannot arm rate limit timer; closing connection", "out of memory");
	c->throttled = 0;
	if (c->closing || conn_finish(c) == LW_EFULL)
		conn_stall(c); /* a resume retries it */
}

static void conn_close(struct lw_stream_conn *c)
{
	if (conn_finish(c) == LW_EFULL)
		conn_blocked(c);
}

/* What a protocol callback returned for c. */
static void conn_after(struct lw_stream_conn *c, int rc)
{
	if (rc == LW_EFULL) {
		conn_blocked(c);
	} else if (rc == LW_STREAM_CLOSE) {
		conn_close(c);
	} else if (c->lingering) {
		/* Lingering takes no part in backpressure: it holds nothing,
		 * and its timeout bounds it. */
		if (conn_arm(c) != LW_OK)
			conn_free(c);
	} else if (c->ssl != NULL && !c->st->paused && SSL_pending(c->ssl) > 0) {
		event_active(c->ev, EV_READ, 0); /* no socket event will say so */
	}
}

/* The bucket should have a token again: deliver what was held, then read
 * on (unless the whole source is paused: its resume re-arms c). */
static void throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_stream_conn *c = arg;
	char ebuf[128];
	int rc;

	(void)fd;
	(void)what;
	c->throttled = 0;
	if (c->closing) {
		conn_close(c);
		return;
	}
	rc = conn_deliver(c);
	if (rc != LW_OK || c->lingering) {
		conn_after(c, rc);
		return;
	}
	if (c->st->paused || c->handshaking)
		return;
	if (conn_arm(c) != LW_OK) {
		log_conn(c, "cannot watch connection; closing it",
			 strerror_r(errno, ebuf, sizeof(ebuf)));
		conn_close(c);
	}
}

/* Handshake done: every unit of this connection carries the client
 * certificate's subject and issuer (when it sent one). */
static void tls_names(struct lw_stream_conn *c)
{
	char *subject = c->tls_names, *issuer = c->tls_names + NAME_LEN;

	if (!lw_tls_peer_names(c->ssl, subject, NAME_LEN, issuer, NAME_LEN))
		return;
	c->tls_fields[0].key = LW_STR_LIT("tls.client.subject");
	c->tls_fields[0].value = (struct lw_str){subject, (uint32_t)strlen(subject)};
	c->tls_fields[1].key = LW_STR_LIT("tls.client.issuer");
	c->tls_fields[1].value = (struct lw_str){issuer, (uint32_t)strlen(issuer)};
	c->src.extra = c->tls_fields;
	c->src.nextra = 2;
}

/* One step of the TLS handshake. 1: done, c reads on; 0: waiting for
 * the client, or failed (c was freed). Our flights are a few KB into a
 * socket buffer the client empties as it reads; one that does not fit
 * (SSL_ERROR_WANT_WRITE) means a client that does not read, which is not
 * waited for. */
static int conn_handshake(struct lw_stream_conn *c)
{
	struct lw_stream *st = c->st;
	char ebuf[256];
	int r = SSL_accept(c->ssl);

	if (r == 1) {
		c->handshaking = 0;
		tls_names(c);
		if (conn_arm(c) == LW_OK) /* the idle timeout from now on */
			return 1;
		conn_free(c);
		return 0;
	}
	if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		return 0;
	}
	lw_tls_error(ebuf, sizeof(ebuf));
	lw_counters_add(st->src.env.counters, LW_CTR_TLS_HANDSHAKE_FAILED, 1);
	/* The first and then every 1000th: a scan must not flood the log. */
	if (st->hs_failed_logged++ % 1000 == 0)
		lw_log(st->src.env.log, LW_LOG_WARNING, "collector", "TLS handshake failed",
		       "listener", st->src.bound, "peer", c->addr, "error", ebuf, NULL);
	conn_free(c); /* nothing was read */
	return 0;
}

/* Reads and discards what the client still sends after our answer. */
static void linger_read(struct lw_stream_conn *c)
{
	uint8_t buf[4096];
	ssize_t n;

	for (;;) {
		n = lw_stream_read(c, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || (c->lingered += (uint32_t)n) >= LINGER_MAX) {
			conn_free(c);
			return;
		}
	}
}

static void conn_timed_out(struct lw_stream_conn *c)
{
	struct lw_counters *counters = c->st->src.env.counters;

	if (c->handshaking) {
		lw_counters_add(counters, LW_CTR_TLS_HANDSHAKE_TIMEOUT, 1);
		conn_free(c); /* nothing was read */
	} else if (c->lingering) {
		conn_free(c);
	} else {
		lw_counters_add(counters, LW_CTR_CONN_IDLE_CLOSED, 1);
		conn_close(c);
	}
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_stream_conn *c = arg;
	int rc;

	(void)fd;
	if (what & EV_TIMEOUT) {
		conn_timed_out(c);
		return;
	}
	if (c->lingering) {
		linger_read(c);
		return;
	}
	if (c->st->paused)
		return; /* pausing deleted the event; nothing should come */
	/* Never read on top of held units: each read would add to them.
	 * Normally a connection that holds one gets no event; this also
	 * holds if one comes anyway. */
	if (c->held) {
		rc = conn_deliver(c);
		if (rc != LW_OK || c->lingering) {
			conn_after(c, rc);
			return;
		}
	}
	if (c->handshaking && !conn_handshake(c))
		return;
	conn_after(c, c->st->proto->readable(c));
}

/* ---- accept ----------------------------------------------------------------- */

static void refuse(struct lw_stream *st, int fd, const char *why, const char *peer,
		   enum lw_counter reason)
{
	close(fd);
	lw_counters_add(st->src.env.counters, LW_CTR_CONN_REFUSED, 1);
	if (reason != LW_CTR_CONN_REFUSED)
		lw_counters_add(st->src.env.counters, reason, 1);
	/* The first and then every 1000th: a flood must not flood us. */
	if (st->refused_logged++ % 1000 == 0)
		lw_log(st->src.env.log, LW_LOG_WARNING, "collector", "connection refused",
		       "listener", st->src.bound, "peer", peer, "reason", why, NULL);
}

/* A connection for fd (not yet in the list), or NULL with nothing of it
 * left (fd stays the caller's). */
static struct lw_stream_conn *conn_new(struct lw_stream *st, int fd,
				       const struct sockaddr *sa, const char *peer)
{
	struct lw_stream_conn *c = calloc(1, st->proto->conn_size);

	if (c == NULL)
		return NULL;
	c->st = st;
	c->fd = fd;
	memcpy(c->addr, peer, sizeof(c->addr));
	memcpy(&c->peer, sa, sa->sa_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	lw_source_set_src(&st->src, &c->src, sa, c->addr);
	lw_ratelimit_key_of(sa, &c->rkey);
	if (st->tls != NULL) {
		c->handshaking = 1;
		c->tls_names = calloc(2, NAME_LEN);
		c->ssl = lw_tls_new_ssl(st->tls);
		if (c->tls_names == NULL || c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1)
			goto fail;
	}
	c->ev = event_new(st->src.env.base, fd, EV_READ | EV_PERSIST, conn_cb, c);
	if (c->ev == NULL || st->proto->init(c) != LW_OK)
		goto fail;
	return c;

fail:
	if (c->ev != NULL)
		event_free(c->ev);
	SSL_free(c->ssl);
	free(c->tls_names);
	free(c);
	return NULL;
}

static void accept_one(struct lw_stream *st, int fd, const struct sockaddr *sa)
{
	struct lw_stream_conn *c;
	struct lw_ratelimit_key key;
	char peer[INET6_ADDRSTRLEN + 16];

	lw_listener_format_peer(sa, peer, sizeof(peer));
	if (!lw_source_allows(&st->src, sa)) {
		refuse(st, fd, "not in allow", peer, LW_CTR_REFUSED_ALLOW);
		return;
	}
	if (st->nconns >= st->src.env.lc->max_connections) {
		refuse(st, fd, "max_connections", peer, LW_CTR_REFUSED_MAX_CONN);
		return;
	}
	lw_ratelimit_key_of(sa, &key);
	if (source_count(st, &key) >= st->src.env.lc->max_connections_per_source) {
		refuse(st, fd, "max_connections_per_source", peer,
		       LW_CTR_REFUSED_MAX_CONN_SOURCE);
		return;
	}
	c = conn_new(st, fd, sa, peer);
	if (c == NULL) {
		refuse(st, fd, "out of memory", peer, LW_CTR_CONN_REFUSED);
		return;
	}
	conn_append(c);
	source_link(c);
	st->nconns++;
	/* Nothing was read yet, so a connection we cannot watch is refused. */
	if (!st->paused && conn_arm(c) != LW_OK) {
		lw_counters_add(st->src.env.counters, LW_CTR_CONN_REFUSED, 1);
		log_conn(c, "connection refused", "cannot watch connection");
		conn_free(c);
		return;
	}
	lw_counters_add(st->src.env.counters, LW_CTR_CONN_ACCEPTED, 1);
}

void lw_stream_adopt(struct lw_source *s, int fd, const struct sockaddr *peer)
{
	accept_one(stream_of(s), fd, peer);
}

/* Stop accepting for ACCEPT_BACKOFF_MS. When the timer cannot be armed,
 * keep accepting: spinning on EMFILE beats going deaf. */
static void accept_backoff(struct lw_stream *st)
{
	struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};

	if (event_add(st->backoff, &tv) == -1) {
		lw_log(st->src.env.log, LW_LOG_ERR, "collector",
		       "cannot arm accept backoff timer", "listener", st->src.bound, NULL);
		return;
	}
	event_del(st->ev);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_stream *st = arg;

	(void)fd;
	(void)what;
	if (event_add(st->ev, NULL) == -1) {
		/* Try again after the next backoff; say so, once per try. */
		lw_log(st->src.env.log, LW_LOG_ERR, "collector",
		       "cannot resume accepting; retrying", "listener", st->src.bound, NULL);
		accept_backoff(st);
	}
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct lw_stream *st = arg;

	(void)what;
	for (int k = 0; k < ACCEPT_BURST; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			int err = errno;
			char ebuf[128];

			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (err == EINTR || err == ECONNABORTED)
				continue;
			/* EMFILE/ENFILE/ENOBUFS: the pending connection stays
			 * queued and would wake us forever; back off. */
			lw_log(st->src.env.log, LW_LOG_ERR, "collector",
			       "cannot accept connection", "listener", st->src.bound,
			       "error", strerror_r(err, ebuf, sizeof(ebuf)), NULL);
			accept_backoff(st);
			return;
		}
		accept_one(st, fd, (struct sockaddr *)&ss);
	}
}

/* Unit timeouts. A connection that is not reading (paused source,
 * throttled, holding a refused unit) is not the one stalling, so its
 * clock restarts. O(connections) per sweep. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_stream *st = arg;
	struct lw_stream_conn *c, *next;
	int64_t now = lw_time_mono_ns();

	(void)fd;
	(void)what;
	for (c = st->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing || c->lingering || c->handshaking || c->unit_since_ns == 0)
			continue;
		if (st->paused || c->throttled || c->held)
			c->unit_since_ns = now;
		else if (now - c->unit_since_ns >= st->unit_timeout_ns)
			conn_after(c, st->proto->unit_timeout(c));
	}
}

/* ---- the source ops ---------------------------------------------------------- */

static const struct timeval *common_timeout(struct lw_stream *st, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	/* Common timeouts: O(1) re-arm per read with 1,000s of connections
	 * sharing the same duration. */
	return ms > 0 ? event_base_init_common_timeout(st->src.env.base, &tv) : NULL;
}

static int stream_start(struct lw_source *s)
{
	struct lw_stream *st = stream_of(s);
	struct timeval tv;
	int64_t ms;

	if (event_add(st->ev, NULL) != 0)
		return LW_EIO;
	if (st->sweep == NULL)
		return LW_OK;
	/* A quarter of the timeout: a unit is cut at most 25% late. */
	ms = st->unit_timeout_ns / 4 / 1000000;
	if (ms < SWEEP_MIN_MS)
		ms = SWEEP_MIN_MS;
	if (ms > SWEEP_MAX_MS)
		ms = SWEEP_MAX_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return event_add(st->sweep, &tv) == 0 ? LW_OK : LW_EIO;
}

static void stream_pause(struct lw_source *s)
{
	struct lw_stream *st = stream_of(s);

	if (st->paused)
		return;
	st->paused = 1;
	for (struct lw_stream_conn *c = st->conns; c != NULL; c = c->next)
		if (!c->closing && !c->lingering)
			event_del(c->ev);
}

static int stream_deliver_held(struct lw_source *s)
{
	struct lw_stream *st = stream_of(s);
	struct lw_stream_conn *c, *next;

	for (c = st->conns; c != NULL; c = next) {
		int rc;

		next = c->next;
		/* Its own timer delivers it; trying now would only refuse. */
		if (c->throttled)
			continue;
		if (c->closing) {
			if (conn_finish(c) == LW_OK)
				continue; /* freed */
			rc = LW_EFULL;
		} else if (c->held) {
			rc = conn_deliver(c);
		} else {
			continue;
		}
		if (rc == LW_OK) {
			if (c->lingering)
				conn_after(c, rc);
			continue;
		}
		if (rc == LW_EFULL && c->throttled) {
			conn_blocked(c); /* over its rate limit, not the sink */
			continue;
		}
		if (rc == LW_EFULL)
			return LW_EFULL;
		if (conn_finish(c) == LW_EFULL) { /* LW_STREAM_CLOSE */
			if (!c->throttled)
				return LW_EFULL;
			conn_blocked(c);
		}
	}
	return LW_OK;
}

static int stream_resume(struct lw_source *s)
{
	struct lw_stream *st = stream_of(s);
	struct lw_stream_conn *c, *next;
	int full = 0;

	/* First every held unit, so a connection that is resumed never
	 * overtakes its own held bytes. */
	if (stream_deliver_held(s) == LW_EFULL)
		return LW_EFULL;
	if (!st->paused)
		return LW_OK;
	st->paused = 0;
	for (c = st->conns; c != NULL; c = next) {
		char ebuf[128];

		next = c->next;
		if (c->throttled || c->closing || c->lingering || conn_arm(c) == LW_OK)
			continue;
		/* Unwatched, it would hang until the peer gives up. */
		log_conn(c, "cannot watch connection; closing it",
			 strerror_r(errno, ebuf, sizeof(ebuf)));
		if (conn_finish(c) == LW_EFULL) {
			if (c->throttled)
				conn_blocked(c);
			else
				full = 1;
		}
	}
	if (!full)
		return LW_OK;
	stream_pause(s);
	return LW_EFULL;
}

static int stream_update(struct lw_source *s, const struct lw_config *cfg,
			 const struct lw_listener_config *lc)
{
	struct lw_stream *st = stream_of(s);

	s->env.cfg = cfg;
	s->env.lc = lc;
	st->idle_tv = common_timeout(st, lc->idle_timeout_ms);
	/* Every zone string borrowed from the old config is looked up again
	 * in the new one before the old one can go. */
	for (struct lw_stream_conn *c = st->conns; c != NULL; c = c->next)
		lw_source_set_src(s, &c->src, (const struct sockaddr *)&c->peer, c->addr);
	return LW_OK;
}

/* A sender that wrote everything before we were told to stop may still
 * have bytes in flight: its send queue drains into our receive buffer only
 * as we read. So an empty buffer is not the end: wait for a short quiet
 * period before giving up, within an overall deadline so a sender that
 * never pauses cannot hold the stop forever. */
static int drain_wait(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int64_t left = deadline_ms - lw_time_mono_ms();

	if (left <= 0)
		return 0;
	return poll(&pfd, 1, (int)(left < DRAIN_QUIET_MS ? left : DRAIN_QUIET_MS)) == 1;
}

/* Held units first, then what the socket holds, until it is quiet, the
 * peer is gone or the protocol is done. */
static void conn_drain(struct lw_stream_conn *c, int64_t deadline_ms)
{
	uint64_t start = c->bytes_read;
	int rc = c->held ? conn_deliver(c) : LW_OK;

	while (rc == LW_OK && !c->lingering && c->bytes_read - start < DRAIN_STREAM_MAX) {
		rc = c->st->proto->readable(c);
		if (rc == LW_STREAM_AGAIN && drain_wait(c->fd, deadline_ms))
			rc = LW_OK;
	}
	ERR_clear_error();
}

static void stream_drain(struct lw_source *s)
{
	struct lw_stream *st = stream_of(s);
	int64_t deadline = lw_time_mono_ms() + DRAIN_DEADLINE_MS;

	event_del(st->ev);
	event_del(st->backoff);
	if (st->sweep != NULL)
		event_del(st->sweep);
	st->draining = 1;
	/* Stop accepting first: a connection in the backlog has sent nothing
	 * we have read, so closing it loses nothing we took responsibility for. */
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	while (st->conns != NULL) {
		struct lw_stream_conn *c = st->conns;

		event_del(c->ev);
		if (c->throttle_ev != NULL)
			event_del(c->throttle_ev);
		c->throttled = 0;
		if (!c->closing && !c->handshaking && !c->lingering)
			conn_drain(c, deadline);
		/* The sink blocks for a batch now, so LW_EFULL cannot happen;
		 * if it did, freeing here still ends the loop. */
		if (conn_finish(c) != LW_OK)
			conn_free(c);
	}
}

static void stream_close(struct lw_source *s)
{
	struct lw_stream *st = stream_of(s);

	while (st->conns != NULL)
		conn_free(st->conns);
	if (st->ev != NULL)
		event_free(st->ev);
	if (st->backoff != NULL)
		event_free(st->backoff);
	if (st->sweep != NULL)
		event_free(st->sweep);
	free(st->by_source);
	lw_tls_ctx_free(st->tls);
	lw_ratelimit_free(st->rl);
	if (s->fd != -1)
		close(s->fd);
	free(st);
}

static const struct lw_source_ops stream_ops = {
	.start = stream_start,
	.pause = stream_pause,
	.deliver_held = stream_deliver_held,
	.resume = stream_resume,
	.drain = stream_drain,
	.update = stream_update,
	.close = stream_close,
};

int lw_stream_open(const struct lw_source_env *env,
		   const struct lw_stream_proto *proto,
		   const struct lw_stream_opts *opts, struct lw_source **out,
		   struct lw_diag *diag)
{
	struct lw_stream *st;
	int rc;

	*out = NULL;
	st = calloc(1, proto->size);
	if (st == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
	lw_source_init(&st->src, &stream_ops, env);
	st->proto = proto;
	st->source_seed = lw_ratelimit_random_seed();
	st->by_source = calloc(LW_STREAM_SOURCE_BUCKETS, sizeof(*st->by_source));
	if (st->by_source == NULL) {
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
		goto fail;
	}
	if (opts->tls) {
		rc = lw_tls_ctx_new(env->lc, &st->tls, diag);
		if (rc != LW_OK)
			goto fail;
	}
	rc = lw_source_ratelimit_new(&st->src, &st->rl, diag);
	if (rc != LW_OK)
		goto fail;
	rc = lw_source_bind_inet(&st->src, SOCK_STREAM, diag);
	if (rc != LW_OK)
		goto fail;
	st->unit_timeout_ns = (int64_t)opts->unit_timeout_ms * 1000000;
	if (st->unit_timeout_ns > 0)
		st->sweep = event_new(env->base, -1, EV_PERSIST, sweep_cb, st);
	st->ev = event_new(env->base, st->src.fd, EV_READ | EV_PERSIST, accept_cb, st);
	st->backoff = evtimer_new(env->base, backoff_cb, st);
	st->idle_tv = common_timeout(st, env->lc->idle_timeout_ms);
	st->handshake_tv = common_timeout(st, env->lc->handshake_timeout_ms);
	st->linger_tv = common_timeout(st, LINGER_MS);
	if (st->ev == NULL || st->backoff == NULL ||
	    (st->unit_timeout_ns > 0 && st->sweep == NULL)) {
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
		goto fail;
	}
	*out = &st->src;
	return LW_OK;

fail:
	stream_close(&st->src);
	return rc;
}
