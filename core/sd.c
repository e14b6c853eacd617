/* lw_sd: walk validated RFC 5424 structured data. The parser guarantees the
 * grammar; this walker still checks bounds so corrupt stored bytes cannot
 * make it read past the view. */
#include "core/sd.h"

#include <string.h>

static size_t span_name(const char *p, size_t n, size_t i)
{
	while (i < n && p[i] != ' ' && p[i] != '=' && p[i] != ']' && p[i] != '"')
		i++;
	return i;
}

int lw_sd_each(struct lw_str sd, struct lw_buf *scratch, lw_sd_element_cb on_element,
	       lw_sd_param_cb on_param, void *arg)
{
	const char *p = sd.ptr;
	size_t n = sd.len, i = 0;
	int rc;

	while (i < n) {
		struct lw_str id;
		size_t start;

		if (p[i] != '[')
			return -1;
		start = ++i;
		i = span_name(p, n, i);
		id = (struct lw_str){p + start, (uint32_t)(i - start)};
		if (id.len == 0)
			return -1;
		if (on_element && (rc = on_element(id, arg)) != 0)
			return rc;
		while (i < n && p[i] == ' ') {
			struct lw_str name;
			start = ++i;
			i = span_name(p, n, i);
			name = (struct lw_str){p + start, (uint32_t)(i - start)};
			if (name.len == 0 || i + 1 >= n || p[i] != '=' || p[i + 1] != '"')
				return -1;
			i += 2;
			lw_buf_reset(scratch);
			while (i < n && p[i] != '"') {
				if (p[i] == '\\' && i + 1 < n &&
				    (p[i + 1] == '"' || p[i + 1] == '\\' || p[i + 1] == ']'))
					i++;
				lw_buf_putc(scratch, p[i]);
				i++;
			}
			if (i >= n)
				return -1;
			i++; /* closing quote */
			if (on_param) {
				struct lw_str value = {scratch->data ? scratch->data : "",
						       (uint32_t)scratch->len};
				if ((rc = on_param(id, name, value, arg)) != 0)
					return rc;
			}
		}
		if (i >= n || p[i] != ']')
			return -1;
		i++;
	}
	return 0;
}
