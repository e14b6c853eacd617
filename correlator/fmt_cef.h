/* ArcSight Common Event Format (prefix lw_fmt_cef): Check Point, Fortinet,
 * Trend Micro, Imperva and most SIEM exporters.
 *
 *   CEF:0|Vendor|Product|1.0|100|Port scan detected|7|src=10.0.0.1 spt=1232 msg=a b\=c
 *
 * The header's seven fields are separated by '|' ("\|" and "\\" are a
 * literal pipe and backslash) and are reported as cef.version,
 * cef.device.vendor, cef.device.product, cef.device.version,
 * cef.device.event_class_id, cef.name and cef.severity (the names
 * Elastic's CEF processor gives them). The extension after the seventh
 * '|' is "key=value" pairs separated by spaces: a key is a run of letters,
 * digits and "_.[]-" right before an unescaped '=' that follows a space
 * (or starts the extension); its value runs to the space before the next
 * key, trailing spaces dropped. In values "\=" is '=', "\\" is '\', "\n"
 * and "\r" are a newline and a carriage return; any other backslash
 * stays. Keys are reported as written (src, dpt, cs1Label ...).
 *
 * Why this is safe with attacker-written values: CEF requires a producer
 * to escape '=' in values, so "x src=1.2.3.4" typed into a URL arrives
 * as "x src\=1.2.3.4" and cannot start a pair. */
#ifndef LW_CORRELATOR_FMT_CEF_H
#define LW_CORRELATOR_FMT_CEF_H

#include <stddef.h>

#include "correlator/fmt.h"

/* Reports the header fields and every extension pair of s[0..n), which
 * must start with "CEF:" (LW_EPARSE otherwise, or when the header has
 * fewer than seven fields). Returns the number of pairs, fn's non-zero
 * value, or LW_EINVAL when buf is too small (n + LW_FMT_KEY_MAX). */
int lw_fmt_cef_parse(const char *s, size_t n, struct lw_fmt_buf *buf,
		     lw_fmt_pair_fn fn, void *arg);

#endif
