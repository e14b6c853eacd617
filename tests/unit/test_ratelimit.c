/* Token buckets per source in a bounded table (core/ratelimit). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/ratelimit.h"

#define SEC 1000000000LL
#define T0 (1000 * SEC) /* any monotonic time > 0 */

static struct lw_ratelimit_key key_v4(const char *ip)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct lw_ratelimit_key k;

	cr_assert_eq(inet_pton(AF_INET, ip, &in.sin_addr), 1);
	lw_ratelimit_key_of((struct sockaddr *)&in, &k);
	return k;
}

Test(ratelimit, burst_passes_then_one_token_per_interval)
{
	struct lw_ratelimit *rl = lw_ratelimit_new(10, 5, 64, 42);
	struct lw_ratelimit_key k = key_v4("10.0.0.1");

	cr_assert_not_null(rl);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(lw_ratelimit_take(rl, &k, T0), 0, "token %d of the burst", i);
	/* Empty: the next token comes one interval (100 ms) later. */
	cr_expect_eq(lw_ratelimit_take(rl, &k, T0), SEC / 10);
	cr_expect_eq(lw_ratelimit_take(rl, &k, T0 + SEC / 20), SEC / 20,
		     "a refusal takes nothing: the wait shrinks with time");
	cr_expect_eq(lw_ratelimit_take(rl, &k, T0 + SEC / 10), 0);
	cr_expect_gt(lw_ratelimit_take(rl, &k, T0 + SEC / 10), 0);
	/* After a long quiet spell the bucket is full again, not fuller. */
	for (int i = 0; i < 5; i++)
		cr_expect_eq(lw_ratelimit_take(rl, &k, T0 + 60 * SEC), 0);
	cr_expect_gt(lw_ratelimit_take(rl, &k, T0 + 60 * SEC), 0);
	lw_ratelimit_free(rl);
}

Test(ratelimit, sustained_rate_is_the_configured_rate)
{
	struct lw_ratelimit *rl = lw_ratelimit_new(1000, 1, 16, 7);
	struct lw_ratelimit_key k = key_v4("10.0.0.1");
	int passed = 0;

	/* 10 s offered at 100k/s (every 10 us): exactly 1000/s get through. */
	for (int64_t t = 0; t < 10 * SEC; t += 10000)
		passed += lw_ratelimit_take(rl, &k, T0 + t) == 0;
	cr_expect_eq(passed, 10000);
	lw_ratelimit_free(rl);
}

Test(ratelimit, sources_have_separate_buckets)
{
	struct lw_ratelimit *rl = lw_ratelimit_new(1, 2, 64, 42);
	struct lw_ratelimit_key a = key_v4("10.0.0.1"), b = key_v4("10.0.0.2");

	cr_expect_eq(lw_ratelimit_take(rl, &a, T0), 0);
	cr_expect_eq(lw_ratelimit_take(rl, &a, T0), 0);
	cr_expect_gt(lw_ratelimit_take(rl, &a, T0), 0);
	cr_expect_eq(lw_ratelimit_take(rl, &b, T0), 0, "a's flood costs b nothing");
	cr_expect_eq(lw_ratelimit_take(rl, &b, T0), 0);
	cr_expect_gt(lw_ratelimit_take(rl, &b, T0), 0);
	lw_ratelimit_free(rl);
}

Test(ratelimit, v4_mapped_v6_is_the_same_source_as_v4)
{
	struct lw_ratelimit *rl = lw_ratelimit_new(1, 1, 16, 42);
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct lw_ratelimit_key k4 = key_v4("192.0.2.7"), k6;

	cr_assert_eq(inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr), 1);
	lw_ratelimit_key_of((struct sockaddr *)&in6, &k6);
	cr_expect_eq(memcmp(&k4, &k6, sizeof(k4)), 0);
	cr_expect_eq(lw_ratelimit_take(rl, &k4, T0), 0);
	cr_expect_gt(lw_ratelimit_take(rl, &k6, T0), 0);
	lw_ratelimit_free(rl);
}

Test(ratelimit, spoofed_flood_keeps_memory_fixed_and_evicts_least_recent)
{
	struct lw_ratelimit *rl = lw_ratelimit_new(10, 1, 256, 42);
	struct lw_ratelimit_key victim = key_v4("10.9.9.9");
	size_t bytes = lw_ratelimit_bytes(rl);

	cr_assert_eq(lw_ratelimit_take(rl, &victim, T0), 0);
	/* 100k distinct sources through a 256-slot table. */
	for (uint32_t i = 0; i < 100000; i++) {
		struct lw_ratelimit_key k = {{0}};

		memcpy(k.b + 12, &i, sizeof(i));
		cr_assert_eq(lw_ratelimit_take(rl, &k, T0 + 1 + i), 0,
			     "each new source starts with a full bucket");
	}
	cr_expect_eq(lw_ratelimit_bytes(rl), bytes, "no growth");
	cr_expect_geq(lw_ratelimit_evictions(rl), 100000 - 256);
	/* The victim was evicted long ago: it starts over with a full bucket. */
	cr_expect_eq(lw_ratelimit_take(rl, &victim, T0 + 200000), 0);
	lw_ratelimit_free(rl);
}

Test(ratelimit, a_recent_source_survives_a_flood_of_newcomers_in_its_window)
{
	/* 16 slots, probe 8: the flooder touches its own slot every time,
	 * so eviction (least recently seen) never picks it. */
	struct lw_ratelimit *rl = lw_ratelimit_new(1, 1, 16, 42);
	struct lw_ratelimit_key hot = key_v4("10.0.0.1");

	cr_assert_eq(lw_ratelimit_take(rl, &hot, T0), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		struct lw_ratelimit_key k = {{0}};

		memcpy(k.b, &i, sizeof(i));
		lw_ratelimit_take(rl, &k, T0 + 2 * i + 1);
		cr_assert_gt(lw_ratelimit_take(rl, &hot, T0 + 2 * i + 2), 0,
			     "the hot source keeps its empty bucket (round %u)", i);
	}
	lw_ratelimit_free(rl);
}

Test(ratelimit, rejects_zero_rate_or_burst)
{
	cr_expect_null(lw_ratelimit_new(0, 1, 16, 1));
	cr_expect_null(lw_ratelimit_new(1, 0, 16, 1));
}
