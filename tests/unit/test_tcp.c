/* tests/unit/test_tcp.c - the tcp source (collector/tcp.c) on the stream
 * base (collector/stream.c), one end of a socketpair served with
 * lw_stream_adopt as if accepted from 10.1.2.3:4711, the event loop
 * turned by the test: exact frames with their zone and address, a
 * refused frame held (nothing read on top of it) and delivered first at
 * resume, the partial frame stored flagged at close, a reload's new zones,
 * allow at accept, and a rate-limited connection slowed, not stalled. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/framing.h"
#include "collector/source.h"
#include "collector/stream.h"
#include "core/cidr.h"
#include "core/config.h"
#include "core/counters.h"

struct frame {
	char msg[32], zone[16], addr[32];
	unsigned flags;
};

struct rig {
	struct event_base *base;
	struct lw_config *cfg;
	struct lw_counters counters;
	struct lw_source *src;
	uint8_t rbuf[4096];
	int fd; /* the sender's end */
	int full, stalled, n;
	struct frame f[16];
};

static int on_frame(void *arg, const uint8_t *msg, size_t len, unsigned flags,
		    const struct lw_listener_src *src, int64_t now_ns)
{
	struct rig *r = arg;
	struct frame *f;

	cr_assert_gt(now_ns, 0);
	if (r->full)
		return LW_EFULL;
	cr_assert_lt(r->n, 16);
	f = &r->f[r->n++];
	snprintf(f->msg, sizeof(f->msg), "%.*s", (int)len, (const char *)msg);
	snprintf(f->zone, sizeof(f->zone), "%.*s", (int)src->zone_len, src->zone);
	snprintf(f->addr, sizeof(f->addr), "%.*s", (int)src->addr_len, src->addr);
	f->flags = flags;
	return LW_OK;
}

static void on_stalled(void *arg)
{
	((struct rig *)arg)->stalled++;
}

static void zone_map(struct lw_config *cfg, const char *name, const char *cidr)
{
	cfg->nzones = 1;
	snprintf(cfg->zones[0].name, sizeof(cfg->zones[0].name), "%s", name);
	cfg->zones[0].cidrs.count = 1;
	cr_assert_eq(lw_cidr_parse(cidr, &cfg->zones[0].cidrs.items[0]), LW_OK);
}

/* Opens a tcp source (tweak adjusts its config) and adopts a connection
 * from 10.1.2.3:4711. */
static void rig_open(struct rig *r, void (*tweak)(struct lw_listener_config *))
{
	struct lw_listener_config *lc;
	struct lw_diag diag = {0};
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(4711)};
	int sv[2];

	memset(r, 0, sizeof(*r));
	r->cfg = calloc(1, sizeof(*r->cfg));
	cr_assert_not_null(r->cfg);
	lw_config_defaults(r->cfg);
	lc = &r->cfg->listeners[1];
	cr_assert_eq(lc->type, LW_LISTENER_TCP);
	snprintf(lc->address, sizeof(lc->address), "127.0.0.1:0");
	snprintf(lc->zone, sizeof(lc->zone), "lgwan");
	if (tweak != NULL)
		tweak(lc);
	lw_counters_init(&r->counters);
	r->base = event_base_new();
	cr_assert_not_null(r->base);
	struct lw_source_env env = {.base = r->base, .cfg = r->cfg, .lc = lc,
				    .counters = &r->counters,
				    .sink = {.frame = on_frame, .stalled = on_stalled, .arg = r},
				    .rbuf = r->rbuf, .rbuf_len = sizeof(r->rbuf)};
	cr_assert_eq(lw_source_open(&env, &r->src, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	inet_pton(AF_INET, "10.1.2.3", &peer.sin_addr);
	lw_stream_adopt(r->src, sv[1], (struct sockaddr *)&peer);
	r->fd = sv[0];
}

static void rig_close(struct rig *r)
{
	close(r->fd);
	lw_source_close(r->src);
	event_base_free(r->base);
	free(r->cfg);
}

static void turn(struct rig *r)
{
	for (int i = 0; i < 10; i++)
		event_base_loop(r->base, EVLOOP_NONBLOCK);
}

static void rig_send(struct rig *r, const char *s)
{
	cr_assert_eq(write(r->fd, s, strlen(s)), (ssize_t)strlen(s));
	turn(r);
}

Test(tcp, frames_carry_zone_and_peer_and_the_partial_frame_is_stored_at_close)
{
	struct rig r;

	rig_open(&r, NULL);
	rig_send(&r, "<13>one\n<13>two\n<13>thr");
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.f[0].msg, "<13>one");
	cr_expect_str_eq(r.f[1].msg, "<13>two");
	cr_expect_str_eq(r.f[1].zone, "lgwan");
	cr_expect_str_eq(r.f[1].addr, "10.1.2.3:4711");
	cr_expect_eq(r.f[1].flags, 0);
	shutdown(r.fd, SHUT_WR);
	turn(&r);
	cr_assert_eq(r.n, 3, "the frame cut by the disconnect is stored");
	cr_expect_str_eq(r.f[2].msg, "<13>thr");
	cr_expect(r.f[2].flags & LW_MSG_PARTIAL);
	cr_expect_eq(lw_counters_get(&r.counters, LW_CTR_FRAMING_ERRORS), 1);
	cr_expect_eq(lw_counters_get(&r.counters, LW_CTR_CONN_ACCEPTED), 1);
	rig_close(&r);
}

Test(tcp, a_refused_frame_holds_the_connection_and_goes_first_at_resume)
{
	struct rig r;

	rig_open(&r, NULL);
	r.full = 1;
	rig_send(&r, "a\nb\n");
	cr_assert_eq(r.stalled, 1);
	cr_assert_eq(r.n, 0);
	rig_send(&r, "c\n");
	cr_assert_eq(r.n, 0, "nothing is read on top of a held frame");
	lw_source_pause(r.src);
	cr_assert_eq(lw_source_resume(r.src), LW_EFULL, "still no batch");
	cr_assert_eq(r.n, 0);
	r.full = 0;
	cr_assert_eq(lw_source_resume(r.src), LW_OK);
	cr_assert_eq(r.n, 2, "the held frames, before anything is read");
	turn(&r);
	cr_assert_eq(r.n, 3, "reading again");
	cr_expect_str_eq(r.f[0].msg, "a");
	cr_expect_str_eq(r.f[1].msg, "b");
	cr_expect_str_eq(r.f[2].msg, "c");
	rig_close(&r);
}

/* A reload hands the source a new config: the connection's zone is
 * looked up again in the new zones map. */
Test(tcp, update_looks_the_connections_zone_up_in_the_new_config)
{
	struct lw_config *next = calloc(1, sizeof(*next));
	struct rig r;

	rig_open(&r, NULL);
	rig_send(&r, "before\n");
	cr_assert_not_null(next);
	*next = *r.cfg;
	zone_map(next, "mynumber", "10.1.0.0/16");
	cr_assert_eq(lw_source_update(r.src, next, &next->listeners[1]), LW_OK);
	free(r.cfg); /* nothing may point into the old config any more */
	r.cfg = next;
	rig_send(&r, "after\n");
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.f[0].zone, "lgwan");
	cr_expect_str_eq(r.f[1].zone, "mynumber");
	rig_close(&r);
}

static void allow_other(struct lw_listener_config *lc)
{
	lc->allow.count = 1;
	cr_assert_eq(lw_cidr_parse("192.168.0.0/16", &lc->allow.items[0]), LW_OK);
}

Test(tcp, a_sender_outside_allow_is_closed_before_anything_is_read)
{
	struct rig r;
	char c;

	rig_open(&r, allow_other);
	cr_expect_eq(read(r.fd, &c, 1), 0, "closed");
	cr_expect_eq(lw_counters_get(&r.counters, LW_CTR_REFUSED_ALLOW), 1);
	cr_expect_eq(lw_counters_get(&r.counters, LW_CTR_CONN_REFUSED), 1);
	cr_expect_eq(lw_counters_get(&r.counters, LW_CTR_CONN_ACCEPTED), 0);
	rig_close(&r);
}

static void ten_per_second(struct lw_listener_config *lc)
{
	lc->rate_limit.events_per_second = 10;
	lc->rate_limit.burst = 1;
	lc->rate_limit.max_sources = 16;
}

/* Over its rate limit a connection alone waits for its timer: no stall
 * (the other sources read on), nothing dropped. */
Test(tcp, a_connection_over_its_rate_limit_is_slowed_not_stalled)
{
	struct rig r;

	rig_open(&r, ten_per_second);
	rig_send(&r, "a\nb\n");
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.stalled, 0);
	cr_expect_eq(lw_counters_get(&r.counters, LW_CTR_RATE_PAUSED), 1);
	for (int i = 0; i < 100 && r.n < 2; i++) {
		usleep(10000);
		turn(&r);
	}
	cr_assert_eq(r.n, 2, "its timer delivered the held frame");
	cr_expect_str_eq(r.f[1].msg, "b");
	rig_close(&r);
}
