/* Unit tests for web/params: query strings decode strictly (no NUL, no
 * broken escapes, UTF-8 only) and cookies are found by exact name. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "web/params.h"

static int parse(const char *s, struct lw_params *p)
{
	return lw_params_parse(s, strlen(s), p, NULL);
}

Test(params, query)
{
	struct lw_params p;

	cr_assert_eq(parse("q=source.ip%3A%2210.0.0.1%22+AND+failed&since=1h&empty=&flag&&q=2", &p), LW_OK);
	cr_assert_str_eq(lw_params_get(&p, "q"), "source.ip:\"10.0.0.1\" AND failed");
	cr_assert_str_eq(lw_params_get(&p, "since"), "1h");
	cr_assert_str_eq(lw_params_get(&p, "empty"), "");
	cr_assert_str_eq(lw_params_get(&p, "flag"), "");
	cr_assert_null(lw_params_get(&p, "nope"));
	cr_assert_eq(p.n, 5);
	lw_params_release(&p);
	cr_assert_eq(parse("q=%E5%B1%B1%E7%94%B0", &p), LW_OK);
	cr_assert_str_eq(lw_params_get(&p, "q"), "山田");
	lw_params_release(&p);
	cr_assert_eq(lw_params_parse(NULL, 0, &p, NULL), LW_OK);
	cr_assert_eq(p.n, 0);
}

Test(params, refuses)
{
	static const char *const bad[] = {"q=%00", "q=%", "q=%4", "q=%zz", "q=%C3", "q=%ED%A0%80", "=x"};
	struct lw_params p;
	char many[1024];
	size_t n = 0;

	struct lw_diag d = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], &p), LW_EPARSE, "accepted %s", bad[i]);
	cr_assert_eq(lw_params_parse("a=1&since=%zz", 13, &p, &d), LW_EPARSE);
	cr_assert_str_eq(d.detail, "bad value of query parameter 'since'");
	cr_assert_eq(d.col, 5);
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "k%d=1&", i);
	cr_assert_eq(lw_params_parse(many, n, &p, NULL), LW_ETOOBIG);
}

Test(params, cookie)
{
	char v[64];

	cr_assert_eq(lw_params_cookie("a=1; lw_session=abc_DEF-9; b=2", "lw_session", v, sizeof(v)), LW_OK);
	cr_assert_str_eq(v, "abc_DEF-9");
	cr_assert_eq(lw_params_cookie("lw_session=\"quoted\"", "lw_session", v, sizeof(v)), LW_OK);
	cr_assert_str_eq(v, "quoted");
	cr_assert_eq(lw_params_cookie("x_lw_session=1; lw_sessionx=2", "lw_session", v, sizeof(v)), LW_ENOTFOUND);
	cr_assert_eq(lw_params_cookie("lw_session=a b", "lw_session", v, sizeof(v)), LW_ENOTFOUND);
	cr_assert_eq(lw_params_cookie("lw_session=0123456789", "lw_session", v, 5), LW_ETOOBIG);
	cr_assert_eq(lw_params_cookie("", "lw_session", v, sizeof(v)), LW_ENOTFOUND);
}
