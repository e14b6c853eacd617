/* Private to the Sigma modules: the compiled form of a rule set, shared
 * by sigma.c (the set's lifecycle and lookups), sigma_load.c (compiling
 * rule files into it), sigma_gate.c (folding, gates, filing by program)
 * and sigma_eval.c (matching events). Included only by those files.
 *
 * A set is flat arrays indexed by uint32_t: rules own a run of
 * selections, selections a run of groups (alternatives), groups a run of
 * matchers (all must match), matchers a run of values (any, or all).
 * Field names become slots, resolved once per event in the scratch. */
#ifndef LW_CORRELATOR_SIGMA_INT_H
#define LW_CORRELATOR_SIGMA_INT_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "correlator/lookup.h"
#include "correlator/progmap.h"
#include "correlator/sigma.h"
#include "correlator/sigma_cond.h"

enum vkind { V_GLOB, V_NULL, V_RE, V_CIDR, V_NUM, V_LOOKUP };
enum gkind { G_ANY, G_EMPTY, G_SEGS, G_GENERIC };
enum numop { NUM_GT, NUM_GTE, NUM_LT, NUM_LTE };

struct seg {
	uint32_t off, len;
};

struct value {
	uint8_t kind;      /* enum vkind */
	uint8_t gkind;     /* enum gkind */
	uint8_t cased;
	uint8_t op;        /* enum numop */
	uint8_t anch_start, anch_end;
	uint32_t re;       /* regex index */
	uint32_t nsegs;
	uint32_t plen;
	char *bytes;       /* glob literals (lowered unless cased) */
	uint8_t *cls;      /* G_GENERIC: per byte 0 literal, 1 '?', 2 '*' */
	struct seg *segs;
	double num;
	struct lw_cidr cidr;
	const struct lw_lookup_list *list; /* V_LOOKUP: the ruleset's */
};

struct matcher {
	uint32_t slot;
	uint8_t all;
	int8_t exists;     /* -1: value matcher, 0/1: exists: false/true */
	uint32_t first_val, nvals;
	/* Matchers written alike in several rules (observer.type: firewall
	 * in each firewall rule) share a memo (lw_sigma_set_build), so an
	 * event tests them once; UINT32_MAX: written once. */
	uint32_t memo;
};

struct group {         /* every matcher must match */
	uint32_t first, n;
};

struct selection {     /* any group may match */
	uint32_t first_group, ngroups;
	int8_t constant;   /* -1 variable, else folded value */
};

struct slot {
	char *key;
	uint32_t keylen;
	uint8_t member;    /* enum lw_event_member */
	uint8_t absent;    /* build: nobody produces this extra field */
	uint8_t unknown;   /* non-ECS name without alias */
};

struct rule {
	struct lw_sigma_rule_info info;
	char **tagv;
	uint32_t first_sel, nsels;
	struct lw_sigma_cond *cond;
	char **programs;   /* NULL-terminated, or NULL: no program filter */
	uint32_t nprograms;
	unsigned facilities;
	int dead;          /* never evaluated */
	char *dead_reason;
	/* The gate (lw_sigma_set_build): the rule can match only if one of
	 * the values gate_vals[gate_first .. +gate_n] matches slot gate_slot
	 * (UINT32_MAX: no gate). Most rules name the event.action values
	 * they are about; checking that first spares every other event the
	 * whole condition. */
	uint32_t gate_slot, gate_first, gate_n;
	/* When every gate value is one exact string of the same case rule
	 * (the usual event.action list), the gate is gate map gate_map (of
	 * lw_sigma_set.gates): one lookup of the event's value there opens
	 * the gates of every rule filed under it. UINT32_MAX: the values
	 * are tried one by one. */
	uint32_t gate_map;
	/* A rule for one kind of source (product windows, a device
	 * firewall) sees only events where slot need_slot is present
	 * (winlog.event_id, observer.type); UINT32_MAX: every event. With
	 * need_value, also only those whose channel (chan_slot) is
	 * need_value or unknown (Eventlog to Syslog does not send it). */
	uint32_t need_slot;
	uint32_t chan_slot;
	char *need_value;
};

struct regex_src {
	char *src;
	size_t len;
	unsigned flags;
	uint32_t rule;   /* the rule whose detection holds it */
};

struct lw_sigma_set {
	struct rule *rules;
	uint32_t nrules, rulecap;
	struct selection *sels;
	uint32_t nsels, selcap;
	struct group *groups;
	uint32_t ngroups, groupcap;
	struct matcher *matchers;
	uint32_t nmatchers, matchercap;
	struct value *vals;
	uint32_t nvals, valcap;
	struct slot *slots;
	uint32_t nslots, slotcap;
	struct regex_src *res;
	uint32_t nres, recap;
	struct lw_progmap map;   /* program -> rules */
	/* Rules without a program filter: those with a gate map are found
	 * by looking their maps up, the others (global) are each tried. */
	uint32_t *global;
	uint32_t nglobal;
	uint32_t *global_maps;
	uint32_t nglobal_maps;
	struct need_list {       /* rules with a need_slot, one list per slot */
		uint32_t slot;
		uint32_t *rules;
		uint32_t n;
	} *needs;
	uint32_t nneeds;
	uint32_t *facrules;      /* rules filtered by program OR facility */
	uint32_t nfacrules;
	uint32_t nmemos;         /* memos of matchers written alike */
	uint32_t *gate_vals;     /* value indices of every rule's gate */
	uint32_t ngate_vals;
	struct gate_map {        /* exact gate value -> the rules it opens */
		uint32_t slot;
		uint8_t cased;   /* keys as written, else lowered */
		uint8_t global;  /* of rules with no program or need filter:
				  * looked up for every event (global_maps) */
		uint64_t lens;   /* bit n: a key of n bytes (63: 63 or more) */
		struct lw_progmap map;
	} *gates;
	uint32_t ngates;
	/* The rule pack's lookup lists, for `|lookup` and `|expand`
	 * (borrowed: the ruleset owns both and frees the lists last). */
	const struct lw_lookup_set *lists;
	int built;
};

/* The bit of struct gate_map.lens for a value of len bytes. */
static inline uint64_t gate_len_bit(size_t len)
{
	return 1ull << (len < 63 ? len : 63);
}

static inline int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* A Sigma number (rule value or field text): the whole of s[0..len) as a
 * double, NaN refused. 0 when it is not one. */
static inline int parse_number(const char *s, size_t len, double *out)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &end);
	return *end == '\0' && !isnan(*out);
}

/* sigma.c: what a value and a rule own (the loader drops a failed rule's). */
void lw_sigma_value_release(struct value *v);
void lw_sigma_rule_release(struct rule *r);

#endif
