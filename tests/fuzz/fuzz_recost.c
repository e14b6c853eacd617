/* tests/fuzz/fuzz_recost.c - core/recost's pattern reader and probe
 * under libFuzzer. The input is a regular expression (as a rule author
 * would write one); it is read without a parser (literal runs, class
 * samples, group openers, escapes), so any bytes must be safe.
 * Invariants: no crash, leak or sanitizer report; a pattern that
 * compiles is probed with at least one input family, and its growth is
 * a number, with superlinear set exactly when it passes the bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/recost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_recost_report r;
	int rc;

	if (size > 256)
		return 0; /* patterns are short; long ones only slow the probe */
	rc = lw_recost_probe((const char *)data, size, 0, 64, &r);
	if (rc != LW_OK)
		return 0;
	if (r.inputs == 0 || !(r.growth >= 0))
		abort();
	if (r.superlinear != (r.growth > LW_RECOST_MAX_GROWTH))
		abort();
	return 0;
}
