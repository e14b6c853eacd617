/* collector/serve.c - the collector thread's event loop (prefix lw_serve):
 * sources -> units (frames, journal entries) -> the batch being filled ->
 * pipeline queue. It knows sources (collector/source.h), not their kinds.
 *
 * Backpressure: when the pipeline has no free batch, a source that can
 * hold the refused unit keeps it and calls stalled(); every source is
 * paused. The writer thread frees a batch and calls lw_serve_resume,
 * which event_active()s resume_ev (thread-safe: evthread_use_pthreads runs
 * before event_base_new); resume_cb then delivers the held units and turns
 * reading back on. Sources that cannot hold (datagrams) drop and count.
 *
 * Invariant: while s->paused, every source is paused. A resume first
 * delivers the held units of every source and re-arms only when all were
 * taken; a refusal anywhere pauses everything again (an earlier version
 * re-armed listener 0, then stayed "paused" when listener 1 was refused,
 * and listener 0's connections read on, unbounded). Sources are re-armed
 * in rotating order, so no source's connections always read first
 * (fairness; collector/stream.c rotates connections).
 */
#include "collector/serve.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/pipeline.h"
#include "collector/reload.h"
#include "collector/sdnotify.h"
#include "collector/source.h"
#include "core/time.h"
#include "core/tz.h"
#include "correlator/correlation.h"
#include "correlator/ruleset.h"

/* Stream read size: big reads amortise the syscall over ~1,000 messages. */
#define LW_SERVE_RBUF (256 * 1024)
/* A partly filled batch goes to the writer after this long, so a quiet
 * sender is stored within flush_interval + this. */
#define LW_SERVE_BATCH_MS 50
/* Repeated losses are logged at most once per this, with their count. */
#define LW_SERVE_LOG_EVERY_NS 1000000000LL

struct lw_serve {
	const struct lw_config *cfg;
	const struct lw_log *log;
	struct lw_counters *counters;
	void (*reloaded)(void *arg);
	void *reloaded_arg;
	struct event_base *base;
	struct lw_tz *tz;
	struct lw_parse_opts popts;
	uint8_t *rbuf;
	/* Source i is cfg->listeners[i]'s (reload matches them with the new
	 * config by index). */
	size_t nsources;
	struct lw_source *sources[LW_CONFIG_MAX_LISTENERS];
	struct event *sigterm, *sigint, *batch_timer, *resume_ev, *stop_ev;
	struct lw_pipeline *pipe;
	struct lw_batch *cur;
	struct lw_listener_counts counts;
	int paused;
	int stopping; /* draining: acquire blocks instead of failing */
	size_t resume_first; /* source re-armed first on the next resume */
	uint64_t lost_unlogged; /* frames lost to ENOMEM, not yet logged */
	int64_t lost_logged_ns; /* monotonic time of the last such line */
	int lost_rc;            /* the error of the last loss */
	/* Reload. cfg, rs and corr are the current generation. Generation 0
	 * (opts) is cmd_serve's; later ones are the serve's: the current
	 * one is freed by lw_serve_free, the ones before by swapped(). */
	struct event *sighup, *reload_ev, *swapped_ev;
	const struct lw_config *cfg0;
	const struct lw_ruleset *rs;
	struct lw_correlation *corr;
	struct lw_reload_job *job; /* loading on its thread, or NULL */
	int reload_busy;  /* from SIGHUP until the writer swapped or it failed */
	struct lw_sdnotify *sdnotify; /* borrowed; NULL = not under systemd */
	uint64_t watchdog_usec;
	struct event *watchdog_timer;
	int reload_again; /* SIGHUP while busy: once more afterwards */
};

/* Logs the losses counted since the last line, at most once per
 * LW_SERVE_LOG_EVERY_NS unless force (the end of the run). */
static void log_lost(struct lw_serve *s, int force)
{
	int64_t now;
	char n[24];

	if (s->lost_unlogged == 0)
		return;
	now = lw_time_mono_ns();
	if (!force && s->lost_logged_ns != 0 &&
	    now - s->lost_logged_ns < LW_SERVE_LOG_EVERY_NS)
		return;
	snprintf(n, sizeof(n), "%" PRIu64, s->lost_unlogged);
	lw_log(s->log, LW_LOG_ERR, "collector", "cannot store messages",
	       "count", n, "error", lw_strerror(s->lost_rc), NULL);
	s->lost_unlogged = 0;
	s->lost_logged_ns = now;
}

static void submit_cur(struct lw_serve *s)
{
	lw_listener_counts_flush(&s->counts, s->counters);
	if (s->cur == NULL)
		return;
	lw_pipeline_submit(s->pipe, s->cur);
	s->cur = NULL;
}

/* The batch being filled, acquired when there is none (waiting for one
 * while stopping). LW_OK or LW_EFULL. */
static int have_batch(struct lw_serve *s)
{
	if (s->cur == NULL)
		s->cur = lw_pipeline_acquire(s->pipe, s->stopping);
	return s->cur != NULL ? LW_OK : LW_EFULL;
}

/* After an add that did not return LW_EFULL: a frame lost to ENOMEM
 * (arena growth failed) is counted and logged, but not once per frame;
 * a full batch goes to the writer. Always LW_OK: nothing is held. */
static int added(struct lw_serve *s, int rc)
{
	if (rc == LW_ENOMEM) {
		lw_counters_add(s->counters, LW_CTR_DROPPED_NOMEM, 1);
		s->lost_unlogged++;
		s->lost_rc = rc;
		log_lost(s, 0);
		return LW_OK;
	}
	if (lw_batch_full(s->cur))
		submit_cur(s);
	return LW_OK;
}

/* A journal entry from a journal-http connection: the same batch path. */
static int sink_entry(void *arg, const struct lw_journal_entry *e,
		      const struct lw_listener_src *src, int64_t now_ns)
{
	struct lw_serve *s = arg;
	int rc;

	for (;;) {
		if (have_batch(s) != LW_OK)
			return LW_EFULL;
		rc = lw_journal_add_entry(s->cur, e, src, now_ns, &s->counts);
		if (rc != LW_EFULL)
			return added(s, rc);
		submit_cur(s); /* full: hand it over, take the next one */
	}
}

static int sink_frame(void *arg, const uint8_t *msg, size_t len, unsigned flags,
		      const struct lw_listener_src *src, int64_t now_ns)
{
	struct lw_serve *s = arg;
	int rc;

	for (;;) {
		if (have_batch(s) != LW_OK)
			return LW_EFULL;
		s->popts.now_ns = now_ns;
		rc = lw_listener_add_frame(s->cur, msg, len, flags, src,
					   &s->popts, NULL, &s->counts);
		if (rc != LW_EFULL)
			return added(s, rc);
		submit_cur(s); /* full: hand it over, take the next one */
	}
}

static void pause_all(struct lw_serve *s)
{
	for (size_t i = 0; i < s->nsources; i++)
		lw_source_pause(s->sources[i]);
}

/* Always pauses every source, even when already paused: one may have
 * been re-armed since (pausing a paused source costs nothing). */
static void sink_stalled(void *arg)
{
	struct lw_serve *s = arg;

	if (s->stopping)
		return;
	if (!s->paused)
		lw_counters_add(s->counters, LW_CTR_BACKPRESSURE, 1);
	s->paused = 1;
	pause_all(s);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_serve *s = arg;
	size_t n = s->nsources;

	(void)fd;
	(void)what;
	if (!s->paused || s->stopping || n == 0)
		return;
	/* Still no batch: stay paused; the failed acquire marked the
	 * pipeline starved, so another resume will come. */
	for (size_t k = 0; k < n; k++)
		if (lw_source_deliver_held(s->sources[(s->resume_first + k) % n]) == LW_EFULL)
			return;
	for (size_t k = 0; k < n; k++) {
		if (lw_source_resume(s->sources[(s->resume_first + k) % n]) == LW_EFULL) {
			pause_all(s); /* the ones re-armed before it, too */
			return;
		}
	}
	s->resume_first = (s->resume_first + 1) % n;
	s->paused = 0;
}

static void batch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_serve *s = arg;

	(void)fd;
	(void)what;
	if (s->cur != NULL && s->cur->count > 0)
		submit_cur(s);
	else
		lw_listener_counts_flush(&s->counts, s->counters);
	for (size_t i = 0; i < s->nsources; i++)
		lw_source_tick(s->sources[i]);
	log_lost(s, 0);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_serve *s = arg;

	(void)fd;
	(void)what;
	lw_log(s->log, LW_LOG_NOTICE, "collector", "stopping", NULL);
	lw_sdnotify_send(s->sdnotify, "STOPPING=1\nSTATUS=stopping: storing what was received");
	event_base_loopbreak(s->base);
}

void lw_serve_resume(void *arg)
{
	struct lw_serve *s = arg;

	event_active(s->resume_ev, EV_READ, 1);
}

void lw_serve_stop(struct lw_serve *s)
{
	event_active(s->stop_ev, EV_READ, 1);
}

size_t lw_serve_listener_count(const struct lw_serve *s)
{
	return s->nsources;
}

void lw_serve_describe(const struct lw_serve *s, size_t i, char *out,
		       size_t outlen)
{
	if (i < s->nsources)
		lw_source_describe(s->sources[i], out, outlen);
	else if (outlen > 0)
		out[0] = '\0';
}

static int open_source(struct lw_serve *s, const struct lw_config *cfg,
		       const struct lw_listener_config *lc, struct lw_source **out,
		       struct lw_diag *diag)
{
	struct lw_source_env env = {
		.base = s->base,
		.cfg = cfg,
		.lc = lc,
		.log = s->log,
		.counters = s->counters,
		.sink = {.frame = sink_frame, .entry = sink_entry,
			 .stalled = sink_stalled, .arg = s},
		.rbuf = s->rbuf,
		.rbuf_len = LW_SERVE_RBUF,
	};

	return lw_source_open(&env, out, diag);
}

/* ---- reload (SIGHUP) ----
 *
 * Who borrows the config, and until when. The config struct is immutable
 * and shared by const pointer; a generation's config must live until
 * nothing points into it:
 *   - sources keep env.cfg and env.lc, and every connection (and the
 *     datagram sender cache) a zone string out of cfg->zones or lc->zone;
 *   - every event in a batch not yet absorbed by the writer has zone.ptr
 *     into the config its listener had when the frame was delivered;
 *   - the writer reads p->cfg (flush interval, segment size, skew).
 * So the switch goes, all on the collector thread, between two frames:
 *   1. bind the added listeners (a failure rejects the reload: they are
 *      closed, nothing else changed);
 *   2. drain and close the removed ones (their frames still carry the
 *      old config's zones);
 *   3. re-point the kept ones at the new config (lw_source_update
 *      looks every connection's zone up again), so no frame delivered
 *      from now on borrows the old config;
 *   4. submit the batch being filled, then lw_pipeline_swap: the writer
 *      swaps after absorbing every batch submitted before it, i.e. the
 *      last ones that can hold an old zone pointer, and only then hands
 *      the old generation to swapped(), which frees it.
 * After step 4 the collector holds no pointer into the old generation,
 * and the writer holds none after the swap: swapped() is the last user.
 * One reload runs at a time (reload_busy until swapped), so the helper
 * thread can read the current generation without locks: it is not freed
 * before the next swap. Generation 0 belongs to cmd_serve (the notifier
 * borrows its notify outputs until exit), so swapped() leaves it alone. */

/* Writer thread: the writer is past old; nothing points into it now. */
static void swapped(void *arg, const struct lw_pipeline_gen *old)
{
	struct lw_serve *s = arg;

	if (old->cfg != s->cfg0) {
		/* The serve made these (lw_reload); const only for borrowers. */
		lw_correlation_free(old->correlation);
		lw_ruleset_free((struct lw_ruleset *)old->ruleset);
		free((struct lw_config *)old->cfg);
	}
	event_active(s->swapped_ev, EV_READ, 1);
}

/* Job thread. */
static void reload_loaded(void *arg)
{
	struct lw_serve *s = arg;

	event_active(s->reload_ev, EV_READ, 1);
}

static void start_reload(struct lw_serve *s)
{
	char state[96];

	s->reload_again = 0;
	/* MONOTONIC_USEC: systemd matches it with its own reload request */
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading",
		 (long long)(lw_time_mono_ns() / 1000));
	lw_sdnotify_send(s->sdnotify, state);
	lw_log(s->log, LW_LOG_NOTICE, "reload", "reloading configuration and rules",
	       "file", s->cfg->path[0] ? s->cfg->path : "(built-in defaults)", NULL);
	if (lw_reload_start(s->cfg, s->rs, s->log, reload_loaded, s, &s->job) != LW_OK) {
		lw_log(s->log, LW_LOG_ERR, "reload", "cannot start the reload thread",
		       NULL);
		lw_sdnotify_send(s->sdnotify, "READY=1\nSTATUS=receiving");
		return;
	}
	s->reload_busy = 1;
}

static void reload_done(struct lw_serve *s)
{
	s->reload_busy = 0;
	/* applied or rejected: either way the daemon serves again */
	lw_sdnotify_send(s->sdnotify, "READY=1\nSTATUS=receiving");
	if (s->reload_again)
		start_reload(s);
}

static void sighup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_serve *s = arg;

	(void)fd;
	(void)what;
	if (s->reload_busy)
		s->reload_again = 1;
	else
		start_reload(s);
}

static void swapped_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reload_done(arg);
}

static void log_source(struct lw_serve *s, const struct lw_source *src,
		       const char *msg, const char *key, const char *value)
{
	char line[256];

	lw_source_describe(src, line, sizeof(line));
	lw_log(s->log, LW_LOG_NOTICE, "collector", msg, "on", line, key, value, NULL);
}

/* Steps 1-4 above. LW_OK: r's cfg, rs, corr, scratch and tz were taken. */
static int apply_reload(struct lw_serve *s, struct lw_reload *r)
{
	const struct lw_config *next = r->cfg;
	struct lw_source *list[LW_CONFIG_MAX_LISTENERS] = {0};
	size_t from[LW_CONFIG_MAX_LISTENERS];
	int kept[LW_CONFIG_MAX_LISTENERS] = {0};
	size_t nadded = 0, nremoved = 0, nchanged = 0, nkept = 0;
	char what[128], keys[256];
	struct lw_diag diag;

	memset(&diag, 0, sizeof(diag));
	for (size_t j = 0; j < next->nlisteners; j++) {
		const struct lw_listener_config *lc = &next->listeners[j];
		size_t i;

		for (i = 0; i < s->nsources; i++)
			if (!kept[i] && lw_reload_same_socket(&s->cfg->listeners[i], lc))
				break;
		from[j] = i;
		if (i < s->nsources) {
			kept[i] = 1;
			continue;
		}
		if (open_source(s, next, lc, &list[j], &diag) != LW_OK) {
			char msg[1024];

			lw_diag_format(&diag, msg, sizeof(msg));
			lw_log(s->log, LW_LOG_ERR, "reload",
			       "reload rejected: cannot open a new listener; running configuration unchanged",
			       "error", msg, NULL);
			for (size_t k = 0; k < j; k++)
				if (from[k] >= s->nsources)
					lw_source_close(list[k]);
			return LW_EIO;
		}
	}
	/* From here nothing fails. The sink blocks for a batch instead of
	 * refusing while removed sources drain, as at stop. */
	s->stopping = 1;
	for (size_t i = 0; i < s->nsources; i++) {
		if (kept[i])
			continue;
		log_source(s, s->sources[i], "stopped listening", NULL, NULL);
		lw_source_drain(s->sources[i]);
		lw_source_close(s->sources[i]);
		nremoved++;
	}
	s->stopping = 0;
	for (size_t j = 0; j < next->nlisteners; j++) {
		const struct lw_listener_config *was, *now = &next->listeners[j];
		int rc;

		if (from[j] >= s->nsources) {
			nadded++;
			if (lw_source_start(list[j]) != LW_OK)
				lw_log(s->log, LW_LOG_ERR, "reload",
				       "cannot start listener events", NULL);
			if (s->paused) /* the invariant: all paused or none */
				lw_source_pause(list[j]);
			log_source(s, list[j], "listening", NULL, NULL);
			continue;
		}
		list[j] = s->sources[from[j]];
		was = &s->cfg->listeners[from[j]];
		nkept++;
		if (!lw_reload_listener_equal(was, now))
			nchanged++;
		if (lw_reload_listener_open_changes(was, now, keys, sizeof(keys)) > 0)
			log_source(s, list[j],
				   "changes of a kept listener need a restart; the old ones stay",
				   "keys", keys);
		rc = lw_source_update(list[j], next, now);
		if (rc != LW_OK)
			log_source(s, list[j],
				   "a kept listener could not take a new setting; the old one stays",
				   "error", lw_strerror(rc));
	}
	memcpy(s->sources, list, sizeof(list));
	s->nsources = next->nlisteners;
	s->resume_first = 0;
	lw_tz_free(s->tz);
	s->tz = r->tz;
	s->popts.tz = s->tz;
	s->popts.future_slack_ns = (int64_t)next->max_clock_skew_s * 1000000000;
	s->cfg = next;
	s->rs = r->rs;
	s->corr = r->corr;
	submit_cur(s); /* the last batch that may borrow the old config */
	lw_pipeline_swap(s->pipe, &(struct lw_pipeline_gen){
				.cfg = next, .ruleset = r->rs,
				.correlation = r->corr, .scratch = r->scratch},
			 swapped, s);
	snprintf(what, sizeof(what), "kept %zu (%zu changed), added %zu, removed %zu",
		 nkept, nchanged, nadded, nremoved);
	if (r->ignored[0])
		lw_log(s->log, LW_LOG_NOTICE, "reload", "configuration reloaded",
		       "listeners", what, "changes", r->changes[0] ? r->changes : "none",
		       "ignored_until_restart", r->ignored, NULL);
	else
		lw_log(s->log, LW_LOG_NOTICE, "reload", "configuration reloaded",
		       "listeners", what, "changes", r->changes[0] ? r->changes : "none",
		       NULL);
	memset(r, 0, sizeof(*r));
	if (s->reloaded != NULL)
		s->reloaded(s->reloaded_arg);
	return LW_OK;
}

/* Collector thread: the job is done. */
static void reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_serve *s = arg;
	struct lw_reload r;

	(void)fd;
	(void)what;
	lw_reload_finish(s->job, &r);
	s->job = NULL;
	if (r.rc != LW_OK) {
		lw_log(s->log, LW_LOG_ERR, "reload",
		       "reload rejected; running configuration unchanged",
		       "error", lw_strerror(r.rc), NULL);
	} else if (apply_reload(s, &r) == LW_OK) {
		return; /* busy until swapped */
	}
	lw_reload_release(&r);
	reload_done(s);
}

/* The event loop turns: tell systemd's watchdog. */
static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_serve *s = arg;

	(void)fd;
	(void)what;
	lw_sdnotify_send(s->sdnotify, "WATCHDOG=1");
}

static int make_events(struct lw_serve *s, int signals)
{
	s->batch_timer = event_new(s->base, -1, EV_PERSIST, batch_timer_cb, s);
	s->resume_ev = event_new(s->base, -1, 0, resume_cb, s);
	s->stop_ev = event_new(s->base, -1, 0, stop_cb, s);
	s->reload_ev = event_new(s->base, -1, 0, reload_cb, s);
	s->swapped_ev = event_new(s->base, -1, 0, swapped_cb, s);
	if (s->batch_timer == NULL || s->resume_ev == NULL || s->stop_ev == NULL ||
	    s->reload_ev == NULL || s->swapped_ev == NULL)
		return LW_ENOMEM;
	if (s->sdnotify != NULL && s->watchdog_usec > 0 &&
	    (s->watchdog_timer = event_new(s->base, -1, EV_PERSIST, watchdog_cb, s)) == NULL)
		return LW_ENOMEM;
	if (!signals)
		return LW_OK;
	s->sigterm = evsignal_new(s->base, SIGTERM, stop_cb, s);
	s->sigint = evsignal_new(s->base, SIGINT, stop_cb, s);
	s->sighup = evsignal_new(s->base, SIGHUP, sighup_cb, s);
	if (s->sigterm == NULL || s->sigint == NULL || s->sighup == NULL)
		return LW_ENOMEM;
	return LW_OK;
}

static int open_sources(struct lw_serve *s, struct lw_diag *diag)
{
	for (size_t i = 0; i < s->cfg->nlisteners; i++) {
		int rc = open_source(s, s->cfg, &s->cfg->listeners[i], &s->sources[i], diag);

		if (rc != LW_OK)
			return rc;
		s->nsources++;
	}
	return LW_OK;
}

int lw_serve_new(const struct lw_serve_opts *opts, struct lw_serve **out,
		 struct lw_diag *diag)
{
	struct lw_serve *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "out of memory");
	s->cfg = opts->cfg;
	s->cfg0 = opts->cfg;
	s->rs = opts->ruleset;
	s->corr = opts->correlation;
	s->log = opts->log;
	s->counters = opts->counters;
	s->reloaded = opts->reloaded;
	s->reloaded_arg = opts->reloaded_arg;
	s->sdnotify = opts->sdnotify;
	s->watchdog_usec = opts->watchdog_usec;
	/* Before event_base_new: the writer thread calls event_active. */
	rc = LW_ENOMEM;
	if (evthread_use_pthreads() != 0)
		goto fail_nomem;
	s->base = event_base_new();
	s->rbuf = malloc(LW_SERVE_RBUF);
	if (s->base == NULL || s->rbuf == NULL)
		goto fail_nomem;
	rc = lw_tz_load(s->cfg->timezone, &s->tz, diag);
	if (rc != LW_OK)
		goto fail;
	s->popts.tz = s->tz;
	s->popts.future_slack_ns = (int64_t)s->cfg->max_clock_skew_s * 1000000000;
	rc = make_events(s, opts->handle_signals);
	if (rc != LW_OK)
		goto fail_nomem;
	rc = open_sources(s, diag);
	if (rc != LW_OK)
		goto fail;
	*out = s;
	return LW_OK;

fail_nomem:
	lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "collector: out of memory");
fail:
	lw_serve_free(s);
	return rc;
}

void lw_serve_hold_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(how, &set, NULL);
}

int lw_serve_run(struct lw_serve *s, struct lw_pipeline *p,
		 struct lw_diag *diag)
{
	struct timeval tv = {0, LW_SERVE_BATCH_MS * 1000};
	int rc = LW_OK;

	s->pipe = p;
	for (size_t i = 0; i < s->nsources; i++) {
		if (lw_source_start(s->sources[i]) != LW_OK) {
			rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0,
					 "cannot start listener events");
			goto out;
		}
	}
	if (event_add(s->batch_timer, &tv) == -1 ||
	    (s->sigterm != NULL && (event_add(s->sigterm, NULL) == -1 ||
				    event_add(s->sigint, NULL) == -1 ||
				    event_add(s->sighup, NULL) == -1))) {
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0,
				 "cannot add timer or signal events");
		goto out;
	}
	if (s->watchdog_timer != NULL) {
		/* half the interval, as sd_watchdog_enabled(3) advises */
		struct timeval wd = {(time_t)(s->watchdog_usec / 2000000),
				     (suseconds_t)(s->watchdog_usec / 2 % 1000000)};

		if (event_add(s->watchdog_timer, &wd) == -1) {
			rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "cannot add the watchdog timer");
			goto out;
		}
	}
	/* The listeners are bound, the store is open, the writer runs and
	 * the loop starts now: systemd may start what depends on us. */
	lw_sdnotify_send(s->sdnotify, "READY=1\nSTATUS=receiving");
	/* `serve` blocks them until here (lw_serve_opts); one that came
	 * during startup is delivered now, to the handlers. */
	if (s->sigterm != NULL)
		lw_serve_hold_signals(SIG_UNBLOCK);
	if (event_base_dispatch(s->base) == -1)
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "event loop failed");
out:
	/* Held again for the rest of the stop: once lw_serve_free removes
	 * the handlers, a SIGHUP (logrotate) or a second SIGTERM would take
	 * the default action and kill a clean stop half-way. */
	if (s->sigterm != NULL)
		lw_serve_hold_signals(SIG_BLOCK);
	/* Clean stop: from here the sink waits for batches, so whatever the
	 * sockets already hold reaches the pipeline. */
	s->stopping = 1;
	s->paused = 0;
	if (s->job != NULL) { /* a reload still loading: never applied */
		struct lw_reload r;

		lw_reload_finish(s->job, &r);
		s->job = NULL;
		lw_reload_release(&r);
	}
	for (size_t i = 0; i < s->nsources; i++)
		lw_source_drain(s->sources[i]);
	submit_cur(s);
	event_del(s->batch_timer);
	if (s->watchdog_timer != NULL)
		event_del(s->watchdog_timer);
	log_lost(s, 1);
	return rc;
}

void lw_serve_free(struct lw_serve *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nsources; i++)
		lw_source_close(s->sources[i]);
	if (s->sigterm != NULL)
		event_free(s->sigterm);
	if (s->sigint != NULL)
		event_free(s->sigint);
	if (s->sighup != NULL)
		event_free(s->sighup);
	if (s->reload_ev != NULL)
		event_free(s->reload_ev);
	if (s->swapped_ev != NULL)
		event_free(s->swapped_ev);
	if (s->batch_timer != NULL)
		event_free(s->batch_timer);
	if (s->watchdog_timer != NULL)
		event_free(s->watchdog_timer);
	if (s->resume_ev != NULL)
		event_free(s->resume_ev);
	if (s->stop_ev != NULL)
		event_free(s->stop_ev);
	if (s->base != NULL)
		event_base_free(s->base);
	lw_tz_free(s->tz);
	free(s->rbuf);
	if (s->cfg != s->cfg0) { /* the current generation, from a reload */
		lw_correlation_free(s->corr);
		lw_ruleset_free((struct lw_ruleset *)s->rs);
		free((struct lw_config *)s->cfg);
	}
	free(s);
}
