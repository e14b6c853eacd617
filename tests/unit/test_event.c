/* Event rendering: ECS-nested JSON (jq .host.name, .source.ip work) and the
 * syslog-like text line; batch behaviour. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/event.h"

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static struct lw_event sample(void)
{
	struct lw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.timestamp_ns = 1764246605123456000LL; /* 2025-11-27T12:30:05.123456Z */
	ev.created_ns = 1764246606000000000LL;
	ev.host = S("web01");
	ev.app = S("sshd");
	ev.procid = S("4242");
	ev.message = S("Failed password for root from 203.0.113.50 port 22 ssh2");
	ev.zone = S("internet");
	ev.source_address = S("127.0.0.1:40000");
	ev.facility = 4;
	ev.severity = 6;
	return ev;
}

Test(event, json_is_ecs_nested)
{
	struct lw_event ev = sample();
	struct lw_buf out;

	lw_buf_init(&out);
	lw_event_to_json(&ev, &out);
	cr_assert_str_eq(out.data,
		"{\"@timestamp\":\"2025-11-27T12:30:05.123456Z\","
		"\"event\":{\"created\":\"2025-11-27T12:30:06.000000Z\"},"
		"\"host\":{\"name\":\"web01\"},"
		"\"labels\":{\"zone\":\"internet\"},"
		"\"log\":{\"source\":{\"address\":\"127.0.0.1:40000\"},"
		"\"syslog\":{\"facility\":{\"code\":4,\"name\":\"auth\"},"
		"\"procid\":\"4242\",\"severity\":{\"code\":6,\"name\":\"info\"}}},"
		"\"message\":\"Failed password for root from 203.0.113.50 port 22 ssh2\","
		"\"process\":{\"name\":\"sshd\",\"pid\":4242}}");
	lw_buf_release(&out);
}

Test(event, json_merges_extra_fields_into_ecs_objects)
{
	struct lw_event ev = sample();
	struct lw_field f[] = {
		{S("source.ip"), S("203.0.113.50")},
		{S("event.outcome"), S("failure")},
		{S("user.name"), S("root")},
		{S("source.port"), S("22")},
	};
	struct lw_buf out;

	ev.fields = f;
	ev.nfields = 4;
	ev.source_address = LW_STR_NULL;
	ev.procid = S("abc");
	lw_buf_init(&out);
	lw_event_to_json(&ev, &out);
	cr_expect(strstr(out.data, "\"event\":{\"created\":\"2025-11-27T12:30:06.000000Z\",\"outcome\":\"failure\"}") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\"source\":{\"ip\":\"203.0.113.50\",\"port\":\"22\"}") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\"user\":{\"name\":\"root\"}") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\"pid\"") == NULL, "non-numeric procid gives no process.pid");
	lw_buf_release(&out);
}

Test(event, json_renders_structured_data_as_objects)
{
	struct lw_event ev = sample();
	struct lw_buf out;

	ev.structured_data = S("[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"lication\\]\"][examplePriority@32473 class=\"high\"][empty@1]");
	lw_buf_init(&out);
	lw_event_to_json(&ev, &out);
	cr_expect(strstr(out.data, "\"structured_data\":{\"exampleSDID@32473\":{\"iut\":\"3\",\"eventSource\":\"App\\\"lication]\"},\"examplePriority@32473\":{\"class\":\"high\"},\"empty@1\":{}}") != NULL, "%s", out.data);
	lw_buf_release(&out);
}

Test(event, json_escapes_control_and_invalid_utf8_bytes)
{
	struct lw_event ev = sample();
	struct lw_buf out;
	static const char msg[] = "a\"b\\c\n\x01\xff\xe3\x83\xad\xe3\x82\xb0";

	ev.message = (struct lw_str){msg, sizeof(msg) - 1};
	lw_buf_init(&out);
	lw_event_to_json(&ev, &out);
	cr_expect(strstr(out.data, "\"message\":\"a\\\"b\\\\c\\n\\u0001\\u00ff\xe3\x83\xad\xe3\x82\xb0\"") != NULL, "%s", out.data);
	lw_buf_release(&out);
}

Test(event, json_lists_flags)
{
	struct lw_event ev = sample();
	struct lw_buf out;

	lw_event_set_unparsed(&ev, "\x01garbage", 8);
	ev.flags |= LW_EVENT_TRUNCATED;
	lw_buf_init(&out);
	lw_event_to_json(&ev, &out);
	cr_expect(strstr(out.data, "\"logward\":{\"flags\":[\"parse_error\",\"truncated\",\"no_timestamp\"]}") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\"host\"") == NULL, "unparsed events keep no parsed fields");
	cr_expect(strstr(out.data, "\"labels\":{\"zone\":\"internet\"}") != NULL, "zone survives");
	lw_buf_release(&out);
}

Test(event, text_line_looks_like_syslog_with_zone)
{
	struct lw_event ev = sample();
	struct lw_buf out;

	ev.message = S("bad\x1b[31m");
	lw_buf_init(&out);
	lw_event_to_text(&ev, &out);
	cr_expect_str_eq(out.data, "2025-11-27T12:30:05.123456Z [internet] web01 sshd[4242]: bad\\x1b[31m");
	lw_buf_release(&out);
}

/* The security review's journal upload: host, app and pid are the
 * sender's too, and a newline there printed whole fake lines. */
Test(event, text_line_escapes_every_field_a_sender_chose)
{
	struct lw_event ev = sample();
	struct lw_buf out;

	ev.host = S("jh\x1b[2J\x1b]0;PWNED\x07ost");
	ev.app = S("ssh\nd\xc2\x9b");
	ev.procid = S("1\n2026-01-01T00:00:00Z fake: line");
	ev.zone = S("lg\xe2\x80\xaewan");
	ev.message = S("m\xe2\x81\xa6sg\xc2\x85");
	lw_buf_init(&out);
	lw_event_to_text(&ev, &out);
	cr_expect_str_eq(out.data, "2025-11-27T12:30:05.123456Z [lg\\u202ewan] "
			 "jh\\x1b[2J\\x1b]0;PWNED\\x07ost ssh\\x0ad\\u009b"
			 "[1\\x0a2026-01-01T00:00:00Z fake: line]: m\\u2066sg\\u0085");
	lw_buf_release(&out);
}

Test(event, json_escapes_c1_and_bidi_by_code_point)
{
	struct lw_event ev = sample();
	struct lw_buf out;

	ev.host = S("h\xc2\x9b" "x");
	ev.message = S("a\xe2\x80\xae" "b");
	lw_buf_init(&out);
	lw_event_to_json(&ev, &out);
	cr_expect(strstr(out.data, "\"host\":{\"name\":\"h\\u009bx\"}") != NULL, "%s", out.data);
	cr_expect(strstr(out.data, "\"message\":\"a\\u202eb\"") != NULL, "%s", out.data);
	lw_buf_release(&out);
}

Test(event, batch_push_until_full_then_reset)
{
	struct lw_batch *b = lw_batch_new(3);
	struct lw_event *ev;

	cr_assert_not_null(b);
	for (int i = 0; i < 3; i++) {
		ev = lw_batch_push(b);
		cr_assert_not_null(ev);
		cr_expect_eq(ev->facility, LW_SYSLOG_NONE);
		cr_expect_eq(ev->severity, LW_SYSLOG_NONE);
	}
	cr_expect(lw_batch_full(b));
	cr_expect_null(lw_batch_push(b));
	cr_expect_not_null(lw_arena_memdup(&b->arena, "abc", 3));
	lw_batch_reset(b);
	cr_expect_eq(b->count, 0);
	cr_expect_eq(b->arena.used_bytes, 0);
	lw_batch_free(b);
}

Test(event, arena_handles_large_and_many_allocations)
{
	struct lw_arena a;
	char *big, *small;

	lw_arena_init(&a, 1024);
	small = lw_arena_memdup(&a, "x", 1);
	big = lw_arena_alloc(&a, 100000);
	cr_assert_not_null(big);
	memset(big, 'b', 100000);
	for (int i = 0; i < 1000; i++)
		cr_assert_not_null(lw_arena_memdup(&a, "0123456789", 10));
	cr_expect_str_eq(small, "x");
	lw_arena_reset(&a);
	lw_arena_release(&a);
}

Test(event, arena_reset_reuses_chunks)
{
	struct lw_arena a;
	void *first, *again;

	lw_arena_init(&a, 4096);
	first = lw_arena_alloc(&a, 1000);
	for (int i = 0; i < 20; i++)
		cr_assert_not_null(lw_arena_alloc(&a, 1000));
	lw_arena_reset(&a);
	cr_expect_eq(a.used_bytes, 0);
	again = lw_arena_alloc(&a, 1000);
	cr_expect_not_null(again);
	/* Chunks come back from the spare list, so nothing new is malloc'd
	 * until the arena outgrows its previous peak. */
	for (int i = 0; i < 20; i++)
		cr_assert_not_null(lw_arena_alloc(&a, 1000));
	(void)first;
	lw_arena_release(&a);
}

Test(event, batch_is_full_at_byte_cap)
{
	struct lw_batch *b = lw_batch_new(1000);

	cr_assert_not_null(b);
	cr_expect(!lw_batch_full(b));
	cr_assert_not_null(lw_arena_alloc(&b->arena, LW_BATCH_MAX_BYTES));
	cr_expect(lw_batch_full(b), "a batch holding LW_BATCH_MAX_BYTES takes no more frames");
	lw_batch_free(b);
}

/* ---- the field table: every name rules and queries may use ---- */

Test(event, every_member_name_and_alias_resolves_to_its_member)
{
	static const struct {
		const char *name;
		enum lw_event_member member;
	} want[] = {
		{"message", LW_EVENT_MEMBER_MESSAGE},
		{"host.name", LW_EVENT_MEMBER_HOST},
		{"host.hostname", LW_EVENT_MEMBER_HOST},
		{"process.name", LW_EVENT_MEMBER_APP},
		{"log.syslog.appname", LW_EVENT_MEMBER_APP},
		{"process.pid", LW_EVENT_MEMBER_PROCID},
		{"log.syslog.procid", LW_EVENT_MEMBER_PROCID},
		{"log.syslog.msgid", LW_EVENT_MEMBER_MSGID},
		{"labels.zone", LW_EVENT_MEMBER_ZONE},
		{"log.source.address", LW_EVENT_MEMBER_SOURCE_ADDRESS},
		{"log.syslog.facility.code", LW_EVENT_MEMBER_FACILITY},
		{"log.syslog.severity.code", LW_EVENT_MEMBER_SEVERITY},
		{"log.syslog.structured_data", LW_EVENT_MEMBER_STRUCTURED_DATA},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_eq(lw_event_member_lookup(want[i].name, strlen(want[i].name)),
			     want[i].member, "%s", want[i].name);
}

Test(event, each_member_has_the_ecs_name_its_json_uses)
{
	static const char *const ecs[LW_EVENT_MEMBER_COUNT] = {
		[LW_EVENT_MEMBER_MESSAGE] = "message",
		[LW_EVENT_MEMBER_HOST] = "host.name",
		[LW_EVENT_MEMBER_APP] = "process.name",
		[LW_EVENT_MEMBER_PROCID] = "log.syslog.procid",
		[LW_EVENT_MEMBER_MSGID] = "log.syslog.msgid",
		[LW_EVENT_MEMBER_ZONE] = "labels.zone",
		[LW_EVENT_MEMBER_SOURCE_ADDRESS] = "log.source.address",
		[LW_EVENT_MEMBER_FACILITY] = "log.syslog.facility.code",
		[LW_EVENT_MEMBER_SEVERITY] = "log.syslog.severity.code",
		[LW_EVENT_MEMBER_STRUCTURED_DATA] = "log.syslog.structured_data",
	};

	for (int m = 1; m < LW_EVENT_MEMBER_COUNT; m++) {
		const char *name = lw_event_member_name((enum lw_event_member)m);

		cr_assert_not_null(name, "member %d has a name", m);
		cr_expect_str_eq(name, ecs[m]);
		cr_expect_eq(lw_event_member_lookup(name, strlen(name)), m,
			     "%s resolves back", name);
	}
	cr_expect_null(lw_event_member_name(LW_EVENT_MEMBER_NONE));
	cr_expect_null(lw_event_member_name(LW_EVENT_MEMBER_COUNT));
}

Test(event, other_names_are_not_members)
{
	static const char *const names[] = {
		"source.ip", "user.name", "journald._SYSTEMD_UNIT", "Host.name",
		"host", "host.name.", "HOST.NAME", "message ", "", "Message",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect_eq(lw_event_member_lookup(names[i], strlen(names[i])),
			     LW_EVENT_MEMBER_NONE, "'%s'", names[i]);
	/* The length bounds the name: no NUL is needed, none is read past. */
	cr_expect_eq(lw_event_member_lookup("host.name.x", 9), LW_EVENT_MEMBER_HOST);
	cr_expect_eq(lw_event_member_lookup("host.name", 8), LW_EVENT_MEMBER_NONE);
}

static void expect_value(const struct lw_event *ev, enum lw_event_member m,
			 const char *want)
{
	char text[LW_EVENT_MEMBER_TEXT_MAX];
	struct lw_str v = lw_event_member_value(ev, m, text);

	cr_expect_eq(v.len, strlen(want), "member %d: length", m);
	if (v.len == strlen(want) && v.len > 0)
		cr_expect_eq(memcmp(v.ptr, want, v.len), 0, "member %d: '%.*s'", m,
			     (int)v.len, v.ptr);
}

Test(event, member_values_are_the_members_as_text)
{
	struct lw_event ev = sample();

	ev.msgid = S("ID47");
	ev.structured_data = S("[origin ip=\"10.1.2.3\"]");
	expect_value(&ev, LW_EVENT_MEMBER_MESSAGE,
		     "Failed password for root from 203.0.113.50 port 22 ssh2");
	expect_value(&ev, LW_EVENT_MEMBER_HOST, "web01");
	expect_value(&ev, LW_EVENT_MEMBER_APP, "sshd");
	expect_value(&ev, LW_EVENT_MEMBER_PROCID, "4242");
	expect_value(&ev, LW_EVENT_MEMBER_MSGID, "ID47");
	expect_value(&ev, LW_EVENT_MEMBER_ZONE, "internet");
	expect_value(&ev, LW_EVENT_MEMBER_SOURCE_ADDRESS, "127.0.0.1:40000");
	expect_value(&ev, LW_EVENT_MEMBER_FACILITY, "4");
	expect_value(&ev, LW_EVENT_MEMBER_SEVERITY, "6");
	expect_value(&ev, LW_EVENT_MEMBER_STRUCTURED_DATA, "[origin ip=\"10.1.2.3\"]");
	expect_value(&ev, LW_EVENT_MEMBER_NONE, "");
	/* Codes: 0 (kern, emerg) is a value; LW_SYSLOG_NONE is its absence. */
	ev.facility = 23;
	ev.severity = 0;
	expect_value(&ev, LW_EVENT_MEMBER_FACILITY, "23");
	expect_value(&ev, LW_EVENT_MEMBER_SEVERITY, "0");
	ev.facility = 254;
	ev.severity = LW_SYSLOG_NONE;
	expect_value(&ev, LW_EVENT_MEMBER_FACILITY, "254");
	expect_value(&ev, LW_EVENT_MEMBER_SEVERITY, "");
	ev.host = LW_STR_NULL;
	expect_value(&ev, LW_EVENT_MEMBER_HOST, "");
}

Test(event, sigma_generic_names_stand_for_ecs_names)
{
	/* docs/rules.md "Field names", table 2. */
	static const char *const pairs[][2] = {
		{"Image", "process.executable"}, {"CommandLine", "process.command_line"},
		{"ParentImage", "process.parent.executable"},
		{"ParentCommandLine", "process.parent.command_line"},
		{"CurrentDirectory", "process.working_directory"},
		{"ProcessId", "process.pid"}, {"ParentProcessId", "process.parent.pid"},
		{"User", "user.name"}, {"TargetFilename", "file.path"},
		{"SourceIp", "source.ip"}, {"SourcePort", "source.port"},
		{"SourceHostname", "source.domain"}, {"DestinationIp", "destination.ip"},
		{"DestinationPort", "destination.port"},
		{"DestinationHostname", "destination.domain"},
		{"Protocol", "network.transport"}, {"Computer", "host.name"},
		{"ComputerName", "host.name"}, {"Hostname", "host.name"},
		{"Message", "message"},
	};
	static const char *const not_aliases[] = {
		"image", "IMAGE", "Images", "process.executable", "host.name", "",
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *ecs = lw_event_sigma_alias(pairs[i][0], strlen(pairs[i][0]));

		cr_assert_not_null(ecs, "%s", pairs[i][0]);
		cr_expect_str_eq(ecs, pairs[i][1], "%s", pairs[i][0]);
	}
	for (size_t i = 0; i < sizeof(not_aliases) / sizeof(not_aliases[0]); i++)
		cr_expect_null(lw_event_sigma_alias(not_aliases[i], strlen(not_aliases[i])),
			       "'%s'", not_aliases[i]);
	cr_expect_eq(lw_event_member_lookup(lw_event_sigma_alias("Computer", 8), 9),
		     LW_EVENT_MEMBER_HOST, "an alias leads on to the member");
}
