/* lw_progmap: a frozen open-addressing hash from program name to a run of
 * u32 values. */
#include "correlator/progmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/memfind.h"

struct lw_progmap_pair {
	char *name;
	uint32_t len;
	uint32_t value;
	size_t seq;
};

struct lw_progmap_slot {
	uint64_t hash;
	const char *name; /* points into pairs (kept until release) */
	uint32_t len;     /* 0 = empty slot (names are never empty) */
	uint32_t first, count;
};

uint64_t lw_progmap_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void lw_progmap_init(struct lw_progmap *m)
{
	memset(m, 0, sizeof(*m));
}

void lw_progmap_release(struct lw_progmap *m)
{
	for (size_t i = 0; i < m->npairs; i++)
		free(m->pairs[i].name);
	free(m->pairs);
	free(m->slots);
	free(m->values);
	memset(m, 0, sizeof(*m));
}

int lw_progmap_add(struct lw_progmap *m, const char *name, size_t len,
		   uint32_t value)
{
	struct lw_progmap_pair *p;

	if (len == 0 || len > UINT32_MAX || m->slots != NULL)
		return LW_EINVAL;
	if (m->npairs == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		p = realloc(m->pairs, cap * sizeof(*p));
		if (p == NULL)
			return LW_ENOMEM;
		m->pairs = p;
		m->cap = cap;
	}
	p = &m->pairs[m->npairs];
	p->name = malloc(len + 1);
	if (p->name == NULL)
		return LW_ENOMEM;
	memcpy(p->name, name, len);
	p->name[len] = '\0';
	p->len = (uint32_t)len;
	p->value = value;
	p->seq = m->npairs++;
	return LW_OK;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct lw_progmap_pair *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->name, y->name, x->len);
	if (c != 0)
		return c;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

int lw_progmap_build(struct lw_progmap *m)
{
	size_t nslots = 16, i = 0, w = 0;

	if (m->npairs > 0) {
		qsort(m->pairs, m->npairs, sizeof(*m->pairs), pair_cmp);
		m->values = malloc(m->npairs * sizeof(*m->values));
		if (m->values == NULL)
			return LW_ENOMEM;
	}
	/* Load factor <= 1/2 so a miss (the common case: most programs have
	 * no rules) ends after a probe or two. */
	while (nslots < 2 * m->npairs)
		nslots *= 2;
	m->slots = calloc(nslots, sizeof(*m->slots));
	if (m->slots == NULL)
		return LW_ENOMEM;
	m->mask = (uint32_t)(nslots - 1);
	while (i < m->npairs) {
		struct lw_progmap_pair *p = &m->pairs[i];
		uint64_t h = lw_progmap_hash(p->name, p->len);
		size_t j = i, k = h & m->mask, start = w;

		/* A rule listing one program twice is filed once, so it is
		 * never evaluated (and reported) twice for one event. */
		for (; j < m->npairs && m->pairs[j].len == p->len &&
		       memcmp(m->pairs[j].name, p->name, p->len) == 0; j++) {
			size_t d;
			for (d = start; d < w; d++)
				if (m->values[d] == m->pairs[j].value)
					break;
			if (d == w)
				m->values[w++] = m->pairs[j].value;
		}
		while (m->slots[k].len != 0)
			k = (k + 1) & m->mask;
		m->slots[k] = (struct lw_progmap_slot){h, p->name, p->len,
						       (uint32_t)start,
						       (uint32_t)(w - start)};
		i = j;
	}
	return LW_OK;
}

size_t lw_progmap_family_len(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '(')
			return i;
	return 0;
}

int64_t lw_progmap_slot(const struct lw_progmap *m, const char *name,
			size_t len)
{
	uint64_t h;
	size_t k;

	if (m->slots == NULL || len == 0)
		return -1;
	h = lw_progmap_hash(name, len);
	for (k = h & m->mask; m->slots[k].len != 0; k = (k + 1) & m->mask) {
		const struct lw_progmap_slot *s = &m->slots[k];
		if (s->hash == h && s->len == len && lw_memeq(s->name, name, len))
			return (int64_t)k;
	}
	return -1;
}

uint32_t lw_progmap_nslots(const struct lw_progmap *m)
{
	return m->slots != NULL ? m->mask + 1 : 0;
}

const uint32_t *lw_progmap_slot_values(const struct lw_progmap *m, uint32_t slot,
				       uint32_t *count)
{
	*count = 0;
	if (m->slots == NULL || slot > m->mask || m->slots[slot].len == 0)
		return NULL;
	*count = m->slots[slot].count;
	return &m->values[m->slots[slot].first];
}

const uint32_t *lw_progmap_find(const struct lw_progmap *m, const char *name,
				size_t len, uint32_t *count)
{
	int64_t slot = lw_progmap_slot(m, name, len);

	*count = 0;
	return slot < 0 ? NULL : lw_progmap_slot_values(m, (uint32_t)slot, count);
}
