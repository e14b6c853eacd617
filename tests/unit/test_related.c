/* Unit tests for core/related: which fields feed which list, the bound
 * of 16 values per list, and the estimate of the values not kept. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/related.h"

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static int kind(const char *key)
{
	return lw_related_field_kind(key, strlen(key));
}

Test(related, field_table)
{
	cr_expect_eq(kind("source.ip"), LW_RELATED_IP);
	cr_expect_eq(kind("destination.ip"), LW_RELATED_IP);
	cr_expect_eq(kind("client.ip"), LW_RELATED_IP);
	cr_expect_eq(kind("host.ip"), LW_RELATED_IP);
	cr_expect_eq(kind("softether.nat.ip"), LW_RELATED_IP);
	cr_expect_eq(kind("user.name"), LW_RELATED_USER);
	cr_expect_eq(kind("user.target.name"), LW_RELATED_USER);
	cr_expect_eq(kind("destination.user.name"), LW_RELATED_USER);
	cr_expect_eq(kind("source.domain"), LW_RELATED_HOSTS);
	cr_expect_eq(kind("host.hostname"), LW_RELATED_HOSTS);
	cr_expect_eq(kind("source.port"), -1);
	cr_expect_eq(kind("ip"), -1);
	cr_expect_eq(kind("user.names"), -1);
	cr_expect_eq(kind("source.ipv6"), -1);
}

static void collect(enum lw_related_kind k, const char *v, size_t len, void *arg)
{
	lw_related_add(arg, k, v, len);
}

Test(related, values_of_an_event)
{
	struct lw_field f[] = {
		{S("source.ip"), S("203.0.113.50")},
		{S("user.name"), S("root")},
		{S("destination.ip"), S("10.1.2.3")},
		{S("source.port"), S("2222")},
		{S("source.domain"), S("")},          /* empty: left out */
		{S("source.ip"), S("203.0.113.50")},  /* again: kept once */
	};
	struct lw_event ev;
	struct lw_related_set s;

	memset(&ev, 0, sizeof(ev));
	ev.host = S("fw1");
	ev.fields = f;
	ev.nfields = sizeof(f) / sizeof(f[0]);
	lw_related_clear(&s);
	lw_related_of_event(&ev, collect, &s);
	cr_assert_eq(s.n[LW_RELATED_IP], 2);
	cr_expect_str_eq(lw_related_value(&s, LW_RELATED_IP, 0), "203.0.113.50");
	cr_expect_str_eq(lw_related_value(&s, LW_RELATED_IP, 1), "10.1.2.3");
	cr_assert_eq(s.n[LW_RELATED_USER], 1);
	cr_expect_str_eq(lw_related_value(&s, LW_RELATED_USER, 0), "root");
	cr_assert_eq(s.n[LW_RELATED_HOSTS], 1);
	cr_expect_str_eq(lw_related_value(&s, LW_RELATED_HOSTS, 0), "fw1");
	cr_expect_eq(lw_related_more(s.sketch[LW_RELATED_IP], s.n[LW_RELATED_IP]), 0);
}

/* 300 distinct addresses, each seen three times: 16 kept, the sketch
 * counts the others within a few percent. */
Test(related, bounded_with_an_estimate_of_the_rest)
{
	struct lw_related_set s, t;
	char ip[32];
	uint64_t more;

	lw_related_clear(&s);
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 300; i++) {
			snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 200, i % 200);
			lw_related_add(&s, LW_RELATED_IP, ip, strlen(ip));
		}
	cr_expect_eq(s.n[LW_RELATED_IP], 16);
	cr_expect_str_eq(lw_related_value(&s, LW_RELATED_IP, 15), "198.51.0.15");
	more = lw_related_more(s.sketch[LW_RELATED_IP], 16);
	cr_expect(more >= 270 && more <= 300, "estimated %llu more, 284 true",
		  (unsigned long long)more);
	/* Merging a set into a copy of itself adds nothing. */
	memcpy(&t, &s, sizeof(t));
	lw_related_merge(&t, &s);
	cr_expect_eq(t.n[LW_RELATED_IP], 16);
	cr_expect_eq(lw_related_more(t.sketch[LW_RELATED_IP], 16), more);
	/* A value of 256 bytes or more is counted, never kept. */
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		lw_related_clear(&t);
		lw_related_add(&t, LW_RELATED_HOSTS, big, sizeof(big));
		cr_expect_eq(t.n[LW_RELATED_HOSTS], 0);
		cr_expect_eq(lw_related_more(t.sketch[LW_RELATED_HOSTS], 0), 1);
	}
}
