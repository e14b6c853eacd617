/* lw_utf8: validation used by the parsers (flagging) and by JSON output
 * (escaping invalid bytes). */
#include "core/utf8.h"

#include <stdint.h>
#include <string.h>

int lw_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		if (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
		} else if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= len || (s[i + 1] & 0xc0) != 0x80)
				return 0;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
			unsigned char hi = c == 0xed ? 0x9f : 0xbf; /* surrogates */

			if (i + 2 >= len || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80)
				return 0;
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
			unsigned char hi = c == 0xf4 ? 0x8f : 0xbf; /* <= U+10FFFF */

			if (i + 3 >= len || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80 || (s[i + 3] & 0xc0) != 0x80)
				return 0;
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

size_t lw_utf8_seq_len(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	for (size_t len = 2; len <= 4 && len <= n; len++)
		if (lw_utf8_valid(str, len))
			return len;
	return 0;
}
