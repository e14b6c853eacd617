/* Chain verification (prefix lw_verify): recomputes every segment's
 * chain hash (header + metadata record + frame) and checks ids, links and
 * the chain head in meta, then decodes every segment and checks its
 * metadata record against the events. Reader thread; one read snapshot
 * for the whole walk, so the result is consistent even while a writer
 * appends. O(stored bytes) of SHA-256 plus O(raw bytes) of zstd and
 * column decoding (speed: docs/storage.md). */
#ifndef LW_STORE_VERIFY_H
#define LW_STORE_VERIFY_H

#include <stdint.h>

#include "core/err.h"
#include "core/sha256.h"
#include "store/store.h"

struct lw_verify_result {
	uint64_t segments;            /* segments that verified */
	uint64_t events;              /* events in them */
	uint8_t head[LW_SHA256_LEN];  /* chain hash of the last good one */
	uint64_t bad_id;              /* first broken segment; 0 = none */
	char reason[256];             /* why bad_id is broken */
};

/* Walks the chain of st. Returns LW_OK when everything verifies,
 * LW_ECORRUPT when res->bad_id/reason name the first broken segment:
 *   - a byte changed in a header, metadata record or frame (chain hash
 *     mismatch),
 *   - a missing segment (gap in ids, or the head names a newer one),
 *   - reordered segments (header id differs from the key, or the
 *     prev-hash link breaks),
 *   - a segment that does not decode, or a metadata record whose
 *     counts, time range or host/zone/app lists disagree with the
 *     decoded events (what queries skip segments by),
 *   - a chain head in meta that does not match the last segment;
 * or LW_ESTORE/LW_ENOMEM for failures to read (diag has the text). */
int lw_verify_run(struct lw_store *st, struct lw_verify_result *res,
		  struct lw_diag *diag);

#endif
