/* libFuzzer target for the Sigma condition compiler: any text must
 * compile or fail cleanly (no crash, leak, sanitizer report or unbounded
 * recursion), and a compiled program must run to completion on any
 * selection values. The first input byte picks the selection values. */
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "correlator/sigma_cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"selection", "selection_img", "selection_cli", "filter_main_x",
	"filter_optional_y", "keywords", "_hidden", "sel1", "sel2", "all"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_sigma_cond *c = NULL;
	struct lw_diag d;
	uint64_t mask;

	if (size == 0)
		return 0;
	mask = data[0];
	if (lw_sigma_cond_compile((const char *)data + 1, size - 1, names,
				  sizeof(names) / sizeof(names[0]), &c, &d) == LW_OK) {
		(void)lw_sigma_cond_eval_mask(c, mask);
		(void)lw_sigma_cond_eval_mask(c, ~mask);
		lw_sigma_cond_free(c);
	}
	return 0;
}
