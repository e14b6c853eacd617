/* Request parameters (prefix lw_params): the query string of a URL
 * (application/x-www-form-urlencoded: '&'-separated key=value, '+' is a
 * space, %XX a byte) and one cookie of a Cookie header (RFC 6265
 * section 5.4: "name=value; name2=value2").
 *
 * Decoded keys and values are NUL-terminated valid UTF-8: %00, a bad %
 * escape or bytes that are not UTF-8 make the whole query LW_EPARSE (the
 * API answers 400), so a handler never meets a cut or mangled value.
 * Bounds: 64 parameters, 64 KiB of query string (LW_ETOOBIG).
 *
 * Threads: plain data of one thread. */
#ifndef LW_WEB_PARAMS_H
#define LW_WEB_PARAMS_H

#include <stddef.h>

#include "core/err.h"

#define LW_PARAMS_MAX 64
#define LW_PARAMS_MAX_LEN (64u * 1024u)

struct lw_params {
	unsigned n;
	struct {
		char *key, *value;
	} kv[LW_PARAMS_MAX];
	char *buf; /* every key and value points in here */
};

/* Parses qs[0..len) (NULL or empty: no parameters). On LW_OK *p is the
 * caller's (lw_params_release). LW_EPARSE, LW_ETOOBIG, LW_ENOMEM; diag
 * says which parameter. A repeated key keeps every value; lw_params_get
 * returns the first. */
int lw_params_parse(const char *qs, size_t len, struct lw_params *p, struct lw_diag *diag);
void lw_params_release(struct lw_params *p);
/* The first value of key, or NULL. */
const char *lw_params_get(const struct lw_params *p, const char *key);

/* Copies the value of cookie `name` from a Cookie header into out
 * (NUL-terminated). LW_OK, LW_ENOTFOUND (absent, or the header is
 * malformed there), LW_ETOOBIG (longer than outlen - 1). Values are
 * taken as they are (a quoted value keeps no quotes); only visible ASCII
 * is accepted in a value. */
int lw_params_cookie(const char *header, const char *name, char *out, size_t outlen);

#endif
