/* The query engine (prefix lw_query): filters stored events, skipping
 * segments by their metadata record before decompressing any. Also the
 * cursor behind `logward query --follow`.
 *
 * Threads: a query is used by one thread at a time. It holds one store
 * reader whose snapshot is ended (mdb_txn_reset) after each decoded
 * segment, before that segment's callbacks run, and at the end of each
 * lw_query_run: neither a slow consumer nor a follow loop's sleep pins
 * old pages. Each segment is read from a snapshot at least as new as the
 * previous one's, so commits made during a run are seen by that run. */
#ifndef LW_STORE_QUERY_H
#define LW_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "store/store.h"

#define LW_QUERY_MAX_FIELDS 16

/* Filter; every member is optional (zero/NULL = no condition), except
 * since/until which lw_query_filter_init sets to "unbounded". Strings are
 * NUL-terminated and borrowed until lw_query_free. */
struct lw_query_filter {
	int64_t since_ns;   /* @timestamp >= since (INT64_MIN = no bound) */
	int64_t until_ns;   /* @timestamp <= until (INT64_MAX = no bound) */
	const char *host;   /* exact host.name */
	const char *app;    /* exact process.name */
	const char *zone;   /* exact labels.zone */
	int max_severity;   /* -1 = any; else severity code <= this
			     * ("at or above"); events without one fail */
	unsigned nfields;
	struct {
		const char *key;  /* ECS name of a member or an extra field key */
		const char *value;
	} fields[LW_QUERY_MAX_FIELDS];
	const char *grep;   /* pcre2 pattern searched in message, or NULL */
	uint64_t limit;     /* stop after this many matches; 0 = no limit */
};

struct lw_query_stats {
	uint64_t segments_seen;     /* metadata records looked at */
	uint64_t segments_skipped;  /* rejected by metadata alone */
	uint64_t segments_decoded;
	uint64_t events_scanned;
	uint64_t events_matched;
	uint64_t regex_errors;      /* match limit hits (LW_REGEX_RULE_LIMIT), counted as no match */
};

struct lw_query;

/* Called per matching event in segment id order, then stored order within
 * a segment. ev and its strings are valid only during the call (they point
 * into the query's decoder, not the LMDB map; no read txn is held during
 * the call). Return 0 to continue; anything else stops lw_query_run,
 * which returns it. */
typedef int (*lw_query_cb)(const struct lw_event *ev, uint64_t segment_id,
			   void *arg);

/* Sets since/until to unbounded, max_severity to -1, the rest to zero. */
void lw_query_filter_init(struct lw_query_filter *f);

/* Prepares a query over st (borrowed; must outlive the query) and f
 * (copied, its strings borrowed). Errors: LW_EPARSE (bad grep: diag.col
 * is the 1-based offset, diag.detail the pcre2 message), LW_EINVAL
 * (more than LW_QUERY_MAX_FIELDS fields), LW_ENOMEM, LW_ESTORE. */
int lw_query_new(struct lw_store *st, const struct lw_query_filter *f,
		 struct lw_query **out, struct lw_diag *diag);
/* NULL is allowed. */
void lw_query_free(struct lw_query *q);

/* Reads every segment newer than the last one this query read (all of
 * them on the first call), calling cb for each match. The first call is
 * a normal query; calling again later is a follow poll. Returns LW_OK,
 * cb's non-zero value, LW_ECORRUPT (a segment fails to decode; diag names
 * its id), LW_ETOOBIG (past the deadline), LW_ESTORE, LW_ENOMEM. */
int lw_query_run(struct lw_query *q, lw_query_cb cb, void *arg,
		 struct lw_diag *diag);
/* Later runs stop with LW_ETOOBIG (diag says after how much) once the
 * monotonic clock (lw_time_mono_ns) passes deadline_ns; 0 = no
 * deadline. A pattern that backtracks on every message can otherwise
 * scan for minutes without printing anything. */
void lw_query_set_deadline(struct lw_query *q, int64_t deadline_ns);

/* 1 once the limit has been reached (further runs return at once). */
int lw_query_done(const struct lw_query *q);
/* Id of the newest segment read so far (0 = none). */
uint64_t lw_query_last_segment(const struct lw_query *q);
void lw_query_get_stats(const struct lw_query *q, struct lw_query_stats *out);

/* 1 when ev passes every event-level condition of the query (time,
 * host, app, zone, severity, fields, grep), else 0. */
int lw_query_match(struct lw_query *q, const struct lw_event *ev);

/* Adds a --field condition from "KEY=VALUE" (kv is split in place at the
 * first '=' and borrowed). LW_EPARSE when there is no '=' or the key is
 * empty, LW_EINVAL when the filter already holds LW_QUERY_MAX_FIELDS. */
int lw_query_filter_add_field(struct lw_query_filter *f, char *kv);

/* Parses a severity: a syslog name ("emerg", "alert", "crit", "err",
 * "error", "warning", "warn", "notice", "info", "debug", any case) or a
 * digit 0-7. Returns the code, or LW_EINVAL. */
int lw_query_parse_severity(const char *s);

#endif
