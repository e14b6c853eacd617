/* lw_segment: columnar segment builder, zstd frame, metadata record and
 * the bounds-checked decoder. Owned by the writer thread (builder) or the
 * reading thread (decoder).
 *
 * Why columns: zstd finds repeats within its window, and log events
 * repeat column by column (the same host, app, zone; timestamps that grow
 * by small steps; messages that share templates). Storing each column
 * contiguously puts those repeats next to each other; see docs/storage.md
 * for the measured gain over compressing the text stream. */
#include "store/segment.h"
#include "core/hmac.h"
#include "core/memfind.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Columns, in stored order. The raw (uncompressed) data is:
 *   varint count, varint ncols, ncols x varint column length,
 *   then the columns back to back. */
enum col_id {
	C_DICT_LEN, /* varint length of each dictionary string (ids from 1) */
	C_DICT,     /* dictionary string bytes */
	C_TS,       /* zigzag varint delta of @timestamp from the previous */
	C_CREATED,  /* zigzag varint delta of event.created from the previous:
		     * small both live (receive times grow slowly) and for
		     * ingested files (all received within seconds), where a
		     * delta against @timestamp would be years */
	C_HOST,     /* varint dictionary id (0 = empty string) */
	C_APP,
	C_PROCID,
	C_MSGID,
	C_ZONE,
	C_SRC,
	C_FAC,      /* one byte each */
	C_SEV,      /* one byte each */
	C_FLAGS,    /* varint */
	C_NFIELDS,  /* varint number of extra fields */
	C_FKEY,     /* varint dictionary id of each field key */
	C_FVAL_LEN, /* varint length of each field value */
	C_FVAL,     /* field value bytes */
	C_SD_LEN,   /* varint */
	C_SD,
	C_MSG_LEN,  /* varint */
	C_MSG,
	C__COUNT
};

/* Smallest stored event: one byte in each per-event column (ts, created,
 * six ids, fac, sev, flags, nfields, sd_len, msg_len). Bounds the event
 * count a corrupt header may claim relative to raw_size. */
#define MIN_EVENT_BYTES 14

struct col {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Roles with a last-id cache: the 6 header strings, then the keys of the
 * first DICT_ROLES - 6 fields. */
#define DICT_ROLES 16
/* Entries from which the writer's hints (lw_segment_builder_prefetch)
 * pay: below, slots and entries (80 KB) stay in the L2 cache. */
#define DICT_PREFETCH_MIN 2048

/* A dictionary entry: where its bytes are in C_DICT and per-role counts
 * for the metadata record. */
struct dent {
	uint32_t off;
	uint32_t len;
	uint64_t hash;
	uint32_t n[LW_SEGMENT_META__KINDS];
	uint32_t host_skew;
};

struct lw_segment_builder {
	struct col col[C__COUNT];
	struct dent *dict; /* dict[0] is the empty string */
	uint32_t ndict;
	uint32_t dict_cap;
	uint32_t *slots;   /* open addressing: dict id, 0 = free slot */
	/* The dictionary id each role (host, app, ... then field keys by
	 * position) had in the previous event: consecutive events mostly
	 * repeat them, and comparing with that one entry skips the hash
	 * and the probe (0: none yet). */
	uint32_t last_id[DICT_ROLES];
	uint32_t nslots;   /* power of two, >= 2 * ndict */
	uint32_t count;
	int64_t min_ts, max_ts, last_ts, last_created;
	int64_t max_created; /* newest event.created: retention's age */
	uint64_t text_bytes;
	uint64_t raw_bytes;  /* sum of the column lengths, kept as they grow */
	int level;
	ZSTD_CCtx *cctx;
	struct lw_buf out;  /* header space + frame */
	struct lw_buf meta; /* metadata record */
};

/* --- little helpers --------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

static size_t varint_write(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static uint64_t load64(const char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return w;
}

static uint32_t load32(const char *s)
{
	uint32_t w;

	memcpy(&w, s, 4);
	return w;
}

/* 64-bit multiplicative hash, 8 bytes at a time: dictionary strings are
 * short (hosts, apps, zones), so setup cost matters more than quality.
 * The tail is read with loads that overlap bytes already hashed instead
 * of a memcpy of n bytes, which glibc does as a call followed by a
 * store-forwarding stall (perf: a third of dict_id's cycles). The hash
 * lives only in memory, so changing it changes no stored byte. */
static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	uint64_t w;

	if (n >= 8) {
		const char *last = s + n - 8;

		while (s < last) {
			h = (h ^ load64(s)) * 0xff51afd7ed558ccdull;
			h ^= h >> 32;
			s += 8;
		}
		w = load64(last);
	} else if (n >= 4) {
		w = (uint64_t)load32(s) << 32 | load32(s + n - 4);
	} else if (n > 0) {
		w = (uint64_t)(uint8_t)s[0] << 16 | (uint64_t)(uint8_t)s[n / 2] << 8 |
		    (uint8_t)s[n - 1];
	} else {
		w = 0;
	}
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h;
}

static int col_reserve(struct col *c, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (c->cap - c->len >= extra)
		return LW_OK;
	cap = c->cap ? c->cap : 4096;
	while (cap - c->len < extra) {
		if (cap > LW_SEGMENT_MAX_RAW)
			return LW_ETOOBIG;
		cap *= 2;
	}
	p = realloc(c->p, cap);
	if (p == NULL)
		return LW_ENOMEM;
	c->p = p;
	c->cap = cap;
	return LW_OK;
}

/* --- builder ---------------------------------------------------------- */

struct lw_segment_builder *lw_segment_builder_new(void)
{
	struct lw_segment_builder *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->dict_cap = 256;
	b->dict = calloc(b->dict_cap, sizeof(*b->dict));
	b->nslots = 512;
	b->slots = calloc(b->nslots, sizeof(*b->slots));
	if (b->dict == NULL || b->slots == NULL) {
		lw_segment_builder_free(b);
		return NULL;
	}
	lw_buf_init(&b->out);
	lw_buf_init(&b->meta);
	b->level = LW_SEGMENT_DEFAULT_LEVEL;
	lw_segment_builder_reset(b);
	return b;
}

void lw_segment_builder_free(struct lw_segment_builder *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < C__COUNT; i++)
		free(b->col[i].p);
	free(b->dict);
	free(b->slots);
	ZSTD_freeCCtx(b->cctx);
	lw_buf_release(&b->out);
	lw_buf_release(&b->meta);
	free(b);
}

void lw_segment_builder_reset(struct lw_segment_builder *b)
{
	for (int i = 0; i < C__COUNT; i++)
		b->col[i].len = 0;
	memset(b->slots, 0, b->nslots * sizeof(*b->slots));
	memset(b->last_id, 0, sizeof(b->last_id));
	memset(&b->dict[0], 0, sizeof(b->dict[0]));
	b->ndict = 1;
	b->count = 0;
	b->min_ts = INT64_MAX;
	b->max_ts = INT64_MIN;
	b->max_created = INT64_MIN;
	b->last_ts = 0;
	b->last_created = 0;
	b->text_bytes = 0;
	b->raw_bytes = 0;
}

void lw_segment_builder_set_level(struct lw_segment_builder *b, int level)
{
	b->level = level > 0 ? level : LW_SEGMENT_DEFAULT_LEVEL;
}

uint32_t lw_segment_builder_count(const struct lw_segment_builder *b)
{
	return b->count;
}

uint64_t lw_segment_builder_raw_bytes(const struct lw_segment_builder *b)
{
	return b->raw_bytes;
}

uint64_t lw_segment_builder_text_bytes(const struct lw_segment_builder *b)
{
	return b->text_bytes;
}

static int dict_grow(struct lw_segment_builder *b)
{
	uint32_t nslots = b->nslots * 2;
	uint32_t *slots;

	slots = calloc(nslots, sizeof(*slots));
	if (slots == NULL)
		return LW_ENOMEM;
	for (uint32_t id = 1; id < b->ndict; id++) {
		uint32_t i = (uint32_t)b->dict[id].hash & (nslots - 1);

		while (slots[i] != 0)
			i = (i + 1) & (nslots - 1);
		slots[i] = id;
	}
	free(b->slots);
	b->slots = slots;
	b->nslots = nslots;
	return LW_OK;
}

/* Returns the dictionary id of s in *id, adding it when new. On failure
 * the dictionary is unchanged. */
static int dict_id(struct lw_segment_builder *b, struct lw_str s, uint32_t *id)
{
	struct col *dc = &b->col[C_DICT], *lc = &b->col[C_DICT_LEN];
	uint64_t h;
	uint32_t i;
	int rc;

	if (s.len == 0) {
		*id = 0;
		return LW_OK;
	}
	/* Keep the table at most half full so probes stay short and always
	 * end at a free slot. */
	if ((b->ndict + 1) * 2 > b->nslots) {
		rc = dict_grow(b);
		if (rc != LW_OK)
			return rc;
	}
	h = hash_bytes(s.ptr, s.len);
	for (i = (uint32_t)h & (b->nslots - 1); b->slots[i] != 0;
	     i = (i + 1) & (b->nslots - 1)) {
		const struct dent *e = &b->dict[b->slots[i]];

		if (e->hash == h && e->len == s.len &&
		    lw_memeq(dc->p + e->off, s.ptr, s.len)) {
			*id = b->slots[i];
			return LW_OK;
		}
	}
	if (b->ndict == b->dict_cap) {
		struct dent *d = realloc(b->dict, 2 * sizeof(*d) * b->dict_cap);

		if (d == NULL)
			return LW_ENOMEM;
		b->dict = d;
		b->dict_cap *= 2;
	}
	rc = col_reserve(dc, s.len);
	if (rc == LW_OK)
		rc = col_reserve(lc, 10);
	if (rc != LW_OK)
		return rc;
	memset(&b->dict[b->ndict], 0, sizeof(b->dict[0]));
	b->dict[b->ndict].off = (uint32_t)dc->len;
	b->dict[b->ndict].len = s.len;
	b->dict[b->ndict].hash = h;
	memcpy(dc->p + dc->len, s.ptr, s.len);
	dc->len += s.len;
	b->raw_bytes += s.len;
	{
		size_t vn = varint_write(lc->p + lc->len, s.len);
		lc->len += vn;
		b->raw_bytes += vn;
	}
	b->slots[i] = b->ndict;
	*id = b->ndict++;
	return LW_OK;
}

/* Whether s is the string the role (DICT_ROLES) took last. */
static int same_as_last(const struct lw_segment_builder *b, unsigned role,
			struct lw_str s)
{
	uint32_t last = role < DICT_ROLES ? b->last_id[role] : 0;
	const struct dent *e = &b->dict[last];

	return last != 0 && e->len == s.len &&
	       lw_memeq(b->col[C_DICT].p + e->off, s.ptr, s.len);
}

/* dict_id for a string in a role (DICT_ROLES), trying that role's
 * previous id first. */
static int dict_id_role(struct lw_segment_builder *b, unsigned role,
			struct lw_str s, uint32_t *id)
{
	int rc;

	if (same_as_last(b, role, s)) {
		*id = b->last_id[role];
		return LW_OK;
	}
	rc = dict_id(b, s, id);
	if (rc == LW_OK && role < DICT_ROLES)
		b->last_id[role] = *id;
	return rc;
}

/* Per-event string members that go through the dictionary, in column
 * order C_HOST..C_SRC. */
static void event_dict_members(const struct lw_event *ev, struct lw_str m[6])
{
	m[0] = ev->host;
	m[1] = ev->app;
	m[2] = ev->procid;
	m[3] = ev->msgid;
	m[4] = ev->zone;
	m[5] = ev->source_address;
}

/* The dictionary outgrows the caches when a member takes many values (a
 * process id per line: tens of thousands per segment). A lookup is then
 * three dependent cache misses (slot, entry, string), more than half of
 * dict_id's time: each stage prefetches the next one's line, the writer
 * calling them a few events apart. */
void lw_segment_builder_prefetch(const struct lw_segment_builder *b,
				 const struct lw_event *ev, int stage)
{
	const struct col *dc = &b->col[C_DICT];
	struct lw_str m[6];

	/* A small dictionary stays in the caches: the hashes would only
	 * add to the add's own (bench/run's high-cardinality load took 5 %
	 * more CPU with hints at every size than with none). */
	if (b->ndict < DICT_PREFETCH_MIN)
		return;
	event_dict_members(ev, m);
	for (int i = 0; i < 6; i++) {
		uint64_t h;
		uint32_t slot;
		const struct dent *e;

		if (m[i].len == 0 || same_as_last(b, (unsigned)i, m[i]))
			continue;
		h = hash_bytes(m[i].ptr, m[i].len);
		slot = (uint32_t)h & (b->nslots - 1);
		if (stage == 0) {
			__builtin_prefetch(&b->slots[slot]);
			continue;
		}
		if (b->slots[slot] == 0 || b->slots[slot] >= b->ndict)
			continue;
		e = &b->dict[b->slots[slot]];
		if (stage == 1)
			__builtin_prefetch(e);
		else if (e->hash == h && e->off < dc->len)
			__builtin_prefetch(dc->p + e->off);
	}
}

int lw_segment_builder_add(struct lw_segment_builder *b, const struct lw_event *ev)
{
	/* Every column is written at pos[] and the lengths are committed
	 * only at the end, so a failure leaves the builder as it was (new
	 * dictionary entries are harmless: they are consistent and unused). */
	size_t pos[C__COUNT];
	struct lw_str m[6];
	uint32_t ids[6];
	/* text: about the size of the event as a syslog line (timestamp,
	 * separators, header strings, message); extra fields and the
	 * stamped zone/source are derived, so they do not count. */
	uint64_t text = 24;
	size_t fval_bytes = 0;
	struct col *c = b->col;
	int rc;

	event_dict_members(ev, m);
	for (int i = 0; i < 6; i++) {
		rc = dict_id_role(b, (unsigned)i, m[i], &ids[i]);
		if (rc != LW_OK)
			return rc;
		if (i < 4)
			text += m[i].len;
	}
	for (uint32_t f = 0; f < ev->nfields; f++)
		fval_bytes += ev->fields[f].value.len;
	text += ev->message.len + ev->structured_data.len;
	if (lw_segment_builder_raw_bytes(b) + text + fval_bytes + 64 +
	    20 * (size_t)ev->nfields > LW_SEGMENT_MAX_RAW)
		return LW_ETOOBIG;

	/* Reserve first: afterwards nothing below can fail except field-key
	 * dictionary inserts, which happen before their ids are written. */
	rc = LW_OK;
	for (int i = C_TS; i <= C_SRC && rc == LW_OK; i++)
		rc = col_reserve(&c[i], 10);
	if (rc == LW_OK) rc = col_reserve(&c[C_FAC], 1);
	if (rc == LW_OK) rc = col_reserve(&c[C_SEV], 1);
	if (rc == LW_OK) rc = col_reserve(&c[C_FLAGS], 3);
	if (rc == LW_OK) rc = col_reserve(&c[C_NFIELDS], 5);
	if (rc == LW_OK) rc = col_reserve(&c[C_FKEY], 5 * (size_t)ev->nfields);
	if (rc == LW_OK) rc = col_reserve(&c[C_FVAL_LEN], 5 * (size_t)ev->nfields);
	if (rc == LW_OK) rc = col_reserve(&c[C_FVAL], fval_bytes);
	if (rc == LW_OK) rc = col_reserve(&c[C_SD_LEN], 5);
	if (rc == LW_OK) rc = col_reserve(&c[C_SD], ev->structured_data.len);
	if (rc == LW_OK) rc = col_reserve(&c[C_MSG_LEN], 5);
	if (rc == LW_OK) rc = col_reserve(&c[C_MSG], ev->message.len);
	if (rc != LW_OK)
		return rc;
	for (int i = C_TS; i < C__COUNT; i++)
		pos[i] = c[i].len;

	for (uint32_t f = 0; f < ev->nfields; f++) {
		uint32_t kid;
		const struct lw_field *fd = &ev->fields[f];

		rc = dict_id_role(b, 6 + f, fd->key, &kid);
		if (rc != LW_OK)
			return rc;
		pos[C_FKEY] += varint_write(c[C_FKEY].p + pos[C_FKEY], kid);
		pos[C_FVAL_LEN] += varint_write(c[C_FVAL_LEN].p + pos[C_FVAL_LEN],
						fd->value.len);
		if (fd->value.len)
			memcpy(c[C_FVAL].p + pos[C_FVAL], fd->value.ptr,
			       fd->value.len);
		pos[C_FVAL] += fd->value.len;
	}
	pos[C_TS] += varint_write(c[C_TS].p + pos[C_TS],
				  zigzag((int64_t)((uint64_t)ev->timestamp_ns -
						   (uint64_t)b->last_ts)));
	pos[C_CREATED] += varint_write(c[C_CREATED].p + pos[C_CREATED],
				       zigzag((int64_t)((uint64_t)ev->created_ns -
							(uint64_t)b->last_created)));
	for (int i = 0; i < 6; i++)
		pos[C_HOST + i] += varint_write(c[C_HOST + i].p + pos[C_HOST + i],
						ids[i]);
	c[C_FAC].p[pos[C_FAC]++] = ev->facility;
	c[C_SEV].p[pos[C_SEV]++] = ev->severity;
	pos[C_FLAGS] += varint_write(c[C_FLAGS].p + pos[C_FLAGS], ev->flags);
	pos[C_NFIELDS] += varint_write(c[C_NFIELDS].p + pos[C_NFIELDS], ev->nfields);
	pos[C_SD_LEN] += varint_write(c[C_SD_LEN].p + pos[C_SD_LEN],
				      ev->structured_data.len);
	if (ev->structured_data.len)
		memcpy(c[C_SD].p + pos[C_SD], ev->structured_data.ptr,
		       ev->structured_data.len);
	pos[C_SD] += ev->structured_data.len;
	pos[C_MSG_LEN] += varint_write(c[C_MSG_LEN].p + pos[C_MSG_LEN],
				       ev->message.len);
	if (ev->message.len)
		memcpy(c[C_MSG].p + pos[C_MSG], ev->message.ptr, ev->message.len);
	pos[C_MSG] += ev->message.len;

	/* The dictionary columns are not in pos[]: field-key inserts above
	 * already appended to them. */
	for (int i = C_TS; i < C__COUNT; i++) {
		b->raw_bytes += pos[i] - c[i].len;
		c[i].len = pos[i];
	}
	b->dict[ids[0]].n[LW_SEGMENT_META_HOST]++;
	if (ev->flags & LW_EVENT_CLOCK_SKEW)
		b->dict[ids[0]].host_skew++;
	b->dict[ids[4]].n[LW_SEGMENT_META_ZONE]++;
	b->dict[ids[1]].n[LW_SEGMENT_META_APP]++;
	b->last_ts = ev->timestamp_ns;
	b->last_created = ev->created_ns;
	if (ev->timestamp_ns < b->min_ts)
		b->min_ts = ev->timestamp_ns;
	if (ev->timestamp_ns > b->max_ts)
		b->max_ts = ev->timestamp_ns;
	if (ev->created_ns > b->max_created)
		b->max_created = ev->created_ns;
	b->text_bytes += text;
	b->count++;
	return LW_OK;
}

static void meta_build(struct lw_segment_builder *b,
		       const struct lw_segment_header *h)
{
	uint8_t fixed[LW_SEGMENT_META_FIXED] = {LW_SEGMENT_META_VERSION, 0, 0, 0};
	struct lw_buf *m = &b->meta;

	lw_buf_reset(m);
	put_le(fixed + 4, h->count, 4);
	put_le(fixed + 8, (uint64_t)h->min_ts, 8);
	put_le(fixed + 16, (uint64_t)h->max_ts, 8);
	put_le(fixed + 24, h->raw_size, 8);
	put_le(fixed + 32, b->text_bytes, 8);
	put_le(fixed + 40, h->comp_size, 8);
	put_le(fixed + 48, (uint64_t)b->max_created, 8);
	lw_buf_append(m, fixed, sizeof(fixed));
	for (int k = 0; k < LW_SEGMENT_META__KINDS; k++) {
		struct lw_buf items;
		uint32_t n = 0;

		lw_buf_init(&items);
		for (uint32_t id = 0; id < b->ndict; id++) {
			const struct dent *e = &b->dict[id];

			if (e->n[k] == 0)
				continue;
			lw_buf_put_varint(&items, e->len);
			if (e->len)
				lw_buf_append(&items, b->col[C_DICT].p + e->off,
					      e->len);
			lw_buf_put_varint(&items, e->n[k]);
			lw_buf_put_varint(&items,
					  k == LW_SEGMENT_META_HOST ? e->host_skew : 0);
			n++;
		}
		lw_buf_put_varint(m, n);
		lw_buf_put_varint(m, items.len);
		if (items.len)
			lw_buf_append(m, items.data, items.len);
		if (items.oom)
			m->oom = 1;
		lw_buf_release(&items);
	}
}

static int zstd_fail(struct lw_diag *diag, size_t zr)
{
	return lw_diag_set(diag, LW_ECOMPRESS, NULL, 0, 0, "zstd: %s",
			   ZSTD_getErrorName(zr));
}

int lw_segment_builder_seal(struct lw_segment_builder *b,
			    struct lw_segment_sealed *out,
			    struct lw_diag *diag)
{
	uint8_t table[10 * (C__COUNT + 2)];
	size_t tlen = 0, total, bound, zr;
	ZSTD_outBuffer ob;
	struct lw_segment_header *h = &out->hdr;

	memset(out, 0, sizeof(*out));
	if (b->count == 0)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "empty segment");
	tlen += varint_write(table + tlen, b->count);
	tlen += varint_write(table + tlen, C__COUNT);
	for (int i = 0; i < C__COUNT; i++)
		tlen += varint_write(table + tlen, b->col[i].len);
	total = tlen + lw_segment_builder_raw_bytes(b);

	if (b->cctx == NULL) {
		b->cctx = ZSTD_createCCtx();
		if (b->cctx == NULL)
			return LW_ENOMEM;
	}
	bound = ZSTD_compressBound(total);
	lw_buf_reset(&b->out);
	if (lw_buf_reserve(&b->out, LW_SEGMENT_HEADER_LEN + bound) != LW_OK)
		return LW_ENOMEM;

	/* Streaming over the columns avoids concatenating them first; the
	 * pledged size puts the content size in the frame header so the
	 * decoder can check it before allocating. */
	ZSTD_CCtx_reset(b->cctx, ZSTD_reset_session_and_parameters);
	zr = ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel, b->level);
	if (!ZSTD_isError(zr))
		zr = ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(zr))
		zr = ZSTD_CCtx_setPledgedSrcSize(b->cctx, total);
	if (ZSTD_isError(zr))
		return zstd_fail(diag, zr);
	ob.dst = b->out.data + LW_SEGMENT_HEADER_LEN;
	ob.size = bound;
	ob.pos = 0;
	for (int i = -1; i < C__COUNT; i++) {
		ZSTD_inBuffer ib;

		ib.src = i < 0 ? table : b->col[i].p;
		ib.size = i < 0 ? tlen : b->col[i].len;
		ib.pos = 0;
		while (ib.pos < ib.size) {
			zr = ZSTD_compressStream2(b->cctx, &ob, &ib, ZSTD_e_continue);
			if (ZSTD_isError(zr))
				return zstd_fail(diag, zr);
		}
	}
	do {
		ZSTD_inBuffer empty = {NULL, 0, 0};

		zr = ZSTD_compressStream2(b->cctx, &ob, &empty, ZSTD_e_end);
		if (ZSTD_isError(zr))
			return zstd_fail(diag, zr);
	} while (zr != 0);

	h->version = LW_SEGMENT_VERSION;
	h->header_len = LW_SEGMENT_HEADER_LEN;
	h->count = b->count;
	h->min_ts = b->min_ts;
	h->max_ts = b->max_ts;
	h->raw_size = total;
	h->comp_size = ob.pos;
	b->out.len = LW_SEGMENT_HEADER_LEN + ob.pos;
	meta_build(b, h);
	if (b->meta.oom)
		return LW_ENOMEM;
	out->value = (uint8_t *)b->out.data;
	out->value_len = b->out.len;
	out->meta = (const uint8_t *)b->meta.data;
	out->meta_len = b->meta.len;
	out->text_bytes = b->text_bytes;
	return LW_OK;
}

/* --- header and chain ------------------------------------------------- */

void lw_segment_header_write(const struct lw_segment_header *h,
			     uint8_t out[LW_SEGMENT_HEADER_LEN])
{
	memcpy(out, LW_SEGMENT_MAGIC, 4);
	put_le(out + 4, h->version, 2);
	put_le(out + 6, h->header_len, 2);
	put_le(out + 8, h->id, 8);
	put_le(out + 16, h->count, 4);
	put_le(out + 20, h->flags, 4);
	put_le(out + 24, (uint64_t)h->min_ts, 8);
	put_le(out + 32, (uint64_t)h->max_ts, 8);
	put_le(out + 40, h->raw_size, 8);
	put_le(out + 48, h->comp_size, 8);
	memcpy(out + 56, h->prev_chain, LW_SHA256_LEN);
	memcpy(out + 88, h->chain, LW_SHA256_LEN);
}

int lw_segment_header_parse(const void *value, size_t len,
			    struct lw_segment_header *h, struct lw_diag *diag)
{
	const uint8_t *p = value;

	if (len < LW_SEGMENT_HEADER_LEN)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "segment shorter than its header (%zu bytes)", len);
	if (memcmp(p, LW_SEGMENT_MAGIC, 4) != 0)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "bad segment magic");
	h->version = (uint16_t)get_le(p + 4, 2);
	h->header_len = (uint16_t)get_le(p + 6, 2);
	h->id = get_le(p + 8, 8);
	h->count = (uint32_t)get_le(p + 16, 4);
	h->flags = (uint32_t)get_le(p + 20, 4);
	h->min_ts = (int64_t)get_le(p + 24, 8);
	h->max_ts = (int64_t)get_le(p + 32, 8);
	h->raw_size = get_le(p + 40, 8);
	h->comp_size = get_le(p + 48, 8);
	memcpy(h->prev_chain, p + 56, LW_SHA256_LEN);
	memcpy(h->chain, p + 88, LW_SHA256_LEN);
	if (h->version != LW_SEGMENT_VERSION)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "segment format version %u not supported (this logward reads %d)",
				   h->version, LW_SEGMENT_VERSION);
	if ((h->flags & ~(uint32_t)LW_SEGMENT_FLAG_KEYED) != 0)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "unknown header flags 0x%x", h->flags);
	if (h->header_len != LW_SEGMENT_HEADER_LEN)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "bad header length %u", h->header_len);
	if (h->comp_size != len - LW_SEGMENT_HEADER_LEN)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "frame is %zu bytes, header says %llu",
				   len - LW_SEGMENT_HEADER_LEN,
				   (unsigned long long)h->comp_size);
	if (h->raw_size > LW_SEGMENT_MAX_RAW ||
	    (uint64_t)h->count * MIN_EVENT_BYTES > h->raw_size)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "implausible sizes (count %u, raw %llu)",
				   h->count, (unsigned long long)h->raw_size);
	return LW_OK;
}

int lw_segment_chain(const struct lw_segment_header *h, const void *meta,
		     size_t meta_len, const void *frame, size_t frame_len,
		     uint8_t out[LW_SHA256_LEN])
{
	uint8_t hb[LW_SEGMENT_HEADER_LEN];
	struct lw_sha256 s;
	int rc;

	lw_segment_header_write(h, hb);
	rc = lw_sha256_init(&s);
	if (rc != LW_OK)
		return rc;
	lw_sha256_update(&s, h->prev_chain, LW_SHA256_LEN);
	lw_sha256_update(&s, hb, LW_SEGMENT_CHAINED_LEN);
	/* The record needs no length prefix: comp_size, hashed above,
	 * fixes the frame's length and so where the record ends. */
	lw_sha256_update(&s, meta, meta_len);
	lw_sha256_update(&s, frame, frame_len);
	rc = lw_sha256_final(&s, out);
	lw_sha256_release(&s);
	return rc;
}

int lw_segment_chain_keyed(const struct lw_segment_header *h, const uint8_t *key,
			   const void *meta, size_t meta_len, const void *frame,
			   size_t frame_len, uint8_t out[LW_SHA256_LEN])
{
	static const char label[] = "logward/v1/segment";
	uint8_t hb[LW_SEGMENT_HEADER_LEN];
	struct lw_hmac m;
	int rc;

	if (key == NULL)
		return lw_segment_chain(h, meta, meta_len, frame, frame_len, out);
	lw_segment_header_write(h, hb);
	rc = lw_hmac_init(&m, key, LW_SEGMENT_KEY_LEN);
	if (rc != LW_OK)
		return rc;
	/* The label keeps a segment tag from ever equalling a ratchet step
	 * or a checkpoint tag made with the same key. */
	lw_hmac_update(&m, label, sizeof(label) - 1);
	lw_hmac_update(&m, h->prev_chain, LW_SHA256_LEN);
	lw_hmac_update(&m, hb, LW_SEGMENT_CHAINED_LEN);
	lw_hmac_update(&m, meta, meta_len);
	lw_hmac_update(&m, frame, frame_len);
	return lw_hmac_final(&m, out);
}

/* --- metadata record -------------------------------------------------- */

struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

/* Bounds-checked LEB128: at most 10 bytes, no bits beyond 64. */
static int rd_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t byte;

		if (r->p >= r->end)
			return LW_ECORRUPT;
		byte = *r->p++;
		if (shift == 63 && byte > 1)
			return LW_ECORRUPT;
		x |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*v = x;
			return LW_OK;
		}
	}
	return LW_ECORRUPT;
}

static int rd_bytes(struct rd *r, uint64_t n, const uint8_t **out)
{
	if (n > (uint64_t)(r->end - r->p))
		return LW_ECORRUPT;
	*out = r->p;
	r->p += n;
	return LW_OK;
}

static int meta_item(struct rd *r, struct lw_segment_meta_item *it)
{
	const uint8_t *name;
	uint64_t len;

	if (rd_varint(r, &len) != LW_OK || len > UINT32_MAX ||
	    rd_bytes(r, len, &name) != LW_OK ||
	    rd_varint(r, &it->count) != LW_OK ||
	    rd_varint(r, &it->skew) != LW_OK)
		return LW_ECORRUPT;
	it->name.ptr = (const char *)name;
	it->name.len = (uint32_t)len;
	return LW_OK;
}

int lw_segment_meta_parse(const void *rec, size_t len,
			  struct lw_segment_meta *m)
{
	const uint8_t *p = rec;
	struct rd r;

	memset(m, 0, sizeof(*m));
	if (len < LW_SEGMENT_META_FIXED || p[0] != LW_SEGMENT_META_VERSION)
		return LW_ECORRUPT;
	m->count = (uint32_t)get_le(p + 4, 4);
	m->min_ts = (int64_t)get_le(p + 8, 8);
	m->max_ts = (int64_t)get_le(p + 16, 8);
	m->raw_size = get_le(p + 24, 8);
	m->text_bytes = get_le(p + 32, 8);
	m->comp_size = get_le(p + 40, 8);
	m->max_created = (int64_t)get_le(p + 48, 8);
	r.p = p + LW_SEGMENT_META_FIXED;
	r.end = p + len;
	for (int k = 0; k < LW_SEGMENT_META__KINDS; k++) {
		uint64_t n, bytes;
		struct rd items;

		if (rd_varint(&r, &n) != LW_OK || n > UINT32_MAX ||
		    rd_varint(&r, &bytes) != LW_OK ||
		    rd_bytes(&r, bytes, &m->list[k]) != LW_OK)
			return LW_ECORRUPT;
		m->list_len[k] = bytes;
		m->nitems[k] = (uint32_t)n;
		items.p = m->list[k];
		items.end = m->list[k] + bytes;
		for (uint64_t i = 0; i < n; i++) {
			struct lw_segment_meta_item it;

			if (meta_item(&items, &it) != LW_OK)
				return LW_ECORRUPT;
		}
		if (items.p != items.end)
			return LW_ECORRUPT;
	}
	return r.p == r.end ? LW_OK : LW_ECORRUPT;
}

int lw_segment_meta_next(const struct lw_segment_meta *m,
			 enum lw_segment_meta_kind kind, size_t *pos,
			 struct lw_segment_meta_item *it)
{
	struct rd r;

	if (*pos >= m->list_len[kind])
		return 0;
	r.p = m->list[kind] + *pos;
	r.end = m->list[kind] + m->list_len[kind];
	if (meta_item(&r, it) != LW_OK)
		return 0;
	*pos = (size_t)(r.p - m->list[kind]);
	return 1;
}

int lw_segment_meta_has(const struct lw_segment_meta *m,
			enum lw_segment_meta_kind kind, const char *name,
			size_t len)
{
	struct lw_segment_meta_item it;
	size_t pos = 0;

	while (lw_segment_meta_next(m, kind, &pos, &it))
		if (it.name.len == len && (len == 0 || memcmp(it.name.ptr, name, len) == 0))
			return 1;
	return 0;
}

/* --- decoder ---------------------------------------------------------- */

/* Per dictionary id and metadata kind: events seen (check_meta). */
struct tally {
	uint64_t n, skew;
};

/* One metadata list item while checking it against the events. */
struct mitem {
	struct lw_str name;
	uint64_t count, skew, seen, seen_skew;
};

struct lw_segment_decoder {
	ZSTD_DCtx *dctx;
	uint8_t *raw;
	size_t raw_cap;
	/* The segment being decoded: its columnar bytes are decompressed
	 * into raw only as far as the columns asked for need (raw_have of
	 * raw_size); frame is the rest of the zstd frame to read, NULL once
	 * detached (the caller's value may be gone). */
	size_t raw_size, raw_have;
	ZSTD_inBuffer frame;
	int streaming;       /* the dctx holds a frame begun with ZSTD_decompressStream */
	int table_ok;        /* col_off/col_len are parsed */
	size_t col_off[C__COUNT], col_len[C__COUNT];
	unsigned done;       /* enum lw_segment_cols filled so far */
	/* Events [0, ev_zero) are zero but for the members in dirty (what
	 * was decoded since they were cleared). */
	uint32_t ev_zero;
	unsigned dirty;
	int dict_ok;
	struct lw_event *ev;
	size_t ev_cap;
	struct lw_field *fields;
	size_t fields_cap;
	struct lw_str *dict;
	size_t dict_cap;
	uint32_t ndict;
	uint32_t count;
	uint32_t ncount;     /* events of the segment being decoded */
	/* Host, zone and app dictionary ids of each event (3 per event, in
	 * lw_segment_meta_kind order), so check_meta counts in O(events). */
	uint32_t *ids;
	size_t ids_cap;
	struct tally *tally;
	size_t tally_cap;
	struct mitem *items;
	size_t items_cap;
	struct lw_segment_header hdr; /* of the last lw_segment_decode */
	int has_hdr;
};

struct lw_segment_decoder *lw_segment_decoder_new(void)
{
	return calloc(1, sizeof(struct lw_segment_decoder));
}

void lw_segment_decoder_free(struct lw_segment_decoder *d)
{
	if (d == NULL)
		return;
	ZSTD_freeDCtx(d->dctx);
	free(d->raw);
	free(d->ev);
	free(d->fields);
	free(d->dict);
	free(d->ids);
	free(d->tally);
	free(d->items);
	free(d);
}

const struct lw_event *lw_segment_decoder_events(const struct lw_segment_decoder *d,
						 uint32_t *n)
{
	*n = d->count;
	return d->ev;
}

static int grow(void **p, size_t *cap, size_t want, size_t elem)
{
	void *np;

	if (want <= *cap)
		return LW_OK;
	np = realloc(*p, want * elem);
	if (np == NULL)
		return LW_ENOMEM;
	*p = np;
	*cap = want;
	return LW_OK;
}

static int corrupt(struct lw_diag *diag, const char *what)
{
	return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0, "corrupt segment: %s",
			   what);
}

static int rd_id(struct rd *r, uint32_t ndict, const struct lw_str *dict,
		 struct lw_str *out, uint32_t *id_out)
{
	uint64_t id;

	if (rd_varint(r, &id) != LW_OK || id >= ndict)
		return LW_ECORRUPT;
	*out = dict[id];
	*id_out = (uint32_t)id;
	return LW_OK;
}

static int rd_str(struct rd *len_col, struct rd *data_col, struct lw_str *out)
{
	const uint8_t *p;
	uint64_t n;

	if (rd_varint(len_col, &n) != LW_OK || n > UINT32_MAX ||
	    rd_bytes(data_col, n, &p) != LW_OK)
		return LW_ECORRUPT;
	out->ptr = (const char *)p;
	out->len = (uint32_t)n;
	return LW_OK;
}

static int load_dict(struct lw_segment_decoder *d, struct rd *lens,
		     struct rd *bytes, uint32_t *ndict)
{
	/* Each string costs at least one length byte: the length column
	 * bounds the entry count before anything is allocated. */
	size_t max = (size_t)(lens->end - lens->p) + 1;
	uint32_t n = 1;

	if (grow((void **)&d->dict, &d->dict_cap, max, sizeof(*d->dict)) != LW_OK)
		return LW_ENOMEM;
	d->dict[0].ptr = "";
	d->dict[0].len = 0;
	while (lens->p < lens->end) {
		if (rd_str(lens, bytes, &d->dict[n]) != LW_OK)
			return LW_ECORRUPT;
		n++;
	}
	if (bytes->p != bytes->end)
		return LW_ECORRUPT;
	*ndict = n;
	return LW_OK;
}

/* Column c of the raw data, as a reader. */
static struct rd col_rd(const struct lw_segment_decoder *d, int c)
{
	struct rd r = {d->raw + d->col_off[c], d->raw + d->col_off[c] + d->col_len[c]};

	return r;
}

/* Decompressed bytes a whole-frame decode may redo rather than stream the
 * rest: about one zstd block. */
#define RESTART_MAX (256u * 1024u)

/* Makes raw[0, need) available: decompresses the frame that far (zstd
 * streams block by block, so the columns after the last one needed,
 * messages above all, are never decompressed when nothing asks for
 * them). */
static int ensure_raw(struct lw_segment_decoder *d, size_t need, struct lw_diag *diag)
{
	ZSTD_outBuffer out;
	size_t zr;

	if (need <= d->raw_have)
		return LW_OK;
	if (d->frame.src == NULL && !d->streaming)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "segment value released before it was decoded");
	if (need == d->raw_size && d->raw_have <= RESTART_MAX && d->frame.src != NULL) {
		/* All of it at once: zstd's direct path, without the stream's
		 * internal buffer and copy; starting over costs less than the
		 * copy when little was decompressed (the column table). */
		zr = ZSTD_decompressDCtx(d->dctx, d->raw, d->raw_size, d->frame.src,
					 d->frame.size);
		if (ZSTD_isError(zr))
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "corrupt segment: zstd: %s", ZSTD_getErrorName(zr));
		if (zr != d->raw_size)
			return corrupt(diag, "short frame");
		d->raw_have = zr;
		d->streaming = 0;
		return LW_OK;
	}
	if (!d->streaming) {
		ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_only);
		d->streaming = 1;
	}
	out.dst = d->raw;
	out.size = need;
	out.pos = d->raw_have;
	while (out.pos < need) {
		size_t before_in = d->frame.pos, before_out = out.pos;

		zr = ZSTD_decompressStream(d->dctx, &out, &d->frame);
		if (ZSTD_isError(zr))
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "corrupt segment: zstd: %s", ZSTD_getErrorName(zr));
		if (d->frame.pos == before_in && out.pos == before_out)
			return d->frame.src == NULL ?
				lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
					    "segment value released before it was decoded") :
				corrupt(diag, "short frame");
	}
	d->raw_have = out.pos;
	return LW_OK;
}

/* Parses the column table at the start of the raw data: count, number
 * of columns, their lengths, which must add up to the rest exactly. */
static int parse_table(struct lw_segment_decoder *d, struct lw_diag *diag)
{
	/* count, ncols and 21 lengths: at most 23 ten-byte varints */
	size_t head = d->raw_size < 23 * 10 ? d->raw_size : 23 * 10;
	struct rd r;
	uint64_t n, ncols, len, off;
	int rc = ensure_raw(d, head, diag);

	if (rc != LW_OK)
		return rc;
	r.p = d->raw;
	r.end = d->raw + head;
	if (rd_varint(&r, &n) != LW_OK || n != d->ncount)
		return corrupt(diag, "event count");
	if (rd_varint(&r, &ncols) != LW_OK || ncols != C__COUNT)
		return corrupt(diag, "column count");
	off = 0;
	for (int i = 0; i < C__COUNT; i++) {
		if (rd_varint(&r, &len) != LW_OK)
			return corrupt(diag, "column table");
		d->col_len[i] = len;
		off += len;
		if (len > d->raw_size || off > d->raw_size)
			return corrupt(diag, "column length");
	}
	off = (uint64_t)(r.p - d->raw);
	for (int i = 0; i < C__COUNT; i++) {
		d->col_off[i] = off;
		off += d->col_len[i];
	}
	if (off != d->raw_size)
		return corrupt(diag, off < d->raw_size ? "trailing bytes" : "column length");
	if ((uint64_t)d->ncount * MIN_EVENT_BYTES > d->raw_size)
		return corrupt(diag, "event count");
	d->table_ok = 1;
	return LW_OK;
}

/* The raw columns each member needs (bit c = column c). */
static uint32_t member_columns(unsigned member)
{
	const uint32_t dict = (1u << C_DICT_LEN) | (1u << C_DICT);

	switch (member) {
	case LW_SEGMENT_COL_TS: return 1u << C_TS;
	case LW_SEGMENT_COL_CREATED: return 1u << C_CREATED;
	case LW_SEGMENT_COL_HOST: return dict | 1u << C_HOST;
	case LW_SEGMENT_COL_APP: return dict | 1u << C_APP;
	case LW_SEGMENT_COL_PROCID: return dict | 1u << C_PROCID;
	case LW_SEGMENT_COL_MSGID: return dict | 1u << C_MSGID;
	case LW_SEGMENT_COL_ZONE: return dict | 1u << C_ZONE;
	case LW_SEGMENT_COL_SOURCE: return dict | 1u << C_SRC;
	case LW_SEGMENT_COL_FACILITY: return 1u << C_FAC;
	case LW_SEGMENT_COL_SEVERITY: return 1u << C_SEV;
	case LW_SEGMENT_COL_FLAGS: return 1u << C_FLAGS;
	case LW_SEGMENT_COL_FIELDS:
		return dict | 1u << C_NFIELDS | 1u << C_FKEY | 1u << C_FVAL_LEN | 1u << C_FVAL;
	case LW_SEGMENT_COL_SD: return 1u << C_SD_LEN | 1u << C_SD;
	case LW_SEGMENT_COL_MESSAGE: return 1u << C_MSG_LEN | 1u << C_MSG;
	default: return 0;
	}
}

static int decode_times(struct lw_segment_decoder *d, int c, size_t member_off)
{
	struct rd r = col_rd(d, c);
	int64_t t = 0;
	uint64_t v;

	for (uint32_t i = 0; i < d->ncount; i++) {
		if (rd_varint(&r, &v) != LW_OK)
			return LW_ECORRUPT;
		t = (int64_t)((uint64_t)t + (uint64_t)unzigzag(v));
		memcpy((char *)&d->ev[i] + member_off, &t, sizeof(t));
	}
	return r.p == r.end ? LW_OK : LW_ECORRUPT;
}

/* A dictionary-id column into the lw_str member at member_off; the host,
 * zone and app ids are also kept for check_meta (kind >= 0). */
static int decode_ids(struct lw_segment_decoder *d, int c, size_t member_off, int kind)
{
	struct rd r = col_rd(d, c);
	struct lw_str s;
	uint32_t id;

	for (uint32_t i = 0; i < d->ncount; i++) {
		if (rd_id(&r, d->ndict, d->dict, &s, &id) != LW_OK)
			return LW_ECORRUPT;
		memcpy((char *)&d->ev[i] + member_off, &s, sizeof(s));
		if (kind >= 0)
			d->ids[3 * (size_t)i + (size_t)kind] = id;
	}
	return r.p == r.end ? LW_OK : LW_ECORRUPT;
}

static int decode_bytes(struct lw_segment_decoder *d, int c, size_t member_off)
{
	struct rd r = col_rd(d, c);

	if ((size_t)(r.end - r.p) != d->ncount)
		return LW_ECORRUPT;
	for (uint32_t i = 0; i < d->ncount; i++)
		memcpy((char *)&d->ev[i] + member_off, r.p + i, 1);
	return LW_OK;
}

static int decode_flags(struct lw_segment_decoder *d)
{
	struct rd r = col_rd(d, C_FLAGS);
	uint64_t v;

	for (uint32_t i = 0; i < d->ncount; i++) {
		if (rd_varint(&r, &v) != LW_OK || v > UINT16_MAX)
			return LW_ECORRUPT;
		d->ev[i].flags = (uint16_t)v;
	}
	return r.p == r.end ? LW_OK : LW_ECORRUPT;
}

static int decode_strs(struct lw_segment_decoder *d, int len_c, int data_c,
		       size_t member_off)
{
	struct rd lens = col_rd(d, len_c), data = col_rd(d, data_c);
	struct lw_str s;

	for (uint32_t i = 0; i < d->ncount; i++) {
		if (rd_str(&lens, &data, &s) != LW_OK)
			return LW_ECORRUPT;
		memcpy((char *)&d->ev[i] + member_off, &s, sizeof(s));
	}
	return lens.p == lens.end && data.p == data.end ? LW_OK : LW_ECORRUPT;
}

static int decode_fields(struct lw_segment_decoder *d)
{
	struct rd nf = col_rd(d, C_NFIELDS), keys = col_rd(d, C_FKEY);
	struct rd lens = col_rd(d, C_FVAL_LEN), vals = col_rd(d, C_FVAL);
	size_t used = 0;
	uint64_t n;
	uint32_t kid;

	/* Each field costs at least one key-id byte. */
	if (grow((void **)&d->fields, &d->fields_cap, d->col_len[C_FKEY] + 1,
		 sizeof(*d->fields)) != LW_OK)
		return LW_ENOMEM;
	for (uint32_t i = 0; i < d->ncount; i++) {
		struct lw_event *ev = &d->ev[i];

		if (rd_varint(&nf, &n) != LW_OK || n > d->fields_cap - used)
			return LW_ECORRUPT;
		ev->nfields = (uint32_t)n;
		ev->fields = n ? d->fields + used : NULL;
		for (uint64_t f = 0; f < n; f++)
			if (rd_id(&keys, d->ndict, d->dict, &ev->fields[f].key, &kid) != LW_OK ||
			    rd_str(&lens, &vals, &ev->fields[f].value) != LW_OK)
				return LW_ECORRUPT;
		used += n;
	}
	return nf.p == nf.end && keys.p == keys.end && lens.p == lens.end &&
	       vals.p == vals.end ? LW_OK : LW_ECORRUPT;
}

#define EV_OFF(m) offsetof(struct lw_event, m)

/* Fills one member of every event from its column(s). */
static int decode_member(struct lw_segment_decoder *d, unsigned member)
{
	switch (member) {
	case LW_SEGMENT_COL_TS: return decode_times(d, C_TS, EV_OFF(timestamp_ns));
	case LW_SEGMENT_COL_CREATED: return decode_times(d, C_CREATED, EV_OFF(created_ns));
	case LW_SEGMENT_COL_HOST: return decode_ids(d, C_HOST, EV_OFF(host), LW_SEGMENT_META_HOST);
	case LW_SEGMENT_COL_APP: return decode_ids(d, C_APP, EV_OFF(app), LW_SEGMENT_META_APP);
	case LW_SEGMENT_COL_PROCID: return decode_ids(d, C_PROCID, EV_OFF(procid), -1);
	case LW_SEGMENT_COL_MSGID: return decode_ids(d, C_MSGID, EV_OFF(msgid), -1);
	case LW_SEGMENT_COL_ZONE: return decode_ids(d, C_ZONE, EV_OFF(zone), LW_SEGMENT_META_ZONE);
	case LW_SEGMENT_COL_SOURCE: return decode_ids(d, C_SRC, EV_OFF(source_address), -1);
	case LW_SEGMENT_COL_FACILITY: return decode_bytes(d, C_FAC, EV_OFF(facility));
	case LW_SEGMENT_COL_SEVERITY: return decode_bytes(d, C_SEV, EV_OFF(severity));
	case LW_SEGMENT_COL_FLAGS: return decode_flags(d);
	case LW_SEGMENT_COL_FIELDS: return decode_fields(d);
	case LW_SEGMENT_COL_SD: return decode_strs(d, C_SD_LEN, C_SD, EV_OFF(structured_data));
	case LW_SEGMENT_COL_MESSAGE: return decode_strs(d, C_MSG_LEN, C_MSG, EV_OFF(message));
	default: return LW_EINVAL;
	}
}

static const char *member_name(unsigned member)
{
	switch (member) {
	case LW_SEGMENT_COL_TS: return "timestamp column";
	case LW_SEGMENT_COL_CREATED: return "created column";
	case LW_SEGMENT_COL_FIELDS: return "field columns";
	case LW_SEGMENT_COL_SD: return "structured data columns";
	case LW_SEGMENT_COL_MESSAGE: return "message columns";
	default: return "event columns";
	}
}

int lw_segment_decode_cols(struct lw_segment_decoder *d, unsigned cols,
			   struct lw_diag *diag)
{
	uint32_t raw_cols = 0;
	size_t need = 0;
	int rc;

	if (!d->table_ok)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "no segment to decode");
	cols &= LW_SEGMENT_COL_ALL & ~d->done;
	if (cols == 0) {
		d->count = d->ncount;
		return LW_OK;
	}
	for (unsigned m = 1; m <= LW_SEGMENT_COL_MESSAGE; m <<= 1)
		if (cols & m)
			raw_cols |= member_columns(m);
	for (int c = 0; c < C__COUNT; c++)
		if ((raw_cols & (1u << c)) && d->col_off[c] + d->col_len[c] > need)
			need = d->col_off[c] + d->col_len[c];
	rc = ensure_raw(d, need, diag);
	if (rc != LW_OK)
		goto fail;
	if ((raw_cols & (1u << C_DICT)) && !d->dict_ok) {
		struct rd lens = col_rd(d, C_DICT_LEN), bytes = col_rd(d, C_DICT);

		rc = load_dict(d, &lens, &bytes, &d->ndict);
		if (rc != LW_OK) {
			rc = rc == LW_ENOMEM ? rc : corrupt(diag, "dictionary");
			goto fail;
		}
		d->dict_ok = 1;
	}
	for (unsigned m = 1; m <= LW_SEGMENT_COL_MESSAGE; m <<= 1) {
		if (!(cols & m))
			continue;
		d->dirty |= m; /* even half-written, it must be cleared next time */
		rc = decode_member(d, m);
		if (rc != LW_OK) {
			rc = rc == LW_ENOMEM ? rc : corrupt(diag, member_name(m));
			goto fail;
		}
		d->done |= m;
	}
	d->count = d->ncount;
	return LW_OK;
fail:
	/* nothing half-decoded is ever handed out */
	d->count = 0;
	d->table_ok = 0;
	d->done = 0;
	return rc;
}

/* Where each member bit lives in struct lw_event (FIELDS: two places). */
static void member_span(unsigned member, size_t off[2], size_t len[2])
{
	off[1] = len[1] = 0;
	switch (member) {
	case LW_SEGMENT_COL_TS: off[0] = EV_OFF(timestamp_ns); len[0] = 8; break;
	case LW_SEGMENT_COL_CREATED: off[0] = EV_OFF(created_ns); len[0] = 8; break;
	case LW_SEGMENT_COL_HOST: off[0] = EV_OFF(host); len[0] = sizeof(struct lw_str); break;
	case LW_SEGMENT_COL_APP: off[0] = EV_OFF(app); len[0] = sizeof(struct lw_str); break;
	case LW_SEGMENT_COL_PROCID: off[0] = EV_OFF(procid); len[0] = sizeof(struct lw_str); break;
	case LW_SEGMENT_COL_MSGID: off[0] = EV_OFF(msgid); len[0] = sizeof(struct lw_str); break;
	case LW_SEGMENT_COL_ZONE: off[0] = EV_OFF(zone); len[0] = sizeof(struct lw_str); break;
	case LW_SEGMENT_COL_SOURCE:
		off[0] = EV_OFF(source_address);
		len[0] = sizeof(struct lw_str);
		break;
	case LW_SEGMENT_COL_FACILITY: off[0] = EV_OFF(facility); len[0] = 1; break;
	case LW_SEGMENT_COL_SEVERITY: off[0] = EV_OFF(severity); len[0] = 1; break;
	case LW_SEGMENT_COL_FLAGS: off[0] = EV_OFF(flags); len[0] = 2; break;
	case LW_SEGMENT_COL_FIELDS:
		off[0] = EV_OFF(nfields);
		len[0] = 4;
		off[1] = EV_OFF(fields);
		len[1] = sizeof(struct lw_field *);
		break;
	case LW_SEGMENT_COL_SD:
		off[0] = EV_OFF(structured_data);
		len[0] = sizeof(struct lw_str);
		break;
	default: off[0] = EV_OFF(message); len[0] = sizeof(struct lw_str); break;
	}
}

/* Zeroes the len-byte member at off of events [0, n). The sizes are
 * spelled out so each memset is a store, not a call per event. */
static void clear_member(struct lw_event *ev, uint32_t n, size_t off, size_t len)
{
	for (uint32_t i = 0; i < n; i++) {
		char *p = (char *)&ev[i] + off;

		switch (len) {
		case 16: memset(p, 0, 16); break;
		case 8: memset(p, 0, 8); break;
		case 4: memset(p, 0, 4); break;
		case 2: memset(p, 0, 2); break;
		default: memset(p, 0, 1); break;
		}
	}
}

/* Makes events [0, count) all zero. Slots below the high-water mark are
 * zero but for the members the last segment filled, so a scan that reads
 * one column clears one member per event instead of whole events. */
static void zero_members(struct lw_segment_decoder *d, uint32_t count)
{
	size_t off[2], len[2];

	if (d->dirty == LW_SEGMENT_COL_ALL) {
		memset(d->ev, 0, (size_t)(count < d->ev_zero ? count : d->ev_zero) * sizeof(*d->ev));
	} else {
		for (unsigned m = 1; m <= LW_SEGMENT_COL_MESSAGE; m <<= 1) {
			if (!(d->dirty & m))
				continue;
			member_span(m, off, len);
			for (int k = 0; k < 2 && len[k]; k++)
				clear_member(d->ev, d->ev_zero, off[k], len[k]);
		}
	}
	if (count > d->ev_zero)
		memset(d->ev + d->ev_zero, 0, (size_t)(count - d->ev_zero) * sizeof(*d->ev));
	/* after a whole-event clear only [0, count) is known zero */
	if (d->dirty == LW_SEGMENT_COL_ALL || count > d->ev_zero)
		d->ev_zero = count;
	d->dirty = 0;
}

/* Forgets the previous segment and sizes the buffers for one of count
 * events and raw_size columnar bytes. */
static int decode_reset(struct lw_segment_decoder *d, size_t raw_size, uint32_t count)
{
	d->count = 0;
	d->ncount = count;
	d->has_hdr = 0;
	d->table_ok = 0;
	d->dict_ok = 0;
	d->ndict = 0;
	d->done = 0;
	d->streaming = 0;
	d->raw_size = raw_size;
	d->raw_have = 0;
	memset(&d->frame, 0, sizeof(d->frame));
	if (grow((void **)&d->raw, &d->raw_cap, raw_size + 1, 1) != LW_OK ||
	    grow((void **)&d->ev, &d->ev_cap, (size_t)count + 1, sizeof(*d->ev)) != LW_OK ||
	    grow((void **)&d->ids, &d->ids_cap, 3 * ((size_t)count + 1),
		 sizeof(*d->ids)) != LW_OK)
		return LW_ENOMEM;
	zero_members(d, count);
	return LW_OK;
}

int lw_segment_decode_raw(struct lw_segment_decoder *d, const void *raw,
			  size_t len, uint32_t count, struct lw_diag *diag)
{
	int rc;

	d->count = 0;
	d->has_hdr = 0;
	if (len > LW_SEGMENT_MAX_RAW)
		return corrupt(diag, "too large");
	/* count is the caller's claim: bound it by the bytes before sizing */
	if ((uint64_t)count * MIN_EVENT_BYTES > len)
		return corrupt(diag, "event count");
	rc = decode_reset(d, len, count);
	if (rc != LW_OK)
		return rc;
	if (len)
		memcpy(d->raw, raw, len);
	d->raw_have = len;
	rc = parse_table(d, diag);
	if (rc == LW_OK)
		rc = lw_segment_decode_cols(d, LW_SEGMENT_COL_ALL, diag);
	return rc;
}

int lw_segment_decode_begin(struct lw_segment_decoder *d, const void *value,
			    size_t len, struct lw_segment_header *hdr,
			    struct lw_diag *diag)
{
	struct lw_segment_header h;
	const uint8_t *frame = (const uint8_t *)value + LW_SEGMENT_HEADER_LEN;
	unsigned long long csize;
	int rc;

	d->count = 0;
	d->has_hdr = 0;
	d->table_ok = 0;
	rc = lw_segment_header_parse(value, len, &h, diag);
	if (rc != LW_OK)
		return rc;
	csize = ZSTD_getFrameContentSize(frame, h.comp_size);
	if (csize != h.raw_size)
		return corrupt(diag, "frame content size differs from header");
	if (d->dctx == NULL) {
		d->dctx = ZSTD_createDCtx();
		if (d->dctx == NULL)
			return LW_ENOMEM;
	}
	rc = decode_reset(d, h.raw_size, h.count);
	if (rc != LW_OK)
		return rc;
	d->frame.src = frame;
	d->frame.size = h.comp_size;
	d->frame.pos = 0;
	rc = parse_table(d, diag);
	if (rc != LW_OK)
		return rc;
	d->hdr = h;
	if (hdr != NULL)
		*hdr = h;
	return LW_OK;
}

void lw_segment_decoder_detach(struct lw_segment_decoder *d)
{
	memset(&d->frame, 0, sizeof(d->frame));
}

int lw_segment_decode_column(struct lw_segment_decoder *d, unsigned member,
			     const char **p, size_t *len, struct lw_diag *diag)
{
	int c = member == LW_SEGMENT_COL_MESSAGE ? C_MSG :
		member == LW_SEGMENT_COL_SD ? C_SD : -1;
	int rc;

	if (c < 0 || !d->table_ok)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "no such column to read");
	rc = ensure_raw(d, d->col_off[c] + d->col_len[c], diag);
	if (rc != LW_OK)
		return rc;
	*p = (const char *)d->raw + d->col_off[c];
	*len = d->col_len[c];
	return LW_OK;
}

int lw_segment_decode(struct lw_segment_decoder *d, const void *value,
		      size_t len, struct lw_segment_header *hdr,
		      struct lw_diag *diag)
{
	int rc = lw_segment_decode_begin(d, value, len, hdr, diag);

	if (rc == LW_OK)
		rc = lw_segment_decode_cols(d, LW_SEGMENT_COL_ALL, diag);
	lw_segment_decoder_detach(d);
	if (rc != LW_OK)
		return rc;
	d->has_hdr = 1;
	return LW_OK;
}

/* --- metadata check (verify) ------------------------------------------ */

static const char *const kind_name[LW_SEGMENT_META__KINDS] = {"host", "zone", "app"};

static int str_cmp(struct lw_str a, struct lw_str b)
{
	uint32_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.ptr, b.ptr, n) : 0;

	if (c != 0)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

static int mitem_cmp(const void *a, const void *b)
{
	return str_cmp(((const struct mitem *)a)->name,
		       ((const struct mitem *)b)->name);
}

/* Header fields and time range, text bytes of the decoded events. */
static int check_meta_fixed(const struct lw_segment_decoder *d,
			    const struct lw_segment_meta *m, struct lw_diag *diag)
{
	const struct lw_segment_header *h = &d->hdr;
	int64_t lo = INT64_MAX, hi = INT64_MIN, newest = INT64_MIN;
	uint64_t text = 0;

	if (m->count != h->count || m->min_ts != h->min_ts ||
	    m->max_ts != h->max_ts || m->raw_size != h->raw_size ||
	    m->comp_size != h->comp_size)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "metadata record does not match the segment header");
	for (uint32_t i = 0; i < d->count; i++) {
		const struct lw_event *ev = &d->ev[i];

		lo = ev->timestamp_ns < lo ? ev->timestamp_ns : lo;
		hi = ev->timestamp_ns > hi ? ev->timestamp_ns : hi;
		newest = ev->created_ns > newest ? ev->created_ns : newest;
		/* what lw_segment_builder_add counts as text bytes */
		text += 24u + ev->host.len + ev->app.len + ev->procid.len +
			ev->msgid.len + ev->message.len + ev->structured_data.len;
	}
	if (d->count > 0 && (lo != h->min_ts || hi != h->max_ts))
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "time range [%lld, %lld] differs from the events' [%lld, %lld]",
				   (long long)h->min_ts, (long long)h->max_ts,
				   (long long)lo, (long long)hi);
	if (d->count > 0 && newest != m->max_created)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "metadata says the newest arrival is %lld, the events' is %lld",
				   (long long)m->max_created, (long long)newest);
	if (text != m->text_bytes)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "metadata says %llu text bytes, the events have %llu",
				   (unsigned long long)m->text_bytes,
				   (unsigned long long)text);
	return LW_OK;
}

/* Loads list k of m into d->items, sorted by name; rejects duplicates. */
static int load_items(struct lw_segment_decoder *d, const struct lw_segment_meta *m,
		      int k, size_t *n, struct lw_diag *diag)
{
	struct lw_segment_meta_item it;
	size_t pos = 0;

	*n = 0;
	if (grow((void **)&d->items, &d->items_cap, (size_t)m->nitems[k] + 1,
		 sizeof(*d->items)) != LW_OK)
		return LW_ENOMEM;
	while (*n < m->nitems[k] && lw_segment_meta_next(m, (enum lw_segment_meta_kind)k,
							   &pos, &it)) {
		struct mitem *e = &d->items[(*n)++];

		e->name = it.name;
		e->count = it.count;
		e->skew = it.skew;
		e->seen = e->seen_skew = 0;
	}
	qsort(d->items, *n, sizeof(*d->items), mitem_cmp);
	for (size_t i = 1; i < *n; i++)
		if (str_cmp(d->items[i - 1].name, d->items[i].name) == 0)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "%s '%.*s' listed twice in the metadata record",
					   kind_name[k], (int)(d->items[i].name.len > 64 ? 64 : d->items[i].name.len),
					   d->items[i].name.ptr);
	return LW_OK;
}

/* Compares list k with the tallies of d's events for kind k. */
static int check_list(struct lw_segment_decoder *d, const struct lw_segment_meta *m,
		      int k, struct lw_diag *diag)
{
	const struct tally *t = d->tally + (size_t)k * d->ndict;
	size_t n;
	int rc = load_items(d, m, k, &n, diag);

	if (rc != LW_OK)
		return rc;
	for (uint32_t id = 0; id < d->ndict; id++) {
		struct mitem key = {.name = d->dict[id]}, *e;

		if (t[id].n == 0)
			continue;
		e = n ? bsearch(&key, d->items, n, sizeof(*d->items), mitem_cmp) : NULL;
		if (e == NULL)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "%s '%.*s' (%llu events) is not in the metadata record",
					   kind_name[k], (int)(key.name.len > 64 ? 64 : key.name.len),
					   key.name.ptr, (unsigned long long)t[id].n);
		e->seen += t[id].n;
		e->seen_skew += t[id].skew;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mitem *e = &d->items[i];

		if (e->seen != e->count || e->seen_skew != e->skew)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "metadata record says %s '%.*s' has %llu events (%llu clock-skewed), the segment has %llu (%llu)",
					   kind_name[k], (int)(e->name.len > 64 ? 64 : e->name.len),
					   e->name.ptr, (unsigned long long)e->count,
					   (unsigned long long)e->skew,
					   (unsigned long long)e->seen,
					   (unsigned long long)e->seen_skew);
	}
	return LW_OK;
}

int lw_segment_decoder_check_meta(struct lw_segment_decoder *d,
				  const struct lw_segment_meta *m,
				  struct lw_diag *diag)
{
	size_t nt;
	int rc;

	if (!d->has_hdr)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "nothing decoded");
	rc = check_meta_fixed(d, m, diag);
	if (rc != LW_OK)
		return rc;
	nt = (size_t)LW_SEGMENT_META__KINDS * d->ndict;
	if (grow((void **)&d->tally, &d->tally_cap, nt + 1, sizeof(*d->tally)) != LW_OK)
		return LW_ENOMEM;
	memset(d->tally, 0, nt * sizeof(*d->tally));
	for (uint32_t i = 0; i < d->count; i++) {
		const uint32_t *ids = d->ids + 3 * (size_t)i;

		for (int k = 0; k < LW_SEGMENT_META__KINDS; k++)
			d->tally[(size_t)k * d->ndict + ids[k]].n++;
		/* the builder counts clock skew per host only */
		if (d->ev[i].flags & LW_EVENT_CLOCK_SKEW)
			d->tally[ids[LW_SEGMENT_META_HOST]].skew++;
	}
	for (int k = 0; k < LW_SEGMENT_META__KINDS; k++) {
		rc = check_list(d, m, k, diag);
		if (rc != LW_OK)
			return rc;
	}
	return LW_OK;
}
