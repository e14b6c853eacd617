/* RFC 3164 ("BSD syslog") parser as real devices send it (prefix
 * lw_rfc3164): optional PRI, "Mmm dd hh:mm:ss" in its many variants, ISO
 * timestamps in the 3164 header, Cisco forms, optional HOSTNAME, TAG with
 * or without [pid]. Heuristics and their reasons: docs/parsing.md.
 *
 * Threading: pure functions, any thread. Memory: no allocation; every
 * string set in the event is a view into the input. */
#ifndef LW_COLLECTOR_RFC3164_H
#define LW_COLLECTOR_RFC3164_H

#include <stddef.h>
#include <stdint.h>

#include "collector/syslog.h"
#include "core/event.h"

/* Longest TAG (program name) recognised; RFC 3164 says 32, rsyslog's
 * testbench carries 40-byte tags. A longer first word is message text. */
#define LW_RFC3164_TAG_MAX 64
#define LW_RFC3164_PID_MAX 128

/* Parses line[0..len) into ev. Borrows line; the views set in ev point
 * into it. Sets timestamp_ns (wall clock read in opts->tz, NULL = UTC;
 * the year, when absent, is the latest that puts the stamp at most
 * opts->future_slack_ns after opts->reference_ns, or now_ns when that is
 * 0: docs/parsing.md), created_ns (= opts->now_ns), host, app (TAG), procid,
 * message, facility/severity (1/5 with LW_EVENT_NO_PRI when there is no
 * PRI), flags (LW_EVENT_NO_TIMESTAMP with timestamp_ns = now_ns when there
 * is no stamp; LW_EVENT_BAD_UTF8). msgid and structured_data are cleared.
 * Leaves zone, source_address, nfields and fields alone.
 * Returns LW_OK, or LW_EPARSE for an empty line or one with neither a PRI
 * nor a timestamp (not syslog; callers keep it with
 * lw_event_set_unparsed). opts may be NULL (now 0, UTC). O(len). */
int lw_rfc3164_parse(const char *line, size_t len,
		     const struct lw_parse_opts *opts, struct lw_event *ev);

#endif
