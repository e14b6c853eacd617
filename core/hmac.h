/* HMAC-SHA-256 (RFC 2104 over core/sha256; prefix lw_hmac) for the keyed
 * segment chain. Any thread; one struct lw_hmac per thread at a time. */
#ifndef LW_CORE_HMAC_H
#define LW_CORE_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "core/sha256.h"

#define LW_HMAC_KEY_LEN 32

/* Incremental state; _init, _update..., _final (which also releases). */
struct lw_hmac {
	struct lw_sha256 inner;
	uint8_t opad_key[64]; /* key XOR opad, kept for the outer hash */
};

/* Starts an HMAC with a key of keylen bytes (any length: longer than the
 * 64-byte block is hashed first, as RFC 2104 says). LW_OK or LW_ENOMEM. */
int lw_hmac_init(struct lw_hmac *h, const void *key, size_t keylen);
void lw_hmac_update(struct lw_hmac *h, const void *data, size_t n);
/* Writes the tag, erases the key material and frees the state (also on
 * failure). LW_OK, LW_ENOMEM or LW_ECORRUPT (OpenSSL failure). */
int lw_hmac_final(struct lw_hmac *h, uint8_t out[LW_SHA256_LEN]);
/* Frees a state that will not be finalised; erases the key material. */
void lw_hmac_release(struct lw_hmac *h);

/* One-shot tag of two concatenated buffers (a label and its data). */
int lw_hmac2(const void *key, size_t keylen, const void *a, size_t alen,
	     const void *b, size_t blen, uint8_t out[LW_SHA256_LEN]);

#endif
