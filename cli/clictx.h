/* What the console's commands (`user`, `token`, `audit`) share (prefix
 * lw_clictx): the store directory, who is acting, and the audit record a
 * change made from the shell leaves. */
#ifndef LW_CLI_CLICTX_H
#define LW_CLI_CLICTX_H

#include <stddef.h>

struct lw_store;

/* $LOGWARD_DATA_DIR, else ./var/logward. */
const char *lw_clictx_data_dir(void);
/* "cli:" + $SUDO_USER, else $USER, else the uid, into buf. */
const char *lw_clictx_actor(char *buf, size_t n);
/* Writes an audit record of a change made here (address "local");
 * status 200 on success, 400 on failure. A failure to write it is
 * printed (the change itself stands). */
void lw_clictx_audit(struct lw_store *st, const char *prog, const char *action,
		     const char *target, int ok, const char *detail);

#endif
