/* lw_sigma_cond: condition text -> jump program, exact programs and
 * truth tables, errors with their column. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "correlator/sigma_cond.h"

static const char *const names[] = {"sel", "sel_a", "sel_b", "filter",
				    "filter_main_x", "_hidden", "keywords"};
#define NNAMES 7

static struct lw_sigma_cond *compile_ok(const char *text)
{
	struct lw_sigma_cond *c = NULL;
	struct lw_diag d;

	memset(&d, 0, sizeof(d));
	cr_assert_eq(lw_sigma_cond_compile(text, strlen(text), names, NNAMES, &c, &d),
		     LW_OK, "%s: %s", text, d.detail);
	return c;
}

static void expect_program(const char *text, const char *prog)
{
	struct lw_sigma_cond *c = compile_ok(text);
	struct lw_buf b;

	lw_buf_init(&b);
	lw_sigma_cond_dump(c, &b);
	lw_buf_putc(&b, '\0');
	cr_expect_str_eq(b.data, prog, "%s", text);
	lw_buf_release(&b);
	lw_sigma_cond_free(c);
}

static void expect_error(const char *text, int col, const char *why)
{
	struct lw_sigma_cond *c = NULL;
	struct lw_diag d;

	memset(&d, 0, sizeof(d));
	cr_assert_eq(lw_sigma_cond_compile(text, strlen(text), names, NNAMES, &c, &d),
		     LW_EPARSE, "%s", text);
	cr_expect_null(c);
	cr_expect_eq(d.col, col, "%s: col %d, %s", text, d.col, d.detail);
	cr_expect(strstr(d.detail, why) != NULL, "%s: %s", text, d.detail);
}

static int truth(const char *text, uint64_t mask)
{
	struct lw_sigma_cond *c = compile_ok(text);
	int r = lw_sigma_cond_eval_mask(c, mask);

	lw_sigma_cond_free(c);
	return r;
}

#define B(i) (1ull << (i))

Test(sigma_cond, single_selection)
{
	expect_program("sel", "0 SEL 0\n1 END\n");
}

Test(sigma_cond, and_not_short_circuits)
{
	expect_program("sel and not filter", "0 SEL 0\n1 JF 4\n2 SEL 3\n3 NOT\n4 END\n");
	cr_expect_eq(truth("sel and not filter", B(0)), 1);
	cr_expect_eq(truth("sel and not filter", B(0) | B(3)), 0);
	cr_expect_eq(truth("sel and not filter", 0), 0);
}

Test(sigma_cond, or_chain_is_flat)
{
	expect_program("sel or sel_a or sel_b",
		       "0 SEL 0\n1 JT 5\n2 SEL 1\n3 JT 5\n4 SEL 2\n5 END\n");
}

Test(sigma_cond, precedence_and_over_or)
{
	/* sel or (sel_a and sel_b) */
	cr_expect_eq(truth("sel or sel_a and sel_b", B(1)), 0);
	cr_expect_eq(truth("sel or sel_a and sel_b", B(1) | B(2)), 1);
	cr_expect_eq(truth("sel or sel_a and sel_b", B(0)), 1);
	/* parentheses override */
	cr_expect_eq(truth("(sel or sel_a) and sel_b", B(0)), 0);
	cr_expect_eq(truth("(sel or sel_a) and sel_b", B(0) | B(2)), 1);
}

Test(sigma_cond, not_binds_tighter_than_and)
{
	cr_expect_eq(truth("not sel and sel_a", B(1)), 1);
	cr_expect_eq(truth("not sel and sel_a", B(0) | B(1)), 0);
	cr_expect_eq(truth("not (sel and sel_a)", B(0) | B(1)), 0);
	cr_expect_eq(truth("not (sel and sel_a)", B(0)), 1);
	cr_expect_eq(truth("not not sel", B(0)), 1);
}

Test(sigma_cond, one_of_and_all_of_patterns)
{
	expect_program("1 of sel_*", "0 SEL 1\n1 JT 3\n2 SEL 2\n3 END\n");
	expect_program("all of sel_*", "0 SEL 1\n1 JF 3\n2 SEL 2\n3 END\n");
	cr_expect_eq(truth("1 of sel*", B(2)), 1);
	cr_expect_eq(truth("all of sel*", B(0) | B(1)), 0);
	cr_expect_eq(truth("all of sel*", B(0) | B(1) | B(2)), 1);
	cr_expect_eq(truth("sel and not 1 of filter*", B(0) | B(4)), 0);
	cr_expect_eq(truth("sel and not 1 of filter*", B(0)), 1);
	/* a pattern matching one selection is that selection */
	expect_program("1 of filter_main_*", "0 SEL 4\n1 END\n");
	expect_program("any of keywords", "0 SEL 6\n1 END\n");
}

Test(sigma_cond, them_skips_underscore_names)
{
	cr_expect_eq(truth("all of them", B(0) | B(1) | B(2) | B(3) | B(4) | B(6)), 1);
	cr_expect_eq(truth("1 of them", B(5)), 0, "_hidden is not part of them");
	cr_expect_eq(truth("1 of them", B(6)), 1);
}

Test(sigma_cond, keywords_are_case_insensitive)
{
	cr_expect_eq(truth("sel AND NOT filter", B(0)), 1);
	cr_expect_eq(truth("ALL OF sel_*", B(1) | B(2)), 1);
}

Test(sigma_cond, errors_have_columns)
{
	expect_error("sel and nope", 9, "unknown selection 'nope'");
	expect_error("sel and", 8, "unexpected end");
	expect_error("(sel or sel_a", 14, "expected ')'");
	expect_error("sel)", 4, "unexpected ')'");
	expect_error("1 of zz*", 6, "no selection matches 'zz*'");
	expect_error("2 of sel*", 1, "only '1 of' and 'all of'");
	expect_error("sel | count() > 5", 5, "aggregation");
	expect_error("sel near sel_a", 5, "'near' is not supported");
	expect_error("", 1, "empty");
	expect_error("sel or or sel_a", 8, "unexpected keyword 'or'");
}

Test(sigma_cond, nesting_is_bounded)
{
	char text[512];
	struct lw_sigma_cond *c = NULL;
	struct lw_diag d;
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		text[n++] = '(';
	memcpy(text + n, "sel", 3);
	n += 3;
	for (int i = 0; i < 100; i++)
		text[n++] = ')';
	memset(&d, 0, sizeof(d));
	cr_expect_eq(lw_sigma_cond_compile(text, n, names, NNAMES, &c, &d), LW_EPARSE);
	cr_expect(strstr(d.detail, "nested too deeply") != NULL, "%s", d.detail);
}

static int calls;

static int count_test(uint32_t sel, void *arg)
{
	(void)arg;
	calls++;
	return sel == 0;
}

Test(sigma_cond, short_circuit_skips_selections)
{
	struct lw_sigma_cond *c = compile_ok("sel or sel_a or sel_b");

	calls = 0;
	cr_expect_eq(lw_sigma_cond_eval(c, count_test, NULL), 1);
	cr_expect_eq(calls, 1, "sel matched: the rest is not evaluated");
	lw_sigma_cond_free(c);
}
