/* collector/pipeline.c - the bounded batch queue and the writer thread
 * (prefix lw_pipeline). acquire/submit run on the producer thread (the
 * collector, or `logward ingest`); everything else on the writer thread.
 *
 * Batch states (all cfg->queue_batches batches exist from start to stop):
 *
 *   free list --acquire--> producer --submit--> queue --writer--> builder
 *       ^                                                           |
 *       +---- events copied out, batch reset (resume_cb if starved) +
 *
 * The writer copies a batch's events into the segment builder and returns
 * the batch at once, so the number of batches bounds collector memory and
 * a slow commit (fsync) shows up as an empty free list: backpressure.
 */
#include "collector/pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "store/store.h"

/* After a failed commit, wait this long before trying again so that a full
 * disk does not turn the writer into a busy loop. */
#define RETRY_MS 1000

struct lw_pipeline {
	const struct lw_config *cfg;
	struct lw_store *store;
	const struct lw_log *log;
	struct lw_counters *counters;
	void (*resume_cb)(void *arg);
	void *resume_arg;

	pthread_mutex_t mu;
	pthread_cond_t work;  /* writer waits: queue non-empty or stopping */
	pthread_cond_t freed; /* blocking acquire waits: a batch came back */
	struct lw_batch *free_head;
	struct lw_batch *q_head, *q_tail;
	int starved;  /* acquire(wait=0) returned NULL since the last resume */
	int stopping;

	/* writer thread only */
	pthread_t thread;
	int thread_started;
	struct lw_segment_builder *builder;
	int64_t first_ms;  /* monotonic ms of the oldest uncommitted event */
	int64_t retry_ms;  /* no commit attempt before this (after a failure) */
	struct lw_buf snap;
	int first_err;
	struct lw_diag first_diag;

	uint32_t nbatches;
	struct lw_batch **batches;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mark_skew(struct lw_pipeline *p, struct lw_batch *b)
{
	int64_t max_ns = (int64_t)p->cfg->max_clock_skew_s * 1000000000;
	uint64_t skewed = 0;

	if (max_ns == 0) /* max_clock_skew: 0 turns the check off */
		return;
	for (uint32_t i = 0; i < b->count; i++) {
		struct lw_event *ev = &b->events[i];
		int64_t d = ev->timestamp_ns - ev->created_ns;

		if (d > max_ns || d < -max_ns) {
			ev->flags |= LW_EVENT_CLOCK_SKEW;
			skewed++;
		}
	}
	if (skewed > 0)
		lw_counters_add(p->counters, LW_CTR_CLOCK_SKEW, skewed);
}

static int commit(struct lw_pipeline *p);

/* Copies the batch into the builder. An event the builder refuses (out of
 * memory) cannot be stored: it is logged, never ignored silently. */
static void absorb(struct lw_pipeline *p, struct lw_batch *b)
{
	uint32_t lost = 0;

	mark_skew(p, b);
	for (uint32_t i = 0; i < b->count; i++) {
		if (lw_segment_builder_add(p->builder, &b->events[i]) != LW_OK) {
			lost++;
			continue;
		}
		if (p->first_ms == 0)
			p->first_ms = mono_ms();
		/* segment_bytes bounds the segment, not the batch: a batch
		 * (up to LW_BATCH_MAX_BYTES) may close several segments. */
		if (lw_segment_builder_raw_bytes(p->builder) >=
		    p->cfg->storage.segment_bytes && mono_ms() >= p->retry_ms)
			commit(p);
	}
	if (lost > 0) {
		char n[32];
		snprintf(n, sizeof(n), "%u", lost);
		lw_log(p->log, LW_LOG_ERR, "pipeline",
		       "cannot add events to the segment", "events", n,
		       "error", lw_strerror(LW_ENOMEM), NULL);
	}
}

static void give_back(struct lw_pipeline *p, struct lw_batch *b)
{
	int resume;

	lw_batch_reset(b);
	pthread_mutex_lock(&p->mu);
	b->next = p->free_head;
	p->free_head = b;
	resume = p->starved;
	p->starved = 0;
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->mu);
	if (resume && p->resume_cb != NULL)
		p->resume_cb(p->resume_arg);
}

/* One LMDB transaction for everything in the builder. The counters
 * snapshot stored with it already counts this segment, so `logward stats`
 * agrees with the segments it sees; on failure the counts are taken back
 * and the builder is kept for the next attempt. */
static int commit(struct lw_pipeline *p)
{
	uint32_t n = lw_segment_builder_count(p->builder);
	struct lw_diag diag;
	int rc;

	memset(&diag, 0, sizeof(diag));
	lw_counters_add(p->counters, LW_CTR_STORED, n);
	if (n > 0)
		lw_counters_add(p->counters, LW_CTR_SEGMENTS, 1);
	lw_buf_reset(&p->snap);
	lw_counters_serialize(p->counters, &p->snap);
	rc = p->snap.oom ? LW_ENOMEM :
		lw_store_commit(p->store, p->builder, p->snap.data,
				p->snap.len, &diag);
	if (rc == LW_OK) {
		p->first_ms = 0;
		p->retry_ms = 0;
		return LW_OK;
	}
	lw_counters_add(p->counters, LW_CTR_STORED, (uint64_t)0 - n);
	if (n > 0)
		lw_counters_add(p->counters, LW_CTR_SEGMENTS, (uint64_t)0 - 1);
	p->retry_ms = mono_ms() + RETRY_MS;
	lw_log(p->log, LW_LOG_ERR, "pipeline", "cannot commit segment; will retry",
	       "error", lw_strerror(rc), "detail", diag.detail, NULL);
	if (p->first_err == LW_OK) {
		p->first_err = rc;
		p->first_diag = diag;
	}
	return rc;
}

static int commit_due(struct lw_pipeline *p, int64_t now)
{
	if (lw_segment_builder_count(p->builder) == 0)
		return 0;
	if (now < p->retry_ms)
		return 0;
	if (lw_segment_builder_raw_bytes(p->builder) >= p->cfg->storage.segment_bytes)
		return 1;
	return now - p->first_ms >= (int64_t)p->cfg->storage.flush_interval_ms;
}

/* The monotonic time at which the writer must wake up to commit. */
static int64_t deadline_ms(struct lw_pipeline *p)
{
	int64_t d = p->first_ms + (int64_t)p->cfg->storage.flush_interval_ms;

	return d > p->retry_ms ? d : p->retry_ms;
}

static void wait_work(struct lw_pipeline *p)
{
	while (p->q_head == NULL && !p->stopping) {
		struct timespec ts;
		int64_t d;

		if (lw_segment_builder_count(p->builder) == 0) {
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		d = deadline_ms(p);
		if (mono_ms() >= d)
			return;
		ts.tv_sec = d / 1000;
		ts.tv_nsec = (d % 1000) * 1000000;
		pthread_cond_timedwait(&p->work, &p->mu, &ts);
	}
}

static void *writer_main(void *arg)
{
	struct lw_pipeline *p = arg;
	struct lw_batch *list;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int stop;

		wait_work(p);
		list = p->q_head;
		p->q_head = p->q_tail = NULL;
		stop = p->stopping && list == NULL;
		pthread_mutex_unlock(&p->mu);

		while (list != NULL) {
			struct lw_batch *b = list;
			list = b->next;
			absorb(p, b);
			give_back(p, b);
		}
		if (stop)
			break;
		if (commit_due(p, mono_ms()))
			commit(p);
		pthread_mutex_lock(&p->mu);
	}
	/* Clean stop: everything that was submitted is in the builder. One
	 * more try after a failure, then the error goes to the caller. */
	if (lw_segment_builder_count(p->builder) == 0)
		commit(p); /* the final counters snapshot */
	else if (commit(p) != LW_OK && commit(p) != LW_OK)
		lw_log(p->log, LW_LOG_ERR, "pipeline",
		       "events not stored at stop", NULL);
	return NULL;
}

static void destroy(struct lw_pipeline *p)
{
	for (uint32_t i = 0; i < p->nbatches; i++)
		lw_batch_free(p->batches[i]);
	free(p->batches);
	lw_segment_builder_free(p->builder);
	lw_buf_release(&p->snap);
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static int init_sync(struct lw_pipeline *p)
{
	pthread_condattr_t ca;
	int ok;

	if (pthread_condattr_init(&ca) != 0)
		return LW_ENOMEM;
	/* Deadlines are monotonic: a wall-clock step must not delay a flush. */
	ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	     pthread_mutex_init(&p->mu, NULL) == 0;
	if (ok && pthread_cond_init(&p->work, &ca) != 0) {
		pthread_mutex_destroy(&p->mu);
		ok = 0;
	}
	if (ok && pthread_cond_init(&p->freed, NULL) != 0) {
		pthread_cond_destroy(&p->work);
		pthread_mutex_destroy(&p->mu);
		ok = 0;
	}
	pthread_condattr_destroy(&ca);
	return ok ? LW_OK : LW_ENOMEM;
}

int lw_pipeline_start(const struct lw_pipeline_opts *opts,
		      struct lw_pipeline **out, struct lw_diag *diag)
{
	struct lw_pipeline *p;
	uint32_t n = opts->cfg->queue_batches ? opts->cfg->queue_batches : 2;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "pipeline: out of memory");
	if (init_sync(p) != LW_OK) {
		free(p);
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "pipeline: cannot create locks");
	}
	p->cfg = opts->cfg;
	p->store = opts->store;
	p->log = opts->log;
	p->counters = opts->counters;
	p->resume_cb = opts->resume_cb;
	p->resume_arg = opts->resume_arg;
	lw_buf_init(&p->snap);
	p->builder = lw_segment_builder_new();
	p->batches = calloc(n, sizeof(*p->batches));
	if (p->builder == NULL || p->batches == NULL)
		goto fail_nomem;
	for (p->nbatches = 0; p->nbatches < n; p->nbatches++) {
		struct lw_batch *b = lw_batch_new(opts->cfg->batch_events);
		if (b == NULL)
			goto fail_nomem;
		p->batches[p->nbatches] = b;
		b->next = p->free_head;
		p->free_head = b;
	}
	rc = pthread_create(&p->thread, NULL, writer_main, p);
	if (rc != 0) {
		lw_diag_set(diag, LW_EIO, NULL, 0, 0, "pipeline: cannot start the writer thread");
		if (diag != NULL)
			diag->sys_errno = rc;
		destroy(p);
		return LW_EIO;
	}
	p->thread_started = 1;
	*out = p;
	return LW_OK;

fail_nomem:
	destroy(p);
	return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "pipeline: out of memory");
}

struct lw_batch *lw_pipeline_acquire(struct lw_pipeline *p, int wait)
{
	struct lw_batch *b;

	pthread_mutex_lock(&p->mu);
	while (p->free_head == NULL && wait)
		pthread_cond_wait(&p->freed, &p->mu);
	b = p->free_head;
	if (b != NULL) {
		p->free_head = b->next;
		b->next = NULL;
	} else {
		p->starved = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return b;
}

void lw_pipeline_submit(struct lw_pipeline *p, struct lw_batch *batch)
{
	pthread_mutex_lock(&p->mu);
	if (batch->count == 0) {
		/* Nothing to write: straight back, and a starved producer
		 * (another thread in ingest tests) may continue. */
		lw_batch_reset(batch);
		batch->next = p->free_head;
		p->free_head = batch;
		pthread_cond_broadcast(&p->freed);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	batch->next = NULL;
	if (p->q_tail != NULL)
		p->q_tail->next = batch;
	else
		p->q_head = batch;
	p->q_tail = batch;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

int lw_pipeline_stop(struct lw_pipeline *p, struct lw_diag *diag)
{
	int rc;

	if (p == NULL)
		return LW_OK;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	if (p->thread_started)
		pthread_join(p->thread, NULL);
	/* The last attempt decides: an early failure that a retry fixed
	 * lost nothing. */
	rc = lw_segment_builder_count(p->builder) == 0 ? LW_OK : p->first_err;
	if (rc != LW_OK && diag != NULL)
		*diag = p->first_diag;
	destroy(p);
	return rc;
}
