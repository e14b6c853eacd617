/* Small checked records (prefix lw_rec): the framing shared by the
 * console's records (users, tokens, audit, casework; docs/storage.md
 * "Console records"): a 16-byte header, then fields appended
 * little-endian and strings as u32 length + bytes.
 *
 *   0       4        6     8                        16
 *   +-------+--------+-----+------------------------+---- fields ...
 *   | magic | ver u16| 0 0 | FNV-1a 64 of [16, len) |
 *
 * A reader checks magic, version, padding and checksum, then takes each
 * field through a cursor that never reads past the end: a truncated or
 * flipped record is refused (LW_ECORRUPT), never a crash.
 * Threads: plain functions on caller data. */
#ifndef LW_STORE_REC_H
#define LW_STORE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/event.h"

#define LW_REC_HEADER 16

/* Starts a record at the end of out; returns its start offset. */
size_t lw_rec_begin(struct lw_buf *out, const char magic[4], uint16_t version);
void lw_rec_u8(struct lw_buf *out, uint8_t v);
void lw_rec_u16(struct lw_buf *out, uint16_t v);
void lw_rec_u32(struct lw_buf *out, uint32_t v);
void lw_rec_u64(struct lw_buf *out, uint64_t v);
/* len bytes of s, cut to max. */
void lw_rec_str(struct lw_buf *out, const char *s, size_t len, uint32_t max);
/* Writes the checksum of the record that starts at start. */
void lw_rec_seal(struct lw_buf *out, size_t start);

struct lw_rec_cursor {
	const uint8_t *p, *end;
	int bad; /* a take ran past the end, or a string past its ceiling */
};

/* Checks the header; LW_OK with c at the first field, else LW_ECORRUPT. */
int lw_rec_open(const void *rec, size_t len, const char magic[4], uint16_t version,
		struct lw_rec_cursor *c);
/* n-byte little-endian unsigned (n = 1, 2, 4, 8); 0 and bad set past the end. */
uint64_t lw_rec_take(struct lw_rec_cursor *c, int n);
/* A string view into the record; empty and bad set when it does not fit
 * or is longer than max. */
struct lw_str lw_rec_take_str(struct lw_rec_cursor *c, uint32_t max);
/* LW_OK when no take failed and the record ended exactly there. */
int lw_rec_close(const struct lw_rec_cursor *c);

/* Big-endian u64 keys (ids, times): byte order = numeric order. */
void lw_rec_key64(uint8_t out[8], uint64_t v);
uint64_t lw_rec_key64_get(const uint8_t *p);

#endif
