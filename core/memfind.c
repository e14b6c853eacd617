/* lw_memfind: memchr on the first byte, then compare (see memfind.h). */
#include "core/memfind.h"

#include <string.h>

/* False first-byte candidates tolerated before falling back to memmem:
 * enough that real log lines never reach it, few enough that a line of
 * repeated needle prefixes costs at most this many short compares. */
#define MEMFIND_MAX_FALSE 16

const char *lw_memfind(const char *hay, size_t hlen, const char *needle,
		       size_t nlen)
{
	const char *p = hay, *last;
	unsigned misses = 0;

	if (nlen == 0)
		return hay;
	if (hlen < nlen)
		return NULL;
	if (nlen == 1)
		return memchr(hay, (unsigned char)needle[0], hlen);
	last = hay + (hlen - nlen); /* the last place a match can start */
	while (p <= last) {
		p = memchr(p, (unsigned char)needle[0], (size_t)(last - p) + 1);
		if (p == NULL)
			return NULL;
		if (p[nlen - 1] == needle[nlen - 1] &&
		    memcmp(p + 1, needle + 1, nlen - 2) == 0)
			return p;
		if (++misses == MEMFIND_MAX_FALSE)
			return memmem(p + 1, (size_t)(hay + hlen - (p + 1)), needle, nlen);
		p++;
	}
	return NULL;
}
