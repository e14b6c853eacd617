/* lw_qplan: per-segment verdicts from metadata records, and the segment
 * scan (literal first, then the columns the expression reads). */
#include "store/qplan.h"

#include <stdlib.h>
#include <string.h>

#include "core/memfind.h"
#include "core/time.h"
#include "store/qfield.h"

struct lw_qplan {
	struct lw_qlang *q;
	int64_t since, until;
	unsigned cols;           /* members the expression reads */
	unsigned eval_cols;      /* ... plus @timestamp when the window is bounded */
	unsigned index_fields;   /* bit per enum lw_qfield_id the metadata can test */
	struct lw_memfind_icase lit; /* the literal searched first */
	int has_lit;
	const struct lw_segment_meta *meta; /* for the term callback */
	uint32_t *match;
	size_t match_cap;
	uint8_t *cand;
	size_t cand_cap;
	struct lw_qplan_stats stats;
	int64_t deadline_ns;     /* monotonic; 0 = none */
	int has_regex;           /* some term is field:/re/ */
};

static enum lw_qlang_tri range_tri(int64_t lo, int64_t hi, int64_t min, int64_t max)
{
	if (max < lo || min > hi)
		return LW_QLANG_NONE;
	if (min >= lo && max <= hi)
		return LW_QLANG_EVERY;
	return LW_QLANG_SOME;
}

/* Gathers the columns and the indexable fields of every term. */
static enum lw_qlang_tri note_term(struct lw_qlang_term *t, void *arg)
{
	struct lw_qplan *p = arg;
	const struct lw_qlang_field *f = lw_qlang_term_field(t);

	p->cols |= lw_qfield_columns(f);
	if (lw_qlang_term_op(t) == LW_QLANG_REGEX)
		p->has_regex = 1;
	if (f->id == LW_QFIELD_HOST || f->id == LW_QFIELD_ZONE || f->id == LW_QFIELD_APP ||
	    f->id == LW_QFIELD_TIMESTAMP || f->id == LW_QFIELD_CREATED)
		p->index_fields |= 1u << f->id;
	return LW_QLANG_SOME;
}

/* The longest literal of a full-text conjunct on message, if any. */
static int pick_literal(struct lw_qplan *p)
{
	struct lw_qlang_term *conj[64];
	size_t n = lw_qlang_conjuncts(p->q, conj, 64);
	struct lw_str best = {NULL, 0}, lit;

	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		if (lw_qlang_term_field(conj[i])->id == LW_QFIELD_MESSAGE &&
		    lw_qlang_term_literal(conj[i], &lit) && lit.len > best.len)
			best = lit;
	if (best.len == 0)
		return LW_OK;
	if (lw_memfind_icase_init(&p->lit, best.ptr, best.len) != 0)
		return LW_ENOMEM;
	p->has_lit = 1;
	return LW_OK;
}

int lw_qplan_new(struct lw_qlang *expr, int64_t since_ns, int64_t until_ns,
		 int64_t now_ns, struct lw_qplan **out, struct lw_diag *diag)
{
	struct lw_qplan *p;
	int rc;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		lw_qlang_free(expr);
		return LW_ENOMEM;
	}
	p->q = expr;
	p->since = since_ns;
	p->until = until_ns;
	if (p->q == NULL) {
		rc = lw_qlang_parse("", 0, &p->q, diag);
		if (rc != LW_OK)
			goto fail;
	}
	rc = lw_qlang_bind(p->q, &lw_qfield_schema, now_ns, diag);
	if (rc != LW_OK)
		goto fail;
	lw_qlang_each_term(p->q, note_term, p);
	p->eval_cols = p->cols;
	if (since_ns != INT64_MIN || until_ns != INT64_MAX)
		p->eval_cols |= LW_SEGMENT_COL_TS;
	rc = pick_literal(p);
	if (rc != LW_OK)
		goto fail;
	*out = p;
	return LW_OK;
fail:
	lw_qplan_free(p);
	return rc;
}

void lw_qplan_free(struct lw_qplan *p)
{
	if (p == NULL)
		return;
	lw_qlang_free(p->q);
	if (p->has_lit)
		lw_memfind_icase_release(&p->lit);
	free(p->match);
	free(p->cand);
	free(p);
}

/* A term on a field the metadata lists (host, zone, app): the events of
 * the listed values that pass the term, against the segment's count. */
static enum lw_qlang_tri list_tri(struct lw_qlang_term *t, const struct lw_segment_meta *m,
				  enum lw_segment_meta_kind kind)
{
	struct lw_segment_meta_item it;
	struct lw_qlang_value v = {.kind = LW_QLANG_V_STR};
	uint64_t matched = 0;
	size_t pos = 0;
	int rc;

	while (lw_segment_meta_next(m, kind, &pos, &it)) {
		v.str = it.name;
		rc = lw_qlang_term_test(t, &v);
		if (rc < 0)
			return LW_QLANG_SOME; /* a regex limit: cannot tell */
		if (rc == 1)
			matched += it.count;
	}
	if (matched == 0)
		return LW_QLANG_NONE;
	return matched >= m->count ? LW_QLANG_EVERY : LW_QLANG_SOME;
}

static enum lw_qlang_tri meta_term(struct lw_qlang_term *t, void *arg)
{
	const struct lw_qplan *p = arg;
	const struct lw_segment_meta *m = p->meta;
	int64_t lo, hi;

	switch (lw_qlang_term_field(t)->id) {
	case LW_QFIELD_HOST: return list_tri(t, m, LW_SEGMENT_META_HOST);
	case LW_QFIELD_ZONE: return list_tri(t, m, LW_SEGMENT_META_ZONE);
	case LW_QFIELD_APP: return list_tri(t, m, LW_SEGMENT_META_APP);
	case LW_QFIELD_TIMESTAMP:
		if (lw_qlang_term_op(t) == LW_QLANG_EXISTS)
			return LW_QLANG_EVERY;
		if (lw_qlang_term_time_bounds(t, &lo, &hi) != LW_OK)
			return LW_QLANG_SOME;
		return range_tri(lo, hi, m->min_ts, m->max_ts);
	case LW_QFIELD_CREATED:
		if (lw_qlang_term_op(t) == LW_QLANG_EXISTS)
			return LW_QLANG_EVERY;
		/* only the newest arrival is recorded */
		if (lw_qlang_term_time_bounds(t, &lo, &hi) == LW_OK && m->max_created < lo)
			return LW_QLANG_NONE;
		return LW_QLANG_SOME;
	default:
		return LW_QLANG_SOME;
	}
}

enum lw_qlang_tri lw_qplan_segment(struct lw_qplan *p, const struct lw_segment_meta *m)
{
	enum lw_qlang_tri time, expr;

	if (m->count == 0)
		return LW_QLANG_NONE;
	time = range_tri(p->since, p->until, m->min_ts, m->max_ts);
	if (time == LW_QLANG_NONE) {
		p->stats.skipped_time++;
		return LW_QLANG_NONE;
	}
	p->meta = m;
	expr = lw_qlang_tri(p->q, meta_term, p);
	p->meta = NULL;
	if (expr == LW_QLANG_NONE) {
		p->stats.skipped_index++;
		return LW_QLANG_NONE;
	}
	if (time == LW_QLANG_EVERY && expr == LW_QLANG_EVERY) {
		p->stats.every++;
		return LW_QLANG_EVERY;
	}
	return LW_QLANG_SOME;
}

int lw_qplan_match(struct lw_qplan *p, const struct lw_event *ev)
{
	if (ev->timestamp_ns < p->since || ev->timestamp_ns > p->until)
		return 0;
	return lw_qlang_match(p->q, ev);
}

unsigned lw_qplan_columns(const struct lw_qplan *p)
{
	return p->cols;
}

static int grow(void **ptr, size_t *cap, size_t want, size_t elem)
{
	void *np;

	if (want <= *cap)
		return LW_OK;
	np = realloc(*ptr, want * elem);
	if (np == NULL)
		return LW_ENOMEM;
	*ptr = np;
	*cap = want;
	return LW_OK;
}

/* Marks in p->cand the events whose message holds the literal: one search
 * over the whole column, each hit mapped to its event. A hit that runs
 * past the end of its event's message belongs to no event. */
static uint32_t literal_candidates(struct lw_qplan *p, const struct lw_event *ev,
				   uint32_t n, const char *col, size_t len)
{
	const char *pos = col, *end = col + len, *hit;
	uint32_t i = 0, found = 0;

	memset(p->cand, 0, n);
	while (i < n && (hit = lw_memfind_icase(&p->lit, pos, (size_t)(end - pos))) != NULL) {
		const char *hit_end = hit + p->lit.len;

		while (i < n && ev[i].message.ptr + ev[i].message.len < hit_end)
			i++;
		if (i == n)
			break;
		if (ev[i].message.ptr <= hit) {
			p->cand[i] = 1;
			found++;
			pos = ev[i].message.ptr + ev[i].message.len;
			i++;
		} else {
			/* the hit starts in an earlier message and ends in this
			 * one: nothing before this message can hold it */
			pos = ev[i].message.ptr;
		}
	}
	return found;
}

static int match_events(struct lw_qplan *p, const struct lw_event *ev, uint32_t n,
			int only_candidates, uint32_t *nmatch, struct lw_diag *diag)
{
	for (uint32_t i = 0; i < n; i++) {
		int rc;

		/* The clock every 64 events: a few ns each, and at most 64
		 * slow matches past the deadline. */
		if (p->deadline_ns != 0 && (i & 63) == 0 && lw_time_mono_ns() > p->deadline_ns)
			return lw_diag_set(diag, LW_ETOOBIG, NULL, 0, 0, "time limit reached");
		if (only_candidates && !p->cand[i])
			continue;
		rc = lw_qplan_match(p, &ev[i]);
		if (rc < 0) {
			lw_qlang_limit_diag(p->q, diag);
			return rc;
		}
		if (rc == 1)
			p->match[(*nmatch)++] = i;
	}
	return LW_OK;
}

int lw_qplan_scan(struct lw_qplan *p, struct lw_segment_decoder *d,
		  enum lw_qlang_tri verdict, unsigned cols,
		  const uint32_t **matches, uint32_t *n, struct lw_diag *diag)
{
	const struct lw_event *ev;
	uint32_t count, found = 0;
	const char *col = NULL;
	size_t len = 0;
	int rc;

	*matches = p->match;
	*n = 0;
	if (p->has_lit && verdict != LW_QLANG_EVERY) {
		/* the whole message column first: no hit, nothing decoded */
		rc = lw_segment_decode_column(d, LW_SEGMENT_COL_MESSAGE, &col, &len, diag);
		if (rc != LW_OK)
			return rc;
		p->stats.literal_searched++;
		if (lw_memfind_icase(&p->lit, col, len) == NULL) {
			p->stats.literal_missing++;
			return LW_OK;
		}
	}
	rc = lw_segment_decode_cols(d, verdict == LW_QLANG_EVERY ? cols :
				    p->has_lit ? LW_SEGMENT_COL_MESSAGE : p->eval_cols, diag);
	if (rc != LW_OK)
		return rc;
	ev = lw_segment_decoder_events(d, &count);
	if (grow((void **)&p->match, &p->match_cap, (size_t)count + 1, sizeof(*p->match)) != LW_OK ||
	    grow((void **)&p->cand, &p->cand_cap, (size_t)count + 1, 1) != LW_OK)
		return LW_ENOMEM;
	*matches = p->match;
	if (verdict == LW_QLANG_EVERY) {
		for (uint32_t i = 0; i < count; i++)
			p->match[i] = i;
		*n = count;
		return LW_OK;
	}
	if (p->has_lit) {
		found = literal_candidates(p, ev, count, col, len);
		p->stats.candidates += found;
		if (found == 0) /* the hits all ran across two messages */
			return LW_OK;
		rc = lw_segment_decode_cols(d, p->eval_cols, diag);
		if (rc != LW_OK)
			return rc;
	}
	rc = match_events(p, ev, count, p->has_lit, n, diag);
	if (rc == LW_OK && *n > 0)
		rc = lw_segment_decode_cols(d, cols, diag);
	return rc;
}

int lw_qplan_has_regex(const struct lw_qplan *p)
{
	return p->has_regex;
}

void lw_qplan_set_deadline(struct lw_qplan *p, int64_t deadline_ns)
{
	p->deadline_ns = deadline_ns;
}

void lw_qplan_get_stats(const struct lw_qplan *p, struct lw_qplan_stats *out)
{
	*out = p->stats;
}

static void describe_time(int64_t ns, struct lw_buf *out)
{
	if (ns == INT64_MIN || ns == INT64_MAX)
		lw_buf_puts(out, ns == INT64_MIN ? "the oldest event" : "the newest event");
	else
		lw_time_format_rfc3339(ns, out);
}

void lw_qplan_describe(const struct lw_qplan *p, struct lw_buf *out)
{
	static const struct { enum lw_qfield_id id; const char *what; } idx[] = {
		{LW_QFIELD_TIMESTAMP, "@timestamp (segment time range)"},
		{LW_QFIELD_CREATED, "event.created (newest arrival per segment)"},
		{LW_QFIELD_HOST, "host.name (segment host list)"},
		{LW_QFIELD_ZONE, "labels.zone (segment zone list)"},
		{LW_QFIELD_APP, "process.name (segment app list)"},
	};
	const char *sep = "";

	lw_buf_puts(out, "expression: ");
	lw_qlang_format(p->q, out);
	lw_buf_puts(out, "\ntime window: ");
	describe_time(p->since, out);
	lw_buf_puts(out, " .. ");
	describe_time(p->until, out);
	lw_buf_puts(out, " (segment time range)\nindex used: ");
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		if (!(p->index_fields & (1u << idx[i].id)))
			continue;
		lw_buf_printf(out, "%s%s", sep, idx[i].what);
		sep = ", ";
	}
	if (sep[0] == '\0')
		lw_buf_puts(out, lw_qlang_is_all(p->q) ? "none needed" :
			     "none (no term on @timestamp, host.name, labels.zone or process.name)");
	lw_buf_puts(out, "\nliteral first: ");
	if (p->has_lit) {
		lw_buf_json_string(out, p->lit.low, p->lit.len);
		lw_buf_puts(out, " in each message column, ASCII case ignored");
	} else {
		lw_buf_puts(out, "none");
	}
	lw_buf_putc(out, '\n');
}
