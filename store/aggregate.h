/* Aggregations over a query (prefix lw_agg): one number, the top values
 * of a field, and a time series per value: `logward query --count`,
 * `--count-by FIELD [--top N]`, `--histogram STEP [--by FIELD]`, and what
 * the HTTP API and the audit report call.
 *
 * Use: build an lw_query with the filter (expression, --since/--until;
 * store/query.h), then
 *
 *     struct lw_agg_request r = {.kind = LW_AGG_COUNT_BY,
 *                                .field = "host.name", .top = 10};
 *     struct lw_agg_result *res;
 *     rc = lw_agg_run(q, &r, &res, &diag);
 *     lw_agg_to_json(res, &buf);     (or _text, _csv)
 *     lw_agg_result_free(res);
 *
 * Counting: an event counts once per distinct value it holds (an extra
 * field may repeat its key, so per-value counts can add up to more than
 * the total); an event without the field counts as missing. Values are
 * the field's text; numbers print as decimals, times as RFC 3339. A
 * segment whose every event matches is counted from its metadata record
 * without decompressing it when the field is host.name, labels.zone or
 * process.name (or none, for a count), and, for a histogram, when the
 * segment's events all fall in one bucket. Other segments decode only the
 * columns needed (the field, @timestamp, what the expression reads).
 *
 * Histogram buckets are [start + i*step, start + (i+1)*step), aligned to
 * multiples of step since the epoch (UTC). They span the query's window
 * (--since to --until, or to now when only --since is given) and grow to
 * take any matching event outside it; every bucket is present, empty
 * ones with 0.
 *
 * Bounds: LW_AGG_MAX_VALUES distinct values, LW_AGG_MAX_BUCKETS buckets
 * and LW_AGG_MAX_CELLS series cells; past them lw_agg_run fails with
 * LW_ETOOBIG and a diag that says what to narrow.
 *
 * Threads: a result is plain data; the run uses the query's thread. */
#ifndef LW_STORE_AGGREGATE_H
#define LW_STORE_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/query.h"

#define LW_AGG_DEFAULT_TOP 10
#define LW_AGG_MAX_VALUES 1000000u
#define LW_AGG_MAX_BUCKETS 1000000u
#define LW_AGG_MAX_CELLS 16000000u

enum lw_agg_kind {
	LW_AGG_COUNT = 0,
	LW_AGG_COUNT_BY,
	LW_AGG_HISTOGRAM
};

struct lw_agg_request {
	enum lw_agg_kind kind;
	const char *field;   /* COUNT_BY: required; HISTOGRAM: the series field or NULL */
	uint32_t top;        /* values reported (COUNT_BY) or series (HISTOGRAM);
			      * 0 = LW_AGG_DEFAULT_TOP */
	int64_t step_ns;     /* HISTOGRAM: bucket width (> 0) */
};

/* One reported value: COUNT_BY's top values, HISTOGRAM's series. */
struct lw_agg_value {
	struct lw_str value;     /* owned by the result */
	uint64_t count;          /* events holding it */
	uint64_t *series;        /* HISTOGRAM with a field: nbuckets counts */
};

struct lw_agg_result {
	enum lw_agg_kind kind;
	const char *field;       /* the field as asked (owned), or NULL */
	uint64_t total;          /* matching events */
	uint64_t missing;        /* ... without the field */
	uint64_t distinct;       /* distinct values seen */
	uint32_t nvalues;        /* reported values, most frequent first,
				  * ties in byte order */
	struct lw_agg_value *values;
	uint64_t other;          /* counts of the values not reported */
	/* HISTOGRAM */
	int64_t step_ns;
	int64_t start_ns;        /* first bucket's start */
	uint32_t nbuckets;
	uint64_t *counts;        /* per bucket, every matching event */
	uint64_t *other_series;  /* with a field: values not reported, per bucket */
	uint64_t *missing_series; /* with a field: events without it, per bucket */
	/* how the answer was found */
	uint64_t segments_from_meta, segments_decoded;
};

/* Runs req over q (a fresh query: its limit is ignored). *out is the
 * caller's (lw_agg_result_free). Errors: LW_EPARSE (an unknown field:
 * diag says which), LW_EINVAL (no field for COUNT_BY, step <= 0),
 * LW_ETOOBIG (bounds above), LW_ENOMEM, and lw_query_run's. */
int lw_agg_run(struct lw_query *q, const struct lw_agg_request *req,
	       struct lw_agg_result **out, struct lw_diag *diag);
/* NULL is allowed. */
void lw_agg_result_free(struct lw_agg_result *r);

/* Renderings (appended). Text is for terminals: aligned columns, values
 * through lw_escape_text (core/escape.h: C0, DEL, C1 and bidi controls
 * shown as visible escapes). JSON: one object, shape in
 * docs/query.md. CSV (RFC 4180, CRLF): each cell through lw_escape_csv
 * (core/escape.h): controls shown as visible escapes, quoted when it
 * holds a comma or quote, a leading apostrophe before = + - @ so a
 * spreadsheet never runs it as a formula. */
void lw_agg_to_text(const struct lw_agg_result *r, struct lw_buf *out);
void lw_agg_to_json(const struct lw_agg_result *r, struct lw_buf *out);
void lw_agg_to_csv(const struct lw_agg_result *r, struct lw_buf *out);

/* Parses a histogram step: a positive number and a unit s, m, h, d, w
 * ("1m", "15m", "1h"). LW_OK or LW_EINVAL. */
int lw_agg_parse_step(const char *s, int64_t *step_ns);

#endif
