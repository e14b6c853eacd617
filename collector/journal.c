/* collector/journal.c - journal export / JSON stream parser and the entry
 * -> event mapping (prefix lw_journal). Collector thread (or ingest's main
 * thread); no global state.
 *
 * Speed: an entry that lies whole in the caller's chunk is scanned in
 * place: a 256-entry table walks the field name, memchr finds the end of a
 * text value, a binary value is skipped by its length. Only an entry that
 * straddles chunks is copied into j->held, and its scan resumes where it
 * stopped (j->st), so a slow sender costs O(bytes), not O(bytes^2).
 */
#include "collector/journal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/utf8.h"

#define DEFAULT_MAX_ENTRY (1u << 20)
/* JSON: object -> array (repeated field) -> array (bytes). */
#define JSON_MAX_DEPTH 3

/* Where a field lies, relative to the entry's first byte (held may move). */
struct field_off {
	uint32_t name, name_len, value, value_len;
};

/* Resumable scan of the entry being assembled. */
struct scan {
	size_t off;        /* next unscanned field start (export) or byte (JSON) */
	size_t text_from;  /* export: where the search for a text value's LF goes on */
	uint32_t nfields;
	int depth, in_str, esc; /* JSON */
};

struct lw_journal {
	enum lw_journal_format fmt;
	size_t max_entry;
	uint32_t max_fields;
	struct scan st;
	struct field_off *offs;      /* max_fields (export) */
	struct lw_journal_field *out; /* max_fields */
	char *held;                  /* partial entry, or a refused complete one */
	size_t held_len, held_cap;
	size_t held_done;            /* >0: held[0..held_done) is a complete, refused entry */
	char *scratch;               /* JSON: decoded names and values */
	size_t scratch_cap;
	uint64_t offset;
	int failed;
	char err[200];
};

enum { SCAN_DONE = 1, SCAN_MORE = 2 };

/* [A-Z0-9_]: systemd's journal_field_valid alphabet. */
static const uint8_t name_char[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
};

static int fail(struct lw_journal *j, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct lw_journal *j, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
	j->failed = rc;
	return rc;
}

static int name_valid(const char *s, size_t n)
{
	if (n == 0 || n > LW_JOURNAL_MAX_NAME || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_char[(unsigned char)s[i]])
			return 0;
	return 1;
}

struct lw_journal *lw_journal_new(enum lw_journal_format fmt,
				  size_t max_entry_bytes, uint32_t max_fields)
{
	struct lw_journal *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->fmt = fmt;
	j->max_entry = max_entry_bytes ? max_entry_bytes : DEFAULT_MAX_ENTRY;
	if (j->max_entry > UINT32_MAX - 1)
		j->max_entry = UINT32_MAX - 1; /* offsets are uint32_t */
	j->max_fields = max_fields ? max_fields : LW_JOURNAL_MAX_FIELDS;
	j->offs = malloc(j->max_fields * sizeof(*j->offs));
	j->out = malloc(j->max_fields * sizeof(*j->out));
	if (j->offs == NULL || j->out == NULL) {
		lw_journal_free(j);
		return NULL;
	}
	return j;
}

void lw_journal_free(struct lw_journal *j)
{
	if (j == NULL)
		return;
	free(j->offs);
	free(j->out);
	free(j->held);
	free(j->scratch);
	free(j);
}

void lw_journal_reset(struct lw_journal *j)
{
	memset(&j->st, 0, sizeof(j->st));
	j->held_len = 0;
	j->held_done = 0;
	j->offset = 0;
	j->failed = 0;
	j->err[0] = '\0';
}

int lw_journal_partial(const struct lw_journal *j)
{
	return j->held_len > 0;
}

const char *lw_journal_error(const struct lw_journal *j)
{
	return j->err;
}

uint64_t lw_journal_offset(const struct lw_journal *j)
{
	return j->offset;
}

/* ---- export format ------------------------------------------------------ */

static uint64_t le64(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
	       (uint64_t)u[3] << 24 | (uint64_t)u[4] << 32 |
	       (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 | (uint64_t)u[7] << 56;
}

static int add_off(struct lw_journal *j, size_t name, size_t nlen, size_t value,
		   size_t vlen)
{
	if (j->st.nfields == j->max_fields)
		return fail(j, LW_ETOOBIG,
			    "entry has more than %u fields (byte %llu)",
			    j->max_fields, (unsigned long long)j->offset);
	j->offs[j->st.nfields++] = (struct field_off){(uint32_t)name, (uint32_t)nlen,
						     (uint32_t)value, (uint32_t)vlen};
	return LW_OK;
}

static int too_big(struct lw_journal *j)
{
	return fail(j, LW_ETOOBIG, "entry is larger than %zu bytes (byte %llu)",
		    j->max_entry, (unsigned long long)j->offset);
}

/* Scans base[0..avail) (the entry so far) from j->st. SCAN_DONE with
 * *entry_len, SCAN_MORE, or an error (parser failed). */
static int export_scan(struct lw_journal *j, const char *base, size_t avail,
		       size_t *entry_len)
{
	size_t off = j->st.off;
	/* Bytes past max_entry are never looked at (the same verdict
	 * whatever the chunking); one more byte than that is "too big". */
	size_t lim = avail < j->max_entry ? avail : j->max_entry;
	int rc;

	for (;;) {
		size_t nstart = off, nlen;

		if (off >= lim)
			goto more;
		if (base[off] == '\n') {
			*entry_len = off + 1;
			return SCAN_DONE;
		}
		while (off < lim && name_char[(unsigned char)base[off]])
			off++;
		nlen = off - nstart;
		if (nlen > LW_JOURNAL_MAX_NAME ||
		    (off < lim && nlen > 0 && base[nstart] >= '0' && base[nstart] <= '9'))
			return fail(j, LW_EPARSE,
				    "invalid field name '%.*s' (byte %llu)",
				    (int)(nlen > 64 ? 64 : nlen), base + nstart,
				    (unsigned long long)(j->offset + nstart));
		if (off >= lim) {
			off = nstart;
			goto more;
		}
		if (nlen == 0 || (base[off] != '=' && base[off] != '\n'))
			return fail(j, LW_EPARSE,
				    "invalid character 0x%02x in a field name (byte %llu)",
				    (unsigned char)base[off],
				    (unsigned long long)(j->offset + off));
		if (base[off] == '=') {
			size_t vstart = off + 1;
			size_t from = j->st.text_from > vstart ? j->st.text_from : vstart;
			const char *nl = from < lim ? memchr(base + from, '\n', lim - from) : NULL;

			if (nl == NULL) {
				j->st.text_from = lim;
				off = nstart;
				goto more;
			}
			j->st.text_from = 0;
			off = (size_t)(nl - base) + 1;
			rc = add_off(j, nstart, nlen, vstart, (size_t)(nl - base) - vstart);
		} else {
			uint64_t vlen;
			size_t vstart = off + 9;

			if (vstart > lim) {
				off = nstart;
				goto more;
			}
			vlen = le64(base + off + 1);
			if (vlen > j->max_entry)
				return too_big(j);
			if (vstart + vlen + 1 > lim) {
				off = nstart;
				goto more;
			}
			if (base[vstart + vlen] != '\n')
				return fail(j, LW_EPARSE,
					    "binary field '%.*s' is not followed by a newline (byte %llu)",
					    (int)nlen, base + nstart,
					    (unsigned long long)(j->offset + vstart + vlen));
			off = vstart + (size_t)vlen + 1;
			rc = add_off(j, nstart, nlen, vstart, (size_t)vlen);
		}
		if (rc != LW_OK)
			return rc;
		j->st.off = off;
	}
more:
	j->st.off = off;
	if (avail > j->max_entry)
		return too_big(j);
	return SCAN_MORE;
}

/* ---- JSON ------------------------------------------------------------------ */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds the end of the object that starts at base[0] (a '{'). */
static int json_scan(struct lw_journal *j, const char *base, size_t avail,
		     size_t *entry_len)
{
	struct scan *st = &j->st;
	size_t lim = avail < j->max_entry ? avail : j->max_entry;
	size_t off = st->off;

	for (; off < lim; off++) {
		char c = base[off];

		if (st->in_str) {
			if (st->esc)
				st->esc = 0;
			else if (c == '\\')
				st->esc = 1;
			else if (c == '"')
				st->in_str = 0;
			continue;
		}
		if (c == '"') {
			st->in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++st->depth > JSON_MAX_DEPTH)
				return fail(j, LW_EPARSE,
					    "JSON nested deeper than a journal entry (byte %llu)",
					    (unsigned long long)(j->offset + off));
		} else if (c == '}' || c == ']') {
			if (--st->depth == 0) {
				*entry_len = off + 1;
				return SCAN_DONE;
			}
			if (st->depth < 0)
				return fail(j, LW_EPARSE, "unbalanced '%c' (byte %llu)", c,
					    (unsigned long long)(j->offset + off));
		}
	}
	st->off = off;
	if (avail > j->max_entry)
		return too_big(j);
	return SCAN_MORE;
}

struct jp {
	struct lw_journal *j;
	const char *p, *end, *base;
	char *w; /* write position in scratch */
};

static int jp_fail(struct jp *x, const char *what)
{
	return fail(x->j, LW_EPARSE, "invalid JSON: %s (byte %llu)", what,
		    (unsigned long long)(x->j->offset + (size_t)(x->p - x->base)));
}

static void jp_ws(struct jp *x)
{
	while (x->p < x->end && is_ws(*x->p))
		x->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | cp >> 12);
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | cp >> 18);
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* A string at x->p (the opening quote) decoded into x->w. The decoded
 * text is never longer than the source, so scratch (entry size) holds it. */
static int jp_string(struct jp *x, const char **s, size_t *n)
{
	char *start = x->w;

	x->p++;
	for (;;) {
		unsigned char c;

		if (x->p >= x->end)
			return jp_fail(x, "unterminated string");
		c = (unsigned char)*x->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jp_fail(x, "control character in a string");
		if (c != '\\') {
			*x->w++ = (char)c;
			continue;
		}
		if (x->p >= x->end)
			return jp_fail(x, "unterminated string");
		c = (unsigned char)*x->p++;
		switch (c) {
		case '"': case '\\': case '/': *x->w++ = (char)c; break;
		case 'b': *x->w++ = '\b'; break;
		case 'f': *x->w++ = '\f'; break;
		case 'n': *x->w++ = '\n'; break;
		case 'r': *x->w++ = '\r'; break;
		case 't': *x->w++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (x->end - x->p < 4 || hex4(x->p, &cp) != 0)
				return jp_fail(x, "bad \\u escape");
			x->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jp_fail(x, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (x->end - x->p < 6 || x->p[0] != '\\' || x->p[1] != 'u' ||
				    hex4(x->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
					return jp_fail(x, "lone high surrogate");
				x->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			x->w = put_utf8(x->w, cp);
			break;
		}
		default:
			return jp_fail(x, "bad escape");
		}
	}
	*s = start;
	*n = (size_t)(x->w - start);
	return LW_OK;
}

/* A bare literal (number, true, false): kept as its text. */
static int jp_literal(struct jp *x, const char **s, size_t *n)
{
	const char *start = x->p;

	while (x->p < x->end && (*x->p == '-' || *x->p == '+' || *x->p == '.' ||
				 (*x->p >= '0' && *x->p <= '9') ||
				 (*x->p >= 'a' && *x->p <= 'z') ||
				 (*x->p >= 'A' && *x->p <= 'Z')))
		x->p++;
	if (x->p == start)
		return jp_fail(x, "expected a value");
	*s = start;
	*n = (size_t)(x->p - start);
	return LW_OK;
}

static int jp_add(struct jp *x, const char *name, size_t nlen, const char *v,
		  size_t vlen)
{
	struct lw_journal *j = x->j;

	if (j->st.nfields == j->max_fields)
		return fail(j, LW_ETOOBIG, "entry has more than %u fields (byte %llu)",
			    j->max_fields, (unsigned long long)j->offset);
	j->out[j->st.nfields++] = (struct lw_journal_field){name, (uint32_t)nlen,
							    v, (uint32_t)vlen};
	return LW_OK;
}

/* [n, n, ...] at x->p (after '['): bytes into x->w. */
static int jp_bytes(struct jp *x, const char **s, size_t *n)
{
	char *start = x->w;

	for (;;) {
		unsigned v = 0;
		const char *d = x->p;

		jp_ws(x);
		d = x->p;
		while (x->p < x->end && *x->p >= '0' && *x->p <= '9' && v <= 255)
			v = v * 10 + (unsigned)(*x->p++ - '0');
		if (x->p == d || v > 255 || x->p - d > 3) {
			x->p = d;
			return jp_fail(x, "byte array element is not 0..255");
		}
		*x->w++ = (char)v;
		jp_ws(x);
		if (x->p < x->end && *x->p == ',') {
			x->p++;
			continue;
		}
		if (x->p < x->end && *x->p == ']') {
			x->p++;
			break;
		}
		return jp_fail(x, "expected ',' or ']' in a byte array");
	}
	*s = start;
	*n = (size_t)(x->w - start);
	return LW_OK;
}

/* One element of a field's value (not an array of values). */
static int jp_scalar(struct jp *x, const char *name, size_t nlen, int in_array)
{
	const char *v;
	size_t vlen;
	int rc;

	if (x->p >= x->end)
		return jp_fail(x, "expected a value");
	if (*x->p == '"') {
		rc = jp_string(x, &v, &vlen);
	} else if (*x->p == '[') {
		x->p++;
		rc = jp_bytes(x, &v, &vlen);
	} else if (x->end - x->p >= 4 && memcmp(x->p, "null", 4) == 0) {
		x->p += 4;
		return LW_OK; /* journalctl: value not shown; no field */
	} else {
		if (*x->p >= '0' && *x->p <= '9' && in_array)
			return jp_fail(x, "unexpected number");
		rc = jp_literal(x, &v, &vlen);
	}
	if (rc != LW_OK)
		return rc;
	return jp_add(x, name, nlen, v, vlen);
}

static int jp_value(struct jp *x, const char *name, size_t nlen)
{
	const char *q;

	if (x->p >= x->end || *x->p != '[')
		return jp_scalar(x, name, nlen, 0);
	/* '[': bytes when the first element is a number, else a repeated
	 * field (strings, byte arrays, nulls). */
	q = x->p + 1;
	while (q < x->end && is_ws(*q))
		q++;
	if (q < x->end && *q >= '0' && *q <= '9')
		return jp_scalar(x, name, nlen, 0);
	x->p = q;
	if (x->p < x->end && *x->p == ']') {
		x->p++;
		return LW_OK;
	}
	for (;;) {
		int rc;

		jp_ws(x);
		rc = jp_scalar(x, name, nlen, 1);
		if (rc != LW_OK)
			return rc;
		jp_ws(x);
		if (x->p < x->end && *x->p == ',') {
			x->p++;
			continue;
		}
		if (x->p < x->end && *x->p == ']') {
			x->p++;
			return LW_OK;
		}
		return jp_fail(x, "expected ',' or ']'");
	}
}

/* Decodes the object base[0..len) into j->out. */
static int json_decode(struct lw_journal *j, const char *base, size_t len)
{
	struct jp x = {j, base, base + len, base, NULL};

	if (j->scratch_cap < len) {
		char *s = realloc(j->scratch, len);
		if (s == NULL)
			return fail(j, LW_ENOMEM, "out of memory");
		j->scratch = s;
		j->scratch_cap = len;
	}
	x.w = j->scratch;
	j->st.nfields = 0;
	x.p++; /* '{' */
	jp_ws(&x);
	if (x.p < x.end && *x.p == '}')
		return LW_OK;
	for (;;) {
		const char *name;
		size_t nlen;
		int rc;

		jp_ws(&x);
		if (x.p >= x.end || *x.p != '"')
			return jp_fail(&x, "expected a field name");
		rc = jp_string(&x, &name, &nlen);
		if (rc != LW_OK)
			return rc;
		if (!name_valid(name, nlen))
			return fail(j, LW_EPARSE, "invalid field name '%.*s' (byte %llu)",
				    (int)(nlen > 64 ? 64 : nlen), name,
				    (unsigned long long)(j->offset + (size_t)(x.p - base)));
		jp_ws(&x);
		if (x.p >= x.end || *x.p != ':')
			return jp_fail(&x, "expected ':'");
		x.p++;
		jp_ws(&x);
		rc = jp_value(&x, name, nlen);
		if (rc != LW_OK)
			return rc;
		jp_ws(&x);
		if (x.p < x.end && *x.p == ',') {
			x.p++;
			continue;
		}
		if (x.p < x.end && *x.p == '}' && x.p + 1 == x.end)
			return LW_OK;
		return jp_fail(&x, "expected ',' or '}'");
	}
}

/* ---- the stream ------------------------------------------------------------ */

static int scan(struct lw_journal *j, const char *base, size_t avail,
		size_t *entry_len)
{
	return j->fmt == LW_JOURNAL_EXPORT ? export_scan(j, base, avail, entry_len)
					   : json_scan(j, base, avail, entry_len);
}

/* Builds the entry at base (entry_len bytes, scanned) and hands it over. */
static int deliver(struct lw_journal *j, const char *base, size_t entry_len,
		   lw_journal_entry_fn cb, void *arg)
{
	struct lw_journal_entry e;
	int rc;

	if (j->fmt == LW_JOURNAL_EXPORT) {
		for (uint32_t i = 0; i < j->st.nfields; i++) {
			const struct field_off *o = &j->offs[i];
			j->out[i] = (struct lw_journal_field){base + o->name, o->name_len,
							      base + o->value, o->value_len};
		}
	} else {
		rc = json_decode(j, base, entry_len);
		if (rc != LW_OK)
			return rc;
	}
	e.fields = j->out;
	e.nfields = j->st.nfields;
	e.bytes = (uint32_t)entry_len;
	return cb(arg, &e);
}

static void entry_done(struct lw_journal *j, size_t entry_len)
{
	memset(&j->st, 0, sizeof(j->st));
	j->offset += entry_len;
}

static int hold(struct lw_journal *j, const uint8_t *p, size_t n)
{
	if (j->held_len + n > j->held_cap) {
		size_t cap = j->held_cap ? j->held_cap : 4096;
		char *h;

		while (cap < j->held_len + n)
			cap *= 2;
		h = realloc(j->held, cap);
		if (h == NULL)
			return fail(j, LW_ENOMEM, "out of memory");
		j->held = h;
		j->held_cap = cap;
	}
	memcpy(j->held + j->held_len, p, n);
	j->held_len += n;
	return LW_OK;
}

/* Skips the white space between entries; returns the first other byte. */
static const uint8_t *skip_gap(struct lw_journal *j, const uint8_t *p,
			       const uint8_t *end)
{
	const uint8_t *s = p;

	if (j->fmt == LW_JOURNAL_EXPORT)
		while (p < end && *p == '\n')
			p++;
	else
		while (p < end && is_ws((char)*p))
			p++;
	j->offset += (uint64_t)(p - s);
	return p;
}

/* Feeds the held (partial) entry from p; returns the bytes of p it used
 * (all of them while the entry is still open) via *used. */
static int feed_held(struct lw_journal *j, const uint8_t *p, size_t n,
		     size_t *used, lw_journal_entry_fn cb, void *arg)
{
	size_t before, room, take, entry_len = 0;
	int rc;

	*used = 0;
	if (j->held_done == 0 && n == 0)
		return LW_OK;
	if (j->held_done == 0) {
		before = j->held_len;
		/* Never hold more than one maximal entry (+1 byte to see it
		 * is too big). */
		room = j->max_entry + 1 > before ? j->max_entry + 1 - before : 0;
		take = n < room ? n : room;
		rc = hold(j, p, take);
		if (rc != LW_OK)
			return rc;
		rc = scan(j, j->held, j->held_len, &entry_len);
		if (rc == SCAN_MORE) {
			*used = take;
			return LW_OK;
		}
		if (rc != SCAN_DONE)
			return rc;
		/* The bytes past the entry go back to the caller's buffer. */
		*used = entry_len - before;
		j->held_len = entry_len;
		j->held_done = entry_len;
	}
	rc = deliver(j, j->held, j->held_done, cb, arg);
	if (rc != LW_OK)
		return rc; /* LW_EFULL: held_done stays, delivered again */
	entry_done(j, j->held_done);
	j->held_len = 0;
	j->held_done = 0;
	return LW_OK;
}

int lw_journal_feed(struct lw_journal *j, const uint8_t *buf, size_t len,
		    size_t *consumed, lw_journal_entry_fn cb, void *arg)
{
	const uint8_t *p = buf, *end = buf + len;
	int rc = LW_OK;

	if (consumed != NULL)
		*consumed = 0;
	if (j->failed)
		return j->failed;
	if (j->held_len > 0) {
		size_t used;

		rc = feed_held(j, p, len, &used, cb, arg);
		p += used;
		if (rc != LW_OK || j->held_len > 0)
			goto out;
	}
	while (p < end) {
		size_t entry_len = 0;

		p = skip_gap(j, p, end);
		if (p == end)
			break;
		if (j->fmt == LW_JOURNAL_JSON && *p != '{') {
			rc = fail(j, LW_EPARSE, "invalid JSON: expected '{' (byte %llu)",
				  (unsigned long long)j->offset);
			break;
		}
		rc = scan(j, (const char *)p, (size_t)(end - p), &entry_len);
		if (rc == SCAN_MORE) {
			/* Cut by the chunk: assemble it in held; the scan
			 * state (offsets from the entry start) carries over. */
			rc = hold(j, p, (size_t)(end - p));
			if (rc == LW_OK)
				p = end;
			break;
		}
		if (rc != SCAN_DONE)
			break;
		rc = deliver(j, (const char *)p, entry_len, cb, arg);
		if (rc == LW_EFULL) {
			memset(&j->st, 0, sizeof(j->st)); /* rescanned next time */
			break;
		}
		if (rc != LW_OK)
			break;
		entry_done(j, entry_len);
		p += entry_len;
	}
out:
	if (consumed != NULL)
		*consumed = (size_t)(p - buf);
	if (rc != LW_OK && rc != LW_EFULL && !j->failed)
		fail(j, rc, "%s", lw_strerror(rc));
	return rc;
}

int lw_journal_finish(struct lw_journal *j, lw_journal_entry_fn cb, void *arg)
{
	size_t lost;

	if (j->failed)
		return j->failed;
	if (j->held_done > 0) {
		size_t used;
		int rc = feed_held(j, NULL, 0, &used, cb, arg);
		if (rc != LW_OK)
			return rc;
	}
	if (j->held_len == 0)
		return LW_OK;
	lost = j->held_len;
	j->held_len = 0;
	memset(&j->st, 0, sizeof(j->st));
	return fail(j, LW_EPARSE,
		    "entry cut off at end of stream: %zu bytes not stored (byte %llu)",
		    lost, (unsigned long long)j->offset);
}

/* ---- entry -> event ------------------------------------------------------- */

enum mapped {
	M_NONE, M_REALTIME, M_SOURCE_REALTIME, M_HOSTNAME, M_IDENT, M_COMM,
	M_PID, M_PRIORITY, M_FACILITY, M_MESSAGE
};

/* Which event member a field name feeds. Dispatch on length first: most
 * names are rejected by one compare. */
static enum mapped mapped_of(const char *n, uint32_t len)
{
#define IS(lit) (len == sizeof(lit) - 1 && memcmp(n, lit, sizeof(lit) - 1) == 0)
	switch (len) {
	case 4: return IS("_PID") ? M_PID : M_NONE;
	case 5: return IS("_COMM") ? M_COMM : M_NONE;
	case 7: return IS("MESSAGE") ? M_MESSAGE : M_NONE;
	case 8: return IS("PRIORITY") ? M_PRIORITY : M_NONE;
	case 9: return IS("_HOSTNAME") ? M_HOSTNAME : M_NONE;
	case 15: return IS("SYSLOG_FACILITY") ? M_FACILITY : M_NONE;
	case 17: return IS("SYSLOG_IDENTIFIER") ? M_IDENT : M_NONE;
	case 20: return IS("__REALTIME_TIMESTAMP") ? M_REALTIME : M_NONE;
	case 26: return IS("_SOURCE_REALTIME_TIMESTAMP") ? M_SOURCE_REALTIME : M_NONE;
	default: return M_NONE;
	}
#undef IS
}

/* Decimal without sign, at most max; -1 when not. */
static int64_t parse_dec(const char *s, uint32_t n, int64_t max)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/* Microseconds since the epoch -> ns; -1 when not a usable time. */
static int64_t usec_to_ns(const char *s, uint32_t n)
{
	/* INT64_MAX ns is in 2262; anything later is not a real stamp. */
	int64_t us = parse_dec(s, n, INT64_MAX / 1000);

	return us < 0 ? -1 : us * 1000;
}

int lw_journal_add_entry(struct lw_batch *b, const struct lw_journal_entry *e,
			 const struct lw_listener_src *src, int64_t now_ns,
			 struct lw_listener_counts *cnt)
{
	const size_t plen = sizeof(LW_JOURNAL_PREFIX) - 1;
	const struct lw_journal_field *f = e->fields;
	/* Index of the field each member takes; -1 = none. */
	int32_t use[M_MESSAGE + 1];
	int64_t ts = -1;
	size_t bytes = src->addr_len + 1, nextra = 0;
	struct lw_field *xf;
	struct lw_event *ev;
	char *w;

	if (lw_batch_full(b))
		return LW_EFULL;
	for (int i = 0; i <= M_MESSAGE; i++)
		use[i] = -1;
	/* Pass 1: decide which field feeds which member (first good one
	 * wins), and size the one arena allocation. */
	for (uint32_t i = 0; i < e->nfields; i++) {
		enum mapped m = mapped_of(f[i].name, f[i].name_len);
		int ok = m != M_NONE && m != M_COMM && use[m] == -1;

		if (ok && m == M_PRIORITY)
			ok = parse_dec(f[i].value, f[i].value_len, 7) >= 0;
		else if (ok && m == M_FACILITY)
			ok = parse_dec(f[i].value, f[i].value_len, 23) >= 0;
		else if (ok && (m == M_REALTIME || m == M_SOURCE_REALTIME))
			ok = usec_to_ns(f[i].value, f[i].value_len) >= 0 &&
			     m == M_REALTIME; /* the source stamp stays a field */
		if (m == M_SOURCE_REALTIME && use[m] == -1 &&
		    usec_to_ns(f[i].value, f[i].value_len) >= 0)
			use[m] = (int32_t)i; /* fallback stamp; kept as field too */
		if (m == M_COMM && use[m] == -1)
			use[m] = (int32_t)i; /* fallback name; kept as field too */
		if (ok) {
			use[m] = (int32_t)i;
			bytes += f[i].value_len;
		} else {
			nextra++;
			bytes += plen + f[i].name_len + f[i].value_len;
		}
	}
	/* The listener's own fields (tls.client.subject over HTTPS): keys
	 * are static, values copied. */
	for (uint32_t i = 0; i < src->nextra; i++)
		bytes += src->extra[i].value.len;
	nextra += src->nextra;
	bytes += nextra * sizeof(struct lw_field) + 8;
	if (bytes > UINT32_MAX)
		return LW_ENOMEM; /* cannot be: entries are bounded far below */
	xf = lw_arena_alloc(&b->arena, bytes);
	if (xf == NULL)
		return LW_ENOMEM;
	w = (char *)(xf + nextra);
	ev = lw_batch_push(b);
	ev->created_ns = now_ns;
	ev->fields = nextra ? xf : NULL;
	/* Pass 2: copy. A member's view points at its copied value. */
	for (uint32_t i = 0; i < e->nfields; i++) {
		enum mapped m = mapped_of(f[i].name, f[i].name_len);
		struct lw_str val;

		if (m != M_NONE && m != M_COMM && m != M_SOURCE_REALTIME &&
		    use[m] == (int32_t)i) {
			memcpy(w, f[i].value, f[i].value_len);
			val = (struct lw_str){w, f[i].value_len};
			w += f[i].value_len;
			switch (m) {
			case M_REALTIME: ts = usec_to_ns(val.ptr, val.len); break;
			case M_HOSTNAME: ev->host = val; break;
			case M_IDENT: ev->app = val; break;
			case M_PID: ev->procid = val; break;
			case M_PRIORITY:
				ev->severity = (uint8_t)parse_dec(val.ptr, val.len, 7);
				break;
			case M_FACILITY:
				ev->facility = (uint8_t)parse_dec(val.ptr, val.len, 23);
				break;
			case M_MESSAGE: ev->message = val; break;
			default: break;
			}
			continue;
		}
		memcpy(w, LW_JOURNAL_PREFIX, plen);
		memcpy(w + plen, f[i].name, f[i].name_len);
		xf[ev->nfields].key = (struct lw_str){w, (uint32_t)(plen + f[i].name_len)};
		w += plen + f[i].name_len;
		memcpy(w, f[i].value, f[i].value_len);
		xf[ev->nfields].value = (struct lw_str){w, f[i].value_len};
		w += f[i].value_len;
		if (m == M_COMM && use[M_IDENT] == -1 && use[M_COMM] == (int32_t)i)
			ev->app = xf[ev->nfields].value;
		if (m == M_SOURCE_REALTIME && use[M_REALTIME] == -1 &&
		    use[M_SOURCE_REALTIME] == (int32_t)i)
			ts = usec_to_ns(f[i].value, f[i].value_len);
		ev->nfields++;
	}
	for (uint32_t i = 0; i < src->nextra; i++) {
		const struct lw_str *v = &src->extra[i].value;

		if (v->len > 0)
			memcpy(w, v->ptr, v->len);
		xf[ev->nfields].key = src->extra[i].key;
		xf[ev->nfields].value = (struct lw_str){w, v->len};
		w += v->len;
		ev->nfields++;
	}
	memcpy(w, src->addr, src->addr_len);
	ev->source_address = (struct lw_str){w, src->addr_len};
	ev->zone = (struct lw_str){src->zone, src->zone_len};
	if (ts >= 0) {
		ev->timestamp_ns = ts;
	} else {
		ev->timestamp_ns = now_ns;
		ev->flags |= LW_EVENT_NO_TIMESTAMP;
	}
	if (ev->message.len > 0 && !lw_utf8_valid(ev->message.ptr, ev->message.len))
		ev->flags |= LW_EVENT_BAD_UTF8;
	cnt->received++;
	cnt->parsed++;
	cnt->bytes += e->bytes;
	b->raw_bytes += e->bytes;
	return LW_OK;
}
