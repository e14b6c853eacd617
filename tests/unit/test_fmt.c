/* The structured-format parsers of correlator/fmt_*.h: exact pairs for
 * each format's documented shapes and escapes, and the forged-value cases
 * their headers promise cannot become another pair. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "correlator/fmt_cef.h"
#include "correlator/fmt_csv.h"
#include "correlator/fmt_json.h"
#include "correlator/fmt_kv.h"
#include "correlator/fmt_leef.h"
#include "correlator/fmt_winevt.h"

#define MAXP 64

static char keys[MAXP][128], vals[MAXP][512];
static int np;
static char buf[16384];
static struct lw_fmt_buf fb = {buf, sizeof(buf)};

static int collect(struct lw_str k, struct lw_str v, void *arg)
{
	(void)arg;
	cr_assert_lt(np, MAXP);
	snprintf(keys[np], sizeof(keys[0]), "%.*s", (int)k.len, k.ptr);
	snprintf(vals[np], sizeof(vals[0]), "%.*s", (int)v.len, v.ptr);
	np++;
	return 0;
}

/* The value of key (the first one), or NULL. */
static const char *get(const char *key)
{
	for (int i = 0; i < np; i++)
		if (strcmp(keys[i], key) == 0)
			return vals[i];
	return NULL;
}

static int count(const char *key)
{
	int n = 0;

	for (int i = 0; i < np; i++)
		n += strcmp(keys[i], key) == 0;
	return n;
}

static int kv(const struct lw_fmt_kv_opts *o, const char *s)
{
	np = 0;
	return lw_fmt_kv_parse(o, s, strlen(s), &fb, collect, NULL);
}

Test(fmt, kv_fortigate_quoted_escaped_and_empty)
{
	struct lw_fmt_kv_opts o;

	lw_fmt_kv_defaults(&o);
	cr_assert_eq(kv(&o, "date=2026-06-01 devname=\"FGT 1\" srcip=10.0.0.1 "
			    "msg=\"say \\\"hi\\\" C:\\dir \\\\x\" empty=\"\" tail=1"), 6);
	cr_expect_str_eq(get("devname"), "FGT 1");
	cr_expect_str_eq(get("srcip"), "10.0.0.1");
	cr_expect_str_eq(get("msg"), "say \"hi\" C:\\dir \\x");
	cr_expect_str_eq(get("empty"), "");
	cr_expect_str_eq(get("tail"), "1");
}

Test(fmt, kv_forged_pairs_stay_inside_quotes)
{
	struct lw_fmt_kv_opts o;

	lw_fmt_kv_defaults(&o);
	cr_assert_eq(kv(&o, "remip=203.0.113.9 user=\"x\\\" remip=10.0.0.1 y=\\\"z\""), 2);
	cr_expect_eq(count("remip"), 1);
	cr_expect_str_eq(get("remip"), "203.0.113.9");
	cr_expect_str_eq(get("user"), "x\" remip=10.0.0.1 y=\"z");
}

Test(fmt, kv_words_that_are_no_pair_are_skipped_and_nul_is_blank)
{
	struct lw_fmt_kv_opts o;
	static const char line[] = "<189>junk \"quoted word\" a=1 b=\"unterminated";

	lw_fmt_kv_defaults(&o);
	np = 0;
	cr_assert_eq(lw_fmt_kv_parse(&o, line, sizeof(line) - 1, &fb, collect, NULL), 2);
	cr_expect_str_eq(get("a"), "1");
	cr_expect_str_eq(get("b"), "unterminated");
	np = 0;
	cr_assert_eq(lw_fmt_kv_parse(&o, "x=1\0y=2", 7, &fb, collect, NULL), 2);
	cr_expect_str_eq(get("y"), "2");
}

Test(fmt, kv_checkpoint_and_ftd_and_sonicwall_options)
{
	struct lw_fmt_kv_opts o;

	lw_fmt_kv_defaults(&o);
	o.assign = ':';
	o.seps[0] = ';';
	cr_assert_eq(kv(&o, "action:\"Drop\"; dst:\"10.30.0.8\"; name:\"a; b\"]"), 3);
	cr_expect_str_eq(get("name"), "a; b");
	lw_fmt_kv_defaults(&o);
	o.assign = ':';
	o.seps[0] = ',';
	o.blanks_inside = 1;
	cr_assert_eq(kv(&o, "SrcIP: 10.0.0.1, User: No Authentication Required , DstPort: 443"), 3);
	cr_expect_str_eq(get("User"), "No Authentication Required");
	cr_expect_str_eq(get("DstPort"), "443");
	lw_fmt_kv_defaults(&o);
	o.value_after_blank = 1;
	cr_assert_eq(kv(&o, "src= 10.0.0.1 dst= a=b fw=1"), 4);
	cr_expect_str_eq(get("src"), "10.0.0.1");
	cr_expect_str_eq(get("dst"), "", "a word that is itself a pair is not the value");
	cr_expect_str_eq(get("a"), "b");
}

Test(fmt, kv_buffer_too_small)
{
	struct lw_fmt_kv_opts o;
	struct lw_fmt_buf small = {buf, 10};

	lw_fmt_kv_defaults(&o);
	cr_expect_eq(lw_fmt_kv_parse(&o, "a=1", 3, &small, collect, NULL), LW_EINVAL);
}

static int cef(const char *s)
{
	np = 0;
	return lw_fmt_cef_parse(s, strlen(s), &fb, collect, NULL);
}

Test(fmt, cef_header_escapes_and_extension)
{
	cr_assert_eq(cef("CEF:0|Ven\\|dor|Prod|1.0|100|Port \\\\ scan|7|src=10.0.0.1 "
			 "msg=a b\\=c \\\\ d\\nx  spt=1232 cs1Label=Rule Name cs1=r 1"), 12);
	cr_expect_str_eq(get("cef.version"), "0");
	cr_expect_str_eq(get("cef.device.vendor"), "Ven|dor");
	cr_expect_str_eq(get("cef.name"), "Port \\ scan");
	cr_expect_str_eq(get("cef.severity"), "7");
	cr_expect_str_eq(get("src"), "10.0.0.1");
	cr_expect_str_eq(get("msg"), "a b=c \\ d\nx");
	cr_expect_str_eq(get("spt"), "1232");
	cr_expect_str_eq(get("cs1Label"), "Rule Name");
	cr_expect_str_eq(get("cs1"), "r 1");
}

Test(fmt, cef_escaped_equals_cannot_start_a_pair)
{
	cr_assert_eq(cef("CEF:0|V|P|1|1|n|3|src=203.0.113.9 request=http://x/?a src\\=10.0.0.1"), 9);
	cr_expect_eq(count("src"), 1);
	cr_expect_str_eq(get("src"), "203.0.113.9");
	cr_expect_str_eq(get("request"), "http://x/?a src=10.0.0.1");
}

Test(fmt, cef_rejects_what_is_not_cef)
{
	cr_expect_eq(cef("CEF:0|only|four|fields"), LW_EPARSE);
	cr_expect_eq(cef("LEEF:1.0|a|b|c|d|"), LW_EPARSE);
	cr_expect_eq(cef("CEF:0|V|P|1|1|n|3|"), 7, "a header without extension");
}

static int leef(const char *s, char delim)
{
	np = 0;
	return lw_fmt_leef_parse(s, strlen(s), delim, &fb, collect, NULL);
}

Test(fmt, leef_1_tab_and_2_declared_delimiters)
{
	cr_assert_eq(leef("LEEF:1.0|Palo Alto Networks|PAN-OS|10|TRAFFIC|src=10.0.0.1\t"
			  "usrName=a b\turl=http://x/?y=z", 0), 8);
	cr_expect_str_eq(get("leef.vendor"), "Palo Alto Networks");
	cr_expect_str_eq(get("leef.event_id"), "TRAFFIC");
	cr_expect_str_eq(get("usrName"), "a b");
	cr_expect_str_eq(get("url"), "http://x/?y=z");
	cr_assert_eq(leef("LEEF:2.0|V|P|1|E|x5E|src=10.0.0.1^dst=10.0.0.2", 0), 7);
	cr_expect_str_eq(get("dst"), "10.0.0.2");
	cr_assert_eq(leef("LEEF:2.0|V|P|1|E|0x7C|src=10.0.0.1|dst=10.0.0.3", 0), 7);
	cr_expect_str_eq(get("dst"), "10.0.0.3");
	cr_assert_eq(leef("LEEF:1.0|V|P|1|E|src=10.0.0.1#011dst=10.0.0.4", 0), 7,
		     "rsyslog's #011 for a tab");
	cr_expect_str_eq(get("dst"), "10.0.0.4");
	cr_assert_eq(leef("LEEF:1.0|V|P|1|E|src=10.0.0.1^dst=10.0.0.5", '^'), 7);
	cr_expect_str_eq(get("dst"), "10.0.0.5");
	cr_expect_eq(leef("LEEF:2.0|V|P|1|E|xZZ|src=1", 0), LW_EPARSE);
}

Test(fmt, leef_forged_pair_stays_in_its_value)
{
	cr_assert_eq(leef("LEEF:1.0|V|P|1|E|src=203.0.113.9\turl=http://x/ src=10.0.0.1", 0), 7);
	cr_expect_eq(count("src"), 1);
	cr_expect_str_eq(get("url"), "http://x/ src=10.0.0.1");
}

Test(fmt, csv_quoted_doubled_and_named_columns)
{
	static const struct lw_str names[] = {LW_STR_LIT("a"), LW_STR_NULL, LW_STR_LIT("c"),
					      LW_STR_LIT("d")};
	static const char line[] = "1,skip,\"x,\"\"y\"\",z\" tail,,5,6";

	np = 0;
	cr_assert_eq(lw_fmt_csv_parse(',', names, 4, line, sizeof(line) - 1, &fb, collect,
				      NULL), 6);
	cr_assert_eq(np, 3);
	cr_expect_str_eq(get("a"), "1");
	cr_expect_str_eq(get("c"), "x,\"y\",z");
	cr_expect_str_eq(get("d"), "");
}

Test(fmt, json_flattens_unescapes_and_skips)
{
	static const char text[] = " {\"EventID\":4625,\"TargetUserName\":\"b\\u00f6b\\ud83d\\ude00\","
				   "\"bad\":\"\\ud800x\",\"Data\":{\"IpPort\":\"50123\",\"arr\":[1,{\"a\":2}],"
				   "\"n\":null,\"t\":true},\"k\\\"q\":\"v\"}";

	np = 0;
	cr_assert_eq(lw_fmt_json_parse(text, sizeof(text) - 1, &fb, collect, NULL), 6);
	cr_expect_str_eq(get("EventID"), "4625");
	cr_expect_str_eq(get("TargetUserName"), "b\xc3\xb6" "b\xf0\x9f\x98\x80");
	cr_expect_str_eq(get("bad"), "\xef\xbf\xbdx");
	cr_expect_str_eq(get("Data.IpPort"), "50123");
	cr_expect_str_eq(get("Data.t"), "true");
	cr_expect_str_eq(get("k\"q"), "v");
	cr_expect_null(get("Data.n"));
	cr_expect_null(get("Data.arr"));
}

Test(fmt, json_keeps_pairs_before_a_syntax_error)
{
	static const char text[] = "{\"a\":\"1\",\"b\":2,\"c\":";

	np = 0;
	cr_expect_eq(lw_fmt_json_parse(text, sizeof(text) - 1, &fb, collect, NULL), LW_EPARSE);
	cr_expect_eq(np, 2);
	np = 0;
	cr_expect_eq(lw_fmt_json_parse("[1]", 3, &fb, collect, NULL), LW_EPARSE);
	cr_expect_eq(np, 0);
	/* A NUL inside a skipped array ends the walk (it once looped). */
	cr_expect_eq(lw_fmt_json_parse("{\"a\":[\0]}", 9, &fb, collect, NULL), LW_EPARSE);
}

#define E(s, l) {LW_STR_LIT(s), LW_STR_LIT(l), LW_STR_LIT(s "." l)}
static const struct lw_fmt_winevt_entry t4625[] = {
	E("Subject", "Account Name"), E("Subject", "Logon ID"),
	E("Logon Information", "Logon Type"),
	E("Account For Which Logon Failed", "Account Name"),
	E("Account For Which Logon Failed", "Account Domain"),
	E("Network Information", "Workstation Name"),
	E("Network Information", "Source Network Address"),
	E("Network Information", "Source Port"),
};

static int winevt(const char *s)
{
	np = 0;
	return lw_fmt_winevt_parse(t4625, sizeof(t4625) / sizeof(t4625[0]), s, strlen(s),
				   collect, NULL);
}

Test(fmt, winevt_snare_double_blanks)
{
	cr_assert_eq(winevt("An account failed to log on.    Subject:   Account Name:  -   "
			    "Logon ID:  0x0    Logon Information:   Logon Type:  3    Account For "
			    "Which Logon Failed:   Account Name:  bob smith   Account Domain:  NT "
			    "AUTHORITY    Network Information:   Workstation Name: WS1   Source "
			    "Network Address: 203.0.113.5   Source Port:  50123    This event..."), 8);
	cr_expect_str_eq(get("Subject.Account Name"), "-");
	cr_expect_str_eq(get("Logon Information.Logon Type"), "3");
	cr_expect_str_eq(get("Account For Which Logon Failed.Account Name"), "bob smith");
	cr_expect_str_eq(get("Account For Which Logon Failed.Account Domain"), "NT AUTHORITY");
	cr_expect_str_eq(get("Network Information.Source Network Address"), "203.0.113.5");
	cr_expect_str_eq(get("Network Information.Source Port"), "50123");
}

Test(fmt, winevt_missing_section_is_read_in_the_one_before)
{
	/* Windows 2008: no "Logon Information:" header. */
	cr_assert_eq(winevt("Subject: Account Name: - Logon ID: 0x0 Logon Type: 3 Account For "
			    "Which Logon Failed: Account Name: bob Account Domain: CORP Network "
			    "Information: Workstation Name: WS1 Source Network Address: "
			    "203.0.113.5 Source Port: 0"), 8);
	cr_expect_str_eq(get("Subject.Logon ID"), "0x0");
	cr_expect_str_eq(get("Logon Information.Logon Type"), "3");
	cr_expect_str_eq(get("Account For Which Logon Failed.Account Domain"), "CORP");
}

Test(fmt, winevt_forged_labels_are_ambiguous)
{
	/* A workstation name (the client's) holding the next label: the
	 * address cannot be told from the forged one, so nothing decodes. */
	cr_expect_eq(winevt("Subject: Account Name: - Logon ID: 0x0 Account For Which Logon "
			    "Failed: Account Name: bob Account Domain: CORP Network Information: "
			    "Workstation Name: x Source Network Address: 6.6.6.6 Source Network "
			    "Address: 203.0.113.5 Source Port: 0"), LW_EPARSE);
	/* A user name forging a later section comes before the real header,
	 * which is searched in order: the real section wins. */
	cr_assert_eq(winevt("Subject: Account Name: - Logon ID: 0x0 Account For Which Logon "
			    "Failed: Account Name: x Network Information: Source Network "
			    "Address: 6.6.6.6 Account Domain: CORP Network Information: "
			    "Workstation Name: WS1 Source Network Address: 203.0.113.5 "
			    "Source Port: 0"), LW_EPARSE,
		     "the header twice in its own section is ambiguous too");
}

Test(fmt, winevt_empty_last_value_does_not_take_the_explanation)
{
	/* Four blanks or more after a label: an empty value and a line
	 * break (Snare), not the event's explanatory text after it. */
	cr_assert_eq(winevt("Subject: Account Name: - Logon ID: 0x0 Logon Type: 3 Account For "
			    "Which Logon Failed: Account Name: bob Account Domain: CORP Network "
			    "Information: Workstation Name: WS1 Source Network Address: "
			    "203.0.113.5 Source Port:     This event is generated when ..."), 8);
	cr_expect_str_eq(get("Network Information.Source Port"), "");
	cr_expect_str_eq(get("Network Information.Source Network Address"), "203.0.113.5");
	/* Up to three blanks are Windows' alignment: the value follows. */
	cr_assert_eq(winevt("Subject: Account Name: - Logon ID: 0x0 Logon Type:   3 Account For "
			    "Which Logon Failed: Account Name: bob Account Domain: CORP Network "
			    "Information: Workstation Name: WS1 Source Network Address: "
			    "203.0.113.5 Source Port: 1"), 8);
	cr_expect_str_eq(get("Logon Information.Logon Type"), "3");
}
