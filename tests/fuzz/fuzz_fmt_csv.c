/* libFuzzer target for correlator/fmt_csv.c (lw_fmt_csv_parse), comma
 * and tab delimited (the first input byte picks), 48 named columns with
 * some unnamed. Invariants: tests/fuzz/fuzz_fmt.h. */
#include "correlator/fmt_csv.h"
#include "tests/fuzz/fuzz_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char delim;
static struct lw_str names[48];

static int parse(const char *in, size_t n, struct lw_fmt_buf *buf, lw_fmt_pair_fn fn,
		 void *arg)
{
	return lw_fmt_csv_parse(delim, names, 48, in, n, buf, fn, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const col[] = {"a", "b", "", "d", "e", "f"};

	for (int i = 0; i < 48; i++)
		names[i] = (struct lw_str){col[i % 6], (uint32_t)strlen(col[i % 6])};
	delim = ',';
	if (size > 0) {
		delim = (data[0] & 1) ? '\t' : ',';
		data++;
		size--;
	}
	return fuzz_fmt(data, size, parse);
}
