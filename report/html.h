/* report/html.h - a report document as one self-contained HTML page
 * (prefix lw_html): inline CSS, charts as inline SVG, no script, no
 * external resource, so it opens in a closed network and prints as is.
 * Every text passes through core/escape_html. */
#ifndef LW_REPORT_HTML_H
#define LW_REPORT_HTML_H

#include "core/buf.h"
#include "report/doc.h"

/* Appends the page to out. LW_OK, or LW_ENOMEM (doc or out ran out). */
int lw_html_render(const struct lw_doc *d, struct lw_buf *out);

/* The fill colour of chart series s ("#rrggbb"): one palette for both
 * renderers, so a zone has the same colour in the HTML and the PDF. */
const char *lw_html_series_color(uint32_t s);

#endif
