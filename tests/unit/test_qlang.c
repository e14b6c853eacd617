/* Unit tests for store/qlang (lw_qlang) with the event fields of
 * store/qfield: the grammar (shown through the canonical form), every
 * syntax and binding error with its line:column and reason, and what
 * each kind of term matches. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/qfield.h"
#include "store/qlang.h"

#define NOW 1764579600000000000LL /* 2025-12-01T09:00:00Z */

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

/* The canonical form of text (parsed, not bound). */
static char *canon(const char *text)
{
	static char out[1024];
	struct lw_qlang *q;
	struct lw_diag d = {0};
	struct lw_buf b;

	cr_assert_eq(lw_qlang_parse(text, strlen(text), &q, &d), LW_OK, "%s: %d:%d: %s",
		     text, d.line, d.col, d.detail);
	lw_buf_init(&b);
	lw_qlang_format(q, &b);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
	lw_buf_release(&b);
	lw_qlang_free(q);
	return out;
}

/* Parse (and bind when bind is set) must fail: "LINE:COL: reason". */
static char *error_of(const char *text, int bind)
{
	static char out[700];
	struct lw_qlang *q = NULL;
	struct lw_diag d = {0};
	int rc = lw_qlang_parse(text, strlen(text), &q, &d);

	if (rc == LW_OK && bind)
		rc = lw_qlang_bind(q, &lw_qfield_schema, NOW, &d);
	lw_qlang_free(q);
	cr_assert_neq(rc, LW_OK, "'%s' was accepted", text);
	snprintf(out, sizeof(out), "%d:%d: %s", d.line, d.col, d.detail);
	return out;
}

Test(qlang, juxtaposition_is_and_and_not_binds_tightest)
{
	cr_expect_str_eq(canon("failed password"), "failed AND password");
	cr_expect_str_eq(canon("a OR b c"), "a OR b AND c");
	cr_expect_str_eq(canon("a b OR c"), "a AND b OR c");
	cr_expect_str_eq(canon("(a OR b) c"), "(a OR b) AND c");
	cr_expect_str_eq(canon("NOT a b"), "NOT a AND b");
	cr_expect_str_eq(canon("NOT (a OR b)"), "NOT (a OR b)");
	cr_expect_str_eq(canon("NOT NOT a"), "NOT NOT a");
	cr_expect_str_eq(canon("a AND (b AND c)"), "a AND b AND c");
	cr_expect_str_eq(canon("a and b or not c"), "a AND b OR NOT c");
	cr_expect_str_eq(canon("\"AND\" \\OR"), "\"AND\" AND \\OR");
	cr_expect_str_eq(canon(""), "*");
	cr_expect_str_eq(canon("  \n\t "), "*");
	cr_expect_str_eq(canon("*"), "*");
	cr_expect_str_eq(canon("ORACLE ANDROID NOTE"), "ORACLE AND ANDROID AND NOTE");
}

Test(qlang, field_values_of_every_form)
{
	cr_expect_str_eq(canon("host.name:mn-web01"), "host.name:mn-web01");
	cr_expect_str_eq(canon("host.name: mn-web01"), "host.name:mn-web01");
	cr_expect_str_eq(canon("user.name:\"a b \\\"c\\\"\""), "user.name:\"a b \\\"c\\\"\"");
	cr_expect_str_eq(canon("host.name:mn-*"), "host.name:mn-*");
	cr_expect_str_eq(canon("host.name:mn\\*"), "host.name:mn\\*");
	cr_expect_str_eq(canon("source.ip:*"), "source.ip:*");
	cr_expect_str_eq(canon("host.name:(a OR b*)"), "host.name:a OR host.name:b*");
	cr_expect_str_eq(canon("x:y host.name:(a OR NOT b)"),
			 "x:y AND (host.name:a OR NOT host.name:b)");
	cr_expect_str_eq(canon("source.ip:10.20.0.0/16"), "source.ip:10.20.0.0/16");
	cr_expect_str_eq(canon("source.ip:2001:db8::/32"), "source.ip:2001:db8::/32");
	cr_expect_str_eq(canon("@timestamp:>=2026-11-27T09:00:00+09:00"),
			 "@timestamp:[2026-11-27T09:00:00+09:00 TO *]");
	cr_expect_str_eq(canon("http.response.status_code:>500"),
			 "http.response.status_code:{500 TO *]");
	cr_expect_str_eq(canon("x:<10"), "x:[* TO 10}");
	cr_expect_str_eq(canon("x:<= \"10\""), "x:[* TO \"10\"]");
	cr_expect_str_eq(canon("x:[400 TO 499]"), "x:[400 TO 499]");
	cr_expect_str_eq(canon("x:{a TO b}"), "x:{a TO b}");
	cr_expect_str_eq(canon("message:/fail(ed|ure) for \\/x/"), "message:/fail(ed|ure) for \\/x/");
}

Test(qlang, bare_terms_search_the_text_field)
{
	cr_expect_str_eq(canon("\"Failed password\""), "\"Failed password\"");
	cr_expect_str_eq(canon("/Failed.*root/"), "/Failed.*root/");
	/* a path is a word: its first '/' closes no regex followed by a space */
	cr_expect_str_eq(canon("/usr/bin/sudo"), "\\/usr/bin/sudo");
	cr_expect_str_eq(canon("fail*root"), "fail*root");
	cr_expect_str_eq(canon("10.0.0.1\\:22"), "10.0.0.1\\:22");
}

Test(qlang, multi_line_expressions_and_columns_in_characters)
{
	cr_expect_str_eq(canon("a\nAND\r\nb"), "a AND b");
	cr_expect_str_eq(error_of("host.name:x AND\n  source.ip:", 0),
			 "2:13: expected a value after \"source.ip:\"");
	/* "ログ" is 2 characters (6 bytes): the column counts characters */
	cr_expect_str_eq(error_of("\"ログ\" AND x:", 0), "1:12: expected a value after \"x:\"");
}

Test(qlang, syntax_errors_name_the_column_and_what_was_expected)
{
	cr_expect_str_eq(error_of("x AND source.ip:", 0),
			 "1:17: expected a value after \"source.ip:\"");
	cr_expect_str_eq(error_of("source.ip: AND x", 0),
			 "1:11: expected a value after \"source.ip:\"");
	cr_expect_str_eq(error_of("a AND", 0), "1:6: expected a term after AND");
	cr_expect_str_eq(error_of("a OR", 0), "1:5: expected a term after OR");
	cr_expect_str_eq(error_of("NOT", 0), "1:4: expected a term after NOT");
	cr_expect_str_eq(error_of("OR a", 0), "1:1: expected a term before OR");
	cr_expect_str_eq(error_of("a AND OR b", 0), "1:7: expected a term after AND, not OR");
	cr_expect_str_eq(error_of("(a OR b", 0), "1:8: expected ')' to close the '(' at 1:1");
	cr_expect_str_eq(error_of("a)", 0), "1:2: unexpected ')' (no '(' to close)");
	cr_expect_str_eq(error_of("()", 0), "1:2: expected a term after '('");
	cr_expect_str_eq(error_of("x \"abc", 0),
			 "1:3: unterminated phrase: expected a closing '\"' for this one");
	cr_expect_str_eq(error_of(":foo", 0), "1:1: expected a field name before ':'");
	cr_expect_str_eq(error_of("x:[1 2]", 0), "1:6: expected TO in a range like [400 TO 499]");
	cr_expect_str_eq(error_of("x:[1 TO", 0), "1:8: expected an upper bound after TO");
	cr_expect_str_eq(error_of("x:[1 TO 2", 0),
			 "1:10: expected ']' or '}' to close the range opened at 1:3");
	cr_expect_str_eq(error_of("x:[", 0), "1:4: expected a lower bound after '['");
	cr_expect_str_eq(error_of("x:>", 0), "1:4: expected a value after \"x:>\"");
	cr_expect_str_eq(error_of("x:(a OR)", 0), "1:8: expected a term after OR");
}

Test(qlang, limits_refuse_giants)
{
	char deep[300], *big;
	struct lw_qlang *q = NULL;
	struct lw_diag d = {0};
	size_t n = 0;

	for (int i = 0; i < 100; i++)
		deep[n++] = '(';
	deep[n++] = 'a';
	for (int i = 0; i < 100; i++)
		deep[n++] = ')';
	cr_expect_eq(lw_qlang_parse(deep, n, &q, &d), LW_ETOOBIG);
	cr_expect(strstr(d.detail, "deeper than 64") != NULL, "%s", d.detail);
	cr_expect_null(q);
	big = malloc(LW_QLANG_MAX_LEN + 1);
	cr_assert_not_null(big);
	memset(big, 'a', LW_QLANG_MAX_LEN + 1);
	cr_expect_eq(lw_qlang_parse(big, LW_QLANG_MAX_LEN + 1, &q, &d), LW_ETOOBIG);
	/* 1025 terms */
	for (size_t i = 0; i < 1025; i++) {
		big[2 * i] = 'a';
		big[2 * i + 1] = ' ';
	}
	cr_expect_eq(lw_qlang_parse(big, 2050, &q, &d), LW_ETOOBIG);
	cr_expect_eq(lw_qlang_parse(big, 2048, &q, &d), LW_OK, "1024 terms are fine");
	lw_qlang_free(q);
	free(big);
}

Test(qlang, binding_errors_name_the_term)
{
	cr_expect_str_eq(error_of("a AND hostname:x", 1),
			 "1:7: unknown field 'hostname' (ECS names such as host.name, "
			 "source.ip; docs/query.md)");
	cr_expect_str_eq(error_of("log.syslog.severity.code:err", 1),
			 "1:1: expected a number for log.syslog.severity.code, got \"err\"");
	cr_expect_str_eq(error_of("message:>5", 1),
			 "1:1: message is full text: ranges need a number, time or keyword field");
	cr_expect_str_eq(error_of("@timestamp:2026-11-27", 1),
			 "1:1: @timestamp takes a range (@timestamp:>=2026-11-27T09:00:00+09:00); "
			 "or use --since/--until");
	cr_expect_str_eq(error_of("@timestamp:>yesterday", 1),
			 "1:1: expected a time for @timestamp (RFC 3339 like "
			 "2026-11-27T09:00:00+09:00, or an age like 15m, 2h, 7d)");
	cr_expect_str_eq(error_of("source.ip:[10.0.0.1 TO 10.0.0.9]", 1),
			 "1:1: source.ip is an address: use CIDR (source.ip:10.20.0.0/16) "
			 "instead of a range");
	cr_expect_str_eq(error_of("log.syslog.severity.code:4*", 1),
			 "1:1: log.syslog.severity.code is a number: wildcards need a keyword "
			 "or text field");
	/* the column of a regex error is inside the pattern */
	cr_expect(strncmp(error_of("x.y:z message:/ab(c/", 1), "1:20: bad regex /ab(c/: pcre2:", 30) == 0,
		  "%s", error_of("x.y:z message:/ab(c/", 1));
}

/* --- matching ------------------------------------------------------------ */

static struct lw_event ev;
static struct lw_field fields[4];

static void make_event(void)
{
	memset(&ev, 0, sizeof(ev));
	ev.timestamp_ns = NOW - 3600LL * 1000000000LL; /* 08:00:00Z */
	ev.created_ns = NOW;
	ev.host = S("mn-web01");
	ev.app = S("sshd");
	ev.procid = S("4242");
	ev.zone = S("mynumber");
	ev.source_address = S("10.10.0.7:51514");
	ev.message = S("Failed password for ROOT from 10.20.3.4 port 22 ssh2");
	ev.facility = 4;
	ev.severity = 3;
	ev.flags = LW_EVENT_CLOCK_SKEW | LW_EVENT_RFC5424;
	fields[0] = (struct lw_field){S("source.ip"), S("10.20.3.4")};
	fields[1] = (struct lw_field){S("user.name"), S("root")};
	fields[2] = (struct lw_field){S("destination.port"), S("22")};
	fields[3] = (struct lw_field){S("user.name"), S("admin")};
	ev.fields = fields;
	ev.nfields = 4;
}

static int matches(const char *text)
{
	struct lw_qlang *q;
	struct lw_diag d = {0};
	int rc;

	cr_assert_eq(lw_qlang_parse(text, strlen(text), &q, &d), LW_OK, "%s: %s", text, d.detail);
	cr_assert_eq(lw_qlang_bind(q, &lw_qfield_schema, NOW, &d), LW_OK, "%s: %s", text, d.detail);
	rc = lw_qlang_match(q, &ev);
	lw_qlang_free(q);
	return rc;
}

Test(qlang, full_text_contains_ignoring_ascii_case)
{
	make_event();
	cr_expect_eq(matches("failed"), 1);
	cr_expect_eq(matches("FAILED root"), 1);
	cr_expect_eq(matches("\"password for root\""), 1);
	cr_expect_eq(matches("\"password root\""), 0);
	cr_expect_eq(matches("fail*root*ssh2"), 1, "pieces in order");
	cr_expect_eq(matches("root*fail"), 0, "pieces out of order");
	cr_expect_eq(matches("pass"), 1, "a word is a substring");
	cr_expect_eq(matches("message:ssh2"), 1);
	cr_expect_eq(matches("/Failed .* ROOT/"), 1, "a regex keeps case");
	cr_expect_eq(matches("/failed/"), 0);
	cr_expect_eq(matches("/(?i)failed/"), 1);
	cr_expect_eq(matches("accepted OR failed"), 1);
	cr_expect_eq(matches("NOT failed"), 0);
}

Test(qlang, keywords_are_exact_and_wildcards_anchored)
{
	make_event();
	cr_expect_eq(matches("host.name:mn-web01"), 1);
	cr_expect_eq(matches("host.name:MN-WEB01"), 0, "keywords keep case");
	cr_expect_eq(matches("host.name:mn-web"), 0, "keywords are whole values");
	cr_expect_eq(matches("host.name:mn-*"), 1);
	cr_expect_eq(matches("host.name:*web*"), 1);
	cr_expect_eq(matches("host.name:*web"), 0);
	cr_expect_eq(matches("host.name:m*1"), 1);
	cr_expect_eq(matches("host.name:m*w*b*1"), 1);
	cr_expect_eq(matches("host.name:mn-web01*"), 1, "'*' may match nothing");
	cr_expect_eq(matches("host.name:(lg-web01 OR mn-web01)"), 1);
	cr_expect_eq(matches("host.hostname:mn-web01 AND Computer:mn-web01"), 1, "aliases");
	cr_expect_eq(matches("process.name:sshd AND log.syslog.appname:sshd"), 1);
	cr_expect_eq(matches("labels.zone:mynumber AND NOT labels.zone:lgwan"), 1);
	cr_expect_eq(matches("host.name:/web0[0-9]$/"), 1);
}

Test(qlang, absent_fields_match_no_term_and_their_negation)
{
	make_event();
	cr_expect_eq(matches("log.syslog.msgid:*"), 0, "empty member is absent");
	cr_expect_eq(matches("NOT log.syslog.msgid:*"), 1);
	cr_expect_eq(matches("log.syslog.msgid:\"\""), 1, "but equals the empty value");
	cr_expect_eq(matches("event.outcome:*"), 0);
	cr_expect_eq(matches("event.outcome:failure"), 0);
	cr_expect_eq(matches("NOT event.outcome:failure"), 1);
	cr_expect_eq(matches("source.ip:*"), 1);
	cr_expect_eq(matches("host.name:*"), 1);
}

Test(qlang, extra_fields_may_hold_several_values)
{
	make_event();
	cr_expect_eq(matches("user.name:root"), 1);
	cr_expect_eq(matches("user.name:admin"), 1);
	cr_expect_eq(matches("user.name:root AND user.name:admin"), 1);
	cr_expect_eq(matches("user.name:(root AND admin)"), 1);
	cr_expect_eq(matches("User:admin"), 1, "Sigma's name for user.name");
	cr_expect_eq(matches("user.name:guest"), 0);
}

Test(qlang, numbers_compare_as_numbers)
{
	make_event();
	cr_expect_eq(matches("log.syslog.severity.code:3"), 1);
	cr_expect_eq(matches("log.syslog.severity.code:3.0"), 1);
	cr_expect_eq(matches("log.syslog.severity.code:<=4"), 1);
	cr_expect_eq(matches("log.syslog.severity.code:<3"), 0);
	cr_expect_eq(matches("log.syslog.severity.code:[0 TO 3]"), 1);
	cr_expect_eq(matches("log.syslog.severity.code:{3 TO 7]"), 0);
	cr_expect_eq(matches("log.syslog.severity.name:err"), 1);
	cr_expect_eq(matches("log.syslog.facility.code:4 AND log.syslog.facility.name:auth"), 1);
	cr_expect_eq(matches("process.pid:>4000"), 1);
	/* extra fields are text; a range of numbers parses them */
	cr_expect_eq(matches("destination.port:[1 TO 1023]"), 1);
	cr_expect_eq(matches("destination.port:>22"), 0);
	cr_expect_eq(matches("destination.port:>=22"), 1);
	cr_expect_eq(matches("destination.port:[100 TO 9999]"), 0, "22 is not in it as a number");
	cr_expect_eq(matches("destination.port:[100 TO 9999x]"), 1, "... but is as text");
	cr_expect_eq(matches("host.name:[mn-a TO mn-z]"), 1, "keyword ranges compare bytes");
}

Test(qlang, times_take_rfc3339_and_ages)
{
	make_event(); /* @timestamp 08:00:00Z, event.created 09:00:00Z (now) */
	cr_expect_eq(matches("@timestamp:>=2025-12-01T08:00:00Z"), 1);
	cr_expect_eq(matches("@timestamp:>2025-12-01T08:00:00Z"), 0);
	cr_expect_eq(matches("@timestamp:[2025-12-01T16:00:00+09:00 TO 2025-12-01T17:00:00+09:00]"), 1);
	cr_expect_eq(matches("@timestamp:[2025-12-01T16:00:00+09:00 TO 2025-12-01T17:00:00+09:00}"), 0);
	cr_expect_eq(matches("@timestamp:>30m"), 0, "an hour old");
	cr_expect_eq(matches("@timestamp:>2h"), 1);
	cr_expect_eq(matches("event.created:>=1m"), 1);
}

Test(qlang, addresses_compare_as_addresses)
{
	make_event();
	cr_expect_eq(matches("source.ip:10.20.0.0/16"), 1);
	cr_expect_eq(matches("source.ip:10.21.0.0/16"), 0);
	cr_expect_eq(matches("source.ip:10.20.3.4"), 1);
	cr_expect_eq(matches("source.ip:\"10.20.3.4\""), 1);
	cr_expect_eq(matches("source.ip:10.20.*"), 1, "a wildcard compares the text");
	cr_expect_eq(matches("SourceIp:10.0.0.0/8"), 1);
	cr_expect_eq(matches("source.ip:0.0.0.0/0"), 1);
	cr_expect_eq(matches("log.source.address:10.10.0.0/16"), 1, "the port is not the address");
	cr_expect_eq(matches("log.source.address:10.10.0.7"), 1);
	cr_expect_eq(matches("log.source.address:\"10.10.0.7:51514\""), 1, "quoted: the text");
	fields[0].value = S("2001:db8::1");
	cr_expect_eq(matches("source.ip:2001:db8::/32"), 1);
	cr_expect_eq(matches("source.ip:2001:0db8:0:0::1"), 1, "another spelling");
	cr_expect_eq(matches("source.ip:2001:db9::/32"), 0);
	cr_expect_eq(matches("source.ip:10.0.0.0/8"), 0);
	fields[0].value = S("::ffff:10.20.3.4");
	cr_expect_eq(matches("source.ip:10.20.0.0/16"), 1, "v4-mapped v6 is the v4 address");
	ev.source_address = S("[2001:db8::7]:514");
	cr_expect_eq(matches("log.source.address:2001:db8::/64"), 1);
}

Test(qlang, flags_are_values_of_logward_flags)
{
	make_event();
	cr_expect_eq(matches("logward.flags:clock_skew"), 1);
	cr_expect_eq(matches("logward.flags:rfc5424 AND logward.flags:clock_skew"), 1);
	cr_expect_eq(matches("logward.flags:parse_error"), 0);
	ev.flags = 0;
	cr_expect_eq(matches("logward.flags:*"), 0);
}

Test(qlang, a_regex_over_its_match_limit_is_reported_not_a_no)
{
	struct lw_qlang *q;
	struct lw_diag d = {0};
	const char *text = "message:/^(a|aa)+$/";
	char msg[64];

	make_event();
	memset(msg, 'a', 40);
	strcpy(msg + 40, "b");
	ev.message = S(msg);
	cr_assert_eq(lw_qlang_parse(text, strlen(text), &q, &d), LW_OK);
	cr_assert_eq(lw_qlang_bind(q, &lw_qfield_schema, NOW, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(lw_qlang_match(q, &ev), LW_EFULL);
	lw_qlang_limit_diag(q, &d);
	cr_expect_eq(d.line, 1);
	cr_expect_eq(d.col, 1);
	cr_expect(strstr(d.detail, "exceeded the regex match limit") != NULL, "%s", d.detail);
	/* under NOT too: the answer is unknown, not "no" turned into "yes" */
	lw_qlang_free(q);
	text = "NOT message:/^(a|aa)+$/";
	cr_assert_eq(lw_qlang_parse(text, strlen(text), &q, &d), LW_OK);
	cr_assert_eq(lw_qlang_bind(q, &lw_qfield_schema, NOW, &d), LW_OK);
	cr_expect_eq(lw_qlang_match(q, &ev), LW_EFULL);
	lw_qlang_free(q);
}

Test(qlang, the_old_flags_are_terms_anded_in)
{
	struct lw_qlang *q = NULL;
	struct lw_buf b;

	cr_assert_eq(lw_qlang_and_term(&q, "host.name", LW_QLANG_EQ, "a b", 3), LW_OK);
	cr_assert_eq(lw_qlang_and_term(&q, "message", LW_QLANG_REGEX, "x/y", 3), LW_OK);
	cr_assert_eq(lw_qlang_and_term(&q, "log.syslog.severity.code", LW_QLANG_RANGE, "4", 1), LW_OK);
	cr_expect_eq(lw_qlang_and_term(&q, "x.y", LW_QLANG_NOT, "4", 1), LW_EINVAL);
	lw_buf_init(&b);
	lw_qlang_format(q, &b);
	lw_buf_putc(&b, '\0');
	cr_expect_str_eq(b.data, "host.name:\"a b\" AND message:/x\\/y/ AND "
			 "log.syslog.severity.code:[* TO \"4\"]");
	lw_buf_release(&b);
	lw_qlang_free(q);
}

Test(qlang, canonical_form_parses_back_to_itself)
{
	static const char *const inputs[] = {
		"a (b OR c) NOT d", "x:(a OR (b AND NOT c*))", "\"q\\\"uote\" \\(paren\\)",
		"f:[\"a b\" TO *} g:{* TO 5]", "/re\\/x/ OR y:/z/", "a\\:b:c", "\\AND OR \\NOT",
		"host.name:\\[x", "k:\\>5", "x:\"\"", "**", "f:** OR f:a*b*", "NOT (a b) OR c",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char once[1024];

		snprintf(once, sizeof(once), "%s", canon(inputs[i]));
		cr_expect_str_eq(canon(once), once, "input %s", inputs[i]);
	}
}
