/* lw_hmac: HMAC-SHA-256 = H((K ^ opad) || H((K ^ ipad) || m)), RFC 2104. */
#include "core/hmac.h"
#include "core/err.h"

#include <string.h>

#define BLOCK 64

int lw_hmac_init(struct lw_hmac *h, const void *key, size_t keylen)
{
	uint8_t k[BLOCK], ipad[BLOCK];
	int rc;

	memset(k, 0, sizeof(k));
	h->inner.ctx = NULL;
	if (keylen > BLOCK) {
		rc = lw_sha256(key, keylen, k);
		if (rc != LW_OK)
			return rc;
	} else if (keylen > 0) {
		memcpy(k, key, keylen);
	}
	for (int i = 0; i < BLOCK; i++) {
		ipad[i] = k[i] ^ 0x36;
		h->opad_key[i] = k[i] ^ 0x5c;
	}
	rc = lw_sha256_init(&h->inner);
	if (rc == LW_OK)
		lw_sha256_update(&h->inner, ipad, BLOCK);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(ipad, sizeof(ipad));
	if (rc != LW_OK)
		explicit_bzero(h->opad_key, sizeof(h->opad_key));
	return rc;
}

void lw_hmac_update(struct lw_hmac *h, const void *data, size_t n)
{
	lw_sha256_update(&h->inner, data, n);
}

void lw_hmac_release(struct lw_hmac *h)
{
	lw_sha256_release(&h->inner);
	explicit_bzero(h->opad_key, sizeof(h->opad_key));
}

int lw_hmac_final(struct lw_hmac *h, uint8_t out[LW_SHA256_LEN])
{
	uint8_t inner[LW_SHA256_LEN];
	struct lw_sha256 outer;
	int rc;

	rc = lw_sha256_final(&h->inner, inner);
	if (rc == LW_OK)
		rc = lw_sha256_init(&outer);
	if (rc == LW_OK) {
		lw_sha256_update(&outer, h->opad_key, BLOCK);
		lw_sha256_update(&outer, inner, sizeof(inner));
		rc = lw_sha256_final(&outer, out);
		lw_sha256_release(&outer);
	}
	lw_hmac_release(h);
	explicit_bzero(inner, sizeof(inner));
	return rc;
}

int lw_hmac2(const void *key, size_t keylen, const void *a, size_t alen,
	     const void *b, size_t blen, uint8_t out[LW_SHA256_LEN])
{
	struct lw_hmac h;
	int rc = lw_hmac_init(&h, key, keylen);

	if (rc != LW_OK)
		return rc;
	lw_hmac_update(&h, a, alen);
	lw_hmac_update(&h, b, blen);
	return lw_hmac_final(&h, out);
}
