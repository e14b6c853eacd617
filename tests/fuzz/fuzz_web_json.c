/* libFuzzer target for the API's JSON body reader (web/jsonin). Any bytes
 * must parse or fail cleanly (no crash, leak or sanitizer report), and on
 * success every kept string is NUL-terminated valid UTF-8 with no NUL
 * inside, as the handlers assume. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/utf8.h"
#include "web/jsonin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s)
{
	if (!lw_utf8_valid(s, strlen(s)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_jsonin j;
	struct lw_diag d = {0};
	uint64_t v;

	if (lw_jsonin_parse((const char *)data, size, &j, &d) != LW_OK) {
		if (d.col < 1)
			__builtin_trap();
		return 0;
	}
	for (uint32_t i = 0; i < j.n; i++) {
		check(j.m[i].key);
		if (j.m[i].type == LW_JSONIN_STRING || j.m[i].type == LW_JSONIN_NUMBER)
			check(j.m[i].str);
		for (uint32_t k = 0; k < j.m[i].nitems; k++)
			check(j.m[i].items[k]);
		(void)lw_jsonin_u64(&j, j.m[i].key, &v);
	}
	lw_jsonin_release(&j);
	return 0;
}
