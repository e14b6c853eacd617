/* collector/metrics.h - the Prometheus endpoint (prefix lw_metrics).
 *
 * `metrics: {address: 127.0.0.1:9514}` serves GET /metrics in the
 * Prometheus text exposition format (version 0.0.4): every daemon counter
 * (core/counters.h) with HELP and TYPE lines, plus gauges of the store
 * (segments, events, bytes, map size, hosts with clock skew, as of the
 * writer's last commit), of lw_health (storage failing, loss episodes,
 * correlation rules shedding) and of the correlation windows per rule
 * (lw_correlation_evicted_total{rule=...} and friends). Names and meanings:
 * docs/observability.md.
 *
 * The export is table-driven from core/counters: a counter added there
 * (one name line) appears here without any change. Naming rule:
 *   - a loss counter (lw_counter_is_loss) -> lw_dropped_total{reason=R},
 *     R = the name without "dropped_" / "_dropped";
 *   - "connections_X" -> lw_connections_total{event="X"},
 *     "notify_X" -> lw_notify_total{result="X"},
 *     "incidents_X" -> lw_incidents_total{change="X"};
 *   - any other counter N -> lw_N_total.
 *
 * Server: one small thread of its own (poll), so a slow scraper never
 * touches the collector's event loop. At most LW_METRICS_MAX_CLIENTS
 * connections at once and LW_METRICS_MAX_PER_SOURCE from one address;
 * a new connection always gets a slot: over either cap, the oldest
 * connection waiting for its request (of the same address first) is
 * closed for it. A scraper sends its request at once, so idle
 * connections cannot starve it: they are closed after
 * LW_METRICS_HEAD_TIMEOUT_MS without a complete request head, or when a
 * newer connection needs the slot (both counted in
 * metrics_idle_closed). Requests of at most LW_METRICS_MAX_REQUEST bytes
 * (else 431); the answer is sent within LW_METRICS_SEND_TIMEOUT_MS;
 * only GET (405 otherwise) of /metrics (404 otherwise); one response per
 * connection (Connection: close).
 */
#ifndef LW_COLLECTOR_METRICS_H
#define LW_COLLECTOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/counters.h"
#include "core/err.h"

#define LW_METRICS_MAX_CLIENTS 8
#define LW_METRICS_MAX_PER_SOURCE 4
#define LW_METRICS_MAX_REQUEST 4096
#define LW_METRICS_HEAD_TIMEOUT_MS 1000
#define LW_METRICS_SEND_TIMEOUT_MS 5000

struct lw_store;
struct lw_store_reader;
struct lw_health;
struct lw_metrics;

/* Values that are not counters. have_* = 0 leaves a group out. */
struct lw_metrics_gauges {
	int have_store;
	uint64_t segments, events, stored_bytes, text_bytes, map_bytes;
	uint64_t hosts, clock_skew_hosts;
	int have_health;
	int storage_failing;
	uint32_t loss_episodes;
	int have_forward;            /* an edge (collector/forward.h) */
	uint64_t forward_in_flight, forward_lag_events;
	int64_t forward_lag_seconds;
	int forward_connected;
	int have_consumer;           /* a central node (collector/natsin.h) */
	uint64_t consumer_lag;       /* messages the stream still holds for it */
	uint32_t shedding_rules;
	/* Per-rule correlation counts (lw_correlation_stats_text), borrowed
	 * for the render; NULL leaves the group out. */
	const char *corr;
	size_t corr_len;
};

/* Fills the store group of g from rd's snapshot (one pass over the host
 * names). map_bytes is left as it was. LW_OK, LW_ESTORE, LW_ECORRUPT. */
int lw_metrics_read_store(struct lw_store_reader *rd, struct lw_metrics_gauges *g,
			  struct lw_diag *diag);

/* Appends the exposition text of c and g (g may be NULL) to out. */
void lw_metrics_render(const struct lw_counters *c, const struct lw_metrics_gauges *g,
		       struct lw_buf *out);

/* The Prometheus family of counter id (the naming rule above): its name
 * into name, and either *label_name = NULL (unlabelled) or the label's
 * name and its value into value. */
void lw_metrics_family(enum lw_counter id, char *name, size_t name_len,
		       const char **label_name, char *value, size_t value_len);

struct lw_metrics_opts {
	const char *address;            /* host:port; port 0 = ephemeral */
	struct lw_counters *counters; /* borrowed, live; metrics_idle_closed is counted here */
	/* Borrowed, may be NULL: the store and health gauges come from it
	 * (published by the writer thread; this thread never reads LMDB). */
	struct lw_health *health;
	/* May be NULL: fills the forward and consumer groups of g at each
	 * scrape (any thread may call it). */
	void (*relay_gauges)(void *arg, struct lw_metrics_gauges *g);
	void *relay_arg;
};

/* Binds and starts the server thread. Errors: LW_EINVAL (address),
 * LW_EIO (bind/listen; diag.sys_errno), LW_ENOMEM. Borrowed objects must
 * outlive lw_metrics_stop. */
int lw_metrics_start(const struct lw_metrics_opts *opts, struct lw_metrics **out,
		     struct lw_diag *diag);
/* "metrics 127.0.0.1:40001": the bound address. */
void lw_metrics_describe(const struct lw_metrics *m, char *out, size_t outlen);
/* Stops the thread, closes every socket and frees m. NULL is a no-op. */
void lw_metrics_stop(struct lw_metrics *m);

#endif
