/* collector/journal_http.c - journal-http listener (prefix lw_jhttp): a
 * small HTTP/1.1 server for systemd-journal-upload on libevent. Collector
 * thread only.
 *
 * Each connection keeps its unread bytes in an evbuffer (chains are freed
 * as they drain, so an idle connection holds no buffer) and walks a state
 * machine: request head -> body (Content-Length or chunked) -> answer ->
 * next request (keep-alive). Body bytes go straight from the evbuffer's
 * contiguous spans into the export parser; when the sink refuses an entry
 * the unparsed bytes simply stay in the evbuffer.
 *
 * With `cert` and `key` the listener speaks HTTPS (collector/tls.h's
 * context: TLS 1.2+, verify_client against `ca`): the same state machine
 * over SSL_read/SSL_write on the non-blocking socket, after a handshake
 * bounded by handshake_timeout. OpenSSL reads one record at a time from
 * the socket (no read-ahead), and conn_read takes all the plaintext of a
 * record, so readiness of the socket is all the event loop has to watch.
 *
 * rate_limit (per source address, core/ratelimit.h) works like the TCP
 * listener's: an entry over the limit is refused to the parser, which
 * holds it, and the connection stops reading until a token is due (a
 * timer), so the client's upload slows down and nothing is dropped.
 *
 * Error answers close the connection, after shutdown(SHUT_WR) and a short
 * linger that reads and discards what the client is still sending: closing
 * with unread bytes would reset the connection and the client would never
 * see why its upload was refused.
 */
#include "collector/journal_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector/tls.h"
#include "core/ratelimit.h"
#include "core/time.h"

#define READ_MAX (64 * 1024)       /* bytes per read(2) per connection */
#define ACCEPT_BURST 64
#define LINGER_MS 2000             /* discard what the client still sends */
#define LINGER_MAX (1u << 20)
#define CHUNK_LINE_MAX 1024        /* chunk-size line, trailer line */
#define DRAIN_MAX (64u << 20)      /* bytes read per connection at stop */
#define DRAIN_QUIET_MS 100

static const char CONTENT_TYPE[] = "application/vnd.fdo.journal";

enum conn_state {
	S_HEAD,        /* reading the request line and headers */
	S_BODY,        /* Content-Length body: remaining bytes */
	S_CHUNK_SIZE,  /* chunked: the size line */
	S_CHUNK_DATA,  /* chunked: remaining bytes of this chunk */
	S_CHUNK_END,   /* chunked: CRLF after a chunk */
	S_TRAILER,     /* chunked: trailer lines until an empty one */
	S_END,         /* body complete: the parser's last entry, then the answer */
	S_LINGER       /* answered with an error: discarding until close */
};

struct conn {
	struct lw_jhttp *h;
	int fd;
	int stalled;     /* the parser holds a refused entry */
	int throttled;   /* ... refused by the rate limit: throttle_ev resumes */
	struct ssl_st *ssl; /* HTTPS, else NULL */
	int handshaking;
	/* HTTPS with a client certificate: tls.client.subject and issuer
	 * on every entry of the connection (src.extra). */
	struct lw_field tls_fields[2];
	char tls_subject[256], tls_issuer[256];
	int64_t throttle_wait_ns;
	struct event *throttle_ev;
	struct lw_ratelimit_key rkey;
	int refused;     /* the parser's last feed ended in a refusal */
	int keep_alive;
	enum conn_state state;
	uint64_t remaining;  /* S_BODY / S_CHUNK_DATA */
	uint64_t body_bytes; /* of the current request */
	size_t lingered;
	struct event *ev;
	struct evbuffer *in;
	struct lw_journal *parser;
	struct lw_listener_src src;
	char addr[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage peer; /* its zone is looked up again on reload */
	struct conn *prev, *next;
};

struct lw_jhttp {
	struct lw_jhttp_env env;
	int fd;
	int paused;
	struct event *ev;
	const struct timeval *idle_tv;
	struct timeval linger_tv;
	char bound[160];
	struct conn *conns, *conns_tail;
	uint32_t nconns;
	uint64_t refused_logged;
	uint64_t refused_requests_logged;
	int64_t now_ns;
	struct lw_ratelimit *rl; /* NULL = no rate limit */
	struct ssl_ctx_st *tls;  /* HTTPS (cert and key set), else NULL */
	struct timeval handshake_tv;
	uint64_t hs_failed_logged;
	int draining;            /* stopping: no rate limit, the sink blocks */
};

/* ---- connection list ---------------------------------------------------- */

static void conn_unlink(struct conn *c)
{
	struct lw_jhttp *h = c->h;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		h->conns_tail = c->prev;
	c->prev = c->next = NULL;
}

static void conn_append(struct conn *c)
{
	struct lw_jhttp *h = c->h;

	c->prev = h->conns_tail;
	c->next = NULL;
	if (h->conns_tail != NULL)
		h->conns_tail->next = c;
	else
		h->conns = c;
	h->conns_tail = c;
}

static void conn_free(struct conn *c)
{
	conn_unlink(c);
	c->h->nconns--;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->throttle_ev != NULL)
		event_free(c->throttle_ev);
	if (c->in != NULL)
		evbuffer_free(c->in);
	SSL_free(c->ssl); /* the fd is not its to close */
	if (c->fd != -1)
		close(c->fd);
	lw_journal_free(c->parser);
	free(c);
}

static int in_body(const struct conn *c)
{
	return c->state != S_HEAD && c->state != S_LINGER;
}

/* The peer went away or timed out: complete entries were delivered as
 * they came; a body cut short is counted. */
static void conn_close(struct conn *c)
{
	if (c->state != S_LINGER &&
	    ((in_body(c) && c->body_bytes > 0) || lw_journal_partial(c->parser)))
		lw_counters_add(c->h->env.counters, LW_CTR_FRAMING_ERRORS, 1);
	conn_free(c);
}

/* ---- transport: the socket, or TLS over it --------------------------- */

/* Reads into c->in: > 0 bytes, 0 when the peer closed, -1 with errno
 * EAGAIN (nothing now) or another error. With TLS it also takes the rest
 * of the record's plaintext, which no socket event would announce. */
static int conn_read(struct conn *c)
{
	int total = 0;

	if (c->ssl == NULL)
		return evbuffer_read(c->in, c->fd, READ_MAX);
	do {
		struct evbuffer_iovec v;
		int n, err;

		if (evbuffer_reserve_space(c->in, READ_MAX, &v, 1) < 1) {
			errno = ENOMEM;
			return total > 0 ? total : -1;
		}
		n = SSL_read(c->ssl, v.iov_base,
			     (int)(v.iov_len < READ_MAX ? v.iov_len : READ_MAX));
		if (n > 0) {
			v.iov_len = (size_t)n;
			evbuffer_commit_space(c->in, &v, 1);
			total += n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		ERR_clear_error();
		if (total > 0)
			return total;
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			errno = EAGAIN;
			return -1;
		}
		if (err == SSL_ERROR_ZERO_RETURN ||
		    (err == SSL_ERROR_SYSCALL && n == 0))
			return 0; /* close_notify, or EOF without it */
		errno = EIO;
		return -1;
	} while (SSL_pending(c->ssl) > 0);
	return total;
}

/* All of p, or -1 (the client does not read its answers: it is closed,
 * with TLS as without; the collector thread never waits for a client). */
static int conn_write(struct conn *c, const char *p, size_t n)
{
	if (c->ssl != NULL) {
		int w = SSL_write(c->ssl, p, (int)n);

		ERR_clear_error();
		return w == (int)n ? 0 : -1;
	}
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Our side is done: close_notify with TLS, then FIN. */
static int conn_shutdown_write(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	return shutdown(c->fd, SHUT_WR);
}

/* 1 done, 0 waiting for the client, -1 failed (counted and logged).
 * Our flights are a few KB into a socket buffer the client empties as
 * it reads; one that does not fit (SSL_ERROR_WANT_WRITE) means a client
 * that does not read, which is not waited for. */
static int conn_handshake(struct conn *c)
{
	struct lw_jhttp *h = c->h;
	char ebuf[256];
	int r = SSL_accept(c->ssl);

	if (r == 1) {
		c->handshaking = 0;
		return 1;
	}
	if (SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ) {
		ERR_clear_error();
		return 0;
	}
	lw_tls_error(ebuf, sizeof(ebuf));
	lw_counters_add(h->env.counters, LW_CTR_TLS_HANDSHAKE_FAILED, 1);
	/* The first and then every 1000th: a scan must not flood the log. */
	if (h->hs_failed_logged++ % 1000 == 0)
		lw_log(h->env.log, LW_LOG_WARNING, "collector", "TLS handshake failed",
		       "listener", h->bound, "peer", c->addr, "error", ebuf, NULL);
	return -1;
}

/* Handshake done: the client certificate's names go on every entry. */
static void tls_names(struct conn *c)
{
	if (!lw_tls_peer_names(c->ssl, c->tls_subject, sizeof(c->tls_subject),
			       c->tls_issuer, sizeof(c->tls_issuer)))
		return;
	c->tls_fields[0].key = LW_STR_LIT("tls.client.subject");
	c->tls_fields[0].value = (struct lw_str){c->tls_subject, (uint32_t)strlen(c->tls_subject)};
	c->tls_fields[1].key = LW_STR_LIT("tls.client.issuer");
	c->tls_fields[1].value = (struct lw_str){c->tls_issuer, (uint32_t)strlen(c->tls_issuer)};
	c->src.extra = c->tls_fields;
	c->src.nextra = 2;
}

/* ---- answers ---------------------------------------------------------- */

static const char *status_text(int code)
{
	switch (code) {
	case 100: return "Continue";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 406: return "Not Acceptable";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* Small answers go out at once; a client that does not read them (full
 * socket buffer) is not worth a write queue: -1, and it is closed. */
static int send_all(struct conn *c, const char *p, size_t n)
{
	return conn_write(c, p, n);
}

static int respond(struct conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Text body as systemd-journal-remote sends it: the message and "\n". */
static int respond(struct conn *c, int code, const char *fmt, ...)
{
	char body[512], msg[1024];
	va_list ap;
	int blen, mlen;

	va_start(ap, fmt);
	blen = vsnprintf(body, sizeof(body) - 1, fmt, ap);
	va_end(ap);
	if (blen < 0)
		blen = 0;
	if ((size_t)blen > sizeof(body) - 2)
		blen = (int)sizeof(body) - 2;
	body[blen++] = '\n';
	body[blen] = '\0';
	mlen = snprintf(msg, sizeof(msg),
			"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			"Content-Length: %d\r\n%s\r\n%s",
			code, status_text(code), blen,
			c->keep_alive ? "" : "Connection: close\r\n", body);
	if (mlen < 0 || (size_t)mlen >= sizeof(msg))
		return -1;
	return send_all(c, msg, (size_t)mlen);
}

/* An error answer: the connection is done; linger so the answer is read. */
static void refuse_request(struct conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse_request(struct conn *c, int code, const char *fmt, ...)
{
	char reason[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (in_body(c) || lw_journal_partial(c->parser))
		lw_counters_add(c->h->env.counters, LW_CTR_FRAMING_ERRORS, 1);
	/* The first and then every 1000th: a client that repeats a bad
	 * request must not grow the log at its own rate. */
	if (c->h->refused_requests_logged++ % 1000 == 0)
		lw_log(c->h->env.log, LW_LOG_WARNING, "collector", "journal upload refused",
		       "peer", c->addr, "reason", reason, NULL);
	c->keep_alive = 0;
	c->state = S_LINGER;
	c->lingered = 0;
	if (respond(c, code, "%s", reason) != 0 || conn_shutdown_write(c) == -1)
		c->lingered = LINGER_MAX; /* nothing to wait for */
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
}

/* ---- request head --------------------------------------------------------- */

struct head {
	const char *method, *path;
	int http10;
	const char *ctype, *te, *clen, *expect, *connection;
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Splits the NUL-terminated head in place. -1 when it is not HTTP. */
static int parse_head(char *text, struct head *hd)
{
	char *line = text, *next, *sp1, *sp2;

	memset(hd, 0, sizeof(*hd));
	next = strstr(line, "\r\n");
	if (next == NULL)
		return -1;
	*next = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	*sp1 = *sp2 = '\0';
	hd->method = line;
	hd->path = sp1 + 1;
	hd->http10 = strcmp(sp2 + 1, "HTTP/1.0") == 0;
	for (line = next + 2; *line != '\0'; line = next + 2) {
		char *colon, *val;

		next = strstr(line, "\r\n");
		if (next == NULL)
			return -1;
		*next = '\0';
		if (*line == '\0')
			break;
		colon = strchr(line, ':');
		if (colon == NULL)
			return -1;
		*colon = '\0';
		val = trim(colon + 1);
		if (strcasecmp(line, "Content-Type") == 0)
			hd->ctype = val;
		else if (strcasecmp(line, "Transfer-Encoding") == 0)
			hd->te = val;
		else if (strcasecmp(line, "Content-Length") == 0)
			hd->clen = val;
		else if (strcasecmp(line, "Expect") == 0)
			hd->expect = val;
		else if (strcasecmp(line, "Connection") == 0)
			hd->connection = val;
	}
	return 0;
}

static int parse_u64(const char *s, int base, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (v > (UINT64_MAX - d) / (unsigned)base)
			return -1;
		v = v * (unsigned)base + d;
	}
	*out = v;
	return 0;
}

/* 1: a request was started (body follows), 0: need more bytes, -1: the
 * connection was answered with an error. */
static int read_head(struct conn *c)
{
	const struct lw_listener_config *lc = c->h->env.lc;
	struct evbuffer_ptr end = evbuffer_search(c->in, "\r\n\r\n", 4, NULL);
	struct head hd;
	char *text;
	size_t len;
	uint64_t clen = 0;
	int chunked = 0;

	if (end.pos == -1) {
		if (evbuffer_get_length(c->in) > LW_JHTTP_MAX_HEAD) {
			refuse_request(c, 431, "Request header fields too large.");
			return -1;
		}
		return 0;
	}
	len = (size_t)end.pos + 4;
	if (len > LW_JHTTP_MAX_HEAD) {
		refuse_request(c, 431, "Request header fields too large.");
		return -1;
	}
	text = malloc(len + 1);
	if (text == NULL) {
		refuse_request(c, 503, "Out of memory.");
		return -1;
	}
	evbuffer_remove(c->in, text, len);
	text[len] = '\0';
	c->keep_alive = 1;
	if (parse_head(text, &hd) != 0) {
		free(text);
		refuse_request(c, 400, "Malformed HTTP request.");
		return -1;
	}
	c->keep_alive = !hd.http10 &&
			!(hd.connection && strcasecmp(hd.connection, "close") == 0);
	/* The order of checks and the answers are systemd-journal-remote's. */
	if (strcmp(hd.method, "POST") != 0) {
		refuse_request(c, 406, "Unsupported method.");
	} else if (strcmp(hd.path, "/upload") != 0) {
		refuse_request(c, 404, "Not found.");
	} else if (hd.ctype == NULL || strcmp(hd.ctype, CONTENT_TYPE) != 0) {
		refuse_request(c, 415, "Content-Type: %s is required.", CONTENT_TYPE);
	} else if (hd.te != NULL && strcasecmp(hd.te, "chunked") != 0) {
		refuse_request(c, 400, "Unsupported Transfer-Encoding type: %.100s", hd.te);
	} else if ((chunked = hd.te != NULL) && hd.clen != NULL) {
		refuse_request(c, 400, "Content-Length not allowed when Transfer-Encoding type is 'chunked'");
	} else if (!chunked && hd.clen == NULL) {
		refuse_request(c, 411, "Content-Length or Transfer-Encoding: chunked is required.");
	} else if (!chunked && parse_u64(hd.clen, 10, &clen) != 0) {
		refuse_request(c, 411, "Content-Length: %.100s cannot be parsed.", hd.clen);
	} else if (!chunked && lc->max_body_bytes && clen > lc->max_body_bytes) {
		refuse_request(c, 413, "Payload larger than maximum size of %llu bytes",
			       (unsigned long long)lc->max_body_bytes);
	} else {
		/* curl waits for this before sending the body. */
		int cont = hd.expect != NULL && strcasecmp(hd.expect, "100-continue") == 0;

		free(text);
		if (cont && send_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
			return -1;
		lw_journal_reset(c->parser);
		c->refused = 0;
		c->body_bytes = 0;
		c->remaining = clen;
		c->state = chunked ? S_CHUNK_SIZE : S_BODY;
		return 1;
	}
	free(text);
	return -1;
}

/* ---- body -------------------------------------------------------------------- */

static int conn_entry(void *arg, const struct lw_journal_entry *e)
{
	struct conn *c = arg;
	struct lw_jhttp *h = c->h;

	if (h->rl != NULL && !h->draining) {
		int64_t wait = lw_ratelimit_take(h->rl, &c->rkey, lw_time_mono_ns());

		if (wait > 0) {
			c->throttled = 1;
			c->throttle_wait_ns = wait;
			return LW_EFULL; /* the parser holds the entry */
		}
	}
	return h->env.sink.entry(h->env.sink.arg, e, &c->src, h->now_ns);
}

static void parser_refused(struct conn *c, int rc)
{
	if (rc == LW_ENOMEM)
		refuse_request(c, 503, "Out of memory.");
	else
		refuse_request(c, 400, "Malformed journal entry: %s.",
			       lw_journal_error(c->parser));
}

/* Feeds up to c->remaining buffered body bytes. LW_OK, LW_EFULL (the
 * connection stalls), or -1 (answered with an error). */
static int feed_body(struct conn *c)
{
	while (c->remaining > 0 && evbuffer_get_length(c->in) > 0) {
		struct evbuffer_iovec v;
		size_t want, used = 0;
		int rc;

		want = c->remaining < SIZE_MAX ? (size_t)c->remaining : SIZE_MAX;
		if (evbuffer_peek(c->in, -1, NULL, &v, 1) < 1)
			break;
		if (v.iov_len < want)
			want = v.iov_len;
		rc = lw_journal_feed(c->parser, v.iov_base, want, &used,
				     conn_entry, c);
		evbuffer_drain(c->in, used);
		c->remaining -= used;
		c->refused = rc == LW_EFULL;
		if (rc == LW_EFULL)
			return LW_EFULL;
		if (rc != LW_OK) {
			parser_refused(c, rc);
			return -1;
		}
	}
	return LW_OK;
}

/* An entry the parser assembled across reads and the sink refused
 * waits in the parser, its bytes already drained from c->in: offer it
 * again before anything else, even when no byte follows (the client may
 * have sent its last entry and wait, or be gone). LW_OK, LW_EFULL or -1
 * (answered). */
static int retry_refused(struct conn *c)
{
	static const uint8_t none[1];
	size_t used;
	int rc;

	if (!c->refused)
		return LW_OK;
	rc = lw_journal_feed(c->parser, none, 0, &used, conn_entry, c);
	if (rc == LW_EFULL)
		return LW_EFULL;
	c->refused = 0;
	if (rc != LW_OK) {
		parser_refused(c, rc);
		return -1;
	}
	return LW_OK;
}

/* The body is complete (S_END): answer, and get ready for the next
 * request. Refused again, it stays in S_END and is called again. */
static int end_body(struct conn *c)
{
	int rc = lw_journal_finish(c->parser, conn_entry, c);

	if (rc == LW_EFULL)
		return LW_EFULL;
	if (rc != LW_OK) {
		/* systemd-journal-remote's answer to an upload that ends
		 * inside an entry; other faults were answered as they came. */
		if (strncmp(lw_journal_error(c->parser), "entry cut off", 13) == 0)
			refuse_request(c, 417, "Premature EOF. %s.",
				       lw_journal_error(c->parser));
		else
			parser_refused(c, rc);
		return -1;
	}
	if (respond(c, 202, "OK.") != 0)
		return -1;
	if (!c->keep_alive) {
		/* The client closes after reading the answer. */
		c->state = S_LINGER;
		c->lingered = 0;
		if (conn_shutdown_write(c) == -1)
			return -1;
		return LW_OK;
	}
	c->state = S_HEAD;
	return LW_OK;
}

/* Reads a CRLF-terminated line (without it) into buf. 1 = got it, 0 = need
 * more, -1 = too long (answered). */
static int read_line(struct conn *c, char *buf, size_t cap)
{
	size_t n;
	char *line = evbuffer_readln(c->in, &n, EVBUFFER_EOL_CRLF_STRICT);

	if (line == NULL) {
		/* The longest line we take may wait for the LF of its CRLF:
		 * refusing one byte earlier would depend on how the bytes
		 * arrived. */
		if (evbuffer_get_length(c->in) > CHUNK_LINE_MAX + 1) {
			refuse_request(c, 400, "Malformed chunked encoding: line too long.");
			return -1;
		}
		return 0;
	}
	if (n >= cap) {
		free(line);
		refuse_request(c, 400, "Malformed chunked encoding: line too long.");
		return -1;
	}
	memcpy(buf, line, n + 1);
	free(line);
	return 1;
}

/* Runs the state machine over the buffered bytes. LW_OK (need more
 * input), LW_EFULL (stalled) or -1 (the connection is finished: answered
 * with an error or the client does not read). */
static int conn_process(struct conn *c)
{
	const struct lw_listener_config *lc = c->h->env.lc;
	char line[CHUNK_LINE_MAX + 1];
	int rc;

	if (in_body(c)) {
		rc = retry_refused(c);
		if (rc != LW_OK)
			return rc;
	}
	for (;;) {
		switch (c->state) {
		case S_HEAD:
			if (evbuffer_get_length(c->in) == 0)
				return LW_OK;
			rc = read_head(c);
			if (rc <= 0)
				return rc == 0 ? LW_OK : -1;
			break;
		case S_BODY:
			if (c->remaining > 0) {
				uint64_t before = c->remaining;

				rc = feed_body(c);
				c->body_bytes += before - c->remaining;
				if (rc != LW_OK)
					return rc;
				if (c->remaining > 0)
					return LW_OK;
			}
			c->state = S_END;
			break;
		case S_CHUNK_SIZE: {
			char *semi;
			uint64_t size;

			rc = read_line(c, line, sizeof(line));
			if (rc <= 0)
				return rc == 0 ? LW_OK : -1;
			semi = strchr(line, ';'); /* chunk extensions are ignored */
			if (semi != NULL)
				*semi = '\0';
			if (parse_u64(trim(line), 16, &size) != 0) {
				refuse_request(c, 400, "Malformed chunked encoding: bad chunk size.");
				return -1;
			}
			if (lc->max_body_bytes && size > lc->max_body_bytes - c->body_bytes) {
				refuse_request(c, 413, "Payload larger than maximum size of %llu bytes",
					       (unsigned long long)lc->max_body_bytes);
				return -1;
			}
			c->body_bytes += size;
			c->remaining = size;
			c->state = size ? S_CHUNK_DATA : S_TRAILER;
			break;
		}
		case S_CHUNK_DATA:
			rc = feed_body(c);
			if (rc != LW_OK)
				return rc;
			if (c->remaining > 0)
				return LW_OK;
			c->state = S_CHUNK_END;
			break;
		case S_CHUNK_END: {
			char crlf[2];

			if (evbuffer_get_length(c->in) < 2)
				return LW_OK;
			evbuffer_remove(c->in, crlf, 2);
			if (crlf[0] != '\r' || crlf[1] != '\n') {
				refuse_request(c, 400, "Malformed chunked encoding: no CRLF after a chunk.");
				return -1;
			}
			c->state = S_CHUNK_SIZE;
			break;
		}
		case S_TRAILER:
			rc = read_line(c, line, sizeof(line));
			if (rc <= 0)
				return rc == 0 ? LW_OK : -1;
			if (line[0] != '\0')
				break; /* a trailer field: ignored */
			c->state = S_END;
			break;
		case S_END:
			rc = end_body(c);
			if (rc != LW_OK)
				return rc;
			break;
		case S_LINGER:
			c->lingered += evbuffer_get_length(c->in);
			evbuffer_drain(c->in, evbuffer_get_length(c->in));
			return c->lingered >= LINGER_MAX ? -1 : LW_OK;
		}
	}
}

/* ---- events ------------------------------------------------------------------- */

static int conn_arm(struct conn *c)
{
	const struct timeval *tv = c->handshaking ? &c->h->handshake_tv :
		c->state == S_LINGER ? &c->h->linger_tv : c->h->idle_tv;

	return event_add(c->ev, tv) == 0 ? LW_OK : LW_EIO;
}

static void conn_stall(struct conn *c)
{
	struct lw_jhttp *h = c->h;

	c->stalled = 1;
	event_del(c->ev);
	conn_unlink(c);
	conn_append(c); /* last to be re-armed: fairness */
	h->env.sink.stalled(h->env.sink.arg);
}

static void throttle_cb(evutil_socket_t fd, short what, void *arg);

/* Over the rate limit: no reading until a token is due; the other
 * connections and the sink go on. */
static int conn_throttle(struct conn *c)
{
	/* At least 1 ms: a wait under the timer's resolution would fire at
	 * once, find no token and count another pause. */
	int64_t ns = c->throttle_wait_ns < 1000000 ? 1000000 : c->throttle_wait_ns;
	struct timeval tv = {(time_t)(ns / 1000000000), (suseconds_t)(ns % 1000000000 / 1000)};

	event_del(c->ev);
	if (c->throttle_ev == NULL)
		c->throttle_ev = evtimer_new(c->h->env.base, throttle_cb, c);
	if (c->throttle_ev == NULL || evtimer_add(c->throttle_ev, &tv) != 0)
		return LW_ENOMEM;
	lw_counters_add(c->h->env.counters, LW_CTR_RATE_PAUSED, 1);
	return LW_OK;
}

/* After conn_process: stall, finish, or (re-)arm. Returns LW_EFULL when
 * the connection stalled. */
static int conn_after(struct conn *c, int rc)
{
	if (rc == LW_EFULL && c->throttled) {
		if (conn_throttle(c) == LW_OK)
			return LW_OK;
		conn_close(c); /* out of memory for a timer */
		return LW_OK;
	}
	if (rc == LW_EFULL) {
		conn_stall(c);
		return LW_EFULL;
	}
	if (rc != LW_OK) {
		if (c->state == S_LINGER && c->lingered < LINGER_MAX) {
			if (conn_arm(c) == LW_OK)
				return LW_OK;
		}
		conn_free(c);
		return LW_OK;
	}
	if (c->state == S_LINGER && c->lingered < LINGER_MAX && !c->h->paused)
		conn_arm(c); /* switch to the linger timeout */
	return LW_OK;
}

/* A token is due: offer the held entry again and read on. */
static void throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int rc;

	(void)fd;
	(void)what;
	c->throttled = 0;
	c->h->now_ns = lw_time_now_ns();
	rc = conn_process(c);
	if (conn_after(c, rc) == LW_EFULL || rc != LW_OK || c->throttled)
		return; /* stalled on the sink, freed, lingering, or throttled again */
	if (!c->h->paused && conn_arm(c) != LW_OK)
		conn_close(c);
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int n, rc;

	(void)fd;
	if (what & EV_TIMEOUT) {
		if (c->handshaking)
			lw_counters_add(c->h->env.counters, LW_CTR_TLS_HANDSHAKE_TIMEOUT, 1);
		else if (c->state != S_LINGER)
			lw_counters_add(c->h->env.counters, LW_CTR_CONN_IDLE_CLOSED, 1);
		conn_close(c);
		return;
	}
	if (c->stalled)
		return; /* never read on top of a held entry */
	if (c->handshaking) {
		int hs = conn_handshake(c);

		if (hs < 0) {
			conn_free(c); /* nothing was read */
			return;
		}
		if (hs == 0)
			return;
		tls_names(c);
		if (conn_arm(c) != LW_OK) { /* the idle timeout from now on */
			conn_free(c);
			return;
		}
	}
	n = conn_read(c);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	lw_counters_add(c->h->env.counters, LW_CTR_BYTES_RECEIVED, (uint64_t)n);
	c->h->now_ns = lw_time_now_ns();
	rc = conn_process(c);
	if (rc == LW_OK && c->state == S_LINGER && c->lingered >= LINGER_MAX)
		rc = -1;
	conn_after(c, rc);
}

/* reason: LW_CTR_REFUSED_ALLOW or LW_CTR_REFUSED_MAX_CONN, counted on top
 * of LW_CTR_CONN_REFUSED as the syslog listeners do; LW_CTR_CONN_REFUSED
 * alone for other reasons. */
static void refuse_conn(struct lw_jhttp *h, int fd, const char *why,
			const char *peer, enum lw_counter reason)
{
	close(fd);
	lw_counters_add(h->env.counters, LW_CTR_CONN_REFUSED, 1);
	if (reason != LW_CTR_CONN_REFUSED)
		lw_counters_add(h->env.counters, reason, 1);
	if (h->refused_logged++ % 1000 == 0)
		lw_log(h->env.log, LW_LOG_WARNING, "collector", "connection refused",
		       "listener", h->bound, "peer", peer, "reason", why, NULL);
}

/* labels.zone and log.source.address of c's events, from the current
 * config (the zones map, else the listener's zone). */
static void set_src(struct conn *c)
{
	const char *zone = lw_config_zone_of(c->h->env.cfg,
					     (const struct sockaddr *)&c->peer);

	if (zone == NULL)
		zone = c->h->env.lc->zone;
	c->src = (struct lw_listener_src){.zone = zone,
					  .zone_len = (uint32_t)strlen(zone),
					  .addr = c->addr,
					  .addr_len = (uint32_t)strlen(c->addr),
					  .extra = c->src.extra,   /* a reload keeps them */
					  .nextra = c->src.nextra};
}


static void accept_one(struct lw_jhttp *h, int fd, const struct sockaddr *sa)
{
	const struct lw_listener_config *lc = h->env.lc;
	struct conn *c;
	char peer[INET6_ADDRSTRLEN + 16];

	lw_listener_format_peer(sa, peer, sizeof(peer));
	if (h->nconns >= lc->max_connections) {
		refuse_conn(h, fd, "max_connections", peer, LW_CTR_REFUSED_MAX_CONN);
		return;
	}
	if (lc->allow.count > 0 && !lw_cidr_list_contains(&lc->allow, sa)) {
		refuse_conn(h, fd, "not in allow", peer, LW_CTR_REFUSED_ALLOW);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		refuse_conn(h, fd, "out of memory", peer, LW_CTR_CONN_REFUSED);
		return;
	}
	c->h = h;
	c->fd = fd;
	memcpy(c->addr, peer, sizeof(peer));
	memcpy(&c->peer, sa, sa->sa_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	lw_ratelimit_key_of(sa, &c->rkey);
	set_src(c);
	c->in = evbuffer_new();
	c->parser = lw_journal_new(LW_JOURNAL_EXPORT, lc->max_message_bytes, 0);
	if (h->tls != NULL) {
		c->ssl = lw_tls_new_ssl(h->tls);
		c->handshaking = 1;
		if (c->ssl != NULL && SSL_set_fd(c->ssl, fd) != 1) {
			SSL_free(c->ssl);
			c->ssl = NULL;
		}
	}
	c->ev = event_new(h->env.base, fd, EV_READ | EV_PERSIST, conn_cb, c);
	conn_append(c);
	h->nconns++;
	if (c->in == NULL || c->parser == NULL || c->ev == NULL ||
	    (h->tls != NULL && c->ssl == NULL) ||
	    (!h->paused && conn_arm(c) != LW_OK)) {
		conn_free(c); /* closes fd */
		lw_counters_add(h->env.counters, LW_CTR_CONN_REFUSED, 1);
		return;
	}
	lw_counters_add(h->env.counters, LW_CTR_CONN_ACCEPTED, 1);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct lw_jhttp *h = arg;

	(void)what;
	for (int k = 0; k < ACCEPT_BURST; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			char ebuf[128];

			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE and friends: the next wakeup retries; say so. */
			lw_log(h->env.log, LW_LOG_ERR, "collector", "cannot accept connection",
			       "listener", h->bound, "error",
			       strerror_r(errno, ebuf, sizeof(ebuf)), NULL);
			return;
		}
		accept_one(h, fd, (struct sockaddr *)&ss);
	}
}

/* ---- lifecycle ---------------------------------------------------------------- */

static int sys_fail(struct lw_diag *diag, const char *what, const char *addr)
{
	char ebuf[128];
	int err = errno;

	lw_diag_set(diag, LW_EIO, NULL, 0, 0, "cannot %s '%s': %s", what, addr,
		    strerror_r(err, ebuf, sizeof(ebuf)));
	if (diag != NULL)
		diag->sys_errno = err;
	return LW_EIO;
}

static int bind_address(struct lw_jhttp *h, struct lw_diag *diag)
{
	const char *address = h->env.lc->address;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, rc;

	rc = lw_listener_resolve(address, SOCK_STREAM, &ss, &sl, diag);
	if (rc != LW_OK)
		return rc;
	h->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd == -1 ||
	    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(h->fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(h->fd, SOMAXCONN) == -1)
		return sys_fail(diag, "listen on", address);
	sl = sizeof(ss);
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
		lw_listener_format_peer((struct sockaddr *)&ss, h->bound, sizeof(h->bound));
	return LW_OK;
}

/* The idle timeout of connections armed from now on (NULL = none). */
static void set_idle_tv(struct lw_jhttp *h)
{
	struct timeval tv = {h->env.lc->idle_timeout_ms / 1000,
			     (h->env.lc->idle_timeout_ms % 1000) * 1000};

	h->idle_tv = h->env.lc->idle_timeout_ms > 0 ?
		event_base_init_common_timeout(h->env.base, &tv) : NULL;
}

void lw_jhttp_update(struct lw_jhttp *h, const struct lw_config *cfg,
		     const struct lw_listener_config *lc)
{
	h->env.cfg = cfg;
	h->env.lc = lc;
	set_idle_tv(h);
	/* Every zone string borrowed from the old config is looked up again
	 * in the new one before the old one can go. */
	for (struct conn *c = h->conns; c != NULL; c = c->next)
		set_src(c);
}

int lw_jhttp_open(const struct lw_jhttp_env *env, struct lw_jhttp **out,
		  struct lw_diag *diag)
{
	struct lw_jhttp *h;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
	h->env = *env;
	h->fd = -1;
	h->linger_tv = (struct timeval){LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
	rc = bind_address(h, diag);
	if (rc != LW_OK)
		goto fail;
	set_idle_tv(h);
	h->handshake_tv = (struct timeval){env->lc->handshake_timeout_ms / 1000,
					   (env->lc->handshake_timeout_ms % 1000) * 1000};
	if (env->lc->cert[0] != '\0') {
		rc = lw_tls_ctx_new(env->lc, &h->tls, diag);
		if (rc != LW_OK)
			goto fail;
	}
	if (env->lc->rate_limit.events_per_second > 0) {
		h->rl = lw_ratelimit_new(env->lc->rate_limit.events_per_second,
					 env->lc->rate_limit.burst,
					 env->lc->rate_limit.max_sources, 0);
		if (h->rl == NULL) {
			rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
			goto fail;
		}
	}
	h->ev = event_new(env->base, h->fd, EV_READ | EV_PERSIST, accept_cb, h);
	if (h->ev == NULL) {
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
		goto fail;
	}
	*out = h;
	return LW_OK;
fail:
	lw_jhttp_close(h);
	return rc;
}

void lw_jhttp_adopt(struct lw_jhttp *h, int fd, const struct sockaddr *peer)
{
	accept_one(h, fd, peer);
}

int lw_jhttp_start(struct lw_jhttp *h)
{
	return event_add(h->ev, NULL) == 0 ? LW_OK : LW_EIO;
}

void lw_jhttp_describe(const struct lw_jhttp *h, char *out, size_t outlen)
{
	snprintf(out, outlen, "journal-http %s", h->bound);
}

void lw_jhttp_pause(struct lw_jhttp *h)
{
	if (h->paused)
		return;
	h->paused = 1;
	for (struct conn *c = h->conns; c != NULL; c = c->next)
		event_del(c->ev);
}

int lw_jhttp_deliver_held(struct lw_jhttp *h)
{
	struct conn *c, *next;

	for (c = h->conns; c != NULL; c = next) {
		int rc;

		next = c->next;
		if (!c->stalled || c->throttled)
			continue; /* a throttled one waits for its timer */
		c->stalled = 0;
		h->now_ns = lw_time_now_ns();
		rc = conn_process(c);
		if (rc == LW_EFULL && c->throttled) {
			/* The sink has room; this source is over its limit. The
			 * others go on (returning LW_EFULL here would keep every
			 * listener paused with no batch request to resume it). */
			if (conn_throttle(c) != LW_OK)
				conn_close(c);
			continue;
		}
		if (rc == LW_EFULL) {
			c->stalled = 1;
			return LW_EFULL;
		}
		if (rc != LW_OK && !(c->state == S_LINGER && c->lingered < LINGER_MAX))
			conn_free(c);
	}
	return LW_OK;
}

int lw_jhttp_resume(struct lw_jhttp *h)
{
	struct conn *c, *next;

	if (lw_jhttp_deliver_held(h) == LW_EFULL)
		return LW_EFULL;
	if (!h->paused)
		return LW_OK;
	h->paused = 0;
	for (c = h->conns; c != NULL; c = next) {
		next = c->next;
		if (c->throttled)
			continue; /* its timer re-arms it */
		if (conn_arm(c) != LW_OK) {
			lw_log(h->env.log, LW_LOG_ERR, "collector",
			       "cannot watch connection; closing it", "peer", c->addr, NULL);
			conn_close(c);
		}
	}
	return LW_OK;
}

/* Waits up to DRAIN_QUIET_MS for more bytes (a sender's queue drains
 * into ours only as we read). */
static int drain_wait(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int64_t left = deadline_ms - lw_time_now_ns() / 1000000;

	if (left <= 0)
		return 0;
	return poll(&pfd, 1, (int)(left < DRAIN_QUIET_MS ? left : DRAIN_QUIET_MS)) == 1;
}

void lw_jhttp_drain(struct lw_jhttp *h)
{
	int64_t deadline = lw_time_now_ns() / 1000000 + 5000;

	h->draining = 1;
	if (h->ev != NULL)
		event_del(h->ev);
	if (h->fd != -1) {
		close(h->fd);
		h->fd = -1;
	}
	while (h->conns != NULL) {
		struct conn *c = h->conns;
		size_t got = 0;
		int rc;

		event_del(c->ev);
		if (c->throttle_ev != NULL)
			evtimer_del(c->throttle_ev);
		c->stalled = 0;
		c->throttled = 0;
		h->now_ns = lw_time_now_ns();
		rc = conn_process(c); /* held bytes first; the sink blocks now */
		while (rc == LW_OK && !c->handshaking && c->state != S_LINGER &&
		       got < DRAIN_MAX) {
			int n = conn_read(c);

			if (n == -1 && errno == EAGAIN && drain_wait(c->fd, deadline))
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
			h->now_ns = lw_time_now_ns();
			rc = conn_process(c);
		}
		conn_close(c);
	}
}

void lw_jhttp_close(struct lw_jhttp *h)
{
	if (h == NULL)
		return;
	while (h->conns != NULL)
		conn_free(h->conns);
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->fd != -1)
		close(h->fd);
	lw_ratelimit_free(h->rl);
	lw_tls_ctx_free(h->tls);
	free(h);
}
