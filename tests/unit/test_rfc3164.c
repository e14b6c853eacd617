/* Unit tests for collector/rfc3164.c (lw_rfc3164_*): RFC 3164 examples and
 * what real senders emit (rsyslog, syslog-ng, logger, sshd, sudo, kernel,
 * Cisco IOS/PIX/ASA, AIX, Dell), with exact field values. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "collector/rfc3164.h"
#include "core/err.h"
#include "core/time.h"
#include "core/tz.h"

#define NS 1000000000LL

/* 2019-02-08T08:37:49Z, syslog-ng's test "now". */
#define NOW 1549615069LL
static struct lw_event ev;
static struct lw_parse_opts opts = {.now_ns = NOW * NS, .tz = NULL};

static int parse_n(const char *s, size_t n)
{
	memset(&ev, 0, sizeof(ev));
	return lw_rfc3164_parse(s, n, &opts, &ev);
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static int64_t utc(int64_t y, unsigned mo, unsigned d, int h, int mi, int s)
{
	return (lw_time_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * NS;
}

#define expect_str(field, want)                                                   \
	cr_expect((field).len == strlen(want) &&                                      \
			  ((field).len == 0 || memcmp((field).ptr, (want), (field).len) == 0), \
		  #field ": got '%.*s' want '%s'", (int)(field).len,                     \
		  (field).ptr ? (field).ptr : "", (want))

static struct lw_tz *zone(const char *name)
{
	struct lw_tz *tz = NULL;

	if (access("/usr/share/zoneinfo/Asia/Tokyo", R_OK) != 0)
		cr_skip_test("no tzdata");
	cr_assert_eq(lw_tz_load(name, &tz, NULL), LW_OK);
	return tz;
}

Test(rfc3164, rfc_example_1)
{
	cr_assert_eq(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"), LW_OK);
	cr_expect_eq(ev.facility, 4);
	cr_expect_eq(ev.severity, 2);
	cr_expect_eq(ev.timestamp_ns, utc(2018, 10, 11, 22, 14, 15));
	expect_str(ev.host, "mymachine");
	expect_str(ev.app, "su");
	expect_str(ev.procid, "");
	expect_str(ev.message, "'su root' failed for lonvick on /dev/pts/8");
	cr_expect_eq(ev.flags, 0);
	cr_expect_eq(ev.created_ns, NOW * NS);
}

Test(rfc3164, rfc_example_2_no_tag)
{
	cr_assert_eq(parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2019, 2, 5, 17, 32, 18));
	expect_str(ev.host, "10.0.0.99");
	expect_str(ev.app, "");
	expect_str(ev.message, "Use the BFG!");
}

Test(rfc3164, rfc_example_3_pid)
{
	cr_assert_eq(parse("<165>Aug 24 05:34:00 mymachine myproc[10]: %% It's time to make the do-nuts."), LW_OK);
	cr_expect_eq(ev.facility, 20);
	cr_expect_eq(ev.severity, 5);
	expect_str(ev.app, "myproc");
	expect_str(ev.procid, "10");
	expect_str(ev.message, "%% It's time to make the do-nuts.");
	cr_expect_eq(ev.timestamp_ns, utc(2018, 8, 24, 5, 34, 0));
}

Test(rfc3164, sshd_auth_log_line)
{
	cr_assert_eq(parse("<38>Feb  8 09:10:11 bastion sshd[4123]: Failed password for invalid user admin "
			   "from 203.0.113.9 port 52214 ssh2"), LW_OK);
	cr_expect_eq(ev.facility, 4);
	cr_expect_eq(ev.severity, 6);
	expect_str(ev.host, "bastion");
	expect_str(ev.app, "sshd");
	expect_str(ev.procid, "4123");
	expect_str(ev.message, "Failed password for invalid user admin from 203.0.113.9 port 52214 ssh2");
}

Test(rfc3164, sudo_line)
{
	cr_assert_eq(parse("<85>Jan 24 15:50:41 ip-172-31-30-110 sudo[6040]: ec2-user : TTY=pts/0 ; "
			   "PWD=/var/log ; USER=root ; COMMAND=/bin/tail secure"), LW_OK);
	cr_expect_eq(ev.facility, 10);
	cr_expect_eq(ev.severity, 5);
	expect_str(ev.host, "ip-172-31-30-110");
	expect_str(ev.app, "sudo");
	expect_str(ev.procid, "6040");
	expect_str(ev.message, "ec2-user : TTY=pts/0 ; PWD=/var/log ; USER=root ; COMMAND=/bin/tail secure");
	cr_expect_eq(ev.timestamp_ns, utc(2019, 1, 24, 15, 50, 41));
}

Test(rfc3164, kernel_line)
{
	cr_assert_eq(parse("<4>Feb  8 09:00:00 fw01 kernel: [12345.678901] IN=eth0 OUT= SRC=198.51.100.7 "
			   "DST=10.30.0.5 PROTO=TCP DPT=22"), LW_OK);
	cr_expect_eq(ev.facility, 0);
	cr_expect_eq(ev.severity, 4);
	expect_str(ev.app, "kernel");
	expect_str(ev.procid, "");
	expect_str(ev.message, "[12345.678901] IN=eth0 OUT= SRC=198.51.100.7 DST=10.30.0.5 PROTO=TCP DPT=22");
}

Test(rfc3164, no_pri_defaults_user_notice)
{
	/* A stamp ten days after "now" would be last year's. */
	opts.now_ns = utc(2019, 2, 18, 16, 2, 0);
	cr_assert_eq(parse("Feb 18 16:01:59 serverX -- MARK --"), LW_OK);
	opts.now_ns = NOW * NS;
	cr_expect_eq(ev.facility, 1);
	cr_expect_eq(ev.severity, 5);
	cr_expect_eq(ev.flags, LW_EVENT_NO_PRI);
	expect_str(ev.host, "serverX");
	expect_str(ev.app, "");
	expect_str(ev.message, "-- MARK --");
	cr_expect_eq(ev.timestamp_ns, utc(2019, 2, 18, 16, 1, 59));
}

Test(rfc3164, var_log_auth_line_without_pri)
{
	cr_assert_eq(parse("Jan 31 23:59:59 host CRON[991]: pam_unix(cron:session): session closed for user root"), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_NO_PRI);
	expect_str(ev.app, "CRON");
	expect_str(ev.procid, "991");
	expect_str(ev.message, "pam_unix(cron:session): session closed for user root");
	cr_expect_eq(ev.timestamp_ns, utc(2019, 1, 31, 23, 59, 59));
}

Test(rfc3164, day_padding_variants)
{
	static const char *forms[] = {
		"<38>Mar  7 19:06:53 example tag: testmessage",
		"<38>Mar 7 19:06:53 example tag: testmessage",
		"<38>Mar 07 19:06:53 example tag: testmessage",
		"<38> Mar  7 19:06:53 example tag: testmessage",
		"<38>Mar 7 19:06:53: example tag: testmessage",
		"<38>Mar 7 2019 19:06:53: example tag: testmessage",
		"<38>Mar 7 2019 19:06:53 example tag: testmessage",
		"<38>MAR  7 19:06:53 example tag: testmessage",
		"<38>mar  7 19:06:53 example tag: testmessage",
	};

	opts.now_ns = utc(2019, 3, 8, 0, 0, 0);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		cr_assert_eq(parse(forms[i]), LW_OK, "%s", forms[i]);
		cr_expect_eq(ev.timestamp_ns, utc(2019, 3, 7, 19, 6, 53), "%s", forms[i]);
		expect_str(ev.host, "example");
		expect_str(ev.app, "tag");
		expect_str(ev.message, "testmessage");
	}
	opts.now_ns = NOW * NS;
}

/* docs/parsing.md "Year-less timestamps": the latest year that puts the
 * stamp at most the slack (max_clock_skew) after the reference time. */
Test(rfc3164, year_never_more_than_the_slack_in_the_future)
{
	/* Dec 31 received on Jan 1: last year. */
	opts.now_ns = utc(2027, 1, 1, 0, 0, 5);
	cr_assert_eq(parse("<13>Dec 31 23:59:58 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 12, 31, 23, 59, 58));
	/* Jan 1 received on Dec 31, sender 5 s ahead (within the default
	 * 300 s): next year. */
	opts.now_ns = utc(2026, 12, 31, 23, 59, 58);
	cr_assert_eq(parse("<13>Jan  1 00:00:03 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2027, 1, 1, 0, 0, 3));
	/* ... 10 minutes ahead, more than the slack: it cannot be next
	 * year's, so it is this year's (and judged skewed by the pipeline). */
	cr_assert_eq(parse("<13>Jan  1 00:10:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 1, 1, 0, 10, 0));
	/* A larger slack admits it. */
	opts.future_slack_ns = 3600 * NS;
	cr_assert_eq(parse("<13>Jan  1 00:10:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2027, 1, 1, 0, 10, 0));
	opts.future_slack_ns = 0;
	/* Jun received in Nov: same year. */
	opts.now_ns = utc(2026, 11, 27, 12, 0, 0);
	cr_assert_eq(parse("<13>Jun 15 10:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 6, 15, 10, 0, 0));
	/* Feb 29 received in 2025: 2024 is the latest leap year. */
	opts.now_ns = utc(2025, 3, 1, 0, 0, 0);
	cr_assert_eq(parse("<13>Feb 29 12:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2024, 2, 29, 12, 0, 0));
	/* Feb 29 received on Feb 28 2028: 2028's is a day ahead, so 2024. */
	opts.now_ns = utc(2028, 2, 28, 12, 0, 0);
	cr_assert_eq(parse("<13>Feb 29 12:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2024, 2, 29, 12, 0, 0));
	opts.now_ns = NOW * NS;
}

/* Importing last spring's auth.log in December: the reference is the
 * file's modification time, not now, and March stays in the past. */
Test(rfc3164, year_from_the_reference_time_of_an_import)
{
	opts.now_ns = utc(2026, 12, 6, 9, 0, 0);        /* read today */
	cr_assert_eq(parse("Mar 27 13:06:56 h sshd[1]: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 3, 27, 13, 6, 56));
	cr_expect_eq(ev.created_ns, utc(2026, 12, 6, 9, 0, 0));
	/* File last written 2026-07-01: a December stamp in it is 2025's. */
	opts.reference_ns = utc(2026, 7, 1, 0, 0, 0);
	cr_assert_eq(parse("Dec 20 08:00:00 h sshd[1]: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2025, 12, 20, 8, 0, 0));
	cr_assert_eq(parse("Jun 30 23:59:59 h sshd[1]: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 6, 30, 23, 59, 59));
	cr_expect_eq(ev.created_ns, utc(2026, 12, 6, 9, 0, 0),
		     "event.created stays the receive time");
	/* A stamp with a year ignores the reference. */
	cr_assert_eq(parse("<13>Dec 20 2026 08:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 12, 20, 8, 0, 0));
	opts.reference_ns = 0;
	opts.now_ns = NOW * NS;
}

Test(rfc3164, zone_applied_to_local_stamps)
{
	struct lw_tz *tokyo = zone("Asia/Tokyo");

	opts.tz = tokyo;
	opts.now_ns = utc(2026, 11, 27, 13, 0, 0);
	cr_assert_eq(parse("<13>Nov 27 21:30:05 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 11, 27, 12, 30, 5));
	/* Year inference uses the local date: Jan 1 03:00 JST is Dec 31 UTC. */
	opts.now_ns = utc(2026, 12, 31, 18, 30, 0);
	cr_assert_eq(parse("<13>Jan  1 03:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 12, 31, 18, 0, 0));
	/* An explicit offset wins over the zone. */
	cr_assert_eq(parse("<13>2026-11-27T12:30:05Z h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 11, 27, 12, 30, 5));
	/* No offset: the zone. */
	cr_assert_eq(parse("<13>2026-11-27T21:30:05 h a: m"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 11, 27, 12, 30, 5));
	opts.tz = NULL;
	opts.now_ns = NOW * NS;
	lw_tz_free(tokyo);
}

Test(rfc3164, berlin_dst_edges_like_syslog_ng)
{
	struct lw_tz *berlin = zone("Europe/Berlin");

	opts.tz = berlin;
	cr_assert_eq(parse("<15>Jan  1 01:00:00 bzorp openvpn[2499]: PTHREAD support initialized"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, 1546300800LL * NS);
	cr_assert_eq(parse("<7>Aug 29 02:00:00 bzorp ctld/snmpd[2499]: PTHREAD support initialized"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2018, 8, 29, 0, 0, 0));
	expect_str(ev.app, "ctld/snmpd");
	expect_str(ev.procid, "2499");
	opts.tz = NULL;
	lw_tz_free(berlin);
}

Test(rfc3164, iso_stamp_rsyslog_forwarding_format)
{
	cr_assert_eq(parse("<86>2026-11-27T21:30:05.123456+09:00 web01 sshd[77]: Accepted publickey for alice"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 11, 27, 12, 30, 5) + 123456000);
	expect_str(ev.host, "web01");
	expect_str(ev.app, "sshd");
	expect_str(ev.procid, "77");
	expect_str(ev.message, "Accepted publickey for alice");
	cr_expect_eq(ev.flags, 0);
}

Test(rfc3164, iso_stamp_loggen_format)
{
	cr_assert_eq(parse("<38>2026-11-27T12:30:05 localhost prg00000[1234]: seq: 0000000000, thread: 0000, "
			   "runid: 1795782605, stamp: 2026-11-27T12:30:05 PADDPADD"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2026, 11, 27, 12, 30, 5));
	expect_str(ev.host, "localhost");
	expect_str(ev.app, "prg00000");
	expect_str(ev.procid, "1234");
	expect_str(ev.message, "seq: 0000000000, thread: 0000, runid: 1795782605, stamp: 2026-11-27T12:30:05 PADDPADD");
}

Test(rfc3164, iso_stamp_with_space_and_long_fraction)
{
	cr_assert_eq(parse("<7>2006-11-10T10:43:21.15600000000000000000000000000000+01:00 bzorp openvpn[2499]: x"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, 1163151801LL * NS + 156000000);
	cr_assert_eq(parse("<7>2006-10-29 02:00:00.156+01:00"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, 1162083600LL * NS + 156000000);
	cr_expect_eq(ev.message.len, 0);
}

Test(rfc3164, cisco_pix_year_and_colon_no_hostname)
{
	cr_assert_eq(parse("<190>Apr 15 2007 21:28:13: %PIX-6-302014: Teardown TCP connection 1688438"), LW_OK);
	cr_expect_eq(ev.facility, 23);
	cr_expect_eq(ev.severity, 6);
	cr_expect_eq(ev.timestamp_ns, utc(2007, 4, 15, 21, 28, 13));
	expect_str(ev.host, "");
	expect_str(ev.app, "%PIX-6-302014");
	expect_str(ev.message, "Teardown TCP connection 1688438");
}

Test(rfc3164, cisco_ios_sequence_and_star)
{
	opts.now_ns = utc(2019, 10, 8, 0, 0, 0);
	cr_assert_eq(parse("<0>91: *Oct 07 03:10:04: mydevice.com %CRYPTO-4-RECVD_PKT_INV_SPI: decaps: "
			   "rec'd IPSEC packet has invalid spi"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2019, 10, 7, 3, 10, 4));
	expect_str(ev.host, "mydevice.com");
	expect_str(ev.app, "%CRYPTO-4-RECVD_PKT_INV_SPI");
	expect_str(ev.message, "decaps: rec'd IPSEC packet has invalid spi");
	opts.now_ns = NOW * NS;
}

Test(rfc3164, cisco_dot_prefix_and_fraction)
{
	cr_assert_eq(parse("<190>.Apr 15 2007 21:28:13: %PIX-6-302014: x"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2007, 4, 15, 21, 28, 13));
	cr_assert_eq(parse("<7> Aug 29 02:00:00.156789 ctld snmpd[2499]: PTHREAD"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2018, 8, 29, 2, 0, 0) + 156789000);
	expect_str(ev.host, "ctld");
	expect_str(ev.app, "snmpd");
}

Test(rfc3164, trailing_year_after_time)
{
	cr_assert_eq(parse("<190>Apr 15 21:28:13 2007 linksys app: msg"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2007, 4, 15, 21, 28, 13));
	expect_str(ev.host, "linksys");
	expect_str(ev.app, "app");
	expect_str(ev.message, "msg");
}

Test(rfc3164, dell_upper_case_month)
{
	opts.now_ns = utc(2019, 11, 23, 0, 0, 0);
	cr_assert_eq(parse("<190>NOV 22 00:00:33 192.168.33.8-1 CMDLOGGER[165319912]: cmd_logger_api.c(83) 13518"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2019, 11, 22, 0, 0, 33));
	expect_str(ev.host, "192.168.33.8-1");
	expect_str(ev.app, "CMDLOGGER");
	expect_str(ev.procid, "165319912");
	opts.now_ns = NOW * NS;
}

Test(rfc3164, missing_hostname_tag_with_pid)
{
	cr_assert_eq(parse("<13>Nov 27 12:00:00 sshd[1]: msg"), LW_OK);
	expect_str(ev.host, "");
	expect_str(ev.app, "sshd");
	expect_str(ev.procid, "1");
	expect_str(ev.message, "msg");
}

Test(rfc3164, missing_hostname_tag_with_colon)
{
	cr_assert_eq(parse("<0>Jan 10 01:00:00 prg0: msgtxt"), LW_OK);
	expect_str(ev.host, "");
	expect_str(ev.app, "prg0");
	expect_str(ev.message, "msgtxt");
}

Test(rfc3164, ipv4_and_ipv6_hostnames)
{
	cr_assert_eq(parse("<0>Jan 10 01:00:00 1.2.3.4 prg0: m"), LW_OK);
	expect_str(ev.host, "1.2.3.4");
	expect_str(ev.app, "prg0");
	cr_assert_eq(parse("<0>Jan 10 01:00:00 0000:BABA:BA00:DAB:BABA:BABA:BABA:BAB0 prg0: m"), LW_OK);
	expect_str(ev.host, "0000:BABA:BA00:DAB:BABA:BABA:BABA:BAB0");
	cr_assert_eq(parse("<0>Jan 10 01:00:00 0002:: prg0: msgtxt"), LW_OK);
	expect_str(ev.host, "0002::");
	expect_str(ev.app, "prg0");
	expect_str(ev.message, "msgtxt");
	cr_assert_eq(parse("<0>Jan 10 01:00:00 fe80::1 prg0: m"), LW_OK);
	expect_str(ev.host, "fe80::1");
}

Test(rfc3164, tags_with_punctuation)
{
	cr_assert_eq(parse("<38>Mar 27 19:06:53 source_server sshd(pam_unix)[12750]: session opened for user foo"), LW_OK);
	expect_str(ev.host, "source_server");
	expect_str(ev.app, "sshd(pam_unix)");
	expect_str(ev.procid, "12750");
	cr_assert_eq(parse("<29>Jul 31 21:39:21 example-b example-gw[10538]: disconnect"), LW_OK);
	expect_str(ev.app, "example-gw");
	cr_assert_eq(parse("<29>Jul 31 21:39:21 h org.gnome.Shell.desktop[2290]: x"), LW_OK);
	expect_str(ev.app, "org.gnome.Shell.desktop");
	expect_str(ev.procid, "2290");
	cr_assert_eq(parse("<29>Jul 31 21:39:21 h postfix/smtpd[123]: connect from unknown"), LW_OK);
	expect_str(ev.app, "postfix/smtpd");
}

Test(rfc3164, tag_pid_without_colon)
{
	cr_assert_eq(parse("<175>Oct 16 2009 23:47:31 hostname tag[1234] This is a message"), LW_OK);
	expect_str(ev.app, "tag");
	expect_str(ev.procid, "1234");
	expect_str(ev.message, "This is a message");
}

Test(rfc3164, first_word_without_colon_stays_in_message)
{
	cr_assert_eq(parse("<166>Jul  6 20:33:28 ABC-1-234567 Some message here"), LW_OK);
	expect_str(ev.host, "ABC-1-234567");
	expect_str(ev.app, "");
	expect_str(ev.message, "Some message here");
}

Test(rfc3164, long_tag_is_message)
{
	cr_assert_eq(parse("<38>Mar 27 19:06:53 h 0123456789012345678901234567890123456789: MSG part"), LW_OK);
	expect_str(ev.app, "0123456789012345678901234567890123456789");
	cr_assert_eq(parse("<38>Mar 27 19:06:53 h 01234567890123456789012345678901234567890123456789012345678901234: x"), LW_OK);
	expect_str(ev.app, "");
	expect_str(ev.message, "01234567890123456789012345678901234567890123456789012345678901234: x");
}

Test(rfc3164, aix_forwarded_from)
{
	cr_assert_eq(parse("<38>Sep 22 10:11:56 Message forwarded from cdaix66: sshd[679960]: Accepted publickey "
			   "for nagios from 1.9.1.1 port 42096 ssh2"), LW_OK);
	expect_str(ev.host, "cdaix66");
	expect_str(ev.app, "sshd");
	expect_str(ev.procid, "679960");
	expect_str(ev.message, "Accepted publickey for nagios from 1.9.1.1 port 42096 ssh2");
}

Test(rfc3164, no_timestamp_with_pri_tag_only)
{
	cr_assert_eq(parse("<15> openvpn[2499]: PTHREAD support initialized"), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	cr_expect_eq(ev.timestamp_ns, NOW * NS);
	expect_str(ev.host, "");
	expect_str(ev.app, "openvpn");
	expect_str(ev.procid, "2499");
	expect_str(ev.message, "PTHREAD support initialized");
	cr_assert_eq(parse("<27>xapi: [error|xen3|15] Connection to master died."), LW_OK);
	expect_str(ev.app, "xapi");
	expect_str(ev.message, "[error|xen3|15] Connection to master died.");
}

Test(rfc3164, only_pri)
{
	cr_assert_eq(parse("<13>"), LW_OK);
	cr_expect_eq(ev.facility, 1);
	cr_expect_eq(ev.severity, 5);
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	cr_expect_eq(ev.message.len, 0);
	cr_assert_eq(parse("<0>x"), LW_OK);
	expect_str(ev.message, "x");
}

Test(rfc3164, not_syslog_is_rejected)
{
	cr_expect_eq(parse(""), LW_EPARSE);
	cr_expect_eq(parse("This is a message!"), LW_EPARSE);
	cr_expect_eq(parse("some message"), LW_EPARSE);
	/* A bad PRI is not skipped: the line is not syslog we can read. */
	cr_expect_eq(parse("<192>Jan  1 00:00:00 h a: m"), LW_EPARSE);
	cr_expect_eq(parse("<999>hello"), LW_EPARSE);
	cr_expect_eq(parse("<abc>hello"), LW_EPARSE);
}

Test(rfc3164, stamp_only_and_host_only)
{
	cr_assert_eq(parse("<14>Aug 30 23:00:05"), LW_OK);
	cr_expect_eq(ev.timestamp_ns, utc(2018, 8, 30, 23, 0, 5));
	cr_expect_eq(ev.host.len, 0);
	cr_expect_eq(ev.message.len, 0);
	cr_assert_eq(parse("<14>Aug 30 23:00:05 X4711"), LW_OK);
	expect_str(ev.host, "X4711");
	cr_expect_eq(ev.message.len, 0);
	cr_assert_eq(parse("<14>2010-08-30T23:00:05Z X4711 "), LW_OK);
	expect_str(ev.host, "X4711");
	cr_expect_eq(ev.message.len, 0);
	cr_expect_eq(ev.timestamp_ns, utc(2010, 8, 30, 23, 0, 5));
}

Test(rfc3164, bad_dates_are_message_text)
{
	cr_assert_eq(parse("<13>Feb 30 10:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	expect_str(ev.message, "Feb 30 10:00:00 h a: m");
	cr_assert_eq(parse("<13>Foo 10 10:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	cr_assert_eq(parse("<13>Jan 10 25:00:00 h a: m"), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	cr_assert_eq(parse("<13>Jan 10 10:00:00x h a: m"), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
}

Test(rfc3164, japanese_utf8_message)
{
	cr_assert_eq(parse("<86>Nov 27 21:30:05 庁内サーバ sshd[10]: 認証に失敗しました user=山田"), LW_OK);
	/* A non-ASCII first word is not a hostname; it stays in the message. */
	expect_str(ev.host, "");
	expect_str(ev.message, "庁内サーバ sshd[10]: 認証に失敗しました user=山田");
	cr_expect_eq(ev.flags & LW_EVENT_BAD_UTF8, 0);
	cr_assert_eq(parse("<86>Nov 27 21:30:05 jyumin01 login[10]: ログインしました"), LW_OK);
	expect_str(ev.host, "jyumin01");
	expect_str(ev.app, "login");
	expect_str(ev.message, "ログインしました");
	cr_expect_eq(ev.flags & LW_EVENT_BAD_UTF8, 0);
}

Test(rfc3164, non_utf8_kept_byte_exact)
{
	const char s[] = "<6>AUG 10 22:18:24 host tag: Shift_JIS \x83\x8d\x83\x4f and latin1 \xe4\xf6\xfc";

	cr_assert_eq(parse_n(s, sizeof(s) - 1), LW_OK);
	cr_expect_eq(ev.flags, LW_EVENT_BAD_UTF8);
	cr_expect_eq(ev.message.len, 29);
	cr_expect_eq(memcmp(ev.message.ptr, "Shift_JIS \x83\x8d\x83\x4f and latin1 \xe4\xf6\xfc", 29), 0);
}

Test(rfc3164, nul_bytes_inside)
{
	const char s[] = "<13>Jan 10 01:00:00 h a: x\0y\0";

	cr_assert_eq(parse_n(s, sizeof(s) - 1), LW_OK);
	cr_expect_eq(ev.message.len, 4);
	cr_expect_eq(memcmp(ev.message.ptr, "x\0y\0", 4), 0);
}

Test(rfc3164, tab_separated_snare)
{
	cr_assert_eq(parse("<141>Mar 10 09:30:20 zuse.xysystems.local MSWinEventLog\t1\tSecurity\t563"), LW_OK);
	expect_str(ev.host, "zuse.xysystems.local");
	expect_str(ev.app, "");
	expect_str(ev.message, "MSWinEventLog\t1\tSecurity\t563");
}

Test(rfc3164, does_not_read_past_len)
{
	const char *s = "<13>Jan 10 01:00:00 host sshd[12]: rest";

	cr_assert_eq(parse_n(s, 24), LW_OK); /* ends inside "host" */
	expect_str(ev.host, "host");
	cr_assert_eq(parse_n(s, 30), LW_OK); /* ends inside "[12" */
	expect_str(ev.app, "");
	expect_str(ev.message, "sshd[");
	cr_assert_eq(parse_n(s, 10), LW_OK); /* ends inside the stamp */
	cr_expect_eq(ev.flags, LW_EVENT_NO_TIMESTAMP);
	expect_str(ev.message, "Jan 10");
}

Test(rfc3164, huge_message)
{
	static char big[100000];

	memcpy(big, "<13>Jan 10 01:00:00 h a: ", 25);
	memset(big + 25, 'z', sizeof(big) - 25);
	cr_assert_eq(parse_n(big, sizeof(big)), LW_OK);
	cr_expect_eq(ev.message.len, sizeof(big) - 25);
}
