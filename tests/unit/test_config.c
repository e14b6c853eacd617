/* Config loading: defaults, every section, and errors that name file,
 * line, column and key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/config.h"

static int load(const char *yaml, struct lw_config *cfg, struct lw_diag *diag)
{
	memset(diag, 0, sizeof(*diag));
	return lw_config_load_string("test.yml", yaml, strlen(yaml), cfg, diag);
}

Test(config, defaults_are_loopback_udp_tcp_5514_and_unix_in_data_dir)
{
	struct lw_config cfg;

	lw_config_defaults(&cfg);
	cr_assert_str_eq(cfg.data_dir, "./var/logward");
	cr_assert_eq(cfg.nlisteners, 3);
	cr_expect_eq(cfg.listeners[0].type, LW_LISTENER_UDP);
	cr_expect_str_eq(cfg.listeners[0].address, "127.0.0.1:5514");
	cr_expect_eq(cfg.listeners[1].type, LW_LISTENER_TCP);
	cr_expect_str_eq(cfg.listeners[1].address, "127.0.0.1:5514");
	cr_expect_eq(cfg.listeners[2].type, LW_LISTENER_UNIX);
	cr_expect_str_eq(cfg.listeners[2].path, "./var/logward/log.sock");
	cr_expect_eq(cfg.listeners[1].max_message_bytes, 65536);
	cr_expect_eq(cfg.max_clock_skew_s, 300);
	cr_expect_eq(cfg.storage.segment_bytes, 8u << 20);
	cr_expect_eq(cfg.storage.compression_level, 1);
	cr_expect_eq(cfg.storage.flush_interval_ms, 1000);
	cr_expect_eq(cfg.nrule_dirs, 1);
}

Test(config, empty_file_means_defaults)
{
	struct lw_config cfg;
	struct lw_diag d;

	cr_assert_eq(load("", &cfg, &d), LW_OK);
	cr_expect_eq(cfg.nlisteners, 3);
}

Test(config, design_example_loads)
{
	static const char yaml[] =
		"data_dir: /tmp/lw\n"
		"timezone: Asia/Tokyo\n"
		"max_clock_skew: 2m\n"
		"listeners:\n"
		"  - {type: udp,  address: \"127.0.0.1:5514\", zone: internet}\n"
		"  - {type: tcp,  address: \"127.0.0.1:5514\", zone: internet, framing: auto}\n"
		"  - {type: tls,  address: \"127.0.0.1:6514\", zone: lgwan,\n"
		"     cert: etc/server.pem, key: etc/server.key, ca: etc/ca.pem, verify_client: true}\n"
		"  - {type: unix, path: ./var/logward/log.sock, zone: lgwan}\n"
		"  - {type: journal-http, address: \"127.0.0.1:19532\", zone: mynumber,\n"
		"     max_message_size: 1MiB, idle_timeout: 30s, allow: [127.0.0.0/8]}\n"
		"zones:\n"
		"  mynumber: [10.10.0.0/16]\n"
		"  lgwan:    [10.20.0.0/16]\n"
		"  internet: [10.30.0.0/16, \"2001:db8::/32\"]\n"
		"storage: {segment_bytes: 4MiB, flush_interval: 1s, max_age: 400d, max_bytes: 100GiB}\n"
		"rules: [rules/, /etc/logward/rules]\n";
	struct lw_config cfg;
	struct lw_diag d;

	cr_assert_eq(load(yaml, &cfg, &d), LW_OK, "%s", d.detail);
	cr_expect_str_eq(cfg.data_dir, "/tmp/lw");
	cr_expect_str_eq(cfg.timezone, "Asia/Tokyo");
	cr_expect_eq(cfg.max_clock_skew_s, 120);
	cr_assert_eq(cfg.nlisteners, 5);
	cr_expect_eq(cfg.listeners[2].type, LW_LISTENER_TLS);
	cr_expect_eq(cfg.listeners[2].verify_client, 1);
	cr_expect_str_eq(cfg.listeners[2].ca, "etc/ca.pem");
	cr_expect_str_eq(cfg.listeners[3].path, "./var/logward/log.sock");
	cr_expect_eq(cfg.listeners[4].type, LW_LISTENER_JOURNAL_HTTP);
	cr_expect_eq(cfg.listeners[4].max_message_bytes, 1u << 20);
	cr_expect_eq(cfg.listeners[4].idle_timeout_ms, 30000);
	cr_expect_eq(cfg.listeners[4].allow.count, 1);
	cr_assert_eq(cfg.nzones, 3);
	cr_expect_str_eq(cfg.zones[2].name, "internet");
	cr_expect_eq(cfg.zones[2].cidrs.count, 2);
	cr_expect_eq(cfg.storage.max_age_s, 400ull * 86400);
	cr_expect_eq(cfg.storage.max_bytes, 100ull << 30);
	cr_assert_eq(cfg.nrule_dirs, 2);
	cr_expect_str_eq(cfg.rule_dirs[1], "/etc/logward/rules");
}

Test(config, unknown_key_names_line_column_and_key)
{
	struct lw_config cfg;
	struct lw_diag d;
	char msg[1024];

	cr_assert_eq(load("data_dir: x\nstorage:\n  segmnet_bytes: 4MiB\n", &cfg, &d), LW_EINVAL);
	lw_diag_format(&d, msg, sizeof(msg));
	cr_expect_str_eq(msg, "test.yml:3:3: unknown key 'segmnet_bytes' in storage");
}

Test(config, bad_values_are_errors_with_position)
{
	struct lw_config cfg;
	struct lw_diag d;

	cr_expect_eq(load("max_clock_skew: soon\n", &cfg, &d), LW_EINVAL);
	cr_expect_eq(d.line, 1);
	cr_expect_eq(d.col, 17);
	cr_expect(strstr(d.detail, "max_clock_skew") != NULL);

	cr_expect_eq(load("listeners:\n  - {type: sctp, address: \"127.0.0.1:1\"}\n", &cfg, &d), LW_EINVAL);
	cr_expect_eq(d.line, 2);
	cr_expect(strstr(d.detail, "sctp") != NULL);

	cr_expect_eq(load("zones:\n  lgwan: [10.20.0.0/33]\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "10.20.0.0/33") != NULL);

	cr_expect_eq(load("listeners:\n  - {type: tcp}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "address") != NULL);

	cr_expect_eq(load("storage: {segment_bytes: 1}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "out of range") != NULL);

	cr_expect_eq(load("listeners:\n  - {type: journal-http, address: \"127.0.0.1:0\", cert: s.pem}\n",
			  &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "journal-http over HTTPS needs both") != NULL, "%s", d.detail);

	cr_expect_eq(load("storage: {compression_level: 0}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "compression_level") != NULL);
	cr_expect_eq(load("storage: {compression_level: 20}\n", &cfg, &d), LW_EINVAL);
	cr_expect_eq(load("storage: {compression_level: 19}\n", &cfg, &d), LW_OK);
	cr_expect_eq(cfg.storage.compression_level, 19);

	cr_expect_eq(load("listeners:\n  - {type: tcp, address: a, verify_client: maybe}\n", &cfg, &d), LW_EINVAL);
}

Test(config, yaml_syntax_error_has_position)
{
	struct lw_config cfg;
	struct lw_diag d;

	cr_expect_eq(load("listeners: [\n  {type: udp\n", &cfg, &d), LW_EPARSE);
	cr_expect_gt(d.line, 0);
	cr_expect(strstr(d.detail, "YAML") != NULL);
}

Test(config, data_dir_moves_default_unix_socket)
{
	struct lw_config cfg;
	struct lw_diag d;

	cr_assert_eq(load("data_dir: /srv/lw\n", &cfg, &d), LW_OK);
	cr_expect_str_eq(cfg.listeners[2].path, "/srv/lw/log.sock");
}

Test(config, missing_file_is_eio)
{
	struct lw_config cfg;
	struct lw_diag d;

	cr_expect_eq(lw_config_load("/nonexistent/logward.yml", &cfg, &d), LW_EIO);
	cr_expect_str_eq(d.file, "/nonexistent/logward.yml");
}

Test(config, zone_of_address)
{
	struct lw_config cfg;
	struct lw_diag d;
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

	cr_assert_eq(load("zones:\n  mynumber: [10.10.0.0/16]\n  lgwan: [10.20.0.0/16, 127.0.0.0/8]\n",
			  &cfg, &d), LW_OK);
	inet_pton(AF_INET, "10.10.3.4", &in.sin_addr);
	cr_expect_str_eq(lw_config_zone_of(&cfg, (struct sockaddr *)&in), "mynumber");
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	cr_expect_str_eq(lw_config_zone_of(&cfg, (struct sockaddr *)&in), "lgwan");
	inet_pton(AF_INET, "10.30.0.1", &in.sin_addr);
	cr_expect_null(lw_config_zone_of(&cfg, (struct sockaddr *)&in));
	inet_pton(AF_INET6, "::ffff:10.10.9.9", &in6.sin6_addr);
	cr_expect_str_eq(lw_config_zone_of(&cfg, (struct sockaddr *)&in6), "mynumber");
}

Test(config, sizes_and_durations)
{
	uint64_t v;

	cr_expect_eq(lw_parse_size("4MiB", &v), LW_OK);
	cr_expect_eq(v, 4u << 20);
	cr_expect_eq(lw_parse_size("64k", &v), LW_OK);
	cr_expect_eq(v, 64000);
	cr_expect_eq(lw_parse_size("100GiB", &v), LW_OK);
	cr_expect_eq(v, 100ull << 30);
	cr_expect_eq(lw_parse_size("12", &v), LW_OK);
	cr_expect_eq(v, 12);
	cr_expect_eq(lw_parse_size("-1", &v), LW_EINVAL);
	cr_expect_eq(lw_parse_size("4 parsecs", &v), LW_EINVAL);
	cr_expect_eq(lw_parse_duration_ms("250ms", &v), LW_OK);
	cr_expect_eq(v, 250);
	cr_expect_eq(lw_parse_duration_ms("400d", &v), LW_OK);
	cr_expect_eq(v, 400ull * 86400000);
	cr_expect_eq(lw_parse_duration_ms("5", &v), LW_EINVAL);
	cr_expect_eq(lw_parse_duration_ms("5y", &v), LW_EINVAL);
}

Test(config, shipped_example_file_loads)
{
	struct lw_config cfg;
	struct lw_diag d = {0};
	char path[4096];
	const char *src = getenv("LW_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/etc/logward.yml", src ? src : ".");
	cr_assert_eq(lw_config_load(path, &cfg, &d), LW_OK, "%s:%d: %s", d.file, d.line, d.detail);
	cr_expect_eq(cfg.nlisteners, 3);
	cr_expect_eq(cfg.listeners[1].idle_timeout_ms, 600000);
}

Test(config, notify_outputs_load)
{
	static struct lw_config cfg;
	struct lw_diag d;

	cr_assert_eq(load("notify:\n"
			  "  - {type: file, path: ./var/logward/incidents.jsonl}\n"
			  "  - {type: exec, argv: [/usr/local/bin/page-oncall, --urgent],\n"
			  "     timeout: 10s, max_attempts: 3, min_level: high}\n"
			  "notify_queue: 64\n", &cfg, &d), LW_OK, "%s", d.detail);
	cr_assert_eq(cfg.nnotify, 2);
	cr_expect_eq(cfg.notify[0].type, LW_NOTIFY_FILE);
	cr_expect_str_eq(cfg.notify[0].path, "./var/logward/incidents.jsonl");
	cr_expect_eq(cfg.notify[0].timeout_ms, 10000, "default timeout");
	cr_expect_eq(cfg.notify[0].max_attempts, 5, "default attempts");
	cr_expect_eq(cfg.notify[0].min_level, 0);
	cr_expect_eq(cfg.notify[1].type, LW_NOTIFY_EXEC);
	cr_assert_eq(cfg.notify[1].argv.n, 2);
	cr_expect_str_eq(cfg.notify[1].argv.v[0], "/usr/local/bin/page-oncall");
	cr_expect_str_eq(cfg.notify[1].argv.v[1], "--urgent");
	cr_expect_eq(cfg.notify[1].timeout_ms, 10000);
	cr_expect_eq(cfg.notify[1].max_attempts, 3);
	cr_expect_eq(cfg.notify[1].min_level, 3);
	cr_expect_eq(cfg.notify_queue, 64);
	cr_expect_eq(cfg.rules_explicit, 0);
}

Test(config, notify_errors_name_the_line)
{
	static struct lw_config cfg;
	struct lw_diag d;

	cr_expect_eq(load("notify:\n  - {type: mail}\n", &cfg, &d), LW_EINVAL);
	cr_expect_eq(d.line, 2);
	cr_expect(strstr(d.detail, "unknown value 'mail'") != NULL, "%s", d.detail);
	cr_expect_eq(load("notify:\n  - {type: file}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "'path' is required") != NULL, "%s", d.detail);
	cr_expect_eq(load("notify:\n  - {type: exec, argv: []}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "'argv' is required") != NULL, "%s", d.detail);
	cr_expect_eq(load("notify:\n  - {type: exec, argv: [page-oncall]}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "must be a path") != NULL, "%s", d.detail);
	cr_expect_eq(load("notify:\n  - {type: exec, argv: /bin/true}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "expected a list") != NULL, "%s", d.detail);
	cr_expect_eq(load("notify:\n  - {type: file, path: x, min_level: severe}\n", &cfg, &d), LW_EINVAL);
	cr_expect_eq(load("notify:\n  - {type: file, path: x, colour: red}\n", &cfg, &d), LW_EINVAL);
	cr_expect(strstr(d.detail, "unknown key 'colour'") != NULL, "%s", d.detail);
	cr_expect_eq(load("notify: {type: file}\n", &cfg, &d), LW_EINVAL);
}

Test(config, rules_key_marks_rule_dirs_explicit)
{
	static struct lw_config cfg;
	struct lw_diag d;

	cr_assert_eq(load("rules: [rules/, /etc/logward/rules]\n", &cfg, &d), LW_OK);
	cr_expect_eq(cfg.rules_explicit, 1);
	cr_expect_eq(cfg.nrule_dirs, 2);
}

Test(config, listener_guards_load_with_defaults)
{
	static const char yaml[] =
		"listeners:\n"
		"  - {type: udp, address: \"127.0.0.1:0\", allow: [10.20.0.0/16, \"::1\"],\n"
		"     rate_limit: {events_per_second: 500}}\n"
		"  - {type: tls, address: \"127.0.0.1:0\", cert: s.pem, key: s.key, ca: ca.pem,\n"
		"     verify_client: true, frame_timeout: 5s, handshake_timeout: 2s,\n"
		"     rate_limit: {events_per_second: 100, burst: 1000, max_sources: 64}}\n";
	struct lw_config cfg;
	struct lw_diag diag = {0};
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};

	cr_assert_eq(load(yaml, &cfg, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(cfg.listeners[0].rate_limit.events_per_second, 500);
	cr_expect_eq(cfg.listeners[0].rate_limit.burst, 500, "burst defaults to the rate");
	cr_expect_eq(cfg.listeners[0].rate_limit.max_sources, 4096);
	cr_expect_eq(cfg.listeners[0].frame_timeout_ms, 60000);
	cr_expect_eq(cfg.listeners[1].rate_limit.burst, 1000);
	cr_expect_eq(cfg.listeners[1].rate_limit.max_sources, 64);
	cr_expect_eq(cfg.listeners[1].frame_timeout_ms, 5000);
	cr_expect_eq(cfg.listeners[1].handshake_timeout_ms, 2000);
	cr_expect_eq(cfg.listeners[1].verify_client, 1);
	/* The allow decision a listener makes per sender. */
	inet_pton(AF_INET, "10.20.3.4", &in.sin_addr);
	cr_expect(lw_cidr_list_contains(&cfg.listeners[0].allow, (struct sockaddr *)&in));
	inet_pton(AF_INET6, "::ffff:10.20.3.4", &mapped.sin6_addr);
	cr_expect(lw_cidr_list_contains(&cfg.listeners[0].allow, (struct sockaddr *)&mapped),
		  "a dual-stack socket's v4-mapped sender matches the IPv4 range");
	inet_pton(AF_INET, "10.21.0.1", &in.sin_addr);
	cr_expect(!lw_cidr_list_contains(&cfg.listeners[0].allow, (struct sockaddr *)&in));
	inet_pton(AF_INET6, "::1", &mapped.sin6_addr);
	cr_expect(lw_cidr_list_contains(&cfg.listeners[0].allow, (struct sockaddr *)&mapped));
}

Test(config, listener_guard_errors)
{
	struct lw_config cfg;
	struct lw_diag diag = {0};

	cr_expect_eq(load("listeners:\n  - {type: tls, address: \"127.0.0.1:0\", cert: a, key: b, verify_client: true}\n",
			  &cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "verify_client needs 'ca'") != NULL, "%s", diag.detail);
	cr_expect_eq(load("listeners:\n  - {type: udp, address: \"127.0.0.1:0\", rate_limit: {burst: 10}}\n",
			  &cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "rate_limit needs 'events_per_second'") != NULL, "%s", diag.detail);
	cr_expect_eq(load("listeners:\n  - {type: udp, address: \"127.0.0.1:0\", rate_limit: {events_per_second: 0}}\n",
			  &cfg, &diag), LW_EINVAL);
	cr_expect_eq(load("listeners:\n  - {type: udp, address: \"127.0.0.1:0\", rate_limit: {per_minute: 5}}\n",
			  &cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "unknown key 'per_minute' in rate_limit") != NULL, "%s", diag.detail);
	cr_expect_eq(load("listeners:\n  - {type: udp, address: \"127.0.0.1:0\", rate_limit: 5}\n",
			  &cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "'rate_limit' must be a mapping") != NULL, "%s", diag.detail);
}

/* Every key of the listener table takes part in the reload comparison:
 * changed alone (one bit of its member flipped: another string, number,
 * enum value or list length), it is the one key that differs, under its
 * own name and in its own class. The loop walks the table itself, so a
 * key added to it later is covered here without touching this test; a
 * key without a reload class fails it. */
Test(config, every_listener_key_is_compared_on_reload)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_listener_config *a, *b;
	struct lw_config_key_info k;
	char names[256], seen[1024] = "";
	size_t i;

	cr_assert_not_null(cfg);
	lw_config_defaults(cfg);
	a = &cfg->listeners[1]; /* tcp 127.0.0.1:5514 */
	b = &cfg->listeners[2];
	for (i = 0; lw_config_listener_key(i, &k) == LW_OK; i++) {
		cr_assert(k.reload >= LW_RELOAD_SOCKET && k.reload <= LW_RELOAD_AT_OPEN,
			  "key '%s' has no reload class", k.name);
		cr_assert_leq(k.offset + k.size, sizeof(*b), "%s", k.name);
		*b = *a;
		((unsigned char *)b)[k.offset] ^= 1;
		cr_expect_eq(lw_config_listener_diff(a, b, LW_RELOAD_ALL, names, sizeof(names)), 1,
			     "%s", k.name);
		cr_expect_str_eq(names, k.name);
		cr_expect_eq(lw_config_listener_diff(a, b, 1u << k.reload, NULL, 0), 1, "%s", k.name);
		cr_expect_eq(lw_config_listener_diff(a, b, LW_RELOAD_ALL & ~(1u << k.reload), NULL, 0),
			     0, "%s", k.name);
		snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s ", k.name);
	}
	cr_expect_str_eq(seen, "type address path zone framing max_message_size max_connections max_connections_per_source "
			 "idle_timeout cert key ca ciphers ciphersuites verify_client allow frame_timeout handshake_timeout "
			 "rate_limit.events_per_second rate_limit.burst rate_limit.max_sources "
			 "rate_limit.listener_events_per_second rate_limit.listener_burst "
			 "max_body_size servers stream subject durable credentials ack_wait "
			 "max_ack_pending replicas duplicate_window notify_once notify_claim_ttl ");
	*b = *a;
	cr_expect_eq(lw_config_listener_diff(a, b, LW_RELOAD_ALL, names, sizeof(names)), 0);
	cr_expect_str_eq(names, "");
	free(cfg);
}

/* The same through files: two configs that differ in a nested key and a
 * list name exactly those keys, each in its class. */
Test(config, listener_differences_between_two_files_are_named)
{
	static const char one[] =
		"listeners:\n  - {type: tls, address: \"127.0.0.1:0\", cert: s.pem, key: s.key,\n"
		"     allow: [10.0.0.0/8], rate_limit: {events_per_second: 100, burst: 200}}\n";
	static const char two[] =
		"listeners:\n  - {type: tls, address: \"127.0.0.1:0\", cert: s.pem, key: s.key,\n"
		"     allow: [10.0.0.0/16], rate_limit: {events_per_second: 100, burst: 300}}\n";
	struct lw_config *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct lw_diag diag = {0};
	char names[256];

	cr_assert(a != NULL && b != NULL);
	cr_assert_eq(load(one, a, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(load(two, b, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(lw_config_listener_diff(&a->listeners[0], &b->listeners[0], LW_RELOAD_ALL,
					     names, sizeof(names)), 2);
	cr_expect_str_eq(names, "allow, rate_limit.burst");
	cr_expect_eq(lw_config_listener_diff(&a->listeners[0], &b->listeners[0],
					     1u << LW_RELOAD_AT_OPEN, names, sizeof(names)), 1);
	cr_expect_str_eq(names, "rate_limit.burst");
	free(a);
	free(b);
}

Test(config, metrics_and_health_sections)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_diag diag = {0};

	cr_assert_not_null(cfg);
	cr_assert_eq(load("", cfg, &diag), LW_OK);
	cr_expect_str_eq(cfg->metrics_address, "", "no endpoint unless configured");
	cr_expect_eq(cfg->health.check_interval_ms, 10000);
	cr_expect_eq(cfg->health.loss_checks, 3);
	cr_assert_eq(load("metrics: {address: \"127.0.0.1:9514\"}\n"
			  "health: {check_interval: 250ms, loss_checks: 5}\n", cfg, &diag), LW_OK,
		     "%s", diag.detail);
	cr_expect_str_eq(cfg->metrics_address, "127.0.0.1:9514");
	cr_expect_eq(cfg->health.check_interval_ms, 250);
	cr_expect_eq(cfg->health.loss_checks, 5);
	memset(&diag, 0, sizeof(diag));
	cr_expect_eq(load("metrics: {adress: x}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "unknown key 'adress' in metrics") != NULL, "%s", diag.detail);
	cr_expect_eq(diag.line, 1);
	memset(&diag, 0, sizeof(diag));
	cr_expect_eq(load("health: {loss_checks: 0}\n", cfg, &diag), LW_EINVAL);
	cr_expect_eq(load("health: {check_interval: 10ms}\n", cfg, &diag), LW_EINVAL,
		     "a check every 10 ms would be a busy loop");
	free(cfg);
}

Test(config, correlation_memory_and_workers)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_diag diag = {0};

	cr_assert_not_null(cfg);
	cr_assert_eq(load("", cfg, &diag), LW_OK);
	cr_expect_eq(cfg->correlation.memory_bytes, 256ull << 20);
	cr_expect_eq(cfg->workers, LW_CONFIG_WORKERS_AUTO, "unset: one per CPU but the writer's");
	cr_assert_eq(load("correlation: {memory: 64MiB}\nworkers: 3\n", cfg, &diag), LW_OK,
		     "%s", diag.detail);
	cr_expect_eq(cfg->correlation.memory_bytes, 64ull << 20);
	cr_expect_eq(cfg->workers, 3);
	cr_assert_eq(load("workers: 0\n", cfg, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(cfg->workers, 0, "0: the writer decodes and detects alone");
	memset(&diag, 0, sizeof(diag));
	cr_expect_eq(load("correlation: {memory: 512KiB}\n", cfg, &diag), LW_EINVAL,
		     "below 1 MiB no rule could keep a group");
	cr_expect_eq(diag.line, 1);
	memset(&diag, 0, sizeof(diag));
	cr_expect_eq(load("correlation: {memroy: 1GiB}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "unknown key 'memroy' in correlation") != NULL, "%s",
		  diag.detail);
	cr_expect_eq(load("workers: 257\n", cfg, &diag), LW_EINVAL);
	free(cfg);
}

Test(config, api_section)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_diag diag = {0};

	cr_assert_not_null(cfg);
	lw_config_defaults(cfg);
	cr_expect_str_eq(cfg->api.address, "127.0.0.1:8514", "built-in defaults serve the console");
	cr_assert_eq(load("", cfg, &diag), LW_OK);
	cr_expect_str_eq(cfg->api.address, "", "a file without api: has no console");
	cr_expect_eq(cfg->api.session_idle_ms, 30 * 60000);
	cr_expect_eq(cfg->api.session_max_ms, 12 * 3600000);
	cr_expect_eq(cfg->api.max_sessions, 1024);
	cr_expect_eq(cfg->api.login_max_failures, 5);
	cr_expect_eq(cfg->api.login_window_ms, 15 * 60000);
	cr_expect_eq(cfg->api.max_body_bytes, 64 * 1024);
	cr_expect_eq(cfg->api.silent_after_ms, 15 * 60000);
	cr_expect_eq(cfg->api.max_connections_per_source, 32);
	cr_assert_eq(load("api: {}\n", cfg, &diag), LW_OK, "%s", diag.detail);
	cr_expect_str_eq(cfg->api.address, "127.0.0.1:8514", "api: {} takes the default address");
	cr_assert_eq(load("api: {address: \"0.0.0.0:443\", cert: s.pem, key: s.key, session_idle: 10m,\n"
			  "      session_max: 8h, max_sessions: 50, login_max_failures: 3,\n"
			  "      login_window: 5m, max_body_size: 16KiB, silent_after: 30m,\n"
			  "      max_connections_per_source: 6}\n", cfg, &diag),
		     LW_OK, "%s", diag.detail);
	cr_expect_str_eq(cfg->api.address, "0.0.0.0:443");
	cr_expect_str_eq(cfg->api.cert, "s.pem");
	cr_expect_eq(cfg->api.session_idle_ms, 600000);
	cr_expect_eq(cfg->api.session_max_ms, 8 * 3600000);
	cr_expect_eq(cfg->api.max_sessions, 50);
	cr_expect_eq(cfg->api.login_max_failures, 3);
	cr_expect_eq(cfg->api.login_window_ms, 300000);
	cr_expect_eq(cfg->api.max_body_bytes, 16384);
	cr_expect_eq(cfg->api.silent_after_ms, 1800000);
	cr_expect_eq(cfg->api.max_connections_per_source, 6);
	memset(&diag, 0, sizeof(diag));
	cr_expect_eq(load("api: {cert: s.pem}\n", cfg, &diag), LW_EINVAL, "cert without key");
	cr_expect(strstr(diag.detail, "'cert' and 'key' go together") != NULL, "%s", diag.detail);
	cr_expect_eq(load("api: {login_max_failures: 0}\n", cfg, &diag), LW_EINVAL);
	cr_expect_eq(load("api: {max_connections_per_source: 0}\n", cfg, &diag), LW_EINVAL);
	cr_expect_eq(load("api: {adress: x}\n", cfg, &diag), LW_EINVAL);
	free(cfg);
}

Test(config, forward_section_loads_with_defaults)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_diag diag;

	cr_assert_not_null(cfg);
	cr_assert_eq(load("forward: {type: nats, servers: [\"nats://10.0.0.1:4222\", \"nats://10.0.0.2:4222\"], "
			  "stream: LOGS, node: town-a, replicas: 3, max_in_flight: 8, message_size: 64KiB}\n",
			  cfg, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(cfg->forward.enabled, 1);
	cr_expect_eq(cfg->forward.servers.n, 2);
	cr_expect_str_eq(cfg->forward.servers.v[1], "nats://10.0.0.2:4222");
	cr_expect_str_eq(cfg->forward.stream, "LOGS");
	cr_expect_str_eq(cfg->forward.node, "town-a");
	cr_expect_str_eq(cfg->forward.subject, "logward");
	cr_expect_eq(cfg->forward.replicas, 3);
	cr_expect_eq(cfg->forward.max_in_flight, 8);
	cr_expect_eq(cfg->forward.message_bytes, 64 * 1024);
	cr_expect_eq(cfg->forward.ack_timeout_ms, 5000);
	cr_expect_eq(cfg->forward.duplicate_window_ms, 120000);
	cr_assert_eq(load("data_dir: /x\n", cfg, &diag), LW_OK);
	cr_expect_eq(cfg->forward.enabled, 0);
	free(cfg);
}

Test(config, forward_and_nats_listener_errors)
{
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_diag diag;

	cr_assert_not_null(cfg);
	cr_expect_eq(load("forward: {type: kafka, servers: [a], stream: S, node: n}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "'type' must be nats") != NULL, "%s", diag.detail);
	cr_expect_eq(load("forward: {type: nats, stream: S, node: n}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "'servers' is required") != NULL, "%s", diag.detail);
	/* The node name is a subject token and part of every message id. */
	cr_expect_eq(load("forward: {type: nats, servers: [a], stream: S, node: \"a.b\"}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "'node' is required") != NULL, "%s", diag.detail);
	cr_expect_eq(load("forward: {type: nats, servers: [a], stream: S, node: n, subject: \"logs.>\"}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "plain subject") != NULL, "%s", diag.detail);
	cr_expect_eq(load("listeners:\n  - {type: nats, servers: [a], stream: S}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "needs 'durable'") != NULL, "%s", diag.detail);
	cr_expect_eq(load("listeners:\n  - {type: nats, servers: [a], stream: S, durable: c1}\n"
			  "  - {type: nats, servers: [a], stream: S, durable: c2}\n", cfg, &diag), LW_EINVAL);
	cr_expect(strstr(diag.detail, "at most one of type nats") != NULL, "%s", diag.detail);
	cr_expect_eq(diag.line, 3);
	cr_assert_eq(load("listeners:\n  - {type: nats, servers: [a], stream: S, durable: c1, ack_wait: 10s}\n",
			  cfg, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(cfg->listeners[0].type, LW_LISTENER_NATS);
	cr_expect_eq(cfg->listeners[0].ack_wait_ms, 10000);
	cr_expect_eq(cfg->listeners[0].max_ack_pending, 1024);
	free(cfg);
}
