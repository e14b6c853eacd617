/* tests/fuzz/fuzz_escape.c - the escapers of core/escape.h under
 * libFuzzer. The input is any bytes (a field a sender chose).
 * Invariants:
 *   - text, quoted text, JSON and CSV output are valid UTF-8 and hold no
 *     code point of the dangerous set (lw_escape_is_control) but the
 *     escapes' own ASCII;
 *   - quoted text decodes back (\\ \' \xNN \uNNNN) to exactly the input;
 *   - JSON decodes back (a JSON string decoder written here) to the
 *     input when the input is UTF-8, and a JSON string always;
 *   - a CSV cell is one quoted field whose content does not start with
 *     = + - @ and whose quotes are doubled;
 *   - the fixed-buffer variants write a prefix of the growable output,
 *     ending on a unit boundary, for every buffer size tried. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t l = lw_utf8_decode(s + i, n - i, &cp);

		if (l == 0 || lw_escape_is_control(cp))
			abort();
		i += l;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	abort();
}

static size_t put_utf8(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	o[0] = (char)(0xe0 | (cp >> 12));
	o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* The code point of the \\uNNNN at s[i]. */
static uint32_t u4(const char *s, size_t i, size_t n)
{
	uint32_t cp = 0;

	if (i + 6 > n)
		abort();
	for (int d = 2; d < 6; d++)
		cp = cp * 16 + (uint32_t)hexval(s[i + d]);
	return cp;
}

/* Quoted text back to bytes: every escape this kind makes. */
static size_t unquote(const char *s, size_t n, char *o)
{
	size_t i = 0, k = 0;

	while (i < n) {
		if (s[i] != '\\') {
			o[k++] = s[i++];
			continue;
		}
		if (i + 1 >= n)
			abort();
		switch (s[i + 1]) {
		case '\\': o[k++] = '\\'; i += 2; break;
		case '\'': o[k++] = '\''; i += 2; break;
		case 'x':
			if (i + 4 > n)
				abort();
			o[k++] = (char)(hexval(s[i + 2]) * 16 + hexval(s[i + 3]));
			i += 4;
			break;
		case 'u':
			k += put_utf8(u4(s, i, n), o + k);
			i += 6;
			break;
		default: abort();
		}
	}
	return k;
}

/* JSON string content back to UTF-8 (no surrogate pairs: never made). */
static size_t unjson(const char *s, size_t n, char *o)
{
	size_t i = 0, k = 0;

	while (i < n) {
		if (s[i] == '"')
			abort(); /* an unescaped quote ends the string early */
		if (s[i] != '\\') {
			o[k++] = s[i++];
			continue;
		}
		if (i + 1 >= n)
			abort();
		switch (s[i + 1]) {
		case '"': case '\\': case '/': o[k++] = s[i + 1]; i += 2; break;
		case 'n': o[k++] = '\n'; i += 2; break;
		case 'r': o[k++] = '\r'; i += 2; break;
		case 't': o[k++] = '\t'; i += 2; break;
		case 'u': {
			uint32_t cp = u4(s, i, n);

			if (cp >= 0xd800 && cp <= 0xdfff)
				abort();
			k += put_utf8(cp, o + k);
			i += 6;
			break;
		}
		default: abort();
		}
	}
	return k;
}

/* The fixed variant against the growable one, for cap. */
static void check_fixed(const struct lw_buf *full, const char *in, size_t n, size_t cap,
			int json)
{
	char *dst = malloc(cap);
	size_t used, len;

	if (dst == NULL)
		return;
	len = json ? lw_escape_json_fixed(dst, cap, in, n, &used) :
		lw_escape_text_fixed(dst, cap, in, n, LW_ESCAPE_QUOTED, &used);
	if (len >= cap || dst[len] != '\0' || used > n || len > full->len ||
	    (len > 0 && memcmp(dst, full->data, len) != 0))
		abort();
	if (used == n && len != full->len)
		abort();
	/* The prefix is the escape of exactly the input consumed. */
	{
		struct lw_buf part;

		lw_buf_init(&part);
		if (json)
			lw_escape_json(&part, in, used);
		else
			lw_escape_text(&part, in, used, LW_ESCAPE_QUOTED);
		if (part.len != len || (len && memcmp(part.data, dst, len) != 0))
			abort();
		lw_buf_release(&part);
	}
	free(dst);
}

/* One CSV cell: "..." with doubled quotes inside, or bare without a
 * comma or quote; either way no formula start. */
static void check_csv(const char *c, size_t n)
{
	size_t i = 0, end = n;

	if (n > 0 && c[0] == '"') {
		if (n < 2 || c[n - 1] != '"')
			abort();
		i = 1;
		end = n - 1;
	}
	if (i < end && strchr("=+-@", c[i]) != NULL)
		abort();
	for (; i < end; i++) {
		if (c[i] == ',' && end == n)
			abort();
		if (c[i] != '"')
			continue;
		if (end == n || i + 1 >= end || c[i + 1] != '"')
			abort();
		i++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct lw_buf t, q, j, c;
	char *back;
	size_t k;

	lw_buf_init(&t);
	lw_buf_init(&q);
	lw_buf_init(&j);
	lw_buf_init(&c);
	lw_escape_text(&t, in, size, 0);
	lw_escape_text(&q, in, size, LW_ESCAPE_QUOTED);
	lw_escape_json(&j, in, size);
	lw_escape_csv(&c, in, size);
	if (t.oom || q.oom || j.oom || c.oom)
		goto out;
	check_clean(t.data, t.len);
	check_clean(q.data, q.len);
	check_clean(j.data, j.len);
	check_clean(c.data, c.len);
	back = malloc(q.len + j.len + 1);
	if (back == NULL)
		goto out;
	k = unquote(q.data, q.len, back);
	if (k != size || (size > 0 && memcmp(back, in, size) != 0))
		abort();
	k = unjson(j.data, j.len, back);
	if (lw_utf8_valid(in, size) && (k != size || (size > 0 && memcmp(back, in, size) != 0)))
		abort();
	free(back);
	check_csv(c.data, c.len);
	for (size_t cap = 1; cap < 40 && cap <= q.len + 1; cap += 3) {
		check_fixed(&q, in, size, cap, 0);
		check_fixed(&j, in, size, cap, 1);
	}
out:
	lw_buf_release(&t);
	lw_buf_release(&q);
	lw_buf_release(&j);
	lw_buf_release(&c);
	return 0;
}
