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
