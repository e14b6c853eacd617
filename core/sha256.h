/* SHA-256 for the segment hash chain (prefix lw_sha256). A thin wrapper
 * over OpenSSL EVP so that only this file (and collector/tls.c) sees
 * OpenSSL. Any thread; one struct lw_sha256 per thread at a time. */
#ifndef LW_CORE_SHA256_H
#define LW_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define LW_SHA256_LEN 32
#define LW_SHA256_HEX_LEN 64

/* Incremental state; embed it and use _init/_release. */
struct lw_sha256 {
	void *ctx; /* EVP_MD_CTX *, owned */
};

/* Starts a digest. LW_OK, or LW_ENOMEM when OpenSSL cannot allocate its
 * context (the struct is then safe to _release). */
int lw_sha256_init(struct lw_sha256 *h);
/* Adds n bytes (borrowed for the call). n == 0 is allowed. */
void lw_sha256_update(struct lw_sha256 *h, const void *data, size_t n);
/* Writes the digest to out; the state must be _init'ed again before reuse.
 * LW_OK or LW_ECORRUPT when OpenSSL reports an internal failure. */
int lw_sha256_final(struct lw_sha256 *h, uint8_t out[LW_SHA256_LEN]);
/* Frees the context; safe on a zeroed or released struct. */
void lw_sha256_release(struct lw_sha256 *h);

/* One-shot digest of one buffer. LW_OK, LW_ENOMEM or LW_ECORRUPT. */
int lw_sha256(const void *data, size_t n, uint8_t out[LW_SHA256_LEN]);

/* Writes 64 lowercase hex digits and a NUL to out. */
void lw_sha256_hex(const uint8_t digest[LW_SHA256_LEN],
		   char out[LW_SHA256_HEX_LEN + 1]);

#endif
