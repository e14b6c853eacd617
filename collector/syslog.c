/* Syslog entry point (prefix lw_syslog): picks the RFC 5424 or RFC 3164
 * parser per message and keeps whatever neither accepts. Collector thread;
 * no allocation, no state. */
#include "collector/syslog.h"

#include "collector/rfc3164.h"
#include "collector/rfc5424.h"
#include "core/err.h"
#include "core/utf8.h"

/* "<PRI>1 ": the only VERSION RFC 5424 defines. Anything else, including
 * "<13>2 ..." or "<13>10 apples", is RFC 3164 text. */
static int looks_rfc5424(const char *s, size_t len)
{
	size_t i = 1;

	if (len < 5 || s[0] != '<')
		return 0;
	while (i < len && i <= 4 && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > 1 && i + 2 < len && s[i] == '>' && s[i + 1] == '1' &&
	       s[i + 2] == ' ';
}

void lw_syslog_parse(const char *line, size_t len,
		     const struct lw_parse_opts *opts, struct lw_event *ev)
{
	int rc;

	/* A trailing LF (UDP senders add one) or NUL (old BSD syslog(3)
	 * sends the C string's terminator) is framing, not content. */
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\0'))
		len--;
	if (looks_rfc5424(line, len))
		rc = lw_rfc5424_parse(line, len, opts, ev);
	else
		rc = lw_rfc3164_parse(line, len, opts, ev);
	ev->created_ns = opts ? opts->now_ns : 0;
	if (rc == LW_OK)
		return;
	ev->flags &= LW_EVENT_TRUNCATED;
	if (!lw_utf8_valid(line, len))
		ev->flags |= LW_EVENT_BAD_UTF8;
	lw_event_set_unparsed(ev, line, len);
}
