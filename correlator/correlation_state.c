/* lw_correlation_save / lw_correlation_restore: the window state as bytes
 * (correlator/correlation_state.h), so incidents survive a restart. */
#include "correlator/correlation_state.h"

#include <string.h>

#include "correlator/correlation_int.h"

/* The format. Little-endian, all integers fixed width:
 *
 *   header   "LWCORR" | version u16 (1) | clock i64 | nwin u32
 *   window   kind u8 (0 correlation, 1 direct) | idlen u16 | id |
 *            defhash u64 | words u32 | ngroups u32 | groups...
 *   group    keylen u16 | key | host_state u8 | hostlen u8 | host |
 *            zone_state u8 | zonelen u8 | zone | absent_fired u8 |
 *            has_seq u8 | seen i64 | last_seq u64 | first i64 | last i64 |
 *            count u64 | pfirst i64 | plast i64 | pcount u64 |
 *            last_fire i64 | nev u8 | evidence u64 * nev (oldest first) |
 *            state i64 * words
 *   trailer  FNV-1a 64 of every byte before it, u64
 *
 * Groups are written least recently updated first, so restoring them in
 * order rebuilds the eviction order. A window is matched on restore by
 * kind, id and defhash (type, timespan, threshold, rules, group-by):
 * state saved under another definition would mean something else. */

#define SAVE_MAGIC "LWCORR"
#define SAVE_VERSION 1

static void put_u8(struct lw_buf *b, uint8_t v)
{
	lw_buf_append(b, &v, 1);
}

static void put_u16(struct lw_buf *b, uint16_t v)
{
	unsigned char p[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	lw_buf_append(b, p, 2);
}

static void put_u32(struct lw_buf *b, uint32_t v)
{
	unsigned char p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	lw_buf_append(b, p, 4);
}

static void put_u64(struct lw_buf *b, uint64_t v)
{
	unsigned char p[8];

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	lw_buf_append(b, p, 8);
}

/* State word i of a group as saved: what the window can read, and 0 for
 * the slots of a ring or list outside its live part, which hold memory no
 * event has written yet (the table grows without touching it) or entries
 * from before a re-arm. No stale heap bytes reach the store, and equal
 * windows save equal bytes. */
static uint64_t saved_word(const struct win *w, const int64_t *st, uint32_t i)
{
	uint64_t head_len = (uint64_t)st[0];

	if (i == 0)
		return (uint64_t)st[0];
	if (w->type == CT_EVENT_COUNT) {
		uint32_t k = w->r->k, head = (uint32_t)(head_len & 0xffffffff);
		uint32_t len = (uint32_t)(head_len >> 32), slot = i - 1;
		uint32_t age = slot >= head ? slot - head : slot + k - head;

		return age < len ? (uint64_t)st[i] : 0;
	}
	if (w->type == CT_VALUE_COUNT) /* st[0] pairs of (hash, time) */
		return i <= 2 * head_len ? (uint64_t)st[i] : 0;
	return (uint64_t)st[i];
}

static void save_group(struct lw_buf *b, const struct win *w, uint32_t gi)
{
	const struct group *g = &w->g[gi];
	uint32_t start = g->nev < LW_INCIDENT_MAX_EVIDENCE ? 0 : g->evpos;
	size_t hl = g->host_len, zl = g->zone_len;

	put_u16(b, g->keylen);
	lw_buf_append(b, g->key, g->keylen);
	put_u8(b, g->host_state);
	put_u8(b, (uint8_t)hl);
	lw_buf_append(b, g->host, hl);
	put_u8(b, g->zone_state);
	put_u8(b, (uint8_t)zl);
	lw_buf_append(b, g->zone, zl);
	put_u8(b, g->absent_fired);
	put_u8(b, g->has_seq);
	put_u64(b, (uint64_t)g->seen_ns);
	put_u64(b, g->last_seq);
	put_u64(b, (uint64_t)g->first_ns);
	put_u64(b, (uint64_t)g->last_ns);
	put_u64(b, g->count);
	put_u64(b, (uint64_t)g->pfirst_ns);
	put_u64(b, (uint64_t)g->plast_ns);
	put_u64(b, g->pcount);
	put_u64(b, (uint64_t)g->last_fire_ns);
	put_u8(b, (uint8_t)g->nev);
	for (uint32_t i = 0; i < g->nev; i++)
		put_u64(b, g->ev[(start + i) % LW_INCIDENT_MAX_EVIDENCE]);
	for (uint32_t i = 0; i < w->words; i++)
		put_u64(b, saved_word(w, &w->st[(size_t)gi * w->words], i));
}

int lw_correlation_save(const struct lw_correlation *c, struct lw_buf *out)
{
	size_t start = out->len;

	lw_buf_append(out, SAVE_MAGIC, 6);
	put_u16(out, SAVE_VERSION);
	put_u64(out, (uint64_t)c->clock);
	put_u32(out, c->nwin);
	for (uint32_t i = 0; i < c->nwin; i++) {
		const struct win *w = &c->w[i];
		size_t idlen = strlen(w->info->id);

		put_u8(out, w->r == NULL);
		put_u16(out, (uint16_t)idlen);
		lw_buf_append(out, w->info->id, idlen);
		put_u64(out, w->defhash);
		put_u32(out, w->words);
		put_u32(out, w->ng);
		for (uint32_t gi = w->lru_head; gi != NONE32; gi = w->g[gi].next)
			save_group(out, w, gi);
	}
	if (out->oom)
		return LW_ENOMEM;
	put_u64(out, fnv1a(FNV_OFFSET, out->data + start, out->len - start));
	return out->oom ? LW_ENOMEM : LW_OK;
}

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static const unsigned char *take(struct rd *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

static uint64_t get_le(struct rd *r, int n)
{
	const unsigned char *p = take(r, (size_t)n);
	uint64_t v = 0;

	for (int i = 0; p != NULL && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void clear_all(struct lw_correlation *c)
{
	for (uint32_t i = 0; i < c->nwin; i++)
		lw_correlation_win_clear(&c->w[i]);
	c->stats.groups = 0;
	c->due = INT64_MAX;
	c->clock = T_NONE;
}

/* The saved window state of one group makes sense for this window. */
static int state_valid(const struct win *w, const int64_t *st)
{
	if (w->type == CT_EVENT_COUNT) {
		uint64_t head = (uint64_t)st[0] & 0xffffffff, len = (uint64_t)st[0] >> 32;

		return head < w->r->k && len <= w->r->k;
	}
	if (w->type == CT_VALUE_COUNT)
		return st[0] >= 0 && (uint64_t)st[0] <= w->r->k;
	return 1;
}

/* Reads one group; into window w (NULL: parse and drop). 0 when the
 * bytes do not describe a valid group. */
static int restore_group(struct lw_correlation *c, struct win *w,
			 uint32_t words, struct rd *r)
{
	struct group tmp;
	int64_t st[1 + 2 * LW_CORRELATION_MAX_THRESHOLD + 2];
	const unsigned char *p;
	uint32_t gi;
	struct group *g;
	size_t n;

	memset(&tmp, 0, sizeof(tmp));
	tmp.keylen = (uint16_t)get_le(r, 2);
	if (tmp.keylen > LW_CORRELATION_KEY_MAX || (p = take(r, tmp.keylen)) == NULL)
		return 0;
	memcpy(tmp.key, p, tmp.keylen);
	tmp.host_state = (uint8_t)get_le(r, 1);
	n = (size_t)get_le(r, 1);
	if ((p = take(r, n)) == NULL)
		return 0;
	memcpy(tmp.host, p, n); /* n <= 255 < sizeof(host) */
	tmp.host[n] = '\0';
	tmp.host_len = (uint8_t)n;
	tmp.zone_state = (uint8_t)get_le(r, 1);
	n = (size_t)get_le(r, 1);
	if (n >= sizeof(tmp.zone) || (p = take(r, n)) == NULL)
		return 0;
	memcpy(tmp.zone, p, n);
	tmp.zone[n] = '\0';
	tmp.zone_len = (uint8_t)n;
	tmp.absent_fired = (uint8_t)get_le(r, 1);
	tmp.has_seq = (uint8_t)get_le(r, 1);
	tmp.seen_ns = (int64_t)get_le(r, 8);
	tmp.last_seq = get_le(r, 8);
	tmp.first_ns = (int64_t)get_le(r, 8);
	tmp.last_ns = (int64_t)get_le(r, 8);
	tmp.count = get_le(r, 8);
	tmp.pfirst_ns = (int64_t)get_le(r, 8);
	tmp.plast_ns = (int64_t)get_le(r, 8);
	tmp.pcount = get_le(r, 8);
	tmp.last_fire_ns = (int64_t)get_le(r, 8);
	tmp.nev = (uint32_t)get_le(r, 1);
	if (tmp.host_state > 2 || tmp.zone_state > 2 || tmp.absent_fired > 1 ||
	    tmp.has_seq > 1 || tmp.nev > LW_INCIDENT_MAX_EVIDENCE)
		return 0;
	for (uint32_t i = 0; i < tmp.nev; i++)
		tmp.ev[i] = get_le(r, 8);
	tmp.evpos = tmp.nev % LW_INCIDENT_MAX_EVIDENCE;
	if (words > sizeof(st) / sizeof(st[0]))
		return 0;
	for (uint32_t i = 0; i < words; i++)
		st[i] = (int64_t)get_le(r, 8);
	if (r->bad)
		return 0;
	if (w == NULL)
		return 1;
	if (!state_valid(w, st))
		return 0;
	gi = lw_correlation_group_get(c, w, tmp.key, tmp.keylen);
	if (gi == NONE32)
		return -1;
	g = &w->g[gi];
	tmp.hash = g->hash;
	tmp.prev = g->prev;
	tmp.next = g->next;
	*g = tmp;
	if (words > 0)
		memcpy(&w->st[(size_t)gi * words], st, words * sizeof(*st));
	if (g->pcount > 0) {
		w->npending++;
		lw_correlation_set_due(c, w, g->last_fire_ns + w->suppress_ns);
	}
	if (w->type == CT_ABSENCE && !g->absent_fired && g->seen_ns != T_NONE)
		lw_correlation_set_due(c, w, g->seen_ns + w->timespan_ns);
	return 1;
}

static struct win *find_win(struct lw_correlation *c, int direct,
			    const unsigned char *id, size_t idlen,
			    uint64_t defhash, uint32_t words)
{
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		if ((w->r == NULL) == direct && strlen(w->info->id) == idlen &&
		    memcmp(w->info->id, id, idlen) == 0 &&
		    w->defhash == defhash && w->words == words)
			return w;
	}
	return NULL;
}

int lw_correlation_restore(struct lw_correlation *c, const void *data,
			   size_t len, struct lw_diag *diag)
{
	const unsigned char *b = data;
	struct rd r;
	uint32_t nwin;
	int64_t clock;
	const char *why;

	clear_all(c);
	if (len < 6 + 2 + 8 + 4 + 8 || memcmp(b, SAVE_MAGIC, 6) != 0) {
		why = "not a correlation state (bad magic or too short)";
		goto corrupt;
	}
	r = (struct rd){b + len - 8, b + len, 0};
	if (get_le(&r, 8) != fnv1a(FNV_OFFSET, b, len - 8)) {
		why = "checksum mismatch";
		goto corrupt;
	}
	r = (struct rd){b + 6, b + len - 8, 0};
	if (get_le(&r, 2) != SAVE_VERSION) {
		why = "unknown version";
		goto corrupt;
	}
	clock = (int64_t)get_le(&r, 8);
	nwin = (uint32_t)get_le(&r, 4);
	for (uint32_t i = 0; i < nwin && !r.bad; i++) {
		int direct = (int)get_le(&r, 1);
		size_t idlen = (size_t)get_le(&r, 2);
		const unsigned char *id = take(&r, idlen);
		uint64_t defhash = get_le(&r, 8);
		uint32_t words = (uint32_t)get_le(&r, 4);
		uint32_t ng = (uint32_t)get_le(&r, 4);
		struct win *w;

		if (r.bad || direct > 1)
			break;
		/* A rule removed or redefined since the save: its state is
		 * read past and dropped. */
		w = find_win(c, direct, id, idlen, defhash, words);
		for (uint32_t k = 0; k < ng; k++) {
			int ok = restore_group(c, w, words, &r);

			if (ok < 0) {
				clear_all(c);
				return LW_ENOMEM;
			}
			if (ok == 0) {
				r.bad = 1;
				break;
			}
		}
	}
	if (r.bad || r.p != r.end) {
		why = r.bad ? "truncated or invalid window state" :
			"trailing bytes after the last window";
		goto corrupt;
	}
	c->clock = clock;
	return LW_OK;

corrupt:
	clear_all(c);
	return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
			   "correlation state: %s", why);
}
