/* CIDR parsing and matching (zones and allow lists). */
#include <criterion/criterion.h>
#include <string.h>

#include "core/cidr.h"
#include "core/err.h"

Test(cidr, parse_accepts_v4_v6_and_plain_addresses)
{
	struct lw_cidr c;

	cr_expect_eq(lw_cidr_parse("10.10.0.0/16", &c), LW_OK);
	cr_expect_eq(c.prefix, 16);
	cr_expect_eq(lw_cidr_parse("10.10.255.255/16", &c), LW_OK);
	cr_expect_eq(c.addr[2], 0, "host bits are cleared");
	cr_expect_eq(lw_cidr_parse("127.0.0.1", &c), LW_OK);
	cr_expect_eq(c.prefix, 32);
	cr_expect_eq(lw_cidr_parse("2001:db8::/32", &c), LW_OK);
	cr_expect_eq(c.prefix, 32);
	cr_expect_eq(lw_cidr_parse("::1", &c), LW_OK);
	cr_expect_eq(c.prefix, 128);
}

Test(cidr, parse_rejects_bad_input)
{
	struct lw_cidr c;

	cr_expect_eq(lw_cidr_parse("", &c), LW_EINVAL);
	cr_expect_eq(lw_cidr_parse("10.0.0.0/33", &c), LW_EINVAL);
	cr_expect_eq(lw_cidr_parse("10.0.0.0/", &c), LW_EINVAL);
	cr_expect_eq(lw_cidr_parse("10.0.0.0/-1", &c), LW_EINVAL);
	cr_expect_eq(lw_cidr_parse("10.0.0/8", &c), LW_EINVAL);
	cr_expect_eq(lw_cidr_parse("host.example/8", &c), LW_EINVAL);
	cr_expect_eq(lw_cidr_parse("::1/129", &c), LW_EINVAL);
}

Test(cidr, list_contains_text_ips)
{
	struct lw_cidr_list l = {0};

	cr_assert_eq(lw_cidr_parse("10.20.0.0/16", &l.items[l.count++]), LW_OK);
	cr_assert_eq(lw_cidr_parse("2001:db8::/32", &l.items[l.count++]), LW_OK);
	cr_expect(lw_cidr_list_contains_ip(&l, "10.20.1.2", 9));
	cr_expect(!lw_cidr_list_contains_ip(&l, "10.21.1.2", 9));
	cr_expect(lw_cidr_list_contains_ip(&l, "2001:db8::5", 11));
	cr_expect(!lw_cidr_list_contains_ip(&l, "2001:db9::5", 11));
	cr_expect(!lw_cidr_list_contains_ip(&l, "not-an-ip", 9));
	cr_expect(!lw_cidr_list_contains_ip(&l, "", 0));
}

Test(cidr, zero_prefix_matches_everything_of_its_family)
{
	struct lw_cidr_list l = {0};

	cr_assert_eq(lw_cidr_parse("0.0.0.0/0", &l.items[l.count++]), LW_OK);
	cr_expect(lw_cidr_list_contains_ip(&l, "203.0.113.9", 11));
	cr_expect(!lw_cidr_list_contains_ip(&l, "::1", 3));
}
