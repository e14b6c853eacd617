/* tests/unit/test_journal.c - journal export / JSON parser and the entry
 * -> event mapping, on vectors written here from systemd's format
 * description (docs/JOURNAL_EXPORT_FORMATS.md). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/journal.h"
#include "core/err.h"
#include "core/event.h"

/* Entries as "NAME=value|NAME=value" strings (values escaped: '\n' -> \n). */
struct seen {
	int n;
	char rec[16][1024];
	unsigned refuse; /* refuse every k-th offer, k >= 2 (0 = never) */
	unsigned offered;
};

static void append_esc(char *dst, size_t cap, const char *s, size_t n)
{
	size_t len = strlen(dst);

	for (size_t i = 0; i < n && len + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n') {
			dst[len++] = '\\';
			dst[len++] = 'n';
		} else if (c < 0x20 || c >= 0x7f) {
			len += (size_t)snprintf(dst + len, cap - len, "\\x%02x", c);
		} else {
			dst[len++] = (char)c;
		}
	}
	dst[len] = '\0';
}

static int record(void *arg, const struct lw_journal_entry *e)
{
	struct seen *s = arg;
	char *r;

	s->offered++;
	if (s->refuse && s->offered % s->refuse == 0)
		return LW_EFULL;
	cr_assert_lt(s->n, 16);
	r = s->rec[s->n++];
	r[0] = '\0';
	for (uint32_t i = 0; i < e->nfields; i++) {
		if (i)
			strcat(r, "|");
		append_esc(r, 1024, e->fields[i].name, e->fields[i].name_len);
		strcat(r, "=");
		append_esc(r, 1024, e->fields[i].value, e->fields[i].value_len);
	}
	return LW_OK;
}

/* Feeds data in pieces of `step` bytes (0 = one piece), re-feeding what a
 * refusal left; returns the feed/finish result. */
static int feed_all(struct lw_journal *j, const char *data, size_t len,
		    size_t step, struct seen *s)
{
	size_t pos = 0;
	int rc = LW_OK;

	while (pos < len) {
		size_t n = step && len - pos > step ? step : len - pos, used;

		rc = lw_journal_feed(j, (const uint8_t *)data + pos, n, &used, record, s);
		pos += used;
		if (rc != LW_OK && rc != LW_EFULL)
			return rc;
	}
	do
		rc = lw_journal_finish(j, record, s);
	while (rc == LW_EFULL);
	return rc;
}

/* Two entries: text fields, then a binary MESSAGE whose value holds LFs
 * and blank lines (and ends in LF), a binary field with a NUL. */
static const char EXPORT2[] =
	"__CURSOR=s=1;i=2\n"
	"__REALTIME_TIMESTAMP=1700000000123456\n"
	"_HOSTNAME=web1\n"
	"SYSLOG_IDENTIFIER=sshd\n"
	"_COMM=sshd-session\n"
	"_PID=4242\n"
	"PRIORITY=6\n"
	"SYSLOG_FACILITY=10\n"
	"_SYSTEMD_UNIT=ssh.service\n"
	"MESSAGE=Accepted publickey for alice\n"
	"EMPTY=\n"
	"\n"
	"_HOSTNAME=web2\n"
	"MESSAGE\n"
	"\x09\0\0\0\0\0\0\0" "a\n\nb\n\n\nc\n"
	"\n"
	"BIN\n"
	"\x03\0\0\0\0\0\0\0" "x\0y"
	"\n"
	"\n";

static const char *const EXPORT2_REC[] = {
	"__CURSOR=s=1;i=2|__REALTIME_TIMESTAMP=1700000000123456|_HOSTNAME=web1|"
	"SYSLOG_IDENTIFIER=sshd|_COMM=sshd-session|_PID=4242|PRIORITY=6|"
	"SYSLOG_FACILITY=10|_SYSTEMD_UNIT=ssh.service|"
	"MESSAGE=Accepted publickey for alice|EMPTY=",
	"_HOSTNAME=web2|MESSAGE=a\\n\\nb\\n\\n\\nc\\n|BIN=x\\x00y",
};

Test(journal, export_fields_exact)
{
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
	struct seen s = {0};

	cr_assert_eq(feed_all(j, EXPORT2, sizeof(EXPORT2) - 1, 0, &s), LW_OK);
	cr_assert_eq(s.n, 2);
	cr_expect_str_eq(s.rec[0], EXPORT2_REC[0]);
	cr_expect_str_eq(s.rec[1], EXPORT2_REC[1]);
	cr_expect_eq(lw_journal_offset(j), sizeof(EXPORT2) - 1);
	lw_journal_free(j);
}

Test(journal, export_every_chunk_size_and_refusals_give_the_same_entries)
{
	for (size_t step = 1; step <= sizeof(EXPORT2); step++) {
		for (unsigned refuse = 0; refuse <= 3; refuse += 1 + (refuse == 0)) {
			struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
			struct seen s = {.refuse = refuse};

			cr_assert_eq(feed_all(j, EXPORT2, sizeof(EXPORT2) - 1, step, &s),
				     LW_OK, "step %zu", step);
			cr_assert_eq(s.n, 2, "step %zu refuse %u", step, refuse);
			cr_assert_str_eq(s.rec[0], EXPORT2_REC[0], "step %zu", step);
			cr_assert_str_eq(s.rec[1], EXPORT2_REC[1], "step %zu", step);
			lw_journal_free(j);
		}
	}
}

Test(journal, split_at_every_byte_position)
{
	for (size_t cut = 0; cut <= sizeof(EXPORT2) - 1; cut++) {
		struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
		struct seen s = {0};

		cr_assert_eq(lw_journal_feed(j, (const uint8_t *)EXPORT2, cut, NULL, record, &s), LW_OK);
		cr_assert_eq(lw_journal_feed(j, (const uint8_t *)EXPORT2 + cut,
					     sizeof(EXPORT2) - 1 - cut, NULL, record, &s), LW_OK);
		cr_assert_eq(lw_journal_finish(j, record, &s), LW_OK);
		cr_assert_eq(s.n, 2, "cut %zu", cut);
		cr_assert_str_eq(s.rec[1], EXPORT2_REC[1], "cut %zu", cut);
		lw_journal_free(j);
	}
}

Test(journal, cut_off_entry_is_reported_not_delivered)
{
	static const char in[] = "MESSAGE=one\n\nMESSAGE=two\n_PID=1\n";
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
	struct seen s = {0};

	cr_assert_eq(lw_journal_feed(j, (const uint8_t *)in, sizeof(in) - 1, NULL, record, &s), LW_OK);
	cr_assert(lw_journal_partial(j));
	cr_assert_eq(lw_journal_finish(j, record, &s), LW_EPARSE);
	cr_assert_eq(s.n, 1);
	cr_expect_str_eq(s.rec[0], "MESSAGE=one");
	cr_expect_str_eq(lw_journal_error(j),
			 "entry cut off at end of stream: 19 bytes not stored (byte 13)");
	lw_journal_free(j);
}

Test(journal, cut_inside_binary_value_is_reported)
{
	/* Like systemd's journal-2.txt: the entry has no closing empty line. */
	static const char in[] = "MESSAGE\n\x05\0\0\0\0\0\0\0" "ab\n\nc\n";
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
	struct seen s = {0};

	cr_assert_eq(feed_all(j, in, sizeof(in) - 1, 3, &s), LW_EPARSE);
	cr_assert_eq(s.n, 0);
	lw_journal_free(j);
}

Test(journal, blank_lines_between_entries_are_skipped)
{
	static const char in[] = "\n\nA=1\n\n\n\nB=2\n\n\n";
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
	struct seen s = {0};

	cr_assert_eq(feed_all(j, in, sizeof(in) - 1, 0, &s), LW_OK);
	cr_assert_eq(s.n, 2);
	cr_expect_str_eq(s.rec[0], "A=1");
	cr_expect_str_eq(s.rec[1], "B=2");
	lw_journal_free(j);
}

Test(journal, malformed_export_fails_after_the_good_entries)
{
	static const struct { const char *in; size_t len; const char *err; } cases[] = {
		{"A=1\n\nbad name=x\n\n", 18, "invalid character 0x62 in a field name (byte 5)"},
		{"A=1\n\nBAD NAME=x\n\n", 18, "invalid character 0x20 in a field name (byte 8)"},
		{"A=1\n\nlower=x\n\n", 14, "invalid character 0x6c in a field name (byte 5)"},
		{"A=1\n\n9LIVES=x\n\n", 15, "invalid field name '9LIVES' (byte 5)"},
		{"A=1\n\nB\n\x01\0\0\0\0\0\0\0xZ\n", 19,
		 "binary field 'B' is not followed by a newline (byte 16)"},
		{"A=1\n\n=x\n\n", 9, "invalid character 0x3d in a field name (byte 5)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t step = 0; step <= 1; step++) {
			struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
			struct seen s = {0};

			cr_assert_eq(feed_all(j, cases[i].in, cases[i].len, step, &s),
				     LW_EPARSE, "case %zu", i);
			cr_expect_eq(s.n, 1, "case %zu: the entry before is kept", i);
			cr_expect_str_eq(lw_journal_error(j), cases[i].err, "case %zu: %s", i, lw_journal_error(j));
			/* Sticky until reset. */
			cr_expect_eq(lw_journal_feed(j, (const uint8_t *)"A=1\n\n", 5, NULL,
						     record, &s), LW_EPARSE);
			lw_journal_reset(j);
			cr_expect_eq(lw_journal_feed(j, (const uint8_t *)"A=1\n\n", 5, NULL,
						     record, &s), LW_OK);
			lw_journal_free(j);
		}
	}
}

Test(journal, entry_size_limit)
{
	static const char in[] = "A=1\n\nMESSAGE=0123456789012345678901234567890123456789\n\nB=2\n\n";
	static const char bin[] = "A=1\n\nM\n\xff\xff\xff\xff\xff\xff\xff\x7f";

	for (size_t step = 0; step <= 7; step++) {
		struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 32, 0);
		struct seen s = {0};

		cr_assert_eq(feed_all(j, in, sizeof(in) - 1, step, &s), LW_ETOOBIG, "step %zu", step);
		cr_expect_eq(s.n, 1);
		cr_expect_str_eq(lw_journal_error(j), "entry is larger than 32 bytes (byte 5)");
		lw_journal_free(j);
		/* A huge binary length is refused before anything is held. */
		j = lw_journal_new(LW_JOURNAL_EXPORT, 32, 0);
		memset(&s, 0, sizeof(s));
		cr_assert_eq(feed_all(j, bin, sizeof(bin) - 1, step, &s), LW_ETOOBIG);
		cr_expect_eq(s.n, 1);
		lw_journal_free(j);
	}
}

Test(journal, field_count_limit)
{
	static const char ok[] = "A=1\nB=2\nC=3\n\n";
	static const char over[] = "A=1\nB=2\nC=3\nD=4\n\n";
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 3);
	struct seen s = {0};

	cr_assert_eq(feed_all(j, ok, sizeof(ok) - 1, 0, &s), LW_OK);
	cr_assert_eq(s.n, 1);
	lw_journal_reset(j);
	cr_assert_eq(feed_all(j, over, sizeof(over) - 1, 0, &s), LW_ETOOBIG);
	cr_expect_str_eq(lw_journal_error(j), "entry has more than 3 fields (byte 0)");
	cr_expect_eq(s.n, 1);
	lw_journal_free(j);
}

/* ---- JSON ------------------------------------------------------------------ */

static const char JSON3[] =
	"{\"__REALTIME_TIMESTAMP\":\"1700000000000001\",\"MESSAGE\":\"Hello \\\"W\\u00f6rld\\\" \\ud83d\\ude00\\n\","
	"\"_UDEV_DEVLINK\":[\"/dev/alias1\",\"/dev/alias2\"],\"BINARY\":[116,104,7,0,255],"
	"\"LARGE\":null,\"REP_BIN\":[[1,2],[3]],\"NUM\":42}\n"
	"  {\n  \"MESSAGE\" : [ 102 , 111 , 111 , 10 , 98 ] ,\n \"_HOSTNAME\": \"h\"\n}\n"
	"{}\n";

static const char *const JSON3_REC[] = {
	"__REALTIME_TIMESTAMP=1700000000000001|MESSAGE=Hello \"W\\xc3\\xb6rld\" "
	"\\xf0\\x9f\\x98\\x80\\n|_UDEV_DEVLINK=/dev/alias1|_UDEV_DEVLINK=/dev/alias2|"
	"BINARY=th\\x07\\x00\\xff|REP_BIN=\\x01\\x02|REP_BIN=\\x03|NUM=42",
	"MESSAGE=foo\\nb|_HOSTNAME=h",
	"",
};

Test(journal, json_values_exact_at_every_chunk_size)
{
	for (size_t step = 0; step <= sizeof(JSON3); step++) {
		struct lw_journal *j = lw_journal_new(LW_JOURNAL_JSON, 0, 0);
		struct seen s = {.refuse = step % 2 ? 2 : 0};

		cr_assert_eq(feed_all(j, JSON3, sizeof(JSON3) - 1, step, &s), LW_OK, "step %zu", step);
		cr_assert_eq(s.n, 3, "step %zu", step);
		for (int i = 0; i < 3; i++)
			cr_assert_str_eq(s.rec[i], JSON3_REC[i], "step %zu entry %d", step, i);
		lw_journal_free(j);
	}
}

Test(journal, malformed_json)
{
	static const struct { const char *in; const char *err; } cases[] = {
		{"{\"A\":\"1\"}\n[1]", "invalid JSON: expected '{' (byte 10)"},
		{"{\"A\":\"1\"}\n{\"B\":[1,256]}", "invalid JSON: byte array element is not 0..255 (byte 18)"},
		{"{\"A\":\"1\"}\n{\"B\":\"x\\q\"}", "invalid JSON: bad escape (byte 19)"},
		{"{\"A\":\"1\"}\n{\"b\":\"x\"}", "invalid field name 'b' (byte 14)"},
		{"{\"A\":\"1\"}\n{\"B\":\"\\ud800\"}", "invalid JSON: lone high surrogate (byte 22)"},
		{"{\"A\":\"1\"}\n{\"B\":{\"C\":{\"D\":[[1]]}}}", "JSON nested deeper than a journal entry (byte 25)"},
		{"{\"A\":\"1\"}\n{\"B\" \"x\"}", "invalid JSON: expected ':' (byte 15)"},
		{"{\"A\":\"1\"}\n{\"B\":\"x\"", "entry cut off at end of stream: 8 bytes not stored (byte 10)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lw_journal *j = lw_journal_new(LW_JOURNAL_JSON, 0, 0);
		struct seen s = {0};

		cr_assert_eq(feed_all(j, cases[i].in, strlen(cases[i].in), 0, &s),
			     LW_EPARSE, "case %zu", i);
		cr_expect_eq(s.n, 1, "case %zu", i);
		cr_expect_str_eq(lw_journal_error(j), cases[i].err, "case %zu: %s", i, lw_journal_error(j));
		lw_journal_free(j);
	}
}

/* ---- entry -> event ---------------------------------------------------- */

static struct lw_batch *batch;

static int to_batch(void *arg, const struct lw_journal_entry *e)
{
	static const struct lw_listener_src src = {
		.zone = "lgwan", .zone_len = 5, .addr = "10.20.0.5:4711", .addr_len = 14};

	return lw_journal_add_entry(batch, e, &src, 5000000000LL, arg);
}

static int str_is(struct lw_str s, const char *want)
{
	return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static const char *field(const struct lw_event *ev, const char *key)
{
	static char buf[256];
	const struct lw_field *f = lw_event_field(ev, key, strlen(key));

	if (f == NULL)
		return "(absent)";
	snprintf(buf, sizeof(buf), "%.*s", (int)f->value.len, f->value.ptr);
	return buf;
}

Test(journal, mapping_to_event)
{
	static const char in[] =
		"__REALTIME_TIMESTAMP=1700000000123456\n_HOSTNAME=web1\n"
		"_COMM=sshd-session\nSYSLOG_IDENTIFIER=sshd\n_PID=4242\nPRIORITY=6\n"
		"SYSLOG_FACILITY=10\n_SYSTEMD_UNIT=ssh.service\nMESSAGE=Accepted\n"
		"MESSAGE=second\n\n"
		/* fallbacks and values that do not fit */
		"_SOURCE_REALTIME_TIMESTAMP=1600000000000000\n_COMM=cron\n"
		"PRIORITY=9\nSYSLOG_FACILITY=x\nMESSAGE\n\x03\0\0\0\0\0\0\0\xff\xfe\n\n\n"
		/* nothing usable */
		"FOO=bar\n\n";
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
	struct lw_listener_counts cnt = {0};
	const struct lw_event *ev;

	batch = lw_batch_new(16);
	cr_assert_eq(lw_journal_feed(j, (const uint8_t *)in, sizeof(in) - 1, NULL,
				     to_batch, &cnt), LW_OK);
	cr_assert_eq(lw_journal_finish(j, to_batch, &cnt), LW_OK);
	cr_assert_eq(batch->count, 3);
	cr_expect_eq(cnt.received, 3);
	cr_expect_eq(cnt.bytes, sizeof(in) - 1);

	ev = &batch->events[0];
	cr_expect_eq(ev->timestamp_ns, 1700000000123456000LL);
	cr_expect_eq(ev->created_ns, 5000000000LL);
	cr_expect(str_is(ev->host, "web1"));
	cr_expect(str_is(ev->app, "sshd"), "SYSLOG_IDENTIFIER wins over _COMM");
	cr_expect(str_is(ev->procid, "4242"));
	cr_expect_eq(ev->severity, 6);
	cr_expect_eq(ev->facility, 10);
	cr_expect(str_is(ev->message, "Accepted"));
	cr_expect(str_is(ev->zone, "lgwan"));
	cr_expect(str_is(ev->source_address, "10.20.0.5:4711"));
	cr_expect_eq(ev->flags, 0);
	cr_expect_eq(ev->nfields, 3);
	cr_expect_str_eq(field(ev, "journald._COMM"), "sshd-session");
	cr_expect_str_eq(field(ev, "journald._SYSTEMD_UNIT"), "ssh.service");
	cr_expect_str_eq(field(ev, "journald.MESSAGE"), "second", "a repeat is kept");
	cr_expect_str_eq(field(ev, "journald._HOSTNAME"), "(absent)");

	ev = &batch->events[1];
	cr_expect_eq(ev->timestamp_ns, 1600000000000000000LL, "_SOURCE_REALTIME_TIMESTAMP fallback");
	cr_expect(str_is(ev->app, "cron"), "_COMM fallback");
	cr_expect_eq(ev->severity, LW_SYSLOG_NONE);
	cr_expect_eq(ev->facility, LW_SYSLOG_NONE);
	cr_expect_str_eq(field(ev, "journald.PRIORITY"), "9");
	cr_expect_str_eq(field(ev, "journald.SYSLOG_FACILITY"), "x");
	cr_expect_str_eq(field(ev, "journald._SOURCE_REALTIME_TIMESTAMP"), "1600000000000000");
	cr_expect_eq(ev->message.len, 3);
	cr_expect_eq(memcmp(ev->message.ptr, "\xff\xfe\n", 3), 0, "binary MESSAGE kept");
	cr_expect_eq(ev->flags, LW_EVENT_BAD_UTF8);

	ev = &batch->events[2];
	cr_expect_eq(ev->timestamp_ns, 5000000000LL);
	cr_expect_eq(ev->flags, LW_EVENT_NO_TIMESTAMP);
	cr_expect_eq(ev->message.len, 0);
	cr_expect_str_eq(field(ev, "journald.FOO"), "bar");

	lw_journal_free(j);
	lw_batch_free(batch);
}

Test(journal, full_batch_refuses_and_the_entry_comes_again)
{
	static const char in[] = "MESSAGE=1\n\nMESSAGE=2\n\nMESSAGE=3\n\n";
	struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 0, 0);
	struct lw_listener_counts cnt = {0};
	size_t used;

	batch = lw_batch_new(2);
	cr_assert_eq(lw_journal_feed(j, (const uint8_t *)in, sizeof(in) - 1, &used,
				     to_batch, &cnt), LW_EFULL);
	cr_assert_eq(used, 22);
	cr_assert_eq(batch->count, 2);
	lw_batch_reset(batch);
	cr_assert_eq(lw_journal_feed(j, (const uint8_t *)in + used, sizeof(in) - 1 - used,
				     &used, to_batch, &cnt), LW_OK);
	cr_assert_eq(batch->count, 1);
	cr_expect(str_is(batch->events[0].message, "3"));
	lw_journal_free(j);
	lw_batch_free(batch);
}

/* Fuzz regression (fuzz_journal_export, regress_entry_limit_counts_last_lf):
 * the entry's closing empty line counts toward max_entry_bytes. */
Test(journal, entry_limit_counts_the_closing_newline)
{
	static const char in[] = "GE=one\xff\n\n"; /* 9 bytes */

	for (size_t step = 0; step <= 1; step++) {
		struct lw_journal *j = lw_journal_new(LW_JOURNAL_EXPORT, 9, 0);
		struct seen s = {0};

		cr_assert_eq(feed_all(j, in, 9, step, &s), LW_OK);
		cr_assert_eq(s.n, 1);
		lw_journal_free(j);
		j = lw_journal_new(LW_JOURNAL_EXPORT, 8, 0);
		cr_assert_eq(feed_all(j, in, 9, step, &s), LW_ETOOBIG, "step %zu", step);
		cr_assert_eq(s.n, 1);
		lw_journal_free(j);
	}
}
