/* libFuzzer target for collector/rfc3164.c (lw_rfc3164_parse); the invariants are
 * in fuzz_syslog_parser.h, shared with the other syslog parser. */
#include "collector/rfc3164.h"
#include "tests/fuzz/fuzz_syslog_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_syslog_parser(data, size, lw_rfc3164_parse);
}
