/* Unit tests for web/jsonin: the reader of request bodies keeps strings,
 * numbers, booleans and flat arrays, decodes escapes into UTF-8, and
 * refuses anything a handler could misread. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "web/jsonin.h"

static int parse(const char *s, struct lw_jsonin *j)
{
	return lw_jsonin_parse(s, strlen(s), j, NULL);
}

Test(jsonin, members)
{
	struct lw_jsonin j;
	const struct lw_jsonin_member *m;
	uint64_t n;
	int b;

	cr_assert_eq(parse(" { \"user\" : \"alice\", \"n\": 42, \"ok\": true, \"no\": false, "
			   "\"nul\": null, \"ids\": [\"1\", 2, \"3\"], \"obj\": {\"a\": [1, {\"b\": 2}]}, "
			   "\"neg\": -1.5e3 } ", &j), LW_OK);
	cr_assert_str_eq(lw_jsonin_str(&j, "user"), "alice");
	cr_assert_eq(lw_jsonin_u64(&j, "n", &n), LW_OK);
	cr_assert_eq(n, 42);
	cr_assert_eq(lw_jsonin_bool(&j, "ok", &b), LW_OK);
	cr_assert_eq(b, 1);
	cr_assert_eq(lw_jsonin_bool(&j, "no", &b), LW_OK);
	cr_assert_eq(b, 0);
	cr_assert_eq(lw_jsonin_get(&j, "nul")->type, LW_JSONIN_NULL);
	m = lw_jsonin_get(&j, "ids");
	cr_assert_eq(m->type, LW_JSONIN_ARRAY);
	cr_assert_eq(m->nitems, 3);
	cr_assert_str_eq(m->items[0], "1");
	cr_assert_str_eq(m->items[1], "2");
	cr_assert_eq(lw_jsonin_get(&j, "obj")->type, LW_JSONIN_OTHER);
	cr_assert_eq(lw_jsonin_u64(&j, "neg", &n), LW_EINVAL);
	cr_assert_eq(lw_jsonin_u64(&j, "user", &n), LW_EINVAL);
	cr_assert_eq(lw_jsonin_u64(&j, "absent", &n), LW_ENOTFOUND);
	cr_assert_null(lw_jsonin_str(&j, "n"));
	lw_jsonin_release(&j);
	cr_assert_eq(parse("{}", &j), LW_OK);
	cr_assert_eq(j.n, 0);
	lw_jsonin_release(&j);
}

Test(jsonin, escapes_to_utf8)
{
	struct lw_jsonin j;

	cr_assert_eq(parse("{\"t\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u65e5\\ud83d\\ude00<script>\"}", &j), LW_OK);
	cr_assert_str_eq(lw_jsonin_str(&j, "t"), "a\"b\\c/d\n\té日😀<script>");
	lw_jsonin_release(&j);
	cr_assert_eq(parse("{\"t\":\"山田\"}", &j), LW_OK);
	cr_assert_str_eq(lw_jsonin_str(&j, "t"), "山田");
	lw_jsonin_release(&j);
}

Test(jsonin, refuses)
{
	static const char *const bad[] = {
		"", "[]", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x",
		"{\"a\":\"\\u0000\"}",          /* NUL would cut the C string */
		"{\"a\":\"\\ud800\"}",          /* unpaired surrogate */
		"{\"a\":\"\\udc00x\"}",
		"{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}",
		"{\"a\":\"\xc3\"}",             /* not UTF-8 */
		"{\"a\":\"\xed\xa0\x80\"}",     /* an encoded surrogate */
		"{\"a\":1,\"a\":2}",            /* repeated key */
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":[1,]}",
		"{a:1}",
	};
	struct lw_jsonin j;
	struct lw_diag d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		cr_assert_eq(lw_jsonin_parse(bad[i], strlen(bad[i]), &j, &d), LW_EPARSE, "accepted %s", bad[i]);
		cr_assert_neq(d.detail[0], '\0');
	}
}

Test(jsonin, bounds)
{
	char deep[200], big[4096];
	struct lw_jsonin j;
	size_t n = 0;

	n += (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
	for (int i = 0; i < 20; i++)
		deep[n++] = '[';
	for (int i = 0; i < 20; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	cr_assert_eq(lw_jsonin_parse(deep, n, &j, NULL), LW_EPARSE);
	n = (size_t)snprintf(big, sizeof(big), "{");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":1", i ? "," : "", i);
	big[n++] = '}';
	cr_assert_eq(lw_jsonin_parse(big, n, &j, NULL), LW_EPARSE, "65 members");
}

Test(jsonin, parse_u64)
{
	uint64_t v;

	cr_assert_eq(lw_jsonin_parse_u64("0", &v), LW_OK);
	cr_assert_eq(lw_jsonin_parse_u64("123456789012345678", &v), LW_OK);
	cr_assert_eq(v, 123456789012345678ull);
	cr_assert_eq(lw_jsonin_parse_u64("1234567890123456789", &v), LW_EINVAL);
	cr_assert_eq(lw_jsonin_parse_u64("", &v), LW_EINVAL);
	cr_assert_eq(lw_jsonin_parse_u64("-1", &v), LW_EINVAL);
	cr_assert_eq(lw_jsonin_parse_u64("1x", &v), LW_EINVAL);
	cr_assert_eq(lw_jsonin_parse_u64(" 1", &v), LW_EINVAL);
}
