/* core/escape.h - one escaper per output kind (prefix lw_escape): text for
 * a terminal or a log line, JSON, and CSV cells. Everything that came from
 * outside (log data, journal fields, HTTP header values, certificate names,
 * anything a sender chose) passes through one of these on its way out;
 * no printer escapes on its own. Pure functions: any thread.
 *
 * Dangerous code points, the same set for every kind:
 *   - C0 controls U+0000-U+001F and DEL U+007F (ESC starts terminal
 *     control sequences; LF and CR start fake lines);
 *   - C1 controls U+0080-U+009F (U+009B CSI and U+009D OSC act like
 *     ESC [ and ESC ] on terminals that honour 8-bit controls);
 *   - the Unicode Bidi_Control characters U+061C, U+200E, U+200F,
 *     U+202A-U+202E and U+2066-U+2069, which reorder what is shown after
 *     them (a host name that reads backwards, "Trojan Source");
 *   - U+2028 and U+2029, line and paragraph separators;
 *   - bytes that are not part of valid UTF-8.
 *
 * Text (lw_escape_text): C0, DEL and invalid bytes become \xNN (\x1b,
 * \x0a, \x7f, \xff); C1, bidi and separator code points \uNNNN (\u009b,
 * \u202e). Everything else, printable ASCII and valid UTF-8 (Japanese
 * text included), is copied. A backslash is copied as is, so Windows
 * paths stay readable; the price is that a literal "\x1b" typed by a
 * sender looks like an escaped ESC (the JSON output tells them apart).
 * With LW_ESCAPE_QUOTED, for a value quoted in '...' (the daemon's own
 * log), a backslash becomes \\ and a quote \', so a value can neither end
 * its quotes nor fake an escape: the output then decodes back to exactly
 * the input bytes.
 *
 * JSON (lw_escape_json): " and \ as \" and \\; LF, CR, TAB as \n, \r,
 * \t; every other dangerous code point as \u00XX / \uNNNN of the code
 * point (U+009B is \u009b, never its two bytes); a byte that is not
 * UTF-8 as \u00XX of the byte's value, so the original byte stays
 * recognisable (such an event carries the bad_utf8 flag). The output is
 * valid UTF-8 and valid JSON string content whatever the input.
 *
 * CSV (lw_escape_csv): one RFC 4180 cell, its content text-escaped as
 * above (so CR, LF, TAB and ESC never reach the file raw), in double
 * quotes when it holds a comma or a quote (a quote inside doubled), and a
 * cell whose content would start with = + - or @ gets a leading ' so that
 * a spreadsheet shows it as text instead of evaluating a formula (OWASP
 * "CSV injection"). A cell that started with TAB or CR starts with the
 * visible escape \x09 / \x0d. The one CSV escaper: `query --output csv`
 * and the HTTP API's CSV exports use it.
 */
#ifndef LW_CORE_ESCAPE_H
#define LW_CORE_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum lw_escape_flags {
	LW_ESCAPE_QUOTED = 1u << 0 /* text: also \ and ' (a '...'-quoted value) */
};

/* 1 when code point cp is in the dangerous set above. */
int lw_escape_is_control(uint32_t cp);

/* Appends s[0..n) (borrowed; may hold NULs) escaped as text. O(n). */
void lw_escape_text(struct lw_buf *out, const char *s, size_t n, unsigned flags);

/* The same into dst[0..cap) (cap >= 1), NUL-terminated, cut before the
 * first character or escape that would not fit (never half of one).
 * Returns the bytes written (without the NUL); *used, when not NULL,
 * gets how many input bytes they stand for (< n when cut). For fixed
 * buffers that must not allocate (the daemon's log line). */
size_t lw_escape_text_fixed(char *dst, size_t cap, const char *s, size_t n,
			    unsigned flags, size_t *used);

/* Appends s[0..n) as the content of a JSON string (no quotes). O(n). */
void lw_escape_json(struct lw_buf *out, const char *s, size_t n);

/* Appends "s" (with the quotes), escaped as lw_escape_json. */
void lw_escape_json_string(struct lw_buf *out, const char *s, size_t n);

/* lw_escape_json into dst[0..cap), as lw_escape_text_fixed (no quotes). */
size_t lw_escape_json_fixed(char *dst, size_t cap, const char *s, size_t n,
			    size_t *used);

/* Appends json[0..n), a JSON text stored earlier (an incident's group or
 * response plan), with every dangerous code point written as \uNNNN and
 * every byte that is not UTF-8 as \u00XX: JSON made before the escapers
 * above existed, or by anyone else, then carries no raw control either.
 * For valid JSON input the output is equivalent valid JSON (such code
 * points can only occur inside strings). O(n). */
void lw_escape_json_text(struct lw_buf *out, const char *json, size_t n);

/* Appends s[0..n) as one CSV cell (quotes when needed; no separator). */
void lw_escape_csv(struct lw_buf *out, const char *s, size_t n);

#endif
