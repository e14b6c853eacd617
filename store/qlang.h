/* The query language (prefix lw_qlang): one KQL/Lucene-like expression
 * syntax for `logward query -q`, `logward incidents list -q` and the HTTP
 * API, parsed into a tree, bound to a schema (the fields of events, or of
 * incidents) and matched against records. docs/query.md is the operator's
 * reference; this is the contract.
 *
 *   expr    := or
 *   or      := and ( OR and )*
 *   and     := not ( [AND] not )*          juxtaposition is AND
 *   not     := NOT not | primary           NOT binds tighter than AND
 *   primary := '(' or ')' | FIELD ':' value | WORD | PHRASE | /REGEX/
 *   value   := '*'                         the field exists
 *            | WORD | PHRASE | /REGEX/     WORD may hold '*' wildcards
 *            | ('>'|'>='|'<'|'<=') bound
 *            | ('['|'{') bound TO bound (']'|'}')   '*' = open bound
 *            | '(' values ')'              AND/OR/NOT over values of FIELD
 *
 * AND, OR, NOT (and lowercase and, or, not, as in Kibana) are operators;
 * quote them to search the word. A backslash escapes any character in a
 * WORD or PHRASE. A regex runs to the first '/' not escaped by '\' and
 * must be followed by a space, ')' or the end; otherwise the text is a
 * WORD (so /var/log/auth.log is a word). The pattern goes to pcre2 as
 * written and searches (^ and $ anchor). A bare WORD or PHRASE searches
 * the schema's text field (message): it matches when that field contains
 * it, ignoring ASCII case. An empty expression matches everything.
 *
 * Matching per field type (struct lw_qlang_field.type):
 *   keyword  value, "phrase": exact bytes; a*b: wildcard over the whole
 *            value; ranges compare numbers when both the bound and the
 *            value are numbers, else bytes.
 *   text     contains, ASCII case ignored; a*b: the pieces in order.
 *   number   numeric equality and ranges; a value must be a number.
 *   time     ranges only; a bound is RFC 3339 or an age (15m, 2h, 7d).
 *   ip       an address or CIDR (v4 or v6) compares addresses, so
 *            2001:db8::1 equals 2001:0db8:0:0::1; a quoted value or a
 *            wildcard compares the text.
 * A record without the field matches no term on it (NOT of such a term
 * matches). A multi-valued field matches when any value does.
 *
 * Errors carry line:column (1-based; the column counts characters) in
 * diag.line/diag.col and a reason naming what was expected, e.g.
 * `expected a value after "source.ip:"`.
 *
 * Threads: an lw_qlang is used by one thread at a time (regexes carry
 * match data). Memory: bounded by the expression; LW_QLANG_MAX_* below. */
#ifndef LW_STORE_QLANG_H
#define LW_STORE_QLANG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"

/* Hostile or accidental giants are refused with LW_ETOOBIG, never
 * recursed into: the parser recurses once per nesting level. */
#define LW_QLANG_MAX_LEN (64u * 1024u)
#define LW_QLANG_MAX_DEPTH 64
#define LW_QLANG_MAX_TERMS 1024
/* pcre2 match limit per regex and subject: a pathological pattern stops
 * with LW_EFULL (reported by the caller), never hangs the query. */
#define LW_QLANG_REGEX_MATCH_LIMIT 1000000u

enum lw_qlang_type {
	LW_QLANG_KEYWORD = 0,
	LW_QLANG_TEXT,
	LW_QLANG_NUMBER,
	LW_QLANG_TIME,
	LW_QLANG_IP
};

enum lw_qlang_field_flags {
	/* an empty value is how the record says "absent": field:* is false */
	LW_QLANG_EMPTY_IS_ABSENT = 1u << 0,
	/* the text is "ip:port" or "[v6]:port"; addresses compare the ip */
	LW_QLANG_IP_PORT = 1u << 1
};

/* A field as the schema resolved it. key is what the schema looks the
 * field up by: the name an alias stands for (resolve sets it, static
 * storage), else the name as written (pointing into the lw_qlang). */
struct lw_qlang_field {
	int id;                  /* the schema's own member id; negative: found by key */
	enum lw_qlang_type type;
	unsigned flags;          /* enum lw_qlang_field_flags */
	const char *key;         /* NUL-terminated name as written */
	uint32_t keylen;
};

enum lw_qlang_value_kind {
	LW_QLANG_V_STR = 0,
	LW_QLANG_V_NUM,
	LW_QLANG_V_TIME
};

/* One value of a field in a record (filled by the schema). */
struct lw_qlang_value {
	enum lw_qlang_value_kind kind;
	struct lw_str str;       /* V_STR */
	double num;              /* V_NUM */
	int64_t ns;              /* V_TIME: ns since the epoch */
};

/* What a record type offers to the language. Both callbacks must be
 * safe to call from any thread (no state but their arguments). */
struct lw_qlang_schema {
	const char *text_field;  /* the field bare words search */
	/* Resolves name[0..len) into *out (zeroed by the caller; key may be
	 * left NULL): LW_OK, or LW_ENOTFOUND. */
	int (*resolve)(const char *name, size_t len, struct lw_qlang_field *out);
	/* The values of f in rec, one per call: *cursor starts at 0 and is
	 * the callback's to advance. 1 with *out set, 0 when there are no
	 * more. */
	int (*value)(const void *rec, const struct lw_qlang_field *f,
		     uint32_t *cursor, struct lw_qlang_value *out);
};

enum lw_qlang_op {
	LW_QLANG_ALL = 0,  /* matches every record (empty expression, '*') */
	LW_QLANG_AND,
	LW_QLANG_OR,
	LW_QLANG_NOT,
	LW_QLANG_EXISTS,   /* field:* */
	LW_QLANG_EQ,       /* field:value, field:"phrase", bare words */
	LW_QLANG_WILDCARD, /* field:a*b */
	LW_QLANG_REGEX,    /* field:/re/ */
	LW_QLANG_RANGE,    /* field:>v, field:[a TO b] */
	LW_QLANG_CIDR      /* an address or CIDR on an ip field */
};

struct lw_qlang;       /* an expression: parsed, then bound */
struct lw_qlang_term;  /* one leaf of it (a condition on one field) */

/* Parses text[0..len) (not necessarily NUL-terminated). *out is the
 * caller's (lw_qlang_free). Errors: LW_EPARSE (diag: line, col, what was
 * expected), LW_ETOOBIG (over a LW_QLANG_MAX_* limit), LW_ENOMEM. */
int lw_qlang_parse(const char *text, size_t len, struct lw_qlang **out,
		   struct lw_diag *diag);
/* NULL is allowed. */
void lw_qlang_free(struct lw_qlang *q);

/* ANDs one more condition into *q (a NULL *q becomes that condition
 * alone): field <op> value, value taken verbatim (no escapes, no
 * wildcards). op is LW_QLANG_EQ (as a quoted phrase), LW_QLANG_REGEX, or
 * LW_QLANG_RANGE with value the inclusive upper bound (field <= value).
 * This is how the old flags (--host, --grep, --severity ...) become part
 * of an expression. Must precede lw_qlang_bind. LW_OK, LW_EINVAL,
 * LW_ETOOBIG (*q unchanged), LW_ENOMEM (*q may then have been freed and
 * set to NULL). */
int lw_qlang_and_term(struct lw_qlang **q, const char *field,
		      enum lw_qlang_op op, const char *value, size_t len);

/* Resolves every field through schema (borrowed; must outlive q),
 * checks each value against its field's type, compiles regexes and
 * wildcards, and orders the operands of AND/OR cheapest first (literal
 * searches before regexes). now_ns anchors relative times ("15m").
 * Errors: LW_EPARSE (diag names the term's line:col: an unknown field, a
 * value its field's type cannot take, a bad regex), LW_ENOMEM. */
int lw_qlang_bind(struct lw_qlang *q, const struct lw_qlang_schema *schema,
		  int64_t now_ns, struct lw_diag *diag);

/* Matches a bound expression against rec (given to the schema's value
 * callback). 1 or 0; LW_EFULL when a regex hit its match limit (the
 * answer is unknown: stop and report, see lw_qlang_limit_diag);
 * LW_ENOMEM. */
int lw_qlang_match(struct lw_qlang *q, const void *rec);
/* After LW_EFULL: "1:9: /(a+)+$/ exceeded the regex match limit ...". */
void lw_qlang_limit_diag(const struct lw_qlang *q, struct lw_diag *diag);

/* Appends the expression in canonical form: operators in capitals,
 * parentheses where precedence needs them, values quoted or escaped so
 * that parsing the result gives the same tree. */
void lw_qlang_format(const struct lw_qlang *q, struct lw_buf *out);

/* 1 when the expression matches everything (empty, '*'). */
int lw_qlang_is_all(const struct lw_qlang *q);

/* --- for planners (bound expressions only) ---------------------------- */

/* What is known of a set of records (a segment) for one term or the whole
 * expression: none of them match, some may, or every one does. */
enum lw_qlang_tri {
	LW_QLANG_NONE = 0,
	LW_QLANG_SOME = 1,
	LW_QLANG_EVERY = 2
};

typedef enum lw_qlang_tri (*lw_qlang_term_cb)(struct lw_qlang_term *t,
					      void *arg);

/* Combines the callback's verdict for each term through AND/OR/NOT
 * (NOT EVERY = NONE, NOT SOME = SOME, ...). Short-circuits. */
enum lw_qlang_tri lw_qlang_tri(struct lw_qlang *q, lw_qlang_term_cb cb,
			       void *arg);
/* Calls cb for every term (its return value is ignored). */
void lw_qlang_each_term(struct lw_qlang *q, lw_qlang_term_cb cb, void *arg);

const struct lw_qlang_field *lw_qlang_term_field(const struct lw_qlang_term *t);
enum lw_qlang_op lw_qlang_term_op(const struct lw_qlang_term *t);
/* Tests one value against the term as the matcher would: 1, 0, or
 * LW_EFULL (regex limit). */
int lw_qlang_term_test(struct lw_qlang_term *t, const struct lw_qlang_value *v);
/* The inclusive bounds of a time range term: LW_OK, or LW_EINVAL when t
 * is not one. */
int lw_qlang_term_time_bounds(const struct lw_qlang_term *t, int64_t *lo,
			      int64_t *hi);
/* The literal a text term needs in its field (EQ or the longest piece of
 * a wildcard): 1 with *lit, or 0. Matching records contain it, ASCII case
 * ignored; a planner may search a whole column for it first. */
int lw_qlang_term_literal(const struct lw_qlang_term *t, struct lw_str *lit);
/* The top-level conjuncts of q: n terms AND-ed at the root (the root
 * itself when it is a term). Fills up to max, returns how many there are. */
size_t lw_qlang_conjuncts(struct lw_qlang *q, struct lw_qlang_term **out,
			  size_t max);

#endif
