/* lw_fmt_leef: LEEF 1.0 and 2.0 (format in correlator/fmt_leef.h).
 * Writer thread; one pass, no allocation. */
#include "correlator/fmt_leef.h"

#include <string.h>

#include "core/err.h"
#include "core/memfind.h"

static const char *const header_keys[5] = {
	"leef.version", "leef.vendor", "leef.product", "leef.product_version",
	"leef.event_id"};

/* LEEF 2.0's delimiter field: "^", "x5E", "0x5E"; 0 when unusable. */
static char delimiter_field(const char *s, size_t len)
{
	size_t i = 0;
	int hi, lo;

	if (len == 0)
		return '\t';
	if (len == 1)
		return s[0];
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	else if (s[0] == 'x' || s[0] == 'X')
		i = 1;
	else
		return 0;
	if (len - i == 1)
		return (char)(lw_fmt_hexval(s[i]) < 0 ? 0 : lw_fmt_hexval(s[i]));
	if (len - i != 2 || (hi = lw_fmt_hexval(s[i])) < 0 || (lo = lw_fmt_hexval(s[i + 1])) < 0)
		return 0;
	return (char)(hi * 16 + lo);
}

static struct lw_str header_value(const char *s, size_t a, size_t b, char *out)
{
	size_t w = 0;

	if (memchr(s + a, '\\', b - a) == NULL)
		return (struct lw_str){s + a, (uint32_t)(b - a)};
	for (size_t k = a; k < b; k++) {
		if (s[k] == '\\' && k + 1 < b && (s[k + 1] == '|' || s[k + 1] == '\\'))
			k++;
		out[w++] = s[k];
	}
	return (struct lw_str){out, (uint32_t)w};
}

int lw_fmt_leef_parse(const char *s, size_t n, char delim,
		      struct lw_fmt_buf *buf, lw_fmt_pair_fn fn, void *arg)
{
	size_t i = 5, start = 5, used = 0, dlen = 1;
	const char *dstr;
	int pairs = 0, field = 0, v2, rc;
	char d = 0;

	if (buf->cap < n + LW_FMT_KEY_MAX)
		return LW_EINVAL;
	if (n < 5 || memcmp(s, "LEEF:", 5) != 0)
		return LW_EPARSE;
	v2 = n > 5 && s[5] == '2';
	for (; i < n && field < (v2 ? 6 : 5); i++) {
		struct lw_str v;

		if (s[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (s[i] != '|')
			continue;
		if (field == 5) {
			d = delimiter_field(s + start, i - start);
		} else {
			v = header_value(s, start, i, buf->p + used);
			if (v.ptr == buf->p + used)
				used += v.len;
			rc = fn((struct lw_str){header_keys[field],
						(uint32_t)strlen(header_keys[field])}, v, arg);
			if (rc != 0)
				return rc;
			pairs++;
		}
		field++;
		start = i + 1;
	}
	if (field < (v2 ? 6 : 5) || (v2 && d == 0))
		return LW_EPARSE;
	if (!v2)
		d = delim != 0 ? delim : '\t';
	dstr = &d;
	if (!v2 && delim == 0 && memchr(s + i, '\t', n - i) == NULL &&
	    lw_memfind(s + i, n - i, "#011", 4) != NULL) {
		dstr = "#011";
		dlen = 4;
	}
	while (i < n) {
		const char *e = dlen == 1 ? memchr(s + i, d, n - i) :
					    lw_memfind(s + i, n - i, dstr, dlen);
		size_t end = e != NULL ? (size_t)(e - s) : n;
		const char *eq = memchr(s + i, '=', end - i);

		if (eq != NULL && eq > s + i) {
			size_t k = i, ke = (size_t)(eq - s);

			while (k < ke && (s[k] == ' ' || s[k] == '\t'))
				k++;
			if (ke > k) {
				rc = fn((struct lw_str){s + k, (uint32_t)(ke - k)},
					(struct lw_str){eq + 1, (uint32_t)(end - ke - 1)}, arg);
				if (rc != 0)
					return rc;
				pairs++;
			}
		}
		i = end + dlen;
	}
	return pairs;
}
