/* Private to the correlation modules: the compiled rules and the window
 * state that correlation_load.c (loading), correlation_refs.c (reference
 * resolution), correlation.c (the windows) and correlation_state.c (save /
 * restore) share. Included only by those four files. */
#ifndef LW_CORRELATOR_CORRELATION_INT_H
#define LW_CORRELATOR_CORRELATION_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "correlator/correlation.h"

#define NONE32 UINT32_MAX
#define T_NONE INT64_MIN

enum ctype {
	CT_EVENT_COUNT = 0,
	CT_VALUE_COUNT,
	CT_TEMPORAL,
	CT_TEMPORAL_ORDERED,
	CT_ABSENCE,
	CT_DIRECT /* a detection rule firing on its own; never in a file */
};

/* "event_count" ...: the type's name in rule files and saved state. */
static inline const char *ctype_name(enum ctype t)
{
	static const char *const names[] = {
		"event_count", "value_count", "temporal", "temporal_ordered",
		"absence", "direct"};

	return names[t];
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
	uint32_t k;           /* window capacity (event_count / value_count) */
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

/* ---- window state (correlation.c, saved by correlation_state.c) ---- */

/* One group of one window table. Fixed size, so a table is two flat
 * arrays (groups + per-type state words) that grow by doubling up to
 * max_groups and are reused on eviction: no allocation per event.
 *
 * "Burst" fields describe the events since the last firing (delivered or
 * held back); "pending" fields the held-back firings not yet delivered. */
struct group {
	uint64_t hash;
	uint32_t prev, next;     /* LRU list, least recently updated first */
	uint16_t keylen;
	uint8_t host_state;      /* 0 none yet, 1 one host, 2 several */
	uint8_t zone_state;
	uint8_t absent_fired;    /* absence: reported, until the group returns */
	uint8_t has_seq;
	uint8_t host_len, zone_len; /* strlen of host / zone (no strlen per event) */
	uint32_t nev, evpos;     /* evidence ring */
	int64_t seen_ns;         /* newest event time of the group */
	uint64_t last_seq;
	int64_t first_ns, last_ns;
	uint64_t count;
	int64_t pfirst_ns, plast_ns;
	uint64_t pcount;
	int64_t last_fire_ns;    /* T_NONE: never delivered */
	uint64_t ev[LW_INCIDENT_MAX_EVIDENCE];
	char host[256];
	char zone[64];
	char key[LW_CORRELATION_KEY_MAX]; /* per group-by value: u8 len, bytes */
};

struct win {
	const struct lw_sigma_rule_info *info;
	const struct crule *r;   /* NULL for a direct window */
	const char *resp;
	enum ctype type;
	int64_t timespan_ns, suppress_ns;
	uint32_t max_groups;
	uint32_t words;          /* int64 state words per group */
	uint64_t defhash;        /* window definition, checked on restore */
	struct group *g;
	int64_t *st;
	uint32_t ng, cap;
	uint32_t *tab;           /* open addressing: group index + 1, 0 = empty */
	uint32_t tcap;           /* power of two, >= 2 * cap */
	uint32_t lru_head, lru_tail;
	uint32_t npending;
	int64_t due;             /* no absence or held-back fire before this */
	/* The group that last met the condition: its first event time and
	 * evidence, which the correlations referencing this one take in the
	 * same lw_correlation_process call (not saved: never outlives it). */
	int64_t fired_first_ns;
	uint32_t fired_nev;
	uint64_t fired_ev[LW_INCIDENT_MAX_EVIDENCE];
};

struct lw_correlation {
	const struct lw_ruleset *rs;
	const struct lw_correlation_rules *cr;
	struct win *w;
	uint32_t nwin;
	uint32_t *direct_win;    /* [nsigma]: window index or NONE32 */
	uint32_t *q;             /* correlations that fired for this event */
	uint32_t nq;
	int64_t clock;           /* newest (unskewed) event time, or advance() */
	int64_t due;             /* min of the windows' due */
	uint64_t seed;
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

/* correlation.c, for restore: the group of key in w, created (evicting the
 * least recently updated one when the table is full) when new; NONE32
 * when the table cannot grow. */
uint32_t lw_correlation_group_get(struct lw_correlation *c, struct win *w,
				  const char *key, uint16_t klen);
/* Something in w (a held-back firing, an absence) is due at event time t. */
void lw_correlation_set_due(struct lw_correlation *c, struct win *w, int64_t t);
/* Empties w's group table, keeping its memory. */
void lw_correlation_win_clear(struct win *w);

#endif
