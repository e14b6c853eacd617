/* The query engine (prefix lw_query): filters stored events with a query
 * language expression (store/qlang.h) and the old flags, which are
 * shorthand for terms of it, skipping segments by their metadata record
 * before decompressing any (store/qplan.h). Also the cursor behind
 * `logward query --follow` and the segment walk behind the aggregations
 * (store/aggregate.h).
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

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "store/qlang.h"
#include "store/segment.h"
#include "store/store.h"

#define LW_QUERY_MAX_FIELDS 16

/* Filter; every member is optional (zero/NULL = no condition), except
 * since/until which lw_query_filter_init sets to "unbounded". Strings are
 * NUL-terminated and borrowed until lw_query_new returns. Conditions are
 * AND-ed: expr, then each old flag as the term it stands for (host:
 * host.name:"H"; app: process.name; zone: labels.zone; max_severity:
 * log.syslog.severity.code:<=N; fields: K:"V"; grep: message:/RE/). */
struct lw_query_filter {
	const char *expr;   /* query language (store/qlang.h), or NULL */
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
	uint64_t regex_errors;      /* match limit hits (the run stops at the first) */
	/* how segments were ruled out or answered (store/qplan.h) */
	uint64_t segments_skipped_time;  /* outside --since/--until */
	uint64_t segments_skipped_index; /* host/zone/app lists exclude them */
	uint64_t segments_from_meta;     /* counted from the metadata alone */
	uint64_t literal_searched;  /* message columns searched for the literal */
	uint64_t literal_missing;   /* ... without it: nothing more decoded */
	uint64_t literal_candidates; /* events holding it, matched in full */
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
 * (copied; its strings are not needed afterwards). Errors: LW_EPARSE (a
 * bad expression: diag.line/col and what was expected; a bad --grep:
 * diag.line 0, diag.col its 1-based offset, diag.detail the pcre2
 * message), LW_ETOOBIG (an expression over the qlang limits), LW_EINVAL
 * (more than LW_QUERY_MAX_FIELDS fields), LW_ENOMEM, LW_ESTORE. */
int lw_query_new(struct lw_store *st, const struct lw_query_filter *f,
		 struct lw_query **out, struct lw_diag *diag);
/* NULL is allowed. */
void lw_query_free(struct lw_query *q);

/* Reads every segment newer than the last one this query read (all of
 * them on the first call), calling cb for each match. The first call is
 * a normal query; calling again later is a follow poll. Returns LW_OK,
 * cb's non-zero value, LW_ECORRUPT (a segment fails to decode; diag names
 * its id), LW_EFULL (a regex hit its match limit: diag names it; the run
 * stops there rather than answer wrongly), LW_ETOOBIG (past the deadline:
 * diag says after how much), LW_ESTORE, LW_ENOMEM. */
int lw_query_run(struct lw_query *q, lw_query_cb cb, void *arg,
		 struct lw_diag *diag);
/* Later runs stop with LW_ETOOBIG once the monotonic clock
 * (lw_time_mono_ns) passes deadline_ns; 0 = no deadline. A pattern that
 * backtracks on every message (under the match limit) can otherwise scan
 * for minutes without printing anything. */
void lw_query_set_deadline(struct lw_query *q, int64_t deadline_ns);
/* 1 when the query runs a regex (--grep, field:/re/): the kind of query
 * a crafted pattern or message can make slow. */
int lw_query_has_regex(const struct lw_query *q);

/* Called once per segment the metadata does not rule out, before any
 * decompression, with what the metadata says (LW_QLANG_SOME, or EVERY:
 * every event of the segment matches). Return 1 when the segment was
 * fully accounted for from m alone (it is then not decoded), 0 to have
 * its matching events passed to the event callback. */
typedef int (*lw_query_meta_cb)(const struct lw_segment_meta *m,
				enum lw_qlang_tri verdict, void *arg);

/* lw_query_run for consumers that read only some members of the events
 * (aggregations): cb's events have the members in cols (enum
 * lw_segment_cols) filled and the others zero. meta_cb may be NULL. The
 * limit does not apply. Same returns as lw_query_run. */
int lw_query_run_cols(struct lw_query *q, unsigned cols, lw_query_meta_cb meta_cb,
		      lw_query_cb cb, void *arg, struct lw_diag *diag);

/* Newest first, for the HTTP API's pages of events: walks the segments
 * from the newest one with id < before_segment (UINT64_MAX: the newest of
 * all) towards the oldest, the events of each segment newest first,
 * and stops after the filter's limit matches (0 = no limit). skip_first
 * matches of the first segment read are skipped: the next page starts
 * with *next_segment + 1 and *next_skip (what this page consumed of its
 * last segment); *next_segment = 0 when nothing is left. Segments do not
 * change once stored, so a cursor stays valid while commits go on.
 * Same returns as lw_query_run. */
int lw_query_run_newest(struct lw_query *q, uint64_t before_segment, uint32_t skip_first,
			lw_query_cb cb, void *arg, uint64_t *next_segment,
			uint32_t *next_skip, struct lw_diag *diag);
/* Makes the next lw_query_run read only segments with id > after (a live
 * tail that resumes where the last page of another query ended). */
void lw_query_seek(struct lw_query *q, uint64_t after_segment);

/* Appends the plan (expression, time window, index used, literal
 * searched first) and, after a run, what it did: segments seen,
 * skipped by time and by index, answered from metadata, decoded,
 * literal searches, events scanned and matched. One "key: value" line
 * each. */
void lw_query_explain(const struct lw_query *q, struct lw_buf *out);
/* The time window of the query (INT64_MIN / INT64_MAX when unbounded). */
void lw_query_window(const struct lw_query *q, int64_t *since_ns, int64_t *until_ns);

/* 1 once the limit has been reached (further runs return at once). */
int lw_query_done(const struct lw_query *q);
/* Id of the newest segment read so far (0 = none). */
uint64_t lw_query_last_segment(const struct lw_query *q);
void lw_query_get_stats(const struct lw_query *q, struct lw_query_stats *out);

/* 1 when ev (every member decoded) passes the time window and the
 * expression, else 0 (a regex limit hit counts in regex_errors). */
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
