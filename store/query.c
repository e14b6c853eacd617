/* lw_query: metadata skip, decode, per-event filter. Reader thread.
 *
 * Order of checks per segment: time range and host/zone/app lists from
 * the metadata record (no decompression), then decode; per event the
 * cheap comparisons run before the regex. */
#include "store/query.h"
#include "core/regex.h"
#include "core/time.h"
#include "store/segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A --field condition: an event member (core/event.h's field table), or
 * an extra field when member is LW_EVENT_MEMBER_NONE. */
struct qfield {
	enum lw_event_member member;
	struct lw_str key;
	struct lw_str value;
};

struct lw_query {
	struct lw_store *st;
	struct lw_store_reader *rd;
	struct lw_segment_decoder *dec;
	struct lw_regex *re;
	int64_t deadline_ns;      /* monotonic; 0 = none */
	struct lw_query_filter f;
	struct lw_str host, app, zone;
	int has_host, has_app, has_zone;
	struct qfield fields[LW_QUERY_MAX_FIELDS];
	uint64_t last_id;
	struct lw_query_stats stats;
};

static struct lw_str str_of(const char *s)
{
	struct lw_str r = {s, (uint32_t)strlen(s)};

	return r;
}

static int str_eq(struct lw_str a, struct lw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

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

/* --field host.name=X is the same condition as --host X; promoting it
 * lets the metadata skip apply. */
static void promote(struct lw_query *q, const struct qfield *fd)
{
	if (fd->member == LW_EVENT_MEMBER_HOST && !q->has_host) {
		q->host = fd->value;
		q->has_host = 1;
	} else if (fd->member == LW_EVENT_MEMBER_APP && !q->has_app) {
		q->app = fd->value;
		q->has_app = 1;
	} else if (fd->member == LW_EVENT_MEMBER_ZONE && !q->has_zone) {
		q->zone = fd->value;
		q->has_zone = 1;
	}
}

int lw_query_new(struct lw_store *st, const struct lw_query_filter *f,
		 struct lw_query **out, struct lw_diag *diag)
{
	struct lw_query *q;
	int rc;

	*out = NULL;
	if (f->nfields > LW_QUERY_MAX_FIELDS)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "at most %d --field conditions", LW_QUERY_MAX_FIELDS);
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return LW_ENOMEM;
	q->st = st;
	q->f = *f;
	if (f->host) { q->host = str_of(f->host); q->has_host = 1; }
	if (f->app) { q->app = str_of(f->app); q->has_app = 1; }
	if (f->zone) { q->zone = str_of(f->zone); q->has_zone = 1; }
	for (unsigned i = 0; i < f->nfields; i++) {
		struct qfield *fd = &q->fields[i];

		fd->key = str_of(f->fields[i].key);
		fd->value = str_of(f->fields[i].value);
		fd->member = lw_event_member_lookup(fd->key.ptr, fd->key.len);
		promote(q, fd);
	}
	if (f->grep != NULL) {
		rc = lw_regex_compile(f->grep, strlen(f->grep), 0, &q->re, diag);
		/* A match that backtracks stops within milliseconds (counted in
		 * regex_errors) instead of pcre2's ten million turns per start. */
		if (rc == LW_OK)
			rc = lw_regex_set_match_limit(q->re, LW_REGEX_RULE_LIMIT);
		if (rc != LW_OK)
			goto fail;
	}
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
	lw_regex_free(q->re);
	free(q);
}

void lw_query_set_deadline(struct lw_query *q, int64_t deadline_ns)
{
	q->deadline_ns = deadline_ns;
}

int lw_query_done(const struct lw_query *q)
{
	return q->f.limit != 0 && q->stats.events_matched >= q->f.limit;
}

uint64_t lw_query_last_segment(const struct lw_query *q)
{
	return q->last_id;
}

void lw_query_get_stats(const struct lw_query *q, struct lw_query_stats *out)
{
	*out = q->stats;
}

static int field_match(const struct qfield *fd, const struct lw_event *ev)
{
	char text[LW_EVENT_MEMBER_TEXT_MAX];

	if (fd->member != LW_EVENT_MEMBER_NONE)
		return str_eq(lw_event_member_value(ev, fd->member, text), fd->value);
	/* Any extra field with that key and value: keys may repeat
	 * (several SD params of one name). */
	for (uint32_t i = 0; i < ev->nfields; i++)
		if (str_eq(ev->fields[i].key, fd->key) &&
		    str_eq(ev->fields[i].value, fd->value))
			return 1;
	return 0;
}

int lw_query_match(struct lw_query *q, const struct lw_event *ev)
{
	int rc;

	if (ev->timestamp_ns < q->f.since_ns || ev->timestamp_ns > q->f.until_ns)
		return 0;
	if (q->has_host && !str_eq(ev->host, q->host))
		return 0;
	if (q->has_app && !str_eq(ev->app, q->app))
		return 0;
	if (q->has_zone && !str_eq(ev->zone, q->zone))
		return 0;
	if (q->f.max_severity >= 0 &&
	    (ev->severity == LW_SYSLOG_NONE || ev->severity > q->f.max_severity))
		return 0;
	for (unsigned i = 0; i < q->f.nfields; i++)
		if (!field_match(&q->fields[i], ev))
			return 0;
	if (q->re != NULL) {
		rc = lw_regex_match(q->re, ev->message.ptr, ev->message.len);
		if (rc < 0)
			q->stats.regex_errors++;
		if (rc != 1)
			return 0;
	}
	return 1;
}

/* 1 when the metadata record says the segment may hold a match. */
static int meta_may_match(const struct lw_query *q, const struct lw_segment_meta *m)
{
	if (m->count == 0 || m->max_ts < q->f.since_ns || m->min_ts > q->f.until_ns)
		return 0;
	if (q->has_host &&
	    !lw_segment_meta_has(m, LW_SEGMENT_META_HOST, q->host.ptr, q->host.len))
		return 0;
	if (q->has_zone &&
	    !lw_segment_meta_has(m, LW_SEGMENT_META_ZONE, q->zone.ptr, q->zone.len))
		return 0;
	if (q->has_app &&
	    !lw_segment_meta_has(m, LW_SEGMENT_META_APP, q->app.ptr, q->app.len))
		return 0;
	return 1;
}

static int scan_segment(struct lw_query *q, uint64_t id, lw_query_cb cb,
			void *arg, struct lw_diag *diag)
{
	const struct lw_event *ev;
	const void *val;
	size_t len;
	uint32_t n;
	int rc;

	rc = lw_store_reader_get_segment(q->rd, id, &val, &len, diag);
	if (rc == LW_ENOTFOUND)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "segment %llu has metadata but no data",
				   (unsigned long long)id);
	if (rc != LW_OK)
		return rc;
	rc = lw_segment_decode(q->dec, val, len, NULL, diag);
	if (rc == LW_ECORRUPT && diag != NULL) {
		char why[sizeof(diag->detail)];

		snprintf(why, sizeof(why), "%s", diag->detail);
		lw_diag_set(diag, rc, NULL, 0, 0, "segment %llu: %s",
			    (unsigned long long)id, why);
	}
	if (rc != LW_OK)
		return rc;
	/* The events now live in the decoder's buffer, not in the map:
	 * end the snapshot before the callbacks, which may block for as
	 * long as the consumer likes (`logward query | sleep 20`). The next
	 * reader call renews it. val and every map pointer die here. */
	lw_store_reader_reset(q->rd);
	q->stats.segments_decoded++;
	ev = lw_segment_decoder_events(q->dec, &n);
	for (uint32_t i = 0; i < n; i++) {
		/* The clock every 64 events: a few ns each, and at most 64
		 * slow matches past the deadline. */
		if (q->deadline_ns != 0 && (i & 63) == 0 && lw_time_mono_ns() > q->deadline_ns)
			return lw_diag_set(diag, LW_ETOOBIG, NULL, 0, 0,
					   "time limit reached after %llu events scanned, %llu matched",
					   (unsigned long long)q->stats.events_scanned,
					   (unsigned long long)q->stats.events_matched);
		q->stats.events_scanned++;
		if (!lw_query_match(q, &ev[i]))
			continue;
		q->stats.events_matched++;
		rc = cb(&ev[i], id, arg);
		if (rc != 0)
			return rc;
		if (lw_query_done(q))
			return LW_OK;
	}
	return LW_OK;
}

int lw_query_run(struct lw_query *q, lw_query_cb cb, void *arg,
		 struct lw_diag *diag)
{
	struct lw_segment_meta m;
	const void *rec;
	uint64_t id;
	size_t len;
	int rc;

	if (lw_query_done(q))
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
		if (!meta_may_match(q, &m)) {
			q->stats.segments_skipped++;
			q->last_id = id;
			continue;
		}
		rc = scan_segment(q, id, cb, arg, diag);
		if (rc != LW_OK)
			break;
		q->last_id = id;
		if (lw_query_done(q))
			break;
	}
	/* Release the snapshot between runs too (mdb_txn_reset): a follow
	 * loop must not pin pages the writer wants to reuse while it sleeps. */
	lw_store_reader_reset(q->rd);
	return rc;
}
