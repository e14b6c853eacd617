/* Incident notifications (prefix lw_notify): the `notify:` outputs of the
 * config, each fed from its own bounded queue by its own thread, so a slow
 * or failing output never stalls ingestion nor another output.
 *
 *   file  appends the incident JSON and a newline with one write(2) to a
 *         file opened O_APPEND for that write (log rotation friendly),
 *         then fdatasync.
 *   exec  fork + execve of argv (no shell, no PATH search), the incident
 *         JSON and a newline on stdin, stdout to /dev/null, stderr
 *         inherited, in its own process group. Success is exit status 0;
 *         after timeout_ms the group gets SIGKILL and the attempt failed.
 *
 * A failed attempt is counted (notify_failed) and retried (notify_retried)
 * after a backoff of 1 s, 2 s, 4 s ... (capped at 60 s) up to max_attempts;
 * then the notification is dropped and counted (notify_dropped), as is the
 * oldest waiting one when a queue is full. Delivered: notify_sent.
 *
 * Threads: lw_notify_submit from any thread (the pipeline's writer after
 * the commit that stored the incident succeeded, or the claims thread of
 * collector/notifyclaim.h); one internal thread per output. */
#ifndef LW_COLLECTOR_NOTIFY_H
#define LW_COLLECTOR_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct lw_notify;

/* Largest incident JSON accepted (longer ones are refused and counted as
 * dropped: an incident record is far below this). */
#define LW_NOTIFY_MAX_JSON (256u * 1024u)

struct lw_notify_opts {
	const struct lw_notify_config *outputs; /* borrowed, outlives the notifier */
	size_t noutputs;
	uint32_t queue_max;          /* per output; 0 = 1024 */
	uint32_t backoff_ms;         /* first retry delay; 0 = 1000 */
	const struct lw_log *log;    /* borrowed, may be NULL */
	struct lw_counters *counters; /* borrowed, may be NULL */
};

/* Starts one thread per output (none when noutputs is 0: submit is then
 * a no-op). *out is stopped with lw_notify_stop. LW_ENOMEM, LW_EIO. */
int lw_notify_start(const struct lw_notify_opts *opts, struct lw_notify **out,
		    struct lw_diag *diag);

/* Queues one incident (json: one JSON object, no newline; copied) for
 * every output whose min_level is at most level (0 informational ..
 * 4 critical). Never blocks on an output: a full queue drops its oldest
 * entry. NULL n is a no-op. */
void lw_notify_submit(struct lw_notify *n, const char *json, size_t len,
		      unsigned level);

/* How many outputs n delivers to (0 for NULL): fixed once started. */
size_t lw_notify_outputs(const struct lw_notify *n);

/* Level number of "informational" .. "critical", or 0 when unknown. */
unsigned lw_notify_level(const char *name);

/* Waits up to drain_ms for the queues to empty (deliveries in progress
 * finish or time out), then stops the threads; what is left is dropped
 * and counted. NULL is allowed. */
void lw_notify_stop(struct lw_notify *n, uint32_t drain_ms);

#endif
