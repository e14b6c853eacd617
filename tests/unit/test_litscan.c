/* lw_litscan: which literals of a set occur in a text, in one pass. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "correlator/litscan.h"

static struct lw_litscan *build(const char *const *lits, size_t n)
{
	struct lw_litscan *ls = lw_litscan_new();

	cr_assert_not_null(ls);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(lw_litscan_add(ls, lits[i], strlen(lits[i]), (uint32_t)i),
			     LW_OK, "%s", lits[i]);
	cr_assert_eq(lw_litscan_build(ls), LW_OK);
	return ls;
}

static uint64_t find(const struct lw_litscan *ls, const char *text)
{
	uint64_t bits = 0;

	lw_litscan_find(ls, text, strlen(text), &bits);
	return bits;
}

Test(litscan, finds_every_literal_that_occurs)
{
	static const char *const lits[] = {
		"Failed ", "Failed Login: username=", ", rip=", "Access denied for user '",
		"badlogin: "};
	struct lw_litscan *ls = build(lits, 5);

	cr_expect_eq(lw_litscan_count(ls), 5);
	cr_expect_eq(find(ls, "Failed password for root from 1.2.3.4"), 1u << 0);
	/* Two literals sharing their first 4 bytes, both present. */
	cr_expect_eq(find(ls, "x Failed Login: username=bob ip=1.2.3.4"), (1u << 0) | (1u << 1));
	/* At the very end, and at the very start. */
	cr_expect_eq(find(ls, "user=<a>, rip="), 1u << 2);
	cr_expect_eq(find(ls, ", rip="), 1u << 2);
	cr_expect_eq(find(ls, "badlogin: [1.2.3.4] PLAIN"), 1u << 4);
	cr_expect_eq(find(ls, "[Warning] Access denied for user 'root'@'h'"), 1u << 3);
	/* Case matters; a literal cut by the end does not count. */
	cr_expect_eq(find(ls, "failed password"), 0);
	cr_expect_eq(find(ls, "... Access denied for user"), 0);
	cr_expect_eq(find(ls, "Fai"), 0);
	/* Every offset of a literal in the text (the scan steps over bytes). */
	for (int pad = 0; pad < 8; pad++) {
		char text[64];

		snprintf(text, sizeof(text), "%.*sbadlogin: ", pad, "xxxxxxxx");
		cr_expect_eq(find(ls, text), 1u << 4, "at offset %d", pad);
		snprintf(text, sizeof(text), "%.*sx, rip=", pad, "xxxxxxxx");
		cr_expect_eq(find(ls, text), 1u << 2, "at offset %d", pad);
	}
	cr_expect_eq(find(ls, ""), 0);
	lw_litscan_free(ls);
}

Test(litscan, values_are_bits_beyond_one_word)
{
	struct lw_litscan *ls = lw_litscan_new();
	uint64_t bits[3] = {0, 0, 0};

	cr_assert_eq(lw_litscan_add(ls, "alpha ", 6, 3), LW_OK);
	cr_assert_eq(lw_litscan_add(ls, "omegas", 6, 130), LW_OK);
	cr_assert_eq(lw_litscan_add(ls, "alphabet", 8, 70), LW_OK);
	cr_assert_eq(lw_litscan_build(ls), LW_OK);
	lw_litscan_find(ls, "alpha alphabet, no omegas", 25, bits);
	cr_expect_eq(bits[0], 1ull << 3);
	cr_expect_eq(bits[1], 1ull << (70 - 64));
	cr_expect_eq(bits[2], 1ull << (130 - 128));
	/* Bits already set stay set. */
	lw_litscan_find(ls, "nothing", 7, bits);
	cr_expect_eq(bits[2], 1ull << 2);
	lw_litscan_free(ls);
}

Test(litscan, short_literals_and_late_adds_are_refused)
{
	struct lw_litscan *ls = lw_litscan_new();

	cr_expect_eq(lw_litscan_add(ls, "abcde", LW_LITSCAN_MIN - 1, 0), LW_EINVAL);
	cr_assert_eq(lw_litscan_add(ls, "abcdef", LW_LITSCAN_MIN, 0), LW_OK);
	cr_assert_eq(lw_litscan_build(ls), LW_OK);
	cr_expect_eq(lw_litscan_add(ls, "efghij", LW_LITSCAN_MIN, 1), LW_EINVAL);
	cr_expect_eq(lw_litscan_count(ls), 1);
	lw_litscan_free(ls);
	lw_litscan_free(NULL);
}

Test(litscan, many_literals_one_head_and_a_text_of_heads)
{
	struct lw_litscan *ls = lw_litscan_new();
	char lit[32], *text;
	uint64_t bits[2] = {0, 0};
	size_t n = 100000;

	/* 100 literals "aaaa<i>." share one head; the text repeats it. */
	for (uint32_t i = 0; i < 100; i++) {
		snprintf(lit, sizeof(lit), "aaaa%u.", i);
		cr_assert_eq(lw_litscan_add(ls, lit, strlen(lit), i), LW_OK);
	}
	cr_assert_eq(lw_litscan_build(ls), LW_OK);
	text = malloc(n + 8);
	cr_assert_not_null(text);
	memset(text, 'a', n);
	memcpy(text + n, "aaaa42.", 7);
	lw_litscan_find(ls, text, n + 7, bits);
	cr_expect_eq(bits[0], 1ull << 42);
	cr_expect_eq(bits[1], 0);
	free(text);
	lw_litscan_free(ls);
}
