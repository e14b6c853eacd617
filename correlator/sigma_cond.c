/* lw_sigma_cond: Sigma condition text -> jump program. */
#include "correlator/sigma_cond.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COND_MAX_TEXT (64u * 1024)
#define COND_MAX_DEPTH 64
#define COND_MAX_OPS 65536
#define COND_MAX_NODES 65536

enum op { OP_SEL, OP_NOT, OP_JF, OP_JT, OP_END };

struct cond_op {
	uint32_t op;
	uint32_t arg;
};

struct lw_sigma_cond {
	struct cond_op *ops;
	uint32_t nops;
	uint32_t nnames;
};

enum node_kind { N_SEL, N_NOT, N_AND, N_OR };

struct node {
	enum node_kind kind;
	uint32_t sel;
	int32_t first; /* first child, -1 none */
	int32_t next;  /* next sibling, -1 none */
};

enum tok_kind { T_END, T_LPAREN, T_RPAREN, T_WORD };

struct parser {
	const char *s;
	size_t len, pos;
	enum tok_kind tok;
	size_t tstart, tlen;
	const char *const *names;
	uint32_t nnames;
	struct node *nodes;
	uint32_t nnodes, cap;
	unsigned depth;
	struct lw_diag *diag;
	int err;
	/* codegen */
	struct cond_op *ops;
	uint32_t nops, opcap;
	uint32_t *patch;
	uint32_t npatch, patchcap;
};

static int fail_at(struct parser *p, size_t at, const char *why, const char *what,
		   size_t wlen)
{
	if (p->err == LW_OK)
		p->err = lw_diag_set(p->diag, LW_EPARSE, NULL, 0, (int)at + 1,
				     "condition: %s%s%.*s%s", why,
				     wlen ? " '" : "", (int)wlen,
				     what ? what : "", wlen ? "'" : "");
	return p->err;
}

static void next_tok(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\r\n", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
	p->tstart = p->pos;
	p->tlen = 0;
	if (p->pos >= p->len) {
		p->tok = T_END;
		return;
	}
	if (p->s[p->pos] == '(' || p->s[p->pos] == ')') {
		p->tok = p->s[p->pos] == '(' ? T_LPAREN : T_RPAREN;
		p->tlen = 1;
		p->pos++;
		return;
	}
	while (p->pos < p->len && p->s[p->pos] != '(' && p->s[p->pos] != ')' &&
	       !strchr(" \t\r\n", p->s[p->pos]))
		p->pos++;
	/* strchr finds the NUL terminator too: a NUL byte ends a word, and the
	 * word check below rejects it. */
	if (p->pos == p->tstart)
		p->pos++;
	p->tok = T_WORD;
	p->tlen = p->pos - p->tstart;
}

static int tok_is(const struct parser *p, const char *kw)
{
	size_t n = strlen(kw);

	return p->tok == T_WORD && p->tlen == n &&
	       strncasecmp(p->s + p->tstart, kw, n) == 0;
}

static int32_t new_node(struct parser *p, enum node_kind kind, uint32_t sel)
{
	if (p->nnodes == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 32;
		struct node *n;

		if (p->cap >= COND_MAX_NODES) {
			fail_at(p, p->tstart, "too complex", NULL, 0);
			return -1;
		}
		n = realloc(p->nodes, cap * sizeof(*n));
		if (n == NULL) {
			p->err = LW_ENOMEM;
			return -1;
		}
		p->nodes = n;
		p->cap = cap;
	}
	p->nodes[p->nnodes] = (struct node){kind, sel, -1, -1};
	return (int32_t)p->nnodes++;
}

/* Appends child to parent's child list (tail kept by walking: lists are
 * short except for `1 of them`, which builds its own list in order). */
static void add_child(struct parser *p, int32_t parent, int32_t *tail, int32_t child)
{
	if (*tail < 0)
		p->nodes[parent].first = child;
	else
		p->nodes[*tail].next = child;
	*tail = child;
}

/* Sigma wildcard match of a selection name against a pattern with '*'. */
static int name_glob(const char *pat, size_t plen, const char *name)
{
	size_t pi = 0, ni = 0, nlen = strlen(name), star = (size_t)-1, mark = 0;

	while (ni < nlen) {
		if (pi < plen && pat[pi] == '*') {
			star = pi++;
			mark = ni;
		} else if (pi < plen && pat[pi] == name[ni]) {
			pi++;
			ni++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			ni = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

static int32_t parse_or(struct parser *p);

static int32_t parse_quantified(struct parser *p, int all, size_t qstart)
{
	int32_t list, tail = -1, only = -1;
	uint32_t count = 0;
	int them;
	const char *pat;
	size_t plen;

	next_tok(p); /* 'of' */
	next_tok(p);
	if (p->tok != T_WORD) {
		fail_at(p, p->tstart, "expected a selection pattern or 'them' after 'of'",
			NULL, 0);
		return -1;
	}
	them = tok_is(p, "them");
	pat = p->s + p->tstart;
	plen = p->tlen;
	list = new_node(p, all ? N_AND : N_OR, 0);
	if (list < 0)
		return -1;
	for (uint32_t i = 0; i < p->nnames; i++) {
		int32_t sel;

		if (them ? p->names[i][0] == '_' : !name_glob(pat, plen, p->names[i]))
			continue;
		sel = new_node(p, N_SEL, i);
		if (sel < 0)
			return -1;
		add_child(p, list, &tail, sel);
		only = sel;
		count++;
	}
	if (count == 0) {
		fail_at(p, them ? qstart : p->tstart,
			them ? "'them' but the rule has no selection" :
			       "no selection matches", them ? NULL : pat,
			them ? 0 : plen);
		return -1;
	}
	next_tok(p);
	return count == 1 ? only : list;
}

static int32_t parse_primary(struct parser *p)
{
	int32_t n;

	if (p->depth++ >= COND_MAX_DEPTH) {
		fail_at(p, p->tstart, "nested too deeply", NULL, 0);
		return -1;
	}
	if (p->tok == T_LPAREN) {
		next_tok(p);
		n = parse_or(p);
		if (n < 0)
			return -1;
		if (p->tok != T_RPAREN) {
			fail_at(p, p->tstart, "expected ')'", NULL, 0);
			return -1;
		}
		next_tok(p);
		p->depth--;
		return n;
	}
	if (tok_is(p, "not")) {
		int32_t child;

		next_tok(p);
		child = parse_primary(p);
		if (child < 0)
			return -1;
		n = new_node(p, N_NOT, 0);
		if (n < 0)
			return -1;
		p->nodes[n].first = child;
		p->depth--;
		return n;
	}
	if (p->tok != T_WORD) {
		fail_at(p, p->tstart, p->tok == T_END ? "unexpected end" :
			"unexpected ')'", NULL, 0);
		return -1;
	}
	if (memchr(p->s + p->tstart, '|', p->tlen) != NULL) {
		fail_at(p, p->tstart, "aggregation expressions ('|') are not "
			"supported; write a correlation rule", NULL, 0);
		return -1;
	}
	if (tok_is(p, "and") || tok_is(p, "or") || tok_is(p, "of") ||
	    tok_is(p, "them") || tok_is(p, "near")) {
		fail_at(p, p->tstart, "unexpected keyword", p->s + p->tstart, p->tlen);
		return -1;
	}
	{
		/* Peek: a quantifier is only one when 'of' follows. */
		size_t save_pos = p->pos, qstart = p->tstart, qlen = p->tlen;
		enum tok_kind save_tok = p->tok;
		int all = tok_is(p, "all"), one = tok_is(p, "1") || tok_is(p, "any");
		int is_num = qlen > 0;

		/* The text is not NUL-terminated: no str* functions on it. */
		for (size_t k = 0; k < qlen; k++)
			if (p->s[qstart + k] < '0' || p->s[qstart + k] > '9')
				is_num = 0;

		next_tok(p);
		if (tok_is(p, "of")) {
			if (!all && !one) {
				fail_at(p, qstart, is_num ?
					"only '1 of' and 'all of' are supported" :
					"expected '1' or 'all' before 'of'", NULL, 0);
				return -1;
			}
			p->pos = save_pos; /* parse_quantified re-reads 'of' */
			p->tok = save_tok;
			p->tstart = qstart;
			p->tlen = qlen;
			n = parse_quantified(p, all, qstart);
			if (n >= 0)
				p->depth--;
			return n;
		}
		for (uint32_t i = 0; i < p->nnames; i++)
			if (strlen(p->names[i]) == qlen &&
			    memcmp(p->names[i], p->s + qstart, qlen) == 0) {
				n = new_node(p, N_SEL, i);
				if (n >= 0)
					p->depth--;
				return n;
			}
		fail_at(p, qstart, "unknown selection", p->s + qstart, qlen);
		return -1;
	}
}

static int32_t parse_and(struct parser *p)
{
	int32_t first, list, tail = -1;

	first = parse_primary(p);
	if (first < 0 || !tok_is(p, "and"))
		return first;
	list = new_node(p, N_AND, 0);
	if (list < 0)
		return -1;
	add_child(p, list, &tail, first);
	while (tok_is(p, "and")) {
		int32_t c;

		next_tok(p);
		c = parse_primary(p);
		if (c < 0)
			return -1;
		add_child(p, list, &tail, c);
	}
	return list;
}

static int32_t parse_or(struct parser *p)
{
	int32_t first, list, tail = -1;

	first = parse_and(p);
	if (first < 0 || !tok_is(p, "or"))
		return first;
	list = new_node(p, N_OR, 0);
	if (list < 0)
		return -1;
	add_child(p, list, &tail, first);
	while (tok_is(p, "or")) {
		int32_t c;

		next_tok(p);
		c = parse_and(p);
		if (c < 0)
			return -1;
		add_child(p, list, &tail, c);
	}
	return list;
}

static int emit(struct parser *p, uint32_t op, uint32_t arg)
{
	if (p->nops == p->opcap) {
		uint32_t cap = p->opcap ? p->opcap * 2 : 16;
		struct cond_op *n;

		if (p->opcap >= COND_MAX_OPS)
			return fail_at(p, 0, "too complex", NULL, 0);
		n = realloc(p->ops, cap * sizeof(*n));
		if (n == NULL)
			return p->err = LW_ENOMEM;
		p->ops = n;
		p->opcap = cap;
	}
	p->ops[p->nops++] = (struct cond_op){op, arg};
	return LW_OK;
}

static int push_patch(struct parser *p, uint32_t at)
{
	if (p->npatch == p->patchcap) {
		uint32_t cap = p->patchcap ? p->patchcap * 2 : 16;
		uint32_t *n = realloc(p->patch, cap * sizeof(*n));
		if (n == NULL)
			return p->err = LW_ENOMEM;
		p->patch = n;
		p->patchcap = cap;
	}
	p->patch[p->npatch++] = at;
	return LW_OK;
}

/* Short-circuit code: the jumps of one and/or list all land after its
 * last child, where acc already holds the list's value. Recursion depth
 * is the AST's nesting depth, bounded by the parser. */
static int gen(struct parser *p, int32_t ni)
{
	const struct node *n = &p->nodes[ni];
	uint32_t mark = p->npatch;
	int rc;

	switch (n->kind) {
	case N_SEL:
		return emit(p, OP_SEL, n->sel);
	case N_NOT:
		rc = gen(p, n->first);
		return rc != LW_OK ? rc : emit(p, OP_NOT, 0);
	case N_AND:
	case N_OR:
		break;
	}
	for (int32_t c = n->first; c >= 0; c = p->nodes[c].next) {
		rc = gen(p, c);
		if (rc != LW_OK)
			return rc;
		if (p->nodes[c].next < 0)
			break;
		rc = push_patch(p, p->nops);
		if (rc == LW_OK)
			rc = emit(p, n->kind == N_AND ? OP_JF : OP_JT, 0);
		if (rc != LW_OK)
			return rc;
	}
	while (p->npatch > mark)
		p->ops[p->patch[--p->npatch]].arg = p->nops;
	return LW_OK;
}

int lw_sigma_cond_compile(const char *text, size_t len,
			  const char *const *names, uint32_t nnames,
			  struct lw_sigma_cond **out, struct lw_diag *diag)
{
	struct parser p;
	struct lw_sigma_cond *c = NULL;
	int32_t root;
	int rc;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = len;
	p.names = names;
	p.nnames = nnames;
	p.diag = diag;
	if (len > COND_MAX_TEXT) {
		rc = fail_at(&p, 0, "longer than 64 KiB", NULL, 0);
		goto out;
	}
	next_tok(&p);
	if (p.tok == T_END) {
		rc = fail_at(&p, 0, "empty", NULL, 0);
		goto out;
	}
	root = parse_or(&p);
	if (root >= 0 && p.tok != T_END) {
		if (tok_is(&p, "near"))
			fail_at(&p, p.tstart, "'near' is not supported; write a "
				"temporal correlation rule", NULL, 0);
		else if (p.tok == T_WORD && p.s[p.tstart] == '|')
			fail_at(&p, p.tstart, "aggregation expressions ('|') are "
				"not supported; write a correlation rule", NULL, 0);
		else
			fail_at(&p, p.tstart, "unexpected", p.s + p.tstart, p.tlen);
	}
	if (p.err != LW_OK) {
		rc = p.err;
		goto out;
	}
	rc = gen(&p, root);
	if (rc == LW_OK)
		rc = emit(&p, OP_END, 0);
	if (rc != LW_OK)
		goto out;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = LW_ENOMEM;
		goto out;
	}
	c->ops = p.ops;
	c->nops = p.nops;
	c->nnames = nnames;
	p.ops = NULL;
	*out = c;
	rc = LW_OK;
out:
	free(p.ops);
	free(p.nodes);
	free(p.patch);
	return rc;
}

void lw_sigma_cond_free(struct lw_sigma_cond *c)
{
	if (c == NULL)
		return;
	free(c->ops);
	free(c);
}

int lw_sigma_cond_eval(const struct lw_sigma_cond *c,
		       int (*test)(uint32_t sel, void *arg), void *arg)
{
	const struct cond_op *ops = c->ops;
	uint32_t pc = 0;
	int acc = 0;

	/* Every jump goes forward, so this ends within nops steps. */
	for (;;) {
		const struct cond_op *o = &ops[pc++];

		switch (o->op) {
		case OP_SEL:
			acc = test(o->arg, arg) != 0;
			break;
		case OP_NOT:
			acc = !acc;
			break;
		case OP_JF:
			if (!acc)
				pc = o->arg;
			break;
		case OP_JT:
			if (acc)
				pc = o->arg;
			break;
		default:
			return acc;
		}
	}
}

static int mask_test(uint32_t sel, void *arg)
{
	uint64_t mask = *(const uint64_t *)arg;

	return sel < 64 && ((mask >> sel) & 1);
}

int lw_sigma_cond_eval_mask(const struct lw_sigma_cond *c, uint64_t mask)
{
	return lw_sigma_cond_eval(c, mask_test, &mask);
}

void lw_sigma_cond_used(const struct lw_sigma_cond *c, uint64_t *used)
{
	memset(used, 0, ((c->nnames + 63) / 64) * sizeof(*used));
	for (uint32_t i = 0; i < c->nops; i++)
		if (c->ops[i].op == OP_SEL && c->ops[i].arg < c->nnames)
			used[c->ops[i].arg / 64] |= 1ull << (c->ops[i].arg % 64);
}

void lw_sigma_cond_dump(const struct lw_sigma_cond *c, struct lw_buf *out)
{
	static const char *const names[] = {"SEL", "NOT", "JF", "JT", "END"};

	for (uint32_t i = 0; i < c->nops; i++) {
		if (c->ops[i].op == OP_NOT || c->ops[i].op == OP_END)
			lw_buf_printf(out, "%u %s\n", i, names[c->ops[i].op]);
		else
			lw_buf_printf(out, "%u %s %u\n", i, names[c->ops[i].op],
				      c->ops[i].arg);
	}
}
