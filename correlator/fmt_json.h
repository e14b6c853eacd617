/* JSON objects flattened to dotted keys (prefix lw_fmt_json): NXLog's
 * to_json() of Windows events, Suricata's EVE, winlogbeat-shaped objects,
 * application logs.
 *
 *   {"EventID":4625,"TargetUserName":"bob","EventData":{"IpPort":"0"}}
 *
 * reports EventID=4625, TargetUserName=bob, EventData.IpPort=0. Strings
 * are unescaped (\uXXXX to UTF-8, surrogate pairs joined, a lone
 * surrogate becomes U+FFFD); numbers, true and false are reported as
 * written; null is not reported; arrays are skipped whole. Nesting deeper
 * than LW_FMT_JSON_DEPTH and keys longer than LW_FMT_KEY_MAX are skipped
 * with their values. The input must start with '{' (blanks allowed
 * before); a syntax error stops the walk with LW_EPARSE after the pairs
 * already reported.
 *
 * Why this is safe with attacker-written values: a value's quotes are
 * escaped by the writer, so no text inside one becomes a key. */
#ifndef LW_CORRELATOR_FMT_JSON_H
#define LW_CORRELATOR_FMT_JSON_H

#include <stddef.h>

#include "correlator/fmt.h"

#define LW_FMT_JSON_DEPTH 8

/* Reports every scalar member of the object s[0..n). Returns the number
 * of pairs, fn's non-zero value, LW_EPARSE (not an object, or a syntax
 * error), or LW_EINVAL when buf is too small (n + LW_FMT_KEY_MAX). */
int lw_fmt_json_parse(const char *s, size_t n, struct lw_fmt_buf *buf,
		      lw_fmt_pair_fn fn, void *arg);

#endif
