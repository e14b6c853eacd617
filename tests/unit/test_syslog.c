/* Unit tests for collector/syslog.c (lw_syslog_parse): dispatch between the
 * RFC 5424 and RFC 3164 parsers, and the never-drop rule. */
#include <criterion/criterion.h>
#include <string.h>

#include "collector/syslog.h"
#include "core/err.h"
#include "core/time.h"

#define NS 1000000000LL
#define NOW (1795782605LL * NS)

static struct lw_event ev;
static const struct lw_parse_opts opts = {.now_ns = NOW, .tz = NULL};

static void parse_n(const char *s, size_t n)
{
	memset(&ev, 0, sizeof(ev));
	lw_syslog_parse(s, n, &opts, &ev);
}

static void parse(const char *s)
{
	parse_n(s, strlen(s));
}

#define expect_str(field, want)                                                   \
	cr_expect((field).len == strlen(want) &&                                      \
			  ((field).len == 0 || memcmp((field).ptr, (want), (field).len) == 0), \
		  #field ": got '%.*s' want '%s'", (int)(field).len,                     \
		  (field).ptr ? (field).ptr : "", (want))

#define UNPARSED (LW_EVENT_PARSE_ERROR | LW_EVENT_NO_TIMESTAMP)

Test(syslog, version_1_goes_to_rfc5424)
{
	parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - hi");
	cr_expect_eq(ev.flags, LW_EVENT_RFC5424);
	expect_str(ev.msgid, "ID47");
	expect_str(ev.message, "hi");
	cr_expect_eq(ev.created_ns, NOW);
	cr_expect_eq(ev.timestamp_ns, 1065910455LL * NS + 3000000);
}

Test(syslog, other_text_goes_to_rfc3164)
{
	parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed");
	cr_expect_eq(ev.flags, 0);
	expect_str(ev.app, "su");
	expect_str(ev.message, "'su root' failed");
	parse("<13>10 apples were eaten");
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	expect_str(ev.message, "10 apples were eaten");
	parse("<13>2 - - - - - - future version");
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	expect_str(ev.message, "2 - - - - - - future version");
}

Test(syslog, bad_rfc5424_kept_whole)
{
	const char *s = "<13>1 2003-10-11T22:14:15.003Z host app - - [bad sd] msg";

	parse(s);
	cr_expect_eq(ev.flags, UNPARSED);
	expect_str(ev.message, s);
	cr_expect_eq(ev.facility, LW_SYSLOG_NONE);
	cr_expect_eq(ev.severity, LW_SYSLOG_NONE);
	cr_expect_eq(ev.host.len, 0);
	cr_expect_eq(ev.app.len, 0);
	cr_expect_eq(ev.timestamp_ns, NOW);
	cr_expect_eq(ev.created_ns, NOW);
}

Test(syslog, plain_text_kept_whole)
{
	parse("This is a message!");
	cr_expect_eq(ev.flags, UNPARSED);
	expect_str(ev.message, "This is a message!");
}

Test(syslog, empty_line_kept_as_empty_unparsed)
{
	parse("");
	cr_expect_eq(ev.flags, UNPARSED);
	cr_expect_eq(ev.message.len, 0);
	parse("\n");
	cr_expect_eq(ev.flags, UNPARSED);
	cr_expect_eq(ev.message.len, 0);
}

Test(syslog, trailing_lf_and_nul_are_framing)
{
	parse("<13>Jan 10 01:00:00 h a: m\n");
	expect_str(ev.message, "m");
	parse_n("<13>1 - - - - - - m\0", 20);
	expect_str(ev.message, "m");
	parse("<13>Jan 10 01:00:00 h a: m\r\n");
	expect_str(ev.message, "m\r");
}

Test(syslog, binary_garbage_kept_and_flagged)
{
	const char s[] = "\x00\xff\xfe\x01garbage\x80";

	parse_n(s, sizeof(s) - 1);
	cr_expect_eq(ev.flags, UNPARSED | LW_EVENT_BAD_UTF8);
	cr_expect_eq(ev.message.len, sizeof(s) - 1);
	cr_expect_eq(memcmp(ev.message.ptr, s, sizeof(s) - 1), 0);
}

Test(syslog, truncated_flag_is_kept)
{
	memset(&ev, 0, sizeof(ev));
	ev.flags = LW_EVENT_TRUNCATED;
	lw_syslog_parse("<13>Jan 10 01:00:00 h a: m", 26, &opts, &ev);
	cr_expect_eq(ev.flags, LW_EVENT_TRUNCATED);
	memset(&ev, 0, sizeof(ev));
	ev.flags = LW_EVENT_TRUNCATED;
	lw_syslog_parse("junk", 4, &opts, &ev);
	cr_expect_eq(ev.flags, LW_EVENT_TRUNCATED | UNPARSED);
}

Test(syslog, zone_source_and_fields_untouched)
{
	struct lw_field f = {LW_STR_LIT("k"), LW_STR_LIT("v")};

	memset(&ev, 0, sizeof(ev));
	ev.zone = LW_STR_LIT("mynumber");
	ev.source_address = LW_STR_LIT("10.10.0.1:514");
	ev.fields = &f;
	ev.nfields = 1;
	lw_syslog_parse("junk", 4, &opts, &ev);
	expect_str(ev.zone, "mynumber");
	expect_str(ev.source_address, "10.10.0.1:514");
	cr_expect_eq(ev.fields, &f);
	cr_expect_eq(ev.nfields, 1);
	lw_syslog_parse("<13>1 - - - - - - m", 19, &opts, &ev);
	expect_str(ev.zone, "mynumber");
	cr_expect_eq(ev.fields, &f);
}

Test(syslog, no_timestamp_uses_receive_time)
{
	parse("<13>1 - h a - - - m");
	cr_expect_eq(ev.flags, LW_EVENT_RFC5424 | LW_EVENT_NO_TIMESTAMP);
	cr_expect_eq(ev.timestamp_ns, NOW);
	parse("<13>hello");
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	cr_expect_eq(ev.timestamp_ns, NOW);
}

Test(syslog, views_point_into_input)
{
	const char *s = "<86>Nov 27 12:30:05 h sshd[1]: ok";

	parse(s);
	cr_expect(ev.host.ptr >= s && ev.host.ptr + ev.host.len <= s + strlen(s));
	cr_expect(ev.app.ptr >= s && ev.app.ptr + ev.app.len <= s + strlen(s));
	cr_expect(ev.message.ptr >= s && ev.message.ptr + ev.message.len <= s + strlen(s));
}
