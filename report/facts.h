/* report/facts.h - the numbers of an audit report, read from a store for
 * one period (prefix lw_facts): events per zone per day, every source
 * with its first and last event, gaps and clock-skewed events, the loss
 * counters, the chain verification, retention deletions, incidents with
 * their times to acknowledge and close, and the audit trail.
 * report/report.h turns them into a document; nothing here is worded.
 *
 * Cost: one pass over the period's events reading four columns
 * (@timestamp, host, zone, flags), one walk of the incidents and the
 * audit trail, and a `verify` of the whole store (integrity is a
 * property of the chain, not of a period).
 * Bounds: LW_FACTS_MAX_SOURCES hosts and LW_FACTS_MAX_ZONES zones are
 * tracked (events of further ones are counted in untracked_events);
 * a source's gaps are kept as merged intervals, so memory grows with
 * the gaps, not the events.
 * Threads: the caller's; the store may be written meanwhile (readers
 * are snapshots). */
#ifndef LW_REPORT_FACTS_H
#define LW_REPORT_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "store/verify.h"

struct lw_tz;

#define LW_FACTS_MAX_SOURCES 100000u
#define LW_FACTS_MAX_ZONES 64u
#define LW_FACTS_MAX_DAYS 3660u  /* ten years of daily bars */
#define LW_FACTS_MAX_AUDIT 1000u /* audit records listed (all are counted) */

struct lw_facts_opts {
	int64_t from_ns, to_ns;  /* the period [from, to) */
	int64_t now_ns;          /* "still open after N days" is measured here */
	int64_t gap_ns;          /* a source silent this long inside the period: a gap */
	int64_t silent_ns;       /* ... and at its end: the source fell silent */
	int64_t open_ns;         /* an incident not closed this long after it opened */
	const struct lw_tz *tz;  /* days are local days in this zone; NULL = UTC */
	const uint8_t *key;      /* verify's --key (32 bytes) or NULL */
	const char *key_file;    /* the writer's key file or NULL */
};

struct lw_facts_gap {
	int64_t start_ns, end_ns; /* the events either side */
};

struct lw_facts_source {
	char *host;
	char *zone;               /* the zone of its newest event */
	uint64_t events, skewed;  /* skewed: flagged for clock skew */
	int64_t first_ns, last_ns;
	int silent;               /* no event in the last silent_ns of the period */
	size_t ngaps;
	struct lw_facts_gap *gaps;
	/* private: merged runs of events (no gap inside), and points not
	 * merged yet */
	size_t nruns, runs_cap, npts, pts_cap;
	struct lw_facts_gap *runs;
	int64_t *pts;
};

struct lw_facts_counter {
	const char *name;         /* core/counters.h's name (static) */
	uint64_t value;
};

/* One incident of the period, what the report shows of it. */
struct lw_facts_incident {
	uint64_t id, count;
	char *rule_id, *rule_title, *category, *level, *status, *group;
	int64_t first_seen_ns, last_seen_ns, opened_ns;
	int64_t ack_ns, closed_ns;     /* 0 = not yet */
	int false_positive;            /* closed with a note saying so */
};

struct lw_facts_rule_fp {
	char *rule_id, *rule_title;
	uint64_t closed, false_positives;
};

struct lw_facts_audit {
	int64_t time_ns;
	unsigned status;
	char *actor, *address, *action, *target, *detail;
};

struct lw_facts {
	struct lw_facts_opts opts;
	/* store */
	struct lw_store_head head;
	struct lw_verify_result verify;
	int verify_rc;                 /* LW_OK, LW_ECORRUPT, or a read error */
	/* events of the period */
	uint64_t events, untracked_events;
	uint32_t ndays;                /* local days from the one holding from_ns */
	int64_t first_day;             /* days since the epoch of day 0 */
	size_t nzones;
	char *zones[LW_FACTS_MAX_ZONES];
	uint64_t *zone_days;           /* nzones x ndays, zone-major */
	size_t nsources;
	struct lw_facts_source *sources; /* by host name */
	/* loss and refusal counters as of the last commit (not per period) */
	size_t ncounters;
	struct lw_facts_counter counters[64];
	/* incidents overlapping the period, by id */
	size_t nincidents;
	struct lw_facts_incident *incidents;
	size_t nrules_fp;
	struct lw_facts_rule_fp *rules_fp;  /* rules with closures, by id */
	/* audit trail of the period, newest first */
	uint64_t audit_total;
	size_t naudit;
	struct lw_facts_audit *audit;
};

/* Reads everything for o's period from st (opened readonly or not).
 * *out is the caller's (lw_facts_free). Errors: LW_ENOMEM, LW_ESTORE,
 * LW_ECORRUPT (a segment does not decode), LW_ETOOBIG (the period spans
 * more than LW_FACTS_MAX_DAYS days), LW_EINVAL (from >= to). A chain
 * that does not verify is a fact (verify_rc), not an error. */
int lw_facts_read(struct lw_store *st, const struct lw_facts_opts *o,
		  struct lw_facts **out, struct lw_diag *diag);
void lw_facts_free(struct lw_facts *f);

/* The p-th percentile (0-100, nearest rank) of v[0..n) (sorted in place);
 * 0 when n is 0. */
int64_t lw_facts_percentile(int64_t *v, size_t n, unsigned p);

/* 1 when a closing note says the incident was a false positive: it holds
 * "false positive", "false-positive" (ASCII case ignored), "誤検知" or
 * "過検知". */
int lw_facts_note_is_false_positive(const char *note, size_t len);

#endif
