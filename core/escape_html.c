/* core/escape_html.c - see core/escape_html.h. */
#include <stdint.h>
#include <string.h>

#include "core/escape.h"
#include "core/escape_html.h"
#include "core/utf8.h"

static const char hexdig[] = "0123456789abcdef";

static uint32_t decode_cp(const unsigned char *p, size_t len)
{
	if (len == 2)
		return ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
	if (len == 3)
		return ((uint32_t)(p[0] & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
		       (p[2] & 0x3f);
	return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
	       ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
}

void lw_escape_html(struct lw_buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = p[i];
		const char *rep = NULL;
		char tmp[8];
		size_t len = 1;

		if (c >= 0x20 && c < 0x7f) {
			switch (c) {
			case '&': rep = "&amp;"; break;
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '"': rep = "&quot;"; break;
			case '\'': rep = "&#39;"; break;
			default: i++; continue;
			}
		} else if (c >= 0x80 && (len = lw_utf8_seq_len(s + i, n - i)) > 1) {
			uint32_t cp = decode_cp(p + i, len);

			/* multi-byte: C1, bidi and separators (core/escape.h's set) */
			if (!lw_escape_is_control(cp)) {
				i += len;
				continue;
			}
			memcpy(tmp, "\\u", 2);
			for (int k = 0; k < 4; k++)
				tmp[2 + k] = hexdig[(cp >> (12 - 4 * k)) & 0xf];
			tmp[6] = '\0';
			rep = tmp;
		} else {
			/* C0, DEL, or a byte that starts no valid sequence */
			len = 1;
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hexdig[c >> 4];
			tmp[3] = hexdig[c & 0xf];
			tmp[4] = '\0';
			rep = tmp;
		}
		lw_buf_append(out, s + run, i - run);
		lw_buf_puts(out, rep);
		i += len;
		run = i;
	}
	lw_buf_append(out, s + run, n - run);
}

void lw_escape_html_z(struct lw_buf *out, const char *s)
{
	if (s != NULL)
		lw_escape_html(out, s, strlen(s));
}
