/* lw_ryaml: libyaml document loading with line numbers for rule files. */
#include "correlator/ryaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int read_file(const char *path, char **out, size_t *outlen,
		     struct lw_diags *diags)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, ebuf[128];
	size_t len = 0, cap = 0, n;
	int rc;

	if (f == NULL)
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_EIO, path, 0, 0,
				    "cannot open: %s",
				    strerror_r(errno, ebuf, sizeof(ebuf)));
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = LW_ENOMEM;
				lw_diags_add(diags, LW_DIAG_ERROR, rc, path, 0, 0,
					     "out of memory reading the file");
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > LW_RYAML_MAX_FILE) {
			rc = lw_diags_add(diags, LW_DIAG_ERROR, LW_ETOOBIG, path,
					  0, 0, "file larger than %u bytes",
					  LW_RYAML_MAX_FILE);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		rc = lw_diags_add(diags, LW_DIAG_ERROR, LW_EIO, path, 0, 0,
				  "read error");
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return LW_OK;

fail:
	fclose(f);
	free(buf);
	return rc;
}

static int ryaml_start(struct lw_ryaml *y)
{
	if (!yaml_parser_initialize(&y->parser))
		return LW_ENOMEM;
	y->parser_ready = 1;
	yaml_parser_set_input_string(&y->parser, (const unsigned char *)y->text,
				     y->len);
	return LW_OK;
}

int lw_ryaml_open(struct lw_ryaml *y, const char *path, struct lw_diags *diags)
{
	int rc;

	memset(y, 0, sizeof(*y));
	y->path = path;
	y->diags = diags;
	rc = read_file(path, &y->text, &y->len, diags);
	if (rc != LW_OK)
		return rc;
	rc = ryaml_start(y);
	if (rc != LW_OK)
		lw_diags_add(diags, LW_DIAG_ERROR, rc, path, 0, 0, "out of memory");
	return rc;
}

int lw_ryaml_open_mem(struct lw_ryaml *y, const char *name, const char *text,
		      size_t len, struct lw_diags *diags)
{
	memset(y, 0, sizeof(*y));
	y->path = name;
	y->diags = diags;
	y->text = malloc(len + 1);
	if (y->text == NULL)
		return LW_ENOMEM;
	memcpy(y->text, text, len);
	y->text[len] = '\0';
	y->len = len;
	return ryaml_start(y);
}

int lw_ryaml_next(struct lw_ryaml *y, yaml_node_t **root)
{
	*root = NULL;
	if (y->doc_ready) {
		yaml_document_delete(&y->doc);
		y->doc_ready = 0;
	}
	if (!y->parser_ready)
		return 0;
	if (!yaml_parser_load(&y->parser, &y->doc)) {
		/* The problem mark is where libyaml gave up: the line an
		 * editor should jump to. */
		const yaml_mark_t *m = &y->parser.problem_mark;
		lw_ryaml_error_at(y, (int)m->line + 1, (int)m->column + 1,
				  LW_EPARSE, "YAML: %s%s%s",
				  y->parser.problem ? y->parser.problem : "syntax error",
				  y->parser.context ? " " : "",
				  y->parser.context ? y->parser.context : "");
		yaml_parser_delete(&y->parser);
		y->parser_ready = 0;
		return LW_EPARSE;
	}
	y->doc_ready = 1;
	*root = yaml_document_get_root_node(&y->doc);
	if (*root == NULL) /* end of stream */
		return 0;
	return 1;
}

void lw_ryaml_release(struct lw_ryaml *y)
{
	if (y->doc_ready)
		yaml_document_delete(&y->doc);
	if (y->parser_ready)
		yaml_parser_delete(&y->parser);
	free(y->text);
	memset(y, 0, sizeof(*y));
}

int lw_ryaml_line(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

int lw_ryaml_col(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

yaml_node_t *lw_ryaml_node(struct lw_ryaml *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

yaml_node_t *lw_ryaml_get(struct lw_ryaml *y, yaml_node_t *map, const char *key,
			  yaml_node_t **key_node)
{
	yaml_node_pair_t *p;
	size_t klen = strlen(key);

	if (key_node != NULL)
		*key_node = NULL;
	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(y, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == klen &&
		    memcmp(k->data.scalar.value, key, klen) == 0) {
			if (key_node != NULL)
				*key_node = k;
			return lw_ryaml_node(y, p->value);
		}
	}
	return NULL;
}

const char *lw_ryaml_str(const yaml_node_t *n, size_t *len)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = n->data.scalar.length;
	return (const char *)n->data.scalar.value;
}

int lw_ryaml_is_scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE;
}

int lw_ryaml_is_null(const yaml_node_t *n)
{
	const char *s;

	if (!lw_ryaml_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)n->data.scalar.value;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

int lw_ryaml_bool(const yaml_node_t *n, int *out)
{
	const char *s;

	if (!lw_ryaml_is_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	s = (const char *)n->data.scalar.value;
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0) {
		*out = 1;
		return 1;
	}
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0) {
		*out = 0;
		return 1;
	}
	return 0;
}

int lw_ryaml_load(const char *path, const char *text, size_t len,
		  lw_ryaml_loader load, void *target, struct lw_diags *diags)
{
	struct lw_ryaml y;
	int rc;

	if (text != NULL)
		rc = lw_ryaml_open_mem(&y, path, text, len, diags);
	else
		rc = lw_ryaml_open(&y, path, diags);
	if (rc == LW_OK)
		rc = load(target, &y);
	lw_ryaml_release(&y);
	return rc;
}

struct each_doc {
	lw_ryaml_doc_loader load_doc;
	void *target;
};

static int load_each_doc(void *arg, struct lw_ryaml *y)
{
	const struct each_doc *e = arg;
	yaml_node_t *root;
	int rc = LW_OK, n;

	while ((n = lw_ryaml_next(y, &root)) == 1) {
		int drc = e->load_doc(e->target, y, root);

		if (drc == LW_ENOMEM)
			return drc;
		if (drc != LW_OK && rc == LW_OK)
			rc = drc;
	}
	if (n < 0 && rc == LW_OK)
		rc = n;
	return rc;
}

int lw_ryaml_load_docs(const char *path, const char *text, size_t len,
		       lw_ryaml_doc_loader load_doc, void *target,
		       struct lw_diags *diags)
{
	struct each_doc e = {load_doc, target};

	return lw_ryaml_load(path, text, len, load_each_doc, &e, diags);
}

static int vreport(struct lw_ryaml *y, enum lw_diag_severity sev, int line,
		   int col, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

static int vreport(struct lw_ryaml *y, enum lw_diag_severity sev, int line,
		   int col, int err, const char *fmt, va_list ap)
{
	if (sev == LW_DIAG_ERROR && y->err == LW_OK)
		y->err = err;
	return lw_diags_vadd(y->diags, sev, err, y->path, line, col, fmt, ap);
}

int lw_ryaml_error(struct lw_ryaml *y, const yaml_node_t *n, int err,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(y, LW_DIAG_ERROR, lw_ryaml_line(n), lw_ryaml_col(n), err, fmt, ap);
	va_end(ap);
	return err;
}

int lw_ryaml_error_at(struct lw_ryaml *y, int line, int col, int err,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(y, LW_DIAG_ERROR, line, col, err, fmt, ap);
	va_end(ap);
	return err;
}

void lw_ryaml_warn(struct lw_ryaml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(y, LW_DIAG_WARNING, lw_ryaml_line(n), lw_ryaml_col(n), LW_OK, fmt, ap);
	va_end(ap);
}
