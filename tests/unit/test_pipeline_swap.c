/* tests/unit/test_pipeline_swap.c - lw_pipeline_swap against a real store
 * in a mkdtemp directory: the new rules apply from the first batch
 * submitted after the swap and not to one before it (the evidence seq of
 * the incident says which event fired first), the old generation comes
 * back exactly once, and a swap posted while the writer idles is applied
 * without waiting for traffic. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/pipeline.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/log.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"
#include "store/incidents.h"
#include "store/store.h"

static char dir[] = "/tmp/lw_test_pipeline_swap.XXXXXX";
static struct lw_config *cfg, *cfg2;
static struct lw_store *store;
static struct lw_counters counters;
static struct lw_log log_;

static atomic_int swaps;
static const struct lw_config *old_cfg;
static const struct lw_ruleset *old_rs;

static void setup(void)
{
	struct lw_diag diag;

	cr_assert_not_null(mkdtemp(dir));
	cfg = malloc(sizeof(*cfg));
	cfg2 = malloc(sizeof(*cfg2));
	cr_assert(cfg != NULL && cfg2 != NULL);
	lw_config_defaults(cfg);
	cfg->batch_events = 16;
	cfg->queue_batches = 4;
	cfg->storage.flush_interval_ms = 3600 * 1000;
	cfg->storage.segment_bytes = 1u << 30;
	*cfg2 = *cfg;
	lw_counters_init(&counters);
	lw_log_init(&log_, stderr, LW_LOG_ERR);
	atomic_store(&swaps, 0);
	old_cfg = NULL;
	old_rs = NULL;
	cr_assert_eq(lw_store_open(dir, &(struct lw_store_opts){0}, &store, &diag), LW_OK,
		     "%s", diag.detail);
}

static void teardown(void)
{
	char cmd[128];

	lw_store_close(store);
	free(cfg);
	free(cfg2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(pipeline_swap, .init = setup, .fini = teardown, .timeout = 60);

static const char response_yml[] =
	"title: plan\nversion: 1\ncategories:\n"
	"  unauthorized-access: {title: U, level: high, steps: [s], notify: [n]}\n"
	"  dos: {title: D, level: high, steps: [s], notify: [n]}\n"
	"  anomalous-outbound: {title: A, level: high, steps: [s], notify: [n]}\n"
	"  malware: {title: M, level: high, steps: [s], notify: [n]}\n"
	"  data-exfiltration: {title: X, level: high, steps: [s], notify: [n]}\n"
	"  unauthorized-software: {title: S, level: high, steps: [s], notify: [n]}\n"
	"  log-tampering: {title: T, level: high, steps: [s], notify: [n]}\n"
	"  system-failure: {title: F, level: high, steps: [s], notify: [n]}\n";

static const char beta_yml[] =
	"title: beta\nid: 00000000-0000-4000-8000-0000000000b2\n"
	"tags: [logward.unauthorized-access]\nlogsource: {product: linux}\n"
	"detection:\n  selection:\n    message|contains: beta\n"
	"  condition: selection\nlevel: high\n";

static struct lw_ruleset *beta_rules(void)
{
	struct lw_ruleset *rs = lw_ruleset_new(NULL);
	struct lw_diags d;

	cr_assert_not_null(rs);
	lw_diags_init(&d);
	cr_assert_eq(lw_ruleset_load_detection_string(rs, "beta.yml", beta_yml,
						      strlen(beta_yml), &d), LW_OK);
	cr_assert_eq(lw_ruleset_load_response_string(rs, "response.yml", response_yml,
						     strlen(response_yml), &d), LW_OK);
	cr_assert_eq(lw_ruleset_build(rs, &d), LW_OK);
	lw_diags_release(&d);
	return rs;
}

static void on_swapped(void *arg, const struct lw_pipeline_gen *old)
{
	(void)arg;
	old_cfg = old->cfg;
	old_rs = old->ruleset;
	cr_expect_null(old->scratch, "the pipeline freed the old scratch");
	atomic_fetch_add(&swaps, 1);
}

static void submit(struct lw_pipeline *p, uint32_t n, const char *msg)
{
	struct lw_batch *b = lw_pipeline_acquire(p, 1);
	int64_t now = lw_time_now_ns();

	cr_assert_not_null(b);
	for (uint32_t i = 0; i < n; i++) {
		struct lw_event *ev = lw_batch_push(b);

		ev->timestamp_ns = now;
		ev->created_ns = now;
		ev->host = LW_STR_LIT("host1");
		ev->app = LW_STR_LIT("app");
		ev->message.ptr = msg;
		ev->message.len = (uint32_t)strlen(msg);
		b->raw_bytes += strlen(msg);
	}
	lw_pipeline_submit(p, b);
}

struct found {
	int n;
	uint64_t count, first_evidence;
	char rule[64];
};

static int on_incident(const struct lw_incident_view *v, void *arg)
{
	struct found *f = arg;

	f->n++;
	f->count = v->count;
	f->first_evidence = v->nevidence > 0 ? lw_incident_evidence(v, 0) : UINT64_MAX;
	snprintf(f->rule, sizeof(f->rule), "%.*s", (int)v->rule_id.len, v->rule_id.ptr);
	return 0;
}

static struct found incidents(void)
{
	struct lw_store_reader *rd;
	struct found f;

	memset(&f, 0, sizeof(f));
	cr_assert_eq(lw_store_reader_open(store, &rd, NULL), LW_OK);
	cr_assert_eq(lw_incidents_list(rd, &(struct lw_incidents_filter){0},
				       on_incident, &f, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	return f;
}

Test(pipeline_swap, new_rules_apply_from_the_first_batch_after_the_swap)
{
	struct lw_pipeline *p;
	struct lw_ruleset *rs = beta_rules();
	struct lw_correlation *corr = lw_correlation_new(rs);
	struct lw_ruleset_scratch *scratch = lw_ruleset_scratch_new(rs);
	struct found f;

	cr_assert(corr != NULL && scratch != NULL);
	cr_assert_eq(lw_pipeline_start(&(struct lw_pipeline_opts){.cfg = cfg,
					.store = store, .log = &log_,
					.counters = &counters}, &p, NULL), LW_OK);
	/* Several batches queued before the swap, so it cannot just apply
	 * at the next wakeup: it waits for the last of them. */
	for (int i = 0; i < 3; i++)
		submit(p, 5, "beta, before the swap");
	lw_pipeline_swap(p, &(struct lw_pipeline_gen){.cfg = cfg2, .ruleset = rs,
			 .correlation = corr, .scratch = scratch}, on_swapped, NULL);
	submit(p, 3, "beta, after the swap");
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(atomic_load(&swaps), 1);
	cr_expect(old_cfg == cfg, "the old config comes back");
	cr_expect_null(old_rs, "the pipeline started without rules");
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 18);
	f = incidents();
	cr_expect_eq(f.n, 1);
	cr_expect_str_eq(f.rule, "00000000-0000-4000-8000-0000000000b2");
	cr_expect_eq(f.first_evidence, 15, "event 15 is the first one after the swap");
	lw_correlation_free(corr);
	lw_ruleset_free(rs);
}

Test(pipeline_swap, an_idle_writer_applies_the_swap_without_traffic)
{
	struct lw_pipeline *p;
	struct lw_ruleset *rs = beta_rules();
	struct lw_correlation *corr = lw_correlation_new(rs);
	struct lw_ruleset_scratch *scratch = lw_ruleset_scratch_new(rs);

	cr_assert(corr != NULL && scratch != NULL);
	cr_assert_eq(lw_pipeline_start(&(struct lw_pipeline_opts){.cfg = cfg,
					.store = store, .log = &log_,
					.counters = &counters, .ruleset = rs,
					.correlation = corr}, &p, NULL), LW_OK);
	lw_pipeline_swap(p, &(struct lw_pipeline_gen){.cfg = cfg2}, on_swapped, NULL);
	for (int i = 0; i < 2000 && atomic_load(&swaps) == 0; i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	cr_expect_eq(atomic_load(&swaps), 1, "applied while nothing arrives");
	cr_expect(old_cfg == cfg);
	cr_expect(old_rs == rs, "the old rules come back to be freed");
	submit(p, 2, "beta, without rules now");
	cr_assert_eq(lw_pipeline_stop(p, NULL), LW_OK);
	cr_expect_eq(lw_counters_get(&counters, LW_CTR_STORED), 2);
	cr_expect_eq(incidents().n, 0, "no rules after the swap");
	lw_ruleset_scratch_free(scratch); /* never handed over */
	lw_correlation_free(corr);
	lw_ruleset_free(rs);
}
