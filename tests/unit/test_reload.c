/* tests/unit/test_reload.c - lw_reload: which listeners keep their
 * socket, restart-only settings kept and named, the one-line description,
 * and lw_reload_load on real files in a mkdtemp directory: a good config
 * with rules, a bad config, a rule pack with two broken files (both named
 * with file and line, nothing returned). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector/reload.h"
#include "core/config.h"
#include "core/log.h"
#include "correlator/ruleset.h"

static char dir[] = "/tmp/lw_test_reload.XXXXXX";
static struct lw_config *a, *b;
static char *logtext;
static size_t loglen;
static FILE *log_file;
static struct lw_log log_;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	a = malloc(sizeof(*a));
	b = malloc(sizeof(*b));
	cr_assert(a != NULL && b != NULL);
	lw_config_defaults(a);
	lw_config_defaults(b);
	log_file = open_memstream(&logtext, &loglen);
	cr_assert_not_null(log_file);
	lw_log_init(&log_, log_file, LW_LOG_DEBUG);
}

static void teardown(void)
{
	char cmd[128];

	fclose(log_file);
	free(logtext);
	free(a);
	free(b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(reload, .init = setup, .fini = teardown, .timeout = 30);

static void write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void make_dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
}

static const char *log_so_far(void)
{
	fflush(log_file);
	return logtext != NULL ? logtext : "";
}

Test(reload, a_listener_keeps_its_socket_when_type_and_address_match)
{
	struct lw_listener_config x = a->listeners[1], y = x; /* tcp 127.0.0.1:5514 */

	cr_expect(lw_reload_same_socket(&x, &y));
	cr_expect(lw_reload_listener_equal(&x, &y));
	snprintf(y.zone, sizeof(y.zone), "lgwan");
	y.max_connections = 7;
	cr_expect(lw_reload_same_socket(&x, &y), "settings do not make another socket");
	cr_expect_not(lw_reload_listener_equal(&x, &y));
	y = x;
	snprintf(y.address, sizeof(y.address), "127.0.0.1:5515");
	cr_expect_not(lw_reload_same_socket(&x, &y));
	y = x;
	y.type = LW_LISTENER_UDP;
	cr_expect_not(lw_reload_same_socket(&x, &y), "udp and tcp on one port are two sockets");
	x = a->listeners[2]; /* unix: the path is the identity */
	y = x;
	snprintf(y.address, sizeof(y.address), "ignored:1");
	cr_expect(lw_reload_same_socket(&x, &y));
	snprintf(y.path, sizeof(y.path), "/tmp/other.sock");
	cr_expect_not(lw_reload_same_socket(&x, &y));
}

Test(reload, an_allow_list_change_is_a_setting_change)
{
	struct lw_listener_config x = a->listeners[1], y = x;

	y.allow.count = 1;
	y.allow.items[0].family = 2;
	y.allow.items[0].prefix = 8;
	y.allow.items[0].addr[0] = 10;
	cr_expect_not(lw_reload_listener_equal(&x, &y));
	x = y;
	cr_expect(lw_reload_listener_equal(&x, &y));
	x.allow.items[0].prefix = 16;
	cr_expect_not(lw_reload_listener_equal(&x, &y));
}

/* A kept listener: a key it takes at once makes it "changed"; a key it
 * fixed when it opened is also named for the "needs a restart" line. */
Test(reload, kept_listener_changes_are_sorted_by_the_key_table)
{
	struct lw_listener_config x = a->listeners[1], y = x;
	char names[256];

	y.idle_timeout_ms = 1000;
	cr_expect_not(lw_reload_listener_equal(&x, &y));
	cr_expect_eq(lw_reload_listener_open_changes(&x, &y, names, sizeof(names)), 0);
	cr_expect_str_eq(names, "");
	y = x;
	y.handshake_timeout_ms = 1000;
	y.rate_limit.max_sources = 16;
	cr_expect_not(lw_reload_listener_equal(&x, &y));
	cr_expect_eq(lw_reload_listener_open_changes(&x, &y, names, sizeof(names)), 2);
	cr_expect_str_eq(names, "handshake_timeout, rate_limit.max_sources");
	y = x;
	y.max_body_bytes = 1;
	cr_expect_not(lw_reload_listener_equal(&x, &y), "a key reload.c never named by hand");
}

Test(reload, restart_only_settings_keep_the_running_values_and_are_named)
{
	char ignored[512];

	snprintf(b->data_dir, sizeof(b->data_dir), "/elsewhere");
	snprintf(b->user, sizeof(b->user), "root");
	b->storage.map_size = 1u << 30;
	b->queue_batches = 8;
	b->batch_events = 99;
	b->nnotify = 1;
	b->notify[0].type = LW_NOTIFY_FILE;
	snprintf(b->notify[0].path, sizeof(b->notify[0].path), "/tmp/n.jsonl");
	b->storage.flush_interval_ms = 250; /* reloadable: stays */
	lw_reload_keep_restart_only(a, b, ignored, sizeof(ignored));
	cr_expect_str_eq(ignored, "data_dir, user, storage.map_size, queue_batches, batch_events, notify");
	cr_expect_str_eq(b->data_dir, a->data_dir);
	cr_expect_str_eq(b->user, a->user);
	cr_expect_eq(b->storage.map_size, a->storage.map_size);
	cr_expect_eq(b->queue_batches, a->queue_batches);
	cr_expect_eq(b->batch_events, a->batch_events);
	cr_expect_eq(b->nnotify, 0);
	cr_expect_eq(b->storage.flush_interval_ms, 250);
	lw_reload_keep_restart_only(a, b, ignored, sizeof(ignored));
	cr_expect_str_eq(ignored, "", "nothing left to ignore");
}

Test(reload, reloadable_settings_are_described_in_one_line)
{
	char out[512] = "";

	lw_reload_describe_settings(a, b, out, sizeof(out));
	cr_expect_str_eq(out, "");
	b->storage.flush_interval_ms = 200;
	b->max_clock_skew_s = 60;
	b->nzones = 1;
	snprintf(b->zones[0].name, sizeof(b->zones[0].name), "lgwan");
	snprintf(b->timezone, sizeof(b->timezone), "UTC");
	snprintf(b->rule_dirs[0], sizeof(b->rule_dirs[0]), "/etc/logward/rules");
	lw_reload_describe_settings(a, b, out, sizeof(out));
	cr_expect_str_eq(out, "zones changed (0 -> 1 zones); timezone '' -> 'UTC'; "
			 "max_clock_skew 300s -> 60s; storage.flush_interval 1000ms -> 200ms; "
			 "rule directories changed");
}

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

static void rule(const char *file, const char *id, const char *word)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "title: t %s\nid: %s\ntags: [logward.unauthorized-access]\n"
		 "logsource: {product: linux}\n"
		 "detection:\n  selection:\n    message|contains: %s\n"
		 "  condition: selection\nlevel: high\n", word, id, word);
	write_file(file, text);
}

/* A config in dir naming dir/rules, with a TCP listener. */
static void write_config(const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "data_dir: %s/data\ntimezone: UTC\nrules: [%s/rules]\n"
		 "listeners:\n  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}\n%s",
		 dir, dir, extra);
	write_file("logward.yml", text);
	snprintf(a->path, sizeof(a->path), "%s/logward.yml", dir);
	snprintf(a->data_dir, sizeof(a->data_dir), "%s/data", dir);
}

static void make_rules(void)
{
	make_dir("rules");
	make_dir("rules/detection");
	write_file("rules/response.yml", response_yml);
	rule("rules/detection/alpha.yml", "00000000-0000-4000-8000-0000000000a1", "alpha");
}

Test(reload, a_good_config_loads_with_its_rules_and_a_description)
{
	struct lw_reload r;

	make_rules();
	write_config("storage: {flush_interval: 300ms, map_size: 1GiB}\n");
	lw_reload_load(a, NULL, &log_, &r);
	cr_assert_eq(r.rc, LW_OK, "%s", log_so_far());
	cr_assert_not_null(r.cfg);
	cr_assert_not_null(r.rs);
	cr_expect_not_null(r.corr);
	cr_expect_not_null(r.scratch);
	cr_expect_not_null(r.tz);
	cr_expect_eq(r.cfg->nlisteners, 1);
	cr_expect_eq(r.cfg->storage.flush_interval_ms, 300);
	cr_expect_eq(r.cfg->storage.map_size, a->storage.map_size, "restart-only: kept");
	cr_expect_str_eq(r.ignored, "storage.map_size");
	cr_expect_str_eq(r.changes, "timezone '' -> 'UTC'; storage.flush_interval 1000ms -> 300ms; "
			 "rule directories changed; detection rules 0 -> 1 (+1 -0); "
			 "correlation rules 0 -> 0 (+0 -0)");
	cr_expect_eq(lw_ruleset_rule_count(r.rs), 1);
	lw_reload_release(&r);
	cr_expect_null(r.cfg);
	cr_expect_null(r.rs);
}

Test(reload, rules_are_compared_by_id)
{
	struct lw_reload r1, r2;
	char out[256] = "";

	make_rules();
	write_config("");
	lw_reload_load(a, NULL, &log_, &r1);
	cr_assert_eq(r1.rc, LW_OK, "%s", log_so_far());
	rule("rules/detection/beta.yml", "00000000-0000-4000-8000-0000000000b2", "beta");
	rule("rules/detection/gamma.yml", "00000000-0000-4000-8000-0000000000c3", "gamma");
	remove(strcat(strcpy(out, dir), "/rules/detection/alpha.yml"));
	out[0] = '\0';
	lw_reload_load(r1.cfg, r1.rs, &log_, &r2);
	cr_assert_eq(r2.rc, LW_OK, "%s", log_so_far());
	lw_reload_describe_rules(r1.rs, r2.rs, out, sizeof(out));
	cr_expect_str_eq(out, "detection rules 1 -> 2 (+2 -1); correlation rules 0 -> 0 (+0 -0)");
	cr_expect_str_eq(r2.changes, out, "same config: only the rules changed");
	lw_reload_release(&r2);
	lw_reload_release(&r1);
}

Test(reload, a_bad_config_is_rejected_and_named)
{
	struct lw_reload r;

	make_rules();
	write_config("no_such_key: 1\n");
	lw_reload_load(a, NULL, &log_, &r);
	cr_expect_eq(r.rc, LW_EINVAL);
	cr_expect_null(r.cfg);
	cr_expect_null(r.rs);
	cr_expect(strstr(log_so_far(), "invalid configuration") != NULL, "%s", log_so_far());
	cr_expect(strstr(log_so_far(), "logward.yml:6:") != NULL, "file and line: %s", log_so_far());
	cr_expect(strstr(log_so_far(), "no_such_key") != NULL, "%s", log_so_far());
}

Test(reload, every_broken_rule_file_is_named_and_nothing_is_returned)
{
	struct lw_reload r;

	make_rules();
	write_config("");
	write_file("rules/detection/broken.yml", "title: x\nid: [unclosed\n");
	write_file("rules/detection/modifier.yml",
		   "title: m\nid: 00000000-0000-4000-8000-0000000000d4\n"
		   "logsource: {product: linux}\ndetection:\n  selection:\n"
		   "    message|nosuch: x\n  condition: selection\nlevel: high\n");
	lw_reload_load(a, NULL, &log_, &r);
	cr_expect_eq(r.rc, LW_EPARSE);
	cr_expect_null(r.cfg);
	cr_expect_null(r.rs);
	cr_expect_null(r.scratch);
	cr_expect(strstr(log_so_far(), "detection/broken.yml:3:") != NULL, "%s", log_so_far());
	cr_expect(strstr(log_so_far(), "detection/modifier.yml:6:") != NULL, "%s", log_so_far());
	cr_expect(strstr(log_so_far(), "cannot load rules; error='2 error(s)'") != NULL,
		  "%s", log_so_far());
}

Test(reload, a_missing_timezone_is_rejected)
{
	struct lw_reload r;

	make_rules();
	write_config("");
	write_file("logward.yml", "timezone: Nowhere/Atlantis\n");
	lw_reload_load(a, NULL, &log_, &r);
	cr_expect_neq(r.rc, LW_OK);
	cr_expect_null(r.cfg);
	cr_expect(strstr(log_so_far(), "invalid timezone") != NULL, "%s", log_so_far());
}
