/* report/doc.h - a report as a list of plain blocks (prefix lw_doc):
 * headings, paragraphs, bullet items, tables and bar charts. The audit
 * report (report/report.h) composes one; report/html.h and report/pdf.h
 * render the same blocks, so the HTML and the PDF cannot disagree.
 *
 * Every string is copied in; text is plain (renderers escape it). An
 * allocation failure is remembered (doc->oom) and makes the renderers
 * fail with LW_ENOMEM, so callers need not check each append.
 * Threads: a doc is plain data, used by one thread at a time. */
#ifndef LW_REPORT_DOC_H
#define LW_REPORT_DOC_H

#include <stddef.h>
#include <stdint.h>

enum lw_doc_kind {
	LW_DOC_HEADING = 1,   /* level 1 (section) or 2 (subsection) */
	LW_DOC_PARA,
	LW_DOC_ITEM,          /* one bullet item */
	LW_DOC_TABLE,
	LW_DOC_CHART          /* stacked bars: one bar per label */
};

struct lw_doc_block {
	enum lw_doc_kind kind;
	int level;            /* HEADING */
	char *text;           /* HEADING, PARA, ITEM; CHART: its caption */
	/* TABLE: nrows x ncols cells, row 0 is the header */
	uint32_t ncols, nrows;
	char **cells;
	/* CHART: nlabels bars of nseries stacked parts;
	 * values[s * nlabels + l] */
	uint32_t nlabels, nseries;
	char **labels, **series;
	uint64_t *values;
};

struct lw_doc {
	char *title;
	char *lang;           /* "ja" or "en": the HTML lang attribute */
	size_t nblocks, cap;
	struct lw_doc_block *blocks;
	int oom;
};

/* NULL on ENOMEM. Free with lw_doc_free (NULL allowed). */
struct lw_doc *lw_doc_new(const char *title, const char *lang);
void lw_doc_free(struct lw_doc *d);

void lw_doc_heading(struct lw_doc *d, int level, const char *text);
void lw_doc_para(struct lw_doc *d, const char *text);
void lw_doc_item(struct lw_doc *d, const char *text);
/* Starts a table with ncols columns and its header (ncols strings). */
void lw_doc_table(struct lw_doc *d, uint32_t ncols, const char *const *header);
/* Appends a row (ncols strings, NULL = "") to the last block, which must
 * be a table. */
void lw_doc_row(struct lw_doc *d, const char *const *cells);
/* A chart: labels (nlabels), series names (nseries), values
 * (nseries x nlabels, series-major); all copied. */
void lw_doc_chart(struct lw_doc *d, const char *caption, uint32_t nlabels,
		  const char *const *labels, uint32_t nseries,
		  const char *const *series, const uint64_t *values);

/* Largest stacked bar of a chart block (0 when empty). */
uint64_t lw_doc_chart_max(const struct lw_doc_block *b);

#endif
