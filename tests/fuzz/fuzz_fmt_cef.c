/* libFuzzer target for correlator/fmt_cef.c (lw_fmt_cef_parse).
 * Invariants: tests/fuzz/fuzz_fmt.h. */
#include "correlator/fmt_cef.h"
#include "tests/fuzz/fuzz_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_fmt(data, size, lw_fmt_cef_parse);
}
