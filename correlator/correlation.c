/* lw_correlation: the sliding windows that turn detection matches into
 * incident firings (correlator/correlation.h). The window state is owned
 * by the writer thread; the rules it runs are correlation_load.c's and
 * correlation_refs.c's, its state is saved by correlation_state.c. */
#include "correlator/correlation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	return h;
}

static uint32_t state_words(const struct crule *r)
{
	switch (r->type) {
	case CT_EVENT_COUNT: return 1 + r->k;
	case CT_VALUE_COUNT: return 1 + 2 * r->k;
	case CT_TEMPORAL: return r->nrefs;
	case CT_TEMPORAL_ORDERED: return 3 * r->nrefs;
	default: return 0;
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
	default:
		break;
	}
}

struct lw_correlation *lw_correlation_new(const struct lw_ruleset *rs)
{
	const struct lw_correlation_rules *cr = lw_ruleset_correlations(rs);
	const struct lw_response *resp = lw_ruleset_response(rs);
	uint32_t nsigma = lw_ruleset_rule_count(rs), ndirect = 0, ncorr;
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

		w->resp = resp != NULL ? lw_response_json(resp, w->info->category) :
			"{\"steps\":[],\"notify\":[]}";
		w->defhash = win_defhash(w);
		w->lru_head = w->lru_tail = NONE32;
		w->due = INT64_MAX;
	}
	c->clock = T_NONE;
	c->due = INT64_MAX;
	/* Group hashes are seeded so that nobody can aim log lines at one
	 * hash chain; nothing depends on the hash order. */
	c->seed = FNV_OFFSET ^ (uint64_t)lw_time_now_ns() ^ (uint64_t)(uintptr_t)c;
	return c;

fail:
	lw_correlation_free(c);
	return NULL;
}

void lw_correlation_win_clear(struct win *w)
{
	w->ng = 0;
	w->npending = 0;
	w->due = INT64_MAX;
	w->lru_head = w->lru_tail = NONE32;
	if (w->tab != NULL)
		memset(w->tab, 0, (size_t)w->tcap * sizeof(*w->tab));
}

void lw_correlation_free(struct lw_correlation *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->nwin && c->w != NULL; i++) {
		free(c->w[i].g);
		free(c->w[i].st);
		free(c->w[i].tab);
	}
	free(c->w);
	free(c->direct_win);
	free(c->q);
	free(c);
}

/* ---- group table ---- */

static void tab_insert(struct win *w, uint32_t gi)
{
	uint32_t mask = w->tcap - 1, i = (uint32_t)w->g[gi].hash & mask;

	while (w->tab[i] != 0)
		i = (i + 1) & mask;
	w->tab[i] = gi + 1;
}

/* Backward-shift deletion keeps linear probing free of tombstones. */
static void tab_remove(struct win *w, uint32_t gi)
{
	uint32_t mask = w->tcap - 1, i = (uint32_t)w->g[gi].hash & mask, j;

	while (w->tab[i] != gi + 1)
		i = (i + 1) & mask;
	j = i;
	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (w->tab[j] == 0)
			break;
		home = (uint32_t)w->g[w->tab[j] - 1].hash & mask;
		/* Move j's entry into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			w->tab[i] = w->tab[j];
			i = j;
		}
	}
	w->tab[i] = 0;
}

static uint32_t tab_find(const struct win *w, uint64_t h, const char *key,
			 uint16_t klen)
{
	uint32_t mask, i;

	if (w->tcap == 0)
		return NONE32;
	mask = w->tcap - 1;
	for (i = (uint32_t)h & mask; w->tab[i] != 0; i = (i + 1) & mask) {
		const struct group *g = &w->g[w->tab[i] - 1];

		if (g->hash == h && g->keylen == klen && lw_memeq(g->key, key, klen))
			return w->tab[i] - 1;
	}
	return NONE32;
}

static int win_grow(struct win *w)
{
	uint32_t cap = w->cap ? w->cap * 2 : 8;
	uint32_t tcap = w->tcap ? w->tcap : 16;
	struct group *ng;
	int64_t *nst = NULL;
	uint32_t *ntab;

	if (cap > w->max_groups)
		cap = w->max_groups;
	while (tcap < 2 * cap)
		tcap *= 2;
	ng = realloc(w->g, (size_t)cap * sizeof(*ng));
	if (ng == NULL)
		return LW_ENOMEM;
	w->g = ng;
	if (w->words > 0) {
		nst = realloc(w->st, (size_t)cap * w->words * sizeof(*nst));
		if (nst == NULL)
			return LW_ENOMEM;
		w->st = nst;
	}
	w->cap = cap;
	if (tcap != w->tcap) {
		ntab = calloc(tcap, sizeof(*ntab));
		if (ntab == NULL)
			return LW_ENOMEM;
		free(w->tab);
		w->tab = ntab;
		w->tcap = tcap;
		for (uint32_t i = 0; i < w->ng; i++)
			tab_insert(w, i);
	}
	return LW_OK;
}

static void lru_unlink(struct win *w, uint32_t gi)
{
	struct group *g = &w->g[gi];

	if (g->prev != NONE32)
		w->g[g->prev].next = g->next;
	else
		w->lru_head = g->next;
	if (g->next != NONE32)
		w->g[g->next].prev = g->prev;
	else
		w->lru_tail = g->prev;
}

static void lru_append(struct win *w, uint32_t gi)
{
	struct group *g = &w->g[gi];

	g->prev = w->lru_tail;
	g->next = NONE32;
	if (w->lru_tail != NONE32)
		w->g[w->lru_tail].next = gi;
	else
		w->lru_head = gi;
	w->lru_tail = gi;
}

uint32_t lw_correlation_group_get(struct lw_correlation *c, struct win *w,
				  const char *key, uint16_t klen)
{
	uint64_t h;
	uint32_t gi = w->lru_tail;
	struct group *g;

	/* Senders send in bursts: the group of the previous event of this
	 * table is the likeliest, and costs one memcmp to confirm. */
	if (gi != NONE32 && w->g[gi].keylen == klen &&
	    lw_memeq(w->g[gi].key, key, klen))
		return gi;
	h = fnv1a(c->seed, key, klen);
	gi = tab_find(w, h, key, klen);
	if (gi != NONE32) {
		if (w->lru_tail != gi) {
			lru_unlink(w, gi);
			lru_append(w, gi);
		}
		return gi;
	}
	if (w->ng < w->max_groups) {
		if (w->ng == w->cap && win_grow(w) != LW_OK)
			return NONE32;
		gi = w->ng++;
		c->stats.groups++;
	} else {
		/* Full: the least recently updated group goes, counted. Its
		 * held-back firings go with it. */
		gi = w->lru_head;
		tab_remove(w, gi);
		lru_unlink(w, gi);
		if (w->g[gi].pcount > 0)
			w->npending--;
		c->stats.evicted++;
	}
	g = &w->g[gi];
	memset(g, 0, offsetof(struct group, ev));
	g->hash = h;
	g->keylen = klen;
	memcpy(g->key, key, klen);
	g->seen_ns = g->first_ns = g->last_ns = T_NONE;
	g->pfirst_ns = g->plast_ns = g->last_fire_ns = T_NONE;
	g->host[0] = g->zone[0] = '\0';
	if (w->words > 0)
		state_init(w, &w->st[(size_t)gi * w->words]);
	tab_insert(w, gi);
	lru_append(w, gi);
	return gi;
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

static void track(char *dst, size_t cap, uint8_t *state, uint8_t *dlen,
		  struct lw_str v)
{
	size_t len = v.len < cap - 1 ? v.len : cap - 1;

	if (*state == 2)
		return;
	if (*state == 0) {
		if (len > 0)
			memcpy(dst, v.ptr, len);
		dst[len] = '\0';
		*dlen = (uint8_t)len;
		*state = 1;
	} else if (*dlen != len || (len > 0 && memcmp(dst, v.ptr, len) != 0)) {
		*state = 2;
	}
}

/* ---- firing ---- */

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

/* A JSON string, cut (never mid-escape) when the object would not fit;
 * `reserve` bytes stay free for what must follow. */
static void jw_str(struct jw *j, const char *s, size_t len, size_t reserve)
{
	static const char hex[] = "0123456789abcdef";

	jw_raw(j, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[7];
		size_t el = 0;

		if (ch == '"' || ch == '\\') {
			esc[el++] = '\\';
			esc[el++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			/* Bytes outside printable ASCII as \u00XX: the group
			 * stays valid JSON whatever the log line held. */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			el = 6;
		} else {
			esc[el++] = (char)ch;
		}
		if (j->n + el + reserve + 2 > j->cap)
			break;
		memcpy(j->p + j->n, esc, el);
		j->n += el;
	}
	jw_raw(j, "\"");
}

static void render_group(const struct win *w, const struct group *g, char *out,
			 size_t cap)
{
	const char *const *names = w->r ? (const char *const *)w->r->group :
		host_group_name;
	uint32_t ng = w->r ? w->r->ngroup : 1;
	struct jw j = {out, 0, cap - 1};
	size_t pos = 0;

	jw_raw(&j, "{");
	for (uint32_t i = 0; i < ng && pos < g->keylen; i++) {
		size_t len = (unsigned char)g->key[pos++];

		if (pos + len > g->keylen)
			len = g->keylen - pos;
		if (i > 0)
			jw_raw(&j, ",");
		jw_str(&j, names[i], strlen(names[i]), 2 + (ng - i) * 8);
		jw_raw(&j, ":");
		jw_str(&j, g->key + pos, len, 2 + (ng - i - 1) * 40);
		pos += len;
	}
	jw_raw(&j, "}");
	out[j.n] = '\0';
}

static void evidence_push(struct group *g, uint64_t seq)
{
	g->ev[g->evpos] = seq;
	g->evpos = (g->evpos + 1) % LW_INCIDENT_MAX_EVIDENCE;
	if (g->nev < LW_INCIDENT_MAX_EVIDENCE)
		g->nev++;
}

static void reset_tracking(struct group *g)
{
	g->nev = g->evpos = 0;
	g->host_state = g->zone_state = 0;
	g->host_len = g->zone_len = 0;
	g->host[0] = g->zone[0] = '\0';
}

static void deliver(struct lw_correlation *c, const struct win *w,
		    const struct group *g, uint64_t count, int64_t first,
		    int64_t last, lw_incident_cb cb, void *arg)
{
	struct lw_incident_fire f;
	uint32_t start = g->nev < LW_INCIDENT_MAX_EVIDENCE ? 0 : g->evpos;

	memset(&f, 0, sizeof(f));
	f.rule = w->info;
	f.response_json = w->resp;
	render_group(w, g, f.group, sizeof(f.group));
	if (g->host_state == 1)
		snprintf(f.host, sizeof(f.host), "%s", g->host);
	if (g->zone_state == 1)
		snprintf(f.zone, sizeof(f.zone), "%s", g->zone);
	f.first_seen_ns = first;
	f.last_seen_ns = last;
	f.count = count;
	f.nevidence = g->nev;
	for (uint32_t i = 0; i < g->nev; i++)
		f.evidence[i] = g->ev[(start + i) % LW_INCIDENT_MAX_EVIDENCE];
	c->stats.fired++;
	if (cb != NULL)
		cb(&f, arg);
}

void lw_correlation_set_due(struct lw_correlation *c, struct win *w, int64_t t)
{
	if (t < w->due)
		w->due = t;
	if (t < c->due)
		c->due = t;
}

/* The window's condition held at time t: deliver, or hold back when the
 * group's last delivery is less than suppress ago. */
static void trigger(struct lw_correlation *c, struct win *w, uint32_t gi,
		    int64_t t, lw_incident_cb cb, void *arg)
{
	struct group *g = &w->g[gi];
	uint32_t start = g->nev < LW_INCIDENT_MAX_EVIDENCE ? 0 : g->evpos;

	w->fired_first_ns = g->first_ns;
	w->fired_nev = g->nev;
	for (uint32_t i = 0; i < g->nev; i++)
		w->fired_ev[i] = g->ev[(start + i) % LW_INCIDENT_MAX_EVIDENCE];
	if (w->suppress_ns > 0 && g->last_fire_ns != T_NONE &&
	    t - g->last_fire_ns < w->suppress_ns) {
		if (g->pcount == 0) {
			g->pfirst_ns = g->first_ns;
			g->plast_ns = g->last_ns;
			w->npending++;
			lw_correlation_set_due(c, w, g->last_fire_ns + w->suppress_ns);
		} else {
			if (g->first_ns < g->pfirst_ns)
				g->pfirst_ns = g->first_ns;
			if (g->last_ns > g->plast_ns)
				g->plast_ns = g->last_ns;
		}
		g->pcount += g->count;
		g->count = 0;
		c->stats.suppressed++;
		return;
	}
	deliver(c, w, g, g->pcount + g->count,
		g->pcount > 0 && g->pfirst_ns < g->first_ns ? g->pfirst_ns : g->first_ns,
		g->plast_ns > g->last_ns ? g->plast_ns : g->last_ns, cb, arg);
	if (g->pcount > 0)
		w->npending--;
	g->pcount = 0;
	g->count = 0;
	g->last_fire_ns = t;
	reset_tracking(g);
}

/* Held-back firings of a group, delivered at time t (or at flush). */
static void deliver_pending(struct lw_correlation *c, struct win *w,
			    uint32_t gi, int64_t t, lw_incident_cb cb, void *arg)
{
	struct group *g = &w->g[gi];

	deliver(c, w, g, g->pcount, g->pfirst_ns, g->plast_ns, cb, arg);
	g->pcount = 0;
	w->npending--;
	g->last_fire_ns = t;
	if (g->count == 0)
		reset_tracking(g);
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

/* Index i after head in a ring of k (i < k, head < k): no division on the
 * per-event path. */
static uint32_t ring_at(uint32_t head, uint32_t i, uint32_t k)
{
	uint32_t x = head + i;

	return x >= k ? x - k : x;
}

/* Sliding count: a ring of the newest k timestamps in time order. The
 * window ending at the newest event time is (ref - timespan, ref]; older
 * entries fall out, and with k = threshold + 1 entries every comparison
 * is exact (the count saturates at k). */
static int update_event_count(struct lw_correlation *c, const struct win *w,
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
		st[0] = (int64_t)((uint64_t)len << 32 | head);
		return 0;
	}
	if (ts < newest)
		c->stats.out_of_order++;
	if (len == k) {
		head = ring_at(head, 1, k);
		len--;
	}
	for (pos = len; pos > 0 && ring[ring_at(head, pos - 1, k)] > ts; pos--)
		ring[ring_at(head, pos, k)] = ring[ring_at(head, pos - 1, k)];
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

/* chain[j]: the latest start time of a sequence matching rules 0..j in
 * order (a later start is always the better one to extend). old/sq keep
 * chain[j] as it was before the current event, so one event matching
 * rules j and j+1 cannot complete both steps. */
static int update_ordered(const struct win *w, int64_t *st, uint32_t slot,
			  int64_t ts, uint64_t seq)
{
	uint32_t n = w->r->nrefs;
	int64_t *chain = st, *old = st + n, *sq = st + 2 * n;
	int64_t cand = T_NONE;

	if (slot == 0) {
		cand = ts;
	} else {
		int64_t prev = sq[slot - 1] == (int64_t)seq ? old[slot - 1] :
			chain[slot - 1];

		if (prev != T_NONE && ts - prev <= w->timespan_ns)
			cand = prev;
	}
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

/* 1 when an event of step slot starts a sequence or extends one (the
 * test update_ordered makes, without changing the state). */
static int ordered_extends(const struct win *w, const int64_t *st,
			   uint32_t slot, int64_t ts, uint64_t seq)
{
	uint32_t n = w->r->nrefs;
	int64_t prev;

	if (slot == 0)
		return 1;
	prev = st[2 * n + slot - 1] == (int64_t)seq ? st[n + slot - 1] : st[slot - 1];
	return prev != T_NONE && ts - prev <= w->timespan_ns;
}

/* Feeds one event into window wi at reference slot. Returns 1 when the
 * window's condition held (the correlation fired, delivered or not), 0
 * otherwise, or LW_ENOMEM. */
static int feed(struct lw_correlation *c, uint32_t wi, uint32_t slot,
		const struct evctx *x)
{
	struct win *w = &c->w[wi];
	const struct lw_event *ev = x->ev;
	const struct fref *gf = w->r ? &w->r->gf[slot * w->r->ngroup] : &host_field;
	uint32_t ngroup = w->r ? w->r->ngroup : 1;
	char key[LW_CORRELATION_KEY_MAX];
	uint16_t klen = 0;
	uint64_t vh = 0;
	struct group *g;
	uint32_t gi;
	int64_t *st;
	int fire = 0;

	if (!make_key(ev, gf, ngroup, w->r == NULL, key, &klen)) {
		c->stats.no_group++;
		return 0;
	}
	if (w->type == CT_VALUE_COUNT) {
		char num[LW_EVENT_MEMBER_TEXT_MAX];
		struct lw_str v = field_value(ev, &w->r->vf[slot], num);

		if (v.len == 0) {
			c->stats.no_group++;
			return 0;
		}
		vh = fnv1a(FNV_OFFSET, v.ptr, v.len);
	}
	gi = lw_correlation_group_get(c, w, key, klen);
	if (gi == NONE32)
		return LW_ENOMEM;
	g = &w->g[gi];
	st = w->words ? &w->st[(size_t)gi * w->words] : NULL;
	if (g->seen_ns == T_NONE || x->ts > g->seen_ns)
		g->seen_ns = x->ts;
	if (w->type == CT_ABSENCE) {
		if (g->absent_fired) { /* back: a later silence is news again */
			g->absent_fired = 0;
			reset_tracking(g);
		}
		g->last_seq = x->seq;
		g->has_seq = 1;
		track(g->host, sizeof(g->host), &g->host_state, &g->host_len, ev->host);
		track(g->zone, sizeof(g->zone), &g->zone_state, &g->zone_len, ev->zone);
		lw_correlation_set_due(c, w, g->seen_ns + w->timespan_ns);
		return 0;
	}
	/* A later step with no sequence to extend (a login before any
	 * failure) is no part of a temporal_ordered incident: not counted,
	 * not evidence, not its first_seen. */
	if (w->type == CT_TEMPORAL_ORDERED && !ordered_extends(w, st, slot, x->ts, x->seq))
		return 0;
	/* One event that matches several rules of one correlation counts
	 * once towards the incident. */
	if (!(g->has_seq && g->last_seq == x->seq)) {
		if (g->count > 0 && x->ts - g->last_ns > w->timespan_ns) {
			g->count = 0; /* the chain of events broke */
			if (g->pcount == 0)
				reset_tracking(g);
		}
		/* A referenced correlation's firing brings the events that
		 * made it (the failures before a success), and their start. */
		int64_t first = x->src != NULL && x->src->fired_first_ns < x->ts ?
			x->src->fired_first_ns : x->ts;

		if (g->count == 0 || first < g->first_ns)
			g->first_ns = first;
		if (g->count == 0 || x->ts > g->last_ns)
			g->last_ns = x->ts;
		g->count++;
		if (x->src != NULL && x->src->fired_nev > 0)
			for (uint32_t i = 0; i < x->src->fired_nev; i++)
				evidence_push(g, x->src->fired_ev[i]);
		else
			evidence_push(g, x->seq);
		track(g->host, sizeof(g->host), &g->host_state, &g->host_len, ev->host);
		track(g->zone, sizeof(g->zone), &g->zone_state, &g->zone_len, ev->zone);
		g->last_seq = x->seq;
		g->has_seq = 1;
	}
	switch (w->type) {
	case CT_EVENT_COUNT: fire = update_event_count(c, w, st, x->ts); break;
	case CT_VALUE_COUNT: fire = update_value_count(w, st, x->ts, vh); break;
	case CT_TEMPORAL: fire = update_temporal(w, st, slot, x->ts); break;
	case CT_TEMPORAL_ORDERED:
		fire = update_ordered(w, st, slot, x->ts, x->seq);
		break;
	default: fire = 1; break; /* direct: every match */
	}
	if (!fire)
		return 0;
	if (st != NULL)
		state_init(w, st); /* re-arm: the next firing needs new events */
	trigger(c, w, gi, x->ts, x->cb, x->arg);
	return 1;
}

static void scan_window(struct lw_correlation *c, struct win *w, int64_t now,
			lw_incident_cb cb, void *arg)
{
	int64_t due = INT64_MAX;

	for (uint32_t gi = 0; gi < w->ng; gi++) {
		struct group *g = &w->g[gi];

		if (w->type == CT_ABSENCE && !g->absent_fired &&
		    g->seen_ns != T_NONE) {
			if (now - g->seen_ns > w->timespan_ns) {
				g->absent_fired = 1;
				g->count = 1;
				g->first_ns = g->last_ns = g->seen_ns;
				g->nev = g->evpos = 0;
				if (g->has_seq)
					evidence_push(g, g->last_seq);
				trigger(c, w, gi, now, cb, arg);
			} else if (g->seen_ns + w->timespan_ns < due) {
				due = g->seen_ns + w->timespan_ns;
			}
		}
		if (g->pcount > 0) {
			if (now - g->last_fire_ns >= w->suppress_ns)
				deliver_pending(c, w, gi, now, cb, arg);
			else if (g->last_fire_ns + w->suppress_ns < due)
				due = g->last_fire_ns + w->suppress_ns;
		}
	}
	w->due = due;
}

static void run_due(struct lw_correlation *c, lw_incident_cb cb, void *arg)
{
	int64_t now = c->clock;

	if (now == T_NONE || now < c->due)
		return;
	c->due = INT64_MAX;
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		if (w->due <= now)
			scan_window(c, w, now, cb, arg);
		if (w->due < c->due)
			c->due = w->due;
	}
}

static int feed_consumers(struct lw_correlation *c, uint32_t idx,
			  const struct evctx *x)
{
	const struct lw_correlation_rules *cr = c->cr;
	int rc = LW_OK;

	for (uint32_t k = cr->cons_off[idx]; k < cr->cons_off[idx + 1]; k++) {
		uint32_t wi = cr->cons[k].win;
		int r = feed(c, wi, cr->cons[k].slot, x);
		uint32_t q;

		if (r < 0) {
			rc = r;
			continue;
		}
		if (r == 0 || cr->cons_off[cr->nsigma + wi] ==
		    cr->cons_off[cr->nsigma + wi + 1])
			continue; /* nothing references this correlation */
		for (q = 0; q < c->nq && c->q[q] != wi; q++)
			;
		if (q == c->nq)
			c->q[c->nq++] = wi;
	}
	return rc;
}

int lw_correlation_process(struct lw_correlation *c, const struct lw_event *ev,
			   uint64_t event_seq, const uint32_t *matched,
			   uint32_t nmatched, lw_incident_cb cb, void *arg)
{
	const struct lw_correlation_rules *cr = c->cr;
	struct evctx x = {ev, event_seq, ev->timestamp_ns, cb, arg, NULL};
	uint32_t nsigma = lw_ruleset_rule_count(c->rs);
	int rc = LW_OK, r;
	int staged = cr != NULL && cr->built;

	c->nq = 0;
	for (uint32_t a = 0; staged && a < cr->nall; a++) {
		r = feed(c, cr->all_events[a], 0, &x);
		if (r == 1 && cr->cons_off[cr->nsigma + cr->all_events[a]] !=
		    cr->cons_off[cr->nsigma + cr->all_events[a] + 1])
			c->q[c->nq++] = cr->all_events[a];
		if (r < 0)
			rc = r;
	}
	for (uint32_t i = 0; i < nmatched; i++) {
		uint32_t d = matched[i];

		if (d >= nsigma)
			continue;
		if (c->direct_win[d] != NONE32) {
			r = feed(c, c->direct_win[d], 0, &x);
			if (r < 0)
				rc = r;
		}
		if (staged && (r = feed_consumers(c, d, &x)) < 0)
			rc = r;
	}
	/* Correlations that fired feed the correlations referencing them;
	 * the queue grows while it is walked (chains of any depth). */
	for (uint32_t q = 0; staged && q < c->nq; q++) {
		x.src = &c->w[c->q[q]];
		if ((r = feed_consumers(c, cr->nsigma + c->q[q], &x)) < 0)
			rc = r;
	}
	x.src = NULL;
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

		for (uint32_t gi = 0; gi < w->ng && w->npending > 0; gi++)
			if (w->g[gi].pcount > 0)
				deliver_pending(c, w, gi, w->g[gi].plast_ns, cb, arg);
	}
}

void lw_correlation_get_stats(const struct lw_correlation *c,
			      struct lw_correlation_stats *out)
{
	*out = c->stats;
}
