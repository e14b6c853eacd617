/* tests/unit/test_journal_http_regress.c - regressions found by
 * tests/fuzz/fuzz_jhttp.c, on one end of a socketpair served with
 * lw_stream_adopt.
 *
 * Held entries: an entry that arrives in two reads is assembled inside
 * the export parser; when the sink refused it, its bytes were already
 * gone from the connection's buffer and it was offered again only when
 * more bytes came, so the last entry of a `--follow` upload waited for the
 * next one (or was lost at close), and a chunked body whose last entry was
 * refused twice never got its answer.
 *
 * Line limit: a chunk-size line of exactly the longest length taken was
 * refused when its CR had arrived and its LF not yet. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/source.h"
#include "collector/stream.h"
#include "core/config.h"
#include "core/counters.h"

struct rec {
	int n, full, stalled;
	char msg[8][32];
};

struct rig {
	struct event_base *base;
	struct lw_config *cfg;
	struct lw_counters counters;
	struct lw_source *h;
	struct rec rec;
	int fd; /* the client's end */
};

static int on_entry(void *arg, const struct lw_journal_entry *e,
		    const struct lw_listener_src *src, int64_t now_ns)
{
	struct rec *r = arg;

	(void)src;
	(void)now_ns;
	if (r->full)
		return LW_EFULL;
	cr_assert_lt(r->n, 8);
	cr_assert_eq(e->nfields, 1);
	snprintf(r->msg[r->n++], 32, "%.*s", (int)e->fields[0].value_len,
		 e->fields[0].value);
	return LW_OK;
}

static void on_stalled(void *arg)
{
	((struct rec *)arg)->stalled++;
}

static void rig_open(struct rig *r)
{
	struct lw_listener_config *lc;
	struct lw_diag diag;
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int sv[2];

	memset(r, 0, sizeof(*r));
	r->cfg = calloc(1, sizeof(*r->cfg));
	cr_assert_not_null(r->cfg);
	lw_config_defaults(r->cfg);
	lc = &r->cfg->listeners[0];
	lc->type = LW_LISTENER_JOURNAL_HTTP;
	snprintf(lc->address, sizeof(lc->address), "127.0.0.1:0");
	snprintf(lc->zone, sizeof(lc->zone), "lgwan");
	lc->max_message_bytes = 4096;
	r->cfg->nlisteners = 1;
	lw_counters_init(&r->counters);
	r->base = event_base_new();
	cr_assert_not_null(r->base);
	struct lw_source_env env = {.base = r->base, .cfg = r->cfg, .lc = lc,
				    .counters = &r->counters,
				    .sink = {.entry = on_entry, .stalled = on_stalled,
					     .arg = &r->rec}};
	cr_assert_eq(lw_source_open(&env, &r->h, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	lw_stream_adopt(r->h, sv[1], (struct sockaddr *)&peer);
	r->fd = sv[0];
}

static void rig_close(struct rig *r)
{
	close(r->fd);
	lw_source_close(r->h);
	event_base_free(r->base);
	free(r->cfg);
}

/* Writes s, then lets the listener read it. */
static void rig_send(struct rig *r, const char *s)
{
	cr_assert_eq(write(r->fd, s, strlen(s)), (ssize_t)strlen(s));
	for (int i = 0; i < 10; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
}

/* What the listener answered so far ("" when nothing). */
static const char *rig_answer(struct rig *r)
{
	static char buf[1024];
	ssize_t n = read(r->fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

#define HEAD "POST /upload HTTP/1.1\r\nContent-Type: application/vnd.fdo.journal\r\n"
#define OK_202 "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nOK.\n"

Test(jhttp_regress, follow_upload_refused_last_entry_is_delivered_at_resume)
{
	struct rig r;

	rig_open(&r);
	/* systemd-journal-upload --follow: one chunk per entry, then it waits. */
	rig_send(&r, HEAD "Transfer-Encoding: chunked\r\n\r\n" "f\r\nMESSAGE=fir");
	r.rec.full = 1;
	rig_send(&r, "st\n\n\r\n");
	cr_assert_eq(r.rec.stalled, 1);
	cr_assert_eq(r.rec.n, 0);
	r.rec.full = 0;
	lw_source_pause(r.h);
	cr_assert_eq(lw_source_resume(r.h), LW_OK);
	cr_assert_eq(r.rec.n, 1, "the refused entry waited for the client's next chunk");
	cr_assert_str_eq(r.rec.msg[0], "first");
	/* The connection reads again: the next entry and the end. */
	rig_send(&r, "10\r\nMESSAGE=second\n\n\r\n0\r\n\r\n");
	cr_assert_eq(r.rec.n, 2);
	cr_assert_str_eq(r.rec.msg[1], "second");
	cr_assert_str_eq(rig_answer(&r), OK_202);
	rig_close(&r);
}

Test(jhttp_regress, last_entry_refused_twice_at_the_end_of_a_chunked_body_is_answered)
{
	struct rig r;

	rig_open(&r);
	rig_send(&r, HEAD "Transfer-Encoding: chunked\r\n\r\n" "f\r\nMESSAGE=fir");
	r.rec.full = 1;
	rig_send(&r, "st\n\n\r\n0\r\n\r\n");
	cr_assert_eq(r.rec.stalled, 1);
	lw_source_pause(r.h);
	cr_assert_eq(lw_source_resume(r.h), LW_EFULL, "still no batch");
	cr_assert_str_eq(rig_answer(&r), "");
	r.rec.full = 0;
	cr_assert_eq(lw_source_resume(r.h), LW_OK);
	cr_assert_eq(r.rec.n, 1);
	cr_assert_str_eq(r.rec.msg[0], "first");
	cr_assert_str_eq(rig_answer(&r), OK_202, "the body's end was consumed while refused");
	cr_assert_eq(lw_counters_get(&r.counters, LW_CTR_FRAMING_ERRORS), 0);
	rig_close(&r);
}

Test(jhttp_regress, entry_refused_before_the_client_stops_is_not_lost)
{
	struct rig r;

	rig_open(&r);
	/* Content-Length promises more than comes: the client stops after an
	 * entry that the sink refused. */
	rig_send(&r, HEAD "Content-Length: 100\r\n\r\nMESSAGE=fir");
	r.rec.full = 1;
	rig_send(&r, "st\n\n");
	cr_assert_eq(r.rec.stalled, 1);
	shutdown(r.fd, SHUT_WR);
	r.rec.full = 0;
	lw_source_pause(r.h);
	cr_assert_eq(lw_source_resume(r.h), LW_OK);
	for (int i = 0; i < 10; i++)
		event_base_loop(r.base, EVLOOP_NONBLOCK);
	cr_assert_eq(r.rec.n, 1, "the refused entry was lost at close");
	cr_assert_str_eq(r.rec.msg[0], "first");
	cr_assert_eq(lw_counters_get(&r.counters, LW_CTR_FRAMING_ERRORS), 1,
		     "the body was cut short");
	rig_close(&r);
}

Test(jhttp_regress, longest_chunk_size_line_waiting_for_its_lf_is_taken)
{
	char line[1026];
	struct rig r;

	rig_open(&r);
	rig_send(&r, HEAD "Transfer-Encoding: chunked\r\n\r\n");
	/* 1024 characters (leading zeros, then "f"), its CR, and later its LF. */
	memset(line, '0', 1023);
	line[1023] = 'f';
	line[1024] = '\r';
	line[1025] = '\0';
	rig_send(&r, line);
	cr_assert_str_eq(rig_answer(&r), "", "refused before the LF came");
	rig_send(&r, "\nMESSAGE=first\n\n\r\n0\r\n\r\n");
	cr_assert_eq(r.rec.n, 1);
	cr_assert_str_eq(r.rec.msg[0], "first");
	cr_assert_str_eq(rig_answer(&r), OK_202);
	rig_close(&r);
}

Test(jhttp_regress, chunk_size_line_over_the_limit_is_refused)
{
	char line[1027];
	struct rig r;

	rig_open(&r);
	rig_send(&r, HEAD "Transfer-Encoding: chunked\r\n\r\n");
	memset(line, '0', 1025);
	line[1025] = '\r';
	line[1026] = '\0';
	rig_send(&r, line);
	cr_assert(strncmp(rig_answer(&r), "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
	rig_close(&r);
}
