/* lw_agg: value counts in an open-addressing table, histogram buckets in
 * arrays that grow to the events' time range, metadata shortcuts, and the
 * three renderings. */
#include "store/aggregate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/escape.h"
#include "core/memfind.h"
#include "core/time.h"
#include "store/qfield.h"
#include "store/segment.h"

/* A distinct value and its counts. */
struct vent {
	struct lw_str s;       /* bytes in the arena */
	uint64_t hash;
	uint64_t count;
	uint64_t *series;      /* histogram by field: span() cells, or NULL */
};

struct agg {
	const struct lw_agg_request *req;
	struct lw_agg_result *r;
	struct lw_qlang_field field;
	int has_field;
	int meta_kind;         /* enum lw_segment_meta_kind of the field, or -1 */
	struct vent *v;
	uint32_t nv, capv;
	uint32_t *slots;       /* value index + 1; 0 = free */
	uint32_t nslots;       /* power of two, >= 2 * nv */
	struct lw_arena arena;
	int64_t b0, b1;        /* buckets [b0, b1) */
	int64_t w0, w1;        /* ... of which [w0, w1) hold events or the window */
	int has_range;
	uint64_t *counts, *missing_series;
	uint32_t *seen;        /* values of the current event (dedupe) */
	uint32_t nseen, capseen;
	int err;
	struct lw_diag *diag;
};

static int fail(struct agg *a, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct agg *a, int err, const char *fmt, ...)
{
	va_list ap;

	if (a->err == LW_OK) {
		a->err = err;
		if (a->diag != NULL) {
			va_start(ap, fmt);
			vsnprintf(a->diag->detail, sizeof(a->diag->detail), fmt, ap);
			va_end(ap);
			a->diag->line = a->diag->col = 0;
		}
	}
	return err;
}

/* ---------------------------------------------------------------- buckets */

static int64_t bucket_of(const struct agg *a, int64_t ts)
{
	int64_t b = ts / a->req->step_ns;

	return ts % a->req->step_ns < 0 ? b - 1 : b;
}

static uint32_t span(const struct agg *a)
{
	return (uint32_t)(a->b1 - a->b0);
}

/* One array re-laid over [nb0, nb1) from [b0, b1); NULL stays NULL. */
static int relay(uint64_t **arr, int64_t b0, int64_t b1, int64_t nb0, int64_t nb1)
{
	uint64_t *n;

	if (*arr == NULL)
		return LW_OK;
	n = calloc((size_t)(nb1 - nb0), sizeof(*n));
	if (n == NULL)
		return LW_ENOMEM;
	if (b1 > b0)
		memcpy(n + (b0 - nb0), *arr, (size_t)(b1 - b0) * sizeof(*n));
	free(*arr);
	*arr = n;
	return LW_OK;
}

/* Makes bucket b part of the range. Growth doubles the span in the
 * direction needed, so events arriving in time order cost O(1) each. */
static int cover_bucket(struct agg *a, int64_t b)
{
	int64_t nb0 = a->b0, nb1 = a->b1, grow;
	uint64_t cells;

	if (a->has_range && b >= a->b0 && b < a->b1) {
		a->w0 = b < a->w0 ? b : a->w0;
		a->w1 = b >= a->w1 ? b + 1 : a->w1;
		return LW_OK;
	}
	if (!a->has_range) {
		nb0 = b;
		nb1 = b + 1;
	} else {
		grow = a->b1 - a->b0;
		if (b < a->b0)
			nb0 = b < a->b0 - grow ? b : a->b0 - grow;
		else
			nb1 = b >= a->b1 + grow ? b + 1 : a->b1 + grow;
	}
	if ((uint64_t)(nb1 - nb0) > LW_AGG_MAX_BUCKETS) {
		/* doubling may overshoot: retry with exactly what is needed */
		nb0 = b < a->b0 || !a->has_range ? b : a->b0;
		nb1 = b >= a->b1 || !a->has_range ? b + 1 : a->b1;
		if ((uint64_t)(nb1 - nb0) > LW_AGG_MAX_BUCKETS)
			return fail(a, LW_ETOOBIG, "the histogram would have more than %u "
				    "buckets: use a larger step or a narrower --since/--until",
				    LW_AGG_MAX_BUCKETS);
	}
	cells = (uint64_t)(nb1 - nb0) * a->nv;
	if (cells > LW_AGG_MAX_CELLS)
		return fail(a, LW_ETOOBIG, "%u series of %llu buckets are too many: use "
			    "a larger step, a narrower window, or a field with fewer values",
			    a->nv, (unsigned long long)(nb1 - nb0));
	if (!a->has_range) {
		a->counts = calloc((size_t)(nb1 - nb0), sizeof(*a->counts));
		if (a->counts == NULL)
			return fail(a, LW_ENOMEM, "out of memory");
		if (a->has_field) {
			a->missing_series = calloc((size_t)(nb1 - nb0), sizeof(uint64_t));
			if (a->missing_series == NULL)
				return fail(a, LW_ENOMEM, "out of memory");
		}
	} else {
		if (relay(&a->counts, a->b0, a->b1, nb0, nb1) != LW_OK ||
		    relay(&a->missing_series, a->b0, a->b1, nb0, nb1) != LW_OK)
			return fail(a, LW_ENOMEM, "out of memory");
		for (uint32_t i = 0; i < a->nv; i++)
			if (relay(&a->v[i].series, a->b0, a->b1, nb0, nb1) != LW_OK)
				return fail(a, LW_ENOMEM, "out of memory");
	}
	if (!a->has_range) {
		a->w0 = b;
		a->w1 = b + 1;
	}
	a->b0 = nb0;
	a->b1 = nb1;
	a->has_range = 1;
	return cover_bucket(a, b); /* records b in [w0, w1) */
}

/* Drops the buckets growth added beyond [w0, w1) (no event, outside the
 * window): they are all zero. */
static void trim(struct agg *a)
{
	size_t off = (size_t)(a->w0 - a->b0), n = (size_t)(a->w1 - a->w0);
	uint64_t **arrs[2] = {&a->counts, &a->missing_series};

	if (!a->has_range || (a->w0 == a->b0 && a->w1 == a->b1))
		return;
	for (int i = 0; i < 2; i++)
		if (*arrs[i] != NULL)
			memmove(*arrs[i], *arrs[i] + off, n * sizeof(uint64_t));
	for (uint32_t i = 0; i < a->nv; i++)
		if (a->v[i].series != NULL)
			memmove(a->v[i].series, a->v[i].series + off, n * sizeof(uint64_t));
	a->b0 = a->w0;
	a->b1 = a->w1;
}

/* ---------------------------------------------------------------- values */

static uint64_t hash_str(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

static int rehash(struct agg *a)
{
	uint32_t n = a->nslots ? a->nslots * 2 : 1024;
	uint32_t *s = calloc(n, sizeof(*s));

	if (s == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < a->nv; i++) {
		uint32_t j = (uint32_t)a->v[i].hash & (n - 1);

		while (s[j] != 0)
			j = (j + 1) & (n - 1);
		s[j] = i + 1;
	}
	free(a->slots);
	a->slots = s;
	a->nslots = n;
	return LW_OK;
}

/* The index of value s, added when new; -1 on failure (a->err set). */
static long value_index(struct agg *a, struct lw_str s)
{
	uint64_t h = hash_str(s.ptr, s.len);
	struct vent *e;
	uint32_t j;

	if (a->nslots == 0 || 2 * (a->nv + 1) > a->nslots) {
		if (rehash(a) != LW_OK)
			return fail(a, LW_ENOMEM, "out of memory"), -1;
	}
	for (j = (uint32_t)h & (a->nslots - 1); a->slots[j] != 0; j = (j + 1) & (a->nslots - 1)) {
		e = &a->v[a->slots[j] - 1];
		if (e->hash == h && e->s.len == s.len && lw_memeq(e->s.ptr, s.ptr, s.len))
			return (long)(a->slots[j] - 1);
	}
	if (a->nv >= LW_AGG_MAX_VALUES)
		return fail(a, LW_ETOOBIG, "%s has more than %u distinct values here: "
			    "narrow the query", a->field.key, LW_AGG_MAX_VALUES), -1;
	if (a->nv == a->capv) {
		uint32_t cap = a->capv ? a->capv * 2 : 256;
		struct vent *nv = realloc(a->v, cap * sizeof(*nv));

		if (nv == NULL)
			return fail(a, LW_ENOMEM, "out of memory"), -1;
		a->v = nv;
		a->capv = cap;
	}
	e = &a->v[a->nv];
	memset(e, 0, sizeof(*e));
	e->s.ptr = lw_arena_memdup(&a->arena, s.ptr, s.len);
	if (e->s.ptr == NULL)
		return fail(a, LW_ENOMEM, "out of memory"), -1;
	e->s.len = s.len;
	e->hash = h;
	if (a->req->kind == LW_AGG_HISTOGRAM && a->has_range) {
		if ((uint64_t)span(a) * (a->nv + 1) > LW_AGG_MAX_CELLS)
			return fail(a, LW_ETOOBIG, "%u series of %u buckets are too many: "
				    "use a larger step, a narrower window, or a field with "
				    "fewer values", a->nv + 1, span(a)), -1;
		e->series = calloc(span(a), sizeof(*e->series));
		if (e->series == NULL)
			return fail(a, LW_ENOMEM, "out of memory"), -1;
	}
	a->slots[j] = a->nv + 1;
	return (long)a->nv++;
}

/* A value as the text it is counted under. */
static struct lw_str value_text(const struct lw_qlang_value *v, char *buf, size_t cap,
				struct lw_buf *tmp)
{
	int n;

	switch (v->kind) {
	case LW_QLANG_V_NUM:
		n = snprintf(buf, cap, "%.15g", v->num);
		return (struct lw_str){buf, (uint32_t)(n > 0 ? n : 0)};
	case LW_QLANG_V_TIME:
		lw_buf_reset(tmp);
		lw_time_format_rfc3339(v->ns, tmp);
		return (struct lw_str){tmp->data, (uint32_t)tmp->len};
	default:
		return v->str;
	}
}

/* Adds n events holding value s (in bucket b when histogram). */
static int add_value(struct agg *a, struct lw_str s, uint64_t n, int64_t b)
{
	long i = value_index(a, s);

	if (i < 0)
		return a->err;
	a->v[i].count += n;
	if (a->v[i].series != NULL)
		a->v[i].series[b - a->b0] += n;
	return LW_OK;
}

/* ---------------------------------------------------------------- counting */

/* Every event of a segment matches: count it from the metadata record
 * when the record knows enough. */
static int on_meta(const struct lw_segment_meta *m, enum lw_qlang_tri verdict, void *arg)
{
	struct agg *a = arg;
	struct lw_segment_meta_item it;
	int64_t b = 0;
	size_t pos = 0;

	if (verdict != LW_QLANG_EVERY || a->err != LW_OK)
		return 0;
	if (a->has_field && a->meta_kind < 0)
		return 0;
	if (a->req->kind == LW_AGG_HISTOGRAM) {
		b = bucket_of(a, m->min_ts);
		if (b != bucket_of(a, m->max_ts) || cover_bucket(a, b) != LW_OK)
			return 0;
		a->counts[b - a->b0] += m->count;
	}
	a->r->total += m->count;
	a->r->segments_from_meta++;
	if (!a->has_field)
		return 1;
	while (lw_segment_meta_next(m, (enum lw_segment_meta_kind)a->meta_kind, &pos, &it)) {
		if (it.name.len == 0) { /* an empty member: the field is absent */
			a->r->missing += it.count;
			if (a->missing_series != NULL)
				a->missing_series[b - a->b0] += it.count;
			continue;
		}
		if (add_value(a, it.name, it.count, b) != LW_OK)
			return 1; /* a->err stops the run */
	}
	return 1;
}

static int seen_before(struct agg *a, long idx)
{
	for (uint32_t i = 0; i < a->nseen; i++)
		if (a->seen[i] == (uint32_t)idx)
			return 1;
	if (a->nseen == a->capseen) {
		uint32_t cap = a->capseen ? a->capseen * 2 : 16;
		uint32_t *n = realloc(a->seen, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		a->seen = n;
		a->capseen = cap;
	}
	a->seen[a->nseen++] = (uint32_t)idx;
	return 0;
}

static int on_event(const struct lw_event *ev, uint64_t seg, void *arg)
{
	struct agg *a = arg;
	struct lw_qlang_value v;
	struct lw_buf tmp;
	uint32_t cursor = 0;
	int64_t b = 0;
	int any = 0, rc;
	char num[64];
	long i;

	(void)seg;
	if (a->err != LW_OK)
		return a->err;
	if (a->req->kind == LW_AGG_HISTOGRAM) {
		b = bucket_of(a, ev->timestamp_ns);
		if (cover_bucket(a, b) != LW_OK)
			return a->err;
		a->counts[b - a->b0]++;
	}
	a->r->total++;
	if (!a->has_field)
		return 0;
	lw_buf_init(&tmp);
	a->nseen = 0;
	while (lw_qfield_schema.value(ev, &a->field, &cursor, &v)) {
		struct lw_str s = value_text(&v, num, sizeof(num), &tmp);

		if (v.kind == LW_QLANG_V_STR && s.len == 0 &&
		    (a->field.flags & LW_QLANG_EMPTY_IS_ABSENT))
			continue;
		i = value_index(a, s);
		if (i < 0)
			break;
		rc = seen_before(a, i);
		if (rc < 0) {
			fail(a, LW_ENOMEM, "out of memory");
			break;
		}
		if (rc > 0)
			continue;
		any = 1;
		a->v[i].count++;
		if (a->v[i].series != NULL)
			a->v[i].series[b - a->b0]++;
	}
	lw_buf_release(&tmp);
	if (a->err != LW_OK)
		return a->err;
	if (!any) {
		a->r->missing++;
		if (a->missing_series != NULL)
			a->missing_series[b - a->b0]++;
	}
	return 0;
}

/* ---------------------------------------------------------------- result */

static int vent_cmp(const void *x, const void *y)
{
	const struct vent *a = x, *b = y;
	uint32_t n = a->s.len < b->s.len ? a->s.len : b->s.len;
	int c;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	c = n ? memcmp(a->s.ptr, b->s.ptr, n) : 0;
	return c != 0 ? c : (a->s.len > b->s.len) - (a->s.len < b->s.len);
}

/* Sorts the values, keeps the top ones in the result (their bytes and
 * series move into it) and folds the rest into other. */
static int finish(struct agg *a)
{
	struct lw_agg_result *r = a->r;
	uint32_t top = a->req->top ? a->req->top : LW_AGG_DEFAULT_TOP;
	uint32_t nb;

	trim(a);
	nb = a->has_range ? span(a) : 0;
	if (a->nv > 1)
		qsort(a->v, a->nv, sizeof(*a->v), vent_cmp);
	r->distinct = a->nv;
	r->nvalues = a->nv < top ? a->nv : top;
	r->values = calloc(r->nvalues + 1, sizeof(*r->values));
	if (r->values == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < r->nvalues; i++) {
		char *copy = lw_memdup_z(a->v[i].s.ptr, a->v[i].s.len);

		if (copy == NULL)
			return LW_ENOMEM;
		r->values[i].value = (struct lw_str){copy, a->v[i].s.len};
		r->values[i].count = a->v[i].count;
		r->values[i].series = a->v[i].series;
		a->v[i].series = NULL;
	}
	if (a->req->kind == LW_AGG_HISTOGRAM) {
		r->step_ns = a->req->step_ns;
		r->start_ns = a->has_range ? a->b0 * a->req->step_ns : 0;
		r->nbuckets = nb;
		r->counts = a->counts;
		a->counts = NULL;
		r->missing_series = a->missing_series;
		a->missing_series = NULL;
		if (a->has_field && nb > 0) {
			r->other_series = calloc(nb, sizeof(*r->other_series));
			if (r->other_series == NULL)
				return LW_ENOMEM;
		}
	}
	for (uint32_t i = r->nvalues; i < a->nv; i++) {
		r->other += a->v[i].count;
		for (uint32_t k = 0; r->other_series != NULL && a->v[i].series != NULL && k < nb; k++)
			r->other_series[k] += a->v[i].series[k];
	}
	return LW_OK;
}

static void agg_release(struct agg *a)
{
	for (uint32_t i = 0; i < a->nv; i++)
		free(a->v[i].series);
	free(a->v);
	free(a->slots);
	free(a->counts);
	free(a->missing_series);
	free(a->seen);
	lw_arena_release(&a->arena);
}

static int meta_kind_of(int id)
{
	switch (id) {
	case LW_QFIELD_HOST: return LW_SEGMENT_META_HOST;
	case LW_QFIELD_ZONE: return LW_SEGMENT_META_ZONE;
	case LW_QFIELD_APP: return LW_SEGMENT_META_APP;
	default: return -1;
	}
}

/* Histograms span the whole window, empty buckets included. */
static int cover_window(struct agg *a, struct lw_query *q)
{
	int64_t since, until;

	lw_query_window(q, &since, &until);
	if (since == INT64_MIN)
		return LW_OK;
	if (until == INT64_MAX)
		until = lw_time_now_ns();
	if (until < since)
		return LW_OK;
	if (cover_bucket(a, bucket_of(a, since)) != LW_OK)
		return a->err;
	return cover_bucket(a, bucket_of(a, until));
}

static int check_request(const struct lw_agg_request *req, struct lw_diag *diag)
{
	if (req->kind == LW_AGG_COUNT_BY && (req->field == NULL || req->field[0] == '\0'))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "count-by needs a field");
	if (req->kind == LW_AGG_HISTOGRAM && req->step_ns <= 0)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "the histogram step must be positive");
	return LW_OK;
}

int lw_agg_run(struct lw_query *q, const struct lw_agg_request *req,
	       struct lw_agg_result **out, struct lw_diag *diag)
{
	struct agg a = {.req = req, .diag = diag, .meta_kind = -1};
	struct lw_query_stats st;
	unsigned cols = 0;
	int rc;

	*out = NULL;
	rc = check_request(req, diag);
	if (rc != LW_OK)
		return rc;
	a.r = calloc(1, sizeof(*a.r));
	if (a.r == NULL)
		return LW_ENOMEM;
	a.r->kind = req->kind;
	lw_arena_init(&a.arena, 0);
	if (req->field != NULL && req->kind != LW_AGG_COUNT) {
		if (lw_qfield_resolve(req->field, strlen(req->field), &a.field) != LW_OK) {
			rc = lw_diag_set(diag, LW_EPARSE, NULL, 0, 0, "unknown field '%s' (ECS "
					 "names such as host.name, source.ip; docs/query.md)",
					 req->field);
			goto out;
		}
		a.r->field = lw_memdup_z(req->field, strlen(req->field));
		if (a.r->field == NULL) {
			rc = LW_ENOMEM;
			goto out;
		}
		a.field.key = a.r->field;
		a.field.keylen = (uint32_t)strlen(a.r->field);
		a.has_field = 1;
		a.meta_kind = meta_kind_of(a.field.id);
		cols |= lw_qfield_columns(&a.field);
	}
	if (req->kind == LW_AGG_HISTOGRAM) {
		cols |= LW_SEGMENT_COL_TS;
		rc = cover_window(&a, q);
		if (rc != LW_OK)
			goto out;
	}
	rc = lw_query_run_cols(q, cols, on_meta, on_event, &a, diag);
	if (a.err != LW_OK)
		rc = a.err;
	if (rc == LW_OK)
		rc = finish(&a);
	lw_query_get_stats(q, &st);
	a.r->segments_from_meta = st.segments_from_meta;
	a.r->segments_decoded = st.segments_decoded;
out:
	agg_release(&a);
	if (rc != LW_OK) {
		lw_agg_result_free(a.r);
		return rc;
	}
	*out = a.r;
	return LW_OK;
}

void lw_agg_result_free(struct lw_agg_result *r)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < r->nvalues; i++) {
		free((char *)r->values[i].value.ptr);
		free(r->values[i].series);
	}
	free(r->values);
	free((char *)r->field);
	free(r->counts);
	free(r->other_series);
	free(r->missing_series);
	free(r);
}

int lw_agg_parse_step(const char *s, int64_t *step_ns)
{
	int64_t ns;

	if (lw_time_parse_age(s, &ns) != LW_OK || ns <= 0)
		return LW_EINVAL;
	*step_ns = ns;
	return LW_OK;
}

/* ---------------------------------------------------------------- output */

/* A value for a terminal, through the one text escaper: C0, DEL, C1 and
 * bidi controls shown as visible escapes, so a stored value cannot move
 * the cursor, recolour the screen or reorder what follows. */
static void put_text_value(struct lw_buf *out, struct lw_str s)
{
	lw_escape_text(out, s.ptr, s.len, 0);
}

/* A bucket start without the fraction when the step is whole seconds. */
static void put_bucket_time(struct lw_buf *out, const struct lw_agg_result *r, uint32_t k)
{
	size_t at = out->len;

	lw_time_format_rfc3339(r->start_ns + (int64_t)k * r->step_ns, out);
	if (r->step_ns % 1000000000 == 0 && out->len >= at + 8 &&
	    memcmp(out->data + out->len - 8, ".000000Z", 8) == 0) {
		out->len -= 8;
		lw_buf_putc(out, 'Z');
	}
}

static int digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static void text_count_by(const struct lw_agg_result *r, struct lw_buf *out)
{
	uint64_t widest = r->total;
	int w;

	for (uint32_t i = 0; i < r->nvalues; i++)
		if (r->values[i].count > widest)
			widest = r->values[i].count;
	w = digits(widest) > 5 ? digits(widest) : 5;
	lw_buf_printf(out, "%*s  %s\n", w, "count", r->field);
	for (uint32_t i = 0; i < r->nvalues; i++) {
		lw_buf_printf(out, "%*llu  ", w, (unsigned long long)r->values[i].count);
		put_text_value(out, r->values[i].value);
		lw_buf_putc(out, '\n');
	}
	if (r->other > 0)
		lw_buf_printf(out, "%*llu  (%llu other values)\n", w, (unsigned long long)r->other,
			      (unsigned long long)(r->distinct - r->nvalues));
	if (r->missing > 0)
		lw_buf_printf(out, "%*llu  (no %s)\n", w, (unsigned long long)r->missing, r->field);
	lw_buf_printf(out, "%*llu  events in all\n", w, (unsigned long long)r->total);
}

/* One column of the histogram table: a header and a count per bucket. */
struct hcol {
	struct lw_str head;
	const uint64_t *cells;
	int width;
};

static void text_histogram(const struct lw_agg_result *r, struct lw_buf *out)
{
	struct hcol cols[LW_AGG_DEFAULT_TOP * 10 + 3];
	size_t nc = 0, max = sizeof(cols) / sizeof(cols[0]) - 3;
	struct lw_buf head;

	if (r->field == NULL) {
		cols[nc++] = (struct hcol){LW_STR_LIT("count"), r->counts, 0};
	} else {
		for (uint32_t i = 0; i < r->nvalues && nc < max; i++)
			cols[nc++] = (struct hcol){r->values[i].value, r->values[i].series, 0};
		if (r->other > 0)
			cols[nc++] = (struct hcol){LW_STR_LIT("(other)"), r->other_series, 0};
		if (r->missing > 0)
			cols[nc++] = (struct hcol){LW_STR_LIT("(none)"), r->missing_series, 0};
	}
	lw_buf_init(&head);
	for (size_t c = 0; c < nc; c++) {
		lw_buf_reset(&head);
		put_text_value(&head, cols[c].head);
		cols[c].width = (int)head.len;
		for (uint32_t k = 0; k < r->nbuckets; k++)
			if (digits(cols[c].cells[k]) > cols[c].width)
				cols[c].width = digits(cols[c].cells[k]);
	}
	lw_buf_reset(&head);
	if (r->nbuckets > 0)
		put_bucket_time(&head, r, 0);
	lw_buf_printf(out, "%-*s", (int)head.len, "time");
	for (size_t c = 0; c < nc; c++) {
		lw_buf_reset(&head);
		put_text_value(&head, cols[c].head);
		lw_buf_printf(out, "  %*s%.*s", cols[c].width - (int)head.len, "",
			      (int)head.len, head.data ? head.data : "");
	}
	lw_buf_putc(out, '\n');
	lw_buf_release(&head);
	if (r->field != NULL && r->nvalues > max)
		lw_buf_printf(out, "(%u more series in --output json or csv)\n",
			      r->nvalues - (uint32_t)max);
	for (uint32_t k = 0; k < r->nbuckets; k++) {
		put_bucket_time(out, r, k);
		for (size_t c = 0; c < nc; c++)
			lw_buf_printf(out, "  %*llu", cols[c].width,
				      (unsigned long long)cols[c].cells[k]);
		lw_buf_putc(out, '\n');
	}
}

void lw_agg_to_text(const struct lw_agg_result *r, struct lw_buf *out)
{
	switch (r->kind) {
	case LW_AGG_COUNT:
		lw_buf_printf(out, "%llu\n", (unsigned long long)r->total);
		return;
	case LW_AGG_COUNT_BY:
		text_count_by(r, out);
		return;
	case LW_AGG_HISTOGRAM:
		text_histogram(r, out);
		return;
	}
}

static void json_counts(struct lw_buf *out, const uint64_t *cells, uint32_t n)
{
	lw_buf_putc(out, '[');
	for (uint32_t k = 0; k < n; k++)
		lw_buf_printf(out, k ? ",%llu" : "%llu", (unsigned long long)(cells ? cells[k] : 0));
	lw_buf_putc(out, ']');
}

static void json_histogram(const struct lw_agg_result *r, struct lw_buf *out)
{
	lw_buf_puts(out, "{\"start\":\"");
	put_bucket_time(out, r, 0);
	lw_buf_printf(out, "\",\"step_s\":%lld,\"buckets\":%u,\"total\":%llu,\"counts\":",
		      (long long)(r->step_ns / 1000000000), r->nbuckets,
		      (unsigned long long)r->total);
	json_counts(out, r->counts, r->nbuckets);
	if (r->field != NULL) {
		lw_buf_puts(out, ",\"field\":");
		lw_escape_json_string(out, r->field, strlen(r->field));
		lw_buf_printf(out, ",\"distinct\":%llu,\"series\":[", (unsigned long long)r->distinct);
		for (uint32_t i = 0; i < r->nvalues; i++) {
			lw_buf_puts(out, i ? ",{\"value\":" : "{\"value\":");
			lw_escape_json_string(out, r->values[i].value.ptr, r->values[i].value.len);
			lw_buf_printf(out, ",\"count\":%llu,\"counts\":",
				      (unsigned long long)r->values[i].count);
			json_counts(out, r->values[i].series, r->nbuckets);
			lw_buf_putc(out, '}');
		}
		lw_buf_printf(out, "],\"other\":{\"count\":%llu,\"counts\":",
			      (unsigned long long)r->other);
		json_counts(out, r->other_series, r->nbuckets);
		lw_buf_printf(out, "},\"missing\":{\"count\":%llu,\"counts\":",
			      (unsigned long long)r->missing);
		json_counts(out, r->missing_series, r->nbuckets);
		lw_buf_putc(out, '}');
	}
	lw_buf_puts(out, "}\n");
}

void lw_agg_to_json(const struct lw_agg_result *r, struct lw_buf *out)
{
	switch (r->kind) {
	case LW_AGG_COUNT:
		lw_buf_printf(out, "{\"count\":%llu}\n", (unsigned long long)r->total);
		return;
	case LW_AGG_COUNT_BY:
		lw_buf_puts(out, "{\"field\":");
		lw_escape_json_string(out, r->field, strlen(r->field));
		lw_buf_printf(out, ",\"total\":%llu,\"missing\":%llu,\"distinct\":%llu,\"values\":[",
			      (unsigned long long)r->total, (unsigned long long)r->missing,
			      (unsigned long long)r->distinct);
		for (uint32_t i = 0; i < r->nvalues; i++) {
			lw_buf_puts(out, i ? ",{\"value\":" : "{\"value\":");
			lw_escape_json_string(out, r->values[i].value.ptr, r->values[i].value.len);
			lw_buf_printf(out, ",\"count\":%llu}", (unsigned long long)r->values[i].count);
		}
		lw_buf_printf(out, "],\"other\":%llu}\n", (unsigned long long)r->other);
		return;
	case LW_AGG_HISTOGRAM:
		json_histogram(r, out);
		return;
	}
}

void lw_agg_to_csv(const struct lw_agg_result *r, struct lw_buf *out)
{
	switch (r->kind) {
	case LW_AGG_COUNT:
		lw_buf_printf(out, "count\r\n%llu\r\n", (unsigned long long)r->total);
		return;
	case LW_AGG_COUNT_BY:
		lw_escape_csv(out, r->field, strlen(r->field));
		lw_buf_puts(out, ",count\r\n");
		for (uint32_t i = 0; i < r->nvalues; i++) {
			lw_escape_csv(out, r->values[i].value.ptr, r->values[i].value.len);
			lw_buf_printf(out, ",%llu\r\n", (unsigned long long)r->values[i].count);
		}
		return;
	case LW_AGG_HISTOGRAM:
		if (r->field == NULL) {
			lw_buf_puts(out, "time,count\r\n");
			for (uint32_t k = 0; k < r->nbuckets; k++) {
				put_bucket_time(out, r, k);
				lw_buf_printf(out, ",%llu\r\n", (unsigned long long)r->counts[k]);
			}
			return;
		}
		lw_buf_puts(out, "time,");
		lw_escape_csv(out, r->field, strlen(r->field));
		lw_buf_puts(out, ",count\r\n");
		for (uint32_t k = 0; k < r->nbuckets; k++) {
			for (uint32_t i = 0; i < r->nvalues; i++) {
				put_bucket_time(out, r, k);
				lw_buf_putc(out, ',');
				lw_escape_csv(out, r->values[i].value.ptr, r->values[i].value.len);
				lw_buf_printf(out, ",%llu\r\n",
					      (unsigned long long)r->values[i].series[k]);
			}
		}
		return;
	}
}
