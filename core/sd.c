/* lw_sd: RFC 5424 section 6.3 STRUCTURED-DATA. */
#include "core/sd.h"

#include <string.h>

#include "core/err.h"

/* PRINTUSASCII = %d33-126 (RFC 5424 section 6). */
static int printusascii(unsigned char c)
{
	return c >= 33 && c <= 126;
}

/* SD-NAME: PRINTUSASCII except '=', SP, ']' and '"'. */
static int sdname_char(unsigned char c)
{
	return printusascii(c) && c != '=' && c != ']' && c != '"';
}

/* Scans an SD-NAME; returns its end or NULL when empty / over 32. */
static const char *sdname(const char *p, const char *end)
{
	const char *b = p;

	while (p < end && sdname_char((unsigned char)*p))
		p++;
	if (p == b || p - b > LW_SD_NAME_MAX)
		return NULL;
	return p;
}

/* Scans a PARAM-VALUE body after the opening quote; returns the position
 * of the closing quote or NULL. *escaped tells whether any escape occurs.
 * RFC 5424 6.3.3: '"', '\' and ']' MUST be escaped; a backslash before
 * any other character is an ordinary backslash. An unescaped ']' is
 * therefore an error (it is also how a truncated SD shows up). */
static const char *param_value(const char *p, const char *end, int *escaped)
{
	while (p < end) {
		const char *q = p;

		/* Fast skip over the common bytes. */
		while (q < end && *q != '"' && *q != '\\' && *q != ']')
			q++;
		if (q >= end)
			return NULL;
		if (*q == '"')
			return q;
		if (*q == ']')
			return NULL;
		*escaped = 1;
		if (q + 1 < end && (q[1] == '"' || q[1] == '\\' || q[1] == ']'))
			p = q + 2;
		else
			p = q + 1;
	}
	return NULL;
}

/* One SD-ELEMENT at p ('['); calls cb per param when cb is not NULL.
 * Returns the position after ']' or NULL on a syntax error; *rc carries a
 * callback's stop value. */
static const char *sd_element(const char *p, const char *end,
			      struct lw_str *id, char *scratch,
			      lw_sd_cb cb, void *arg, int *rc)
{
	const char *e;
	int nparams = 0;

	if (p >= end || *p != '[')
		return NULL;
	e = sdname(p + 1, end);
	if (e == NULL)
		return NULL;
	*id = (struct lw_str){p + 1, (uint32_t)(e - p - 1)};
	p = e;
	while (p < end && *p == ' ') {
		const char *name = p + 1, *vb, *ve;
		int escaped = 0;

		e = sdname(name, end);
		if (e == NULL || e + 1 >= end || e[0] != '=' || e[1] != '"')
			return NULL;
		vb = e + 2;
		ve = param_value(vb, end, &escaped);
		if (ve == NULL)
			return NULL;
		if (cb != NULL && *rc == LW_OK) {
			struct lw_str v = {vb, (uint32_t)(ve - vb)};

			if (escaped) {
				size_t n = 0;

				for (const char *s = vb; s < ve; s++) {
					if (*s == '\\' && s + 1 < ve &&
					    (s[1] == '"' || s[1] == '\\' || s[1] == ']'))
						s++;
					scratch[n++] = *s;
				}
				v = (struct lw_str){scratch, (uint32_t)n};
			}
			*rc = cb(*id, (struct lw_str){name, (uint32_t)(e - name)},
				 v, arg);
		}
		nparams++;
		p = ve + 1;
	}
	if (p >= end || *p != ']')
		return NULL;
	if (cb != NULL && *rc == LW_OK && nparams == 0)
		*rc = cb(*id, LW_STR_NULL, LW_STR_NULL, arg);
	return p + 1;
}

static int same(struct lw_str a, struct lw_str b)
{
	return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* Walks the SD elements at s; with cb NULL it only validates. RFC 5424
 * 6.3.2 forbids the same SD-ID twice in one message; the first 16 ids are
 * checked (real messages carry 1-3 elements, so this stays O(n)). */
static size_t sd_walk(const char *s, size_t len, char *scratch,
		      lw_sd_cb cb, void *arg, int *rc)
{
	const char *p = s, *end = s + len;
	struct lw_str ids[16];
	unsigned nids = 0;

	while (p < end && *p == '[') {
		struct lw_str id;

		p = sd_element(p, end, &id, scratch, cb, arg, rc);
		if (p == NULL)
			return 0;
		for (unsigned i = 0; i < nids; i++)
			if (same(ids[i], id))
				return 0;
		if (nids < 16)
			ids[nids++] = id;
		if (*rc != LW_OK)
			break;
	}
	return (size_t)(p - s);
}

size_t lw_sd_span(const char *s, size_t len)
{
	int rc = LW_OK;

	return sd_walk(s, len, NULL, NULL, NULL, &rc);
}

int lw_sd_each(struct lw_str sd, char *scratch, size_t scratch_len,
		       lw_sd_cb cb, void *arg)
{
	int rc = LW_OK;

	if (sd.len == 0)
		return LW_OK;
	if (scratch_len < sd.len)
		return LW_EINVAL;
	if (sd_walk(sd.ptr, sd.len, scratch, cb, arg, &rc) != sd.len &&
	    rc == LW_OK)
		return LW_EPARSE;
	return rc;
}
