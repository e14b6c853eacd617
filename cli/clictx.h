/* What the console's commands (`user`, `token`, `audit`, `incidents`)
 * share (prefix lw_clictx): the store directory, who is acting, and the
 * audit record a change made from the shell leaves. */
#ifndef LW_CLI_CLICTX_H
#define LW_CLI_CLICTX_H

#include <stddef.h>

struct lw_store;

/* $LOGWARD_DATA_DIR, else ./var/logward. */
const char *lw_clictx_data_dir(void);
/* The OS user running this process (the passwd name of the real uid,
 * else "uid:N"); for root, $SUDO_USER when set. Into buf. */
const char *lw_clictx_os_user(char *buf, size_t n);
/* "cli:" + lw_clictx_os_user, into buf. */
const char *lw_clictx_actor(char *buf, size_t n);
/* Writes an audit record of a change made here (actor lw_clictx_actor,
 * address "local") with the HTTP status the console would have answered
 * (200, 400, 404, 409 ...). A failure to write it is printed (the change
 * itself stands). */
void lw_clictx_audit(struct lw_store *st, const char *prog, const char *action,
		     const char *target, unsigned status, const char *detail);

#endif
