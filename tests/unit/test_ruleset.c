/* lw_ruleset: the default pack loaded from rules/ with a zones config:
 * decoded fields land in the event (in the batch arena), zones are
 * stamped, the right rule ids match, benign events match nothing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/ruleset.h"

static struct lw_ruleset *rs;
static struct lw_ruleset_scratch *scr;
static struct lw_diags diags;
static struct lw_arena arena;
static struct lw_config *cfg;
static struct lw_event ev;
static struct lw_ruleset_matches m;

static const char zones_yaml[] =
	"zones:\n"
	"  mynumber: [10.10.0.0/16]\n"
	"  lgwan: [10.20.0.0/16]\n"
	"  internet: [10.30.0.0/16]\n";

static void setup(void)
{
	char dir[4096];
	const char *src = getenv("LW_SOURCE_DIR");
	const char *dirs[1] = {dir};
	struct lw_diag d;

	snprintf(dir, sizeof(dir), "%s/rules", src ? src : ".");
	lw_diags_init(&diags);
	lw_arena_init(&arena, 0);
	cfg = calloc(1, sizeof(*cfg));
	cr_assert_not_null(cfg);
	lw_config_defaults(cfg);
	memset(&d, 0, sizeof(d));
	cr_assert_eq(lw_config_load_string("zones.yml", zones_yaml, sizeof(zones_yaml) - 1,
					   cfg, &d), LW_OK, "%s", d.detail);
	cr_assert_eq(lw_ruleset_load(dirs, 1, cfg, &rs, &diags), LW_OK, "%s:%d %s",
		     diags.count ? diags.items[0].diag.file : "",
		     diags.count ? diags.items[0].diag.line : 0,
		     diags.count ? diags.items[0].diag.detail : "");
	scr = lw_ruleset_scratch_new(rs);
	cr_assert_not_null(scr);
}

static void teardown(void)
{
	lw_ruleset_scratch_free(scr);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	lw_arena_release(&arena);
	free(cfg);
}

TestSuite(ruleset, .init = setup, .fini = teardown);

static void apply(const char *zone, const char *app, const char *msg)
{
	memset(&ev, 0, sizeof(ev));
	ev.facility = LW_SYSLOG_NONE;
	ev.severity = LW_SYSLOG_NONE;
	ev.zone = (struct lw_str){zone, (uint32_t)strlen(zone)};
	ev.app = (struct lw_str){app, (uint32_t)strlen(app)};
	/* The message lives in the arena, as on the ingest path. */
	ev.message.ptr = lw_arena_memdup(&arena, msg, strlen(msg));
	ev.message.len = (uint32_t)strlen(msg);
	cr_assert_eq(lw_ruleset_apply(rs, scr, &ev, &arena, &m), LW_OK);
}

static const char *field(const char *key)
{
	static char buf[256];
	const struct lw_field *f = lw_event_field(&ev, key, strlen(key));

	if (f == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)f->value.len, f->value.ptr);
	return buf;
}

/* The matched rules' Sigma names, space-separated. */
static const char *matched(void)
{
	static char buf[1024];
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < m.count; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				      lw_ruleset_rule(rs, m.rules[i])->name);
	return buf;
}

Test(ruleset, pack_loads_without_errors_or_warnings)
{
	char buf[1024];

	for (size_t i = 0; i < diags.count; i++) {
		lw_diags_format(&diags.items[i], buf, sizeof(buf));
		cr_log_error("%s", buf);
	}
	cr_expect_eq(diags.count, 0, "every pack rule has a level, a category and live fields");
	cr_expect_geq(lw_ruleset_rule_count(rs), 16);
	cr_expect_geq(lw_ruleset_decoder_count(rs), 30);
}

/* Every decoder pattern and Sigma regex of the pack costs one pass over
 * its input, whatever the input: core/recost.h builds inputs from each
 * pattern's own pieces ("IN= OUT= " x N + " SRC=x DST=x" and the like)
 * and compares the cost (pcre2 steps and bytes, deterministic) at 1 KiB
 * and 2 KiB. Before issue 12, kernel-firewall-log, kernel-link-down,
 * networkd-lost-carrier, clamav-found and the sudo decoders grew 4x or
 * hit the limit. */
Test(ruleset, no_pattern_of_the_pack_backtracks)
{
	struct lw_diags found;

	lw_diags_init(&found);
	cr_expect_eq(lw_ruleset_check_costs(rs, 1024, &found), 0);
	for (size_t i = 0; i < found.count; i++)
		cr_expect(0, "%s", found.items[i].diag.detail);
	lw_diags_release(&found);
}

/* ... and the check can fail: one decoder and one Sigma rule written the
 * old way are both reported, each under its name. */
Test(ruleset, backtracking_patterns_are_reported_by_rule)
{
	static const char dec[] =
		"decoders:\n  - name: old-firewall\n    match: {process.name: kernel}\n"
		"    pattern: '^(?:(?<rule__name>.*?)\\s*)?IN=(?<in_if>\\S*) OUT=\\S* .*?SRC=(?<source__ip>\\S+) .*?PROTO=(?<p>\\S+)'\n";
	static const char sig[] =
		"title: t\nid: 5d0c2f0e-1b7e-4c54-9a49-8a0a3f3f0001\nname: ax_rule\nlevel: low\n"
		"tags: [logward.malware]\n"
		"logsource: {product: linux}\ndetection:\n  s: {message|re: '(a+)+$|x'}\n  condition: s\n";
	char dir[] = "/tmp/lw-rules-XXXXXX", path[512];
	const char *dirs[2];
	struct lw_ruleset *bad = NULL;
	struct lw_diags d, found;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/decoders", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/detection", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/decoders/old.yml", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(dec, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/detection/ax.yml", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(sig, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/rules", getenv("LW_SOURCE_DIR") ? getenv("LW_SOURCE_DIR") : ".");
	dirs[0] = path;
	dirs[1] = dir;
	lw_diags_init(&d);
	lw_diags_init(&found);
	cr_assert_eq(lw_ruleset_load(dirs, 2, cfg, &bad, &d), LW_OK, "%s",
		     d.count ? d.items[0].diag.detail : "");
	cr_expect_eq(lw_ruleset_check_costs(bad, 1024, &found), 2);
	cr_assert_eq(found.count, 2);
	cr_expect(strstr(found.items[0].diag.detail, "rule 'old-firewall'") != NULL &&
		  strstr(found.items[0].diag.detail, "can backtrack") != NULL,
		  "%s", found.items[0].diag.detail);
	cr_expect(strstr(found.items[1].diag.detail, "rule 'ax_rule'") != NULL &&
		  strstr(found.items[1].diag.detail, "catastrophically") != NULL,
		  "%s", found.items[1].diag.detail);
	lw_ruleset_free(bad);
	lw_diags_release(&d);
	lw_diags_release(&found);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_expect_eq(system(path), 0);
}

Test(ruleset, every_rule_has_a_category_and_uuid)
{
	for (uint32_t i = 0; i < lw_ruleset_rule_count(rs); i++) {
		const struct lw_sigma_rule_info *in = lw_ruleset_rule(rs, i);
		int has_tag = 0;

		cr_expect_eq(strlen(in->id), 36, "%s", in->id);
		cr_expect_not_null(in->name);
		cr_expect_eq(in->never_matches, 0, "%s", in->id);
		for (uint32_t t = 0; t < in->ntags; t++)
			has_tag |= strncmp(in->tags[t], "logward.", 8) == 0;
		cr_expect(has_tag, "%s has no logward.<category> tag", in->id);
	}
}

Test(ruleset, ssh_root_failure_decodes_and_matches)
{
	apply("internet", "sshd", "Failed password for root from 203.0.113.50 port 40022 ssh2");
	cr_expect_str_eq(lw_ruleset_decoder_name(rs, m.decoder), "sshd-failed-login");
	cr_expect_str_eq(field("source.ip"), "203.0.113.50");
	cr_expect_str_eq(field("user.name"), "root");
	cr_expect_null(field("source.zone"), "203.0.113.50 is in no zone");
	cr_expect_str_eq(matched(), "lw_ssh_failed_login lw_ssh_root_login_attempt");
}

Test(ruleset, fields_are_in_the_arena)
{
	const struct lw_field *f;

	apply("lgwan", "sshd", "Invalid user oracle from 10.20.3.4");
	cr_expect_str_eq(matched(), "lw_ssh_invalid_user");
	cr_expect_str_eq(field("source.zone"), "lgwan");
	f = lw_event_field(&ev, "event.action", 12);
	cr_assert_not_null(f);
	/* Keys and constants were copied: freeing the ruleset must not
	 * invalidate the event. */
	lw_ruleset_scratch_free(scr);
	lw_ruleset_free(rs);
	scr = NULL;
	rs = NULL;
	cr_expect_eq(f->value.len, 12);
	cr_expect(memcmp(f->value.ptr, "invalid_user", 12) == 0);
	cr_expect_str_eq(field("user.name"), "oracle");
}

Test(ruleset, existing_fields_are_kept)
{
	struct lw_field pre = {LW_STR_LIT("journald._SYSTEMD_UNIT"), LW_STR_LIT("ssh.service")};

	memset(&ev, 0, sizeof(ev));
	ev.app = LW_STR_LIT("sshd");
	ev.message = LW_STR_LIT("Accepted password for bob from 10.20.0.9 port 5000 ssh2");
	ev.fields = &pre;
	ev.nfields = 1;
	cr_assert_eq(lw_ruleset_apply(rs, scr, &ev, &arena, &m), LW_OK);
	cr_expect_str_eq(field("journald._SYSTEMD_UNIT"), "ssh.service");
	cr_expect_str_eq(field("event.outcome"), "success");
	cr_expect_str_eq(field("source.zone"), "lgwan");
	cr_expect_str_eq(matched(), "lw_login_success lw_ssh_login_success", "building blocks only");
}

Test(ruleset, sudo_not_in_sudoers_and_logs_cleared)
{
	apply("lgwan", "sudo", "   tsg : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/tsg ; USER=root ; COMMAND=/bin/ls");
	cr_expect_str_eq(matched(), "lw_su_sudo_auth_failure lw_sudo_not_in_sudoers",
			 "rule order is file order");
	apply("lgwan", "sudo", "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/rm -f /var/log/auth.log");
	cr_expect_str_eq(matched(), "lw_logs_cleared");
	apply("lgwan", "sudo", "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/journalctl --vacuum-time=1s");
	cr_expect_str_eq(matched(), "lw_logs_cleared");
	apply("lgwan", "sudo", "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/less /var/log/auth.log");
	cr_expect_str_eq(matched(), "");
}

Test(ruleset, software_install)
{
	apply("lgwan", "sudo", "admin : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/apt-get install -y nmap");
	cr_expect_str_eq(matched(), "lw_package_installed");
	apply("lgwan", "dpkg", "2026-11-27 10:00:00 install nmap:amd64 <none> 7.93+dfsg1-1");
	cr_expect_str_eq(matched(), "lw_package_installed");
	cr_expect_str_eq(field("package.name"), "nmap");
	apply("lgwan", "dpkg", "2026-11-27 10:00:00 status half-configured nmap:amd64 7.93+dfsg1-1");
	cr_expect_str_eq(matched(), "");
}

Test(ruleset, mynumber_cross_zone_firewall)
{
	apply("mynumber", "kernel", "[UFW BLOCK] IN=eth0 OUT= SRC=10.10.1.5 DST=10.30.0.9 LEN=60 TTL=64 PROTO=TCP SPT=40000 DPT=443");
	cr_expect_str_eq(field("source.zone"), "mynumber");
	cr_expect_str_eq(field("destination.zone"), "internet");
	cr_expect_str_eq(matched(), "lw_firewall_connection lw_mynumber_cross_zone_traffic "
			 "lw_sensitive_zone_outbound");
	apply("mynumber", "kernel", "[UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.1 DST=10.10.0.7 LEN=60 TTL=64 PROTO=UDP SPT=53 DPT=5353");
	cr_expect_null(field("source.zone"));
	cr_expect_str_eq(matched(), "lw_firewall_connection lw_mynumber_cross_zone_traffic",
			 "unknown source = another zone");
	apply("mynumber", "kernel", "[UFW ALLOW] IN=eth0 OUT= SRC=10.10.1.5 DST=10.10.2.6 LEN=60 TTL=64 PROTO=TCP SPT=1 DPT=2");
	cr_expect_str_eq(matched(), "lw_firewall_connection", "inside the zone");
	apply("lgwan", "kernel", "[UFW BLOCK] IN=eth0 OUT= SRC=10.20.1.5 DST=10.30.0.9 LEN=60 TTL=64 PROTO=TCP SPT=1 DPT=2");
	cr_expect_str_eq(matched(), "lw_firewall_connection lw_sensitive_zone_outbound lw_zone_outbound_unapproved_firewall",
			 "LGWAN to the Internet zone is not the My Number rule's business, "
			 "but lw_zone_outbound_unapproved's (and the new-destination building block's)");
	apply("lgwan", "kernel", "[UFW ALLOW] IN=eth0 OUT= SRC=10.20.1.5 DST=192.0.2.3 LEN=60 TTL=64 PROTO=TCP SPT=1 DPT=443");
	cr_expect_str_eq(matched(), "lw_firewall_connection lw_outbound_connection lw_sensitive_zone_outbound",
			 "an approved destination (rules/lists/approved_outbound.csv): "
			 "only the anomaly rules' building blocks");
}

Test(ruleset, usb_storage_by_zone)
{
	apply("mynumber", "kernel", "usb-storage 2-1:1.0: USB Mass Storage device detected");
	cr_expect_str_eq(matched(), "lw_usb_storage_mynumber_zone");
	apply("lgwan", "kernel", "usb-storage 2-1:1.0: USB Mass Storage device detected");
	cr_expect_str_eq(matched(), "lw_usb_storage_attached");
}

Test(ruleset, dos_malware_failures)
{
	apply("internet", "kernel", "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.");
	cr_expect_str_eq(matched(), "lw_syn_flood");
	apply("internet", "sshd", "drop connection #10 from [198.51.100.7]:52044 on [10.30.0.5]:22 past MaxStartups");
	cr_expect_str_eq(matched(), "lw_ssh_maxstartups");
	cr_expect_str_eq(field("destination.zone"), "internet");
	apply("lgwan", "clamd", "/srv/share/a.doc: Doc.Dropper.Agent-6374428-0 FOUND");
	cr_expect_str_eq(matched(), "lw_clamav_detection");
	apply("lgwan", "kernel", "Buffer I/O error on dev sdb1, logical block 0, async page read");
	cr_expect_str_eq(matched(), "lw_disk_io_error");
	apply("lgwan", "kernel", "igb 0000:03:00.0 eno1: igb: eno1 NIC Link is Down");
	cr_expect_str_eq(matched(), "lw_nic_link_down");
	apply("lgwan", "upsmon", "UPS ups@localhost on battery");
	cr_expect_str_eq(matched(), "lw_ups_on_battery");
	apply("lgwan", "rsyslogd", "[origin software=\"rsyslogd\" swVersion=\"8.2302.0\"] exiting on signal 15.");
	cr_expect_str_eq(matched(), "lw_log_daemon_stopped");
}

Test(ruleset, benign_lines_match_nothing)
{
	static const char *const lines[][2] = {
		{"sshd", "Accepted publickey for ubuntu from 10.20.0.4 port 50812 ssh2: RSA SHA256:x"},
		{"sshd", "pam_unix(sshd:session): session opened for user ubuntu by (uid=0)"},
		{"CRON", "pam_unix(cron:session): session closed for user root"},
		{"sudo", "ubuntu : TTY=pts/0 ; PWD=/home/ubuntu ; USER=root ; COMMAND=/usr/bin/systemctl status nginx"},
		{"kernel", "[UFW ALLOW] IN=eth0 OUT= SRC=10.20.1.5 DST=10.20.0.9 PROTO=TCP SPT=1 DPT=22"},
		{"systemd", "Started Session 42 of User ubuntu."},
		{"su", "Successful su for root by ubuntu"},
		{"", ""},
	};

	/* Building blocks (level informational) may match benign lines:
	 * they raise no incident (only correlations count them). */
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		apply("lgwan", lines[i][0], lines[i][1]);
		for (uint32_t k = 0; k < m.count; k++)
			cr_expect_eq(lw_ruleset_rule(rs, m.rules[k])->level,
				     LW_LEVEL_INFORMATIONAL, "%s: %s", lines[i][0],
				     lines[i][1]);
	}
}

Test(ruleset, rule_lookup)
{
	int64_t i = lw_ruleset_find(rs, "lw_syn_flood");
	const struct lw_sigma_rule_info *in;

	cr_assert_geq(i, 0);
	in = lw_ruleset_rule(rs, (uint32_t)i);
	cr_expect_str_eq(in->id, "19a87710-d73f-4a71-8e6d-8888ea3763a5");
	cr_expect_eq(lw_ruleset_find(rs, in->id), i);
	cr_expect_str_eq(in->title, "Kernel reports SYN flooding");
	cr_expect_eq(in->level, LW_LEVEL_HIGH);
	cr_expect_str_eq(lw_category_name(in->category), "dos");
	cr_expect_null(lw_ruleset_rule(rs, lw_ruleset_rule_count(rs)));
}

Test(ruleset, load_reports_errors_across_dirs, .init = NULL, .fini = NULL)
{
	struct lw_diags d;
	struct lw_ruleset *r = NULL;
	const char *dirs[] = {"/nonexistent-logward-rules"};

	lw_diags_init(&d);
	cr_expect_eq(lw_ruleset_load(dirs, 1, NULL, &r, &d), LW_EIO);
	cr_expect_null(r);
	cr_assert_eq(d.nerrors, 1);
	cr_expect_str_eq(d.items[0].diag.file, "/nonexistent-logward-rules");
	lw_diags_release(&d);
}

/* ---- load diagnostics: one shape for the four kinds of rule file ---- */

TestSuite(ruleset_diags);

/* Every loader (decoders, detection, correlation, response plan) reports
 * through correlator/ryaml.h, so `rules check` prints one shape,
 * "file:line:col: severity: reason", whichever file is wrong. */
Test(ruleset_diags, every_loader_reports_file_line_col_severity_reason)
{
	static const char dec[] =
		"decoders:\n"
		"  - name: a\n"
		"    pattern: '^nogroup'\n";
	static const char det[] =
		"title: t\n"
		"id: d-1\n"
		"tags: [logward.dos]\n"
		"logsource: {product: linux}\n"
		"detection: {sel: {a.b|base64: x}, condition: sel or}\n";
	static const char corr[] =
		"title: c\n"
		"id: c-1\n"
		"level: high\n"
		"correlation: {type: value_avg, rules: [x], timespan: 5m}\n";
	static const char resp[] =
		"categories:\n"
		"  dos: {level: high, steps: [], notify: [x]}\n";
	static const char *const want[] = {
		"dec.yml:3:14: error: pattern has no named group: it would extract nothing",
		"det.yml:1:1: warning: no 'level': medium is assumed",
		"det.yml:5:19: error: modifier 'base64' is not supported",
		"det.yml:5:52: error: condition: unexpected end",
		"corr.yml:4:21: error: correlation type 'value_avg' is not supported "
		"(event_count, value_count, value_sum, temporal, temporal_ordered, "
		"absence, new_terms, beaconing)",
		"resp.yml:2:29: error: 'steps' must not be empty",
		"resp.yml:1:1: error: empty response plan",
	};
	struct lw_ruleset *r = lw_ruleset_new(NULL);
	struct lw_diags d;
	char buf[1024];

	cr_assert_not_null(r);
	lw_diags_init(&d);
	lw_ruleset_load_decoders_string(r, "dec.yml", dec, sizeof(dec) - 1, &d);
	lw_ruleset_load_detection_string(r, "det.yml", det, sizeof(det) - 1, &d);
	lw_ruleset_load_correlation_string(r, "corr.yml", corr, sizeof(corr) - 1, &d);
	lw_ruleset_load_response_string(r, "resp.yml", resp, sizeof(resp) - 1, &d);
	lw_ruleset_load_response_string(r, "resp.yml", "", 0, &d);
	for (size_t i = 0; i < d.count; i++) {
		lw_diags_format(&d.items[i], buf, sizeof(buf));
		cr_log_info("%s", buf);
		if (i < sizeof(want) / sizeof(want[0]))
			cr_expect_str_eq(buf, want[i]);
	}
	cr_expect_eq(d.count, sizeof(want) / sizeof(want[0]));
	cr_expect_eq(d.nerrors, 6);
	cr_expect_eq(d.nwarnings, 1);
	lw_ruleset_free(r);
	lw_diags_release(&d);
}
