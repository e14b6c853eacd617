/* Windows events rendered as text (prefix lw_fmt_winevt): the description
 * Snare, "Eventlog to Syslog" and NXLog's $Message send, where the event's
 * data fields appear as "Label: value" under "Section:" headers, with the
 * line breaks turned into tabs or blanks:
 *
 *   An account failed to log on.  Subject:  Security ID: S-1-0-0
 *   Account Name: -  ...  Account For Which Logon Failed:  Security ID:
 *   S-1-0-0  Account Name: bob ...  Network Information:  Workstation
 *   Name: WS1  Source Network Address: 192.0.2.7  Source Port: 50123
 *
 * Labels alone cannot say where a value ends ("Account Domain: NT
 * AUTHORITY" has a blank inside; Eventlog to Syslog puts single blanks
 * everywhere), so the caller gives the event's template: its sections and
 * labels in the order Windows writes them. Sections are found in that
 * order, then each section's labels in order within the section; a
 * value runs from after "Label:" to the next label found or to a run of
 * three blanks (the text after a section's last value), blanks trimmed.
 * A label or section the text lacks (older Windows versions write fewer)
 * is skipped; the labels of a missing section are looked for in the
 * section before it (Windows 2008 writes "Logon Type" without the "Logon
 * Information" header later versions put before it).
 *
 * Why this is safe with attacker-written values: a user or workstation
 * name can hold "Source Network Address: 6.6.6.6". Searching in template
 * order means such text can only stand where a later label is expected;
 * and when a section header or a label occurs a second time before the
 * next expected one, the split is ambiguous and nothing is reported
 * (LW_EPARSE) rather than a forged field. */
#ifndef LW_CORRELATOR_FMT_WINEVT_H
#define LW_CORRELATOR_FMT_WINEVT_H

#include <stddef.h>
#include <stdint.h>

#include "correlator/fmt.h"

/* One label of a template: its section (empty for labels before the first
 * section header or continuing the previous section), the label text
 * (without the colon), and the key it is reported under. */
struct lw_fmt_winevt_entry {
	struct lw_str section;
	struct lw_str label;
	struct lw_str key;
};

/* Reports (key, value) for every template label found in s[0..n), in
 * template order. Returns the number of pairs, fn's non-zero value, or
 * LW_EPARSE when a header or label is ambiguous (nothing reported). */
int lw_fmt_winevt_parse(const struct lw_fmt_winevt_entry *tmpl, uint32_t ntmpl,
			const char *s, size_t n, lw_fmt_pair_fn fn, void *arg);

/* The most labels a template may have. */
#define LW_FMT_WINEVT_MAX 96

#endif
