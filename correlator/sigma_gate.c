/* lw_sigma_set_build: what can be decided before any event arrives
 * (correlator/sigma_gate.h). */
#include "correlator/sigma_gate.h"

#include <stdlib.h>
#include <string.h>

#include "correlator/sigma_int.h"

/* The value of a matcher on a field that is always absent. */
static int absent_matcher(const struct lw_sigma_set *set, const struct matcher *m)
{
	if (m->exists >= 0)
		return m->exists == 0;
	for (uint32_t i = 0; i < m->nvals; i++) {
		int r = set->vals[m->first_val + i].kind == V_NULL;
		if (m->all && !r)
			return 0;
		if (!m->all && r)
			return 1;
	}
	return m->all;
}

static void fold_selection(struct lw_sigma_set *set, struct selection *sel)
{
	int any_variable = 0;

	sel->constant = 0;
	for (uint32_t g = 0; g < sel->ngroups; g++) {
		const struct group *gr = &set->groups[sel->first_group + g];
		int gconst = 1, gvar = 0;

		for (uint32_t k = 0; k < gr->n; k++) {
			const struct matcher *m = &set->matchers[gr->first + k];
			if (!set->slots[m->slot].absent) {
				gvar = 1;
				continue;
			}
			if (!absent_matcher(set, m)) {
				gconst = 0;
				gvar = 0;
				break;
			}
		}
		if (!gconst)
			continue; /* this alternative is always false */
		if (!gvar) {
			sel->constant = 1; /* always true */
			return;
		}
		any_variable = 1;
	}
	sel->constant = any_variable ? -1 : 0;
}

/* 1 when r's condition is false for every assignment of the selections
 * var[0..nvar) (the others fixed as in base, a bit per selection). */
static int never_true(const struct rule *r, uint64_t base,
		      const uint32_t *var, uint32_t nvar)
{
	for (uint64_t a = 0; a < (1ull << nvar); a++) {
		uint64_t mask = base;

		for (uint32_t k = 0; k < nvar; k++)
			if ((a >> k) & 1)
				mask |= 1ull << var[k];
		if (lw_sigma_cond_eval_mask(r->cond, mask))
			return 0;
	}
	return 1;
}

/* 1 when no assignment of the variable selections makes the condition
 * true. Exhaustive up to 16 variable selections, else assumed live. */
static int rule_is_dead(const struct lw_sigma_set *set, const struct rule *r)
{
	uint32_t var[16], nvar = 0;
	uint64_t base = 0;

	if (r->nsels > 64)
		return 0;
	for (uint32_t i = 0; i < r->nsels; i++) {
		const struct selection *s = &set->sels[r->first_sel + i];
		if (s->constant == 1)
			base |= 1ull << i;
		else if (s->constant < 0) {
			if (nvar == 16)
				return 0;
			var[nvar++] = i;
		}
	}
	return never_true(r, base, var, nvar);
}

static int push_u32(uint32_t **arr, uint32_t *n, uint32_t v)
{
	uint32_t *p = realloc(*arr, (*n + 1) * sizeof(*p));

	if (p == NULL)
		return LW_ENOMEM;
	p[(*n)++] = v;
	*arr = p;
	return LW_OK;
}

/* Files rule ri in the list of its need slot (docs: correlator/sigma_int.h). */
static int push_need(struct lw_sigma_set *set, uint32_t slot, uint32_t ri)
{
	uint32_t i;

	for (i = 0; i < set->nneeds; i++)
		if (set->needs[i].slot == slot)
			break;
	if (i == set->nneeds) {
		struct need_list *p = realloc(set->needs, (i + 1) * sizeof(*p));

		if (p == NULL)
			return LW_ENOMEM;
		set->needs = p;
		set->needs[i] = (struct need_list){slot, NULL, 0};
		set->nneeds++;
	}
	return push_u32(&set->needs[i].rules, &set->needs[i].n, ri);
}

/* A value matcher on slot whose values are all globs: the selection's
 * group can be true only if one of them matches (a glob never matches a
 * missing field; null values, which do, are not globs). */
static const struct matcher *gate_matcher(const struct lw_sigma_set *set,
					  const struct group *gr, uint32_t slot)
{
	for (uint32_t k = 0; k < gr->n; k++) {
		const struct matcher *m = &set->matchers[gr->first + k];
		uint32_t v;

		if (m->slot != slot || m->exists >= 0 || m->nvals == 0)
			continue;
		for (v = 0; v < m->nvals; v++)
			if (set->vals[m->first_val + v].kind != V_GLOB)
				break;
		if (v == m->nvals)
			return m;
	}
	return NULL;
}

/* 1 when every alternative (group) of sel has a gate matcher on slot:
 * then sel is false unless one of their values matches. */
static int sel_needs(const struct lw_sigma_set *set, const struct selection *sel,
		     uint32_t slot)
{
	if (sel->constant == 0)
		return 1;
	if (sel->constant == 1 || sel->ngroups == 0)
		return 0;
	for (uint32_t g = 0; g < sel->ngroups; g++)
		if (gate_matcher(set, &set->groups[sel->first_group + g], slot) == NULL)
			return 0;
	return 1;
}

/* 1 when no assignment of the selections that do not need slot makes the
 * condition true while those that need it are false (exhaustive up to 16
 * free selections, else no). */
static int slot_gates_rule(const struct lw_sigma_set *set, const struct rule *r,
			   uint32_t slot, uint64_t *needs)
{
	uint32_t var[16], nvar = 0;
	uint64_t base = 0;

	*needs = 0;
	if (r->nsels > 64)
		return 0;
	for (uint32_t i = 0; i < r->nsels; i++) {
		const struct selection *s = &set->sels[r->first_sel + i];

		if (sel_needs(set, s, slot))
			*needs |= 1ull << i;
		else if (s->constant == 1)
			base |= 1ull << i;
		else {
			if (nvar == 16)
				return 0;
			var[nvar++] = i;
		}
	}
	return never_true(r, base, var, nvar);
}

/* Finds r's gate: of the slots that gate the rule, the one with the
 * fewest values; its values are those of the gate matchers of every
 * selection that needs it. A rule without one keeps gate_slot
 * UINT32_MAX and is always evaluated. */
static int find_gate(struct lw_sigma_set *set, struct rule *r)
{
	uint32_t best = UINT32_MAX, best_n = UINT32_MAX;
	uint64_t best_needs = 0;

	r->gate_slot = UINT32_MAX;
	for (uint32_t i = 0; i < r->nsels; i++) {
		const struct selection *sel = &set->sels[r->first_sel + i];

		for (uint32_t g = 0; g < sel->ngroups; g++) {
			const struct group *gr = &set->groups[sel->first_group + g];

			for (uint32_t k = 0; k < gr->n; k++) {
				uint32_t slot = set->matchers[gr->first + k].slot;
				uint64_t needs;
				uint32_t n = 0;

				if (slot == best || set->slots[slot].absent ||
				    !slot_gates_rule(set, r, slot, &needs))
					continue;
				for (uint32_t j = 0; j < r->nsels; j++) {
					const struct selection *sj = &set->sels[r->first_sel + j];
					if (!((needs >> j) & 1) || sj->constant == 0)
						continue;
					for (uint32_t h = 0; h < sj->ngroups; h++)
						n += gate_matcher(set, &set->groups[sj->first_group + h],
								  slot)->nvals;
				}
				if (n < best_n) {
					best = slot;
					best_n = n;
					best_needs = needs;
				}
			}
		}
	}
	if (best == UINT32_MAX)
		return LW_OK;
	r->gate_first = set->ngate_vals;
	for (uint32_t j = 0; j < r->nsels; j++) {
		const struct selection *sj = &set->sels[r->first_sel + j];

		if (!((best_needs >> j) & 1) || sj->constant == 0)
			continue;
		for (uint32_t h = 0; h < sj->ngroups; h++) {
			const struct matcher *m =
				gate_matcher(set, &set->groups[sj->first_group + h], best);
			for (uint32_t v = 0; v < m->nvals; v++) {
				int rc = push_u32(&set->gate_vals, &set->ngate_vals,
						  m->first_val + v);
				if (rc != LW_OK)
					return rc;
			}
		}
	}
	r->gate_n = set->ngate_vals - r->gate_first;
	r->gate_slot = best;
	return LW_OK;
}

static int same_value(const struct value *a, const struct value *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case V_NULL:
		return 1;
	case V_RE:
		return a->re == b->re;
	case V_CIDR:
		return a->cidr.family == b->cidr.family &&
		       a->cidr.prefix == b->cidr.prefix &&
		       memcmp(a->cidr.addr, b->cidr.addr, sizeof(a->cidr.addr)) == 0;
	case V_NUM:
		return a->op == b->op && a->num <= b->num && a->num >= b->num;
	case V_LOOKUP:
		return a->list == b->list;
	default:
		break;
	}
	if (a->gkind != b->gkind || a->cased != b->cased)
		return 0;
	if (a->gkind == G_ANY || a->gkind == G_EMPTY)
		return 1;
	if (a->plen != b->plen || memcmp(a->bytes, b->bytes, a->plen) != 0)
		return 0;
	if (a->gkind == G_GENERIC)
		return memcmp(a->cls, b->cls, a->plen) == 0;
	return a->anch_start == b->anch_start && a->anch_end == b->anch_end &&
	       a->nsegs == b->nsegs &&
	       memcmp(a->segs, b->segs, a->nsegs * sizeof(*a->segs)) == 0;
}

static int same_matcher(const struct lw_sigma_set *set, const struct matcher *a,
			const struct matcher *b)
{
	if (a->slot != b->slot || a->all != b->all || a->exists != b->exists ||
	    a->nvals != b->nvals)
		return 0;
	for (uint32_t i = 0; i < a->nvals; i++)
		if (!same_value(&set->vals[a->first_val + i], &set->vals[b->first_val + i]))
			return 0;
	return 1;
}

struct memo_key {
	uint32_t slot, nvals, matcher;
};

static int memo_key_cmp(const void *x, const void *y)
{
	const struct memo_key *a = x, *b = y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	if (a->nvals != b->nvals)
		return a->nvals < b->nvals ? -1 : 1;
	return (a->matcher > b->matcher) - (a->matcher < b->matcher);
}

/* Gives matchers written alike one memo (struct matcher's memo). Only
 * matchers of one slot and one count of values can be alike, so each
 * is compared with those of its run after sorting. */
static int share_memos(struct lw_sigma_set *set)
{
	struct memo_key *keys = malloc((set->nmatchers ? set->nmatchers : 1) * sizeof(*keys));

	if (keys == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < set->nmatchers; i++) {
		keys[i] = (struct memo_key){set->matchers[i].slot,
					    set->matchers[i].nvals, i};
		set->matchers[i].memo = UINT32_MAX;
	}
	qsort(keys, set->nmatchers, sizeof(*keys), memo_key_cmp);
	set->nmemos = 0;
	for (uint32_t i = 0; i < set->nmatchers;) {
		uint32_t end = i + 1;

		while (end < set->nmatchers && keys[end].slot == keys[i].slot &&
		       keys[end].nvals == keys[i].nvals)
			end++;
		for (uint32_t a = i; a < end; a++) {
			struct matcher *ma = &set->matchers[keys[a].matcher];

			if (ma->memo != UINT32_MAX)
				continue;
			for (uint32_t b = a + 1; b < end; b++) {
				struct matcher *mb = &set->matchers[keys[b].matcher];

				if (mb->memo != UINT32_MAX || !same_matcher(set, ma, mb))
					continue;
				if (ma->memo == UINT32_MAX)
					ma->memo = set->nmemos++;
				mb->memo = ma->memo;
			}
		}
		i = end;
	}
	free(keys);
	return LW_OK;
}

/* 1 when v matches one whole non-empty string and nothing else. */
static int exact_value(const struct value *v)
{
	return v->kind == V_GLOB && v->gkind == G_SEGS && v->nsegs == 1 &&
	       v->anch_start && v->anch_end && v->segs[0].len > 0;
}

/* Files rule ri in the gate map of its slot when each of its gate values
 * is one exact string of the same case rule; otherwise its values stay
 * tried one by one. */
static int map_gate(struct lw_sigma_set *set, struct rule *r, uint32_t ri)
{
	uint8_t global = r->need_slot == UINT32_MAX && r->nprograms == 0;
	const struct value *first;
	uint32_t g;
	int rc = LW_OK;

	r->gate_map = UINT32_MAX;
	if (r->gate_slot == UINT32_MAX || r->gate_n == 0)
		return LW_OK;
	first = &set->vals[set->gate_vals[r->gate_first]];
	for (uint32_t i = 0; i < r->gate_n; i++) {
		const struct value *v = &set->vals[set->gate_vals[r->gate_first + i]];

		if (!exact_value(v) || v->cased != first->cased)
			return LW_OK;
	}
	for (g = 0; g < set->ngates; g++)
		if (set->gates[g].slot == r->gate_slot &&
		    set->gates[g].cased == first->cased &&
		    set->gates[g].global == global)
			break;
	if (g == set->ngates) {
		struct gate_map *p = realloc(set->gates, (g + 1) * sizeof(*p));

		if (p == NULL)
			return LW_ENOMEM;
		set->gates = p;
		p[g].slot = r->gate_slot;
		p[g].cased = first->cased;
		p[g].global = global;
		p[g].lens = 0;
		lw_progmap_init(&p[g].map);
		set->ngates++;
		if (global && push_u32(&set->global_maps, &set->nglobal_maps, g) != LW_OK)
			return LW_ENOMEM;
	}
	for (uint32_t i = 0; i < r->gate_n && rc == LW_OK; i++) {
		const struct value *v = &set->vals[set->gate_vals[r->gate_first + i]];

		set->gates[g].lens |= gate_len_bit(v->segs[0].len);
		rc = lw_progmap_add(&set->gates[g].map, v->bytes + v->segs[0].off,
				    v->segs[0].len, ri);
	}
	if (rc == LW_OK)
		r->gate_map = g;
	return rc;
}

int lw_sigma_set_build(struct lw_sigma_set *set, lw_sigma_known_fn known,
		       void *arg, struct lw_diags *diags)
{
	int rc;

	if (set->built)
		return LW_EINVAL;
	for (uint32_t i = 0; i < set->nslots; i++) {
		struct slot *s = &set->slots[i];
		s->absent = s->unknown ||
			(s->member == LW_EVENT_MEMBER_NONE && known != NULL &&
			 !known(s->key, s->keylen, arg));
	}
	for (uint32_t i = 0; i < set->nsels; i++)
		fold_selection(set, &set->sels[i]);
	rc = share_memos(set);
	if (rc != LW_OK)
		return rc;
	for (uint32_t i = 0; i < set->nrules; i++) {
		struct rule *r = &set->rules[i];

		if (!r->dead && rule_is_dead(set, r)) {
			r->dead = 1;
			lw_diags_add(diags, LW_DIAG_WARNING, LW_OK, r->info.file,
				     r->info.line, 0, "rule %s can never match: "
				     "the fields it needs are never present (no "
				     "decoder produces them, or no zones are "
				     "configured)", r->info.id);
		}
		r->info.never_matches = r->dead;
		r->gate_slot = UINT32_MAX;
		r->gate_map = UINT32_MAX;
		if (r->dead)
			continue;
		rc = find_gate(set, r);
		if (rc == LW_OK)
			rc = map_gate(set, r, i);
		if (rc != LW_OK)
			return rc;
		if (r->need_slot != UINT32_MAX)
			rc = push_need(set, r->need_slot, i);
		else if (r->nprograms == 0)
			rc = r->gate_map != UINT32_MAX ? LW_OK :
				push_u32(&set->global, &set->nglobal, i);
		else if (r->facilities != 0)
			rc = push_u32(&set->facrules, &set->nfacrules, i);
		else {
			rc = LW_OK;
			for (uint32_t p = 0; p < r->nprograms && rc == LW_OK; p++)
				rc = lw_progmap_add(&set->map, r->programs[p],
						    strlen(r->programs[p]), i);
		}
		if (rc != LW_OK)
			return rc;
	}
	rc = lw_progmap_build(&set->map);
	for (uint32_t g = 0; g < set->ngates && rc == LW_OK; g++)
		rc = lw_progmap_build(&set->gates[g].map);
	if (rc == LW_OK)
		set->built = 1;
	return rc;
}
