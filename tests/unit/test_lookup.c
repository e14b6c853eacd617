/* lw_lookup: list files (plain and CSV) of each kind, how values match
 * (exact, longest network, domain and subdomains), bad lines, repeats,
 * the declarations of a rule pack, and the Sigma modifiers that use
 * lists (|lookup, |expand) through a ruleset. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/lookup.h"
#include "correlator/ruleset.h"

static struct lw_diags diags;

static void setup(void)
{
	lw_diags_init(&diags);
}

static void teardown(void)
{
	lw_diags_release(&diags);
}

TestSuite(lookup, .init = setup, .fini = teardown);

static struct lw_lookup_list *parse(enum lw_lookup_kind kind, const char *text)
{
	struct lw_lookup_spec spec = {.name = "t", .kind = kind};
	struct lw_lookup_list *l = NULL;
	int rc = lw_lookup_list_parse(&spec, "t.txt", text, strlen(text), &diags, &l);

	cr_assert_eq(rc, LW_OK, "%s", diags.count ? diags.items[0].diag.detail : "");
	cr_assert_not_null(l);
	return l;
}

static int has(const struct lw_lookup_list *l, const char *v)
{
	return lw_lookup_match(l, v, strlen(v), NULL);
}

/* The file line of the entry v matched, 0 when none. */
static uint32_t line_of(const struct lw_lookup_list *l, const char *v)
{
	uint32_t e, line = 0;

	if (!lw_lookup_match(l, v, strlen(v), &e))
		return 0;
	lw_lookup_list_entry(l, e, &line);
	return line;
}

Test(lookup, ip_exact_and_comments)
{
	struct lw_lookup_list *l = parse(LW_LOOKUP_IP,
		"# jump hosts\n"
		"\n"
		"  192.0.2.10   # jump01\n"
		"192.0.2.11\r\n"
		"2001:db8::5\n");

	cr_expect_eq(lw_lookup_list_count(l), 3);
	cr_expect(has(l, "192.0.2.10"));
	cr_expect(has(l, "192.0.2.11"));
	cr_expect(has(l, "2001:db8::5"));
	cr_expect(has(l, "2001:0db8:0::5"), "the same address written longer");
	cr_expect(has(l, "::ffff:192.0.2.10"), "v4-mapped IPv6 is IPv4");
	cr_expect(!has(l, "192.0.2.12"));
	cr_expect(!has(l, "192.0.2.1"));
	cr_expect(!has(l, "jump01"));
	cr_expect(!has(l, ""));
	cr_expect(!has(l, "192.0.2.10 "));
	cr_expect_eq(diags.count, 0);
	lw_lookup_list_free(l);
}

Test(lookup, ip_longest_prefix_v4)
{
	struct lw_lookup_list *l = parse(LW_LOOKUP_IP,
		"198.51.100.0/24\n"      /* line 1 */
		"198.51.100.128/25\n"    /* line 2 */
		"198.51.100.200\n"       /* line 3 */
		"10.0.0.0/8\n"           /* line 4 */
		"10.1.2.3/16\n");        /* line 5: host bits cleared */

	cr_expect_eq(line_of(l, "198.51.100.5"), 1);
	cr_expect_eq(line_of(l, "198.51.100.129"), 2);
	cr_expect_eq(line_of(l, "198.51.100.200"), 3);
	cr_expect_eq(line_of(l, "198.51.100.201"), 2);
	cr_expect_eq(line_of(l, "198.51.101.1"), 0);
	cr_expect_eq(line_of(l, "10.1.200.200"), 5);
	cr_expect_eq(line_of(l, "10.2.0.1"), 4);
	cr_expect_eq(line_of(l, "11.0.0.1"), 0);
	cr_expect_eq(line_of(l, "2001:db8::1"), 0, "no IPv6 entry");
	lw_lookup_list_free(l);
}

Test(lookup, ip_longest_prefix_v6)
{
	struct lw_lookup_list *l = parse(LW_LOOKUP_IP,
		"2001:db8::/32\n"
		"2001:db8:bad::/48\n"
		"2001:db8:bad::66\n"
		"::/0\n"
		"::ffff:203.0.113.0/120\n");
	struct lw_str e;

	cr_expect_eq(line_of(l, "2001:db8:1::1"), 1);
	cr_expect_eq(line_of(l, "2001:db8:bad:1::1"), 2);
	cr_expect_eq(line_of(l, "2001:db8:bad::66"), 3);
	cr_expect_eq(line_of(l, "2001:db9::1"), 4, "::/0 holds every IPv6 address");
	cr_expect_eq(line_of(l, "203.0.113.9"), 5, "a v4-mapped network is IPv4");
	cr_expect_eq(line_of(l, "203.0.114.9"), 0, "::/0 is not IPv4's default");
	e = lw_lookup_list_entry(l, 4, NULL);
	cr_expect_eq(e.len, strlen("203.0.113.0/24"));
	cr_expect_arr_eq(e.ptr, "203.0.113.0/24", e.len);
	lw_lookup_list_free(l);
}

Test(lookup, domain_and_subdomains)
{
	struct lw_lookup_list *l = parse(LW_LOOKUP_DOMAIN,
		"example.com\n"
		"Evil.Example.NET.\n"
		"deep.sub.example.org\n");

	cr_expect_eq(line_of(l, "example.com"), 1);
	cr_expect_eq(line_of(l, "a.b.example.com"), 1);
	cr_expect_eq(line_of(l, "WWW.EXAMPLE.COM."), 1, "case and one trailing dot");
	cr_expect_eq(line_of(l, "badexample.com"), 0);
	cr_expect_eq(line_of(l, "example.com.evil.test"), 0);
	cr_expect_eq(line_of(l, "com"), 0);
	cr_expect_eq(line_of(l, "x.evil.example.net"), 2);
	cr_expect_eq(line_of(l, "example.net"), 0, "a parent of an entry is not in");
	cr_expect_eq(line_of(l, "sub.example.org"), 0);
	cr_expect_eq(line_of(l, "a.deep.sub.example.org"), 3);
	cr_expect_eq(line_of(l, ".example.com"), 1, "the parent after the dot");
	lw_lookup_list_free(l);
}

Test(lookup, users_and_hashes_ignore_ascii_case)
{
	struct lw_lookup_list *u = parse(LW_LOOKUP_USER, "Administrator\nsvc backup\n");
	struct lw_lookup_list *h = parse(LW_LOOKUP_HASH,
		"44D88612FEA8A8F36DE82E1278ABB02F\n"
		"da39a3ee5e6b4b0d3255bfef95601890afd80709\n");

	cr_expect(has(u, "administrator"));
	cr_expect(has(u, "ADMINISTRATOR"));
	cr_expect(has(u, "SVC Backup"));
	cr_expect(!has(u, "administrator2"));
	cr_expect(!has(u, "admin"));
	cr_expect(has(h, "44d88612fea8a8f36de82e1278abb02f"));
	cr_expect(has(h, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"));
	cr_expect(!has(h, "44d88612fea8a8f36de82e1278abb02"));
	lw_lookup_list_free(u);
	lw_lookup_list_free(h);
}

Test(lookup, repeats_are_kept_once_with_one_warning)
{
	struct lw_lookup_list *l = parse(LW_LOOKUP_IP,
		"192.0.2.1\n192.0.2.2\n192.0.2.1\n192.0.2.1/32\n::ffff:192.0.2.2\n");

	cr_expect_eq(lw_lookup_list_count(l), 2);
	cr_assert_eq(diags.count, 1);
	cr_expect_eq(diags.items[0].severity, LW_DIAG_WARNING);
	cr_expect_eq(diags.items[0].diag.line, 3);
	cr_expect_str_eq(diags.items[0].diag.detail,
			 "list 't': 3 repeated values kept once (the first repeats line 1)");
	cr_expect_eq(line_of(l, "192.0.2.1"), 1);
	lw_lookup_list_free(l);
}

static int parse_fails_n(enum lw_lookup_kind kind, const char *text, size_t len)
{
	struct lw_lookup_spec spec = {.name = "bad", .kind = kind};
	struct lw_lookup_list *l = (struct lw_lookup_list *)&spec;
	int rc = lw_lookup_list_parse(&spec, "bad.txt", text, len, &diags, &l);

	cr_expect_null(l, "no list when a line is bad");
	return rc == LW_EPARSE;
}

static int parse_fails(enum lw_lookup_kind kind, const char *text)
{
	return parse_fails_n(kind, text, strlen(text));
}

Test(lookup, bad_lines_fail_the_list_naming_file_and_line)
{
	char buf[512];

	cr_assert(parse_fails(LW_LOOKUP_IP, "192.0.2.1\n192.0.2.300\n10.0.0.0/33\n"));
	cr_assert_eq(diags.nerrors, 2);
	lw_diags_format(&diags.items[0], buf, sizeof(buf));
	cr_expect_str_eq(buf, "bad.txt:2: error: list 'bad': '192.0.2.300': not an "
			 "IPv4 or IPv6 address or network");
	lw_diags_format(&diags.items[1], buf, sizeof(buf));
	cr_expect_str_eq(buf, "bad.txt:3: error: list 'bad': '10.0.0.0/33': prefix "
			 "length out of range");
	lw_diags_release(&diags);
	lw_diags_init(&diags);
	cr_expect(parse_fails(LW_LOOKUP_DOMAIN, "ok.example\n*.example.com\n"));
	cr_expect(parse_fails(LW_LOOKUP_DOMAIN, "a..example.com\n"));
	cr_expect(parse_fails(LW_LOOKUP_DOMAIN, "exa mple.com\n"));
	cr_expect(parse_fails(LW_LOOKUP_HASH, "abc\n"));
	cr_expect(parse_fails(LW_LOOKUP_HASH, "zz88612fea8a8f36de82e1278abb02f0\n"));
	cr_expect(parse_fails(LW_LOOKUP_USER, "bob\x1b[31m\n"));
	/* what a feed wrote reaches a terminal only as printable ASCII */
	lw_diags_format(&diags.items[diags.count - 1], buf, sizeof(buf));
	cr_expect_str_eq(buf, "bad.txt:1: error: list 'bad': 'bob?[31m': control "
			 "character in user name");
	cr_expect(parse_fails_n(LW_LOOKUP_IP, "192.0.2.1\0\n", 11));
}

Test(lookup, many_bad_lines_are_counted_not_listed)
{
	char text[4096];
	size_t n = 0;

	for (int i = 0; i < 50; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "not-an-address\n");
	cr_assert(parse_fails(LW_LOOKUP_IP, text));
	cr_expect_eq(diags.count, LW_LOOKUP_MAX_ERRORS + 1);
	cr_expect_str_eq(diags.items[LW_LOOKUP_MAX_ERRORS].diag.detail,
			 "list 'bad': 30 more bad lines not shown");
}

static const char ioc_csv[] =
	"# exported 2026-12-01\n"
	"indicator,type,category,source,first_seen\n"
	"203.0.113.250,ip,malware,feed,2026-11-02\n"
	"\"203.0.113.128/26\",CIDR,anomalous-outbound,\"feed, second\",2026-10-15\n"
	"malware.example.net,domain,malware,feed,2026-11-05\n"
	" 198.51.100.7 ,ip, Malware ,feed,2026-11-06\n";

Test(lookup, csv_column_and_where)
{
	static const char *const ip_types[] = {"ip", "cidr"};
	static const char *const malware[] = {"malware"};
	struct lw_lookup_spec spec = {
		.name = "ioc_malware_ip", .kind = LW_LOOKUP_IP, .column = "Indicator",
		.where = {{"type", ip_types, 2}, {"category", malware, 1}}, .nwhere = 2};
	struct lw_lookup_list *l = NULL;

	cr_assert_eq(lw_lookup_list_parse(&spec, "ioc.csv", ioc_csv, sizeof(ioc_csv) - 1,
					  &diags, &l), LW_OK);
	cr_expect_eq(lw_lookup_list_count(l), 2, "the domain and the other category are left out");
	cr_expect_eq(line_of(l, "203.0.113.250"), 3);
	cr_expect_eq(line_of(l, "198.51.100.7"), 6, "values and filters are trimmed, case ignored");
	cr_expect_eq(line_of(l, "203.0.113.130"), 0);
	lw_lookup_list_free(l);

	spec.where[1].values = (const char *const[]){"anomalous-outbound"};
	cr_assert_eq(lw_lookup_list_parse(&spec, "ioc.csv", ioc_csv, sizeof(ioc_csv) - 1,
					  &diags, &l), LW_OK);
	cr_expect_eq(lw_lookup_list_count(l), 1);
	cr_expect_eq(line_of(l, "203.0.113.130"), 4, "a quoted field with a comma after it");
	lw_lookup_list_free(l);
	cr_expect_eq(diags.count, 0);
}

Test(lookup, csv_errors)
{
	static const char *const ip[] = {"ip"};
	struct lw_lookup_spec spec = {.name = "c", .kind = LW_LOOKUP_IP,
				      .column = "address"};
	struct lw_lookup_list *l = NULL;
	static const char short_row[] = "address,zone\n192.0.2.1,lgwan\n192.0.2.2\n";
	static const char no_col[] = "ip,zone\n192.0.2.1,lgwan\n";

	cr_expect_eq(lw_lookup_list_parse(&spec, "a.csv", no_col, sizeof(no_col) - 1,
					  &diags, &l), LW_EPARSE);
	cr_expect_str_eq(diags.items[0].diag.detail,
			 "list 'c': the header has no column 'address'");
	cr_expect_eq(diags.items[0].diag.line, 1);
	spec.where[0] = (struct lw_lookup_where){"zone", ip, 1};
	spec.nwhere = 1;
	cr_expect_eq(lw_lookup_list_parse(&spec, "b.csv", short_row, sizeof(short_row) - 1,
					  &diags, &l), LW_EPARSE);
	cr_expect_eq(diags.items[1].diag.line, 3);
	cr_expect_str_eq(diags.items[1].diag.detail, "list 'c': '192.0.2.2': the row "
			 "has fewer columns than the header");
	cr_expect_eq(lw_lookup_list_parse(&spec, "c.csv", "# nothing\n", 10, &diags, &l),
		     LW_EPARSE, "a CSV list needs its header");
	cr_expect_null(l);
	spec.where[0].column = "ADDRESS";
	cr_expect_eq(lw_lookup_list_parse(&spec, "d.csv", short_row, sizeof(short_row) - 1,
					  &diags, &l), LW_EPARSE);
	cr_expect_str_eq(diags.items[diags.count - 1].diag.detail,
			 "list 'c': where names the value's column 'address'");
}

/* ---- declarations and rules, through a ruleset ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_dir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lw_lookup_XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	write_file("admins.txt", "192.0.2.0/28\n2001:db8:a::/48\n");
	write_file("ioc.csv", ioc_csv);
	write_file("users.txt", "Administrator\nbackup\n");
}

static void remove_dir(void)
{
	static const char *const files[] = {"admins.txt", "ioc.csv", "users.txt"};
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		cr_expect_eq(unlink(path), 0);
	}
	cr_expect_eq(rmdir(tmpdir), 0);
}

static const char decls[] =
	"lists:\n"
	"  - {name: admins, kind: ip, file: admins.txt}\n"
	"  - {name: Administrators, kind: user, file: users.txt}\n"
	"  - name: ioc_domains\n"
	"    kind: domain\n"
	"    file: ioc.csv\n"
	"    column: indicator\n"
	"    where: {type: domain}\n";

/* Rules are folded away on fields no decoder produces: this one makes
 * the fields the tests use from key=value messages. */
static const char decoder[] =
	"decoders:\n"
	"  - name: kv\n"
	"    match: {process.name: fw}\n"
	"    format: kv\n"
	"    map: {src: source.ip, dst: destination.ip, dom: url.domain,\n"
	"          user: user.name, cmd: process.command_line}\n";

static struct lw_ruleset *ruleset(const char *rules, int want)
{
	struct lw_ruleset *rs = lw_ruleset_new(NULL);
	char name[128];
	int rc;

	cr_assert_not_null(rs);
	cr_assert_eq(lw_ruleset_load_decoders_string(rs, "d.yml", decoder,
						     sizeof(decoder) - 1, &diags), LW_OK);
	snprintf(name, sizeof(name), "%s/lists.yml", tmpdir);
	cr_assert_eq(lw_ruleset_load_lists_string(rs, name, decls, sizeof(decls) - 1,
						  &diags), LW_OK, "%s",
		     diags.count ? diags.items[0].diag.detail : "");
	rc = lw_ruleset_load_detection_string(rs, "r.yml", rules, strlen(rules), &diags);
	cr_assert_eq(rc, want, "%s", diags.count ? diags.items[0].diag.detail : "");
	if (rc != LW_OK) {
		lw_ruleset_free(rs);
		return NULL;
	}
	cr_assert_eq(lw_ruleset_build(rs, &diags), LW_OK);
	return rs;
}

/* Whether the rule matches the message key="value" (decoder above). */
static int fires(const struct lw_ruleset *rs, const char *key, const char *value)
{
	struct lw_ruleset_scratch *s = lw_ruleset_scratch_new(rs);
	struct lw_arena arena;
	struct lw_ruleset_matches m;
	struct lw_event ev;
	char msg[256];

	cr_assert_not_null(s);
	lw_arena_init(&arena, 0);
	memset(&ev, 0, sizeof(ev));
	ev.facility = LW_SYSLOG_NONE;
	ev.severity = LW_SYSLOG_NONE;
	ev.app = (struct lw_str){"fw", 2};
	snprintf(msg, sizeof(msg), "%s=\"%s\"", key, value);
	ev.message = (struct lw_str){msg, (uint32_t)strlen(msg)};
	cr_assert_eq(lw_ruleset_apply(rs, s, &ev, &arena, &m), LW_OK);
	lw_ruleset_scratch_free(s);
	lw_arena_release(&arena);
	return m.count == 1;
}

#define RULE(det) \
	"title: t\nid: r1\nlevel: high\ntags: [logward.malware]\n" \
	"logsource: {category: network_connection}\n" \
	"detection:\n  sel:\n" det "  condition: sel\n"

Test(lookup, sigma_lookup_by_kind)
{
	struct lw_ruleset *rs;

	make_dir();
	rs = ruleset(RULE("    source.ip|lookup: admins\n"), LW_OK);
	cr_expect(fires(rs, "src", "192.0.2.14"));
	cr_expect(!fires(rs, "src", "192.0.2.16"));
	cr_expect(fires(rs, "src", "2001:db8:a:1::9"));
	cr_expect(!fires(rs, "dst", "192.0.2.14"));
	lw_ruleset_free(rs);
	rs = ruleset(RULE("    url.domain|lookup: ioc_domains\n"), LW_OK);
	cr_expect(fires(rs, "dom", "cdn.malware.example.net"));
	cr_expect(!fires(rs, "dom", "notmalware.example.net"));
	lw_ruleset_free(rs);
	remove_dir();
}

Test(lookup, sigma_expand_whole_and_in_text)
{
	struct lw_ruleset *rs;

	make_dir();
	rs = ruleset(RULE("    user.name|expand: '%Administrators%'\n"), LW_OK);
	cr_expect(fires(rs, "user", "ADMINISTRATOR"));
	cr_expect(!fires(rs, "user", "guest"));
	lw_ruleset_free(rs);
	/* text around the placeholder: one value per entry */
	rs = ruleset(RULE("    process.command_line|expand|contains: 'runas /user:%Administrators% '\n"),
		     LW_OK);
	cr_expect(fires(rs, "cmd", "cmd.exe /c RUNAS /user:backup x"));
	cr_expect(!fires(rs, "cmd", "runas /user:guest cmd"));
	lw_ruleset_free(rs);
	rs = ruleset(RULE("    source.ip|cidr|expand: '%admins%'\n"), LW_OK);
	cr_expect(fires(rs, "src", "192.0.2.1"));
	lw_ruleset_free(rs);
	remove_dir();
}

Test(lookup, sigma_list_errors)
{
	make_dir();
	cr_expect_null(ruleset(RULE("    source.ip|lookup: nosuch\n"), LW_EPARSE));
	cr_expect_str_eq(diags.items[diags.count - 1].diag.detail,
			 "no lookup list named 'nosuch' (lists are declared in "
			 "<rules>/lists/, docs/rules.md)");
	cr_expect_null(ruleset(RULE("    user.name|expand: Administrators\n"), LW_EPARSE));
	cr_expect_null(ruleset(RULE("    user.name|expand: '%a% %b%'\n"), LW_EPARSE));
	cr_expect_null(ruleset(RULE("    user.name|lookup|contains: admins\n"), LW_EPARSE));
	cr_expect_null(ruleset(RULE("    user.name|lookup|cased: admins\n"), LW_EPARSE));
	cr_expect_null(ruleset(RULE("    user.name|cidr|lookup: admins\n"), LW_EPARSE));
	cr_expect_null(ruleset(RULE("    user.name|cidr|expand: '%Administrators%'\n"),
			       LW_EPARSE));
	remove_dir();
}

Test(lookup, declaration_errors)
{
	struct lw_lookup_set *set = lw_lookup_set_new();
	static const char bad[] =
		"lists:\n"
		"  - {name: a, kind: ip, file: /nonexistent/a.txt}\n"
		"  - {name: 'b c', kind: ip, file: x}\n"
		"  - {name: d, kind: colour, file: x}\n"
		"  - {name: e, kind: ip, file: x, colum: y}\n"
		"  - {name: f, kind: ip, file: x, where: {type: ip}}\n";
	static const char twice[] =
		"lists:\n"
		"  - {name: a, kind: ip, file: /dev/null}\n"
		"  - {name: a, kind: ip, file: /dev/null}\n";

	cr_expect_eq(lw_lookup_set_load_string(set, "l.yml", bad, sizeof(bad) - 1, &diags),
		     LW_EPARSE);
	cr_expect_eq(lw_lookup_set_count(set), 0);
	cr_expect_eq(diags.nerrors, 6, "cannot read + not loaded, name, kind, key, where");
	cr_expect_eq(lw_lookup_set_load_string(set, "m.yml", twice, sizeof(twice) - 1,
					       &diags), LW_EPARSE);
	cr_expect_eq(lw_lookup_set_count(set), 1);
	cr_expect_eq(diags.items[diags.count - 1].diag.line, 3);
	lw_lookup_set_free(set);
}

/* The shipped lists load, and what the pack's rules rely on holds. */
Test(lookup, shipped_lists)
{
	char dir[4096];
	const char *src = getenv("LW_SOURCE_DIR");
	struct lw_ruleset *rs = lw_ruleset_new(NULL);
	const struct lw_lookup_set *set;
	const struct lw_lookup_list *l;

	cr_assert_not_null(rs);
	snprintf(dir, sizeof(dir), "%s/rules", src ? src : ".");
	cr_assert_eq(lw_ruleset_load_lists_dir(rs, dir, &diags), LW_OK);
	cr_expect_eq(diags.count, 0);
	set = lw_ruleset_lists(rs);
	l = lw_lookup_set_find(set, "admin_hosts_mynumber", 20);
	cr_assert_not_null(l);
	cr_expect(has(l, "10.10.250.7"));
	cr_expect(!has(l, "10.20.250.10"), "another zone's jump host");
	l = lw_lookup_set_find(set, "approved_outbound_lgwan_domain", 30);
	cr_assert_not_null(l);
	cr_expect(has(l, "www.update.example.com"));
	cr_expect(!has(l, "update.example.com.attacker.example"));
	l = lw_lookup_set_find(set, "ioc_malware_ip", 14);
	cr_assert_not_null(l);
	cr_expect(has(l, "203.0.113.250"));
	cr_expect(has(l, "2001:db8:bad::1"));
	cr_expect(!has(l, "203.0.113.233"), "an anomalous-outbound network");
	l = lw_lookup_set_find(set, "ioc_outbound_ip", 15);
	cr_assert_not_null(l);
	cr_expect(has(l, "203.0.113.233"));
	lw_ruleset_free(rs);
}
