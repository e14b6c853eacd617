/* lw_params: query strings and cookies, decoded strictly. */
#include "web/params.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into out; returns the decoded length or -1. */
static long decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '\0') {
			return -1;
		} else {
			out[o++] = s[i];
		}
	}
	if (!lw_utf8_valid(out, o))
		return -1;
	out[o] = '\0';
	return (long)o;
}

int lw_params_parse(const char *qs, size_t len, struct lw_params *p, struct lw_diag *diag)
{
	size_t pos = 0, used = 0;

	memset(p, 0, sizeof(*p));
	if (qs == NULL || len == 0)
		return LW_OK;
	if (len > LW_PARAMS_MAX_LEN)
		return lw_diag_set(diag, LW_ETOOBIG, NULL, 0, 0,
				   "query string over %u bytes", LW_PARAMS_MAX_LEN);
	/* each pair decodes to at most its own length plus two NULs */
	p->buf = malloc(len + 2 * LW_PARAMS_MAX + 2);
	if (p->buf == NULL)
		return LW_ENOMEM;
	while (pos < len) {
		const char *pair = qs + pos, *amp = memchr(pair, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - pair) : len - pos;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		long k, v;

		pos += plen + 1;
		if (plen == 0)
			continue;
		if (p->n == LW_PARAMS_MAX) {
			lw_params_release(p);
			return lw_diag_set(diag, LW_ETOOBIG, NULL, 0, 0,
					   "more than %d query parameters", LW_PARAMS_MAX);
		}
		k = decode(pair, klen, p->buf + used);
		if (k <= 0) {
			lw_params_release(p);
			return lw_diag_set(diag, LW_EPARSE, NULL, 0, (int)(pair - qs) + 1,
					   "bad query parameter name");
		}
		p->kv[p->n].key = p->buf + used;
		used += (size_t)k + 1;
		v = eq ? decode(eq + 1, plen - klen - 1, p->buf + used) : 0;
		if (v < 0) {
			lw_diag_set(diag, LW_EPARSE, NULL, 0, (int)(pair - qs) + 1,
				    "bad value of query parameter '%s'", p->kv[p->n].key);
			lw_params_release(p);
			return LW_EPARSE;
		}
		p->buf[used + (size_t)v] = '\0';
		p->kv[p->n].value = p->buf + used;
		used += (size_t)v + 1;
		p->n++;
	}
	return LW_OK;
}

void lw_params_release(struct lw_params *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

const char *lw_params_get(const struct lw_params *p, const char *key)
{
	for (unsigned i = 0; i < p->n; i++)
		if (strcmp(p->kv[i].key, key) == 0)
			return p->kv[i].value;
	return NULL;
}

int lw_params_cookie(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *s = header;

	out[0] = '\0';
	while (s != NULL && *s != '\0') {
		const char *end = strchr(s, ';'), *v;
		size_t len;

		while (*s == ' ' || *s == '\t')
			s++;
		len = end ? (size_t)(end - s) : strlen(s);
		if (len > nlen && memcmp(s, name, nlen) == 0 && s[nlen] == '=') {
			v = s + nlen + 1;
			len -= nlen + 1;
			while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
				v++;
				len -= 2;
			}
			for (size_t i = 0; i < len; i++)
				if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f ||
				    v[i] == '"' || v[i] == ',' || v[i] == ';' || v[i] == '\\')
					return LW_ENOTFOUND;
			if (len + 1 > outlen)
				return LW_ETOOBIG;
			memcpy(out, v, len);
			out[len] = '\0';
			return LW_OK;
		}
		s = end ? end + 1 : NULL;
	}
	return LW_ENOTFOUND;
}
