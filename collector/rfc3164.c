/* RFC 3164 parser (prefix lw_rfc3164), used by the collector thread.
 * RFC 3164 describes what was seen on the wire rather than a grammar, so
 * this is a sequence of small recognisers, each of which either matches and
 * advances or leaves the position alone. Nothing is copied or allocated.
 *
 *   [<PRI>] [SP*] [seq ": "] ['*'|'.'] [TIMESTAMP [':'] SP] [HOSTNAME SP]
 *   [TAG ['[' PID ']'] ':' SP | TAG '[' PID ']' SP] MSG
 */
#include "collector/rfc3164.h"

#include <string.h>

#include "collector/rfc5424.h"
#include "core/err.h"
#include "core/time.h"
#include "core/tz.h"
#include "core/utf8.h"

#define NS_PER_SEC 1000000000LL

struct stamp {
	int64_t local_sec;  /* wall clock as if UTC (year 1970 when absent) */
	int32_t nsec;
	int32_t offset_sec;
	int has_offset;
	int has_year;
	unsigned mon, mday;
	int64_t sod;        /* seconds of the day */
	int64_t year;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Month from three letters, any case ("Nov", "NOV"); 0 when none. */
static unsigned month(const char *p)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char m[3];

	for (int i = 0; i < 3; i++) {
		if (!is_alpha(p[i]))
			return 0;
		m[i] = (char)(p[i] | 0x20);
	}
	for (unsigned i = 0; i < 12; i++)
		if (memcmp(names + i * 3, m, 3) == 0)
			return i + 1;
	return 0;
}

static const char *spaces(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* n digits exactly; -1 when not. */
static int num(const char *p, const char *end, int n)
{
	int v = 0;

	if (end - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* A 4-digit year followed by SP, ':' or the end. */
static int year_at(const char *p, const char *end)
{
	int y = num(p, end, 4);

	if (y < 1970 || y > 2199)
		return -1;
	if (p + 4 < end && p[4] != ' ' && p[4] != ':')
		return -1;
	return y;
}

/* "Mmm [ ]d hh:mm:ss[.frac]" plus the variants: "Mmm dd YYYY hh:mm:ss",
 * "Mmm dd hh:mm:ss YYYY", a trailing ':' (Cisco, PIX). */
static const char *bsd_stamp(const char *p, const char *end, struct stamp *st)
{
	int d, hh, mi, ss, y;

	if (end - p < 14 || (st->mon = month(p)) == 0 || p[3] != ' ')
		return NULL;
	p = spaces(p + 3, end);
	if (p < end && is_digit(*p) && p + 1 < end && is_digit(p[1]))
		d = num(p, end, 2), p += 2;
	else if (p < end && is_digit(*p))
		d = *p - '0', p += 1;
	else
		return NULL;
	if (d < 1 || (unsigned)d > lw_time_days_in_month(2000, st->mon) ||
	    p >= end || *p != ' ')
		return NULL;
	p = spaces(p, end);
	st->has_year = 0;
	if ((y = year_at(p, end)) > 0 && p + 4 < end && p[4] == ' ') {
		st->has_year = 1;
		st->year = y;
		p = spaces(p + 4, end);
	}
	hh = num(p, end, 2);
	mi = end - p >= 8 && p[2] == ':' ? num(p + 3, end, 2) : -1;
	ss = end - p >= 8 && p[5] == ':' ? num(p + 6, end, 2) : -1;
	if (hh < 0 || mi < 0 || ss < 0 || hh > 23 || mi > 59 || ss > 60)
		return NULL;
	p += 8;
	st->nsec = 0;
	if (p < end && *p == '.') {
		int n = 0;

		/* Cisco "02:00:00.156"; an empty fraction is seen too. */
		for (p++; p < end && is_digit(*p); p++, n++)
			if (n < 9)
				st->nsec = st->nsec * 10 + (*p - '0');
		for (; n < 9 && st->nsec; n++)
			st->nsec *= 10;
	}
	if (!st->has_year && p + 1 < end && *p == ' ' &&
	    (y = year_at(p + 1, end)) > 0) {
		st->has_year = 1;
		st->year = y;
		p += 5;
	}
	if (p < end && *p == ':')
		p++;
	if (p < end && *p != ' ')
		return NULL;
	st->mday = (unsigned)d;
	st->sod = (int64_t)hh * 3600 + mi * 60 + (ss > 59 ? 59 : ss);
	st->has_offset = 0;
	return p;
}

/* ISO 8601 in the 3164 header (rsyslog forwarding, loggen, systemd). */
static const char *iso_stamp(const char *p, const char *end, struct stamp *st)
{
	struct lw_time_parts tp;
	size_t n;

	n = lw_time_parse_iso(p, (size_t)(end - p), 0, &tp);
	if (n == 0)
		return NULL;
	p += n;
	if (p < end && *p == ':')
		p++;
	if (p < end && *p != ' ')
		return NULL;
	st->local_sec = tp.local_sec;
	st->nsec = tp.nsec;
	st->has_offset = tp.has_offset;
	st->offset_sec = tp.offset_sec;
	st->has_year = 1;
	st->mon = 0;
	return p;
}

/* Tries the stamp forms at p, then after a Cisco sequence number ("91: ")
 * and/or a Cisco clock-state mark ('*' unsynchronised, '.' lost sync). */
static const char *stamp(const char *p, const char *end, struct stamp *st)
{
	const char *q = p, *r;

	for (int pass = 0; pass < 2; pass++) {
		if (q < end && (*q == '*' || *q == '.'))
			q++;
		if (q < end && is_digit(*q) && (r = iso_stamp(q, end, st)) != NULL)
			return r;
		if ((r = bsd_stamp(q, end, st)) != NULL)
			return r;
		/* Cisco "service sequence-numbers": digits, ':' SP. */
		q = p;
		while (q < end && is_digit(*q))
			q++;
		if (q == p || q + 1 >= end || q[0] != ':' || q[1] != ' ')
			return NULL;
		q += 2;
	}
	return NULL;
}

/* The local wall clock of a year-less stamp: the latest year in which the
 * stamp is at most slack_sec after the reference time (docs/parsing.md
 * "Year-less timestamps"). A log line is written before it is read, so
 * a stamp is never placed further in the future than a clock may be off:
 * a Dec 31 stamp read on Jan 1 is last year's, and last spring's file
 * imported in December stays last spring's. */
static int64_t infer_year(const struct stamp *st, const struct lw_tz *tz,
			  int64_t ref_sec, int64_t slack_sec)
{
	int64_t limit = ref_sec + lw_tz_offset_at(tz, ref_sec) + slack_sec;
	int64_t days = limit / 86400 - (limit % 86400 < 0), y;
	unsigned m, d;

	lw_time_civil_from_days(days, &y, &m, &d);
	/* Feb 29 may be up to 8 years back (1896 -> 1904 skips 1900). */
	for (int64_t cy = y; cy > y - 9; cy--) {
		int64_t t;

		if (st->mday > lw_time_days_in_month(cy, st->mon))
			continue;
		t = lw_time_days_from_civil(cy, st->mon, st->mday) * 86400 + st->sod;
		if (t <= limit)
			return t;
	}
	/* Unreachable for a valid month/day (one of 9 years has it); keep
	 * the reference year rather than invent one. */
	return lw_time_days_from_civil(y, st->mon, st->mday) * 86400 + st->sod;
}

static int host_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_' ||
	       c == ':';
}

/* Hex digits, dots and at least two colons: an IPv6 address. */
static int ipv6ish(const char *b, const char *e)
{
	int colons = 0;

	for (const char *p = b; p < e; p++) {
		if (*p == ':')
			colons++;
		else if (!is_digit(*p) && !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') &&
			 *p != '.')
			return 0;
	}
	return colons >= 2;
}

/* HOSTNAME heuristics: letters, digits, ".-_" (and ':' only in IPv6
 * addresses). A word with other characters ("sshd[1]:", "%ASA-6:") or a
 * word ending in ':' is a TAG, which means the sender left the hostname
 * out (many do: logger to a local socket, Cisco). */
static const char *hostname(const char *p, const char *end, struct lw_str *host)
{
	const char *b = p;

	while (p < end && *p != ' ') {
		if (!host_char(*p))
			return NULL;
		p++;
	}
	if (p == b || p - b > 255)
		return NULL;
	if (memchr(b, ':', (size_t)(p - b)) != NULL && !ipv6ish(b, p))
		return NULL;
	*host = (struct lw_str){b, (uint32_t)(p - b)};
	return p;
}

/* AIX relays say "Message forwarded from HOST: " instead of HOSTNAME. */
static const char *aix_forwarded(const char *p, const char *end,
				 struct lw_str *host)
{
	static const char pfx[] = "Message forwarded from ";
	const char *b, *e;

	if ((size_t)(end - p) < sizeof(pfx) || memcmp(p, pfx, sizeof(pfx) - 1) != 0)
		return NULL;
	b = p + sizeof(pfx) - 1;
	for (e = b; e < end && *e != ' ' && *e != ':'; e++)
		;
	if (e == b || e >= end || *e != ':')
		return NULL;
	*host = (struct lw_str){b, (uint32_t)(e - b)};
	return e + 1;
}

/* TAG characters: printable ASCII except ':', '[' and ']'. */
static int tag_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':' && c != '[' && c != ']';
}

/* "tag: ", "tag[pid]: ", "tag[pid] " (or the same at the end of the line).
 * A first word without one of these endings is message text: taking it as
 * the program name would cut it out of the message. Returns the message
 * start or NULL when there is no tag. */
static const char *tag(const char *p, const char *end, struct lw_event *ev)
{
	const char *b = p, *q;

	while (p < end && tag_char((unsigned char)*p) && p - b <= LW_RFC3164_TAG_MAX)
		p++;
	if (p == b || p - b > LW_RFC3164_TAG_MAX || p >= end)
		return NULL;
	if (*p == ':') {
		if (p + 1 < end && p[1] != ' ')
			return NULL;
		ev->app = (struct lw_str){b, (uint32_t)(p - b)};
		return p + 1 < end ? p + 2 : end;
	}
	if (*p != '[')
		return NULL;
	for (q = p + 1; q < end && *q != ']' && *q > ' ' && *q < 127 &&
			q - p <= LW_RFC3164_PID_MAX; q++)
		;
	if (q >= end || *q != ']' || q == p + 1)
		return NULL;
	ev->app = (struct lw_str){b, (uint32_t)(p - b)};
	ev->procid = (struct lw_str){p + 1, (uint32_t)(q - p - 1)};
	q++;
	if (q < end && *q == ':')
		q++;
	if (q < end && *q != ' ') {
		ev->app = ev->procid = LW_STR_NULL;
		return NULL;
	}
	return q < end ? q + 1 : end;
}

/* "<PRI>" with 1-3 digits and PRIVAL <= 191 (leading zeros tolerated). */
static const char *pri(const char *p, const char *end, unsigned *val)
{
	unsigned v = 0;
	int n = 0;

	if (p >= end || *p != '<')
		return NULL;
	for (p++; p < end && is_digit(*p) && n < 4; p++, n++)
		v = v * 10 + (unsigned)(*p - '0');
	if (n == 0 || n > 3 || v > 191 || p >= end || *p != '>')
		return NULL;
	*val = v;
	return p + 1;
}

int lw_rfc3164_parse(const char *line, size_t len,
		     const struct lw_parse_opts *opts, struct lw_event *ev)
{
	const char *p = line, *end = line + len, *q, *m;
	const struct lw_tz *tz = opts ? opts->tz : NULL;
	int64_t now = opts ? opts->now_ns : 0;
	int64_t ref = opts && opts->reference_ns != 0 ? opts->reference_ns : now;
	int64_t slack = opts && opts->future_slack_ns > 0 ?
		opts->future_slack_ns : LW_PARSE_DEFAULT_SLACK_NS;
	struct stamp st;
	unsigned prival;
	int have_pri;

	ev->timestamp_ns = ev->created_ns = now;
	ev->host = ev->app = ev->procid = ev->msgid = LW_STR_NULL;
	ev->structured_data = ev->message = LW_STR_NULL;
	ev->flags &= LW_EVENT_TRUNCATED;
	if (len == 0)
		return LW_EPARSE;
	q = pri(p, end, &prival);
	have_pri = q != NULL;
	if (have_pri) {
		p = q;
	} else {
		/* rsyslog and syslog-ng default: user.notice. */
		prival = 1 << 3 | 5;
		ev->flags |= LW_EVENT_NO_PRI;
	}
	ev->facility = (uint8_t)(prival >> 3);
	ev->severity = (uint8_t)(prival & 7);
	p = spaces(p, end);

	q = stamp(p, end, &st);
	if (q == NULL) {
		if (!have_pri)
			return LW_EPARSE; /* neither PRI nor stamp: not syslog */
		ev->flags |= LW_EVENT_NO_TIMESTAMP;
	} else {
		int64_t utc;

		if (st.has_offset)
			utc = st.local_sec - st.offset_sec;
		else if (st.mon != 0 && st.has_year)
			utc = lw_tz_local_to_utc(tz, lw_time_days_from_civil(
				st.year, st.mon, st.mday) * 86400 + st.sod);
		else if (st.mon != 0)
			utc = lw_tz_local_to_utc(tz, infer_year(&st, tz,
				ref / NS_PER_SEC - (ref % NS_PER_SEC < 0),
				slack / NS_PER_SEC));
		else
			utc = lw_tz_local_to_utc(tz, st.local_sec);
		ev->timestamp_ns = utc * NS_PER_SEC + st.nsec;
		p = spaces(q, end);
		/* No HOSTNAME is looked for without a stamp: RFC 3164 4.3.3
		 * says such a packet is all CONTENT. */
		if ((q = aix_forwarded(p, end, &ev->host)) != NULL ||
		    (q = hostname(p, end, &ev->host)) != NULL)
			p = spaces(q, end);
	}
	m = tag(p, end, ev);
	if (m != NULL)
		p = m;
	ev->message = (struct lw_str){p, (uint32_t)(end - p)};
	if (!lw_utf8_valid(p, (size_t)(end - p)))
		ev->flags |= LW_EVENT_BAD_UTF8;
	return LW_OK;
}
