/* The pipeline (prefix lw_pipeline): a bounded queue of batches from the
 * collector thread (or `logward ingest`) to the writer thread, which stamps
 * clock skew, builds segments and commits them (flush on segment_bytes or
 * flush_interval). Batches are preallocated (cfg->queue_batches); when none
 * is free the producer pauses: that is the backpressure and the memory bound.
 *
 * With rules, the writer also decodes, detects and correlates each event
 * before adding it to the segment, numbering events with their store seq
 * (lw_store_events_total + position), and commits the incidents raised
 * with the segment holding their events (lw_store_commit_ex).
 *
 * Batches from another node (lw_batch.origin) also move that origin's
 * high-water mark, stored in the commit of the segment holding their
 * last event (store/relay.h), then reported through committed_cb.
 *
 * The writer seals segments; a commit thread runs their transactions
 * while the writer builds the next one (at most two segments in memory).
 *
 * Threads: acquire/submit from one producer thread; the writer and commit
 * threads are internal; resume_cb runs on the writer thread. */
#ifndef LW_COLLECTOR_PIPELINE_H
#define LW_COLLECTOR_PIPELINE_H

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/event.h"
#include "core/log.h"

struct lw_store;
struct lw_store_origin;
struct lw_notifyclaim;
struct lw_pipeline;
struct lw_ruleset;
struct lw_correlation;
struct lw_notify;
struct lw_health;

struct lw_pipeline_opts {
	const struct lw_config *cfg;   /* borrowed, outlives the pipeline */
	struct lw_store *store;        /* borrowed, writable */
	const struct lw_log *log;      /* borrowed */
	struct lw_counters *counters;  /* borrowed */
	/* Optional rules (all borrowed, outliving the pipeline). With a
	 * ruleset every event is decoded and detected (lw_ruleset_apply)
	 * before it is stored, so decoder fields are stored with it. With
	 * a correlation too, its firings become incidents committed in the
	 * same transaction as the segment; its window state is restored
	 * from the store at start and saved at every commit. The writer
	 * thread owns the correlation while the pipeline runs. */
	const struct lw_ruleset *ruleset;
	struct lw_correlation *correlation;
	/* Moves correlation time to the wall clock on every flush tick
	 * (absences while nothing arrives): serve, not ingest of old files. */
	int advance_wall_clock;
	/* Clock skew is judged only against a live clock (network and
	 * journal input, events read as they are written). An import of old
	 * files sets this: no event is flagged LW_EVENT_CLOCK_SKEW, so no
	 * clock incident is raised (ingest --check-clock clears it). */
	int no_clock_check;
	/* Runs the writer, committer and rules workers at a lower priority
	 * than the producer (nice 5): serve, whose producer reads sockets
	 * that overflow (UDP) when it waits for a core; not ingest, where it
	 * only loses time to other processes of the same session. */
	int yield_to_producer;
	/* Created incidents are queued here after their commit; may be NULL. */
	struct lw_notify *notify;
	/* Storage-failure and persistent-loss incidents (borrowed, may be
	 * NULL: then commit failures are only logged). The writer thread
	 * owns it while the pipeline runs: it reports every commit and runs
	 * the loss checks, and commits the alerts as incidents. */
	struct lw_health *health;
	/* Called on the writer thread when a batch becomes free after
	 * lw_pipeline_acquire returned NULL; may be NULL. */
	void (*resume_cb)(void *arg);
	void *resume_arg;
	/* Called on the writer thread after a commit that stored events of
	 * batches with an origin (lw_batch.origin), with each origin's new
	 * high-water mark as that transaction stored it (store/relay.h):
	 * what a central node may now acknowledge. May be NULL. */
	void (*committed_cb)(void *arg, const struct lw_store_origin *o, size_t n);
	void *committed_arg;
	/* A central node's notification claims (collector/notifyclaim.h):
	 * new incidents go through it to notify instead of straight there.
	 * May be NULL. */
	struct lw_notifyclaim *claims;
};

struct lw_diags;

/* Loads the rule directories of cfg (cfg->rule_dirs) into a ruleset and a
 * correlation for it (both owned by the caller: lw_correlation_free, then
 * lw_ruleset_free). Every problem of every file goes to diags. When the
 * rules are the built-in default (cfg->rules_explicit == 0) and none of
 * the directories exists, returns LW_OK with both NULL and *no_rules = 1:
 * the caller runs without rules and says so. A directory the config names
 * that does not exist is an error (LW_EIO in diags). Errors: LW_EPARSE,
 * LW_EIO, LW_ENOMEM (*rs and *corr are NULL). */
int lw_pipeline_load_rules(const struct lw_config *cfg, struct lw_ruleset **rs,
			   struct lw_correlation **corr, struct lw_diags *diags,
			   int *no_rules);

/* Starts the writer thread. *out is closed with lw_pipeline_stop. */
int lw_pipeline_start(const struct lw_pipeline_opts *opts,
		      struct lw_pipeline **out, struct lw_diag *diag);

/* A free, empty batch, or NULL when all are in flight (if !wait). With wait
 * set it blocks until one is free. The caller owns it until submit. */
struct lw_batch *lw_pipeline_acquire(struct lw_pipeline *p, int wait);

/* Hands a filled batch to the writer (takes ownership). An empty batch is
 * simply returned to the free list. */
void lw_pipeline_submit(struct lw_pipeline *p, struct lw_batch *batch);

struct lw_ruleset_scratch;

/* A configuration generation as the writer uses it (reload): cfg, ruleset
 * and correlation borrowed while current (correlation NULL when ruleset
 * is); scratch (lw_ruleset_scratch_new(ruleset), made by the caller so
 * that the swap allocates nothing) is owned by the pipeline from the swap. */
struct lw_pipeline_gen {
	const struct lw_config *cfg;
	const struct lw_ruleset *ruleset;
	struct lw_correlation *correlation;
	struct lw_ruleset_scratch *scratch;
};

/* Called on the writer thread once the swap is applied, with the
 * generation the writer no longer references (scratch NULL: freed), for
 * the caller to free. */
typedef void (*lw_pipeline_swapped_fn)(void *arg,
				       const struct lw_pipeline_gen *old);

/* Producer thread: run with `next` from the first batch boundary after
 * every batch submitted so far (their events may borrow strings of the
 * old config). Before the swap the writer commits the firings of the old
 * rules; the window state of each correlation rule whose id and window
 * definition are unchanged is carried over (lw_correlation_save and
 * restore), other windows start empty. While commits fail the swap waits
 * (later batches use the old rules); at stop it is applied after the
 * last commit. One swap at a time: call again only after done ran. */
void lw_pipeline_swap(struct lw_pipeline *p, const struct lw_pipeline_gen *next,
		      lw_pipeline_swapped_fn done, void *arg);

/* Drains every submitted batch, commits, joins the writer and frees p.
 * Returns the first commit error seen (LW_OK when all was stored).
 *
 * Failing storage (disk full, I/O error): the writer retries with backoff
 * (250 ms doubling to 5 s) for as long as the daemon runs; the queue fills
 * and producers see backpressure. Only a producer that blocks in
 * acquire(wait=1) (ingest, or the collector draining at stop) makes the
 * writer give up, GIVE_UP_MS after it began to block while commits fail:
 * the rest is dropped and counted (dropped_store) and stop returns the
 * error. */
int lw_pipeline_stop(struct lw_pipeline *p, struct lw_diag *diag);

#endif
