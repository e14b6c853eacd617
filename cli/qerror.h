/* Query language errors on a terminal (prefix lw_qerror), shared by
 * `logward query -q` and `logward incidents list -q`. */
#ifndef LW_CLI_QERROR_H
#define LW_CLI_QERROR_H

#include <stdio.h>

#include "core/err.h"

/* Prints "PROG: LINE:COL: reason", then the expression's line with a
 * caret under the column (when diag has one), control bytes shown as
 * '?'. expr may be NULL (the error is then about an old flag). */
void lw_qerror_print(FILE *out, const char *prog, const char *expr,
		     const struct lw_diag *diag);

#endif
