/* lw_fmt_kv: key=value lists (grammar in correlator/fmt_kv.h). Runs on
 * the writer thread for every event a kv decoder sees; one pass, no
 * allocation. */
#include "correlator/fmt_kv.h"

#include <string.h>

#include "core/err.h"

void lw_fmt_kv_defaults(struct lw_fmt_kv_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->assign = '=';
	o->quote = '"';
}

static int is_sep(const struct lw_fmt_kv_opts *o, unsigned char c)
{
	return c != 0 && memchr(o->seps, c, strnlen(o->seps, sizeof(o->seps))) != NULL;
}

static int ends_bare(const struct lw_fmt_kv_opts *o, unsigned char c)
{
	return (!o->blanks_inside && lw_fmt_blank(c)) || is_sep(o, c) || c == '\0';
}

static int skippable(const struct lw_fmt_kv_opts *o, unsigned char c)
{
	return lw_fmt_blank(c) || is_sep(o, c);
}

static struct lw_str trimmed(const char *s, size_t a, size_t b)
{
	while (b > a && lw_fmt_blank((unsigned char)s[b - 1]))
		b--;
	return (struct lw_str){s + a, (uint32_t)(b - a)};
}

/* The value of "key= value": the word after the blanks at s[i] when that
 * word is no pair (*start set to it, its end returned); else i. */
static size_t word_after_blank(const struct lw_fmt_kv_opts *o, const char *s,
			       size_t n, size_t i, size_t *start)
{
	size_t j = i, w;

	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	if (j == i || j >= n || (o->quote != 0 && s[j] == o->quote))
		return i;
	for (w = j; w < n && !ends_bare(o, (unsigned char)s[w]); w++)
		if (s[w] == o->assign)
			return i;
	*start = j;
	return w;
}

/* A quoted value starting after its opening quote at s[*i]: the value
 * (unescaped into out when it has escapes) and *i past the closing quote. */
static struct lw_str quoted(const struct lw_fmt_kv_opts *o, const char *s,
			    size_t n, size_t *i, char *out)
{
	size_t start = *i, j = start, w = 0;
	int escaped = 0;

	while (j < n && s[j] != o->quote) {
		if (s[j] == '\\' && j + 1 < n && (s[j + 1] == o->quote || s[j + 1] == '\\')) {
			escaped = 1;
			j += 2;
		} else {
			j++;
		}
	}
	*i = j < n ? j + 1 : j;
	if (!escaped)
		return (struct lw_str){s + start, (uint32_t)(j - start)};
	for (size_t k = start; k < j; k++) {
		if (s[k] == '\\' && k + 1 < j && (s[k + 1] == o->quote || s[k + 1] == '\\'))
			k++;
		out[w++] = s[k];
	}
	return (struct lw_str){out, (uint32_t)w};
}

int lw_fmt_kv_parse(const struct lw_fmt_kv_opts *o, const char *s, size_t n,
		    struct lw_fmt_buf *buf, lw_fmt_pair_fn fn, void *arg)
{
	size_t i = 0, used = 0;
	int pairs = 0;

	if (buf->cap < n + LW_FMT_KEY_MAX)
		return LW_EINVAL;
	while (i < n) {
		size_t k;
		struct lw_str key, value;
		int rc;

		while (i < n && skippable(o, (unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		k = i;
		while (i < n && !ends_bare(o, (unsigned char)s[i]) && s[i] != o->assign &&
		       (o->quote == 0 || s[i] != o->quote))
			i++;
		if (i == k || i >= n || s[i] != o->assign) {
			/* Not a pair: skip the word (a quoted one whole). */
			if (i < n && o->quote != 0 && s[i] == o->quote) {
				i++;
				(void)quoted(o, s, n, &i, buf->p + used);
			}
			while (i < n && !ends_bare(o, (unsigned char)s[i]))
				i++;
			continue;
		}
		key = trimmed(s, k, i);
		i++;
		if (o->blanks_inside)
			while (i < n && (s[i] == ' ' || s[i] == '\t'))
				i++;
		if (i < n && o->quote != 0 && s[i] == o->quote) {
			i++;
			value = quoted(o, s, n, &i, buf->p + used);
			if (value.ptr == buf->p + used)
				used += value.len;
		} else {
			k = i;
			while (i < n && !ends_bare(o, (unsigned char)s[i]))
				i++;
			if (i == k && o->value_after_blank)
				i = word_after_blank(o, s, n, i, &k);
			value = trimmed(s, k, i);
		}
		pairs++;
		rc = fn(key, value, arg);
		if (rc != 0)
			return rc;
	}
	return pairs;
}
