/* collector/health.c - storage-failure and persistent-loss incidents
 * (prefix lw_health). See health.h for the rules; this file keeps, per
 * watched thing, the episode state and what the next commit must carry.
 */
#include "collector/health.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "correlator/correlation.h"
#include "store/incidents.h"

/* While storage keeps failing, say so again this often (with the count),
 * so the log shows it is still going on without one line per retry. */
#define STORAGE_RELOG_MS 60000

struct loss_watch {
	uint64_t prev;         /* counter value at the last check */
	uint32_t streak;       /* consecutive checks that saw it increase */
	uint64_t streak_drops; /* drops during the streak (before it raised) */
	int64_t streak_first_ns;
	int active;            /* raised: the episode goes on */
	uint64_t pending;      /* drops not yet in a committed raise */
	int64_t pending_first_ns, pending_last_ns;
	char group[96];
};

/* One correlation rule's shedding, keyed by its label. */
struct shed_watch {
	char label[128];
	uint64_t prev;
	int active;
	uint64_t pending;
	int64_t pending_first_ns, pending_last_ns;
	char group[160];
};

struct lw_health {
	const struct lw_health_config *cfg;
	const struct lw_log *log;
	int primed;            /* prev values hold a first reading */
	int64_t next_check_ms;
	struct loss_watch loss[LW_CTR__COUNT];

	int storage_failing;
	int64_t storage_since_ms;
	int64_t storage_logged_ms;
	uint64_t storage_attempts;   /* failed attempts in this episode */
	uint64_t storage_pending;    /* failed attempts not yet in a committed raise */
	int64_t storage_first_ns, storage_last_ns;

	uint64_t evidence;           /* the last stored seq, for the raises */
	/* What the last lw_health_raises handed out. The commit that stores
	 * them may run while checks go on (the pipeline's commit thread), so
	 * lw_health_committed forgets exactly these amounts, not what is
	 * pending by then. */
	uint64_t raised_storage;
	uint64_t raised_loss[LW_CTR__COUNT];

	/* Forwarding lag: reported by the forwarder, judged at checks. */
	uint64_t lag_alert_s;
	_Atomic int64_t lag_s;
	_Atomic uint64_t lag_events;
	int lag_active;
	uint64_t lag_pending;        /* lagging checks not yet in a committed raise */
	int64_t lag_first_ns, lag_last_ns;
	uint64_t raised_lag;

	struct shed_watch shed[LW_HEALTH_MAX_SHED_RULES];
	uint32_t nshed;
	int shed_primed;
	int64_t next_shed_ms;
	uint64_t raised_shed[LW_HEALTH_MAX_SHED_RULES];

	pthread_mutex_t store_mu;    /* guards store_gauges and corr_text */
	struct lw_metrics_gauges store_gauges;
	struct lw_buf corr_text;
	_Atomic uint32_t gauge_shedding;
	_Atomic int gauge_storage_failing;
	_Atomic uint32_t gauge_losses;
};

struct lw_health *lw_health_new(const struct lw_health_config *cfg,
				const struct lw_log *log)
{
	struct lw_health *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if (pthread_mutex_init(&h->store_mu, NULL) != 0) {
		free(h);
		return NULL;
	}
	h->cfg = cfg;
	h->log = log;
	atomic_init(&h->gauge_storage_failing, 0);
	atomic_init(&h->gauge_losses, 0);
	atomic_init(&h->lag_s, 0);
	atomic_init(&h->lag_events, 0);
	atomic_init(&h->gauge_shedding, 0);
	lw_buf_init(&h->corr_text);
	for (int i = 0; i < LW_CTR__COUNT; i++)
		snprintf(h->loss[i].group, sizeof(h->loss[i].group),
			 "{\"counter\":\"%s\"}", lw_counter_name((enum lw_counter)i));
	return h;
}

void lw_health_free(struct lw_health *h)
{
	if (h == NULL)
		return;
	pthread_mutex_destroy(&h->store_mu);
	lw_buf_release(&h->corr_text);
	free(h);
}

void lw_health_publish_store(struct lw_health *h, const struct lw_metrics_gauges *g)
{
	pthread_mutex_lock(&h->store_mu);
	h->store_gauges = *g;
	pthread_mutex_unlock(&h->store_mu);
}

void lw_health_gauges(struct lw_health *h, struct lw_metrics_gauges *out)
{
	pthread_mutex_lock(&h->store_mu);
	*out = h->store_gauges;
	pthread_mutex_unlock(&h->store_mu);
	out->have_health = 1;
	out->storage_failing = lw_health_gauge_storage_failing(h);
	out->loss_episodes = lw_health_gauge_losses(h);
	out->shedding_rules = lw_health_gauge_shedding(h);
}

void lw_health_set_lag_alert(struct lw_health *h, uint64_t lag_alert_s)
{
	h->lag_alert_s = lag_alert_s;
}

void lw_health_report_lag(struct lw_health *h, int64_t lag_s, uint64_t lag_events)
{
	if (h == NULL)
		return;
	atomic_store_explicit(&h->lag_s, lag_s, memory_order_relaxed);
	atomic_store_explicit(&h->lag_events, lag_events, memory_order_relaxed);
}

/* One check of the forwarding lag. Writer thread. */
static void lag_check(struct lw_health *h, int64_t now_ns)
{
	int64_t lag = atomic_load_explicit(&h->lag_s, memory_order_relaxed);
	uint64_t events = atomic_load_explicit(&h->lag_events, memory_order_relaxed);
	char secs[24], n[24];

	if (h->lag_alert_s == 0)
		return;
	snprintf(secs, sizeof(secs), "%" PRId64, lag);
	snprintf(n, sizeof(n), "%" PRIu64, events);
	if (lag < (int64_t)h->lag_alert_s) {
		if (h->lag_active)
			lw_log(h->log, LW_LOG_NOTICE, "health", "forwarding caught up",
			       "lag_seconds", secs, "events_behind", n, NULL);
		h->lag_active = 0;
		return;
	}
	if (!h->lag_active)
		lw_log(h->log, LW_LOG_ERR, "health",
		       "forwarding lag: raising a system-failure incident",
		       "lag_seconds", secs, "events_behind", n,
		       "incident", LW_HEALTH_LAG_RULE, NULL);
	h->lag_active = 1;
	if (h->lag_pending == 0)
		h->lag_first_ns = now_ns;
	h->lag_pending++;
	h->lag_last_ns = now_ns;
}

int64_t lw_health_next_check_ms(const struct lw_health *h)
{
	return h->next_check_ms;
}

static void loss_raise(struct lw_health *h, struct loss_watch *w, enum lw_counter id,
		       uint64_t delta, int64_t now_ns)
{
	char n[24];

	if (!w->active) {
		w->active = 1;
		atomic_fetch_add_explicit(&h->gauge_losses, 1, memory_order_relaxed);
		delta += w->streak_drops;
		w->pending_first_ns = w->streak_first_ns;
		snprintf(n, sizeof(n), "%" PRIu64, delta);
		lw_log(h->log, LW_LOG_ERR, "health",
		       "persistent loss: raising a system-failure incident",
		       "counter", lw_counter_name(id), "lost", n, NULL);
	}
	if (w->pending == 0 && w->pending_first_ns == 0)
		w->pending_first_ns = now_ns;
	w->pending += delta;
	w->pending_last_ns = now_ns;
}

static void loss_end(struct lw_health *h, struct loss_watch *w, enum lw_counter id)
{
	if (w->active) {
		w->active = 0;
		atomic_fetch_sub_explicit(&h->gauge_losses, 1, memory_order_relaxed);
		lw_log(h->log, LW_LOG_NOTICE, "health", "loss stopped",
		       "counter", lw_counter_name(id), NULL);
	}
	w->streak = 0;
	w->streak_drops = 0;
}

void lw_health_check(struct lw_health *h, const struct lw_counters *c,
		     int64_t now_ms, int64_t now_ns)
{
	if (now_ms < h->next_check_ms)
		return;
	h->next_check_ms = now_ms + (int64_t)h->cfg->check_interval_ms;
	for (int i = 0; i < LW_CTR__COUNT; i++) {
		enum lw_counter id = (enum lw_counter)i;
		struct loss_watch *w = &h->loss[i];
		uint64_t v = lw_counters_get(c, id), delta;

		if (!lw_counter_is_loss(id))
			continue;
		/* The first reading is a baseline: restored totals are history. */
		delta = h->primed && v > w->prev ? v - w->prev : 0;
		w->prev = v;
		if (delta == 0) {
			loss_end(h, w, id);
			continue;
		}
		if (w->streak++ == 0)
			w->streak_first_ns = now_ns;
		if (w->streak >= h->cfg->loss_checks || w->active)
			loss_raise(h, w, id, delta, now_ns);
		else
			w->streak_drops += delta;
	}
	h->primed = 1;
	lag_check(h, now_ns);
}

int64_t lw_health_next_shed_check_ms(const struct lw_health *h)
{
	return h->next_shed_ms;
}

/* The watch of label, made on first sight; the last one takes every rule
 * past LW_HEALTH_MAX_SHED_RULES. */
static struct shed_watch *shed_watch_of(struct lw_health *h, const char *label,
					size_t len)
{
	struct shed_watch *w;

	for (uint32_t i = 0; i < h->nshed; i++)
		if (strlen(h->shed[i].label) == len &&
		    memcmp(h->shed[i].label, label, len) == 0)
			return &h->shed[i];
	if (h->nshed == LW_HEALTH_MAX_SHED_RULES)
		return &h->shed[LW_HEALTH_MAX_SHED_RULES - 1];
	w = &h->shed[h->nshed++];
	snprintf(w->label, sizeof(w->label), "%.*s", (int)len, label);
	/* The label is a rule name or id from a rule file: escaped for
	 * the JSON group like any other string. */
	{
		struct lw_buf b;

		lw_buf_init(&b);
		lw_buf_puts(&b, "{\"rule\":");
		lw_buf_json_string(&b, w->label, strlen(w->label));
		lw_buf_putc(&b, '}');
		snprintf(w->group, sizeof(w->group), "%s", b.oom ? "{}" : b.data);
		lw_buf_release(&b);
	}
	return w;
}

static void shed_update(struct lw_health *h, struct shed_watch *w, uint64_t total,
			int64_t now_ns)
{
	uint64_t delta = h->shed_primed && total > w->prev ? total - w->prev : 0;

	w->prev = total;
	if (delta == 0) {
		if (w->active) {
			w->active = 0;
			atomic_fetch_sub_explicit(&h->gauge_shedding, 1, memory_order_relaxed);
			lw_log(h->log, LW_LOG_NOTICE, "health",
			       "correlation shedding stopped", "rule", w->label, NULL);
		}
		return;
	}
	if (!w->active) {
		char n[24];

		w->active = 1;
		atomic_fetch_add_explicit(&h->gauge_shedding, 1, memory_order_relaxed);
		snprintf(n, sizeof(n), "%" PRIu64, delta);
		lw_log(h->log, LW_LOG_ERR, "health",
		       "correlation memory full: groups shed, detection degraded; "
		       "raising a system-failure incident (correlation.memory)",
		       "rule", w->label, "shed", n, NULL);
	}
	if (w->pending == 0 && w->pending_first_ns == 0)
		w->pending_first_ns = now_ns;
	w->pending += delta;
	w->pending_last_ns = now_ns;
}

void lw_health_correlation(struct lw_health *h, const char *text, size_t len,
			   int64_t now_ms, int64_t now_ns)
{
	const char *p = text, *end = text + len;
	uint64_t over = 0;

	pthread_mutex_lock(&h->store_mu);
	lw_buf_reset(&h->corr_text);
	lw_buf_append(&h->corr_text, text, len);
	pthread_mutex_unlock(&h->store_mu);
	if (now_ms < h->next_shed_ms)
		return;
	h->next_shed_ms = now_ms + (int64_t)h->cfg->check_interval_ms;
	while (p < end) {
		struct lw_correlation_stats_line l;
		struct shed_watch *w;

		p = lw_correlation_stats_next(p, end, &l);
		if (!l.ok)
			continue;
		w = shed_watch_of(h, l.label, l.label_len);
		if (w == &h->shed[LW_HEALTH_MAX_SHED_RULES - 1] &&
		    h->nshed == LW_HEALTH_MAX_SHED_RULES)
			over += l.evicted + l.not_admitted; /* summed, applied below */
		else
			shed_update(h, w, l.evicted + l.not_admitted, now_ns);
	}
	if (h->nshed == LW_HEALTH_MAX_SHED_RULES)
		shed_update(h, &h->shed[LW_HEALTH_MAX_SHED_RULES - 1], over, now_ns);
	h->shed_primed = 1;
}

void lw_health_correlation_text(struct lw_health *h, struct lw_buf *out)
{
	pthread_mutex_lock(&h->store_mu);
	lw_buf_append(out, h->corr_text.data, h->corr_text.len);
	pthread_mutex_unlock(&h->store_mu);
}

uint32_t lw_health_gauge_shedding(const struct lw_health *h)
{
	return atomic_load_explicit(&h->gauge_shedding, memory_order_relaxed);
}

void lw_health_storage_failed(struct lw_health *h, int err, const char *detail,
			      int64_t now_ms, int64_t now_ns)
{
	char n[24], secs[24];

	h->storage_attempts++;
	h->storage_pending++;
	h->storage_last_ns = now_ns;
	if (h->storage_first_ns == 0)
		h->storage_first_ns = now_ns;
	if (!h->storage_failing) {
		h->storage_failing = 1;
		h->storage_since_ms = h->storage_logged_ms = now_ms;
		atomic_store_explicit(&h->gauge_storage_failing, 1, memory_order_relaxed);
		lw_log(h->log, LW_LOG_ERR, "pipeline",
		       "cannot commit segment; STORAGE FAILING: TCP intake paused, "
		       "UDP drops counted, retrying until it recovers",
		       "error", lw_strerror(err), "detail", detail,
		       "incident", LW_HEALTH_STORAGE_RULE, NULL);
		return;
	}
	if (now_ms - h->storage_logged_ms < STORAGE_RELOG_MS)
		return;
	h->storage_logged_ms = now_ms;
	snprintf(n, sizeof(n), "%" PRIu64, h->storage_attempts);
	snprintf(secs, sizeof(secs), "%" PRId64, (now_ms - h->storage_since_ms) / 1000);
	lw_log(h->log, LW_LOG_ERR, "pipeline", "storage still failing",
	       "attempts", n, "seconds", secs, "error", lw_strerror(err),
	       "detail", detail, NULL);
}

void lw_health_storage_ok(struct lw_health *h, int64_t now_ms)
{
	char n[24], secs[24];

	if (!h->storage_failing)
		return;
	h->storage_failing = 0;
	atomic_store_explicit(&h->gauge_storage_failing, 0, memory_order_relaxed);
	snprintf(n, sizeof(n), "%" PRIu64, h->storage_attempts);
	snprintf(secs, sizeof(secs), "%" PRId64, (now_ms - h->storage_since_ms) / 1000);
	lw_log(h->log, LW_LOG_NOTICE, "pipeline", "storage recovered; intake resumed",
	       "failed_attempts", n, "seconds", secs, NULL);
	h->storage_attempts = 0;
}

int lw_health_pending(const struct lw_health *h)
{
	if (h->storage_pending > 0 || h->lag_pending > 0)
		return 1;
	for (int i = 0; i < LW_CTR__COUNT; i++)
		if (h->loss[i].pending > 0)
			return 1;
	for (uint32_t i = 0; i < h->nshed; i++)
		if (h->shed[i].pending > 0)
			return 1;
	return 0;
}

static void fill(struct lw_incidents_raise *r, const char *rule_id, const char *title,
		 const char *group, const char *response, const char *level,
		 int64_t first_ns, int64_t last_ns, uint64_t count,
		 const uint64_t *evidence, uint32_t nevidence)
{
	memset(r, 0, sizeof(*r));
	r->rule_id = rule_id;
	r->rule_title = title;
	r->rule_level = level;
	r->category = "system-failure";
	r->level = level;
	r->response = response;
	r->group = group;
	r->host = "";
	r->zone = "";
	r->first_seen_ns = first_ns;
	r->last_seen_ns = last_ns;
	r->count = count;
	r->evidence = evidence;
	r->nevidence = nevidence;
}

size_t lw_health_raises(struct lw_health *h, struct lw_incidents_raise *out,
			const char *response, const char *level,
			uint64_t last_seq, int has_seq)
{
	uint32_t ne = has_seq ? 1 : 0;
	size_t n = 0;

	h->evidence = last_seq;
	h->raised_storage = h->storage_pending;
	if (h->raised_storage > 0)
		fill(&out[n++], LW_HEALTH_STORAGE_RULE,
		     "Storage failing: events cannot be committed", "{}",
		     response, level, h->storage_first_ns, h->storage_last_ns,
		     h->storage_pending, &h->evidence, ne);
	for (int i = 0; i < LW_CTR__COUNT; i++) {
		struct loss_watch *w = &h->loss[i];

		h->raised_loss[i] = w->pending;
		if (w->pending > 0)
			fill(&out[n++], LW_HEALTH_LOSS_RULE,
			     "Persistent loss: a drop counter keeps increasing",
			     w->group, response, level, w->pending_first_ns,
			     w->pending_last_ns, w->pending, &h->evidence, ne);
	}
	for (uint32_t i = 0; i < h->nshed; i++) {
		struct shed_watch *w = &h->shed[i];

		h->raised_shed[i] = w->pending;
		if (w->pending > 0)
			fill(&out[n++], LW_HEALTH_SHED_RULE,
			     "Correlation memory full: rule state shed, detection degraded",
			     w->group, response, level, w->pending_first_ns,
			     w->pending_last_ns, w->pending, &h->evidence, ne);
	}
	h->raised_lag = h->lag_pending;
	if (h->lag_pending > 0)
		fill(&out[n++], LW_HEALTH_LAG_RULE,
		     "Forwarding lag: events not yet acknowledged by the central stream",
		     "{}", response, level, h->lag_first_ns, h->lag_last_ns,
		     h->lag_pending, &h->evidence, ne);
	return n;
}

void lw_health_committed(struct lw_health *h)
{
	h->storage_pending -= h->raised_storage;
	if (h->storage_pending == 0)
		h->storage_first_ns = 0;
	h->raised_storage = 0;
	h->lag_pending -= h->raised_lag;
	h->raised_lag = 0;
	for (int i = 0; i < LW_CTR__COUNT; i++) {
		if (h->raised_loss[i] == 0)
			continue;
		h->loss[i].pending -= h->raised_loss[i];
		if (h->loss[i].pending == 0)
			h->loss[i].pending_first_ns = 0;
		h->raised_loss[i] = 0;
	}
	for (uint32_t i = 0; i < h->nshed; i++) {
		h->shed[i].pending -= h->raised_shed[i];
		if (h->shed[i].pending == 0)
			h->shed[i].pending_first_ns = 0;
		h->raised_shed[i] = 0;
	}
}

int lw_health_gauge_storage_failing(const struct lw_health *h)
{
	return atomic_load_explicit(&h->gauge_storage_failing, memory_order_relaxed);
}

uint32_t lw_health_gauge_losses(const struct lw_health *h)
{
	return atomic_load_explicit(&h->gauge_losses, memory_order_relaxed);
}
