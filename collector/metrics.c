/* collector/metrics.c - Prometheus exposition and its small HTTP server
 * (prefix lw_metrics). See metrics.h for the naming rule and the limits.
 */
#include "collector/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "collector/health.h"
#include "collector/listener.h"
#include "core/ratelimit.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "store/store.h"

/* Families whose members differ by one label: counter "<prefix>X" is
 * sample {<label>="X"} of <metric>. Loss counters are matched first and
 * all go to lw_dropped_total, so one query shows every loss. */
static const struct {
	const char *prefix, *metric, *label, *help;
} families[] = {
	{"connections_", "lw_connections_total", "event",
	 "Stream connections accepted, refused and closed idle."},
	{"notify_", "lw_notify_total", "result",
	 "Incident notifications sent, failed attempts and retries."},
	{"incidents_", "lw_incidents_total", "change",
	 "Incidents created and firings merged into open incidents."},
};

#define DROPPED_METRIC "lw_dropped_total"
#define DROPPED_HELP "Data lost, by reason (see docs/observability.md); any increase is loss."

void lw_metrics_family(enum lw_counter id, char *name, size_t name_len,
		       const char **label_name, char *value, size_t value_len)
{
	const char *n = lw_counter_name(id);
	size_t len = strlen(n);

	*label_name = NULL;
	if (lw_counter_is_loss(id)) {
		snprintf(name, name_len, "%s", DROPPED_METRIC);
		*label_name = "reason";
		if (strncmp(n, "dropped_", 8) == 0)
			snprintf(value, value_len, "%s", n + 8);
		else
			snprintf(value, value_len, "%.*s", (int)(len - 8), n);
		return;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		size_t pl = strlen(families[i].prefix);

		if (len > pl && strncmp(n, families[i].prefix, pl) == 0) {
			snprintf(name, name_len, "%s", families[i].metric);
			*label_name = families[i].label;
			snprintf(value, value_len, "%s", n + pl);
			return;
		}
	}
	snprintf(name, name_len, "lw_%s_total", n);
}

static const char *family_help(const char *metric, enum lw_counter id)
{
	if (strcmp(metric, DROPPED_METRIC) == 0)
		return DROPPED_HELP;
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (strcmp(metric, families[i].metric) == 0)
			return families[i].help;
	return lw_counter_help(id);
}

static void gauge(struct lw_buf *out, const char *name, const char *help, uint64_t v)
{
	lw_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help,
		      name, name, (unsigned long long)v);
}

/* Labelled counters ("regex_limit_hits.RULE"): one family, a sample per
 * label. Labels hold [A-Za-z0-9_.:-] only, so they need no escaping. */
static void labelled(const struct lw_counters *c, struct lw_buf *out)
{
	static const char fam[] = LW_COUNTERS_FAMILY_REGEX_LIMIT ".";
	uint32_t k = atomic_load_explicit(&c->nlabelled, memory_order_acquire);

	if (k == 0)
		return;
	lw_buf_puts(out, "# HELP lw_rule_regex_limit_hits_total Pattern matches of one rule "
		    "stopped by the pcre2 match limit (taken as no match).\n"
		    "# TYPE lw_rule_regex_limit_hits_total counter\n");
	for (uint32_t j = 0; j < k; j++) {
		const struct lw_counters_labelled *l = &c->labelled[j];

		if (strncmp(l->name, fam, sizeof(fam) - 1) != 0)
			continue;
		lw_buf_printf(out, "lw_rule_regex_limit_hits_total{rule=\"%s\"} %llu\n",
			      l->name + sizeof(fam) - 1,
			      (unsigned long long)atomic_load_explicit(&l->v, memory_order_relaxed));
	}
}

/* A Prometheus label value: backslash, quote and line feed escaped. */
static void label_value(struct lw_buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' || s[i] == '"')
			lw_buf_putc(out, '\\');
		if (s[i] == '\n') {
			lw_buf_puts(out, "\\n");
			continue;
		}
		lw_buf_putc(out, s[i]);
	}
}

/* The per-rule correlation families from the counts text (one line per
 * rule: label, evicted, not_admitted, groups, live, bytes, tab
 * separated). Each family is one walk over the text. */
static void render_correlation(const char *text, size_t len, struct lw_buf *out)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{"lw_correlation_evicted_total", "counter",
		 "Live correlation groups shed to make room (detection degraded), by rule."},
		{"lw_correlation_not_admitted_total", "counter",
		 "Events whose new correlation group found no room (correlation.memory), by rule."},
		{"lw_correlation_groups", "gauge",
		 "Correlation groups held, live and expired, by rule."},
		{"lw_correlation_live_groups", "gauge",
		 "Correlation groups whose window has not passed, by rule."},
		{"lw_correlation_bytes", "gauge",
		 "Bytes of correlation window state, by rule (all of it counts against correlation.memory)."},
	};

	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		const char *p = text, *end = text + len;

		lw_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name,
			      fam[f].help, fam[f].name, fam[f].type);
		while (p < end) {
			struct lw_correlation_stats_line l;
			uint64_t v[5];

			p = lw_correlation_stats_next(p, end, &l);
			if (!l.ok)
				continue;
			v[0] = l.evicted;
			v[1] = l.not_admitted;
			v[2] = l.groups;
			v[3] = l.live;
			v[4] = l.bytes;
			lw_buf_printf(out, "%s{rule=\"", fam[f].name);
			label_value(out, l.label, l.label_len);
			lw_buf_printf(out, "\"} %llu\n", (unsigned long long)v[f]);
		}
	}
}

void lw_metrics_render(const struct lw_counters *c, const struct lw_metrics_gauges *g,
		       struct lw_buf *out)
{
	uint8_t done[LW_CTR__COUNT] = {0};

	/* A family's samples must be contiguous, after one HELP and TYPE;
	 * its counters need not be neighbours in the enum. */
	for (int i = 0; i < LW_CTR__COUNT; i++) {
		char name[96], value[64];
		const char *label;

		if (done[i])
			continue;
		lw_metrics_family((enum lw_counter)i, name, sizeof(name), &label,
				  value, sizeof(value));
		lw_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name,
			      family_help(name, (enum lw_counter)i), name);
		for (int j = i; j < LW_CTR__COUNT; j++) {
			char jname[96], jvalue[64];
			const char *jlabel;

			lw_metrics_family((enum lw_counter)j, jname, sizeof(jname), &jlabel,
					  jvalue, sizeof(jvalue));
			if (strcmp(jname, name) != 0)
				continue;
			done[j] = 1;
			if (jlabel != NULL)
				lw_buf_printf(out, "%s{%s=\"%s\"} %llu\n", jname, jlabel, jvalue,
					      (unsigned long long)lw_counters_get(c, (enum lw_counter)j));
			else
				lw_buf_printf(out, "%s %llu\n", jname,
					      (unsigned long long)lw_counters_get(c, (enum lw_counter)j));
		}
	}
	labelled(c, out);
	if (g != NULL && g->have_store) {
		gauge(out, "lw_store_segments", "Segments in the store.", g->segments);
		gauge(out, "lw_store_events", "Events in the store.", g->events);
		gauge(out, "lw_store_event_bytes",
		      "Size of the stored events as syslog text.", g->text_bytes);
		gauge(out, "lw_store_stored_bytes",
		      "Bytes of stored segments (compressed, with headers).", g->stored_bytes);
		if (g->map_bytes > 0)
			gauge(out, "lw_store_map_bytes",
			      "Current LMDB map size (grows when the map is full).", g->map_bytes);
		gauge(out, "lw_hosts", "Hosts with stored events.", g->hosts);
		gauge(out, "lw_clock_skew_hosts",
		      "Hosts with at least one event flagged for clock skew.", g->clock_skew_hosts);
	}
	if (g != NULL && g->have_forward) {
		gauge(out, "lw_forward_in_flight",
		      "Messages the edge published and the stream has not acknowledged yet.",
		      g->forward_in_flight);
		gauge(out, "lw_forward_lag_events",
		      "Events stored at the edge and not yet acknowledged by the stream.",
		      g->forward_lag_events);
		gauge(out, "lw_forward_lag_seconds",
		      "Age of the oldest event not yet acknowledged by the stream (0 = none).",
		      g->forward_lag_seconds > 0 ? (uint64_t)g->forward_lag_seconds : 0);
		gauge(out, "lw_forward_connected",
		      "1 while the edge is connected to a NATS server.",
		      (uint64_t)g->forward_connected);
	}
	if (g != NULL && g->have_consumer)
		gauge(out, "lw_consumer_lag_messages",
		      "Messages the stream still holds for this central node's consumer.",
		      g->consumer_lag);
	if (g != NULL && g->have_health) {
		gauge(out, "lw_storage_failing",
		      "1 while commits fail (disk full, I/O error): intake is paused.",
		      (uint64_t)g->storage_failing);
		gauge(out, "lw_loss_episodes",
		      "Drop counters currently in a persistent-loss episode.", g->loss_episodes);
		gauge(out, "lw_correlation_shedding_rules",
		      "Correlation rules currently shedding groups (memory full).",
		      g->shedding_rules);
	}
	if (g != NULL && g->corr != NULL)
		render_correlation(g->corr, g->corr_len, out);
}

static int on_name(enum lw_store_name_kind kind, struct lw_str name, uint64_t events,
		   uint64_t skew, void *arg)
{
	struct lw_metrics_gauges *g = arg;

	(void)name;
	(void)events;
	if (kind != LW_STORE_HOST)
		return 1; /* hosts come first: the rest is not needed */
	g->hosts++;
	if (skew > 0)
		g->clock_skew_hosts++;
	return 0;
}

int lw_metrics_read_store(struct lw_store_reader *rd, struct lw_metrics_gauges *g,
			  struct lw_diag *diag)
{
	struct lw_store_head h;
	int rc = lw_store_reader_head(rd, &h, diag);

	if (rc != LW_OK)
		return rc;
	g->segments = h.segments;
	g->events = h.events;
	g->stored_bytes = h.stored_bytes;
	g->text_bytes = h.text_bytes;
	g->hosts = g->clock_skew_hosts = 0;
	rc = lw_store_reader_names(rd, on_name, g, diag);
	if (rc != LW_OK && rc != 1)
		return rc;
	g->have_store = 1;
	return LW_OK;
}

/* ---- the server ------------------------------------------------------- */

struct client {
	int fd;                 /* -1 = free slot */
	size_t len;
	int64_t deadline_ms;
	uint64_t seq;           /* accept order: the oldest goes first */
	struct lw_ratelimit_key source;
	char req[LW_METRICS_MAX_REQUEST];
};

struct lw_metrics {
	struct lw_counters *counters;
	uint64_t accepted;
	struct lw_health *health;
	void (*relay_gauges)(void *arg, struct lw_metrics_gauges *g);
	void *relay_arg;
	int lfd;
	int stop_pipe[2];
	pthread_t thread;
	int started;
	char bound[160];
	struct client clients[LW_METRICS_MAX_CLIENTS];
	struct lw_buf body, resp, corr;
};

static void client_close(struct client *cl)
{
	if (cl->fd >= 0)
		close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

/* Writes all of buf within the client's deadline (the socket is
 * non-blocking: wait for POLLOUT between partial writes). */
static void send_all(struct client *cl, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(cl->fd, buf, len, MSG_NOSIGNAL);
		int64_t left = cl->deadline_ms - lw_time_mono_ms();
		struct pollfd pfd = {.fd = cl->fd, .events = POLLOUT};

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return;
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
	}
}

static void respond(struct lw_metrics *m, struct client *cl, const char *status,
		    const char *ctype, const char *body, size_t body_len)
{
	lw_buf_reset(&m->resp);
	lw_buf_printf(&m->resp,
		      "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Connection: close\r\n%s\r\n",
		      status, ctype, body_len,
		      strncmp(status, "405", 3) == 0 ? "Allow: GET\r\n" : "");
	if (!m->resp.oom)
		send_all(cl, m->resp.data, m->resp.len);
	send_all(cl, body, body_len);
}

static void render_live(struct lw_metrics *m)
{
	struct lw_metrics_gauges g;

	memset(&g, 0, sizeof(g));
	lw_buf_reset(&m->corr);
	if (m->health != NULL) {
		lw_health_gauges(m->health, &g);
		lw_health_correlation_text(m->health, &m->corr);
		if (m->corr.len > 0 && !m->corr.oom) {
			g.corr = m->corr.data;
			g.corr_len = m->corr.len;
		}
	}
	if (m->relay_gauges != NULL)
		m->relay_gauges(m->relay_arg, &g);
	lw_buf_reset(&m->body);
	lw_metrics_render(m->counters, &g, &m->body);
}

static void text(struct lw_metrics *m, struct client *cl, const char *status)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", status);

	respond(m, cl, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* A complete request head is in cl->req: answer it and close. */
static void handle(struct lw_metrics *m, struct client *cl)
{
	char *sp1 = memchr(cl->req, ' ', cl->len), *sp2, *q;
	size_t target_len;

	if (sp1 == NULL) {
		text(m, cl, "400 Bad Request");
		return;
	}
	if ((size_t)(sp1 - cl->req) != 3 || memcmp(cl->req, "GET", 3) != 0) {
		text(m, cl, "405 Method Not Allowed");
		return;
	}
	sp2 = memchr(sp1 + 1, ' ', cl->len - (size_t)(sp1 + 1 - cl->req));
	if (sp2 == NULL) {
		text(m, cl, "400 Bad Request");
		return;
	}
	target_len = (size_t)(sp2 - sp1 - 1);
	q = memchr(sp1 + 1, '?', target_len); /* a query string is ignored */
	if (q != NULL)
		target_len = (size_t)(q - sp1 - 1);
	if (target_len != 8 || memcmp(sp1 + 1, "/metrics", 8) != 0) {
		text(m, cl, "404 Not Found");
		return;
	}
	render_live(m);
	cl->deadline_ms = lw_time_mono_ms() + LW_METRICS_SEND_TIMEOUT_MS;
	if (m->body.oom) {
		text(m, cl, "503 Service Unavailable");
		return;
	}
	respond(m, cl, "200 OK", "text/plain; version=0.0.4; charset=utf-8",
		m->body.data, m->body.len);
}

static int head_complete(const struct client *cl)
{
	for (size_t i = 0; i + 1 < cl->len; i++) {
		if (cl->req[i] == '\n' && cl->req[i + 1] == '\n')
			return 1;
		if (i + 3 < cl->len && memcmp(cl->req + i, "\r\n\r\n", 4) == 0)
			return 1;
	}
	return 0;
}

static void client_read(struct lw_metrics *m, struct client *cl)
{
	ssize_t n = recv(cl->fd, cl->req + cl->len, sizeof(cl->req) - cl->len, 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	if (head_complete(cl)) {
		handle(m, cl);
		client_close(cl);
	} else if (cl->len == sizeof(cl->req)) {
		text(m, cl, "431 Request Header Fields Too Large");
		client_close(cl);
	}
}

/* The slot for a new connection from source: a free one, else the
 * oldest of that source when it has its share, else the oldest of all
 * (closed, counted). A connection past its request head is being
 * answered and never waits here, so every slot holds one that has not
 * sent a complete request. */
static struct client *slot_for(struct lw_metrics *m, const struct lw_ratelimit_key *source)
{
	struct client *free_slot = NULL, *oldest = NULL, *oldest_same = NULL;
	size_t same = 0;

	for (size_t i = 0; i < LW_METRICS_MAX_CLIENTS; i++) {
		struct client *cl = &m->clients[i];

		if (cl->fd < 0) {
			if (free_slot == NULL)
				free_slot = cl;
			continue;
		}
		if (oldest == NULL || cl->seq < oldest->seq)
			oldest = cl;
		if (memcmp(&cl->source, source, sizeof(*source)) != 0)
			continue;
		same++;
		if (oldest_same == NULL || cl->seq < oldest_same->seq)
			oldest_same = cl;
	}
	if (same >= LW_METRICS_MAX_PER_SOURCE)
		oldest = oldest_same;
	else if (free_slot != NULL)
		return free_slot;
	lw_counters_add(m->counters, LW_CTR_METRICS_IDLE_CLOSED, 1);
	client_close(oldest);
	return oldest;
}

static void accept_one(struct lw_metrics *m)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct lw_ratelimit_key source;
	struct client *cl;
	int fd = accept4(m->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	lw_ratelimit_key_of((struct sockaddr *)&ss, &source);
	cl = slot_for(m, &source);
	cl->fd = fd;
	cl->len = 0;
	cl->seq = ++m->accepted;
	cl->source = source;
	cl->deadline_ms = lw_time_mono_ms() + LW_METRICS_HEAD_TIMEOUT_MS;
}

static void *server_main(void *arg)
{
	struct lw_metrics *m = arg;
	struct pollfd pfd[2 + LW_METRICS_MAX_CLIENTS];

	for (;;) {
		int64_t now = lw_time_mono_ms(), wait = LW_METRICS_HEAD_TIMEOUT_MS;
		size_t n = 2, slot[LW_METRICS_MAX_CLIENTS];

		pfd[0] = (struct pollfd){.fd = m->stop_pipe[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = m->lfd, .events = POLLIN};
		for (size_t i = 0; i < LW_METRICS_MAX_CLIENTS; i++) {
			struct client *cl = &m->clients[i];

			if (cl->fd < 0)
				continue;
			if (now >= cl->deadline_ms) {
				/* Counted first: whoever sees the close sees the count. */
				lw_counters_add(m->counters, LW_CTR_METRICS_IDLE_CLOSED, 1);
				client_close(cl); /* too slow: drop it */
				continue;
			}
			if (cl->deadline_ms - now < wait)
				wait = cl->deadline_ms - now;
			slot[n - 2] = i;
			pfd[n++] = (struct pollfd){.fd = cl->fd, .events = POLLIN};
		}
		if (poll(pfd, n, (int)wait) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		for (size_t k = 2; k < n; k++)
			if (pfd[k].revents != 0)
				client_read(m, &m->clients[slot[k - 2]]);
		if (pfd[1].revents & POLLIN)
			accept_one(m);
	}
	return NULL;
}

static void destroy(struct lw_metrics *m)
{
	for (size_t i = 0; i < LW_METRICS_MAX_CLIENTS; i++)
		client_close(&m->clients[i]);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->stop_pipe[0] >= 0)
		close(m->stop_pipe[0]);
	if (m->stop_pipe[1] >= 0)
		close(m->stop_pipe[1]);
	lw_buf_release(&m->body);
	lw_buf_release(&m->corr);
	lw_buf_release(&m->resp);
	free(m);
}

static void describe_bound(struct lw_metrics *m)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getsockname(m->lfd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port,
			sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(m->bound, sizeof(m->bound), "metrics ?");
		return;
	}
	snprintf(m->bound, sizeof(m->bound), ss.ss_family == AF_INET6 ?
		 "metrics [%s]:%s" : "metrics %s:%s", host, port);
}

static int bind_listen(struct lw_metrics *m, const char *address, struct lw_diag *diag)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, rc;
	char ebuf[128];

	rc = lw_listener_resolve(address, SOCK_STREAM, &ss, &sl, diag);
	if (rc != LW_OK)
		return rc;
	m->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0 ||
	    setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(m->lfd, (struct sockaddr *)&ss, sl) != 0 || listen(m->lfd, 16) != 0) {
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "metrics: cannot listen on %s: %s",
				 address, strerror_r(errno, ebuf, sizeof(ebuf)));
		if (diag != NULL)
			diag->sys_errno = errno;
		return rc;
	}
	describe_bound(m);
	return LW_OK;
}

int lw_metrics_start(const struct lw_metrics_opts *opts, struct lw_metrics **out,
		     struct lw_diag *diag)
{
	struct lw_metrics *m = calloc(1, sizeof(*m));
	char ebuf[128];
	int rc;

	*out = NULL;
	if (m == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "metrics: out of memory");
	m->lfd = m->stop_pipe[0] = m->stop_pipe[1] = -1;
	for (size_t i = 0; i < LW_METRICS_MAX_CLIENTS; i++)
		m->clients[i].fd = -1;
	m->counters = opts->counters;
	m->health = opts->health;
	m->relay_gauges = opts->relay_gauges;
	m->relay_arg = opts->relay_arg;
	lw_buf_init(&m->body);
	lw_buf_init(&m->corr);
	lw_buf_init(&m->resp);
	rc = bind_listen(m, opts->address, diag);
	if (rc == LW_OK && pipe2(m->stop_pipe, O_CLOEXEC) != 0)
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "metrics: pipe: %s",
				 strerror_r(errno, ebuf, sizeof(ebuf)));
	if (rc == LW_OK && pthread_create(&m->thread, NULL, server_main, m) != 0)
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "metrics: cannot start its thread");
	if (rc != LW_OK) {
		destroy(m);
		return rc;
	}
	m->started = 1;
	*out = m;
	return LW_OK;
}

void lw_metrics_describe(const struct lw_metrics *m, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", m->bound);
}

void lw_metrics_stop(struct lw_metrics *m)
{
	if (m == NULL)
		return;
	if (m->started) {
		ssize_t w = write(m->stop_pipe[1], "x", 1);

		(void)w; /* a full pipe also wakes the thread */
		pthread_join(m->thread, NULL);
	}
	destroy(m);
}
