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

/* A prepared search for one needle, ignoring ASCII case (bytes >= 0x80
 * compare exactly): what the query language's full-text terms use.
 *
 * The scan tests two of the needle's rarest bytes at 16 positions at a
 * time (SSE2 where the compiler has it, one byte at a time otherwise,
 * same answers) and compares the whole needle only there. After too many
 * false candidates in one call (a hostile "aaaa..." line against an
 * "aaab" needle) it folds the rest of the haystack to lower case in
 * chunks and hands them to memmem, so the worst case stays linear.
 *
 * Threads: one search at a time per object (it owns a scratch chunk). */
struct lw_memfind_icase {
	char *low;          /* the needle in lower case (owned) */
	size_t len;
	size_t pos[2];      /* the two rarest bytes' offsets (equal when len 1) */
	unsigned char byte[2]; /* their lower-case values */
	unsigned char fold[2]; /* 0x20 when the byte is a letter, else 0 */
	char *scratch;      /* the fallback's folded chunk (owned) */
	size_t scratch_cap;
};

/* Prepares f for needle[0..len) (copied). 0, or -1 when out of memory
 * (f is then empty and lw_memfind_icase_release is still allowed). */
int lw_memfind_icase_init(struct lw_memfind_icase *f, const char *needle,
			  size_t len);
void lw_memfind_icase_release(struct lw_memfind_icase *f);
/* The first occurrence in hay[0..hlen), or NULL. An empty needle is
 * found at hay. */
const char *lw_memfind_icase(struct lw_memfind_icase *f, const char *hay,
			     size_t hlen);

#endif
