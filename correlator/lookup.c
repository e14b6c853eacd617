/* lw_lookup: lookup lists (correlator/lookup.h): parsing list files,
 * the per-kind hash sets, matching, and the declarations of a rule pack. */
#include "correlator/lookup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "correlator/fmt_csv.h"
#include "correlator/ryaml.h"

static const char *const kind_names[LW_LOOKUP_KIND_COUNT] = {
	"ip", "domain", "user", "hash"};

/* An ip entry's key: family, prefix length, the address with host bits
 * cleared (16 bytes for both families, so keys compare with memcmp). */
#define IP_KEY_LEN 18
#define MAX_COLUMNS 256

struct entry {
	uint32_t off;      /* key bytes in blob */
	uint32_t text_off; /* canonical text in blob (== off unless ip) */
	uint16_t len, text_len;
	uint32_t line;
};

struct lw_lookup_list {
	char *name;
	enum lw_lookup_kind kind;
	char *blob;
	size_t blob_len, blob_cap;
	struct entry *entries;
	uint32_t n, cap;
	/* Open addressing: the key's hash in the high half, entry index + 1
	 * in the low (0: empty), so a probe that finds another key costs no
	 * visit to the entry and its bytes. */
	uint64_t *table;
	uint32_t mask;     /* table size - 1 */
	/* One bit per hash (8 bits per entry, ~12% false positives), set at
	 * load: most values asked about are in no list, and this small
	 * array answers them from cache where the table would miss it at
	 * every probe (perf: a 1M-row IOC feed spent 70% of the lookup in
	 * two cache misses per probe). */
	uint64_t *filter;
	uint32_t filter_mask; /* bits - 1 */
	/* ip: the prefix lengths present, longest first, per family: a
	 * match probes one masked key per length. */
	uint8_t lens4[33], nlens4;
	uint8_t lens6[129], nlens6;
};

const char *lw_lookup_kind_name(int kind)
{
	return kind >= 0 && kind < LW_LOOKUP_KIND_COUNT ? kind_names[kind] : NULL;
}

int lw_lookup_kind_parse(const char *name, size_t len)
{
	for (int i = 0; i < LW_LOOKUP_KIND_COUNT; i++)
		if (strlen(kind_names[i]) == len && memcmp(kind_names[i], name, len) == 0)
			return i;
	return -1;
}

static inline int lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static int caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A multiply-xorshift over 8-byte words: the keys are short (an ip key
 * is 18 bytes) and this runs once per prefix length or domain suffix on
 * every lookup, where a byte-at-a-time FNV-1a was a third of the cost
 * (perf, bench note in docs/rules.md). Keys come from the operator's
 * files, not from the events a match is asked about. */
static uint32_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, t = 0;

	for (; n >= 8; b += 8, n -= 8) {
		h = (h ^ load64(b)) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	memcpy(&t, b, n);
	h = (h ^ t) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

#define SLOT_HASH(x) ((uint32_t)((x) >> 32))
#define SLOT_INDEX(x) ((uint32_t)(x))

/* The entry whose key is key[0..n), or UINT32_MAX. */
static uint32_t probe(const struct lw_lookup_list *l, const void *key, size_t n)
{
	uint32_t h = hash_bytes(key, n), i;

	if (l->table == NULL)
		return UINT32_MAX;
	if (l->filter != NULL) {
		uint32_t bit = (h >> 7 | h << 25) & l->filter_mask;

		if (!(l->filter[bit >> 6] >> (bit & 63) & 1))
			return UINT32_MAX;
	}
	for (i = h & l->mask; l->table[i] != 0; i = (i + 1) & l->mask) {
		const struct entry *e;

		if (SLOT_HASH(l->table[i]) != h)
			continue;
		e = &l->entries[SLOT_INDEX(l->table[i]) - 1];
		if (e->len == n && memcmp(l->blob + e->off, key, n) == 0)
			return SLOT_INDEX(l->table[i]) - 1;
	}
	return UINT32_MAX;
}

static void table_put(uint64_t *t, uint32_t mask, uint32_t h, uint32_t idx)
{
	uint32_t i = h & mask;

	while (t[i] != 0)
		i = (i + 1) & mask;
	t[i] = (uint64_t)h << 32 | (idx + 1);
}

static int table_grow(struct lw_lookup_list *l)
{
	uint32_t size = l->table ? (l->mask + 1) * 2 : 64;
	uint64_t *t;

	if (size == 0)
		return LW_ENOMEM;
	t = calloc(size, sizeof(*t));
	if (t == NULL)
		return LW_ENOMEM;
	for (uint32_t k = 0; k < l->n; k++)
		table_put(t, size - 1, hash_bytes(l->blob + l->entries[k].off,
						  l->entries[k].len), k);
	free(l->table);
	l->table = t;
	l->mask = size - 1;
	return LW_OK;
}

/* After the last entry: the filter, sized to 8 bits per entry. */
static int build_filter(struct lw_lookup_list *l)
{
	uint64_t bits = 512;

	while (bits < (uint64_t)l->n * 8 && bits < (1ull << 31))
		bits *= 2;
	l->filter = calloc(bits / 64, sizeof(*l->filter));
	if (l->filter == NULL)
		return LW_ENOMEM;
	l->filter_mask = (uint32_t)(bits - 1);
	for (uint32_t k = 0; k < l->n; k++) {
		uint32_t h = hash_bytes(l->blob + l->entries[k].off, l->entries[k].len);
		uint32_t bit = (h >> 7 | h << 25) & l->filter_mask;

		l->filter[bit >> 6] |= 1ull << (bit & 63);
	}
	return LW_OK;
}

static int blob_put(struct lw_lookup_list *l, const void *p, size_t n, uint32_t *off)
{
	if (l->blob_len + n > l->blob_cap) {
		size_t cap = l->blob_cap ? l->blob_cap * 2 : 4096;
		char *b;

		while (cap < l->blob_len + n)
			cap *= 2;
		if (cap > UINT32_MAX)
			return LW_ETOOBIG;
		b = realloc(l->blob, cap);
		if (b == NULL)
			return LW_ENOMEM;
		l->blob = b;
		l->blob_cap = cap;
	}
	memcpy(l->blob + l->blob_len, p, n);
	*off = (uint32_t)l->blob_len;
	l->blob_len += n;
	return LW_OK;
}

/* Adds key (and its display text) unless present. *dup receives the line
 * of the entry already holding it, 0 when added. */
static int add_entry(struct lw_lookup_list *l, const void *key, size_t klen,
		     const char *text, size_t tlen, uint32_t line, uint32_t *dup)
{
	uint32_t found = probe(l, key, klen);
	struct entry e;
	int rc;

	*dup = 0;
	if (found != UINT32_MAX) {
		*dup = l->entries[found].line;
		return LW_OK;
	}
	if ((l->n + 1) * 2 > (l->table ? l->mask + 1 : 0) &&
	    (rc = table_grow(l)) != LW_OK)
		return rc;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *ne = realloc(l->entries, (size_t)cap * sizeof(*ne));

		if (ne == NULL)
			return LW_ENOMEM;
		l->entries = ne;
		l->cap = cap;
	}
	memset(&e, 0, sizeof(e));
	e.len = (uint16_t)klen;
	e.text_len = (uint16_t)tlen;
	e.line = line;
	if ((rc = blob_put(l, key, klen, &e.off)) != LW_OK)
		return rc;
	e.text_off = e.off;
	if (text != NULL && (rc = blob_put(l, text, tlen, &e.text_off)) != LW_OK)
		return rc;
	l->entries[l->n] = e;
	table_put(l->table, l->mask, hash_bytes(key, klen), l->n++);
	return LW_OK;
}

static void note_len(uint8_t *lens, uint8_t *n, uint8_t plen)
{
	uint8_t i, j;

	for (i = 0; i < *n && lens[i] > plen; i++)
		;
	if (i < *n && lens[i] == plen)
		return;
	for (j = *n; j > i; j--)
		lens[j] = lens[j - 1];
	lens[i] = plen;
	(*n)++;
}

static void mask_bits(uint8_t *addr, int bytes, int prefix)
{
	for (int i = 0; i < bytes; i++) {
		int bits = prefix - i * 8;

		if (bits < 8)
			addr[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

/* An address (no prefix) as family and 16 bytes; v4-mapped v6 is v4. */
static int parse_addr(const char *s, size_t len, int *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char tmp[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		*family = AF_INET;
		return 1;
	}
	if (inet_pton(AF_INET6, tmp, addr) != 1)
		return 0;
	*family = AF_INET6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return 1;
}

static void ip_key(uint8_t key[IP_KEY_LEN], int family, uint8_t plen,
		   const uint8_t addr[16])
{
	key[0] = family == AF_INET ? 4 : 6;
	key[1] = plen;
	memcpy(key + 2, addr, 16);
	mask_bits(key + 2, 16, plen);
}

/* ---- one value of a file -> an entry ---- */

/* Why a value is not of the list's kind, or NULL when it is; key/klen
 * receive the entry's key (in kbuf), text/tlen its display text. */
static const char *canon(enum lw_lookup_kind kind, const char *v, size_t len,
			 uint8_t *kbuf, size_t *klen, char *tbuf, size_t *tlen)
{
	switch (kind) {
	case LW_LOOKUP_IP: {
		const char *slash = memchr(v, '/', len);
		size_t alen = slash ? (size_t)(slash - v) : len;
		int family, max;
		long plen;
		uint8_t addr[16];

		if (!parse_addr(v, alen, &family, addr))
			return "not an IPv4 or IPv6 address or network";
		max = family == AF_INET ? 32 : 128;
		plen = max;
		if (slash != NULL) {
			size_t i = alen + 1;

			if (i == len || len - i > 3)
				return "bad prefix length after '/'";
			for (plen = 0; i < len; i++) {
				if (v[i] < '0' || v[i] > '9')
					return "bad prefix length after '/'";
				plen = plen * 10 + (v[i] - '0');
			}
			/* ::ffff:a.b.c.d/120 is the IPv4 network /24 */
			if (family == AF_INET && memchr(v, ':', alen) != NULL)
				plen -= 96;
			if (plen < 0 || plen > max)
				return "prefix length out of range";
		}
		ip_key(kbuf, family, (uint8_t)plen, addr);
		*klen = IP_KEY_LEN;
		inet_ntop(family, kbuf + 2, tbuf, INET6_ADDRSTRLEN);
		*tlen = strlen(tbuf);
		if (plen != max)
			*tlen += (size_t)snprintf(tbuf + *tlen, 8, "/%ld", plen);
		return NULL;
	}
	case LW_LOOKUP_DOMAIN: {
		size_t n = len, label = 0;

		if (n > 0 && v[n - 1] == '.')
			n--;
		if (n == 0 || n > 253)
			return "not a domain name (1 to 253 bytes)";
		for (size_t i = 0; i < n; i++) {
			char c = (char)lower((unsigned char)v[i]);

			if (c == '.') {
				if (label == 0)
					return "empty label in domain name";
				label = 0;
			} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				   c == '-' || c == '_') {
				label++;
			} else if (c == '*') {
				return "'*' in domain name: every entry already matches "
				       "the names under it";
			} else {
				return "not a domain name (letters, digits, '-', '_', '.')";
			}
			kbuf[i] = (uint8_t)c;
		}
		if (label == 0)
			return "empty label in domain name";
		*klen = n;
		*tlen = 0;
		return NULL;
	}
	case LW_LOOKUP_HASH:
		if (len != 32 && len != 40 && len != 64 && len != 128)
			return "not an MD5, SHA-1, SHA-256 or SHA-512 hex digest "
			       "(32, 40, 64 or 128 hex digits)";
		for (size_t i = 0; i < len; i++) {
			char c = (char)lower((unsigned char)v[i]);

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return "not a hex digest";
			kbuf[i] = (uint8_t)c;
		}
		*klen = len;
		*tlen = 0;
		return NULL;
	default:
		if (len == 0 || len > LW_LOOKUP_VALUE_MAX)
			return "not a user name (1 to 255 bytes)";
		for (size_t i = 0; i < len; i++) {
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				return "control character in user name";
			kbuf[i] = (uint8_t)lower((unsigned char)v[i]);
		}
		*klen = len;
		*tlen = 0;
		return NULL;
	}
}

/* ---- parsing a file ---- */

struct parse {
	const struct lw_lookup_spec *spec;
	const char *path;
	struct lw_diags *diags;
	struct lw_lookup_list *l;
	uint32_t nerrors;
	uint32_t ndups, dup_line, dup_first;
	/* CSV */
	int have_header;
	char tags[MAX_COLUMNS];
	struct lw_str names[MAX_COLUMNS];
	uint32_t ncols;
	int col_value;
	int col_where[LW_LOOKUP_MAX_WHERE];
	struct lw_str row[1 + LW_LOOKUP_MAX_WHERE];
	uint32_t seen;
	char *buf;
	size_t buf_cap;
};

/* Attacker-written feeds reach messages only as printable ASCII. */
static void shown(const char *v, size_t len, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < len && i + 4 < cap; i++)
		out[i] = (v[i] >= 0x20 && v[i] < 0x7f) ? v[i] : '?';
	if (i < len && cap >= 4) {
		memcpy(out + (i < cap - 4 ? i : cap - 4), "...", 3);
		i = (i < cap - 4 ? i : cap - 4) + 3;
	}
	out[i] = '\0';
}

static void bad_line(struct parse *p, uint32_t line, const char *why,
		     const char *v, size_t len)
{
	char s[68];

	if (++p->nerrors > LW_LOOKUP_MAX_ERRORS)
		return;
	shown(v, len, s, sizeof(s));
	lw_diags_add(p->diags, LW_DIAG_ERROR, LW_EPARSE, p->path, (int)line, 0,
		     "list '%s': '%s': %s", p->spec->name, s, why);
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' ||
			  (*s)[*n - 1] == '\r'))
		(*n)--;
}

static int add_value(struct parse *p, uint32_t line, const char *v, size_t len)
{
	uint8_t kbuf[LW_LOOKUP_VALUE_MAX + 1];
	char tbuf[INET6_ADDRSTRLEN + 8];
	size_t klen = 0, tlen = 0;
	const char *why;
	uint32_t dup;
	int rc;

	if (len > LW_LOOKUP_VALUE_MAX) {
		bad_line(p, line, "value longer than 255 bytes", v, len);
		return LW_OK;
	}
	why = canon(p->l->kind, v, len, kbuf, &klen, tbuf, &tlen);
	if (why != NULL) {
		bad_line(p, line, why, v, len);
		return LW_OK;
	}
	rc = add_entry(p->l, kbuf, klen, tlen ? tbuf : NULL, tlen, line, &dup);
	if (rc != LW_OK)
		return rc;
	if (dup != 0 && p->ndups++ == 0) {
		p->dup_line = line;
		p->dup_first = dup;
	}
	if (dup == 0 && p->l->kind == LW_LOOKUP_IP) {
		if (kbuf[0] == 4)
			note_len(p->l->lens4, &p->l->nlens4, kbuf[1]);
		else
			note_len(p->l->lens6, &p->l->nlens6, kbuf[1]);
	}
	return LW_OK;
}

static int plain_line(struct parse *p, uint32_t line, const char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (s[i] == '#' && (s[i - 1] == ' ' || s[i - 1] == '\t')) {
			n = i;
			break;
		}
	trim(&s, &n);
	return add_value(p, line, s, n);
}

static int header_col(struct lw_str key, struct lw_str value, void *arg)
{
	struct parse *p = arg;
	const char *v = value.ptr;
	size_t n = value.len;
	uint32_t col = (uint32_t)(key.ptr - p->tags);

	trim(&v, &n);
	if (p->spec->column != NULL && strlen(p->spec->column) == n &&
	    caseeq(v, p->spec->column, n))
		p->col_value = (int)col;
	for (uint32_t w = 0; w < p->spec->nwhere; w++)
		if (strlen(p->spec->where[w].column) == n &&
		    caseeq(v, p->spec->where[w].column, n))
			p->col_where[w] = (int)col;
	return 0;
}

static int row_col(struct lw_str key, struct lw_str value, void *arg)
{
	struct parse *p = arg;
	uint32_t role = (uint32_t)(unsigned char)*key.ptr;

	p->row[role] = value;
	p->seen |= 1u << role;
	return 0;
}

static int csv_buf(struct parse *p, size_t n)
{
	if (p->buf_cap < n + LW_FMT_KEY_MAX) {
		char *b = realloc(p->buf, n + LW_FMT_KEY_MAX);

		if (b == NULL)
			return LW_ENOMEM;
		p->buf = b;
		p->buf_cap = n + LW_FMT_KEY_MAX;
	}
	return LW_OK;
}

static int csv_header(struct parse *p, uint32_t line, const char *s, size_t n)
{
	struct lw_fmt_buf fb;
	int ncols;

	p->have_header = 1;
	p->col_value = -1;
	for (uint32_t w = 0; w < LW_LOOKUP_MAX_WHERE; w++)
		p->col_where[w] = -1;
	for (uint32_t i = 0; i < MAX_COLUMNS; i++)
		p->names[i] = (struct lw_str){&p->tags[i], 1};
	if (csv_buf(p, n) != LW_OK)
		return LW_ENOMEM;
	fb = (struct lw_fmt_buf){p->buf, p->buf_cap};
	ncols = lw_fmt_csv_parse(',', p->names, MAX_COLUMNS, s, n, &fb, header_col, p);
	if (ncols > MAX_COLUMNS) {
		p->nerrors++;
		return lw_diags_add(p->diags, LW_DIAG_ERROR, LW_EPARSE, p->path,
				    (int)line, 0, "list '%s': more than %d columns",
				    p->spec->name, MAX_COLUMNS);
	}
	p->ncols = (uint32_t)ncols;
	if (p->col_value < 0) {
		p->nerrors++;
		return lw_diags_add(p->diags, LW_DIAG_ERROR, LW_EPARSE, p->path,
				    (int)line, 0, "list '%s': the header has no "
				    "column '%s'", p->spec->name, p->spec->column);
	}
	for (uint32_t w = 0; w < p->spec->nwhere; w++)
		if (p->col_where[w] < 0) {
			p->nerrors++;
			p->col_value = -1;
			return lw_diags_add(p->diags, LW_DIAG_ERROR, LW_EPARSE, p->path,
					    (int)line, 0, "list '%s': the header has "
					    "no column '%s' (where)", p->spec->name,
					    p->spec->where[w].column);
		}
	for (uint32_t w = 0; w < p->spec->nwhere; w++)
		if (p->col_where[w] == p->col_value) {
			p->nerrors++;
			p->col_value = -1;
			return lw_diags_add(p->diags, LW_DIAG_ERROR, LW_EPARSE, p->path,
					    (int)line, 0, "list '%s': where names the "
					    "value's column '%s'", p->spec->name,
					    p->spec->column);
		}
	/* From now on a column's name is its role: 0 the value, 1.. the
	 * filters; other columns are skipped. */
	for (uint32_t i = 0; i < MAX_COLUMNS; i++) {
		p->names[i].len = 0;
		p->tags[i] = 0;
	}
	p->names[p->col_value] = (struct lw_str){&p->tags[p->col_value], 1};
	for (uint32_t w = 0; w < p->spec->nwhere; w++) {
		p->tags[p->col_where[w]] = (char)(w + 1);
		p->names[p->col_where[w]] = (struct lw_str){&p->tags[p->col_where[w]], 1};
	}
	return LW_OK;
}

static int where_ok(const struct lw_lookup_where *w, struct lw_str v)
{
	const char *s = v.ptr;
	size_t n = v.len;

	trim(&s, &n);
	for (uint32_t i = 0; i < w->nvalues; i++)
		if (strlen(w->values[i]) == n && caseeq(s, w->values[i], n))
			return 1;
	return 0;
}

static int csv_line(struct parse *p, uint32_t line, const char *s, size_t n)
{
	struct lw_fmt_buf fb;
	uint32_t need = (1u << (p->spec->nwhere + 1)) - 1;
	const char *v;
	size_t vn;

	if (!p->have_header)
		return csv_header(p, line, s, n);
	if (p->col_value < 0)
		return LW_OK; /* the header was bad, already reported */
	if (csv_buf(p, n) != LW_OK)
		return LW_ENOMEM;
	fb = (struct lw_fmt_buf){p->buf, p->buf_cap};
	p->seen = 0;
	lw_fmt_csv_parse(',', p->names, MAX_COLUMNS, s, n, &fb, row_col, p);
	if ((p->seen & need) != need) {
		bad_line(p, line, "the row has fewer columns than the header", s, n);
		return LW_OK;
	}
	for (uint32_t w = 0; w < p->spec->nwhere; w++)
		if (!where_ok(&p->spec->where[w], p->row[w + 1]))
			return LW_OK;
	v = p->row[0].ptr;
	vn = p->row[0].len;
	trim(&v, &vn);
	return add_value(p, line, v, vn);
}

int lw_lookup_list_parse(const struct lw_lookup_spec *spec, const char *path,
			 const char *data, size_t len, struct lw_diags *diags,
			 struct lw_lookup_list **out)
{
	struct parse p;
	size_t i = 0;
	uint32_t line = 0;
	int rc = LW_OK;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.spec = spec;
	p.path = path;
	p.diags = diags;
	p.l = calloc(1, sizeof(*p.l));
	if (p.l == NULL)
		return LW_ENOMEM;
	p.l->kind = spec->kind;
	p.l->name = lw_memdup_z(spec->name, strlen(spec->name));
	if (p.l->name == NULL) {
		rc = LW_ENOMEM;
		goto fail;
	}
	while (i < len && rc == LW_OK) {
		const char *s = data + i, *nl = memchr(s, '\n', len - i);
		size_t n = nl ? (size_t)(nl - s) : len - i;

		i += n + 1;
		line++;
		trim(&s, &n);
		if (n == 0 || s[0] == '#')
			continue;
		if (memchr(s, '\0', n) != NULL) {
			bad_line(&p, line, "NUL byte in line", s, 0);
			continue;
		}
		rc = spec->column != NULL ? csv_line(&p, line, s, n) :
			plain_line(&p, line, s, n);
		if (rc == LW_EPARSE)
			rc = LW_OK; /* header problems: reported, keep counting */
	}
	if (rc != LW_OK)
		goto fail;
	if (spec->column != NULL && !p.have_header) {
		p.nerrors++;
		lw_diags_add(diags, LW_DIAG_ERROR, LW_EPARSE, path, 0, 0,
			     "list '%s': no header row (CSV with column '%s')",
			     spec->name, spec->column);
	}
	if (p.nerrors > LW_LOOKUP_MAX_ERRORS)
		lw_diags_add(diags, LW_DIAG_ERROR, LW_EPARSE, path, 0, 0,
			     "list '%s': %u more bad lines not shown", spec->name,
			     p.nerrors - LW_LOOKUP_MAX_ERRORS);
	if (p.nerrors > 0) {
		rc = LW_EPARSE;
		goto fail;
	}
	if ((rc = build_filter(p.l)) != LW_OK)
		goto fail;
	if (p.ndups > 0)
		lw_diags_add(diags, LW_DIAG_WARNING, LW_OK, path, (int)p.dup_line, 0,
			     "list '%s': %u repeated values kept once (the first "
			     "repeats line %u)", spec->name, p.ndups, p.dup_first);
	free(p.buf);
	*out = p.l;
	return LW_OK;

fail:
	free(p.buf);
	lw_lookup_list_free(p.l);
	return rc;
}

int lw_lookup_list_load(const struct lw_lookup_spec *spec, const char *path,
			struct lw_diags *diags, struct lw_lookup_list **out)
{
	FILE *f;
	struct stat st;
	char ebuf[128], *data;
	size_t got;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		rc = lw_diags_add(diags, LW_DIAG_ERROR, LW_EIO, path, 0, 0,
				  "list '%s': cannot read: %s", spec->name,
				  strerror_r(errno, ebuf, sizeof(ebuf)));
		if (f != NULL)
			fclose(f);
		return rc;
	}
	if ((uint64_t)st.st_size > LW_LOOKUP_MAX_FILE) {
		fclose(f);
		return lw_diags_add(diags, LW_DIAG_ERROR, LW_ETOOBIG, path, 0, 0,
				    "list '%s': file larger than %u MiB", spec->name,
				    LW_LOOKUP_MAX_FILE >> 20);
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		fclose(f);
		return LW_ENOMEM;
	}
	got = fread(data, 1, (size_t)st.st_size, f);
	fclose(f);
	rc = lw_lookup_list_parse(spec, path, data, got, diags, out);
	free(data);
	return rc;
}

void lw_lookup_list_free(struct lw_lookup_list *l)
{
	if (l == NULL)
		return;
	free(l->name);
	free(l->blob);
	free(l->entries);
	free(l->table);
	free(l->filter);
	free(l);
}

const char *lw_lookup_list_name(const struct lw_lookup_list *l)
{
	return l->name;
}

enum lw_lookup_kind lw_lookup_list_kind(const struct lw_lookup_list *l)
{
	return l->kind;
}

uint32_t lw_lookup_list_count(const struct lw_lookup_list *l)
{
	return l->n;
}

struct lw_str lw_lookup_list_entry(const struct lw_lookup_list *l, uint32_t i,
				   uint32_t *line)
{
	if (i >= l->n)
		return LW_STR_NULL;
	if (line != NULL)
		*line = l->entries[i].line;
	return (struct lw_str){l->blob + l->entries[i].text_off,
			       l->entries[i].text_len ? l->entries[i].text_len :
			       l->entries[i].len};
}

/* ---- matching ---- */

static uint32_t match_addr(const struct lw_lookup_list *l, int family,
			   const uint8_t addr[16])
{
	const uint8_t *lens = family == AF_INET ? l->lens4 : l->lens6;
	uint8_t nlens = family == AF_INET ? l->nlens4 : l->nlens6;
	uint8_t key[IP_KEY_LEN];

	for (uint8_t i = 0; i < nlens; i++) {
		uint32_t e;

		ip_key(key, family, lens[i], addr);
		if ((e = probe(l, key, sizeof(key))) != UINT32_MAX)
			return e;
	}
	return UINT32_MAX;
}

int lw_lookup_match_addr(const struct lw_lookup_list *l, int family,
			 const void *addr, uint32_t *entry)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint8_t a[16] = {0};
	uint32_t e;

	if (l->kind != LW_LOOKUP_IP || (family != AF_INET && family != AF_INET6))
		return 0;
	memcpy(a, addr, family == AF_INET ? 4 : 16);
	if (family == AF_INET6 && memcmp(a, mapped, sizeof(mapped)) == 0) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		family = AF_INET;
	}
	e = match_addr(l, family, a);
	if (e == UINT32_MAX)
		return 0;
	if (entry != NULL)
		*entry = e;
	return 1;
}

static uint32_t match_ip(const struct lw_lookup_list *l, const char *v, size_t len)
{
	uint8_t addr[16];
	int family;

	if (!parse_addr(v, len, &family, addr))
		return UINT32_MAX;
	return match_addr(l, family, addr);
}

static uint32_t match_domain(const struct lw_lookup_list *l, const char *v,
			     size_t len)
{
	char low[LW_LOOKUP_VALUE_MAX + 1];

	if (len > 0 && v[len - 1] == '.')
		len--;
	if (len == 0 || len > LW_LOOKUP_VALUE_MAX)
		return UINT32_MAX;
	for (size_t i = 0; i < len; i++)
		low[i] = (char)lower((unsigned char)v[i]);
	/* The whole name, then each parent: the first hit is the longest. */
	for (size_t i = 0; i < len; i++) {
		uint32_t e;

		if (i > 0 && low[i - 1] != '.')
			continue;
		if ((e = probe(l, low + i, len - i)) != UINT32_MAX)
			return e;
	}
	return UINT32_MAX;
}

int lw_lookup_match(const struct lw_lookup_list *l, const char *v, size_t len,
		    uint32_t *entry)
{
	char low[LW_LOOKUP_VALUE_MAX + 1];
	uint32_t e;

	switch (l->kind) {
	case LW_LOOKUP_IP:
		e = match_ip(l, v, len);
		break;
	case LW_LOOKUP_DOMAIN:
		e = match_domain(l, v, len);
		break;
	default:
		if (len == 0 || len > LW_LOOKUP_VALUE_MAX)
			return 0;
		for (size_t i = 0; i < len; i++)
			low[i] = (char)lower((unsigned char)v[i]);
		e = probe(l, low, len);
		break;
	}
	if (e == UINT32_MAX)
		return 0;
	if (entry != NULL)
		*entry = e;
	return 1;
}

/* ---- the set ---- */

struct lw_lookup_set {
	struct lw_lookup_list **lists;
	uint32_t n, cap;
};

struct lw_lookup_set *lw_lookup_set_new(void)
{
	return calloc(1, sizeof(struct lw_lookup_set));
}

void lw_lookup_set_free(struct lw_lookup_set *set)
{
	if (set == NULL)
		return;
	for (uint32_t i = 0; i < set->n; i++)
		lw_lookup_list_free(set->lists[i]);
	free(set->lists);
	free(set);
}

int lw_lookup_set_add(struct lw_lookup_set *set, struct lw_lookup_list *l)
{
	if (lw_lookup_set_find(set, l->name, strlen(l->name)) != NULL) {
		lw_lookup_list_free(l);
		return LW_EINVAL;
	}
	if (set->n == set->cap) {
		uint32_t cap = set->cap ? set->cap * 2 : 16;
		struct lw_lookup_list **nl = realloc(set->lists, cap * sizeof(*nl));

		if (nl == NULL) {
			lw_lookup_list_free(l);
			return LW_ENOMEM;
		}
		set->lists = nl;
		set->cap = cap;
	}
	set->lists[set->n++] = l;
	return LW_OK;
}

const struct lw_lookup_list *lw_lookup_set_find(const struct lw_lookup_set *set,
						const char *name, size_t len)
{
	for (uint32_t i = 0; set != NULL && i < set->n; i++)
		if (strlen(set->lists[i]->name) == len &&
		    memcmp(set->lists[i]->name, name, len) == 0)
			return set->lists[i];
	return NULL;
}

uint32_t lw_lookup_set_count(const struct lw_lookup_set *set)
{
	return set != NULL ? set->n : 0;
}

const struct lw_lookup_list *lw_lookup_set_list(const struct lw_lookup_set *set,
						uint32_t i)
{
	return set != NULL && i < set->n ? set->lists[i] : NULL;
}

/* ---- declarations (the .yml files of rules/lists/) ---- */

static const char *const decl_keys[] = {
	"name", "kind", "file", "column", "where", "description", NULL};

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

/* `where: {column: value | [values]}` into spec; the strings stay the
 * document's (borrowed until the list is parsed). */
static int decl_where(struct lw_ryaml *y, yaml_node_t *wn,
		      struct lw_lookup_spec *spec,
		      const char *vals[LW_LOOKUP_MAX_WHERE][16])
{
	if (wn->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, wn, LW_EPARSE,
				      "where: expected {column: value or [values]}");
	for (yaml_node_pair_t *p = wn->data.mapping.pairs.start;
	     p < wn->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lw_ryaml_node(y, p->key), *v = lw_ryaml_node(y, p->value);
		struct lw_lookup_where *w;

		if (spec->nwhere == LW_LOOKUP_MAX_WHERE)
			return lw_ryaml_error(y, k, LW_EPARSE, "where: at most %d columns",
					      LW_LOOKUP_MAX_WHERE);
		w = &spec->where[spec->nwhere];
		w->column = lw_ryaml_str(k, NULL);
		if (w->column == NULL)
			return lw_ryaml_error(y, k, LW_EPARSE, "where: column names are strings");
		if (lw_ryaml_is_scalar(v)) {
			vals[spec->nwhere][0] = lw_ryaml_str(v, NULL);
			w->nvalues = 1;
		} else if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				const char *s = lw_ryaml_str(lw_ryaml_node(y, *it), NULL);

				if (s == NULL || w->nvalues == 16)
					return lw_ryaml_error(y, v, LW_EPARSE, "where: "
							      "at most 16 string values");
				vals[spec->nwhere][w->nvalues++] = s;
			}
		} else {
			return lw_ryaml_error(y, v, LW_EPARSE,
					      "where: a value or a list of values");
		}
		if (w->nvalues == 0)
			return lw_ryaml_error(y, v, LW_EPARSE, "where: empty list");
		w->values = vals[spec->nwhere];
		spec->nwhere++;
	}
	return LW_OK;
}

static const char *decl_str(struct lw_ryaml *y, yaml_node_t *n, const char *key,
			    int required, int *rc)
{
	yaml_node_t *v = lw_ryaml_get(y, n, key, NULL);
	const char *s = v != NULL && lw_ryaml_is_scalar(v) && !lw_ryaml_is_null(v) ?
		lw_ryaml_str(v, NULL) : NULL;

	if (s == NULL && (required || v != NULL) && *rc == LW_OK)
		*rc = lw_ryaml_error(y, v ? v : n, LW_EPARSE, "'%s' (a string) is %s",
				     key, required ? "required" : "expected");
	return s;
}

static int load_decl(struct lw_lookup_set *set, struct lw_ryaml *y, yaml_node_t *n)
{
	const char *vals[LW_LOOKUP_MAX_WHERE][16];
	struct lw_lookup_spec spec;
	struct lw_lookup_list *l = NULL;
	const char *name, *kind, *file, *slash;
	yaml_node_t *wn;
	char *path;
	size_t dlen;
	int rc = LW_OK, k;

	memset(&spec, 0, sizeof(spec));
	if (n->type != YAML_MAPPING_NODE)
		return lw_ryaml_error(y, n, LW_EPARSE,
				      "a list is {name, kind, file, column, where}");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = lw_ryaml_node(y, p->key);
		const char *ks = lw_ryaml_str(kn, NULL);
		size_t i;

		for (i = 0; ks != NULL && decl_keys[i] != NULL; i++)
			if (strcmp(ks, decl_keys[i]) == 0)
				break;
		if (ks == NULL || decl_keys[i] == NULL)
			rc = lw_ryaml_error(y, kn, LW_EPARSE, "unknown key '%s' "
					    "(name, kind, file, column, where)",
					    ks ? ks : "?");
	}
	name = decl_str(y, n, "name", 1, &rc);
	kind = decl_str(y, n, "kind", 1, &rc);
	file = decl_str(y, n, "file", 1, &rc);
	spec.column = decl_str(y, n, "column", 0, &rc);
	if (rc != LW_OK)
		return rc;
	if (!name_ok(name, strlen(name)))
		return lw_ryaml_error(y, lw_ryaml_get(y, n, "name", NULL), LW_EPARSE,
				      "name: 1 to 64 letters, digits, '_', '-', '.'");
	k = lw_lookup_kind_parse(kind, strlen(kind));
	if (k < 0)
		return lw_ryaml_error(y, lw_ryaml_get(y, n, "kind", NULL), LW_EPARSE,
				      "kind: ip, domain, user or hash");
	spec.name = name;
	spec.kind = (enum lw_lookup_kind)k;
	wn = lw_ryaml_get(y, n, "where", NULL);
	if (wn != NULL) {
		if (spec.column == NULL)
			return lw_ryaml_error(y, wn, LW_EPARSE,
					      "where needs a CSV list (column)");
		if ((rc = decl_where(y, wn, &spec, vals)) != LW_OK)
			return rc;
	}
	if (lw_lookup_set_find(set, name, strlen(name)) != NULL)
		return lw_ryaml_error(y, lw_ryaml_get(y, n, "name", NULL), LW_EPARSE,
				      "a list named '%s' is already declared (names "
				      "are unique across rule directories)", name);
	/* A relative file is next to the declaration, wherever logward runs. */
	slash = strrchr(y->path, '/');
	dlen = file[0] != '/' && slash != NULL ? (size_t)(slash - y->path) + 1 : 0;
	path = malloc(dlen + strlen(file) + 1);
	if (path == NULL)
		return LW_ENOMEM;
	memcpy(path, y->path, dlen);
	memcpy(path + dlen, file, strlen(file) + 1);
	rc = lw_lookup_list_load(&spec, path, y->diags, &l);
	free(path);
	if (rc != LW_OK) {
		if (rc != LW_ENOMEM)
			rc = lw_ryaml_error(y, n, LW_EPARSE, "list '%s' not loaded",
					    name);
		return rc;
	}
	return lw_lookup_set_add(set, l);
}

static int load_decls(void *target, struct lw_ryaml *y, yaml_node_t *root)
{
	yaml_node_t *lists;
	int rc = LW_OK;

	if (root->type != YAML_MAPPING_NODE ||
	    (lists = lw_ryaml_get(y, root, "lists", NULL)) == NULL ||
	    lists->type != YAML_SEQUENCE_NODE)
		return lw_ryaml_error(y, root, LW_EPARSE,
				      "a list declaration file is `lists:` followed "
				      "by a sequence of lists");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const char *ks = lw_ryaml_str(lw_ryaml_node(y, p->key), NULL);

		if (ks == NULL || strcmp(ks, "lists") != 0)
			rc = lw_ryaml_error(y, lw_ryaml_node(y, p->key), LW_EPARSE,
					    "unknown key '%s' (lists)", ks ? ks : "?");
	}
	for (yaml_node_item_t *it = lists->data.sequence.items.start;
	     it < lists->data.sequence.items.top; it++) {
		int r = load_decl(target, y, lw_ryaml_node(y, *it));

		if (r == LW_ENOMEM)
			return r;
		if (r != LW_OK && rc == LW_OK)
			rc = r;
	}
	return rc;
}

int lw_lookup_set_load_file(struct lw_lookup_set *set, const char *path,
			    struct lw_diags *diags)
{
	return lw_ryaml_load_docs(path, NULL, 0, load_decls, set, diags);
}

int lw_lookup_set_load_string(struct lw_lookup_set *set, const char *name,
			      const char *yaml, size_t len,
			      struct lw_diags *diags)
{
	return lw_ryaml_load_docs(name, yaml, len, load_decls, set, diags);
}
