/* Substring search for short needles in log lines (prefix lw_memfind).
 *
 * glibc's memmem is linear in the worst case but pays a fixed setup for
 * every call (a shift table), which on a ~100-byte log line and a 5-20
 * byte literal costs more than the search: ~300 instructions per call,
 * 5% of the writer with the default rule pack. lw_memfind jumps between
 * occurrences of the needle's first byte with memchr (vectorised) and
 * compares the rest; after a bounded number of false candidates it hands
 * the rest of the haystack to memmem, so crafted input ("aaaa...") stays
 * linear. */
#ifndef LW_CORE_MEMFIND_H
#define LW_CORE_MEMFIND_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 1 when a[0..n) equals b[0..n), else 0. Up to 16 bytes (hosts, programs,
 * field keys, group keys) the bytes are compared with two overlapping
 * loads each, without a call: perf put memcmp's call and dispatch at
 * 5-7% of the daemon, for compares of mostly short strings. */
static inline int lw_memeq(const void *a, const void *b, size_t n)
{
	const char *x = a, *y = b;

	if (n >= 8 && n <= 16) {
		uint64_t x0, x1, y0, y1;

		memcpy(&x0, x, 8);
		memcpy(&y0, y, 8);
		memcpy(&x1, x + n - 8, 8);
		memcpy(&y1, y + n - 8, 8);
		return x0 == y0 && x1 == y1;
	}
	if (n >= 4 && n < 8) {
		uint32_t x0, x1, y0, y1;

		memcpy(&x0, x, 4);
		memcpy(&y0, y, 4);
		memcpy(&x1, x + n - 4, 4);
		memcpy(&y1, y + n - 4, 4);
		return x0 == y0 && x1 == y1;
	}
	if (n < 4) /* 0..3 bytes: first, middle and last cover them all */
		return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] &&
				  x[n - 1] == y[n - 1]);
	return memcmp(a, b, n) == 0;
}

/* The first occurrence of needle[0..nlen) in hay[0..hlen), or NULL. An
 * empty needle is found at hay. Same result as memmem. */
const char *lw_memfind(const char *hay, size_t hlen, const char *needle,
		       size_t nlen);

#endif
