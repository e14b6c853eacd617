/* lw_escape: the text, JSON and CSV escapers (see escape.h). One walk over
 * the input classifies it into runs to copy and units to escape; two
 * writers take the result, a growable lw_buf or a fixed array that is cut
 * at a unit boundary. Runs of printable ASCII are copied in one piece, so
 * ordinary log text costs one scan and one memcpy. */
#include "core/escape.h"

#include <string.h>

#include "core/utf8.h"

enum kind { K_TEXT, K_CSV, K_JSON, K_JSON_TEXT };

/* Where escaped output goes: buf, or dst[0..cap) when buf is NULL. */
struct writer {
	struct lw_buf *buf;
	char *dst;
	size_t cap, len;
	int full;      /* fixed: a unit did not fit; nothing more is written */
};

static int put(struct writer *w, const void *p, size_t n)
{
	if (w->buf != NULL) {
		lw_buf_append(w->buf, p, n);
		return 0;
	}
	if (w->full || w->len + n >= w->cap) {
		w->full = 1;
		return -1;
	}
	memcpy(w->dst + w->len, p, n);
	w->len += n;
	return 0;
}

/* A run of characters copied as is: all of it, or for a fixed writer
 * the whole characters that fit. Returns the bytes taken. */
static size_t put_run(struct writer *w, const char *p, size_t n)
{
	size_t take = 0;

	if (put(w, p, n) == 0)
		return n;
	while (take < n) {
		size_t l = lw_utf8_seq_len(p + take, n - take);

		if (w->len + take + (l ? l : 1) >= w->cap)
			break;
		take += l ? l : 1;
	}
	memcpy(w->dst + w->len, p, take);
	w->len += take;
	return take;
}

static const char hex[] = "0123456789abcdef";

static int text_like(enum kind k)
{
	return k == K_TEXT || k == K_CSV;
}

/* "\xNN" (text) or "\u00NN" (JSON) of a byte. */
static int put_byte_escape(struct writer *w, enum kind k, unsigned char c)
{
	char x[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

	if (text_like(k)) {
		x[1] = 'x';
		x[2] = hex[c >> 4];
		x[3] = hex[c & 15];
		return put(w, x, 4);
	}
	return put(w, x, 6);
}

static int put_cp_escape(struct writer *w, uint32_t cp)
{
	char e[6] = {'\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15],
		     hex[(cp >> 4) & 15], hex[cp & 15]};

	return put(w, e, 6);
}

int lw_escape_is_control(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return 1;
	if (cp < 0x61c)
		return 0;
	return cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* 1 for an ASCII byte copied as is by kind k with flags. */
static int plain_ascii(unsigned char c, enum kind k, unsigned flags)
{
	if (c < 0x20 || c >= 0x7f)
		return 0;
	switch (k) {
	case K_JSON: return c != '"' && c != '\\';
	case K_CSV: return c != '"';
	case K_TEXT: return !(flags & LW_ESCAPE_QUOTED) || (c != '\'' && c != '\\');
	case K_JSON_TEXT: return 1;
	}
	return 0;
}

/* An ASCII byte that is not plain: its escape. */
static int put_ascii_escape(struct writer *w, enum kind k, unsigned char c)
{
	if (k == K_TEXT && (c == '\\' || c == '\''))
		return put(w, c == '\\' ? "\\\\" : "\\'", 2);
	if (k == K_CSV && c == '"')
		return put(w, "\"\"", 2);
	if (k == K_JSON) {
		switch (c) {
		case '"': return put(w, "\\\"", 2);
		case '\\': return put(w, "\\\\", 2);
		case '\n': return put(w, "\\n", 2);
		case '\r': return put(w, "\\r", 2);
		case '\t': return put(w, "\\t", 2);
		default: break;
		}
	}
	return put_byte_escape(w, k, c);
}

/* The one walk. Returns the input bytes written out (all of n unless a
 * fixed writer filled up). */
static size_t walk(struct writer *w, enum kind k, unsigned flags,
		   const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0; /* s[i - run .. i) is pending, copied as is */

	while (i < n) {
		unsigned char c = s[i];
		uint32_t cp = 0;
		size_t len, took;

		if (c < 0x80 && plain_ascii(c, k, flags)) {
			i++;
			run++;
			continue;
		}
		len = c < 0x80 ? 1 : lw_utf8_decode(str + i, n - i, &cp);
		if (len > 1 && !lw_escape_is_control(cp)) {
			i += len;
			run += len;
			continue;
		}
		if (run > 0 && (took = put_run(w, str + i - run, run)) < run)
			return i - run + took;
		run = 0;
		if ((c < 0x80 ? put_ascii_escape(w, k, c) :
		     len == 0 ? put_byte_escape(w, k, c) : put_cp_escape(w, cp)) != 0)
			return i;
		i += len ? len : 1;
	}
	return run > 0 ? i - run + put_run(w, str + i - run, run) : i;
}

void lw_escape_text(struct lw_buf *out, const char *s, size_t n, unsigned flags)
{
	struct writer w = {.buf = out};

	walk(&w, K_TEXT, flags, s, n);
}

static size_t fixed(enum kind k, unsigned flags, char *dst, size_t cap,
		    const char *s, size_t n, size_t *used)
{
	struct writer w = {.dst = dst, .cap = cap};
	size_t u = 0;

	if (cap > 0) {
		u = walk(&w, k, flags, s, n);
		dst[w.len] = '\0';
	}
	if (used != NULL)
		*used = u;
	return w.len;
}

size_t lw_escape_text_fixed(char *dst, size_t cap, const char *s, size_t n,
			    unsigned flags, size_t *used)
{
	return fixed(K_TEXT, flags, dst, cap, s, n, used);
}

void lw_escape_json(struct lw_buf *out, const char *s, size_t n)
{
	struct writer w = {.buf = out};

	walk(&w, K_JSON, 0, s, n);
}

void lw_escape_json_string(struct lw_buf *out, const char *s, size_t n)
{
	lw_buf_putc(out, '"');
	lw_escape_json(out, s, n);
	lw_buf_putc(out, '"');
}

size_t lw_escape_json_fixed(char *dst, size_t cap, const char *s, size_t n,
			    size_t *used)
{
	return fixed(K_JSON, 0, dst, cap, s, n, used);
}

void lw_escape_json_text(struct lw_buf *out, const char *json, size_t n)
{
	struct writer w = {.buf = out};

	walk(&w, K_JSON_TEXT, 0, json, n);
}

void lw_escape_csv(struct lw_buf *out, const char *s, size_t n)
{
	struct writer w = {.buf = out};
	/* CR and LF are escaped, so only these two make the cell need quotes. */
	int quote = n > 0 && (memchr(s, ',', n) != NULL || memchr(s, '"', n) != NULL);

	if (quote)
		lw_buf_putc(out, '"');
	/* Escaping keeps these four as they are, so the raw first byte tells. */
	if (n > 0 && memchr("=+-@", s[0], 4) != NULL)
		lw_buf_putc(out, '\'');
	walk(&w, K_CSV, 0, s, n);
	if (quote)
		lw_buf_putc(out, '"');
}
