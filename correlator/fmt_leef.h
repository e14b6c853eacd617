/* IBM QRadar Log Event Extended Format (prefix lw_fmt_leef), versions 1.0
 * and 2.0: Check Point, Palo Alto, Sophos, Juniper and others export it.
 *
 *   LEEF:1.0|Vendor|Product|1.0|EventID|src=10.0.0.1<TAB>dst=10.0.0.2<TAB>usrName=bob
 *   LEEF:2.0|Vendor|Product|1.0|EventID|^|src=10.0.0.1^dst=10.0.0.2
 *
 * The header fields are reported as leef.version, leef.vendor,
 * leef.product, leef.product_version and leef.event_id ("\|" is a literal
 * pipe). Version 2.0 adds a sixth field, the attribute delimiter: one
 * character, or its code as hex ("x5E", "0x5E"); empty means tab. Version
 * 1.0 always uses tab, unless the caller passes another delimiter (some
 * exporters use '^' or '|' anyway). Attributes are "key=value" between
 * delimiters; the first '=' ends the key, the value runs to the next
 * delimiter and is not escaped (LEEF forbids the delimiter in values).
 * rsyslog writes a tab it received as "#011" by default; a 1.0 line
 * without a tab but with "#011" is read with that as the delimiter.
 *
 * Why this is safe with attacker-written values: the delimiter cannot be
 * in a value, so "src=..." typed into a URL stays in that value. */
#ifndef LW_CORRELATOR_FMT_LEEF_H
#define LW_CORRELATOR_FMT_LEEF_H

#include <stddef.h>

#include "correlator/fmt.h"

/* Reports the header and every attribute of s[0..n), which must start with
 * "LEEF:" and have its header (LW_EPARSE otherwise). delim, when not 0,
 * is the attribute delimiter of a 1.0 line. Returns the number of pairs,
 * fn's non-zero value, or LW_EINVAL when buf is too small. */
int lw_fmt_leef_parse(const char *s, size_t n, char delim,
		      struct lw_fmt_buf *buf, lw_fmt_pair_fn fn, void *arg);

#endif
