/* Lookup lists (prefix lw_lookup): named sets of addresses and networks,
 * domains, user names or file hashes, read from files that operators and
 * threat-intel feeds write, and asked "is this value in the list?" by the
 * Sigma rules (`|lookup`, `|expand`; docs/rules.md "Lookup lists").
 *
 * A list file is either plain (one value per line) or CSV with a header
 * row, whose value column is chosen by name and whose rows may be kept
 * only when other columns hold given values (a feed's `type` and
 * `category`). In both, blank lines and lines starting with `#` are
 * skipped; in a plain file, ` #` or a tab and `#` also start a comment
 * after the value.
 *
 * What a value is, and how it matches (one table: kind_names in lookup.c):
 *   ip      an address or a network (10.0.0.0/8, 2001:db8::/32; host bits
 *           are cleared); an event's address matches the most specific
 *           network holding it (longest prefix); IPv4-mapped IPv6
 *           (::ffff:a.b.c.d) is IPv4.
 *   domain  a DNS name, ASCII case-insensitive, one trailing dot ignored;
 *           an entry matches itself and every name under it
 *           (example.com: a.b.example.com, not badexample.com).
 *   user    a user name, exact but ASCII case-insensitive (as Windows and
 *           Sigma compare them).
 *   hash    an MD5, SHA-1, SHA-256 or SHA-512 hex digest, case-insensitive.
 *
 * A line whose value is not of its list's kind is an error naming
 * file:line, and the list is not made: a list that silently lost an
 * entry would be a silent gap in detection (a reload with it keeps the
 * running rules). Repeated values are kept once, with one warning per
 * file.
 *
 * Memory: one allocation for the values' bytes, one for the entries, one
 * for the hash table; matching allocates nothing.
 * Threads: a built list is immutable and shared by any number of threads. */
#ifndef LW_CORRELATOR_LOOKUP_H
#define LW_CORRELATOR_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "correlator/diags.h"

/* A list file larger than this is refused rather than read. */
#define LW_LOOKUP_MAX_FILE (256u << 20)
/* Longest domain, user name or hash a list holds or a match looks at. */
#define LW_LOOKUP_VALUE_MAX 255
/* Bad lines reported per file; the rest are counted in one message. */
#define LW_LOOKUP_MAX_ERRORS 20
/* Columns a CSV row filter may test. */
#define LW_LOOKUP_MAX_WHERE 4

enum lw_lookup_kind {
	LW_LOOKUP_IP = 0,
	LW_LOOKUP_DOMAIN,
	LW_LOOKUP_USER,
	LW_LOOKUP_HASH,
	LW_LOOKUP_KIND_COUNT
};

/* "ip", "domain", "user", "hash"; NULL when out of range. */
const char *lw_lookup_kind_name(int kind);
/* The kind of a name, or -1. */
int lw_lookup_kind_parse(const char *name, size_t len);

/* Keep a CSV row only when column `column` equals (ASCII case ignored)
 * one of values[0..nvalues). */
struct lw_lookup_where {
	const char *column;
	const char *const *values;
	uint32_t nvalues;
};

/* What a declaration says about one list; borrowed by the parser. */
struct lw_lookup_spec {
	const char *name;
	enum lw_lookup_kind kind;
	const char *column;   /* NULL: plain file; else CSV, the value's column */
	struct lw_lookup_where where[LW_LOOKUP_MAX_WHERE];
	uint32_t nwhere;
};

struct lw_lookup_list;

/* Parses data[0..len) (need not be NUL-terminated), named path in
 * messages, into a new list. Every bad line goes to diags as path:line
 * (at most LW_LOOKUP_MAX_ERRORS, then a count). Returns LW_OK with *out
 * set; LW_EPARSE (errors recorded, *out NULL); LW_ENOMEM. */
int lw_lookup_list_parse(const struct lw_lookup_spec *spec, const char *path,
			 const char *data, size_t len, struct lw_diags *diags,
			 struct lw_lookup_list **out);
/* lw_lookup_list_parse on the file at path (at most LW_LOOKUP_MAX_FILE;
 * LW_EIO / LW_ETOOBIG recorded in diags). */
int lw_lookup_list_load(const struct lw_lookup_spec *spec, const char *path,
			struct lw_diags *diags, struct lw_lookup_list **out);
/* NULL is a no-op. */
void lw_lookup_list_free(struct lw_lookup_list *l);

const char *lw_lookup_list_name(const struct lw_lookup_list *l);
enum lw_lookup_kind lw_lookup_list_kind(const struct lw_lookup_list *l);
/* Distinct entries. */
uint32_t lw_lookup_list_count(const struct lw_lookup_list *l);
/* Entry i's value as stored (lowered; an ip entry as "addr/prefix"), and
 * the file line it came from. The text lives as long as the list. */
struct lw_str lw_lookup_list_entry(const struct lw_lookup_list *l, uint32_t i,
				   uint32_t *line);

/* Whether value v[0..len) is in the list, by its kind's rule. When it
 * is and entry is not NULL, *entry is the most specific entry matched
 * (longest prefix, longest domain suffix). No allocation. */
int lw_lookup_match(const struct lw_lookup_list *l, const char *v, size_t len,
		    uint32_t *entry);

/* lw_lookup_match for an address already parsed (network byte order):
 * family AF_INET (4 bytes at addr) or AF_INET6 (16 bytes; v4-mapped is
 * IPv4). 0 for a list of another kind. */
int lw_lookup_match_addr(const struct lw_lookup_list *l, int family,
			 const void *addr, uint32_t *entry);

/* ---- the lists of a rule pack, by name ---- */

struct lw_lookup_set;

struct lw_lookup_set *lw_lookup_set_new(void);
/* NULL is a no-op; frees the lists too. */
void lw_lookup_set_free(struct lw_lookup_set *set);
/* Takes l. LW_OK; LW_EINVAL when a list of that name is already in the
 * set (l is freed then); LW_ENOMEM (l freed). */
int lw_lookup_set_add(struct lw_lookup_set *set, struct lw_lookup_list *l);
/* The list named name[0..len) (exact), or NULL. */
const struct lw_lookup_list *lw_lookup_set_find(const struct lw_lookup_set *set,
						const char *name, size_t len);
uint32_t lw_lookup_set_count(const struct lw_lookup_set *set);
const struct lw_lookup_list *lw_lookup_set_list(const struct lw_lookup_set *set,
						uint32_t i);

/* Reads one list declaration file (YAML: `lists:` a sequence of
 * {name, kind, file, column, where}; docs/rules.md), loading each list
 * (file relative to the declaration's directory) into set. Every problem
 * goes to diags with file:line. Returns LW_OK or the first error. */
int lw_lookup_set_load_file(struct lw_lookup_set *set, const char *path,
			    struct lw_diags *diags);
/* Same from yaml[0..len), named name; relative `file`s are relative to
 * name's directory. */
int lw_lookup_set_load_string(struct lw_lookup_set *set, const char *name,
			      const char *yaml, size_t len,
			      struct lw_diags *diags);

#endif
