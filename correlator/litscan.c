/* lw_litscan: a hashed 4-byte filter in front of an exact table. */
#include "correlator/litscan.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/memfind.h"

#define FILTER_BITS 16

struct lit {
	char *s;
	uint32_t len;
	uint32_t value;
};

/* One 4-byte piece of a literal: lits[lit].s[off..off + 4) == head. */
struct piece {
	uint32_t head; /* as loaded from memory */
	uint32_t lit;
	uint32_t off;
};

/* One distinct head: the pieces sharing it are pieces[first..first+count). */
struct head_slot {
	uint32_t head;
	uint32_t first, count; /* count 0 = empty slot */
};

struct lw_litscan {
	struct lit *lits;
	uint32_t n, cap;
	struct piece *pieces;  /* LW_LITSCAN_STRIDE per literal, sorted by head */
	int built;
	uint64_t filter[(1u << FILTER_BITS) / 64];
	struct head_slot *slots;
	uint32_t mask;
};

static uint32_t load_head(const char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

static uint32_t filter_hash(uint32_t head)
{
	return (head * 0x9e3779b1u) >> (32 - FILTER_BITS);
}

struct lw_litscan *lw_litscan_new(void)
{
	return calloc(1, sizeof(struct lw_litscan));
}

void lw_litscan_free(struct lw_litscan *ls)
{
	if (ls == NULL)
		return;
	for (uint32_t i = 0; i < ls->n; i++)
		free(ls->lits[i].s);
	free(ls->lits);
	free(ls->pieces);
	free(ls->slots);
	free(ls);
}

int lw_litscan_add(struct lw_litscan *ls, const char *lit, size_t len,
		   uint32_t value)
{
	struct lit *l;

	if (ls->built || len < LW_LITSCAN_MIN || len > UINT32_MAX)
		return LW_EINVAL;
	if (ls->n == ls->cap) {
		uint32_t cap = ls->cap ? ls->cap * 2 : 32;
		struct lit *nl = realloc(ls->lits, cap * sizeof(*nl));

		if (nl == NULL)
			return LW_ENOMEM;
		ls->lits = nl;
		ls->cap = cap;
	}
	l = &ls->lits[ls->n];
	l->s = malloc(len);
	if (l->s == NULL)
		return LW_ENOMEM;
	memcpy(l->s, lit, len);
	l->len = (uint32_t)len;
	l->value = value;
	ls->n++;
	return LW_OK;
}

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	if (x->lit != y->lit)
		return x->lit < y->lit ? -1 : 1;
	return (x->off > y->off) - (x->off < y->off);
}

static struct head_slot *slot_of(const struct lw_litscan *ls, uint32_t head)
{
	uint32_t k = filter_hash(head) & ls->mask;

	while (ls->slots[k].count != 0 && ls->slots[k].head != head)
		k = (k + 1) & ls->mask;
	return &ls->slots[k];
}

int lw_litscan_build(struct lw_litscan *ls)
{
	uint32_t nslots = 16, np = ls->n * LW_LITSCAN_STRIDE;

	if (ls->built)
		return LW_EINVAL;
	ls->pieces = calloc(np ? np : 1, sizeof(*ls->pieces));
	if (ls->pieces == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < ls->n; i++)
		for (uint32_t k = 0; k < LW_LITSCAN_STRIDE; k++)
			ls->pieces[i * LW_LITSCAN_STRIDE + k] =
				(struct piece){load_head(ls->lits[i].s + k), i, k};
	/* Sorted by head, the pieces sharing one are a run a slot points at. */
	if (np > 0)
		qsort(ls->pieces, np, sizeof(*ls->pieces), piece_cmp);
	while (nslots < 2 * np)
		nslots *= 2;
	ls->slots = calloc(nslots, sizeof(*ls->slots));
	if (ls->slots == NULL)
		return LW_ENOMEM;
	ls->mask = nslots - 1;
	for (uint32_t i = 0; i < np; i++) {
		uint32_t h = filter_hash(ls->pieces[i].head);
		struct head_slot *s = slot_of(ls, ls->pieces[i].head);

		ls->filter[h / 64] |= 1ull << (h % 64);
		if (s->count == 0) {
			s->head = ls->pieces[i].head;
			s->first = i;
		}
		s->count++;
	}
	ls->built = 1;
	return LW_OK;
}

uint32_t lw_litscan_count(const struct lw_litscan *ls)
{
	return ls->n;
}

void lw_litscan_find(const struct lw_litscan *ls, const char *text, size_t len,
		     uint64_t *bits)
{
	if (ls->n == 0 || len < LW_LITSCAN_MIN)
		return;
	/* A literal at p has its piece at offset (S - p % S) % S on a
	 * multiple of S, inside the literal since it is S + 3 bytes long. */
	for (size_t i = 0; i + 4 <= len; i += LW_LITSCAN_STRIDE) {
		uint32_t head = load_head(text + i);
		uint32_t h = filter_hash(head);
		const struct head_slot *s;

		if (!(ls->filter[h / 64] >> (h % 64) & 1))
			continue;
		s = slot_of(ls, head);
		for (uint32_t j = s->first; j < s->first + s->count; j++) {
			const struct piece *pc = &ls->pieces[j];
			const struct lit *l = &ls->lits[pc->lit];

			if (pc->off <= i && l->len <= len - (i - pc->off) &&
			    lw_memeq(text + i - pc->off, l->s, l->len))
				bits[l->value / 64] |= 1ull << (l->value % 64);
		}
	}
}
