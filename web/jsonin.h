/* JSON request bodies (prefix lw_jsonin): the one reader of what clients
 * POST to the API. A body is one object; its members are kept when they
 * are strings, numbers, booleans, null, or arrays of strings or numbers
 * (nested objects and deeper arrays are checked and skipped). Strings are
 * decoded (escapes, \uXXXX with surrogate pairs) into UTF-8 and
 * NUL-terminated; a string holding NUL (\u0000), an unpaired surrogate or
 * invalid UTF-8 is refused, so what a handler reads is always a C string
 * of valid UTF-8.
 *
 * Bounds: 64 members, 1,000 array items per body, nesting 16 deep; over
 * them, or on any syntax error, LW_EPARSE with diag.col = the byte offset
 * (1-based) and a reason.
 *
 * Threads: a parsed body is plain data of one thread. */
#ifndef LW_WEB_JSONIN_H
#define LW_WEB_JSONIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define LW_JSONIN_MAX_MEMBERS 64
#define LW_JSONIN_MAX_ITEMS 1000
#define LW_JSONIN_MAX_DEPTH 16

enum lw_jsonin_type {
	LW_JSONIN_STRING = 1,
	LW_JSONIN_NUMBER,
	LW_JSONIN_BOOL,
	LW_JSONIN_NULL,
	LW_JSONIN_ARRAY,   /* of strings and numbers: items */
	LW_JSONIN_OTHER    /* an object or a nested array: skipped */
};

struct lw_jsonin_member {
	char *key;
	enum lw_jsonin_type type;
	char *str;          /* STRING: decoded; NUMBER: its text */
	int boolean;
	uint32_t nitems;    /* ARRAY */
	char **items;       /* decoded strings, or numbers' texts */
};

struct lw_jsonin {
	uint32_t n;
	struct lw_jsonin_member m[LW_JSONIN_MAX_MEMBERS];
	char *arena;        /* every string above points in here */
};

/* Parses s[0..len). On LW_OK, *j is the caller's (lw_jsonin_release).
 * LW_EPARSE, LW_ENOMEM. A repeated key is an error. */
int lw_jsonin_parse(const char *s, size_t len, struct lw_jsonin *j, struct lw_diag *diag);
void lw_jsonin_release(struct lw_jsonin *j);

/* The member named key, or NULL. */
const struct lw_jsonin_member *lw_jsonin_get(const struct lw_jsonin *j, const char *key);
/* The string member key, or NULL when absent or not a string. */
const char *lw_jsonin_str(const struct lw_jsonin *j, const char *key);
/* An unsigned integer member (a number without sign, fraction or
 * exponent, < 2^63): LW_OK, LW_ENOTFOUND (absent), LW_EINVAL (another
 * type or value). */
int lw_jsonin_u64(const struct lw_jsonin *j, const char *key, uint64_t *out);
/* A boolean member: LW_OK, LW_ENOTFOUND, LW_EINVAL. */
int lw_jsonin_bool(const struct lw_jsonin *j, const char *key, int *out);

/* Parses a decimal unsigned integer (digits only, < 2^63) of a whole
 * string: LW_OK or LW_EINVAL. The one reader of ids and numbers the API
 * takes, from bodies and query strings alike. */
int lw_jsonin_parse_u64(const char *s, uint64_t *out);

#endif
