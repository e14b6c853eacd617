/* key=value lists (prefix lw_fmt_kv): FortiGate, Sophos XG, SonicWall,
 * Check Point's syslog export ("key:\"value\"; ..."), Juniper and many
 * other UTMs.
 *
 *   date=2026-06-01 time=09:00:00 devname="fw 1" srcip=10.1.2.3 msg=""
 *
 * Grammar, with assign '=' and quote '"' (both configurable):
 *   line  = *(blank / sep) [pair / word] *((blank / sep) [pair / word])
 *   pair  = key assign value
 *   key   = 1*(any byte but blank, sep, assign, quote)
 *   value = quote *(escape / any byte but quote) quote   ; quoted
 *         / *(any byte but blank, sep)                   ; bare
 *   escape = "\" quote / "\\"                            ; only in quotes
 * A word that is not a pair (a syslog header's leftovers, "[junos@2636",
 * "CheckPoint") is skipped; a quoted value without its closing quote runs
 * to the end of the input. Inside quotes a backslash before anything but
 * the quote or a backslash is kept (Windows paths stay as written). With
 * blanks_inside, blanks belong to keys and bare values (only separators
 * end them), and are trimmed at both ends.
 *
 * Why this is safe with attacker-written values: a quoted value can hold
 * blanks, separators and "key=" text without ending (the device escapes
 * its quote), so a URL or a user name never becomes another pair. A bare
 * value ends at the first blank; devices that write bare values only for
 * numbers and addresses (FortiGate, Sophos) stay exact. Duplicate keys
 * are reported each time; the decoder keeps the first (docs/rules.md). */
#ifndef LW_CORRELATOR_FMT_KV_H
#define LW_CORRELATOR_FMT_KV_H

#include <stddef.h>

#include "correlator/fmt.h"

struct lw_fmt_kv_opts {
	char assign;        /* between key and value: '=' (Check Point ':') */
	char quote;         /* '"'; 0 for none */
	char seps[4];       /* pair separators besides blanks (";" ","), NUL-ended */
	/* Blanks are part of keys and bare values, which then end only at a
	 * separator (Cisco FTD's "User: No Authentication Required, SrcIP:
	 * ..."); leading and trailing blanks are dropped. */
	int blanks_inside;
	/* "key= value": an empty value followed by blanks and a word that is
	 * not itself a pair takes that word (some SonicOS versions write
	 * "dst= 10.0.0.1"). */
	int value_after_blank;
};

/* The defaults: '=', '"', no extra separators. */
void lw_fmt_kv_defaults(struct lw_fmt_kv_opts *o);

/* Reports every pair of s[0..n) to fn. Returns the number of pairs
 * (>= 0), fn's non-zero value when it stopped the walk, or LW_EINVAL when
 * buf is smaller than n + LW_FMT_KEY_MAX. */
int lw_fmt_kv_parse(const struct lw_fmt_kv_opts *o, const char *s, size_t n,
		    struct lw_fmt_buf *buf, lw_fmt_pair_fn fn, void *arg);

#endif
