/* Segment encoding (prefix lw_segment): the columnar builder declared in
 * store/store.h, the stored header, the per-segment metadata record, and
 * the bounds-checked decoder. No LMDB here; store.c writes what this
 * module produces. Format details and measurements: docs/storage.md.
 *
 * Threads: a builder belongs to the writer thread; a decoder to whichever
 * thread reads. Neither is shared.
 *
 * Stored value of one segment (all integers little-endian):
 *
 *   0        4        6        8                16       20       24
 *   +--------+--------+--------+----------------+--------+--------+
 *   | "LWSG" | version| hdr_len| id (u64)       | count  | flags  |
 *   +--------+--------+--------+----------------+--------+--------+
 *   24               32               40               48               56
 *   +----------------+----------------+----------------+----------------+
 *   | min_ts (i64 ns)| max_ts (i64 ns)| raw_size (u64) | comp_size (u64)|
 *   +----------------+----------------+----------------+----------------+
 *   56                                88                               120
 *   +---------------------------------+---------------------------------+
 *   | prev_chain (32)                 | chain (32)                      |
 *   +---------------------------------+---------------------------------+
 *   120: zstd frame of comp_size bytes (with content size and checksum)
 *
 *   chain = SHA-256(prev_chain       32 bytes
 *                   || bytes[0, 56)   every header field but the hashes
 *                   || meta record    the segmeta value, meta_len bytes
 *                   || zstd frame)    comp_size bytes
 *
 * Bytes [0, 56) hold every header field except the two hashes, so the id
 * (order), the counts, the time range and the sizes are all covered. The
 * metadata record is what queries use to skip a segment without
 * decompressing it, so it is chained too (version 2; version 1 chained
 * only header and frame and is refused). The boundary between record and
 * frame is fixed by comp_size, which is inside the hashed header. */
#ifndef LW_STORE_SEGMENT_H
#define LW_STORE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/event.h"
#include "core/sha256.h"
#include "store/store.h"

#define LW_SEGMENT_MAGIC "LWSG"
/* 2: the chain covers the metadata record. Other versions are refused,
 * never read with the wrong rules. */
#define LW_SEGMENT_VERSION 2
#define LW_SEGMENT_HEADER_LEN 120
#define LW_SEGMENT_CHAINED_LEN 56 /* header bytes covered by the chain */
/* flags: the chain value is HMAC-SHA-256 under the store's ratcheted key
 * (lw_segment_chain_keyed, docs/integrity.md), not plain SHA-256. */
#define LW_SEGMENT_FLAG_KEYED 1u
#define LW_SEGMENT_KEY_LEN 32
/* Decoder ceiling on raw_size: a corrupt header must not make a reader
 * allocate gigabytes. Builders refuse to grow past it (LW_ETOOBIG). */
#define LW_SEGMENT_MAX_RAW (1024u * 1024u * 1024u)
/* zstd level: see docs/storage.md for the measurement behind it. */
#define LW_SEGMENT_DEFAULT_LEVEL 1

struct lw_segment_header {
	uint16_t version;
	uint16_t header_len;
	uint64_t id;
	uint32_t count;
	uint32_t flags; /* LW_SEGMENT_FLAG_*; others are refused */
	int64_t min_ts;
	int64_t max_ts;
	uint64_t raw_size;  /* bytes of the columnar data inside the frame */
	uint64_t comp_size; /* bytes of the zstd frame after the header */
	uint8_t prev_chain[LW_SHA256_LEN];
	uint8_t chain[LW_SHA256_LEN];
};

/* Serialises h into out[0, LW_SEGMENT_HEADER_LEN). */
void lw_segment_header_write(const struct lw_segment_header *h,
			     uint8_t out[LW_SEGMENT_HEADER_LEN]);
/* Parses and checks the header of a stored value of len bytes: magic,
 * version, header length, comp_size == len - header_len, raw_size within
 * LW_SEGMENT_MAX_RAW. LW_OK or LW_ECORRUPT (diag.detail says which; a
 * version other than LW_SEGMENT_VERSION is "segment format version N not
 * supported"). */
int lw_segment_header_parse(const void *value, size_t len,
			    struct lw_segment_header *h, struct lw_diag *diag);
/* Computes SHA-256(h->prev_chain || header bytes [0,56) || meta || frame)
 * into out; meta is the segment's metadata record as stored in segmeta.
 * Everything is borrowed for the call. LW_OK, LW_ENOMEM or LW_ECORRUPT
 * (OpenSSL failure). */
int lw_segment_chain(const struct lw_segment_header *h, const void *meta,
		     size_t meta_len, const void *frame, size_t frame_len,
		     uint8_t out[LW_SHA256_LEN]);

/* The keyed chain of a LW_SEGMENT_FLAG_KEYED segment: HMAC-SHA-256 under
 * key (LW_SEGMENT_KEY_LEN bytes, K_id of store/integrity.h) over
 * "logward/v1/segment" || the same bytes lw_segment_chain hashes. key ==
 * NULL is lw_segment_chain. Same returns. */
int lw_segment_chain_keyed(const struct lw_segment_header *h, const uint8_t *key,
			   const void *meta, size_t meta_len, const void *frame,
			   size_t frame_len, uint8_t out[LW_SHA256_LEN]);

/* --- builder (the rest of its API is in store/store.h) --------------- */

/* zstd level for the next seal (1..19; 0 means the default). */
void lw_segment_builder_set_level(struct lw_segment_builder *b, int level);
/* Forgets every event but keeps the memory for the next segment. */
void lw_segment_builder_reset(struct lw_segment_builder *b);
/* About the size of the added events as syslog lines: message, SD,
 * host, app, procid and msgid bytes plus 24 per event for the timestamp,
 * PRI and separators (extra fields, zone and source address are derived,
 * not input, so they do not count). What `stats` calls raw bytes. */
uint64_t lw_segment_builder_text_bytes(const struct lw_segment_builder *b);

/* The result of lw_segment_builder_seal. The pointers are owned by the
 * builder and valid until its next add, seal, reset or free. */
struct lw_segment_sealed {
	uint8_t *value;      /* LW_SEGMENT_HEADER_LEN bytes for the header
			      * (left for the caller to write), then the
			      * zstd frame */
	size_t value_len;
	struct lw_segment_header hdr; /* count, min/max, sizes filled; the
				       * caller sets id and the hashes */
	const uint8_t *meta;  /* the metadata record (lw_segment_meta_parse) */
	size_t meta_len;
	uint64_t text_bytes;
};

/* Compresses the events added so far into one zstd frame and builds the
 * segment's metadata record. The builder keeps its events (seal again,
 * or reset after a successful commit). Errors: LW_EINVAL (no events),
 * LW_ENOMEM, LW_ECOMPRESS (diag.detail has the zstd error). */
int lw_segment_builder_seal(struct lw_segment_builder *b,
			    struct lw_segment_sealed *out,
			    struct lw_diag *diag);

/* --- metadata record -------------------------------------------------- */

/* Stored per segment id in the segmeta database, so that queries and
 * stats can skip or count a segment without decompressing it:
 *
 *   u8 version(2) u8[3] 0  u32 count  i64 min_ts  i64 max_ts
 *   u64 raw_size  u64 text_bytes  u64 comp_size  i64 max_created
 *                                                           (56 bytes, LE)
 *   then 3 lists (hosts, zones, apps), each:
 *     varint nitems, varint list_bytes,
 *     nitems x { varint len, len bytes name, varint count, varint skew }
 *   skew = events of that name flagged LW_EVENT_CLOCK_SKEW (0 for apps). */
/* 2: max_created (the newest event.created, what retention's max_age
 * compares: arrival, not event time, so importing old logs does not
 * delete them). Version 1 records are refused. */
#define LW_SEGMENT_META_VERSION 2
#define LW_SEGMENT_META_FIXED 56

enum lw_segment_meta_kind {
	LW_SEGMENT_META_HOST = 0,
	LW_SEGMENT_META_ZONE = 1,
	LW_SEGMENT_META_APP = 2,
	LW_SEGMENT_META__KINDS = 3
};

struct lw_segment_meta {
	uint32_t count;
	int64_t min_ts, max_ts;
	uint64_t raw_size, text_bytes, comp_size;
	int64_t max_created; /* newest event.created (receive time) */
	const uint8_t *list[LW_SEGMENT_META__KINDS]; /* views into the record */
	size_t list_len[LW_SEGMENT_META__KINDS];
	uint32_t nitems[LW_SEGMENT_META__KINDS];
};

struct lw_segment_meta_item {
	struct lw_str name; /* view into the record */
	uint64_t count;
	uint64_t skew;
};

/* Parses and fully validates a record (borrowed: m points into it).
 * LW_OK or LW_ECORRUPT. */
int lw_segment_meta_parse(const void *rec, size_t len,
			  struct lw_segment_meta *m);
/* Iterates a list: *pos starts at 0. Returns 1 with *it filled, 0 at the
 * end. Only for records that lw_segment_meta_parse accepted. */
int lw_segment_meta_next(const struct lw_segment_meta *m,
			 enum lw_segment_meta_kind kind, size_t *pos,
			 struct lw_segment_meta_item *it);
/* 1 when the list holds name (exact bytes), else 0. O(items). */
int lw_segment_meta_has(const struct lw_segment_meta *m,
			enum lw_segment_meta_kind kind, const char *name,
			size_t len);

/* --- decoder ---------------------------------------------------------- */

struct lw_segment_decoder;

/* NULL on ENOMEM. Free with lw_segment_decoder_free (NULL allowed). */
struct lw_segment_decoder *lw_segment_decoder_new(void);
void lw_segment_decoder_free(struct lw_segment_decoder *d);

/* Decodes one stored value (header + frame, borrowed for the call: it may
 * point into an LMDB read txn). Every length is bounds-checked: any
 * inconsistency is LW_ECORRUPT, never a crash or an over-read. Other
 * errors: LW_ENOMEM. On success the events are available through
 * lw_segment_decoder_events() until the next decode or free; their
 * strings point into the decoder's own buffer, not into value. hdr may be
 * NULL. Does not check the chain hash (that is lw_verify's job). */
int lw_segment_decode(struct lw_segment_decoder *d, const void *value,
		      size_t len, struct lw_segment_header *hdr,
		      struct lw_diag *diag);

/* Event members a selective decode fills (lw_segment_decode_cols). */
enum lw_segment_cols {
	LW_SEGMENT_COL_TS = 1u << 0,        /* timestamp_ns */
	LW_SEGMENT_COL_CREATED = 1u << 1,   /* created_ns */
	LW_SEGMENT_COL_HOST = 1u << 2,
	LW_SEGMENT_COL_APP = 1u << 3,
	LW_SEGMENT_COL_PROCID = 1u << 4,
	LW_SEGMENT_COL_MSGID = 1u << 5,
	LW_SEGMENT_COL_ZONE = 1u << 6,
	LW_SEGMENT_COL_SOURCE = 1u << 7,    /* source_address */
	LW_SEGMENT_COL_FACILITY = 1u << 8,
	LW_SEGMENT_COL_SEVERITY = 1u << 9,
	LW_SEGMENT_COL_FLAGS = 1u << 10,
	LW_SEGMENT_COL_FIELDS = 1u << 11,   /* nfields, fields */
	LW_SEGMENT_COL_SD = 1u << 12,       /* structured_data */
	LW_SEGMENT_COL_MESSAGE = 1u << 13,
	LW_SEGMENT_COL_ALL = (1u << 14) - 1
};

/* A selective decode, for queries that need only some members (a count
 * per host reads the host column; a search in messages reads the message
 * column). lw_segment_decode_begin checks the header and reads the column
 * table; each lw_segment_decode_cols then fills the members asked for in
 * every event, decompressing the frame only as far as the last column
 * they need (messages, the bulk of a segment, are stored last) and
 * checking each column it reads as lw_segment_decode does. Members not
 * decoded are zero. value must stay valid until lw_segment_decoder_detach
 * (or the next begin); after detaching, a call that would need more of
 * the frame is LW_EINVAL. Same errors as lw_segment_decode; after an
 * error nothing is decoded (count 0) until the next begin. */
int lw_segment_decode_begin(struct lw_segment_decoder *d, const void *value,
			    size_t len, struct lw_segment_header *hdr,
			    struct lw_diag *diag);
int lw_segment_decode_cols(struct lw_segment_decoder *d, unsigned cols,
			   struct lw_diag *diag);
void lw_segment_decoder_detach(struct lw_segment_decoder *d);
/* The bytes of the message (LW_SEGMENT_COL_MESSAGE) or structured data
 * (LW_SEGMENT_COL_SD) column of the segment begun in d: every event's
 * value back to back in event order, so one search covers a whole
 * segment before any event is decoded. Decompresses that far when
 * needed; the bytes stay valid until the next begin. LW_OK, LW_EINVAL
 * (no segment begun, another member), or lw_segment_decode_cols's
 * errors. */
int lw_segment_decode_column(struct lw_segment_decoder *d, unsigned member,
			     const char **p, size_t *len, struct lw_diag *diag);
/* Decodes a frame-less raw columnar buffer (what the frame decompresses
 * to); used by the fuzz target so it reaches the column parser directly.
 * raw is copied. Same errors as lw_segment_decode. */
int lw_segment_decode_raw(struct lw_segment_decoder *d, const void *raw,
			  size_t len, uint32_t count, struct lw_diag *diag);
/* The decoded events (count in *n); owned by d. */
const struct lw_event *lw_segment_decoder_events(const struct lw_segment_decoder *d,
						 uint32_t *n);

/* Checks that the metadata record m (parsed, borrowed) describes the
 * segment d decoded last: count, time range, raw_size, text_bytes and
 * comp_size, and each list (hosts, zones, apps) names exactly the values
 * of the decoded events with their counts and clock-skew counts, no name
 * twice. LW_OK, LW_ECORRUPT (diag.detail names the first difference),
 * LW_ENOMEM. O(events + names log names); used by lw_verify. */
int lw_segment_decoder_check_meta(struct lw_segment_decoder *d,
				  const struct lw_segment_meta *m,
				  struct lw_diag *diag);

#endif
