/* core/recost and lw_regex_cost: the cost measure is deterministic and
 * linear for a single-pass pattern; patterns that backtrack (nested
 * repeats, a lazy scan retried after a run it cannot leave) are found
 * with inputs made of their own pieces. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/recost.h"
#include "core/regex.h"

static struct lw_recost_report probe(const char *pattern)
{
	struct lw_recost_report r;

	cr_assert_eq(lw_recost_probe(pattern, strlen(pattern), 0, 1024, &r), LW_OK, "%s", pattern);
	return r;
}

/* "Failed " + n x's + " for a from " + n x's. */
static size_t failed_line(char *s, size_t n)
{
	memcpy(s, "Failed ", 7);
	memset(s + 7, 'x', n);
	memcpy(s + 7 + n, " for a from ", 12);
	memset(s + 19 + n, 'x', n);
	return 19 + 2 * n;
}

Test(recost, cost_is_deterministic_and_grows_with_a_single_pass)
{
	const char *pat = "^Failed (\\S+) for (\\S+) from (\\S+)";
	struct lw_regex *re;
	static char s[8192];
	uint64_t a, b, c;
	size_t len;

	cr_assert_eq(lw_regex_compile(pat, strlen(pat), LW_REGEX_COSTED, &re, NULL), LW_OK);
	len = failed_line(s, 1000);
	cr_assert_eq(lw_regex_cost(re, s, len, 1000000, &a), LW_OK);
	cr_assert_eq(lw_regex_cost(re, s, len, 1000000, &b), LW_OK);
	len = failed_line(s, 2000);
	cr_assert_eq(lw_regex_cost(re, s, len, 1000000, &c), LW_OK);
	cr_expect_eq(a, b, "the same input, the same cost");
	cr_expect(a >= 2000 && c > a && c <= 2 * a + 16, "%llu for 2 KB, %llu for 4 KB",
		  (unsigned long long)a, (unsigned long long)c);
	cr_expect_eq(lw_regex_cost(re, s, len, 100, &c), LW_EFULL);
	cr_expect_eq(c, 100);
	lw_regex_free(re);
	/* Only a regex compiled for it is measured. */
	cr_assert_eq(lw_regex_compile("x", 1, 0, &re, NULL), LW_OK);
	cr_expect_eq(lw_regex_cost(re, "x", 1, 10, &c), LW_EINVAL);
	lw_regex_free(re);
}

Test(recost, nested_repeats_are_catastrophic)
{
	struct lw_recost_report r = probe("(a+)+$|x");

	cr_expect(r.superlinear);
	cr_expect_gt(r.growth, 1e8, "the limit was hit: %s", r.family);
	r = probe("^(\\w+\\s?)+$");
	cr_expect(r.superlinear, "%s", r.family);
}

/* The kernel firewall decoder before issue 12, and after. */
Test(recost, the_old_firewall_pattern_is_quadratic_the_new_one_linear)
{
	struct lw_recost_report r = probe(
		"^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?(?:(?<rule__name>.*?)\\s*)?IN=(?<in_if>\\S*) "
		"OUT=(?<out_if>\\S*) .*?SRC=(?<source__ip>\\S+) DST=(?<destination__ip>\\S+) "
		".*?PROTO=(?<network__transport>\\S+)");

	cr_expect(r.superlinear);
	cr_expect(r.growth > 3.5 && r.growth < 4.5, "%.2f: %s", r.growth, r.family);
	r = probe("^(?:\\[\\s*+\\d++\\.\\d++\\]\\s*+)?(?:(?<rule__name>(?:[^=\\sI]++|I(?!N=)|"
		  "\\s++(?!IN=))++)\\s*+)?IN=(?<in_if>\\S*+) OUT=(?<out_if>\\S*+) (?>.*?SRC=)"
		  "(?<source__ip>\\S++) DST=(?<destination__ip>\\S++) (?>.*?PROTO=)"
		  "(?<network__transport>\\S++)");
	cr_expect(!r.superlinear, "%.2f: %s", r.growth, r.family);
	cr_expect_gt(r.inputs, 100);
}

Test(recost, single_pass_patterns_are_not_reported)
{
	static const char *const ok[] = {
		"^Failed (?<m>\\S+) for (?:invalid user )?(?<u>.*?) ?from (?<ip>\\S+) port (?<p>\\d+)",
		"UPS (?<n>\\S+) on battery",
		"(?<![A-Za-z0-9_.-])(?<i>[A-Za-z0-9_.-]++): (?:Lost carrier|link disconnected)",
		"^(?:\\S*/)?(?:rm|shred|truncate|unlink)\\s.*/var/log/",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct lw_recost_report r = probe(ok[i]);

		cr_expect(!r.superlinear, "%s: %.2f on %s", ok[i], r.growth, r.family);
	}
	cr_expect(probe("(?<i>[A-Za-z0-9_.-]+): (?:Lost carrier|link disconnected)").superlinear,
		  "unanchored, a start inside every run: quadratic");
}

Test(recost, a_pattern_that_does_not_compile_is_an_error)
{
	struct lw_recost_report r;

	cr_expect_eq(lw_recost_probe("(", 1, 0, 1024, &r), LW_EPARSE);
}
