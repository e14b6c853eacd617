/* lw_query: the old flags turned into terms, the plan, and the segment
 * walk (metadata verdict, scan, callbacks without a read txn). Reader
 * thread.
 *
 * Per segment: the plan's metadata verdict (time range, host/zone/app
 * lists), then a selective decode: the literal of a full-text conjunct
 * searched in the message column, the columns the expression reads, and
 * only when something matched, the members the consumer reads. */
#include "store/query.h"
#include "core/time.h"
#include "store/qplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct lw_query {
	struct lw_store *st;
	struct lw_store_reader *rd;
	struct lw_segment_decoder *dec;
	struct lw_qplan *plan;
	uint64_t limit;
	int64_t since, until;
	uint64_t last_id;
	int64_t deadline_ns;      /* monotonic; 0 = none */
	struct lw_query_stats stats;
};

void lw_query_filter_init(struct lw_query_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since_ns = INT64_MIN;
	f->until_ns = INT64_MAX;
	f->max_severity = -1;
}

int lw_query_filter_add_field(struct lw_query_filter *f, char *kv)
{
	char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv)
		return LW_EPARSE;
	if (f->nfields >= LW_QUERY_MAX_FIELDS)
		return LW_EINVAL;
	*eq = '\0';
	f->fields[f->nfields].key = kv;
	f->fields[f->nfields].value = eq + 1;
	f->nfields++;
	return LW_OK;
}

int lw_query_parse_severity(const char *s)
{
	static const char *const names[8][2] = {
		{"emerg", "emergency"}, {"alert", "alert"}, {"crit", "critical"},
		{"err", "error"}, {"warning", "warn"}, {"notice", "notice"},
		{"info", "informational"}, {"debug", "debug"},
	};

	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, names[i][0]) == 0 || strcasecmp(s, names[i][1]) == 0)
			return i;
	return LW_EINVAL;
}

/* The old flags, as the terms they stand for, AND-ed into *e. */
static int add_flags(struct lw_qlang **e, const struct lw_query_filter *f)
{
	char sev[12];
	int rc = LW_OK;

	if (f->host != NULL)
		rc = lw_qlang_and_term(e, "host.name", LW_QLANG_EQ, f->host, strlen(f->host));
	if (rc == LW_OK && f->app != NULL)
		rc = lw_qlang_and_term(e, "process.name", LW_QLANG_EQ, f->app, strlen(f->app));
	if (rc == LW_OK && f->zone != NULL)
		rc = lw_qlang_and_term(e, "labels.zone", LW_QLANG_EQ, f->zone, strlen(f->zone));
	if (rc == LW_OK && f->max_severity >= 0) {
		snprintf(sev, sizeof(sev), "%d", f->max_severity);
		rc = lw_qlang_and_term(e, "log.syslog.severity.code", LW_QLANG_RANGE, sev,
				       strlen(sev));
	}
	for (unsigned i = 0; rc == LW_OK && i < f->nfields; i++)
		rc = lw_qlang_and_term(e, f->fields[i].key, LW_QLANG_EQ, f->fields[i].value,
				       strlen(f->fields[i].value));
	if (rc == LW_OK && f->grep != NULL)
		rc = lw_qlang_and_term(e, "message", LW_QLANG_REGEX, f->grep, strlen(f->grep));
	return rc;
}

int lw_query_new(struct lw_store *st, const struct lw_query_filter *f,
		 struct lw_query **out, struct lw_diag *diag)
{
	struct lw_qlang *e = NULL;
	struct lw_query *q;
	int rc;

	*out = NULL;
	if (f->nfields > LW_QUERY_MAX_FIELDS)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "at most %d --field conditions", LW_QUERY_MAX_FIELDS);
	if (f->expr != NULL) {
		rc = lw_qlang_parse(f->expr, strlen(f->expr), &e, diag);
		if (rc != LW_OK)
			return rc;
	}
	rc = add_flags(&e, f);
	if (rc != LW_OK) {
		lw_qlang_free(e);
		return lw_diag_set(diag, rc, NULL, 0, 0, "%s", lw_strerror(rc));
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL) {
		lw_qlang_free(e);
		return LW_ENOMEM;
	}
	q->st = st;
	q->limit = f->limit;
	q->since = f->since_ns;
	q->until = f->until_ns;
	rc = lw_qplan_new(e, f->since_ns, f->until_ns, lw_time_now_ns(), &q->plan, diag);
	if (rc != LW_OK)
		goto fail;
	q->dec = lw_segment_decoder_new();
	if (q->dec == NULL) {
		rc = LW_ENOMEM;
		goto fail;
	}
	rc = lw_store_reader_open(st, &q->rd, diag);
	if (rc != LW_OK)
		goto fail;
	lw_store_reader_reset(q->rd);
	*out = q;
	return LW_OK;

fail:
	lw_query_free(q);
	return rc;
}

void lw_query_free(struct lw_query *q)
{
	if (q == NULL)
		return;
	lw_store_reader_close(q->rd);
	lw_segment_decoder_free(q->dec);
	lw_qplan_free(q->plan);
	free(q);
}

void lw_query_window(const struct lw_query *q, int64_t *since_ns, int64_t *until_ns)
{
	*since_ns = q->since;
	*until_ns = q->until;
}

void lw_query_set_deadline(struct lw_query *q, int64_t deadline_ns)
{
	q->deadline_ns = deadline_ns;
	lw_qplan_set_deadline(q->plan, deadline_ns);
}

int lw_query_has_regex(const struct lw_query *q)
{
	return lw_qplan_has_regex(q->plan);
}

int lw_query_done(const struct lw_query *q)
{
	return q->limit != 0 && q->stats.events_matched >= q->limit;
}

uint64_t lw_query_last_segment(const struct lw_query *q)
{
	return q->last_id;
}

void lw_query_get_stats(const struct lw_query *q, struct lw_query_stats *out)
{
	struct lw_qplan_stats ps;

	*out = q->stats;
	lw_qplan_get_stats(q->plan, &ps);
	out->segments_skipped_time = ps.skipped_time;
	out->segments_skipped_index = ps.skipped_index;
	out->literal_searched = ps.literal_searched;
	out->literal_missing = ps.literal_missing;
	out->literal_candidates = ps.candidates;
}

int lw_query_match(struct lw_query *q, const struct lw_event *ev)
{
	int rc = lw_qplan_match(q->plan, ev);

	if (rc < 0)
		q->stats.regex_errors++;
	return rc == 1;
}

/* Fetches segment id and begins its decode (the value stays in the map
 * until the reader is reset). */
static int begin_segment(struct lw_query *q, uint64_t id, struct lw_diag *diag)
{
	const void *val;
	size_t len;
	int rc;

	rc = lw_store_reader_get_segment(q->rd, id, &val, &len, diag);
	if (rc == LW_ENOTFOUND)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "segment %llu has metadata but no data",
				   (unsigned long long)id);
	if (rc != LW_OK)
		return rc;
	return lw_segment_decode_begin(q->dec, val, len, NULL, diag);
}

static int scan_segment(struct lw_query *q, uint64_t id, enum lw_qlang_tri verdict,
			unsigned cols, int use_limit, lw_query_cb cb, void *arg,
			struct lw_diag *diag)
{
	const struct lw_event *ev;
	const uint32_t *match;
	uint32_t n, nmatch;
	int rc;

	rc = begin_segment(q, id, diag);
	if (rc == LW_OK)
		rc = lw_qplan_scan(q->plan, q->dec, verdict, cols, &match, &nmatch, diag);
	if (rc == LW_EFULL)
		q->stats.regex_errors++;
	if (rc == LW_ECORRUPT && diag != NULL) {
		char why[sizeof(diag->detail)];

		snprintf(why, sizeof(why), "%s", diag->detail);
		lw_diag_set(diag, rc, NULL, 0, 0, "segment %llu: %s",
			    (unsigned long long)id, why);
	}
	/* The events now live in the decoder's buffer, not in the map:
	 * end the snapshot before the callbacks, which may block for as
	 * long as the consumer likes (`logward query | sleep 20`). The next
	 * reader call renews it. The value and every map pointer die here. */
	lw_segment_decoder_detach(q->dec);
	lw_store_reader_reset(q->rd);
	if (rc != LW_OK)
		return rc;
	q->stats.segments_decoded++;
	ev = lw_segment_decoder_events(q->dec, &n);
	q->stats.events_scanned += n;
	for (uint32_t i = 0; i < nmatch; i++) {
		q->stats.events_matched++;
		rc = cb(&ev[match[i]], id, arg);
		if (rc != 0)
			return rc;
		if (use_limit && lw_query_done(q))
			return LW_OK;
	}
	return LW_OK;
}

/* The segment walk: every segment after the last one read. */
static int run_segments(struct lw_query *q, unsigned cols, int use_limit,
			lw_query_meta_cb meta_cb, lw_query_cb cb, void *arg,
			struct lw_diag *diag)
{
	struct lw_segment_meta m;
	enum lw_qlang_tri verdict;
	const void *rec;
	uint64_t id;
	size_t len;
	int rc;

	if (use_limit && lw_query_done(q))
		return LW_OK;
	for (;;) {
		rc = lw_store_reader_next_meta(q->rd, q->last_id, &id, &rec, &len, diag);
		if (rc == LW_ENOTFOUND) {
			rc = LW_OK;
			break;
		}
		if (rc != LW_OK)
			break;
		q->stats.segments_seen++;
		if (lw_segment_meta_parse(rec, len, &m) != LW_OK) {
			rc = lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					 "segment %llu: bad metadata record",
					 (unsigned long long)id);
			break;
		}
		verdict = lw_qplan_segment(q->plan, &m);
		if (verdict == LW_QLANG_NONE) {
			q->stats.segments_skipped++;
			q->last_id = id;
			continue;
		}
		if (meta_cb != NULL && meta_cb(&m, verdict, arg)) {
			q->stats.segments_from_meta++;
			q->stats.events_matched += m.count;
			q->last_id = id;
			continue;
		}
		if (q->deadline_ns != 0 && lw_time_mono_ns() > q->deadline_ns)
			rc = LW_ETOOBIG;
		else
			rc = scan_segment(q, id, verdict, cols, use_limit, cb, arg, diag);
		if (rc == LW_ETOOBIG)
			lw_diag_set(diag, rc, NULL, 0, 0,
				    "time limit reached after %llu events scanned, %llu matched",
				    (unsigned long long)q->stats.events_scanned,
				    (unsigned long long)q->stats.events_matched);
		if (rc != LW_OK)
			break;
		q->last_id = id;
		if (use_limit && lw_query_done(q))
			break;
	}
	/* Release the snapshot between runs too (mdb_txn_reset): a follow
	 * loop must not pin pages the writer wants to reuse while it sleeps. */
	lw_store_reader_reset(q->rd);
	return rc;
}

int lw_query_run_cols(struct lw_query *q, unsigned cols, lw_query_meta_cb meta_cb,
		      lw_query_cb cb, void *arg, struct lw_diag *diag)
{
	return run_segments(q, cols, 0, meta_cb, cb, arg, diag);
}

int lw_query_run(struct lw_query *q, lw_query_cb cb, void *arg,
		 struct lw_diag *diag)
{
	return run_segments(q, LW_SEGMENT_COL_ALL, 1, NULL, cb, arg, diag);
}

void lw_query_seek(struct lw_query *q, uint64_t after_segment)
{
	q->last_id = after_segment;
}

/* One segment of a newest-first page: its matches from the end, the
 * first `skip` of them left out. *used = matches consumed (skipped or
 * passed on) when the page filled up inside this segment. */
static int scan_newest(struct lw_query *q, uint64_t id, enum lw_qlang_tri verdict,
		       uint32_t skip, lw_query_cb cb, void *arg, uint32_t *used,
		       struct lw_diag *diag)
{
	const struct lw_event *ev;
	const uint32_t *match;
	uint32_t n, nmatch;
	int rc;

	*used = 0;
	rc = begin_segment(q, id, diag);
	if (rc == LW_OK)
		rc = lw_qplan_scan(q->plan, q->dec, verdict, LW_SEGMENT_COL_ALL, &match,
				   &nmatch, diag);
	if (rc == LW_EFULL)
		q->stats.regex_errors++;
	lw_segment_decoder_detach(q->dec);
	lw_store_reader_reset(q->rd);
	if (rc != LW_OK)
		return rc;
	q->stats.segments_decoded++;
	ev = lw_segment_decoder_events(q->dec, &n);
	q->stats.events_scanned += n;
	for (uint32_t i = skip; i < nmatch; i++) {
		q->stats.events_matched++;
		*used = i + 1;
		rc = cb(&ev[match[nmatch - 1 - i]], id, arg);
		if (rc != 0 || lw_query_done(q))
			return rc;
	}
	*used = 0;
	return LW_OK;
}

int lw_query_run_newest(struct lw_query *q, uint64_t before_segment, uint32_t skip_first,
			lw_query_cb cb, void *arg, uint64_t *next_segment,
			uint32_t *next_skip, struct lw_diag *diag)
{
	struct lw_segment_meta m;
	enum lw_qlang_tri verdict;
	const void *rec;
	uint64_t id, before = before_segment;
	uint32_t skip = skip_first, used = 0;
	size_t len;
	int rc;

	*next_segment = 0;
	*next_skip = 0;
	for (;;) {
		rc = lw_store_reader_prev_meta(q->rd, before, &id, &rec, &len, diag);
		if (rc == LW_ENOTFOUND) {
			rc = LW_OK;
			break;
		}
		if (rc != LW_OK)
			break;
		q->stats.segments_seen++;
		if (q->last_id == 0)
			q->last_id = id; /* a live tail goes on after the newest */
		if (lw_segment_meta_parse(rec, len, &m) != LW_OK) {
			rc = lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					 "segment %llu: bad metadata record",
					 (unsigned long long)id);
			break;
		}
		verdict = lw_qplan_segment(q->plan, &m);
		before = id;
		if (verdict == LW_QLANG_NONE) {
			q->stats.segments_skipped++;
			skip = 0;
			continue;
		}
		rc = scan_newest(q, id, verdict, skip, cb, arg, &used, diag);
		skip = 0;
		if (rc != LW_OK)
			break;
		if (lw_query_done(q)) {
			/* the page ended inside (or exactly at the end of) id */
			*next_segment = used ? id + 1 : id;
			*next_skip = used;
			if (*next_segment == id && id <= 1)
				*next_segment = 0;
			break;
		}
	}
	lw_store_reader_reset(q->rd);
	return rc;
}

void lw_query_explain(const struct lw_query *q, struct lw_buf *out)
{
	struct lw_query_stats s;

	lw_query_get_stats(q, &s);
	lw_qplan_describe(q->plan, out);
	lw_buf_printf(out, "segments: %llu seen, %llu skipped (%llu by time, %llu by index), "
		      "%llu answered from metadata, %llu decoded\n",
		      (unsigned long long)s.segments_seen, (unsigned long long)s.segments_skipped,
		      (unsigned long long)s.segments_skipped_time,
		      (unsigned long long)s.segments_skipped_index,
		      (unsigned long long)s.segments_from_meta,
		      (unsigned long long)s.segments_decoded);
	lw_buf_printf(out, "literal: searched in %llu message columns, absent from %llu, "
		      "%llu candidate events\n",
		      (unsigned long long)s.literal_searched, (unsigned long long)s.literal_missing,
		      (unsigned long long)s.literal_candidates);
	lw_buf_printf(out, "events: %llu in decoded segments, %llu matched\n",
		      (unsigned long long)s.events_scanned, (unsigned long long)s.events_matched);
}
