/* Unit tests for core/memfind (lw_memfind): the same answers as memmem,
 * including the fallback after many false candidates. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/memfind.h"

static long pos_of(const char *hay, const char *needle)
{
	const char *p = lw_memfind(hay, strlen(hay), needle, strlen(needle));

	return p == NULL ? -1 : (long)(p - hay);
}

Test(memfind, finds_first_occurrence_and_edges)
{
	cr_expect_eq(pos_of("Failed password for root", "password"), 7);
	cr_expect_eq(pos_of("Failed password for root", "Failed"), 0);
	cr_expect_eq(pos_of("Failed password for root", "root"), 20);
	cr_expect_eq(pos_of("Failed password for root", "roots"), -1);
	cr_expect_eq(pos_of("abab", "ab"), 0);
	cr_expect_eq(pos_of("xaby", "b"), 2);
	cr_expect_eq(pos_of("xaby", "z"), -1);
	cr_expect_eq(pos_of("abc", ""), 0);
	cr_expect_eq(pos_of("", "a"), -1);
	cr_expect_eq(pos_of("ab", "abc"), -1);
	cr_expect_eq(pos_of("port 22 port 2222", "2222"), 13);
}

Test(memfind, not_fooled_by_bytes_past_the_haystack)
{
	const char buf[] = "sshd: Accepted";

	/* the needle continues past hlen: no match inside the first 10 */
	cr_expect_null(lw_memfind(buf, 10, "Accepted", 8));
	cr_expect_eq(lw_memfind(buf, 14, "Accepted", 8), buf + 6);
}

Test(memfind, fallback_after_many_false_candidates_agrees_with_memmem)
{
	/* 40 near misses ("aaab" against "aaaaX") before the real match. */
	char hay[256] = "";
	const char *needle = "aaaaX";

	for (int i = 0; i < 40; i++)
		strcat(hay, "aaab");
	strcat(hay, "aaaaX tail");
	cr_expect_eq(lw_memfind(hay, strlen(hay), needle, strlen(needle)),
		     memmem(hay, strlen(hay), needle, strlen(needle)));
	cr_expect_eq(pos_of(hay, "aaaaX"), 160);
	cr_expect_eq(pos_of(hay, "aaaaY"), -1);
}

Test(memfind, random_inputs_agree_with_memmem)
{
	unsigned seed = 12345;

	for (int t = 0; t < 20000; t++) {
		char hay[64], needle[8];
		size_t hlen, nlen;

		seed = seed * 1103515245u + 12345u;
		hlen = (seed >> 16) % sizeof(hay);
		seed = seed * 1103515245u + 12345u;
		nlen = (seed >> 16) % sizeof(needle);
		for (size_t i = 0; i < hlen; i++) {
			seed = seed * 1103515245u + 12345u;
			hay[i] = (char)('a' + (seed >> 16) % 3);
		}
		for (size_t i = 0; i < nlen; i++) {
			seed = seed * 1103515245u + 12345u;
			needle[i] = (char)('a' + (seed >> 16) % 3);
		}
		cr_assert_eq(lw_memfind(hay, hlen, needle, nlen),
			     (const char *)memmem(hay, hlen, needle, nlen),
			     "hay %.*s needle %.*s", (int)hlen, hay, (int)nlen, needle);
	}
}

/* lw_memeq against memcmp: every length up to 40 (each load width and the
 * memcmp fallback), equal, and differing in each single byte. */
Test(memfind, memeq_agrees_with_memcmp_at_every_length_and_position)
{
	char a[41], b[41];

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (char)('A' + i % 26);
	for (size_t n = 0; n <= 40; n++) {
		cr_assert_eq(lw_memeq(a, b, n), 1, "equal, n=%zu", n);
		for (size_t k = 0; k < n; k++) {
			b[k] ^= 0x20;
			cr_assert_eq(lw_memeq(a, b, n), 0, "n=%zu, byte %zu differs", n, k);
			cr_assert_eq(lw_memeq(a + 1, b + 1, n - 1 + (k == 0)),
				     memcmp(a + 1, b + 1, n - 1 + (k == 0)) == 0,
				     "unaligned, n=%zu, k=%zu", n, k);
			b[k] ^= 0x20;
		}
	}
}

/* --- lw_memfind_icase ----------------------------------------------------- */

static long naive_icase(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	for (size_t s = 0; s + nlen <= hlen; s++) {
		size_t i = 0;

		while (i < nlen) {
			unsigned char a = (unsigned char)hay[s + i], b = (unsigned char)needle[i];

			if (a >= 'A' && a <= 'Z')
				a |= 0x20;
			if (b >= 'A' && b <= 'Z')
				b |= 0x20;
			if (a != b)
				break;
			i++;
		}
		if (i == nlen)
			return (long)s;
	}
	return -1;
}

static long icase_pos(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	struct lw_memfind_icase f;
	const char *p;

	cr_assert_eq(lw_memfind_icase_init(&f, needle, nlen), 0);
	p = lw_memfind_icase(&f, hay, hlen);
	lw_memfind_icase_release(&f);
	return p == NULL ? -1 : (long)(p - hay);
}

Test(memfind, icase_ignores_ascii_case_only)
{
	const char *line = "Dec  7 sshd[42]: FAILED Password for ROOT from 10.20.0.5";

	cr_expect_eq(icase_pos(line, strlen(line), "failed password", 15), 17);
	cr_expect_eq(icase_pos(line, strlen(line), "root", 4), 37);
	cr_expect_eq(icase_pos(line, strlen(line), "10.20.0.5", 9), 47);
	cr_expect_eq(icase_pos(line, strlen(line), "10.20.0.6", 9), -1);
	cr_expect_eq(icase_pos(line, strlen(line), "", 0), 0);
	/* '@' | 0x20 is '`': a non-letter needle byte compares exactly */
	cr_expect_eq(icase_pos("a`b", 3, "a@b", 3), -1);
	cr_expect_eq(icase_pos("x[A]y", 5, "[a]", 3), 1);
	/* UTF-8 bytes compare exactly: 'É' (c3 89) is not 'é' (c3 a9) */
	cr_expect_eq(icase_pos("caf\xc3\x89", 5, "caf\xc3\xa9", 5), -1);
	cr_expect_eq(icase_pos("caf\xc3\xa9", 5, "CAF\xc3\xa9", 5), 0);
}

Test(memfind, icase_agrees_with_a_naive_search_on_random_text)
{
	static const char alphabet[] = "aAbB .:0";
	char hay[300], needle[8];
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t hlen, nlen;

		seed = seed * 1103515245u + 12345u;
		hlen = (seed >> 8) % sizeof(hay);
		seed = seed * 1103515245u + 12345u;
		nlen = 1 + (seed >> 8) % (sizeof(needle) - 1);
		for (size_t i = 0; i < hlen; i++) {
			seed = seed * 1103515245u + 12345u;
			hay[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		for (size_t i = 0; i < nlen; i++) {
			seed = seed * 1103515245u + 12345u;
			needle[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		cr_assert_eq(icase_pos(hay, hlen, needle, nlen),
			     naive_icase(hay, hlen, needle, nlen),
			     "round %d hlen %zu nlen %zu", round, hlen, nlen);
	}
}

Test(memfind, icase_fallback_finds_the_match_after_many_near_misses)
{
	/* 20,000 bytes of "aaaa..." then "AAAAB": every position is a
	 * candidate for "aaaab" until the fallback takes over. */
	size_t n = 20000;
	char *hay = malloc(n + 6);

	cr_assert_not_null(hay);
	memset(hay, 'a', n);
	memcpy(hay + n, "AAAAB", 5);
	cr_expect_eq(icase_pos(hay, n + 5, "aaaab", 5), (long)n);
	cr_expect_eq(icase_pos(hay, n, "aaaab", 5), -1);
	free(hay);
}

Test(memfind, icase_fallback_matches_across_its_chunks)
{
	/* A 6,000-byte needle ("a" x 5999 + "b") ending at 15,000: the
	 * fallback's chunks (needle + 4096 bytes) overlap by the needle's
	 * length, so the match straddling them is found. */
	size_t n = 20000, nlen = 6000;
	char *hay = malloc(n), *needle = malloc(nlen);

	cr_assert_not_null(hay);
	cr_assert_not_null(needle);
	memset(hay, 'A', n);
	hay[15000 - 1] = 'B';
	memset(needle, 'a', nlen);
	needle[nlen - 1] = 'b';
	cr_expect_eq(icase_pos(hay, n, needle, nlen), 15000 - (long)nlen);
	cr_expect_eq(naive_icase(hay, n, needle, nlen), 15000 - (long)nlen);
	free(needle);
	free(hay);
}
