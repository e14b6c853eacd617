/* tests/fuzz/fuzz_journal_export.c - lw_journal (Journal Export Format) under libFuzzer; the
 * invariants are in fuzz_journal.h. */
#include "fuzz_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_main(LW_JOURNAL_EXPORT, data, size);
}
