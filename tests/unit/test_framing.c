/* tests/unit/test_framing.c - lw_framing: LF, CRLF, octet counting, mixed
 * per frame, every split position, truncation, lying counts, EFULL. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/framing.h"
#include "core/err.h"

#define MAXF 64

struct seen {
	int n;
	char msg[MAXF][256];
	size_t len[MAXF];
	unsigned flags[MAXF];
	int refuse_after; /* return LW_EFULL once n reaches this (0 = never) */
	int refused;
};

static struct seen seen;

static int collect(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	struct seen *s = arg;

	if (s->refuse_after > 0 && s->n == s->refuse_after && !s->refused) {
		s->refused = 1;
		return LW_EFULL;
	}
	cr_assert_lt(s->n, MAXF);
	cr_assert_lt(len, sizeof(s->msg[0]));
	memcpy(s->msg[s->n], msg, len);
	s->msg[s->n][len] = '\0';
	s->len[s->n] = len;
	s->flags[s->n] = flags;
	s->n++;
	return LW_OK;
}

static void setup(void)
{
	memset(&seen, 0, sizeof(seen));
}

TestSuite(framing, .init = setup);

static int feed_str(struct lw_framing *f, const char *s)
{
	return lw_framing_feed(f, (const uint8_t *)s, strlen(s), collect, &seen);
}

/* Feeds s in two pieces split at every position, and in single bytes, and
 * checks the frames are the same as one feed. */
static void check_all_splits(enum lw_framing_mode mode, size_t max, const char *s)
{
	struct seen whole;
	size_t n = strlen(s);

	struct lw_framing *f = lw_framing_new(mode, max);
	cr_assert_not_null(f);
	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(feed_str(f, s), LW_OK);
	cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
	whole = seen;
	lw_framing_free(f);

	for (size_t cut = 0; cut <= n; cut++) {
		f = lw_framing_new(mode, max);
		memset(&seen, 0, sizeof(seen));
		cr_assert_eq(lw_framing_feed(f, (const uint8_t *)s, cut, collect, &seen), LW_OK);
		cr_assert_eq(lw_framing_feed(f, (const uint8_t *)s + cut, n - cut, collect, &seen), LW_OK);
		cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
		cr_assert_eq(seen.n, whole.n, "cut at %zu: %d frames, want %d", cut, seen.n, whole.n);
		for (int k = 0; k < whole.n; k++) {
			cr_expect_eq(seen.len[k], whole.len[k], "cut %zu frame %d", cut, k);
			cr_expect_str_eq(seen.msg[k], whole.msg[k], "cut %zu frame %d", cut, k);
			cr_expect_eq(seen.flags[k], whole.flags[k], "cut %zu frame %d", cut, k);
		}
		lw_framing_free(f);
	}
	/* one byte at a time */
	f = lw_framing_new(mode, max);
	memset(&seen, 0, sizeof(seen));
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(lw_framing_feed(f, (const uint8_t *)s + k, 1, collect, &seen), LW_OK);
	cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
	cr_assert_eq(seen.n, whole.n);
	for (int k = 0; k < whole.n; k++) {
		cr_expect_str_eq(seen.msg[k], whole.msg[k]);
		cr_expect_eq(seen.flags[k], whole.flags[k]);
	}
	lw_framing_free(f);
	seen = whole;
}

Test(framing, lf_lines_are_split_and_blank_lines_skipped)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);

	cr_assert_eq(feed_str(f, "<13>a b\n\n<14>c\n"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "<13>a b");
	cr_expect_str_eq(seen.msg[1], "<14>c");
	cr_expect_eq(seen.flags[0], 0);
	lw_framing_free(f);
}

Test(framing, crlf_strips_the_cr)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_LF, 64);

	cr_assert_eq(feed_str(f, "one\r\ntwo\r\n\r\n"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "one");
	cr_expect_str_eq(seen.msg[1], "two");
	lw_framing_free(f);
}

Test(framing, octet_counted_frames)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);

	cr_assert_eq(feed_str(f, "11 <13>1 hello5 abcde"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "<13>1 hello");
	cr_expect_str_eq(seen.msg[1], "abcde");
	lw_framing_free(f);
}

Test(framing, octet_count_may_hold_newlines_and_a_trailing_lf_is_stripped)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);

	cr_assert_eq(feed_str(f, "8 ab\ncd\nx\n3 xyz"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "ab\ncd\nx", "trailing LF inside the count is stripped");
	cr_expect_str_eq(seen.msg[1], "xyz");
	lw_framing_free(f);
}

Test(framing, mixed_framing_is_detected_per_frame)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);

	cr_assert_eq(feed_str(f, "<13>lf one\n5 octet<14>lf two\n3 abc\n"), LW_OK);
	cr_expect_eq(seen.n, 4);
	cr_expect_str_eq(seen.msg[0], "<13>lf one");
	cr_expect_str_eq(seen.msg[1], "octet");
	cr_expect_str_eq(seen.msg[2], "<14>lf two");
	cr_expect_str_eq(seen.msg[3], "abc");
	lw_framing_free(f);
}

Test(framing, digits_then_text_are_an_lf_line_without_error)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "2026-01-01 boot\n123: cisco\n"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "2026-01-01 boot");
	cr_expect_str_eq(seen.msg[1], "123: cisco");
	cr_expect_eq(seen.flags[0], 0);
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.bad_octet_count, 0);
	cr_expect_eq(st.messages, 2);
	lw_framing_free(f);
}

Test(framing, lf_mode_never_reads_counts)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_LF, 64);

	cr_assert_eq(feed_str(f, "5 abcdefg\n"), LW_OK);
	cr_expect_eq(seen.n, 1);
	cr_expect_str_eq(seen.msg[0], "5 abcdefg");
	lw_framing_free(f);
}

Test(framing, exact_max_size_is_not_truncated)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 8);

	cr_assert_eq(feed_str(f, "abcdefgh\nabcdefgh\r\n8 12345678"), LW_OK);
	cr_expect_eq(seen.n, 3);
	for (int k = 0; k < 3; k++)
		cr_expect_eq(seen.flags[k], 0, "frame %d", k);
	cr_expect_str_eq(seen.msg[0], "abcdefgh");
	cr_expect_str_eq(seen.msg[1], "abcdefgh");
	cr_expect_str_eq(seen.msg[2], "12345678");
	lw_framing_free(f);
}

Test(framing, long_lf_line_is_cut_and_the_rest_discarded)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 8);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "abcdefghijklmnop\nnext\n"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "abcdefgh");
	cr_expect_eq(seen.flags[0], LW_MSG_TRUNCATED);
	cr_expect_str_eq(seen.msg[1], "next");
	cr_expect_eq(seen.flags[1], 0);
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.truncated, 1);
	cr_expect_eq(st.discarded_bytes, 8);
	lw_framing_free(f);
}

/* The security review's stream: a count of 1,000,000 followed by
 * ordinary lines on the same connection. Taken at its word it swallowed
 * the lines; a count over max_msg is a lie, read as an LF line. */
Test(framing, count_over_max_is_a_lie_and_the_lines_after_it_survive)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "1000000 x\n<13>one\n<13>two\n65 just over\n"), LW_OK);
	cr_expect_eq(seen.n, 4);
	cr_expect_str_eq(seen.msg[0], "1000000 x");
	cr_expect_eq(seen.flags[0], LW_MSG_BAD_COUNT);
	cr_expect_str_eq(seen.msg[1], "<13>one");
	cr_expect_eq(seen.flags[1], 0);
	cr_expect_str_eq(seen.msg[2], "<13>two");
	cr_expect_str_eq(seen.msg[3], "65 just over");
	cr_expect_eq(seen.flags[3], LW_MSG_BAD_COUNT);
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.bad_octet_count, 2);
	cr_expect_eq(st.discarded_bytes, 0);
	lw_framing_free(f);
}

Test(framing, long_line_after_a_count_over_max_is_cut_at_its_lf)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 8);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "12 abcdefghij\n4 next"), LW_OK);
	cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "12 abcde");
	cr_expect_eq(seen.flags[0], LW_MSG_TRUNCATED | LW_MSG_BAD_COUNT);
	cr_expect_str_eq(seen.msg[1], "next");
	cr_expect_eq(seen.flags[1], 0);
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.bad_octet_count, 1);
	cr_expect_eq(st.discarded_bytes, 5);
	lw_framing_free(f);
}

Test(framing, lying_count_too_large_is_read_as_lf)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 16);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "99999 <13>lie\n<13>ok\n"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "99999 <13>lie");
	cr_expect_eq(seen.flags[0], LW_MSG_BAD_COUNT);
	cr_expect_str_eq(seen.msg[1], "<13>ok");
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.bad_octet_count, 1);
	lw_framing_free(f);
}

Test(framing, lying_count_too_many_digits_or_zero)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "123456789012345 x\n0 y\n"), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[0], "123456789012345 x");
	cr_expect_str_eq(seen.msg[1], "0 y");
	cr_expect_eq(seen.flags[0], LW_MSG_BAD_COUNT);
	cr_expect_eq(seen.flags[1], LW_MSG_BAD_COUNT);
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.bad_octet_count, 2);
	lw_framing_free(f);
}

Test(framing, octet_mode_without_count_recovers_as_lf)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_OCTET, 64);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "<13>no count\n12x oops\n3 abc"), LW_OK);
	cr_expect_eq(seen.n, 3);
	cr_expect_str_eq(seen.msg[0], "<13>no count");
	cr_expect_str_eq(seen.msg[1], "12x oops");
	cr_expect_str_eq(seen.msg[2], "abc");
	cr_expect_eq(seen.flags[0], LW_MSG_BAD_COUNT);
	cr_expect_eq(seen.flags[1], LW_MSG_BAD_COUNT);
	cr_expect_eq(seen.flags[2], 0);
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.bad_octet_count, 2);
	lw_framing_free(f);
}

Test(framing, disconnect_mid_frame_delivers_partial)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);
	struct lw_framing_stats st = {0};

	cr_assert_eq(feed_str(f, "20 <13>only ten"), LW_OK);
	cr_expect_eq(seen.n, 0);
	cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
	cr_expect_eq(seen.n, 1);
	cr_expect_str_eq(seen.msg[0], "<13>only ten");
	cr_expect_eq(seen.flags[0], LW_MSG_PARTIAL);
	cr_assert_eq(feed_str(f, "<13>unterminated"), LW_OK);
	cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
	cr_expect_eq(seen.n, 2);
	cr_expect_str_eq(seen.msg[1], "<13>unterminated");
	cr_expect_eq(seen.flags[1], LW_MSG_PARTIAL);
	cr_assert_eq(feed_str(f, "42"), LW_OK);
	cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
	cr_expect_str_eq(seen.msg[2], "42");
	lw_framing_take_stats(f, &st);
	cr_expect_eq(st.partial, 3);
	cr_expect_eq(st.messages, 3);
	lw_framing_free(f);
}

Test(framing, every_split_position_gives_the_same_frames)
{
	check_all_splits(LW_FRAMING_AUTO, 64,
			 "<13>one\r\n11 <13>1 hello12 abc\ndef\nghi"
			 "<14>two\n\n99999 lie\n7 partial");
	cr_expect_eq(seen.n, 6);
	cr_expect_str_eq(seen.msg[5], "partial");
	cr_expect_eq(seen.flags[5], 0);
}

Test(framing, every_split_position_with_truncation)
{
	check_all_splits(LW_FRAMING_AUTO, 6,
			 "abcdefghijkl\r\nxy\n10 0123456789ab\nqrstuvwxyz"
			 "123456 12 abcdef\n1234567 tail\n");
	cr_expect_eq(seen.n, 5);
	cr_expect_str_eq(seen.msg[0], "abcdef");
	cr_expect_eq(seen.flags[0], LW_MSG_TRUNCATED);
	cr_expect_str_eq(seen.msg[1], "xy");
	cr_expect_str_eq(seen.msg[2], "10 012");
	cr_expect_eq(seen.flags[2], LW_MSG_TRUNCATED | LW_MSG_BAD_COUNT);
	cr_expect_str_eq(seen.msg[3], "qrstuv");
	cr_expect_eq(seen.flags[3], LW_MSG_TRUNCATED);
	cr_expect_str_eq(seen.msg[4], "123456");
	cr_expect_eq(seen.flags[4], LW_MSG_TRUNCATED | LW_MSG_BAD_COUNT);
}

Test(framing, octet_mode_every_split)
{
	check_all_splits(LW_FRAMING_OCTET, 32,
			 "5 hello\n6 world!7 foo bar<13>no count\n3 end");
	cr_expect_eq(seen.n, 5);
	cr_expect_str_eq(seen.msg[2], "foo bar");
	cr_expect_str_eq(seen.msg[3], "<13>no count");
	cr_expect_eq(seen.flags[3], LW_MSG_BAD_COUNT);
}

Test(framing, refused_frame_is_kept_and_redelivered)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);
	char buf[64];

	seen.refuse_after = 1;
	snprintf(buf, sizeof(buf), "a\nb\n3 cde");
	cr_assert_eq(lw_framing_feed(f, (const uint8_t *)buf, strlen(buf), collect, &seen), LW_EFULL);
	cr_expect_eq(seen.n, 1);
	cr_expect(lw_framing_pending(f));
	memset(buf, 'Z', sizeof(buf)); /* the fed buffer may be reused */
	cr_assert_eq(lw_framing_feed(f, NULL, 0, collect, &seen), LW_OK);
	cr_expect_not(lw_framing_pending(f));
	cr_expect_eq(seen.n, 3);
	cr_expect_str_eq(seen.msg[1], "b");
	cr_expect_str_eq(seen.msg[2], "cde");
	lw_framing_free(f);
}

Test(framing, refused_at_every_frame_loses_nothing)
{
	const char *in = "<1>a\n4 bcde<2>f\r\n12 ghijklmnopqr\nlast";

	for (int r = 1; r <= 5; r++) {
		struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 8);
		int rc;

		memset(&seen, 0, sizeof(seen));
		seen.refuse_after = r;
		rc = feed_str(f, in);
		cr_assert(rc == LW_OK || rc == LW_EFULL);
		rc = lw_framing_feed(f, (const uint8_t *)"\n", 1, collect, &seen);
		if (rc == LW_EFULL) /* the refusal may fall on a later feed */
			rc = lw_framing_feed(f, NULL, 0, collect, &seen);
		cr_assert_eq(rc, LW_OK, "refuse at %d: rc %d n %d", r, rc, seen.n);
		cr_assert_eq(lw_framing_finish(f, collect, &seen), LW_OK);
		cr_expect_eq(seen.n, 5, "refuse at %d", r);
		cr_expect_str_eq(seen.msg[0], "<1>a");
		cr_expect_str_eq(seen.msg[1], "bcde");
		cr_expect_str_eq(seen.msg[2], "<2>f");
		cr_expect_str_eq(seen.msg[3], "12 ghijk");
		cr_expect_str_eq(seen.msg[4], "last");
		lw_framing_free(f);
	}
}

static const uint8_t *view_ptr[4];
static int view_n;

static int record_view(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	(void)arg;
	(void)len;
	(void)flags;
	if (view_n < 4)
		view_ptr[view_n] = msg;
	view_n++;
	return LW_OK;
}

Test(framing, complete_frames_are_views_into_the_fed_buffer)
{
	static const char in[] = "<13>x\n5 abcde<14>y";
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 64);

	cr_assert_eq(lw_framing_feed(f, (const uint8_t *)in, sizeof(in) - 1, record_view, NULL), LW_OK);
	cr_expect_eq(view_n, 2);
	cr_expect_eq(view_ptr[0], (const uint8_t *)in);
	cr_expect_eq(view_ptr[1], (const uint8_t *)in + 8);
	cr_assert_eq(lw_framing_feed(f, (const uint8_t *)"\n", 1, record_view, NULL), LW_OK);
	cr_expect_eq(view_n, 3, "the carried frame is delivered from the framer");
	lw_framing_free(f);
}

/* Counts frames; refuses every frame while *arg (int) is nonzero. */
static int count_or_refuse(void *arg, const uint8_t *msg, size_t len,
			   unsigned flags)
{
	int *refuse = arg;

	(void)msg;
	(void)len;
	(void)flags;
	if (*refuse)
		return LW_EFULL;
	view_n++;
	return LW_OK;
}

/* A 256 KiB read of 100-byte lines, as one stream read would bring. */
static uint8_t *big_read(size_t *len)
{
	size_t n = 256 * 1024;
	uint8_t *b = malloc(n);

	cr_assert_not_null(b);
	memset(b, 'x', n);
	for (size_t i = 99; i < n; i += 100)
		b[i] = '\n';
	*len = n - n % 100;
	return b;
}

Test(framing, retrying_a_refused_feed_does_not_grow_memory)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 1024);
	size_t len, held;
	uint8_t *b = big_read(&len);
	int refuse = 1;

	cr_assert_eq(lw_framing_feed(f, b, len, count_or_refuse, &refuse), LW_EFULL);
	cr_expect(lw_framing_pending(f));
	held = lw_framing_held_bytes(f);
	cr_expect_geq(held, len - 100, "the refused read is held");
	cr_expect_leq(held, 2 * len);
	/* What a paused reader does on each resume while the sink is full. */
	for (int i = 0; i < 100; i++)
		cr_assert_eq(lw_framing_feed(f, NULL, 0, count_or_refuse, &refuse), LW_EFULL);
	cr_expect_eq(lw_framing_held_bytes(f), held, "no growth without new input");
	free(b);
	lw_framing_free(f);
}

Test(framing, held_input_is_freed_once_delivered)
{
	struct lw_framing *f = lw_framing_new(LW_FRAMING_AUTO, 1024);
	size_t len;
	uint8_t *b = big_read(&len);
	int refuse = 1;

	view_n = 0;
	cr_assert_eq(lw_framing_feed(f, b, len, count_or_refuse, &refuse), LW_EFULL);
	refuse = 0;
	cr_assert_eq(lw_framing_feed(f, NULL, 0, count_or_refuse, &refuse), LW_OK);
	cr_expect_not(lw_framing_pending(f));
	cr_expect_eq(view_n, (int)(len / 100), "every line delivered once");
	cr_expect_leq(lw_framing_held_bytes(f), 4096,
		      "an idle framer keeps at most its small carry buffer");
	free(b);
	lw_framing_free(f);
}
