/* lw_buf: growable buffer with sticky allocation failure. */
#include "core/buf.h"
#include "core/err.h"

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

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void lw_buf_json_escape(struct lw_buf *buf, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80 && (len = utf8_seq_len(p + i, n - i)) != 0) {
			i += len;
			run += len;
			continue;
		}
		lw_buf_append(buf, p + i - run, run);
		run = 0;
		switch (c) {
		case '"': lw_buf_append(buf, "\\\"", 2); break;
		case '\\': lw_buf_append(buf, "\\\\", 2); break;
		case '\n': lw_buf_append(buf, "\\n", 2); break;
		case '\r': lw_buf_append(buf, "\\r", 2); break;
		case '\t': lw_buf_append(buf, "\\t", 2); break;
		default: lw_buf_printf(buf, "\\u%04x", c); break;
		}
		i++;
	}
	lw_buf_append(buf, p + i - run, run);
}

void lw_buf_json_string(struct lw_buf *buf, const char *s, size_t n)
{
	lw_buf_putc(buf, '"');
	lw_buf_json_escape(buf, s, n);
	lw_buf_putc(buf, '"');
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
