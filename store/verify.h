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

/* What to check beyond structure and the unkeyed chain. */
struct lw_verify_opts {
	/* K_1, the 32 bytes `logward init-key` printed, or NULL: the HMAC
	 * of keyed segments is then not recomputed (res->keyed_checked 0). */
	const uint8_t *key;
	/* The writer's key file (store/integrity.h), or NULL. Its index
	 * tells whether the newest segments were removed; with key, its
	 * key must also be K_index. */
	const char *key_file;
};

struct lw_verify_result {
	uint64_t segments;            /* segments that verified */
	uint64_t events;              /* events in them */
	uint8_t head[LW_SHA256_LEN];  /* chain hash of the last good one */
	uint64_t bad_id;              /* first broken segment; 0 = none */
	char reason[256];             /* why bad_id is broken */
	int keyed_store;              /* made by init-key */
	int keyed_checked;            /* every HMAC recomputed from K_1 */
	int key_file_checked;         /* the key file's index was compared */
	int has_checkpoint;           /* retention deleted segments 1..first-1 */
	struct lw_store_checkpoint ckpt;
	char note[256];               /* something worth saying that is not
				       * tampering (empty when none) */
};

/* Walks the chain of st (opts may be NULL). Returns LW_OK when everything
 * verifies, LW_ECORRUPT when res->bad_id/reason name the first broken
 * segment:
 *   - a byte changed in a header, metadata record or frame (chain hash
 *     or, with opts->key, HMAC mismatch),
 *   - a missing segment (gap in ids, or the head names a newer one, or
 *     the key file has ratcheted past the store's newest segment),
 *   - reordered segments (header id differs from the key, or the
 *     prev-hash link breaks),
 *   - a retention checkpoint that does not match the segment after it,
 *     or (keyed store, with opts->key) whose MAC is wrong,
 *   - an unkeyed segment in a keyed store (re-chained with plain
 *     SHA-256), or with opts->key a store whose integrity record is gone,
 *   - a segment that does not decode, or a metadata record whose
 *     counts, time range or host/zone/app lists disagree with the
 *     decoded events (what queries skip segments by),
 *   - a chain head in meta that does not match the last segment;
 * or LW_ESTORE/LW_ENOMEM/LW_EIO for failures to read (diag has the text). */
int lw_verify_run(struct lw_store *st, const struct lw_verify_opts *opts,
		  struct lw_verify_result *res, struct lw_diag *diag);

#endif
