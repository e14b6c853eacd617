/* Literals a pattern requires (prefix lw_patlit), read from the pattern
 * source so a decoder can skip pcre2 for lines that cannot match.
 *
 * Both functions are conservative: when the pattern uses a construct they
 * do not fully understand (a top-level alternation, a case-insensitive or
 * extended option, \Q...\E), they give a shorter literal or none, never
 * one a match could lack. Escaped punctuation counts as literal; class
 * escapes (\d, \S ...), classes, dots and anchors end a literal; a
 * character under '?', '*' or '{' is not required, under '+' once. */
#ifndef LW_CORRELATOR_PATLIT_H
#define LW_CORRELATOR_PATLIT_H

#include <stddef.h>

/* The literal every match starts with when the pattern is anchored with
 * '^' ("^Failed " -> "Failed "), entering a leading required group
 * without alternation ("^(?<reason>beginning MaxStartups ...)"). Writes
 * it to out (at least len bytes) and returns its length; 0 when none. */
size_t lw_patlit_prefix(const char *pattern, size_t len, char *out);

/* The longest literal every match contains, outside classes and
 * alternations, through groups every match goes through once (in
 * "^[^x]{0,60}?\\[Note\\] Access denied for user '(?<u>.*)'" it is
 * "[Note] Access denied for user '"; in "\\): (?<reason>unknown user)$"
 * "): unknown user"). Writes at most outcap bytes to out and returns the
 * length; 0 when none. */
size_t lw_patlit_required(const char *pattern, size_t len, char *out,
			  size_t outcap);

#endif
