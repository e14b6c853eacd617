/* Delimited columns read by position (prefix lw_fmt_csv): Palo Alto
 * PAN-OS's syslog (comma-separated, a layout per log type), Snare's
 * Windows events (tab-separated), Microsoft DHCP and others.
 *
 *   1,2026/06/01 09:00:00,0123,TRAFFIC,end,2049,...,"a,quoted,field",...
 *
 * A field is the bytes between delimiters; one that starts with '"' is
 * quoted: it runs to the next '"' not doubled, "" inside is one quote,
 * and anything up to the next delimiter after the closing quote is
 * dropped. Columns are numbered from 0 and reported under the caller's
 * names (names[i] for column i); a NULL or empty name skips the column,
 * columns past the last name are not reported.
 *
 * Why this is safe with attacker-written values: a device quotes a field
 * that holds the delimiter (PAN-OS does), so a URL with commas stays one
 * column; a device that does not would shift every later column, which
 * the decoders' column checks (a type column, an address column) catch
 * where it matters. */
#ifndef LW_CORRELATOR_FMT_CSV_H
#define LW_CORRELATOR_FMT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "correlator/fmt.h"

/* Reports column i of s[0..n) as (names[i], value) for i < nnames.
 * Returns the number of columns in the input (reported or not), fn's
 * non-zero value, or LW_EINVAL when buf is too small. */
int lw_fmt_csv_parse(char delim, const struct lw_str *names, uint32_t nnames,
		     const char *s, size_t n, struct lw_fmt_buf *buf,
		     lw_fmt_pair_fn fn, void *arg);

#endif
