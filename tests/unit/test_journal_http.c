/* tests/unit/test_journal_http.c - the journal-http source over real
 * loopback sockets, driven by one thread: the test writes a request, then
 * turns the event loop until the whole answer is back. Exact answers
 * (status and body), exact entries, backpressure, allow and
 * max_connections. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/source.h"
#include "core/cidr.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/log.h"

struct rec {
	int n, full, stalled;
	char msg[32][64];
	char zone[16];
};

static struct event_base *base;
static struct lw_config *cfg;
static struct lw_counters counters;
static struct lw_log logger;
static struct lw_source *h;
static struct rec rec;
static int port;

static int on_entry(void *arg, const struct lw_journal_entry *e,
		    const struct lw_listener_src *src, int64_t now_ns)
{
	struct rec *r = arg;

	(void)now_ns;
	if (r->full)
		return LW_EFULL;
	cr_assert_lt(r->n, 32);
	snprintf(r->zone, sizeof(r->zone), "%.*s", (int)src->zone_len, src->zone);
	r->msg[r->n][0] = '\0';
	for (uint32_t i = 0; i < e->nfields; i++)
		if (e->fields[i].name_len == 7 && memcmp(e->fields[i].name, "MESSAGE", 7) == 0)
			snprintf(r->msg[r->n], 64, "%.*s", (int)e->fields[i].value_len,
				 e->fields[i].value);
	r->n++;
	return LW_OK;
}

static void on_stalled(void *arg)
{
	((struct rec *)arg)->stalled++;
}

/* Opens the listener with the listener config adjusted by tweak. */
static void start(void (*tweak)(struct lw_listener_config *))
{
	struct lw_listener_config *lc;
	struct lw_diag diag;
	char desc[200];
	const char *colon;

	cfg = calloc(1, sizeof(*cfg));
	lw_config_defaults(cfg);
	lc = &cfg->listeners[0];
	lc->type = LW_LISTENER_JOURNAL_HTTP;
	snprintf(lc->address, sizeof(lc->address), "127.0.0.1:0");
	snprintf(lc->zone, sizeof(lc->zone), "mynumber");
	lc->max_message_bytes = 4096;
	if (tweak)
		tweak(lc);
	cfg->nlisteners = 1;
	lw_counters_init(&counters);
	lw_log_init(&logger, stderr, LW_LOG_ERR);
	memset(&rec, 0, sizeof(rec));
	base = event_base_new();
	cr_assert_not_null(base);
	struct lw_source_env env = {.base = base, .cfg = cfg, .lc = lc, .log = &logger,
				    .counters = &counters,
				    .sink = {.entry = on_entry, .stalled = on_stalled, .arg = &rec}};
	cr_assert_eq(lw_source_open(&env, &h, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_source_start(h), LW_OK);
	lw_source_describe(h, desc, sizeof(desc));
	cr_assert_eq(strncmp(desc, "journal-http 127.0.0.1:", 23), 0, "%s", desc);
	colon = strrchr(desc, ':');
	cr_assert_not_null(colon);
	port = atoi(colon + 1);
}

static void stop(void)
{
	lw_source_close(h);
	event_base_free(base);
	free(cfg);
}

static int dial(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static void put(int fd, const char *s, size_t n)
{
	cr_assert_eq(write(fd, s, n), (ssize_t)n);
}

/* Turns the loop until one whole answer (head + Content-Length body) or
 * EOF arrived; returns it ("" on EOF). */
static const char *answer_within(int fd, int spins)
{
	static char buf[4096];
	size_t len = 0;

	for (int spin = 0; spin < spins; spin++) {
		struct pollfd p = {fd, POLLIN, 0};
		char *end;

		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 2) == 1) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = '\0';
		}
		end = strstr(buf, "\r\n\r\n");
		if (len > 0 && end != NULL) {
			const char *cl = strstr(buf, "Content-Length: ");
			size_t want = (size_t)(end + 4 - buf) + (cl ? (size_t)atoi(cl + 16) : 0);
			if (len >= want)
				return buf;
		}
	}
	buf[len] = '\0';
	return buf;
}

static const char *answer(int fd)
{
	return answer_within(fd, 2000);
}

#define JTYPE "Content-Type: application/vnd.fdo.journal\r\n"
#define TWO "MESSAGE=one\n_HOSTNAME=h\n\nMESSAGE\n\x05\0\0\0\0\0\0\0a\n\nb\n\n\n"
#define TWO_LEN 48

Test(jhttp, keepalive_content_length_then_chunked_with_100_continue)
{
	static const char req1[] = "POST /upload HTTP/1.1\r\nHost: x\r\n" JTYPE
				   "Content-Length: 48\r\n\r\n";
	static const char req2[] = "POST /upload HTTP/1.1\r\n" JTYPE
				   "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
	int fd;

	start(NULL);
	fd = dial();
	put(fd, req1, sizeof(req1) - 1);
	put(fd, TWO, TWO_LEN);
	cr_assert_str_eq(answer(fd), "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n"
				     "Content-Length: 4\r\n\r\nOK.\n");
	cr_assert_eq(rec.n, 2);
	cr_expect_str_eq(rec.msg[0], "one");
	cr_expect_str_eq(rec.msg[1], "a\n\nb\n");
	cr_expect_str_eq(rec.zone, "mynumber");

	put(fd, req2, sizeof(req2) - 1);
	cr_assert_str_eq(answer(fd), "HTTP/1.1 100 Continue\r\n\r\n");
	/* Chunks cut inside a field and inside the binary length. */
	put(fd, "7\r\nMESSAGE\r\n", 12);
	put(fd, "1e\r\n=three\n_HOSTNAME=h\n\nMESSAGE\n\x02\0\r\n", 36);
	put(fd, "9\r\n\0\0\0\0\0\0xy\n\r\n1;ext=1\r\n\n\r\n0\r\nX-Trailer: t\r\n\r\n", 45);
	cr_assert_str_eq(answer(fd), "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n"
				     "Content-Length: 4\r\n\r\nOK.\n");
	cr_assert_eq(rec.n, 4);
	cr_expect_str_eq(rec.msg[2], "three");
	cr_expect_str_eq(rec.msg[3], "xy");
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CONN_ACCEPTED), 1);
	close(fd);
	stop();
}

static void small_body(struct lw_listener_config *lc)
{
	lc->max_body_bytes = 100;
}

Test(jhttp, answers_like_systemd_journal_remote)
{
	static const struct { const char *req; const char *status, *body; } cases[] = {
		{"GET /upload HTTP/1.1\r\n\r\n", "406 Not Acceptable", "Unsupported method.\n"},
		{"POST /x HTTP/1.1\r\n" JTYPE "Content-Length: 0\r\n\r\n", "404 Not Found", "Not found.\n"},
		{"POST /upload HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n", "415 Unsupported Media Type",
		 "Content-Type: application/vnd.fdo.journal is required.\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Transfer-Encoding: gzip\r\n\r\n", "400 Bad Request",
		 "Unsupported Transfer-Encoding type: gzip\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		 "400 Bad Request", "Content-Length not allowed when Transfer-Encoding type is 'chunked'\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Content-Length: x1\r\n\r\n", "411 Length Required",
		 "Content-Length: x1 cannot be parsed.\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Content-Length: 101\r\n\r\n", "413 Payload Too Large",
		 "Payload larger than maximum size of 100 bytes\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Transfer-Encoding: chunked\r\n\r\n65\r\n", "413 Payload Too Large",
		 "Payload larger than maximum size of 100 bytes\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Content-Length: 9\r\n\r\nMESSAGE=x", "417 Expectation Failed",
		 "Premature EOF. entry cut off at end of stream: 9 bytes not stored (byte 0).\n"},
		{"POST /upload HTTP/1.1\r\n" JTYPE "Content-Length: 16\r\n\r\nA=1\n\nMESSAGE x\n\n", "400 Bad Request",
		 "Malformed journal entry: invalid character 0x20 in a field name (byte 12).\n"},
		{"HELLO\r\n\r\n", "400 Bad Request", "Malformed HTTP request.\n"},
	};

	start(small_body);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];
		int fd = dial();

		put(fd, cases[i].req, strlen(cases[i].req));
		snprintf(want, sizeof(want),
			 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 cases[i].status, strlen(cases[i].body), cases[i].body);
		cr_expect_str_eq(answer(fd), want, "case %zu", i);
		close(fd);
	}
	/* The malformed body's entry before the fault was kept. */
	cr_expect_eq(rec.n, 1);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_FRAMING_ERRORS), 3);
	stop();
}

Test(jhttp, refused_entry_stalls_then_resume_delivers_it)
{
	static const char req[] = "POST /upload HTTP/1.1\r\n" JTYPE "Content-Length: 48\r\n\r\n";
	const char *a;
	int fd;

	start(NULL);
	fd = dial();
	rec.full = 1;
	put(fd, req, sizeof(req) - 1);
	put(fd, TWO, TWO_LEN);
	a = answer_within(fd, 100); /* nothing comes: the entry is held */
	cr_assert_str_eq(a, "");
	cr_assert_eq(rec.stalled, 1);
	cr_assert_eq(rec.n, 0);
	lw_source_pause(h);
	cr_assert_eq(lw_source_resume(h), LW_EFULL, "still no batch");
	rec.full = 0;
	cr_assert_eq(lw_source_resume(h), LW_OK);
	cr_assert_eq(rec.n, 2);
	cr_expect_str_eq(rec.msg[1], "a\n\nb\n");
	cr_assert_str_eq(answer(fd), "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n"
				     "Content-Length: 4\r\n\r\nOK.\n");
	close(fd);
	stop();
}

static void one_per_second(struct lw_listener_config *lc)
{
	lc->rate_limit.events_per_second = 1;
	lc->rate_limit.burst = 1;
	lc->rate_limit.max_sources = 64;
}

/* An entry held for a full sink that is over its source's rate limit
 * once the sink has room: resume goes on (LW_EFULL would keep every
 * listener paused with no batch request left to resume them), the
 * connection waits for its own timer, then its entries and a second
 * request on the same connection are served. */
Test(jhttp, held_entry_over_the_rate_limit_does_not_keep_listeners_paused)
{
	static const char req[] = "POST /upload HTTP/1.1\r\n" JTYPE "Content-Length: 22\r\n\r\n"
		"MESSAGE=a\n\nMESSAGE=b\n\n";
	static const char ok[] = "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\n"
		"Content-Length: 4\r\n\r\nOK.\n";
	int fd;

	start(one_per_second);
	fd = dial();
	rec.full = 1;
	put(fd, req, sizeof(req) - 1);
	cr_assert_str_eq(answer_within(fd, 100), "");
	cr_assert_eq(rec.stalled, 1);
	lw_source_pause(h);
	rec.full = 0; /* a batch is free; the source's token went on the refused try */
	cr_assert_eq(lw_source_resume(h), LW_OK, "the throttled connection does not hold the others");
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_RATE_PAUSED), 1, "throttled, with a timer");
	cr_assert_str_eq(answer_within(fd, 3000), ok, "both entries within ~2 s (1 per second)");
	cr_expect_eq(rec.n, 2);
	put(fd, req, sizeof(req) - 1);
	cr_assert_str_eq(answer_within(fd, 3000), ok, "a second request on the connection is read");
	cr_expect_eq(rec.n, 4);
	close(fd);
	stop();
}

static void allow_other(struct lw_listener_config *lc)
{
	lc->allow.count = 1;
	cr_assert_eq(lw_cidr_parse("10.0.0.0/8", &lc->allow.items[0]), LW_OK);
}

Test(jhttp, sender_outside_allow_is_refused_and_counted)
{
	int fd;

	start(allow_other);
	fd = dial();
	put(fd, "POST", 4);
	cr_assert_str_eq(answer(fd), "", "closed without an answer");
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CONN_REFUSED), 1);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CONN_ACCEPTED), 0);
	close(fd);
	stop();
}

static void one_conn(struct lw_listener_config *lc)
{
	lc->max_connections = 1;
	lc->idle_timeout_ms = 300;
}

Test(jhttp, max_connections_and_idle_timeout)
{
	int a, b;

	start(one_conn);
	a = dial();
	b = dial();
	cr_assert_str_eq(answer(b), "", "the second connection is closed");
	cr_assert_str_eq(answer(a), "", "the first times out after 300 ms of silence");
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CONN_REFUSED), 1);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CONN_ACCEPTED), 1);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_CONN_IDLE_CLOSED), 1);
	close(a);
	close(b);
	stop();
}

Test(jhttp, config_keys_of_a_journal_http_listener)
{
	static const char yml[] =
		"listeners:\n"
		"  - {type: journal-http, address: \"127.0.0.1:19532\", zone: mynumber,\n"
		"     max_body_size: 8MiB, max_message_size: 1MiB, allow: [10.10.0.0/16]}\n";
	struct lw_config *c = calloc(1, sizeof(*c));
	struct lw_diag diag;

	cr_assert_eq(lw_config_load_string("t.yml", yml, sizeof(yml) - 1, c, &diag), LW_OK,
		     "%s", diag.detail);
	cr_assert_eq(c->nlisteners, 1);
	cr_expect_eq(c->listeners[0].type, LW_LISTENER_JOURNAL_HTTP);
	cr_expect_eq(c->listeners[0].max_body_bytes, 8u << 20);
	cr_expect_eq(c->listeners[0].max_message_bytes, 1u << 20);
	cr_expect_eq(c->listeners[0].allow.count, 1);
	free(c);
	/* Not given: no body limit (a --follow upload is one endless body). */
	static const char plain[] = "listeners:\n  - {type: journal-http, address: \"127.0.0.1:1\"}\n";
	c = calloc(1, sizeof(*c));
	cr_assert_eq(lw_config_load_string("t.yml", plain, sizeof(plain) - 1, c, &diag), LW_OK,
		     "%s", diag.detail);
	cr_expect_eq(c->listeners[0].max_body_bytes, 0);
	free(c);
}

/* Lines of the log file f that contain s. */
static int log_lines_with(FILE *f, const char *s)
{
	char line[4096];
	int n = 0;

	fflush(f);
	rewind(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	return n;
}

/* Refused requests are a remote sender's to repeat: like refused
 * connections they are logged the first time and then every 1000th,
 * never once each (the log would grow as fast as a client reconnects). */
Test(jhttp, refused_requests_do_not_flood_the_log)
{
	FILE *logf = tmpfile();

	cr_assert_not_null(logf);
	start(NULL);
	lw_log_init(&logger, logf, LW_LOG_WARNING);
	for (int i = 0; i < 1002; i++) {
		int fd = dial();

		put(fd, "GET /upload HTTP/1.1\r\n\r\n", 24);
		cr_assert(strncmp(answer(fd), "HTTP/1.1 406 ", 13) == 0, "request %d", i);
		close(fd);
	}
	/* The 1st and the 1001st. */
	cr_expect_eq(log_lines_with(logf, "journal upload refused"), 2);
	stop();
	fclose(logf);
}
