/* The storage of correlation windows (correlator/correlation_int.h):
 * group records in chunks, the hash table, the expiry wheel, the action
 * heap, interned names, and the memory budget with its admission sketch.
 * Writer thread only, like the lw_correlation it belongs to.
 *
 * Room for a new group is made in this order:
 *  1. a group whose window has passed (expired) is reclaimed, oldest
 *     first: it can no longer count towards anything;
 *  2. when none is left, the new key must be admitted: its count in a
 *     count-min sketch (keys seen while memory was full) must exceed the
 *     burst count of a victim, the weakest of SAMPLE live groups of the
 *     window holding the most memory (a group waiting for an action is
 *     never a victim). So a key seen once never displaces anything, a key
 *     seen twice displaces a single-event group, and a source that keeps
 *     coming back gets in before the scanners that do not.
 * The victim is counted (evicted), a refused key too (not_admitted). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/memfind.h"
#include "correlator/correlation_int.h"

#define SAMPLE LW_CORR_SAMPLE    /* victims compared per admission */
#define CMS_ROWS 4
#define SKETCH_LINE 64                    /* bytes: one cache line */
#define SKETCH_LINE_BITS (8 * SKETCH_LINE)
#define ROW_SPAN (SKETCH_LINE / CMS_ROWS) /* a row's counters in a line */
_Static_assert(ROW_SPAN == 16, "sketch_idx takes 4 bits of offset per row");
_Static_assert(LW_CORRELATION_MIN_MEMORY / 32 >= SKETCH_LINE &&
	       LW_CORRELATION_MIN_MEMORY / 16 >= SKETCH_LINE,
	       "the smallest doorkeeper and counters are whole lines");
#define CMS_MAX_WIDTH (1u << 24) /* counters per row */
#define DK_MAX_BYTES (1ull << 27)
#define EVICT_TRIES 4            /* victims one new group may displace */

/* ---- the budget ---- */

static int make_room(struct lw_correlation *c, struct win *w, uint64_t need,
		     uint64_t h, uint32_t strength, uint32_t *keep);

static int fits(const struct lw_correlation *c, uint64_t n)
{
	return c->bytes + n <= c->budget;
}

/* ---- the hash table (linear probing, backward-shift deletion) ----
 * An entry is the group index + 1 (low half) and the high half of the
 * group's hash (a tag), so a probe touches a group record only when the
 * tag matches: a new key costs no cache miss in the records. */

#define TAB_ENTRY(gi, h) (((h) & 0xffffffff00000000ULL) | ((uint64_t)(gi) + 1))
#define TAB_GI(e) ((uint32_t)(e) - 1)

static void tab_insert(struct win *w, uint32_t gi)
{
	uint64_t h = G(w, gi)->hash;
	uint32_t mask = w->tcap - 1, i = (uint32_t)h & mask;

	while (w->tab[i] != 0)
		i = (i + 1) & mask;
	w->tab[i] = TAB_ENTRY(gi, h);
}

static uint32_t tab_slot_of(const struct win *w, uint32_t gi)
{
	uint32_t mask = w->tcap - 1, i = (uint32_t)G(w, gi)->hash & mask;

	while ((uint32_t)w->tab[i] != gi + 1)
		i = (i + 1) & mask;
	return i;
}

static void tab_remove(struct win *w, uint32_t gi)
{
	uint32_t mask = w->tcap - 1, i = tab_slot_of(w, gi), j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (w->tab[j] == 0)
			break;
		home = (uint32_t)G(w, TAB_GI(w->tab[j]))->hash & mask;
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
	uint64_t tag = h & 0xffffffff00000000ULL;
	uint32_t mask, i;

	if (w->tcap == 0)
		return NONE32;
	mask = w->tcap - 1;
	for (i = (uint32_t)h & mask; w->tab[i] != 0; i = (i + 1) & mask) {
		const struct group *g;

		if ((w->tab[i] & 0xffffffff00000000ULL) != tag)
			continue;
		g = G(w, TAB_GI(w->tab[i]));
		if (g->hash == h && g->keylen == klen &&
		    lw_memeq(group_key(g), key, klen))
			return TAB_GI(w->tab[i]);
	}
	return NONE32;
}

/* Bytes a table needs when the group count reaches n, 0 when the
 * current one suffices. */
static uint64_t tab_growth(const struct win *w, uint32_t n)
{
	uint32_t cap = w->tcap ? w->tcap : 16;

	while (cap < 2 * n)
		cap *= 2;
	return cap == w->tcap ? 0 : (uint64_t)cap * sizeof(*w->tab);
}

#define HUGE_PAGE (2u << 20)

/* Zeroed memory for a large table read at random (a window's hash
 * table, the admission sketch). From a huge page up, a mapping of its
 * own, aligned and marked for transparent huge pages: with 4 KiB pages
 * the page walk, not the line, was the miss (perf annotate: the slot
 * prefetch of lw_correlation_tab_prefetch stalled, 10 % of the windows'
 * thread). A hash table is a power of two, so it fills its huge pages;
 * the sketch (three times a power of two) may leave its last MiB on 4
 * KiB pages. Either way the budget counts the bytes asked for, which is
 * what is resident. Always at least 64-byte aligned (the sketch's
 * lines). */
static void *big_alloc(size_t bytes)
{
	char *m, *a;

	if (bytes < HUGE_PAGE) {
		a = aligned_alloc(SKETCH_LINE, (bytes + SKETCH_LINE - 1) & ~(size_t)(SKETCH_LINE - 1));
		if (a != NULL)
			memset(a, 0, bytes);
		return a;
	}
	m = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (a > m)
		munmap(m, (size_t)(a - m));
	if (a + bytes < m + bytes + HUGE_PAGE)
		munmap(a + bytes, (size_t)(m + bytes + HUGE_PAGE - (a + bytes)));
#ifdef MADV_HUGEPAGE
	(void)madvise(a, bytes, MADV_HUGEPAGE); /* a hint: 4 KiB pages work too */
#endif
	return a;
}

/* The admission sketch's one allocation: the doorkeeper, then the
 * counters. */
static size_t sketch_bytes(const struct lw_correlation *c)
{
	return (size_t)(c->dk_bits / 8) + (size_t)c->cms_width * CMS_ROWS;
}

/* Frees what big_alloc(bytes) gave. */
static void big_free(void *p, size_t bytes)
{
	if (p == NULL)
		return;
	if (bytes < HUGE_PAGE)
		free(p);
	else
		munmap(p, bytes);
}

static int tab_grow(struct lw_correlation *c, struct win *w, uint32_t n)
{
	uint32_t cap = w->tcap ? w->tcap : 16, old = w->tcap;
	uint64_t *nt;

	while (cap < 2 * n)
		cap *= 2;
	if (cap == w->tcap)
		return LW_OK;
	nt = big_alloc((size_t)cap * sizeof(*nt));
	if (nt == NULL)
		return LW_ENOMEM;
	big_free(w->tab, (size_t)old * sizeof(*w->tab));
	w->tab = nt;
	w->tcap = cap;
	for (uint32_t i = 0; i < w->ng; i++)
		tab_insert(w, i);
	account(c, w, ((int64_t)cap - old) * (int64_t)sizeof(*nt));
	return LW_OK;
}

/* ---- chunks ---- */

static int chunk_ensure(struct win *w, uint32_t gi)
{
	uint32_t need = (gi >> GROUP_CHUNK_BITS) + 1;

	if (need <= w->nchunks)
		return LW_OK;
	if (need > w->chunk_cap) {
		uint32_t cap = w->chunk_cap ? w->chunk_cap * 2 : 8;
		struct group **nc = realloc(w->chunk, cap * sizeof(*nc));

		if (nc == NULL)
			return LW_ENOMEM;
		w->chunk = nc;
		w->chunk_cap = cap;
	}
	w->chunk[w->nchunks] = malloc(GROUP_CHUNK * sizeof(struct group));
	if (w->chunk[w->nchunks] == NULL)
		return LW_ENOMEM;
	w->nchunks++;
	return LW_OK;
}

/* The last chunk goes once a whole chunk below it is free too, so a
 * window breathing around a chunk boundary does not thrash malloc. */
static void chunk_trim(struct win *w)
{
	while (w->nchunks >= 2 &&
	       w->ng + GROUP_CHUNK <= (w->nchunks - 1) * GROUP_CHUNK) {
		free(w->chunk[--w->nchunks]);
		w->chunk[w->nchunks] = NULL;
	}
}

/* ---- the expiry wheel and the expired list ---- */

static uint32_t *list_head(struct win *w, uint8_t slot)
{
	return slot == SLOT_EXPIRED ? &w->exp_head : &w->slot_head[slot];
}

static void list_unlink(struct win *w, uint32_t gi)
{
	struct group *g = G(w, gi);

	if (g->wslot == SLOT_NONE)
		return;
	if (g->wprev != NONE32)
		G(w, g->wprev)->wnext = g->wnext;
	else
		*list_head(w, g->wslot) = g->wnext;
	if (g->wnext != NONE32)
		G(w, g->wnext)->wprev = g->wprev;
	else if (g->wslot == SLOT_EXPIRED)
		w->exp_tail = g->wprev;
	g->wslot = SLOT_NONE;
}

static void list_push(struct win *w, uint32_t gi, uint8_t slot)
{
	struct group *g = G(w, gi);

	g->wslot = slot;
	if (slot == SLOT_EXPIRED) { /* oldest first: append */
		g->wnext = NONE32;
		g->wprev = w->exp_tail;
		if (w->exp_tail != NONE32)
			G(w, w->exp_tail)->wnext = gi;
		else
			w->exp_head = gi;
		w->exp_tail = gi;
		return;
	}
	g->wprev = NONE32;
	g->wnext = w->slot_head[slot];
	if (g->wnext != NONE32)
		G(w, g->wnext)->wprev = gi;
	w->slot_head[slot] = gi;
}

/* floor(t / d) for any sign of t. */
static int64_t tick_of(int64_t t, int64_t d)
{
	int64_t q = t / d;

	return (t % d != 0 && t < 0) ? q - 1 : q;
}

int64_t lw_correlation_group_expiry(const struct win *w, const struct group *g)
{
	int64_t t = g->seen_ns + w->timespan_ns;

	if (g->last_fire_ns != T_NONE && w->suppress_ns > 0 &&
	    g->last_fire_ns + w->suppress_ns > t)
		t = g->last_fire_ns + w->suppress_ns;
	if (g->blk != NULL && g->blk[BLK_ACT(w)] != T_NONE && g->blk[BLK_ACT(w)] > t)
		t = g->blk[BLK_ACT(w)];
	return t;
}

static void wheel_schedule(struct lw_correlation *c, struct win *w, uint32_t gi)
{
	int64_t t = tick_of(lw_correlation_group_expiry(w, G(w, gi)), w->tick_ns);
	int64_t done;

	if (w->cur_tick == INT64_MIN)
		w->cur_tick = c->clock != T_NONE && tick_of(c->clock, w->tick_ns) < t ?
			tick_of(c->clock, w->tick_ns) : t;
	if (t < w->cur_tick)
		t = w->cur_tick;
	if (t >= w->cur_tick + WHEEL_SLOTS)
		t = w->cur_tick + WHEEL_SLOTS - 1; /* looked at again then */
	list_push(w, gi, (uint8_t)(t & (WHEEL_SLOTS - 1)));
	done = (w->cur_tick + 1) * w->tick_ns;
	if (done < c->wheel_due)
		c->wheel_due = done;
}

static void expire(struct win *w, uint32_t gi)
{
	G(w, gi)->flags |= G_EXPIRED;
	w->nlive--;
	list_push(w, gi, SLOT_EXPIRED);
}

static void wheel_slot(struct lw_correlation *c, struct win *w, uint32_t slot,
		       int64_t now)
{
	uint32_t gi = w->slot_head[slot];

	w->slot_head[slot] = NONE32;
	while (gi != NONE32) {
		struct group *g = G(w, gi);
		uint32_t next = g->wnext;

		g->wslot = SLOT_NONE;
		/* A group whose action is still to run is not expired (its
		 * memory could be reclaimed first): only a wheel run ahead
		 * of the actions (lw_correlation_process) meets one. */
		if (now > lw_correlation_group_expiry(w, g) &&
		    (g->blk == NULL || g->blk[BLK_ACT(w)] == T_NONE))
			expire(w, gi);
		else
			wheel_schedule(c, w, gi);
		gi = next;
	}
}

void lw_correlation_wheel_run(struct lw_correlation *c, int64_t now)
{
	if (now < c->wheel_due)
		return;
	c->wheel_due = INT64_MAX;
	for (uint32_t i = 0; i < c->nwin; i++) {
		struct win *w = &c->w[i];
		int64_t target;

		if (w->cur_tick == INT64_MIN)
			continue;
		/* Tick t is done once all of it has passed: every group in
		 * its slot then expired strictly before now, or moved. */
		target = tick_of(now, w->tick_ns);
		if (target - w->cur_tick > WHEEL_SLOTS) {
			for (uint32_t s = 0; s < WHEEL_SLOTS; s++)
				wheel_slot(c, w, s, now);
			w->cur_tick = target;
		}
		while (w->cur_tick < target) {
			int64_t t = w->cur_tick++;

			wheel_slot(c, w, (uint32_t)(t & (WHEEL_SLOTS - 1)), now);
		}
		if (w->nlive > 0 && (w->cur_tick + 1) * w->tick_ns < c->wheel_due)
			c->wheel_due = (w->cur_tick + 1) * w->tick_ns;
	}
}

void lw_correlation_group_revive(struct lw_correlation *c, struct win *w,
				 uint32_t gi)
{
	struct group *g = G(w, gi);

	if (!(g->flags & G_EXPIRED))
		return;
	list_unlink(w, gi);
	g->flags &= (uint8_t)~G_EXPIRED;
	w->nlive++;
	wheel_schedule(c, w, gi);
}

/* ---- actions (a min-heap of (t, group index)) ---- */

static void heap_up(struct win *w, uint32_t i)
{
	struct action a = w->heap[i];

	while (i > 0 && w->heap[(i - 1) / 2].t > a.t) {
		w->heap[i] = w->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	w->heap[i] = a;
}

static void heap_down(struct win *w, uint32_t i)
{
	struct action a = w->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m;

		if (l >= w->nheap)
			break;
		m = l + 1 < w->nheap && w->heap[l + 1].t < w->heap[l].t ? l + 1 : l;
		if (w->heap[m].t >= a.t)
			break;
		w->heap[i] = w->heap[m];
		i = m;
	}
	w->heap[i] = a;
}

/* A heap entry that cannot be kept (no memory) only delays the action
 * to the group's next event or to the restart: the group stays. */
static void heap_push(struct lw_correlation *c, struct win *w, int64_t t,
		      uint32_t gi)
{
	if (w->nheap == w->heap_cap) {
		uint32_t cap = w->heap_cap ? w->heap_cap * 2 : 16;
		struct action *nh = realloc(w->heap, cap * sizeof(*nh));

		if (nh == NULL)
			return;
		account(c, w, (int64_t)(cap - w->heap_cap) * (int64_t)sizeof(*nh));
		w->heap = nh;
		w->heap_cap = cap;
	}
	w->heap[w->nheap++] = (struct action){t, gi};
	heap_up(w, w->nheap - 1);
	if (t < c->due)
		c->due = t;
}

void lw_correlation_action_at(struct lw_correlation *c, struct win *w,
			      uint32_t gi, int64_t t)
{
	struct group *g = G(w, gi);

	/* Blocked groups only: tier 0 has no act_due (callers promote). */
	if (g->blk == NULL)
		return;
	if (g->blk[BLK_ACT(w)] != T_NONE && g->blk[BLK_ACT(w)] <= t)
		return; /* an earlier entry comes first and re-checks */
	g->blk[BLK_ACT(w)] = t;
	heap_push(c, w, t, gi);
}

uint32_t lw_correlation_action_pop(struct win *w, int64_t now)
{
	while (w->nheap > 0 && w->heap[0].t <= now) {
		struct action a = w->heap[0];
		struct group *g;

		w->heap[0] = w->heap[--w->nheap];
		if (w->nheap > 0)
			heap_down(w, 0);
		if (a.gi >= w->ng)
			continue;
		g = G(w, a.gi);
		if (g->blk == NULL || g->blk[BLK_ACT(w)] != a.t)
			continue; /* stale: the group moved, or was rescheduled */
		g->blk[BLK_ACT(w)] = T_NONE;
		lw_correlation_group_weakened(w); /* no action due: a victim again */
		return a.gi;
	}
	return NONE32;
}

/* ---- names ---- */

static uint32_t name_find(const struct lw_correlation *c, uint64_t h,
			  const char *s, size_t len, uint32_t *slot)
{
	uint32_t mask = c->ntcap - 1, i = (uint32_t)h & mask;

	for (; c->ntab[i] != 0; i = (i + 1) & mask) {
		const struct name *n = &c->names[c->ntab[i]];

		if (n->hash == h && n->len == len && (len == 0 || memcmp(n->s, s, len) == 0))
			break;
	}
	*slot = i;
	return c->ntab[i];
}

static int names_grow(struct lw_correlation *c)
{
	uint32_t cap = c->ntcap ? c->ntcap * 2 : 64;
	uint32_t *nt;

	if (!fits(c, (uint64_t)cap * sizeof(*nt)))
		return LW_EFULL;
	nt = calloc(cap, sizeof(*nt));
	if (nt == NULL)
		return LW_ENOMEM;
	account(c, NULL, ((int64_t)cap - c->ntcap) * (int64_t)sizeof(*nt));
	free(c->ntab);
	c->ntab = nt;
	c->ntcap = cap;
	for (uint32_t id = 1; id < c->nnames; id++) {
		uint32_t slot;

		if (c->names[id].refs > 0 &&
		    name_find(c, c->names[id].hash, c->names[id].s,
			      c->names[id].len, &slot) == 0)
			c->ntab[slot] = id;
	}
	return LW_OK;
}

static uint32_t name_new_id(struct lw_correlation *c)
{
	uint32_t id;

	if (c->names_free != 0) {
		id = c->names_free;
		c->names_free = (uint32_t)c->names[id].hash;
		return id;
	}
	if (c->nnames == 0)
		c->nnames = 1; /* id 0 means none */
	if (c->nnames >= c->names_cap) {
		uint32_t cap = c->names_cap ? c->names_cap * 2 : 64;
		struct name *nv;

		if (!fits(c, (uint64_t)(cap - c->names_cap) * sizeof(*nv)))
			return 0;
		nv = realloc(c->names, cap * sizeof(*nv));
		if (nv == NULL)
			return 0;
		account(c, NULL, (int64_t)(cap - c->names_cap) * (int64_t)sizeof(*nv));
		c->names = nv;
		c->names_cap = cap;
	}
	return c->nnames++;
}

uint32_t lw_correlation_name_get(struct lw_correlation *c, const char *s,
				 size_t len)
{
	uint64_t h = key_hash(c->seed, s, len);
	uint32_t slot, id;
	char *copy;

	if (len > UINT16_MAX)
		return 0;
	if ((c->nnames_live + 1) * 2 > c->ntcap && names_grow(c) != LW_OK)
		return 0;
	id = name_find(c, h, s, len, &slot);
	if (id != 0) {
		c->names[id].refs++;
		return id;
	}
	if (!fits(c, len + 1 + 16))
		return 0;
	copy = malloc(len + 1);
	if (copy == NULL)
		return 0;
	id = name_new_id(c);
	if (id == 0) {
		free(copy);
		return 0;
	}
	if (len > 0)
		memcpy(copy, s, len);
	copy[len] = '\0';
	c->names[id] = (struct name){h, 1, (uint16_t)len, copy};
	c->ntab[slot] = id;
	c->nnames_live++;
	account(c, NULL, (int64_t)len + 1 + 16);
	return id;
}

void lw_correlation_name_put(struct lw_correlation *c, uint32_t id)
{
	struct name *n;
	uint32_t slot, mask, j;

	if (id == 0)
		return;
	n = &c->names[id];
	if (--n->refs > 0)
		return;
	/* Backward-shift deletion, as in the group tables. */
	name_find(c, n->hash, n->s, n->len, &slot);
	mask = c->ntcap - 1;
	j = slot;
	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (c->ntab[j] == 0)
			break;
		home = (uint32_t)c->names[c->ntab[j]].hash & mask;
		if ((slot <= j) ? (home <= slot || home > j) : (home <= slot && home > j)) {
			c->ntab[slot] = c->ntab[j];
			slot = j;
		}
	}
	c->ntab[slot] = 0;
	account(c, NULL, -((int64_t)n->len + 1 + 16));
	free(n->s);
	n->s = NULL;
	n->hash = c->names_free;
	c->names_free = id;
	c->nnames_live--;
}

struct lw_str lw_correlation_name_str(const struct lw_correlation *c, uint32_t id)
{
	if (id == 0)
		return LW_STR_NULL;
	return (struct lw_str){c->names[id].s, c->names[id].len};
}

/* ---- blocks ---- */

int lw_correlation_group_promote(struct lw_correlation *c, struct win *w,
				 uint32_t *gi, const int64_t *st)
{
	struct group *g = G(w, *gi);
	int64_t *b;
	uint64_t ev[LW_INCIDENT_MAX_EVIDENCE];
	uint32_t nev;

	if (g->blk != NULL)
		return LW_OK;
	/* A group gaining its third event outweighs any victim with fewer. */
	if (!make_room(c, w, block_bytes(w, 0), g->hash,
		       g->count < UINT32_MAX ? g->count + 1 : g->count, gi))
		return LW_EFULL;
	g = G(w, *gi);
	b = malloc(BLK_WORDS(w, 0) * sizeof(int64_t));
	if (b == NULL)
		return LW_ENOMEM;
	nev = lw_correlation_evidence(w, g, ev);
	if (w->words > 0)
		memcpy(b, st, w->words * sizeof(*b));
	for (uint32_t i = 0; i < nev; i++)
		b[BLK_EV(w) + i] = (int64_t)ev[i];
	b[BLK_PFIRST(w)] = b[BLK_PLAST(w)] = T_NONE;
	b[BLK_PCOUNT(w)] = 0;
	b[BLK_ACT(w)] = T_NONE;
	g->blk = b;
	g->flags &= (uint8_t)~G_EVBIG;
	g->nev = (uint8_t)nev;
	g->evpos = (uint8_t)(nev % EV_SMALL);
	w->nblocks++;
	account(c, w, (int64_t)block_bytes(w, 0));
	return LW_OK;
}

int lw_correlation_group_evgrow(struct lw_correlation *c, struct win *w,
				struct group *g)
{
	uint64_t more = block_bytes(w, 1) - block_bytes(w, 0);
	int64_t *b;

	/* No room-making here: a full small ring keeps the newest. */
	if (!fits(c, more))
		return 0;
	b = realloc(g->blk, BLK_WORDS(w, 1) * sizeof(int64_t));
	if (b == NULL)
		return 0;
	/* The small ring is linear until it wraps: it grows when full. */
	g->blk = b;
	g->flags |= G_EVBIG;
	g->evpos = g->nev;
	account(c, w, (int64_t)more);
	return 1;
}

void lw_correlation_group_demote(struct lw_correlation *c, struct win *w,
				 uint32_t gi)
{
	struct group *g = G(w, gi);

	if (g->blk == NULL || w->smode == SM_BLOCK || (g->flags & G_PENDING) ||
	    g->blk[BLK_ACT(w)] != T_NONE || g->nev > 0)
		return;
	/* The state is empty (just re-armed): tier 0's empty form. */
	account(c, w, -(int64_t)block_bytes(w, (g->flags & G_EVBIG) != 0));
	free(g->blk);
	g->blk = NULL;
	g->flags &= (uint8_t)~G_EVBIG;
	g->slen = 0;
	g->nev = g->evpos = 0;
	if (w->smode == SM_RAW) {
		/* temporal: every rule's time unset */
		for (uint32_t i = 0; i < w->words; i++)
			g->inl[i] = T_NONE;
	}
	w->nblocks--;
}

/* ---- freeing ---- */

void lw_correlation_group_dirty(struct win *w, uint32_t gi)
{
	struct group *g = G(w, gi);

	if (g->flags & G_DIRTY)
		return;
	if (w->ndirty == w->dirty_cap) {
		uint32_t cap = w->dirty_cap ? w->dirty_cap * 2 : 64;
		uint32_t *nd = realloc(w->dirty, cap * sizeof(*nd));

		if (nd == NULL) {
			/* Saved by the sweep instead (G_DIRTY unset); a
			 * clean stop cannot trust the list and saves all. */
			w->dirty_lost = 1;
			return;
		}
		w->dirty = nd;
		w->dirty_cap = cap;
	}
	g->flags |= G_DIRTY;
	w->dirty[w->ndirty++] = gi;
}

/* The key of a group that a save wrote goes into the next save as a
 * deletion. */
static void tombstone(struct win *w, const struct group *g)
{
	unsigned char len[2] = {(unsigned char)g->keylen,
				(unsigned char)(g->keylen >> 8)};

	lw_buf_append(&w->tomb, len, 2);
	lw_buf_append(&w->tomb, group_key(g), g->keylen);
	w->ntomb++;
}

static void release(struct lw_correlation *c, struct win *w, struct group *g)
{
	lw_correlation_name_put(c, g->host);
	lw_correlation_name_put(c, g->zone);
	g->host = g->zone = 0;
	if (g->blk != NULL) {
		account(c, w, -(int64_t)block_bytes(w, (g->flags & G_EVBIG) != 0));
		free(g->blk);
		g->blk = NULL;
		g->flags &= (uint8_t)~G_EVBIG;
		w->nblocks--;
	}
	if (g->keylen > KEY_INLINE) {
		free(g->key.p);
		account(c, w, -((int64_t)g->keylen + 16));
	}
	g->keylen = 0;
}

void lw_correlation_group_free(struct lw_correlation *c, struct win *w,
			       uint32_t gi)
{
	struct group *g = G(w, gi);
	uint32_t last = w->ng - 1;

	if (g->flags & G_SAVED)
		tombstone(w, g);
	list_unlink(w, gi);
	tab_remove(w, gi);
	if (!(g->flags & G_EXPIRED))
		w->nlive--;
	release(c, w, g);
	if (gi != last) {
		struct group *m = G(w, last);

		/* The last group takes the hole: its list neighbours, table
		 * entry and action point at its new index. */
		*g = *m;
		if (g->wslot != SLOT_NONE) {
			if (g->wprev != NONE32)
				G(w, g->wprev)->wnext = gi;
			else
				*list_head(w, g->wslot) = gi;
			if (g->wnext != NONE32)
				G(w, g->wnext)->wprev = gi;
			else if (g->wslot == SLOT_EXPIRED)
				w->exp_tail = gi;
		}
		w->tab[tab_slot_of(w, last)] = TAB_ENTRY(gi, g->hash);
		if (g->blk != NULL && g->blk[BLK_ACT(w)] != T_NONE)
			heap_push(c, w, g->blk[BLK_ACT(w)], gi);
		/* A sweep that passed gi must still see it. */
		g->flags &= (uint8_t)~G_DIRTY;
		lw_correlation_group_dirty(w, gi);
	}
	w->ng--;
	account(c, w, -(int64_t)sizeof(struct group));
	chunk_trim(w);
}

void lw_correlation_win_clear(struct lw_correlation *c, struct win *w)
{
	for (uint32_t gi = 0; gi < w->ng; gi++)
		release(c, w, G(w, gi));
	account(c, w, -(int64_t)w->ng * (int64_t)sizeof(struct group));
	w->ng = w->nlive = 0;
	chunk_trim(w);
	if (w->tab != NULL)
		memset(w->tab, 0, (size_t)w->tcap * sizeof(*w->tab));
	for (uint32_t s = 0; s < WHEEL_SLOTS; s++)
		w->slot_head[s] = NONE32;
	w->exp_head = w->exp_tail = NONE32;
	w->cur_tick = INT64_MIN;
	w->nheap = 0;
	w->ndirty = 0;
	w->nspare = 0;
	lw_correlation_group_weakened(w);
	lw_buf_reset(&w->tomb);
	w->ntomb = 0;
}

/* ---- admission ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t rnd(struct lw_correlation *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* The admission sketch: a doorkeeper (a Bloom filter of two bits per
 * key) in front of a count-min sketch (CMS_ROWS rows of byte counters),
 * both fed only while memory is full. A key's first sighting in a period
 * only sets its doorkeeper bits, so the many keys seen once (scanners)
 * never crowd the counters that tell the keys seen again apart; its
 * estimate is the doorkeeper's 1 plus the counters' minimum. Every
 * period (an eighth of the doorkeeper's bits in additions) the
 * doorkeeper is cleared and the counters halved: keys seen long ago
 * fade. */

/* Blocked: a key's two doorkeeper bits lie in one 64-byte line of the
 * doorkeeper, and its CMS_ROWS counters in one 64-byte line of the
 * counters (row r in the line's r-th quarter), so a sighting or a
 * victim's estimate reads two cache lines instead of six (each was a
 * miss on a large sketch, and a victim sample prefetched six per
 * candidate). Both arrays are 64-byte aligned (sketch_alloc). */
static void sketch_idx(const struct lw_correlation *c, uint32_t win, uint64_t h,
		       uint64_t dk[2], uint32_t idx[CMS_ROWS])
{
	uint64_t x = mix(h ^ ((uint64_t)win << 40));
	uint64_t y = mix(x + 0x9e3779b97f4a7c15ULL);
	uint64_t line = x & (c->dk_bits / SKETCH_LINE_BITS - 1);
	uint32_t block = (uint32_t)y & (c->cms_width * CMS_ROWS / SKETCH_LINE - 1);

	dk[0] = line * SKETCH_LINE_BITS + ((x >> 32) & (SKETCH_LINE_BITS - 1));
	dk[1] = line * SKETCH_LINE_BITS + ((x >> 41) & (SKETCH_LINE_BITS - 1));
	for (uint32_t r = 0; r < CMS_ROWS; r++)
		idx[r] = block * SKETCH_LINE + r * ROW_SPAN +
			 ((uint32_t)(y >> (32 + 4 * r)) & (ROW_SPAN - 1));
}

static int dk_has(const struct lw_correlation *c, const uint64_t dk[2])
{
	return (c->dk[dk[0] >> 3] >> (dk[0] & 7) & 1) &&
	       (c->dk[dk[1] >> 3] >> (dk[1] & 7) & 1);
}

static uint32_t cms_min(const struct lw_correlation *c, const uint32_t idx[CMS_ROWS])
{
	uint32_t min = 255;

	for (uint32_t r = 0; r < CMS_ROWS; r++)
		if (c->cms[idx[r]] < min)
			min = c->cms[idx[r]];
	return min;
}

/* The sketch is only needed once memory is full: its bytes are counted
 * in the budget from the start, its pages touched from then on. */
static void sketch_alloc(struct lw_correlation *c)
{
	/* Both parts are powers of two of at least SKETCH_LINE bytes
	 * (lw_correlation_groups_budget): the counters start on a line
	 * too. */
	size_t n = sketch_bytes(c);

	if (c->dk == NULL && !c->sketch_failed) {
		c->dk = big_alloc(n);
		c->cms = c->dk != NULL ? c->dk + c->dk_bits / 8 : NULL;
		c->sketch_failed = c->dk == NULL;
	}
}

/* Adds one sighting of (window, key hash) and returns its estimate.
 * Without a sketch (no memory for it) every key counts as seen once. */
static uint32_t cms_add(struct lw_correlation *c, uint32_t win, uint64_t h)
{
	uint64_t dk[2];
	uint32_t idx[CMS_ROWS], min, est;

	sketch_alloc(c);
	if (c->cms == NULL)
		return 1;
	sketch_idx(c, win, h, dk, idx);
	if (!dk_has(c, dk)) {
		c->dk[dk[0] >> 3] |= (uint8_t)(1u << (dk[0] & 7));
		c->dk[dk[1] >> 3] |= (uint8_t)(1u << (dk[1] & 7));
		est = 1;
	} else {
		min = cms_min(c, idx);
		if (min < 255)
			min++;
		for (uint32_t r = 0; r < CMS_ROWS; r++)
			if (c->cms[idx[r]] < min)
				c->cms[idx[r]] = (uint8_t)min;
		est = 1 + min;
	}
	if (++c->cms_adds >= c->dk_bits / 8) {
		memset(c->dk, 0, c->dk_bits / 8);
		for (uint32_t i = 0; i < CMS_ROWS * c->cms_width; i++)
			c->cms[i] >>= 1;
		c->cms_adds = 0;
		/* every group is weaker now: samples may succeed again */
		for (uint32_t i = 0; i < c->nwin; i++)
			lw_correlation_group_weakened(&c->w[i]);
	}
	return est;
}

/* Where the sketch keeps (window, key hash): its lines are prefetched
 * (probe_start) before they are read (probe_estimate). */
struct probe {
	uint64_t dk[2];
	uint32_t idx[CMS_ROWS];
};

static void probe_start(const struct lw_correlation *c, uint32_t win, uint64_t h,
			struct probe *p)
{
	if (c->cms == NULL)
		return;
	sketch_idx(c, win, h, p->dk, p->idx);
	/* one line each (sketch_idx) */
	__builtin_prefetch(&c->dk[p->dk[0] >> 3]);
	__builtin_prefetch(&c->cms[p->idx[0]]);
}

/* A new key is admitted only after its sketch is read (cms_add): that
 * read was the largest cache miss of a flood of new sources, paid once
 * per window and one window after the other. Prefetched with the event's
 * other lines, the misses overlap. Only while memory is full: otherwise
 * the key is admitted without a look at the sketch. */
void lw_correlation_sketch_prefetch(const struct lw_correlation *c,
				    const struct win *w, uint64_t h)
{
	struct probe p;

	if (c->cms != NULL && !fits(c, sizeof(struct group)))
		probe_start(c, w->index, h, &p);
}

/* The sketch's estimate for a probe_start-ed key, without adding to it. */
static uint32_t probe_estimate(const struct lw_correlation *c, const struct probe *p)
{
	if (c->cms == NULL)
		return 0;
	return dk_has(c, p->dk) ? 1 + cms_min(c, p->idx) : 0;
}

/* What a live group holds: its events, or for an anomaly group what it
 * learnt (terms, baseline windows, a series), which a firing does not
 * empty. */
static uint32_t held_of(const struct win *w, const struct group *g)
{
	uint32_t held = g->count;

	if (ctype_is_anomaly(w->type)) {
		uint32_t a = lw_correlation_anomaly_weight(w->r, g->blk != NULL ?
							    g->blk : g->inl);
		if (a > held)
			held = a;
	}
	return held;
}

void lw_correlation_group_weakened(struct win *w)
{
	w->fail_below = w->fail_skip = w->fail_left = 0;
}

static int victim_ok(const struct win *w, const struct group *g, uint32_t below)
{
	return held_of(w, g) < below && !(g->flags & G_PENDING) &&
	       !(g->blk != NULL && g->blk[BLK_ACT(w)] != T_NONE);
}

/* A spare of the last sample still weaker than `below`, not `avoid`, or
 * NONE32. */
static uint32_t take_spare(struct win *w, uint32_t below, uint32_t avoid,
			   uint32_t *count)
{
	while (w->nspare > 0) {
		const struct spare *s = &w->spare[--w->nspare];
		const struct group *g;
		uint32_t st;

		if (s->gi >= w->ng || s->gi == avoid)
			continue;
		g = G(w, s->gi);
		if (g->hash != s->hash || !victim_ok(w, g, below))
			continue; /* moved into a freed hole, or grown */
		st = s->strength > held_of(w, g) ? s->strength : held_of(w, g);
		if (st >= below)
			continue;
		*count = st;
		return s->gi;
	}
	return NONE32;
}

/* The weakest of SAMPLE random live groups of w among those weaker than
 * `below`, never one with an action due; NONE32 when none qualifies.
 * Weaker: a lower strength (its burst events, or how often its key was
 * seen while memory was full when that is more: a source that keeps
 * coming back is not displaced by one seen twice), then fewer events
 * held, then seen longest ago. A group holding (held_of) `below` or more is
 * never weaker, so its sketch counters are not read. Each sampled record
 * and each candidate's sketch counters are a cache miss on a large
 * table: all of them are prefetched before the first is read. A spare
 * of the last sample is taken before a new sample, and a new group
 * (new_group) may be refused without one after failed samples (struct
 * win's fail_*); `avoid`, the group the caller grows, is never picked. */
static uint32_t pick_victim(struct lw_correlation *c, struct win *w,
			    uint32_t below, uint32_t avoid, int new_group,
			    uint32_t *count)
{
	uint32_t pick[SAMPLE], strength[SAMPLE], best = NONE32;
	uint32_t n = w->ng <= SAMPLE ? w->ng : SAMPLE; /* a small window is looked at whole */
	struct probe pr[SAMPLE];

	if ((best = take_spare(w, below, avoid, count)) != NONE32)
		return best;
	/* Only a new group is refused without a sample: one that grows (a
	 * promotion) would lose the event it counts. */
	if (new_group && below <= w->fail_below && w->fail_left > 0) {
		w->fail_left--;
		return NONE32;
	}

	for (uint32_t i = 0; i < n; i++) {
		/* the high half scaled to [0, ng): no division (8 of them
		 * were a visible share of a refused key's cost) */
		pick[i] = w->ng <= SAMPLE ? i :
			(uint32_t)(((rnd(c) >> 32) * w->ng) >> 32);
		__builtin_prefetch(G(w, pick[i]));
		__builtin_prefetch((const char *)G(w, pick[i]) + sizeof(struct group) - 1);
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct group *g = G(w, pick[i]);

		if (pick[i] == avoid || !victim_ok(w, g, below))
			pick[i] = NONE32;
		else
			probe_start(c, w->index, g->hash, &pr[i]);
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t gi = pick[i], st, held;
		const struct group *g;

		if (gi == NONE32)
			continue;
		g = G(w, gi);
		st = probe_estimate(c, &pr[i]);
		held = held_of(w, g);
		if (st < held)
			st = held;
		strength[i] = st;
		if (st >= below) {
			pick[i] = NONE32;
			continue;
		}
		if (best == NONE32 || st < *count ||
		    (st == *count && (g->count < G(w, best)->count ||
				      (g->count == G(w, best)->count &&
				       g->seen_ns < G(w, best)->seen_ns)))) {
			best = gi;
			*count = st;
		}
	}
	if (best == NONE32) {
		/* The skip follows the latest failed strength, so that a
		 * stronger key after weaker failures is always sampled. */
		if (below == w->fail_below)
			w->fail_skip = w->fail_skip * 2 > LW_CORR_SKIP_MAX ?
				LW_CORR_SKIP_MAX : (w->fail_skip ? w->fail_skip * 2 : 1);
		else
			w->fail_skip = 1;
		w->fail_below = below;
		w->fail_left = w->fail_skip;
	} else {
		lw_correlation_group_weakened(w);
	}
	/* The other qualifying ones are kept for the next admissions,
	 * strongest first so that the weakest is taken first (duplicates
	 * of a small window's whole look are harmless: checked again). */
	w->nspare = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t at;

		if (pick[i] == NONE32 || pick[i] == best)
			continue;
		for (at = w->nspare; at > 0 && w->spare[at - 1].strength < strength[i]; at--)
			w->spare[at] = w->spare[at - 1];
		w->spare[at].gi = pick[i];
		w->spare[at].hash = G(w, pick[i])->hash;
		w->spare[at].strength = strength[i];
		w->nspare++;
	}
	return best;
}

/* Frees gi of w; *keep (a group index of keep_w the caller holds)
 * follows the group that takes the hole. */
static void free_keeping(struct lw_correlation *c, struct win *w, uint32_t gi,
			 const struct win *keep_w, uint32_t *keep)
{
	uint32_t last = w->ng - 1;

	lw_correlation_group_free(c, w, gi);
	if (keep != NULL && w == keep_w && *keep == last)
		*keep = gi;
}

/* Frees one expired group: of w when it has one, else (unless only_w) of
 * any window. 0 when there is none. */
static int reclaim_one(struct lw_correlation *c, struct win *w, int only_w,
		       const struct win *keep_w, uint32_t *keep)
{
	struct win *from = w != NULL && w->exp_head != NONE32 ? w : NULL;

	for (uint32_t i = 0; from == NULL && !only_w && i < c->nwin; i++)
		if (c->w[i].exp_head != NONE32)
			from = &c->w[i];
	if (from == NULL)
		return 0;
	free_keeping(c, from, from->exp_head, keep_w, keep);
	from->n.reclaimed++;
	c->stats.reclaimed++;
	return 1;
}

/* The window holding the most memory: where a victim is taken. */
static struct win *heaviest(struct lw_correlation *c)
{
	struct win *best = NULL;

	for (uint32_t i = 0; i < c->nwin; i++)
		if (c->w[i].ng > 0 && (best == NULL || c->w[i].bytes > best->bytes))
			best = &c->w[i];
	return best;
}

/* Makes room for `need` more bytes (and, for a new group of w, a place
 * under w's max_groups): expired groups first, then victims weaker than
 * `strength` (0: the new key's sketch count, from hash h). *keep is a
 * group of w the caller holds (never a victim; its index is kept right),
 * or NULL. 1 when there is room. */
static int make_room(struct lw_correlation *c, struct win *w, uint64_t need,
		     uint64_t h, uint32_t strength, uint32_t *keep)
{
	int new_group = keep == NULL, tries = 0;

	for (;;) {
		int capped = new_group && w->max_groups > 0 && w->ng >= w->max_groups;
		struct win *vw;
		uint32_t victim, vcount = 0;

		if (!capped && fits(c, need))
			return 1;
		if (reclaim_one(c, w, capped, w, keep))
			continue;
		if (tries++ >= EVICT_TRIES)
			return 0;
		if (strength == 0)
			strength = cms_add(c, w->index, h);
		vw = capped ? w : heaviest(c);
		if (vw == NULL)
			return 0;
		victim = pick_victim(c, vw, strength,
				     vw == w && keep != NULL ? *keep : NONE32, new_group,
				     &vcount);
		if (victim == NONE32 || (vw == w && keep != NULL && victim == *keep))
			return 0;
		free_keeping(c, vw, victim, w, keep);
		vw->n.evicted++;
		c->stats.evicted++;
	}
}

/* ---- get ---- */

static void group_init(struct win *w, struct group *g, uint64_t h)
{
	memset(g, 0, sizeof(*g));
	g->hash = h;
	g->seen_ns = g->first_ns = g->last_ns = T_NONE;
	g->last_fire_ns = T_NONE;
	g->wslot = SLOT_NONE;
	g->wprev = g->wnext = NONE32;
	if (w->smode == SM_RAW)
		for (uint32_t i = 0; i < w->words; i++)
			g->inl[i] = T_NONE;
}

void lw_correlation_tab_prefetch(const struct win *w, uint64_t h)
{
	if (w->tcap > 0)
		__builtin_prefetch(&w->tab[(uint32_t)h & (w->tcap - 1)]);
}

uint32_t lw_correlation_tab_peek(const struct win *w, uint64_t h)
{
	uint64_t tag = h & 0xffffffff00000000ULL;
	uint32_t mask, i;

	if (w->tcap == 0)
		return NONE32;
	mask = w->tcap - 1;
	for (i = (uint32_t)h & mask; w->tab[i] != 0; i = (i + 1) & mask) {
		if ((w->tab[i] & 0xffffffff00000000ULL) == tag) {
			const struct group *g = G(w, TAB_GI(w->tab[i]));

			__builtin_prefetch(g);
			__builtin_prefetch((const char *)g + 64);
			__builtin_prefetch((const char *)g + 128);
			return TAB_GI(w->tab[i]);
		}
	}
	return NONE32;
}

uint32_t lw_correlation_group_get(struct lw_correlation *c, struct win *w,
				  const char *key, uint16_t klen,
				  enum get_result *res)
{
	return lw_correlation_group_get_h(c, w, key, klen,
					  key_hash(c->seed, key, klen), res);
}

uint32_t lw_correlation_group_get_h(struct lw_correlation *c, struct win *w,
				    const char *key, uint16_t klen, uint64_t h,
				    enum get_result *res)
{
	uint64_t need = sizeof(struct group);
	uint32_t gi = tab_find(w, h, key, klen);
	struct group *g;
	char *kp = NULL;

	if (gi != NONE32) {
		*res = GET_FOUND;
		return gi;
	}
	if (klen > KEY_INLINE)
		need += klen + 16;
	need += tab_growth(w, w->ng + 1);
	if (!make_room(c, w, need, h, 0, NULL)) {
		w->n.not_admitted++;
		c->stats.not_admitted++;
		*res = GET_REFUSED;
		return NONE32;
	}
	*res = GET_NOMEM;
	if (tab_grow(c, w, w->ng + 1) != LW_OK || chunk_ensure(w, w->ng) != LW_OK)
		return NONE32;
	if (klen > KEY_INLINE && (kp = malloc(klen)) == NULL)
		return NONE32;
	gi = w->ng++;
	w->nlive++;
	g = G(w, gi);
	group_init(w, g, h);
	g->keylen = klen;
	if (kp != NULL) {
		memcpy(kp, key, klen);
		g->key.p = kp;
		account(c, w, (int64_t)klen + 16);
	} else if (klen > 0) {
		memcpy(g->key.b, key, klen);
	}
	account(c, w, (int64_t)sizeof(struct group));
	tab_insert(w, gi);
	*res = GET_CREATED;
	return gi;
}

void lw_correlation_group_delete(struct lw_correlation *c, struct win *w,
				 const char *key, uint16_t klen)
{
	uint32_t gi = tab_find(w, key_hash(c->seed, key, klen), key, klen);

	if (gi != NONE32)
		lw_correlation_group_free(c, w, gi);
}

/* The group's place on the wheel once its times are set (creation). */
void lw_correlation_group_placed(struct lw_correlation *c, struct win *w,
				 uint32_t gi)
{
	if (G(w, gi)->wslot == SLOT_NONE && !(G(w, gi)->flags & G_EXPIRED))
		wheel_schedule(c, w, gi);
}

/* ---- budget setup ---- */

/* The largest power of two at most n (n >= 1). */
static uint64_t pow2_floor(uint64_t n)
{
	uint64_t p = 1;

	while (p <= n / 2)
		p *= 2;
	return p;
}

int lw_correlation_groups_budget(struct lw_correlation *c, uint64_t bytes)
{
	uint64_t dk_bytes, width;

	if (bytes < LW_CORRELATION_MIN_MEMORY)
		bytes = LW_CORRELATION_MIN_MEMORY;
	/* The sketch takes 3/32 of the budget: the doorkeeper 1/32, the
	 * counters 1/16 (docs/rules.md has the sizes and what they give). */
	dk_bytes = pow2_floor(bytes / 32);
	if (dk_bytes > DK_MAX_BYTES)
		dk_bytes = DK_MAX_BYTES;
	width = pow2_floor(bytes / 16 / CMS_ROWS);
	if (width > CMS_MAX_WIDTH)
		width = CMS_MAX_WIDTH;
	account(c, NULL, -(int64_t)sketch_bytes(c));
	big_free(c->dk, sketch_bytes(c));
	c->dk = c->cms = NULL;
	c->sketch_failed = 0;
	c->dk_bits = dk_bytes * 8;
	c->cms_width = (uint32_t)width;
	c->cms_adds = 0;
	account(c, NULL, (int64_t)(dk_bytes + width * CMS_ROWS));
	c->budget = bytes;
	return LW_OK;
}

void lw_correlation_groups_release(struct lw_correlation *c)
{
	for (uint32_t i = 0; i < c->nwin && c->w != NULL; i++) {
		struct win *w = &c->w[i];

		lw_correlation_win_clear(c, w);
		for (uint32_t k = 0; k < w->nchunks; k++)
			free(w->chunk[k]);
		free(w->chunk);
		big_free(w->tab, (size_t)w->tcap * sizeof(*w->tab));
		free(w->heap);
		free(w->dirty);
		lw_buf_release(&w->tomb);
	}
	for (uint32_t id = 1; id < c->nnames; id++)
		if (c->names[id].refs > 0)
			free(c->names[id].s);
	free(c->names);
	free(c->ntab);
	big_free(c->dk, sketch_bytes(c));
}
