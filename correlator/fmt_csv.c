/* lw_fmt_csv: delimited columns (format in correlator/fmt_csv.h). Writer
 * thread; one pass, no allocation. */
#include "correlator/fmt_csv.h"

#include <string.h>

#include "core/err.h"

int lw_fmt_csv_parse(char delim, const struct lw_str *names, uint32_t nnames,
		     const char *s, size_t n, struct lw_fmt_buf *buf,
		     lw_fmt_pair_fn fn, void *arg)
{
	size_t i = 0, used = 0;
	uint32_t col = 0;
	int rc;

	if (buf->cap < n + LW_FMT_KEY_MAX)
		return LW_EINVAL;
	for (;;) {
		struct lw_str v;
		size_t end;

		if (i < n && s[i] == '"') {
			size_t j = i + 1, w = 0;
			int doubled = 0;

			while (j < n) {
				if (s[j] == '"' && j + 1 < n && s[j + 1] == '"') {
					doubled = 1;
					j += 2;
					continue;
				}
				if (s[j] == '"')
					break;
				j++;
			}
			if (!doubled) {
				v = (struct lw_str){s + i + 1, (uint32_t)(j - i - 1)};
			} else {
				for (size_t k = i + 1; k < j; k++) {
					buf->p[used + w++] = s[k];
					if (s[k] == '"')
						k++;
				}
				v = (struct lw_str){buf->p + used, (uint32_t)w};
				used += w;
			}
			end = j < n ? j + 1 : n;
			while (end < n && s[end] != delim)
				end++;
		} else {
			const char *d = i < n ? memchr(s + i, delim, n - i) : NULL;

			end = d != NULL ? (size_t)(d - s) : n;
			v = (struct lw_str){s + i, (uint32_t)(end - i)};
		}
		if (col < nnames && names[col].len > 0) {
			rc = fn(names[col], v, arg);
			if (rc != 0)
				return rc;
		}
		col++;
		if (end >= n)
			break;
		i = end + 1;
	}
	return (int)col;
}
