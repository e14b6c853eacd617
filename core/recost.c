/* lw_recost: probing a pattern's cost growth (see recost.h). The
 * pattern is read, not parsed: literal runs and one sample character per
 * class are enough to build the inputs that make a log pattern
 * backtrack, and a construct not understood only ends a literal run. */
#include "core/recost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"
#include "core/regex.h"

#define MAX_LITS 12
#define LIT_MAX 32
#define MAX_SAMPLES 12
#define MAX_TAILS 6

struct pieces {
	char lit[MAX_LITS][LIT_MAX + 1];
	size_t nlit;
	char sample[MAX_SAMPLES];  /* a character each class matches */
	size_t nsample;
	char gap[MAX_LITS];        /* a character the class before each literal takes */
	char pending_gap;          /* the last class seen since the last literal */
	char head[LIT_MAX + 1];    /* an anchored pattern's leading literal */
	char run[LIT_MAX + 1];
	size_t runlen;
	int at_start;              /* nothing but literals seen since '^' */
};

static void add_sample(struct pieces *p, char c)
{
	if (c != '\0')
		p->pending_gap = c;
	if (c == '\0' || memchr(p->sample, c, p->nsample) != NULL ||
	    p->nsample == MAX_SAMPLES)
		return;
	p->sample[p->nsample++] = c;
}

/* Ends the literal run in progress. */
static void flush(struct pieces *p, int anchored)
{
	if (p->runlen > 0) {
		p->run[p->runlen] = '\0';
		if (anchored && p->at_start && p->head[0] == '\0')
			memcpy(p->head, p->run, p->runlen + 1);
		for (size_t i = 0; i < p->nlit; i++)
			if (strcmp(p->lit[i], p->run) == 0)
				goto done;
		if (p->nlit < MAX_LITS) {
			p->gap[p->nlit] = p->pending_gap ? p->pending_gap : 'x';
			memcpy(p->lit[p->nlit++], p->run, p->runlen + 1);
		}
		p->pending_gap = 0;
	}
done:
	p->runlen = 0;
	p->at_start = 0;
}

/* A character a class escape (\d, \s ...) matches, or 0 for one that
 * is not a class. */
static char class_sample(char e)
{
	switch (e) {
	case 'd': return '1';
	case 's': case 'h': case 'v': case 'R': return ' ';
	case 'w': case 'S': case 'D': case 'H': case 'V': case 'N': case 'X': return 'a';
	case 'W': return '-';
	case 'p': case 'P': return 'a';
	default: return 0;
	}
}

/* Skips a [...] class at p[i] ('['), noting a character it matches;
 * returns the index after it. */
static size_t skip_class(struct pieces *pc, const char *p, size_t len, size_t i)
{
	size_t j = i + 1;
	int neg = j < len && p[j] == '^';

	if (neg)
		j++;
	if (j < len)
		add_sample(pc, neg ? 'x' : p[j] == '\\' && j + 1 < len ?
			   (class_sample(p[j + 1]) ? class_sample(p[j + 1]) : p[j + 1]) : p[j]);
	if (j < len && p[j] == ']')
		j++; /* a leading ] is a member */
	while (j < len && p[j] != ']')
		j += p[j] == '\\' ? 2 : 1;
	return j + 1;
}

/* Skips the "(?..." of a group opener at p[i] ('('); returns the index
 * of its first item. */
static size_t skip_opener(const char *p, size_t len, size_t i)
{
	size_t j = i + 1;

	if (j >= len || p[j] != '?')
		return j;
	j++;
	if (j < len && (p[j] == '<' || p[j] == 'P' || p[j] == '\'') &&
	    j + 1 < len && p[j + 1] != '=' && p[j + 1] != '!') {
		while (j < len && p[j] != '>' && p[j] != '\'')
			j++;
		return j + 1;
	}
	while (j < len && strchr("<=!>:imsxnU-^", p[j]) != NULL) {
		if (p[j++] == ':')
			break;
	}
	return j;
}

static int is_quantifier(char c)
{
	return c == '*' || c == '?' || c == '{';
}

/* One literal character c at p[i..next): it joins the run unless a
 * quantifier makes it optional. */
static void literal(struct pieces *pc, const char *p, size_t len, size_t next,
		    char c, int anchored)
{
	if (next < len && is_quantifier(p[next])) {
		flush(pc, anchored);
		add_sample(pc, c);
		return;
	}
	if (pc->runlen < LIT_MAX)
		pc->run[pc->runlen++] = c;
	if (next < len && p[next] == '+')
		flush(pc, anchored);
}

static void read_pattern(const char *p, size_t len, struct pieces *pc)
{
	int anchored = len > 0 && p[0] == '^';
	size_t i = anchored ? 1 : 0;

	memset(pc, 0, sizeof(*pc));
	pc->at_start = anchored;
	while (i < len) {
		char c = p[i];

		if (c == '\\' && i + 1 < len) {
			char e = p[i + 1], s = class_sample(e);

			if (s != 0 || strchr("bBAzZGKQEx0123456789", e) != NULL) {
				flush(pc, anchored);
				add_sample(pc, s);
				i += 2;
				if ((e == 'p' || e == 'P' || e == 'x') && i < len && p[i] == '{') {
					while (i < len && p[i] != '}') /* \p{..}, \x{..} */
						i++;
					i++;
				} else if (e == 'p' || e == 'P') {
					i++; /* \pL */
				} else if (e == 'x') {
					i += 2; /* \xhh */
				}
				continue;
			}
			literal(pc, p, len, i + 2, e == 't' ? '\t' : e == 'n' ? '\n' : e, anchored);
			i += 2;
		} else if (c == '[') {
			flush(pc, anchored);
			i = skip_class(pc, p, len, i);
		} else if (c == '(') {
			flush(pc, anchored);
			i = skip_opener(p, len, i);
		} else if (c == '{') {
			flush(pc, anchored);
			while (i < len && p[i] != '}')
				i++;
			i++;
		} else if (strchr(")|^$*+?", c) != NULL) {
			flush(pc, anchored);
			i++;
		} else if (c == '.') {
			flush(pc, anchored);
			add_sample(pc, 'x');
			i++;
		} else {
			literal(pc, p, len, i + 1, c, anchored);
			i++;
		}
	}
	flush(pc, anchored);
	for (const char *d = "x 1=:"; *d; d++)
		add_sample(pc, *d);
}

/* head + unit repeated to about n bytes + tail. */
static void build(struct lw_buf *b, const char *head, const char *unit,
		  const char *tail, size_t n)
{
	size_t ul = strlen(unit);

	lw_buf_reset(b);
	lw_buf_puts(b, head);
	while (ul > 0 && b->len < n && !b->oom)
		lw_buf_append(b, unit, ul);
	lw_buf_puts(b, tail);
}

/* "'head' + 'unit' x N + 'tail'", each escaped (a tail may be \x01). */
static void describe(char *out, size_t cap, const char *head, const char *unit,
		     const char *tail)
{
	const char *part[3] = {head, unit, tail};
	const char *sep[3] = {"'", "' + '", "' x N + '"};
	size_t used = 0;

	for (int i = 0; i < 3 && used + 1 < cap; i++) {
		used += (size_t)snprintf(out + used, cap - used, "%s", sep[i]);
		if (used + 1 < cap)
			used += lw_escape_text_fixed(out + used, cap - used, part[i],
						     strlen(part[i]), 0, NULL);
	}
	if (used + 1 < cap)
		snprintf(out + used, cap - used, "'");
}

struct probe {
	struct lw_regex *re;
	size_t n;
	struct lw_buf small, big;
	struct lw_recost_report *out;
	int failed; /* LW_ENOMEM */
};

static void try_family(struct probe *pr, const char *head, const char *unit,
		       const char *tail)
{
	uint64_t c1 = 0, c2 = 0;
	int r1, r2;
	double growth;

	build(&pr->small, head, unit, tail, pr->n);
	build(&pr->big, head, unit, tail, 2 * pr->n);
	if (pr->small.oom || pr->big.oom) {
		pr->failed = LW_ENOMEM;
		return;
	}
	pr->out->inputs++;
	r1 = lw_regex_cost(pr->re, pr->small.data, pr->small.len, pr->out->limit, &c1);
	r2 = r1 == LW_OK ? lw_regex_cost(pr->re, pr->big.data, pr->big.len,
					 pr->out->limit, &c2) : r1;
	if (r1 == LW_ENOMEM || r2 == LW_ENOMEM) {
		pr->failed = LW_ENOMEM;
		return;
	}
	growth = r2 == LW_EFULL ? 1e9 : (double)c2 / (double)(c1 ? c1 : 1);
	if (growth <= pr->out->growth)
		return;
	pr->out->growth = growth;
	pr->out->cost_n = c1;
	pr->out->cost_2n = c2;
	describe(pr->out->family, sizeof(pr->out->family), head, unit, tail);
	snprintf(pr->out->head, sizeof(pr->out->head), "%s", head);
	snprintf(pr->out->unit, sizeof(pr->out->unit), "%s", unit);
	snprintf(pr->out->tail, sizeof(pr->out->tail), "%s", tail);
}

/* The pattern's literals before the i-th, each after a character the
 * class before it takes ("x" + L0 + "1" + L1 ...), or after fill when
 * fill is not 0: what gets an input past the parts of the pattern
 * before the piece repeated. */
static void walk(const struct pieces *pc, size_t i, char fill, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t k = 0; k <= i && k < pc->nlit && used + 1 < cap; k++) {
		char g = fill ? fill : pc->gap[k];

		if (k == 0 && pc->head[0] != '\0')
			used += (size_t)snprintf(out + used, cap - used, "%s", pc->head);
		else if (k < i)
			used += (size_t)snprintf(out + used, cap - used, "%c%s", g, pc->lit[k]);
		else
			used += (size_t)snprintf(out + used, cap - used, "%c", g);
	}
}

/* The literals from the i-th to the one before last (all but the last
 * when all_but_last), joined by a sample character: the rest of a near
 * match. */
static void rest(const struct pieces *pc, size_t i, int all_but_last, char *out, size_t cap)
{
	size_t used = 0, end = all_but_last && pc->nlit > 0 ? pc->nlit - 1 : pc->nlit;

	out[0] = '\0';
	for (size_t k = i; k < end && used + 1 < cap; k++)
		used += (size_t)snprintf(out + used, cap - used, "x%s", pc->lit[k]);
}

/* Every family for the piece made of literal i (and i + 1 when two):
 * units with and without a sample character between the two and a
 * space after; heads that get past what comes before (nothing, or the
 * earlier literals); tails that end the input early, oddly, almost
 * matching, or matching. An input that almost matches is the one that
 * makes a backtracking pattern try everything. */
static void try_piece(struct probe *pr, const struct pieces *pc, size_t i, int two)
{
	char unit[2 * LIT_MAX + 4], walk_gap[MAX_LITS * (LIT_MAX + 1) + 8];
	char walk_x[sizeof(walk_gap)], tail[MAX_LITS * (LIT_MAX + 1) + 8];
	size_t next = i + 1 + (size_t)two;
	const char *heads[3] = {pc->head, walk_gap, walk_x};

	walk(pc, i, 0, walk_gap, sizeof(walk_gap));
	walk(pc, i, 'x', walk_x, sizeof(walk_x));
	for (int h = 0; h < 3 && !pr->failed; h++) {
		if (h > 0 && i == 0)
			break; /* the walk of nothing is the plain head */
		for (int mid = 0; mid <= two; mid++) {
			for (int sp = 0; sp <= 1; sp++) {
				snprintf(unit, sizeof(unit), "%s%s%s%s", pc->lit[i],
					 mid ? "x" : "", two ? pc->lit[i + 1] : "", sp ? " " : "");
				try_family(pr, heads[h], unit, "");
				try_family(pr, heads[h], unit, "\x01");
				rest(pc, next, 1, tail, sizeof(tail));
				if (tail[0] != '\0')
					try_family(pr, heads[h], unit, tail);
				rest(pc, next, 0, tail, sizeof(tail));
				if (tail[0] != '\0')
					try_family(pr, heads[h], unit, tail);
			}
		}
	}
}

static void try_all(struct probe *pr, const struct pieces *pc)
{
	char unit[4];

	for (size_t i = 0; i < pc->nlit && !pr->failed; i++) {
		try_piece(pr, pc, i, 0);
		if (i + 1 < pc->nlit)
			try_piece(pr, pc, i, 1);
	}
	for (size_t s = 0; s < pc->nsample && !pr->failed; s++) {
		for (int sp = 0; sp <= 1; sp++) {
			snprintf(unit, sizeof(unit), "%c%s", pc->sample[s], sp ? " " : "");
			try_family(pr, pc->head, unit, "");
			/* A byte nothing in a log pattern expects ends the run:
			 * "aaaa!" is what makes (a+)+$ try every split. */
			try_family(pr, pc->head, unit, "\x01");
			if (pc->nlit > 0)
				try_family(pr, pc->head, unit, pc->lit[pc->nlit - 1]);
		}
	}
}

int lw_recost_probe(const char *pattern, size_t len, unsigned flags, size_t n,
		    struct lw_recost_report *out)
{
	struct probe pr = {.n = n < 64 ? 64 : n, .out = out};
	struct pieces pc;
	int rc;

	memset(out, 0, sizeof(*out));
	out->limit = (uint64_t)pr.n * 2 * LW_RECOST_STEPS_PER_BYTE;
	rc = lw_regex_compile(pattern, len, flags | LW_REGEX_COSTED, &pr.re, NULL);
	if (rc != LW_OK)
		return rc;
	lw_buf_init(&pr.small);
	lw_buf_init(&pr.big);
	read_pattern(pattern, len, &pc);
	try_all(&pr, &pc);
	lw_buf_release(&pr.small);
	lw_buf_release(&pr.big);
	lw_regex_free(pr.re);
	if (pr.failed)
		return pr.failed;
	out->superlinear = out->growth > LW_RECOST_MAX_GROWTH;
	return LW_OK;
}

void lw_recost_build(const struct lw_recost_report *r, size_t size, struct lw_buf *out)
{
	size_t ul = strlen(r->unit), start = out->len;

	lw_buf_puts(out, r->head);
	while (ul > 0 && out->len - start + strlen(r->tail) < size && !out->oom)
		lw_buf_append(out, r->unit, ul);
	lw_buf_puts(out, r->tail);
}
