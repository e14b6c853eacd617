/* Unit tests for collector/health: the persistent-loss watcher (raises
 * after loss_checks consecutive increases, updates while it lasts, ends
 * when a check sees no new drops, ignores counters that are not losses)
 * and the storage-failure episode (one incident, one loud line). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "collector/health.h"
#include "core/counters.h"
#include "store/incidents.h"

static struct lw_counters ctr;
static struct lw_health_config cfg = {.check_interval_ms = 100, .loss_checks = 3};
static struct lw_health *h;
static struct lw_log log_;
static FILE *logf_;
static char *logbuf;
static size_t loglen;
static struct lw_incidents_raise raises[LW_HEALTH_MAX_RAISES];

#define T0_NS 1700000000000000000LL

static void setup(void)
{
	lw_counters_init(&ctr);
	logf_ = open_memstream(&logbuf, &loglen);
	cr_assert_not_null(logf_);
	lw_log_init(&log_, logf_, LW_LOG_DEBUG);
	h = lw_health_new(&cfg, &log_);
	cr_assert_not_null(h);
}

static void teardown(void)
{
	lw_health_free(h);
	fclose(logf_);
	free(logbuf);
}

TestSuite(health, .init = setup, .fini = teardown);

/* Check number k (k >= 0) at its interval, after adding n udp drops. */
static void check(int k, uint64_t udp_drops)
{
	lw_counters_add(&ctr, LW_CTR_DROPPED_UDP, udp_drops);
	lw_health_check(h, &ctr, 1000 + 100 * (int64_t)k, T0_NS + (int64_t)k * 1000000);
}

static size_t count_lines(const char *needle)
{
	size_t n = 0;

	fflush(logf_);
	for (const char *p = logbuf; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

Test(health, loss_counters_are_chosen_by_name)
{
	cr_expect(lw_counter_is_loss(LW_CTR_DROPPED_UDP));
	cr_expect(lw_counter_is_loss(LW_CTR_DROPPED_KERNEL));
	cr_expect(lw_counter_is_loss(LW_CTR_INCIDENTS_DROPPED));
	cr_expect(lw_counter_is_loss(LW_CTR_NOTIFY_DROPPED));
	cr_expect(!lw_counter_is_loss(LW_CTR_RECEIVED));
	cr_expect(!lw_counter_is_loss(LW_CTR_NOTIFY_FAILED));
}

Test(health, raises_after_three_increasing_checks_with_every_drop)
{
	lw_counters_add(&ctr, LW_CTR_DROPPED_UDP, 500); /* restored history */
	check(0, 0);  /* baseline */
	check(1, 4);
	check(2, 5);
	cr_expect_eq(lw_health_pending(h), 0, "two increasing checks do not raise");
	cr_expect_eq(lw_health_gauge_losses(h), 0);
	check(3, 6);
	cr_assert_eq(lw_health_pending(h), 1);
	cr_expect_eq(lw_health_gauge_losses(h), 1);
	cr_assert_eq(lw_health_raises(h, raises, "{\"steps\":[],\"notify\":[]}", "high", 41, 1), 1);
	cr_expect_str_eq(raises[0].rule_id, LW_HEALTH_LOSS_RULE);
	cr_expect_str_eq(raises[0].category, "system-failure");
	cr_expect_str_eq(raises[0].level, "high");
	cr_expect_str_eq(raises[0].group, "{\"counter\":\"dropped_udp\"}");
	cr_expect_eq(raises[0].count, 15, "the drops of the whole streak, not the history");
	cr_expect_eq(raises[0].first_seen_ns, T0_NS + 1000000, "the streak's first check");
	cr_expect_eq(raises[0].last_seen_ns, T0_NS + 3000000);
	cr_assert_eq(raises[0].nevidence, 1);
	cr_expect_eq(raises[0].evidence[0], 41, "evidence: the last stored event");
	cr_expect_eq(count_lines("persistent loss"), 1);
}

Test(health, an_ongoing_loss_updates_with_new_drops_only)
{
	check(0, 0);
	for (int k = 1; k <= 3; k++)
		check(k, 2);
	cr_assert_eq(lw_health_raises(h, raises, "{}", "high", 0, 0), 1);
	cr_expect_eq(raises[0].count, 6);
	cr_expect_eq(raises[0].nevidence, 0, "no stored event: no evidence");
	lw_health_committed(h);
	cr_expect_eq(lw_health_pending(h), 0);
	check(4, 7);
	cr_assert_eq(lw_health_raises(h, raises, "{}", "high", 9, 1), 1);
	cr_expect_eq(raises[0].count, 7, "the update carries the new drops");
	cr_expect_str_eq(raises[0].group, "{\"counter\":\"dropped_udp\"}", "same identity: merged");
	lw_health_committed(h);
	check(5, 0);
	cr_expect_eq(lw_health_gauge_losses(h), 0, "a check without drops ends it");
	cr_expect_eq(count_lines("loss stopped"), 1);
	check(6, 3);
	cr_expect_eq(lw_health_pending(h), 0, "a new streak starts from one");
	cr_expect_eq(count_lines("persistent loss"), 1, "one loud line per episode");
}

/* The pipeline's committer stores a raise while the writer goes on
 * checking: what a check adds in between is still pending afterwards. */
Test(health, drops_between_raise_and_commit_stay_pending)
{
	check(0, 0);
	for (int k = 1; k <= 3; k++)
		check(k, 2);
	cr_assert_eq(lw_health_raises(h, raises, "{}", "high", 0, 0), 1);
	cr_expect_eq(raises[0].count, 6);
	check(4, 5); /* while that commit runs */
	lw_health_committed(h);
	cr_expect_eq(lw_health_pending(h), 1, "the 5 later drops are not forgotten");
	cr_assert_eq(lw_health_raises(h, raises, "{}", "high", 9, 1), 1);
	cr_expect_eq(raises[0].count, 5);
	lw_health_committed(h);
	cr_expect_eq(lw_health_pending(h), 0);

	lw_health_storage_failed(h, LW_ESTORE, "disk full", 0, T0_NS);
	cr_assert_eq(lw_health_raises(h, raises, "{}", "high", 9, 1), 1);
	lw_health_storage_failed(h, LW_ESTORE, "disk full", 250, T0_NS + 250);
	lw_health_committed(h);
	cr_assert_eq(lw_health_raises(h, raises, "{}", "high", 9, 1), 1);
	cr_expect_str_eq(raises[0].rule_id, LW_HEALTH_STORAGE_RULE);
	cr_expect_eq(raises[0].count, 1, "the attempt after the raise");
}

Test(health, checks_wait_for_the_interval)
{
	check(0, 0);
	lw_counters_add(&ctr, LW_CTR_DROPPED_KERNEL, 1);
	lw_health_check(h, &ctr, 1050, T0_NS); /* before 1000 + 100 */
	lw_health_check(h, &ctr, 1060, T0_NS);
	lw_health_check(h, &ctr, 1070, T0_NS);
	cr_expect_eq(lw_health_next_check_ms(h), 1100);
	cr_expect_eq(lw_health_pending(h), 0);
}

Test(health, other_counters_never_raise)
{
	for (int k = 0; k < 10; k++) {
		lw_counters_add(&ctr, LW_CTR_RECEIVED, 100);
		lw_counters_add(&ctr, LW_CTR_NOTIFY_FAILED, 1);
		check(k, 0);
	}
	cr_expect_eq(lw_health_pending(h), 0);
}

Test(health, storage_failure_is_one_incident_and_one_line)
{
	struct lw_metrics_gauges g;

	lw_health_storage_failed(h, LW_ESTORE, "lmdb commit: No space left on device", 0, T0_NS);
	lw_health_storage_failed(h, LW_ESTORE, "lmdb commit: No space left on device", 250, T0_NS + 250);
	lw_health_storage_failed(h, LW_ESTORE, "lmdb commit: No space left on device", 750, T0_NS + 750);
	cr_expect_eq(lw_health_gauge_storage_failing(h), 1);
	lw_health_gauges(h, &g);
	cr_expect_eq(g.have_health, 1);
	cr_expect_eq(g.storage_failing, 1);
	cr_expect_eq(count_lines("STORAGE FAILING"), 1, "one loud line, not one per retry");
	cr_assert_eq(lw_health_raises(h, raises, "{}", "critical", 99, 1), 1);
	cr_expect_str_eq(raises[0].rule_id, LW_HEALTH_STORAGE_RULE);
	cr_expect_str_eq(raises[0].category, "system-failure");
	cr_expect_str_eq(raises[0].group, "{}");
	cr_expect_eq(raises[0].count, 3, "failed attempts");
	cr_expect_eq(raises[0].first_seen_ns, T0_NS);
	cr_expect_eq(raises[0].last_seen_ns, T0_NS + 750);
	lw_health_committed(h);
	lw_health_storage_ok(h, 2000);
	cr_expect_eq(lw_health_gauge_storage_failing(h), 0);
	cr_expect_eq(lw_health_pending(h), 0);
	cr_expect_eq(count_lines("storage recovered"), 1);
	lw_health_storage_ok(h, 3000);
	cr_expect_eq(count_lines("storage recovered"), 1, "only an episode's end is logged");
}

Test(health, published_store_gauges_are_read_back)
{
	struct lw_metrics_gauges in = {.have_store = 1, .segments = 3, .events = 70,
				       .clock_skew_hosts = 2}, out;

	lw_health_publish_store(h, &in);
	lw_health_gauges(h, &out);
	cr_expect_eq(out.have_store, 1);
	cr_expect_eq(out.segments, 3);
	cr_expect_eq(out.events, 70);
	cr_expect_eq(out.clock_skew_hosts, 2);
	cr_expect_eq(out.storage_failing, 0);
}
