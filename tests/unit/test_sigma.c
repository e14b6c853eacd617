/* lw_sigma: every modifier and condition form with a matching and a
 * non-matching event, logsource filing, field aliases, load errors with
 * file:line, and SigmaHQ's Linux rules loading unchanged. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/event.h"
#include "correlator/sigma.h"

static struct lw_sigma_set *set;
static struct lw_sigma_scratch *scr;
static struct lw_diags diags;

static void init(void)
{
	lw_diags_init(&diags);
	set = NULL;
	scr = NULL;
}

static void fini(void)
{
	lw_sigma_scratch_free(scr);
	lw_sigma_set_free(set);
	lw_diags_release(&diags);
}

TestSuite(sigma, .init = init, .fini = fini);

/* A rule with the given logsource lines and detection lines. */
static void rule(const char *logsource, const char *detection)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "title: t\nid: 00000000-0000-4000-8000-000000000001\n"
		 "level: high\ntags: [logward.dos]\nlogsource:\n%s\ndetection:\n%s\n",
		 logsource, detection);
	set = lw_sigma_set_new();
	cr_assert_not_null(set);
	cr_assert_eq(lw_sigma_set_load_string(set, "rule.yml", text, strlen(text), &diags),
		     LW_OK, "%s", diags.count ? diags.items[0].diag.detail : "");
	cr_assert_eq(lw_sigma_set_build(set, NULL, NULL, &diags), LW_OK);
	scr = lw_sigma_scratch_new(set);
	cr_assert_not_null(scr);
}

/* Evaluates the one rule on an event: app, message, then "key=value"
 * extra fields, NULL-terminated. */
static int match(const char *app, const char *msg, ...)
{
	struct lw_field fields[16];
	struct lw_event ev;
	uint32_t out[4], n = 0;
	const char *kv;
	va_list ap;

	memset(&ev, 0, sizeof(ev));
	ev.facility = LW_SYSLOG_NONE;
	ev.severity = LW_SYSLOG_NONE;
	ev.app = (struct lw_str){app, (uint32_t)strlen(app)};
	ev.message = (struct lw_str){msg, (uint32_t)strlen(msg)};
	va_start(ap, msg);
	while ((kv = va_arg(ap, const char *)) != NULL) {
		const char *eq = strchr(kv, '=');
		fields[ev.nfields].key = (struct lw_str){kv, (uint32_t)(eq - kv)};
		fields[ev.nfields].value = (struct lw_str){eq + 1, (uint32_t)strlen(eq + 1)};
		ev.nfields++;
	}
	va_end(ap);
	ev.fields = fields;
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 4, &n), LW_OK);
	return (int)n;
}

#define LINUX "  product: linux"

Test(sigma, plain_value_is_exact_and_case_insensitive)
{
	rule(LINUX, "  sel:\n    user.name: Root\n  condition: sel");
	cr_expect_eq(match("sshd", "", "user.name=root", NULL), 1);
	cr_expect_eq(match("sshd", "", "user.name=ROOT", NULL), 1);
	cr_expect_eq(match("sshd", "", "user.name=rooter", NULL), 0);
	cr_expect_eq(match("sshd", "", NULL), 0, "absent field");
}

Test(sigma, contains_startswith_endswith)
{
	rule(LINUX, "  a:\n    process.command_line|contains: '/var/LOG/'\n"
	     "  b:\n    process.command_line|startswith: 'rm '\n"
	     "  c:\n    process.command_line|endswith: '.log'\n"
	     "  condition: a and b and c");
	cr_expect_eq(match("sudo", "", "process.command_line=rm -f /var/log/auth.log", NULL), 1);
	cr_expect_eq(match("sudo", "", "process.command_line=rm -f /var/log/auth.log.1", NULL), 0);
	cr_expect_eq(match("sudo", "", "process.command_line=/bin/rm -f /var/log/x.log", NULL), 0);
	cr_expect_eq(match("sudo", "", "process.command_line=rm -f /tmp/x.log", NULL), 0);
}

Test(sigma, wildcards_and_escapes)
{
	rule(LINUX, "  sel:\n    file.path:\n      - '/home/*/.ssh/authorized_key?'\n"
	     "      - 'C:\\Temp\\\\\\*.txt'\n  condition: sel");
	cr_expect_eq(match("x", "", "file.path=/home/bob/.ssh/authorized_keys", NULL), 1);
	cr_expect_eq(match("x", "", "file.path=/home/bob/.ssh/authorized_key", NULL), 0);
	cr_expect_eq(match("x", "", "file.path=/root/.ssh/authorized_keys", NULL), 0);
	/* '\T' stays a backslash, '\\' is one backslash, '\*' a literal star */
	cr_expect_eq(match("x", "", "file.path=C:\\Temp\\*.txt", NULL), 1);
	cr_expect_eq(match("x", "", "file.path=C:\\Temp\\a.txt", NULL), 0);
}

Test(sigma, multi_star_segments)
{
	rule(LINUX, "  sel:\n    message: 'Trojan*FOUND'\n  condition: sel");
	cr_expect_eq(match("clamd", "trojan.x found", NULL), 1);
	cr_expect_eq(match("clamd", "/f: Trojan.X FOUND", NULL), 0, "anchored at start");
	cr_expect_eq(match("clamd", "TrojanFOUND", NULL), 1);
	cr_expect_eq(match("clamd", "FOUND Trojan", NULL), 0);
}

Test(sigma, keywords_match_the_message)
{
	rule("  product: linux\n  service: clamav",
	     "  keywords:\n    - 'Trojan*FOUND'\n    - 'Rootkit*FOUND'\n  condition: keywords");
	cr_expect_eq(match("clamd", "/tmp/x: Unix.Trojan.Mirai-7100807-0 FOUND", NULL), 1);
	cr_expect_eq(match("clamd", "/tmp/x: Eicar-Signature FOUND", NULL), 0);
	cr_expect_eq(match("sshd", "/tmp/x: Unix.Trojan.Mirai FOUND", NULL), 0,
		     "service clamav files the rule under clamd and friends");
}

Test(sigma, keyword_string_and_all)
{
	rule(LINUX, "  kw:\n    '|all':\n      - 'session'\n      - 'root'\n  condition: kw");
	cr_expect_eq(match("su", "session opened for user root", NULL), 1);
	cr_expect_eq(match("su", "session opened for user bob", NULL), 0);
}

Test(sigma, contains_all)
{
	rule(LINUX, "  sel:\n    process.command_line|contains|all:\n      - journalctl\n"
	     "      - '--vacuum'\n  condition: sel");
	cr_expect_eq(match("sudo", "", "process.command_line=journalctl --vacuum-time=1s", NULL), 1);
	cr_expect_eq(match("sudo", "", "process.command_line=journalctl -f", NULL), 0);
}

Test(sigma, re_is_case_sensitive_unless_i)
{
	rule(LINUX, "  a:\n    message|re: '^Failed \\w+ for'\n  condition: a");
	cr_expect_eq(match("sshd", "Failed password for root", NULL), 1);
	cr_expect_eq(match("sshd", "failed password for root", NULL), 0);
	lw_sigma_scratch_free(scr);
	lw_sigma_set_free(set);
	rule(LINUX, "  a:\n    message|re|i: '^failed \\w+ FOR'\n  condition: a");
	cr_expect_eq(match("sshd", "Failed password for root", NULL), 1);
	cr_expect_eq(match("sshd", "Accepted password for root", NULL), 0);
}

Test(sigma, cidr)
{
	rule(LINUX, "  sel:\n    source.ip|cidr:\n      - 10.10.0.0/16\n      - '2001:db8::/32'\n"
	     "  condition: sel");
	cr_expect_eq(match("k", "", "source.ip=10.10.200.3", NULL), 1);
	cr_expect_eq(match("k", "", "source.ip=2001:db8:1::5", NULL), 1);
	cr_expect_eq(match("k", "", "source.ip=10.11.0.1", NULL), 0);
	cr_expect_eq(match("k", "", "source.ip=not-an-ip", NULL), 0);
}

Test(sigma, exists)
{
	rule(LINUX, "  has:\n    user.name|exists: true\n  lacks:\n    source.ip|exists: false\n"
	     "  condition: has and lacks");
	cr_expect_eq(match("x", "", "user.name=a", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=a", "source.ip=1.2.3.4", NULL), 0);
	cr_expect_eq(match("x", "", NULL), 0);
}

Test(sigma, numeric_comparisons)
{
	rule(LINUX, "  hi:\n    destination.port|gte: 1024\n  lo:\n    destination.port|lt: 1030\n"
	     "  not_5:\n    destination.port|gt: 1025\n  le:\n    destination.port|lte: 1029.5\n"
	     "  condition: hi and lo and not_5 and le");
	cr_expect_eq(match("k", "", "destination.port=1026", NULL), 1);
	cr_expect_eq(match("k", "", "destination.port=1025", NULL), 0);
	cr_expect_eq(match("k", "", "destination.port=1030", NULL), 0);
	cr_expect_eq(match("k", "", "destination.port=http", NULL), 0);
}

Test(sigma, cased)
{
	rule(LINUX, "  sel:\n    user.name|cased: Admin\n  condition: sel");
	cr_expect_eq(match("x", "", "user.name=Admin", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=admin", NULL), 0);
}

Test(sigma, null_means_absent_or_empty)
{
	rule(LINUX, "  sel:\n    user.name: null\n  condition: sel");
	cr_expect_eq(match("x", "", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=bob", NULL), 0);
}

Test(sigma, list_of_maps_is_any)
{
	rule(LINUX, "  sel:\n    - user.name: root\n      event.outcome: failure\n"
	     "    - user.name: admin\n  condition: sel");
	cr_expect_eq(match("x", "", "user.name=root", "event.outcome=failure", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=root", "event.outcome=success", NULL), 0);
	cr_expect_eq(match("x", "", "user.name=admin", NULL), 1);
}

Test(sigma, condition_forms)
{
	rule(LINUX, "  selection_a:\n    user.name: a\n  selection_b:\n    user.name: b\n"
	     "  filter_main:\n    host.name: trusted\n"
	     "  condition: 1 of selection_* and not 1 of filter_*");
	cr_expect_eq(match("x", "", "user.name=b", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=c", NULL), 0);
	lw_sigma_scratch_free(scr);
	lw_sigma_set_free(set);
	rule(LINUX, "  s1:\n    user.name|startswith: a\n  s2:\n    user.name|endswith: z\n"
	     "  condition: all of them");
	cr_expect_eq(match("x", "", "user.name=abcz", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=abc", NULL), 0);
}

Test(sigma, condition_list_is_any)
{
	rule(LINUX, "  a:\n    user.name: a\n  b:\n    user.name: b\n  condition:\n    - a\n    - b");
	cr_expect_eq(match("x", "", "user.name=b", NULL), 1);
	cr_expect_eq(match("x", "", "user.name=c", NULL), 0);
}

Test(sigma, base_members_and_aliases)
{
	struct lw_event ev;
	uint32_t out[2], n;

	rule(LINUX, "  sel:\n    User: alice\n    host.name: web1\n    process.name: sudo\n"
	     "    log.syslog.facility.code: 10\n  condition: sel");
	memset(&ev, 0, sizeof(ev));
	ev.app = LW_STR_LIT("sudo");
	ev.host = LW_STR_LIT("WEB1");
	ev.facility = 10;
	ev.severity = LW_SYSLOG_NONE;
	ev.fields = &(struct lw_field){LW_STR_LIT("user.name"), LW_STR_LIT("alice")};
	ev.nfields = 1;
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 2, &n), LW_OK);
	cr_expect_eq(n, 1);
	ev.facility = 4;
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 2, &n), LW_OK);
	cr_expect_eq(n, 0);
}

Test(sigma, logsource_service_files_by_program)
{
	rule("  product: linux\n  service: sshd", "  sel:\n    message|contains: fatal\n  condition: sel");
	cr_expect_eq(match("sshd", "fatal: x", NULL), 1);
	cr_expect_eq(match("sshd-session", "fatal: x", NULL), 1);
	cr_expect_eq(match("cron", "fatal: x", NULL), 0);
}

Test(sigma, logsource_auth_uses_facility_or_program)
{
	struct lw_event ev;
	uint32_t out[2], n;

	rule("  product: linux\n  service: auth", "  sel:\n    message|contains: fail\n  condition: sel");
	memset(&ev, 0, sizeof(ev));
	ev.app = LW_STR_LIT("myapp");
	ev.message = LW_STR_LIT("login fail");
	ev.facility = 10; /* authpriv */
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 2, &n), LW_OK);
	cr_expect_eq(n, 1);
	ev.facility = 1;
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 2, &n), LW_OK);
	cr_expect_eq(n, 0);
	ev.app = LW_STR_LIT("sudo");
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 2, &n), LW_OK);
	cr_expect_eq(n, 1);
}

Test(sigma, unknown_field_warns_and_never_matches)
{
	rule(LINUX, "  sel:\n    a0: '-x'\n  condition: sel");
	cr_expect_eq(diags.nerrors, 0);
	cr_expect_eq(diags.nwarnings, 2, "the unknown field, then the dead rule");
	cr_expect(strstr(diags.items[0].diag.detail, "'a0'") != NULL);
	cr_expect_eq(diags.items[0].diag.line, 9);
	cr_expect_eq(lw_sigma_rule(set, 0)->never_matches, 1);
	cr_expect_eq(match("x", "", "a0=-x", NULL), 0);
}

Test(sigma, metadata)
{
	const struct lw_sigma_rule_info *in;

	rule(LINUX, "  sel:\n    user.name: x\n  condition: sel");
	in = lw_sigma_rule(set, 0);
	cr_assert_not_null(in);
	cr_expect_str_eq(in->id, "00000000-0000-4000-8000-000000000001");
	cr_expect_str_eq(in->title, "t");
	cr_expect_eq(in->level, LW_LEVEL_HIGH);
	cr_expect_eq(in->category, LW_CAT_DOS);
	cr_expect_str_eq(lw_category_name(in->category), "dos");
	cr_expect_eq(in->ntags, 1);
	cr_expect_str_eq(in->tags[0], "logward.dos");
	cr_expect_str_eq(in->file, "rule.yml");
	cr_expect_eq(in->line, 1);
	cr_expect_eq(lw_sigma_find(set, "00000000-0000-4000-8000-000000000001"), 0);
	cr_expect_eq(lw_sigma_find(set, "nope"), -1);
}

/* title, id, name and status are read as correlation rules read them:
 * YAML's null is no name (it used to become the id "~"). */
Test(sigma, null_id_or_title_is_an_error)
{
	static const char text[] =
		"title: ~\nid: 00000000-0000-4000-8000-000000000001\nlevel: high\n"
		"tags: [logward.dos]\nlogsource: {product: linux}\n"
		"detection: {sel: {a.b: x}, condition: sel}\n"
		"---\n"
		"title: t\nid: null\nlevel: high\ntags: [logward.dos]\n"
		"logsource: {product: linux}\ndetection: {sel: {a.b: x}, condition: sel}\n";

	set = lw_sigma_set_new();
	cr_assert_not_null(set);
	cr_expect_eq(lw_sigma_set_load_string(set, "n.yml", text, sizeof(text) - 1, &diags),
		     LW_EPARSE);
	cr_assert_eq(diags.nerrors, 2);
	cr_expect_str_eq(diags.items[0].diag.detail, "'title' must be a non-empty string");
	cr_expect_eq(diags.items[0].diag.line, 1);
	cr_expect_str_eq(diags.items[1].diag.detail, "'id' must be a non-empty string");
	cr_expect_eq(diags.items[1].diag.line, 9);
	cr_expect_eq(lw_sigma_count(set), 0);
}

static int nothing_known(const char *key, size_t len, void *arg)
{
	(void)key;
	(void)len;
	(void)arg;
	return 0;
}

Test(sigma, absent_fields_fold_to_never_matches)
{
	static const char text[] =
		"title: t\nid: x1\nlevel: low\ntags: [logward.malware]\nlogsource: {product: linux}\n"
		"detection:\n  sel:\n    nobody.makes.this: 1\n  nul:\n    nor.this: null\n"
		"  condition: sel\n---\n"
		"title: t2\nid: x2\nlevel: low\ntags: [logward.malware]\nlogsource: {product: linux}\n"
		"detection:\n  sel:\n    message|contains: x\n  nul:\n    nor.this: null\n"
		"  condition: sel and nul\n";

	set = lw_sigma_set_new();
	cr_assert_eq(lw_sigma_set_load_string(set, "r.yml", text, sizeof(text) - 1, &diags), LW_OK);
	cr_assert_eq(lw_sigma_set_build(set, NULL, NULL, &diags), LW_OK);
	cr_expect_eq(lw_sigma_rule(set, 0)->never_matches, 0, "no known(): live");
	lw_sigma_set_free(set);
	lw_diags_release(&diags);
	lw_diags_init(&diags);
	set = lw_sigma_set_new();
	cr_assert_eq(lw_sigma_set_load_string(set, "r.yml", text, sizeof(text) - 1, &diags), LW_OK);
	cr_assert_eq(lw_sigma_set_build(set, nothing_known, NULL, &diags), LW_OK);
	cr_expect_eq(lw_sigma_rule(set, 0)->never_matches, 1);
	cr_expect_eq(lw_sigma_rule(set, 1)->never_matches, 0, "null on an absent field is true");
	cr_expect_eq(diags.nwarnings, 1);
	cr_expect_eq(diags.items[0].diag.line, 1);
	scr = lw_sigma_scratch_new(set);
	cr_expect_eq(match("x", "xyz", NULL), 1, "rule 2 matches, rule 1 is skipped");
}

/* ---- load errors ---- */

Test(sigma, load_errors_accumulate_with_file_and_line)
{
	static const char text[] =
		"title: one\n"                                     /* 1 */
		"id: r1\n"                                         /* 2 */
		"logsource: {product: linux}\n"                    /* 3 */
		"detection:\n"                                     /* 4 */
		"  sel:\n"                                         /* 5 */
		"    CommandLine|windash: '-x'\n"                  /* 6 */
		"  condition: sel\n"                               /* 7 */
		"---\n"                                            /* 8 */
		"title: two\n"                                     /* 9 */
		"id: r2\n"                                         /* 10 */
		"logsource: {product: linux}\n"                    /* 11 */
		"detection:\n"                                     /* 12 */
		"  sel:\n"                                         /* 13 */
		"    user.name: x\n"                               /* 14 */
		"  condition: sel and nope\n"                      /* 15 */
		"---\n"                                            /* 16 */
		"title: three\n"                                   /* 17 */
		"logsource: {product: linux}\n"                    /* 18 */
		"detection:\n"                                     /* 19 */
		"  sel:\n"                                         /* 20 */
		"    user.name|frobnicate: x\n"                    /* 21 */
		"  condition: sel | count() > 5\n"                 /* 22 */
		"---\n"                                            /* 23 */
		"title: good\n"                                    /* 24 */
		"id: r4\n"                                         /* 25 */
		"level: low\n"                                     /* 26 */
		"tags: [logward.dos]\n"                            /* 27 */
		"logsource: {product: linux}\n"                    /* 28 */
		"detection:\n"                                     /* 29 */
		"  sel:\n"                                         /* 30 */
		"    user.name: x\n"                               /* 31 */
		"  condition: sel\n";                              /* 32 */
	size_t nerr = 0;
	int lines[8];

	set = lw_sigma_set_new();
	cr_expect_eq(lw_sigma_set_load_string(set, "bad.yml", text, sizeof(text) - 1, &diags),
		     LW_EPARSE);
	cr_expect_eq(lw_sigma_count(set), 1);
	cr_expect_str_eq(lw_sigma_rule(set, 0)->id, "r4");
	for (size_t i = 0; i < diags.count && nerr < 8; i++)
		if (diags.items[i].severity == LW_DIAG_ERROR) {
			if (nerr == 0)
				cr_expect(strstr(diags.items[i].diag.detail,
						 "modifier 'windash' is not supported") != NULL,
					  "%s", diags.items[i].diag.detail);
			cr_expect_str_eq(diags.items[i].diag.file, "bad.yml");
			lines[nerr++] = diags.items[i].diag.line;
		}
	cr_assert_eq(nerr, 5, "windash, unknown selection, missing id, bad modifier, aggregation");
	cr_expect_eq(lines[0], 6);
	cr_expect_eq(lines[1], 15);
	cr_expect_eq(lines[2], 17);
	cr_expect_eq(lines[3], 21);
	cr_expect_eq(lines[4], 22);
}

Test(sigma, condition_error_column_points_into_the_file)
{
	static const char text[] =
		"title: t\nid: r\nlogsource: {product: linux}\ndetection:\n"
		"  sel:\n    user.name: x\n  condition: sel and nope\n";
	char buf[600];

	set = lw_sigma_set_new();
	lw_sigma_set_load_string(set, "c.yml", text, sizeof(text) - 1, &diags);
	cr_assert_eq(diags.nerrors, 1);
	for (size_t i = 0; i < diags.count; i++)
		if (diags.items[i].severity == LW_DIAG_ERROR) {
			lw_diags_format(&diags.items[i], buf, sizeof(buf));
			cr_expect_str_eq(buf, "c.yml:7:22: error: condition: unknown selection 'nope'");
		}
}

Test(sigma, duplicate_id_and_bad_values)
{
	static const char text[] =
		"title: a\nid: same\nlogsource: {product: linux}\n"
		"detection: {sel: {user.name: x}, condition: sel}\n---\n"
		"title: b\nid: same\nlogsource: {product: linux}\n"
		"detection: {sel: {user.name: x}, condition: sel}\n---\n"
		"title: c\nid: c\nlogsource: {product: linux}\n"
		"detection: {sel: {source.ip|cidr: 10.0.0.0/33, d|gt: abc, e|re: '(', f|exists: maybe},"
		" condition: sel}\n";
	size_t nerr = 0;

	set = lw_sigma_set_new();
	lw_sigma_set_load_string(set, "d.yml", text, sizeof(text) - 1, &diags);
	for (size_t i = 0; i < diags.count; i++)
		nerr += diags.items[i].severity == LW_DIAG_ERROR;
	cr_expect_eq(lw_sigma_count(set), 1);
	cr_expect_geq(nerr, 2);
	cr_expect_eq(nerr, 5, "duplicate id, then each bad value of rule c");
	for (size_t i = 0, k = 0; i < diags.count; i++) {
		static const char *const want[] = {"duplicate id same", "cidr:",
						   "'abc' is not a number", "re: pcre2",
						   "exists: expected true or false"};
		if (diags.items[i].severity != LW_DIAG_ERROR)
			continue;
		cr_expect(strstr(diags.items[i].diag.detail, want[k]) != NULL, "%s",
			  diags.items[i].diag.detail);
		k++;
	}
}

/* ---- SigmaHQ corpus ---- */

struct tally {
	unsigned files, loaded, rejected;
};

static void walk(const char *dir, struct tally *t)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];
	struct stat st;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			walk(p, t);
		} else if (n > 4 && strcmp(e->d_name + n - 4, ".yml") == 0) {
			uint32_t before = lw_sigma_count(set);
			t->files++;
			if (lw_sigma_set_load_file(set, p, &diags) == LW_ENOMEM)
				cr_assert_fail("out of memory");
			if (lw_sigma_count(set) > before)
				t->loaded++;
			else
				t->rejected++;
		}
	}
	closedir(d);
}

/* needs corpus: sigma/rules */
Test(sigma, corpus_sigmahq_linux_rules_load_unchanged)
{
	const char *corpus = getenv("LW_SHARED_CORPUS");
	char dir[4096], buf[1024];
	struct tally t = {0, 0, 0};
	unsigned never = 0;

	if (corpus == NULL)
		corpus = "../shared/corpus";
	snprintf(dir, sizeof(dir), "%s/sigma/rules", corpus);
	if (access(dir, R_OK) != 0) {
		cr_skip_test("%s not found (set LW_SHARED_CORPUS)", dir);
	}
	set = lw_sigma_set_new();
	walk(dir, &t);
	for (size_t i = 0; i < diags.count; i++)
		if (diags.items[i].severity == LW_DIAG_ERROR) {
			lw_diags_format(&diags.items[i], buf, sizeof(buf));
			cr_log_warn("%s", buf);
		}
	/* Decoders of the default pack produce none of Image, CommandLine,
	 * a0 ... so build with "nothing is known": only keyword rules stay. */
	cr_assert_eq(lw_sigma_set_build(set, NULL, NULL, &diags), LW_OK);
	for (uint32_t i = 0; i < lw_sigma_count(set); i++)
		never += lw_sigma_rule(set, i)->never_matches;
	cr_log_info("SigmaHQ: %u files, %u loaded, %u rejected; %u can never match "
		    "on syslog fields", t.files, t.loaded, t.rejected, never);
	cr_expect_eq(t.rejected, 0, "every corpus rule uses only supported features");
	cr_expect_eq(t.loaded, t.files);
	cr_expect_gt(t.files, 200);
	scr = lw_sigma_scratch_new(set);
	cr_assert_not_null(scr);
	cr_expect_eq(match("clamd", "/srv/x.php: Php.Webshell.Agent FOUND", NULL), 1,
		     "keywords are substrings: '*Webshell*FOUND*'");
	cr_expect_eq(match("clamd", "/srv/x.php: Eicar-Signature FOUND", NULL), 0);
	cr_expect_eq(match("sshd", "fatal: buffer_get_string: bad string", NULL), 1);
	cr_expect_eq(match("sshd", "Accepted publickey for bob", NULL), 0);
}

/* product: windows (SigmaHQ's Windows rules, written as they are): the
 * Windows field names are the decoders' winlog.event_data.*, EventID and
 * Channel the System fields, and service security restricts the rule to
 * that channel's events. */
Test(sigma, windows_security_rule_reads_winlog_fields)
{
	rule("  product: windows\n  service: security",
	     "  selection:\n    EventID: 4625\n    LogonType: 3\n"
	     "    TargetUserName|startswith: 'adm'\n  condition: selection");
	cr_expect_eq(match("", "", "winlog.channel=Security", "winlog.event_id=4625",
			   "winlog.event_data.LogonType=3",
			   "winlog.event_data.TargetUserName=admin", NULL), 1);
	cr_expect_eq(match("", "", "winlog.channel=Security", "winlog.event_id=4625",
			   "winlog.event_data.LogonType=10",
			   "winlog.event_data.TargetUserName=admin", NULL), 0);
	cr_expect_eq(match("", "", "winlog.channel=System", "winlog.event_id=4625",
			   "winlog.event_data.LogonType=3",
			   "winlog.event_data.TargetUserName=admin", NULL), 0,
		     "another channel's event");
	cr_expect_eq(match("Security-Auditing", "", "winlog.event_id=4625",
			   "winlog.event_data.LogonType=3",
			   "winlog.event_data.TargetUserName=admin", NULL), 1,
		     "Eventlog to Syslog sends no channel: the event ID decides");
	cr_expect_eq(match("sshd", "", "event_id=4625", "LogonType=3",
			   "TargetUserName=admin", NULL), 0,
		     "a non-Windows event with look-alike fields");
}

Test(sigma, windows_without_service_needs_a_windows_event)
{
	rule("  product: windows\n  category: process_creation",
	     "  selection:\n    Image|endswith: '\\\\powershell.exe'\n"
	     "  condition: selection");
	cr_expect_eq(match("", "", "winlog.event_id=4688",
			   "process.executable=C:\\Windows\\powershell.exe", NULL), 1);
	cr_expect_eq(match("sudo", "", "process.executable=/opt/x\\powershell.exe", NULL), 0,
		     "a Linux event with the same field is not a Windows one");
}

/* SigmaHQ's firewall, proxy and DNS field names. */
Test(sigma, firewall_and_proxy_field_names)
{
	rule("  category: firewall",
	     "  selection:\n    dst_port: 23\n    action: accept\n  condition: selection");
	cr_expect_eq(match("", "", "observer.type=firewall", "destination.port=23",
			   "event.action=accept", NULL), 1, "a device firewall's event, no program");
	cr_expect_eq(match("", "", "observer.type=firewall", "destination.port=22",
			   "event.action=accept", NULL), 0);
	cr_expect_eq(match("", "", "destination.port=23", "event.action=accept", NULL), 0,
		     "not a firewall's event (no decoder's observer.type)");
	fini();
	init();
	rule("  category: proxy",
	     "  selection:\n    cs-method: POST\n    c-uri|contains: '/upload'\n"
	     "    cs-host|endswith: '.example'\n  condition: selection");
	cr_expect_eq(match("squid", "", "http.request.method=POST",
			   "url.original=http://x.example/upload/1", "url.domain=x.example",
			   NULL), 1);
	cr_expect_eq(match("squid", "", "http.request.method=GET",
			   "url.original=http://x.example/upload/1", "url.domain=x.example",
			   NULL), 0);
}

/* Rules of one set, each a document ("title: rN"); the rules an event
 * matches, as a bit per rule. */
static void rules(const char *const *docs, size_t n)
{
	char text[16384];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"%stitle: r%zu\nid: 00000000-0000-4000-8000-%012zu\n"
					"level: high\ntags: [logward.dos]\n%s\n",
					i ? "---\n" : "", i, i, docs[i]);
	cr_assert_lt(len, sizeof(text));
	set = lw_sigma_set_new();
	cr_assert_not_null(set);
	cr_assert_eq(lw_sigma_set_load_string(set, "rules.yml", text, len, &diags),
		     LW_OK, "%s", diags.count ? diags.items[0].diag.detail : "");
	cr_assert_eq(lw_sigma_set_build(set, NULL, NULL, &diags), LW_OK);
	cr_assert_eq(lw_sigma_count(set), n);
	scr = lw_sigma_scratch_new(set);
	cr_assert_not_null(scr);
}

static unsigned matched(const char *app, const char *const *kv)
{
	struct lw_field fields[16];
	struct lw_event ev;
	uint32_t out[32], n = 0;
	unsigned bits = 0;

	memset(&ev, 0, sizeof(ev));
	ev.facility = LW_SYSLOG_NONE;
	ev.severity = LW_SYSLOG_NONE;
	ev.app = (struct lw_str){app, (uint32_t)strlen(app)};
	for (; *kv != NULL; kv++) {
		const char *eq = strchr(*kv, '=');
		fields[ev.nfields].key = (struct lw_str){*kv, (uint32_t)(eq - *kv)};
		fields[ev.nfields].value = (struct lw_str){eq + 1, (uint32_t)strlen(eq + 1)};
		ev.nfields++;
	}
	ev.fields = fields;
	cr_assert_eq(lw_sigma_eval(set, scr, &ev, out, 32, &n), LW_OK);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_lt(out[i], 32);
		cr_expect(i == 0 || out[i] > out[i - 1], "sorted, each rule once");
		bits |= 1u << out[i];
	}
	return bits;
}

#define EV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Rules gated on exact event.action values are found by one lookup of the
 * event's value, shared by the rules of every list (no program, a
 * program); the same matcher written in several rules is tested once
 * per event. Each answer is the one the rules' text gives. */
Test(sigma, gates_and_shared_matchers_give_each_rule_its_own_answer)
{
	static const char *const docs[] = {
		/* r0, r1: no program, both gated on ssh_login */
		"logsource: {product: linux}\ndetection:\n  sel:\n"
		"    event.action: [ssh_login, Mail_Login]\n    event.outcome: failure\n"
		"  condition: sel",
		"logsource: {product: linux}\ndetection:\n  sel:\n"
		"    event.action: ssh_login\n  ok:\n    event.outcome: success\n"
		"  condition: sel and not ok",
		/* r2: a cased gate */
		"logsource: {product: linux}\ndetection:\n  sel:\n"
		"    event.action|cased: Mail_Login\n  condition: sel",
		/* r3: a gate with a wildcard is tried value by value */
		"logsource: {product: linux}\ndetection:\n  sel:\n"
		"    event.action: [ssh_login, 'mail*']\n  condition: sel",
		/* r4: filed under sshd, gated on the same value as r0 and r1 */
		"logsource: {product: linux, service: sshd}\ndetection:\n  sel:\n"
		"    event.action: ssh_login\n  condition: sel",
		/* r5, r6: the same two matchers, opposite conditions */
		"logsource: {product: linux}\ndetection:\n  dev:\n"
		"    observer.type: [firewall, router]\n  inside:\n"
		"    source.ip|cidr: 10.0.0.0/8\n  condition: dev and inside",
		"logsource: {product: linux}\ndetection:\n  dev:\n"
		"    observer.type: [firewall, router]\n  inside:\n"
		"    source.ip|cidr: 10.0.0.0/8\n  condition: dev and not inside",
		/* r7: as many values on the same field, one of them other */
		"logsource: {product: linux}\ndetection:\n  dev:\n"
		"    observer.type: [firewall, switch]\n  condition: dev",
		/* r8, r9: the same bytes, case-insensitive and cased */
		"logsource: {product: linux}\ndetection:\n  u:\n"
		"    user.name: root\n  d:\n    observer.type: router\n"
		"  condition: u or d",
		"logsource: {product: linux}\ndetection:\n  u:\n"
		"    user.name|cased: root\n  d:\n    observer.type: router\n"
		"  condition: u or d",
	};

	rules(docs, sizeof(docs) / sizeof(docs[0]));
	cr_expect_eq(matched("sshd", EV("event.action=ssh_login", "event.outcome=failure")),
		     1u << 0 | 1u << 1 | 1u << 3 | 1u << 4);
	cr_expect_eq(matched("sshd", EV("event.action=SSH_LOGIN", "event.outcome=success")),
		     1u << 3 | 1u << 4, "a case-insensitive gate, r0 and r1 closed by outcome");
	cr_expect_eq(matched("cron", EV("event.action=ssh_login", "event.outcome=failure")),
		     1u << 0 | 1u << 1 | 1u << 3, "r4 is only for sshd");
	cr_expect_eq(matched("dovecot", EV("event.action=Mail_Login", "event.outcome=failure")),
		     1u << 0 | 1u << 2 | 1u << 3);
	cr_expect_eq(matched("dovecot", EV("event.action=mail_login", "event.outcome=failure")),
		     1u << 0 | 1u << 3, "the cased gate stays closed");
	cr_expect_eq(matched("dovecot", EV("event.action=mail_logout")), 1u << 3);
	cr_expect_eq(matched("dovecot", EV("event.action=ssh_logi", "event.outcome=failure")), 0,
		     "a prefix of a gate value");
	cr_expect_eq(matched("sshd", EV("event.outcome=failure")), 0, "no action at all");
	cr_expect_eq(matched("", EV("observer.type=firewall", "source.ip=10.1.2.3")),
		     1u << 5 | 1u << 7);
	cr_expect_eq(matched("", EV("observer.type=router", "source.ip=192.0.2.1")),
		     1u << 6 | 1u << 8 | 1u << 9);
	cr_expect_eq(matched("", EV("observer.type=switch", "source.ip=10.1.2.3")), 1u << 7,
		     "r7's matcher is not r5's");
	cr_expect_eq(matched("", EV("user.name=ROOT")), 1u << 8);
	cr_expect_eq(matched("", EV("user.name=root")), 1u << 8 | 1u << 9);
}
