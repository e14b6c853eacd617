/* lw_secret: scrypt password hashes (EVP_PBE_scrypt), getrandom tokens,
 * base64url and constant-time comparison (CRYPTO_memcmp). */
#include "core/secret.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/err.h"

#define SALT_LEN 16
#define KEY_LEN 32
#define SCRYPT_R 8
#define SCRYPT_P 1
#define MIN_LOG2_N 10
#define MAX_LOG2_N 20

int lw_secret_random(void *out, size_t n)
{
	uint8_t *p = out;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return LW_EIO;
		}
		p += got;
		n -= (size_t)got;
	}
	return LW_OK;
}

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t lw_secret_b64url(const void *in, size_t n, char *out)
{
	const uint8_t *p = in;
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		out[o++] = b64url[p[i] >> 2];
		out[o++] = b64url[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		out[o++] = b64url[v >> 10];
		out[o++] = b64url[(v >> 4) & 63];
		out[o++] = b64url[(v & 15) << 2];
	}
	out[o] = '\0';
	return o;
}

/* Decodes exactly want bytes of base64url; -1 on any other text. */
static int b64url_decode(const char *s, size_t len, uint8_t *out, size_t want)
{
	uint32_t acc = 0;
	size_t bits = 0, o = 0;

	if (len != LW_SECRET_B64_LEN(want))
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *c = memchr(b64url, s[i], 64);

		if (c == NULL || s[i] == '\0')
			return -1;
		acc = acc << 6 | (uint32_t)(c - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < want)
				out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* the last character's unused bits must be zero: one text per key,
	 * so a changed character can never decode to the same bytes */
	return o == want && acc == 0 ? 0 : -1;
}

int lw_secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

static int scrypt(const char *pw, size_t len, const uint8_t *salt, unsigned log2_n,
		  uint8_t key[KEY_LEN])
{
	uint64_t n = 1ull << log2_n;
	/* 128 * r * N for the big array, plus room for OpenSSL's own. */
	uint64_t maxmem = 128ull * SCRYPT_R * n + (16u << 20);

	return EVP_PBE_scrypt(pw, len, salt, SALT_LEN, n, SCRYPT_R, SCRYPT_P, maxmem,
			      key, KEY_LEN) == 1 ? LW_OK : LW_ENOMEM;
}

int lw_secret_hash_password(const char *password, size_t len, unsigned log2_n,
			    char out[LW_SECRET_HASH_MAX])
{
	uint8_t salt[SALT_LEN], key[KEY_LEN];
	char s64[LW_SECRET_B64_LEN(SALT_LEN) + 1], k64[LW_SECRET_B64_LEN(KEY_LEN) + 1];
	int rc;

	out[0] = '\0';
	if (len == 0 || len > LW_SECRET_PASSWORD_MAX || log2_n < MIN_LOG2_N ||
	    log2_n > MAX_LOG2_N)
		return LW_EINVAL;
	if (lw_secret_random(salt, sizeof(salt)) != LW_OK)
		return LW_EIO;
	rc = scrypt(password, len, salt, log2_n, key);
	if (rc != LW_OK)
		return rc;
	lw_secret_b64url(salt, sizeof(salt), s64);
	lw_secret_b64url(key, sizeof(key), k64);
	OPENSSL_cleanse(key, sizeof(key));
	snprintf(out, LW_SECRET_HASH_MAX, "$scrypt$ln=%u,r=%d,p=%d$%s$%s", log2_n,
		 SCRYPT_R, SCRYPT_P, s64, k64);
	return LW_OK;
}

int lw_secret_check_password(const char *password, size_t len, const char *stored)
{
	uint8_t salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	unsigned log2_n;
	int r, p, used = 0;
	const char *s, *k;

	if (len == 0 || len > LW_SECRET_PASSWORD_MAX)
		return 0;
	if (sscanf(stored, "$scrypt$ln=%u,r=%d,p=%d$%n", &log2_n, &r, &p, &used) != 3 ||
	    used == 0 || r != SCRYPT_R || p != SCRYPT_P || log2_n < MIN_LOG2_N ||
	    log2_n > MAX_LOG2_N)
		return 0;
	s = stored + used;
	k = strchr(s, '$');
	if (k == NULL || b64url_decode(s, (size_t)(k - s), salt, SALT_LEN) != 0 ||
	    b64url_decode(k + 1, strlen(k + 1), want, KEY_LEN) != 0)
		return 0;
	if (scrypt(password, len, salt, log2_n, got) != LW_OK)
		return 0;
	r = lw_secret_equal(got, want, KEY_LEN);
	OPENSSL_cleanse(got, sizeof(got));
	return r;
}

void lw_secret_burn(const char *password, size_t len)
{
	uint8_t salt[SALT_LEN] = {0}, key[KEY_LEN];

	if (len == 0 || len > LW_SECRET_PASSWORD_MAX)
		return;
	(void)scrypt(password, len, salt, LW_SECRET_LOG2_N, key);
}
