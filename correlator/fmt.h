/* What every structured-format parser of the decoders reports (prefix
 * lw_fmt): key=value (fmt_kv), CEF (fmt_cef), LEEF (fmt_leef), delimited
 * columns (fmt_csv), JSON objects (fmt_json) and Windows events rendered
 * as text (fmt_winevt). docs/rules.md "Structured formats" describes the
 * decoder keys that use them.
 *
 * A parser walks its input once, left to right, and calls a
 * lw_fmt_pair_fn for every key and value it finds, in input order.
 * Values point into the input when they are written there as they are,
 * else into the caller's lw_fmt_buf (unescaped); keys likewise (JSON keys
 * with escapes, nested JSON paths). Views are valid until the buffer is
 * reused. Parsers allocate nothing, take at most a constant number of
 * steps per input byte, and never read past the input's length (inputs
 * need no NUL). */
#ifndef LW_CORRELATOR_FMT_H
#define LW_CORRELATOR_FMT_H

#include <stddef.h>

#include "core/event.h"

/* Bytes a parser may need in its buffer beyond the input's length (built
 * keys such as a JSON path "a.b.c" or a Windows event's "Section.Label"). */
#define LW_FMT_KEY_MAX 256

/* Called once per pair. Return 0 to go on; any other value stops the
 * parse and is returned by it. */
typedef int (*lw_fmt_pair_fn)(struct lw_str key, struct lw_str value, void *arg);

/* Where a parser writes unescaped values and built keys: cap bytes at p,
 * at least the input's length + LW_FMT_KEY_MAX (the parsers check and
 * return LW_EINVAL otherwise). Owned by the caller. */
struct lw_fmt_buf {
	char *p;
	size_t cap;
};

/* The value of a hex digit, or -1 (JSON's \uXXXX, LEEF 2.0's x5E). */
static inline int lw_fmt_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline int lw_fmt_blank(unsigned char c)
{
	/* NUL too: FortiGate ends each datagram with one. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

#endif
