/* The pipeline (prefix lw_pipeline): a bounded queue of batches from the
 * collector thread (or `logward ingest`) to the writer thread, which stamps
 * clock skew, builds segments and commits them (flush on segment_bytes or
 * flush_interval). Batches are preallocated (cfg->queue_batches); when none
 * is free the producer pauses: that is the backpressure and the memory bound.
 *
 * Threads: acquire/submit from one producer thread; the writer thread is
 * internal; resume_cb runs on the writer thread. */
#ifndef LW_COLLECTOR_PIPELINE_H
#define LW_COLLECTOR_PIPELINE_H

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/event.h"
#include "core/log.h"

struct lw_store;
struct lw_pipeline;

struct lw_pipeline_opts {
	const struct lw_config *cfg;   /* borrowed, outlives the pipeline */
	struct lw_store *store;        /* borrowed, writable */
	const struct lw_log *log;      /* borrowed */
	struct lw_counters *counters;  /* borrowed */
	/* Called on the writer thread when a batch becomes free after
	 * lw_pipeline_acquire returned NULL; may be NULL. */
	void (*resume_cb)(void *arg);
	void *resume_arg;
};

/* Starts the writer thread. *out is closed with lw_pipeline_stop. */
int lw_pipeline_start(const struct lw_pipeline_opts *opts,
		      struct lw_pipeline **out, struct lw_diag *diag);

/* A free, empty batch, or NULL when all are in flight (if !wait). With wait
 * set it blocks until one is free. The caller owns it until submit. */
struct lw_batch *lw_pipeline_acquire(struct lw_pipeline *p, int wait);

/* Hands a filled batch to the writer (takes ownership). An empty batch is
 * simply returned to the free list. */
void lw_pipeline_submit(struct lw_pipeline *p, struct lw_batch *batch);

/* Drains every submitted batch, commits, joins the writer and frees p.
 * Returns the first commit error seen (LW_OK when all was stored). */
int lw_pipeline_stop(struct lw_pipeline *p, struct lw_diag *diag);

#endif
