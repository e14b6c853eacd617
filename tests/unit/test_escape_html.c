/* The HTML escaper (core/escape_html.h): what a report, its SVG charts
 * and the PDF's pango markup show of attacker-written values. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape_html.h"

static void expect_escaped(const char *in, size_t n, const char *want)
{
	struct lw_buf b;

	lw_buf_init(&b);
	lw_escape_html(&b, in, n);
	lw_buf_putc(&b, '\0');
	cr_expect_str_eq(b.data, want, "escaping %zu bytes", n);
	lw_buf_release(&b);
}

Test(escape_html, markup_characters_become_entities)
{
	const char *s = "<script>alert('x')</script> & \"q\"";

	expect_escaped(s, strlen(s),
		       "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
}

Test(escape_html, japanese_text_is_copied)
{
	const char *s = "庁内サーバ web01 検出事項";

	expect_escaped(s, strlen(s), s);
}

Test(escape_html, controls_and_bad_bytes_are_shown_not_obeyed)
{
	/* LF, ESC, NUL, DEL, a lone continuation byte, a truncated sequence */
	expect_escaped("a\nb\x1b[31mc", 9, "a\\x0ab\\x1b[31mc");
	expect_escaped("x\0y\x7f", 4, "x\\x00y\\x7f");
	expect_escaped("\x80z\xe3\x81", 4, "\\x80z\\xe3\\x81");
}

Test(escape_html, bidi_c1_and_line_separators_are_shown)
{
	/* U+202E RIGHT-TO-LEFT OVERRIDE, U+0085 NEL, U+2028, U+2066 */
	expect_escaped("a\xe2\x80\xae" "b", 5, "a\\u202eb");
	expect_escaped("\xc2\x85", 2, "\\u0085");
	expect_escaped("\xe2\x80\xa8|\xe2\x81\xa6", 7, "\\u2028|\\u2066");
}

Test(escape_html, z_variant_and_null)
{
	struct lw_buf b;

	lw_buf_init(&b);
	lw_escape_html_z(&b, NULL);
	cr_expect_eq(b.len, 0);
	lw_escape_html_z(&b, "a<b");
	cr_expect_eq(b.len, 6);
	cr_expect_eq(memcmp(b.data, "a&lt;b", 6), 0);
	lw_buf_release(&b);
}
