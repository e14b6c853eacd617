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
		if (r->dead)
			continue;
		rc = find_gate(set, r);
		if (rc != LW_OK)
			return rc;
		if (r->need_slot != UINT32_MAX)
			rc = push_need(set, r->need_slot, i);
		else if (r->nprograms == 0)
			rc = push_u32(&set->global, &set->nglobal, i);
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
	if (rc == LW_OK)
		set->built = 1;
	return rc;
}
