/* Secrets (prefix lw_secret): password hashes with a memory-hard KDF,
 * random tokens, and comparisons that take the same time whatever the
 * bytes. Used by the store's users and tokens (store/users.h) and the
 * HTTP API's sessions (web/auth.h).
 *
 * Passwords: OpenSSL's scrypt (RFC 7914; Debian 12's OpenSSL 3.0 has no
 * Argon2), N = 2^15, r = 8, p = 1 (32 MiB and ~0.1 s per check on this
 * kind of machine: a stolen store costs an attacker that per guess), a
 * 16-byte random salt, a 32-byte key. The stored text carries its own
 * parameters, so they can be raised later without breaking old hashes:
 *
 *     $scrypt$ln=15,r=8,p=1$<salt, base64url>$<key, base64url>
 *
 * Threads: every function is safe from any thread; no state. */
#ifndef LW_CORE_SECRET_H
#define LW_CORE_SECRET_H

#include <stddef.h>
#include <stdint.h>

#define LW_SECRET_HASH_MAX 128  /* stored password text, with its NUL */
#define LW_SECRET_PASSWORD_MAX 1024
#define LW_SECRET_LOG2_N 15

/* n bytes from getrandom(2). LW_OK or LW_EIO. */
int lw_secret_random(void *out, size_t n);

/* base64url without padding (RFC 4648 section 5) of in[0..n) into out,
 * which holds at least LW_SECRET_B64_LEN(n) + 1 bytes; NUL-terminated.
 * Returns the length written. */
#define LW_SECRET_B64_LEN(n) (((n) * 4 + 2) / 3)
size_t lw_secret_b64url(const void *in, size_t n, char *out);

/* 1 when a[0..n) equals b[0..n), in time that depends only on n. */
int lw_secret_equal(const void *a, const void *b, size_t n);

/* Hashes password[0..len) (1..LW_SECRET_PASSWORD_MAX bytes) with a new
 * salt into out (the text above, NUL-terminated). log2_n is the scrypt
 * cost (10..20; LW_SECRET_LOG2_N unless a test wants it cheaper).
 * LW_OK, LW_EINVAL (length, cost), LW_EIO (no randomness), LW_ENOMEM
 * (scrypt could not get its memory). */
int lw_secret_hash_password(const char *password, size_t len, unsigned log2_n,
			    char out[LW_SECRET_HASH_MAX]);

/* 1 when password matches stored (a text lw_secret_hash_password made),
 * 0 when it does not or stored is not such a text. The key comparison
 * is constant-time; the KDF's time depends only on stored's parameters. */
int lw_secret_check_password(const char *password, size_t len, const char *stored);

/* Spends one password check's time without a stored hash, so a login
 * for a name that does not exist takes as long as a wrong password. */
void lw_secret_burn(const char *password, size_t len);

#endif
