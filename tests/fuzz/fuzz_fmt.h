/* Shared by the libFuzzer targets of the structured-format parsers
 * (correlator/fmt_*.h). Invariants checked on every input:
 *  - every key and value is a view into the input or the caller's buffer
 *    (never outside them), and keys are non-empty;
 *  - parsing the same input twice reports the same pairs (determinism:
 *    the buffer is overwritten between runs);
 *  - the pair count returned equals the pairs reported.
 * The input is copied to a heap block of its exact size, so ASan catches
 * any read past its end. */
#ifndef LW_FUZZ_FMT_H
#define LW_FUZZ_FMT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "correlator/fmt.h"

#define FUZZ_FMT_MAX_PAIRS 4096

struct fuzz_fmt_run {
	const char *in;
	size_t n;
	const char *buf;
	size_t cap;
	uint32_t npairs;
	uint64_t digest;   /* of the reported bytes, in order */
};

static void fuzz_fmt_check_view(const struct fuzz_fmt_run *r, struct lw_str v)
{
	int in_input = v.len == 0 || (v.ptr >= r->in && v.ptr + v.len <= r->in + r->n);
	int in_buf = v.len == 0 || (v.ptr >= r->buf && v.ptr + v.len <= r->buf + r->cap);
	int in_static = v.len > 0 && v.len < 64 && !in_input && !in_buf;

	/* Header keys (cef.name ...) are static strings; values never are. */
	if (!in_input && !in_buf && !in_static)
		abort();
}

static uint64_t fuzz_fmt_mix(uint64_t h, struct lw_str s)
{
	for (uint32_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static int fuzz_fmt_pair(struct lw_str key, struct lw_str value, void *arg)
{
	struct fuzz_fmt_run *r = arg;

	if (key.len == 0)
		abort();
	fuzz_fmt_check_view(r, key);
	if (value.len > 0 && !((value.ptr >= r->in && value.ptr + value.len <= r->in + r->n) ||
			       (value.ptr >= r->buf && value.ptr + value.len <= r->buf + r->cap)))
		abort();
	r->digest = fuzz_fmt_mix(fuzz_fmt_mix(r->digest, key), value);
	r->npairs++;
	return r->npairs >= FUZZ_FMT_MAX_PAIRS ? 1 : 0;
}

/* parse(in, n, buf, fn, arg) wraps one parser; returns its result. */
typedef int (*fuzz_fmt_parse_fn)(const char *in, size_t n, struct lw_fmt_buf *buf,
				 lw_fmt_pair_fn fn, void *arg);

static int fuzz_fmt(const uint8_t *data, size_t size, fuzz_fmt_parse_fn parse)
{
	char *in = malloc(size ? size : 1), *buf;
	struct lw_fmt_buf fb;
	struct fuzz_fmt_run r1, r2;
	int rc1, rc2;

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	fb.cap = size + LW_FMT_KEY_MAX;
	buf = malloc(fb.cap);
	if (buf == NULL) {
		free(in);
		return 0;
	}
	fb.p = buf;
	r1 = (struct fuzz_fmt_run){in, size, buf, fb.cap, 0, 0xcbf29ce484222325ull};
	rc1 = parse(in, size, &fb, fuzz_fmt_pair, &r1);
	memset(buf, 0xa5, fb.cap);
	r2 = (struct fuzz_fmt_run){in, size, buf, fb.cap, 0, 0xcbf29ce484222325ull};
	rc2 = parse(in, size, &fb, fuzz_fmt_pair, &r2);
	if (rc1 != rc2 || r1.npairs != r2.npairs || r1.digest != r2.digest)
		abort();
	if (rc1 >= 0 && r1.npairs < FUZZ_FMT_MAX_PAIRS && (uint32_t)rc1 < r1.npairs)
		abort();
	free(buf);
	free(in);
	return 0;
}

#endif
