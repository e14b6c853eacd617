/* lw_qerror: "query: 1:17: expected a value after ..." and a caret. */
#include "cli/qerror.h"

#include <string.h>

void lw_qerror_print(FILE *out, const char *prog, const char *expr,
		     const struct lw_diag *diag)
{
	const char *line = expr, *end;
	int col = 1;

	if (expr == NULL || diag->line <= 0 || diag->col <= 0) {
		fprintf(out, "%s: %s\n", prog, diag->detail);
		return;
	}
	fprintf(out, "%s: %d:%d: %s\n", prog, diag->line, diag->col, diag->detail);
	for (int l = 1; l < diag->line && line != NULL; l++) {
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	if (line == NULL)
		return;
	end = strchr(line, '\n');
	if (end == NULL)
		end = line + strlen(line);
	fputs("  ", out);
	for (const char *p = line; p < end; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, out);
	fputs("\n  ", out);
	/* the column counts characters: one space per character before it */
	for (const char *p = line; p < end && col < diag->col; p++)
		if (((unsigned char)*p & 0xc0) != 0x80) {
			fputc(' ', out);
			col++;
		}
	fputs("^\n", out);
}
