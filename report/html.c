/* report/html.c - see report/html.h. */
#include <inttypes.h>

#include "core/err.h"
#include "core/escape_html.h"
#include "report/html.h"

/* Colour-blind-safe (Okabe-Ito), cycled. */
static const char *const palette[] = {
	"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
};

const char *lw_html_series_color(uint32_t s)
{
	return palette[s % (sizeof(palette) / sizeof(palette[0]))];
}

static const char style[] =
	"body{font-family:'Noto Sans CJK JP','IPAGothic',sans-serif;max-width:60em;"
	"margin:2em auto;color:#222;line-height:1.5}"
	"h1{border-bottom:2px solid #333}h2{border-bottom:1px solid #999;margin-top:2em}"
	"table{border-collapse:collapse;margin:.5em 0}"
	"th,td{border:1px solid #aaa;padding:.2em .5em;text-align:left;vertical-align:top}"
	"td.n{text-align:right}th{background:#eee}"
	"figure{margin:1em 0}figcaption{font-size:.9em;color:#444}"
	"@media print{h2{page-break-after:avoid}table,figure{page-break-inside:avoid}}";

/* 1 when s reads as a number (right-aligned in a table). */
static int numeric(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.' && *s != ',' && *s != '%')
			return 0;
	return 1;
}

static void table(const struct lw_doc_block *b, struct lw_buf *out)
{
	lw_buf_puts(out, "<table>\n");
	for (uint32_t r = 0; r < b->nrows; r++) {
		lw_buf_puts(out, "<tr>");
		for (uint32_t c = 0; c < b->ncols; c++) {
			const char *cell = b->cells[(size_t)r * b->ncols + c];

			lw_buf_puts(out, r == 0 ? "<th>" : numeric(cell) ? "<td class=\"n\">" : "<td>");
			lw_escape_html_z(out, cell);
			lw_buf_puts(out, r == 0 ? "</th>" : "</td>");
		}
		lw_buf_puts(out, "</tr>\n");
	}
	lw_buf_puts(out, "</table>\n");
}

#define CHART_W 720
#define CHART_H 300
#define PLOT_X 70   /* room for the axis numbers */
#define PLOT_Y 10
#define PLOT_W (CHART_W - PLOT_X - 10)
#define PLOT_H 200  /* below it: the rotated labels */

static void chart(const struct lw_doc_block *b, struct lw_buf *out)
{
	uint64_t max = lw_doc_chart_max(b);
	double slot = b->nlabels ? (double)PLOT_W / b->nlabels : PLOT_W;
	double bar = slot * 0.7;

	if (max == 0)
		max = 1;
	lw_buf_puts(out, "<figure>\n");
	lw_buf_printf(out,
		      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		      "viewBox=\"0 0 %d %d\" font-size=\"11\" role=\"img\">\n",
		      CHART_W, CHART_H + 20 * (int)((b->nseries + 3) / 4), CHART_W, CHART_H + 20 * (int)((b->nseries + 3) / 4));
	/* axis with the maximum and half of it */
	lw_buf_printf(out,
		      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>"
		      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n",
		      PLOT_X, PLOT_Y, PLOT_X, PLOT_Y + PLOT_H, PLOT_X, PLOT_Y + PLOT_H,
		      PLOT_X + PLOT_W, PLOT_Y + PLOT_H);
	lw_buf_printf(out,
		      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRIu64 "</text>"
		      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRIu64 "</text>"
		      "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
		      PLOT_X - 4, PLOT_Y + 8, max, PLOT_X - 4, PLOT_Y + PLOT_H / 2 + 4, max / 2,
		      PLOT_X - 4, PLOT_Y + PLOT_H);
	for (uint32_t l = 0; l < b->nlabels; l++) {
		double x = PLOT_X + slot * l + (slot - bar) / 2, y = PLOT_Y + PLOT_H;

		for (uint32_t s = 0; s < b->nseries; s++) {
			uint64_t v = b->values[(size_t)s * b->nlabels + l];
			double h = (double)v * PLOT_H / (double)max;

			if (v == 0)
				continue;
			y -= h;
			lw_buf_printf(out,
				      "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
				      "<title>",
				      x, y, bar, h, lw_html_series_color(s));
			lw_escape_html_z(out, b->series[s]);
			lw_buf_puts(out, " ");
			lw_escape_html_z(out, b->labels[l]);
			lw_buf_printf(out, ": %" PRIu64 "</title></rect>\n", v);
		}
		lw_buf_printf(out,
			      "<text transform=\"translate(%.1f %d) rotate(-45)\" text-anchor=\"end\">",
			      x + bar / 2, PLOT_Y + PLOT_H + 12);
		lw_escape_html_z(out, b->labels[l]);
		lw_buf_puts(out, "</text>\n");
	}
	for (uint32_t s = 0; s < b->nseries; s++) {
		int lx = PLOT_X + (int)(s % 4) * 160, ly = CHART_H + 20 * (int)(s / 4);

		lw_buf_printf(out,
			      "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			      "<text x=\"%d\" y=\"%d\">",
			      lx, ly - 10, lw_html_series_color(s), lx + 16, ly);
		lw_escape_html_z(out, b->series[s]);
		lw_buf_puts(out, "</text>\n");
	}
	lw_buf_puts(out, "</svg>\n<figcaption>");
	lw_escape_html_z(out, b->text);
	lw_buf_puts(out, "</figcaption>\n</figure>\n");
}

int lw_html_render(const struct lw_doc *d, struct lw_buf *out)
{
	int in_list = 0;

	if (d->oom)
		return LW_ENOMEM;
	lw_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"");
	lw_escape_html_z(out, d->lang);
	lw_buf_puts(out, "\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	lw_escape_html_z(out, d->title);
	lw_buf_printf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
	lw_escape_html_z(out, d->title);
	lw_buf_puts(out, "</h1>\n");
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct lw_doc_block *b = &d->blocks[i];

		if (b->kind != LW_DOC_ITEM && in_list) {
			lw_buf_puts(out, "</ul>\n");
			in_list = 0;
		}
		switch (b->kind) {
		case LW_DOC_HEADING:
			lw_buf_printf(out, "<h%d>", b->level + 1);
			lw_escape_html_z(out, b->text);
			lw_buf_printf(out, "</h%d>\n", b->level + 1);
			break;
		case LW_DOC_PARA:
			lw_buf_puts(out, "<p>");
			lw_escape_html_z(out, b->text);
			lw_buf_puts(out, "</p>\n");
			break;
		case LW_DOC_ITEM:
			if (!in_list)
				lw_buf_puts(out, "<ul>\n");
			in_list = 1;
			lw_buf_puts(out, "<li>");
			lw_escape_html_z(out, b->text);
			lw_buf_puts(out, "</li>\n");
			break;
		case LW_DOC_TABLE:
			table(b, out);
			break;
		case LW_DOC_CHART:
			chart(b, out);
			break;
		}
	}
	if (in_list)
		lw_buf_puts(out, "</ul>\n");
	lw_buf_puts(out, "</body>\n</html>\n");
	return out->oom ? LW_ENOMEM : LW_OK;
}
