/* lw_response: the emergency response plan. Oracle: the plan text given
 * here, the exact JSON each category must render to, and the file:line
 * of each load error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "correlator/response.h"

static const char *const cats[] = {
	"unauthorized-access", "dos", "anomalous-outbound", "malware",
	"data-exfiltration", "unauthorized-software", "log-tampering",
	"system-failure"};

/* A complete plan, with one category's text given by `first`. */
static char *plan(const char *first)
{
	static char buf[8192];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "categories:\n%s", first);

	for (size_t i = 1; i < 8; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "  %s:\n    level: medium\n    steps: [\"look\"]\n"
				      "    notify: [soc]\n", cats[i]);
	return buf;
}

static int load(struct lw_response *r, const char *text, struct lw_diags *d)
{
	int rc = lw_response_load_string(r, "response.yml", text, strlen(text), d);

	if (rc == LW_ENOMEM)
		return rc;
	return lw_response_finish(r, 1, d) != LW_OK ? LW_EPARSE : rc;
}

Test(response, renders_steps_and_targets_as_json)
{
	struct lw_response *r = lw_response_new();
	struct lw_diags d;
	uint32_t n;

	lw_diags_init(&d);
	cr_assert_eq(load(r, plan("  unauthorized-access:\n    level: high\n"
				  "    steps:\n      - 'Block the \"source\" at the firewall'\n"
				  "      - Tell the CISO\n    notify: [soc-oncall, ciso]\n"), &d), LW_OK);
	cr_expect_eq(d.count, 0);
	cr_expect_str_eq(lw_response_json(r, LW_CAT_UNAUTHORIZED_ACCESS),
			 "{\"steps\":[\"Block the \\\"source\\\" at the firewall\","
			 "\"Tell the CISO\"],\"notify\":[\"soc-oncall\",\"ciso\"]}");
	cr_expect_str_eq(lw_response_json(r, LW_CAT_DOS),
			 "{\"steps\":[\"look\"],\"notify\":[\"soc\"]}");
	cr_expect_eq(lw_response_level(r, LW_CAT_UNAUTHORIZED_ACCESS), LW_LEVEL_HIGH);
	cr_expect_str_eq(lw_response_steps(r, LW_CAT_UNAUTHORIZED_ACCESS, &n)[1], "Tell the CISO");
	cr_expect_eq(n, 2);
	lw_response_free(r);
	lw_diags_release(&d);
}

Test(response, missing_category_is_an_error_naming_file_and_line)
{
	struct lw_response *r = lw_response_new();
	struct lw_diags d;

	lw_diags_init(&d);
	/* plan("") leaves unauthorized-access out. */
	cr_expect_eq(load(r, plan(""), &d), LW_EPARSE);
	cr_assert_eq(d.nerrors, 1);
	cr_expect_str_eq(d.items[0].diag.file, "response.yml");
	cr_expect_eq(d.items[0].diag.line, 1, "the line of 'categories:'");
	cr_expect_neq(strstr(d.items[0].diag.detail, "unauthorized-access"), NULL);
	lw_response_free(r);
	lw_diags_release(&d);
}

Test(response, bad_entries_are_reported_each)
{
	struct lw_response *r = lw_response_new();
	struct lw_diags d;

	lw_diags_init(&d);
	cr_expect_eq(load(r, plan("  unauthorized-access:\n    level: urgent\n"
				  "    steps: []\n    notify: [soc]\n    owner: x\n"
				  "  intrusion:\n    level: high\n"), &d), LW_EPARSE);
	cr_expect_geq(d.nerrors, 4, "level, empty steps, unknown key, unknown category");
	for (size_t i = 0; i < d.count; i++)
		cr_expect_gt(d.items[i].diag.line, 0);
	lw_response_free(r);
	lw_diags_release(&d);
}

Test(response, not_required_without_a_plan)
{
	struct lw_response *r = lw_response_new();
	struct lw_diags d;

	lw_diags_init(&d);
	cr_expect_eq(lw_response_finish(r, 0, &d), LW_OK);
	cr_expect_str_eq(lw_response_json(r, LW_CAT_MALWARE), "{\"steps\":[],\"notify\":[]}");
	lw_response_free(r);
	r = lw_response_new();
	cr_expect_eq(lw_response_finish(r, 1, &d), LW_EPARSE, "a rule directory needs one");
	lw_response_free(r);
	lw_diags_release(&d);
}

Test(response, default_pack_plan_loads)
{
	char path[4096];
	const char *src = getenv("LW_SOURCE_DIR");
	struct lw_response *r = lw_response_new();
	struct lw_diags d;
	uint32_t n;

	lw_diags_init(&d);
	snprintf(path, sizeof(path), "%s/rules/response.yml", src ? src : ".");
	cr_assert_eq(lw_response_load_file(r, path, &d), LW_OK);
	cr_assert_eq(lw_response_finish(r, 1, &d), LW_OK);
	cr_expect_eq(d.count, 0);
	for (int c = 0; c < LW_CAT_COUNT; c++) {
		cr_expect_not_null(lw_response_steps(r, (enum lw_category)c, &n));
		cr_expect_geq(n, 3, "%s", cats[c]);
		cr_expect_not_null(lw_response_notify(r, (enum lw_category)c, &n));
	}
	lw_response_free(r);
	lw_diags_release(&d);
}
