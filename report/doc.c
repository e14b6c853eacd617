/* report/doc.c - see report/doc.h. */
#include <stdlib.h>
#include <string.h>

#include "report/doc.h"

static char *dup_or_oom(struct lw_doc *d, const char *s)
{
	char *p = strdup(s != NULL ? s : "");

	if (p == NULL)
		d->oom = 1;
	return p;
}

static struct lw_doc_block *add_block(struct lw_doc *d, enum lw_doc_kind kind)
{
	if (d->nblocks == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct lw_doc_block *nb = realloc(d->blocks, cap * sizeof(*nb));

		if (nb == NULL) {
			d->oom = 1;
			return NULL;
		}
		d->blocks = nb;
		d->cap = cap;
	}
	memset(&d->blocks[d->nblocks], 0, sizeof(d->blocks[0]));
	d->blocks[d->nblocks].kind = kind;
	return &d->blocks[d->nblocks++];
}

struct lw_doc *lw_doc_new(const char *title, const char *lang)
{
	struct lw_doc *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->title = dup_or_oom(d, title);
	d->lang = dup_or_oom(d, lang);
	if (d->oom) {
		lw_doc_free(d);
		return NULL;
	}
	return d;
}

static void free_strings(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void lw_doc_free(struct lw_doc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nblocks; i++) {
		struct lw_doc_block *b = &d->blocks[i];

		free(b->text);
		free_strings(b->cells, (size_t)b->nrows * b->ncols);
		free_strings(b->labels, b->nlabels);
		free_strings(b->series, b->nseries);
		free(b->values);
	}
	free(d->blocks);
	free(d->title);
	free(d->lang);
	free(d);
}

static void text_block(struct lw_doc *d, enum lw_doc_kind kind, int level,
		       const char *text)
{
	struct lw_doc_block *b = add_block(d, kind);

	if (b == NULL)
		return;
	b->level = level;
	b->text = dup_or_oom(d, text);
}

void lw_doc_heading(struct lw_doc *d, int level, const char *text)
{
	text_block(d, LW_DOC_HEADING, level, text);
}

void lw_doc_para(struct lw_doc *d, const char *text)
{
	text_block(d, LW_DOC_PARA, 0, text);
}

void lw_doc_item(struct lw_doc *d, const char *text)
{
	text_block(d, LW_DOC_ITEM, 0, text);
}

/* A copied array of n strings (NULL entries become ""), or NULL. */
static char **dup_strings(struct lw_doc *d, const char *const *v, size_t n)
{
	char **out = calloc(n ? n : 1, sizeof(*out));

	if (out == NULL) {
		d->oom = 1;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = dup_or_oom(d, v[i]);
	return out;
}

void lw_doc_table(struct lw_doc *d, uint32_t ncols, const char *const *header)
{
	struct lw_doc_block *b = add_block(d, LW_DOC_TABLE);

	if (b == NULL)
		return;
	b->ncols = ncols;
	b->cells = dup_strings(d, header, ncols);
	b->nrows = b->cells != NULL ? 1 : 0;
}

void lw_doc_row(struct lw_doc *d, const char *const *cells)
{
	struct lw_doc_block *b;
	char **nc;

	if (d->nblocks == 0 || d->blocks[d->nblocks - 1].kind != LW_DOC_TABLE)
		return;
	b = &d->blocks[d->nblocks - 1];
	if (b->cells == NULL)
		return;
	nc = realloc(b->cells, (size_t)(b->nrows + 1) * b->ncols * sizeof(*nc));
	if (nc == NULL) {
		d->oom = 1;
		return;
	}
	b->cells = nc;
	for (uint32_t c = 0; c < b->ncols; c++)
		nc[(size_t)b->nrows * b->ncols + c] = dup_or_oom(d, cells[c]);
	b->nrows++;
}

void lw_doc_chart(struct lw_doc *d, const char *caption, uint32_t nlabels,
		  const char *const *labels, uint32_t nseries,
		  const char *const *series, const uint64_t *values)
{
	struct lw_doc_block *b = add_block(d, LW_DOC_CHART);
	size_t n = (size_t)nlabels * nseries;

	if (b == NULL)
		return;
	b->text = dup_or_oom(d, caption);
	b->labels = dup_strings(d, labels, nlabels);
	b->series = dup_strings(d, series, nseries);
	b->values = calloc(n ? n : 1, sizeof(*b->values));
	if (b->labels == NULL || b->series == NULL || b->values == NULL) {
		d->oom = 1;
		free_strings(b->labels, b->labels ? nlabels : 0);
		free_strings(b->series, b->series ? nseries : 0);
		b->labels = b->series = NULL;
		return;
	}
	b->nlabels = nlabels;
	b->nseries = nseries;
	memcpy(b->values, values, n * sizeof(*values));
}

uint64_t lw_doc_chart_max(const struct lw_doc_block *b)
{
	uint64_t max = 0;

	for (uint32_t l = 0; l < b->nlabels; l++) {
		uint64_t sum = 0;

		for (uint32_t s = 0; s < b->nseries; s++)
			sum += b->values[(size_t)s * b->nlabels + l];
		if (sum > max)
			max = sum;
	}
	return max;
}
