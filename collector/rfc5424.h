/* RFC 5424 syslog message parser (prefix lw_rfc5424). Strict on the header
 * and STRUCTURED-DATA grammar, so that what it accepts is unambiguous; a
 * message it rejects is kept whole by lw_syslog_parse, never dropped.
 * Rules and the decisions behind them: docs/parsing.md.
 *
 * Threading: pure functions, any thread. Memory: no allocation; every
 * string set in the event is a view into the input. */
#ifndef LW_COLLECTOR_RFC5424_H
#define LW_COLLECTOR_RFC5424_H

#include <stddef.h>
#include <stdint.h>

#include "collector/syslog.h"
#include "core/event.h"
#include "core/sd.h"

/* RFC 5424 section 6 field limits (octets). Longer fields are rejected. */
#define LW_RFC5424_HOSTNAME_MAX 255
#define LW_RFC5424_APPNAME_MAX 48
#define LW_RFC5424_PROCID_MAX 128
#define LW_RFC5424_MSGID_MAX 32
#define LW_RFC5424_SDNAME_MAX LW_SD_NAME_MAX

/* Parses line[0..len) ("<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP
 * PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]") into ev.
 * Borrows line; the views set in ev point into it. Sets timestamp_ns,
 * created_ns (= opts->now_ns), host, app, procid, msgid, structured_data
 * (the raw validated SD span, empty for NIL), message (a leading UTF-8 BOM
 * removed), facility, severity and flags (LW_EVENT_RFC5424, plus
 * LW_EVENT_NO_TIMESTAMP for a NIL timestamp, then timestamp_ns = now_ns,
 * and LW_EVENT_BAD_UTF8 when MSG is not valid UTF-8). NIL fields are empty.
 * Leaves zone, source_address, nfields and fields alone.
 * Returns LW_OK or LW_EPARSE (ev is then partly written: callers use
 * lw_event_set_unparsed). opts may be NULL (now_ns = 0). O(len). */
int lw_rfc5424_parse(const char *line, size_t len,
		     const struct lw_parse_opts *opts, struct lw_event *ev);

/* Structured-data walking and UTF-8 validation live in core/sd.h and
 * core/utf8.h: event rendering in core needs them too. */

#endif
