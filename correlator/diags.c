/* lw_diags: an append-only, bounded list of rule load diagnostics. */
#include "correlator/diags.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lw_diags_init(struct lw_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void lw_diags_release(struct lw_diags *d)
{
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static struct lw_diags_entry *diags_slot(struct lw_diags *d)
{
	struct lw_diags_entry *n;
	size_t cap;

	if (d->count == d->cap) {
		if (d->cap >= LW_DIAGS_MAX)
			return NULL;
		cap = d->cap ? d->cap * 2 : 16;
		if (cap > LW_DIAGS_MAX)
			cap = LW_DIAGS_MAX;
		n = realloc(d->items, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		d->items = n;
		d->cap = cap;
	}
	return &d->items[d->count++];
}

int lw_diags_add(struct lw_diags *d, enum lw_diag_severity sev, int err,
		 const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lw_diags_vadd(d, sev, err, file, line, col, fmt, ap);
	va_end(ap);
	return err;
}

int lw_diags_vadd(struct lw_diags *d, enum lw_diag_severity sev, int err,
		  const char *file, int line, int col, const char *fmt, va_list ap)
{
	struct lw_diags_entry *e;

	if (d == NULL)
		return err;
	if (sev == LW_DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	e = diags_slot(d);
	if (e == NULL) {
		d->dropped++;
		return err;
	}
	memset(e, 0, sizeof(*e));
	e->severity = sev;
	e->err = err;
	snprintf(e->diag.file, sizeof(e->diag.file), "%s", file ? file : "");
	e->diag.line = line;
	e->diag.col = col;
	vsnprintf(e->diag.detail, sizeof(e->diag.detail), fmt, ap);
	return err;
}

void lw_diags_format(const struct lw_diags_entry *e, char *out, size_t outlen)
{
	const struct lw_diag *d = &e->diag;
	const char *sev = e->severity == LW_DIAG_ERROR ? "error" : "warning";

	if (d->file[0] && d->line > 0 && d->col > 0)
		snprintf(out, outlen, "%s:%d:%d: %s: %s", d->file, d->line,
			 d->col, sev, d->detail);
	else if (d->file[0] && d->line > 0)
		snprintf(out, outlen, "%s:%d: %s: %s", d->file, d->line, sev,
			 d->detail);
	else if (d->file[0])
		snprintf(out, outlen, "%s: %s: %s", d->file, sev, d->detail);
	else
		snprintf(out, outlen, "%s: %s", sev, d->detail);
}
