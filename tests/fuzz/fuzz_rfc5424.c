/* libFuzzer target for collector/rfc5424.c (lw_rfc5424_parse); the invariants are
 * in fuzz_syslog_parser.h, shared with the other syslog parser. */
#include "collector/rfc5424.h"
#include "tests/fuzz/fuzz_syslog_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_syslog_parser(data, size, lw_rfc5424_parse);
}
