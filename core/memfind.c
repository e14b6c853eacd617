/* lw_memfind: memchr on the first byte, then compare; lw_memfind_icase:
 * two rare bytes at a time, then compare (see memfind.h). */
#include "core/memfind.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* --- ASCII case-insensitive search ------------------------------------ */

/* False candidates in one call before the folding fallback: real log
 * lines stay far below it. */
#define ICASE_MAX_FALSE 64
/* Bytes folded per fallback chunk, beyond the needle's own length. */
#define ICASE_CHUNK 4096

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static int is_letter(unsigned char c)
{
	c = ascii_lower(c);
	return c >= 'a' && c <= 'z';
}

/* How common a byte is in log text (higher = more common): letters by
 * English frequency, then spaces and digits; punctuation and UTF-8 bytes
 * are rarer. Only the order matters. */
static int commonness(unsigned char c)
{
	static const char by_freq[] = "zqjxkvbywgpfmucdlhrsnioate";
	const char *p;

	if (c == ' ')
		return 100;
	if (is_letter(c)) {
		p = strchr(by_freq, ascii_lower(c));
		return 40 + (int)(p - by_freq) * 2;
	}
	if (c >= '0' && c <= '9')
		return 60;
	if (c == '.' || c == ':' || c == '-' || c == '/' || c == '=' || c == '[' || c == ']')
		return 45;
	return 20;
}

int lw_memfind_icase_init(struct lw_memfind_icase *f, const char *needle,
			  size_t len)
{
	int best[2] = {1000, 1000};

	memset(f, 0, sizeof(*f));
	f->low = malloc(len + 1);
	f->scratch_cap = len + ICASE_CHUNK;
	f->scratch = malloc(f->scratch_cap);
	if (f->low == NULL || f->scratch == NULL) {
		lw_memfind_icase_release(f);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		f->low[i] = (char)ascii_lower((unsigned char)needle[i]);
	f->low[len] = '\0';
	f->len = len;
	for (size_t i = 0; i < len; i++) {
		int c = commonness((unsigned char)f->low[i]);

		if (c < best[0]) {
			best[1] = best[0];
			f->pos[1] = f->pos[0];
			best[0] = c;
			f->pos[0] = i;
		} else if (c < best[1]) {
			best[1] = c;
			f->pos[1] = i;
		}
	}
	if (len < 2)
		f->pos[1] = f->pos[0];
	for (int k = 0; k < 2; k++) {
		f->byte[k] = len ? (unsigned char)f->low[f->pos[k]] : 0;
		f->fold[k] = is_letter(f->byte[k]) ? 0x20 : 0;
	}
	return 0;
}

void lw_memfind_icase_release(struct lw_memfind_icase *f)
{
	free(f->low);
	free(f->scratch);
	memset(f, 0, sizeof(*f));
}

static int icase_equal(const char *low, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((char)ascii_lower((unsigned char)p[i]) != low[i])
			return 0;
	return 1;
}

/* Linear in hlen whatever the input: folded chunks overlapping by
 * len - 1 bytes, each searched with memmem (two-way in glibc). */
static const char *icase_fold_search(struct lw_memfind_icase *f, const char *hay,
				     size_t hlen)
{
	size_t p = 0;

	while (hlen - p >= f->len) {
		size_t n = hlen - p < f->scratch_cap ? hlen - p : f->scratch_cap;
		const char *r;

		for (size_t i = 0; i < n; i++)
			f->scratch[i] = (char)ascii_lower((unsigned char)hay[p + i]);
		r = memmem(f->scratch, n, f->low, f->len);
		if (r != NULL)
			return hay + p + (size_t)(r - f->scratch);
		if (p + n == hlen)
			break;
		p += n - (f->len - 1);
	}
	return NULL;
}

static int icase_candidate(const struct lw_memfind_icase *f, const char *s)
{
	return ((unsigned char)s[f->pos[0]] | f->fold[0]) == f->byte[0] &&
	       ((unsigned char)s[f->pos[1]] | f->fold[1]) == f->byte[1];
}

const char *lw_memfind_icase(struct lw_memfind_icase *f, const char *hay,
			     size_t hlen)
{
	size_t s = 0, last;
	unsigned misses = 0;

	if (f->len == 0)
		return hay;
	if (hlen < f->len)
		return NULL;
	last = hlen - f->len; /* the last place a match can start */
#if defined(__SSE2__)
	{
		const __m128i b0 = _mm_set1_epi8((char)f->byte[0]);
		const __m128i b1 = _mm_set1_epi8((char)f->byte[1]);
		const __m128i m0 = _mm_set1_epi8((char)f->fold[0]);
		const __m128i m1 = _mm_set1_epi8((char)f->fold[1]);

		/* Candidates s..s+15 all start at or before last, so every
		 * load stays inside hay. */
		for (; s + 15 <= last; s += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(hay + s + f->pos[0]));
			__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(hay + s + f->pos[1]));
			unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(
				_mm_cmpeq_epi8(_mm_or_si128(x, m0), b0),
				_mm_cmpeq_epi8(_mm_or_si128(y, m1), b1)));

			while (mask != 0) {
				size_t at = s + (size_t)__builtin_ctz(mask);

				if (icase_equal(f->low, hay + at, f->len))
					return hay + at;
				if (++misses == ICASE_MAX_FALSE)
					return icase_fold_search(f, hay + at + 1, hlen - at - 1);
				mask &= mask - 1;
			}
		}
	}
#endif
	for (; s <= last; s++) {
		if (!icase_candidate(f, hay + s))
			continue;
		if (icase_equal(f->low, hay + s, f->len))
			return hay + s;
		if (++misses == ICASE_MAX_FALSE)
			return icase_fold_search(f, hay + s + 1, hlen - s - 1);
	}
	return NULL;
}
