/* Keyed chain (prefix lw_integrity): the forward-ratcheted HMAC key of a
 * store created with `logward init-key`, and its key file. Threat model
 * and formats: docs/integrity.md.
 *
 *   K_1       32 random bytes, printed once for the auditor
 *   K_{i+1} = HMAC-SHA-256(K_i, "logward/v1/ratchet" || u64be(i))
 *   segment i is chained with K_i (store/segment.h, lw_segment_chain)
 *
 * The key file holds only (i, K_i) for the next segment to write; after
 * each commit the writer overwrites it in place with (i+1, K_{i+1}) and
 * fdatasyncs, so a thief of the machine finds no key for an older
 * segment. Key file (64 bytes, LE):
 *   "LWIK"  u32 version(1)  u64 index  key[32]  SHA-256(bytes[0,48))[0,16)
 * Writer thread(s); the key file is flock'ed, so serve and ingest may
 * share one store. */
#ifndef LW_STORE_INTEGRITY_H
#define LW_STORE_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define LW_INTEGRITY_KEY_LEN 32
#define LW_INTEGRITY_FILE_LEN 64

/* K_index. Erase with lw_integrity_key_wipe when done. */
struct lw_integrity_key {
	uint64_t index;
	uint8_t key[LW_INTEGRITY_KEY_LEN];
};

void lw_integrity_key_wipe(struct lw_integrity_key *k);
/* Advances k to K_{k->index + 1} (the old key is overwritten). LW_OK,
 * LW_ENOMEM, LW_ECORRUPT. */
int lw_integrity_ratchet(struct lw_integrity_key *k);
/* Ratchets k forward to index. LW_EINVAL when index < k->index: a key
 * cannot be ratcheted back (that is the point). */
int lw_integrity_ratchet_to(struct lw_integrity_key *k, uint64_t index);
/* 64 hex digits -> key bytes. LW_OK or LW_EINVAL. */
int lw_integrity_key_from_hex(const char *hex, uint8_t key[LW_INTEGRITY_KEY_LEN]);

/* Serialises / parses the 64-byte key file contents. Parse: LW_OK or
 * LW_ECORRUPT (magic, version, checksum: a torn or edited file). */
void lw_integrity_file_encode(const struct lw_integrity_key *k,
			      uint8_t out[LW_INTEGRITY_FILE_LEN]);
int lw_integrity_file_decode(const uint8_t in[LW_INTEGRITY_FILE_LEN],
			     struct lw_integrity_key *k, struct lw_diag *diag);

/* Creates path (O_EXCL, mode 0600) holding K_1 = 32 bytes from
 * getrandom(2), fsyncs it and its directory, and returns K_1 in *k.
 * LW_EIO (exists, or a system call failed; diag says which). */
int lw_integrity_file_create(const char *path, struct lw_integrity_key *k,
			     struct lw_diag *diag);
/* Opens an existing key file read-write (O_CLOEXEC); the fd is the
 * caller's. LW_EIO, or LW_EINVAL when group or others have any
 * permission on it (diag says what to run: chmod 600). */
int lw_integrity_file_open(const char *path, int *fd, struct lw_diag *diag);
/* Reads the key under a shared flock. LW_OK, LW_EIO, LW_ECORRUPT. */
int lw_integrity_file_read(int fd, struct lw_integrity_key *k,
			   struct lw_diag *diag);
/* Under an exclusive flock: when the file's index is below k->index,
 * overwrites it in place with k and fdatasyncs; a file already at or past
 * k->index (another writer process got there first) is left alone.
 * LW_OK, LW_EIO, LW_ECORRUPT. */
int lw_integrity_file_advance(int fd, const struct lw_integrity_key *k,
			      struct lw_diag *diag);
/* Reads a key file by path (verify). Same errors; LW_ENOTFOUND when the
 * file does not exist. */
int lw_integrity_file_load(const char *path, struct lw_integrity_key *k,
			   struct lw_diag *diag);

#endif
