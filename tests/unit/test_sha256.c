/* Unit tests for core/sha256 (lw_sha256): FIPS 180-2 vectors. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/err.h"
#include "core/sha256.h"

static void hex_of(const void *p, size_t n, char out[65])
{
	uint8_t d[32];

	cr_assert_eq(lw_sha256(p, n, d), LW_OK);
	lw_sha256_hex(d, out);
}

Test(sha256, known_vectors)
{
	char hex[65];

	hex_of("", 0, hex);
	cr_expect_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	cr_expect_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(sha256, incremental_equals_one_shot)
{
	struct lw_sha256 h;
	uint8_t a[32], b[32];
	char buf[1000];

	memset(buf, 'a', sizeof(buf));
	cr_assert_eq(lw_sha256_init(&h), LW_OK);
	for (int i = 0; i < 1000; i++)
		lw_sha256_update(&h, buf, sizeof(buf));
	cr_assert_eq(lw_sha256_final(&h, a), LW_OK);
	lw_sha256_release(&h);
	lw_sha256_release(&h); /* twice is safe */
	lw_sha256_hex(a, (char[65]){0});
	{
		char hex[65];

		lw_sha256_hex(a, hex);
		/* one million 'a' (FIPS 180-2 appendix B.3) */
		cr_expect_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	cr_assert_eq(lw_sha256(buf, 10, b), LW_OK);
	cr_expect_neq(memcmp(a, b, 32), 0);
}
