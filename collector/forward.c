/* lw_forward: the edge's forwarding thread. See forward.h for the wire
 * and the cursor; this file is the loop (read, chunk, publish) and the
 * acknowledgement bookkeeping libnats's callbacks feed. */
#include "collector/forward.h"
#include "collector/health.h"
#include "collector/natsconn.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/time.h"
#include "store/relay.h"
#include "store/segment.h"
#include "store/store.h"

#define FORWARD_POLL_MS 100
#define CURSOR_SAVE_MS 200
#define STREAM_RETRY_MS 1000
#define CLOSE_WAIT_MS 10000

/* One published message in publish order (or an event too large to
 * publish, settled at once so the cursor passes it in order). */
struct inflight {
	uint64_t first;
	uint32_t count;
	int state;          /* 0 waiting, 1 acknowledged, 2 skipped, -1 failed */
	int64_t created_ns; /* arrival of its first event: the lag */
	/* Arrival of the event after it, or of its own last event when that
	 * ends the segment: the lag it leaves once it is acknowledged with
	 * nothing behind it in flight (a bound off by one event at most). */
	int64_t after_ns;
};

struct lw_forward {
	struct lw_forward_opts o;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int stopping, connected;
	int nats_closed;    /* libnats made its last callback with f */
	/* Under mu: the ring of messages in flight, the acknowledged
	 * prefix (cursor) and a failure that makes the loop resend. */
	struct inflight *ring;
	uint32_t cap, head, n;
	uint64_t cursor, saved, stored;
	int failed;
	/* Arrival of the oldest event not acknowledged (the one at the
	 * cursor) while cursor < stored; read only then. */
	int64_t lag_created_ns;
	/* The forwarding thread's own. */
	natsConnection *nc;
	jsCtx *js;
	int stream_ready;
	uint32_t stream_failures;
	int64_t stream_retry_ms;
	struct lw_segment_decoder *dec;
	uint64_t dec_id;        /* segment decoded in dec; 0 = none */
	uint64_t dec_first;
	struct lw_segment_builder *chunk;
	uint64_t pos;           /* next seq to publish */
	char subject[200];
};

static int64_t mono_ms(void)
{
	return lw_time_mono_ns() / 1000000;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct lw_forward *f = closure;

	(void)nc;
	pthread_mutex_lock(&f->mu);
	f->connected = 0;
	pthread_mutex_unlock(&f->mu);
	lw_log(f->o.log, LW_LOG_WARNING, "forward", "disconnected from NATS; buffering in the store", NULL);
}

/* Wakes the forwarder: publishing may resume from its cursor. */
static void mark_connected(struct lw_forward *f)
{
	pthread_mutex_lock(&f->mu);
	f->connected = 1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
}

static void on_connected(natsConnection *nc, void *closure)
{
	struct lw_forward *f = closure;

	(void)nc;
	mark_connected(f);
	lw_log(f->o.log, LW_LOG_NOTICE, "forward", "connected to NATS", NULL);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct lw_forward *f = closure;

	(void)nc;
	mark_connected(f);
	lw_counters_add(f->o.counters, LW_CTR_FORWARD_RECONNECTS, 1);
	lw_log(f->o.log, LW_LOG_NOTICE, "forward", "reconnected to NATS", NULL);
}

static void on_closed(natsConnection *nc, void *closure)
{
	struct lw_forward *f = closure;

	(void)nc;
	pthread_mutex_lock(&f->mu);
	f->nats_closed = 1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
}

static uint64_t header_u64(natsMsg *msg, const char *key, int *ok)
{
	const char *v = NULL;
	char *end;
	unsigned long long n;

	if (natsMsgHeader_Get(msg, key, &v) != NATS_OK || v == NULL || *v < '0' || *v > '9') {
		*ok = 0;
		return 0;
	}
	n = strtoull(v, &end, 10);
	if (*end != '\0')
		*ok = 0;
	return n;
}

/* Pops the settled prefix of the ring into the cursor. Under mu. The
 * lag stays the age of the event at the cursor even when nothing is
 * left in flight (between two messages, or during a catch-up while the
 * next segment is read): it is 0 only when the cursor reaches what was
 * stored. */
static void advance(struct lw_forward *f)
{
	const struct inflight *last = NULL;

	while (f->n > 0 && f->ring[f->head].state > 0) {
		last = &f->ring[f->head];
		f->cursor = last->first + last->count;
		if (last->state == 1)
			lw_counters_add(f->o.counters, LW_CTR_FORWARD_ACKED, last->count);
		f->head = (f->head + 1) % f->cap;
		f->n--;
	}
	if (f->n > 0)
		f->lag_created_ns = f->ring[f->head].created_ns;
	else if (last != NULL)
		f->lag_created_ns = last->after_ns;
}

/* Appends a message to the ring. Under mu. */
static void ring_push(struct lw_forward *f, uint64_t first, uint32_t count, int state,
		      const struct lw_event *evs, uint32_t start, uint32_t end, uint32_t nevs)
{
	struct inflight *x = &f->ring[(f->head + f->n) % f->cap];

	x->first = first;
	x->count = count;
	x->state = state;
	x->created_ns = evs[start].created_ns;
	x->after_ns = evs[end < nevs ? end : end - 1].created_ns;
	if (f->n++ == 0)
		f->lag_created_ns = x->created_ns;
}

/* libnats's thread: one publish acknowledged (pa) or failed (pae). */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
		   void *closure)
{
	struct lw_forward *f = closure;
	int ok = 1;
	uint64_t first = header_u64(msg, "Logward-Seq", &ok);

	(void)js;
	pthread_mutex_lock(&f->mu);
	for (uint32_t i = 0; ok && i < f->n; i++) {
		struct inflight *x = &f->ring[(f->head + i) % f->cap];

		if (x->first != first || x->state != 0)
			continue;
		if (pa != NULL) {
			x->state = 1;
		} else {
			x->state = -1;
			if (!f->failed && pae != NULL)
				lw_log(f->o.log, LW_LOG_WARNING, "forward",
				       "publish not acknowledged; resending from the cursor",
				       "error", natsStatus_GetText(pae->Err), NULL);
			f->failed = 1;
			lw_counters_add(f->o.counters, LW_CTR_FORWARD_FAILED, 1);
		}
		break;
	}
	advance(f);
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
	natsMsg_Destroy(msg);
}

static int connect_nats(struct lw_forward *f, struct lw_diag *diag)
{
	const struct lw_forward_config *c = f->o.cfg;
	char name[LW_NAME_MAX + 16];
	jsOptions jo;
	natsStatus s;
	int rc;

	snprintf(name, sizeof(name), "logward-edge-%s", c->node);
	rc = lw_natsconn_connect(&(struct lw_natsconn_opts){
		.servers = &c->servers, .ca = c->ca, .cert = c->cert, .key = c->key,
		.credentials = c->credentials, .name = name,
		.connected = on_connected, .disconnected = on_disconnected,
		.reconnected = on_reconnected, .closed = on_closed,
		.closure = f}, &f->nc, diag);
	if (rc != LW_OK)
		return rc;
	pthread_mutex_lock(&f->mu);
	if (natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED)
		f->connected = 1;
	pthread_mutex_unlock(&f->mu);
	jsOptions_Init(&jo);
	jo.Wait = (int64_t)c->ack_timeout_ms;
	jo.PublishAsync.MaxPending = c->max_in_flight;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = f;
	/* The loop never publishes past max_in_flight itself; the stall
	 * wait is only a bound on a call that libnats would block. */
	jo.PublishAsync.StallWait = 50;
	s = natsConnection_JetStream(&f->js, f->nc, &jo);
	if (s != NATS_OK)
		return lw_natsconn_fail(diag, s, "jetstream");
	return LW_OK;
}

/* Stores the cursor when it moved (at most every CURSOR_SAVE_MS unless
 * force). Forwarding thread. */
static void save_cursor(struct lw_forward *f, int force, int64_t *last_ms)
{
	struct lw_diag d = {0};
	uint64_t cur;

	pthread_mutex_lock(&f->mu);
	cur = f->cursor;
	pthread_mutex_unlock(&f->mu);
	if (cur == f->saved || (!force && mono_ms() - *last_ms < CURSOR_SAVE_MS))
		return;
	if (lw_relay_cursor_save(f->o.store, cur, &d) != LW_OK) {
		lw_log(f->o.log, LW_LOG_ERR, "forward", "cannot store the cursor",
		       "detail", d.detail, NULL);
		return;
	}
	f->saved = cur;
	*last_ms = mono_ms();
}

/* Decodes the segment holding f->pos (or the next one) into f->dec.
 * 1 when there is something to send, 0 when nothing is stored past pos,
 * or an lw_err. */
static int load_segment(struct lw_forward *f, struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	uint64_t id, first;
	uint32_t count;
	const void *val;
	size_t len;
	int rc;

	if (f->dec_id != 0 && f->pos >= f->dec_first) {
		uint32_t n;

		lw_segment_decoder_events(f->dec, &n);
		if (f->pos < f->dec_first + n)
			return 1;
	}
	rc = lw_store_reader_open(f->o.store, &rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = lw_relay_span(rd, f->pos, &id, &first, &count, diag);
	if (rc == LW_OK)
		rc = lw_store_reader_get_segment(rd, id, &val, &len, diag);
	if (rc == LW_OK)
		rc = lw_segment_decode(f->dec, val, len, NULL, diag);
	lw_store_reader_close(rd);
	if (rc == LW_ENOTFOUND)
		return 0;
	if (rc != LW_OK) {
		f->dec_id = 0;
		return rc;
	}
	f->dec_id = id;
	f->dec_first = first;
	if (first > f->pos) {
		/* Retention deleted them before they were acknowledged (only
		 * max_bytes does: counted there as dropped_forward). */
		char gap[24];

		snprintf(gap, sizeof(gap), "%" PRIu64, first - f->pos);
		lw_log(f->o.log, LW_LOG_ERR, "forward",
		       "events deleted before they were forwarded (storage.max_bytes)",
		       "events", gap, NULL);
		pthread_mutex_lock(&f->mu);
		if (f->n == 0 && f->cursor < first)
			f->cursor = first;
		pthread_mutex_unlock(&f->mu);
		f->pos = first;
	}
	return 1;
}

/* Room kept for the headers of a message. */
#define MESSAGE_HEADROOM 512

static size_t max_payload(struct lw_forward *f)
{
	int64_t m = natsConnection_GetMaxPayload(f->nc);

	return m > 0 ? (size_t)m : 1024 * 1024; /* the servers' default */
}

/* Events [start, *end) of the decoded segment, at most up to limit and
 * message_size raw bytes (the event that reaches it included), sealed. */
static int build_chunk(struct lw_forward *f, const struct lw_event *evs,
		       uint32_t start, uint32_t limit, uint32_t *end,
		       struct lw_segment_sealed *sealed, struct lw_diag *diag)
{
	uint32_t i;
	int rc;

	lw_segment_builder_reset(f->chunk);
	for (i = start; i < limit; i++) {
		if (i > start && lw_segment_builder_raw_bytes(f->chunk) >= f->o.cfg->message_bytes)
			break;
		rc = lw_segment_builder_add(f->chunk, &evs[i]);
		if (rc != LW_OK)
			return lw_diag_set(diag, rc, NULL, 0, 0, "chunk: cannot add an event");
	}
	*end = i;
	return lw_segment_builder_seal(f->chunk, sealed, diag);
}

/* Builds and publishes the next message from f->pos. LW_OK (published),
 * LW_EFULL (libnats refused it now: retry later) or another lw_err. */
static int publish_next(struct lw_forward *f, struct lw_diag *diag)
{
	const struct lw_event *evs;
	struct lw_segment_sealed sealed;
	jsPubOptions po;
	natsMsg *msg = NULL;
	char id[LW_NAME_MAX + 48], num[24], cnt[16];
	uint32_t n, nevs, i = 0, start; /* i: set by build_chunk; GCC -O2 cannot see it */
	natsStatus s;
	int rc;

	evs = lw_segment_decoder_events(f->dec, &n);
	nevs = n;
	start = (uint32_t)(f->pos - f->dec_first);
	for (;;) {
		rc = build_chunk(f, evs, start, n, &i, &sealed, diag);
		if (rc != LW_OK)
			return rc;
		/* The server refuses a message over its max payload: fewer
		 * events (the same choice again on a resend: same ids). */
		if (sealed.value_len + MESSAGE_HEADROOM <= max_payload(f))
			break;
		if (i - start > 1) {
			n = start + (i - start) / 2;
			continue;
		}
		lw_counters_add(f->o.counters, LW_CTR_DROPPED_FORWARD, 1);
		lw_log(f->o.log, LW_LOG_ERR, "forward",
		       "an event is larger than the servers' max payload: not forwarded", NULL);
		/* Settled in its place: the cursor passes it once everything
		 * before it is acknowledged, so it is not behind forever. */
		pthread_mutex_lock(&f->mu);
		ring_push(f, f->pos, 1, 2, evs, start, start + 1, nevs);
		advance(f);
		pthread_mutex_unlock(&f->mu);
		f->pos++;
		return LW_OK;
	}
	sealed.hdr.id = f->pos;
	lw_segment_header_write(&sealed.hdr, sealed.value);
	snprintf(id, sizeof(id), "%s.%" PRIu64 ".%u", f->o.cfg->node, f->pos, i - start);
	snprintf(num, sizeof(num), "%" PRIu64, f->pos);
	snprintf(cnt, sizeof(cnt), "%u", i - start);
	s = natsMsg_Create(&msg, f->subject, NULL, (const char *)sealed.value,
			   (int)sealed.value_len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, "Logward-Node", f->o.cfg->node);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, "Logward-Seq", num);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, "Logward-Count", cnt);
	if (s != NATS_OK) {
		natsMsg_Destroy(msg);
		return lw_natsconn_fail(diag, s, "message");
	}
	pthread_mutex_lock(&f->mu);
	ring_push(f, f->pos, i - start, 0, evs, start, i, nevs);
	pthread_mutex_unlock(&f->mu);
	jsPubOptions_Init(&po);
	po.MsgId = id;
	po.MaxWait = (int64_t)f->o.cfg->ack_timeout_ms;
	s = js_PublishMsgAsync(f->js, &msg, &po);
	if (s != NATS_OK) {
		/* Not taken: forget the ring slot (still the newest, since
		 * only this thread adds) and try again later. */
		natsMsg_Destroy(msg);
		pthread_mutex_lock(&f->mu);
		f->n--;
		advance(f);
		pthread_mutex_unlock(&f->mu);
		return LW_EFULL;
	}
	lw_counters_add(f->o.counters, LW_CTR_FORWARDED, i - start);
	f->pos += i - start;
	return LW_OK;
}

/* After a failed publish: wait until nothing is in flight, then resend
 * from the cursor (the ids make the resends harmless). */
static void recover(struct lw_forward *f)
{
	pthread_mutex_lock(&f->mu);
	/* Failed slots count as settled: drop them with everything after. */
	for (uint32_t i = 0; i < f->n; i++)
		if (f->ring[(f->head + i) % f->cap].state == 0) {
			pthread_mutex_unlock(&f->mu);
			return; /* still waiting for an answer or a timeout */
		}
	/* The oldest slot left starts at the cursor: its age is the lag. */
	if (f->n > 0)
		f->lag_created_ns = f->ring[f->head].created_ns;
	f->n = 0;
	f->failed = 0;
	f->pos = f->cursor;
	pthread_mutex_unlock(&f->mu);
	lw_counters_add(f->o.counters, LW_CTR_FORWARD_RESENDS, 1);
}

/* Waits at most ms for f->cond (acknowledgements, the connection's
 * callbacks, a stop). Under mu. */
static void cond_wait_ms(struct lw_forward *f, uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&f->cond, &f->mu, &ts);
}

/* The forwarding thread's pause: none once a stop is asked. */
static void wait_a_little(struct lw_forward *f, uint32_t ms)
{
	pthread_mutex_lock(&f->mu);
	if (!f->stopping)
		cond_wait_ms(f, ms);
	pthread_mutex_unlock(&f->mu);
}

static int ensure_stream(struct lw_forward *f)
{
	const struct lw_forward_config *c = f->o.cfg;
	struct lw_diag d = {0};

	if (f->stream_ready || mono_ms() < f->stream_retry_ms)
		return f->stream_ready;
	if (lw_natsconn_ensure_stream(f->js, &(struct lw_natsconn_stream){
		    .name = c->stream, .subject = c->subject, .replicas = c->replicas,
		    .duplicate_window_ms = c->duplicate_window_ms,
		    .max_age_s = c->stream_max_age_s, .max_bytes = c->stream_max_bytes},
		    &d) != LW_OK) {
		/* Once, then every minute while it lasts. */
		if (f->stream_failures++ % 60 == 0)
			lw_log(f->o.log, LW_LOG_WARNING, "forward", "stream not ready; retrying",
			       "stream", c->stream, "detail", d.detail, NULL);
		f->stream_retry_ms = mono_ms() + STREAM_RETRY_MS;
		return 0;
	}
	f->stream_ready = 1;
	return 1;
}

/* Nothing in flight (disconnected, or between messages): the lag is the
 * age of the event at the cursor, which f->dec holds. Under mu. */
static void note_idle_lag(struct lw_forward *f)
{
	const struct lw_event *evs;
	uint32_t n;

	if (f->n == 0 && f->pos == f->cursor) {
		evs = lw_segment_decoder_events(f->dec, &n);
		if (f->pos >= f->dec_first && f->pos - f->dec_first < n)
			f->lag_created_ns = evs[f->pos - f->dec_first].created_ns;
	}
}

/* One step of the loop: 1 when it did something (go again), 0 to wait. */
static int step(struct lw_forward *f)
{
	struct lw_diag d = {0};
	uint64_t total = 0;
	int failed, room, rc;

	pthread_mutex_lock(&f->mu);
	failed = f->failed;
	/* While disconnected libnats would only buffer and time out what
	 * it is given: the store is the buffer. */
	room = f->n < f->cap && f->connected;
	pthread_mutex_unlock(&f->mu);
	if (failed) {
		recover(f);
		return 0;
	}
	if (lw_store_events_total(f->o.store, &total, &d) != LW_OK)
		return 0;
	rc = f->pos < total ? load_segment(f, &d) : 0;
	/* The new total and the age of the event at the cursor change
	 * together: the gauges never see events behind with a stale age. */
	pthread_mutex_lock(&f->mu);
	f->stored = total;
	if (rc > 0)
		note_idle_lag(f);
	pthread_mutex_unlock(&f->mu);
	if (f->pos >= total)
		return 0;
	if (rc <= 0 || !room || !ensure_stream(f)) {
		if (rc < 0)
			lw_log(f->o.log, LW_LOG_ERR, "forward", "cannot read the store",
			       "detail", d.detail, NULL);
		return 0;
	}
	rc = publish_next(f, &d);
	if (rc != LW_OK && rc != LW_EFULL)
		lw_log(f->o.log, LW_LOG_ERR, "forward", "cannot build a message",
		       "detail", d.detail, NULL);
	return rc == LW_OK;
}

static void *forward_main(void *arg)
{
	struct lw_forward *f = arg;
	int64_t saved_ms = 0;
	int stopping;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		stopping = f->stopping;
		pthread_mutex_unlock(&f->mu);
		if (stopping)
			break;
		if (!step(f))
			wait_a_little(f, f->o.poll_ms);
		save_cursor(f, 0, &saved_ms);
		if (f->o.health != NULL) {
			struct lw_forward_gauges g;

			lw_forward_gauges(f, &g);
			lw_health_report_lag(f->o.health, g.lag_ns / 1000000000, g.lag_events);
		}
	}
	return NULL;
}

/* Closes the connection and waits for libnats's last callback with f as
 * its closure (the close itself posts a disconnected one, run on
 * libnats's thread later). 1 when f may be freed. */
static int close_nats(struct lw_forward *f)
{
	int64_t until = mono_ms() + CLOSE_WAIT_MS;
	int closed;

	jsCtx_Destroy(f->js);
	f->js = NULL;
	if (f->nc == NULL)
		return 1;
	natsConnection_Close(f->nc);
	pthread_mutex_lock(&f->mu);
	while (!f->nats_closed && mono_ms() < until)
		cond_wait_ms(f, 20);
	closed = f->nats_closed;
	pthread_mutex_unlock(&f->mu);
	if (!closed) {
		/* Its callbacks may still come: keep what they use. */
		lw_log(f->o.log, LW_LOG_ERR, "forward",
		       "the NATS connection did not report its close; its state is kept", NULL);
		return 0;
	}
	natsConnection_Destroy(f->nc);
	f->nc = NULL;
	return 1;
}

int lw_forward_start(const struct lw_forward_opts *opts, struct lw_forward **out,
		     struct lw_diag *diag)
{
	struct lw_forward *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (f == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "forwarder");
	f->o = *opts;
	if (f->o.poll_ms == 0)
		f->o.poll_ms = FORWARD_POLL_MS;
	f->cap = opts->cfg->max_in_flight;
	f->ring = calloc(f->cap, sizeof(*f->ring));
	f->dec = lw_segment_decoder_new();
	f->chunk = lw_segment_builder_new();
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cond, NULL);
	snprintf(f->subject, sizeof(f->subject), "%s.%s", opts->cfg->subject,
		 opts->cfg->node);
	if (f->ring == NULL || f->dec == NULL || f->chunk == NULL) {
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "forwarder");
		goto fail;
	}
	rc = lw_relay_cursor_load(opts->store, &f->cursor, diag);
	if (rc != LW_OK)
		goto fail;
	f->saved = f->pos = f->cursor;
	rc = connect_nats(f, diag);
	if (rc != LW_OK)
		goto fail;
	if (pthread_create(&f->thread, NULL, forward_main, f) != 0) {
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "forwarder thread");
		goto fail;
	}
	*out = f;
	return LW_OK;

fail:
	if (!close_nats(f))
		return rc;
	lw_segment_builder_free(f->chunk);
	lw_segment_decoder_free(f->dec);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mu);
	free(f->ring);
	free(f);
	return rc;
}

void lw_forward_gauges(struct lw_forward *f, struct lw_forward_gauges *g)
{
	memset(g, 0, sizeof(*g));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	g->cursor = f->cursor;
	g->stored = f->stored;
	g->in_flight = f->n;
	g->lag_events = f->stored > f->cursor ? f->stored - f->cursor : 0;
	g->connected = f->connected;
	if (g->lag_events > 0 && f->lag_created_ns != 0)
		g->lag_ns = lw_time_now_ns() - f->lag_created_ns;
	pthread_mutex_unlock(&f->mu);
}

void lw_forward_stop(struct lw_forward *f, uint32_t grace_ms)
{
	int64_t saved_ms = 0, until, settle;

	if (f == NULL)
		return;
	/* Every message in flight gets its callback within ack_timeout
	 * (an answer, or libnats's timeout even while disconnected); f must
	 * outlive those callbacks, so the stop waits that long at most
	 * beyond the grace. */
	until = mono_ms() + grace_ms;
	settle = mono_ms() + (int64_t)f->o.cfg->ack_timeout_ms + 1000;
	pthread_mutex_lock(&f->mu);
	f->stopping = 1;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	/* What is in flight may still be acknowledged: wait a moment so the
	 * next start resends less. */
	pthread_mutex_lock(&f->mu);
	while (f->n > 0 && mono_ms() < (until > settle ? until : settle))
		cond_wait_ms(f, 20);
	pthread_mutex_unlock(&f->mu);
	save_cursor(f, 1, &saved_ms);
	/* Destroying the context drops the pending acknowledgements
	 * without callbacks; the connection goes after it. */
	if (!close_nats(f))
		return;
	lw_segment_builder_free(f->chunk);
	lw_segment_decoder_free(f->dec);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mu);
	free(f->ring);
	free(f);
}
