/* The Sigma condition compiler (prefix lw_sigma_cond).
 *
 * "selection and not 1 of filter_*" becomes a short program over the
 * rule's selections, evaluated with short-circuit jumps:
 *
 *   SEL i   acc = selection i matched
 *   NOT     acc = !acc
 *   JF  L   if !acc goto L          (and: the rest cannot make it true)
 *   JT  L   if acc goto L           (or: the rest cannot make it false)
 *   END     return acc
 *
 * Grammar (precedence not > and > or, all left to right):
 *   expr := and ('or' and)* ; and := not ('and' not)* ;
 *   not  := 'not' not | '(' expr ')' | quant 'of' target | name
 *   quant := '1' | 'any' | 'all' ; target := 'them' | name-with-*-wildcards
 * `them` means every selection whose name does not start with '_'.
 * Keywords are case-insensitive. `|` (aggregations) and `near` are
 * rejected: in logward they are correlation rules.
 *
 * Bounds: text up to 64 KiB, nesting depth 64, program up to 65536 ops;
 * beyond them compilation fails (LW_EPARSE), never recursion overflow. */
#ifndef LW_CORRELATOR_SIGMA_COND_H
#define LW_CORRELATOR_SIGMA_COND_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct lw_sigma_cond;

/* Compiles condition text over the selection names (names[i] is selection
 * i). Errors: LW_EPARSE with diag->col (1-based byte) and a reason;
 * LW_ENOMEM. *out is owned by the caller (lw_sigma_cond_free). */
int lw_sigma_cond_compile(const char *text, size_t len,
			  const char *const *names, uint32_t nnames,
			  struct lw_sigma_cond **out, struct lw_diag *diag);
/* NULL is a no-op. */
void lw_sigma_cond_free(struct lw_sigma_cond *c);

/* Runs the program. test(sel, arg) says whether selection sel matched; it
 * is called only for the selections the short-circuit needs. Returns 0/1. */
int lw_sigma_cond_eval(const struct lw_sigma_cond *c,
		       int (*test)(uint32_t sel, void *arg), void *arg);

/* Evaluates with selection i's value taken from bit i of mask (i < 64;
 * higher selections read as false). For load-time constant folding. */
int lw_sigma_cond_eval_mask(const struct lw_sigma_cond *c, uint64_t mask);

/* Selections the program reads, as a bit set of nnames bits written to
 * used (caller-sized (nnames+63)/64 words). */
void lw_sigma_cond_used(const struct lw_sigma_cond *c, uint64_t *used);

/* The program as text ("0 SEL 1\n1 JF 3\n..."), for tests. */
void lw_sigma_cond_dump(const struct lw_sigma_cond *c, struct lw_buf *out);

#endif
