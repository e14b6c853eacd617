/* lw_correlation_save / _save_changes / _restore: the window state as
 * bytes (correlator/correlation_state.h), so incidents survive a restart. */
#include "correlator/correlation_state.h"

#include <string.h>

#include "core/checksum.h"
#include "correlator/correlation_int.h"

/* The format. Fixed-width integers are little-endian; "v" is a LEB128
 * varint, "z" a zigzag varint (signed), "t" a time relative to the
 * group's newest event (0 = none, else 1 + zigzag(seen - t)):
 *
 *   header   "LWCORR" | version u16 (3) | full u8 | seq u64 | clock i64 |
 *            nwin u32 | windows... | trailer
 *   window   kind u8 (0 correlation, 1 direct) | type u8 (event_count 0,
 *            value_count 1, temporal 2, temporal_ordered 3, absence 4,
 *            direct 5, new_terms 6, value_sum 7, beaconing 8) |
 *            idlen u16 | id | defhash u64 | words u32 | ndel u32 | (keylen u16 | key) * ndel | nput u32 | groups...
 *   group    keylen v | key | flags u8 (1 has_seq, 2 absent_fired, 4 held
 *            back, 8 fired before) | track u8 (host state | zone state << 2,
 *            each 0 none, 1 one, 2 several) | host name | zone name |
 *            clock - seen z | last_seq v | first t | last t | count v |
 *            [fired before: last_fire t] |
 *            [held back: pfirst t | plast t | pcount v] |
 *            nev v | (last_seq - evidence) z * nev (oldest first) |
 *            nstate v | state...
 *   name     v: 0 none, k <= names so far: the k-th name of this blob,
 *            else a new one: len v | bytes (it becomes the next name)
 *   trailer  lw_checksum64 of every byte before it, u64 (version 2, read
 *            still: FNV-1a 64, the same bytes otherwise)
 *
 * The state of a group is what its window can read, in time order:
 * event_count nstate timestamps (t); value_count nstate pairs of value
 * hash u64 and time t; temporal its `words` times t; temporal_ordered its
 * `words` words: 2n times t, then n seqs z; new_terms (type 6) nstate
 * table entries after the learning start t, each as its slot's distance
 * from the previous one (the first from word 0) v and the entry u64;
 * value_sum (7) and beaconing (8) their `words` words z (numbers, not
 * times: correlation_anomaly.c). A whole-state blob has full =
 * 1 and no deletions. A change set applies its deletions, then its groups
 * (each replaces the group of its key). A window is matched on restore by
 * kind, id and defhash (type, timespan, threshold, rules, group-by):
 * state saved under another definition would mean something else. */

#define SAVE_MAGIC "LWCORR"
#define SAVE_VERSION 3
#define SAVE_VERSION_FNV 2 /* read, never written */
#define SF_HAS_SEQ 1
#define SF_ABSENT_FIRED 2
#define SF_PENDING 4
#define SF_FIRED 8
/* The sweep writes at least live / SWEEP_CYCLE unchanged groups per
 * change set. */
#define SWEEP_CYCLE 64

/* A change set is millions of appends of a few bytes each, nearly all
 * into room the buffer already has: those take no call. */
static inline void put_bytes(struct lw_buf *b, const void *p, size_t n)
{
	if (!b->oom && b->cap - b->len > n) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	lw_buf_append(b, p, n);
}

static void put_u8(struct lw_buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_u16(struct lw_buf *b, uint16_t v)
{
	unsigned char p[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	put_bytes(b, p, 2);
}

static void put_u32(struct lw_buf *b, uint32_t v)
{
	unsigned char p[4];

	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	put_bytes(b, p, 4);
}

static void put_u64(struct lw_buf *b, uint64_t v)
{
	unsigned char p[8];

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	put_bytes(b, p, 8);
}

static void put_u32_at(struct lw_buf *b, size_t at, uint32_t v)
{
	if (b->oom)
		return;
	for (int i = 0; i < 4; i++)
		b->data[at + (size_t)i] = (char)(v >> (8 * i));
}

static void put_v_long(struct lw_buf *b, uint64_t v)
{
	unsigned char p[10], *o = p;
	int n = 0;

	/* A change set is mostly varints: written in place while the
	 * buffer has room, as put_bytes would copy them. */
	if (!b->oom && b->cap - b->len > sizeof(p))
		o = (unsigned char *)b->data + b->len;
	do {
		o[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v > 0);
	if (o == p) {
		put_bytes(b, p, (size_t)n);
		return;
	}
	b->len += (size_t)n;
	b->data[b->len] = '\0';
}

/* Most varints of a change set are one byte (deltas, counts, flags). */
static inline void put_v(struct lw_buf *b, uint64_t v)
{
	if (v < 0x80 && !b->oom && b->cap - b->len > 1) {
		b->data[b->len++] = (char)v;
		b->data[b->len] = '\0';
		return;
	}
	put_v_long(b, v);
}

static uint64_t zig(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzig(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static void put_z(struct lw_buf *b, int64_t v)
{
	put_v(b, zig(v));
}

/* A time relative to the group's newest event (0: none). */
static void put_t(struct lw_buf *b, int64_t seen, int64_t t)
{
	put_v(b, t == T_NONE ? 0 : 1 + zig((int64_t)((uint64_t)seen - (uint64_t)t)));
}

/* The names of one blob: each is written once, then referred to by its
 * number (hosts repeat across thousands of groups). A name's number is
 * found through at: an open-addressing table of number + 1 (0: free). */
#define NAMES_OUT_MAX 256
#define NAMES_OUT_SLOTS 512

struct names_out {
	uint32_t ids[NAMES_OUT_MAX];
	uint32_t n;
	uint16_t at[NAMES_OUT_SLOTS];
};

static void put_name(struct lw_buf *b, const struct lw_correlation *c,
		     struct names_out *no, uint32_t state, uint32_t id)
{
	uint32_t k = (id * 0x9e3779b1u) >> 23; /* 9 bits: NAMES_OUT_SLOTS */
	struct lw_str s;

	if (state != 1) {
		put_v(b, 0);
		return;
	}
	for (; no->at[k] != 0; k = (k + 1) & (NAMES_OUT_SLOTS - 1)) {
		if (no->ids[no->at[k] - 1] == id) {
			put_v(b, no->at[k]);
			return;
		}
	}
	s = lw_correlation_name_str(c, id);
	if (no->n < NAMES_OUT_MAX) {
		no->ids[no->n++] = id;
		no->at[k] = (uint16_t)no->n;
		put_v(b, no->n);
	} else {
		put_v(b, UINT32_MAX); /* new, but not numbered: the table is full */
	}
	put_v(b, s.len);
	lw_buf_append(b, s.ptr, s.len);
}

/* The live part of a group's state, in time order. */
static void put_state(struct lw_buf *b, const struct win *w, int64_t seen,
		      const int64_t *st)
{
	if (w->type == CT_EVENT_COUNT) {
		uint32_t k = w->r->k, head = (uint32_t)(st[0] & 0xffffffff);
		uint32_t len = (uint32_t)((uint64_t)st[0] >> 32);

		put_v(b, len);
		for (uint32_t i = 0; i < len; i++)
			put_t(b, seen, st[1 + (head + i) % k]);
		return;
	}
	if (w->type == CT_VALUE_COUNT) {
		put_v(b, (uint64_t)st[0]);
		for (uint32_t i = 0; i < (uint32_t)st[0]; i++) {
			put_u64(b, (uint64_t)st[1 + 2 * i]);
			put_t(b, seen, st[2 + 2 * i]);
		}
		return;
	}
	if (w->type == CT_NEW_TERMS) {
		uint32_t n = 0, prev = 0;

		for (uint32_t i = 2; i < w->words; i++)
			n += st[i] != 0;
		put_v(b, n);
		put_t(b, seen, st[0]);
		for (uint32_t i = 2; i < w->words; i++) {
			if (st[i] == 0)
				continue;
			put_v(b, i - prev);
			put_u64(b, (uint64_t)st[i]);
			prev = i;
		}
		return;
	}
	put_v(b, w->words);
	if (w->type == CT_VALUE_SUM || w->type == CT_BEACONING) {
		for (uint32_t i = 0; i < w->words; i++)
			put_z(b, st[i]); /* numbers, not times */
		return;
	}
	for (uint32_t i = 0; i < w->words; i++) {
		if (w->type == CT_TEMPORAL_ORDERED && i >= 2 * w->r->nrefs)
			put_z(b, st[i]); /* the seqs */
		else
			put_t(b, seen, st[i]);
	}
}

static void save_group(struct lw_buf *b, const struct lw_correlation *c,
		       struct names_out *no, const struct win *w,
		       const struct group *g, int64_t *st)
{
	uint64_t ev[LW_INCIDENT_MAX_EVIDENCE];
	uint32_t nev = lw_correlation_evidence(w, g, ev);
	uint8_t flags = (uint8_t)(((g->flags & G_HAS_SEQ) ? SF_HAS_SEQ : 0) |
				  ((g->flags & G_ABSENT_FIRED) ? SF_ABSENT_FIRED : 0) |
				  ((g->flags & G_PENDING) ? SF_PENDING : 0) |
				  (g->last_fire_ns != T_NONE ? SF_FIRED : 0));

	put_v(b, g->keylen);
	put_bytes(b, group_key(g), g->keylen);
	put_u8(b, flags);
	put_u8(b, g->track);
	put_name(b, c, no, ((uint32_t)g->track >> TRACK_HOST_SHIFT) & 3, g->host);
	put_name(b, c, no, ((uint32_t)g->track >> TRACK_ZONE_SHIFT) & 3, g->zone);
	put_z(b, (int64_t)((uint64_t)c->clock - (uint64_t)g->seen_ns));
	put_v(b, g->last_seq);
	put_t(b, g->seen_ns, g->first_ns);
	put_t(b, g->seen_ns, g->last_ns);
	put_v(b, g->count);
	if (flags & SF_FIRED)
		put_t(b, g->seen_ns, g->last_fire_ns);
	if (g->flags & G_PENDING) {
		put_t(b, g->seen_ns, g->blk[BLK_PFIRST(w)]);
		put_t(b, g->seen_ns, g->blk[BLK_PLAST(w)]);
		put_v(b, (uint64_t)g->blk[BLK_PCOUNT(w)]);
	}
	put_v(b, nev);
	for (uint32_t i = 0; i < nev; i++)
		put_z(b, (int64_t)(g->last_seq - ev[i]));
	lw_correlation_state_get(w, g, st);
	put_state(b, w, g->seen_ns, st);
}

static void put_header(struct lw_buf *out, const struct lw_correlation *c,
		       int full, uint64_t seq, uint32_t nwin)
{
	lw_buf_append(out, SAVE_MAGIC, 6);
	put_u16(out, SAVE_VERSION);
	put_u8(out, (uint8_t)full);
	put_u64(out, seq);
	put_u64(out, (uint64_t)c->clock);
	put_u32(out, nwin);
}

static void put_window(struct lw_buf *out, const struct win *w)
{
	size_t idlen = strlen(w->info->id);

	put_u8(out, w->r == NULL);
	put_u8(out, (uint8_t)w->type);
	put_u16(out, (uint16_t)idlen);
	lw_buf_append(out, w->info->id, idlen);
	put_u64(out, w->defhash);
	put_u32(out, w->words);
}

uint64_t lw_correlation_state_checksum(const void *data, size_t len)
{
	const unsigned char *b = data;

	if (len >= 8 && (b[6] | b[7] << 8) == SAVE_VERSION_FNV)
		return fnv1a(FNV_OFFSET, b, len);
	return lw_checksum64(b, len);
}

static int finish(struct lw_buf *out, size_t start)
{
	if (out->oom)
		return LW_ENOMEM;
	put_u64(out, lw_checksum64((const unsigned char *)out->data + start,
				  out->len - start));
	return out->oom ? LW_ENOMEM : LW_OK;
}

/* Every group whose window has not passed (expired groups are only
 * kept until their memory is needed: a restart may drop them). */
static void save_all(struct lw_buf *out, const struct lw_correlation *c,
		     int full, uint64_t seq)
{
	struct names_out no = {{0}, 0, {0}};
	uint32_t nwin = 0;

	for (uint32_t i = 0; i < c->nwin; i++)
		nwin += c->w[i].nlive > 0;
	put_header(out, c, full, seq, nwin);
	for (uint32_t i = 0; i < c->nwin; i++) {
		const struct win *w = &c->w[i];
		size_t count_at;
		uint32_t n = 0;

		if (w->nlive == 0)
			continue;
		put_window(out, w);
		put_u32(out, 0);
		count_at = out->len;
		put_u32(out, 0);
		for (uint32_t gi = 0; gi < w->ng; gi++) {
			if (G(w, gi)->flags & G_EXPIRED)
				continue;
			save_group(out, c, &no, w, G(w, gi), c->tmp);
			n++;
		}
		put_u32_at(out, count_at, n);
	}
}

int lw_correlation_save(const struct lw_correlation *c, struct lw_buf *out)
{
	size_t start = out->len;

	save_all(out, c, 1, 0);
	return finish(out, start);
}

/* A group the log need not hold yet: never written, one event, nothing
 * held back or fired (a scanner's first attempt). A clean stop writes it
 * (mark_unwritten); a crash forgets it. */
static int skippable(const struct group *g)
{
	return !(g->flags & (G_SAVED | G_PENDING)) && g->blk == NULL &&
	       g->count <= 1 && g->last_fire_ns == T_NONE;
}

/* Written in the current sweep cycle: its record is in a change set the
 * log keeps when the cycle completes. */
static int written_this_cycle(const struct lw_correlation *c, const struct group *g)
{
	return (g->flags & G_SAVED) && !!(g->flags & G_PARITY) == c->parity;
}

/* Marks the next slice of live groups not yet written this cycle dirty,
 * from the sweep cursor on (at most `want` of them, looking at a bounded
 * number). 1 when the cursor passed the last window: the cycle is done. */
static int sweep(struct lw_correlation *c)
{
	uint64_t live = 0, changed = 0, want, look;

	for (uint32_t i = 0; i < c->nwin; i++) {
		live += c->w[i].nlive;
		changed += c->w[i].ndirty;
	}
	want = live / SWEEP_CYCLE + 1;
	if (changed > want)
		want = changed;
	look = 4 * want + 4096;
	while (want > 0 && look > 0 && c->sweep_win < c->nwin) {
		struct win *w = &c->w[c->sweep_win];
		struct group *g;

		if (c->sweep_gi >= w->ng) {
			c->sweep_win++;
			c->sweep_gi = 0;
			continue;
		}
		g = G(w, c->sweep_gi);
		look--;
		if (!(g->flags & (G_DIRTY | G_EXPIRED)) && !written_this_cycle(c, g) &&
		    !skippable(g)) {
			lw_correlation_group_dirty(w, c->sweep_gi);
			want--;
		}
		c->sweep_gi++;
	}
	return c->sweep_win >= c->nwin;
}

static void mark_saved(const struct lw_correlation *c, struct group *g)
{
	g->flags = (uint8_t)((g->flags & ~(G_DIRTY | G_PARITY)) | G_SAVED |
			     (c->parity ? G_PARITY : 0));
}

/* A clean stop's change set: besides the changed groups, every live
 * group the log does not hold yet (never written: a single event the
 * periodic sets left out). Written groups that did not change since are
 * in the log from keep_from on (the sweep's guarantee), so the log plus
 * this set is exact. 0 when the changes cannot be trusted (a change went
 * unlisted for want of memory): then only a full set is exact. */
static int mark_unwritten(struct lw_correlation *c)
{
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];

		for (uint32_t gi = 0; gi < w->ng && !w->dirty_lost; gi++)
			if (!(G(w, gi)->flags & (G_EXPIRED | G_DIRTY | G_SAVED)))
				lw_correlation_group_dirty(w, gi);
		if (w->dirty_lost)
			return 0;
	}
	return 1;
}

static void forget_changes(struct win *w)
{
	w->ndirty = 0;
	lw_buf_reset(&w->tomb);
	w->ntomb = 0;
}

int lw_correlation_save_changes(struct lw_correlation *c, struct lw_buf *out,
				struct lw_correlation_save_info *info, int everything)
{
	size_t start = out->len;
	uint64_t seq = c->save_seq++;
	struct names_out no = {{0}, 0, {0}};
	uint32_t nwin = 0;
	int done, rc;

	memset(info, 0, sizeof(*info));
	info->seq = seq;
	if (c->need_full || (everything && !mark_unwritten(c))) {
		save_all(out, c, 1, seq);
		rc = finish(out, start);
		if (rc != LW_OK) {
			c->need_full = 1;
			return rc;
		}
		for (uint32_t i = 0; i < c->nwin; i++) {
			struct win *w = &c->w[i];

			for (uint32_t gi = 0; gi < w->ng; gi++)
				if (!(G(w, gi)->flags & G_EXPIRED)) {
					mark_saved(c, G(w, gi));
					info->groups++;
				} else {
					G(w, gi)->flags &= (uint8_t)~(G_DIRTY | G_SAVED);
				}
			forget_changes(w);
			w->dirty_lost = 0;
		}
		c->need_full = 0;
		c->keep_from = seq;
		c->cycle_start = seq + 1;
		c->parity ^= 1;
		c->sweep_win = c->sweep_gi = 0;
		info->full = 1;
		info->keep_from = seq;
		return LW_OK;
	}
	/* A stop needs no sweep: the log it leaves is replayed whole. */
	done = everything ? 0 : sweep(c);
	for (uint32_t i = 0; i < c->nwin; i++)
		nwin += c->w[i].ndirty > 0 || c->w[i].ntomb > 0;
	put_header(out, c, 0, seq, nwin);
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];
		size_t count_at;
		uint32_t nput = 0;

		if (w->ndirty == 0 && w->ntomb == 0)
			continue;
		put_window(out, w);
		put_u32(out, w->ntomb);
		lw_buf_append(out, w->tomb.data, w->tomb.len);
		info->deleted += w->ntomb;
		count_at = out->len;
		put_u32(out, 0);
		for (uint32_t k = 0; k < w->ndirty; k++) {
			uint32_t gi = w->dirty[k];
			struct group *g;

			if (gi >= w->ng || !(G(w, gi)->flags & G_DIRTY))
				continue; /* moved since, or listed twice */
			g = G(w, gi);
			if (!everything && skippable(g)) {
				g->flags &= (uint8_t)~G_DIRTY;
				continue;
			}
			save_group(out, c, &no, w, g, c->tmp);
			mark_saved(c, g);
			nput++;
		}
		put_u32_at(out, count_at, nput);
		info->groups += nput;
		forget_changes(w);
	}
	if (done) {
		/* Every live group was written in [cycle_start, seq]. */
		c->keep_from = c->cycle_start;
		c->cycle_start = seq + 1;
		c->parity ^= 1;
		c->sweep_win = c->sweep_gi = 0;
	}
	info->keep_from = c->keep_from;
	rc = finish(out, start);
	if (rc != LW_OK)
		c->need_full = 1;
	return rc;
}

void lw_correlation_save_failed(struct lw_correlation *c)
{
	c->need_full = 1;
}

/* ---- restore ---- */

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
		lw_correlation_win_clear(c, &c->w[i]);
	c->due = INT64_MAX;
	c->wheel_due = INT64_MAX;
	c->clock = T_NONE;
}

static uint64_t get_v(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		const unsigned char *p = take(r, 1);

		if (p == NULL)
			return 0;
		v |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p & 0x80))
			return v;
	}
	r->bad = 1; /* more than 10 bytes */
	return 0;
}

static int64_t get_z(struct rd *r)
{
	return unzig(get_v(r));
}

/* Restored times lie within LW_CORR_T_MAX of the epoch, as the windows
 * keep them: anything beyond makes the blob corrupt. */
static int64_t checked_t(struct rd *r, int64_t t)
{
	if (t < -LW_CORR_T_MAX || t > LW_CORR_T_MAX)
		r->bad = 1;
	return t;
}

static int64_t get_t(struct rd *r, int64_t seen)
{
	uint64_t v = get_v(r);

	return v == 0 ? T_NONE :
		checked_t(r, (int64_t)((uint64_t)seen - (uint64_t)unzig(v - 1)));
}

/* The names of one blob as they are read (put_name). */
struct names_in {
	struct lw_str s[256];
	uint32_t n;
};

static struct lw_str get_name(struct rd *r, struct names_in *ni)
{
	uint64_t k = get_v(r), len;
	const unsigned char *p;

	if (k == 0)
		return LW_STR_NULL;
	if (k <= ni->n)
		return ni->s[k - 1];
	len = get_v(r);
	if (len > 255 || (p = take(r, (size_t)len)) == NULL) {
		r->bad = 1;
		return LW_STR_NULL;
	}
	if (k == UINT32_MAX)
		return (struct lw_str){(const char *)p, (uint32_t)len};
	if (k != ni->n + 1 || ni->n == sizeof(ni->s) / sizeof(ni->s[0])) {
		r->bad = 1;
		return LW_STR_NULL;
	}
	ni->s[ni->n++] = (struct lw_str){(const char *)p, (uint32_t)len};
	return ni->s[ni->n - 1];
}

/* A group as read, before it is placed. */
struct rgroup {
	const unsigned char *key;
	struct lw_str host, zone;
	uint16_t keylen;
	uint8_t flags, track, nev;
	int64_t seen, first, last, last_fire, pfirst, plast;
	uint64_t last_seq, pcount;
	uint32_t count;
	uint64_t ev[LW_INCIDENT_MAX_EVIDENCE];
};

/* new_terms: n entries at their slots (gaps from the previous one),
 * after the learning start; the table they were saved from had the same
 * size (the window definition says so). */
static int read_terms(struct rd *r, uint64_t n, const struct win *w,
		      int64_t seen, int64_t *st)
{
	uint64_t at = 0;
	int64_t start = get_t(r, seen);

	if (w != NULL && n > (w->words - 2) / 4 * 3)
		return 0; /* more than a table holds: probes would never end */
	if (w != NULL) {
		memset(st, 0, w->words * sizeof(*st));
		st[0] = start;
		st[1] = (int64_t)n;
	}
	for (uint64_t i = 0; i < n && !r->bad; i++) {
		uint64_t gap = get_v(r), e = get_le(r, 8);

		at += gap;
		if (gap == 0 || e == 0 || at > UINT32_MAX) {
			r->bad = 1;
			return 0;
		}
		if (w != NULL && at >= w->words)
			return 0;
		if (w != NULL)
			st[at] = (int64_t)e;
	}
	return 1;
}

/* Reads a group's state (saved by a window of `type`) into st, full
 * form for w; w NULL: read past it. 0 when it does not fit w. */
static int read_state(struct rd *r, uint8_t type, uint32_t nrefs, const struct win *w,
		      int64_t seen, int64_t *st)
{
	uint64_t n = get_v(r);

	if (n > 3 * LW_CORRELATION_MAX_THRESHOLD + 3) {
		r->bad = 1;
		return 0;
	}
	if (type == CT_EVENT_COUNT) {
		if (w != NULL && n > w->r->k)
			return 0;
		if (w != NULL)
			st[0] = (int64_t)(n << 32);
		for (uint64_t i = 0; i < n; i++) {
			int64_t t = get_t(r, seen);

			if (w != NULL)
				st[1 + i] = t;
		}
		return 1;
	}
	if (type == CT_VALUE_COUNT) {
		if (w != NULL && n > w->r->k)
			return 0;
		if (w != NULL)
			st[0] = (int64_t)n;
		for (uint64_t i = 0; i < n; i++) {
			int64_t h = (int64_t)get_le(r, 8), t = get_t(r, seen);

			if (w != NULL) {
				st[1 + 2 * i] = h;
				st[2 + 2 * i] = t;
			}
		}
		return 1;
	}
	if (type == CT_NEW_TERMS)
		return read_terms(r, n, w, seen, st);
	if (w != NULL && n != w->words)
		return 0;
	if (type == CT_VALUE_SUM || type == CT_BEACONING) {
		for (uint64_t i = 0; i < n; i++) {
			int64_t v = get_z(r);

			if (w != NULL)
				st[i] = v;
		}
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		/* temporal_ordered: 2 * nrefs times, then nrefs seqs */
		int64_t v = type == CT_TEMPORAL_ORDERED && i >= 2 * (uint64_t)nrefs ?
			get_z(r) : get_t(r, seen);

		if (w != NULL)
			st[i] = v;
	}
	return 1;
}

static int read_group(struct rd *r, struct names_in *ni, int64_t clock,
		      struct rgroup *x)
{
	uint64_t v;

	memset(x, 0, sizeof(*x));
	v = get_v(r);
	if (v > LW_CORRELATION_KEY_MAX || (x->key = take(r, (size_t)v)) == NULL)
		return 0;
	x->keylen = (uint16_t)v;
	x->flags = (uint8_t)get_le(r, 1);
	x->track = (uint8_t)get_le(r, 1);
	x->host = get_name(r, ni);
	x->zone = get_name(r, ni);
	x->seen = checked_t(r, (int64_t)((uint64_t)clock - (uint64_t)get_z(r)));
	x->last_seq = get_v(r);
	x->first = get_t(r, x->seen);
	x->last = get_t(r, x->seen);
	v = get_v(r);
	x->count = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	x->last_fire = (x->flags & SF_FIRED) ? get_t(r, x->seen) : T_NONE;
	if (x->flags & SF_PENDING) {
		x->pfirst = get_t(r, x->seen);
		x->plast = get_t(r, x->seen);
		x->pcount = get_v(r);
	}
	v = get_v(r);
	if (x->flags > 15 || (x->track & 3) > 2 || ((x->track >> 2) & 3) > 2 ||
	    x->track > 15 || v > LW_INCIDENT_MAX_EVIDENCE || x->zone.len > 63)
		return 0;
	/* A group holding events knows when they were, and one holding back a
	 * firing when it fired: the windows subtract these times, and T_NONE
	 * there is INT64_MIN. */
	if ((x->count > 0 && (x->first == T_NONE || x->last == T_NONE)) ||
	    ((x->flags & SF_PENDING) && (x->last_fire == T_NONE ||
	     (x->pcount > 0 && (x->pfirst == T_NONE || x->plast == T_NONE)))))
		return 0;
	x->nev = (uint8_t)v;
	for (uint32_t i = 0; i < x->nev; i++)
		x->ev[i] = x->last_seq - (uint64_t)get_z(r);
	return !r->bad;
}

static void restore_name(struct lw_correlation *c, struct group *g, int shift,
			 uint32_t *id, struct lw_str s)
{
	uint32_t state = ((uint32_t)g->track >> shift) & 3;

	if (state == 1) {
		*id = lw_correlation_name_get(c, s.ptr != NULL ? s.ptr : "", s.len);
		if (*id == 0)
			g->track = (uint8_t)((g->track & ~(3u << shift)) | (2u << shift));
	}
}

/* Places a read group into w (replacing the group of its key). 0 when
 * there is no room (skipped), -1 on ENOMEM. */
static int place_group(struct lw_correlation *c, struct win *w,
		       const struct rgroup *x, const int64_t *st)
{
	enum get_result res;
	uint32_t gi = lw_correlation_group_get(c, w, (const char *)x->key,
					       x->keylen, &res);
	struct group *g;
	int needs_block;
	int64_t next;

	if (gi == NONE32)
		return res == GET_NOMEM ? -1 : 0;
	g = G(w, gi);
	if (g->flags & G_EXPIRED)
		lw_correlation_group_revive(c, w, gi);
	/* Start from an empty tier-0 record of this key. */
	lw_correlation_name_put(c, g->host);
	lw_correlation_name_put(c, g->zone);
	g->host = g->zone = 0;
	g->flags &= (uint8_t)(G_EXPIRED | G_DIRTY | G_EVBIG);
	g->track = x->track;
	restore_name(c, g, TRACK_HOST_SHIFT, &g->host, x->host);
	restore_name(c, g, TRACK_ZONE_SHIFT, &g->zone, x->zone);
	g->seen_ns = x->seen;
	g->last_seq = x->last_seq;
	g->first_ns = x->first;
	g->last_ns = x->last;
	g->count = x->count;
	g->last_fire_ns = x->last_fire;
	if (x->flags & SF_HAS_SEQ)
		g->flags |= G_HAS_SEQ;
	if (x->flags & SF_ABSENT_FIRED)
		g->flags |= G_ABSENT_FIRED;
	needs_block = w->smode == SM_BLOCK || (x->flags & SF_PENDING) ||
		x->count > TIER0_EVENTS || x->nev > TIER0_EVENTS ||
		(x->nev > 0 && x->ev[x->nev - 1] != x->last_seq);
	if (g->blk == NULL && !needs_block) {
		g->nev = x->nev;
		if (x->nev == 2)
			g->inl[ST_INLINE] = (int64_t)x->ev[0];
		if (lw_correlation_state_put(c, w, &gi, st) != LW_OK)
			return 0;
	} else {
		if (g->blk == NULL) {
			g->nev = 0;
			if (lw_correlation_group_promote(c, w, &gi, st) != LW_OK)
				return 0;
			g = G(w, gi);
		} else {
			memcpy(g->blk, st, w->words * sizeof(*st));
		}
		g->nev = 0;
		g->evpos = 0;
		if (x->nev > EV_SMALL && !(g->flags & G_EVBIG))
			lw_correlation_group_evgrow(c, w, g);
		/* In order, as they were pushed (a small ring keeps the
		 * newest when it could not grow). */
		for (uint32_t i = 0; i < x->nev; i++) {
			g->blk[BLK_EV(w) + g->evpos] = (int64_t)x->ev[i];
			g->evpos = (uint8_t)((g->evpos + 1) % ev_cap(g));
			if (g->nev < ev_cap(g))
				g->nev++;
		}
		if (x->flags & SF_PENDING) {
			g->blk[BLK_PFIRST(w)] = x->pfirst;
			g->blk[BLK_PLAST(w)] = x->plast;
			g->blk[BLK_PCOUNT(w)] = (int64_t)x->pcount;
			g->flags |= G_PENDING;
		}
	}
	/* In the log now; a sweep cycle starts after the restore. */
	g->flags = (uint8_t)((g->flags & ~(G_DIRTY | G_PARITY)) | G_SAVED |
			     (c->parity ? 0 : G_PARITY));
	lw_correlation_group_placed(c, w, gi);
	next = lw_correlation_next_action(w, g);
	if (next != T_NONE)
		lw_correlation_action_at(c, w, gi, next);
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

/* The deletions of a window's section (w NULL: read past them). */
static int apply_deletions(struct lw_correlation *c, struct win *w,
			   uint32_t ndel, struct rd *r)
{
	for (uint32_t k = 0; k < ndel && !r->bad; k++) {
		uint16_t klen = (uint16_t)get_le(r, 2);
		const unsigned char *key = take(r, klen);

		if (key == NULL || klen > LW_CORRELATION_KEY_MAX)
			return 0;
		if (w != NULL)
			lw_correlation_group_delete(c, w, (const char *)key, klen);
	}
	return !r->bad;
}

/* One blob over the current state. */
static int apply(struct lw_correlation *c, const unsigned char *b, size_t len,
		 uint64_t *seq, const char **why)
{
	struct rd r;
	struct names_in ni;
	uint32_t nwin;
	uint64_t version;
	int64_t clock;
	int full;

	if (len < 6 + 2 + 1 + 8 + 8 + 4 + 8 || memcmp(b, SAVE_MAGIC, 6) != 0) {
		*why = "not a correlation state (bad magic or too short)";
		return LW_ECORRUPT;
	}
	r = (struct rd){b + 6, b + len, 0};
	version = get_le(&r, 2);
	if (version != SAVE_VERSION && version != SAVE_VERSION_FNV) {
		*why = "unknown version";
		return LW_ECORRUPT;
	}
	r = (struct rd){b + len - 8, b + len, 0};
	if (get_le(&r, 8) != lw_correlation_state_checksum(b, len - 8)) {
		*why = "checksum mismatch";
		return LW_ECORRUPT;
	}
	r = (struct rd){b + 8, b + len - 8, 0};
	memset(&ni, 0, sizeof(ni));
	full = (int)get_le(&r, 1);
	*seq = get_le(&r, 8);
	clock = (int64_t)get_le(&r, 8);
	if (clock != T_NONE)
		clock = checked_t(&r, clock);
	nwin = (uint32_t)get_le(&r, 4);
	if (full > 1) {
		*why = "truncated or invalid window state";
		return LW_ECORRUPT;
	}
	for (uint32_t i = 0; i < nwin && !r.bad; i++) {
		int direct = (int)get_le(&r, 1);
		uint8_t type = (uint8_t)get_le(&r, 1);
		size_t idlen = (size_t)get_le(&r, 2);
		const unsigned char *id = take(&r, idlen);
		uint64_t defhash = get_le(&r, 8);
		uint32_t words = (uint32_t)get_le(&r, 4);
		uint32_t ndel = (uint32_t)get_le(&r, 4), nput;
		struct win *w;

		if (r.bad || direct > 1 || type >= CT_NTYPES ||
		    words > 3 * LW_CORRELATION_MAX_THRESHOLD + 3) {
			r.bad = 1;
			break;
		}
		/* A rule removed or redefined since the save: its state is
		 * read past and dropped. */
		w = find_win(c, direct, id, idlen, defhash, words);
		if (w != NULL && w->type != type)
			w = NULL;
		if (!apply_deletions(c, w, ndel, &r))
			break;
		nput = (uint32_t)get_le(&r, 4);
		for (uint32_t k = 0; k < nput && !r.bad; k++) {
			struct rgroup x;
			int ok;

			if (!read_group(&r, &ni, clock, &x) ||
			    !read_state(&r, type, type == CT_TEMPORAL_ORDERED ? words / 3 : 0,
					w, x.seen, c->tmp)) {
				r.bad = 1;
				break;
			}
			if (w == NULL)
				continue;
			ok = place_group(c, w, &x, c->tmp);
			if (ok < 0)
				return LW_ENOMEM;
		}
	}
	if (r.bad || r.p != r.end) {
		*why = r.bad ? "truncated or invalid window state" :
			"trailing bytes after the last window";
		return LW_ECORRUPT;
	}
	if (c->clock == T_NONE || clock > c->clock)
		c->clock = clock;
	(void)full;
	return LW_OK;
}

int lw_correlation_restore(struct lw_correlation *c, const void *data,
			   size_t len, struct lw_diag *diag)
{
	uint64_t seq;
	const char *why = NULL;
	int rc;

	clear_all(c);
	rc = apply(c, data, len, &seq, &why);
	if (rc != LW_OK) {
		clear_all(c);
		c->need_full = 1;
		if (rc == LW_ECORRUPT)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "correlation state: %s", why);
		return rc;
	}
	/* The windows differ from what any stored change log says. */
	c->need_full = 1;
	return LW_OK;
}

void lw_correlation_restore_begin(struct lw_correlation *c)
{
	clear_all(c);
	c->need_full = 1;
	c->keep_from = 0;
}

int lw_correlation_restore_apply(struct lw_correlation *c, uint64_t seq,
				 const void *data, size_t len,
				 struct lw_diag *diag)
{
	uint64_t inner = 0;
	const char *why = NULL;
	int first = c->keep_from == 0;
	int rc = apply(c, data, len, &inner, &why);

	if (rc == LW_OK && inner != seq) {
		rc = LW_ECORRUPT;
		why = "change set stored under another number";
	}
	if (rc != LW_OK) {
		clear_all(c);
		c->need_full = 1;
		c->keep_from = 0;
		if (rc == LW_ECORRUPT)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "correlation state: %s", why);
		return rc;
	}
	/* The log goes on: a new sweep cycle from the next change set. */
	if (first)
		c->keep_from = seq;
	c->save_seq = seq + 1;
	c->cycle_start = seq + 1;
	c->sweep_win = c->sweep_gi = 0;
	c->need_full = 0;
	return LW_OK;
}
