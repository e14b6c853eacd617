/* Shared body of the RFC 3164 and RFC 5424 libFuzzer targets. Invariants
 * checked on every accepted input: each view lies inside the input,
 * facility/severity are in range, only parser-owned flags are set, the
 * bad-UTF-8 flag agrees with the validator, and structured data the parser
 * accepted can be walked. */
#ifndef LW_FUZZ_SYSLOG_PARSER_H
#define LW_FUZZ_SYSLOG_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/syslog.h"
#include "core/err.h"
#include "core/event.h"
#include "core/sd.h"
#include "core/utf8.h"

typedef int (*lw_fuzz_parse_fn)(const char *line, size_t len,
				const struct lw_parse_opts *opts, struct lw_event *ev);

static void inside(struct lw_str s, const char *b, size_t n)
{
	if (s.len == 0)
		return;
	if (s.ptr < b || s.ptr + s.len > b + n)
		abort();
}

static int count_param(struct lw_str id, struct lw_str name, struct lw_str value, void *arg)
{
	(void)id;
	(void)name;
	(void)value;
	++*(int *)arg;
	return LW_OK;
}

/* Runs parse on a private copy of data and checks the invariants. */
static int fuzz_syslog_parser(const uint8_t *data, size_t size, lw_fuzz_parse_fn parse)
{
	/* A private copy so ASan catches any read past the end. */
	char *buf = malloc(size ? size : 1);
	struct lw_parse_opts opts = {.now_ns = 1795782605LL * 1000000000LL, .tz = NULL};
	struct lw_event ev;
	int rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	memset(&ev, 0, sizeof(ev));
	rc = parse(buf, size, &opts, &ev);
	if (rc != LW_OK && rc != LW_EPARSE)
		abort();
	if (rc == LW_OK) {
		inside(ev.host, buf, size);
		inside(ev.app, buf, size);
		inside(ev.procid, buf, size);
		inside(ev.msgid, buf, size);
		inside(ev.structured_data, buf, size);
		inside(ev.message, buf, size);
		if (ev.facility > 23 || ev.severity > 7)
			abort();
		if (ev.flags & (LW_EVENT_PARSE_ERROR | LW_EVENT_TRUNCATED | LW_EVENT_CLOCK_SKEW))
			abort();
		if (ev.created_ns != opts.now_ns)
			abort();
		if ((ev.flags & LW_EVENT_NO_TIMESTAMP) && ev.timestamp_ns != opts.now_ns)
			abort();
		if (!(ev.flags & LW_EVENT_BAD_UTF8) !=
		    !!lw_utf8_valid(ev.message.ptr, ev.message.len))
			abort();
		if (ev.structured_data.len > 0) {
			char *scratch = malloc(ev.structured_data.len);
			int n = 0;

			/* What the parser accepted, the iterator must walk. */
			if (scratch == NULL ||
			    lw_sd_each(ev.structured_data, scratch,
					       ev.structured_data.len, count_param, &n) != LW_OK ||
			    n == 0)
				abort();
			free(scratch);
		}
	}
	free(buf);
	return 0;
}

#endif
