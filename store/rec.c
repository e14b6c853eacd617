/* lw_rec: the checked record framing of the console's records. */
#include "store/rec.h"

#include <string.h>

#include "core/err.h"

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void put_le(struct lw_buf *out, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	lw_buf_append(out, b, (size_t)n);
}

size_t lw_rec_begin(struct lw_buf *out, const char magic[4], uint16_t version)
{
	size_t start = out->len;

	lw_buf_append(out, magic, 4);
	put_le(out, version, 2);
	put_le(out, 0, 2);
	put_le(out, 0, 8);
	return start;
}

void lw_rec_u8(struct lw_buf *out, uint8_t v) { put_le(out, v, 1); }
void lw_rec_u16(struct lw_buf *out, uint16_t v) { put_le(out, v, 2); }
void lw_rec_u32(struct lw_buf *out, uint32_t v) { put_le(out, v, 4); }
void lw_rec_u64(struct lw_buf *out, uint64_t v) { put_le(out, v, 8); }

void lw_rec_str(struct lw_buf *out, const char *s, size_t len, uint32_t max)
{
	if (len > max)
		len = max;
	put_le(out, len, 4);
	if (len > 0)
		lw_buf_append(out, s, len);
}

void lw_rec_seal(struct lw_buf *out, size_t start)
{
	uint64_t h;
	uint8_t *p;

	if (out->oom || out->len < start + LW_REC_HEADER)
		return;
	p = (uint8_t *)out->data + start;
	h = fnv1a(p + LW_REC_HEADER, out->len - start - LW_REC_HEADER);
	for (int i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(h >> (8 * i));
}

int lw_rec_open(const void *rec, size_t len, const char magic[4], uint16_t version,
		struct lw_rec_cursor *c)
{
	const uint8_t *p = rec;
	struct lw_rec_cursor h = {p, p + len, 0};
	uint64_t sum;

	if (len < LW_REC_HEADER || memcmp(p, magic, 4) != 0)
		return LW_ECORRUPT;
	h.p = p + 4;
	if (lw_rec_take(&h, 2) != version || lw_rec_take(&h, 2) != 0)
		return LW_ECORRUPT;
	sum = lw_rec_take(&h, 8);
	if (sum != fnv1a(p + LW_REC_HEADER, len - LW_REC_HEADER))
		return LW_ECORRUPT;
	*c = h;
	return LW_OK;
}

uint64_t lw_rec_take(struct lw_rec_cursor *c, int n)
{
	uint64_t v = 0;

	if (c->bad || c->end - c->p < n) {
		c->bad = 1;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

struct lw_str lw_rec_take_str(struct lw_rec_cursor *c, uint32_t max)
{
	struct lw_str s = {"", 0};
	uint32_t n = (uint32_t)lw_rec_take(c, 4);

	if (c->bad || n > max || (size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return s;
	}
	s.ptr = (const char *)c->p;
	s.len = n;
	c->p += n;
	return s;
}

int lw_rec_close(const struct lw_rec_cursor *c)
{
	return !c->bad && c->p == c->end ? LW_OK : LW_ECORRUPT;
}

void lw_rec_key64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t lw_rec_key64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
