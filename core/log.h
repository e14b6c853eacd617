/* The daemon's own log (prefix lw_log): a constant message plus key/value
 * context, one line on stderr (or a FILE), level chosen by cause.
 * Thread-safe: one fprintf per line. */
#ifndef LW_CORE_LOG_H
#define LW_CORE_LOG_H

#include <stdio.h>

enum lw_log_level {
	LW_LOG_ERR = 3,
	LW_LOG_WARNING = 4,
	LW_LOG_NOTICE = 5,
	LW_LOG_INFO = 6,
	LW_LOG_DEBUG = 7
};

struct lw_log {
	FILE *out;              /* borrowed; stderr by default */
	enum lw_log_level level; /* messages above this are discarded */
};

void lw_log_init(struct lw_log *log, FILE *out, enum lw_log_level level);

/* Writes `logward[pid]: <level> <module>: <msg>; k='v' k2='v2'`.
 * The variadic part is key, value string pairs ended by a NULL key.
 * module, msg and the keys are constants of ours; every value is
 * escaped as quoted text (core/escape.h: controls as \xNN, ' as \',
 * \ as \\), so whatever a value holds, the line stays one line and each
 * value its own. A line is at most 2 KiB; a value that does not fit is
 * cut at a character boundary. log may be NULL (the message is
 * dropped). */
void lw_log(const struct lw_log *log, enum lw_log_level level,
	    const char *module, const char *msg, ...);

#endif
