/* Unit tests for collector/rfc5424.c (lw_rfc5424_*): RFC 5424 section 6.5
 * examples and real sender shapes, with exact field values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collector/rfc5424.h"
#include "core/err.h"
#include "core/utf8.h"
#include "core/sd.h"

#define NS 1000000000LL
#define BOM "\xef\xbb\xbf"

static struct lw_event ev;
static const struct lw_parse_opts opts = {.now_ns = 1795782605LL * NS, .tz = NULL};

static int parse(const char *s)
{
	memset(&ev, 0, sizeof(ev));
	return lw_rfc5424_parse(s, strlen(s), &opts, &ev);
}

static int parse_n(const char *s, size_t n)
{
	memset(&ev, 0, sizeof(ev));
	return lw_rfc5424_parse(s, n, &opts, &ev);
}

#define expect_str(field, want)                                                   \
	cr_expect((field).len == strlen(want) &&                                      \
			  ((field).len == 0 || memcmp((field).ptr, (want), (field).len) == 0), \
		  #field ": got '%.*s' want '%s'", (int)(field).len,                     \
		  (field).ptr ? (field).ptr : "", (want))

Test(rfc5424, rfc_example_1_bom_stripped)
{
	cr_assert_eq(parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
			   BOM "'su root' failed for lonvick on /dev/pts/8"), LW_OK);
	cr_expect_eq(ev.facility, 4);
	cr_expect_eq(ev.severity, 2);
	cr_expect_eq(ev.timestamp_ns, 1065910455LL * NS + 3000000);
	expect_str(ev.host, "mymachine.example.com");
	expect_str(ev.app, "su");
	expect_str(ev.procid, "");
	expect_str(ev.msgid, "ID47");
	expect_str(ev.structured_data, "");
	expect_str(ev.message, "'su root' failed for lonvick on /dev/pts/8");
	cr_expect_eq(ev.flags, LW_EVENT_RFC5424);
	cr_expect_eq(ev.created_ns, opts.now_ns);
}

Test(rfc5424, rfc_example_2_offset_and_micros)
{
	cr_assert_eq(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - "
			   "%% It's time to make the do-nuts."), LW_OK);
	cr_expect_eq(ev.facility, 20);
	cr_expect_eq(ev.severity, 5);
	cr_expect_eq(ev.timestamp_ns, 1061727255LL * NS + 3000);
	expect_str(ev.host, "192.0.2.1");
	expect_str(ev.app, "myproc");
	expect_str(ev.procid, "8710");
	expect_str(ev.msgid, "");
	expect_str(ev.message, "%% It's time to make the do-nuts.");
}

Test(rfc5424, rfc_example_3_sd_and_bom)
{
	cr_assert_eq(parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
			   "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] "
			   BOM "An application event log entry..."), LW_OK);
	expect_str(ev.app, "evntslog");
	expect_str(ev.structured_data,
		   "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]");
	expect_str(ev.message, "An application event log entry...");
}

Test(rfc5424, rfc_example_4_two_elements_no_msg)
{
	cr_assert_eq(parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
			   "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
			   "[examplePriority@32473 class=\"high\"]"), LW_OK);
	expect_str(ev.structured_data,
		   "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
		   "[examplePriority@32473 class=\"high\"]");
	cr_expect_eq(ev.message.len, 0);
}

Test(rfc5424, all_nil_minimal)
{
	cr_assert_eq(parse("<13>1 - - - - - - minimal"), LW_OK);
	cr_expect_eq(ev.facility, 1);
	cr_expect_eq(ev.severity, 5);
	cr_expect_eq(ev.flags, LW_EVENT_RFC5424 | LW_EVENT_NO_TIMESTAMP);
	cr_expect_eq(ev.timestamp_ns, opts.now_ns);
	expect_str(ev.host, "");
	expect_str(ev.app, "");
	expect_str(ev.message, "minimal");
}

Test(rfc5424, all_nil_no_msg)
{
	cr_assert_eq(parse("<0>1 - - - - - -"), LW_OK);
	cr_expect_eq(ev.facility, 0);
	cr_expect_eq(ev.severity, 0);
	cr_expect_eq(ev.message.len, 0);
}

Test(rfc5424, empty_msg_after_space)
{
	cr_assert_eq(parse("<191>1 - h a p m -  "), LW_OK);
	cr_expect_eq(ev.facility, 23);
	cr_expect_eq(ev.severity, 7);
	expect_str(ev.message, " ");
}

Test(rfc5424, extra_spaces_belong_to_msg)
{
	cr_assert_eq(parse("<13>1 2019-05-15T11:21:57+03:00 domain.tld tag - - -  nosd-sp"), LW_OK);
	expect_str(ev.message, " nosd-sp");
	cr_expect_eq(ev.timestamp_ns, 1557908517LL * NS);
	cr_assert_eq(parse("<13>1 2019-05-15T11:21:57+03:00 domain.tld tag - - [abc@123 a=\"b\"]  sd-sp"), LW_OK);
	expect_str(ev.message, " sd-sp");
}

Test(rfc5424, logger_octet_counted_shape)
{
	cr_assert_eq(parse("<13>1 2026-11-27T21:30:05.123456+09:00 web01 alice - - "
			   "[timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"138000\"] hello"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, 1795782605LL * NS + 123456000);
	expect_str(ev.host, "web01");
	expect_str(ev.app, "alice");
	expect_str(ev.message, "hello");
}

Test(rfc5424, rsyslog_forward_shape_with_msgid)
{
	cr_assert_eq(parse("<86>1 2026-11-27T12:30:05.000001+00:00 bastion sshd 4123 AUTH - "
			   "Failed password for root from 203.0.113.9 port 52214 ssh2"), LW_OK);
	cr_expect_eq(ev.facility, 10);
	cr_expect_eq(ev.severity, 6);
	expect_str(ev.procid, "4123");
	expect_str(ev.msgid, "AUTH");
	cr_expect_eq(ev.timestamp_ns, 1795782605LL * NS + 1000);
}

Test(rfc5424, long_fraction_truncated_to_ns)
{
	cr_assert_eq(parse("<13>1 2026-11-27T12:30:05.123456789987654321Z h a - - - m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, 1795782605LL * NS + 123456789);
	cr_assert_eq(parse("<13>1 2026-11-27T12:30:05.1Z h a - - - m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, 1795782605LL * NS + 100000000);
}

Test(rfc5424, sd_escapes_validated)
{
	cr_assert_eq(parse("<132>1 2006-10-29T01:59:59.156+01:00 mymachine evntslog - - "
			   "[a i=\"\\]\\\"\\\\\"] An application event log entry..."), LW_OK);
	expect_str(ev.structured_data, "[a i=\"\\]\\\"\\\\\"]");
	expect_str(ev.message, "An application event log entry...");
	cr_expect_eq(ev.timestamp_ns, 1162083599LL * NS + 156000000);
}

Test(rfc5424, sd_backslash_before_other_char_is_literal)
{
	cr_assert_eq(parse("<13>1 - - - - - [a p=\"C:\\temp\\x\"] m"), LW_OK);
	expect_str(ev.structured_data, "[a p=\"C:\\temp\\x\"]");
}

Test(rfc5424, sd_element_without_params)
{
	cr_assert_eq(parse("<134>1 2009-10-16T11:51:56+02:00 exchange.macartney.esbjerg MSExchange_ADAccess "
			   "20208 - [origin enterpriseId=\"1.3.6.1.4.1\"][nosdnvpair] An application event log entry..."), LW_OK);
	expect_str(ev.structured_data, "[origin enterpriseId=\"1.3.6.1.4.1\"][nosdnvpair]");
	expect_str(ev.procid, "20208");
	cr_expect_eq(ev.timestamp_ns, 1255686716LL * NS);
}

Test(rfc5424, sd_utf8_value_kept)
{
	cr_assert_eq(parse("<13>1 - - - - - [x@1 user=\"山田太郎\"] ログイン成功"), LW_OK);
	expect_str(ev.structured_data, "[x@1 user=\"山田太郎\"]");
	expect_str(ev.message, "ログイン成功");
	cr_expect_eq(ev.flags & LW_EVENT_BAD_UTF8, 0);
}

Test(rfc5424, bad_sd_rejected)
{
	static const char *bad[] = {
		"<13>1 - - - - - [a i=\"\"ok\"] m",          /* unescaped quote */
		"<13>1 - - - - - [a i=\"]ok\"] m",           /* unescaped ] */
		"<13>1 - - - - - [ a i=\"1\"] m",            /* space after [ */
		"<13>1 - - - - - [a i=\"1\"] [b j=\"2\"]x", /* fine SD then 'x'? no: SP then MSG */
		"<13>1 - - - - - [a i=\"1\"]x",              /* no SP before MSG */
		"<13>1 - - - - - [a i=1] m",                 /* unquoted value */
		"<13>1 - - - - - [a i=\"1\" ] m",            /* trailing space */
		"<13>1 - - - - - [a  i=\"1\"] m",            /* two spaces */
		"<13>1 - - - - - [a i=\"1\"",                /* unterminated */
		"<13>1 - - - - - [a i=\"1",                  /* unterminated value */
		"<13>1 - - - - - [] m",                      /* empty SD-ID */
		"<13>1 - - - - - [a =\"1\"] m",              /* empty PARAM-NAME */
		"<13>1 - - - - - [a@1 i=\"1\"][a@1 i=\"2\"] m", /* duplicate SD-ID */
		"<13>1 - - - - - [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa i=\"long_33\"] m",
		"<13>1 - - - - - [a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\"long_33\"] m",
		"<13>1 - - - - - x m",                       /* neither NIL nor [ */
		"<13>1 - - - - - -x",                        /* NIL then junk */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (i == 3) {
			cr_expect_eq(parse(bad[i]), LW_OK, "%s", bad[i]);
			expect_str(ev.message, "[b j=\"2\"]x");
			continue;
		}
		cr_expect_eq(parse(bad[i]), LW_EPARSE, "%s", bad[i]);
	}
}

Test(rfc5424, sd_name_of_32_accepted)
{
	cr_expect_eq(parse("<13>1 - - - - - [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=\"x\"] m"),
		     LW_OK);
}

Test(rfc5424, header_errors_rejected)
{
	static const char *bad[] = {
		"",
		"<",
		"<13>",
		"<13>1",
		"<13>1 ",
		"13>1 - - - - - -",
		"<192>1 - - - - - -",      /* PRIVAL > 191 */
		"<013>1 - - - - - -",      /* leading zero */
		"<1000>1 - - - - - -",
		"<>1 - - - - - -",
		"<13>0 - - - - - -",       /* version 0 */
		"<13>01 - - - - - -",
		"<13>1000 - - - - - -",
		"<13>1  - - - - - -",      /* two spaces */
		"<13>1 - - - - -",         /* SD missing */
		"<13>1 - - - - - ",        /* SD missing after SP */
		"<13>1 2003-10-11T22:14:15.003 h a - - - m",  /* no offset */
		"<13>1 2003-10-11 22:14:15Z h a - - - m",     /* space for T */
		"<13>1 2003-10-11t22:14:15Z h a - - - m",
		"<13>1 2003-10-11T22:14:15z h a - - - m",
		"<13>1 2003-10-32T22:14:15Z h a - - - m",
		"<13>1 2003-02-29T22:14:15Z h a - - - m",
		"<13>1 2003-10-11T24:14:15Z h a - - - m",
		"<13>1 2003-10-11T22:14:60Z h a - - - m",     /* leap second */
		"<13>1 2003-10-11T22:14:15.Z h a - - - m",
		"<13>1 2003-10-11T22:14:15+0100 h a - - - m",
		"<13>1 2003-10-11T22:14:15Zh a - - - m",
		"<13>1 - h\x01x a - - - m",                  /* control in HOSTNAME */
		"<13>1 - h a\xc3\xa9 - - - m",               /* non-ASCII APP-NAME */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(parse(bad[i]), LW_EPARSE, "case %zu: %s", i, bad[i]);
}

Test(rfc5424, field_length_limits)
{
	char buf[1024];
	char h255[256], h256[257], a48[49], a49[50], p128[129], p129[130], m32[33], m33[34];

	memset(h255, 'h', 255); h255[255] = 0;
	memset(h256, 'h', 256); h256[256] = 0;
	memset(a48, 'a', 48); a48[48] = 0;
	memset(a49, 'a', 49); a49[49] = 0;
	memset(p128, 'p', 128); p128[128] = 0;
	memset(p129, 'p', 129); p129[129] = 0;
	memset(m32, 'm', 32); m32[32] = 0;
	memset(m33, 'm', 33); m33[33] = 0;

	snprintf(buf, sizeof(buf), "<13>1 - %s %s %s %s - x", h255, a48, p128, m32);
	cr_assert_eq(parse(buf), LW_OK);
	cr_expect_eq(ev.host.len, 255);
	cr_expect_eq(ev.app.len, 48);
	cr_expect_eq(ev.procid.len, 128);
	cr_expect_eq(ev.msgid.len, 32);
	snprintf(buf, sizeof(buf), "<13>1 - %s a p m - x", h256);
	cr_expect_eq(parse(buf), LW_EPARSE);
	snprintf(buf, sizeof(buf), "<13>1 - h %s p m - x", a49);
	cr_expect_eq(parse(buf), LW_EPARSE);
	snprintf(buf, sizeof(buf), "<13>1 - h a %s m - x", p129);
	cr_expect_eq(parse(buf), LW_EPARSE);
	snprintf(buf, sizeof(buf), "<13>1 - h a p %s - x", m33);
	cr_expect_eq(parse(buf), LW_EPARSE);
}

Test(rfc5424, hostname_with_slash_and_dash_prefix)
{
	cr_assert_eq(parse("<13>1 - hostname1/hostname2 -app -1 -m - x"), LW_OK);
	expect_str(ev.host, "hostname1/hostname2");
	expect_str(ev.app, "-app");
	expect_str(ev.procid, "-1");
	expect_str(ev.msgid, "-m");
}

Test(rfc5424, invalid_utf8_msg_kept_and_flagged)
{
	const char s[] = "<13>1 - h a - - - bad \xff\xfe bytes \xc3";

	cr_assert_eq(parse_n(s, sizeof(s) - 1), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_RFC5424 | LW_EVENT_NO_TIMESTAMP | LW_EVENT_BAD_UTF8);
	cr_expect_eq(ev.message.len, 14);
	cr_expect_eq(memcmp(ev.message.ptr, "bad \xff\xfe bytes \xc3", 14), 0);
}

Test(rfc5424, bom_then_invalid_utf8)
{
	const char s[] = "<13>1 - - - - - - " BOM "\xc1";

	cr_assert_eq(parse_n(s, sizeof(s) - 1), LW_OK);
	cr_expect_eq(ev.message.len, 1);
	cr_expect(ev.flags & LW_EVENT_BAD_UTF8);
}

Test(rfc5424, nul_byte_inside_msg_kept)
{
	const char s[] = "<13>1 - h a - - - a\0b";

	cr_assert_eq(parse_n(s, sizeof(s) - 1), LW_OK);
	cr_expect_eq(ev.message.len, 3);
	cr_expect_eq(memcmp(ev.message.ptr, "a\0b", 3), 0);
	cr_expect_eq(ev.flags & LW_EVENT_BAD_UTF8, 0);
}

Test(rfc5424, nul_byte_in_header_rejected)
{
	const char s[] = "<13>1 - h\0 a - - - m";

	cr_expect_eq(parse_n(s, sizeof(s) - 1), LW_EPARSE);
}

Test(rfc5424, does_not_read_past_len)
{
	const char *s = "<13>1 - h a - - [a b=\"c\"] m";

	/* Cut inside SD: must fail, not read the rest of the C string. */
	cr_expect_eq(parse_n(s, 22), LW_EPARSE);
	cr_expect_eq(parse_n(s, 25), LW_OK);
	expect_str(ev.structured_data, "[a b=\"c\"]");
}

Test(rfc5424, huge_message)
{
	static char big[200000];

	memcpy(big, "<13>1 - h a - - - ", 18);
	memset(big + 18, 'x', sizeof(big) - 18);
	cr_assert_eq(parse_n(big, sizeof(big)), LW_OK);
	cr_expect_eq(ev.message.len, sizeof(big) - 18);
}

Test(rfc5424, truncated_flag_survives)
{
	memset(&ev, 0, sizeof(ev));
	ev.flags = LW_EVENT_TRUNCATED | LW_EVENT_PARSE_ERROR;
	cr_assert_eq(lw_rfc5424_parse("<13>1 - - - - - -", 17, &opts, &ev), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_TRUNCATED | LW_EVENT_RFC5424 | LW_EVENT_NO_TIMESTAMP);
}

Test(rfc5424, leaves_zone_and_fields_alone)
{
	struct lw_field f = {LW_STR_LIT("k"), LW_STR_LIT("v")};

	memset(&ev, 0, sizeof(ev));
	ev.zone = LW_STR_LIT("lgwan");
	ev.fields = &f;
	ev.nfields = 1;
	cr_assert_eq(lw_rfc5424_parse("<13>1 - - - - - -", 17, &opts, &ev), LW_OK);
	expect_str(ev.zone, "lgwan");
	cr_expect_eq(ev.fields, &f);
	cr_expect_eq(ev.nfields, 1);
}

/* --- SD iteration ---------------------------------------------------- */

struct sd_seen {
	char out[512];
	size_t len;
	int stop_after;
	int calls;
};

static int sd_collect(struct lw_str id, struct lw_str name, struct lw_str value, void *arg)
{
	struct sd_seen *s = arg;

	s->len += (size_t)snprintf(s->out + s->len, sizeof(s->out) - s->len, "%.*s|%.*s|%.*s;",
				   (int)id.len, id.ptr, (int)name.len, name.ptr ? name.ptr : "",
				   (int)value.len, value.ptr ? value.ptr : "");
	s->calls++;
	return s->stop_after && s->calls >= s->stop_after ? 42 : LW_OK;
}

Test(rfc5424, sd_each_unescapes_values)
{
	const char *sd = "[ABC@32473 eventType=\"XYZ:IPIP,9:\\\"free -m\\\";\" bracket=\"1\\]2\" "
			 "path=\"C:\\\\x\\y\"][origin ip=\"10.0.0.1\"][empty]";
	struct sd_seen s = {0};
	char scratch[256];

	cr_assert_eq(lw_sd_each((struct lw_str){sd, (uint32_t)strlen(sd)}, scratch,
					sizeof(scratch), sd_collect, &s), LW_OK);
	cr_expect_str_eq(s.out, "ABC@32473|eventType|XYZ:IPIP,9:\"free -m\";;"
				"ABC@32473|bracket|1]2;ABC@32473|path|C:\\x\\y;"
				"origin|ip|10.0.0.1;empty||;");
}

Test(rfc5424, sd_each_stops_on_callback_value)
{
	const char *sd = "[a x=\"1\" y=\"2\"][b z=\"3\"]";
	struct sd_seen s = {.stop_after = 2};
	char scratch[64];

	cr_expect_eq(lw_sd_each((struct lw_str){sd, (uint32_t)strlen(sd)}, scratch,
					sizeof(scratch), sd_collect, &s), 42);
	cr_expect_eq(s.calls, 2);
}

Test(rfc5424, sd_each_errors)
{
	const char *bad = "[a x=\"1\"";
	struct sd_seen s = {0};
	char scratch[64];

	cr_expect_eq(lw_sd_each((struct lw_str){bad, (uint32_t)strlen(bad)}, scratch,
					sizeof(scratch), sd_collect, &s), LW_EPARSE);
	cr_expect_eq(lw_sd_each((struct lw_str){bad, (uint32_t)strlen(bad)}, scratch, 2,
					sd_collect, &s), LW_EINVAL);
	cr_expect_eq(lw_sd_each(LW_STR_NULL, NULL, 0, sd_collect, &s), LW_OK);
}

Test(rfc5424, sd_span_lengths)
{
	cr_expect_eq(lw_sd_span("[a][b] x", 8), 6);
	cr_expect_eq(lw_sd_span("[a", 2), 0);
	cr_expect_eq(lw_sd_span("-", 1), 0);
}

Test(rfc5424, utf8_validator)
{
	cr_expect_eq(lw_utf8_valid("", 0), 1);
	cr_expect_eq(lw_utf8_valid("plain ascii text longer than 8", 30), 1);
	cr_expect_eq(lw_utf8_valid("日本語のログ", strlen("日本語のログ")), 1);
	cr_expect_eq(lw_utf8_valid("\xf0\x9f\x98\x80", 4), 1);
	cr_expect_eq(lw_utf8_valid("\xc0\xaf", 2), 0);          /* overlong */
	cr_expect_eq(lw_utf8_valid("\xe0\x80\xaf", 3), 0);      /* overlong */
	cr_expect_eq(lw_utf8_valid("\xed\xa0\x80", 3), 0);      /* surrogate */
	cr_expect_eq(lw_utf8_valid("\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
	cr_expect_eq(lw_utf8_valid("abcdefgh\xe6\x97", 10), 0); /* cut */
	cr_expect_eq(lw_utf8_valid("\xf0(\x8c\xbc", 4), 0);
	cr_expect_eq(lw_utf8_valid("\x80", 1), 0);
}
