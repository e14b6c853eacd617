/* lw_fmt_cef: CEF header and extension (format in correlator/fmt_cef.h).
 * Writer thread; one pass (each extension byte is looked at most twice:
 * once as a possible key after a space, once as value), no allocation. */
#include "correlator/fmt_cef.h"

#include <string.h>

#include "core/err.h"

static const char *const header_keys[7] = {
	"cef.version", "cef.device.vendor", "cef.device.product",
	"cef.device.version", "cef.device.event_class_id", "cef.name",
	"cef.severity"};

static int key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '[' ||
	       c == ']' || c == '-';
}

/* The length of "key" when s[i..) starts with "key=", else 0. */
static size_t key_at(const char *s, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && key_char((unsigned char)s[j]))
		j++;
	return j > i && j < n && s[j] == '=' ? j - i : 0;
}

/* Copies s[a..b) into out, undoing the escapes of where (header or
 * extension); returns the view (into s when nothing was escaped). */
static struct lw_str unescape(const char *s, size_t a, size_t b, int header,
			      char *out)
{
	size_t w = 0;

	if (memchr(s + a, '\\', b - a) == NULL)
		return (struct lw_str){s + a, (uint32_t)(b - a)};
	for (size_t k = a; k < b; k++) {
		char c = s[k];

		if (c == '\\' && k + 1 < b) {
			char e = s[k + 1];

			if (e == '\\' || (header && e == '|') || (!header && e == '=')) {
				c = e;
				k++;
			} else if (!header && (e == 'n' || e == 'r')) {
				c = e == 'n' ? '\n' : '\r';
				k++;
			}
		}
		out[w++] = c;
	}
	return (struct lw_str){out, (uint32_t)w};
}

int lw_fmt_cef_parse(const char *s, size_t n, struct lw_fmt_buf *buf,
		     lw_fmt_pair_fn fn, void *arg)
{
	size_t i = 4, used = 0, field_start = 4;
	int pairs = 0, field = 0, rc;

	if (buf->cap < n + LW_FMT_KEY_MAX)
		return LW_EINVAL;
	if (n < 4 || memcmp(s, "CEF:", 4) != 0)
		return LW_EPARSE;
	for (; i < n && field < 7; i++) {
		struct lw_str v;

		if (s[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (s[i] != '|')
			continue;
		v = unescape(s, field_start, i, 1, buf->p + used);
		if (v.ptr == buf->p + used)
			used += v.len;
		rc = fn((struct lw_str){header_keys[field], (uint32_t)strlen(header_keys[field])},
			v, arg);
		if (rc != 0)
			return rc;
		pairs++;
		field++;
		field_start = i + 1;
	}
	if (field < 7)
		return LW_EPARSE;
	/* The extension: find each key, its value ends where the next begins. */
	while (i < n && s[i] == ' ')
		i++;
	while (i < n) {
		size_t klen = key_at(s, n, i), vstart, j, vend;
		struct lw_str v;

		if (klen == 0) {
			/* Text that is no pair: skip the word. */
			while (i < n && s[i] != ' ')
				i++;
			while (i < n && s[i] == ' ')
				i++;
			continue;
		}
		vstart = i + klen + 1;
		for (j = vstart; j < n; j++) {
			if (s[j] == '\\') {
				j++;
				continue;
			}
			if (s[j] == ' ' && key_at(s, n, j + 1) > 0)
				break;
		}
		if (j > n)
			j = n;
		vend = j;
		while (vend > vstart && (s[vend - 1] == ' ' || s[vend - 1] == '\0'))
			vend--;
		v = unescape(s, vstart, vend, 0, buf->p + used);
		if (v.ptr == buf->p + used)
			used += v.len;
		rc = fn((struct lw_str){s + i, (uint32_t)klen}, v, arg);
		if (rc != 0)
			return rc;
		pairs++;
		i = j;
		while (i < n && s[i] == ' ')
			i++;
	}
	return pairs;
}
