/* libFuzzer target for correlator/fmt_leef.c (lw_fmt_leef_parse), with
 * the default delimiter and with '^' for 1.0 lines (the first input byte
 * picks). Invariants: tests/fuzz/fuzz_fmt.h. */
#include "correlator/fmt_leef.h"
#include "tests/fuzz/fuzz_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char delim;

static int parse(const char *in, size_t n, struct lw_fmt_buf *buf, lw_fmt_pair_fn fn,
		 void *arg)
{
	return lw_fmt_leef_parse(in, n, delim, buf, fn, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	delim = 0;
	if (size > 0) {
		delim = (data[0] & 1) ? '^' : 0;
		data++;
		size--;
	}
	return fuzz_fmt(data, size, parse);
}
