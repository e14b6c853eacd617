/* libFuzzer target for correlator/fmt_json.c (lw_fmt_json_parse).
 * Invariants: tests/fuzz/fuzz_fmt.h. */
#include "correlator/fmt_json.h"
#include "tests/fuzz/fuzz_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_fmt(data, size, lw_fmt_json_parse);
}
