/* libFuzzer target for stored incident records (store/incidents.c,
 * versions 1 and 2): any bytes decode or are refused with LW_ECORRUPT,
 * never read outside the input; a record that decodes renders as JSON
 * and text, and encodes again to bytes that decode to the same view
 * (as version 2, related lists included). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/incidents.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lw_incident_view a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_buf buf;

	if (lw_incidents_decode(data, size, &a) != LW_OK)
		return 0;
	lw_buf_init(&buf);
	lw_incidents_to_json(&a, &buf);
	lw_incidents_to_text(&a, &buf);
	(void)lw_incidents_involves(&a, "203.0.113.50");
	lw_buf_reset(&buf);
	lw_incidents_encode(&a, &buf);
	if (buf.oom || lw_incidents_decode(buf.data, buf.len, &b) != LW_OK ||
	    a.id != b.id || a.count != b.count || a.nevidence != b.nevidence ||
	    a.nhistory != b.nhistory)
		__builtin_trap();
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		if (a.nrelated[k] != b.nrelated[k] ||
		    lw_incident_related_more(&a, (enum lw_related_kind)k) !=
		    lw_incident_related_more(&b, (enum lw_related_kind)k))
			__builtin_trap();
		for (uint32_t i = 0; i < a.nrelated[k]; i++)
			if (a.related[k][i].len != b.related[k][i].len ||
			    memcmp(a.related[k][i].ptr, b.related[k][i].ptr,
				   a.related[k][i].len) != 0)
				__builtin_trap();
	}
	lw_buf_release(&buf);
	return 0;
}
