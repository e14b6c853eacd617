/* tests/fuzz/fuzz_journal_json.c - lw_journal (journal JSON) under libFuzzer; the
 * invariants are in fuzz_journal.h. */
#include "fuzz_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_main(LW_JOURNAL_JSON, data, size);
}
