/* RFC 5424 STRUCTURED-DATA grammar (prefix lw_sd): validation for the
 * parser and unescaping iteration for rendering and queries. One walker
 * does both, so what the parser accepts is exactly what renders. */
#ifndef LW_CORE_SD_H
#define LW_CORE_SD_H

#include <stddef.h>

#include "core/event.h"

/* SD-NAME (SD-ID and PARAM-NAME) is at most 32 characters (RFC 5424 6.3). */
#define LW_SD_NAME_MAX 32

/* Called once per SD-PARAM (name.len > 0) and, for an SD-ELEMENT without
 * parameters, once with name = value = LW_STR_NULL. value is unescaped
 * ("\\\"" -> '"', "\\\\" -> '\\', "\\]" -> ']'; any other backslash is kept);
 * it points into sd when it had no escapes, else into the caller's
 * scratch buffer, and is valid until the next callback. Return LW_OK to go
 * on; any other value stops the walk and is returned. */
typedef int (*lw_sd_cb)(struct lw_str sd_id, struct lw_str name,
				struct lw_str value, void *arg);

/* Walks a STRUCTURED-DATA span as produced by lw_rfc5424_parse (or stored) (an empty
 * span has no elements). scratch must hold at least sd.len bytes (values
 * are never longer than the span). Returns LW_OK, the callback's non-OK
 * value, LW_EPARSE when sd is not valid SD, or LW_EINVAL when scratch is
 * too small. Borrows everything; no allocation. */
int lw_sd_each(struct lw_str sd, char *scratch, size_t scratch_len,
		       lw_sd_cb cb, void *arg);

/* Returns the bytes of a valid STRUCTURED-DATA value (one or more SD
 * elements, no NIL) at the start of s, or 0 when s does not start with one.
 * Used by the RFC 5424 parser to validate. */
size_t lw_sd_span(const char *s, size_t len);

#endif
