/* Unit tests for core/secret: scrypt hashes round-trip and refuse wrong
 * or tampered input, base64url matches RFC 4648's vectors, random ids
 * differ. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/err.h"
#include "core/secret.h"

Test(secret, b64url_rfc4648_vectors)
{
	/* RFC 4648 section 10, without padding; '-' and '_' for 62 and 63 */
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char buf[16];

	for (int i = 0; i < 7; i++) {
		cr_assert_eq(lw_secret_b64url(in[i], strlen(in[i]), buf), strlen(out[i]));
		cr_assert_str_eq(buf, out[i]);
	}
	cr_assert_eq(lw_secret_b64url("\xfb\xff", 2, buf), 3);
	cr_assert_str_eq(buf, "-_8");
}

Test(secret, hash_and_check)
{
	char h[LW_SECRET_HASH_MAX], h2[LW_SECRET_HASH_MAX];

	cr_assert_eq(lw_secret_hash_password("correct horse", 13, 10, h), LW_OK);
	cr_assert(strncmp(h, "$scrypt$ln=10,r=8,p=1$", 22) == 0, "%s", h);
	cr_assert_eq(lw_secret_check_password("correct horse", 13, h), 1);
	cr_assert_eq(lw_secret_check_password("correct hors", 12, h), 0);
	cr_assert_eq(lw_secret_check_password("Correct horse", 13, h), 0);
	/* a new salt each time: the same password hashes differently */
	cr_assert_eq(lw_secret_hash_password("correct horse", 13, 10, h2), LW_OK);
	cr_assert_str_neq(h, h2);
	cr_assert_eq(lw_secret_check_password("correct horse", 13, h2), 1);
	/* UTF-8 passwords are bytes like any other */
	cr_assert_eq(lw_secret_hash_password("パスワード", strlen("パスワード"), 10, h), LW_OK);
	cr_assert_eq(lw_secret_check_password("パスワード", strlen("パスワード"), h), 1);
}

Test(secret, refuses_bad_input)
{
	char h[LW_SECRET_HASH_MAX], bad[LW_SECRET_HASH_MAX];

	cr_assert_eq(lw_secret_hash_password("", 0, 10, h), LW_EINVAL);
	cr_assert_eq(lw_secret_hash_password("x", 1, 9, h), LW_EINVAL);
	cr_assert_eq(lw_secret_hash_password("x", 1, 21, h), LW_EINVAL);
	cr_assert_eq(lw_secret_hash_password("pw", 2, 10, h), LW_OK);
	/* every single-character change of the stored text fails the check */
	for (size_t i = 0; i < strlen(h); i++) {
		memcpy(bad, h, sizeof(bad));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		cr_assert_eq(lw_secret_check_password("pw", 2, bad), 0, "changed at %zu: %s", i, bad);
	}
	cr_assert_eq(lw_secret_check_password("pw", 2, ""), 0);
	cr_assert_eq(lw_secret_check_password("pw", 2, "$scrypt$ln=10,r=8,p=1$$"), 0);
	cr_assert_eq(lw_secret_check_password("pw", 2, "plain-text-password"), 0);
	h[strlen(h) - 1] = '\0'; /* a truncated key */
	cr_assert_eq(lw_secret_check_password("pw", 2, h), 0);
}

Test(secret, equal_and_random)
{
	unsigned char a[32], b[32];

	cr_assert_eq(lw_secret_random(a, sizeof(a)), LW_OK);
	cr_assert_eq(lw_secret_random(b, sizeof(b)), LW_OK);
	cr_assert_eq(lw_secret_equal(a, a, 32), 1);
	cr_assert_eq(lw_secret_equal(a, b, 32), 0);
}
