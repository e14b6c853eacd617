/* lw_sigma_eval: matching one event against a built set
 * (correlator/sigma_eval.h), on the writer thread's hot path. */
#include "correlator/sigma_eval.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/memfind.h"
#include "core/regex.h"
#include "correlator/sigma_int.h"

struct slot_cache {
	uint64_t gen;
	uint8_t found;
	uint8_t low_ok;
	uint8_t ip_state;  /* 0 not parsed, 1 ok, 2 not an address */
	uint8_t num_state; /* same */
	struct lw_str raw;
	uint32_t low_off;
	double num;
	struct sockaddr_storage ip;
	char numbuf[LW_EVENT_MEMBER_TEXT_MAX];
};

struct lw_sigma_scratch {
	struct slot_cache *slots;
	uint32_t nslots;
	uint64_t gen;
	struct lw_regex **re;
	uint64_t *re_hits;      /* match-limit hits per regex, since the last take */
	uint32_t nre;
	char *low;
	size_t low_len, low_cap;
	uint64_t limit_hits;
	/* Gate maps looked up (gate_gen[g]) and the rules whose gates they
	 * opened (opened_gen[rule]), each stamped with the event's gen. */
	uint64_t *gate_gen, *opened_gen;
	/* Results of matchers written alike (memo_val), valid while
	 * memo_gen is the event's gen. */
	uint64_t *memo_gen;
	uint8_t *memo_val;
	const struct lw_sigma_set *set;
	const struct lw_event *ev;
	const struct rule *rule;
};

/* ---- glob matching (globs are compiled by sigma_load.c) ---- */

static int glob_generic(const struct value *v, const char *s, size_t n)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < n) {
		if (pi < v->plen && v->cls[pi] == 2) {
			star = pi++;
			mark = si;
		} else if (pi < v->plen && (v->cls[pi] == 1 || v->bytes[pi] == s[si])) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < v->plen && v->cls[pi] == 2)
		pi++;
	return pi == v->plen;
}

static int glob_match(const struct value *v, const char *s, size_t n)
{
	size_t pos = 0, end = n;
	uint32_t i = 0, last;

	switch (v->gkind) {
	case G_ANY:
		return 1;
	case G_EMPTY:
		return n == 0;
	case G_GENERIC:
		return glob_generic(v, s, n);
	default:
		break;
	}
	last = v->nsegs;
	if (v->anch_start) {
		const struct seg *g = &v->segs[0];
		if (n < g->len || !lw_memeq(s, v->bytes + g->off, g->len))
			return 0;
		if (v->nsegs == 1 && v->anch_end)
			return n == g->len;
		pos = g->len;
		i = 1;
	}
	if (v->anch_end && last > i) {
		const struct seg *g = &v->segs[last - 1];
		if (end - pos < g->len ||
		    !lw_memeq(s + end - g->len, v->bytes + g->off, g->len))
			return 0;
		end -= g->len;
		last--;
	}
	for (; i < last; i++) {
		const struct seg *g = &v->segs[i];
		const char *f = lw_memfind(s + pos, end - pos, v->bytes + g->off, g->len);
		if (f == NULL)
			return 0;
		pos = (size_t)(f - s) + g->len;
	}
	return 1;
}

/* ---- evaluation ---- */

struct lw_sigma_scratch *lw_sigma_scratch_new(const struct lw_sigma_set *set)
{
	struct lw_sigma_scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->set = set;
	s->nslots = set->nslots;
	s->slots = calloc(set->nslots ? set->nslots : 1, sizeof(*s->slots));
	s->re = calloc(set->nres ? set->nres : 1, sizeof(*s->re));
	s->re_hits = calloc(set->nres ? set->nres : 1, sizeof(*s->re_hits));
	s->gate_gen = calloc(set->ngates ? set->ngates : 1, sizeof(*s->gate_gen));
	s->opened_gen = calloc(set->nrules ? set->nrules : 1, sizeof(*s->opened_gen));
	s->memo_gen = calloc(set->nmemos ? set->nmemos : 1, sizeof(*s->memo_gen));
	s->memo_val = calloc(set->nmemos ? set->nmemos : 1, sizeof(*s->memo_val));
	s->low_cap = 4096;
	s->low = malloc(s->low_cap);
	if (s->slots == NULL || s->re == NULL || s->re_hits == NULL ||
	    s->gate_gen == NULL || s->opened_gen == NULL ||
	    s->memo_gen == NULL || s->memo_val == NULL || s->low == NULL)
		goto fail;
	for (; s->nre < set->nres; s->nre++)
		if (lw_regex_compile(set->res[s->nre].src, set->res[s->nre].len,
				     set->res[s->nre].flags, &s->re[s->nre],
				     NULL) != LW_OK ||
		    lw_regex_set_match_limit(s->re[s->nre], LW_REGEX_RULE_LIMIT) != LW_OK)
			goto fail;
	return s;

fail:
	lw_sigma_scratch_free(s);
	return NULL;
}

void lw_sigma_scratch_free(struct lw_sigma_scratch *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nre; i++)
		lw_regex_free(s->re[i]);
	free(s->re);
	free(s->re_hits);
	free(s->gate_gen);
	free(s->opened_gen);
	free(s->memo_gen);
	free(s->memo_val);
	free(s->slots);
	free(s->low);
	free(s);
}

uint64_t lw_sigma_scratch_limit_hits(const struct lw_sigma_scratch *s)
{
	return s->limit_hits;
}

const char *lw_sigma_rule_label(const struct lw_sigma_set *set, uint32_t rule)
{
	const struct lw_sigma_rule_info *in = &set->rules[rule].info;

	return in->name != NULL ? in->name : in->id;
}

void lw_sigma_set_each_regex(const struct lw_sigma_set *set,
			     void (*fn)(const char *rule, const char *pattern,
					size_t len, unsigned flags, void *arg),
			     void *arg)
{
	for (uint32_t i = 0; i < set->nres; i++)
		if (set->res[i].rule < set->nrules)
			fn(lw_sigma_rule_label(set, set->res[i].rule), set->res[i].src,
			   set->res[i].len, set->res[i].flags, arg);
}

void lw_sigma_scratch_take_hits(const struct lw_sigma_set *set,
				struct lw_sigma_scratch *s,
				void (*fn)(const char *rule, uint64_t hits, void *arg),
				void *arg)
{
	for (uint32_t i = 0; i < s->nre; i++) {
		uint64_t n = s->re_hits[i];

		if (n == 0 || set->res[i].rule >= set->nrules)
			continue;
		s->re_hits[i] = 0;
		fn(lw_sigma_rule_label(set, set->res[i].rule), n, arg);
	}
}

/* The slot's value, looked up on its first use by an event (resolve). */
static struct slot_cache *resolve_first(struct lw_sigma_scratch *s, uint32_t slot)
{
	struct slot_cache *sc = &s->slots[slot];
	const struct slot *sl = &s->set->slots[slot];
	const struct lw_event *ev = s->ev;
	struct lw_str v = LW_STR_NULL;
	int present = 0;

	sc->gen = s->gen;
	sc->low_ok = 0;
	sc->ip_state = 0;
	sc->num_state = 0;
	if (sl->member != LW_EVENT_MEMBER_NONE) {
		v = lw_event_member_value(ev, sl->member, sc->numbuf);
	} else if (!sl->absent) {
		const struct lw_field *f = lw_event_field(ev, sl->key, sl->keylen);

		if (f != NULL) {
			v = f->value;
			present = 1; /* an extra field may be present and empty */
		}
	}
	sc->raw = v;
	/* An empty member is how the event says "not present". */
	sc->found = v.len > 0 || present;
	return sc;
}

static inline struct slot_cache *resolve(struct lw_sigma_scratch *s, uint32_t slot)
{
	struct slot_cache *sc = &s->slots[slot];

	return sc->gen == s->gen ? sc : resolve_first(s, slot);
}

/* The lowered copy of a slot's value, made once per event (lowered). */
static const char *lower_first(struct lw_sigma_scratch *s, struct slot_cache *sc)
{
	size_t need = s->low_len + sc->raw.len;

	if (need > s->low_cap) {
		size_t cap = s->low_cap * 2 > need ? s->low_cap * 2 : need;
		char *n = realloc(s->low, cap);
		if (n == NULL)
			return NULL;
		s->low = n;
		s->low_cap = cap;
	}
	for (uint32_t i = 0; i < sc->raw.len; i++)
		s->low[s->low_len + i] = (char)lower((unsigned char)sc->raw.ptr[i]);
	sc->low_off = (uint32_t)s->low_len;
	s->low_len = need;
	sc->low_ok = 1;
	return s->low + sc->low_off;
}

static inline const char *lowered(struct lw_sigma_scratch *s, struct slot_cache *sc)
{
	return sc->low_ok ? s->low + sc->low_off : lower_first(s, sc);
}

/* The slot's value as an address, parsed once per event: 1 when it is one. */
static int slot_ip(struct slot_cache *sc)
{
	if (sc->ip_state == 0) {
		char tmp[64];
		struct sockaddr_in *in = (struct sockaddr_in *)&sc->ip;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sc->ip;

		sc->ip_state = 2;
		memset(&sc->ip, 0, sizeof(sc->ip));
		if (sc->raw.len < sizeof(tmp)) {
			memcpy(tmp, sc->raw.ptr, sc->raw.len);
			tmp[sc->raw.len] = '\0';
			if (inet_pton(AF_INET, tmp, &in->sin_addr) == 1) {
				in->sin_family = AF_INET;
				sc->ip_state = 1;
			} else if (inet_pton(AF_INET6, tmp, &in6->sin6_addr) == 1) {
				in6->sin6_family = AF_INET6;
				sc->ip_state = 1;
			}
		}
	}
	return sc->ip_state == 1;
}

static int value_match(struct lw_sigma_scratch *s, const struct value *v,
		       struct slot_cache *sc)
{
	if (v->kind == V_NULL)
		return !sc->found || sc->raw.len == 0;
	if (!sc->found)
		return 0;
	switch (v->kind) {
	case V_GLOB: {
		const char *subj = sc->raw.ptr;
		if (v->gkind == G_ANY)
			return 1;
		if (!v->cased && (subj = lowered(s, sc)) == NULL)
			return 0; /* out of memory: cannot match */
		return glob_match(v, subj, sc->raw.len);
	}
	case V_RE: {
		int rc = lw_regex_match(s->re[v->re], sc->raw.ptr, sc->raw.len);
		if (rc == LW_EFULL) {
			s->limit_hits++;
			s->re_hits[v->re]++;
		}
		return rc == 1;
	}
	case V_CIDR:
		return slot_ip(sc) &&
		       lw_cidr_contains(&v->cidr, (const struct sockaddr *)&sc->ip);
	case V_NUM:
		if (sc->num_state == 0)
			sc->num_state = parse_number(sc->raw.ptr, sc->raw.len,
						     &sc->num) ? 1 : 2;
		if (sc->num_state != 1)
			return 0;
		switch (v->op) {
		case NUM_GT: return sc->num > v->num;
		case NUM_GTE: return sc->num >= v->num;
		case NUM_LT: return sc->num < v->num;
		default: return sc->num <= v->num;
		}
	case V_LOOKUP:
		/* An ip list takes the address parsed once per event. */
		if (lw_lookup_list_kind(v->list) != LW_LOOKUP_IP)
			return lw_lookup_match(v->list, sc->raw.ptr, sc->raw.len, NULL);
		if (!slot_ip(sc))
			return 0;
		return sc->ip.ss_family == AF_INET ?
			lw_lookup_match_addr(v->list, AF_INET,
					     &((struct sockaddr_in *)&sc->ip)->sin_addr, NULL) :
			lw_lookup_match_addr(v->list, AF_INET6,
					     &((struct sockaddr_in6 *)&sc->ip)->sin6_addr, NULL);
	default:
		return 0;
	}
}

static int matcher_test(struct lw_sigma_scratch *s, const struct matcher *m)
{
	const struct lw_sigma_set *set = s->set;
	struct slot_cache *sc = resolve(s, m->slot);

	if (m->exists >= 0)
		return sc->found == (uint8_t)m->exists;
	for (uint32_t i = 0; i < m->nvals; i++) {
		int r = value_match(s, &set->vals[m->first_val + i], sc);
		if (m->all && !r)
			return 0;
		if (!m->all && r)
			return 1;
	}
	return m->all;
}

static int matcher_match(struct lw_sigma_scratch *s, const struct matcher *m)
{
	int r;

	if (m->memo == UINT32_MAX)
		return matcher_test(s, m);
	if (s->memo_gen[m->memo] == s->gen)
		return s->memo_val[m->memo];
	r = matcher_test(s, m);
	s->memo_gen[m->memo] = s->gen;
	s->memo_val[m->memo] = (uint8_t)r;
	return r;
}

static int selection_test(uint32_t sel, void *arg)
{
	struct lw_sigma_scratch *s = arg;
	const struct lw_sigma_set *set = s->set;
	const struct selection *se = &set->sels[s->rule->first_sel + sel];

	if (se->constant >= 0)
		return se->constant;
	for (uint32_t g = 0; g < se->ngroups; g++) {
		const struct group *gr = &set->groups[se->first_group + g];
		uint32_t k;

		for (k = 0; k < gr->n; k++)
			if (!matcher_match(s, &set->matchers[gr->first + k]))
				break;
		if (k == gr->n)
			return 1;
	}
	return 0;
}

/* Looks the event's value of gate map g's slot up, once per event: the
 * rules whose gates it opens, *n of them, are stamped with the event's
 * gen. A value of a length no key has is not looked up. */
static const uint32_t *open_gates(struct lw_sigma_scratch *s, uint32_t g,
				  uint32_t *n)
{
	const struct gate_map *gm = &s->set->gates[g];
	struct slot_cache *sc = resolve(s, gm->slot);
	const char *key = sc->raw.ptr;
	const uint32_t *rules;

	*n = 0;
	s->gate_gen[g] = s->gen;
	if (!sc->found || !(gm->lens & gate_len_bit(sc->raw.len)))
		return NULL;
	if (!gm->cased && (key = lowered(s, sc)) == NULL)
		return NULL; /* out of memory: cannot match */
	rules = lw_progmap_find(&gm->map, key, sc->raw.len, n);
	for (uint32_t i = 0; i < *n; i++)
		s->opened_gen[rules[i]] = s->gen;
	return rules;
}

static int rule_match(struct lw_sigma_scratch *s, uint32_t ri)
{
	const struct lw_sigma_set *set = s->set;
	const struct rule *r = &set->rules[ri];

	if (r->need_value != NULL) {
		struct slot_cache *sc = resolve(s, r->chan_slot);
		size_t nlen = strlen(r->need_value);

		if (sc->found && (sc->raw.len != nlen ||
				  !lw_memeq(sc->raw.ptr, r->need_value, nlen)))
			return 0;
	}
	if (r->gate_map != UINT32_MAX) {
		uint32_t n;

		if (s->gate_gen[r->gate_map] != s->gen)
			(void)open_gates(s, r->gate_map, &n);
		if (s->opened_gen[ri] != s->gen)
			return 0;
	} else if (r->gate_slot != UINT32_MAX) {
		struct slot_cache *sc = resolve(s, r->gate_slot);
		uint32_t i;

		if (!sc->found)
			return 0;
		for (i = 0; i < r->gate_n; i++) {
			const struct value *v = &set->vals[set->gate_vals[r->gate_first + i]];

			/* An exact string of another length cannot match:
			 * skip lowering the value and comparing it. */
			if (v->kind == V_GLOB && v->gkind == G_SEGS && v->nsegs == 1 &&
			    v->anch_start && v->anch_end && v->segs[0].len != sc->raw.len)
				continue;
			if (value_match(s, v, sc))
				break;
		}
		if (i == r->gate_n)
			return 0;
	}
	s->rule = r;
	return lw_sigma_cond_eval(r->cond, selection_test, s);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int program_in(const struct rule *r, const struct lw_str *app)
{
	for (uint32_t i = 0; i < r->nprograms; i++)
		/* The first byte (the NUL of an empty name at worst) rules
		 * out most names; strnlen rejects a long one without
		 * measuring it all. */
		if ((app->len == 0 || r->programs[i][0] == app->ptr[0]) &&
		    strnlen(r->programs[i], (size_t)app->len + 1) == app->len &&
		    lw_memeq(r->programs[i], app->ptr, app->len))
			return 1;
	return 0;
}

int lw_sigma_eval(const struct lw_sigma_set *set, struct lw_sigma_scratch *s,
		  const struct lw_event *ev, uint32_t *out, uint32_t cap,
		  uint32_t *nout)
{
	const uint32_t *idx;
	uint32_t n, k = 0;

	*nout = 0;
	s->gen++;
	s->ev = ev;
	s->low_len = 0;
	idx = lw_progmap_find(&set->map, ev->app.ptr, ev->app.len, &n);
	for (uint32_t i = 0; i < n; i++)
		if (rule_match(s, idx[i]) && k < cap)
			out[k++] = idx[i];
	for (uint32_t i = 0; i < set->nfacrules; i++) {
		const struct rule *r = &set->rules[set->facrules[i]];
		int fac_ok = ev->facility < 32 && ((r->facilities >> ev->facility) & 1);

		if ((fac_ok || program_in(r, &ev->app)) &&
		    rule_match(s, set->facrules[i]) && k < cap)
			out[k++] = set->facrules[i];
	}
	for (uint32_t i = 0; i < set->nglobal; i++)
		if (rule_match(s, set->global[i]) && k < cap)
			out[k++] = set->global[i];
	for (uint32_t g = 0; g < set->nglobal_maps; g++) {
		const uint32_t *rules = open_gates(s, set->global_maps[g], &n);

		for (uint32_t i = 0; i < n; i++)
			if (rule_match(s, rules[i]) && k < cap)
				out[k++] = rules[i];
	}
	/* One lookup spares every other event the rules of a kind of
	 * source (Windows, device firewalls). */
	for (uint32_t l = 0; l < set->nneeds; l++) {
		const struct need_list *nl = &set->needs[l];

		if (!resolve(s, nl->slot)->found)
			continue;
		for (uint32_t i = 0; i < nl->n; i++)
			if (rule_match(s, nl->rules[i]) && k < cap)
				out[k++] = nl->rules[i];
	}
	if (k > 1)
		qsort(out, k, sizeof(*out), u32_cmp);
	*nout = k;
	s->ev = NULL;
	return LW_OK;
}
