/* Reading rule files with libyaml's document API (prefix lw_ryaml).
 *
 * Rule loaders need the line of every node for their error messages, so
 * they walk yaml_document_t trees (whose nodes carry marks) instead of
 * parsing events. This module reads a file (bounded size), loads each YAML
 * document in it, offers the few lookups the loaders share, and is the one
 * way the four loaders (decoders, Sigma, correlation, response plan) report
 * a problem at a node (lw_ryaml_error, lw_ryaml_warn).
 *
 * Memory: a loaded document is owned by the caller's lw_ryaml and freed by
 * lw_ryaml_release; node pointers die with it. */
#ifndef LW_CORRELATOR_RYAML_H
#define LW_CORRELATOR_RYAML_H

#include <stdarg.h>
#include <stddef.h>
#include <yaml.h>

#include "correlator/diags.h"

/* A rule file larger than this is an error rather than a memory hazard. */
#define LW_RYAML_MAX_FILE (4u << 20)

struct lw_ryaml {
	const char *path;       /* borrowed, for messages */
	struct lw_diags *diags; /* borrowed: where lw_ryaml_error/_warn report */
	/* The first error lw_ryaml_error/_error_at reported since a loader
	 * last set it to LW_OK (loaders do so per rule, to say whether the
	 * rule had any). */
	int err;
	char *text;             /* whole file */
	size_t len;
	yaml_parser_t parser;
	int parser_ready;
	yaml_document_t doc;
	int doc_ready;
};

/* Reads path; diags (may be NULL) receives its problems from now on.
 * LW_OK, or LW_EIO/LW_ETOOBIG/LW_ENOMEM recorded in diags. */
int lw_ryaml_open(struct lw_ryaml *y, const char *path, struct lw_diags *diags);
/* Same, from a copy of text[0..len), named name in messages. */
int lw_ryaml_open_mem(struct lw_ryaml *y, const char *name, const char *text,
		      size_t len, struct lw_diags *diags);
/* Loads the next document. Returns 1 with *root set, 0 at end of stream,
 * or LW_EPARSE (reported with the YAML problem's line, as lw_ryaml_error). */
int lw_ryaml_next(struct lw_ryaml *y, yaml_node_t **root);
void lw_ryaml_release(struct lw_ryaml *y);

/* Loads one rule file through a module's loader: opens path (or, when
 * text is not NULL, the in-memory text of len bytes named path) reporting
 * to diags, calls load(target, y), releases. Returns the loader's result,
 * or the open error (recorded in diags). */
typedef int (*lw_ryaml_loader)(void *target, struct lw_ryaml *y);
int lw_ryaml_load(const char *path, const char *text, size_t len,
		  lw_ryaml_loader load, void *target, struct lw_diags *diags);

/* lw_ryaml_load for files of independent documents (one rule each):
 * calls load_doc(target, y, root) for every document. A document's error
 * does not stop the next ones; LW_ENOMEM and a YAML syntax error (the
 * parser cannot go on) end the file. Returns LW_OK, the first error, or
 * the open error. */
typedef int (*lw_ryaml_doc_loader)(void *target, struct lw_ryaml *y,
				   yaml_node_t *root);
int lw_ryaml_load_docs(const char *path, const char *text, size_t len,
		       lw_ryaml_doc_loader load_doc, void *target,
		       struct lw_diags *diags);

/* How every rule loader (decoders, Sigma, correlation, response plan)
 * reports a problem in its file: recorded in y->diags at node n's line and
 * column (n NULL: the file, no position), which lw_diags_format prints as
 * "file:line:col: error: reason". The first error is kept in y->err.
 * Returns err, so a loader can `return lw_ryaml_error(...)`. */
int lw_ryaml_error(struct lw_ryaml *y, const yaml_node_t *n, int err,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Same at a 1-based line and column (0: unknown), for a place inside a
 * scalar (a column within a condition) or in no node. */
int lw_ryaml_error_at(struct lw_ryaml *y, int line, int col, int err,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A warning at node n: "file:line:col: warning: reason"; not an error. */
void lw_ryaml_warn(struct lw_ryaml *y, const yaml_node_t *n, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

/* 1-based line/column of a node. */
int lw_ryaml_line(const yaml_node_t *n);
int lw_ryaml_col(const yaml_node_t *n);

/* The value node of key in a mapping node, or NULL (also when n is not a
 * mapping). *key_node, when not NULL, receives the key node. */
yaml_node_t *lw_ryaml_get(struct lw_ryaml *y, yaml_node_t *map, const char *key,
			  yaml_node_t **key_node);
yaml_node_t *lw_ryaml_node(struct lw_ryaml *y, int id);

/* Scalar helpers: the scalar's bytes (NUL-terminated by libyaml). */
const char *lw_ryaml_str(const yaml_node_t *n, size_t *len);
int lw_ryaml_is_scalar(const yaml_node_t *n);
/* A plain scalar spelling YAML's null (null, Null, NULL, ~, or empty). */
int lw_ryaml_is_null(const yaml_node_t *n);
/* A plain scalar spelling a YAML boolean; *out receives 0/1. */
int lw_ryaml_bool(const yaml_node_t *n, int *out);

#endif
