/* collector/serve.h - the daemon's event loop (prefix lw_serve): owns the
 * event_base, the sources (one per listener, collector/source.h), signal
 * events, the batch being filled and the backpressure state. Collector thread, except lw_serve_resume and
 * lw_serve_stop, which any thread may call.
 *
 * Use:
 *   lw_serve_new(&opts, &s, &diag);              binds every listener
 *   lw_serve_describe(s, i, ...)                 "udp 127.0.0.1:40001"
 *   lw_pipeline_start(... .resume_cb = lw_serve_resume, .resume_arg = s)
 *   lw_serve_run(s, pipeline, &diag);            until SIGTERM/SIGINT
 *   lw_pipeline_stop(pipeline, &diag);           drain + commit
 *   lw_serve_free(s);                            after the pipeline stopped
 */
#ifndef LW_COLLECTOR_SERVE_H
#define LW_COLLECTOR_SERVE_H

#include <stddef.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct lw_serve;
struct lw_pipeline;

struct lw_ruleset;
struct lw_correlation;

struct lw_serve_opts {
	const struct lw_config *cfg;  /* borrowed, outlives the serve */
	/* The rules the pipeline starts with (borrowed, may be NULL): a
	 * reload compares the new ones with them and never frees them. */
	const struct lw_ruleset *ruleset;
	struct lw_correlation *correlation;
	const struct lw_log *log;     /* borrowed */
	struct lw_counters *counters; /* borrowed */
	/* Stop on SIGTERM/SIGINT, reload on SIGHUP. The caller may block the
	 * three (pthread_sigmask, before starting threads) so that one sent
	 * during startup waits: lw_serve_run unblocks them in its thread once
	 * the handlers are installed, and blocks them again when its loop
	 * ends, so that none interrupts the rest of the stop. */
	int handle_signals;
	/* Called on the collector thread after a reload was applied (the
	 * listeners may have changed: `serve --ports-file` rewrites its
	 * file); may be NULL. */
	void (*reloaded)(void *arg);
	void *reloaded_arg;
	/* systemd's notify socket (borrowed, may be NULL): READY, WATCHDOG,
	 * RELOADING and STOPPING are sent on it (collector/sdnotify.h). */
	struct lw_sdnotify *sdnotify;
	uint64_t watchdog_usec;       /* 0 = no watchdog pings */
};

/* Blocks (how = SIG_BLOCK) or unblocks (SIG_UNBLOCK) SIGTERM, SIGINT and
 * SIGHUP in the calling thread: `serve` holds them this way until
 * lw_serve_run has its handlers (see handle_signals). */
void lw_serve_hold_signals(int how);

/* Creates the event_base (after evthread_use_pthreads), loads the time
 * zone, and opens and binds every listener of cfg (lw_source_open).
 * Errors: LW_EINVAL (bad address, TLS files),
 * LW_EIO, LW_ENOTFOUND/LW_EPARSE (time zone), LW_ENOMEM; diag says which
 * listener or zone. *out is freed with lw_serve_free. */
int lw_serve_new(const struct lw_serve_opts *opts, struct lw_serve **out,
		 struct lw_diag *diag);

size_t lw_serve_listener_count(const struct lw_serve *s);
/* "udp 127.0.0.1:40001": listener i's type and actual bound address. */
void lw_serve_describe(const struct lw_serve *s, size_t i, char *out,
		       size_t outlen);

/* Runs the loop, feeding p (borrowed), until a signal or lw_serve_stop.
 * SIGHUP reloads the config file and the rules (docs/reliability.md):
 * loaded and compiled on a helper thread, rejected as a whole (logged)
 * when anything fails, else applied between two frames here and swapped
 * into the writer at a batch boundary (lw_pipeline_swap).
 * Then: stops accepting, reads what sockets already hold, delivers partial
 * frames, and submits the last batch, so that lw_pipeline_stop afterwards
 * stores everything that was read. Returns LW_OK or LW_EIO. */
int lw_serve_run(struct lw_serve *s, struct lw_pipeline *p,
		 struct lw_diag *diag);

/* Thread-safe: a batch is free again, resume paused reads. Signature of
 * lw_pipeline_opts.resume_cb; arg is the struct lw_serve. */
void lw_serve_resume(void *arg);

/* Thread-safe: makes lw_serve_run finish as on SIGTERM. */
void lw_serve_stop(struct lw_serve *s);

/* Closes listeners (removing unix sockets) and frees; NULL is allowed.
 * Call after lw_pipeline_stop: the writer may still call lw_serve_resume
 * until then. */
void lw_serve_free(struct lw_serve *s);

#endif
