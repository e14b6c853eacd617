/* collector/journal_http.c - the journal-http source (prefix lw_jhttp):
 * a small HTTP/1.1 server for systemd-journal-upload, as a protocol over
 * the stream base (collector/stream.h). See journal_http.h.
 *
 * Each connection keeps its unread bytes in an evbuffer (chains are freed
 * as they drain, so an idle connection holds no buffer) and walks a state
 * machine: request head -> body (Content-Length or chunked) -> answer ->
 * next request (keep-alive). Body bytes go straight from the evbuffer's
 * contiguous spans into the export parser; when the sink refuses an entry
 * the unparsed bytes simply stay in the evbuffer.
 *
 * Error answers end the request (S_DONE): the base shuts our side down
 * and lingers, reading and discarding what the client is still sending,
 * because closing with unread bytes would reset the connection and the
 * client would never see why its upload was refused.
 */
#include "collector/journal_http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector/stream.h"
#include "core/escape.h"

#define READ_MAX (64 * 1024)       /* bytes per read per connection */
#define CHUNK_LINE_MAX 1024        /* chunk-size line, trailer line */

static const char CONTENT_TYPE[] = "application/vnd.fdo.journal";

enum conn_state {
	S_HEAD,        /* reading the request line and headers */
	S_BODY,        /* Content-Length body: remaining bytes */
	S_CHUNK_SIZE,  /* chunked: the size line */
	S_CHUNK_DATA,  /* chunked: remaining bytes of this chunk */
	S_CHUNK_END,   /* chunked: CRLF after a chunk */
	S_TRAILER,     /* chunked: trailer lines until an empty one */
	S_END,         /* body complete: the parser's last entry, then the answer */
	S_DONE         /* answered for the last time: nothing more is read */
};

struct conn {
	struct lw_stream_conn base;
	int refused;     /* the parser's last feed ended in a refusal */
	int keep_alive;
	enum conn_state state;
	uint64_t remaining;  /* S_BODY / S_CHUNK_DATA */
	uint64_t body_bytes; /* of the current request */
	uint64_t units;      /* heads parsed and entries delivered: progress */
	struct evbuffer *in;
	struct lw_journal *parser;
};

struct jhttp {
	struct lw_stream base;
	uint64_t refused_requests_logged;
	uint64_t unit_timeout_logged;
};

static const struct lw_source_env *env_of(const struct conn *c)
{
	return &c->base.st->src.env;
}

static int in_body(const struct conn *c)
{
	return c->state != S_HEAD && c->state != S_DONE;
}

/* After the last answer: the base lingers, or closes when our side could
 * not be shut down (or the answer not sent). */
static int answered(const struct conn *c)
{
	return c->base.lingering ? LW_OK : LW_STREAM_CLOSE;
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
	case 408: return "Request Timeout";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static int respond(struct conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Text body as systemd-journal-remote sends it: the message and "\n".
 * The message may quote the client's own header values, and the client's
 * operator reads it on a terminal: escaped. */
static int respond(struct conn *c, int code, const char *fmt, ...)
{
	char text[400], body[512], msg[1024];
	va_list ap;
	int n, blen, mlen;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		text[0] = '\0';
	blen = (int)lw_escape_text_fixed(body, sizeof(body) - 1, text, strlen(text), 0, NULL);
	body[blen++] = '\n';
	body[blen] = '\0';
	mlen = snprintf(msg, sizeof(msg),
			"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			"Content-Length: %d\r\n%s\r\n%s",
			code, status_text(code), blen,
			c->keep_alive ? "" : "Connection: close\r\n", body);
	if (mlen < 0 || (size_t)mlen >= sizeof(msg))
		return -1;
	/* Small answers go out at once; a client that does not read them
	 * (full socket buffer) is not worth a write queue. */
	return lw_stream_write(&c->base, msg, (size_t)mlen);
}

/* An error answer: the request is done, and so is the connection. */
static void refuse_request(struct conn *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse_request(struct conn *c, int code, const char *fmt, ...)
{
	struct jhttp *h = (struct jhttp *)(void *)c->base.st;
	char reason[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (in_body(c) || lw_journal_partial(c->parser))
		lw_counters_add(env_of(c)->counters, LW_CTR_FRAMING_ERRORS, 1);
	/* The first and then every 1000th: a client that repeats a bad
	 * request must not grow the log at its own rate. */
	if (h->refused_requests_logged++ % 1000 == 0)
		lw_log(env_of(c)->log, LW_LOG_WARNING, "collector", "journal upload refused",
		       "peer", c->base.addr, "reason", reason, NULL);
	c->keep_alive = 0;
	c->state = S_DONE;
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	if (respond(c, code, "%s", reason) == 0)
		lw_stream_linger(&c->base);
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

/* Sets *slot to val; -1 when the header was there already: two
 * Content-Length or Transfer-Encoding headers are how request smuggling
 * starts (RFC 9112 6.3), whatever the values. */
static int set_once(const char **slot, const char *val)
{
	if (*slot != NULL)
		return -1;
	*slot = val;
	return 0;
}

/* Splits the NUL-terminated head in place. -1 when it is not HTTP, -2
 * when a header that must appear once appears twice. */
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
		else if (strcasecmp(line, "Transfer-Encoding") == 0 && set_once(&hd->te, val) != 0)
			return -2;
		else if (strcasecmp(line, "Content-Length") == 0 && set_once(&hd->clen, val) != 0)
			return -2;
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
 * request was answered with an error, or the answer could not be sent. */
static int read_head(struct conn *c)
{
	const struct lw_listener_config *lc = env_of(c)->lc;
	struct evbuffer_ptr end = evbuffer_search(c->in, "\r\n\r\n", 4, NULL);
	struct head hd;
	char *text;
	size_t len;
	uint64_t clen = 0;
	int chunked = 0, rc;

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
	rc = parse_head(text, &hd);
	if (rc != 0) {
		free(text);
		refuse_request(c, 400, rc == -2 ?
			       "Content-Length or Transfer-Encoding given twice." :
			       "Malformed HTTP request.");
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
		if (cont && lw_stream_write(&c->base, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0) {
			c->state = S_DONE;
			return -1;
		}
		lw_journal_reset(c->parser);
		c->units++;
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
	const struct lw_source_sink *sink = &env_of(c)->sink;

	int rc;

	/* Over the rate limit the parser holds the entry, as for a full sink. */
	if (lw_stream_admit(&c->base) != LW_OK)
		return LW_EFULL;
	rc = sink->entry(sink->arg, e, &c->base.src, c->base.st->now_ns);
	if (rc == LW_OK)
		c->units++;
	return rc;
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
 * connection holds the entry), or -1 (answered with an error). */
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
 * request (or, without keep-alive, be done: -1). Refused again, it stays
 * in S_END and is called again. */
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
	if (respond(c, 202, "OK.") != 0) {
		c->state = S_DONE;
		return -1;
	}
	if (!c->keep_alive) {
		/* The client closes after reading the answer. */
		c->state = S_DONE;
		lw_stream_linger(&c->base);
		return -1;
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
 * input), LW_EFULL (an entry is held) or -1 (done: answered for the last
 * time, or the client does not read). */
static int process(struct conn *c)
{
	const struct lw_listener_config *lc = env_of(c)->lc;
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
		case S_DONE:
			return -1;
		}
	}
}

/* ---- the protocol --------------------------------------------------------- */

/* A unit is in progress while a request head or a journal entry has
 * begun and is not complete (bytes wait in the buffer, or the parser
 * holds part of an entry): frame_timeout runs from its start, or from
 * the last head or entry completed (a long upload progresses). */
static void unit_clock(struct conn *c, uint64_t units_before)
{
	int begun = c->state != S_DONE &&
		    (evbuffer_get_length(c->in) > 0 || lw_journal_partial(c->parser));

	if (!begun)
		c->base.unit_since_ns = 0;
	else if (c->base.unit_since_ns == 0 || c->units != units_before)
		c->base.unit_since_ns = lw_time_mono_ns();
}

static int conn_process(struct conn *c)
{
	uint64_t units = c->units;
	int rc = process(c);

	unit_clock(c, units);
	return rc == -1 ? answered(c) : rc;
}

static int jhttp_readable(struct lw_stream_conn *sc)
{
	struct conn *c = (struct conn *)sc;
	struct evbuffer_iovec v;
	ssize_t n;

	if (evbuffer_reserve_space(c->in, READ_MAX, &v, 1) < 1)
		return LW_STREAM_CLOSE; /* out of memory */
	n = lw_stream_read(sc, v.iov_base, v.iov_len < READ_MAX ? v.iov_len : READ_MAX);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return LW_STREAM_AGAIN;
	if (n <= 0)
		return LW_STREAM_CLOSE;
	v.iov_len = (size_t)n;
	evbuffer_commit_space(c->in, &v, 1);
	lw_counters_add(env_of(c)->counters, LW_CTR_BYTES_RECEIVED, (uint64_t)n);
	return conn_process(c);
}

static int jhttp_deliver_held(struct lw_stream_conn *sc)
{
	return conn_process((struct conn *)sc);
}

/* The peer went away, timed out, or we stop: complete entries were
 * delivered as they came, but for one still held (LW_EFULL: called
 * again); a body cut short is counted. */
static int jhttp_finish(struct lw_stream_conn *sc)
{
	struct conn *c = (struct conn *)sc;

	if (retry_refused(c) == LW_EFULL)
		return LW_EFULL;
	if (c->state != S_DONE &&
	    ((in_body(c) && c->body_bytes > 0) || lw_journal_partial(c->parser)))
		lw_counters_add(env_of(c)->counters, LW_CTR_FRAMING_ERRORS, 1);
	return LW_OK;
}

/* A head or an entry trickled in past frame_timeout (slowloris): 408,
 * and the connection ends; a partial entry is counted as a framing
 * error (refuse_request) and lost, as it never became an entry. */
static int jhttp_unit_timeout(struct lw_stream_conn *sc)
{
	struct conn *c = (struct conn *)sc;
	struct jhttp *h = (struct jhttp *)(void *)sc->st;
	const struct lw_source_env *env = env_of(c);

	lw_counters_add(env->counters, LW_CTR_FRAME_TIMEOUT, 1);
	if (h->unit_timeout_logged++ % 1000 == 0)
		lw_log(env->log, LW_LOG_WARNING, "collector",
		       "request incomplete past frame_timeout; closing connection",
		       "listener", sc->st->src.bound, "peer", sc->addr, NULL);
	sc->unit_since_ns = 0;
	refuse_request(c, 408, "Request incomplete after %u ms.", env->lc->frame_timeout_ms);
	return answered(c);
}

static int jhttp_init(struct lw_stream_conn *sc)
{
	struct conn *c = (struct conn *)sc;

	c->in = evbuffer_new();
	c->parser = lw_journal_new(LW_JOURNAL_EXPORT, env_of(c)->lc->max_message_bytes, 0);
	if (c->in != NULL && c->parser != NULL)
		return LW_OK;
	if (c->in != NULL)
		evbuffer_free(c->in);
	lw_journal_free(c->parser);
	return LW_ENOMEM;
}

static void jhttp_release(struct lw_stream_conn *sc)
{
	struct conn *c = (struct conn *)sc;

	evbuffer_free(c->in);
	lw_journal_free(c->parser);
}

int lw_jhttp_open(const struct lw_source_env *env, struct lw_source **out,
		  struct lw_diag *diag)
{
	static const struct lw_stream_proto proto = {
		.size = sizeof(struct jhttp), .conn_size = sizeof(struct conn),
		.init = jhttp_init, .release = jhttp_release, .readable = jhttp_readable,
		.deliver_held = jhttp_deliver_held, .finish = jhttp_finish,
		.unit_timeout = jhttp_unit_timeout,
	};
	/* HTTPS when the listener has a certificate; a request head or an
	 * entry begun and not complete is the unit that times out. */
	struct lw_stream_opts opts = {.tls = env->lc->cert[0] != '\0',
				      .unit_timeout_ms = env->lc->frame_timeout_ms};

	return lw_stream_open(env, &proto, &opts, out, diag);
}
