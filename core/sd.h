/* Iteration over RFC 5424 STRUCTURED-DATA that a parser already validated
 * (prefix lw_sd). Used to render SD as nested JSON and to match
 * `--field log.syslog.structured_data.ID.NAME=V`. */
#ifndef LW_CORE_SD_H
#define LW_CORE_SD_H

#include "core/buf.h"
#include "core/event.h"

/* Called once per SD-PARAM; value is unescaped (\" \\ \] resolved) into a
 * scratch buffer valid only during the call. Return nonzero to stop. */
typedef int (*lw_sd_param_cb)(struct lw_str sd_id, struct lw_str name,
			      struct lw_str value, void *arg);
/* Called once per SD-ELEMENT before its params (so elements without params
 * are seen too); may be NULL. */
typedef int (*lw_sd_element_cb)(struct lw_str sd_id, void *arg);

/* Walks sd. scratch is reset and reused for unescaped values. Returns 0, the
 * callback's nonzero value, or -1 when sd is not well-formed. */
int lw_sd_each(struct lw_str sd, struct lw_buf *scratch, lw_sd_element_cb on_element,
	       lw_sd_param_cb on_param, void *arg);

#endif
