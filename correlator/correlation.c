/* lw_correlation: the sliding windows that turn detection matches into
 * incident firings (correlator/correlation.h). The window state is owned
 * by the writer thread; the rules it runs are correlation_load.c's and
 * correlation_refs.c's, its state is saved by correlation_state.c. */
#include "correlator/correlation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/memfind.h"
#include "core/time.h"
#include "correlator/correlation_int.h"
#include "correlator/response.h"
#include "correlator/ruleset.h"

static const struct fref host_field = {LW_EVENT_MEMBER_HOST, 9, (char *)"host.name"};
static const char *const host_group_name[] = {"host.name"};

static uint64_t win_defhash(const struct win *w)
{
	const struct crule *r = w->r;
	uint64_t h = fnv1a(FNV_OFFSET, ctype_name(w->type),
			   strlen(ctype_name(w->type)));

	h = fnv1a(h, &w->timespan_ns, sizeof(w->timespan_ns));
	h = fnv1a(h, &w->words, sizeof(w->words));
	if (r == NULL)
		return h;
	h = fnv1a(h, &r->k, sizeof(r->k));
	h = fnv1a(h, &r->nrefs, sizeof(r->nrefs));
	for (uint32_t i = 0; i < r->nrefs; i++)
		h = fnv1a(h, r->refs[i], strlen(r->refs[i]) + 1);
	for (uint32_t i = 0; i < r->ngroup; i++)
		h = fnv1a(h, r->group[i], strlen(r->group[i]) + 1);
	if (r->value_field != NULL)
		h = fnv1a(h, r->value_field, strlen(r->value_field) + 1);
	if (ctype_is_anomaly(r->type)) {
		/* What the saved words mean (a term table's size, a baseline's
		 * weight) depends on these; learn and the thresholds do not. */
		h = fnv1a(h, &r->terms, sizeof(r->terms));
		h = fnv1a(h, &r->weight, sizeof(r->weight));
		h = fnv1a(h, &r->keep_ns, sizeof(r->keep_ns));
		h = fnv1a(h, &r->min_gap_ns, sizeof(r->min_gap_ns));
	}
	return h;
}

static uint32_t state_words(const struct crule *r)
{
	switch (r->type) {
	case CT_EVENT_COUNT: return 1 + r->k;
	case CT_VALUE_COUNT: return 1 + 2 * r->k;
	case CT_TEMPORAL: return r->nrefs;
	case CT_TEMPORAL_ORDERED: return 3 * r->nrefs;
	default: return lw_correlation_anomaly_words(r);
	}
}

static enum smode state_mode(const struct win *w)
{
	switch (w->type) {
	case CT_EVENT_COUNT: return SM_RING;
	case CT_VALUE_COUNT: return SM_PAIRS;
	case CT_ABSENCE: return SM_BLOCK; /* its action time lives in the block */
	case CT_DIRECT: return SM_NONE;
	case CT_NEW_TERMS: return SM_BLOCK; /* a table: no inline form */
	case CT_BEACONING: return SM_HEAD;
	default: return w->words <= ST_INLINE ? SM_RAW : SM_BLOCK;
	}
}

static void state_init(const struct win *w, int64_t *st)
{
	switch (w->type) {
	case CT_EVENT_COUNT:
	case CT_VALUE_COUNT:
		st[0] = 0;
		break;
	case CT_TEMPORAL:
		for (uint32_t i = 0; i < w->words; i++)
			st[i] = T_NONE;
		break;
	case CT_TEMPORAL_ORDERED:
		for (uint32_t i = 0; i < w->words; i++)
			st[i] = i < 2 * w->r->nrefs ? T_NONE : -1;
		break;
	case CT_NEW_TERMS:
	case CT_VALUE_SUM:
	case CT_BEACONING:
		lw_correlation_anomaly_init(w->r, st);
		break;
	default:
		break;
	}
}

/* Index i after head in a ring of k (i < k, head < k): no division on the
 * per-event path. */
static uint32_t ring_at(uint32_t head, uint32_t i, uint32_t k)
{
	uint32_t x = head + i;

	return x >= k ? x - k : x;
}

void lw_correlation_state_get(const struct win *w, const struct group *g,
			      int64_t *st)
{
	if (g->blk != NULL) {
		memcpy(st, g->blk, w->words * sizeof(*st));
		return;
	}
	switch (w->smode) {
	case SM_RING: /* head 0, len slen */
		st[0] = (int64_t)((uint64_t)g->slen << 32);
		for (uint32_t i = 0; i < g->slen; i++)
			st[1 + i] = g->inl[i];
		break;
	case SM_PAIRS:
		st[0] = g->slen;
		for (uint32_t i = 0; i < 2u * g->slen; i++)
			st[1 + i] = g->inl[i];
		break;
	case SM_RAW:
		for (uint32_t i = 0; i < w->words; i++)
			st[i] = g->inl[i];
		break;
	case SM_HEAD:
		memcpy(st, g->inl, ST_INLINE * sizeof(*st));
		memset(st + ST_INLINE, 0, (w->words - ST_INLINE) * sizeof(*st));
		break;
	default:
		state_init(w, st);
		break;
	}
}

/* st's tier-0 form into g; 0 when it does not fit. */
static int state_compact(const struct win *w, struct group *g, const int64_t *st)
{
	uint32_t head = (uint32_t)(st[0] & 0xffffffff);
	uint32_t len = (uint32_t)((uint64_t)st[0] >> 32);

	switch (w->smode) {
	case SM_RING:
		if (len > ST_INLINE)
			return 0;
		for (uint32_t i = 0; i < len; i++)
			g->inl[i] = st[1 + ring_at(head, i, w->r->k)];
		g->slen = (uint8_t)len;
		return 1;
	case SM_PAIRS:
		if ((uint64_t)st[0] > ST_INLINE / 2)
			return 0;
		for (uint32_t i = 0; i < 2 * (uint32_t)st[0]; i++)
			g->inl[i] = st[1 + i];
		g->slen = (uint8_t)st[0];
		return 1;
	case SM_RAW:
		for (uint32_t i = 0; i < w->words; i++)
			g->inl[i] = st[i];
		return 1;
	case SM_NONE:
		return 1;
	case SM_HEAD:
		for (uint32_t i = ST_INLINE; i < w->words; i++)
			if (st[i] != 0)
				return 0;
		memcpy(g->inl, st, ST_INLINE * sizeof(*st));
		return 1;
	default:
		return 0;
	}
}

int lw_correlation_state_put(struct lw_correlation *c, struct win *w,
			     uint32_t *gi, const int64_t *st)
{
	struct group *g = G(w, *gi);

	if (g->blk != NULL) {
		if (st != g->blk)
			memcpy(g->blk, st, w->words * sizeof(*st));
		return LW_OK;
	}
	if (state_compact(w, g, st))
		return LW_OK;
	return lw_correlation_group_promote(c, w, gi, st);
}

/* The group-by position of an event member, when every reference slot
 * groups by it there (aliases may map slots to other fields); -1 else. */
static int member_pos(const struct win *w, enum lw_event_member m)
{
	if (w->r == NULL)
		return m == LW_EVENT_MEMBER_HOST ? 0 : -1; /* direct: host.name */
	for (uint32_t g = 0; g < w->r->ngroup; g++) {
		uint32_t s;

		for (s = 0; s < slots_of(w->r); s++)
			if (w->r->gf[s * w->r->ngroup + g].member != m)
				break;
		if (s == slots_of(w->r))
			return (int)g;
	}
	return -1;
}

/* The fields window w makes its key from at reference slot (direct
 * windows: host.name, an empty value allowed). */
static const struct fref *key_fields(const struct win *w, uint32_t slot,
				     uint32_t *ngroup)
{
	*ngroup = w->r ? w->r->ngroup : 1;
	return w->r ? &w->r->gf[slot * w->r->ngroup] : &host_field;
}

static int same_key_fields(const struct win *a, uint32_t sa,
			   const struct win *b, uint32_t sb)
{
	uint32_t na, nb;
	const struct fref *fa = key_fields(a, sa, &na), *fb = key_fields(b, sb, &nb);

	if (na != nb || (a->r == NULL) != (b->r == NULL))
		return 0;
	for (uint32_t g = 0; g < na; g++) {
		if (fa[g].member != fb[g].member)
			return 0;
		if (fa[g].member == LW_EVENT_MEMBER_NONE &&
		    (fa[g].keylen != fb[g].keylen ||
		     memcmp(fa[g].key, fb[g].key, fa[g].keylen) != 0))
			return 0;
	}
	return 1;
}

/* Numbers each (window, slot) by the first one making its key from the
 * same fields. Quadratic in the windows, once, at load. */
static int key_classes(struct lw_correlation *c)
{
	uint32_t nclasses = 0;

	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];
		uint32_t nslots = w->r ? slots_of(w->r) : 1;

		w->key_class = calloc(nslots, sizeof(*w->key_class));
		if (w->key_class == NULL)
			return LW_ENOMEM;
		for (uint32_t s = 0; s < nslots; s++) {
			w->key_class[s] = NONE32;
			for (uint32_t j = 0; j <= i && w->key_class[s] == NONE32; j++) {
				const struct win *o = &c->w[j];
				uint32_t upto = j < i ? (o->r ? slots_of(o->r) : 1) : s;

				for (uint32_t t = 0; t < upto; t++)
					if (same_key_fields(w, s, o, t)) {
						w->key_class[s] = o->key_class[t];
						break;
					}
			}
			if (w->key_class[s] == NONE32)
				w->key_class[s] = nclasses++;
		}
	}
	return LW_OK;
}

struct lw_correlation *lw_correlation_new(const struct lw_ruleset *rs)
{
	const struct lw_correlation_rules *cr = lw_ruleset_correlations(rs);
	const struct lw_response *resp = lw_ruleset_response(rs);
	uint32_t nsigma = lw_ruleset_rule_count(rs), ndirect = 0, ncorr, maxw = 1;
	uint32_t maxterms = 1;
	struct lw_correlation *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->rs = rs;
	c->cr = cr;
	ncorr = cr != NULL && cr->built ? cr->n : 0;
	for (uint32_t i = 0; i < nsigma; i++)
		ndirect += cr != NULL && lw_correlation_rules_fires_directly(cr, i);
	if (cr == NULL || !cr->built) /* no correlation stage: all fire */
		ndirect = nsigma;
	c->nwin = ncorr + ndirect;
	c->w = calloc(c->nwin ? c->nwin : 1, sizeof(*c->w));
	c->direct_win = calloc(nsigma ? nsigma : 1, sizeof(*c->direct_win));
	c->q = calloc(ncorr ? ncorr : 1, sizeof(*c->q));
	if (c->w == NULL || c->direct_win == NULL || c->q == NULL)
		goto fail;
	for (uint32_t i = 0; i < ncorr; i++) {
		struct win *w = &c->w[i];

		w->r = &cr->rules[i];
		w->info = &w->r->info;
		w->type = w->r->type;
		w->timespan_ns = w->r->timespan_ns;
		w->suppress_ns = w->r->suppress_ns;
		w->max_groups = w->r->max_groups;
		w->words = state_words(w->r);
		/* A value_sum group holds a baseline: it is kept for `keep`
		 * after its last event, not for one window. */
		if (w->type == CT_VALUE_SUM)
			w->timespan_ns = w->r->keep_ns;
		if (w->type == CT_NEW_TERMS && w->r->terms > maxterms)
			maxterms = w->r->terms;
	}
	for (uint32_t i = 0, k = ncorr; i < nsigma; i++) {
		struct win *w;

		c->direct_win[i] = NONE32;
		if (cr != NULL && cr->built && !lw_correlation_rules_fires_directly(cr, i))
			continue;
		w = &c->w[k];
		w->info = lw_ruleset_rule(rs, i);
		w->type = CT_DIRECT;
		w->suppress_ns = LW_CORRELATION_DIRECT_SUPPRESS_NS;
		w->timespan_ns = LW_CORRELATION_DIRECT_SUPPRESS_NS;
		w->max_groups = LW_CORRELATION_MAX_GROUPS;
		c->direct_win[i] = k++;
	}
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];
		int64_t horizon = w->timespan_ns > w->suppress_ns ?
			w->timespan_ns : w->suppress_ns;

		w->index = i;
		w->smode = state_mode(w);
		w->host_pos = member_pos(w, LW_EVENT_MEMBER_HOST);
		w->zone_pos = member_pos(w, LW_EVENT_MEMBER_ZONE);
		w->resp = resp != NULL ? lw_response_json(resp, w->info->category) :
			"{\"steps\":[],\"notify\":[]}";
		w->defhash = win_defhash(w);
		w->tick_ns = horizon / WHEEL_TICKS > 1000000 ? horizon / WHEEL_TICKS : 1000000;
		w->cur_tick = INT64_MIN;
		for (uint32_t s = 0; s < WHEEL_SLOTS; s++)
			w->slot_head[s] = NONE32;
		w->exp_head = w->exp_tail = NONE32;
		w->hint = NONE32;
		lw_buf_init(&w->tomb);
		if (w->words > maxw)
			maxw = w->words;
	}
	if (key_classes(c) != LW_OK)
		goto fail;
	c->tmp = calloc(maxw, sizeof(*c->tmp));
	c->terms_tmp = calloc(maxterms, sizeof(*c->terms_tmp));
	/* At most: every window of every event, each direct window, and
	 * each (detection rule -> correlation) edge. */
	c->prep_cap = (ncorr ? cr->nall + cr->cons_off[cr->nsigma] : 0) + nsigma;
	for (uint32_t i = 0; i < PREP_SETS; i++) {
		c->sets[i].prep = calloc(c->prep_cap ? c->prep_cap : 1,
					 sizeof(*c->sets[i].prep));
		if (c->sets[i].prep == NULL)
			goto fail;
	}
	if (c->tmp == NULL || c->terms_tmp == NULL)
		goto fail;
	c->clock = T_NONE;
	c->due = INT64_MAX;
	c->wheel_due = INT64_MAX;
	/* Group hashes are seeded so that nobody can aim log lines at one
	 * hash chain; nothing depends on the hash order. */
	c->seed = FNV_OFFSET ^ (uint64_t)lw_time_now_ns() ^ (uint64_t)(uintptr_t)c;
	c->rng = c->seed | 1;
	c->need_full = 1;
	c->save_seq = 1;
	if (lw_correlation_groups_budget(c, LW_CORRELATION_DEFAULT_MEMORY) != LW_OK)
		goto fail;
	return c;

fail:
	lw_correlation_free(c);
	return NULL;
}

void lw_correlation_set_memory(struct lw_correlation *c, uint64_t bytes)
{
	lw_correlation_groups_budget(c, bytes);
}

void lw_correlation_free(struct lw_correlation *c)
{
	if (c == NULL)
		return;
	lw_correlation_groups_release(c);
	for (uint32_t i = 0; i < c->nwin && c->w != NULL; i++)
		free(c->w[i].key_class);
	free(c->w);
	free(c->direct_win);
	free(c->q);
	free(c->tmp);
	free(c->terms_tmp);
	for (uint32_t i = 0; i < PREP_SETS; i++)
		free(c->sets[i].prep);
	free(c);
}

/* ---- fields of an event ---- */

static struct lw_str field_value(const struct lw_event *ev, const struct fref *f,
				 char text[LW_EVENT_MEMBER_TEXT_MAX])
{
	const struct lw_field *x;

	if (f->member != LW_EVENT_MEMBER_NONE)
		return lw_event_member_value(ev, f->member, text);
	x = lw_event_field(ev, f->key, f->keylen);
	return x ? x->value : LW_STR_NULL;
}

/* Encodes the group-by values; 0 when one is missing (the event does not
 * belong to any group of this rule), unless empty values are allowed. */
static int make_key(const struct lw_event *ev, const struct fref *gf,
		    uint32_t ngroup, int allow_empty, char *key, uint16_t *klen)
{
	size_t n = 0;
	char num[LW_EVENT_MEMBER_TEXT_MAX];

	for (uint32_t g = 0; g < ngroup; g++) {
		struct lw_str v = field_value(ev, &gf[g], num);
		size_t room = LW_CORRELATION_KEY_MAX - n - 1 -
			(ngroup - g - 1); /* one length byte for each later value */
		size_t len = v.len;

		if (len == 0 && !allow_empty)
			return 0;
		if (len > 255)
			len = 255;
		if (len > room)
			len = room;
		key[n++] = (char)len;
		if (len > 0)
			memcpy(key + n, v.ptr, len);
		n += len;
	}
	*klen = (uint16_t)n;
	return 1;
}

/* Follows whether every event of the burst had the same host (zone):
 * its interned name is kept while they agree. Values are compared cut
 * at `cap` bytes, as incidents show them. A name that cannot be kept
 * (no memory) counts as "several": the incident then names none. */
static void track(struct lw_correlation *c, struct group *g, int shift,
		  uint32_t *id, size_t cap, struct lw_str v)
{
	uint32_t state = ((uint32_t)g->track >> shift) & 3;
	size_t len = v.len < cap ? v.len : cap;

	if (state == 2)
		return;
	if (state == 0) {
		*id = lw_correlation_name_get(c, v.ptr, len);
		state = *id != 0 ? 1 : 2;
	} else {
		const struct name *have = &c->names[*id];

		if (have->len != len || (len > 0 && !lw_memeq(have->s, v.ptr, len))) {
			lw_correlation_name_put(c, *id);
			*id = 0;
			state = 2;
		}
	}
	g->track = (uint8_t)((g->track & ~(3u << shift)) | (state << shift));
}

/* A window grouped by host.name (labels.zone) has one host (zone) per
 * group: the key says which, nothing to follow. */
static void track_event(struct lw_correlation *c, const struct win *w,
			struct group *g, const struct lw_event *ev)
{
	if (w->host_pos < 0)
		track(c, g, TRACK_HOST_SHIFT, &g->host, 255, ev->host);
	if (w->zone_pos < 0)
		track(c, g, TRACK_ZONE_SHIFT, &g->zone, 63, ev->zone);
}

/* Value number pos of a group key (per value: u8 len, bytes), cut at cap. */
static struct lw_str key_value(const char *key, uint16_t klen, int pos, size_t cap)
{
	size_t at = 0;

	for (int i = 0; at < klen; i++) {
		size_t len = (unsigned char)key[at++];

		if (at + len > klen)
			len = klen - at;
		if (i == pos)
			return (struct lw_str){key + at, (uint32_t)(len < cap ? len : cap)};
		at += len;
	}
	return (struct lw_str){"", 0};
}

/* ---- firing ---- */

/* 1 when correlations reference correlation window wi. */
static int has_consumers(const struct lw_correlation *c, uint32_t wi)
{
	const struct lw_correlation_rules *cr = c->cr;

	return cr->cons_off[cr->nsigma + wi] != cr->cons_off[cr->nsigma + wi + 1];
}

struct evctx {
	const struct lw_event *ev;
	uint64_t seq;
	int64_t ts;
	lw_incident_cb cb;
	void *arg;
	const struct win *src; /* a referenced correlation that fired, or NULL */
};

struct jw {
	char *p;
	size_t n, cap;
};

static void jw_raw(struct jw *j, const char *s)
{
	size_t len = strlen(s);

	if (j->n + len < j->cap) {
		memcpy(j->p + j->n, s, len);
		j->n += len;
	}
}

/* A JSON string (core/escape.h: controls, C1 and bidi by code point,
 * UTF-8 text as it is), cut between characters or escapes when the
 * object would not fit; `reserve` bytes stay free for what must follow.
 * (Each byte of 0x7f and above used to be escaped on its own: a Japanese
 * user name came out as \u00e3\u0083..., U+009B as \u00c2\u009b.) */
static void jw_str(struct jw *j, const char *s, size_t len, size_t reserve)
{
	size_t room;

	jw_raw(j, "\"");
	room = j->cap > j->n + reserve + 2 ? j->cap - j->n - reserve - 2 : 0;
	/* The fixed escaper writes at most room bytes and a NUL after them. */
	j->n += lw_escape_json_fixed(j->p + j->n, room + 1, s, len, NULL);
	jw_raw(j, "\"");
}

/* The group's values as a JSON object; a new_terms firing adds its term
 * (term_name NULL: none), so its incident names the host and the term. */
static void render_group(const struct win *w, const char *key, uint16_t keylen,
			 const char *term_name, struct lw_str term,
			 char *out, size_t cap)
{
	const char *const *names = w->r ? (const char *const *)w->r->group :
		host_group_name;
	uint32_t ng = w->r ? w->r->ngroup : 1;
	struct jw j = {out, 0, cap - 1};
	size_t pos = 0;

	jw_raw(&j, "{");
	for (uint32_t i = 0; i < ng && pos < keylen; i++) {
		size_t len = (unsigned char)key[pos++];

		if (pos + len > keylen)
			len = keylen - pos;
		if (i > 0)
			jw_raw(&j, ",");
		jw_str(&j, names[i], strlen(names[i]), 2 + (ng - i) * 8);
		jw_raw(&j, ":");
		jw_str(&j, key + pos, len, 2 + (ng - i - 1) * 40 +
		       (term_name != NULL ? 48 : 0));
		pos += len;
	}
	if (term_name != NULL) {
		jw_raw(&j, ng > 0 && keylen > 0 ? "," : "");
		jw_str(&j, term_name, strlen(term_name), 2 + 8);
		jw_raw(&j, ":");
		jw_str(&j, term.ptr, term.len, 2);
	}
	jw_raw(&j, "}");
	out[j.n] = '\0';
}

/* Tier 0 keeps at most TIER0_EVENTS seqs: the newest is last_seq, the
 * one before it inl[ST_INLINE]; so push before last_seq moves on. */
static void evidence_push(struct lw_correlation *c, struct win *w,
			  struct group *g, uint64_t seq)
{
	if (g->blk == NULL) {
		if (g->nev == 1)
			g->inl[ST_INLINE] = (int64_t)g->last_seq;
		if (g->nev < TIER0_EVENTS)
			g->nev++;
		return;
	}
	if (g->nev == EV_SMALL && !(g->flags & G_EVBIG))
		lw_correlation_group_evgrow(c, w, g);
	g->blk[BLK_EV(w) + g->evpos] = (int64_t)seq;
	g->evpos = (uint8_t)((g->evpos + 1) % ev_cap(g));
	if (g->nev < ev_cap(g))
		g->nev++;
}

uint32_t lw_correlation_evidence(const struct win *w, const struct group *g,
				 uint64_t *out)
{
	uint32_t start;

	if (g->blk == NULL) {
		if (g->nev == 2)
			out[0] = (uint64_t)g->inl[ST_INLINE];
		if (g->nev >= 1)
			out[g->nev - 1] = g->last_seq;
		return g->nev;
	}
	start = g->nev < ev_cap(g) ? 0 : g->evpos;
	for (uint32_t i = 0; i < g->nev; i++)
		out[i] = (uint64_t)g->blk[BLK_EV(w) + (start + i) % ev_cap(g)];
	return g->nev;
}

static void reset_tracking(struct lw_correlation *c, struct group *g)
{
	g->nev = g->evpos = 0;
	lw_correlation_name_put(c, g->host);
	lw_correlation_name_put(c, g->zone);
	g->host = g->zone = 0;
	g->track = 0;
}

/* One firing of w for the group with this key, host and zone (empty:
 * several) and evidence. */
static void deliver_fire(struct lw_correlation *c, struct win *w,
			 const char *key, uint16_t keylen, struct lw_str host,
			 struct lw_str zone, const uint64_t *ev, uint32_t nev,
			 uint64_t count, int64_t first, int64_t last,
			 lw_incident_cb cb, void *arg)
{
	struct lw_incident_fire f;

	memset(&f, 0, sizeof(f));
	f.rule = w->info;
	f.response_json = w->resp;
	render_group(w, key, keylen, c->fire_term_name, c->fire_term, f.group,
		     sizeof(f.group));
	if (host.ptr != NULL)
		snprintf(f.host, sizeof(f.host), "%.*s", (int)host.len, host.ptr);
	if (zone.ptr != NULL)
		snprintf(f.zone, sizeof(f.zone), "%.*s", (int)zone.len, zone.ptr);
	f.first_seen_ns = first;
	f.last_seen_ns = last;
	f.count = count;
	f.nevidence = nev;
	memcpy(f.evidence, ev, nev * sizeof(*ev));
	c->stats.fired++;
	w->n.fired++;
	if (cb != NULL)
		cb(&f, arg);
}

static void deliver(struct lw_correlation *c, struct win *w,
		    const struct group *g, uint64_t count, int64_t first,
		    int64_t last, lw_incident_cb cb, void *arg)
{
	uint64_t ev[LW_INCIDENT_MAX_EVIDENCE];
	uint32_t nev = lw_correlation_evidence(w, g, ev);
	struct lw_str host = LW_STR_NULL, zone = LW_STR_NULL;

	if (w->host_pos >= 0)
		host = key_value(group_key(g), g->keylen, w->host_pos, 255);
	else if (((g->track >> TRACK_HOST_SHIFT) & 3) == 1)
		host = lw_correlation_name_str(c, g->host);
	if (w->zone_pos >= 0)
		zone = key_value(group_key(g), g->keylen, w->zone_pos, 63);
	else if (((g->track >> TRACK_ZONE_SHIFT) & 3) == 1)
		zone = lw_correlation_name_str(c, g->zone);
	deliver_fire(c, w, group_key(g), g->keylen, host, zone, ev, nev, count,
		     first, last, cb, arg);
}

/* The window's condition held at time t: deliver, or hold back when the
 * group's last delivery is less than suppress ago (in its block; a group
 * that cannot have one is delivered at once: nothing is lost, it is only
 * not merged). */
static void trigger(struct lw_correlation *c, struct win *w, uint32_t *gi,
		    int64_t t, lw_incident_cb cb, void *arg)
{
	struct group *g = G(w, *gi);

	if (w->r != NULL && has_consumers(c, w->index)) {
		w->fired_first_ns = g->first_ns;
		w->fired_nev = lw_correlation_evidence(w, g, w->fired_ev);
	}
	if (w->suppress_ns > 0 && g->last_fire_ns != T_NONE &&
	    t - g->last_fire_ns < w->suppress_ns &&
	    (g->blk != NULL ||
	     lw_correlation_group_promote(c, w, gi, c->tmp) == LW_OK)) {
		int64_t *b;

		g = G(w, *gi);
		b = g->blk;
		if (!(g->flags & G_PENDING)) {
			b[BLK_PFIRST(w)] = g->first_ns;
			b[BLK_PLAST(w)] = g->last_ns;
			b[BLK_PCOUNT(w)] = 0;
			g->flags |= G_PENDING;
			lw_correlation_action_at(c, w, *gi, g->last_fire_ns + w->suppress_ns);
		} else {
			if (g->first_ns < b[BLK_PFIRST(w)])
				b[BLK_PFIRST(w)] = g->first_ns;
			if (g->last_ns > b[BLK_PLAST(w)])
				b[BLK_PLAST(w)] = g->last_ns;
		}
		b[BLK_PCOUNT(w)] += g->count;
		g->count = 0;
		lw_correlation_group_weakened(w);
		c->stats.suppressed++;
		w->n.suppressed++;
		return;
	}
	if (g->flags & G_PENDING) {
		int64_t *b = g->blk;

		deliver(c, w, g, (uint64_t)b[BLK_PCOUNT(w)] + g->count,
			b[BLK_PFIRST(w)] < g->first_ns ? b[BLK_PFIRST(w)] : g->first_ns,
			b[BLK_PLAST(w)] > g->last_ns ? b[BLK_PLAST(w)] : g->last_ns,
			cb, arg);
		b[BLK_PCOUNT(w)] = 0;
		g->flags &= (uint8_t)~G_PENDING;
	} else {
		deliver(c, w, g, g->count, g->first_ns, g->last_ns, cb, arg);
	}
	g->count = 0;
	lw_correlation_group_weakened(w);
	g->last_fire_ns = t;
	reset_tracking(c, g);
}

/* Held-back firings of a group, delivered at time t (or at flush). */
static void deliver_pending(struct lw_correlation *c, struct win *w,
			    uint32_t gi, int64_t t, lw_incident_cb cb, void *arg)
{
	struct group *g = G(w, gi);
	int64_t *b = g->blk;

	deliver(c, w, g, (uint64_t)b[BLK_PCOUNT(w)], b[BLK_PFIRST(w)],
		b[BLK_PLAST(w)], cb, arg);
	b[BLK_PCOUNT(w)] = 0;
	g->flags &= (uint8_t)~G_PENDING;
	lw_correlation_group_weakened(w); /* nothing held back: a victim again */
	g->last_fire_ns = t;
	if (g->count == 0)
		reset_tracking(c, g);
	lw_correlation_group_dirty(w, gi);
}

/* ---- windows ---- */

static int cond_holds(const struct crule *r, int64_t n)
{
	for (int op = 0; op < OP_COUNT; op++) {
		int64_t v = r->opv[op];

		if (!(r->opmask & (1u << op)))
			continue;
		switch (op) {
		case OP_GT: if (!(n > v)) return 0; break;
		case OP_GTE: if (!(n >= v)) return 0; break;
		case OP_LT: if (!(n < v)) return 0; break;
		case OP_LTE: if (!(n <= v)) return 0; break;
		case OP_EQ: if (!(n == v)) return 0; break;
		default: if (!(n != v)) return 0; break;
		}
	}
	return 1;
}

/* The first of the len times of a ring in time order that is later
 * than ts (len when none is): an event after the ones of its time. */
static uint32_t ring_after(const int64_t *ring, uint32_t head, uint32_t len,
			   uint32_t k, int64_t ts)
{
	uint32_t lo = 0, hi = len;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ring[ring_at(head, mid, k)] > ts)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Moves the ring's entries from..len-1 one place on (len < k), in at
 * most two blocks and a word: a host's thousand-event window takes a late
 * event (several connections or relays interleaving it) in a few moves,
 * not one ring step per newer entry. */
static void ring_shift(int64_t *ring, uint32_t head, uint32_t from, uint32_t len,
		       uint32_t k)
{
	uint32_t start = ring_at(head, from, k), end = ring_at(head, len, k);

	if (start <= end) {
		memmove(ring + start + 1, ring + start, (size_t)(end - start) * sizeof(*ring));
		return;
	}
	memmove(ring + 1, ring, (size_t)end * sizeof(*ring));
	ring[0] = ring[k - 1];
	memmove(ring + start + 1, ring + start, (size_t)(k - 1 - start) * sizeof(*ring));
}

/* Sliding count: a ring of the newest k timestamps in time order. The
 * window ending at the newest event time is (ref - timespan, ref]; older
 * entries fall out, and with k = threshold + 1 entries every comparison
 * is exact (the count saturates at k). */
static int update_event_count(struct lw_correlation *c, struct win *w,
			      int64_t *st, int64_t ts)
{
	uint32_t k = w->r->k;
	uint32_t head = (uint32_t)(st[0] & 0xffffffff);
	uint32_t len = (uint32_t)((uint64_t)st[0] >> 32);
	int64_t *ring = st + 1;
	int64_t newest = len ? ring[ring_at(head, len - 1, k)] : T_NONE;
	int64_t ref = newest > ts ? newest : ts;
	int64_t lo = ref - w->timespan_ns;
	uint32_t pos;

	while (len > 0 && ring[head] <= lo) {
		head = ring_at(head, 1, k);
		len--;
	}
	if (ts <= lo) { /* later events already moved the window past it */
		c->stats.out_of_order++;
		w->n.out_of_order++;
		st[0] = (int64_t)((uint64_t)len << 32 | head);
		return 0;
	}
	if (ts < newest) {
		c->stats.out_of_order++;
		w->n.out_of_order++;
	}
	if (len == k) {
		head = ring_at(head, 1, k);
		len--;
	}
	pos = len;
	if (len > 0 && newest > ts) {
		pos = ring_after(ring, head, len, k, ts);
		ring_shift(ring, head, pos, len, k);
	}
	ring[ring_at(head, pos, k)] = ts;
	len++;
	st[0] = (int64_t)((uint64_t)len << 32 | head);
	return cond_holds(w->r, len);
}

/* Distinct values: (value hash, newest time) per value, at most k of
 * them; a full list drops the value seen longest ago, which is the next
 * to expire anyway. */
static int update_value_count(const struct win *w, int64_t *st, int64_t ts,
			      uint64_t vh)
{
	uint32_t k = w->r->k, n = (uint32_t)st[0], i, oldest = 0;
	int64_t *e = st + 1, lo = ts - w->timespan_ns;

	for (i = 0; i < n;) {
		if (e[2 * i + 1] <= lo) {
			n--;
			e[2 * i] = e[2 * n];
			e[2 * i + 1] = e[2 * n + 1];
		} else {
			i++;
		}
	}
	for (i = 0; i < n; i++) {
		if ((uint64_t)e[2 * i] == vh) {
			if (ts > e[2 * i + 1])
				e[2 * i + 1] = ts;
			break;
		}
		if (e[2 * i + 1] < e[2 * oldest + 1])
			oldest = i;
	}
	if (i == n) {
		if (n == k)
			i = oldest;
		else
			n++;
		e[2 * i] = (int64_t)vh;
		e[2 * i + 1] = ts;
	}
	st[0] = n;
	return cond_holds(w->r, n);
}

static int update_temporal(const struct win *w, int64_t *st, uint32_t slot,
			   int64_t ts)
{
	uint32_t n = 0;

	if (st[slot] == T_NONE || ts > st[slot])
		st[slot] = ts;
	for (uint32_t j = 0; j < w->r->nrefs; j++)
		if (st[j] != T_NONE && st[j] > ts - w->timespan_ns)
			n++;
	return cond_holds(w->r, n);
}

/* The start of the sequence that an event of step slot begins or
 * extends, or T_NONE when there is none (a later step seen first). */
static int64_t ordered_start(const struct win *w, const int64_t *st,
			     uint32_t slot, int64_t ts, uint64_t seq)
{
	uint32_t n = w->r->nrefs;
	int64_t prev;

	if (slot == 0)
		return ts;
	prev = st[2 * n + slot - 1] == (int64_t)seq ? st[n + slot - 1] :
		st[slot - 1];
	return prev != T_NONE && ts - prev <= w->timespan_ns ? prev : T_NONE;
}

/* chain[j]: the latest start time of a sequence matching rules 0..j in
 * order (a later start is always the better one to extend). old/sq keep
 * chain[j] as it was before the current event, so one event matching
 * rules j and j+1 cannot complete both steps. */
static int update_ordered(const struct win *w, int64_t *st, uint32_t slot,
			  int64_t ts, uint64_t seq)
{
	uint32_t n = w->r->nrefs;
	int64_t *chain = st, *old = st + n, *sq = st + 2 * n;
	int64_t cand = ordered_start(w, st, slot, ts, seq);

	if (cand == T_NONE)
		return 0;
	if (sq[slot] != (int64_t)seq) {
		old[slot] = chain[slot];
		sq[slot] = (int64_t)seq;
	}
	if (chain[slot] == T_NONE || cand > chain[slot])
		chain[slot] = cand;
	return slot == n - 1;
}

/* A direct rule's match that found no room for its group still fires:
 * the group only carries suppression, and a detection must not be lost. */
static void fire_unkept(struct lw_correlation *c, struct win *w,
			const char *key, uint16_t klen, const struct evctx *x)
{
	deliver_fire(c, w, key, klen, x->ev->host, x->ev->zone, &x->seq, 1, 1,
		     x->ts, x->ts, x->cb, x->arg);
}

/* The group of key (hash h, or 0: not made yet), found or created;
 * NONE32 when it cannot be had (then *rc says whether that is an
 * error). hint: a group index that may hold the key (checked). */
static uint32_t find_group(struct lw_correlation *c, struct win *w,
			   const char *key, uint16_t klen, uint64_t h,
			   uint32_t hint, int *created, int *rc)
{
	enum get_result res;
	uint32_t gi;

	*created = 0;
	*rc = LW_OK;
	if (hint < w->ng && G(w, hint)->keylen == klen &&
	    lw_memeq(group_key(G(w, hint)), key, klen)) {
		w->hint = hint; /* the next event of a burst finds it hot */
		return hint;
	}
	/* Senders send in bursts: the group of the previous event of this
	 * window is the likeliest, and costs one compare to confirm. */
	gi = w->hint;
	if (gi != hint && gi < w->ng && G(w, gi)->keylen == klen &&
	    lw_memeq(group_key(G(w, gi)), key, klen))
		return gi;
	if (h == 0)
		h = key_hash(c->seed, key, klen);
	gi = lw_correlation_group_get_h(c, w, key, klen, h, &res);
	if (res == GET_NOMEM)
		*rc = LW_ENOMEM;
	*created = res == GET_CREATED;
	if (gi != NONE32)
		w->hint = gi;
	return gi;
}

/* The event counts for the group's burst (once per event, whatever the
 * number of its rules that feed this window). 0 when it cannot be kept:
 * a third event (or a referenced firing's evidence) needs a block and
 * there is no room. */
static int count_event(struct lw_correlation *c, struct win *w, uint32_t *gi,
		       const struct evctx *x)
{
	struct group *g = G(w, *gi);
	/* A referenced correlation's firing brings the events that made it
	 * (the failures before a success), and their start. */
	uint32_t nsrc = x->src != NULL ? x->src->fired_nev : 0;
	int64_t first = nsrc > 0 && x->src->fired_first_ns < x->ts ?
		x->src->fired_first_ns : x->ts;

	if (g->count > 0 && x->ts - g->last_ns > w->timespan_ns) {
		g->count = 0; /* the chain of events broke */
		lw_correlation_group_weakened(w);
		if (!(g->flags & G_PENDING))
			reset_tracking(c, g);
	}
	/* Tier 0 cites this event and one before it, nothing brought. */
	if (g->blk == NULL && (g->count >= TIER0_EVENTS || nsrc > 1)) {
		lw_correlation_state_get(w, g, c->tmp);
		if (lw_correlation_group_promote(c, w, gi, c->tmp) != LW_OK)
			return 0;
		g = G(w, *gi);
	}
	if (g->count == 0 || first < g->first_ns)
		g->first_ns = first;
	if (g->count == 0 || x->ts > g->last_ns)
		g->last_ns = x->ts;
	if (g->count < UINT32_MAX)
		g->count++;
	if (nsrc > 0 && g->blk != NULL)
		for (uint32_t i = 0; i < nsrc; i++)
			evidence_push(c, w, g, x->src->fired_ev[i]);
	else
		evidence_push(c, w, g, x->seq);
	track_event(c, w, g, x->ev);
	g->last_seq = x->seq;
	g->flags |= G_HAS_SEQ;
	return 1;
}

/* absence: the group's silence is due timespan after its newest event. */
static void feed_absence(struct lw_correlation *c, struct win *w, uint32_t gi,
			 const struct evctx *x)
{
	struct group *g = G(w, gi);

	if (g->flags & G_ABSENT_FIRED) { /* back: a later silence is news again */
		g->flags &= (uint8_t)~G_ABSENT_FIRED;
		reset_tracking(c, g);
	}
	g->last_seq = x->seq;
	g->flags |= G_HAS_SEQ;
	track_event(c, w, g, x->ev);
	lw_correlation_action_at(c, w, gi, g->seen_ns + w->timespan_ns + 1);
}

/* The key of the event in window w at reference slot; 0 when a group-by
 * field is missing. */
static int win_key(const struct win *w, uint32_t slot, const struct lw_event *ev,
		   char *key, uint16_t *klen)
{
	uint32_t ngroup;
	const struct fref *gf = key_fields(w, slot, &ngroup);

	return make_key(ev, gf, ngroup, w->r == NULL, key, klen);
}

static void count_no_group(struct lw_correlation *c, struct win *w)
{
	c->stats.no_group++;
	w->n.no_group++;
}

/* The same, a missing field counted. */
static int feed_key(struct lw_correlation *c, struct win *w, uint32_t slot,
		    const struct lw_event *ev, char *key, uint16_t *klen)
{
	if (!win_key(w, slot, ev, key, klen)) {
		count_no_group(c, w);
		return 0;
	}
	return 1;
}

/* value_sum's amount: a whole number of at most 18 digits (bytes,
 * packets); 0 when v is not one. */
static int parse_amount(struct lw_str v, int64_t *out)
{
	int64_t n = 0;

	if (v.len == 0 || v.len > 18)
		return 0;
	for (uint32_t i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			return 0;
		n = n * 10 + (v.ptr[i] - '0');
	}
	*out = n;
	return 1;
}

/* An event of an anomaly type (correlation_anomaly.c keeps the state):
 * the burst an incident cites restarts where the type says (a new term,
 * a new window, a new series), only the events that belong to it are
 * counted, and the state outlives a firing. term: new_terms' value. */
static int feed_anomaly(struct lw_correlation *c, struct win *w, uint32_t gi,
			const struct evctx *x, uint64_t vh, int64_t amount,
			struct lw_str term)
{
	int64_t loc[2 + LW_CORRELATION_MAX_BEACON], *st;
	struct group *g = G(w, gi);
	struct anomaly_step s;
	int kept = 1;

	/* One event matching two of the rule's detection rules is one
	 * connection: summed, timed or looked up once. */
	if ((g->flags & G_HAS_SEQ) && g->last_seq == x->seq)
		return 0;
	/* In place when the group has a block (new_terms always has); a
	 * tier-0 state is updated in a copy and stored after the event is
	 * counted, which may move the group to a block. */
	st = g->blk;
	if (st == NULL) {
		lw_correlation_state_get(w, g, loc);
		st = loc;
	}
	switch (w->type) {
	case CT_NEW_TERMS:
		s = lw_correlation_new_terms_update(w->r, st, x->ts, vh, c->terms_tmp);
		break;
	case CT_VALUE_SUM:
		s = lw_correlation_value_sum_update(w->r, st, x->ts, amount);
		break;
	default:
		s = lw_correlation_beacon_update(w->r, st, x->ts);
		break;
	}
	if (s.out_of_order) {
		c->stats.out_of_order++;
		w->n.out_of_order++;
	}
	if (s.restart && g->count > 0) {
		g->count = 0;
		lw_correlation_group_weakened(w);
		if (!(g->flags & G_PENDING))
			reset_tracking(c, g);
	}
	if (s.counts)
		kept = count_event(c, w, &gi, x);
	if (st == loc && lw_correlation_state_put(c, w, &gi, loc) != LW_OK)
		kept = 0;
	if (!kept) {
		w->n.not_admitted++;
		c->stats.not_admitted++;
		return 0;
	}
	if (!s.fire)
		return 0;
	if (w->type == CT_NEW_TERMS) {
		c->fire_term_name = w->r->value_field;
		c->fire_term = term;
	}
	/* A held-back firing moves a tier-0 group to a block made from
	 * c->tmp: the state as it is now. */
	if (G(w, gi)->blk == NULL)
		lw_correlation_state_get(w, G(w, gi), c->tmp);
	trigger(c, w, &gi, x->ts, x->cb, x->arg);
	c->fire_term_name = NULL;
	return 1;
}

/* Feeds one event into window wi at reference slot, with its key made
 * (feed_key) and a hint where its group may be. Returns 1 when the
 * window's condition held (the correlation fired, delivered or not), 0
 * otherwise, or LW_ENOMEM. */
static int feed_group(struct lw_correlation *c, uint32_t wi, uint32_t slot,
		      const struct evctx *x, const char *key, uint16_t klen,
		      uint64_t h, uint32_t hint)
{
	struct win *w = &c->w[wi];
	const struct lw_event *ev = x->ev;
	uint64_t vh = 0;
	struct group *g;
	uint32_t gi;
	int64_t *st, amount = 0;
	int fire = 0, created, rc;
	char num[LW_EVENT_MEMBER_TEXT_MAX];
	struct lw_str v = LW_STR_NULL;

	if (w->r != NULL && w->r->vf != NULL) {
		v = field_value(ev, &w->r->vf[slot], num);
		/* An event without the value (or, for a sum, without a
		 * number) counts for no group. */
		if (v.len == 0 || (w->type == CT_VALUE_SUM && !parse_amount(v, &amount))) {
			c->stats.no_group++;
			w->n.no_group++;
			return 0;
		}
		vh = key_hash(FNV_OFFSET, v.ptr, v.len);
	}
	gi = find_group(c, w, key, klen, h, hint, &created, &rc);
	if (gi == NONE32) {
		if (rc == LW_OK && w->type == CT_DIRECT) {
			fire_unkept(c, w, key, klen, x);
			return 1;
		}
		return rc;
	}
	g = G(w, gi);
	/* A later step with no sequence to extend (a login before any
	 * failure) is no part of a temporal_ordered incident: not counted,
	 * not evidence, not its first_seen. */
	if (w->type == CT_TEMPORAL_ORDERED && slot > 0) {
		const int64_t *st0 = g->blk;

		if (st0 == NULL) {
			lw_correlation_state_get(w, g, c->tmp);
			st0 = c->tmp;
		}
		if (ordered_start(w, st0, slot, x->ts, x->seq) == T_NONE) {
			if (created)
				lw_correlation_group_free(c, w, gi);
			return 0;
		}
	}
	if (g->flags & G_EXPIRED)
		lw_correlation_group_revive(c, w, gi);
	if (created && w->smode == SM_BLOCK) {
		state_init(w, c->tmp);
		if (lw_correlation_group_promote(c, w, &gi, c->tmp) != LW_OK) {
			lw_correlation_group_free(c, w, gi);
			w->n.not_admitted++;
			c->stats.not_admitted++;
			return 0;
		}
		g = G(w, gi);
	}
	if (g->seen_ns == T_NONE || x->ts > g->seen_ns)
		g->seen_ns = x->ts;
	lw_correlation_group_dirty(w, gi);
	if (created)
		lw_correlation_group_placed(c, w, gi);
	if (w->type == CT_ABSENCE) {
		feed_absence(c, w, gi, x);
		return 0;
	}
	if (ctype_is_anomaly(w->type))
		return feed_anomaly(c, w, gi, x, vh, amount, v);
	if (!((g->flags & G_HAS_SEQ) && g->last_seq == x->seq) &&
	    !count_event(c, w, &gi, x)) {
		w->n.not_admitted++;
		c->stats.not_admitted++;
		return 0;
	}
	g = G(w, gi);
	if (w->words > 0) {
		st = g->blk != NULL ? g->blk : c->tmp;
		if (g->blk == NULL)
			lw_correlation_state_get(w, g, st);
		switch (w->type) {
		case CT_EVENT_COUNT: fire = update_event_count(c, w, st, x->ts); break;
		case CT_VALUE_COUNT: fire = update_value_count(w, st, x->ts, vh); break;
		case CT_TEMPORAL: fire = update_temporal(w, st, slot, x->ts); break;
		default: fire = update_ordered(w, st, slot, x->ts, x->seq); break;
		}
		if (fire)
			state_init(w, st); /* re-arm: the next firing needs new events */
		if (g->blk == NULL && lw_correlation_state_put(c, w, &gi, st) != LW_OK) {
			/* No room for what no longer fits inline: the update
			 * is lost for this group, counted. */
			w->n.not_admitted++;
			c->stats.not_admitted++;
			return 0;
		}
	} else {
		fire = 1; /* direct: every match */
	}
	if (!fire)
		return 0;
	trigger(c, w, &gi, x->ts, x->cb, x->arg);
	lw_correlation_group_demote(c, w, gi);
	return 1;
}

/* Feeds one event into window wi at reference slot (feed_group). */
static int feed(struct lw_correlation *c, uint32_t wi, uint32_t slot,
		const struct evctx *x)
{
	char key[LW_CORRELATION_KEY_MAX];
	uint16_t klen = 0;

	if (!feed_key(c, &c->w[wi], slot, x->ev, key, &klen))
		return 0;
	return feed_group(c, wi, slot, x, key, klen, 0, NONE32);
}

/* The next action of g (absence due, held-back firing due), or T_NONE. */
int64_t lw_correlation_next_action(const struct win *w, const struct group *g)
{
	int64_t t = T_NONE;

	if (w->type == CT_ABSENCE && !(g->flags & G_ABSENT_FIRED) &&
	    g->seen_ns != T_NONE)
		t = g->seen_ns + w->timespan_ns + 1;
	if ((g->flags & G_PENDING) &&
	    (t == T_NONE || g->last_fire_ns + w->suppress_ns < t))
		t = g->last_fire_ns + w->suppress_ns;
	return t;
}

/* Group gi's action came due (now): an absence fires, a held-back
 * firing whose suppression ended is delivered; the next one is set. */
static void act(struct lw_correlation *c, struct win *w, uint32_t gi,
		int64_t now, lw_incident_cb cb, void *arg)
{
	struct group *g = G(w, gi);
	int64_t next;

	if (w->type == CT_ABSENCE && !(g->flags & G_ABSENT_FIRED) &&
	    g->seen_ns != T_NONE && now - g->seen_ns > w->timespan_ns) {
		g->flags |= G_ABSENT_FIRED;
		g->count = 1;
		g->first_ns = g->last_ns = g->seen_ns;
		g->nev = g->evpos = 0;
		if (g->flags & G_HAS_SEQ)
			evidence_push(c, w, g, g->last_seq);
		trigger(c, w, &gi, now, cb, arg);
		g = G(w, gi);
	}
	if ((g->flags & G_PENDING) && now - g->last_fire_ns >= w->suppress_ns)
		deliver_pending(c, w, gi, now, cb, arg);
	next = lw_correlation_next_action(w, g);
	if (next != T_NONE)
		lw_correlation_action_at(c, w, gi, next);
	lw_correlation_group_dirty(w, gi);
}

static void run_due(struct lw_correlation *c, lw_incident_cb cb, void *arg)
{
	int64_t now = c->clock;

	if (now == T_NONE)
		return;
	if (now >= c->due) {
		c->due = INT64_MAX;
		for (uint32_t i = 0; i < c->nwin; i++) {
			struct win *w = &c->w[i];
			uint32_t gi;

			while ((gi = lw_correlation_action_pop(w, now)) != NONE32)
				act(c, w, gi, now, cb, arg);
			if (w->nheap > 0 && w->heap[0].t < c->due)
				c->due = w->heap[0].t;
		}
	}
	lw_correlation_wheel_run(c, now);
}

/* Correlation wi fired: the correlations referencing it are fed next. */
static void queue_fired(struct lw_correlation *c, uint32_t wi)
{
	uint32_t q;

	if (!has_consumers(c, wi))
		return;
	for (q = 0; q < c->nq && c->q[q] != wi; q++)
		;
	if (q == c->nq)
		c->q[c->nq++] = wi;
}

static int feed_consumers(struct lw_correlation *c, uint32_t idx,
			  const struct evctx *x)
{
	const struct lw_correlation_rules *cr = c->cr;
	int rc = LW_OK;

	for (uint32_t k = cr->cons_off[idx]; k < cr->cons_off[idx + 1]; k++) {
		uint32_t wi = cr->cons[k].win;
		int r = feed(c, wi, cr->cons[k].slot, x);

		if (r < 0)
			rc = r;
		else if (r == 1)
			queue_fired(c, wi);
	}
	return rc;
}

static void prep_add(const struct lw_correlation *c, struct prepset *set,
		     uint32_t wi, uint32_t slot, uint8_t kind)
{
	struct prep *pr;

	if (set->n >= c->prep_cap)
		return;
	/* Field by field: the key buffer is filled by win_key. */
	pr = &set->prep[set->n++];
	pr->wi = wi;
	pr->slot = slot;
	pr->kind = kind;
}

/* The first stage of an event's first round of feeds (windows of every
 * event, direct windows and the correlations of its matches): their keys
 * made and hashed, their table slots prefetched one after the other, so
 * that the misses overlap instead of adding up. Nothing counted: the
 * event may be processed later (lw_correlation_ahead). */
static void prepare_keys(const struct lw_correlation *c, struct prepset *set,
			 const struct lw_event *ev, uint64_t seq,
			 const uint32_t *matched, uint32_t nmatched)
{
	const struct lw_correlation_rules *cr = c->cr;
	uint32_t nsigma = lw_ruleset_rule_count(c->rs);
	int staged = cr != NULL && cr->built;

	set->ev = ev;
	set->seq = seq;
	set->n = 0;
	set->peeked = 0;
	for (uint32_t a = 0; staged && a < cr->nall; a++)
		prep_add(c, set, cr->all_events[a], 0, PREP_ALL);
	for (uint32_t i = 0; i < nmatched; i++) {
		uint32_t d = matched[i];

		if (d >= nsigma)
			continue;
		if (c->direct_win[d] != NONE32)
			prep_add(c, set, c->direct_win[d], 0, PREP_DIRECT);
		for (uint32_t k = staged ? cr->cons_off[d] : 0;
		     staged && k < cr->cons_off[d + 1]; k++)
			prep_add(c, set, cr->cons[k].win, cr->cons[k].slot, PREP_CONS);
	}
	for (uint32_t i = 0; i < set->n; i++) {
		struct prep *pr = &set->prep[i];
		const struct win *w = &c->w[pr->wi];
		const struct prep *same = NULL;

		/* The nearest feed of the same class: it has the hash when
		 * any of them made it. */
		pr->key_class = w->key_class[pr->slot];
		for (uint32_t j = i; j-- > 0 && same == NULL;)
			if (set->prep[j].key_class == pr->key_class)
				same = &set->prep[j];
		pr->hint = NONE32;
		pr->h = 0;
		pr->hashed = 0;
		if (same != NULL) {
			pr->has_key = same->has_key;
			pr->klen = same->has_key ? same->klen : 0;
			memcpy(pr->key, same->key, pr->klen);
			pr->h = same->h;
			pr->hashed = same->hashed;
		} else {
			pr->has_key = (uint8_t)win_key(w, pr->slot, ev, pr->key,
						       &pr->klen);
		}
		/* The group of the window's previous event (a sender's
		 * burst, a host's stream) is hot: nothing to prefetch, no
		 * hash to make. Ahead of its turn the window's hint may move
		 * on: find_group checks a hint, and hashes a key without
		 * one. */
		pr->cold = pr->has_key && !(w->hint < w->ng &&
			G(w, w->hint)->keylen == pr->klen &&
			lw_memeq(group_key(G(w, w->hint)), pr->key, pr->klen));
		if (pr->cold) {
			if (!pr->hashed)
				pr->h = key_hash(c->seed, pr->key, pr->klen);
			pr->hashed = 1;
			lw_correlation_tab_prefetch(w, pr->h);
		} else if (pr->has_key) {
			pr->hint = w->hint;
		}
	}
}

/* The second stage, once the slots are on their way: the group each slot
 * points at (a hint, checked when used: ahead of the event's turn the
 * tables may change) and, for a key not held, the admission sketch's
 * lines are prefetched. */
static void prepare_groups(const struct lw_correlation *c, struct prepset *set)
{
	for (uint32_t i = 0; i < set->n; i++) {
		struct prep *pr = &set->prep[i];

		if (!pr->cold)
			continue;
		pr->hint = lw_correlation_tab_peek(&c->w[pr->wi], pr->h);
		if (pr->hint == NONE32)
			lw_correlation_sketch_prefetch(c, &c->w[pr->wi], pr->h);
	}
	set->peeked = 1;
}

static struct prepset *set_at(struct lw_correlation *c, uint32_t k)
{
	return &c->sets[(c->set_head + k) % PREP_SETS];
}

void lw_correlation_ahead(struct lw_correlation *c, const struct lw_event *ev,
			  uint64_t event_seq, const uint32_t *matched,
			  uint32_t nmatched)
{
	if (c->nsets == PREP_SETS)
		return; /* too far ahead: prepared in its turn */
	/* The event before this one has had its slots on the way for an
	 * event's time: its groups next. */
	if (c->nsets > 0 && !set_at(c, c->nsets - 1)->peeked)
		prepare_groups(c, set_at(c, c->nsets - 1));
	prepare_keys(c, set_at(c, c->nsets), ev, event_seq, matched, nmatched);
	c->nsets++;
}

void lw_correlation_ahead_drop(struct lw_correlation *c)
{
	c->ahead_dropped += c->nsets;
	c->nsets = 0;
}

/* The event's prepared feeds: the oldest set when it was prepared for
 * this very event (the same event and seq), else (no caller
 * looking ahead, or one that skipped an event) made now, and whatever
 * was prepared after it dropped. The event's missing fields are counted
 * here, in its turn. */
static struct prepset *prepare(struct lw_correlation *c, const struct lw_event *ev,
			       uint64_t seq, const uint32_t *matched,
			       uint32_t nmatched)
{
	struct prepset *set = set_at(c, 0);

	if (c->nsets > 0 && set->ev == ev && set->seq == seq) {
		c->set_head = (c->set_head + 1) % PREP_SETS;
		c->nsets--;
		c->ahead_used++;
	} else {
		lw_correlation_ahead_drop(c);
		prepare_keys(c, set, ev, seq, matched, nmatched);
	}
	if (!set->peeked)
		prepare_groups(c, set);
	for (uint32_t i = 0; i < set->n; i++)
		if (!set->prep[i].has_key)
			count_no_group(c, &c->w[set->prep[i].wi]);
	return set;
}

int lw_correlation_process(struct lw_correlation *c, const struct lw_event *ev,
			   uint64_t event_seq, const uint32_t *matched,
			   uint32_t nmatched, lw_incident_cb cb, void *arg)
{
	const struct lw_correlation_rules *cr = c->cr;
	int64_t ts = ev->timestamp_ns > LW_CORR_T_MAX ? LW_CORR_T_MAX :
		ev->timestamp_ns < -LW_CORR_T_MAX ? -LW_CORR_T_MAX : ev->timestamp_ns;
	struct evctx x = {ev, event_seq, ts, cb, arg, NULL};
	const struct prepset *set;
	int rc = LW_OK, r;
	int staged = cr != NULL && cr->built;

	/* Groups whose window passed by this event's time are expired
	 * before it is fed, so the room it may need is made from them: with
	 * the wheel run only after the event, the first event after a quiet
	 * spell could shed a live group while thousands had expired. */
	if (!(ev->flags & LW_EVENT_CLOCK_SKEW) && c->clock != T_NONE && x.ts > c->clock)
		lw_correlation_wheel_run(c, x.ts);
	set = prepare(c, ev, event_seq, matched, nmatched);
	c->nq = 0;
	for (uint32_t i = 0; i < set->n; i++) {
		const struct prep *pr = &set->prep[i];

		if (!pr->has_key)
			continue;
		r = feed_group(c, pr->wi, pr->slot, &x, pr->key, pr->klen, pr->h,
			       pr->hint);
		if (r < 0)
			rc = r;
		else if (r == 1 && pr->kind != PREP_DIRECT)
			queue_fired(c, pr->wi);
	}
	/* Correlations that fired feed the correlations referencing them;
	 * the queue grows while it is walked (chains of any depth). */
	for (uint32_t q = 0; staged && q < c->nq; q++) {
		x.src = &c->w[c->q[q]];
		if ((r = feed_consumers(c, cr->nsigma + c->q[q], &x)) < 0)
			rc = r;
	}
	if (!(ev->flags & LW_EVENT_CLOCK_SKEW) &&
	    (c->clock == T_NONE || x.ts > c->clock))
		c->clock = x.ts;
	run_due(c, cb, arg);
	return rc;
}

void lw_correlation_advance(struct lw_correlation *c, int64_t now_ns,
			    lw_incident_cb cb, void *arg)
{
	if (c->clock == T_NONE || now_ns > c->clock)
		c->clock = now_ns;
	run_due(c, cb, arg);
}

void lw_correlation_flush(struct lw_correlation *c, lw_incident_cb cb,
			  void *arg)
{
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		for (uint32_t gi = 0; gi < w->ng; gi++) {
			struct group *g = G(w, gi);

			if (g->flags & G_PENDING)
				deliver_pending(c, w, gi, g->blk[BLK_PLAST(w)], cb, arg);
		}
	}
}

void lw_correlation_get_stats(const struct lw_correlation *c,
			      struct lw_correlation_stats *out)
{
	*out = c->stats;
	out->groups = out->live = 0;
	for (uint32_t i = 0; i < c->nwin; i++) {
		out->groups += c->w[i].ng;
		out->live += c->w[i].nlive;
	}
	out->bytes = c->bytes;
	out->budget = c->budget;
}

uint32_t lw_correlation_rule_count(const struct lw_correlation *c)
{
	return c->nwin;
}

void lw_correlation_rule_stats(const struct lw_correlation *c, uint32_t i,
			       struct lw_correlation_rule_stats *out)
{
	const struct win *w;

	memset(out, 0, sizeof(*out));
	if (i >= c->nwin)
		return;
	w = &c->w[i];
	out->info = w->info;
	out->direct = w->r == NULL;
	out->fired = w->n.fired;
	out->suppressed = w->n.suppressed;
	out->evicted = w->n.evicted;
	out->not_admitted = w->n.not_admitted;
	out->reclaimed = w->n.reclaimed;
	out->groups = w->ng;
	out->live = w->nlive;
	out->bytes = w->bytes;
}

/* The label of window w in the stats text. */
static void stats_label(const struct win *w, char *out, size_t cap)
{
	const char *s = w->info->name != NULL && w->info->name[0] ? w->info->name :
		w->info->id;
	size_t n = 0;

	for (; *s && n + 1 < cap; s++)
		out[n++] = (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s;
	out[n] = '\0';
}

const char *lw_correlation_stats_next(const char *p, const char *end,
				      struct lw_correlation_stats_line *out)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *le = nl != NULL ? nl : end;
	const char *tab = memchr(p, '\t', (size_t)(le - p));
	unsigned long long v[5];
	char nums[128];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (tab != NULL) {
		n = (size_t)(le - tab - 1);
		if (n >= sizeof(nums))
			n = sizeof(nums) - 1;
		memcpy(nums, tab + 1, n);
		nums[n] = '\0';
		if (sscanf(nums, "%llu\t%llu\t%llu\t%llu\t%llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4]) == 5)
			*out = (struct lw_correlation_stats_line){
				p, (size_t)(tab - p), 1, v[0], v[1], v[2], v[3], v[4]};
	}
	return le < end ? le + 1 : end;
}

/* base's evicted and not_admitted for label, 0 when absent. */
static void stats_base(const char *base, size_t len, const char *label,
		       uint64_t *evicted, uint64_t *not_admitted)
{
	const char *p = base, *end = base != NULL ? base + len : NULL;
	size_t ll = strlen(label);

	*evicted = *not_admitted = 0;
	while (p != NULL && p < end) {
		struct lw_correlation_stats_line l;

		p = lw_correlation_stats_next(p, end, &l);
		if (l.ok && l.label_len == ll && memcmp(l.label, label, ll) == 0) {
			*evicted = l.evicted;
			*not_admitted = l.not_admitted;
			return;
		}
	}
}

void lw_correlation_stats_text(const struct lw_correlation *c,
			       const char *base, size_t base_len,
			       struct lw_buf *out)
{
	for (uint32_t i = 0; i < c->nwin; i++) {
		const struct win *w = &c->w[i];
		char label[256];
		uint64_t e, a;

		stats_label(w, label, sizeof(label));
		stats_base(base, base_len, label, &e, &a);
		lw_buf_printf(out, "%s\t%llu\t%llu\t%u\t%u\t%llu\n", label,
			      (unsigned long long)(w->n.evicted + e),
			      (unsigned long long)(w->n.not_admitted + a),
			      w->ng, w->nlive, (unsigned long long)w->bytes);
	}
}
