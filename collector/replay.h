/* Rules replayed over stored history (prefix lw_replay): `logward rules
 * replay`. Reads the events of a period from the store (read-only: the
 * store is never written), runs them through a rule pack's decoders,
 * detection and correlation rules in stored order, as the writer did when
 * they arrived, and collects the incidents that pack would have raised;
 * lw_replay_diff compares them with the incidents the store holds.
 *
 * What is decoded again: a stored event carries the fields its decoders
 * added when it arrived; they are dropped and the replayed pack's
 * decoders run instead. The fields the sources themselves gave
 * (journald.* from journald, tls.client.* from a TLS listener) are kept.
 * Window state starts empty at --since (a window that began earlier
 * counts only what is in the period), event time moves with the events
 * only (firings that a daemon delivers on its wall clock, such as a
 * source falling silent with nothing else arriving, are not produced).
 * Firings still held back by suppression at the end are not merged into
 * the incidents (the store does not hold them yet either): their events
 * are counted in held_back.
 *
 * Merging: firings of one rule and group are one incident (count added,
 * first/last seen widened, host and zone cleared when they differ), the
 * way the store merges repeats of an open incident.
 *
 * Threads: the caller's; the store may be written meanwhile (each
 * segment is read in its own snapshot). */
#ifndef LW_COLLECTOR_REPLAY_H
#define LW_COLLECTOR_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "correlator/ruleset.h"
#include "store/store.h"

/* Distinct incidents a replay tracks; further ones are counted only. */
#define LW_REPLAY_MAX_INCIDENTS 1000000u

struct lw_replay_opts {
	const struct lw_ruleset *rs; /* borrowed; its correlation rules too */
	int64_t since_ns, until_ns;  /* @timestamp window, INT64_MIN/MAX = open */
	const char *expr;            /* query language filter (store/qlang.h) or NULL */
};

struct lw_replay_incident {
	const struct lw_sigma_rule_info *rule; /* borrowed from the ruleset */
	const char *response_json;             /* borrowed from the ruleset */
	char group[512], host[256], zone[64];
	int64_t first_seen_ns, last_seen_ns;
	uint64_t count, fires;
};

struct lw_replay_result {
	uint64_t events;          /* events read and evaluated */
	uint64_t segments;        /* segments decoded */
	uint64_t untracked;       /* firings of incidents past the cap */
	uint64_t held_back;       /* events of firings suppression held at the end */
	size_t nincidents;
	struct lw_replay_incident *incidents; /* in order of their first firing */
	/* private: (rule, group) -> index + 1 */
	size_t *slots;
	size_t nslots, cap;
};

/* Runs the replay. *out is the caller's (lw_replay_result_free).
 * Errors: LW_EPARSE (a bad expression: diag), LW_ENOMEM, LW_ECORRUPT (a
 * segment does not decode), LW_ESTORE. */
int lw_replay_run(struct lw_store *st, const struct lw_replay_opts *o,
		  struct lw_replay_result **out, struct lw_diag *diag);
void lw_replay_result_free(struct lw_replay_result *r);

/* The incident as `rules test` prints its firings (without "lines" and
 * "fire_count"): {"id":N,"rule":{"id","name"?,"title","level"},
 * "category","level","status":"open","zone","group","host","first_seen",
 * "last_seen","count"} with no closing brace, so callers append members
 * and close it. */
void lw_replay_incident_json_open(const struct lw_sigma_rule_info *rule, uint64_t id,
				  const char *group, const char *host, const char *zone,
				  int64_t first_ns, int64_t last_ns, uint64_t count,
				  struct lw_buf *out);

enum lw_replay_change {
	LW_REPLAY_SAME = 0,   /* raised by both, same count, first and last seen */
	LW_REPLAY_NEW,        /* only the replay raises it */
	LW_REPLAY_GONE,       /* only the store holds it */
	LW_REPLAY_CHANGED     /* both, with another count, first or last seen */
};

/* The store's incidents of one rule and group whose first_seen is in the
 * replay's window, merged. */
struct lw_replay_stored {
	char rule_id[128], rule_title[256], group[512];
	int64_t first_seen_ns, last_seen_ns;
	uint64_t count;
	uint32_t nincidents;
	uint64_t first_id;    /* the oldest of them */
};

struct lw_replay_change_entry {
	enum lw_replay_change change;
	const struct lw_replay_incident *replayed; /* NULL when GONE */
	struct lw_replay_stored stored;            /* zero when NEW */
};

/* Called for each (rule, group) of either side: first the replayed ones
 * in their order, then the stored ones the replay did not raise, oldest
 * id first. Non-zero stops and is returned. */
typedef int (*lw_replay_diff_cb)(const struct lw_replay_change_entry *e, void *arg);

/* Compares r with the store's incidents (every status) whose first_seen
 * lies in o's window. LW_OK, the callback's value, LW_ENOMEM, LW_ESTORE. */
int lw_replay_diff(struct lw_store *st, const struct lw_replay_opts *o,
		   const struct lw_replay_result *r, lw_replay_diff_cb cb, void *arg,
		   struct lw_diag *diag);

#endif
