/* bench/seqtrack.c - per-connection bitmaps of seen sequence numbers for
 * the sink (prefix lw_seqtrack).  One tracker per sink thread; merged in
 * the main thread after join. */
#include "bench/seqtrack.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void
lw_seqtrack_init(struct lw_seqtrack *t)
{
	memset(t, 0, sizeof(*t));
}

void
lw_seqtrack_release(struct lw_seqtrack *t)
{
	if (t->conns) {
		for (size_t i = 0; i < LW_MSGGEN_MAX_CONNS; i++)
			free(t->conns[i].bits);
	}
	free(t->conns);
	memset(t, 0, sizeof(*t));
}

static int
parse_digits(const char *p, const char *end, int min, int max, uint64_t *v,
	     const char **stop)
{
	uint64_t x = 0;
	int n = 0;

	while (p < end && *p >= '0' && *p <= '9' && n < max) {
		x = x * 10 + (uint64_t)(*p - '0');
		p++;
		n++;
	}
	if (n < min)
		return -1;
	*v = x;
	*stop = p;
	return 0;
}

int
lw_seqtrack_parse(const char *msg, size_t len, unsigned *conn, uint64_t *n)
{
	const size_t tail = 4 + LW_MSGGEN_SEQ_LEN; /* "seq=" + field */
	const char *p, *end = msg + len, *stop;
	uint64_t c;

	if (len >= tail && memcmp(msg + len - tail, "seq=", 4) == 0)
		p = msg + len - LW_MSGGEN_SEQ_LEN;
	else {
		p = memmem(msg, len, "seq=", 4);
		if (p == NULL)
			return -1;
		p += 4;
		if (p < end && *p == '"')
			p++;
	}
	if (parse_digits(p, end, 1, 9, &c, &stop) != 0 || stop >= end || *stop != '-')
		return -1;
	if (parse_digits(stop + 1, end, 1, 19, n, &stop) != 0)
		return -1;
	if (c >= LW_MSGGEN_MAX_CONNS)
		return -1;
	*conn = (unsigned)c;
	return 0;
}

static int
grow(struct lw_seqtrack_conn *sc, uint64_t n)
{
	size_t need = (size_t)(n / 64) + 1, nw = sc->nwords ? sc->nwords : 1024;
	uint64_t *b;

	while (nw < need)
		nw *= 2;
	b = realloc(sc->bits, nw * sizeof(*b));
	if (b == NULL)
		return LW_ENOMEM;
	memset(b + sc->nwords, 0, (nw - sc->nwords) * sizeof(*b));
	sc->bits = b;
	sc->nwords = nw;
	return LW_OK;
}

void
lw_seqtrack_add(struct lw_seqtrack *t, unsigned conn, uint64_t n)
{
	struct lw_seqtrack_conn *sc;
	uint64_t mask;

	if (t->conns == NULL) {
		t->conns = calloc(LW_MSGGEN_MAX_CONNS, sizeof(*t->conns));
		if (t->conns == NULL) {
			t->untracked++;
			return;
		}
	}
	if (conn >= LW_MSGGEN_MAX_CONNS || n >= LW_SEQTRACK_MAX_N) {
		t->untracked++;
		return;
	}
	sc = &t->conns[conn];
	if (n / 64 >= sc->nwords && grow(sc, n) != LW_OK) {
		t->untracked++;
		return;
	}
	mask = (uint64_t)1 << (n % 64);
	if (sc->bits[n / 64] & mask) {
		t->duplicates++;
		return;
	}
	sc->bits[n / 64] |= mask;
	sc->unique++;
	if (n > sc->max)
		sc->max = n;
}

int
lw_seqtrack_merge(struct lw_seqtrack *dst, const struct lw_seqtrack *src)
{
	dst->duplicates += src->duplicates;
	dst->untracked += src->untracked;
	if (src->conns == NULL)
		return LW_OK;
	if (dst->conns == NULL) {
		dst->conns = calloc(LW_MSGGEN_MAX_CONNS, sizeof(*dst->conns));
		if (dst->conns == NULL)
			goto nomem;
	}
	for (size_t c = 0; c < LW_MSGGEN_MAX_CONNS; c++) {
		const struct lw_seqtrack_conn *s = &src->conns[c];
		struct lw_seqtrack_conn *d = &dst->conns[c];

		if (s->unique == 0)
			continue;
		if (d->nwords < s->nwords && grow(d, s->nwords * 64 - 1) != LW_OK)
			goto nomem;
		for (size_t i = 0; i < s->nwords; i++) {
			uint64_t both = d->bits[i] & s->bits[i];

			dst->duplicates += (uint64_t)__builtin_popcountll(both);
			d->unique += (uint64_t)__builtin_popcountll(s->bits[i] & ~both);
			d->bits[i] |= s->bits[i];
		}
		if (s->max > d->max)
			d->max = s->max;
	}
	return LW_OK;

nomem:
	for (size_t c = 0; c < LW_MSGGEN_MAX_CONNS; c++)
		dst->untracked += src->conns[c].unique;
	return LW_ENOMEM;
}

void
lw_seqtrack_totals(const struct lw_seqtrack *t, struct lw_seqtrack_totals *out)
{
	memset(out, 0, sizeof(*out));
	out->duplicates = t->duplicates;
	out->untracked = t->untracked;
	if (t->conns == NULL)
		return;
	for (size_t c = 0; c < LW_MSGGEN_MAX_CONNS; c++) {
		const struct lw_seqtrack_conn *sc = &t->conns[c];

		if (sc->unique == 0)
			continue;
		out->connections++;
		out->unique += sc->unique;
		/* Numbers start at 1: 1..max should all be there. */
		out->gaps += sc->max - sc->unique;
	}
}
