/* core/checksum.c - the stored records' checksum (prefix lw_checksum). */
#include "core/checksum.h"

#include <string.h>

static uint64_t step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h << 31 | h >> 33;
}

/* 8 bytes (little-endian) per multiply where FNV-1a, which both record
 * kinds used first, takes one byte: that byte loop was a third of saving
 * a correlation change set and most of encoding an incident. Each step
 * is a bijection of the running value, so inputs that differ in one
 * word always differ in their sum. */
uint64_t lw_checksum64(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)n, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		h = step(h, w);
	}
	if (i < n) {
		w = 0;
		for (size_t k = n; k > i; k--)
			w = w << 8 | p[k - 1];
		h = step(h, w);
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ h >> 33;
}
