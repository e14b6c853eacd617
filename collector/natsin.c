/* lw_natsin: the central node's durable pull consumer. See natsin.h for
 * the order and dedup rules; this file is the fetch loop, the copy of an
 * edge's events into batches, and the acknowledgements after commits. */
#include "collector/natsin.h"
#include "collector/natsconn.h"
#include "collector/pipeline.h"
#include "collector/source.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/time.h"
#include "store/relay.h"
#include "store/segment.h"
#include "store/store.h"

#define FETCH_BATCH 64
#define FETCH_WAIT_MS 500
#define RETRY_MS 1000
/* Origins one central node tracks (edges of an association). */
#define NATSIN_ORIGINS 1024
/* A message above its origin's mark is refused this many times (each
 * after a quarter of ack_wait: three ack_wait periods in all, room for
 * what precedes it to be redelivered) before the gap counts as lost. */
#define GAP_DELIVERIES 12
#define EDGE_FIELD "labels.edge"
/* Largest raw (decompressed) message accepted: forward.message_size's
 * bound (768 KiB) plus the last event, which may pass it (a listener's
 * max_message_size is at most 16 MiB). Far below the decoder's 1 GiB. */
#define NATSIN_MAX_RAW (24u << 20)

struct origin {
	char node[LW_STORE_ORIGIN_MAX];
	size_t len;
	uint64_t submitted; /* next origin seq handed to the writer (thread) */
	uint64_t committed; /* next origin seq committed (under mu) */
};

/* A message waiting for the commit of its last event. */
struct waiting {
	natsMsg *msg;
	uint32_t origin;   /* index into origins */
	uint64_t end;      /* origin seq after its last event */
};

struct lw_natsin {
	struct lw_natsin_opts o;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	struct lw_pipeline *pipe;
	pthread_t thread;
	int started;
	_Atomic int stopping;
	_Atomic uint64_t lag;
	struct lw_segment_decoder *dec;
	struct lw_batch *batch;   /* being filled, or NULL */

	pthread_mutex_t mu;       /* origins[].committed, the waiting ring */
	struct origin *origins;
	uint32_t norigins;
	struct waiting *ring;
	uint32_t cap, head, n;
	char subject[160];
};

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* --- acknowledgements -------------------------------------------------- */

/* Acks the waiting messages whose events are committed, in any order
 * (one edge's stay in order; another edge's need not wait). Under mu. */
static void ack_committed(struct lw_natsin *n)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < n->n; i++) {
		struct waiting w = n->ring[(n->head + i) % n->cap];

		if (n->origins[w.origin].committed >= w.end) {
			natsMsg_Ack(w.msg, NULL);
			natsMsg_Destroy(w.msg);
		} else {
			n->ring[(n->head + kept++) % n->cap] = w;
		}
	}
	n->n = kept;
}

void lw_natsin_committed(void *arg, const struct lw_store_origin *o, size_t count)
{
	struct lw_natsin *n = arg;

	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < count; i++)
		for (uint32_t k = 0; k < n->norigins; k++)
			if (n->origins[k].len == o[i].node_len &&
			    memcmp(n->origins[k].node, o[i].node, o[i].node_len) == 0 &&
			    o[i].next_seq > n->origins[k].committed)
				n->origins[k].committed = o[i].next_seq;
	ack_committed(n);
	pthread_mutex_unlock(&n->mu);
}

/* --- origins ------------------------------------------------------------ */

static int node_ok(const char *s, size_t len)
{
	if (len == 0 || len >= LW_STORE_ORIGIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

/* The index of node, loading its mark from the store at first sight;
 * -1 when the table is full or the store fails. Consumer thread. */
static int origin_find(struct lw_natsin *n, const char *node, size_t len)
{
	struct lw_diag d = {0};
	uint64_t next;
	uint32_t i;

	for (i = 0; i < n->norigins; i++)
		if (n->origins[i].len == len && memcmp(n->origins[i].node, node, len) == 0)
			return (int)i;
	if (n->norigins == NATSIN_ORIGINS)
		return -1;
	if (lw_relay_origin_load(n->o.store, node, len, &next, &d) != LW_OK) {
		lw_log(n->o.log, LW_LOG_ERR, "natsin", "cannot read an origin's mark",
		       "detail", d.detail, NULL);
		return -1;
	}
	pthread_mutex_lock(&n->mu);
	memcpy(n->origins[i].node, node, len);
	n->origins[i].len = len;
	n->origins[i].submitted = n->origins[i].committed = next;
	n->norigins++;
	pthread_mutex_unlock(&n->mu);
	return (int)i;
}

/* --- events into batches ----------------------------------------------- */

/* A free batch, waiting while the writer has none (never blocking in
 * acquire: a blocked producer lets a failing store drop batches, and
 * these must be redelivered, not dropped). NULL when stopping. */
static struct lw_batch *get_batch(struct lw_natsin *n)
{
	while (n->batch == NULL) {
		if (atomic_load(&n->stopping))
			return NULL;
		n->batch = lw_pipeline_acquire(n->pipe, 0);
		if (n->batch == NULL)
			sleep_ms(5);
	}
	return n->batch;
}

static void submit(struct lw_natsin *n)
{
	if (n->batch != NULL)
		lw_pipeline_submit(n->pipe, n->batch);
	n->batch = NULL;
}

static struct lw_str dup_str(struct lw_arena *a, struct lw_str s, int *oom)
{
	char *p;

	if (s.len == 0)
		return LW_STR_NULL;
	p = lw_arena_memdup(a, s.ptr, s.len);
	if (p == NULL)
		*oom = 1;
	return (struct lw_str){p, p != NULL ? s.len : 0};
}

/* Copies ev into the batch with labels.edge added. 0, or -1 when out
 * of memory. */
static int copy_event(struct lw_batch *b, const struct lw_event *ev,
		      const struct origin *o)
{
	struct lw_arena *a = &b->arena;
	struct lw_event *to = lw_batch_push(b);
	int oom = 0;

	if (to == NULL)
		return -1;
	*to = *ev;
	to->host = dup_str(a, ev->host, &oom);
	to->app = dup_str(a, ev->app, &oom);
	to->procid = dup_str(a, ev->procid, &oom);
	to->msgid = dup_str(a, ev->msgid, &oom);
	to->structured_data = dup_str(a, ev->structured_data, &oom);
	to->message = dup_str(a, ev->message, &oom);
	to->zone = dup_str(a, ev->zone, &oom);
	to->source_address = dup_str(a, ev->source_address, &oom);
	to->fields = lw_arena_alloc(a, (ev->nfields + 1) * sizeof(*to->fields));
	to->nfields = 0;
	if (to->fields == NULL)
		return -1;
	for (uint32_t i = 0; i < ev->nfields; i++) {
		/* An edge's own labels.edge (it consumed from another
		 * tier) is replaced by the nearest one. */
		if (ev->fields[i].key.len == sizeof(EDGE_FIELD) - 1 &&
		    memcmp(ev->fields[i].key.ptr, EDGE_FIELD, sizeof(EDGE_FIELD) - 1) == 0)
			continue;
		to->fields[to->nfields].key = dup_str(a, ev->fields[i].key, &oom);
		to->fields[to->nfields].value = dup_str(a, ev->fields[i].value, &oom);
		to->nfields++;
	}
	to->fields[to->nfields].key = LW_STR_LIT(EDGE_FIELD);
	to->fields[to->nfields].value = dup_str(a, (struct lw_str){o->node, (uint32_t)o->len}, &oom);
	to->nfields++;
	if (oom) {
		b->count--;
		return -1;
	}
	return 0;
}

/* 1 when the next event (origin o, seq) may join batch b. */
static int continues(const struct lw_batch *b, const struct origin *o, uint64_t seq)
{
	return b->count == 0 ||
	       (b->origin_len == o->len && memcmp(b->origin, o->node, o->len) == 0 &&
		b->origin_first + b->count == seq);
}

/* Hands events [from, nev) of the decoded message to the writer, origin
 * seqs first + from ... LW_OK, or LW_ECLOSED when stopping (the batch
 * in hand is still submitted; the mark stays consistent with it). */
static int hand_over(struct lw_natsin *n, struct origin *o, uint64_t first,
		     uint32_t from)
{
	uint32_t nev;
	const struct lw_event *evs = lw_segment_decoder_events(n->dec, &nev);

	for (uint32_t i = from; i < nev; i++) {
		for (;;) {
			struct lw_batch *b = get_batch(n);

			if (b == NULL)
				return LW_ECLOSED;
			if (!continues(b, o, first + i)) {
				submit(n);
				continue;
			}
			if (b->count == 0) {
				memcpy(b->origin, o->node, o->len);
				b->origin_len = (uint32_t)o->len;
				b->origin_first = first + i;
			}
			if (copy_event(b, &evs[i], o) == 0) {
				lw_counters_add(n->o.counters, LW_CTR_NATS_EVENTS, 1);
				if (lw_batch_full(b))
					submit(n);
				break;
			}
			if (b->count == 0) {
				/* Out of memory with an empty batch: drop the
				 * event, counted, rather than stall. */
				lw_counters_add(n->o.counters, LW_CTR_DROPPED_NOMEM, 1);
				break;
			}
			submit(n);
		}
		o->submitted = first + i + 1;
	}
	return LW_OK;
}

/* --- messages ------------------------------------------------------------ */

/* Waits for the commit of origin seqs up to end, then acks msg (taken). */
static void wait_for_commit(struct lw_natsin *n, natsMsg *msg, uint32_t origin,
			    uint64_t end)
{
	pthread_mutex_lock(&n->mu);
	if (n->origins[origin].committed >= end) {
		pthread_mutex_unlock(&n->mu);
		natsMsg_Ack(msg, NULL);
		natsMsg_Destroy(msg);
		return;
	}
	/* The ring has room: the loop fetches only while it does. */
	n->ring[(n->head + n->n) % n->cap] = (struct waiting){msg, origin, end};
	n->n++;
	pthread_mutex_unlock(&n->mu);
}

static void reject(struct lw_natsin *n, natsMsg *msg, const char *why)
{
	lw_counters_add(n->o.counters, LW_CTR_NATS_REJECTED, 1);
	lw_log(n->o.log, LW_LOG_ERR, "natsin", "message is not an edge's events; dropped",
	       "reason", why, "subject", natsMsg_GetSubject(msg), NULL);
	natsMsg_Term(msg, NULL);
	natsMsg_Destroy(msg);
}

/* 1 when subject is exactly "<prefix>.<node>". */
static int subject_is(const char *subject, const char *prefix, const char *node)
{
	size_t lp = strlen(prefix);

	return subject != NULL && strncmp(subject, prefix, lp) == 0 &&
	       subject[lp] == '.' && strcmp(subject + lp + 1, node) == 0;
}

/* One message (taken). LW_OK, or LW_ECLOSED when stopping. */
static int take(struct lw_natsin *n, natsMsg *msg)
{
	struct lw_segment_header hdr;
	struct lw_diag d = {0};
	jsMsgMetaData *meta = NULL;
	const char *node = NULL;
	uint64_t delivered = 1, first, end;
	struct origin *o;
	int idx, rc;

	lw_counters_add(n->o.counters, LW_CTR_NATS_CONSUMED, 1);
	if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
		delivered = meta->NumDelivered;
		atomic_store(&n->lag, meta->NumPending);
		jsMsgMetaData_Destroy(meta);
	}
	if (delivered > 1)
		lw_counters_add(n->o.counters, LW_CTR_NATS_REDELIVERED, 1);
	if (natsMsgHeader_Get(msg, "Logward-Node", &node) != NATS_OK || node == NULL ||
	    !node_ok(node, strlen(node))) {
		reject(n, msg, "no valid Logward-Node header");
		return LW_OK;
	}
	if (!subject_is(natsMsg_GetSubject(msg), n->o.lc->subject, node)) {
		/* The servers' publish permissions bind an edge to its subject:
		 * a header naming another edge is refused, not believed. */
		reject(n, msg, "Logward-Node does not match the subject");
		return LW_OK;
	}
	/* An edge never sends more than forward.message_size (at most
	 * 768 KiB raw): a header claiming more would make this node
	 * decompress up to the decoder's 1 GiB ceiling. */
	rc = lw_segment_header_parse(natsMsg_GetData(msg),
				     (size_t)natsMsg_GetDataLength(msg), &hdr, &d);
	if (rc == LW_OK && hdr.raw_size > NATSIN_MAX_RAW)
		rc = lw_diag_set(&d, LW_ETOOBIG, NULL, 0, 0, "raw size over 24 MiB");
	if (rc == LW_OK)
		rc = lw_segment_decode(n->dec, natsMsg_GetData(msg),
				       (size_t)natsMsg_GetDataLength(msg), &hdr, &d);
	if (rc != LW_OK) {
		reject(n, msg, d.detail[0] ? d.detail : lw_strerror(rc));
		return LW_OK;
	}
	idx = origin_find(n, node, strlen(node));
	if (idx < 0) {
		/* Not taken now; the stream keeps it. */
		natsMsg_NakWithDelay(msg, RETRY_MS, NULL);
		natsMsg_Destroy(msg);
		return LW_OK;
	}
	o = &n->origins[idx];
	first = hdr.id;
	end = first + hdr.count;
	if (first > o->submitted) {
		if (delivered < GAP_DELIVERIES) {
			/* What precedes it is still to be (re)delivered. */
			natsMsg_NakWithDelay(msg, n->o.lc->ack_wait_ms / 4, NULL);
			natsMsg_Destroy(msg);
			return LW_OK;
		}
		char gap[24];

		snprintf(gap, sizeof(gap), "%" PRIu64, first - o->submitted);
		lw_counters_add(n->o.counters, LW_CTR_DROPPED_ORIGIN_GAP, first - o->submitted);
		lw_log(n->o.log, LW_LOG_ERR, "natsin",
		       "events of an edge never arrived; going on without them",
		       "node", node, "events", gap, NULL);
		o->submitted = first;
	}
	if (end <= o->submitted) {
		lw_counters_add(n->o.counters, LW_CTR_NATS_DUPLICATES, hdr.count);
	} else {
		uint32_t from = (uint32_t)(o->submitted - first);

		if (from > 0)
			lw_counters_add(n->o.counters, LW_CTR_NATS_DUPLICATES, from);
		rc = hand_over(n, o, first, from);
		if (rc != LW_OK) {
			natsMsg_Destroy(msg); /* redelivered after ack_wait */
			return rc;
		}
	}
	wait_for_commit(n, msg, (uint32_t)idx, end);
	return LW_OK;
}

static int subscribe(struct lw_natsin *n, struct lw_diag *diag)
{
	const struct lw_listener_config *lc = n->o.lc;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	int rc = lw_natsconn_ensure_stream(n->js, &(struct lw_natsconn_stream){
		.name = lc->stream, .subject = lc->subject, .replicas = lc->replicas,
		.duplicate_window_ms = lc->duplicate_window_ms}, diag);

	if (rc != LW_OK)
		return rc;
	jsSubOptions_Init(&so);
	so.Stream = lc->stream;
	so.Config.Durable = lc->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.AckWait = (int64_t)lc->ack_wait_ms * 1000000;
	so.Config.MaxAckPending = lc->max_ack_pending;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_PullSubscribe(&n->sub, n->js, n->subject, lc->durable, NULL, &so, &jerr);
	if (s != NATS_OK)
		return lw_natsconn_fail(diag, s, "pull subscribe");
	return LW_OK;
}

static void *natsin_main(void *arg)
{
	struct lw_natsin *n = arg;
	int64_t next_try = 0;
	uint32_t failures = 0;

	while (!atomic_load(&n->stopping)) {
		natsMsgList list = {0};
		jsErrCode jerr = 0;
		uint32_t waiting;
		natsStatus s;

		if (n->sub == NULL) {
			struct lw_diag d = {0};

			if (lw_time_mono_ns() / 1000000 < next_try) {
				sleep_ms(50);
				continue;
			}
			if (subscribe(n, &d) != LW_OK) {
				/* Once, then every minute while it lasts. */
				if (failures++ % 60 == 0)
					lw_log(n->o.log, LW_LOG_WARNING, "natsin",
					       "consumer not ready; retrying", "detail", d.detail, NULL);
				next_try = lw_time_mono_ns() / 1000000 + RETRY_MS;
				continue;
			}
			lw_log(n->o.log, LW_LOG_NOTICE, "natsin", "consuming",
			       "stream", n->o.lc->stream, "durable", n->o.lc->durable, NULL);
		}
		pthread_mutex_lock(&n->mu);
		waiting = n->n;
		pthread_mutex_unlock(&n->mu);
		if (n->cap - waiting < FETCH_BATCH) {
			/* Everything fetched waits for commits: let the
			 * writer catch up (its commits free the ring). */
			submit(n);
			sleep_ms(10);
			continue;
		}
		s = natsSubscription_Fetch(&list, n->sub, FETCH_BATCH, FETCH_WAIT_MS, &jerr);
		if (s != NATS_OK) {
			natsMsgList_Destroy(&list);
			submit(n);
			if (s != NATS_TIMEOUT)
				sleep_ms(100);
			continue;
		}
		for (int i = 0; i < list.Count; i++) {
			natsMsg *m = list.Msgs[i];

			list.Msgs[i] = NULL;
			if (atomic_load(&n->stopping)) {
				natsMsg_Destroy(m);
				continue;
			}
			take(n, m);
		}
		natsMsgList_Destroy(&list);
		submit(n);
	}
	submit(n);
	return NULL;
}

/* --- lifetime ------------------------------------------------------------ */

int lw_natsin_new(const struct lw_natsin_opts *opts, struct lw_natsin **out,
		  struct lw_diag *diag)
{
	const struct lw_listener_config *lc = opts->lc;
	struct lw_natsin *n = calloc(1, sizeof(*n));
	char name[LW_NAME_MAX + 32];
	natsStatus s;
	int rc;

	*out = NULL;
	if (n == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "nats consumer");
	n->o = *opts;
	n->cap = lc->max_ack_pending + FETCH_BATCH;
	n->ring = calloc(n->cap, sizeof(*n->ring));
	n->origins = calloc(NATSIN_ORIGINS, sizeof(*n->origins));
	n->dec = lw_segment_decoder_new();
	pthread_mutex_init(&n->mu, NULL);
	snprintf(n->subject, sizeof(n->subject), "%s.>", lc->subject);
	if (n->ring == NULL || n->origins == NULL || n->dec == NULL) {
		lw_natsin_free(n);
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "nats consumer");
	}
	snprintf(name, sizeof(name), "logward-central-%s", lc->durable);
	rc = lw_natsconn_connect(&(struct lw_natsconn_opts){
		.servers = &lc->servers, .ca = lc->ca, .cert = lc->cert, .key = lc->key,
		.credentials = lc->credentials, .name = name}, &n->nc, diag);
	if (rc == LW_OK) {
		s = natsConnection_JetStream(&n->js, n->nc, NULL);
		if (s != NATS_OK)
			rc = lw_natsconn_fail(diag, s, "jetstream");
	}
	if (rc != LW_OK) {
		lw_natsin_free(n);
		return rc;
	}
	*out = n;
	return LW_OK;
}

int lw_natsin_run(struct lw_natsin *n, struct lw_pipeline *p, struct lw_diag *diag)
{
	n->pipe = p;
	if (pthread_create(&n->thread, NULL, natsin_main, n) != 0)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "nats consumer thread");
	n->started = 1;
	return LW_OK;
}

uint64_t lw_natsin_lag(struct lw_natsin *n)
{
	return n != NULL ? atomic_load(&n->lag) : 0;
}

void lw_natsin_halt(struct lw_natsin *n)
{
	if (n == NULL || !n->started)
		return;
	atomic_store(&n->stopping, 1);
	pthread_join(n->thread, NULL);
	n->started = 0;
}

void lw_natsin_free(struct lw_natsin *n)
{
	if (n == NULL)
		return;
	lw_natsin_halt(n);
	/* Messages still waiting were not committed: the stream redelivers
	 * them to the next run. */
	for (uint32_t i = 0; i < n->n; i++)
		natsMsg_Destroy(n->ring[(n->head + i) % n->cap].msg);
	natsSubscription_Destroy(n->sub);
	jsCtx_Destroy(n->js);
	natsConnection_Destroy(n->nc);
	lw_segment_decoder_free(n->dec);
	pthread_mutex_destroy(&n->mu);
	free(n->origins);
	free(n->ring);
	free(n);
}

/* --- the listener's place in the serve's sources ------------------------- */

static int src_start(struct lw_source *s)
{
	(void)s;
	return LW_OK;
}

static void src_drain(struct lw_source *s)
{
	(void)s;
}

static int src_update(struct lw_source *s, const struct lw_config *cfg,
		      const struct lw_listener_config *lc)
{
	(void)cfg;
	s->env.lc = lc;
	return LW_OK;
}

static void src_close(struct lw_source *s)
{
	free(s);
}

static const struct lw_source_ops natsin_ops = {
	.start = src_start,
	.drain = src_drain,
	.update = src_update,
	.close = src_close,
};

int lw_natsin_source_open(const struct lw_source_env *env, struct lw_source **out,
			  struct lw_diag *diag)
{
	struct lw_source *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "out of memory");
	lw_source_init(s, &natsin_ops, env);
	snprintf(s->bound, sizeof(s->bound), "%s/%s", env->lc->stream, env->lc->durable);
	*out = s;
	return LW_OK;
}
