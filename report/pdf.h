/* report/pdf.h - a report document as a PDF file (prefix lw_pdf), A4
 * portrait, drawn with cairo and laid out with pango: pango shapes the
 * Japanese text with the system's fonts through fontconfig (Noto Sans CJK
 * JP from Debian's fonts-noto-cjk, else IPA Gothic) and cairo embeds the
 * glyphs used, so the file shows the same on a machine without them and
 * its text can be searched and copied (pdftotext reads it back).
 * Why these: both are in Debian, cairo writes PDF itself and pango does
 * the line breaking and font fallback that Japanese needs.
 * Charts use the HTML palette (lw_html_series_color).
 * Threads: one render at a time per process (fontconfig's caches are
 * shared); the CLI renders once. */
#ifndef LW_REPORT_PDF_H
#define LW_REPORT_PDF_H

#include "core/err.h"
#include "report/doc.h"

/* Writes d to path (created or truncated). LW_OK, LW_ENOMEM, LW_EIO
 * (cairo's status text in diag->detail). */
int lw_pdf_render(const struct lw_doc *d, const char *path, struct lw_diag *diag);

/* Frees what cairo and fontconfig keep for the process (their glyph and
 * font caches), so a leak checker sees only real leaks. Call once, after
 * the last render, with no cairo or pango object left. */
void lw_pdf_release_caches(void);

#endif
