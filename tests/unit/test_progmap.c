/* lw_progmap: program name -> values, insertion order kept, duplicates
 * of one (name, value) filed once, misses cheap and exact. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "correlator/progmap.h"

Test(progmap, finds_runs_in_insertion_order)
{
	struct lw_progmap m;
	const uint32_t *v;
	uint32_t n;

	lw_progmap_init(&m);
	cr_assert_eq(lw_progmap_add(&m, "sshd", 4, 7), LW_OK);
	cr_assert_eq(lw_progmap_add(&m, "sudo", 4, 1), LW_OK);
	cr_assert_eq(lw_progmap_add(&m, "sshd", 4, 3), LW_OK);
	cr_assert_eq(lw_progmap_add(&m, "sshd", 4, 7), LW_OK);
	cr_assert_eq(lw_progmap_build(&m), LW_OK);
	v = lw_progmap_find(&m, "sshd", 4, &n);
	cr_assert_eq(n, 2);
	cr_expect_eq(v[0], 7);
	cr_expect_eq(v[1], 3);
	v = lw_progmap_find(&m, "sudo", 4, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(v[0], 1);
	cr_expect_null(lw_progmap_find(&m, "SSHD", 4, &n));
	cr_expect_eq(n, 0);
	cr_expect_null(lw_progmap_find(&m, "ssh", 3, &n));
	cr_expect_null(lw_progmap_find(&m, NULL, 0, &n));
	cr_expect_eq(lw_progmap_add(&m, "late", 4, 1), LW_EINVAL, "frozen");
	lw_progmap_release(&m);
}

Test(progmap, many_names)
{
	struct lw_progmap m;
	char name[16];
	uint32_t n;

	lw_progmap_init(&m);
	for (uint32_t i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "prog%u", i);
		cr_assert_eq(lw_progmap_add(&m, name, strlen(name), i), LW_OK);
	}
	cr_assert_eq(lw_progmap_build(&m), LW_OK);
	for (uint32_t i = 0; i < 1000; i++) {
		const uint32_t *v;
		snprintf(name, sizeof(name), "prog%u", i);
		v = lw_progmap_find(&m, name, strlen(name), &n);
		cr_assert_eq(n, 1);
		cr_expect_eq(v[0], i);
	}
	lw_progmap_release(&m);
}

Test(progmap, family_is_the_name_before_a_slash_or_parenthesis)
{
	cr_expect_eq(lw_progmap_family_len("postfix/smtpd", 13), 7);
	cr_expect_eq(lw_progmap_family_len("postfix/submission/smtpd", 24), 7);
	cr_expect_eq(lw_progmap_family_len("sshd(pam_unix)", 14), 4);
	cr_expect_eq(lw_progmap_family_len("cyrus/imap", 10), 5);
	cr_expect_eq(lw_progmap_family_len("sshd", 4), 0);
	cr_expect_eq(lw_progmap_family_len("/usr/sbin/cron", 14), 0);
	cr_expect_eq(lw_progmap_family_len("", 0), 0);
}
