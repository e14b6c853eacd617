/* lw_fmt_json: flattened JSON objects (format in correlator/fmt_json.h).
 * Writer thread; one pass, recursion bounded by LW_FMT_JSON_DEPTH (arrays
 * are skipped with a counter, not recursion), no allocation. */
#include "correlator/fmt_json.h"

#include <string.h>

#include "core/err.h"

struct jp {
	const char *s;
	size_t n, i;
	char *out;          /* where unescaped values go */
	size_t used;
	char *key;          /* the dotted path being built (LW_FMT_KEY_MAX) */
	size_t keylen;
	lw_fmt_pair_fn fn;
	void *arg;
	int pairs;
	int stop;           /* fn's non-zero value */
};

/* Where a bare scalar (number, true, null) ends; strchr would also match
 * the NUL a line may hold. */
static int ends_scalar(char c, int colon)
{
	return c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' ||
	       c == '\r' || c == '\n' || (colon && c == ':');
}

/* JSON's bare scalars are numbers, true, false and null; any other byte
 * (a NUL, a letter) where a value belongs is a syntax error, not a word. */
static int starts_scalar(char c)
{
	return c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

static void ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
			       p->s[p->i] == '\r' || p->s[p->i] == '\n'))
		p->i++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		int d = lw_fmt_hexval(s[k]);

		if (d < 0)
			return 0;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 1;
}

static size_t utf8(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at p->i (its opening quote). Unescaped into dst (which has
 * room for the escaped length: every escape is at least as long as what
 * it stands for) unless it has no backslash. 0 on a syntax error. */
static int string(struct jp *p, char *dst, struct lw_str *out)
{
	size_t start = ++p->i, w = 0;
	int esc = 0;

	while (p->i < p->n && p->s[p->i] != '"') {
		if (p->s[p->i] == '\\')
			esc = 1, p->i++;
		p->i++;
	}
	if (p->i >= p->n)
		return 0;
	if (!esc) {
		*out = (struct lw_str){p->s + start, (uint32_t)(p->i - start)};
		p->i++;
		return 1;
	}
	for (size_t k = start; k < p->i; k++) {
		unsigned cp, lo;
		char c = p->s[k];

		if (c != '\\') {
			dst[w++] = c;
			continue;
		}
		c = p->s[++k];
		switch (c) {
		case 'b': dst[w++] = '\b'; break;
		case 'f': dst[w++] = '\f'; break;
		case 'n': dst[w++] = '\n'; break;
		case 'r': dst[w++] = '\r'; break;
		case 't': dst[w++] = '\t'; break;
		case 'u':
			if (k + 4 >= p->i || !hex4(p->s + k + 1, &cp))
				return 0;
			k += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && k + 6 < p->i &&
			    p->s[k + 1] == '\\' && p->s[k + 2] == 'u' &&
			    hex4(p->s + k + 3, &lo) && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				k += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			w += utf8(cp, dst + w);
			break;
		default: dst[w++] = c; break; /* \" \\ \/ and anything else */
		}
	}
	*out = (struct lw_str){dst, (uint32_t)w};
	p->i++;
	return 1;
}

/* Skips a scalar, array or object without reporting; 0 on a syntax error. */
static int skip_value(struct jp *p)
{
	size_t depth = 0;
	struct lw_str dummy;

	do {
		ws(p);
		if (p->i >= p->n)
			return 0;
		switch (p->s[p->i]) {
		case '"':
			if (!string(p, p->out + p->used, &dummy))
				return 0;
			break;
		case '[': case '{':
			depth++;
			p->i++;
			break;
		case ']': case '}':
			if (depth == 0)
				return 0;
			depth--;
			p->i++;
			break;
		case ',': case ':':
			if (depth == 0)
				return 0;
			p->i++;
			break;
		default:
			if (!starts_scalar(p->s[p->i]))
				return 0;
			while (p->i < p->n && !ends_scalar(p->s[p->i], 1))
				p->i++;
			break;
		}
	} while (depth > 0);
	return 1;
}

static int object(struct jp *p, int depth);

/* A member's value, reported under p->key. */
static int value(struct jp *p, int depth)
{
	struct lw_str v;
	size_t start;

	ws(p);
	if (p->i >= p->n)
		return 0;
	switch (p->s[p->i]) {
	case '{':
		if (depth >= LW_FMT_JSON_DEPTH)
			return skip_value(p);
		return object(p, depth + 1);
	case '[':
		return skip_value(p);
	case '"':
		if (!string(p, p->out + p->used, &v))
			return 0;
		if (v.ptr == p->out + p->used)
			p->used += v.len;
		break;
	default:
		start = p->i;
		if (!starts_scalar(p->s[p->i]))
			return 0;
		while (p->i < p->n && !ends_scalar(p->s[p->i], 0))
			p->i++;
		v = (struct lw_str){p->s + start, (uint32_t)(p->i - start)};
		if (v.len == 0)
			return 0;
		if (v.len == 4 && memcmp(v.ptr, "null", 4) == 0)
			return 1;
		break;
	}
	if (p->keylen == 0 || p->keylen >= LW_FMT_KEY_MAX)
		return 1; /* a key too long to be named: the value is dropped */
	p->pairs++;
	p->stop = p->fn((struct lw_str){p->key, (uint32_t)p->keylen}, v, p->arg);
	return p->stop == 0;
}

static int object(struct jp *p, int depth)
{
	size_t base = p->keylen;

	p->i++; /* '{' */
	ws(p);
	if (p->i < p->n && p->s[p->i] == '}') {
		p->i++;
		return 1;
	}
	for (;;) {
		struct lw_str k;

		ws(p);
		/* An escaped key is unescaped where values go (it needs no
		 * more room than its source) and copied into the path. */
		if (p->i >= p->n || p->s[p->i] != '"' ||
		    !string(p, p->out + p->used, &k))
			return 0;
		p->keylen = base;
		if (base + (base > 0) + k.len < LW_FMT_KEY_MAX) {
			if (base > 0)
				p->key[p->keylen++] = '.';
			memcpy(p->key + p->keylen, k.ptr, k.len);
			p->keylen += k.len;
		} else {
			p->keylen = LW_FMT_KEY_MAX;
		}
		ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return 0;
		p->i++;
		if (!value(p, depth))
			return 0;
		p->keylen = base;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == '}') {
			p->i++;
			return 1;
		}
		return 0;
	}
}

int lw_fmt_json_parse(const char *s, size_t n, struct lw_fmt_buf *buf,
		      lw_fmt_pair_fn fn, void *arg)
{
	struct jp p = {s, n, 0, buf->p, 0, NULL, 0, fn, arg, 0, 0};

	if (buf->cap < n + LW_FMT_KEY_MAX)
		return LW_EINVAL;
	p.key = buf->p + buf->cap - LW_FMT_KEY_MAX;
	ws(&p);
	if (p.i >= n || s[p.i] != '{')
		return LW_EPARSE;
	if (!object(&p, 1))
		return p.stop != 0 ? p.stop : LW_EPARSE;
	return p.pairs;
}
