/* lw_buf: growable buffer with sticky allocation failure. */
#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lw_buf_init(struct lw_buf *buf)
{
	memset(buf, 0, sizeof(*buf));
}

void lw_buf_release(struct lw_buf *buf)
{
	free(buf->data);
	memset(buf, 0, sizeof(*buf));
}

void lw_buf_reset(struct lw_buf *buf)
{
	buf->len = 0;
	buf->oom = 0;
}

int lw_buf_reserve(struct lw_buf *buf, size_t n)
{
	size_t cap;
	char *p;

	if (buf->oom)
		return LW_ENOMEM;
	if (buf->cap - buf->len > n)
		return LW_OK;
	cap = buf->cap ? buf->cap : 256;
	while (cap - buf->len <= n) {
		if (cap > SIZE_MAX / 2) {
			buf->oom = 1;
			return LW_ENOMEM;
		}
		cap *= 2;
	}
	p = realloc(buf->data, cap);
	if (p == NULL) {
		buf->oom = 1;
		return LW_ENOMEM;
	}
	buf->data = p;
	buf->cap = cap;
	return LW_OK;
}

void lw_buf_append(struct lw_buf *buf, const void *src, size_t n)
{
	if (lw_buf_reserve(buf, n) != LW_OK)
		return;
	if (n)
		memcpy(buf->data + buf->len, src, n);
	buf->len += n;
	buf->data[buf->len] = '\0';
}

void lw_buf_puts(struct lw_buf *buf, const char *s)
{
	lw_buf_append(buf, s, strlen(s));
}

void lw_buf_putc(struct lw_buf *buf, char c)
{
	lw_buf_append(buf, &c, 1);
}

void lw_buf_printf(struct lw_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || lw_buf_reserve(buf, (size_t)n + 1) != LW_OK)
		return;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t)n;
}

void lw_buf_json_escape(struct lw_buf *buf, const char *s, size_t n)
{
	lw_escape_json(buf, s, n);
}

void lw_buf_json_string(struct lw_buf *buf, const char *s, size_t n)
{
	lw_escape_json_string(buf, s, n);
}

void lw_buf_put_varint(struct lw_buf *buf, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		unsigned char b = v & 0x7f;
		v >>= 7;
		tmp[n++] = b | (v ? 0x80 : 0);
	} while (v);
	lw_buf_append(buf, tmp, n);
}

char *lw_memdup_z(const void *src, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL)
		return NULL;
	if (len)
		memcpy(d, src, len);
	d[len] = '\0';
	return d;
}
