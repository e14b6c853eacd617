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

/* The first occurrence of needle[0..nlen) in hay[0..hlen), or NULL. An
 * empty needle is found at hay. Same result as memmem. */
const char *lw_memfind(const char *hay, size_t hlen, const char *needle,
		       size_t nlen);

#endif
