/* UTF-8 validation (prefix lw_utf8). */
#ifndef LW_CORE_UTF8_H
#define LW_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF), else 0. ASCII runs are checked 8 bytes at a time. */
int lw_utf8_valid(const char *s, size_t len);

/* Length (1-4) of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
size_t lw_utf8_seq_len(const char *s, size_t n);

/* Decodes the valid UTF-8 sequence at s[0..n): returns its length (1-4)
 * and sets *cp, or returns 0 (n == 0, or s does not start with a valid
 * sequence: a stray continuation byte, an overlong form, a surrogate, a
 * code point above U+10FFFF, or a sequence cut by n). */
size_t lw_utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif
