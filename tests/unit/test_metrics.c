/* Unit tests for collector/metrics: the table-driven naming, the
 * exposition text (every counter exactly once, one HELP/TYPE per family,
 * exact values) and the HTTP server's answers and limits over a real
 * loopback socket. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/health.h"
#include "collector/metrics.h"
#include "core/buf.h"
#include "core/counters.h"

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

Test(metrics, families_follow_the_counter_names)
{
	char name[96], value[64];
	const char *label;

	lw_metrics_family(LW_CTR_DROPPED_UDP, name, sizeof(name), &label, value, sizeof(value));
	cr_expect_str_eq(name, "lw_dropped_total");
	cr_expect_str_eq(label, "reason");
	cr_expect_str_eq(value, "udp");
	lw_metrics_family(LW_CTR_INCIDENTS_DROPPED, name, sizeof(name), &label, value, sizeof(value));
	cr_expect_str_eq(name, "lw_dropped_total");
	cr_expect_str_eq(value, "incidents");
	lw_metrics_family(LW_CTR_CONN_REFUSED, name, sizeof(name), &label, value, sizeof(value));
	cr_expect_str_eq(name, "lw_connections_total");
	cr_expect_str_eq(label, "event");
	cr_expect_str_eq(value, "refused");
	lw_metrics_family(LW_CTR_NOTIFY_FAILED, name, sizeof(name), &label, value, sizeof(value));
	cr_expect_str_eq(name, "lw_notify_total");
	cr_expect_str_eq(value, "failed");
	lw_metrics_family(LW_CTR_RECEIVED, name, sizeof(name), &label, value, sizeof(value));
	cr_expect_str_eq(name, "lw_received_total");
	cr_expect_null(label);
}

Test(metrics, every_counter_once_with_one_help_per_family)
{
	struct lw_counters c;
	struct lw_buf out;
	size_t samples = 0, nloss = 0;

	lw_counters_init(&c);
	lw_counters_add(&c, LW_CTR_DROPPED_UDP, 7);
	lw_counters_add(&c, LW_CTR_INCIDENTS_DROPPED, 2);
	lw_counters_add(&c, LW_CTR_RECEIVED, 12345);
	lw_buf_init(&out);
	lw_metrics_render(&c, NULL, &out);
	lw_buf_putc(&out, '\0');
	cr_assert(!out.oom);
	for (const char *p = out.data; *p; p = strchr(p, '\n') + 1)
		if (*p != '#')
			samples++;
	cr_expect_eq(samples, LW_CTR__COUNT);
	cr_expect(strstr(out.data, "\nlw_dropped_total{reason=\"udp\"} 7\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_dropped_total{reason=\"incidents\"} 2\n") != NULL);
	cr_expect(strncmp(out.data, "# HELP lw_received_total ", 25) == 0);
	cr_expect(strstr(out.data, "\nlw_received_total 12345\n") != NULL);
	cr_expect_eq(occurrences(out.data, "# TYPE lw_dropped_total counter\n"), 1);
	cr_expect_eq(occurrences(out.data, "# HELP lw_dropped_total "), 1);
	cr_expect_eq(occurrences(out.data, "# TYPE lw_connections_total counter\n"), 1);
	cr_expect_eq(occurrences(out.data, "# TYPE lw_notify_total counter\n"), 1);
	/* Every loss counter of the table, and nothing else, is a sample of
	 * lw_dropped_total, once, under its own reason. */
	for (int i = 0; i < LW_CTR__COUNT; i++) {
		char name[64], value[64], sample[160];
		const char *label;

		if (!lw_counter_is_loss((enum lw_counter)i))
			continue;
		nloss++;
		lw_metrics_family((enum lw_counter)i, name, sizeof(name), &label, value,
				  sizeof(value));
		snprintf(sample, sizeof(sample), "\nlw_dropped_total{reason=\"%s\"} ", value);
		cr_expect_eq(occurrences(out.data, sample), 1, "%s", sample + 1);
	}
	cr_expect_eq(occurrences(out.data, "lw_dropped_total{"), nloss);
	cr_expect_geq(nloss, 10); /* udp .. origin_gap: a loss counter demoted is a bug */
	lw_buf_release(&out);
}

Test(metrics, gauges_of_store_and_health)
{
	struct lw_counters c;
	struct lw_metrics_gauges g = {.have_store = 1, .segments = 4, .events = 900,
				      .clock_skew_hosts = 3, .hosts = 5, .map_bytes = 1048576,
				      .have_health = 1, .storage_failing = 1, .loss_episodes = 2};
	struct lw_buf out;

	lw_counters_init(&c);
	lw_buf_init(&out);
	lw_metrics_render(&c, &g, &out);
	lw_buf_putc(&out, '\0');
	cr_expect(strstr(out.data, "# TYPE lw_store_segments gauge\nlw_store_segments 4\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_store_events 900\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_clock_skew_hosts 3\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_hosts 5\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_store_map_bytes 1048576\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_storage_failing 1\n") != NULL);
	cr_expect(strstr(out.data, "\nlw_loss_episodes 2\n") != NULL);
	lw_buf_release(&out);
}

/* ---- the server over loopback ---- */

static int port_of(struct lw_metrics *m)
{
	char d[160];

	lw_metrics_describe(m, d, sizeof(d));
	return atoi(strrchr(d, ':') + 1);
}

static int dial(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends req, reads the whole answer into out (until EOF). */
static void exchange(int port, const char *req, size_t req_len, char *out, size_t outlen)
{
	int fd = dial(port);
	size_t got = 0;
	ssize_t n;

	cr_assert_eq(send(fd, req, req_len, MSG_NOSIGNAL), (ssize_t)req_len);
	while (got + 1 < outlen && (n = recv(fd, out + got, outlen - 1 - got, 0)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
}

static struct lw_counters sc;
static struct lw_metrics *srv;

static void srv_setup(void)
{
	lw_counters_init(&sc);
	lw_counters_add(&sc, LW_CTR_STORED, 42);
	cr_assert_eq(lw_metrics_start(&(struct lw_metrics_opts){.address = "127.0.0.1:0",
					.counters = &sc}, &srv, NULL), LW_OK);
}

static void srv_teardown(void)
{
	lw_metrics_stop(srv);
}

TestSuite(metrics_http, .init = srv_setup, .fini = srv_teardown);

Test(metrics_http, get_metrics_is_the_exposition)
{
	static char resp[65536];
	const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

	exchange(port_of(srv), req, strlen(req), resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", resp);
	cr_expect(strstr(resp, "Content-Type: text/plain; version=0.0.4") != NULL);
	cr_expect(strstr(resp, "\nlw_stored_total 42\n") != NULL);
	req = "GET /metrics?x=1 HTTP/1.0\n\n"; /* bare LF and a query string */
	exchange(port_of(srv), req, strlen(req), resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
}

Test(metrics_http, other_methods_paths_and_big_requests_are_refused)
{
	static char resp[65536], big[LW_METRICS_MAX_REQUEST + 100];
	const char *req = "POST /metrics HTTP/1.1\r\n\r\n";

	exchange(port_of(srv), req, strlen(req), resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 405 ", 13) == 0, "%s", resp);
	cr_expect(strstr(resp, "Allow: GET\r\n") != NULL);
	req = "GET /metricsx HTTP/1.1\r\n\r\n";
	exchange(port_of(srv), req, strlen(req), resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 404 ", 13) == 0, "%s", resp);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	exchange(port_of(srv), big, LW_METRICS_MAX_REQUEST, resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 431 ", 13) == 0, "%s", resp);
}

static int dial_from(int port, const char *src)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr_in me = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0);
	cr_assert_eq(inet_pton(AF_INET, src, &me.sin_addr), 1);
	cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void exchange_from(int port, const char *src, char *out, size_t outlen)
{
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";
	int fd = dial_from(port, src);
	struct timeval tv = {3, 0};
	size_t got = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	while (got + 1 < outlen && (n = recv(fd, out + got, outlen - 1 - got, 0)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
}

/* The security review: 16 idle clients held every slot (8 at once, 5 s
 * each) and a scraper was closed at accept. Now a new connection takes
 * the slot of the oldest idle one (of its own address first), so
 * scrapers are served whoever holds the slots. */
Test(metrics_http, idle_connections_cannot_starve_a_scraper)
{
	static char resp[65536];
	int idle[4 * LW_METRICS_MAX_CLIENTS];
	size_t n = 0;

	for (int i = 0; i < 2 * LW_METRICS_MAX_CLIENTS; i++) {
		idle[n++] = dial_from(port_of(srv), "127.0.0.1");
		idle[n++] = dial_from(port_of(srv), "127.0.0.2");
	}
	usleep(200 * 1000); /* let the server accept them all */
	exchange_from(port_of(srv), "127.0.0.1", resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "same address as idle ones: '%.40s'", resp);
	exchange_from(port_of(srv), "127.0.0.3", resp, sizeof(resp));
	cr_expect(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "another address: '%.40s'", resp);
	cr_expect_geq(lw_counters_get(&sc, LW_CTR_METRICS_IDLE_CLOSED),
		      n - LW_METRICS_MAX_CLIENTS);
	for (size_t i = 0; i < n; i++)
		close(idle[i]);
}

Test(metrics_http, a_connection_without_a_request_is_closed_after_the_head_timeout)
{
	struct timeval tv = {(LW_METRICS_HEAD_TIMEOUT_MS + 800) / 1000,
			     (LW_METRICS_HEAD_TIMEOUT_MS + 800) % 1000 * 1000};
	int fd = dial(port_of(srv));
	char b;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_expect_eq(recv(fd, &b, 1, 0), 0, "closed within the head timeout");
	cr_expect_eq(lw_counters_get(&sc, LW_CTR_METRICS_IDLE_CLOSED), 1);
	close(fd);
}
