/* collector/tcp.c - tcp and tls syslog sources (prefix lw_tcp). See tcp.h.
 *
 * Speed: one read of up to env.rbuf_len (256 KiB) per wakeup into the
 * buffer all connections share, framed in place; frames are copied into
 * the batch arena by the sink anyway, so a per-connection buffer would
 * only cost memory (1,000 idle connections hold a framer each and nothing
 * else).
 */
#include "collector/tcp.h"

#include <errno.h>

#include "collector/framing.h"
#include "collector/stream.h"

struct tcp_conn {
	struct lw_stream_conn base;
	struct lw_framing *fr;
};

struct tcp_stream {
	struct lw_stream base;
	uint64_t frame_timeout_logged;
};

static int tcp_frame(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	struct lw_stream_conn *c = arg;
	const struct lw_source_sink *sink = &c->st->src.env.sink;

	/* Over the rate limit the framer keeps the frame, as for a full sink. */
	if (lw_stream_admit(c) != LW_OK)
		return LW_EFULL;
	return sink->frame(sink->arg, msg, len, flags, &c->src, c->st->now_ns);
}

/* After a feed: counts framing errors and notes when the frame now in
 * progress began (the frame timeout runs from there). */
static void tcp_stats(struct tcp_conn *t)
{
	struct lw_framing_stats st = {0};

	lw_framing_take_stats(t->fr, &st);
	if (st.bad_octet_count + st.partial > 0)
		lw_counters_add(t->base.st->src.env.counters, LW_CTR_FRAMING_ERRORS,
				st.bad_octet_count + st.partial);
	if (!lw_framing_in_frame(t->fr))
		t->base.unit_since_ns = 0;
	else if (t->base.unit_since_ns == 0 || st.messages > 0)
		t->base.unit_since_ns = lw_time_mono_ns();
}

static int tcp_feed(struct tcp_conn *t, const uint8_t *buf, size_t len)
{
	int rc = lw_framing_feed(t->fr, buf, len, tcp_frame, &t->base);

	tcp_stats(t);
	if (rc == LW_OK || rc == LW_EFULL)
		return rc;
	lw_log(t->base.st->src.env.log, LW_LOG_ERR, "collector",
	       "cannot frame stream; closing connection", "peer", t->base.addr,
	       "error", lw_strerror(rc), NULL);
	return LW_STREAM_CLOSE;
}

static int tcp_readable(struct lw_stream_conn *c)
{
	const struct lw_source_env *env = &c->st->src.env;
	ssize_t n = lw_stream_read(c, env->rbuf, env->rbuf_len);

	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return LW_STREAM_AGAIN;
	if (n <= 0) /* EOF, or ECONNRESET and friends: the peer is gone */
		return LW_STREAM_CLOSE;
	return tcp_feed((struct tcp_conn *)c, env->rbuf, (size_t)n);
}

static int tcp_deliver_held(struct lw_stream_conn *c)
{
	struct tcp_conn *t = (struct tcp_conn *)c;

	return lw_framing_pending(t->fr) ? tcp_feed(t, NULL, 0) : LW_OK;
}

/* The partial frame is stored, flagged truncated. */
static int tcp_finish(struct lw_stream_conn *c)
{
	struct tcp_conn *t = (struct tcp_conn *)c;
	int rc = lw_framing_finish(t->fr, tcp_frame, c);

	tcp_stats(t);
	return rc == LW_EFULL ? LW_EFULL : LW_OK;
}

static int tcp_frame_timeout(struct lw_stream_conn *c)
{
	struct tcp_stream *ts = (struct tcp_stream *)(void *)c->st;
	const struct lw_source_env *env = &c->st->src.env;

	lw_counters_add(env->counters, LW_CTR_FRAME_TIMEOUT, 1);
	if (ts->frame_timeout_logged++ % 1000 == 0)
		lw_log(env->log, LW_LOG_WARNING, "collector",
		       "frame incomplete past frame_timeout; closing connection",
		       "listener", c->st->src.bound, "peer", c->addr, NULL);
	return LW_STREAM_CLOSE;
}

static int tcp_init(struct lw_stream_conn *c)
{
	const struct lw_listener_config *lc = c->st->src.env.lc;
	struct tcp_conn *t = (struct tcp_conn *)c;

	t->fr = lw_framing_new(lc->framing, lc->max_message_bytes);
	return t->fr != NULL ? LW_OK : LW_ENOMEM;
}

static void tcp_release(struct lw_stream_conn *c)
{
	lw_framing_free(((struct tcp_conn *)c)->fr);
}

int lw_tcp_open(const struct lw_source_env *env, struct lw_source **out,
		struct lw_diag *diag)
{
	/* A frame begun and not finished is the unit that times out. */
	struct lw_stream_opts opts = {.tls = env->lc->type == LW_LISTENER_TLS,
				      .unit_timeout_ms = env->lc->frame_timeout_ms};
	static const struct lw_stream_proto proto = {
		.size = sizeof(struct tcp_stream), .conn_size = sizeof(struct tcp_conn),
		.init = tcp_init, .release = tcp_release, .readable = tcp_readable,
		.deliver_held = tcp_deliver_held, .finish = tcp_finish,
		.unit_timeout = tcp_frame_timeout,
	};

	return lw_stream_open(env, &proto, &opts, out, diag);
}
