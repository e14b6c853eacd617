/* lw_patlit: literal text a pcre2 pattern's matches must contain, read
 * from the pattern's source. */
#include "correlator/patlit.h"

#include <string.h>

#include "core/memfind.h"

/* Escaped characters that stand for themselves. */
static int escaped_literal(char c)
{
	return c != '\0' && strchr(".[](){}*+?^$|\\/-: \"'#&<>=,;!@%~`", c) != NULL;
}

/* Index just past the character class starting at p[i] == '['. */
static size_t skip_class(const char *p, size_t len, size_t i)
{
	i++;
	if (i < len && p[i] == '^')
		i++;
	if (i < len && p[i] == ']')
		i++; /* a leading ']' is a member */
	while (i < len && p[i] != ']') {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '[' && i + 1 < len && p[i + 1] == ':') {
			const char *e = memchr(p + i, ']', len - i);
			if (e != NULL)
				i = (size_t)(e - p);
		}
		i++;
	}
	return i + 1;
}

/* The index of the ')' closing the group opened at p[open], or len; *alt
 * is set when the group has a '|' of its own (not in a nested group). */
static size_t group_close(const char *p, size_t len, size_t open, int *alt)
{
	size_t depth = 0;

	*alt = 0;
	for (size_t i = open; i < len; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '[')
			i = skip_class(p, len, i) - 1;
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth == 0)
			return i;
		else if (p[i] == '|' && depth == 1)
			*alt = 1;
	}
	return len;
}

/* When the group opened at p[open] is a plain or named capture group
 * that every match goes through once (no alternation of its own, no
 * quantifier after it), the index where its body starts, and *close the
 * index of its ')'; else 0. */
static size_t required_group(const char *p, size_t len, size_t open, size_t *close)
{
	const char *body;
	int alt;

	if (open + 3 >= len || p[open + 1] != '?' ||
	    (p[open + 2] != ':' && p[open + 2] != '<'))
		return 0;
	if (p[open + 2] == '<') {
		if (p[open + 3] == '=' || p[open + 3] == '!')
			return 0; /* a lookbehind */
		body = memchr(p + open + 3, '>', len - open - 3);
		if (body == NULL)
			return 0;
		body++;
	} else {
		body = p + open + 3;
	}
	*close = group_close(p, len, open, &alt);
	if (alt || *close >= len ||
	    (*close + 1 < len && strchr("?*{+", p[*close + 1])))
		return 0;
	return (size_t)(body - p);
}

/* The literal an anchored pattern's match must start with ("^Failed "
 * gives "Failed "), so most non-matching lines are rejected by one memcmp.
 * A leading capture or non-capturing group is entered when it is
 * required and has no alternation ("^(?<event__reason>beginning ...)").
 * Conservative: any construct we do not fully understand ends the prefix,
 * and a top-level alternation or a leading option setting gives none. */
size_t lw_patlit_prefix(const char *p, size_t len, char *out)
{
	size_t i = 1, n = 0, depth = 0;
	int in_class = 0;

	if (len == 0 || p[0] != '^')
		return 0;
	/* A '|' outside any group means the '^' binds only the first branch. */
	for (size_t k = 0; k < len; k++) {
		if (p[k] == '\\') {
			k++;
			continue;
		}
		if (in_class) {
			if (p[k] == ']')
				in_class = 0;
			continue;
		}
		if (p[k] == '[')
			in_class = 1;
		else if (p[k] == '(')
			depth++;
		else if (p[k] == ')' && depth > 0)
			depth--;
		else if (p[k] == '|' && depth == 0)
			return 0;
	}
	if (len > 1 && p[1] == '(') {
		size_t close, body = required_group(p, len, 1, &close);

		if (body > 0)
			i = body;
	}
	while (i < len) {
		char c = p[i];
		size_t step = 1;

		if (c == '\\') {
			/* Only escaped punctuation is a literal; \d, \s ... end it. */
			if (i + 1 >= len || !escaped_literal(p[i + 1]))
				break;
			c = p[i + 1];
			step = 2;
		} else if (strchr(".[](){}*+?^$|", c)) {
			break;
		}
		if (i + step < len && strchr("?*{", p[i + step]))
			break; /* optional or repeated: not required as is */
		if (i + step < len && p[i + step] == '+') {
			out[n++] = c; /* one occurrence is still required */
			break;
		}
		out[n++] = c;
		i += step;
	}
	return n;
}

/* Drops the last character (a whole UTF-8 sequence) of run[0..*n). */
static void drop_last_char(const char *run, size_t *n)
{
	while (*n > 0 && ((unsigned char)run[*n - 1] & 0xc0) == 0x80)
		(*n)--;
	if (*n > 0)
		(*n)--;
}

/* Runs of literal characters, continued through plain and named groups
 * that every match goes through once, ended by anything else. Used as
 * the decoder's anchor for programs it is not filed under (lw_litscan). */
size_t lw_patlit_required(const char *p, size_t len, char *out, size_t outcap)
{
	char run[512];
	size_t i = 0, n = 0, best = 0, depth = 0;
	size_t open_groups[16], ngroups = 0; /* ')' of required groups entered */

	if (lw_memfind(p, len, "(?i", 3) || lw_memfind(p, len, "(?x", 3) ||
	    lw_memfind(p, len, "\\Q", 2))
		return 0;
	while (i <= len) {
		char c = i < len ? p[i] : '\0';
		int end_run = 0;

		if (i == len) {
			end_run = 1;
		} else if (depth > 0) {
			if (c == '\\')
				i++;
			else if (c == '[')
				i = skip_class(p, len, i) - 1;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '\\' && i + 1 < len && escaped_literal(p[i + 1])) {
			if (n < sizeof(run))
				run[n++] = p[i + 1];
			i++;
		} else if (c == '\\') {
			end_run = 1;
			i++;
			/* \x{..}, \p{..}, \k<name>: skip the argument. */
			if (i + 1 < len && (p[i + 1] == '{' || p[i + 1] == '<')) {
				const char *e = memchr(p + i, p[i + 1] == '{' ? '}' : '>',
						       len - i);
				i = e ? (size_t)(e - p) : len;
			}
		} else if (c == '[') {
			end_run = 1;
			i = skip_class(p, len, i) - 1;
		} else if (c == '(') {
			size_t close, body = ngroups < 16 ?
				required_group(p, len, i, &close) : 0;

			if (body > 0) {
				/* Its text follows what came before in every match. */
				open_groups[ngroups++] = close;
				i = body - 1;
			} else {
				end_run = 1;
				depth = 1;
			}
		} else if (c == ')' && ngroups > 0 && open_groups[ngroups - 1] == i) {
			ngroups--; /* and what comes after follows it */
		} else if (c == '|') {
			return 0;
		} else if (c == '*' || c == '?' || c == '{') {
			/* The atom before may be absent: it is not required. */
			drop_last_char(run, &n);
			end_run = 1;
			if (c == '{') {
				const char *e = memchr(p + i, '}', len - i);
				i = e ? (size_t)(e - p) : len;
			}
			if (i + 1 < len && (p[i + 1] == '+' || p[i + 1] == '?'))
				i++;
		} else if (c == '+') {
			end_run = 1; /* one occurrence stays required */
			if (i + 1 < len && (p[i + 1] == '+' || p[i + 1] == '?'))
				i++;
		} else if (c == '.' || c == '^' || c == '$' || c == ')') {
			end_run = 1;
		} else if (n < sizeof(run)) {
			run[n++] = c;
		}
		if (end_run) {
			if (n > best && n <= outcap) {
				memcpy(out, run, n);
				best = n;
			}
			n = 0;
		}
		i++;
	}
	return best;
}
