/* The event endpoints of the API (search pages, live tail, CSV, histogram,
 * top values, field names), the sources list and the overview. Every
 * search is an lw_query (store/query.h); aggregations are lw_agg runs
 * (store/aggregate.h), as `logward query` does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/time.h"
#include "store/aggregate.h"
#include "store/incidents.h"
#include "store/query.h"
#include "store/segment.h"
#include "store/store.h"
#include "web/api_int.h"

#define EVENTS_DEFAULT 100
#define EVENTS_MAX 1000
#define CSV_DEFAULT 10000
#define CSV_MAX 100000

/* A query over the q, since and until parameters (limit set by the
 * caller). LW_OK with *q, else the response is set. */
static int make_query(struct lw_api_call *c, uint64_t limit, struct lw_query **q)
{
	struct lw_query_filter f;
	struct lw_diag diag = {0};
	const char *expr = lw_params_get(&c->params, "q");
	int rc;

	*q = NULL;
	lw_query_filter_init(&f);
	if (lw_api_param_time(c, "since", &f.since_ns) == LW_EINVAL ||
	    lw_api_param_time(c, "until", &f.until_ns) == LW_EINVAL)
		return LW_EINVAL;
	f.expr = expr != NULL && expr[0] != '\0' ? expr : NULL;
	f.limit = limit;
	rc = lw_query_new(c->api->o.store, &f, q, &diag);
	if (rc == LW_EPARSE)
		return lw_api_error(c->r, 400, "bad_query", "%d:%d: %s", diag.line, diag.col,
				    diag.detail), rc;
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 0), rc;
	return LW_OK;
}

static void run_error(struct lw_api_call *c, int rc, const struct lw_diag *diag)
{
	if (rc == LW_EFULL)
		lw_api_error(c->r, 400, "bad_query", "%s", diag->detail);
	else
		lw_api_store_error(c->r, rc, diag, 0);
}

struct ev_out {
	struct lw_buf *out;
	uint32_t n;
};

static int ev_json(const struct lw_event *ev, uint64_t segment, void *arg)
{
	struct ev_out *o = arg;

	(void)segment;
	if (o->n++ > 0)
		lw_buf_putc(o->out, ',');
	lw_event_to_json(ev, o->out);
	return 0;
}

/* Cursor text of a newest-first page: "<segment>_<skip>". */
static int read_cursor(struct lw_api_call *c, uint64_t *seg, uint32_t *skip)
{
	const char *s = lw_params_get(&c->params, "cursor");
	const char *us;
	char num[24];
	uint64_t k;

	*seg = UINT64_MAX;
	*skip = 0;
	if (s == NULL || s[0] == '\0')
		return LW_OK;
	us = strchr(s, '_');
	if (us != NULL && (size_t)(us - s) < sizeof(num)) {
		memcpy(num, s, (size_t)(us - s));
		num[us - s] = '\0';
		if (lw_jsonin_parse_u64(num, seg) == LW_OK &&
		    lw_jsonin_parse_u64(us + 1, &k) == LW_OK && k < UINT32_MAX)
			return *skip = (uint32_t)k, LW_OK;
	}
	return lw_api_error(c->r, 400, "bad_request", "bad cursor"), LW_EINVAL;
}

void lw_api_events(struct lw_api_call *c)
{
	struct lw_query *q = NULL;
	struct lw_diag diag = {0};
	struct ev_out o = {&c->r->out, 0};
	uint64_t limit, after, before, next_seg = 0;
	uint32_t skip, next_skip = 0;
	int tail = lw_params_get(&c->params, "after") != NULL, rc;

	if (lw_api_param_uint(c, "limit", 1, EVENTS_MAX, EVENTS_DEFAULT, &limit) != LW_OK ||
	    lw_api_param_uint(c, "after", 0, UINT64_MAX / 2, 0, &after) != LW_OK ||
	    read_cursor(c, &before, &skip) != LW_OK || make_query(c, limit, &q) != LW_OK)
		return;
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"events\":[");
	if (tail) {
		/* live tail: what was stored after segment `after`, oldest first */
		lw_query_seek(q, after);
		rc = lw_query_run(q, ev_json, &o, &diag);
	} else {
		rc = lw_query_run_newest(q, before, skip, ev_json, &o, &next_seg, &next_skip,
					 &diag);
	}
	if (rc != LW_OK) {
		lw_query_free(q);
		return run_error(c, rc, &diag);
	}
	lw_buf_puts(&c->r->out, "],\"next\":");
	if (!tail && next_seg != 0)
		lw_buf_printf(&c->r->out, "\"%llu_%u\"", (unsigned long long)next_seg, next_skip);
	else
		lw_buf_puts(&c->r->out, "null");
	/* where a live tail of this search goes on from */
	lw_buf_printf(&c->r->out, ",\"tail\":%llu,\"count\":%u,\"truncated\":%s}\n",
		      (unsigned long long)lw_query_last_segment(q), o.n,
		      tail && lw_query_done(q) ? "true" : "false");
	lw_query_free(q);
}

/* --- CSV ------------------------------------------------------------------- */

static void cell(struct lw_buf *out, struct lw_str s, const char *end)
{
	lw_escape_csv(out, s.ptr, s.len);
	lw_buf_puts(out, end);
}

static int ev_csv(const struct lw_event *ev, uint64_t segment, void *arg)
{
	struct lw_buf *out = arg;
	const char *sev = lw_event_severity_name(ev->severity);

	(void)segment;
	lw_time_format_rfc3339(ev->timestamp_ns, out);
	lw_buf_putc(out, ',');
	cell(out, ev->host, ",");
	cell(out, ev->zone, ",");
	cell(out, ev->app, ",");
	lw_buf_printf(out, "%s,", sev ? sev : "");
	cell(out, ev->source_address, ",");
	cell(out, ev->message, "\r\n");
	return 0;
}

void lw_api_events_csv(struct lw_api_call *c)
{
	struct lw_query *q = NULL;
	struct lw_diag diag = {0};
	uint64_t limit, next_seg;
	uint32_t next_skip;
	int rc;

	if (lw_api_param_uint(c, "limit", 1, CSV_MAX, CSV_DEFAULT, &limit) != LW_OK ||
	    make_query(c, limit, &q) != LW_OK)
		return;
	c->r->status = 200;
	c->r->content_type = "text/csv; charset=utf-8";
	snprintf(c->r->disposition, sizeof(c->r->disposition),
		 "attachment; filename=\"events.csv\"");
	lw_buf_reset(&c->r->out);
	lw_buf_puts(&c->r->out, "@timestamp,host.name,labels.zone,process.name,"
		    "log.syslog.severity.name,log.source.address,message\r\n");
	rc = lw_query_run_newest(q, UINT64_MAX, 0, ev_csv, &c->r->out, &next_seg, &next_skip,
				 &diag);
	lw_query_free(q);
	if (rc != LW_OK)
		run_error(c, rc, &diag);
}

/* --- aggregations ---------------------------------------------------------- */

static void agg(struct lw_api_call *c, struct lw_agg_request *req)
{
	struct lw_query *q = NULL;
	struct lw_agg_result *res = NULL;
	struct lw_diag diag = {0};
	int rc;

	if (make_query(c, 0, &q) != LW_OK)
		return;
	rc = lw_agg_run(q, req, &res, &diag);
	lw_query_free(q);
	if (rc == LW_EPARSE)
		return lw_api_error(c->r, 400, "bad_query", "%s", diag.detail);
	if (rc == LW_ETOOBIG || rc == LW_EINVAL)
		return lw_api_error(c->r, 400, "bad_request", "%s", diag.detail);
	if (rc != LW_OK)
		return run_error(c, rc, &diag);
	lw_api_json(c->r);
	lw_agg_to_json(res, &c->r->out);
	if (c->r->out.len == 0 || c->r->out.data[c->r->out.len - 1] != '\n')
		lw_buf_putc(&c->r->out, '\n');
	lw_agg_result_free(res);
}

void lw_api_events_histogram(struct lw_api_call *c)
{
	struct lw_agg_request req = {.kind = LW_AGG_HISTOGRAM};
	const char *step = lw_params_get(&c->params, "step");
	const char *by = lw_params_get(&c->params, "by");
	uint64_t top;

	if (lw_api_param_uint(c, "top", 1, 100, 10, &top) != LW_OK)
		return;
	if (lw_agg_parse_step(step && step[0] ? step : "1m", &req.step_ns) != LW_OK)
		return lw_api_error(c->r, 400, "bad_request", "step: e.g. 30s, 1m, 15m, 1h, 1d");
	req.field = by != NULL && by[0] != '\0' ? by : NULL;
	req.top = (uint32_t)top;
	agg(c, &req);
}

void lw_api_events_top(struct lw_api_call *c)
{
	struct lw_agg_request req = {.kind = LW_AGG_COUNT_BY};
	const char *field = lw_params_get(&c->params, "field");
	uint64_t n;

	if (field == NULL || field[0] == '\0')
		return lw_api_error(c->r, 400, "bad_request", "\"field\" is required");
	if (lw_api_param_uint(c, "n", 1, 1000, 10, &n) != LW_OK)
		return;
	req.field = field;
	req.top = (uint32_t)n;
	agg(c, &req);
}

/* --- field names ----------------------------------------------------------- */

#define FIELDS_SAMPLE 2000
#define FIELDS_MAX 256

struct names {
	char *v[FIELDS_MAX];
	unsigned n;
};

static void names_add(struct names *s, const char *p, size_t len)
{
	for (unsigned i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && memcmp(s->v[i], p, len) == 0)
			return;
	if (s->n < FIELDS_MAX && (s->v[s->n] = malloc(len + 1)) != NULL) {
		memcpy(s->v[s->n], p, len);
		s->v[s->n++][len] = '\0';
	}
}

static int names_of(const struct lw_event *ev, uint64_t segment, void *arg)
{
	(void)segment;
	for (uint32_t i = 0; i < ev->nfields; i++)
		names_add(arg, ev->fields[i].key.ptr, ev->fields[i].key.len);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fields the search box completes: every event member's ECS name and
 * the extra fields the newest events carry (decoders, journald, SD). */
void lw_api_fields(struct lw_api_call *c)
{
	struct names *s = calloc(1, sizeof(*s));
	struct lw_query *q = NULL;
	uint64_t ns;
	uint32_t nk;

	if (s == NULL)
		return lw_api_error(c->r, 500, "internal", "out of memory");
	names_add(s, "@timestamp", 10);
	for (int m = 1; m < LW_EVENT_MEMBER_COUNT; m++) {
		const char *name = lw_event_member_name((enum lw_event_member)m);

		if (name != NULL)
			names_add(s, name, strlen(name));
	}
	names_add(s, "log.syslog.severity.name", strlen("log.syslog.severity.name"));
	names_add(s, "log.syslog.facility.name", strlen("log.syslog.facility.name"));
	names_add(s, "logward.flags", strlen("logward.flags"));
	if (make_query(c, FIELDS_SAMPLE, &q) == LW_OK) {
		(void)lw_query_run_newest(q, UINT64_MAX, 0, names_of, s, &ns, &nk, NULL);
		lw_query_free(q);
		qsort(s->v, s->n, sizeof(s->v[0]), cmp_name);
		lw_api_json(c->r);
		lw_buf_puts(&c->r->out, "{\"fields\":[");
		for (unsigned i = 0; i < s->n; i++) {
			if (i > 0)
				lw_buf_putc(&c->r->out, ',');
			lw_escape_json_string(&c->r->out, s->v[i], strlen(s->v[i]));
		}
		lw_buf_puts(&c->r->out, "]}\n");
	}
	for (unsigned i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s);
}

/* --- sources --------------------------------------------------------------- */

/* Sources come from the segments' metadata records (hosts with their
 * counts, the time range, the zones), newest first, so the answer costs
 * milliseconds however many events the hour held: counts are attributed
 * to the 5-minute bucket of their segment's newest event, and last_seen
 * is that time (segments span about a flush interval). A host's zone is
 * its segment's when the segment holds one zone; otherwise the host and
 * zone columns of a few recent segments are decoded for it. */
#define SPARK 12
#define MAX_SOURCES 4096
#define META_WALK_MAX 20000
#define ZONE_DECODES_MAX 16

struct source {
	char host[LW_STORE_NAME_MAX + 1];
	char zone[64];
	int64_t last_ns;           /* 0 = not seen */
	uint64_t window_events, total_events;
	uint64_t spark[SPARK];
};

struct sources {
	struct source *v;
	unsigned n;
	int64_t start, step;
};

static struct source *source_of(struct sources *s, const char *p, size_t len)
{
	if (len > LW_STORE_NAME_MAX)
		len = LW_STORE_NAME_MAX;
	for (unsigned i = 0; i < s->n; i++)
		if (strlen(s->v[i].host) == len && memcmp(s->v[i].host, p, len) == 0)
			return &s->v[i];
	if (s->n == MAX_SOURCES)
		return NULL;
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	memcpy(s->v[s->n].host, p, len);
	return &s->v[s->n++];
}

static int source_total(enum lw_store_name_kind kind, struct lw_str name, uint64_t events,
			uint64_t skew, void *arg)
{
	struct source *src;

	(void)skew;
	if (kind != LW_STORE_HOST)
		return 0;
	src = source_of(arg, name.ptr, name.len);
	if (src != NULL)
		src->total_events = events;
	return 0;
}

static void set_zone(struct source *src, struct lw_str zone)
{
	snprintf(src->zone, sizeof(src->zone), "%.*s", (int)zone.len, zone.ptr ? zone.ptr : "");
}

/* The zones of the hosts of segment id that have none yet, from its host
 * and zone columns. */
static void zones_from_columns(struct lw_store_reader *rd, struct lw_segment_decoder *dec,
			       uint64_t id, struct sources *s)
{
	const struct lw_event *ev;
	const void *val;
	size_t len;
	uint32_t n;

	if (lw_store_reader_get_segment(rd, id, &val, &len, NULL) != LW_OK ||
	    lw_segment_decode_begin(dec, val, len, NULL, NULL) != LW_OK ||
	    lw_segment_decode_cols(dec, LW_SEGMENT_COL_HOST | LW_SEGMENT_COL_ZONE, NULL) != LW_OK) {
		lw_segment_decoder_detach(dec);
		return;
	}
	ev = lw_segment_decoder_events(dec, &n);
	for (uint32_t i = n; i-- > 0;) {
		struct source *src = source_of(s, ev[i].host.ptr, ev[i].host.len);

		if (src != NULL && src->zone[0] == '\0')
			set_zone(src, ev[i].zone);
	}
	lw_segment_decoder_detach(dec);
}

static int sources_walk(struct lw_store_reader *rd, struct sources *s)
{
	struct lw_segment_decoder *dec = lw_segment_decoder_new();
	uint64_t before = UINT64_MAX, id;
	const void *rec;
	size_t len;
	int decodes = 0;

	if (dec == NULL)
		return LW_ENOMEM;
	for (int k = 0; k < META_WALK_MAX; k++) {
		struct lw_segment_meta m;
		struct lw_segment_meta_item it, zone = {0};
		size_t pos = 0;
		int64_t b;
		unsigned unseen = 0, zoneless = 0;

		if (lw_store_reader_prev_meta(rd, before, &id, &rec, &len, NULL) != LW_OK)
			break;
		before = id;
		if (lw_segment_meta_parse(rec, len, &m) != LW_OK)
			continue;
		if (m.nitems[LW_SEGMENT_META_ZONE] == 1)
			lw_segment_meta_next(&m, LW_SEGMENT_META_ZONE, &pos, &zone);
		b = (m.max_ts - s->start) / s->step;
		pos = 0;
		while (lw_segment_meta_next(&m, LW_SEGMENT_META_HOST, &pos, &it)) {
			struct source *src = source_of(s, it.name.ptr, it.name.len);

			if (src == NULL)
				continue;
			if (m.max_ts > src->last_ns)
				src->last_ns = m.max_ts;
			if (m.max_ts >= s->start) {
				src->window_events += it.count;
				src->spark[b < SPARK ? b : SPARK - 1] += it.count;
			}
			if (src->zone[0] == '\0' && zone.name.len > 0)
				set_zone(src, zone.name);
			zoneless += src->zone[0] == '\0';
		}
		if (zoneless > 0 && decodes < ZONE_DECODES_MAX) {
			zones_from_columns(rd, dec, id, s);
			decodes++;
		}
		for (unsigned i = 0; i < s->n; i++)
			unseen += s->v[i].last_ns == 0;
		if (m.max_ts < s->start && unseen == 0)
			break;
	}
	lw_segment_decoder_free(dec);
	return LW_OK;
}

static int cmp_source(const void *a, const void *b)
{
	const struct source *x = a, *y = b;
	int z = strcmp(x->zone, y->zone);

	return z != 0 ? z : strcmp(x->host, y->host);
}

void lw_api_sources(struct lw_api_call *c)
{
	struct sources s = {0};
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int64_t silent = (int64_t)c->api->o.cfg->api.silent_after_ms * 1000000;
	int64_t now = c->r->now_ns;
	int rc;

	s.v = calloc(MAX_SOURCES, sizeof(*s.v));
	if (s.v == NULL)
		return lw_api_error(c->r, 500, "internal", "out of memory");
	/* the last hour in 5-minute buckets, aligned like the histograms */
	s.step = 300ll * 1000000000;
	s.start = (now / s.step + 1) * s.step - SPARK * s.step;
	rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_store_reader_names(rd, source_total, &s, &diag);
	if (rc == LW_OK)
		rc = sources_walk(rd, &s);
	lw_store_reader_close(rd);
	if (rc != LW_OK) {
		free(s.v);
		return lw_api_store_error(c->r, rc, &diag, 0);
	}
	qsort(s.v, s.n, sizeof(s.v[0]), cmp_source);
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"start\":\"");
	lw_time_format_rfc3339(s.start, &c->r->out);
	lw_buf_printf(&c->r->out, "\",\"step_s\":300,\"silent_after_s\":%lld,\"sources\":[",
		      (long long)(silent / 1000000000));
	for (unsigned i = 0; i < s.n; i++) {
		struct source *src = &s.v[i];

		lw_buf_puts(&c->r->out, i ? ",{" : "{");
		lw_api_jkey(&c->r->out, "host", 1);
		lw_escape_json_string(&c->r->out, src->host, strlen(src->host));
		lw_api_jkey(&c->r->out, "zone", 0);
		lw_escape_json_string(&c->r->out, src->zone, strlen(src->zone));
		lw_buf_puts(&c->r->out, ",\"last_seen\":");
		if (src->last_ns != 0) {
			lw_buf_putc(&c->r->out, '"');
			lw_time_format_rfc3339(src->last_ns, &c->r->out);
			lw_buf_putc(&c->r->out, '"');
		} else {
			lw_buf_puts(&c->r->out, "null");
		}
		lw_buf_printf(&c->r->out, ",\"silent\":%s,\"events_hour\":%llu,"
			      "\"rate_per_min\":%.1f,\"events_total\":%llu,\"spark\":[",
			      src->last_ns == 0 || now - src->last_ns > silent ? "true" : "false",
			      (unsigned long long)src->window_events,
			      (double)src->window_events / (SPARK * 5.0),
			      (unsigned long long)src->total_events);
		for (int b = 0; b < SPARK; b++)
			lw_buf_printf(&c->r->out, "%s%llu", b ? "," : "",
				      (unsigned long long)src->spark[b]);
		lw_buf_puts(&c->r->out, "]}");
	}
	lw_buf_puts(&c->r->out, "]}\n");
	free(s.v);
}

/* --- overview -------------------------------------------------------------- */

/* Open and acknowledged incidents as "category|level": count pairs. */
#define MATRIX_MAX 128
struct cells {
	char key[MATRIX_MAX][96];
	uint64_t n[MATRIX_MAX];
	unsigned count;
	uint64_t total;
};

static int matrix_add(const struct lw_incident_view *v, void *arg)
{
	struct cells *m = arg;
	char key[96];
	unsigned i;

	snprintf(key, sizeof(key), "%.*s|%.*s", (int)(v->category.len < 60 ? v->category.len : 60),
		 v->category.ptr, (int)(v->level.len < 30 ? v->level.len : 30), v->level.ptr);
	m->total++;
	for (i = 0; i < m->count && strcmp(m->key[i], key) != 0; i++)
		;
	if (i == m->count) {
		if (m->count == MATRIX_MAX)
			return 0;
		memcpy(m->key[m->count++], key, sizeof(key));
	}
	m->n[i]++;
	return 0;
}

void lw_api_overview(struct lw_api_call *c)
{
	struct lw_agg_request req = {.kind = LW_AGG_HISTOGRAM, .field = "labels.zone",
				     .step_ns = 60ll * 1000000000, .top = 16};
	struct lw_incidents_filter lf = {0};
	struct lw_query_filter f;
	struct lw_query *q = NULL;
	struct lw_agg_result *res = NULL;
	struct lw_store_reader *rd = NULL;
	struct lw_store_head head;
	struct lw_diag diag = {0};
	struct cells *m = calloc(1, sizeof(*m));
	struct lw_buf *out = &c->r->out;
	int rc;

	if (m == NULL)
		return lw_api_error(c->r, 500, "internal", "out of memory");
	lw_query_filter_init(&f);
	f.since_ns = c->r->now_ns - 3600ll * 1000000000;
	f.until_ns = c->r->now_ns;
	rc = lw_query_new(c->api->o.store, &f, &q, &diag);
	if (rc == LW_OK)
		rc = lw_agg_run(q, &req, &res, &diag);
	lw_query_free(q);
	if (rc == LW_OK)
		rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_incidents_list(rd, &lf, matrix_add, m, NULL, &diag);
	if (rc == LW_OK)
		rc = lw_store_reader_head(rd, &head, &diag);
	lw_store_reader_close(rd);
	if (rc != LW_OK) {
		free(m);
		lw_agg_result_free(res);
		return lw_api_store_error(c->r, rc, &diag, 0);
	}
	lw_api_json(c->r);
	lw_buf_puts(out, "{\"events_per_zone\":");
	lw_agg_to_json(res, out);
	while (out->len > 0 && out->data[out->len - 1] == '\n')
		out->len--;
	lw_buf_printf(out, ",\"incidents\":{\"open\":%llu,\"by\":[", (unsigned long long)m->total);
	for (unsigned i = 0; i < m->count; i++) {
		char *bar = strchr(m->key[i], '|');

		*bar = '\0';
		lw_buf_puts(out, i ? ",{" : "{");
		lw_api_jkey(out, "category", 1);
		lw_escape_json_string(out, m->key[i], strlen(m->key[i]));
		lw_api_jkey(out, "level", 0);
		lw_escape_json_string(out, bar + 1, strlen(bar + 1));
		lw_buf_printf(out, ",\"count\":%llu}", (unsigned long long)m->n[i]);
	}
	lw_buf_printf(out, "]},\"store\":{\"events\":%llu,\"segments\":%llu,\"stored_bytes\":%llu,"
		      "\"text_bytes\":%llu},\"counters\":{",
		      (unsigned long long)head.events, (unsigned long long)head.segments,
		      (unsigned long long)head.stored_bytes, (unsigned long long)head.text_bytes);
	for (int i = 0; c->api->o.counters != NULL && i < LW_CTR__COUNT; i++) {
		lw_api_jkey(out, lw_counter_name((enum lw_counter)i), i == 0);
		lw_buf_printf(out, "%llu", (unsigned long long)
			      lw_counters_get(c->api->o.counters, (enum lw_counter)i));
	}
	lw_buf_putc(out, '}');
	if (c->api->o.health != NULL) {
		int failing = 0;
		uint32_t losses = 0;

		c->api->o.health(c->api->o.health_arg, &failing, &losses);
		lw_buf_printf(out, ",\"health\":{\"storage_failing\":%s,\"loss_episodes\":%u}",
			      failing ? "true" : "false", losses);
	}
	lw_buf_printf(out, ",\"api\":{\"requests\":%llu,\"logins_ok\":%llu,\"logins_failed\":%llu,"
		      "\"logins_limited\":%llu,\"connections_refused\":%llu,\"sessions\":%u}}\n",
		      (unsigned long long)c->api->stats.requests,
		      (unsigned long long)c->api->stats.logins_ok,
		      (unsigned long long)c->api->stats.logins_failed,
		      (unsigned long long)c->api->stats.logins_limited,
		      (unsigned long long)c->api->stats.connections_refused,
		      lw_auth_session_count(c->api->auth));
	free(m);
	lw_agg_result_free(res);
}
