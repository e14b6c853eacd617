/* Many literals, one pass (prefix lw_litscan).
 *
 * A log line whose program name tells nothing (a forwarder's tag chosen by
 * the operator, a file imported with `ingest`) must still reach the
 * decoders written for it. Trying every decoder's prefilter with memmem
 * costs one search per decoder; this set finds which of its literals occur
 * in one pass over the line: at every LW_LITSCAN_STRIDE-th position the
 * next 4 bytes are hashed into a 64 Ki-bit filter (8 KiB), and only a hit
 * looks at the literals holding those 4 bytes. A literal of length
 * LW_LITSCAN_MIN or more has one of its first LW_LITSCAN_STRIDE 4-byte
 * pieces at a scanned position wherever it occurs, so each piece is filed
 * and a hit compares the whole literal at the piece's offset. The cost is
 * one load, one multiply and one bit test per LW_LITSCAN_STRIDE bytes,
 * whatever the number of literals; crafted input can make every scanned
 * position a hit only by repeating a literal's 4 bytes, and then each hit
 * compares at most the literals sharing them.
 *
 * Literals are byte strings of at least LW_LITSCAN_MIN bytes, compared
 * exactly (case-sensitive). Each carries a value (a decoder index); find
 * sets the bit of every value whose literal occurs.
 *
 * Threads: build once, then lw_litscan_find from any thread. */
#ifndef LW_CORRELATOR_LITSCAN_H
#define LW_CORRELATOR_LITSCAN_H

#include <stddef.h>
#include <stdint.h>

#define LW_LITSCAN_STRIDE 3
#define LW_LITSCAN_MIN (LW_LITSCAN_STRIDE + 3)

struct lw_litscan;

/* NULL on ENOMEM. */
struct lw_litscan *lw_litscan_new(void);
/* NULL is a no-op. */
void lw_litscan_free(struct lw_litscan *ls);

/* Adds lit[0..len) (copied) with value. LW_OK, LW_EINVAL (shorter than
 * LW_LITSCAN_MIN, or after build) or LW_ENOMEM. */
int lw_litscan_add(struct lw_litscan *ls, const char *lit, size_t len,
		   uint32_t value);
/* Freezes the set. LW_OK or LW_ENOMEM. */
int lw_litscan_build(struct lw_litscan *ls);

/* Number of literals added. */
uint32_t lw_litscan_count(const struct lw_litscan *ls);

/* For every literal occurring in text[0..len), sets bit `value` of bits
 * (bits[value / 64] |= 1 << value % 64); bits must cover every value
 * added. Bits already set stay set. */
void lw_litscan_find(const struct lw_litscan *ls, const char *text, size_t len,
		     uint64_t *bits);

#endif
