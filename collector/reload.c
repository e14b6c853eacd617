/* collector/reload.c - loading, checking and describing the next
 * configuration generation (prefix lw_reload). See reload.h. */
#include "collector/reload.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pipeline.h"
#include "collector/source.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"

struct lw_reload_job {
	const struct lw_config *cur;
	const struct lw_ruleset *cur_rs;
	const struct lw_log *log;
	void (*done)(void *arg);
	void *arg;
	pthread_t thread;
	struct lw_reload result;
};

/* Appends a printf-formatted item to out, "; " between items; an item
 * that does not fit is cut (out stays NUL-terminated). */
static void add_item(char *out, size_t outlen, const char *sep,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add_item(char *out, size_t outlen, const char *sep,
		     const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;

	if (used + 1 >= outlen)
		return;
	if (used > 0) {
		snprintf(out + used, outlen - used, "%s", sep);
		used = strlen(out);
	}
	va_start(ap, fmt);
	vsnprintf(out + used, outlen - used, fmt, ap);
	va_end(ap);
}

int lw_reload_same_socket(const struct lw_listener_config *a,
			  const struct lw_listener_config *b)
{
	return lw_source_same_socket(a, b);
}

int lw_reload_listener_equal(const struct lw_listener_config *a,
			     const struct lw_listener_config *b)
{
	return lw_reload_same_socket(a, b) &&
	       lw_config_listener_diff(a, b, LW_RELOAD_ALL, NULL, 0) == 0;
}

size_t lw_reload_listener_open_changes(const struct lw_listener_config *a,
				       const struct lw_listener_config *b,
				       char *names, size_t len)
{
	return lw_config_listener_diff(a, b, 1u << LW_RELOAD_AT_OPEN, names, len);
}

static int zones_equal(const struct lw_config *a, const struct lw_config *b)
{
	if (a->nzones != b->nzones)
		return 0;
	for (size_t i = 0; i < a->nzones; i++)
		if (strcmp(a->zones[i].name, b->zones[i].name) != 0 ||
		    !lw_cidr_list_equal(&a->zones[i].cidrs, &b->zones[i].cidrs))
			return 0;
	return 1;
}

static int notify_equal(const struct lw_config *a, const struct lw_config *b)
{
	if (a->nnotify != b->nnotify || a->notify_queue != b->notify_queue)
		return 0;
	for (size_t i = 0; i < a->nnotify; i++) {
		const struct lw_notify_config *x = &a->notify[i], *y = &b->notify[i];

		if (x->type != y->type || strcmp(x->path, y->path) != 0 ||
		    x->argv.n != y->argv.n || x->timeout_ms != y->timeout_ms ||
		    x->max_attempts != y->max_attempts || x->min_level != y->min_level)
			return 0;
		for (size_t k = 0; k < x->argv.n; k++)
			if (strcmp(x->argv.v[k], y->argv.v[k]) != 0)
				return 0;
	}
	return 1;
}

static int rule_dirs_equal(const struct lw_config *a, const struct lw_config *b)
{
	if (a->nrule_dirs != b->nrule_dirs)
		return 0;
	for (size_t i = 0; i < a->nrule_dirs; i++)
		if (strcmp(a->rule_dirs[i], b->rule_dirs[i]) != 0)
			return 0;
	return 1;
}

void lw_reload_keep_restart_only(const struct lw_config *cur,
				 struct lw_config *next, char *ignored,
				 size_t ignored_len)
{
	ignored[0] = '\0';
	if (strcmp(cur->data_dir, next->data_dir) != 0) {
		add_item(ignored, ignored_len, ", ", "data_dir");
		memcpy(next->data_dir, cur->data_dir, sizeof(next->data_dir));
	}
	/* Privileges were dropped once, at start: there is no going back. */
	if (strcmp(cur->user, next->user) != 0) {
		add_item(ignored, ignored_len, ", ", "user");
		memcpy(next->user, cur->user, sizeof(next->user));
	}
	if (cur->storage.map_size != next->storage.map_size) {
		add_item(ignored, ignored_len, ", ", "storage.map_size");
		next->storage.map_size = cur->storage.map_size;
	}
	if (cur->queue_batches != next->queue_batches) {
		add_item(ignored, ignored_len, ", ", "queue_batches");
		next->queue_batches = cur->queue_batches;
	}
	if (cur->batch_events != next->batch_events) {
		add_item(ignored, ignored_len, ", ", "batch_events");
		next->batch_events = cur->batch_events;
	}
	if (!notify_equal(cur, next)) {
		add_item(ignored, ignored_len, ", ", "notify");
		next->nnotify = cur->nnotify;
		memcpy(next->notify, cur->notify, sizeof(next->notify));
		next->notify_queue = cur->notify_queue;
	}
	/* The store opened with these (retention, keyed chain), and the
	 * metrics endpoint and loss watcher started with them. */
	if (cur->storage.max_age_s != next->storage.max_age_s ||
	    cur->storage.max_bytes != next->storage.max_bytes) {
		add_item(ignored, ignored_len, ", ", "storage.max_age/max_bytes");
		next->storage.max_age_s = cur->storage.max_age_s;
		next->storage.max_bytes = cur->storage.max_bytes;
	}
	if (strcmp(cur->storage.integrity_key, next->storage.integrity_key) != 0) {
		add_item(ignored, ignored_len, ", ", "storage.integrity_key");
		memcpy(next->storage.integrity_key, cur->storage.integrity_key,
		       sizeof(next->storage.integrity_key));
	}
	if (strcmp(cur->metrics_address, next->metrics_address) != 0) {
		add_item(ignored, ignored_len, ", ", "metrics");
		memcpy(next->metrics_address, cur->metrics_address,
		       sizeof(next->metrics_address));
	}
	if (cur->health.check_interval_ms != next->health.check_interval_ms ||
	    cur->health.loss_checks != next->health.loss_checks) {
		add_item(ignored, ignored_len, ", ", "health");
		next->health = cur->health;
	}
}

static void add_u64_change(char *out, size_t outlen, const char *name,
			   uint64_t a, uint64_t b, const char *unit)
{
	if (a != b)
		add_item(out, outlen, "; ", "%s %" PRIu64 "%s -> %" PRIu64 "%s",
			 name, a, unit, b, unit);
}

void lw_reload_describe_settings(const struct lw_config *a,
				 const struct lw_config *b, char *out,
				 size_t outlen)
{
	if (!zones_equal(a, b))
		add_item(out, outlen, "; ", "zones changed (%zu -> %zu zones)",
			 a->nzones, b->nzones);
	if (strcmp(a->timezone, b->timezone) != 0)
		add_item(out, outlen, "; ", "timezone '%s' -> '%s'", a->timezone,
			 b->timezone);
	add_u64_change(out, outlen, "max_clock_skew", a->max_clock_skew_s,
		       b->max_clock_skew_s, "s");
	add_u64_change(out, outlen, "storage.segment_bytes",
		       a->storage.segment_bytes, b->storage.segment_bytes, "");
	add_u64_change(out, outlen, "storage.flush_interval",
		       a->storage.flush_interval_ms, b->storage.flush_interval_ms, "ms");
	add_u64_change(out, outlen, "storage.max_age", a->storage.max_age_s,
		       b->storage.max_age_s, "s");
	add_u64_change(out, outlen, "storage.max_bytes", a->storage.max_bytes,
		       b->storage.max_bytes, "");
	if (!rule_dirs_equal(a, b))
		add_item(out, outlen, "; ", "rule directories changed");
}

/* Ids of a's rules that b lacks (detection and correlation together). */
static size_t count_missing(const struct lw_ruleset *a, const struct lw_ruleset *b)
{
	size_t n = 0;

	if (a == NULL)
		return 0;
	for (uint32_t i = 0; i < lw_ruleset_rule_count(a); i++)
		if (b == NULL || lw_ruleset_find(b, lw_ruleset_rule(a, i)->id) < 0)
			n++;
	return n;
}

static size_t count_missing_corr(const struct lw_ruleset *a, const struct lw_ruleset *b)
{
	const struct lw_correlation_rules *ca, *cb;
	size_t n = 0;

	if (a == NULL)
		return 0;
	ca = lw_ruleset_correlations(a);
	cb = b != NULL ? lw_ruleset_correlations(b) : NULL;
	for (uint32_t i = 0; i < lw_correlation_rules_count(ca); i++)
		if (cb == NULL ||
		    lw_correlation_rules_find(cb, lw_correlation_rules_info(ca, i)->id) < 0)
			n++;
	return n;
}

void lw_reload_describe_rules(const struct lw_ruleset *a,
			      const struct lw_ruleset *b, char *out,
			      size_t outlen)
{
	uint32_t na = a ? lw_ruleset_rule_count(a) : 0;
	uint32_t nb = b ? lw_ruleset_rule_count(b) : 0;
	uint32_t ca = a ? lw_correlation_rules_count(lw_ruleset_correlations(a)) : 0;
	uint32_t cb = b ? lw_correlation_rules_count(lw_ruleset_correlations(b)) : 0;

	add_item(out, outlen, "; ", "detection rules %u -> %u (+%zu -%zu)", na, nb,
		 count_missing(b, a), count_missing(a, b));
	add_item(out, outlen, "; ", "correlation rules %u -> %u (+%zu -%zu)", ca, cb,
		 count_missing_corr(b, a), count_missing_corr(a, b));
}

static void log_error(const struct lw_log *log, const char *what, const char *line)
{
	lw_log(log, LW_LOG_ERR, "reload", what, "error", line, NULL);
}

void lw_reload_load(const struct lw_config *cur, const struct lw_ruleset *cur_rs,
		    const struct lw_log *log, struct lw_reload *out)
{
	struct lw_diags diags;
	struct lw_diag diag;
	char line[1024];
	int no_rules = 0;

	memset(out, 0, sizeof(*out));
	memset(&diag, 0, sizeof(diag));
	out->cfg = malloc(sizeof(*out->cfg)); /* large: PATH_MAX fields */
	if (out->cfg == NULL) {
		out->rc = LW_ENOMEM;
		log_error(log, "cannot reload", lw_strerror(LW_ENOMEM));
		return;
	}
	if (cur->path[0] != '\0')
		out->rc = lw_config_load(cur->path, out->cfg, &diag);
	else
		lw_config_defaults(out->cfg);
	if (out->rc != LW_OK) {
		lw_diag_format(&diag, line, sizeof(line));
		log_error(log, "invalid configuration", line[0] ? line : lw_strerror(out->rc));
		lw_reload_release(out);
		return;
	}
	lw_reload_keep_restart_only(cur, out->cfg, out->ignored, sizeof(out->ignored));
	out->rc = lw_tz_load(out->cfg->timezone, &out->tz, &diag);
	if (out->rc != LW_OK) {
		lw_diag_format(&diag, line, sizeof(line));
		log_error(log, "invalid timezone", line[0] ? line : lw_strerror(out->rc));
		lw_reload_release(out);
		return;
	}
	lw_diags_init(&diags);
	out->rc = lw_pipeline_load_rules(out->cfg, &out->rs, &out->corr, &diags, &no_rules);
	/* Every error of every file, not only the first: the operator fixes
	 * them all before the next SIGHUP. */
	for (size_t i = 0; i < diags.count; i++) {
		if (diags.items[i].severity != LW_DIAG_ERROR)
			continue;
		lw_diags_format(&diags.items[i], line, sizeof(line));
		log_error(log, "rule file error", line);
	}
	if (out->rc != LW_OK) {
		snprintf(line, sizeof(line), "%zu error(s)%s", diags.nerrors,
			 out->rc == LW_ENOMEM ? " (out of memory)" : "");
		log_error(log, "cannot load rules", line);
	}
	lw_diags_release(&diags);
	if (out->rc == LW_OK && out->rs != NULL &&
	    (out->scratch = lw_ruleset_scratch_new(out->rs)) == NULL) {
		out->rc = LW_ENOMEM;
		log_error(log, "cannot load rules", lw_strerror(LW_ENOMEM));
	}
	if (out->rc != LW_OK) {
		lw_reload_release(out);
		return;
	}
	lw_reload_describe_settings(cur, out->cfg, out->changes, sizeof(out->changes));
	lw_reload_describe_rules(cur_rs, out->rs, out->changes, sizeof(out->changes));
}

void lw_reload_release(struct lw_reload *r)
{
	lw_ruleset_scratch_free(r->scratch);
	lw_correlation_free(r->corr);
	lw_ruleset_free(r->rs);
	lw_tz_free(r->tz);
	free(r->cfg);
	r->scratch = NULL;
	r->corr = NULL;
	r->rs = NULL;
	r->tz = NULL;
	r->cfg = NULL;
}

static void *job_main(void *arg)
{
	struct lw_reload_job *job = arg;

	lw_reload_load(job->cur, job->cur_rs, job->log, &job->result);
	job->done(job->arg);
	return NULL;
}

int lw_reload_start(const struct lw_config *cur, const struct lw_ruleset *cur_rs,
		    const struct lw_log *log, void (*done)(void *arg), void *arg,
		    struct lw_reload_job **out)
{
	struct lw_reload_job *job = calloc(1, sizeof(*job));

	*out = NULL;
	if (job == NULL)
		return LW_ENOMEM;
	job->cur = cur;
	job->cur_rs = cur_rs;
	job->log = log;
	job->done = done;
	job->arg = arg;
	if (pthread_create(&job->thread, NULL, job_main, job) != 0) {
		free(job);
		return LW_EIO;
	}
	*out = job;
	return LW_OK;
}

void lw_reload_finish(struct lw_reload_job *job, struct lw_reload *out)
{
	pthread_join(job->thread, NULL);
	*out = job->result;
	free(job);
}
