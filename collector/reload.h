/* collector/reload.h - what SIGHUP loads (prefix lw_reload): the next
 * configuration generation, compiled beside the running one on a helper
 * thread, checked, and described, for lw_serve to apply (listeners) and
 * lw_pipeline_swap to swap in at a batch boundary (rules).
 *
 * A generation is a config and the ruleset + correlation compiled from
 * it. The running generation keeps running until the next one is fully
 * loaded, its rules compiled without a single error, and its new
 * listeners bound; anything less rejects the reload and changes nothing.
 *
 * Restart-only settings (data_dir, storage.map_size, queue_batches,
 * batch_events, notify outputs and notify_queue: the store, the batch
 * pool and the notifier threads are built from them once) are reported
 * and ignored: the next generation gets the running values, so the
 * config in effect is always one consistent struct.
 *
 * Threads: lw_reload_start's job runs on its own thread and reads the
 * running config and ruleset, which are immutable and stay alive until
 * the generation after them is swapped in (never while a job runs: the
 * serve runs one reload at a time). Everything else: the caller's thread. */
#ifndef LW_COLLECTOR_RELOAD_H
#define LW_COLLECTOR_RELOAD_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/tz.h"

struct lw_ruleset;
struct lw_correlation;
struct lw_ruleset_scratch;
struct lw_reload_job;

/* The outcome of one load. On success the caller owns cfg, rs, corr,
 * scratch and tz (rs, corr and scratch are NULL when the config names no rule directory that
 * exists and the rules are the default, as at startup). */
struct lw_reload {
	int rc;                      /* LW_OK, or the first error */
	struct lw_config *cfg;       /* NULL when rejected */
	struct lw_ruleset *rs;
	struct lw_correlation *corr;
	struct lw_ruleset_scratch *scratch; /* for rs: the writer's, after the swap */
	struct lw_tz *tz;            /* cfg->timezone, loaded */
	char changes[1024];          /* settings and rules that differ, "" if none */
	char ignored[512];           /* restart-only settings that differ, "" if none */
};

/* Starts loading on a new thread: cur->path (the built-in defaults when
 * cur->path is ""), the timezone, the rules of the result. Every error of
 * the config and of every rule file is logged (file:line:col: reason) on
 * log as it is found. done(arg) is called on the job's thread when the
 * result is ready; then call lw_reload_finish. cur and cur_rs (may be
 * NULL) are borrowed until then. LW_OK, LW_ENOMEM or LW_EIO (no thread). */
int lw_reload_start(const struct lw_config *cur, const struct lw_ruleset *cur_rs,
		    const struct lw_log *log, void (*done)(void *arg), void *arg,
		    struct lw_reload_job **out);

/* Joins the job (waiting for it if done has not been called yet), moves
 * its result into *out and frees the job. */
void lw_reload_finish(struct lw_reload_job *job, struct lw_reload *out);

/* Frees what r still owns (NULL members are skipped) and clears them. */
void lw_reload_release(struct lw_reload *r);

/* The load itself, synchronously (lw_reload_start's thread body; tests). */
void lw_reload_load(const struct lw_config *cur, const struct lw_ruleset *cur_rs,
		    const struct lw_log *log, struct lw_reload *out);

/* Copies cur's restart-only settings into next and names, in ignored
 * ("data_dir, storage.map_size"), those that differed. */
void lw_reload_keep_restart_only(const struct lw_config *cur,
				 struct lw_config *next, char *ignored,
				 size_t ignored_len);

/* Appends to out ("; "-separated) the reloadable settings that differ
 * between a and b: zones, timezone, max_clock_skew, storage.segment_bytes,
 * storage.flush_interval, storage.max_age, storage.max_bytes, rules. */
void lw_reload_describe_settings(const struct lw_config *a,
				 const struct lw_config *b, char *out,
				 size_t outlen);

/* Appends "detection rules 12 -> 13 (+2 -1); correlation rules 3 -> 3"
 * (rules compared by id; a and b may be NULL = no rules). */
void lw_reload_describe_rules(const struct lw_ruleset *a,
			      const struct lw_ruleset *b, char *out,
			      size_t outlen);

/* 1 when a and b are the same socket: same type and address (path for
 * unix). Such a listener is kept across a reload with its connections. */
int lw_reload_same_socket(const struct lw_listener_config *a,
			  const struct lw_listener_config *b);

/* The listener keys fixed when a listener opens (class LW_RELOAD_AT_OPEN
 * in core/config.c's table: the TLS context, the rate limiter's table,
 * the timeouts) that differ between a and b: how many, and their names
 * in names (", "-separated, cut to len). A kept listener keeps the old
 * values until a restart (reload logs the names). */
size_t lw_reload_listener_open_changes(const struct lw_listener_config *a,
				       const struct lw_listener_config *b,
				       char *names, size_t len);

/* 1 when every listener key (core/config.c's table) of a and b is
 * equal. */
int lw_reload_listener_equal(const struct lw_listener_config *a,
			     const struct lw_listener_config *b);

#endif
