/* collector/health.h - incidents about logward itself (prefix lw_health):
 * storage that keeps failing, and loss that persists.
 *
 * Two watchers, both feeding `system-failure` incidents that the pipeline
 * commits with its next segment (lw_store_commit_ex), so they sit in the
 * same store, chain of custody and notification path as rule incidents:
 *
 *  - storage: the pipeline reports each failed and each successful commit.
 *    The first failure raises incident "logward-storage-failure" (one
 *    per failure episode; count = failed attempts, first/last seen = the
 *    episode). A full disk cannot store it at once: it is committed with
 *    the first commit that succeeds, and it is logged at once.
 *  - loss: every check_interval the drop counters (lw_counter_is_loss) are
 *    compared with the previous check. A counter that increased on
 *    loss_checks consecutive checks raises "logward-persistent-loss" with
 *    group {"counter":"<name>"}; each further increasing check adds its
 *    new drops to the same incident (the store merges by rule id and
 *    group while it is open), so an episode is one incident, updated.
 *  - correlation shedding: at every check the pipeline passes the
 *    correlator's per-rule counts (lw_correlation_stats_text). A rule
 *    whose shed groups (evicted + not admitted) rose since the last check
 *    raises "logward-correlation-shed" with group {"rule":"<name>"}
 *    at once (detection is degraded from the first shed group); further
 *    rises add to it, like loss, and a check without one ends the
 *    episode.
 *
 *  - forwarding lag (an edge, collector/forward.h): the forwarder reports
 *    the age of its oldest event not yet acknowledged by the stream. At
 *    a check where it is lag_alert_s or more, "logward-forward-lag" is
 *    raised (one incident per episode; count = checks it lasted, last
 *    seen = the latest), and logged; when it falls below, the episode
 *    ends (logged).
 *
 * Evidence: the seq of the last stored event when there is one (where the
 * gap begins), else none.
 *
 * Threads: everything but the lw_health_gauge_* readers runs on the writer
 * thread. The gauges are atomics any thread (the metrics endpoint) reads.
 */
#ifndef LW_COLLECTOR_HEALTH_H
#define LW_COLLECTOR_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/log.h"
#include "collector/metrics.h"

struct lw_health;
struct lw_incidents_raise;

#define LW_HEALTH_STORAGE_RULE "logward-storage-failure"
#define LW_HEALTH_LOSS_RULE "logward-persistent-loss"
#define LW_HEALTH_LAG_RULE "logward-forward-lag"
#define LW_HEALTH_SHED_RULE "logward-correlation-shed"
/* Correlation rules watched for shedding (more are summed into the last). */
#define LW_HEALTH_MAX_SHED_RULES 64
/* Most alerts one commit can carry: the storage one, one per counter, the
 * forwarding lag and one per watched correlation rule. */
#define LW_HEALTH_MAX_RAISES (LW_CTR__COUNT + 2 + LW_HEALTH_MAX_SHED_RULES)

/* cfg and log are borrowed and outlive h. NULL on ENOMEM. */
struct lw_health *lw_health_new(const struct lw_health_config *cfg,
				const struct lw_log *log);
/* NULL is a no-op. */
void lw_health_free(struct lw_health *h);

/* The forwarding lag alert threshold (forward.lag_alert); 0 = off.
 * Before the pipeline starts. */
void lw_health_set_lag_alert(struct lw_health *h, uint64_t lag_alert_s);
/* Any thread (the forwarder): the age of the oldest unacknowledged event
 * (0 = none) and how many events are not acknowledged. */
void lw_health_report_lag(struct lw_health *h, int64_t lag_s, uint64_t lag_events);

/* Monotonic ms at which lw_health_check next has work. */
int64_t lw_health_next_check_ms(const struct lw_health *h);
/* Compares the drop counters with the last check when check_interval has
 * passed (else does nothing). now_ms is monotonic, now_ns wall clock (the
 * incident's times). */
void lw_health_check(struct lw_health *h, const struct lw_counters *c,
		     int64_t now_ms, int64_t now_ns);

/* Monotonic ms at which lw_health_correlation next wants counts. */
int64_t lw_health_next_shed_check_ms(const struct lw_health *h);
/* The correlator's per-rule counts (text of lw_correlation_stats_text):
 * compares each rule's shed total with the last check (the first
 * reading is a baseline) when check_interval has passed. Also keeps the
 * text for the metrics endpoint (lw_health_correlation_text). */
void lw_health_correlation(struct lw_health *h, const char *text, size_t len,
			   int64_t now_ms, int64_t now_ns);
/* Any thread: a copy of the last counts passed (appended to out). */
void lw_health_correlation_text(struct lw_health *h, struct lw_buf *out);
/* Any thread. Rules currently shedding. */
uint32_t lw_health_gauge_shedding(const struct lw_health *h);

/* A commit failed with err (detail: the store's message). The first
 * failure of an episode logs one loud line and raises the incident;
 * later ones are logged once a minute with their number. */
void lw_health_storage_failed(struct lw_health *h, int err, const char *detail,
			      int64_t now_ms, int64_t now_ns);
/* A commit succeeded: ends a failure episode (logged with its length). */
void lw_health_storage_ok(struct lw_health *h, int64_t now_ms);

/* 1 when alerts wait for a commit. */
int lw_health_pending(const struct lw_health *h);
/* Fills out (room for LW_HEALTH_MAX_RAISES) with the waiting alerts;
 * strings point into h and stay valid until lw_health_committed or the
 * next lw_health_raises. response/level: the system-failure plan.
 * last_seq: seq of the last stored event (has_seq 0: none). */
size_t lw_health_raises(struct lw_health *h, struct lw_incidents_raise *out,
			const char *response, const char *level,
			uint64_t last_seq, int has_seq);
/* The raises of the last lw_health_raises are stored: forget the amounts
 * they carried (checks between the two calls stay pending). */
void lw_health_committed(struct lw_health *h);

/* Writer thread: the store gauges of the last commit (lw_metrics_read_store
 * on the writer's own reader: another thread must not read LMDB in this
 * process, since growing the map remaps it under any open reader). */
void lw_health_publish_store(struct lw_health *h, const struct lw_metrics_gauges *g);
/* Any thread: the published store gauges and the health gauges. */
void lw_health_gauges(struct lw_health *h, struct lw_metrics_gauges *out);

/* Any thread. 1 while commits fail. */
int lw_health_gauge_storage_failing(const struct lw_health *h);
/* Any thread. Drop counters currently in a persistent-loss episode. */
uint32_t lw_health_gauge_losses(const struct lw_health *h);

#endif
