/* The escapers every printer uses (core/escape.h): what a hostile sender
 * can put in a field must come out as visible escapes in text, as code
 * point escapes in JSON, and as an inert cell in CSV. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/escape.h"

static char *text(const char *s, size_t n, unsigned flags)
{
	static char out[1024];
	struct lw_buf b;

	lw_buf_init(&b);
	lw_escape_text(&b, s, n, flags);
	cr_assert(!b.oom);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	lw_buf_release(&b);
	return out;
}

static char *json(const char *s, size_t n)
{
	static char out[1024];
	struct lw_buf b;

	lw_buf_init(&b);
	lw_escape_json(&b, s, n);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	lw_buf_release(&b);
	return out;
}

static char *csv(const char *s)
{
	static char out[1024];
	struct lw_buf b;

	lw_buf_init(&b);
	lw_escape_csv(&b, s, strlen(s));
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	lw_buf_release(&b);
	return out;
}

#define T(s) text(s, sizeof(s) - 1, 0)
#define J(s) json(s, sizeof(s) - 1)

/* The journal host name of the security review: clears the screen and
 * retitles the terminal when printed raw. */
Test(escape, text_shows_c0_escape_sequences)
{
	cr_expect_str_eq(T("jh\x1b[2J\x1b]0;PWNED\x07ost"), "jh\\x1b[2J\\x1b]0;PWNED\\x07ost");
	cr_expect_str_eq(T("a\nb\rc\td\x7f"), "a\\x0ab\\x0dc\\x09d\\x7f");
	cr_expect_str_eq(text("a\0b", 3, 0), "a\\x00b");
}

Test(escape, text_shows_c1_and_bidi_controls_by_code_point)
{
	cr_expect_str_eq(T("x\xc2\x9b" "2Jy"), "x\\u009b2Jy");            /* CSI */
	cr_expect_str_eq(T("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
	cr_expect_str_eq(T("evil\xe2\x80\xae" "txt.exe"), "evil\\u202etxt.exe"); /* RLO */
	cr_expect_str_eq(T("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9"), "\\u202a\\u2066\\u2069");
	cr_expect_str_eq(T("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f"), "\\u061c\\u200e\\u200f");
	cr_expect_str_eq(T("a\xe2\x80\xa8" "b"), "a\\u2028b");
}

Test(escape, text_keeps_printable_utf8_and_backslashes)
{
	/* Japanese text, Latin-1 letters, an emoji, a Windows path. */
	cr_expect_str_eq(T("\xe3\x83\xad\xe3\x82\xb0 caf\xc3\xa9 \xf0\x9f\x94\x92"),
			 "\xe3\x83\xad\xe3\x82\xb0 caf\xc3\xa9 \xf0\x9f\x94\x92");
	cr_expect_str_eq(T("C:\\Users\\x"), "C:\\Users\\x");
	/* U+00A0 and U+2030 are next to the ranges, not in them. */
	cr_expect_str_eq(T("\xc2\xa0\xe2\x80\xb0"), "\xc2\xa0\xe2\x80\xb0");
}

Test(escape, text_shows_invalid_utf8_bytes)
{
	cr_expect_str_eq(T("a\xff" "b"), "a\\xffb");
	cr_expect_str_eq(T("\xc2"), "\\xc2");                 /* cut sequence */
	cr_expect_str_eq(T("\xc0\xaf"), "\\xc0\\xaf");         /* overlong / */
	cr_expect_str_eq(T("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* surrogate */
	cr_expect_str_eq(T("\x9b"), "\\x9b");                 /* a lone C1 byte */
}

Test(escape, quoted_text_cannot_end_its_quotes)
{
	const char v[] = "x' admin='yes\\";

	cr_expect_str_eq(text(v, sizeof(v) - 1, LW_ESCAPE_QUOTED), "x\\' admin=\\'yes\\\\");
	cr_expect_str_eq(text("a\nb", 3, LW_ESCAPE_QUOTED), "a\\x0ab");
}

Test(escape, json_escapes_by_code_point)
{
	/* Before, U+009B came out as \u00c2\u009b: two characters. */
	cr_expect_str_eq(J("\xc2\x9b"), "\\u009b");
	cr_expect_str_eq(J("\xe2\x80\xae"), "\\u202e");
	cr_expect_str_eq(J("\x1b[2J\x7f"), "\\u001b[2J\\u007f");
	cr_expect_str_eq(J("q\"b\\n\nr\rt\t"), "q\\\"b\\\\n\\nr\\rt\\t");
	cr_expect_str_eq(J("\xe3\x83\xad"), "\xe3\x83\xad");
	/* A byte that is not UTF-8: \u00XX of its value. */
	cr_expect_str_eq(J("a\xff\xc3"), "a\\u00ff\\u00c3");
	cr_expect_str_eq(json("\0", 1), "\\u0000");
}

Test(escape, json_text_reescapes_stored_json)
{
	const char stored[] = "{\"user.name\":\"a\xc2\x9b" "b\xe2\x80\xae\",\"n\":[1,\"\\u0041\"]}";
	struct lw_buf b;

	lw_buf_init(&b);
	lw_escape_json_text(&b, stored, sizeof(stored) - 1);
	cr_expect_str_eq(b.data, "{\"user.name\":\"a\\u009bb\\u202e\",\"n\":[1,\"\\u0041\"]}");
	lw_buf_release(&b);
}

Test(escape, fixed_cuts_between_characters_and_escapes)
{
	char out[8];
	size_t used, n;

	n = lw_escape_text_fixed(out, sizeof(out), "ab\x1b" "cd", 5, 0, &used);
	cr_expect_str_eq(out, "ab\\x1bc"); /* 7 bytes + NUL */
	cr_expect_eq(n, 7);
	cr_expect_eq(used, 4);
	n = lw_escape_text_fixed(out, sizeof(out), "abcde\x1b", 6, 0, &used);
	cr_expect_str_eq(out, "abcde"); /* \x1b would not fit: not half of it */
	cr_expect_eq(used, 5);
	n = lw_escape_text_fixed(out, 6, "abcd\xe3\x83\xad", 7, 0, &used);
	cr_expect_str_eq(out, "abcd"); /* not half of a character */
	cr_expect_eq(used, 4);
	n = lw_escape_json_fixed(out, sizeof(out), "\"\"\"\"", 4, &used);
	cr_expect_str_eq(out, "\\\"\\\"\\\"");
	cr_expect_eq(used, 3);
	cr_expect_eq(lw_escape_text_fixed(out, 1, "abc", 3, 0, &used), 0);
	cr_expect_str_eq(out, "");
}

Test(escape, csv_quotes_and_neutralises_formulas)
{
	cr_expect_str_eq(csv("plain"), "plain");
	cr_expect_str_eq(csv("a,b"), "\"a,b\"");
	cr_expect_str_eq(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
	cr_expect_str_eq(csv("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
	cr_expect_str_eq(csv("=1,2"), "\"'=1,2\"");
	cr_expect_str_eq(csv("+1"), "'+1");
	cr_expect_str_eq(csv("-2+3"), "'-2+3");
	cr_expect_str_eq(csv("@SUM(A1)"), "'@SUM(A1)");
	/* TAB, CR, LF and ESC never reach the cell raw. */
	cr_expect_str_eq(csv("\t=1"), "\\x09=1");
	cr_expect_str_eq(csv("\r=1\nx"), "\\x0d=1\\x0ax");
	cr_expect_str_eq(csv("\x1b[31mred"), "\\x1b[31mred");
	cr_expect_str_eq(csv(""), "");
	cr_expect_str_eq(csv("x\xc2\x9b"), "x\\u009b");
}

Test(escape, is_control_matches_the_documented_set)
{
	uint32_t yes[] = {0, 0x1f, 0x7f, 0x80, 0x9f, 0x61c, 0x200e, 0x200f, 0x2028,
			  0x2029, 0x202a, 0x202e, 0x2066, 0x2069};
	uint32_t no[] = {0x20, 0x7e, 0xa0, 0x61b, 0x200d, 0x2027, 0x202f, 0x2065,
			 0x206a, 0x3042, 0x10ffff};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(lw_escape_is_control(yes[i]), "U+%04X", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect(!lw_escape_is_control(no[i]), "U+%04X", no[i]);
}
