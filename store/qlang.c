/* lw_qlang: recursive-descent parser, canonical printer, binder and
 * matcher of the query language (store/qlang.h has the grammar).
 *
 * The tree keeps AND/OR n-ary and flattened (a AND (b AND c) is one AND of
 * three), so the printer's output parses back to the same tree. Binding
 * turns each term into one matcher kind (exact bytes, a prepared
 * case-insensitive literal search, a wildcard, a number or time range, a
 * CIDR, a pcre2 regex) and sorts the operands of AND/OR by cost, so the
 * cheap comparisons and literal searches run before any regex. */
#include "store/qlang.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"
#include "core/memfind.h"
#include "core/regex.h"
#include "core/time.h"

/* How a bound term tests a value. */
enum matcher {
	M_EXISTS,
	M_BYTES,      /* exact bytes */
	M_CONTAINS,   /* text: every piece, in order, ASCII case ignored */
	M_GLOB,       /* keyword: anchored '*' wildcard over the whole value */
	M_NUM_EQ,
	M_NUM_RANGE,
	M_STR_RANGE,
	M_TIME_RANGE,
	M_CIDR,
	M_REGEX
};

struct lw_qlang_term {
	enum lw_qlang_op op;     /* as parsed; EQ becomes CIDR when bound */
	long off;                /* byte offset of the term, -1 = added by API */
	long voff;               /* byte offset of its value */
	char *name;              /* NULL: the schema's text field */
	uint32_t namelen;
	int quoted;              /* the value was a "phrase" */
	char *value;             /* escapes removed; REGEX: the pattern as written */
	uint32_t vlen;
	uint32_t *stars;         /* WILDCARD: offsets in value of each '*' */
	uint32_t nstars;
	/* RANGE: value is the low bound, hi the high one */
	char *hi;
	uint32_t hilen;
	uint8_t lo_open, hi_open, lo_incl, hi_incl, lo_quoted, hi_quoted;
	/* bound */
	struct lw_qlang_field field;
	enum matcher m;
	int cost;
	double nlo, nhi;
	int64_t tlo, thi;
	struct lw_cidr cidr;
	struct lw_regex *re;
	struct lw_memfind_icase *finds;
	uint32_t nfinds;
};

struct node {
	enum lw_qlang_op op;     /* ALL, AND, OR, NOT, or a term's op */
	struct node **kids;      /* AND/OR: nkids; NOT: one */
	uint32_t nkids;
	struct lw_qlang_term *term;
	int cost;
};

struct lw_qlang {
	struct node *root;
	char *text;              /* the parsed text, for line:col */
	size_t textlen;
	uint32_t nterms;
	const struct lw_qlang_schema *schema;
	struct lw_qlang_term *limit_term; /* the regex that hit its limit */
};

/* ---------------------------------------------------------------- nodes */

static void term_free(struct lw_qlang_term *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->value);
	free(t->stars);
	free(t->hi);
	lw_regex_free(t->re);
	for (uint32_t i = 0; i < t->nfinds; i++)
		lw_memfind_icase_release(&t->finds[i]);
	free(t->finds);
	free(t);
}

static void node_free(struct node *n)
{
	if (n == NULL)
		return;
	for (uint32_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	term_free(n->term);
	free(n);
}

void lw_qlang_free(struct lw_qlang *q)
{
	if (q == NULL)
		return;
	node_free(q->root);
	free(q->text);
	free(q);
}

static struct node *node_new(enum lw_qlang_op op)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n != NULL)
		n->op = op;
	return n;
}

static int node_add_kid(struct node *n, struct node *kid)
{
	struct node **k = realloc(n->kids, (n->nkids + 1) * sizeof(*k));

	if (k == NULL)
		return LW_ENOMEM;
	n->kids = k;
	n->kids[n->nkids++] = kid;
	return LW_OK;
}

/* a <op> b, flattening operands that are already <op> nodes. Takes a and
 * b (both freed on failure). */
static struct node *node_join(enum lw_qlang_op op, struct node *a, struct node *b)
{
	struct node *n = a;

	if (a->op != op) {
		n = node_new(op);
		if (n == NULL || node_add_kid(n, a) != LW_OK) {
			free(n);
			node_free(a);
			node_free(b);
			return NULL;
		}
	}
	/* from here n owns a */
	if (b->op != op) {
		if (node_add_kid(n, b) != LW_OK) {
			node_free(n);
			node_free(b);
			return NULL;
		}
		return n;
	}
	for (uint32_t i = 0; i < b->nkids; i++) {
		if (node_add_kid(n, b->kids[i]) != LW_OK) {
			/* kids [0, i) belong to n now; b keeps the rest */
			memmove(b->kids, b->kids + i, (b->nkids - i) * sizeof(*b->kids));
			b->nkids -= i;
			node_free(n);
			node_free(b);
			return NULL;
		}
	}
	b->nkids = 0;
	node_free(b);
	return n;
}

/* ---------------------------------------------------------------- lexing */

struct parser {
	struct lw_qlang *q;
	const char *s;
	size_t len;
	size_t p;
	int depth;
	int err;                 /* the first failure's code */
	struct lw_diag *diag;
};

static void line_col(const char *s, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xc0) != 0x80) { /* count characters, not bytes */
			(*col)++;
		}
	}
}

static int fail_at(struct parser *ps, size_t off, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *ps, size_t off, int err, const char *fmt, ...)
{
	char msg[sizeof(ps->diag->detail)];
	va_list ap;
	int line, col;

	if (ps->err == LW_OK)
		ps->err = err;
	if (ps->diag == NULL)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line_col(ps->s, off, &line, &col);
	return lw_diag_set(ps->diag, err, NULL, line, col, "%s", msg);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->len && is_space(ps->s[ps->p]))
		ps->p++;
}

static int at_end(const struct parser *ps)
{
	return ps->p >= ps->len;
}

static char cur(const struct parser *ps)
{
	return ps->p < ps->len ? ps->s[ps->p] : '\0';
}

/* A character that ends a word. In a field's value ':' is an ordinary
 * character (IPv6 addresses, times); in a bare word it names a field. */
static int ends_word(char c, int colon_ends)
{
	return is_space(c) || c == '(' || c == ')' || c == '"' ||
	       (colon_ends && c == ':');
}

/* The raw extent [start, end) of the word at ps->p (escapes included). */
static size_t word_end(const struct parser *ps, size_t from, int colon_ends)
{
	size_t i = from;

	while (i < ps->len && !ends_word(ps->s[i], colon_ends)) {
		if (ps->s[i] == '\\' && i + 1 < ps->len)
			i++;
		i++;
	}
	return i;
}

enum keyword { KW_NONE, KW_AND, KW_OR, KW_NOT };

/* The operator spelled by the raw word s[from, to), if any. */
static enum keyword keyword_of(const char *s, size_t from, size_t to)
{
	static const struct { const char *w; enum keyword k; } kws[] = {
		{"AND", KW_AND}, {"and", KW_AND}, {"OR", KW_OR}, {"or", KW_OR},
		{"NOT", KW_NOT}, {"not", KW_NOT},
	};

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (strlen(kws[i].w) == to - from && memcmp(kws[i].w, s + from, to - from) == 0)
			return kws[i].k;
	return KW_NONE;
}

static enum keyword peek_keyword(const struct parser *ps)
{
	size_t end = word_end(ps, ps->p, 1);

	if (end == ps->p || (end < ps->len && ps->s[end] == ':'))
		return KW_NONE;
	return keyword_of(ps->s, ps->p, end);
}

static const char *keyword_name(enum keyword k)
{
	return k == KW_AND ? "AND" : k == KW_OR ? "OR" : "NOT";
}

/* Decodes the raw word s[from, to): escapes removed, the offset of each
 * unescaped '*' recorded when stars is not NULL. */
static int decode_word(const char *s, size_t from, size_t to, char **out,
		       uint32_t *outlen, uint32_t **stars, uint32_t *nstars)
{
	char *v = malloc(to - from + 1);
	uint32_t n = 0, ns = 0, *st = NULL;

	if (v == NULL)
		return LW_ENOMEM;
	for (size_t i = from; i < to; i++) {
		if (s[i] == '\\' && i + 1 < to) {
			v[n++] = s[++i];
			continue;
		}
		if (s[i] == '*' && stars != NULL) {
			uint32_t *g = realloc(st, (ns + 1) * sizeof(*st));

			if (g == NULL) {
				free(st);
				free(v);
				return LW_ENOMEM;
			}
			st = g;
			st[ns++] = n;
			continue;
		}
		v[n++] = s[i];
	}
	v[n] = '\0';
	*out = v;
	*outlen = n;
	if (stars != NULL) {
		*stars = st;
		*nstars = ns;
	}
	return LW_OK;
}

/* Reads the "phrase" at ps->p (on the opening quote). */
static int read_phrase(struct parser *ps, char **out, uint32_t *outlen)
{
	size_t open = ps->p, i = ps->p + 1;

	while (i < ps->len && ps->s[i] != '"') {
		if (ps->s[i] == '\\' && i + 1 < ps->len)
			i++;
		i++;
	}
	if (i >= ps->len)
		return fail_at(ps, open, LW_EPARSE,
			       "unterminated phrase: expected a closing '\"' for this one");
	ps->p = i + 1;
	return decode_word(ps->s, open + 1, i, out, outlen, NULL, NULL);
}

/* The end of the /regex/ at ps->p (one past its closing '/'), or 0 when
 * the text there is not one: no closing '/', or the closing '/' is
 * followed by something other than a space, ')' or the end. */
static size_t regex_end(const struct parser *ps)
{
	size_t i = ps->p + 1;

	while (i < ps->len && ps->s[i] != '/') {
		if (ps->s[i] == '\\' && i + 1 < ps->len)
			i++;
		i++;
	}
	if (i >= ps->len)
		return 0;
	i++;
	if (i < ps->len && !is_space(ps->s[i]) && ps->s[i] != ')')
		return 0;
	return i;
}

/* The /regex/ at [start, end) (end is one past its closing '/'), its
 * pattern kept as written: pcre2 reads "\/" as '/'. */
static int read_regex(struct parser *ps, struct lw_qlang_term *t, size_t start, size_t end)
{
	t->op = LW_QLANG_REGEX;
	t->value = lw_memdup_z(ps->s + start + 1, end - start - 2);
	t->vlen = (uint32_t)(end - start - 2);
	ps->p = end;
	return t->value == NULL ? LW_ENOMEM : LW_OK;
}

/* ---------------------------------------------------------------- parsing */

static struct node *parse_or(struct parser *ps, const struct lw_qlang_term *field,
			     const char *after);

static struct lw_qlang_term *term_new(struct parser *ps, size_t off,
				      const struct lw_qlang_term *field)
{
	struct lw_qlang_term *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->off = field != NULL && field->off >= 0 ? field->off : (long)off;
	t->voff = (long)off;
	if (field != NULL && field->name != NULL) {
		t->name = lw_memdup_z(field->name, field->namelen);
		if (t->name == NULL) {
			free(t);
			return NULL;
		}
		t->namelen = field->namelen;
	}
	ps->q->nterms++;
	return t;
}

static struct node *term_node(struct parser *ps, struct lw_qlang_term *t)
{
	struct node *n;

	if (t == NULL) {
		fail_at(ps, ps->p, LW_ENOMEM, "out of memory");
		return NULL;
	}
	if (ps->q->nterms > LW_QLANG_MAX_TERMS) {
		fail_at(ps, (size_t)t->off, LW_ETOOBIG,
			"more than %u terms in one expression", LW_QLANG_MAX_TERMS);
		term_free(t);
		return NULL;
	}
	n = node_new(t->op);
	if (n == NULL) {
		term_free(t);
		fail_at(ps, ps->p, LW_ENOMEM, "out of memory");
		return NULL;
	}
	n->term = t;
	return n;
}

/* A range bound: a word (its end is ' ', ']' or '}'), a phrase, or '*'. */
static int read_bound(struct parser *ps, char **v, uint32_t *vlen, uint8_t *open,
		      uint8_t *quoted, const char *what)
{
	size_t start;

	skip_space(ps);
	start = ps->p;
	if (cur(ps) == '"') {
		*quoted = 1;
		return read_phrase(ps, v, vlen);
	}
	while (ps->p < ps->len && !is_space(ps->s[ps->p]) && ps->s[ps->p] != ']' &&
	       ps->s[ps->p] != '}' && ps->s[ps->p] != '(' && ps->s[ps->p] != ')' &&
	       ps->s[ps->p] != '"') {
		if (ps->s[ps->p] == '\\' && ps->p + 1 < ps->len)
			ps->p++;
		ps->p++;
	}
	if (ps->p == start)
		return fail_at(ps, start, LW_EPARSE, "expected %s", what);
	if (ps->p - start == 1 && ps->s[start] == '*') {
		*open = 1;
		return LW_OK;
	}
	return decode_word(ps->s, start, ps->p, v, vlen, NULL, NULL);
}

/* [lo TO hi], {lo TO hi} or a mix; ps->p is on the bracket. */
static int parse_range(struct parser *ps, struct lw_qlang_term *t)
{
	size_t open = ps->p, to;
	char close;
	int rc;

	t->op = LW_QLANG_RANGE;
	t->lo_incl = ps->s[ps->p] == '[';
	ps->p++;
	rc = read_bound(ps, &t->value, &t->vlen, &t->lo_open, &t->lo_quoted,
			t->lo_incl ? "a lower bound after '['" : "a lower bound after '{'");
	if (rc != LW_OK)
		return rc;
	skip_space(ps);
	to = ps->p;
	if (ps->len - ps->p < 2 || memcmp(ps->s + ps->p, "TO", 2) != 0 ||
	    (ps->p + 2 < ps->len && !is_space(ps->s[ps->p + 2])))
		return fail_at(ps, to, LW_EPARSE, "expected TO in a range like [400 TO 499]");
	ps->p += 2;
	rc = read_bound(ps, &t->hi, &t->hilen, &t->hi_open, &t->hi_quoted,
			"an upper bound after TO");
	if (rc != LW_OK)
		return rc;
	skip_space(ps);
	close = cur(ps);
	if (close != ']' && close != '}') {
		int line, col;

		line_col(ps->s, open, &line, &col);
		return fail_at(ps, ps->p, LW_EPARSE,
			       "expected ']' or '}' to close the range opened at %d:%d",
			       line, col);
	}
	t->hi_incl = close == ']';
	ps->p++;
	/* An open bound includes everything: one spelling prints back. */
	if (t->lo_open)
		t->lo_incl = 1;
	if (t->hi_open)
		t->hi_incl = 1;
	return LW_OK;
}

/* field:>v, >=, <, <= ; ps->p is on '>' or '<'. */
static int parse_compare(struct parser *ps, struct lw_qlang_term *t, const char *after)
{
	char op = ps->s[ps->p];
	int eq = ps->p + 1 < ps->len && ps->s[ps->p + 1] == '=';
	char **v = op == '>' ? &t->value : &t->hi;
	uint32_t *vlen = op == '>' ? &t->vlen : &t->hilen;
	uint8_t *quoted = op == '>' ? &t->lo_quoted : &t->hi_quoted;
	size_t start, end;

	t->op = LW_QLANG_RANGE;
	t->lo_open = op == '<';
	t->hi_open = op == '>';
	t->lo_incl = t->hi_incl = 1;
	if (op == '>')
		t->lo_incl = (uint8_t)eq;
	else
		t->hi_incl = (uint8_t)eq;
	ps->p += 1 + (size_t)eq;
	skip_space(ps);
	if (cur(ps) == '"') {
		*quoted = 1;
		return read_phrase(ps, v, vlen);
	}
	start = ps->p;
	end = word_end(ps, start, 0);
	if (end == start)
		return fail_at(ps, start, LW_EPARSE, "expected a value after \"%s%c%s\"",
			       after, op, eq ? "=" : "");
	ps->p = end;
	return decode_word(ps->s, start, end, v, vlen, NULL, NULL);
}

/* One value of field (a term): '*', a word, "phrase", /regex/, a range
 * or a comparison. after names what precedes it, for errors. */
static struct node *parse_value(struct parser *ps, const struct lw_qlang_term *field,
				const char *after)
{
	struct lw_qlang_term *t = term_new(ps, ps->p, field);
	size_t start = ps->p, end;
	int rc = LW_OK;

	if (t == NULL)
		return term_node(ps, NULL);
	t->op = LW_QLANG_EQ;
	t->voff = (long)start;
	if (at_end(ps) || cur(ps) == ')' || is_space(cur(ps))) {
		rc = fail_at(ps, start, LW_EPARSE, "expected a value after \"%s\"", after);
	} else if (cur(ps) == '"') {
		t->quoted = 1;
		rc = read_phrase(ps, &t->value, &t->vlen);
	} else if (cur(ps) == '[' || cur(ps) == '{') {
		rc = parse_range(ps, t);
	} else if (cur(ps) == '>' || cur(ps) == '<') {
		rc = parse_compare(ps, t, after);
	} else if (cur(ps) == '/' && (end = regex_end(ps)) != 0) {
		rc = read_regex(ps, t, start, end);
	} else {
		end = word_end(ps, start, 0);
		ps->p = end;
		if (end - start == 1 && ps->s[start] == '*')
			t->op = LW_QLANG_EXISTS;
		else
			rc = decode_word(ps->s, start, end, &t->value, &t->vlen, &t->stars,
					 &t->nstars);
		if (rc == LW_OK && t->nstars > 0)
			t->op = LW_QLANG_WILDCARD;
	}
	if (rc != LW_OK) {
		if (rc == LW_ENOMEM)
			fail_at(ps, start, rc, "out of memory");
		term_free(t);
		return NULL;
	}
	return term_node(ps, t);
}

static struct node *parse_group(struct parser *ps, const struct lw_qlang_term *field)
{
	size_t open = ps->p;
	struct node *n;

	if (++ps->depth > LW_QLANG_MAX_DEPTH) {
		fail_at(ps, open, LW_ETOOBIG, "parentheses nested deeper than %d",
			LW_QLANG_MAX_DEPTH);
		return NULL;
	}
	ps->p++;
	skip_space(ps);
	n = parse_or(ps, field, "'('");
	if (n == NULL)
		return NULL;
	skip_space(ps);
	if (cur(ps) != ')') {
		int line, col;

		line_col(ps->s, open, &line, &col);
		fail_at(ps, ps->p, LW_EPARSE, "expected ')' to close the '(' at %d:%d",
			line, col);
		node_free(n);
		return NULL;
	}
	ps->p++;
	ps->depth--;
	return n;
}

/* A bare word, phrase or regex: full text over the text field. */
static struct node *parse_text(struct parser *ps, size_t start, size_t end)
{
	struct lw_qlang_term *t = term_new(ps, start, NULL);
	int rc;

	if (t == NULL)
		return term_node(ps, NULL);
	t->op = LW_QLANG_EQ;
	t->voff = (long)start;
	if (ps->s[start] == '"') {
		t->quoted = 1;
		rc = read_phrase(ps, &t->value, &t->vlen);
	} else if (ps->s[start] == '/' && (end = regex_end(ps)) != 0) {
		rc = read_regex(ps, t, start, end);
	} else {
		end = word_end(ps, start, 1);
		rc = decode_word(ps->s, start, end, &t->value, &t->vlen, &t->stars, &t->nstars);
		ps->p = end;
		if (rc == LW_OK && t->nstars > 0)
			t->op = LW_QLANG_WILDCARD;
		if (rc == LW_OK && t->vlen == 0 && t->nstars == 1) { /* '*' alone */
			term_free(t);
			ps->q->nterms--;
			return node_new(LW_QLANG_ALL);
		}
	}
	if (rc != LW_OK) {
		if (rc == LW_ENOMEM)
			fail_at(ps, start, rc, "out of memory");
		term_free(t);
		return NULL;
	}
	return term_node(ps, t);
}

/* '(' or, FIELD ':' value, or a full-text term. Inside field:( ... ),
 * field is set and every primary is a value of it. */
static struct node *parse_primary(struct parser *ps, const struct lw_qlang_term *field,
				  const char *after)
{
	size_t start = ps->p, end;
	struct lw_qlang_term name = {0};
	char *after_name;
	struct node *n;

	if (at_end(ps) || cur(ps) == ')') {
		if (after[0] == '\0')
			fail_at(ps, start, LW_EPARSE, at_end(ps) ? "expected a term" :
				"unexpected ')' (no '(' to close)");
		else
			fail_at(ps, start, LW_EPARSE, "expected a term after %s", after);
		return NULL;
	}
	if (cur(ps) == '(')
		return parse_group(ps, field);
	if (peek_keyword(ps) == KW_AND || peek_keyword(ps) == KW_OR) {
		if (after[0] == '\0')
			fail_at(ps, start, LW_EPARSE, "expected a term before %s",
				keyword_name(peek_keyword(ps)));
		else
			fail_at(ps, start, LW_EPARSE, "expected a term after %s, not %s",
				after, keyword_name(peek_keyword(ps)));
		return NULL;
	}
	if (field != NULL)
		return parse_value(ps, field, "'('");
	if (cur(ps) == '"' || cur(ps) == '/')
		return parse_text(ps, start, start);
	end = word_end(ps, start, 1);
	if (end == start) { /* ':' with no name before it */
		fail_at(ps, start, LW_EPARSE, "expected a field name before ':'");
		return NULL;
	}
	if (end >= ps->len || ps->s[end] != ':')
		return parse_text(ps, start, end);
	name.off = (long)start;
	if (decode_word(ps->s, start, end, &name.name, &name.namelen, NULL, NULL) != LW_OK) {
		fail_at(ps, start, LW_ENOMEM, "out of memory");
		return NULL;
	}
	ps->p = end + 1;
	after_name = malloc(name.namelen + 2);
	if (after_name == NULL) {
		free(name.name);
		fail_at(ps, start, LW_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(after_name, name.namelen + 2, "%s:", name.name);
	/* "field: value" is allowed, "field:" followed by nothing is not */
	if (is_space(cur(ps))) {
		size_t colon_next = ps->p;

		skip_space(ps);
		if (at_end(ps) || cur(ps) == ')' || peek_keyword(ps) != KW_NONE)
			ps->p = colon_next;
	}
	n = cur(ps) == '(' ? parse_group(ps, &name) : parse_value(ps, &name, after_name);
	free(after_name);
	free(name.name);
	return n;
}

static struct node *parse_not(struct parser *ps, const struct lw_qlang_term *field,
			      const char *after)
{
	struct node *n, *kid;

	skip_space(ps);
	if (peek_keyword(ps) != KW_NOT)
		return parse_primary(ps, field, after);
	if (++ps->depth > LW_QLANG_MAX_DEPTH) {
		fail_at(ps, ps->p, LW_ETOOBIG, "NOT nested deeper than %d", LW_QLANG_MAX_DEPTH);
		return NULL;
	}
	ps->p = word_end(ps, ps->p, 1);
	kid = parse_not(ps, field, "NOT");
	ps->depth--;
	if (kid == NULL)
		return NULL;
	n = node_new(LW_QLANG_NOT);
	if (n == NULL || node_add_kid(n, kid) != LW_OK) {
		free(n);
		node_free(kid);
		fail_at(ps, ps->p, LW_ENOMEM, "out of memory");
		return NULL;
	}
	return n;
}

/* left <op> right once right parsed (NULL: its error is recorded). */
static struct node *join_parsed(struct parser *ps, enum lw_qlang_op op, struct node *left,
				struct node *right)
{
	if (right == NULL) {
		node_free(left);
		return NULL;
	}
	left = node_join(op, left, right);
	if (left == NULL)
		fail_at(ps, ps->p, LW_ENOMEM, "out of memory");
	return left;
}

static struct node *parse_and(struct parser *ps, const struct lw_qlang_term *field,
			      const char *after)
{
	struct node *left = parse_not(ps, field, after), *right;
	enum keyword k;

	while (left != NULL) {
		skip_space(ps);
		if (at_end(ps) || cur(ps) == ')')
			break;
		k = peek_keyword(ps);
		if (k == KW_OR)
			break;
		if (k == KW_AND)
			ps->p = word_end(ps, ps->p, 1);
		right = parse_not(ps, field, k == KW_AND ? "AND" : "");
		left = join_parsed(ps, LW_QLANG_AND, left, right);
	}
	return left;
}

static struct node *parse_or(struct parser *ps, const struct lw_qlang_term *field,
			     const char *after)
{
	struct node *left = parse_and(ps, field, after), *right;

	while (left != NULL) {
		skip_space(ps);
		if (peek_keyword(ps) != KW_OR)
			break;
		ps->p = word_end(ps, ps->p, 1);
		right = parse_and(ps, field, "OR");
		left = join_parsed(ps, LW_QLANG_OR, left, right);
	}
	return left;
}

int lw_qlang_parse(const char *text, size_t len, struct lw_qlang **out,
		   struct lw_diag *diag)
{
	struct parser ps = {0};
	struct lw_qlang *q;
	int rc = LW_OK;

	*out = NULL;
	if (len > LW_QLANG_MAX_LEN)
		return lw_diag_set(diag, LW_ETOOBIG, NULL, 0, 0,
				   "expression longer than %u bytes", LW_QLANG_MAX_LEN);
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return LW_ENOMEM;
	q->text = lw_memdup_z(text, len);
	if (q->text == NULL) {
		free(q);
		return LW_ENOMEM;
	}
	q->textlen = len;
	ps = (struct parser){q, q->text, len, 0, 0, LW_OK, diag};
	skip_space(&ps);
	if (at_end(&ps)) {
		q->root = node_new(LW_QLANG_ALL);
	} else {
		q->root = parse_or(&ps, NULL, "");
		skip_space(&ps);
		if (q->root != NULL && !at_end(&ps)) {
			/* parse_and stops only at the end, OR or ')' */
			rc = fail_at(&ps, ps.p, LW_EPARSE, "unexpected ')' (no '(' to close)");
			goto fail;
		}
	}
	if (q->root == NULL) {
		rc = ps.err != LW_OK ? ps.err : LW_ENOMEM;
		goto fail;
	}
	*out = q;
	return LW_OK;
fail:
	lw_qlang_free(q);
	return rc;
}

int lw_qlang_and_term(struct lw_qlang **q, const char *field, enum lw_qlang_op op,
		      const char *value, size_t len)
{
	struct lw_qlang_term *t;
	struct node *n;

	if (op != LW_QLANG_EQ && op != LW_QLANG_REGEX && op != LW_QLANG_RANGE)
		return LW_EINVAL;
	if (len > LW_QLANG_MAX_LEN)
		return LW_ETOOBIG;
	if (*q == NULL) {
		*q = calloc(1, sizeof(**q));
		if (*q == NULL)
			return LW_ENOMEM;
		(*q)->text = lw_memdup_z("", 0);
		(*q)->root = node_new(LW_QLANG_ALL);
		if ((*q)->text == NULL || (*q)->root == NULL)
			goto fail_q;
	}
	if ((*q)->nterms >= LW_QLANG_MAX_TERMS)
		return LW_ETOOBIG;
	t = calloc(1, sizeof(*t));
	n = node_new(op);
	if (t == NULL || n == NULL)
		goto fail_t;
	n->term = t;
	t->op = op;
	t->off = t->voff = -1;
	t->quoted = 1;
	t->name = lw_memdup_z(field, strlen(field));
	t->namelen = (uint32_t)strlen(field);
	if (op == LW_QLANG_RANGE) {
		t->lo_open = t->lo_incl = t->hi_incl = 1;
		t->hi = lw_memdup_z(value, len);
		t->hilen = (uint32_t)len;
		t->hi_quoted = 1;
	} else {
		t->value = lw_memdup_z(value, len);
		t->vlen = (uint32_t)len;
	}
	if (t->name == NULL || (t->value == NULL && t->hi == NULL))
		goto fail_n;
	if ((*q)->root->op == LW_QLANG_ALL) {
		node_free((*q)->root);
		(*q)->root = n;
	} else {
		(*q)->root = node_join(LW_QLANG_AND, (*q)->root, n);
		if ((*q)->root == NULL)
			goto fail_q; /* node_join freed both */
	}
	(*q)->nterms++;
	return LW_OK;
fail_n:
	node_free(n);
	return LW_ENOMEM;
fail_t:
	free(t);
	free(n);
	return LW_ENOMEM;
fail_q:
	lw_qlang_free(*q);
	*q = NULL;
	return LW_ENOMEM;
}

int lw_qlang_is_all(const struct lw_qlang *q)
{
	return q->root->op == LW_QLANG_ALL;
}

/* ---------------------------------------------------------------- printing */

/* Characters a word must escape to read back as the same word. */
static int needs_escape(char c)
{
	return is_space(c) || c == '(' || c == ')' || c == '"' || c == ':' ||
	       c == '\\' || c == '*';
}

/* value[0..len) as a word: escapes, and '*' only where stars says. The
 * first character is escaped when it would start something else (a range,
 * a comparison, a regex), and a word spelling an operator is escaped. */
static void put_word(struct lw_buf *out, const char *v, uint32_t len,
		     const uint32_t *stars, uint32_t nstars, int bare)
{
	uint32_t si = 0;

	if (keyword_of(v, 0, len) != KW_NONE && nstars == 0)
		lw_buf_putc(out, '\\');
	for (uint32_t i = 0; i <= len; i++) {
		while (si < nstars && stars[si] == i) {
			lw_buf_putc(out, '*');
			si++;
		}
		if (i == len)
			break;
		if ((needs_escape(v[i]) && (bare || v[i] != ':')) ||
		    (i == 0 && si == 0 && memchr("[{<>/", v[i], 5) != NULL))
			lw_buf_putc(out, '\\');
		lw_buf_putc(out, v[i]);
	}
}

static void put_phrase(struct lw_buf *out, const char *v, uint32_t len)
{
	lw_buf_putc(out, '"');
	for (uint32_t i = 0; i < len; i++) {
		if (v[i] == '"' || v[i] == '\\')
			lw_buf_putc(out, '\\');
		lw_buf_putc(out, v[i]);
	}
	lw_buf_putc(out, '"');
}

static void put_bound(struct lw_buf *out, const char *v, uint32_t len, int open,
		      int quoted)
{
	if (open) {
		lw_buf_putc(out, '*');
		return;
	}
	if (quoted || len == 0) {
		put_phrase(out, v, len);
		return;
	}
	for (uint32_t i = 0; i < len; i++) {
		if ((needs_escape(v[i]) && v[i] != ':') || v[i] == ']' || v[i] == '}' ||
		    (i == 0 && len == 2 && memcmp(v, "TO", 2) == 0))
			lw_buf_putc(out, '\\');
		lw_buf_putc(out, v[i]);
	}
}

/* A regex pattern between slashes: a '/' not already escaped gets one. */
static void put_regex(struct lw_buf *out, const char *v, uint32_t len)
{
	lw_buf_putc(out, '/');
	for (uint32_t i = 0; i < len; i++) {
		if (v[i] == '\\' && i + 1 < len) {
			lw_buf_append(out, v + i, 2);
			i++;
			continue;
		}
		if (v[i] == '/')
			lw_buf_putc(out, '\\');
		lw_buf_putc(out, v[i]);
	}
	lw_buf_putc(out, '/');
}

static void format_term(const struct lw_qlang_term *t, struct lw_buf *out)
{
	if (t->name != NULL) {
		for (uint32_t i = 0; i < t->namelen; i++) {
			if (needs_escape(t->name[i]) || (i == 0 && t->name[i] == '/'))
				lw_buf_putc(out, '\\');
			lw_buf_putc(out, t->name[i]);
		}
		lw_buf_putc(out, ':');
	}
	switch (t->op) {
	case LW_QLANG_EXISTS:
		lw_buf_putc(out, '*');
		break;
	case LW_QLANG_REGEX:
		put_regex(out, t->value, t->vlen);
		break;
	case LW_QLANG_RANGE:
		lw_buf_putc(out, t->lo_incl ? '[' : '{');
		put_bound(out, t->value, t->vlen, t->lo_open, t->lo_quoted);
		lw_buf_puts(out, " TO ");
		put_bound(out, t->hi, t->hilen, t->hi_open, t->hi_quoted);
		lw_buf_putc(out, t->hi_incl ? ']' : '}');
		break;
	default: /* EQ, CIDR, WILDCARD */
		if (t->quoted || (t->vlen == 0 && t->nstars == 0))
			put_phrase(out, t->value, t->vlen);
		else
			put_word(out, t->value, t->vlen, t->stars, t->nstars, t->name == NULL);
		break;
	}
}

static void format_node(const struct node *n, struct lw_buf *out)
{
	switch (n->op) {
	case LW_QLANG_ALL:
		lw_buf_putc(out, '*');
		return;
	case LW_QLANG_AND:
	case LW_QLANG_OR:
		for (uint32_t i = 0; i < n->nkids; i++) {
			const struct node *k = n->kids[i];
			int paren = n->op == LW_QLANG_AND && k->op == LW_QLANG_OR;

			if (i > 0)
				lw_buf_puts(out, n->op == LW_QLANG_AND ? " AND " : " OR ");
			if (paren)
				lw_buf_putc(out, '(');
			format_node(k, out);
			if (paren)
				lw_buf_putc(out, ')');
		}
		return;
	case LW_QLANG_NOT: {
		const struct node *k = n->kids[0];
		int paren = k->op == LW_QLANG_AND || k->op == LW_QLANG_OR;

		lw_buf_puts(out, paren ? "NOT (" : "NOT ");
		format_node(k, out);
		if (paren)
			lw_buf_putc(out, ')');
		return;
	}
	default:
		format_term(n->term, out);
		return;
	}
}

void lw_qlang_format(const struct lw_qlang *q, struct lw_buf *out)
{
	format_node(q->root, out);
}

/* ---------------------------------------------------------------- binding */

/* A decimal number: [+-]digits[.digits][(e|E)[+-]digits], all of s. */
static int parse_number(const char *s, size_t len, double *out)
{
	char buf[64];
	size_t i = 0, digits = 0;
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = ++i;

		if (i < len && (s[i] == '+' || s[i] == '-'))
			e = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == e)
			return 0;
	}
	if (i != len)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return isfinite(*out);
}

/* An IP address at the start of s: the whole of s, or, with port, the
 * part before ":port" / "[v6]:port". family and 16 bytes. */
static int parse_ip(const char *s, size_t len, int with_port, int *family, uint8_t addr[16])
{
	char buf[64];

	if (with_port && len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL)
			return 0;
		len = (size_t)(close - s) - 1;
		s++;
	} else if (with_port) {
		const char *colon = memchr(s, ':', len);

		/* one ':' is a port; several make an IPv6 address */
		if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL)
			len = (size_t)(colon - s);
	}
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		return 1;
	}
	return 0;
}

static int cidr_has(const struct lw_cidr *c, int family, const uint8_t addr[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	int bits = c->prefix;

	if (family == AF_INET6 && c->family == AF_INET && memcmp(addr, mapped, 12) == 0) {
		addr += 12;
		family = AF_INET;
	}
	if (family != c->family)
		return 0;
	for (int i = 0; bits > 0; i++, bits -= 8) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((addr[i] & mask) != c->addr[i])
			return 0;
	}
	return 1;
}

static int bind_fail(struct lw_qlang *q, const struct lw_qlang_term *t,
		     struct lw_diag *diag, int err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int bind_fail(struct lw_qlang *q, const struct lw_qlang_term *t,
		     struct lw_diag *diag, int err, const char *fmt, ...)
{
	char msg[sizeof(diag->detail)];
	va_list ap;
	int line = 0, col = 0;

	if (diag == NULL)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->off >= 0)
		line_col(q->text, (size_t)t->off, &line, &col);
	return lw_diag_set(diag, err, NULL, line, col, "%s", msg);
}

static const char *field_name(const struct lw_qlang *q, const struct lw_qlang_term *t)
{
	return t->name != NULL ? t->name : q->schema->text_field;
}

/* The pieces between a wildcard's stars become prepared searches (text
 * fields) or stay as offsets (keyword globs use the value itself). */
static int bind_contains(struct lw_qlang_term *t)
{
	uint32_t from = 0;

	t->finds = calloc((size_t)t->nstars + 1, sizeof(*t->finds));
	if (t->finds == NULL)
		return LW_ENOMEM;
	for (uint32_t i = 0; i <= t->nstars; i++) {
		uint32_t to = i < t->nstars ? t->stars[i] : t->vlen;

		if (to > from || (t->nstars == 0)) {
			if (lw_memfind_icase_init(&t->finds[t->nfinds], t->value + from,
						  to - from) != 0)
				return LW_ENOMEM;
			t->nfinds++;
		}
		from = to;
	}
	t->m = M_CONTAINS;
	return LW_OK;
}

static int bind_regex(struct lw_qlang *q, struct lw_qlang_term *t, struct lw_diag *diag)
{
	struct lw_diag rd = {0};
	int rc = lw_regex_compile(t->value, t->vlen, 0, &t->re, &rd);

	if (rc == LW_EPARSE) {
		if (diag != NULL) {
			int line = 0, col = rd.col;

			/* the pattern starts one past the opening '/' */
			if (t->voff >= 0)
				line_col(q->text, (size_t)t->voff + 1 +
					 (size_t)(rd.col > 0 ? rd.col - 1 : 0), &line, &col);
			lw_diag_set(diag, rc, NULL, line, col, "bad regex /%s/: %s",
				    t->value, rd.detail);
		}
		return rc;
	}
	if (rc != LW_OK)
		return rc;
	if (lw_regex_set_match_limit(t->re, LW_QLANG_REGEX_MATCH_LIMIT) != LW_OK)
		return LW_ENOMEM;
	t->m = M_REGEX;
	return LW_OK;
}

static int bind_range(struct lw_qlang *q, struct lw_qlang_term *t, int64_t now_ns,
		      struct lw_diag *diag)
{
	const char *name = field_name(q, t);
	int num = 1;

	switch (t->field.type) {
	case LW_QLANG_TEXT:
		return bind_fail(q, t, diag, LW_EPARSE, "%s is full text: ranges need a "
				 "number, time or keyword field", name);
	case LW_QLANG_IP:
		return bind_fail(q, t, diag, LW_EPARSE, "%s is an address: use CIDR "
				 "(%s:10.20.0.0/16) instead of a range", name, name);
	case LW_QLANG_TIME:
		if ((!t->lo_open && lw_time_parse_query(t->value, now_ns, &t->tlo) != LW_OK) ||
		    (!t->hi_open && lw_time_parse_query(t->hi, now_ns, &t->thi) != LW_OK))
			return bind_fail(q, t, diag, LW_EPARSE, "expected a time for %s "
					 "(RFC 3339 like 2026-11-27T09:00:00+09:00, or an age "
					 "like 15m, 2h, 7d)", name);
		if (t->lo_open)
			t->tlo = INT64_MIN;
		else if (!t->lo_incl)
			t->tlo = t->tlo == INT64_MAX ? INT64_MAX : t->tlo + 1;
		if (t->hi_open)
			t->thi = INT64_MAX;
		else if (!t->hi_incl)
			t->thi = t->thi == INT64_MIN ? INT64_MIN : t->thi - 1;
		t->m = M_TIME_RANGE;
		return LW_OK;
	default:
		break;
	}
	if (!t->lo_open && !parse_number(t->value, t->vlen, &t->nlo))
		num = 0;
	if (!t->hi_open && !parse_number(t->hi, t->hilen, &t->nhi))
		num = 0;
	if (t->field.type == LW_QLANG_NUMBER && !num)
		return bind_fail(q, t, diag, LW_EPARSE, "expected a number for %s", name);
	t->m = num ? M_NUM_RANGE : M_STR_RANGE;
	return LW_OK;
}

static int bind_eq(struct lw_qlang *q, struct lw_qlang_term *t, struct lw_diag *diag)
{
	const char *name = field_name(q, t);
	int family;
	uint8_t addr[16];

	switch (t->field.type) {
	case LW_QLANG_TEXT:
		return bind_contains(t);
	case LW_QLANG_NUMBER:
		if (!parse_number(t->value, t->vlen, &t->nlo))
			return bind_fail(q, t, diag, LW_EPARSE,
					 "expected a number for %s, got \"%s\"", name, t->value);
		t->m = M_NUM_EQ;
		return LW_OK;
	case LW_QLANG_TIME:
		return bind_fail(q, t, diag, LW_EPARSE, "%s takes a range "
				 "(%s:>=2026-11-27T09:00:00+09:00); or use --since/--until",
				 name, name);
	case LW_QLANG_IP:
		if (!t->quoted && lw_cidr_parse(t->value, &t->cidr) == LW_OK &&
		    strlen(t->value) == t->vlen) {
			t->m = M_CIDR;
			t->op = LW_QLANG_CIDR;
			return LW_OK;
		}
		if (t->quoted && parse_ip(t->value, t->vlen, 0, &family, addr)) {
			/* a quoted address still compares as an address: the
			 * old --field source.ip=V meant that value */
			lw_cidr_parse(t->value, &t->cidr);
			t->m = M_CIDR;
			t->op = LW_QLANG_CIDR;
			return LW_OK;
		}
		break;
	default:
		break;
	}
	t->m = M_BYTES;
	return LW_OK;
}

static int bind_term(struct lw_qlang *q, struct lw_qlang_term *t, int64_t now_ns,
		     struct lw_diag *diag)
{
	const char *name = field_name(q, t);
	int rc;

	memset(&t->field, 0, sizeof(t->field));
	rc = q->schema->resolve(name, strlen(name), &t->field);
	if (rc != LW_OK)
		return bind_fail(q, t, diag, LW_EPARSE, "unknown field '%s' (ECS names such "
				 "as host.name, source.ip; docs/query.md)", name);
	if (t->field.key == NULL) {
		t->field.key = name;
		t->field.keylen = (uint32_t)strlen(name);
	}
	switch (t->op) {
	case LW_QLANG_EXISTS:
		t->m = M_EXISTS;
		return LW_OK;
	case LW_QLANG_EQ:
	case LW_QLANG_CIDR:
		return bind_eq(q, t, diag);
	case LW_QLANG_WILDCARD:
		if (t->field.type == LW_QLANG_NUMBER || t->field.type == LW_QLANG_TIME)
			return bind_fail(q, t, diag, LW_EPARSE, "%s is a %s: wildcards need a "
					 "keyword or text field", name,
					 t->field.type == LW_QLANG_NUMBER ? "number" : "time");
		if (t->field.type == LW_QLANG_TEXT)
			return bind_contains(t);
		t->m = M_GLOB;
		return LW_OK;
	case LW_QLANG_REGEX:
		if (t->field.type == LW_QLANG_NUMBER || t->field.type == LW_QLANG_TIME)
			return bind_fail(q, t, diag, LW_EPARSE, "%s is a %s: a regex needs a "
					 "keyword or text field", name,
					 t->field.type == LW_QLANG_NUMBER ? "number" : "time");
		return bind_regex(q, t, diag);
	case LW_QLANG_RANGE:
		return bind_range(q, t, now_ns, diag);
	default:
		return LW_EINVAL;
	}
}

/* Relative cost of testing one record: comparisons, then literal
 * searches, then regexes; extra fields are looked up by key first. */
static int term_cost(const struct lw_qlang_term *t)
{
	static const int base[] = {
		[M_EXISTS] = 1, [M_BYTES] = 2, [M_NUM_EQ] = 2, [M_NUM_RANGE] = 3,
		[M_TIME_RANGE] = 2, [M_STR_RANGE] = 3, [M_CIDR] = 4, [M_GLOB] = 5,
		[M_CONTAINS] = 8, [M_REGEX] = 40,
	};

	return base[t->m] + (t->field.id < 0 ? 2 : 0);
}

static int bind_node(struct lw_qlang *q, struct node *n, int64_t now_ns,
		     struct lw_diag *diag)
{
	int rc;

	if (n->term != NULL) {
		rc = bind_term(q, n->term, now_ns, diag);
		n->op = n->term->op;
		n->cost = rc == LW_OK ? term_cost(n->term) : 0;
		return rc;
	}
	n->cost = 0;
	for (uint32_t i = 0; i < n->nkids; i++) {
		rc = bind_node(q, n->kids[i], now_ns, diag);
		if (rc != LW_OK)
			return rc;
		n->cost += n->kids[i]->cost;
	}
	/* cheapest first (insertion sort: stable, and operand lists are short) */
	for (uint32_t i = 1; i < n->nkids; i++) {
		struct node *k = n->kids[i];
		uint32_t j = i;

		while (j > 0 && n->kids[j - 1]->cost > k->cost) {
			n->kids[j] = n->kids[j - 1];
			j--;
		}
		n->kids[j] = k;
	}
	return LW_OK;
}

int lw_qlang_bind(struct lw_qlang *q, const struct lw_qlang_schema *schema,
		  int64_t now_ns, struct lw_diag *diag)
{
	q->schema = schema;
	return bind_node(q, q->root, now_ns, diag);
}

/* ---------------------------------------------------------------- matching */

/* Anchored '*' wildcard: value[0..stars[0]) is a prefix, the last piece a
 * suffix, the ones between found in order (leftmost is enough when '*'
 * is the only wildcard). */
static int glob_match(const struct lw_qlang_term *t, const char *s, size_t len)
{
	uint32_t first = t->stars[0], last_from = t->stars[t->nstars - 1];
	uint32_t last_len = t->vlen - last_from;
	size_t pos, end;

	if (len < (size_t)first + last_len || !lw_memeq(s, t->value, first) ||
	    !lw_memeq(s + len - last_len, t->value + last_from, last_len))
		return 0;
	pos = first;
	end = len - last_len;
	for (uint32_t i = 0; i + 1 < t->nstars; i++) {
		uint32_t from = t->stars[i], to = t->stars[i + 1];
		const char *hit;

		if (to == from)
			continue;
		hit = lw_memfind(s + pos, end - pos, t->value + from, to - from);
		if (hit == NULL)
			return 0;
		pos = (size_t)(hit - s) + (to - from);
	}
	return 1;
}

static int contains_all(struct lw_qlang_term *t, const char *s, size_t len)
{
	size_t pos = 0;

	for (uint32_t i = 0; i < t->nfinds; i++) {
		const char *hit = lw_memfind_icase(&t->finds[i], s + pos, len - pos);

		if (hit == NULL)
			return 0;
		pos = (size_t)(hit - s) + t->finds[i].len;
	}
	return 1;
}

static int str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int value_number(const struct lw_qlang_value *v, double *out)
{
	if (v->kind == LW_QLANG_V_NUM) {
		*out = v->num;
		return 1;
	}
	return v->kind == LW_QLANG_V_STR && parse_number(v->str.ptr, v->str.len, out);
}

static int in_num_range(const struct lw_qlang_term *t, double x)
{
	if (!t->lo_open && (t->lo_incl ? x < t->nlo : x <= t->nlo))
		return 0;
	return t->hi_open || (t->hi_incl ? x <= t->nhi : x < t->nhi);
}

static int in_str_range(const struct lw_qlang_term *t, const char *s, size_t len)
{
	int lo = t->lo_open ? 1 : str_cmp(s, len, t->value, t->vlen);
	int hi = t->hi_open ? -1 : str_cmp(s, len, t->hi, t->hilen);

	return (t->lo_open || (t->lo_incl ? lo >= 0 : lo > 0)) &&
	       (t->hi_open || (t->hi_incl ? hi <= 0 : hi < 0));
}

int lw_qlang_term_test(struct lw_qlang_term *t, const struct lw_qlang_value *v)
{
	const char *s = v->str.ptr != NULL ? v->str.ptr : "";
	size_t len = v->str.len;
	double x;
	int family, rc;
	uint8_t addr[16];

	switch (t->m) {
	case M_EXISTS:
		return !(v->kind == LW_QLANG_V_STR && len == 0 &&
			 (t->field.flags & LW_QLANG_EMPTY_IS_ABSENT));
	case M_BYTES:
		return v->kind == LW_QLANG_V_STR && len == t->vlen && lw_memeq(s, t->value, len);
	case M_CONTAINS:
		return v->kind == LW_QLANG_V_STR && contains_all(t, s, len);
	case M_GLOB:
		return v->kind == LW_QLANG_V_STR && glob_match(t, s, len);
	case M_NUM_EQ:
		return value_number(v, &x) && x == t->nlo;
	case M_NUM_RANGE:
		return value_number(v, &x) && in_num_range(t, x);
	case M_STR_RANGE:
		return v->kind == LW_QLANG_V_STR && in_str_range(t, s, len);
	case M_TIME_RANGE:
		return v->kind == LW_QLANG_V_TIME && v->ns >= t->tlo && v->ns <= t->thi;
	case M_CIDR:
		return v->kind == LW_QLANG_V_STR &&
		       parse_ip(s, len, (t->field.flags & LW_QLANG_IP_PORT) != 0, &family, addr) &&
		       cidr_has(&t->cidr, family, addr);
	case M_REGEX:
		if (v->kind != LW_QLANG_V_STR)
			return 0;
		rc = lw_regex_match(t->re, s, len);
		return rc == LW_EFULL || rc == LW_ENOMEM ? rc : rc == 1;
	}
	return 0;
}

static int term_eval(struct lw_qlang *q, struct lw_qlang_term *t, const void *rec)
{
	struct lw_qlang_value v;
	uint32_t cursor = 0;
	int rc;

	while (q->schema->value(rec, &t->field, &cursor, &v)) {
		rc = lw_qlang_term_test(t, &v);
		if (rc == LW_EFULL)
			q->limit_term = t;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int eval(struct lw_qlang *q, const struct node *n, const void *rec)
{
	int rc;

	switch (n->op) {
	case LW_QLANG_ALL:
		return 1;
	case LW_QLANG_AND:
		for (uint32_t i = 0; i < n->nkids; i++)
			if ((rc = eval(q, n->kids[i], rec)) != 1)
				return rc;
		return 1;
	case LW_QLANG_OR:
		for (uint32_t i = 0; i < n->nkids; i++)
			if ((rc = eval(q, n->kids[i], rec)) != 0)
				return rc;
		return 0;
	case LW_QLANG_NOT:
		rc = eval(q, n->kids[0], rec);
		return rc < 0 ? rc : !rc;
	default:
		return term_eval(q, n->term, rec);
	}
}

int lw_qlang_match(struct lw_qlang *q, const void *rec)
{
	return eval(q, q->root, rec);
}

void lw_qlang_limit_diag(const struct lw_qlang *q, struct lw_diag *diag)
{
	const struct lw_qlang_term *t = q->limit_term;
	int line = 0, col = 0;

	if (diag == NULL || t == NULL)
		return;
	if (t->off >= 0)
		line_col(q->text, (size_t)t->off, &line, &col);
	lw_diag_set(diag, LW_EFULL, NULL, line, col,
		    "%s:/%s/ exceeded the regex match limit (%u steps) on a stored "
		    "value, so the answer is unknown; make the regex simpler "
		    "(no nested repeats like (a+)+)",
		    field_name(q, t), t->value, LW_QLANG_REGEX_MATCH_LIMIT);
}

/* ---------------------------------------------------------------- planning */

static enum lw_qlang_tri tri_node(struct node *n, lw_qlang_term_cb cb, void *arg)
{
	enum lw_qlang_tri r, acc;

	switch (n->op) {
	case LW_QLANG_ALL:
		return LW_QLANG_EVERY;
	case LW_QLANG_AND:
		acc = LW_QLANG_EVERY;
		for (uint32_t i = 0; i < n->nkids && acc != LW_QLANG_NONE; i++) {
			r = tri_node(n->kids[i], cb, arg);
			if (r < acc)
				acc = r;
		}
		return acc;
	case LW_QLANG_OR:
		acc = LW_QLANG_NONE;
		for (uint32_t i = 0; i < n->nkids && acc != LW_QLANG_EVERY; i++) {
			r = tri_node(n->kids[i], cb, arg);
			if (r > acc)
				acc = r;
		}
		return acc;
	case LW_QLANG_NOT:
		r = tri_node(n->kids[0], cb, arg);
		return r == LW_QLANG_EVERY ? LW_QLANG_NONE :
		       r == LW_QLANG_NONE ? LW_QLANG_EVERY : LW_QLANG_SOME;
	default:
		return cb(n->term, arg);
	}
}

enum lw_qlang_tri lw_qlang_tri(struct lw_qlang *q, lw_qlang_term_cb cb, void *arg)
{
	return tri_node(q->root, cb, arg);
}

static void each_term(struct node *n, lw_qlang_term_cb cb, void *arg)
{
	if (n->term != NULL) {
		cb(n->term, arg);
		return;
	}
	for (uint32_t i = 0; i < n->nkids; i++)
		each_term(n->kids[i], cb, arg);
}

void lw_qlang_each_term(struct lw_qlang *q, lw_qlang_term_cb cb, void *arg)
{
	each_term(q->root, cb, arg);
}

const struct lw_qlang_field *lw_qlang_term_field(const struct lw_qlang_term *t)
{
	return &t->field;
}

enum lw_qlang_op lw_qlang_term_op(const struct lw_qlang_term *t)
{
	return t->op;
}

int lw_qlang_term_time_bounds(const struct lw_qlang_term *t, int64_t *lo, int64_t *hi)
{
	if (t->m != M_TIME_RANGE)
		return LW_EINVAL;
	*lo = t->tlo;
	*hi = t->thi;
	return LW_OK;
}

int lw_qlang_term_literal(const struct lw_qlang_term *t, struct lw_str *lit)
{
	const struct lw_memfind_icase *best = NULL;

	if (t->m != M_CONTAINS)
		return 0;
	for (uint32_t i = 0; i < t->nfinds; i++)
		if (best == NULL || t->finds[i].len > best->len)
			best = &t->finds[i];
	if (best == NULL || best->len == 0)
		return 0;
	lit->ptr = best->low;
	lit->len = (uint32_t)best->len;
	return 1;
}

size_t lw_qlang_conjuncts(struct lw_qlang *q, struct lw_qlang_term **out, size_t max)
{
	struct node *r = q->root;
	size_t n = 0;

	if (r->term != NULL) {
		if (max > 0)
			out[0] = r->term;
		return 1;
	}
	if (r->op != LW_QLANG_AND)
		return 0;
	for (uint32_t i = 0; i < r->nkids; i++) {
		if (r->kids[i]->term == NULL)
			continue;
		if (n < max)
			out[n] = r->kids[i]->term;
		n++;
	}
	return n;
}
