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
 * the batch at once (or the correlation thread does, once it has fed the
 * windows with them), so the number of batches bounds collector memory and
 * a slow commit (fsync) shows up as an empty free list: backpressure.
 *
 * Decoding and detection (lw_ruleset_apply, the largest part of the work)
 * run on worker threads (cfg->workers): each takes the first batch in the
 * queue nobody has taken, decodes and detects all its events and keeps
 * their matches beside the batch; the writer takes batches off the head
 * of the queue only, in arrival order, once their rules stage is done
 * (or does it itself when every worker is busy or there is none), then
 * builds the segment and feeds the correlation windows. So the store and
 * the windows see every event in arrival order, once, whatever the
 * number of workers. With workers there is a correlation thread too: the
 * writer hands it ranges of the events it added to the builder (with
 * their seqs) and goes on with the next ones while it feeds the windows;
 * the thread gives a batch back after its last range. Before the writer
 * reads or changes what the windows own (at a seal: the change set and
 * the pending firings; a tick; a reload) it waits for the thread to have
 * fed every event it added (corr_sync), so a commit's window state and
 * firings are exactly those of the events it stores. Across a reload a
 * worker only takes batches of the generation in force, so the matches
 * it keeps always index the rules the writer correlates with.
 *
 * Commits run on a third thread, the committer, so that the writer goes
 * on decoding and building segment N+1 while segment N is compressed,
 * indexed and fsync'ed (about a fifth of the daemon's CPU on the bench/run
 * load; with a core to spare it runs beside the writer). There is one
 * commit job, so at most two segments are in memory. The job goes
 *
 *   IDLE -> QUEUED   seal (writer): the builder and the pending firings
 *                    are swapped with the job's empty ones
 *   QUEUED -> DONE   the committer ran the transaction
 *   DONE -> IDLE     reap (writer), success: counts, logs, notifications
 *   DONE -> FAILED   reap, failure: the job keeps its segment and firings
 *   FAILED -> QUEUED the retry is due (backoff)
 *
 * A seal while the job is QUEUED waits for it, and a failed job is
 * retried before anything after it, so the store receives segments in the
 * order their events arrived. Seqs of the next segment are numbered as if
 * the job succeeds; the retry that succeeds makes that true.
 */
#include "collector/pipeline.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector/health.h"
#include "collector/metrics.h"
#include "collector/notify.h"
#include "collector/notifyclaim.h"
#include "core/buf.h"
#include "core/related.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "correlator/incident.h"
#include "correlator/response.h"
#include "correlator/ruleset.h"
#include "store/incidents.h"
#include "store/segment.h"
#include "store/store.h"

/* After a failed commit, wait before trying again so that a full disk does
 * not turn the writer into a busy loop: RETRY_MIN_MS, doubling per failure
 * up to RETRY_MAX_MS, so space that returns is used within 5 s. */
#define RETRY_MIN_MS 250
#define RETRY_MAX_MS 5000
/* A producer has been blocked on us (a stopping collector, ingest) this
 * long while commits fail: give up storing rather than hang forever. A
 * running daemon never blocks (it pauses intake instead), so it never
 * gives up. */
#define GIVE_UP_MS 5000
/* Firings waiting for the next commit (merged by rule and group). A commit
 * is forced at PENDING_COMMIT; beyond PENDING_MAX a firing waits in the
 * overflow (up to OVERFLOW_MAX, grown as needed) for the commits after,
 * and beyond that it is dropped and counted: while commits fail, or when
 * the events the correlation thread has in hand (CORR_RING) fire more
 * than about 8 windows each (18,432 firings for 2,303 events). At 192 a
 * synthetic attack mix (45k firings/s) forced a commit every few thousand
 * events: 442 small segments for 2M events and a 3.6x ratio; at 1536, 97
 * segments and 4.8x (~2.3 MB of pending firings). */
#define PENDING_MAX 2048
#define PENDING_COMMIT 1536
#define OVERFLOW_MAX (8 * PENDING_MAX)
/* The related values (core/related.h) of the last SEEN_SLOTS events that
 * matched a rule (only they can be evidence), at slot seq % SEEN_SLOTS,
 * so a firing names the entities of its evidence without reading the
 * store. Evidence older than that (a long window under a flood of other
 * matches) adds nothing; the incident keeps what earlier firings named;
 * so do events that matched no rule (evidence of host_event_rate or
 * log_source_silent: their host is the incident's host).
 * 4096 x 256 bytes = 1 MB; plus a ~2 KB lw_related_set per pending
 * firing (PENDING_MAX of them twice: up to 8 MB, touched only when used)
 * and ~3 KB per overflow firing (allocated as the overflow grows: up to
 * 50 MB, only under a flood of firings). */
#define SEEN_SLOTS 4096
#define SEEN_BYTES 248
/* The index of the pending firings by (rule, group): a power of two,
 * at least twice PENDING_MAX (a flood of firings is merged in O(1)). */
#define PENDING_TAB 4096
/* Rule firings plus lw_health's system incidents. */
#define MAX_RAISES (PENDING_MAX + LW_HEALTH_MAX_RAISES)
/* A burst that has ended is committed at once instead of after
 * flush_interval. A burst is BURST_BATCHES full batches in a row (with
 * the default 2048 events a batch: 16k events back to back, faster than
 * the collector's 50 ms partial handover at ~40k events/s); it has ended
 * when a partial batch follows and nothing comes for QUIET_MS, and the
 * builder holds at least 1/QUIET_FRACTION of segment_bytes. Such a
 * segment compresses about as well as a full one, and waiting would only
 * delay durability. Steady traffic below the burst rate comes in partial
 * batches only, so it still commits once per flush_interval. */
#define BURST_BATCHES 8
#define QUIET_MS 20
#define QUIET_FRACTION 8
/* Niceness of the writer, commit and rule threads: the thread that reads
 * the sockets (or the file) runs first when they share a core, so a
 * datagram is read before the kernel's buffer overflows, and what it
 * reads waits in the batch queue (the memory bound) instead. */
#define BACKGROUND_NICE 5
/* The metrics endpoint's store gauges are at most this old (plus a commit). */
#define STORE_GAUGES_MS 1000
/* Events the writer hands the correlation thread at a time. Larger
 * ranges gained nothing measurable: a hand-over is a mutex lock, and a
 * wake-up only when the other side sleeps. */
#define CORR_RANGE 128
/* Ranges the writer may be ahead of the correlation thread. With one
 * range (the first version) each side slept and woke at nearly every
 * range: 10k context switches of each for 1M events, and the windows'
 * thread, the slowest stage, idled whenever the writer waited for a
 * core. 16 ranges (2048 events, about 4 ms of the windows' work) cut
 * that to a few hundred (docs/performance.md "A ring of ranges"). The
 * thread feeds what is in the ring after the writer sees PENDING_COMMIT
 * reached, and one event may fire several windows, so the ring is
 * deep only while few firings wait (fewer than PENDING_CALM); then
 * the writer keeps one range ahead. At most the ring, the range being
 * fed and the one in the writer's hand (2,303 events) fire before the
 * writer's commit takes the firings: PENDING_MAX + OVERFLOW_MAX hold 8
 * firings for each (with one posted range, 6.7 for each of 384). */
#define CORR_RING 16
#define PENDING_CALM 256
/* An event the builder refused (not stored): not correlated either. */
#define NO_SEQ UINT64_MAX
/* How many events ahead of the one it adds the writer prefetches each
 * stage of the segment dictionary's lookups (lw_segment_builder_prefetch). */
static const uint32_t DICT_AHEAD[3] = {6, 3, 1};

_Static_assert((int)LW_INCIDENTS_CLOSED == (int)LW_INCIDENT_CLOSED &&
	       (int)LW_INCIDENTS_ACKNOWLEDGED == (int)LW_INCIDENT_ACKNOWLEDGED,
	       "store and correlator incident statuses differ");

/* Origins a segment holds events of, with their high-water marks; more
 * distinct origins in one segment than this seal it early. */
#define ORIGINS_MAX 64
struct origin_set {
	uint32_t n;
	char node[ORIGINS_MAX][LW_STORE_ORIGIN_MAX];
	struct lw_store_origin rec[ORIGINS_MAX];
};

/* A sealed segment and what its transaction stores besides: the firings
 * raised up to its last event, the counters snapshot, the window state
 * and lw_health's alerts. The writer fills it (seal, prepare), the
 * committer runs it (run_job), the writer reads the outcome (reap). */
struct commit_job {
	struct lw_segment_builder *builder;
	uint32_t nevents;                   /* in builder (reset by a commit) */
	struct lw_incident_fire *pending;   /* PENDING_MAX */
	struct lw_related_set *related;     /* PENDING_MAX, of pending[i] */
	uint32_t npending;
	struct lw_incidents_raise *raises;  /* MAX_RAISES */
	uint64_t *raise_ids;
	uint8_t *raise_created;
	struct lw_buf created_json;
	struct lw_buf snap;                 /* counters snapshot */
	struct lw_buf state;                /* correlation change set */
	struct lw_buf cstats;               /* per-rule correlation counts */
	struct lw_store_commit_extra x;
	struct lw_store_commit_result res;
	struct origin_set origins;
	struct lw_diag diag;
	int rc;
	int read_gauges;                    /* read the store gauges after it */
	int gauges_ok;
	struct lw_metrics_gauges gauges;
};

enum job_state { JOB_IDLE, JOB_QUEUED, JOB_DONE, JOB_FAILED };

/* A batch's rules stage (struct slot.stage). */
enum stage { STAGE_NEW, STAGE_WORKING, STAGE_DONE };

/* struct slot.mcnt of an event a worker left to the writer (its decoder
 * joins sessions: lw_ruleset_scratch_defer_joins). */
#define MATCHES_DEFERRED UINT32_MAX

/* Rules whose match-limit hits one batch carries by name (struct slot). */
#define SLOT_HITS 8

/* What the rules stage leaves beside batch `id`: each event's matches
 * (rule indices, lw_ruleset_matches) as a run in pool. */
struct slot {
	enum stage stage;        /* under mu */
	uint64_t gen;            /* rules generation the batch belongs to */
	uint32_t *moff, *mcnt;   /* [batch_events] */
	uint64_t *seq;           /* [batch_events]: store seq (NO_SEQ), for the
	                          * correlation thread */
	uint32_t *pool;
	uint32_t npool, pool_cap;
	/* each matched event's related values (seen_add's format) as a run
	 * in rel, made by the rules stage so that the correlation thread
	 * only copies them into its ring */
	uint32_t *rel_off;       /* [batch_events] */
	uint16_t *rel_len;       /* [batch_events] */
	char *rel;
	uint32_t nrel, rel_cap;
	uint64_t rules_failed;   /* events lw_ruleset_apply could not decode */
	/* Pattern match-limit hits of the batch's rules stage, per rule,
	 * for the writer to count (labelled counters have one writer).
	 * Rules past SLOT_HITS in one batch are counted in the total only. */
	struct slot_hit {
		char rule[64];
		uint64_t n;
	} hits[SLOT_HITS];
	uint32_t nhits;
	uint64_t hits_total;
};

struct lw_pipeline;

/* Events [from, to) of batch b, absorbed by the writer, for the windows;
 * last: the batch's final range, after which the correlation thread
 * gives the batch back. */
struct corr_range {
	struct lw_batch *b;
	uint32_t from, to;
	int last;
};

struct worker {
	struct lw_pipeline *p;
	pthread_t thread;
	struct lw_ruleset_scratch *scratch;
	uint64_t gen;            /* of scratch */
};

struct lw_pipeline {
	const struct lw_config *cfg;
	struct lw_store *store;
	const struct lw_log *log;
	struct lw_counters *counters;
	void (*resume_cb)(void *arg);
	void *resume_arg;
	void (*committed_cb)(void *arg, const struct lw_store_origin *o, size_t n);
	void *committed_arg;

	pthread_mutex_t mu;
	pthread_cond_t work;  /* writer waits: queue non-empty or stopping */
	pthread_cond_t freed; /* blocking acquire waits: a batch came back */
	struct lw_batch *free_head;
	struct lw_batch *q_head, *q_tail;
	int starved;  /* acquire(wait=0) returned NULL since the last resume */
	int stopping;
	/* lw_pipeline_swap: posted until applied (or refused); swap_after is
	 * the last batch queued before it (NULL: none was queued). */
	int swap_posted;
	struct lw_batch *swap_after;
	struct lw_pipeline_gen swap_next;
	lw_pipeline_swapped_fn swap_done;
	void *swap_arg;

	/* the committer (job_state changes to DONE under mu, so the writer
	 * can wait for it on `work`) */
	pthread_t committer;
	int committer_started;
	pthread_cond_t commit_cv; /* committer waits: a job queued or quit */
	int committer_quit;
	_Atomic int job_state;    /* enum job_state */
	struct commit_job job;

	/* writer thread only */
	pthread_t thread;
	int thread_started;
	struct lw_segment_builder *builder;
	int64_t first_ms;  /* monotonic ms of the oldest uncommitted event */
	int64_t last_batch_ms; /* when the writer last took batches off the queue */
	uint32_t full_streak;  /* full batches in a row, up to the last one */
	int burst_ended;       /* a partial batch followed a burst */
	int64_t state_saved_ms; /* monotonic ms of the last stored window state */
	int final_commit;  /* the stop's commit: always store the window state */
	int64_t retry_ms;  /* no commit attempt before this (after a failure) */
	int64_t failing_since_ms; /* first failure of the current run of failures, or 0 */
	int64_t retry_delay_ms;   /* backoff after the next failure */
	int producer_waiting; /* a producer blocks in acquire (under mu) */
	int64_t blocked_since_ms; /* when it (or stop) began to wait (under mu) */
	int64_t gauges_ms;        /* last publish_store_gauges */
	int gauges_stale;         /* a commit since (published at the next tick) */
	int give_up;       /* storage failed for good: batches are dropped, counted */
	int first_err;
	struct lw_diag first_diag;

	/* rules (writer thread only) */
	const struct lw_ruleset *rs;
	struct lw_ruleset_scratch *scratch;
	struct lw_correlation *corr;
	struct lw_notify *notify;
	struct lw_notifyclaim *claims;   /* NULL: straight to notify */
	struct lw_health *health;
	int advance_wall_clock;
	int no_clock_check;       /* opts->no_clock_check: an import */
	int yield_to_producer;    /* opts->yield_to_producer */
	int64_t next_tick_ms;     /* next lw_correlation_advance */
	int swap_due;             /* taken from the queue: swap at the next boundary */
	struct lw_batch *swap_wait; /* ... after absorbing this batch (NULL: now) */
	uint64_t base_seq;        /* store seq of the builder's first event */
	int64_t limit_logged_ms;  /* last "match limit" log line */
	uint64_t sessions_evicted; /* the scratch's join evictions already counted */
	/* Written by whichever thread feeds the windows; the writer's
	 * reads outside a corr_sync are hints (when to force a commit). */
	_Atomic uint32_t npending;
	struct lw_incident_fire *pending;       /* PENDING_MAX */
	/* firings beyond PENDING_MAX (allocated when first needed, freed
	 * once drained), for the commits after; owned like pending */
	struct overflow_fire {
		struct lw_incident_fire f;
		struct lw_related_set rel;
	} *over;
	uint32_t nover, over_cap;
	struct lw_related_set *related;         /* PENDING_MAX, of pending[i] */
	struct seen_event *seen;                /* SEEN_SLOTS */
	uint16_t pending_tab[PENDING_TAB];      /* pending index + 1, 0 = empty */
	struct lw_buf state;                    /* restore and carry_windows */
	/* Per-rule correlation counts of earlier runs and generations
	 * (lw_correlation_stats_text), so totals continue. */
	struct lw_buf corr_base;
	struct lw_buf cstats;                   /* the counts for health checks */

	uint32_t nbatches;
	struct lw_batch **batches;
	struct origin_set origins;  /* writer: origins of the builder's events */
	struct slot *slots;      /* [nbatches], by batch id */

	/* workers (rules stage beside the writer); everything under mu */
	struct worker *workers;
	uint32_t nworkers, live_workers, idle_workers;
	pthread_cond_t wwork;    /* workers wait: a batch to take, or quit */
	int workers_quit;
	uint64_t gen;            /* rules generation in force (swaps applied) */
	uint64_t submit_gen;     /* generation of batches submitted now */

	/* The correlation thread (lw-correlate, started with the workers):
	 * it feeds the windows with the events the writer absorbed, in
	 * their order, while the writer builds the segment. Everything the
	 * windows own (p->corr, the pending firings, seen) belongs to it
	 * between two corr_syncs; the writer touches them only after one. */
	pthread_t corr_thread;
	int corr_started;
	pthread_mutex_t cmu;
	pthread_cond_t ccv;      /* a range posted, taken or done; quit */
	/* ranges handed over, not taken yet; under cmu, like the flags */
	struct corr_range ring[CORR_RING];
	uint32_t ring_head, ring_count;
	int corr_busy, corr_quit;
	int corr_waiting;   /* the thread sleeps: the writer wakes it */
	enum { WRITER_RUNS, WRITER_WANTS_ROOM, WRITER_WANTS_SYNC } writer_waits;
	/* writer: the batch being absorbed, its events not handed over yet */
	struct lw_batch *hand_b;
	uint32_t hand_from, hand_to;
};

/* One matched event's related values: (kind byte, value, NUL)... A slot
 * never written reads as seq 0 with no values, which adds nothing. */
struct seen_event {
	uint64_t seq;
	uint16_t len;
	char data[SEEN_BYTES];
};

/* One event's related values being written (at most SEEN_BYTES). */
struct rel_out {
	char *data;
	uint16_t len;
};

static void seen_add(enum lw_related_kind k, const char *v, size_t len, void *arg)
{
	struct rel_out *o = arg;

	if (len + 2 > (size_t)(SEEN_BYTES - o->len))
		return; /* an event naming that much is rare; its rest is left out */
	o->data[o->len] = (char)k;
	memcpy(o->data + o->len + 1, v, len);
	o->data[o->len + 1 + len] = '\0';
	o->len = (uint16_t)(o->len + len + 2);
}

/* Rules stage: keeps matched event i's related values beside the batch.
 * Without the memory for them the event names no entities (its firings
 * still happen). */
static void keep_related(struct slot *sl, uint32_t i, const struct lw_event *ev)
{
	struct rel_out o;

	sl->rel_off[i] = sl->nrel;
	sl->rel_len[i] = 0;
	if (sl->rel_cap - sl->nrel < SEEN_BYTES) {
		uint32_t cap = sl->rel_cap ? 2 * sl->rel_cap : 16384;
		char *nr = realloc(sl->rel, cap);

		if (nr == NULL)
			return;
		sl->rel = nr;
		sl->rel_cap = cap;
	}
	o.data = sl->rel + sl->nrel;
	o.len = 0;
	lw_related_of_event(ev, seen_add, &o);
	sl->rel_len[i] = o.len;
	sl->nrel += o.len;
}

static void remember_related(struct lw_pipeline *p, const struct slot *sl,
			     uint32_t i, uint64_t seq)
{
	struct seen_event *s = &p->seen[seq % SEEN_SLOTS];

	s->seq = seq;
	s->len = sl->rel_len[i];
	memcpy(s->data, sl->rel + sl->rel_off[i], s->len);
}

/* Adds the related values of f's evidence still in the ring to set. */
static void related_of_fire(const struct lw_pipeline *p,
			    const struct lw_incident_fire *f,
			    struct lw_related_set *set)
{
	for (uint32_t i = 0; i < f->nevidence; i++) {
		const struct seen_event *s = &p->seen[f->evidence[i] % SEEN_SLOTS];

		if (s->seq != f->evidence[i])
			continue;
		for (uint16_t at = 0; at < s->len;) {
			size_t n = strlen(s->data + at + 1);

			lw_related_add(set, (enum lw_related_kind)s->data[at],
				       s->data + at + 1, n);
			at = (uint16_t)(at + n + 2);
		}
	}
}

static void mark_skew(struct lw_pipeline *p, const struct lw_config *cfg,
		      struct lw_batch *b)
{
	int64_t max_ns = (int64_t)cfg->max_clock_skew_s * 1000000000;
	uint64_t skewed = 0;

	if (max_ns == 0 || p->no_clock_check) /* 0 turns the check off */
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

static int flush(struct lw_pipeline *p);

static void fire_merge(struct lw_incident_fire *to,
		       const struct lw_incident_fire *f)
{
	uint64_t last = to->nevidence ? to->evidence[to->nevidence - 1] : 0;

	to->count += f->count;
	if (f->first_seen_ns < to->first_seen_ns)
		to->first_seen_ns = f->first_seen_ns;
	if (f->last_seen_ns > to->last_seen_ns)
		to->last_seen_ns = f->last_seen_ns;
	if (strcmp(to->host, f->host) != 0)
		to->host[0] = '\0';
	if (strcmp(to->zone, f->zone) != 0)
		to->zone[0] = '\0';
	for (uint32_t i = 0; i < f->nevidence; i++) {
		if (to->nevidence > 0 && f->evidence[i] <= last)
			continue; /* reported again by an overlapping window */
		if (to->nevidence == LW_INCIDENT_MAX_EVIDENCE) {
			memmove(to->evidence, to->evidence + 1,
				(LW_INCIDENT_MAX_EVIDENCE - 1) * sizeof(to->evidence[0]));
			to->nevidence--;
		}
		to->evidence[to->nevidence++] = last = f->evidence[i];
	}
}

/* The pending firings start over (they went to a commit, or a swap). */
static void pending_clear(struct lw_pipeline *p)
{
	p->npending = 0;
	memset(p->pending_tab, 0, sizeof(p->pending_tab));
}

static int keep_fire(struct lw_pipeline *p, const struct lw_incident_fire *f,
		     const struct lw_related_set *rel);

/* After a seal: the overflow's firings become the next commit's, in
 * order (merged again by rule and group). */
static void pending_refill(struct lw_pipeline *p)
{
	uint32_t n = p->nover;

	if (n == 0)
		return;
	p->nover = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct overflow_fire o;

		/* a copy: keep_fire may put it back into the array */
		memcpy(&o, &p->over[i], sizeof(o));
		keep_fire(p, &o.f, &o.rel);
	}
	if (p->nover == 0) { /* up to 50 MB after a flood: not kept */
		free(p->over);
		p->over = NULL;
		p->over_cap = 0;
	}
}

/* Room for more overflow firings, doubling up to OVERFLOW_MAX; 0 when
 * there is none. */
static int over_grow(struct lw_pipeline *p)
{
	uint32_t cap = p->over_cap ? 2 * p->over_cap : PENDING_MAX;
	struct overflow_fire *o;

	if (p->over_cap >= OVERFLOW_MAX)
		return 0;
	o = realloc(p->over, (size_t)cap * sizeof(*o));
	if (o == NULL)
		return 0;
	p->over = o;
	p->over_cap = cap;
	return 1;
}

/* Keeps the firing (copied: f is valid only during the call) for the
 * next commit, merged with one of the same identity; 1 when it is new.
 * Its related values are those of rel, or (NULL) of its evidence in the
 * ring. */
static int keep_fire(struct lw_pipeline *p, const struct lw_incident_fire *f,
		     const struct lw_related_set *rel)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)f->rule;
	uint32_t i;

	/* An informational correlation is a building block: it only feeds
	 * the correlations that reference it (docs/rules.md). */
	if (f->rule == NULL || !lw_sigma_level_raises(f->rule->level))
		return 0;
	for (const char *s = f->group; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	for (i = (uint32_t)h & (PENDING_TAB - 1); p->pending_tab[i] != 0;
	     i = (i + 1) & (PENDING_TAB - 1)) {
		struct lw_incident_fire *to = &p->pending[p->pending_tab[i] - 1];

		if (to->rule == f->rule && strcmp(to->group, f->group) == 0) {
			fire_merge(to, f);
			if (rel != NULL)
				lw_related_merge(&p->related[p->pending_tab[i] - 1], rel);
			else
				related_of_fire(p, f, &p->related[p->pending_tab[i] - 1]);
			return 0;
		}
	}
	if (p->npending == PENDING_MAX) {
		if (p->nover == p->over_cap && !over_grow(p)) {
			lw_counters_add(p->counters, LW_CTR_INCIDENTS_DROPPED, 1);
			return 0;
		}
		p->over[p->nover].f = *f;
		lw_related_clear(&p->over[p->nover].rel);
		if (rel != NULL)
			lw_related_merge(&p->over[p->nover].rel, rel);
		else
			related_of_fire(p, f, &p->over[p->nover].rel);
		p->nover++;
		return 1;
	}
	lw_related_clear(&p->related[p->npending]);
	if (rel != NULL)
		lw_related_merge(&p->related[p->npending], rel);
	else
		related_of_fire(p, f, &p->related[p->npending]);
	p->pending[p->npending] = *f;
	p->npending++;
	p->pending_tab[i] = (uint16_t)p->npending;
	return 1;
}

/* lw_incident_cb of the writer thread: a firing without events in the
 * builder (an absence tick) starts the flush interval itself. */
static void on_fire(const struct lw_incident_fire *f, void *arg)
{
	struct lw_pipeline *p = arg;

	if (keep_fire(p, f, NULL) && p->first_ms == 0)
		p->first_ms = lw_time_mono_ms();
}

/* lw_incident_cb of the correlation thread: its events are in the
 * builder, whose first one started the flush interval (first_ms is the
 * writer's). */
static void on_fire_async(const struct lw_incident_fire *f, void *arg)
{
	(void)keep_fire(arg, f, NULL);
}

/* Event i's matches, copied to the slot's pool (m.rules live only until
 * the scratch's next apply). LW_OK or LW_ENOMEM. */
static int keep_matches(struct slot *sl, uint32_t i, const struct lw_event *ev,
			const struct lw_ruleset_matches *m)
{
	sl->moff[i] = sl->npool;
	sl->mcnt[i] = 0;
	sl->rel_len[i] = 0;
	if (m->count == 0)
		return LW_OK;
	if (m->count > sl->pool_cap - sl->npool) {
		uint32_t cap = sl->pool_cap ? sl->pool_cap : 1024;
		uint32_t *np;

		while (cap - sl->npool < m->count)
			cap *= 2;
		np = realloc(sl->pool, cap * sizeof(*np));
		if (np == NULL)
			return LW_ENOMEM;
		sl->pool = np;
		sl->pool_cap = cap;
	}
	memcpy(sl->pool + sl->npool, m->rules, m->count * sizeof(*m->rules));
	sl->npool += m->count;
	sl->mcnt[i] = m->count;
	keep_related(sl, i, ev);
	return LW_OK;
}

/* lw_ruleset_scratch_take_hits' callback on a slot (struct slot.hits). */
static void slot_add_hit(const char *rule, uint64_t n, void *arg)
{
	struct slot *sl = arg;

	sl->hits_total += n;
	for (uint32_t i = 0; i < sl->nhits; i++)
		if (strcmp(sl->hits[i].rule, rule) == 0) {
			sl->hits[i].n += n;
			return;
		}
	if (sl->nhits < SLOT_HITS) {
		snprintf(sl->hits[sl->nhits].rule, sizeof(sl->hits[0].rule), "%s", rule);
		sl->hits[sl->nhits++].n = n;
	}
}

/* The rules stage of batch b, on any thread that owns b: clock skew,
 * then decoders and detection of every event in place (decoder fields
 * land in the batch arena, so the builder stores them with the event);
 * the matches go beside the batch for the writer. rs may be NULL (no
 * rules: skew only). */
static void rules_stage(struct lw_pipeline *p, struct lw_batch *b,
			const struct lw_config *cfg, const struct lw_ruleset *rs,
			struct lw_ruleset_scratch *scratch)
{
	struct slot *sl = &p->slots[b->id];

	mark_skew(p, cfg, b);
	sl->npool = 0;
	sl->nrel = 0;
	sl->rules_failed = 0;
	sl->nhits = 0;
	sl->hits_total = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct lw_ruleset_matches m;
		int rc;

		sl->moff[i] = sl->npool;
		sl->mcnt[i] = 0;
		if (rs == NULL)
			continue;
		rc = lw_ruleset_apply(rs, scratch, &b->events[i], &b->arena, &m);
		if (rc == LW_RULESET_DEFERRED) {
			sl->mcnt[i] = MATCHES_DEFERRED;
			continue;
		}
		if (rc != LW_OK) {
			sl->rules_failed++;
			continue;
		}
		if (keep_matches(sl, i, &b->events[i], &m) != LW_OK)
			sl->rules_failed++; /* decoded, but not correlated */
	}
	if (rs != NULL)
		lw_ruleset_scratch_take_hits(rs, scratch, slot_add_hit, sl);
}

#define LIMIT_LOG_MS 10000 /* at most one "match limit" line this often */

struct limit_hits {
	struct lw_pipeline *p;
	uint64_t total;
	char rule[64];     /* the rule with the most hits this time */
	uint64_t rule_hits;
};

static void add_limit_hits(const char *rule, uint64_t n, void *arg)
{
	struct limit_hits *h = arg;

	lw_counters_add_labelled(h->p->counters, LW_COUNTERS_FAMILY_REGEX_LIMIT, rule, n);
	h->total += n;
	if (n > h->rule_hits) {
		snprintf(h->rule, sizeof(h->rule), "%s", rule);
		h->rule_hits = n;
	}
}

/* Rule patterns that hit the match limit were taken as not matching:
 * counted per rule and in all, and logged (at most every LIMIT_LOG_MS),
 * never silent. */
static void publish_limit_hits(struct lw_pipeline *p, struct slot *sl)
{
	struct limit_hits h = {.p = p};
	char n[32], total[32];

	if (sl != NULL) {
		uint64_t named = 0;

		for (uint32_t i = 0; i < sl->nhits; i++) {
			add_limit_hits(sl->hits[i].rule, sl->hits[i].n, &h);
			named += sl->hits[i].n;
		}
		h.total += sl->hits_total - named;
		sl->nhits = 0;
		sl->hits_total = 0;
	}
	if (p->rs != NULL && p->scratch != NULL)
		lw_ruleset_scratch_take_hits(p->rs, p->scratch, add_limit_hits, &h);
	if (h.total == 0)
		return;
	lw_counters_add(p->counters, LW_CTR_REGEX_LIMIT_HITS, h.total);
	if (lw_time_mono_ms() - p->limit_logged_ms < LIMIT_LOG_MS)
		return;
	p->limit_logged_ms = lw_time_mono_ms();
	snprintf(n, sizeof(n), "%llu", (unsigned long long)h.rule_hits);
	snprintf(total, sizeof(total), "%llu",
		 (unsigned long long)lw_counters_get(p->counters, LW_CTR_REGEX_LIMIT_HITS));
	lw_log(p->log, LW_LOG_WARNING, "pipeline",
	       "rule pattern hit the match limit; taken as no match (a message that makes it backtrack)",
	       "rule", h.rule, "hits", n, "regex_limit_hits", total, NULL);
}

/* 1 when b's origin has, or can have, an entry in s. */
static int origin_fits(const struct origin_set *s, const struct lw_batch *b)
{
	if (s->n < ORIGINS_MAX)
		return 1;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->rec[i].node_len == b->origin_len &&
		    memcmp(s->node[i], b->origin, b->origin_len) == 0)
			return 1;
	return 0;
}

/* Records that origin seq next - 1 of b's origin is in the builder.
 * 0, or -1 when the set is full of other origins. */
static int origin_note(struct origin_set *s, const struct lw_batch *b, uint64_t next)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (s->rec[i].node_len == b->origin_len &&
		    memcmp(s->node[i], b->origin, b->origin_len) == 0)
			break;
	if (i == s->n) {
		if (s->n == ORIGINS_MAX)
			return -1;
		memcpy(s->node[i], b->origin, b->origin_len);
		s->rec[i].node = s->node[i];
		s->rec[i].node_len = b->origin_len;
		s->n++;
	}
	s->rec[i].next_seq = next;
	return 0;
}

/* The detection rules event i of the slot's batch matched, or NULL. */
static const uint32_t *matches_of(const struct slot *sl, uint32_t i)
{
	return sl->mcnt[i] > 0 ? sl->pool + sl->moff[i] : NULL;
}

/* Feeds event i of b, stored at seq, to the windows. */
static void correlate(struct lw_pipeline *p, struct lw_batch *b, uint32_t i,
		      uint64_t seq, lw_incident_cb cb)
{
	const struct slot *sl = &p->slots[b->id];

	if (sl->mcnt[i] > 0)
		remember_related(p, sl, i, seq);
	lw_correlation_process(p->corr, &b->events[i], seq, matches_of(sl, i),
			       sl->mcnt[i], cb, p);
}

/* The writer feeding the windows itself (no correlation thread): the
 * events from `from` on were prepared ahead with the seqs they get if
 * the builder takes each of them, from_seq on; `next` is the first not
 * prepared yet. */
struct ahead_chain {
	uint32_t next, from;
	uint64_t from_seq;
};

/* Feeds event i of b, stored as seq, after preparing it and the next
 * LW_CORRELATION_AHEAD events. A seq that is not the one predicted (the
 * builder refused an event before it, or a commit moved base_seq)
 * drops what was prepared and starts the chain again at i: otherwise
 * every later event of the batch would find another's set first. */
static void correlate_in_turn(struct lw_pipeline *p, struct lw_batch *b, uint32_t i,
			      uint64_t seq, struct ahead_chain *ch)
{
	const struct slot *sl = &p->slots[b->id];

	if (ch->next > i && ch->from_seq + (i - ch->from) != seq) {
		lw_correlation_ahead_drop(p->corr);
		ch->next = i;
	}
	if (ch->next <= i) {
		ch->from = ch->next = i;
		ch->from_seq = seq;
	}
	for (; ch->next < b->count && ch->next <= i + LW_CORRELATION_AHEAD; ch->next++)
		lw_correlation_ahead(p->corr, &b->events[ch->next],
				     ch->from_seq + (ch->next - ch->from),
				     matches_of(sl, ch->next), sl->mcnt[ch->next]);
	correlate(p, b, i, seq, on_fire);
}

/* Correlation thread: feeds the events of a range, each prepared
 * LW_CORRELATION_AHEAD events before its turn (lw_correlation_ahead: the
 * windows' cache misses overlap the events before it). */
static void correlate_range(struct lw_pipeline *p, const struct corr_range *r)
{
	const struct slot *sl = &p->slots[r->b->id];
	uint32_t next = r->from;

	for (uint32_t i = r->from; i < r->to; i++) {
		for (; next < r->to && next <= i + LW_CORRELATION_AHEAD; next++)
			if (sl->seq[next] != NO_SEQ)
				lw_correlation_ahead(p->corr, &r->b->events[next],
						     sl->seq[next], matches_of(sl, next),
						     sl->mcnt[next]);
		if (sl->seq[i] != NO_SEQ)
			correlate(p, r->b, i, sl->seq[i], on_fire_async);
	}
}

/* Ranges the writer may have in the ring now: few while firings pile up
 * (CORR_RING). npending is read as a hint, like in absorb. */
static uint32_t ring_limit(const struct lw_pipeline *p)
{
	return p->npending < PENDING_CALM ? CORR_RING : 1;
}

/* Writer: posts the absorbed events not handed over yet (all of the
 * batch's when last), waiting while the ring is full. */
static void hand_over(struct lw_pipeline *p, int last)
{
	struct corr_range r = {p->hand_b, p->hand_from, p->hand_to, last};

	if (!last && r.from == r.to)
		return;
	p->hand_from = p->hand_to;
	if (last)
		p->hand_b = NULL;
	pthread_mutex_lock(&p->cmu);
	while (p->ring_count >= ring_limit(p)) {
		p->writer_waits = WRITER_WANTS_ROOM;
		pthread_cond_wait(&p->ccv, &p->cmu);
	}
	p->writer_waits = WRITER_RUNS;
	p->ring[(p->ring_head + p->ring_count) % CORR_RING] = r;
	p->ring_count++;
	if (p->corr_waiting)
		pthread_cond_signal(&p->ccv);
	pthread_mutex_unlock(&p->cmu);
}

/* Writer, before it reads or changes what the windows own (a commit's
 * window state and firings, a tick, a swap): the correlation thread has
 * fed every event absorbed so far and waits. Never with mu held: the
 * thread takes mu to give batches back. */
static void corr_sync(struct lw_pipeline *p)
{
	if (!p->corr_started)
		return;
	if (p->hand_b != NULL)
		hand_over(p, 0);
	pthread_mutex_lock(&p->cmu);
	while (p->ring_count > 0 || p->corr_busy) {
		p->writer_waits = WRITER_WANTS_SYNC;
		pthread_cond_wait(&p->ccv, &p->cmu);
	}
	p->writer_waits = WRITER_RUNS;
	pthread_mutex_unlock(&p->cmu);
}

/* Copies the batch (its rules stage done) into the builder and feeds the
 * correlation windows, or hands its events to the correlation thread
 * (which then gives the batch back: returns 1). An event the builder
 * refuses (out of memory, segment cap) cannot be stored: it is counted
 * (dropped_store) and logged, never ignored silently. */
static int absorb(struct lw_pipeline *p, struct lw_batch *b)
{
	struct slot *sl = &p->slots[b->id];
	uint64_t rules_failed = sl->rules_failed;
	uint32_t lost = 0;
	struct ahead_chain chain = {0, 0, 0};
	int lost_rc = LW_OK;
	int handed = p->corr_started && p->corr != NULL;

	if (handed) {
		p->hand_b = b;
		p->hand_from = p->hand_to = 0;
	}

	/* Lines of joined sessions, left by a worker, first: the writer's
	 * scratch holds the sessions, in arrival order (only these lines
	 * touch it). Before anything is handed over: decoding them adds to
	 * the batch's arena and keep_matches may move the slot's pool, both
	 * of which the correlation thread reads. */
	for (uint32_t i = 0; i < b->count; i++) {
		struct lw_ruleset_matches m;

		if (sl->mcnt[i] != MATCHES_DEFERRED)
			continue;
		if (lw_ruleset_apply(p->rs, p->scratch, &b->events[i], &b->arena,
				     &m) != LW_OK || keep_matches(sl, i, &b->events[i], &m) != LW_OK) {
			sl->mcnt[i] = 0;
			rules_failed++;
		}
	}
	for (uint32_t i = 0; i < b->count; i++) {
		int add_rc;

		/* A segment's marks go in its own transaction: an origin the
		 * full set cannot take seals the segment before its event
		 * joins the builder, or that event would be stored without
		 * its mark (stored twice if redelivered after a crash). */
		if (b->origin_len > 0 && !origin_fits(&p->origins, b))
			flush(p);
		for (int s = 0; s < 3; s++)
			if (i + DICT_AHEAD[s] < b->count)
				lw_segment_builder_prefetch(p->builder,
							    &b->events[i + DICT_AHEAD[s]], s);
		add_rc = lw_segment_builder_add(p->builder, &b->events[i]);

		if (add_rc != LW_OK) {
			lost++;
			lost_rc = add_rc;
			if (handed) {
				sl->seq[i] = NO_SEQ;
				p->hand_to = i + 1;
			}
			continue;
		}
		/* Correlate after the add: only a stored event is evidence,
		 * and its seq is its place in the store. */
		if (p->corr != NULL) {
			uint64_t seq = p->base_seq + lw_segment_builder_count(p->builder) - 1;

			if (!handed) {
				correlate_in_turn(p, b, i, seq, &chain);
			} else {
				sl->seq[i] = seq;
				p->hand_to = i + 1;
				if (p->hand_to - p->hand_from >= CORR_RANGE)
					hand_over(p, 0);
			}
		}
		if (p->first_ms == 0)
			p->first_ms = lw_time_mono_ms();
		if (b->origin_len > 0 &&
		    origin_note(&p->origins, b, b->origin_first + i + 1) != 0) {
			/* Only while commits fail (the seal above could not
			 * run): the mark goes with the next segment that
			 * holds one of this origin's events. */
			flush(p);
			origin_note(&p->origins, b, b->origin_first + i + 1);
		}
		if (p->npending >= PENDING_COMMIT && lw_time_mono_ms() >= p->retry_ms)
			flush(p);
		/* segment_bytes bounds the segment, not the batch: a batch
		 * (up to LW_BATCH_MAX_BYTES) may close several segments. */
		if (lw_segment_builder_raw_bytes(p->builder) >=
		    p->cfg->storage.segment_bytes && lw_time_mono_ms() >= p->retry_ms)
			flush(p);
	}
	/* Events refused at the batch's end may have been prepared: the
	 * batch goes back to the pool, and its slots will hold others. */
	if (!handed && p->corr != NULL)
		lw_correlation_ahead_drop(p->corr);
	if (lost > 0) {
		char n[32];
		lw_counters_add(p->counters, LW_CTR_DROPPED_STORE, lost);
		snprintf(n, sizeof(n), "%u", lost);
		lw_log(p->log, LW_LOG_ERR, "pipeline",
		       "cannot add events to the segment", "events", n,
		       "error", lw_strerror(lost_rc), NULL);
	}
	publish_limit_hits(p, sl);
	if (p->scratch != NULL) {
		struct lw_decoder_join_stats st;

		lw_ruleset_scratch_join_stats(p->scratch, &st);
		if (st.evicted > p->sessions_evicted)
			lw_counters_add(p->counters, LW_CTR_DECODER_SESSIONS_EVICTED,
					st.evicted - p->sessions_evicted);
		p->sessions_evicted = st.evicted;
	}
	if (rules_failed > 0) {
		char n[32];
		snprintf(n, sizeof(n), "%llu", (unsigned long long)rules_failed);
		lw_log(p->log, LW_LOG_ERR, "pipeline",
		       "events stored without decoding", "events", n,
		       "error", lw_strerror(LW_ENOMEM), NULL);
	}
	/* Last: the thread may give b back (and its slot be reused) at once. */
	if (handed)
		hand_over(p, 1);
	return handed;
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

/* The store's view of pending firing i (pointers into p->pending and the
 * ruleset, both alive until the commit returns). The incident's level is
 * its rule's level. */
static void to_raise(const struct lw_incident_fire *f, struct lw_incidents_raise *r)
{
	const char *level = lw_sigma_level_name((int)f->rule->level);

	memset(r, 0, sizeof(*r));
	r->rule_id = f->rule->id;
	r->rule_title = f->rule->title;
	r->rule_level = level;
	r->category = lw_category_name((int)f->rule->category);
	r->level = level;
	r->response = f->response_json;
	r->group = f->group;
	r->host = f->host;
	r->zone = f->zone;
	r->first_seen_ns = f->first_seen_ns;
	r->last_seen_ns = f->last_seen_ns;
	r->count = f->count;
	r->nevidence = f->nevidence;
	r->evidence = f->evidence;
}

/* After the commit that stored them: one notification per new incident
 * (created_json holds one line per created raise, in raise order). */
static void notify_created(struct lw_pipeline *p, const struct commit_job *j)
{
	const char *line = j->created_json.data;
	/* data is NULL while nothing was created: NULL + 0 is undefined. */
	const char *end = line != NULL ? line + j->created_json.len : NULL;

	for (size_t i = 0; i < j->x.nraises && line != NULL && line < end; i++) {
		const char *nl;

		if (!j->raise_created[i])
			continue;
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			break;
		if (p->claims != NULL)
			lw_notifyclaim_submit(p->claims, j->raises[i].rule_id,
					      j->raises[i].group, j->raises[i].first_seen_ns,
					      line, (size_t)(nl - line),
					      lw_notify_level(j->raises[i].level));
		else
			lw_notify_submit(p->notify, line, (size_t)(nl - line),
					 lw_notify_level(j->raises[i].level));
		line = nl + 1;
	}
}

static void log_incidents(struct lw_pipeline *p, const struct lw_store_commit_result *res)
{
	char c[16], u[16];

	if (res->created == 0)
		return;
	snprintf(c, sizeof(c), "%u", res->created);
	snprintf(u, sizeof(u), "%u", res->updated);
	lw_log(p->log, LW_LOG_NOTICE, "pipeline", "incidents raised",
	       "new", c, "updated", u, NULL);
}

/* Retention after a commit (at most once per interval; the store keeps
 * the clock): logged when it deleted something or failed. Committer
 * thread: it writes to the store. */
static void retain(struct lw_pipeline *p)
{
	struct lw_store_retain_result rr;
	struct lw_diag diag = {0};
	char segs[24], evs[24], first[24];
	int rc = lw_store_retention_tick(p->store, &rr, &diag);

	if (rc != LW_OK) {
		lw_log(p->log, LW_LOG_ERR, "store", "retention failed",
		       "error", lw_strerror(rc), "detail", diag.detail, NULL);
	} else if (rr.segments > 0) {
		if (rr.unforwarded > 0) {
			snprintf(evs, sizeof(evs), "%llu", (unsigned long long)rr.unforwarded);
			lw_counters_add(p->counters, LW_CTR_DROPPED_FORWARD, rr.unforwarded);
			lw_log(p->log, LW_LOG_ERR, "store",
			       "retention deleted events not yet forwarded: storage.max_bytes reached",
			       "events", evs, NULL);
		}
		snprintf(segs, sizeof(segs), "%llu", (unsigned long long)rr.segments);
		snprintf(evs, sizeof(evs), "%llu", (unsigned long long)rr.events);
		snprintf(first, sizeof(first), "%llu", (unsigned long long)rr.first_id);
		lw_log(p->log, LW_LOG_NOTICE, "store", "retention deleted segments",
		       "segments", segs, "events", evs, "first_kept", first, NULL);
	}
}

/* lw_health's system incidents for this commit, after the rule firings,
 * with the response plan's system-failure steps (an empty plan without
 * rules). Evidence: the last event stored before this commit (first_seq
 * - 1), where any gap begins. */
static size_t health_raises(struct lw_pipeline *p, struct lw_incidents_raise *out,
			    uint64_t first_seq)
{
	const struct lw_response *r;
	const char *response = "{\"steps\":[],\"notify\":[]}", *level = "high";

	if (p->health == NULL || !lw_health_pending(p->health))
		return 0;
	r = p->rs != NULL ? lw_ruleset_response(p->rs) : NULL;
	if (r != NULL) {
		response = lw_response_json(r, LW_CAT_SYSTEM_FAILURE);
		level = lw_sigma_level_name((int)lw_response_level(r, LW_CAT_SYSTEM_FAILURE));
	}
	return lw_health_raises(p->health, out, response, level,
				first_seq - 1, first_seq > 0);
}

static int job_state(const struct lw_pipeline *p)
{
	return atomic_load(&p->job_state);
}

/* The store gauges for the metrics endpoint. Only while no commit runs:
 * a commit may grow the map, which must not happen under a reader. */
static int read_store_gauges(struct lw_pipeline *p, struct lw_metrics_gauges *g)
{
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag;
	int ok;

	memset(g, 0, sizeof(*g));
	memset(&diag, 0, sizeof(diag));
	ok = lw_store_reader_open(p->store, &rd, &diag) == LW_OK &&
	     lw_metrics_read_store(rd, g, &diag) == LW_OK;
	if (ok)
		g->map_bytes = lw_store_map_size(p->store);
	lw_store_reader_close(rd);
	return ok;
}

/* Writer thread, at most once per STORE_GAUGES_MS and never while the
 * committer works (it reads the gauges after its commits itself). */
static void publish_store_gauges(struct lw_pipeline *p, int force)
{
	struct lw_metrics_gauges g;
	int64_t now = lw_time_mono_ms();

	if (p->health == NULL || (!force && now - p->gauges_ms < STORE_GAUGES_MS) ||
	    job_state(p) == JOB_QUEUED)
		return;
	p->gauges_ms = now;
	p->gauges_stale = 0;
	if (read_store_gauges(p, &g))
		lw_health_publish_store(p->health, &g);
}

/* Writer thread: fills the job's transaction from its segment and
 * firings. The counters snapshot already counts the segment, so `logward
 * stats` agrees with the segments it sees (reap takes the counts back on
 * failure). Runs again for every retry, with fresh counters and alerts. */
static void prepare(struct lw_pipeline *p)
{
	struct commit_job *j = &p->job;
	uint64_t first_seq = j->x.first_seq;

	corr_sync(p); /* a retry reads the windows too */
	memset(&j->x, 0, sizeof(j->x));
	memset(&j->res, 0, sizeof(j->res));
	memset(&j->diag, 0, sizeof(j->diag));
	j->x.first_seq = first_seq;
	j->x.origins = j->origins.rec;
	j->x.norigins = j->origins.n;
	lw_counters_add(p->counters, LW_CTR_STORED, j->nevents);
	if (j->nevents > 0)
		lw_counters_add(p->counters, LW_CTR_SEGMENTS, 1);
	lw_buf_reset(&j->snap);
	lw_counters_serialize(p->counters, &j->snap);
	j->x.counters = j->snap.data;
	j->x.counters_len = j->snap.len;
	/* The window state is saved as a change set: the groups changed
	 * since the last one, plus a slice of the others so that older
	 * change sets can be dropped (correlator/correlation_state.h). At
	 * most once per flush_interval and always at a clean stop, so a
	 * crash loses window counts of at most one flush interval, like
	 * events. Only while the writer holds no events and no firings:
	 * then the windows have seen exactly what this transaction stores
	 * (not so on a retry after more events or an absence tick, which
	 * leaves the state to the next segment). */
	if (p->corr != NULL && lw_segment_builder_count(p->builder) == 0 &&
	    p->npending == 0 &&
	    (p->final_commit ||
	     lw_time_mono_ms() - p->state_saved_ms >= (int64_t)p->cfg->storage.flush_interval_ms)) {
		struct lw_correlation_save_info info;

		lw_buf_reset(&j->state);
		/* A clean stop writes every change, single events
		 * included: the restart is exact. */
		if (lw_correlation_save_changes(p->corr, &j->state, &info,
						p->final_commit) == LW_OK &&
		    !j->state.oom) {
			j->x.state_log = j->state.data != NULL ? j->state.data : "";
			j->x.state_log_len = j->state.len;
			j->x.state_log_seq = info.seq;
			j->x.state_log_keep_from = info.keep_from;
		}
	}
	if (p->corr != NULL) {
		lw_buf_reset(&j->cstats);
		lw_correlation_stats_text(p->corr, p->corr_base.data, p->corr_base.len,
					  &j->cstats);
		if (!j->cstats.oom && j->cstats.len > 0) {
			j->x.corr_stats = j->cstats.data;
			j->x.corr_stats_len = j->cstats.len;
		}
	}
	for (uint32_t i = 0; i < j->npending; i++) {
		to_raise(&j->pending[i], &j->raises[i]);
		j->raises[i].related = &j->related[i];
	}
	j->x.raises = j->raises;
	j->x.nraises = j->npending +
		health_raises(p, j->raises + j->npending, first_seq);
	j->res.ids = j->raise_ids;
	j->res.created_flags = j->raise_created;
	/* The JSON of each new incident is only for notifications: with no
	 * output, rendering it was 4 % of the daemon's CPU on bench/run's
	 * high-cardinality load (36k new incidents). */
	j->res.created_json = p->claims != NULL || lw_notify_outputs(p->notify) > 0 ?
			      &j->created_json : NULL;
	j->read_gauges = p->health != NULL && lw_time_mono_ms() - p->gauges_ms >= STORE_GAUGES_MS;
	j->gauges_ok = 0;
	j->rc = j->snap.oom ? LW_ENOMEM : LW_OK;
}

/* Committer thread: one LMDB transaction for the segment, its incidents
 * and the window state; then retention and the store gauges, which also
 * touch the store. */
static void run_job(struct lw_pipeline *p, struct commit_job *j)
{
	if (j->rc == LW_OK)
		j->rc = lw_store_commit_ex(p->store, j->builder, &j->x, &j->res, &j->diag);
	if (j->rc != LW_OK)
		return;
	retain(p);
	if (j->read_gauges)
		j->gauges_ok = read_store_gauges(p, &j->gauges);
}

/* Names the calling thread and, when asked (opts.yield_to_producer),
 * makes it yield to the producer (best effort: a failure only leaves it
 * at the producer's priority). */
static void background_thread(const struct lw_pipeline *p, const char *name)
{
	pthread_setname_np(pthread_self(), name);
	if (p->yield_to_producer)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), BACKGROUND_NICE);
}

/* The correlation thread: feeds the windows the ranges the writer hands
 * over, in order, and gives each batch back after its last range. Only
 * one thread waits on ccv at a time (the thread sleeps only on an empty
 * ring, the writer only on a full one or a busy thread), so a signal
 * wakes the right one. The writer is woken once half the ring is free,
 * not at every range, or, for its sync, once the ring is drained. */
static void *correlator_main(void *arg)
{
	struct lw_pipeline *p = arg;

	background_thread(p, "lw-correlate");
	pthread_mutex_lock(&p->cmu);
	for (;;) {
		struct corr_range r;

		while (p->ring_count == 0 && !p->corr_quit) {
			p->corr_waiting = 1;
			pthread_cond_wait(&p->ccv, &p->cmu);
		}
		p->corr_waiting = 0;
		if (p->ring_count == 0)
			break;
		r = p->ring[p->ring_head];
		p->ring_head = (p->ring_head + 1) % CORR_RING;
		p->ring_count--;
		p->corr_busy = 1;
		if (p->writer_waits == WRITER_WANTS_ROOM &&
		    p->ring_count < (ring_limit(p) + 1) / 2)
			pthread_cond_signal(&p->ccv);
		pthread_mutex_unlock(&p->cmu);
		correlate_range(p, &r);
		if (r.last)
			give_back(p, r.b);
		pthread_mutex_lock(&p->cmu);
		p->corr_busy = 0;
		if (p->writer_waits == WRITER_WANTS_SYNC && p->ring_count == 0)
			pthread_cond_signal(&p->ccv);
	}
	pthread_mutex_unlock(&p->cmu);
	return NULL;
}

static void *committer_main(void *arg)
{
	struct lw_pipeline *p = arg;

	background_thread(p, "lw-commit");
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (job_state(p) != JOB_QUEUED && !p->committer_quit)
			pthread_cond_wait(&p->commit_cv, &p->mu);
		if (job_state(p) != JOB_QUEUED)
			break;
		pthread_mutex_unlock(&p->mu);
		run_job(p, &p->job);
		pthread_mutex_lock(&p->mu);
		atomic_store(&p->job_state, JOB_DONE);
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void submit_job(struct lw_pipeline *p)
{
	prepare(p);
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->job_state, JOB_QUEUED);
	pthread_cond_signal(&p->commit_cv);
	pthread_mutex_unlock(&p->mu);
}

/* Writer thread, job IDLE: the builder and the pending firings go to the
 * job, whose empty builder and array the writer takes in exchange. */
static void seal(struct lw_pipeline *p)
{
	struct commit_job *j = &p->job;
	struct lw_segment_builder *b = j->builder;
	struct lw_incident_fire *f = j->pending;
	struct lw_related_set *rel = j->related;

	/* The segment's firings and window state are those of its events. */
	corr_sync(p);
	j->builder = p->builder;
	p->builder = b;
	lw_segment_builder_set_level(j->builder, (int)p->cfg->storage.compression_level);
	j->pending = p->pending;
	p->pending = f;
	j->related = p->related;
	p->related = rel;
	j->npending = p->npending;
	pending_clear(p);
	pending_refill(p);
	j->nevents = lw_segment_builder_count(j->builder);
	j->origins.n = p->origins.n;
	for (uint32_t i = 0; i < p->origins.n; i++) {
		memcpy(j->origins.node[i], p->origins.node[i], p->origins.rec[i].node_len);
		j->origins.rec[i] = p->origins.rec[i];
		j->origins.rec[i].node = j->origins.node[i];
	}
	p->origins.n = 0;
	j->x.first_seq = p->base_seq;
	p->base_seq += j->nevents;
	p->first_ms = 0;
	submit_job(p);
}

/* Writer thread: takes the outcome of a finished commit (job DONE). On
 * success, what follows a commit (counts, logs, notifications, health);
 * on failure the counts are taken back, the job keeps its segment and
 * firings, and the retry waits RETRY_MIN_MS doubling to RETRY_MAX_MS. */
static void reap(struct lw_pipeline *p)
{
	struct commit_job *j = &p->job;
	int64_t now;

	if (job_state(p) != JOB_DONE)
		return;
	now = lw_time_mono_ms();
	if (j->rc == LW_OK) {
		if (j->x.state_log != NULL)
			p->state_saved_ms = now;
		/* Another process may have committed first (the store moved
		 * the seqs): exact again from the next empty builder on. */
		if (lw_segment_builder_count(p->builder) == 0 && p->npending == 0)
			p->base_seq = j->res.first_seq + j->nevents;
		p->retry_ms = 0;
		p->failing_since_ms = 0;
		p->retry_delay_ms = 0;
		lw_counters_add(p->counters, LW_CTR_INCIDENTS_RAISED, j->res.created);
		lw_counters_add(p->counters, LW_CTR_INCIDENTS_UPDATED, j->res.updated);
		log_incidents(p, &j->res);
		notify_created(p, j);
		if (j->origins.n > 0 && p->committed_cb != NULL)
			p->committed_cb(p->committed_arg, j->origins.rec, j->origins.n);
		j->origins.n = 0;
		j->npending = 0;
		j->nevents = 0;
		if (p->health != NULL) {
			lw_health_committed(p->health);
			lw_health_storage_ok(p->health, now);
			if (j->x.corr_stats != NULL)
				lw_health_correlation(p->health, j->cstats.data, j->cstats.len,
						      now, lw_time_now_ns());
			if (j->gauges_ok) {
				lw_health_publish_store(p->health, &j->gauges);
				p->gauges_ms = now;
				p->gauges_stale = 0;
			} else {
				p->gauges_stale = 1;
			}
		}
		atomic_store(&p->job_state, JOB_IDLE);
		return;
	}
	lw_counters_add(p->counters, LW_CTR_STORED, (uint64_t)0 - j->nevents);
	if (j->nevents > 0)
		lw_counters_add(p->counters, LW_CTR_SEGMENTS, (uint64_t)0 - 1);
	/* Its change set was not stored: the next one holds everything. */
	if (j->x.state_log != NULL && p->corr != NULL) {
		corr_sync(p);
		lw_correlation_save_failed(p->corr);
	}
	p->retry_delay_ms = p->retry_delay_ms == 0 ? RETRY_MIN_MS :
		p->retry_delay_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : p->retry_delay_ms * 2;
	p->retry_ms = now + p->retry_delay_ms;
	if (p->failing_since_ms == 0)
		p->failing_since_ms = now;
	if (p->health != NULL)
		lw_health_storage_failed(p->health, j->rc, j->diag.detail, now,
					 lw_time_now_ns());
	else
		lw_log(p->log, LW_LOG_ERR, "pipeline", "cannot commit segment; will retry",
		       "error", lw_strerror(j->rc), "detail", j->diag.detail, NULL);
	if (p->first_err == LW_OK) {
		p->first_err = j->rc;
		p->first_diag = j->diag;
	}
	atomic_store(&p->job_state, JOB_FAILED);
}

/* Writer thread: waits while the committer works, then reaps. */
static void wait_job(struct lw_pipeline *p)
{
	pthread_mutex_lock(&p->mu);
	while (job_state(p) == JOB_QUEUED)
		pthread_cond_wait(&p->work, &p->mu);
	pthread_mutex_unlock(&p->mu);
	reap(p);
}

/* Writer thread: starts the commit of the builder and the pending
 * firings, waiting first for a commit in progress. A failed job goes
 * first; while its retry is not due, or fails again, the builder stays
 * as it is and its error is returned. */
static int flush(struct lw_pipeline *p)
{
	for (;;) {
		switch (job_state(p)) {
		case JOB_IDLE:
			seal(p);
			return LW_OK;
		case JOB_FAILED:
			if (lw_time_mono_ms() < p->retry_ms)
				return p->job.rc;
			submit_job(p);
			wait_job(p);
			if (job_state(p) == JOB_FAILED)
				return p->job.rc;
			break;
		default:
			wait_job(p);
			break;
		}
	}
}

/* Writer thread: flush, then wait for that commit. LW_OK when everything
 * absorbed so far is stored. */
static int commit_sync(struct lw_pipeline *p)
{
	int rc = flush(p);

	if (rc != LW_OK)
		return rc;
	wait_job(p);
	return job_state(p) == JOB_IDLE ? LW_OK : p->job.rc;
}

/* Writer thread, a commit is due: like flush, but a busy committer is not
 * waited for (its end wakes the writer) and a failed job is only
 * resubmitted, without waiting. */
static void kick(struct lw_pipeline *p)
{
	reap(p);
	if (job_state(p) == JOB_IDLE)
		seal(p);
	else if (job_state(p) == JOB_FAILED && lw_time_mono_ms() >= p->retry_ms)
		submit_job(p);
}

static int health_pending(const struct lw_pipeline *p)
{
	return p->health != NULL && lw_health_pending(p->health);
}

/* A burst ended with enough in the builder to commit once the input
 * stays quiet (QUIET_MS). */
static int burst_over(const struct lw_pipeline *p)
{
	return p->burst_ended && lw_segment_builder_raw_bytes(p->builder) >=
	       p->cfg->storage.segment_bytes / QUIET_FRACTION;
}

static void note_batch(struct lw_pipeline *p, const struct lw_batch *b)
{
	if (lw_batch_full(b)) {
		p->full_streak++;
		p->burst_ended = 0;
	} else {
		p->burst_ended = p->full_streak >= BURST_BATCHES;
		p->full_streak = 0;
	}
}

static int commit_due(struct lw_pipeline *p, int64_t now)
{
	int st = job_state(p);

	if (st == JOB_QUEUED || st == JOB_DONE)
		return 0; /* the commit's end wakes the writer, which reaps it */
	if (st == JOB_FAILED)
		return now >= p->retry_ms;
	if (lw_segment_builder_count(p->builder) == 0 && p->npending == 0 &&
	    !health_pending(p))
		return 0;
	if (now < p->retry_ms)
		return 0;
	if (health_pending(p))
		return 1; /* an incident about logward itself: store it now */
	if (lw_segment_builder_raw_bytes(p->builder) >= p->cfg->storage.segment_bytes)
		return 1;
	if (burst_over(p) && now - p->last_batch_ms >= QUIET_MS)
		return 1;
	return now - p->first_ms >= (int64_t)p->cfg->storage.flush_interval_ms;
}

/* The next correlation tick or health check, INT64_MAX when neither. */
static int64_t next_tick(const struct lw_pipeline *p)
{
	int64_t t = INT64_MAX;

	if (p->corr != NULL && p->advance_wall_clock)
		t = p->next_tick_ms;
	if (p->health != NULL && lw_health_next_check_ms(p->health) < t)
		t = lw_health_next_check_ms(p->health);
	if (p->health != NULL && p->corr != NULL &&
	    lw_health_next_shed_check_ms(p->health) < t)
		t = lw_health_next_shed_check_ms(p->health);
	/* Stale gauges wait for the committer, which reads them itself. */
	if (p->gauges_stale && job_state(p) != JOB_QUEUED &&
	    p->gauges_ms + STORE_GAUGES_MS < t)
		t = p->gauges_ms + STORE_GAUGES_MS;
	return t;
}

/* The monotonic time at which the writer must wake up to commit. */
static int64_t deadline_ms(struct lw_pipeline *p)
{
	int64_t d = p->first_ms + (int64_t)p->cfg->storage.flush_interval_ms;
	int64_t tick = next_tick(p);
	int st = job_state(p);

	if (st == JOB_QUEUED || st == JOB_DONE)
		return tick; /* the commit's end wakes the writer */
	if (st == JOB_FAILED)
		return p->retry_ms > tick ? tick : p->retry_ms;
	if (health_pending(p))
		return p->retry_ms > tick ? tick : p->retry_ms;
	if (lw_segment_builder_count(p->builder) == 0 && p->npending == 0)
		return tick; /* only the correlation tick or a health check is due */
	if (burst_over(p) && p->last_batch_ms + QUIET_MS < d)
		d = p->last_batch_ms + QUIET_MS;
	if (tick < d)
		d = tick;
	return d > p->retry_ms ? d : p->retry_ms;
}

/* Correlation time follows the wall clock while nothing arrives, so a
 * silent source raises its absence incident (serve only). */
static void tick(struct lw_pipeline *p, int64_t now)
{
	if (p->health != NULL) {
		lw_health_check(p->health, p->counters, now, lw_time_now_ns());
		if (p->corr != NULL && now >= lw_health_next_shed_check_ms(p->health)) {
			corr_sync(p);
			lw_buf_reset(&p->cstats);
			lw_correlation_stats_text(p->corr, p->corr_base.data,
						  p->corr_base.len, &p->cstats);
			if (!p->cstats.oom)
				lw_health_correlation(p->health, p->cstats.data,
						      p->cstats.len, now, lw_time_now_ns());
		}
		if (p->gauges_stale)
			publish_store_gauges(p, 0);
	}
	if (p->corr == NULL || !p->advance_wall_clock || now < p->next_tick_ms)
		return;
	p->next_tick_ms = now + (int64_t)p->cfg->storage.flush_interval_ms;
	corr_sync(p);
	lw_correlation_advance(p->corr, lw_time_now_ns(), on_fire, p);
}

/* The head batch can be taken by the writer: its rules stage is done,
 * or nobody has started it and no worker is free to (under mu). */
static int head_ready(const struct lw_pipeline *p)
{
	const struct lw_batch *b = p->q_head;

	if (b == NULL)
		return 0;
	if (p->slots[b->id].stage == STAGE_DONE)
		return 1;
	/* A free worker that may take it (worker_pick) will. */
	return p->slots[b->id].stage == STAGE_NEW &&
	       !(p->idle_workers > 0 && p->rs != NULL && p->slots[b->id].gen == p->gen);
}

static void wait_work(struct lw_pipeline *p)
{
	while (!head_ready(p) && !(p->stopping && p->q_head == NULL) &&
	       !(p->swap_posted && !p->swap_due) && job_state(p) != JOB_DONE) {
		struct timespec ts;
		int64_t d = deadline_ms(p);

		if (d == INT64_MAX) {
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		if (lw_time_mono_ms() >= d)
			return;
		ts.tv_sec = d / 1000;
		ts.tv_nsec = (d % 1000) * 1000000;
		pthread_cond_timedwait(&p->work, &p->mu, &ts);
	}
}

/* The builder holds a full segment and cannot be sealed: the job before
 * it failed, or its retry is running. (A seal that finds a commit running
 * waits for it in flush, so outside failures this is never true for
 * long.) */
static int commit_stalled(const struct lw_pipeline *p)
{
	return job_state(p) != JOB_IDLE &&
	       lw_segment_builder_raw_bytes(p->builder) >= p->cfg->storage.segment_bytes;
}

/* While commits fail, queued batches stay queued: no batch comes back to
 * the free list, so the collector runs out of batches and pauses its
 * readers (UDP drops are counted) -- backpressure to the senders instead
 * of a builder growing without bound. Called and returns with mu held;
 * returns 0 when the writer should give up: a producer is blocked on it
 * (a stopping collector, ingest) or the pipeline is stopping, and commits
 * have failed for GIVE_UP_MS. */
static int wait_for_commit(struct lw_pipeline *p)
{
	while (commit_stalled(p)) {
		int64_t now = lw_time_mono_ms();
		int64_t since = p->failing_since_ms > p->blocked_since_ms ?
			p->failing_since_ms : p->blocked_since_ms;

		if ((p->producer_waiting || p->stopping) && p->failing_since_ms != 0 &&
		    now - since >= GIVE_UP_MS)
			return 0;
		/* Loss checks go on while storage fails. Without mu: a tick
		 * may wait for the correlation thread, which takes it. The
		 * job's state is read again below, under mu. */
		pthread_mutex_unlock(&p->mu);
		tick(p, now);
		pthread_mutex_lock(&p->mu);
		if (job_state(p) == JOB_QUEUED) {
			/* A retry runs; its end signals `work`. */
			int64_t d = next_tick(p);
			struct timespec ts = {d / 1000, (d % 1000) * 1000000};

			if (d == INT64_MAX)
				pthread_cond_wait(&p->work, &p->mu);
			else
				pthread_cond_timedwait(&p->work, &p->mu, &ts);
			continue;
		}
		if (job_state(p) == JOB_FAILED && now < p->retry_ms && !p->stopping) {
			int64_t d = next_tick(p) < p->retry_ms ? next_tick(p) : p->retry_ms;
			struct timespec ts = {d / 1000, (d % 1000) * 1000000};

			pthread_cond_timedwait(&p->work, &p->mu, &ts);
			continue;
		}
		if (p->stopping)
			p->retry_ms = 0; /* one more attempt before giving up */
		pthread_mutex_unlock(&p->mu);
		flush(p); /* reaps a finished retry, or retries */
		pthread_mutex_lock(&p->mu);
		if (p->stopping && commit_stalled(p))
			return 0;
	}
	return 1;
}

/* Windows of rules whose id and window definition did not change go on
 * in next; the others start empty there (lw_correlation_restore). */
static void carry_windows(struct lw_pipeline *p, struct lw_correlation *next)
{
	struct lw_diag d;

	memset(&d, 0, sizeof(d));
	lw_buf_reset(&p->state);
	if (lw_correlation_save(p->corr, &p->state) != LW_OK || p->state.oom ||
	    lw_correlation_restore(next, p->state.data, p->state.len, &d) != LW_OK)
		lw_log(p->log, LW_LOG_WARNING, "pipeline",
		       "correlation windows not carried over; they start empty",
		       "detail", d.detail[0] ? d.detail : lw_strerror(LW_ENOMEM), NULL);
}

/* Runs with the posted generation from now on; allocates nothing, so it
 * cannot fail half-way. No firing of the old rules may be pending (they
 * point into the old ruleset), except at stop, where they are lost. */
static void apply_swap(struct lw_pipeline *p)
{
	struct lw_pipeline_gen old = {p->cfg, p->rs, p->corr, NULL}, next;
	lw_pipeline_swapped_fn done;
	void *arg;

	corr_sync(p);
	pthread_mutex_lock(&p->mu);
	next = p->swap_next;
	done = p->swap_done;
	arg = p->swap_arg;
	pthread_mutex_unlock(&p->mu);
	if (p->corr != NULL && next.correlation != NULL)
		carry_windows(p, next.correlation);
	publish_limit_hits(p, NULL); /* the old scratch's counts go with it */
	if (p->corr != NULL) {
		/* The old rules' counts go on in the base of the new ones. */
		struct lw_buf t = p->state;

		lw_buf_reset(&t);
		lw_correlation_stats_text(p->corr, p->corr_base.data, p->corr_base.len, &t);
		if (!t.oom) {
			p->state = p->corr_base;
			p->corr_base = t;
		} else {
			p->state = t;
		}
	}
	lw_ruleset_scratch_free(p->scratch);
	p->scratch = next.scratch;
	p->sessions_evicted = 0; /* a new scratch counts from zero */
	p->cfg = next.cfg;
	p->rs = next.ruleset;
	p->corr = next.ruleset != NULL ? next.correlation : NULL;
	pending_clear(p);
	p->nover = 0; /* only at stop: counted there */
	p->state_saved_ms = 0; /* the next commit stores the new windows */
	p->swap_due = 0;
	p->swap_wait = NULL;
	pthread_mutex_lock(&p->mu);
	p->swap_posted = 0; /* before done: it may post the next swap */
	p->gen++;           /* workers take the new generation's batches */
	pthread_cond_broadcast(&p->wwork);
	pthread_mutex_unlock(&p->mu);
	done(arg, &old);
}

/* The swap check at a batch boundary: b is the batch just absorbed, NULL
 * before the first batch of a list. */
static void swap_at_boundary(struct lw_pipeline *p, const struct lw_batch *b)
{
	if (!p->swap_due)
		return;
	if (p->swap_wait != NULL) {
		if (b != p->swap_wait)
			return;
		p->swap_wait = NULL;
	}
	/* No transaction may run with strings of the old rules (a job's
	 * firings and response plan), and the old rules' firings are
	 * committed first; while that fails the swap waits for a later
	 * boundary. A failed job without firings is rebuilt at its retry. */
	wait_job(p);
	corr_sync(p);
	/* (more than one commit when firings wait in the overflow) */
	while (p->npending > 0 || (job_state(p) == JOB_FAILED && p->job.npending > 0))
		if (lw_time_mono_ms() < p->retry_ms || commit_sync(p) != LW_OK)
			return;
	apply_swap(p);
}

/* Takes the head batch off the queue for the writer (under mu), or NULL;
 * *own says the writer runs its rules stage itself. */
static struct lw_batch *take_head(struct lw_pipeline *p, int *own)
{
	struct lw_batch *b = p->q_head;

	*own = 0;
	if (!head_ready(p))
		return NULL;
	if (p->slots[b->id].stage == STAGE_NEW) {
		p->slots[b->id].stage = STAGE_WORKING;
		*own = 1;
	}
	p->q_head = b->next;
	if (p->q_head == NULL)
		p->q_tail = NULL;
	b->next = NULL;
	p->last_batch_ms = lw_time_mono_ms();
	return b;
}

static void *writer_main(void *arg)
{
	struct lw_pipeline *p = arg;
	int rc;

	background_thread(p, "lw-writer");
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct lw_batch *b;
		int stop, own;

		if (!p->give_up && !wait_for_commit(p)) {
			p->give_up = 1;
			lw_log(p->log, LW_LOG_ERR, "pipeline",
			       "storage keeps failing; dropping queued events",
			       "counter", "dropped_store", NULL);
		}
		wait_work(p);
		if (p->swap_posted && !p->swap_due) {
			p->swap_due = 1;
			p->swap_wait = p->swap_after;
		}
		b = take_head(p, &own);
		stop = p->stopping && b == NULL && p->q_head == NULL;
		pthread_mutex_unlock(&p->mu);

		swap_at_boundary(p, NULL);
		if (b != NULL) {
			int handed = 0;

			note_batch(p, b);
			if (p->give_up) {
				lw_counters_add(p->counters, LW_CTR_DROPPED_STORE, b->count);
			} else {
				if (own)
					rules_stage(p, b, p->cfg, p->rs, p->scratch);
				handed = absorb(p, b);
			}
			swap_at_boundary(p, b); /* b only compared: it may be back */
			if (!handed)
				give_back(p, b);
		}
		if (stop)
			break;
		reap(p);
		tick(p, lw_time_mono_ms());
		if (commit_due(p, lw_time_mono_ms()))
			kick(p);
		pthread_mutex_lock(&p->mu);
	}
	/* Clean stop: everything that was submitted is in the builder (or
	 * the job). The final commit always runs (the last counters snapshot
	 * and window state); one more try after a failure, then the error
	 * goes to the caller. */
	p->final_commit = 1;
	wait_job(p);
	p->retry_ms = 0;
	rc = commit_sync(p);
	if (rc != LW_OK) {
		p->retry_ms = 0;
		rc = commit_sync(p);
	}
	/* Firings that waited in the overflow: one more commit each. */
	while (rc == LW_OK && p->npending > 0)
		rc = commit_sync(p);
	if (rc != LW_OK) {
		uint32_t lost = lw_segment_builder_count(p->builder);

		if (job_state(p) == JOB_FAILED)
			lost += lw_segment_builder_count(p->job.builder);
		lw_counters_add(p->counters, LW_CTR_DROPPED_STORE, lost);
		lw_log(p->log, LW_LOG_ERR, "pipeline",
		       "events not stored at stop", NULL);
		/* A swap below counts them itself. */
		if (!p->swap_due)
			lw_counters_add(p->counters, LW_CTR_INCIDENTS_DROPPED,
					p->npending + p->nover +
					(job_state(p) == JOB_FAILED ? p->job.npending : 0));
	}
	if (p->swap_due) {
		lw_counters_add(p->counters, LW_CTR_INCIDENTS_DROPPED,
				p->npending + p->nover +
				(job_state(p) == JOB_FAILED ? p->job.npending : 0));
		apply_swap(p); /* so that done frees what it must */
	}
	return NULL;
}

/* The first batch a worker may take (under mu): not started, of the
 * rules generation in force (a batch submitted after a posted reload
 * waits for it), with rules to run. */
static struct lw_batch *worker_pick(struct lw_pipeline *p)
{
	if (p->rs == NULL)
		return NULL;
	for (struct lw_batch *b = p->q_head; b != NULL; b = b->next) {
		struct slot *sl = &p->slots[b->id];

		if (sl->stage == STAGE_NEW && sl->gen == p->gen)
			return b;
	}
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct lw_pipeline *p = wk->p;

	background_thread(p, "lw-rules");
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct lw_batch *b = worker_pick(p);
		const struct lw_ruleset *rs;
		const struct lw_config *cfg;
		uint64_t gen;

		if (b == NULL) {
			if (p->workers_quit)
				break;
			p->idle_workers++;
			pthread_cond_wait(&p->wwork, &p->mu);
			p->idle_workers--;
			continue;
		}
		p->slots[b->id].stage = STAGE_WORKING;
		rs = p->rs;
		cfg = p->cfg;
		gen = p->gen;
		pthread_mutex_unlock(&p->mu);
		if (wk->scratch == NULL || wk->gen != gen) {
			/* Scratch holds its own compiled patterns: free of
			 * any ruleset, so the old one may be gone already. */
			lw_ruleset_scratch_free(wk->scratch);
			wk->scratch = lw_ruleset_scratch_new(rs);
			if (wk->scratch != NULL)
				lw_ruleset_scratch_defer_joins(wk->scratch);
			wk->gen = gen;
		}
		if (wk->scratch == NULL) {
			/* No memory for a scratch: this worker stops, the
			 * batch goes back for the writer or another. */
			pthread_mutex_lock(&p->mu);
			p->slots[b->id].stage = STAGE_NEW;
			p->live_workers--;
			pthread_cond_signal(&p->work);
			break;
		}
		rules_stage(p, b, cfg, rs, wk->scratch);
		pthread_mutex_lock(&p->mu);
		p->slots[b->id].stage = STAGE_DONE;
		if (b == p->q_head)
			pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	lw_ruleset_scratch_free(wk->scratch);
	wk->scratch = NULL;
	return NULL;
}

static void stop_workers(struct lw_pipeline *p)
{
	pthread_mutex_lock(&p->mu);
	p->workers_quit = 1;
	pthread_cond_broadcast(&p->wwork);
	pthread_mutex_unlock(&p->mu);
	for (uint32_t i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i].thread, NULL);
	p->nworkers = 0;
}

/* After the writer: what it handed over last is fed before the thread
 * ends (it waits only when nothing is posted). */
static void stop_correlator(struct lw_pipeline *p)
{
	if (!p->corr_started)
		return;
	pthread_mutex_lock(&p->cmu);
	p->corr_quit = 1;
	pthread_cond_broadcast(&p->ccv);
	pthread_mutex_unlock(&p->cmu);
	pthread_join(p->corr_thread, NULL);
	p->corr_started = 0;
}

static void stop_committer(struct lw_pipeline *p)
{
	if (!p->committer_started)
		return;
	pthread_mutex_lock(&p->mu);
	p->committer_quit = 1;
	pthread_cond_signal(&p->commit_cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->committer, NULL);
	p->committer_started = 0;
}

static void destroy(struct lw_pipeline *p)
{
	for (uint32_t i = 0; i < p->nbatches; i++)
		lw_batch_free(p->batches[i]);
	free(p->batches);
	lw_segment_builder_free(p->builder);
	lw_segment_builder_free(p->job.builder);
	lw_ruleset_scratch_free(p->scratch);
	for (uint32_t i = 0; p->slots != NULL && i < p->nbatches; i++) {
		free(p->slots[i].moff);
		free(p->slots[i].mcnt);
		free(p->slots[i].seq);
		free(p->slots[i].pool);
		free(p->slots[i].rel_off);
		free(p->slots[i].rel_len);
		free(p->slots[i].rel);
	}
	free(p->slots);
	free(p->workers);
	free(p->pending);
	free(p->over);
	free(p->job.pending);
	free(p->related);
	free(p->job.related);
	free(p->seen);
	free(p->job.raises);
	free(p->job.raise_ids);
	free(p->job.raise_created);
	lw_buf_release(&p->job.created_json);
	lw_buf_release(&p->job.snap);
	lw_buf_release(&p->job.state);
	lw_buf_release(&p->job.cstats);
	lw_buf_release(&p->state);
	lw_buf_release(&p->corr_base);
	lw_buf_release(&p->cstats);
	pthread_cond_destroy(&p->ccv);
	pthread_mutex_destroy(&p->cmu);
	pthread_cond_destroy(&p->wwork);
	pthread_cond_destroy(&p->commit_cv);
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static int init_sync(struct lw_pipeline *p)
{
	pthread_condattr_t ca;
	int rc = LW_ENOMEM;

	if (pthread_condattr_init(&ca) != 0)
		return LW_ENOMEM;
	/* Deadlines are monotonic: a wall-clock step must not delay a flush. */
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_mutex_init(&p->mu, NULL) != 0)
		goto out;
	if (pthread_cond_init(&p->work, &ca) != 0)
		goto no_work;
	if (pthread_cond_init(&p->freed, NULL) != 0)
		goto no_freed;
	if (pthread_cond_init(&p->commit_cv, NULL) != 0)
		goto no_commit_cv;
	if (pthread_cond_init(&p->wwork, NULL) != 0)
		goto no_wwork;
	if (pthread_mutex_init(&p->cmu, NULL) != 0)
		goto no_cmu;
	if (pthread_cond_init(&p->ccv, NULL) != 0)
		goto no_ccv;
	rc = LW_OK;
	goto out;
no_ccv:
	pthread_mutex_destroy(&p->cmu);
no_cmu:
	pthread_cond_destroy(&p->wwork);
no_wwork:
	pthread_cond_destroy(&p->commit_cv);
no_commit_cv:
	pthread_cond_destroy(&p->freed);
no_freed:
	pthread_cond_destroy(&p->work);
no_work:
	pthread_mutex_destroy(&p->mu);
out:
	pthread_condattr_destroy(&ca);
	return rc;
}

static int restore_windows(struct lw_pipeline *p, struct lw_diag *diag);

/* Ruleset scratch, the pending-incident arrays, the first seq, and the
 * correlation state of the last commit. A state the correlator rejects
 * (corrupt, other version) is logged and windows start empty. */
static int init_rules(struct lw_pipeline *p, const struct lw_pipeline_opts *opts,
		      struct lw_diag *diag)
{
	int rc;

	p->rs = opts->ruleset;
	p->corr = opts->ruleset != NULL ? opts->correlation : NULL;
	p->notify = opts->notify;
	p->claims = opts->claims;
	p->health = opts->health;
	p->advance_wall_clock = opts->advance_wall_clock;
	p->no_clock_check = opts->no_clock_check;
	p->yield_to_producer = opts->yield_to_producer;
	p->next_tick_ms = lw_time_mono_ms() + (int64_t)p->cfg->storage.flush_interval_ms;
	rc = lw_store_events_total(p->store, &p->base_seq, diag);
	if (rc != LW_OK)
		return rc;
	/* Allocated even without rules: lw_health raises incidents without
	 * rules, and a reload may bring rules (lw_pipeline_swap); calloc'd
	 * pages cost nothing until touched. */
	p->pending = calloc(PENDING_MAX, sizeof(*p->pending));
	p->job.pending = calloc(PENDING_MAX, sizeof(*p->job.pending));
	p->related = calloc(PENDING_MAX, sizeof(*p->related));
	p->job.related = calloc(PENDING_MAX, sizeof(*p->job.related));
	p->seen = calloc(SEEN_SLOTS, sizeof(*p->seen));
	p->job.raises = calloc(MAX_RAISES, sizeof(*p->job.raises));
	p->job.raise_ids = calloc(MAX_RAISES, sizeof(*p->job.raise_ids));
	p->job.raise_created = calloc(MAX_RAISES, sizeof(*p->job.raise_created));
	if (p->rs != NULL)
		p->scratch = lw_ruleset_scratch_new(p->rs);
	if ((p->rs != NULL && p->scratch == NULL) || p->pending == NULL ||
	    p->job.pending == NULL || p->related == NULL ||
	    p->job.related == NULL || p->seen == NULL || p->job.raises == NULL ||
	    p->job.raise_ids == NULL || p->job.raise_created == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "pipeline: out of memory");
	if (lw_store_load_corr_stats(p->store, &p->corr_base, NULL) != LW_OK)
		lw_buf_reset(&p->corr_base); /* counts start over: not fatal */
	if (p->corr == NULL)
		return LW_OK;
	return restore_windows(p, diag);
}

struct restoring {
	struct lw_pipeline *p;
	struct lw_diag d;
	uint64_t sets, bytes;
};

static int on_change_set(void *arg, uint64_t seq, const void *data, size_t len)
{
	struct restoring *r = arg;

	r->sets++;
	r->bytes += len;
	return lw_correlation_restore_apply(r->p->corr, seq, data, len, &r->d);
}

/* The correlation windows of the last commit, from the stored change
 * sets. State the correlator rejects (corrupt, another version) is
 * logged and the windows start empty. */
static int restore_windows(struct lw_pipeline *p, struct lw_diag *diag)
{
	struct restoring r;
	struct lw_correlation_stats cs;
	int64_t t0 = lw_time_mono_ms();
	int legacy = 0, rc;
	char groups[24], sets[24], ms[24], mb[24];

	memset(&r, 0, sizeof(r));
	r.p = p;
	lw_correlation_restore_begin(p->corr);
	rc = lw_store_load_state_log(p->store, on_change_set, &r, &legacy, &r.d);
	if (legacy)
		lw_log(p->log, LW_LOG_WARNING, "pipeline",
		       "stored correlation state has the format before change "
		       "sets (version 1); skipped, windows start empty", NULL);
	if (rc == LW_ECORRUPT) {
		lw_correlation_restore_begin(p->corr);
		lw_log(p->log, LW_LOG_WARNING, "pipeline",
		       "stored correlation state not restored; windows start empty",
		       "detail", r.d.detail, NULL);
		return LW_OK;
	}
	if (rc != LW_OK) {
		if (diag != NULL)
			*diag = r.d;
		return rc;
	}
	if (r.sets == 0)
		return LW_OK;
	lw_correlation_get_stats(p->corr, &cs);
	snprintf(groups, sizeof(groups), "%llu", (unsigned long long)cs.groups);
	snprintf(sets, sizeof(sets), "%llu", (unsigned long long)r.sets);
	snprintf(mb, sizeof(mb), "%.1f", (double)r.bytes / 1048576.0);
	snprintf(ms, sizeof(ms), "%lld", (long long)(lw_time_mono_ms() - t0));
	lw_log(p->log, LW_LOG_INFO, "pipeline", "correlation state restored",
	       "groups", groups, "change_sets", sets, "mib", mb, "ms", ms, NULL);
	return LW_OK;
}

/* cfg->workers, or for LW_CONFIG_WORKERS_AUTO the CPUs this process may
 * run on (its affinity: taskset, cpusets) minus the writer's. */
static uint32_t worker_count(const struct lw_config *cfg)
{
	cpu_set_t set;
	int n;

	if (cfg->workers != LW_CONFIG_WORKERS_AUTO)
		return cfg->workers;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	n = CPU_COUNT(&set) - 1;
	if (n > LW_CONFIG_MAX_WORKERS)
		n = LW_CONFIG_MAX_WORKERS;
	return n > 0 ? (uint32_t)n : 0;
}

/* Workers that cannot be started are logged and done without: the
 * writer runs the rules stage itself then. */
static void start_workers(struct lw_pipeline *p)
{
	uint32_t want = worker_count(p->cfg);
	char n[16];

	if (want == 0)
		return;
	p->workers = calloc(want, sizeof(*p->workers));
	if (p->workers == NULL)
		want = 0;
	for (uint32_t i = 0; i < want; i++) {
		p->workers[i].p = p;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main,
				   &p->workers[i]) != 0)
			break;
		pthread_mutex_lock(&p->mu);
		p->nworkers++;
		p->live_workers++;
		pthread_mutex_unlock(&p->mu);
	}
	if (p->nworkers < want) {
		snprintf(n, sizeof(n), "%u", p->nworkers);
		lw_log(p->log, LW_LOG_WARNING, "pipeline",
		       "fewer rule workers than configured could start", "workers", n, NULL);
	}
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
	p->committed_cb = opts->committed_cb;
	p->committed_arg = opts->committed_arg;
	lw_buf_init(&p->job.snap);
	lw_buf_init(&p->job.created_json);
	lw_buf_init(&p->job.state);
	lw_buf_init(&p->job.cstats);
	lw_buf_init(&p->state);
	lw_buf_init(&p->corr_base);
	lw_buf_init(&p->cstats);
	atomic_init(&p->job_state, JOB_IDLE);
	p->builder = lw_segment_builder_new();
	p->job.builder = lw_segment_builder_new();
	p->batches = calloc(n, sizeof(*p->batches));
	if (p->builder == NULL || p->job.builder == NULL || p->batches == NULL)
		goto fail_nomem;
	rc = init_rules(p, opts, diag);
	if (rc != LW_OK) {
		destroy(p);
		return rc;
	}
	p->slots = calloc(n, sizeof(*p->slots));
	if (p->slots == NULL)
		goto fail_nomem;
	for (p->nbatches = 0; p->nbatches < n; p->nbatches++) {
		struct lw_batch *b = lw_batch_new(opts->cfg->batch_events);
		struct slot *sl = &p->slots[p->nbatches];

		if (b == NULL)
			goto fail_nomem;
		b->id = p->nbatches;
		p->batches[p->nbatches] = b;
		b->next = p->free_head;
		p->free_head = b;
		sl->moff = calloc(b->cap, sizeof(*sl->moff));
		sl->mcnt = calloc(b->cap, sizeof(*sl->mcnt));
		sl->seq = calloc(b->cap, sizeof(*sl->seq));
		sl->rel_off = calloc(b->cap, sizeof(*sl->rel_off));
		sl->rel_len = calloc(b->cap, sizeof(*sl->rel_len));
		if (sl->moff == NULL || sl->mcnt == NULL || sl->seq == NULL ||
		    sl->rel_off == NULL || sl->rel_len == NULL) {
			p->nbatches++;
			goto fail_nomem;
		}
	}
	publish_store_gauges(p, 1); /* before the writer exists: no race */
	/* With a core for the workers there is one for the windows too: they
	 * run beside the segment builder (docs/architecture.md "Threads").
	 * Without, the writer feeds them itself, as a thread would only add
	 * hand-overs on one core. A thread that cannot start is done
	 * without. */
	if (worker_count(p->cfg) > 0 &&
	    pthread_create(&p->corr_thread, NULL, correlator_main, p) == 0)
		p->corr_started = 1;
	rc = pthread_create(&p->committer, NULL, committer_main, p);
	if (rc == 0) {
		p->committer_started = 1;
		rc = pthread_create(&p->thread, NULL, writer_main, p);
	}
	if (rc != 0) {
		lw_diag_set(diag, LW_EIO, NULL, 0, 0, "pipeline: cannot start the writer threads");
		if (diag != NULL)
			diag->sys_errno = rc;
		stop_committer(p);
		stop_correlator(p);
		destroy(p);
		return LW_EIO;
	}
	p->thread_started = 1;
	start_workers(p);
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
	while (p->free_head == NULL && wait) {
		/* Tell the writer someone is blocked on it: if storage is
		 * failing it must not keep every batch forever. */
		if (!p->producer_waiting)
			p->blocked_since_ms = lw_time_mono_ms();
		p->producer_waiting = 1;
		pthread_cond_signal(&p->work);
		pthread_cond_wait(&p->freed, &p->mu);
	}
	p->producer_waiting = 0;
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
	p->slots[batch->id].stage = STAGE_NEW;
	p->slots[batch->id].gen = p->submit_gen;
	if (p->q_tail != NULL)
		p->q_tail->next = batch;
	else
		p->q_head = batch;
	p->q_tail = batch;
	if (p->idle_workers > 0 && p->slots[batch->id].gen == p->gen)
		pthread_cond_signal(&p->wwork);
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

void lw_pipeline_swap(struct lw_pipeline *p, const struct lw_pipeline_gen *next,
		      lw_pipeline_swapped_fn done, void *arg)
{
	pthread_mutex_lock(&p->mu);
	p->swap_next = *next;
	p->swap_done = done;
	p->swap_arg = arg;
	p->swap_after = p->q_tail;
	p->swap_posted = 1;
	p->submit_gen++;    /* batches from now on wait for the new rules */
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
	if (!p->producer_waiting)
		p->blocked_since_ms = lw_time_mono_ms();
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	if (p->thread_started)
		pthread_join(p->thread, NULL);
	stop_workers(p);
	stop_correlator(p);
	stop_committer(p);
	/* The last attempt decides: an early failure that a retry fixed
	 * lost nothing. */
	rc = lw_segment_builder_count(p->builder) == 0 &&
	     lw_segment_builder_count(p->job.builder) == 0 ? LW_OK : p->first_err;
	if (rc != LW_OK && diag != NULL)
		*diag = p->first_diag;
	destroy(p);
	return rc;
}

int lw_pipeline_load_rules(const struct lw_config *cfg, struct lw_ruleset **rs,
			   struct lw_correlation **corr, struct lw_diags *diags,
			   int *no_rules)
{
	const char *dirs[LW_CONFIG_MAX_RULE_DIRS];
	size_t n = 0;
	int rc;

	*rs = NULL;
	*corr = NULL;
	*no_rules = 0;
	for (size_t i = 0; i < cfg->nrule_dirs && i < LW_CONFIG_MAX_RULE_DIRS; i++) {
		struct stat sb;

		/* The default rules/ is optional (serve runs from anywhere);
		 * a directory the config names is not. */
		if (!cfg->rules_explicit && stat(cfg->rule_dirs[i], &sb) == -1)
			continue;
		dirs[n++] = cfg->rule_dirs[i];
	}
	if (n == 0) {
		*no_rules = 1;
		return LW_OK;
	}
	rc = lw_ruleset_load(dirs, n, cfg, rs, diags);
	if (rc != LW_OK)
		return rc;
	*corr = lw_correlation_new(*rs);
	if (*corr == NULL) {
		lw_ruleset_free(*rs);
		*rs = NULL;
		return LW_ENOMEM;
	}
	lw_correlation_set_memory(*corr, cfg->correlation.memory_bytes);
	return LW_OK;
}
