/* lw_patlit: the literals a decoder pattern's matches must contain, never
 * one a match could lack. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "correlator/patlit.h"

static const char *prefix(const char *pat)
{
	static char out[512];
	size_t n = lw_patlit_prefix(pat, strlen(pat), out);

	out[n] = '\0';
	return out;
}

static const char *required(const char *pat)
{
	static char out[512];
	size_t n = lw_patlit_required(pat, strlen(pat), out, sizeof(out) - 1);

	out[n] = '\0';
	return out;
}

Test(patlit, prefix_of_anchored_patterns)
{
	cr_expect_str_eq(prefix("^Failed (?<m>\\S+) for"), "Failed ");
	cr_expect_str_eq(prefix("^Connection closed by (?:a|b) user"), "Connection closed by ");
	cr_expect_str_eq(prefix("^\\[client (?<ip>x)"), "[client ");
	cr_expect_str_eq(prefix("^ab?c"), "a", "an optional character ends it");
	cr_expect_str_eq(prefix("^ab*c"), "a");
	cr_expect_str_eq(prefix("^ab+c"), "ab", "one b stays required");
	cr_expect_str_eq(prefix("^ab{2}c"), "a");
	/* A leading required group without alternation is entered. */
	cr_expect_str_eq(prefix("^(?<reason>beginning MaxStartups throttling)"),
			 "beginning MaxStartups throttling");
	cr_expect_str_eq(prefix("^(?:error: )x"), "error: ");
	cr_expect_str_eq(prefix("^(?:error: )?x"), "", "an optional group gives none");
	cr_expect_str_eq(prefix("^(?:a|b)x"), "");
	cr_expect_str_eq(prefix("^(?<=a)b"), "", "a lookbehind is not a group to enter");
	cr_expect_str_eq(prefix("^(?!x)abc"), "");
	cr_expect_str_eq(prefix("^a|b"), "", "'^' binds only the first branch");
	cr_expect_str_eq(prefix("Failed"), "", "unanchored");
	cr_expect_str_eq(prefix("^\\d+ x"), "");
}

Test(patlit, required_literal_anywhere_outside_groups)
{
	cr_expect_str_eq(required("^[^\\[]{0,60}?\\[(?:Warning|Note)\\] Access denied for user '(?<u>.*)'@'"),
			 "] Access denied for user '");
	cr_expect_str_eq(required("conn=(?<c>\\d++) op=\\d++ RESULT tag=97 err=49 "),
			 " RESULT tag=97 err=49 ");
	cr_expect_str_eq(required("Authentication attempt from (?|\\[(?<a>x)\\]|(?<a>y)) for user"),
			 "Authentication attempt from ");
	/* Multibyte characters are literal; one under '?' is dropped whole. */
	cr_expect_str_eq(required("コネクション \"(?<c>[^\"]+)\": ユーザー認証に失敗しました。"),
			 "\": ユーザー認証に失敗しました。");
	cr_expect_str_eq(required("abcdef ー?x"), "abcdef ", "the optional ー goes whole");
	cr_expect_str_eq(required("a|bcdef"), "", "a top-level alternation gives none");
	cr_expect_str_eq(required("(?i)Failed password"), "", "caseless");
	cr_expect_str_eq(required("\\QFailed\\E"), "");
	cr_expect_str_eq(required("x\\x{41}bcd"), "bcd");
	cr_expect_str_eq(required("[abc]+ literal text"), " literal text");
	/* Groups every match goes through once are entered ... */
	cr_expect_str_eq(required("x(?<u>\\S+)\\): (?<reason>unknown user)$"),
			 "): unknown user");
	cr_expect_str_eq(required("(?:Login: )(?<u>abcdefgh)"), "Login: abcdefgh");
	/* ... optional, repeated or alternative ones are not. */
	cr_expect_str_eq(required("ab(?:cdefgh)?ij"), "ab");
	cr_expect_str_eq(required("ab(?:cdefgh)+ij"), "ab");
	cr_expect_str_eq(required("ab(?:cdefgh|x)ij"), "ab");
	cr_expect_str_eq(required("(?!cdefgh)ab"), "ab");
}
