/* The central node's input from the edges (prefix lw_natsin): a durable
 * pull consumer on the JetStream stream the edges forward to
 * (collector/forward.h), with explicit acknowledgements.
 * docs/scale-out.md.
 *
 * Each message carries a run of one edge's events (a segment value whose
 * header id is the origin seq of its first event, Logward-Node naming the
 * edge, which must be the subject's last token: the servers' publish
 * permissions bind an edge's credentials to its subject). The consumer keeps, per origin node, the next origin seq it
 * handed to the writer; the store keeps the one committed (store/relay.h,
 * written in the commit's transaction). Events below the mark are
 * duplicates (a redelivery, a resend) and dropped; a message that starts
 * above it is refused (NAK with a delay) until what comes before it is
 * redelivered, so each edge's events are stored in order, exactly once.
 * After redeliveries spanning several ack_wait periods a gap is accepted
 * as lost (dropped_origin_gap). A message is acknowledged only once the
 * commit holding its last event (or a later mark) is done.
 *
 * Events keep every field the edge stored (zone, source address, time of
 * arrival) and gain labels.edge = the edge's node name (a label beside
 * labels.zone; observer.name is left to the decoders, which fill it with
 * the device that logged).
 *
 * The `nats` listener in `listeners` stands for this consumer in the
 * serve's list of sources (lw_natsin_source_open: nothing to read there);
 * `serve` runs the consumer beside the pipeline:
 *
 *   lw_natsin_new(&opts, &n, &diag);
 *   lw_pipeline_start(... .committed_cb = lw_natsin_committed, .committed_arg = n)
 *   lw_natsin_run(n, pipeline, &diag);
 *   ... lw_natsin_halt(n); lw_pipeline_stop(...); lw_natsin_free(n);
 *
 * Threads: its own (fetch, decode, submit); lw_natsin_committed on the
 * writer thread (acknowledges). Errors: LW_OK or a negative enum lw_err. */
#ifndef LW_COLLECTOR_NATSIN_H
#define LW_COLLECTOR_NATSIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct lw_natsin;
struct lw_pipeline;
struct lw_store;
struct lw_store_origin;
struct lw_source;
struct lw_source_env;

struct lw_natsin_opts {
	const struct lw_listener_config *lc; /* type nats; borrowed, outlives n */
	struct lw_store *store;              /* borrowed */
	const struct lw_log *log;            /* borrowed, may be NULL */
	struct lw_counters *counters;        /* borrowed */
};

/* Connects (retrying in the background). LW_ENOMEM, LW_EINVAL (TLS or
 * credentials files). */
int lw_natsin_new(const struct lw_natsin_opts *opts, struct lw_natsin **out,
		  struct lw_diag *diag);
/* Starts consuming into p (borrowed until lw_natsin_halt). */
int lw_natsin_run(struct lw_natsin *n, struct lw_pipeline *p, struct lw_diag *diag);
/* The pipeline's committed_cb: acknowledges the messages o covers. */
void lw_natsin_committed(void *arg, const struct lw_store_origin *o, size_t count);
/* Messages the stream still holds for this consumer (the last fetch's
 * view), 0 before any. Any thread. */
uint64_t lw_natsin_lag(struct lw_natsin *n);
/* Stops fetching and submitting (joins the thread). NULL allowed. */
void lw_natsin_halt(struct lw_natsin *n);
/* After the pipeline stopped (its last commit acknowledged what it
 * stored): closes the connection and frees. NULL allowed. */
void lw_natsin_free(struct lw_natsin *n);

/* The source kind of `type: nats` (collector/source.c's table): no socket,
 * describes itself as "nats <stream>/<durable>". */
int lw_natsin_source_open(const struct lw_source_env *env, struct lw_source **out,
			  struct lw_diag *diag);

#endif
