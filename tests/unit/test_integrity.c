/* Unit tests for store/integrity: the ratchet (its definition, one way
 * only), hex keys, and the key file (format, checksum, O_EXCL create,
 * forward-only advance). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/hmac.h"
#include "store/integrity.h"

static char dir[64], path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lw-integ-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/integrity.key", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(integrity, .init = setup, .fini = teardown);

Test(integrity, ratchet_is_hmac_of_the_label_and_the_index)
{
	struct lw_integrity_key k = {.index = 1};
	uint8_t idx[8] = {0, 0, 0, 0, 0, 0, 0, 1}, want[32];

	memset(k.key, 7, 32);
	cr_assert_eq(lw_hmac2(k.key, 32, "logward/v1/ratchet", 18, idx, 8, want), LW_OK);
	cr_assert_eq(lw_integrity_ratchet(&k), LW_OK);
	cr_expect_eq(k.index, 2);
	cr_expect_arr_eq(k.key, want, 32);
}

Test(integrity, ratchet_to_equals_single_steps_and_never_goes_back)
{
	struct lw_integrity_key a = {.index = 1}, b = {.index = 1};

	memset(a.key, 9, 32);
	memset(b.key, 9, 32);
	cr_assert_eq(lw_integrity_ratchet_to(&a, 5), LW_OK);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(lw_integrity_ratchet(&b), LW_OK);
	cr_expect_eq(a.index, 5);
	cr_expect_arr_eq(a.key, b.key, 32);
	cr_expect_eq(lw_integrity_ratchet_to(&a, 4), LW_EINVAL);
	cr_expect_eq(a.index, 5);
	cr_expect_eq(lw_integrity_ratchet_to(&a, 5), LW_OK);
	cr_expect_arr_eq(a.key, b.key, 32);
}

Test(integrity, hex_key_parses_exactly_64_digits)
{
	uint8_t k[32];
	char h[65];

	memset(h, 'a', 64);
	h[64] = 0;
	h[1] = 'F';
	cr_expect_eq(lw_integrity_key_from_hex(h, k), LW_OK);
	cr_expect_eq(k[0], 0xaf);
	cr_expect_eq(k[31], 0xaa);
	h[10] = 'g';
	cr_expect_eq(lw_integrity_key_from_hex(h, k), LW_EINVAL);
	cr_expect_eq(lw_integrity_key_from_hex("abcd", k), LW_EINVAL);
}

Test(integrity, key_file_round_trips_and_detects_a_torn_write)
{
	struct lw_integrity_key k = {.index = 0x0102030405060708ull}, got;
	struct lw_diag d = {0};
	uint8_t buf[LW_INTEGRITY_FILE_LEN];

	memset(k.key, 0x5a, 32);
	lw_integrity_file_encode(&k, buf);
	cr_expect_eq(memcmp(buf, "LWIK\1\0\0\0", 8), 0);
	cr_expect_eq(buf[8], 0x08);
	cr_assert_eq(lw_integrity_file_decode(buf, &got, &d), LW_OK);
	cr_expect_eq(got.index, k.index);
	cr_expect_arr_eq(got.key, k.key, 32);
	buf[20] ^= 1;
	cr_expect_eq(lw_integrity_file_decode(buf, &got, &d), LW_ECORRUPT);
	cr_expect_str_eq(d.detail, "key file checksum mismatch (torn write or edited)");
}

/* Whoever can read the writer's key can forge what comes next. */
Test(integrity, a_key_file_open_to_group_or_others_is_refused)
{
	struct lw_integrity_key k;
	struct lw_diag d = {0};
	int fd = -1;
	static const mode_t open_modes[] = {0640, 0604, 0620, 0602, 0644};

	cr_assert_eq(lw_integrity_file_create(path, &k, &d), LW_OK, "%s", d.detail);
	for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); i++) {
		mode_t m = open_modes[i];

		cr_assert_eq(chmod(path, m), 0);
		memset(&d, 0, sizeof(d));
		cr_expect_eq(lw_integrity_file_open(path, &fd, &d), LW_EINVAL, "mode %o", m);
		cr_expect_eq(fd, -1);
		cr_expect(strstr(d.detail, "is open to group or others") != NULL, "%s", d.detail);
		cr_expect(strstr(d.detail, "chmod 600") != NULL, "%s", d.detail);
	}
	cr_assert_eq(chmod(path, 0600), 0);
	cr_expect_eq(lw_integrity_file_open(path, &fd, &d), LW_OK);
	close(fd);
	unlink(path);
}

Test(integrity, create_is_exclusive_private_and_advance_only_moves_forward)
{
	struct lw_integrity_key k, f, old;
	struct lw_diag d = {0};
	struct stat sb;
	int fd;

	cr_assert_eq(lw_integrity_file_create(path, &k, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(k.index, 1);
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0600);
	cr_expect_eq(sb.st_size, LW_INTEGRITY_FILE_LEN);
	cr_expect_eq(lw_integrity_file_create(path, &f, &d), LW_EIO);
	cr_assert_eq(lw_integrity_file_load(path, &f, &d), LW_OK);
	cr_expect_eq(f.index, 1);
	cr_expect_arr_eq(f.key, k.key, 32);

	old = k;
	cr_assert_eq(lw_integrity_ratchet_to(&k, 3), LW_OK);
	cr_assert_eq(lw_integrity_file_open(path, &fd, &d), LW_OK);
	cr_assert_eq(lw_integrity_file_advance(fd, &k, &d), LW_OK);
	cr_assert_eq(lw_integrity_file_read(fd, &f, &d), LW_OK);
	cr_expect_eq(f.index, 3);
	cr_expect_arr_eq(f.key, k.key, 32);
	/* Another writer's older key must not overwrite the newer one. */
	cr_assert_eq(lw_integrity_file_advance(fd, &old, &d), LW_OK);
	cr_assert_eq(lw_integrity_file_read(fd, &f, &d), LW_OK);
	cr_expect_eq(f.index, 3);
	cr_expect_arr_eq(f.key, k.key, 32);
	close(fd);
	unlink(path);
	cr_expect_eq(lw_integrity_file_load(path, &f, &d), LW_ENOTFOUND);
}
