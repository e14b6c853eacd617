/* The edge forwarder (prefix lw_forward): a thread that reads what the
 * store committed (it polls the store's seq every 100 ms when idle), in
 * seq order from the forwarding cursor
 * (store/relay.h), and publishes it to a NATS JetStream stream, so a
 * central node (collector/natsin.h) stores the same events. docs/scale-out.md.
 *
 * Wire: one message is a run of consecutive events of one stored segment,
 * encoded as a segment value (store/segment.h: header + zstd frame) whose
 * header id is the seq of its first event, at most forward.message_size
 * raw bytes. Headers: Nats-Msg-Id "<node>.<first seq>.<count>" (a resend
 * after a timeout, an outage or a restart is the same id, so the stream's
 * duplicate window drops it), Logward-Node, Logward-Seq, Logward-Count.
 * Chunks start where the previous one ended, so resending from the cursor
 * rebuilds the same messages.
 *
 * Publishing is asynchronous with at most forward.max_in_flight messages
 * unacknowledged. The cursor moves over the acknowledged prefix and is
 * stored (one short LMDB write txn) at most every 200 ms and at stop;
 * after a crash the edge resends from the stored cursor and the ids
 * dedup. A publish that fails or times out makes the forwarder wait for
 * the others in flight and resend from the cursor.
 *
 * The stream is created when missing (subjects "<subject>.>", replicas,
 * duplicate window, limits from forward:), and used as it is otherwise.
 *
 * Threads: start/stop/gauges from the daemon's thread; the forwarder's
 * own thread and libnats's threads run the rest. Errors: LW_OK or a
 * negative enum lw_err; diag names the cause. */
#ifndef LW_COLLECTOR_FORWARD_H
#define LW_COLLECTOR_FORWARD_H

#include <stdint.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct lw_store;
struct lw_forward;
struct lw_health;

struct lw_forward_opts {
	const struct lw_forward_config *cfg; /* borrowed, outlives the forwarder */
	struct lw_store *store;              /* borrowed, writable */
	const struct lw_log *log;            /* borrowed, may be NULL */
	struct lw_counters *counters;        /* borrowed */
	uint32_t poll_ms;                    /* idle poll of the store; 0 = 100 */
	/* Borrowed, may be NULL: told the lag (lw_health_report_lag) after
	 * every step, so a lag past forward.lag_alert raises an incident. */
	struct lw_health *health;
};

/* What /metrics and the loss watcher read (any thread). */
struct lw_forward_gauges {
	uint64_t cursor;        /* next seq not yet acknowledged */
	uint64_t stored;        /* events the store holds (next seq to store) */
	uint64_t in_flight;     /* messages published, not yet acknowledged */
	uint64_t lag_events;    /* stored - cursor */
	int64_t lag_ns;         /* now - arrival of the oldest unacknowledged event; 0 = none */
	int connected;          /* 1 while connected to a NATS server */
};

/* Loads the cursor and starts the thread (it connects, retrying for as
 * long as it runs). LW_ENOMEM, LW_EINVAL (TLS or credentials files). */
int lw_forward_start(const struct lw_forward_opts *opts, struct lw_forward **out,
		     struct lw_diag *diag);
void lw_forward_gauges(struct lw_forward *f, struct lw_forward_gauges *out);
/* Waits up to grace_ms for what is in flight, stores the cursor, closes
 * the connection and joins the thread. NULL allowed. */
void lw_forward_stop(struct lw_forward *f, uint32_t grace_ms);

#endif
