/* Growable byte buffer (prefix lw_buf) for output and encoding. The only
 * failure is allocation, which makes the buffer sticky-failed (oom set):
 * callers append freely and check once at the end. */
#ifndef LW_CORE_BUF_H
#define LW_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct lw_buf {
	char *data;
	size_t len;
	size_t cap;
	int oom; /* an append failed; contents are incomplete */
};

void lw_buf_init(struct lw_buf *buf);
void lw_buf_release(struct lw_buf *buf);
void lw_buf_reset(struct lw_buf *buf);
/* Makes room for n more bytes; returns LW_OK or LW_ENOMEM. */
int lw_buf_reserve(struct lw_buf *buf, size_t n);
void lw_buf_append(struct lw_buf *buf, const void *src, size_t n);
void lw_buf_puts(struct lw_buf *buf, const char *s);
void lw_buf_putc(struct lw_buf *buf, char c);
void lw_buf_printf(struct lw_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* lw_escape_json and lw_escape_json_string (core/escape.h) under their
 * old names, for code written before core/escape existed; new code
 * includes core/escape.h. */
void lw_buf_json_escape(struct lw_buf *buf, const char *s, size_t n);
void lw_buf_json_string(struct lw_buf *buf, const char *s, size_t n);
/* A malloc'ed copy of len bytes plus a terminating NUL (unlike strndup,
 * embedded NULs are copied). NULL on ENOMEM; free with free(). */
char *lw_memdup_z(const void *src, size_t len);
/* Unsigned LEB128 varint. */
void lw_buf_put_varint(struct lw_buf *buf, uint64_t v);

#endif
