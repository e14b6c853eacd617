/* lw_log: key/value self-logging to a FILE. */
#include "core/log.h"
#include "core/escape.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static const char *level_name(enum lw_log_level level)
{
	switch (level) {
	case LW_LOG_ERR: return "err";
	case LW_LOG_WARNING: return "warning";
	case LW_LOG_NOTICE: return "notice";
	case LW_LOG_INFO: return "info";
	case LW_LOG_DEBUG: return "debug";
	}
	return "?";
}

void lw_log_init(struct lw_log *log, FILE *out, enum lw_log_level level)
{
	log->out = out ? out : stderr;
	log->level = level;
}

void lw_log(const struct lw_log *log, enum lw_log_level level,
	    const char *module, const char *msg, ...)
{
	char line[2048];
	size_t used;
	va_list ap;
	const char *key;
	const char *sep = "; ";
	int n;

	if (log == NULL || level > log->level)
		return;
	n = snprintf(line, sizeof(line), "logward[%d]: %s %s: %s",
		     (int)getpid(), level_name(level), module, msg);
	used = n < 0 ? 0 : (size_t)n;
	va_start(ap, msg);
	/* Room is kept for "'" and the newline after each value. */
	while ((key = va_arg(ap, const char *)) != NULL && used + 2 < sizeof(line)) {
		const char *value = va_arg(ap, const char *);

		n = snprintf(line + used, sizeof(line) - used, "%s%s='", sep, key);
		if (n < 0 || used + (size_t)n + 2 >= sizeof(line))
			break;
		used += (size_t)n;
		/* Values come from outside (a peer's address, a client's header,
		 * a file name): escaped and quoted, a value can end neither its
		 * quotes nor the line. */
		if (value != NULL)
			used += lw_escape_text_fixed(line + used, sizeof(line) - 1 - used,
						     value, strlen(value), LW_ESCAPE_QUOTED, NULL);
		line[used++] = '\'';
		sep = " ";
	}
	va_end(ap);
	if (used >= sizeof(line))
		used = sizeof(line) - 1;
	line[used] = '\n';
	fwrite(line, 1, used + 1, log->out);
	fflush(log->out);
}
