/* Unit tests for core/regex (lw_regex). */
#include <criterion/criterion.h>
#include <string.h>

#include "core/err.h"
#include "core/regex.h"

static struct lw_regex *compile(const char *p, unsigned flags)
{
	struct lw_regex *re = NULL;
	struct lw_diag d = {0};

	cr_assert_eq(lw_regex_compile(p, strlen(p), flags, &re, &d), LW_OK, "%s", d.detail);
	return re;
}

Test(regex, matches_and_misses)
{
	struct lw_regex *re = compile("Failed password for (invalid user )?\\S+", 0);
	const char *a = "Failed password for invalid user admin from 1.2.3.4";

	cr_expect_eq(lw_regex_match(re, a, strlen(a)), 1);
	cr_expect_eq(lw_regex_match(re, "Accepted password", 17), 0);
	cr_expect_eq(lw_regex_match(re, NULL, 0), 0);
	lw_regex_free(re);
}

Test(regex, subject_length_is_respected_not_nul)
{
	struct lw_regex *re = compile("b$", 0);

	cr_expect_eq(lw_regex_match(re, "abc", 2), 1);
	cr_expect_eq(lw_regex_match(re, "abc", 3), 0);
	lw_regex_free(re);
}

Test(regex, named_groups_give_offsets)
{
	struct lw_regex *re = compile("user (?<user_name>\\w+) from (?<source_ip>[\\d.]+)", 0);
	const char *s = "Invalid user bob from 10.1.2.3 port 22";
	size_t start, len;
	uint32_t group;

	cr_assert_eq(lw_regex_match(re, s, strlen(s)), 1);
	cr_expect_eq(lw_regex_group_count(re), 2);
	cr_assert_eq(lw_regex_name_count(re), 2);
	/* pcre2 sorts the name table alphabetically */
	cr_expect_str_eq(lw_regex_name(re, 0, &group), "source_ip");
	cr_expect_eq(group, 2);
	cr_expect_str_eq(lw_regex_name(re, 1, &group), "user_name");
	cr_expect_eq(group, 1);
	cr_expect_null(lw_regex_name(re, 2, &group));
	cr_assert_eq(lw_regex_group(re, 1, &start, &len), LW_OK);
	cr_expect_eq(start, 13);
	cr_expect_eq(len, 3);
	cr_assert_eq(lw_regex_group(re, 2, &start, &len), LW_OK);
	cr_expect(memcmp(s + start, "10.1.2.3", len) == 0 && len == 8);
	cr_expect_eq(lw_regex_group(re, 3, &start, &len), LW_ENOTFOUND);
	lw_regex_free(re);
}

Test(regex, unset_group_is_not_found)
{
	struct lw_regex *re = compile("a(x)?b", 0);
	size_t start, len;

	cr_assert_eq(lw_regex_match(re, "ab", 2), 1);
	cr_expect_eq(lw_regex_group(re, 1, &start, &len), LW_ENOTFOUND);
	cr_assert_eq(lw_regex_group(re, 0, &start, &len), LW_OK);
	cr_expect_eq(len, 2);
	lw_regex_free(re);
}

Test(regex, syntax_error_reports_offset)
{
	struct lw_regex *re = NULL;
	struct lw_diag d = {0};

	cr_expect_eq(lw_regex_compile("ab[c", 4, 0, &re, &d), LW_EPARSE);
	cr_expect_null(re);
	cr_expect_eq(d.col, 5);
	cr_expect(strstr(d.detail, "at offset 4") != NULL, "%s", d.detail);
}

Test(regex, caseless_and_literal_flags)
{
	struct lw_regex *re = compile("failed", LW_REGEX_CASELESS);

	cr_expect_eq(lw_regex_match(re, "FAILED", 6), 1);
	lw_regex_free(re);
	re = compile("a.b(", LW_REGEX_LITERAL);
	cr_expect_eq(lw_regex_match(re, "xa.b(y", 6), 1);
	cr_expect_eq(lw_regex_match(re, "axb(", 4), 0);
	lw_regex_free(re);
}

Test(regex, invalid_utf8_subjects_and_japanese_text)
{
	struct lw_regex *re = compile("ログイン.失敗", 0);
	const char *ja = "ユーザーのログインに失敗しました";
	const char bad[] = "\xff\xfe ログイン\x80失敗";

	cr_expect_eq(lw_regex_match(re, ja, strlen(ja)), 1, "'.' matches one character");
	cr_expect_eq(lw_regex_match(re, bad, sizeof(bad) - 1), 0);
	lw_regex_free(re);
	re = compile("pass", 0);
	cr_expect_eq(lw_regex_match(re, bad, sizeof(bad) - 1), 0);
	cr_expect_eq(lw_regex_match(re, "\xc3(pass", 7), 1);
	lw_regex_free(re);
}
