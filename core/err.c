/* lw_strerror and lw_diag helpers. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

const char *lw_strerror(int err)
{
	switch (err) {
	case LW_OK: return "success";
	case LW_ENOMEM: return "out of memory";
	case LW_EINVAL: return "invalid argument";
	case LW_EIO: return "input/output error";
	case LW_EPARSE: return "parse error";
	case LW_ECORRUPT: return "corrupt data";
	case LW_ENOTFOUND: return "not found";
	case LW_EFULL: return "resource full";
	case LW_ESTORE: return "store error";
	case LW_ETOOBIG: return "too big";
	case LW_EAGAIN: return "try again";
	case LW_ECLOSED: return "closed";
	case LW_ECOMPRESS: return "compression error";
	}
	return "unknown error";
}

int lw_diag_set(struct lw_diag *diag, int err, const char *file, int line,
		int col, const char *fmt, ...)
{
	va_list ap;

	if (diag == NULL)
		return err;
	snprintf(diag->file, sizeof(diag->file), "%s", file ? file : "");
	diag->line = line;
	diag->col = col;
	va_start(ap, fmt);
	vsnprintf(diag->detail, sizeof(diag->detail), fmt, ap);
	va_end(ap);
	return err;
}

void lw_diag_format(const struct lw_diag *diag, char *out, size_t outlen)
{
	if (diag->file[0] && diag->line > 0 && diag->col > 0)
		snprintf(out, outlen, "%s:%d:%d: %s", diag->file, diag->line,
			 diag->col, diag->detail);
	else if (diag->file[0] && diag->line > 0)
		snprintf(out, outlen, "%s:%d: %s", diag->file, diag->line,
			 diag->detail);
	else if (diag->file[0])
		snprintf(out, outlen, "%s: %s", diag->file, diag->detail);
	else
		snprintf(out, outlen, "%s", diag->detail);
}
