/* libFuzzer target for correlator/lookup.c's list files
 * (lw_lookup_list_parse). The first input byte picks the kind (low two
 * bits) and plain or CSV (bit 2: column "indicator", rows kept where
 * "type" is ip, cidr or domain, so the filter runs too). Any input must
 * parse or fail cleanly (no crash, leak or sanitizer report), a failed
 * parse returns no list, and on success: every entry's own text is in
 * the list and matches itself as the most specific entry (ip: its
 * address matches an entry at least as specific), and every input line
 * can be asked about (the bytes events bring). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "correlator/lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entries(const struct lw_lookup_list *l)
{
	for (uint32_t i = 0; i < lw_lookup_list_count(l); i++) {
		struct lw_str t = lw_lookup_list_entry(l, i, NULL);
		int ip = lw_lookup_list_kind(l) == LW_LOOKUP_IP;
		const char *slash = ip ? memchr(t.ptr, '/', t.len) : NULL;
		size_t alen = slash ? (size_t)(slash - t.ptr) : t.len;
		uint32_t e = UINT32_MAX;

		if (!lw_lookup_match(l, t.ptr, alen, &e))
			abort();
		if (!ip && e != i)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"ip", "cidr", "domain"};
	struct lw_lookup_spec spec = {.name = "fuzz"};
	struct lw_lookup_list *l = NULL;
	struct lw_diags diags;
	const char *text;
	int rc;

	if (size == 0)
		return 0;
	spec.kind = (enum lw_lookup_kind)(data[0] & 3);
	if (data[0] & 4) {
		spec.column = "indicator";
		spec.where[0] = (struct lw_lookup_where){"type", types, 3};
		spec.nwhere = 1;
	}
	text = (const char *)data + 1;
	size--;
	lw_diags_init(&diags);
	rc = lw_lookup_list_parse(&spec, "fuzz.txt", text, size, &diags, &l);
	if ((rc == LW_OK) != (l != NULL))
		abort();
	if (l != NULL) {
		check_entries(l);
		for (size_t i = 0; i < size;) {
			const char *nl = memchr(text + i, '\n', size - i);
			size_t n = nl ? (size_t)(nl - text - i) : size - i;

			(void)lw_lookup_match(l, text + i, n, NULL);
			i += n + 1;
		}
		lw_lookup_list_free(l);
	}
	lw_diags_release(&diags);
	return 0;
}
