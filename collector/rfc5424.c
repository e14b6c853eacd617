/* RFC 5424 parser (prefix lw_rfc5424), used by the collector thread.
 * One forward pass over the bytes; views into the input, no allocation,
 * no sscanf: this runs once per received message. */
#include "collector/rfc5424.h"

#include <string.h>

#include "core/err.h"
#include "core/sd.h"
#include "core/utf8.h"
#include "core/time.h"

#define NS_PER_SEC 1000000000LL

/* PRINTUSASCII = %d33-126 (RFC 5424 section 6). */
static int printusascii(unsigned char c)
{
	return c >= 33 && c <= 126;
}


/* Scans one header field (NILVALUE or 1..max PRINTUSASCII) followed by SP.
 * Returns the position after the SP, or NULL. NIL gives an empty view. */
static const char *field(const char *p, const char *end, size_t max,
			 struct lw_str *out)
{
	const char *b = p;

	while (p < end && printusascii((unsigned char)*p))
		p++;
	if (p == b || p >= end || *p != ' ' || (size_t)(p - b) > max)
		return NULL;
	if (p - b == 1 && *b == '-')
		*out = LW_STR_NULL;
	else
		*out = (struct lw_str){b, (uint32_t)(p - b)};
	return p + 1;
}

/* "<PRI>" with PRIVAL 0..191 and no leading zero (RFC 5424 6.2.1). */
static const char *pri(const char *p, const char *end, unsigned *val)
{
	unsigned v = 0;
	int n = 0;

	if (p >= end || *p++ != '<')
		return NULL;
	while (p < end && *p >= '0' && *p <= '9' && n < 4) {
		v = v * 10 + (unsigned)(*p++ - '0');
		n++;
	}
	if (n == 0 || n > 3 || v > 191 || p >= end || *p != '>' ||
	    (n > 1 && p[-n] == '0'))
		return NULL;
	*val = v;
	return p + 1;
}

static void reset_fields(struct lw_event *ev, int64_t now)
{
	ev->timestamp_ns = now;
	ev->created_ns = now;
	ev->host = ev->app = ev->procid = ev->msgid = LW_STR_NULL;
	ev->structured_data = ev->message = LW_STR_NULL;
	ev->facility = ev->severity = LW_SYSLOG_NONE;
	ev->flags &= LW_EVENT_TRUNCATED;
}

int lw_rfc5424_parse(const char *line, size_t len,
		     const struct lw_parse_opts *opts, struct lw_event *ev)
{
	const char *p = line, *end = line + len, *vb;
	int64_t now = opts ? opts->now_ns : 0;
	unsigned prival;
	size_t n;

	reset_fields(ev, now);
	p = pri(p, end, &prival);
	if (p == NULL)
		return LW_EPARSE;
	/* VERSION = NONZERO-DIGIT 0*2DIGIT; only 1 is defined, but the
	 * grammar is what we check (lw_syslog_parse only sends "1"). */
	vb = p;
	while (p < end && *p >= '0' && *p <= '9' && p - vb < 4)
		p++;
	if (p == vb || p - vb > 3 || *vb == '0' || p >= end || *p != ' ')
		return LW_EPARSE;
	p++;
	ev->facility = (uint8_t)(prival >> 3);
	ev->severity = (uint8_t)(prival & 7);
	ev->flags |= LW_EVENT_RFC5424;

	if (p < end && *p == '-') {
		ev->flags |= LW_EVENT_NO_TIMESTAMP;
		p++;
	} else {
		struct lw_time_parts tp;

		n = lw_time_parse_iso(p, (size_t)(end - p), LW_TIME_ISO_STRICT, &tp);
		if (n == 0)
			return LW_EPARSE;
		ev->timestamp_ns = (tp.local_sec - tp.offset_sec) * NS_PER_SEC + tp.nsec;
		p += n;
	}
	if (p >= end || *p != ' ')
		return LW_EPARSE;
	p++;
	if ((p = field(p, end, LW_RFC5424_HOSTNAME_MAX, &ev->host)) == NULL ||
	    (p = field(p, end, LW_RFC5424_APPNAME_MAX, &ev->app)) == NULL ||
	    (p = field(p, end, LW_RFC5424_PROCID_MAX, &ev->procid)) == NULL ||
	    (p = field(p, end, LW_RFC5424_MSGID_MAX, &ev->msgid)) == NULL)
		return LW_EPARSE;

	if (p < end && *p == '-') {
		p++;
	} else {
		n = lw_sd_span(p, (size_t)(end - p));
		if (n == 0)
			return LW_EPARSE;
		ev->structured_data = (struct lw_str){p, (uint32_t)n};
		p += n;
	}
	if (p == end)
		return LW_OK;
	/* Exactly one SP separates SD from MSG; further spaces are MSG. */
	if (*p != ' ')
		return LW_EPARSE;
	p++;
	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	ev->message = (struct lw_str){p, (uint32_t)(end - p)};
	if (!lw_utf8_valid(p, (size_t)(end - p)))
		ev->flags |= LW_EVENT_BAD_UTF8;
	return LW_OK;
}
