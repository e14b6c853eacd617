/* lw_web: the evhttp server thread; requests are copied into an
 * lw_api_req, answered by lw_api_handle, and sent with the security
 * headers. */
#include "web/web.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/ratelimit.h"
#include "core/time.h"

#define MAX_HEADERS (16 * 1024)
#define WEB_NICE 10
#define TIMEOUT_S 60
#define CONN_BUCKETS 256
#define REFUSED_LOG_MS 60000

/* One policy for every response: our own origin only, nothing inline,
 * never framed. uPlot and Preact set element styles through the CSSOM,
 * which style-src does not govern. */
static const char CSP[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
	"frame-ancestors 'none'";

/* One accepted connection, counted under its address from the accept
 * to evhttp's close callback. */
struct web_conn {
	struct bufferevent *bev;      /* while pending: evhttp's, one reference ours */
	struct lw_ratelimit_key key;
	struct web_conn *next, **pprev; /* pending list, or by_source bucket */
};

struct lw_web {
	struct lw_web_opts o;
	struct lw_api *api;
	struct event_base *base;
	struct evhttp *http;
	struct event *stop_ev;
	int stop_fds[2];
	pthread_t thread;
	int started;
	char bound[160];
	/* Server thread's: connections per source address. */
	struct event *check_ev;       /* looks at the pending connections */
	struct web_conn *pending;     /* accepted, address not yet read */
	struct web_conn *by_source[CONN_BUCKETS];
	uint64_t seed;
	int64_t refused_logged_ms;
};

static const char *reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

static enum lw_api_method method_of(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return LW_API_GET;
	case EVHTTP_REQ_HEAD: return LW_API_HEAD;
	case EVHTTP_REQ_POST: return LW_API_POST;
	default: return LW_API_OTHER;
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct lw_web *w = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct evbuffer *reply = evbuffer_new();
	struct lw_api_req r;
	const char *raw_path = uri ? evhttp_uri_get_path(uri) : NULL;
	char *path = NULL, addr[96] = "";
	size_t plen = 0, blen = evbuffer_get_length(body);
	char *peer = NULL;
	ev_uint16_t port = 0;

	lw_api_req_init(&r);
	if (conn != NULL) {
		evhttp_connection_get_peer(conn, &peer, &port);
		snprintf(addr, sizeof(addr), strchr(peer ? peer : "", ':') ? "[%s]:%u" : "%s:%u",
			 peer ? peer : "?", (unsigned)port);
	}
	if (raw_path != NULL)
		path = evhttp_uridecode(raw_path, 0, &plen);
	r.method = method_of(evhttp_request_get_command(req));
	/* a %00 in the path would cut it: refuse rather than route a prefix */
	r.path = path != NULL && strlen(path) == plen ? path : "";
	r.query = uri ? evhttp_uri_get_query(uri) : NULL;
	r.body = blen ? (const char *)evbuffer_pullup(body, -1) : NULL;
	r.body_len = blen;
	r.cookie = evhttp_find_header(in, "Cookie");
	r.authorization = evhttp_find_header(in, "Authorization");
	r.csrf_header = evhttp_find_header(in, "X-CSRF-Token");
	r.address = addr;
	r.https = w->o.tls != NULL;
	lw_api_handle(w->api, &r);

	evhttp_add_header(out, "Content-Type", r.content_type ? r.content_type : "application/json");
	evhttp_add_header(out, "Content-Security-Policy", CSP);
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(out, "Cross-Origin-Resource-Policy", "same-origin");
	evhttp_add_header(out, "Cache-Control", r.cacheable ? "private, max-age=300" : "no-store");
	if (r.https)
		evhttp_add_header(out, "Strict-Transport-Security", "max-age=31536000");
	if (r.set_cookie[0])
		evhttp_add_header(out, "Set-Cookie", r.set_cookie);
	if (r.disposition[0])
		evhttp_add_header(out, "Content-Disposition", r.disposition);
	if (reply != NULL && r.method != LW_API_HEAD)
		evbuffer_add(reply, r.out.data, r.out.len);
	evhttp_send_reply(req, (int)r.status, reason(r.status), reply);
	if (reply != NULL)
		evbuffer_free(reply);
	lw_api_req_release(&r);
	free(path);
}

static void conn_link(struct web_conn **head, struct web_conn *c)
{
	c->next = *head;
	if (c->next != NULL)
		c->next->pprev = &c->next;
	c->pprev = head;
	*head = c;
}

static void conn_unlink(struct web_conn *c)
{
	if (c->pprev == NULL)
		return;
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	c->next = NULL;
	c->pprev = NULL;
}

/* evhttp's close callback: the connection is going, its slot with it. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
	struct web_conn *c = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	conn_unlink(c);
	free(c);
}

static void refuse(struct lw_web *w)
{
	int64_t now = lw_time_mono_ns() / 1000000;
	char n[16];

	lw_api_count_refused(w->api);
	if (w->refused_logged_ms != 0 && now - w->refused_logged_ms < REFUSED_LOG_MS)
		return;
	w->refused_logged_ms = now;
	snprintf(n, sizeof(n), "%u", w->o.api.cfg->api.max_connections_per_source);
	lw_log(w->o.api.log, LW_LOG_WARNING, "web",
	       "connections from one address over api.max_connections_per_source: closed "
	       "at accept (logged at most once a minute)", "max", n, NULL);
}

/* The evhttp connection a pending bufferevent serves, or NULL when evhttp
 * has already freed it. libevent 2.1 has no accept hook in evhttp; when
 * it accepts, it starts reading with the connection as its bufferevent's
 * callback argument (http.c, evhttp_start_read_), which is checked
 * against the connection's own getters before it is used. */
static struct evhttp_connection *conn_of(struct lw_web *w, struct bufferevent *bev)
{
	bufferevent_data_cb readcb;
	void *arg = NULL;
	struct evhttp_connection *evcon;

	bufferevent_getcb(bev, &readcb, NULL, NULL, &arg);
	if (readcb == NULL || arg == NULL)
		return NULL; /* freed: bufferevent_free clears the callbacks */
	evcon = arg;
	if (evhttp_connection_get_bufferevent(evcon) != bev ||
	    evhttp_connection_get_server(evcon) != w->http)
		return NULL;
	return evcon;
}

/* Counts each connection accepted in this turn of the loop under its
 * address; one over the cap is closed before anything of it is read. */
static void on_check(evutil_socket_t unused, short what, void *arg)
{
	struct lw_web *w = arg;
	uint32_t cap = w->o.api.cfg->api.max_connections_per_source;

	(void)unused;
	(void)what;
	while (w->pending != NULL) {
		struct web_conn *c = w->pending, **bucket;
		struct evhttp_connection *evcon = conn_of(w, c->bev);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = evcon ? (int)bufferevent_getfd(c->bev) : -1;
		uint32_t n = 0;

		conn_unlink(c);
		bufferevent_decref(c->bev);
		c->bev = NULL;
		/* the socket's own peer, whatever libevent keeps of it */
		if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
			free(c);
			continue;
		}
		lw_ratelimit_key_of((struct sockaddr *)&ss, &c->key);
		bucket = &w->by_source[lw_ratelimit_key_hash(&c->key, w->seed) % CONN_BUCKETS];
		for (const struct web_conn *o = *bucket; o != NULL; o = o->next)
			n += memcmp(&o->key, &c->key, sizeof(c->key)) == 0;
		if (n >= cap) {
			free(c);
			refuse(w);
			evhttp_connection_free(evcon);
			continue;
		}
		conn_link(bucket, c);
		evhttp_connection_set_closecb(evcon, on_close, c);
	}
}

/* evhttp asks here for the bufferevent of each connection it accepts:
 * the connection waits in pending until on_check, later in the same turn
 * of the loop, once evhttp has set it up. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
	struct lw_web *w = arg;
	struct web_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (w->o.tls != NULL) {
		SSL *ssl = SSL_new((SSL_CTX *)w->o.tls);

		c->bev = ssl == NULL ? NULL
			: bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
							 BEV_OPT_CLOSE_ON_FREE);
	} else {
		c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (c->bev == NULL) {
		free(c);
		return NULL;
	}
	/* kept valid until on_check, whatever evhttp does with it before */
	bufferevent_incref(c->bev);
	conn_link(&w->pending, c);
	event_active(w->check_ev, EV_TIMEOUT, 1);
	return c->bev;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct lw_web *w = arg;
	char c;

	(void)what;
	(void)!read(fd, &c, 1);
	event_base_loopbreak(w->base);
}

static void *run(void *arg)
{
	struct lw_web *w = arg;

	/* Ingestion first: where the console and the writer share a core,
	 * the scheduler gives this thread about a tenth of it (nice 10 is
	 * per thread on Linux); with a core to spare it runs at full speed. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WEB_NICE) != 0)
		lw_log(w->o.api.log, LW_LOG_DEBUG, "web", "cannot lower the console thread's priority",
		       NULL);
	event_base_dispatch(w->base);
	return NULL;
}

/* "host:port" or "[v6]:port" into host and port. */
static int split_address(const char *a, char *host, size_t hlen, unsigned *port)
{
	const char *colon;
	char *end;
	unsigned long p;

	if (a[0] == '[') {
		const char *close = strchr(a, ']');

		if (close == NULL || close[1] != ':' || (size_t)(close - a - 1) >= hlen)
			return LW_EINVAL;
		memcpy(host, a + 1, (size_t)(close - a - 1));
		host[close - a - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL || (size_t)(colon - a) >= hlen)
			return LW_EINVAL;
		memcpy(host, a, (size_t)(colon - a));
		host[colon - a] = '\0';
	}
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p > 65535)
		return LW_EINVAL;
	*port = (unsigned)p;
	return LW_OK;
}

static void describe(struct lw_web *w, struct evhttp_bound_socket *sock)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	const char *scheme = w->o.tls ? "https" : "http";

	if (getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(w->bound, sizeof(w->bound), "api ?");
		return;
	}
	snprintf(w->bound, sizeof(w->bound), ss.ss_family == AF_INET6 ? "api %s://[%s]:%s"
		 : "api %s://%s:%s", scheme, host, port);
}

int lw_web_start(const struct lw_web_opts *o, struct lw_web **out, struct lw_diag *diag)
{
	struct lw_web *w = calloc(1, sizeof(*w));
	struct evhttp_bound_socket *sock;
	char host[128];
	unsigned port;
	int rc = LW_ENOMEM;

	*out = NULL;
	if (w == NULL)
		return LW_ENOMEM;
	w->o = *o;
	w->stop_fds[0] = w->stop_fds[1] = -1;
	if (split_address(o->address, host, sizeof(host), &port) != LW_OK) {
		rc = lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				 "api: address '%s' is not host:port", o->address);
		goto fail;
	}
	w->api = lw_api_new(&o->api);
	w->base = event_base_new();
	w->http = w->base ? evhttp_new(w->base) : NULL;
	if (w->api == NULL || w->http == NULL)
		goto fail;
	evhttp_set_gencb(w->http, on_request, w);
	evhttp_set_max_headers_size(w->http, MAX_HEADERS);
	evhttp_set_max_body_size(w->http, (ev_ssize_t)o->api.cfg->api.max_body_bytes);
	evhttp_set_timeout(w->http, TIMEOUT_S);
	/* the router answers what it does not serve with a JSON 405 */
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_PATCH);
	w->seed = lw_ratelimit_random_seed();
	w->check_ev = event_new(w->base, -1, 0, on_check, w);
	if (w->check_ev == NULL)
		goto fail;
	evhttp_set_bevcb(w->http, new_bev, w);
	sock = evhttp_bind_socket_with_handle(w->http, host, (ev_uint16_t)port);
	if (sock == NULL) {
		char ebuf[128];

		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "api: cannot listen on %s: %s",
				 o->address, strerror_r(errno, ebuf, sizeof(ebuf)));
		if (diag != NULL)
			diag->sys_errno = errno;
		goto fail;
	}
	describe(w, sock);
	if (pipe(w->stop_fds) != 0)
		goto fail;
	w->stop_ev = event_new(w->base, w->stop_fds[0], EV_READ, on_stop, w);
	if (w->stop_ev == NULL || event_add(w->stop_ev, NULL) != 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		goto fail;
	/* named, so top -H and bench/console can tell its CPU time apart */
	(void)pthread_setname_np(w->thread, "lw-web");
	w->started = 1;
	*out = w;
	return LW_OK;

fail:
	lw_web_stop(w);
	return rc;
}

void lw_web_describe(const struct lw_web *w, char *out, size_t len)
{
	snprintf(out, len, "%s", w->bound);
}

void lw_web_stop(struct lw_web *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		(void)!write(w->stop_fds[1], "x", 1);
		pthread_join(w->thread, NULL);
	}
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->check_ev != NULL)
		event_free(w->check_ev);
	while (w->pending != NULL) { /* accepted as the loop stopped */
		struct web_conn *c = w->pending;

		conn_unlink(c);
		bufferevent_decref(c->bev);
		free(c);
	}
	if (w->http != NULL)
		evhttp_free(w->http);
	if (w->base != NULL)
		event_base_free(w->base);
	if (w->stop_fds[0] >= 0)
		close(w->stop_fds[0]);
	if (w->stop_fds[1] >= 0)
		close(w->stop_fds[1]);
	lw_api_free(w->api);
	free(w);
}
