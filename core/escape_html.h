/* core/escape_html.h - the one HTML escaper (prefix lw_escape_html): every
 * value that came from logs or operators (host names, rule titles, notes,
 * audit details, group values) passes through it on its way into a page,
 * an SVG chart or a pango markup string (the PDF). Pure function: any
 * thread.
 *
 * Output is safe as element text and as a double- or single-quoted
 * attribute value, in HTML, SVG/XML and pango markup alike:
 *   - & < > " ' become &amp; &lt; &gt; &quot; &#39;;
 *   - the code points a reader must not be tricked by are shown, not
 *     obeyed: C0 controls (TAB, LF and CR included: a value never starts
 *     a new line of its own), DEL and bytes that are not UTF-8 as the
 *     visible text \xNN; C1 controls, the Unicode bidi controls (U+061C,
 *     U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and U+2028/U+2029 as
 *     \uNNNN, so a host name cannot read backwards ("Trojan Source") and
 *     the XML parser of pango never sees a character it refuses;
 *   - everything else (printable ASCII, Japanese text) is copied.
 * The set of dangerous code points is core/escape.h's
 * (lw_escape_is_control), so a value looks the same in a report and in
 * `query`. */
#ifndef LW_CORE_ESCAPE_HTML_H
#define LW_CORE_ESCAPE_HTML_H

#include <stddef.h>

#include "core/buf.h"

/* Appends s[0..n) (borrowed; may hold NULs) escaped as above. O(n). */
void lw_escape_html(struct lw_buf *out, const char *s, size_t n);

/* lw_escape_html of a NUL-terminated string (NULL appends nothing). */
void lw_escape_html_z(struct lw_buf *out, const char *s);

#endif
