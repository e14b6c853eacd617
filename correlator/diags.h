/* A list of load diagnostics (prefix lw_diags) for rule files.
 *
 * `logward rules check` must report every problem in every file, so the
 * rule loaders record each one here and keep going instead of stopping at
 * the first. Errors make a rule (or a whole file) unusable; warnings do not
 * (e.g. a Sigma field that no decoder produces). Entries keep file order.
 *
 * Memory: bounded by LW_DIAGS_MAX entries; beyond that entries are counted
 * in `dropped` but not stored, so a directory of garbage cannot exhaust
 * memory. Not thread-safe (loading is single-threaded). */
#ifndef LW_CORRELATOR_DIAGS_H
#define LW_CORRELATOR_DIAGS_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

#define LW_DIAGS_MAX 10000

enum lw_diag_severity {
	LW_DIAG_ERROR = 0,
	LW_DIAG_WARNING = 1
};

struct lw_diags_entry {
	enum lw_diag_severity severity;
	int err;               /* enum lw_err (LW_EPARSE, LW_EIO ...) */
	struct lw_diag diag;   /* file, line, col, detail */
};

struct lw_diags {
	struct lw_diags_entry *items;
	size_t count;
	size_t cap;
	size_t nerrors;   /* including dropped ones */
	size_t nwarnings; /* including dropped ones */
	size_t dropped;   /* not stored: over LW_DIAGS_MAX or out of memory */
};

void lw_diags_init(struct lw_diags *d);
/* Frees the entries; the struct can be reused after lw_diags_init. */
void lw_diags_release(struct lw_diags *d);

/* Records one diagnostic (d may be NULL: then it is only returned).
 * file may be NULL; line/col are 1-based, 0 when unknown. Returns err so
 * loaders can write `return lw_diags_add(...)`. Never fails: an entry that
 * cannot be stored is counted in `dropped`. */
int lw_diags_add(struct lw_diags *d, enum lw_diag_severity sev, int err,
		 const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* lw_diags_add with a va_list. */
int lw_diags_vadd(struct lw_diags *d, enum lw_diag_severity sev, int err,
		  const char *file, int line, int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

/* Formats one entry as "file:line:col: error: detail". */
void lw_diags_format(const struct lw_diags_entry *e, char *out, size_t outlen);

#endif
