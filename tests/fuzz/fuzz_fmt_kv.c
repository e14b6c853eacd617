/* libFuzzer target for correlator/fmt_kv.c (lw_fmt_kv_parse) with the
 * option sets the pack uses: FortiGate/Sophos (defaults), Check Point
 * (':' and ';'), Cisco FTD (',' with blanks inside), SonicWall ("key=
 * value"); the first input byte picks one. Invariants: tests/fuzz/fuzz_fmt.h. */
#include "correlator/fmt_kv.h"
#include "tests/fuzz/fuzz_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lw_fmt_kv_opts opts;

static int parse(const char *in, size_t n, struct lw_fmt_buf *buf, lw_fmt_pair_fn fn,
		 void *arg)
{
	return lw_fmt_kv_parse(&opts, in, n, buf, fn, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lw_fmt_kv_defaults(&opts);
	if (size > 0) {
		switch (data[0] % 4) {
		case 1: opts.assign = ':'; opts.seps[0] = ';'; break;
		case 2: opts.assign = ':'; opts.seps[0] = ','; opts.blanks_inside = 1; break;
		case 3: opts.value_after_blank = 1; break;
		default: break;
		}
		data++;
		size--;
	}
	return fuzz_fmt(data, size, parse);
}
