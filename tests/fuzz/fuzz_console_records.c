/* libFuzzer target for the console's stored records (store/casework,
 * store/audit over store/rec): any bytes decode or are refused with
 * LW_ECORRUPT, never read outside the input; a record that decodes
 * encodes again (casework) to bytes that decode to the same view. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "store/audit.h"
#include "store/casework.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lw_casework_view a, b;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_audit_view av;
	struct lw_buf buf;

	(void)lw_audit_decode(data, size, &av);
	if (lw_casework_decode(data, size, &a) != LW_OK)
		return 0;
	lw_buf_init(&buf);
	lw_casework_encode(&a, &buf);
	if (buf.oom || lw_casework_decode(buf.data, buf.len, &b) != LW_OK ||
	    a.id != b.id || a.nsteps != b.nsteps || a.nnotes != b.nnotes ||
	    a.assignee.len != b.assignee.len)
		__builtin_trap();
	lw_buf_release(&buf);
	return 0;
}
