/* Syslog message parsing entry point (prefix lw_syslog): picks RFC 5424 or
 * RFC 3164 per message and never loses one: a message neither parser
 * accepts is stored whole with LW_EVENT_PARSE_ERROR. Rules and decisions:
 * docs/parsing.md. */
#ifndef LW_COLLECTOR_SYSLOG_H
#define LW_COLLECTOR_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct lw_tz;

/* How far past its reference time a year-less stamp may be placed when
 * the caller gives no slack (the default max_clock_skew). */
#define LW_PARSE_DEFAULT_SLACK_NS (300 * 1000000000LL)

struct lw_parse_opts {
	int64_t now_ns;          /* receive time: event.created */
	const struct lw_tz *tz;  /* zone for RFC 3164 stamps; NULL = UTC */
	/* Year inference for stamps without one: the year is the latest
	 * that puts the stamp at most future_slack_ns after reference_ns.
	 * reference_ns 0 = now_ns (live input); an imported file passes the
	 * time it was last written. future_slack_ns <= 0 = the default. */
	int64_t reference_ns;
	int64_t future_slack_ns;
};

/* Parses line[0..len) into ev. Every string in ev is a view into line (the
 * caller keeps line alive as long as ev). Sets created_ns = opts->now_ns.
 * Does not touch zone / source_address / fields. Never fails. */
void lw_syslog_parse(const char *line, size_t len,
		     const struct lw_parse_opts *opts, struct lw_event *ev);

#endif
