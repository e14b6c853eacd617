/* lw_jsonin: a strict recursive-descent reader of JSON request bodies
 * (RFC 8259), decoding into one arena allocated up front (decoded text is
 * never longer than its source). */
#include "web/jsonin.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

struct rd {
	const char *p, *start, *end;
	char *arena;
	size_t used;
	uint32_t items;
	struct lw_diag *diag;
};

static int fail(struct rd *r, const char *why)
{
	return lw_diag_set(r->diag, LW_EPARSE, NULL, 1, (int)(r->p - r->start) + 1,
			   "bad JSON body: %s", why);
}

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' ||
				 *r->p == '\r'))
		r->p++;
}

static int hex4(struct rd *r, unsigned *out)
{
	unsigned v = 0;

	if (r->end - r->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = r->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	r->p += 4;
	*out = v;
	return 0;
}

static void put_utf8(char **o, unsigned cp)
{
	char *q = *o;

	if (cp < 0x80) {
		*q++ = (char)cp;
	} else if (cp < 0x800) {
		*q++ = (char)(0xc0 | cp >> 6);
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*q++ = (char)(0xe0 | cp >> 12);
		*q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*q++ = (char)(0xf0 | cp >> 18);
		*q++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*q++ = (char)(0x80 | (cp & 0x3f));
	}
	*o = q;
}

/* A string at r->p (the opening quote), decoded into the arena. */
static int string(struct rd *r, char **out)
{
	char *o = r->arena + r->used, *begin = o;

	r->p++;
	for (;;) {
		unsigned char c;

		if (r->p >= r->end)
			return fail(r, "unterminated string");
		c = (unsigned char)*r->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(r, "control character in a string");
		if (c != '\\') {
			*o++ = (char)c;
			r->p++;
			continue;
		}
		if (++r->p >= r->end)
			return fail(r, "unterminated escape");
		c = (unsigned char)*r->p++;
		switch (c) {
		case '"': case '\\': case '/': *o++ = (char)c; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (hex4(r, &cp) != 0)
				return fail(r, "bad \\u escape");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(r, "unpaired surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u')
					return fail(r, "unpaired surrogate");
				r->p += 2;
				if (hex4(r, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
					return fail(r, "unpaired surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return fail(r, "NUL in a string");
			put_utf8(&o, cp);
			break;
		}
		default:
			return fail(r, "bad escape");
		}
	}
	r->p++;
	if (!lw_utf8_valid(begin, (size_t)(o - begin)))
		return fail(r, "string is not UTF-8");
	*o++ = '\0';
	r->used = (size_t)(o - r->arena);
	*out = begin;
	return LW_OK;
}

/* A number's text (RFC 8259 grammar), copied into the arena. */
static int number(struct rd *r, char **out)
{
	const char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return fail(r, "bad number");
	if (*r->p == '0')
		r->p++;
	else
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return fail(r, "bad number");
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	*out = r->arena + r->used;
	memcpy(*out, s, (size_t)(r->p - s));
	(*out)[r->p - s] = '\0';
	r->used += (size_t)(r->p - s) + 1;
	return LW_OK;
}

static int literal(struct rd *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail(r, "unexpected character");
	r->p += n;
	return LW_OK;
}

/* Any value, checked and thrown away (nested objects and arrays). */
static int skip_value(struct rd *r, int depth)
{
	char *tmp;

	if (depth > LW_JSONIN_MAX_DEPTH)
		return fail(r, "nested too deep");
	ws(r);
	if (r->p >= r->end)
		return fail(r, "value expected");
	switch (*r->p) {
	case '"': {
		size_t used = r->used;
		int rc = string(r, &tmp);

		r->used = used; /* not kept */
		return rc;
	}
	case '{': case '[': {
		char close = *r->p == '{' ? '}' : ']';
		int object = close == '}', first = 1;

		r->p++;
		for (;;) {
			ws(r);
			if (r->p < r->end && *r->p == close && first) {
				r->p++;
				return LW_OK;
			}
			if (object) {
				size_t used = r->used;
				int rc;

				if (r->p >= r->end || *r->p != '"')
					return fail(r, "member name expected");
				rc = string(r, &tmp);
				r->used = used;
				if (rc != LW_OK)
					return rc;
				ws(r);
				if (r->p >= r->end || *r->p != ':')
					return fail(r, "':' expected");
				r->p++;
			}
			if (skip_value(r, depth + 1) != LW_OK)
				return LW_EPARSE;
			if (++r->items > LW_JSONIN_MAX_ITEMS * 4)
				return fail(r, "too many values");
			first = 0;
			ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == close) {
				r->p++;
				return LW_OK;
			}
			return fail(r, object ? "',' or '}' expected" : "',' or ']' expected");
		}
	}
	case 't': return literal(r, "true");
	case 'f': return literal(r, "false");
	case 'n': return literal(r, "null");
	default: {
		size_t used = r->used;
		int rc = number(r, &tmp);

		r->used = used;
		return rc;
	}
	}
}

/* An array member: strings and numbers are kept, anything else makes
 * the whole member OTHER. */
static int array(struct rd *r, struct lw_jsonin_member *m)
{
	const char *start = r->p;
	char **items;
	uint32_t n = 0;

	/* count first, so the item table is allocated once */
	if (skip_value(r, 1) != LW_OK)
		return LW_EPARSE;
	r->p = start + 1;
	items = NULL;
	m->type = LW_JSONIN_ARRAY;
	for (;;) {
		char *v;

		ws(r);
		if (*r->p == ']') {
			r->p++;
			break;
		}
		if (*r->p == '"' || *r->p == '-' || (*r->p >= '0' && *r->p <= '9')) {
			int rc = *r->p == '"' ? string(r, &v) : number(r, &v);

			if (rc != LW_OK) {
				free(items);
				return rc;
			}
			if (n == LW_JSONIN_MAX_ITEMS) {
				free(items);
				return fail(r, "too many array items");
			}
			if (n % 64 == 0) {
				char **p = realloc(items, (n + 64) * sizeof(*p));

				if (p == NULL) {
					free(items);
					return LW_ENOMEM;
				}
				items = p;
			}
			items[n++] = v;
		} else {
			m->type = LW_JSONIN_OTHER;
			if (skip_value(r, 2) != LW_OK) {
				free(items);
				return LW_EPARSE;
			}
		}
		ws(r);
		if (*r->p == ',')
			r->p++;
	}
	if (m->type == LW_JSONIN_OTHER) {
		free(items);
		n = 0;
		items = NULL;
	}
	m->items = items;
	m->nitems = n;
	return LW_OK;
}

static int member_value(struct rd *r, struct lw_jsonin_member *m)
{
	ws(r);
	if (r->p >= r->end)
		return fail(r, "value expected");
	switch (*r->p) {
	case '"':
		m->type = LW_JSONIN_STRING;
		return string(r, &m->str);
	case '[':
		return array(r, m);
	case '{':
		m->type = LW_JSONIN_OTHER;
		return skip_value(r, 1);
	case 't':
		m->type = LW_JSONIN_BOOL;
		m->boolean = 1;
		return literal(r, "true");
	case 'f':
		m->type = LW_JSONIN_BOOL;
		return literal(r, "false");
	case 'n':
		m->type = LW_JSONIN_NULL;
		return literal(r, "null");
	default:
		m->type = LW_JSONIN_NUMBER;
		return number(r, &m->str);
	}
}

int lw_jsonin_parse(const char *s, size_t len, struct lw_jsonin *j, struct lw_diag *diag)
{
	struct rd r = {s, s, s + len, NULL, 0, 0, diag};
	int rc;

	memset(j, 0, sizeof(*j));
	r.arena = malloc(len + 1);
	if (r.arena == NULL)
		return LW_ENOMEM;
	j->arena = r.arena;
	ws(&r);
	if (r.p >= r.end || *r.p != '{') {
		rc = fail(&r, "a body is one JSON object");
		goto out;
	}
	r.p++;
	ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto tail;
	}
	for (;;) {
		struct lw_jsonin_member *m;

		ws(&r);
		if (r.p >= r.end || *r.p != '"') {
			rc = fail(&r, "member name expected");
			goto out;
		}
		if (j->n == LW_JSONIN_MAX_MEMBERS) {
			rc = fail(&r, "too many members");
			goto out;
		}
		m = &j->m[j->n];
		if ((rc = string(&r, &m->key)) != LW_OK)
			goto out;
		if (lw_jsonin_get(j, m->key) != NULL) {
			rc = fail(&r, "repeated member");
			goto out;
		}
		j->n++;
		ws(&r);
		if (r.p >= r.end || *r.p != ':') {
			rc = fail(&r, "':' expected");
			goto out;
		}
		r.p++;
		if ((rc = member_value(&r, m)) != LW_OK)
			goto out;
		ws(&r);
		if (r.p < r.end && *r.p == ',') {
			r.p++;
			continue;
		}
		if (r.p < r.end && *r.p == '}') {
			r.p++;
			break;
		}
		rc = fail(&r, "',' or '}' expected");
		goto out;
	}
tail:
	ws(&r);
	rc = r.p == r.end ? LW_OK : fail(&r, "text after the object");
out:
	if (rc != LW_OK)
		lw_jsonin_release(j);
	return rc;
}

void lw_jsonin_release(struct lw_jsonin *j)
{
	for (uint32_t i = 0; i < j->n; i++)
		free(j->m[i].items);
	free(j->arena);
	memset(j, 0, sizeof(*j));
}

const struct lw_jsonin_member *lw_jsonin_get(const struct lw_jsonin *j, const char *key)
{
	for (uint32_t i = 0; i < j->n; i++)
		if (strcmp(j->m[i].key, key) == 0)
			return &j->m[i];
	return NULL;
}

const char *lw_jsonin_str(const struct lw_jsonin *j, const char *key)
{
	const struct lw_jsonin_member *m = lw_jsonin_get(j, key);

	return m != NULL && m->type == LW_JSONIN_STRING ? m->str : NULL;
}

int lw_jsonin_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return LW_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return LW_EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return LW_OK;
}

int lw_jsonin_u64(const struct lw_jsonin *j, const char *key, uint64_t *out)
{
	const struct lw_jsonin_member *m = lw_jsonin_get(j, key);

	if (m == NULL)
		return LW_ENOTFOUND;
	if (m->type != LW_JSONIN_NUMBER)
		return LW_EINVAL;
	return lw_jsonin_parse_u64(m->str, out);
}

int lw_jsonin_bool(const struct lw_jsonin *j, const char *key, int *out)
{
	const struct lw_jsonin_member *m = lw_jsonin_get(j, key);

	if (m == NULL)
		return LW_ENOTFOUND;
	if (m->type != LW_JSONIN_BOOL)
		return LW_EINVAL;
	*out = m->boolean;
	return LW_OK;
}
