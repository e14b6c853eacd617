/* report/pdf.c - see report/pdf.h. Units are PostScript points. */
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <inttypes.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape_html.h"
#include "report/html.h"
#include "report/pdf.h"

#define PAGE_W 595.0  /* A4 */
#define PAGE_H 842.0
#define MARGIN 50.0
#define TEXT_W (PAGE_W - 2 * MARGIN)
#define FONT "Noto Sans CJK JP, IPAGothic, sans-serif"
#define CELL_PAD 3.0

struct pen {
	cairo_t *cr;
	PangoLayout *layout;
	double y;
	int page;
};

static void new_page(struct pen *p)
{
	char num[32];

	if (p->page > 0)
		cairo_show_page(p->cr);
	p->page++;
	p->y = MARGIN;
	/* page number at the foot */
	snprintf(num, sizeof(num), "- %d -", p->page);
	pango_layout_set_width(p->layout, -1);
	pango_layout_set_markup(p->layout, num, -1);
	cairo_move_to(p->cr, PAGE_W / 2 - 10, PAGE_H - MARGIN / 2 - 8);
	pango_cairo_show_layout(p->cr, p->layout);
}

/* Sets the layout to escaped text at size (points), width w (or -1),
 * bold or not. */
static void set_text(struct pen *p, const char *text, double size, int bold, double w)
{
	struct lw_buf m;
	PangoFontDescription *fd = pango_font_description_from_string(FONT);

	pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
	pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(p->layout, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(p->layout, w < 0 ? -1 : (int)(w * PANGO_SCALE));
	pango_layout_set_wrap(p->layout, PANGO_WRAP_WORD_CHAR);
	lw_buf_init(&m);
	lw_escape_html_z(&m, text);
	lw_buf_putc(&m, '\0');
	pango_layout_set_markup(p->layout, m.oom ? "" : m.data, -1);
	lw_buf_release(&m);
}

static double text_height(struct pen *p)
{
	int w, h;

	pango_layout_get_size(p->layout, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double text_width(struct pen *p)
{
	int w, h;

	pango_layout_get_size(p->layout, &w, &h);
	return (double)w / PANGO_SCALE;
}

static void need(struct pen *p, double h)
{
	if (p->y + h > PAGE_H - MARGIN)
		new_page(p);
}

static void text_block(struct pen *p, const char *text, double size, int bold,
		       double indent, double after)
{
	double h;

	set_text(p, text, size, bold, TEXT_W - indent);
	h = text_height(p);
	need(p, h);
	cairo_set_source_rgb(p->cr, 0.13, 0.13, 0.13);
	cairo_move_to(p->cr, MARGIN + indent, p->y);
	pango_cairo_show_layout(p->cr, p->layout);
	p->y += h + after;
}

/* Column widths: each column's natural width; when the table is wider
 * than the page, the widest column gives way first (down to MIN_COL), so
 * numbers and names in the narrow columns never wrap. */
#define MIN_COL 60.0

static void column_widths(struct pen *p, const struct lw_doc_block *b, double *w)
{
	double total = 0;

	for (uint32_t c = 0; c < b->ncols; c++) {
		w[c] = 20;
		for (uint32_t r = 0; r < b->nrows; r++) {
			double tw;

			set_text(p, b->cells[(size_t)r * b->ncols + c], 8, r == 0, -1);
			tw = text_width(p) + 2 * CELL_PAD + 1;
			if (tw > w[c])
				w[c] = tw;
		}
		total += w[c];
	}
	while (total > TEXT_W) {
		uint32_t widest = 0;
		double second = 0, cut;

		for (uint32_t c = 1; c < b->ncols; c++)
			if (w[c] > w[widest])
				widest = c;
		for (uint32_t c = 0; c < b->ncols; c++)
			if (c != widest && w[c] > second)
				second = w[c];
		if (w[widest] <= MIN_COL)
			break;
		/* down to the next widest (or what fits), then look again */
		cut = total - TEXT_W;
		if (w[widest] - cut < second)
			cut = w[widest] - second;
		if (w[widest] - cut < MIN_COL)
			cut = w[widest] - MIN_COL;
		if (cut <= 0.01)
			cut = 0.01 + (total - TEXT_W) / b->ncols; /* ties: shave them all */
		w[widest] -= cut;
		total -= cut;
	}
	if (total > TEXT_W) /* every column at its minimum: scale them all */
		for (uint32_t c = 0; c < b->ncols; c++)
			w[c] *= TEXT_W / total;
}

static double row_height(struct pen *p, const struct lw_doc_block *b, uint32_t r,
			 const double *w)
{
	double h = 0;

	for (uint32_t c = 0; c < b->ncols; c++) {
		set_text(p, b->cells[(size_t)r * b->ncols + c], 8, r == 0, w[c] - 2 * CELL_PAD);
		if (text_height(p) > h)
			h = text_height(p);
	}
	return h + 2 * CELL_PAD;
}

static void table_row(struct pen *p, const struct lw_doc_block *b, uint32_t r,
		      const double *w, double h)
{
	double x = MARGIN;

	for (uint32_t c = 0; c < b->ncols; c++) {
		if (r == 0) {
			cairo_set_source_rgb(p->cr, 0.92, 0.92, 0.92);
			cairo_rectangle(p->cr, x, p->y, w[c], h);
			cairo_fill(p->cr);
		}
		cairo_set_source_rgb(p->cr, 0.6, 0.6, 0.6);
		cairo_set_line_width(p->cr, 0.5);
		cairo_rectangle(p->cr, x, p->y, w[c], h);
		cairo_stroke(p->cr);
		set_text(p, b->cells[(size_t)r * b->ncols + c], 8, r == 0, w[c] - 2 * CELL_PAD);
		cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
		cairo_move_to(p->cr, x + CELL_PAD, p->y + CELL_PAD);
		pango_cairo_show_layout(p->cr, p->layout);
		x += w[c];
	}
	p->y += h;
}

static int table(struct pen *p, const struct lw_doc_block *b)
{
	double w[64], head_h;

	if (b->ncols == 0 || b->ncols > 64)
		return LW_EINVAL;
	column_widths(p, b, w);
	head_h = row_height(p, b, 0, w);
	for (uint32_t r = 0; r < b->nrows; r++) {
		double h = r == 0 ? head_h : row_height(p, b, r, w);

		if (p->y + h > PAGE_H - MARGIN) {
			new_page(p);
			if (r > 0) /* the header again on each page */
				table_row(p, b, 0, w, head_h);
		}
		table_row(p, b, r, w, h);
	}
	p->y += 8;
	return LW_OK;
}

static void set_rgb(cairo_t *cr, const char *hex)
{
	unsigned r = 0, g = 0, bl = 0;

	sscanf(hex, "#%2x%2x%2x", &r, &g, &bl);
	cairo_set_source_rgb(cr, r / 255.0, g / 255.0, bl / 255.0);
}

#define PLOT_X 45.0
#define PLOT_H 150.0
#define LABEL_H 55.0

static void chart(struct pen *p, const struct lw_doc_block *b)
{
	uint64_t max = lw_doc_chart_max(b);
	double plot_w = TEXT_W - PLOT_X;
	double slot = b->nlabels ? plot_w / b->nlabels : plot_w;
	double bar = slot * 0.7, base, legend_h = 14.0 * ((b->nseries + 3) / 4);
	char num[32];

	need(p, PLOT_H + LABEL_H + legend_h + 30);
	if (max == 0)
		max = 1;
	base = p->y + PLOT_H;
	cairo_set_source_rgb(p->cr, 0.2, 0.2, 0.2);
	cairo_set_line_width(p->cr, 0.7);
	cairo_move_to(p->cr, MARGIN + PLOT_X, p->y);
	cairo_line_to(p->cr, MARGIN + PLOT_X, base);
	cairo_line_to(p->cr, MARGIN + TEXT_W, base);
	cairo_stroke(p->cr);
	for (int k = 0; k <= 2; k++) {
		uint64_t v = k == 0 ? 0 : k == 1 ? max / 2 : max;

		snprintf(num, sizeof(num), "%" PRIu64, v);
		set_text(p, num, 7, 0, -1);
		cairo_move_to(p->cr, MARGIN + PLOT_X - 4 - text_width(p),
			      base - PLOT_H * (double)v / (double)max - 5);
		pango_cairo_show_layout(p->cr, p->layout);
	}
	for (uint32_t l = 0; l < b->nlabels; l++) {
		double x = MARGIN + PLOT_X + slot * l + (slot - bar) / 2, y = base;

		for (uint32_t s = 0; s < b->nseries; s++) {
			uint64_t v = b->values[(size_t)s * b->nlabels + l];
			double h = (double)v * PLOT_H / (double)max;

			if (v == 0)
				continue;
			y -= h;
			set_rgb(p->cr, lw_html_series_color(s));
			cairo_rectangle(p->cr, x, y, bar, h);
			cairo_fill(p->cr);
		}
		/* the label, turned 45 degrees, ending under its bar */
		set_text(p, b->labels[l], 7, 0, -1);
		cairo_save(p->cr);
		cairo_translate(p->cr, x + bar / 2, base + 4);
		cairo_rotate(p->cr, -0.785398);
		cairo_move_to(p->cr, -text_width(p), 0);
		cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
		pango_cairo_show_layout(p->cr, p->layout);
		cairo_restore(p->cr);
	}
	p->y = base + LABEL_H;
	for (uint32_t s = 0; s < b->nseries; s++) {
		double lx = MARGIN + PLOT_X + (s % 4) * 120.0, ly = p->y + 14.0 * (s / 4);

		set_rgb(p->cr, lw_html_series_color(s));
		cairo_rectangle(p->cr, lx, ly + 2, 8, 8);
		cairo_fill(p->cr);
		set_text(p, b->series[s], 8, 0, 105);
		cairo_set_source_rgb(p->cr, 0.1, 0.1, 0.1);
		cairo_move_to(p->cr, lx + 11, ly);
		pango_cairo_show_layout(p->cr, p->layout);
	}
	p->y += legend_h + 4;
	text_block(p, b->text, 8, 0, 0, 10);
}

int lw_pdf_render(const struct lw_doc *d, const char *path, struct lw_diag *diag)
{
	cairo_surface_t *surface;
	cairo_status_t status;
	struct pen p = {0};
	PangoFontMap *fontmap;
	PangoContext *pctx;
	int rc = LW_OK;

	if (d->oom)
		return LW_ENOMEM;
	surface = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
		goto fail;
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, d->title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "logward report");
	p.cr = cairo_create(surface);
	/* a font map of our own, so every cache it fills is freed below */
	fontmap = pango_cairo_font_map_new();
	pctx = pango_font_map_create_context(fontmap);
	pango_cairo_update_context(p.cr, pctx);
	p.layout = pango_layout_new(pctx);
	new_page(&p);
	text_block(&p, d->title, 18, 1, 0, 12);
	for (size_t i = 0; i < d->nblocks && rc == LW_OK; i++) {
		const struct lw_doc_block *b = &d->blocks[i];

		switch (b->kind) {
		case LW_DOC_HEADING:
			/* keep a heading with the first lines under it */
			need(&p, 80);
			p.y += b->level == 1 ? 10 : 4;
			text_block(&p, b->text, b->level == 1 ? 14 : 11, 1, 0, 6);
			break;
		case LW_DOC_PARA:
			text_block(&p, b->text, 9, 0, 0, 6);
			break;
		case LW_DOC_ITEM: {
			char bullet[8] = "\xe3\x83\xbb"; /* U+30FB KATAKANA MIDDLE DOT */

			set_text(&p, bullet, 9, 0, -1);
			need(&p, text_height(&p));
			cairo_move_to(p.cr, MARGIN, p.y);
			pango_cairo_show_layout(p.cr, p.layout);
			text_block(&p, b->text, 9, 0, 12, 3);
			break;
		}
		case LW_DOC_TABLE:
			rc = table(&p, b);
			break;
		case LW_DOC_CHART:
			chart(&p, b);
			break;
		}
	}
	g_object_unref(p.layout);
	g_object_unref(pctx);
	g_object_unref(fontmap);
	cairo_show_page(p.cr);
	cairo_destroy(p.cr);
	cairo_surface_finish(surface);
	if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
		goto fail;
	cairo_surface_destroy(surface);
	return rc;
fail:
	status = cairo_surface_status(surface);
	snprintf(diag->detail, sizeof(diag->detail), "cannot write PDF '%s': %s", path,
		 cairo_status_to_string(status));
	cairo_surface_destroy(surface);
	return LW_EIO;
}

void lw_pdf_release_caches(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
