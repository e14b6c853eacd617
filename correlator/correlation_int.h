/* Private to the correlation modules: the compiled rules and the window
 * state that correlation_load.c (loading), correlation_refs.c (reference
 * resolution), correlation.c (the windows) and correlation_state.c (save /
 * restore) share. Included only by those four files. */
#ifndef LW_CORRELATOR_CORRELATION_INT_H
#define LW_CORRELATOR_CORRELATION_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/event.h"
#include "correlator/correlation.h"

#define NONE32 UINT32_MAX
#define T_NONE INT64_MIN
/* Times the windows hold lie strictly within 2^62 ns of the epoch (years
 * 1824 to 2116), so that the difference of two (also as the saved state
 * encodes it, a signed delta), or a time plus a timespan, cannot
 * overflow. An event dated beyond (a sender's clock, an attacker's line:
 * the parser reads years 1678 to 2261) is fed at the bound; a restored
 * time beyond is corruption (correlation_state.c). */
#define LW_CORR_T_MAX ((INT64_C(1) << 62) - 1)

enum ctype {
	CT_EVENT_COUNT = 0,
	CT_VALUE_COUNT,
	CT_TEMPORAL,
	CT_TEMPORAL_ORDERED,
	CT_ABSENCE,
	CT_DIRECT, /* a detection rule firing on its own; never in a file */
	/* logward's anomaly types (correlation_anomaly.c); after direct so
	 * that the saved type numbers of the others stay what they were */
	CT_NEW_TERMS,
	CT_VALUE_SUM,
	CT_BEACONING,
	CT_NTYPES
};

/* "event_count" ...: the type's name in rule files and saved state. */
static inline const char *ctype_name(enum ctype t)
{
	static const char *const names[] = {
		"event_count", "value_count", "temporal", "temporal_ordered",
		"absence", "direct", "new_terms", "value_sum", "beaconing"};

	return names[t];
}

/* The anomaly types: their state is updated by correlation_anomaly.c,
 * never re-armed to empty (a term set or a baseline outlives a firing). */
static inline int ctype_is_anomaly(enum ctype t)
{
	return t >= CT_NEW_TERMS && t < CT_NTYPES;
}

enum op {
	OP_GT = 0, OP_GTE, OP_LT, OP_LTE, OP_EQ, OP_NEQ, OP_COUNT
};

/* A group-by or value field: an event member, or an extra field (decoder
 * output, zones) looked up by its ECS name. */
struct fref {
	uint8_t member;   /* enum lw_event_member */
	uint32_t keylen;
	char *key;        /* ECS name (extra fields are looked up by it) */
};

/* ---- rules (built by correlation_load.c and correlation_refs.c) ---- */

struct alias {
	char *name;   /* the alias (used in group-by / condition.field) */
	char *ref;    /* the rule reference as written in `rules` */
	char *field;
	int line;
};

struct crule {
	struct lw_sigma_rule_info info;
	char **tagv;
	int has_category;
	enum ctype type;
	char **refs;          /* as written */
	int *ref_lines;
	uint32_t nrefs;
	uint32_t *ref_idx;    /* resolved: detection index, or nsigma + corr */
	char **group;         /* group-by names as written */
	uint32_t ngroup;
	struct alias *aliases;
	uint32_t naliases;
	char *value_field;    /* value_count: condition.field as written */
	struct fref *gf;      /* [slot * ngroup + g], slots = max(nrefs, 1) */
	struct fref *vf;      /* [slot] for value_count */
	int64_t timespan_ns;
	int64_t suppress_ns;
	uint32_t max_groups;
	uint32_t opmask;      /* 1 << enum op */
	int64_t opv[OP_COUNT];
	uint32_t k;           /* window capacity (event_count / value_count);
			       * beaconing: occurrences in a series */
	/* anomaly types (docs/rules.md "Anomaly correlations") */
	int64_t learn_ns;     /* new_terms: a group's terms fire once it is this old */
	uint32_t terms;       /* new_terms: slots of a group's term table (2^n) */
	double factor;        /* value_sum: sum > factor x baseline (0: no baseline) */
	uint32_t learn_windows; /* value_sum: windows in the baseline before it counts */
	double weight;        /* value_sum: the newest window's weight in the baseline */
	int64_t keep_ns;      /* value_sum: a group is kept this long after its last event */
	double jitter;        /* beaconing: largest stddev / mean of the intervals */
	int64_t min_gap_ns;   /* beaconing: events closer than this are one occurrence */
	int generate;
	int line;
};

struct cons {           /* "when rule X matches, feed window w at ref slot" */
	uint32_t win;
	uint32_t slot;
};

struct lw_correlation_rules {
	struct crule *rules;
	uint32_t n, cap;
	int built;
	uint32_t nsigma;
	uint32_t *order;       /* topological: referenced correlations first */
	uint8_t *direct;       /* [nsigma]: fires on its own */
	uint32_t *cons_off;    /* [nsigma + n + 1] CSR offsets into cons */
	struct cons *cons;     /* win is a correlation index here */
	uint32_t *all_events;  /* correlations without `rules` */
	uint32_t nall;
};

static inline uint32_t slots_of(const struct crule *r)
{
	return r->nrefs > 0 ? r->nrefs : 1;
}

/* ---- window state (correlation.c, correlation_groups.c; saved by
 * correlation_state.c) ----
 *
 * Memory is budgeted, not counted in groups: every byte of window state
 * (group records, their blocks, long keys, hash tables, the action heap,
 * interned names, the admission sketch) is added to c->bytes, and a new
 * group, a block or a table that would pass c->budget is refused unless
 * room can be made (correlation_groups.c: reclaim, then admission).
 *
 * A group is one fixed 152-byte record. Groups with at most two events
 * since their last firing keep everything inline ("tier 0": four state
 * words; the evidence is last_seq and one older seq); the third event
 * moves the group's state to
 * a block of the window's full size ("tier 1": the exact ring or list of
 * the rule's type, 32 evidence seqs, the held-back firing and the action
 * time). Scanners, which send one or two events per source, never
 * allocate; the windows' semantics are the same in both tiers. */

#define GROUP_CHUNK_BITS 10     /* records per chunk: 1024 */
#define GROUP_CHUNK (1u << GROUP_CHUNK_BITS)
#define KEY_INLINE 24           /* longer keys are allocated */
#define ST_INLINE 4             /* state words kept in the record */
#define EV_INLINE 2             /* tier-0 evidence: last_seq and one more */
#define TIER0_EVENTS 2          /* a burst of more events needs a block */
#define WHEEL_SLOTS 64
#define WHEEL_TICKS 32          /* ticks per window horizon */
#define SLOT_NONE 0xff          /* wslot: in no list */
#define SLOT_EXPIRED 0xfe       /* wslot: on the expired list */

/* struct group.flags */
#define G_HAS_SEQ 0x01          /* last_seq is set */
#define G_ABSENT_FIRED 0x02     /* absence: reported, until the group returns */
#define G_DIRTY 0x04            /* changed since the last save */
#define G_SAVED 0x08            /* written by a save of the current log */
#define G_EXPIRED 0x10          /* its window passed: reclaimable */
#define G_PENDING 0x20          /* a held-back firing waits in the block */
#define G_EVBIG 0x40            /* the block's evidence ring holds 32 */
#define G_PARITY 0x80           /* parity of the sweep cycle it was last saved in */

/* struct group.track: host state in bits 0-1, zone state in bits 2-3
 * (0 none yet, 1 one value, 2 several). */
#define TRACK_HOST_SHIFT 0
#define TRACK_ZONE_SHIFT 2

/* How a window's per-type state is kept in a tier-0 record. */
enum smode {
	SM_NONE = 0,  /* no state words (absence, direct) */
	SM_RING,      /* event_count: up to ST_INLINE timestamps, time order */
	SM_PAIRS,     /* value_count: one (value hash, time) pair */
	SM_RAW,       /* words <= ST_INLINE: the words themselves */
	SM_BLOCK,     /* always in a block (temporal_ordered, long temporal) */
	SM_HEAD       /* the first ST_INLINE words, while the others are 0 */
};

/* One group. "Burst" fields describe the events since the last firing
 * (delivered or held back). */
struct group {
	uint64_t hash;
	int64_t seen_ns;         /* newest event time of the group */
	int64_t first_ns, last_ns;
	uint64_t last_seq;
	int64_t last_fire_ns;    /* T_NONE: never delivered */
	int64_t inl[ST_INLINE + 1]; /* tier 0: state, then the older evidence seq */
	int64_t *blk;            /* tier 1, or NULL */
	uint32_t count;          /* burst events (saturating) */
	uint32_t wprev, wnext;   /* wheel slot, or the expired list */
	uint32_t host, zone;     /* name ids (0: none) */
	uint16_t keylen;
	uint8_t flags, track;
	uint8_t nev, evpos;      /* evidence (tier 1: a ring of 32) */
	uint8_t slen;            /* tier 0: SM_RING / SM_PAIRS entries */
	uint8_t wslot;           /* the list it is on: slot, SLOT_EXPIRED, SLOT_NONE */
	union {
		char b[KEY_INLINE];
		char *p;         /* keylen > KEY_INLINE */
	} key;                   /* per group-by value: u8 len, bytes */
};

/* Block layout (int64 words): [state: words][pfirst, plast, pcount]
 * [act_due][evidence ring: EV_SMALL, or 32 with G_EVBIG]. A group of a
 * few events has a small ring; the ring grows when it fills (and, with
 * no room to grow, keeps the newest EV_SMALL). */
#define EV_SMALL 8
#define BLK_PFIRST(w) ((w)->words)
#define BLK_PLAST(w) (BLK_PFIRST(w) + 1)
#define BLK_PCOUNT(w) (BLK_PFIRST(w) + 2)
#define BLK_ACT(w) (BLK_PFIRST(w) + 3)
#define BLK_EV(w) (BLK_PFIRST(w) + 4)
#define BLK_WORDS(w, big) (BLK_EV(w) + ((big) ? LW_INCIDENT_MAX_EVIDENCE : EV_SMALL))

/* An action (absence, held-back delivery) is due at t for the group at
 * index gi; stale entries (the group moved or changed) are skipped when
 * their act_due no longer matches. */
struct action {
	int64_t t;
	uint32_t gi;
};

struct lw_correlation_rule_counts {
	uint64_t fired, suppressed, evicted, not_admitted, reclaimed;
	uint64_t no_group, out_of_order;
};

/* Groups a victim sample looks at (correlation_groups.c). */
#define LW_CORR_SAMPLE 8
/* Admissions refused without a sample after samples that failed. */
#define LW_CORR_SKIP_MAX 32

struct win {
	const struct lw_sigma_rule_info *info;
	const struct crule *r;   /* NULL for a direct window */
	const char *resp;
	enum ctype type;
	enum smode smode;
	int64_t timespan_ns, suppress_ns;
	uint32_t max_groups;     /* 0: the budget only */
	uint32_t words;          /* int64 state words per group (full form) */
	uint64_t defhash;        /* window definition, checked on restore */
	uint32_t index;          /* in c->w */
	uint32_t hint;           /* the group of the previous event (checked) */
	int host_pos, zone_pos;  /* host.name / labels.zone in the key, or -1 */
	/* [slot]: windows whose keys are made from the same fields share a
	 * class, so an event's key is made and hashed once for all of them
	 * (the pack's windows grouped by source.ip) */
	uint32_t *key_class;
	/* groups: chunks of GROUP_CHUNK records, dense in [0, ng) */
	struct group **chunk;
	uint32_t nchunks, chunk_cap;
	uint32_t ng, nlive;
	uint64_t *tab;           /* open addressing: hash tag | group index + 1, 0 = empty */
	uint32_t tcap;           /* power of two, ng <= tcap / 2 */
	/* expiry wheel: lazily exact (a group is re-slotted when its slot
	 * comes up and its window has not passed yet) */
	uint32_t slot_head[WHEEL_SLOTS];
	int64_t tick_ns;
	int64_t cur_tick;        /* next tick to process; INT64_MIN: unset */
	uint32_t exp_head, exp_tail; /* expired, oldest first */
	/* actions: a min-heap on t */
	struct action *heap;
	uint32_t nheap, heap_cap;
	/* saving: groups changed since the last save, keys deleted */
	uint32_t *dirty;
	uint32_t ndirty, dirty_cap;
	int dirty_lost;          /* a change went unlisted (no memory): the
				  * next clean stop writes everything */
	struct lw_buf tomb;
	uint32_t ntomb;
	uint64_t bytes;          /* this window's share of c->bytes */
	uint64_t nblocks;
	/* Victims the last sample found besides the one it gave
	 * (correlation_groups.c pick_victim), weakest last: in a flood of
	 * new keys one sample serves several admissions. Each is checked
	 * again when taken (its record may have moved or grown). */
	struct spare {
		uint64_t hash;
		uint32_t gi, strength;
	} spare[LW_CORR_SAMPLE];
	uint32_t nspare;
	/* A sample found no victim weaker than fail_below: the next
	 * fail_left admissions at most that strong are refused without one
	 * (fail_skip doubles while samples keep failing, up to
	 * LW_CORR_SKIP_MAX): in a window full of groups as strong as the
	 * flood's keys, each sample was 8 cache misses for nothing. */
	uint32_t fail_below, fail_skip, fail_left;
	struct lw_correlation_rule_counts n;
	/* The group that last met the condition: its first event time and
	 * evidence, which the correlations referencing this one take in the
	 * same lw_correlation_process call (not saved: never outlives it). */
	int64_t fired_first_ns;
	uint32_t fired_nev;
	uint64_t fired_ev[LW_INCIDENT_MAX_EVIDENCE];
};

/* Interned host and zone names, shared by every group (refcounted). */
struct name {
	uint64_t hash;
	uint32_t refs;           /* 0: free (then `next_free` is in hash) */
	uint16_t len;
	char *s;
};

/* A feed of the event being processed, its key made and hashed. */
struct prep {
	uint32_t wi, slot;
	uint32_t hint;           /* a group the table points at for the hash */
	uint64_t h;
	uint16_t klen;
	uint8_t kind;            /* PREP_ALL, PREP_DIRECT, PREP_CONS */
	uint8_t has_key;         /* 0: a group-by field is missing */
	uint8_t cold;            /* not the window's last group: prefetched */
	uint8_t hashed;          /* h is the key's hash */
	uint32_t key_class;
	char key[LW_CORRELATION_KEY_MAX];
};

enum { PREP_ALL, PREP_DIRECT, PREP_CONS };

/* One event's feeds, prepared (lw_correlation_ahead) or being processed:
 * keys made and hashed, then (peeked) their groups found in the tables
 * and prefetched. */
struct prepset {
	const struct lw_event *ev;
	uint64_t seq;
	uint32_t n;
	int peeked;
	struct prep *prep;       /* prep_cap entries */
};

/* The event being processed and those prepared ahead of it. */
#define PREP_SETS (LW_CORRELATION_AHEAD + 1)

struct lw_correlation {
	const struct lw_ruleset *rs;
	const struct lw_correlation_rules *cr;
	struct win *w;
	uint32_t nwin;
	uint32_t *direct_win;    /* [nsigma]: window index or NONE32 */
	uint32_t *q;             /* correlations that fired for this event */
	uint32_t nq;
	int64_t clock;           /* newest (unskewed) event time, or advance() */
	int64_t due;             /* no action before this */
	int64_t wheel_due;       /* no wheel tick completes before this */
	uint64_t seed;
	uint64_t rng;
	/* memory */
	uint64_t budget, bytes;
	/* names */
	struct name *names;
	uint32_t nnames, names_cap, names_free;
	uint32_t *ntab;
	uint32_t ntcap, nnames_live;
	/* admission: a doorkeeper and a count-min sketch of keys seen while
	 * memory was full (one allocation: dk, then cms) */
	uint8_t *dk, *cms;       /* allocated when first needed */
	int sketch_failed;       /* it could not be: every key counts once */
	uint64_t dk_bits;        /* a power of two */
	uint32_t cms_width;      /* counters per row, a power of two */
	uint64_t cms_adds;
	/* saving (correlation_state.c) */
	uint64_t save_seq;       /* number of the next saved change set */
	uint64_t keep_from;      /* older change sets are not needed */
	uint64_t cycle_start;    /* first change set of the running sweep */
	uint32_t sweep_win, sweep_gi;
	int need_full;           /* the next save writes everything */
	int parity;              /* of the running sweep cycle */
	/* scratch: one group's state in its full form */
	int64_t *tmp;
	uint64_t *terms_tmp;     /* new_terms: a term table being compacted */
	/* new_terms: the term that is firing, added to the incident's group
	 * (name NULL: none) */
	const char *fire_term_name;
	struct lw_str fire_term;
	/* one event's feeds, prepared together so that their table and
	 * group cache misses overlap (lw_correlation_process), and the
	 * next events' (lw_correlation_ahead): a ring, set_head the oldest
	 * of nsets prepared */
	struct prepset sets[PREP_SETS];
	uint32_t set_head, nsets;
	uint32_t prep_cap;
	uint64_t ahead_used;     /* events fed from a prepared set */
	uint64_t ahead_dropped;  /* prepared sets dropped unused */
	struct lw_correlation_stats stats;
};

static inline uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

/* The last n (< 8) bytes of a key of `total` bytes ending at s + n, as
 * memcpy into a zeroed word would give them. The memcpy of a variable
 * n was a byte loop whose stores the word's load then waited for (a
 * quarter of lw_correlation_process in perf annotate): whole loads,
 * overlapping bytes already hashed, and shifts give the same word.
 * Value hashes are kept in the saved state, so the word must not
 * change. */
static inline uint64_t key_tail(const unsigned char *s, size_t n, size_t total)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w;
	uint32_t lo, hi;

	if (n == 0)
		return 0;
	if (total >= 8) {
		memcpy(&w, s + n - 8, 8);
		return w >> ((8 - n) * 8);
	}
	if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		return lo | (uint64_t)hi << ((n - 4) * 8);
	}
	return (uint64_t)s[0] | (uint64_t)s[n / 2] << (n / 2 * 8) |
	       (uint64_t)s[n - 1] << ((n - 1) * 8);
#else
	uint64_t w = 0;

	(void)total;
	if (n > 0)
		memcpy(&w, s, n);
	return w;
#endif
}

/* The hash of a group key (seeded) or a value: 8 bytes at a time (keys
 * are mostly 8-40 bytes; FNV-1a's byte loop cost ~100 instructions a
 * key), every input byte mixed into all 64 bits by the multiplies. */
static inline uint64_t key_hash(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t total = n;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ (w * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	w = key_tail(s, n, total);
	h = (h ^ (w * 0xbf58476d1ce4e5b9ULL)) * 0x94d049bb133111ebULL;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ (h >> 32);
}

/* ---- correlation_groups.c: storage, budget, wheel, names ---- */

static inline struct group *G(const struct win *w, uint32_t gi)
{
	return &w->chunk[gi >> GROUP_CHUNK_BITS][gi & (GROUP_CHUNK - 1)];
}

static inline const char *group_key(const struct group *g)
{
	return g->keylen > KEY_INLINE ? g->key.p : g->key.b;
}

/* Outcome of lw_correlation_group_get besides the index. */
enum get_result {
	GET_FOUND = 0,
	GET_CREATED,
	GET_REFUSED,             /* not admitted (counted) */
	GET_NOMEM                /* malloc failed */
};

/* The group of key in w, created when new (making room as the budget
 * requires: expired groups first, then admission against a victim).
 * NONE32 with *res GET_REFUSED or GET_NOMEM when there is none. */
uint32_t lw_correlation_group_get(struct lw_correlation *c, struct win *w,
				  const char *key, uint16_t klen,
				  enum get_result *res);
/* The same with the key's hash (fnv1a(c->seed, key, klen)) at hand. */
uint32_t lw_correlation_group_get_h(struct lw_correlation *c, struct win *w,
				    const char *key, uint16_t klen, uint64_t h,
				    enum get_result *res);
/* Prefetching for one event's feeds (lw_correlation_process): the table
 * slot of hash h; then the first group whose tag matches (prefetched,
 * not compared: a hint), or NONE32. */
void lw_correlation_tab_prefetch(const struct win *w, uint64_t h);
uint32_t lw_correlation_tab_peek(const struct win *w, uint64_t h);
/* For a key hash h that w does not hold (tab_peek gave NONE32): while
 * memory is full, the admission sketch's lines it will read. */
void lw_correlation_sketch_prefetch(const struct lw_correlation *c,
				    const struct win *w, uint64_t h);
/* Frees the group of key in w, if there is one (restoring a deletion). */
void lw_correlation_group_delete(struct lw_correlation *c, struct win *w,
				 const char *key, uint16_t klen);
/* Frees group gi of w (its index is then taken by the last group). */
void lw_correlation_group_free(struct lw_correlation *c, struct win *w,
			       uint32_t gi);
/* Grows g's evidence ring to 32 (0 when there is no room). */
int lw_correlation_group_evgrow(struct lw_correlation *c, struct win *w,
				struct group *g);
/* Gives group *gi a block (tier 1) holding st (w->words, full form) and
 * its tier-0 evidence, making room as a group of count + 1 events may
 * (victims with fewer; *gi follows the group if room-making moved it).
 * LW_OK, or LW_ENOMEM / LW_EFULL (no room: the group unchanged). */
int lw_correlation_group_promote(struct lw_correlation *c, struct win *w,
				 uint32_t *gi, const int64_t *st);
/* Back to tier 0 when the state is empty and nothing is held back. */
void lw_correlation_group_demote(struct lw_correlation *c, struct win *w,
				 uint32_t gi);
/* A group of w may have become a victim (a firing or a broken chain
 * emptied it, its held-back firing or its action went, the sketch's
 * counts halved): victim samples are taken again (struct win fail_*). */
void lw_correlation_group_weakened(struct win *w);
/* Marks gi changed since the last save. */
void lw_correlation_group_dirty(struct win *w, uint32_t gi);
/* The time g's window passes (then it is reclaimable). */
int64_t lw_correlation_group_expiry(const struct win *w, const struct group *g);
/* Back from the expired list (an event came). */
void lw_correlation_group_revive(struct lw_correlation *c, struct win *w,
				 uint32_t gi);
/* Schedules an action of gi at t (absence, held-back delivery). */
void lw_correlation_action_at(struct lw_correlation *c, struct win *w,
			      uint32_t gi, int64_t t);
/* Pops the earliest action of w due at or before now (gi), or NONE32. */
uint32_t lw_correlation_action_pop(struct win *w, int64_t now);
/* Processes the expiry ticks of every window that passed by now. */
void lw_correlation_wheel_run(struct lw_correlation *c, int64_t now);
/* Empties w (its groups are freed; counts kept). */
void lw_correlation_win_clear(struct lw_correlation *c, struct win *w);
/* Puts a new group on the wheel once its times are set. */
void lw_correlation_group_placed(struct lw_correlation *c, struct win *w,
				 uint32_t gi);
/* Sets the budget (and sizes the admission sketch from it). */
int lw_correlation_groups_budget(struct lw_correlation *c, uint64_t bytes);
/* Frees every group, table and name (lw_correlation_free). */
void lw_correlation_groups_release(struct lw_correlation *c);

/* Names: an id for s (refs + 1), 0 when it cannot be kept. */
uint32_t lw_correlation_name_get(struct lw_correlation *c, const char *s,
				 size_t len);
void lw_correlation_name_put(struct lw_correlation *c, uint32_t id);
struct lw_str lw_correlation_name_str(const struct lw_correlation *c,
				      uint32_t id);

/* Memory accounting: n bytes more (or fewer: negative) for w (NULL:
 * shared). */
static inline void account(struct lw_correlation *c, struct win *w, int64_t n)
{
	c->bytes += (uint64_t)n;
	if (w != NULL)
		w->bytes += (uint64_t)n;
}

/* Bytes of one block of w, as counted. */
static inline uint64_t block_bytes(const struct win *w, int big)
{
	return (uint64_t)BLK_WORDS(w, big) * sizeof(int64_t) + 16;
}

/* Capacity of g's evidence ring (tier 1). */
static inline uint32_t ev_cap(const struct group *g)
{
	return (g->flags & G_EVBIG) ? LW_INCIDENT_MAX_EVIDENCE : EV_SMALL;
}

/* ---- correlation.c, for correlation_state.c ---- */

/* Expands g's state into st (w->words words, full form). */
void lw_correlation_state_get(const struct win *w, const struct group *g,
			      int64_t *st);
/* Stores st (full form) into group *gi, promoting it when it no longer
 * fits inline (*gi follows it). LW_OK or an error (the group unchanged). */
int lw_correlation_state_put(struct lw_correlation *c, struct win *w,
			     uint32_t *gi, const int64_t *st);
/* Evidence of g oldest first into out (at most 32); returns the count. */
uint32_t lw_correlation_evidence(const struct win *w, const struct group *g,
				 uint64_t *out);
/* The next action time of g, or T_NONE. */
int64_t lw_correlation_next_action(const struct win *w, const struct group *g);

/* ---- correlation_anomaly.c: the anomaly types' state (full form) ---- */

/* Words of state per group (new_terms, value_sum, beaconing). */
uint32_t lw_correlation_anomaly_words(const struct crule *r);
/* The empty state. */
void lw_correlation_anomaly_init(const struct crule *r, int64_t *st);
/* What a group's state has learnt, as a count of events (terms,
 * baseline windows, occurrences; at most 255): shedding weighs it. st:
 * the block, or the record's inline words (a tier-0 group). */
uint32_t lw_correlation_anomaly_weight(const struct crule *r, const int64_t *st);
/* Outcome of an update besides firing. */
struct anomaly_step {
	int fire;        /* the condition holds for this event */
	int counts;      /* the event belongs to the burst an incident cites */
	int restart;     /* a new burst begins with this event (new window,
			  * new series, a new term) */
	int out_of_order; /* older than the group's state: ignored */
};
/* new_terms: term hash vh at ts. scratch holds r->terms words. */
struct anomaly_step lw_correlation_new_terms_update(const struct crule *r,
						    int64_t *st, int64_t ts,
						    uint64_t vh, uint64_t *scratch);
/* value_sum: value v (>= 0) at ts. */
struct anomaly_step lw_correlation_value_sum_update(const struct crule *r,
						    int64_t *st, int64_t ts,
						    int64_t v);
/* beaconing: an occurrence at ts. */
struct anomaly_step lw_correlation_beacon_update(const struct crule *r,
						 int64_t *st, int64_t ts);

#endif
