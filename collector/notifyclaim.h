/* Notifications sent once across central nodes (prefix lw_notifyclaim).
 *
 * Two central nodes consume the same stream and raise the same
 * incidents; each would notify. Before a new incident's notification
 * goes to the outputs (collector/notify.h), this module claims it in a
 * JetStream key-value bucket ("<stream>_NOTIFY", made when missing) with
 * a create-only write under a key made from the incident's identity
 * across nodes: rule id, group and first-seen time (the event time of
 * its first contributing event, the same on every node). The node whose
 * claim succeeds sends; a node that finds the key there skips, counted
 * in notify_claimed_elsewhere. No leader is needed: when one node is
 * killed, the other claims and sends the incidents it raises.
 *
 * When the servers do not answer (no bucket, a timeout), the
 * notification is sent anyway and counted in notify_unclaimed: for a
 * security alert a duplicate is better than silence. A node killed
 * between its claim and the delivery loses that notification (the
 * incident itself is stored on both nodes).
 *
 * Threads: lw_notifyclaim_submit from the pipeline's writer thread (never
 * blocks: a full queue sends unclaimed); one internal thread claims and
 * hands over to lw_notify_submit, which it is then the only caller of. */
#ifndef LW_COLLECTOR_NOTIFYCLAIM_H
#define LW_COLLECTOR_NOTIFYCLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"

struct lw_notify;
struct lw_notifyclaim;

struct lw_notifyclaim_opts {
	const struct lw_listener_config *lc; /* the nats listener (borrowed) */
	struct lw_notify *notify;            /* where claimed ones go (borrowed) */
	const struct lw_log *log;
	struct lw_counters *counters;
};

/* Connects (in the background when no server answers yet) and starts the
 * thread. LW_ENOMEM, LW_EINVAL (TLS or credentials files), LW_EIO. */
int lw_notifyclaim_start(const struct lw_notifyclaim_opts *o, struct lw_notifyclaim **out,
			 struct lw_diag *diag);

/* Queues the notification json (one object, copied) of the incident
 * (rule_id, group, first_seen_ns) at level (lw_notify_level). */
void lw_notifyclaim_submit(struct lw_notifyclaim *c, const char *rule_id,
			   const char *group, int64_t first_seen_ns,
			   const char *json, size_t len, unsigned level);

/* The claim key of an incident: "inc." and 64 hex digits of SHA-256
 * over rule id, group and first-seen (decimal), NUL-separated. out
 * holds at least LW_NOTIFYCLAIM_KEY bytes. */
#define LW_NOTIFYCLAIM_KEY 69
void lw_notifyclaim_key(const char *rule_id, const char *group, int64_t first_seen_ns,
			char *out);

/* Claims what is queued (up to drain_ms), then stops; NULL is allowed. */
void lw_notifyclaim_stop(struct lw_notifyclaim *c, uint32_t drain_ms);

#endif
