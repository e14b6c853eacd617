/* Unit tests for core/hmac: RFC 4231 test vectors (short key, "Jefe",
 * a key longer than the block), and incremental = one-shot. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/err.h"
#include "core/hmac.h"

static void hex(const uint8_t *d, char out[65])
{
	lw_sha256_hex(d, out);
}

Test(hmac, rfc4231_case_1)
{
	uint8_t key[20], out[32];
	char h[65];

	memset(key, 0x0b, sizeof(key));
	cr_assert_eq(lw_hmac2(key, sizeof(key), "Hi There", 8, NULL, 0, out), LW_OK);
	hex(out, h);
	cr_expect_str_eq(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

Test(hmac, rfc4231_case_2)
{
	uint8_t out[32];
	char h[65];

	cr_assert_eq(lw_hmac2("Jefe", 4, "what do ya want ", 16, "for nothing?", 12, out), LW_OK);
	hex(out, h);
	cr_expect_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(hmac, rfc4231_case_6_key_longer_than_the_block)
{
	static const char msg[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	uint8_t key[131], out[32];
	char h[65];

	memset(key, 0xaa, sizeof(key));
	cr_assert_eq(lw_hmac2(key, sizeof(key), msg, sizeof(msg) - 1, NULL, 0, out), LW_OK);
	hex(out, h);
	cr_expect_str_eq(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

Test(hmac, incremental_equals_one_shot)
{
	struct lw_hmac m;
	uint8_t a[32], b[32];

	cr_assert_eq(lw_hmac_init(&m, "k", 1), LW_OK);
	lw_hmac_update(&m, "ab", 2);
	lw_hmac_update(&m, "", 0);
	lw_hmac_update(&m, "cdef", 4);
	cr_assert_eq(lw_hmac_final(&m, a), LW_OK);
	cr_assert_eq(lw_hmac2("k", 1, "abc", 3, "def", 3, b), LW_OK);
	cr_expect_arr_eq(a, b, 32);
}
