/* lw_sha256: SHA-256 through OpenSSL EVP (the only OpenSSL use in core/).
 * EVP rather than the deprecated SHA256_* calls: OpenSSL 3 picks the
 * SHA-NI/AVX2 code path through EVP. */
#include "core/sha256.h"
#include "core/err.h"

#include <openssl/evp.h>

int lw_sha256_init(struct lw_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	h->ctx = NULL;
	if (ctx == NULL)
		return LW_ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return LW_ENOMEM;
	}
	h->ctx = ctx;
	return LW_OK;
}

void lw_sha256_update(struct lw_sha256 *h, const void *data, size_t n)
{
	if (n > 0)
		EVP_DigestUpdate(h->ctx, data, n);
}

int lw_sha256_final(struct lw_sha256 *h, uint8_t out[LW_SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != LW_SHA256_LEN)
		return LW_ECORRUPT;
	return LW_OK;
}

void lw_sha256_release(struct lw_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int lw_sha256(const void *data, size_t n, uint8_t out[LW_SHA256_LEN])
{
	struct lw_sha256 h;
	int rc;

	rc = lw_sha256_init(&h);
	if (rc != LW_OK)
		return rc;
	lw_sha256_update(&h, data, n);
	rc = lw_sha256_final(&h, out);
	lw_sha256_release(&h);
	return rc;
}

void lw_sha256_hex(const uint8_t digest[LW_SHA256_LEN],
		   char out[LW_SHA256_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < LW_SHA256_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[LW_SHA256_HEX_LEN] = '\0';
}
