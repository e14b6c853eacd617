/* lw_decoder: the default pack's decoders on real-shaped lines (exact
 * field values), selection by program, literal prefilters, load errors
 * with file:line, and the sshd failures of the Elastic auth.log sample
 * checked against an independent parse. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/event.h"
#include "correlator/decoder.h"

static struct lw_decoder_set *set;
static struct lw_decoder_scratch *scr;
static struct lw_diags diags;
static struct lw_decoder_out out;
static char path[4096];

static const char *src_dir(void)
{
	const char *d = getenv("LW_SOURCE_DIR");

	return d ? d : ".";
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of rules/decoders, in byte order like lw_ruleset. */
static void load_pack(void)
{
	char dir[2048], *names[64];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	lw_diags_init(&diags);
	set = lw_decoder_set_new();
	cr_assert_not_null(set);
	snprintf(dir, sizeof(dir), "%s/rules/decoders", src_dir());
	d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".yml") != NULL && n < 64)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		cr_assert_eq(lw_decoder_set_load_file(set, path, &diags), LW_OK,
			     "%s: %s", path, diags.count ? diags.items[0].diag.detail : "");
		free(names[i]);
	}
	cr_assert_eq(lw_decoder_set_build(set), LW_OK);
	scr = lw_decoder_scratch_new(set);
	cr_assert_not_null(scr);
}

static void teardown(void)
{
	lw_decoder_scratch_free(scr);
	lw_decoder_set_free(set);
	lw_diags_release(&diags);
	scr = NULL;
	set = NULL;
}

TestSuite(decoder, .init = load_pack, .fini = teardown);

/* Runs the pack on (app, msg); returns 1 when a decoder matched. */
static int decode(const char *app, const char *msg)
{
	struct lw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.app = (struct lw_str){app, (uint32_t)strlen(app)};
	ev.message = (struct lw_str){msg, (uint32_t)strlen(msg)};
	return lw_decoder_apply(set, scr, &ev, &out);
}

/* The value of key in the last output, "" when present and empty, NULL
 * when absent. */
static const char *val(const char *key)
{
	static char buf[8][256];
	static int k;

	for (uint32_t i = 0; i < out.nfields; i++)
		if (out.fields[i].key.len == strlen(key) &&
		    memcmp(out.fields[i].key.ptr, key, strlen(key)) == 0) {
			char *b = buf[k++ % 8];
			snprintf(b, 256, "%.*s", (int)out.fields[i].value.len,
				 out.fields[i].value.ptr);
			return b;
		}
	return NULL;
}

static const char *dname(void)
{
	return lw_decoder_name(set, out.decoder);
}

Test(decoder, sshd_failed_password_root)
{
	cr_assert_eq(decode("sshd", "Failed password for root from 216.160.83.57 port 29160 ssh2"), 1);
	cr_expect_str_eq(dname(), "sshd-failed-login");
	cr_expect_str_eq(val("user.name"), "root");
	cr_expect_str_eq(val("source.ip"), "216.160.83.57");
	cr_expect_str_eq(val("source.port"), "29160");
	cr_expect_str_eq(val("event.category"), "authentication");
	cr_expect_str_eq(val("event.outcome"), "failure");
	cr_expect_str_eq(val("event.action"), "ssh_login");
	cr_expect_str_eq(val("system.auth.ssh.method"), "password");
}

Test(decoder, sshd_failed_password_invalid_user)
{
	cr_assert_eq(decode("sshd", "Failed password for invalid user admin from 5.188.10.180 port 43212 ssh2"), 1);
	cr_expect_str_eq(val("user.name"), "admin");
	cr_expect_str_eq(val("source.ip"), "5.188.10.180");
}

Test(decoder, sshd_failed_password_empty_user_is_not_emitted)
{
	/* sshd prints "%s" of an empty name: two spaces before "from". */
	cr_assert_eq(decode("sshd", "Failed password for invalid user  from 103.99.0.122 port 51224 ssh2"), 1);
	cr_expect_null(val("user.name"));
	cr_expect_str_eq(val("source.ip"), "103.99.0.122");
}

Test(decoder, sshd_message_repeated)
{
	cr_assert_eq(decode("sshd", "message repeated 5 times: [ Failed password for root from 122.225.103.91 port 57264 ssh2]"), 1);
	cr_expect_str_eq(val("user.name"), "root");
	cr_expect_str_eq(val("source.ip"), "122.225.103.91");
}

Test(decoder, sshd_accepted_publickey_ipv6)
{
	cr_assert_eq(decode("sshd", "Accepted publickey for ubuntu from 2001:db8::7 port 50812 ssh2: RSA SHA256:KlNkPGZr"), 1);
	cr_expect_str_eq(val("event.outcome"), "success");
	cr_expect_str_eq(val("user.name"), "ubuntu");
	cr_expect_str_eq(val("source.ip"), "2001:db8::7");
	cr_expect_str_eq(val("system.auth.ssh.method"), "publickey");
}

Test(decoder, sshd_invalid_user)
{
	cr_assert_eq(decode("sshd", "Invalid user webmaster from 173.234.31.186"), 1);
	cr_expect_str_eq(dname(), "sshd-invalid-user");
	cr_expect_str_eq(val("user.name"), "webmaster");
	cr_expect_str_eq(val("source.ip"), "173.234.31.186");
	cr_expect_null(val("source.port"));
	cr_expect_str_eq(val("event.action"), "invalid_user");
}

Test(decoder, sshd_pam_failure_with_hostname_gives_source_address)
{
	cr_assert_eq(decode("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn  user=root"), 1);
	cr_expect_null(val("source.ip"));
	cr_expect_str_eq(val("source.address"), "ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn");
	cr_expect_str_eq(val("user.name"), "root");
	cr_expect_str_eq(val("event.action"), "pam_auth_failure");
}

Test(decoder, sshd_pam_failure_without_user)
{
	cr_assert_eq(decode("sshd", "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=183.62.140.253 "), 1);
	cr_expect_str_eq(val("source.ip"), "183.62.140.253");
	cr_expect_null(val("user.name"));
}

Test(decoder, sshd_max_auth_attempts_and_too_many)
{
	cr_assert_eq(decode("sshd", "error: maximum authentication attempts exceeded for invalid user admin from 187.12.249.74 port 40000 ssh2 [preauth]"), 1);
	cr_expect_str_eq(val("user.name"), "admin");
	cr_expect_str_eq(val("source.ip"), "187.12.249.74");
	cr_expect_str_eq(val("event.action"), "max_auth_attempts");
	cr_assert_eq(decode("sshd", "Disconnecting authenticating user root 203.0.113.50 port 4242: Too many authentication failures [preauth]"), 1);
	cr_expect_str_eq(val("user.name"), "root");
	cr_expect_str_eq(val("source.ip"), "203.0.113.50");
}

Test(decoder, sshd_no_identification_maxstartups_closed)
{
	cr_assert_eq(decode("sshd", "Did not receive identification string from 2.125.160.217"), 1);
	cr_expect_str_eq(val("source.ip"), "2.125.160.217");
	cr_expect_str_eq(val("event.action"), "ssh_no_identification");
	cr_assert_eq(decode("sshd", "drop connection #10 from [198.51.100.7]:52044 on [10.20.0.5]:22 past MaxStartups"), 1);
	cr_expect_str_eq(val("source.ip"), "198.51.100.7");
	cr_expect_str_eq(val("destination.port"), "22");
	cr_expect_str_eq(val("event.action"), "ssh_maxstartups");
	cr_assert_eq(decode("sshd", "error: beginning MaxStartups throttling"), 1);
	cr_expect_str_eq(val("event.action"), "ssh_maxstartups");
	cr_assert_eq(decode("sshd", "Connection closed by authenticating user root 198.51.100.9 port 33422 [preauth]"), 1);
	cr_expect_str_eq(val("user.name"), "root");
	cr_expect_str_eq(val("event.outcome"), "failure");
}

Test(decoder, sshd_benign_lines_do_not_decode)
{
	cr_expect_eq(decode("sshd", "Received disconnect from 10.0.0.1 port 5000:11: disconnected by user"), 0);
	cr_expect_eq(decode("sshd", "Server listening on 0.0.0.0 port 22."), 0);
	/* A PAM session names its user, as a session, not a login result. */
	cr_assert_eq(decode("sshd", "pam_unix(sshd:session): session opened for user ubuntu by (uid=0)"), 1);
	cr_expect_str_eq(val("user.name"), "ubuntu");
	cr_expect_str_eq(val("event.category"), "session");
	cr_expect_null(val("event.outcome"));
}

Test(decoder, decoders_are_chosen_by_program)
{
	/* A filed program runs only its own decoders ... */
	cr_expect_eq(decode("sudo", "Failed password for root from 1.2.3.4 port 1 ssh2"), 0);
	cr_expect_eq(decode("sshd-session", "Failed password for root from 1.2.3.4 port 1 ssh2"), 1);
	/* ... an unfiled one (a forwarder's tag, no tag at all) those whose
	 * anchor literal occurs in the message. */
	cr_expect_eq(decode("", "Failed password for root from 1.2.3.4 port 1 ssh2"), 1);
	cr_expect_str_eq(dname(), "sshd-failed-login");
	cr_expect_eq(decode("auth-forwarder", "Failed password for root from 1.2.3.4 port 1 ssh2"), 1);
	cr_expect_str_eq(val("source.ip"), "1.2.3.4");
	cr_expect_eq(decode("auth-forwarder", "nothing to see here"), 0);
}

Test(decoder, sudo_not_in_sudoers)
{
	cr_assert_eq(decode("sudo", "     tsg : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/vagrant ; USER=root ; COMMAND=/bin/ls"), 1);
	cr_expect_str_eq(dname(), "sudo-not-in-sudoers");
	cr_expect_str_eq(val("user.name"), "tsg");
	cr_expect_str_eq(val("user.target.name"), "root");
	cr_expect_str_eq(val("process.command_line"), "/bin/ls");
	cr_expect_str_eq(val("event.outcome"), "failure");
}

Test(decoder, sudo_command_and_failures)
{
	cr_assert_eq(decode("sudo", "ubuntu : TTY=pts/0 ; PWD=/opt/filebeat ; USER=root ; COMMAND=/usr/bin/vim filebeat.yml"), 1);
	cr_expect_str_eq(val("user.name"), "ubuntu");
	cr_expect_str_eq(val("process.working_directory"), "/opt/filebeat");
	cr_expect_str_eq(val("process.command_line"), "/usr/bin/vim filebeat.yml");
	cr_expect_str_eq(val("event.action"), "sudo_command");
	cr_assert_eq(decode("sudo", "alice : 3 incorrect password attempts ; TTY=pts/2 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash"), 1);
	cr_expect_str_eq(val("event.action"), "sudo_incorrect_password");
	cr_expect_str_eq(val("user.name"), "alice");
	cr_assert_eq(decode("sudo", "pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/2 ruser=alice rhost=  user=alice"), 1);
	cr_expect_str_eq(val("event.action"), "pam_auth_failure");
	cr_expect_str_eq(val("user.name"), "alice");
}

Test(decoder, su_success_and_failure)
{
	cr_assert_eq(decode("su", "Successful su for root by ubuntu"), 1);
	cr_expect_str_eq(val("user.name"), "ubuntu");
	cr_expect_str_eq(val("user.target.name"), "root");
	cr_expect_str_eq(val("event.outcome"), "success");
	cr_assert_eq(decode("su", "FAILED SU (to root) bob on pts/3"), 1);
	cr_expect_str_eq(val("user.name"), "bob");
	cr_expect_str_eq(val("event.outcome"), "failure");
	cr_assert_eq(decode("su", "pam_unix(su:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/3 ruser=bob rhost=  user=root"), 1);
	cr_expect_str_eq(val("user.name"), "bob");
	cr_expect_str_eq(val("user.target.name"), "root");
}

Test(decoder, kernel_ufw_block)
{
	cr_assert_eq(decode("kernel", "[ 5123.456789] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=10.10.1.5 DST=10.30.0.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0"), 1);
	cr_expect_str_eq(dname(), "kernel-firewall-log");
	cr_expect_str_eq(val("rule.name"), "[UFW BLOCK]");
	cr_expect_str_eq(val("observer.ingress.interface.name"), "eth0");
	cr_expect_null(val("observer.egress.interface.name"));
	cr_expect_str_eq(val("source.ip"), "10.10.1.5");
	cr_expect_str_eq(val("destination.ip"), "10.30.0.9");
	cr_expect_str_eq(val("network.transport"), "tcp");
	cr_expect_str_eq(val("source.port"), "40000");
	cr_expect_str_eq(val("destination.port"), "443");
}

Test(decoder, kernel_iptables_icmp_has_no_ports)
{
	cr_assert_eq(decode("kernel", "IPTABLES-DROP: IN=ens3 OUT=ens4 SRC=192.0.2.1 DST=198.51.100.2 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1"), 1);
	cr_expect_str_eq(val("rule.name"), "IPTABLES-DROP:");
	cr_expect_str_eq(val("network.transport"), "icmp");
	cr_expect_null(val("source.port"));
}

/* The firewall pattern reads the prefix once (issue 12): a prefix
 * written without its trailing blank still ends at IN=, and the first
 * SRC=/DST= and PROTO= are the ones taken. */
Test(decoder, kernel_firewall_prefix_forms_after_the_rewrite)
{
	cr_assert_eq(decode("kernel", "DROPIN=eth1 OUT= SRC=192.0.2.7 DST=198.51.100.9 LEN=40 PROTO=UDP SPT=53 DPT=5353"), 1);
	cr_expect_str_eq(val("rule.name"), "DROP");
	cr_expect_str_eq(val("observer.ingress.interface.name"), "eth1");
	cr_expect_str_eq(val("source.ip"), "192.0.2.7");
	cr_expect_str_eq(val("destination.port"), "5353");
	cr_assert_eq(decode("kernel", "IN=eth0 OUT=eth1 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=1 DPT=2 SRC=9.9.9.9"), 1);
	cr_expect_null(val("rule.name"));
	cr_expect_str_eq(val("observer.egress.interface.name"), "eth1");
	cr_expect_str_eq(val("source.ip"), "10.0.0.1");
	cr_assert_eq(decode("kernel", "[  77.000001] nft in INPUT: IN=ens3 OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=80 PROTO=ICMPv6 TYPE=128"), 1);
	cr_expect_str_eq(val("rule.name"), "nft in INPUT:");
	cr_expect_str_eq(val("network.transport"), "ipv6-icmp"); /* the protocol modifier: ECS network.transport names */
}

Test(decoder, kernel_syn_usb_disk_link)
{
	cr_assert_eq(decode("kernel", "TCP: request_sock_TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters."), 1);
	cr_expect_str_eq(val("destination.port"), "80");
	cr_expect_str_eq(val("event.action"), "syn_flood");
	cr_assert_eq(decode("kernel", "TCP: request_sock_TCP: Possible SYN flooding on port [::]:8443. Sending cookies."), 1);
	cr_expect_str_eq(val("destination.port"), "8443");
	cr_assert_eq(decode("kernel", "usb-storage 1-1:1.0: USB Mass Storage device detected"), 1);
	cr_expect_str_eq(val("device.id"), "1-1:1.0");
	cr_expect_str_eq(val("event.action"), "usb_storage_attached");
	cr_assert_eq(decode("kernel", "blk_update_request: I/O error, dev sda, sector 123456 op 0x0:(READ) flags 0x0"), 1);
	cr_expect_str_eq(val("device.id"), "sda");
	cr_expect_str_eq(val("event.action"), "disk_io_error");
	cr_assert_eq(decode("kernel", "EXT4-fs error (device sdb1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0"), 1);
	cr_expect_str_eq(val("device.id"), "sdb1");
	cr_assert_eq(decode("kernel", "e1000e: eth0 NIC Link is Down"), 1);
	cr_expect_str_eq(val("interface.name"), "eth0");
	cr_expect_str_eq(val("event.action"), "link_down");
}

Test(decoder, clamav_packages_ups_logd)
{
	cr_assert_eq(decode("clamd", "/home/alice/Downloads/invoice.pdf.exe: Win.Trojan.Agent-1234 FOUND"), 1);
	cr_expect_str_eq(val("file.path"), "/home/alice/Downloads/invoice.pdf.exe");
	cr_expect_str_eq(val("threat.software.name"), "Win.Trojan.Agent-1234");
	cr_assert_eq(decode("clamd", "/tmp/eicar.com: Eicar-Signature(44d88612fea8a8f36de82e1278abb02f:68) FOUND"), 1);
	cr_expect_str_eq(val("threat.software.name"), "Eicar-Signature");
	cr_assert_eq(decode("dpkg", "2026-11-27 10:00:00 install nginx:amd64 <none> 1.22.1-9"), 1);
	cr_expect_str_eq(val("package.name"), "nginx");
	cr_expect_str_eq(val("package.version"), "1.22.1-9");
	cr_assert_eq(decode("yum", "Installed: httpd-2.4.6-97.el7.centos.x86_64"), 1);
	cr_expect_str_eq(val("package.name"), "httpd");
	cr_expect_str_eq(val("package.version"), "2.4.6-97.el7.centos");
	cr_expect_str_eq(val("package.architecture"), "x86_64");
	cr_assert_eq(decode("upsmon", "UPS ups@localhost on battery"), 1);
	cr_expect_str_eq(val("event.action"), "ups_on_battery");
	cr_assert_eq(decode("rsyslogd", "[origin software=\"rsyslogd\" swVersion=\"8.2302.0\" x-pid=\"612\" x-info=\"https://www.rsyslog.com\"] exiting on signal 15."), 1);
	cr_expect_str_eq(val("event.action"), "log_daemon_stopped");
	cr_assert_eq(decode("systemd", "Stopped System Logging Service."), 1);
	cr_expect_str_eq(val("service.name"), "System Logging Service");
}

Test(decoder, clamav_path_may_hold_colons_and_sudo_pwd_its_separator)
{
	cr_assert_eq(decode("clamd", "/srv/share/2026: report: v2.xls.exe: Win.Trojan.X-1 FOUND"), 1);
	cr_expect_str_eq(val("file.path"), "/srv/share/2026: report: v2.xls.exe");
	cr_expect_str_eq(val("threat.software.name"), "Win.Trojan.X-1");
	cr_assert_eq(decode("clamd", "Sun Nov 27 10:00:00 2026 -> /tmp/a b/eicar.com: Eicar-Test-Signature FOUND"), 1);
	cr_expect_str_eq(val("file.path"), "/tmp/a b/eicar.com");
	cr_assert_eq(decode("sudo", "    alice : TTY=pts/0 ; PWD=/home/alice/a ; b ; USER=root ; COMMAND=/usr/bin/id ; USER=x"), 1);
	cr_expect_str_eq(val("process.working_directory"), "/home/alice/a ; b");
	cr_expect_str_eq(val("user.target.name"), "root");
	cr_expect_str_eq(val("process.command_line"), "/usr/bin/id ; USER=x");
}

/* ---- load errors ---- */

static struct lw_decoder_set *load_text(const char *text, int *rc)
{
	struct lw_decoder_set *s = lw_decoder_set_new();

	cr_assert_not_null(s);
	*rc = lw_decoder_set_load_string(s, "bad.yml", text, strlen(text), &diags);
	return s;
}

Test(decoder, load_errors_name_file_and_line_and_keep_going)
{
	int rc;
	struct lw_decoder_set *s = load_text(
		"decoders:\n"                                   /* 1 */
		"  - name: broken-regex\n"                      /* 2 */
		"    pattern: '(?<user__name>\\S+'\n"           /* 3 */
		"  - name: bad-key\n"                           /* 4 */
		"    patern: 'x'\n"                             /* 5 */
		"  - name: good\n"                              /* 6 */
		"    pattern: '^ok (?<user__name>\\S+)'\n"      /* 7 */
		"  - name: bad-group\n"                         /* 8 */
		"    pattern: '(?<user__>x)'\n"                 /* 9 */
		"  - name: no-group\n"                          /* 10 */
		"    pattern: 'plain'\n",                       /* 11 */
		&rc);

	cr_expect_eq(rc, LW_EPARSE);
	cr_expect_eq(lw_decoder_count(s), 1, "only the good decoder is kept");
	cr_expect_str_eq(lw_decoder_name(s, 0), "good");
	cr_assert_geq(diags.count, 4);
	cr_expect_str_eq(diags.items[0].diag.file, "bad.yml");
	cr_expect_eq(diags.items[0].diag.line, 3);
	cr_expect(strstr(diags.items[0].diag.detail, "pcre2") != NULL, "%s",
		  diags.items[0].diag.detail);
	cr_expect_eq(diags.items[1].diag.line, 5);
	cr_expect(strstr(diags.items[1].diag.detail, "unknown decoder key 'patern'") != NULL,
		  "%s", diags.items[1].diag.detail);
	cr_expect_eq(diags.items[diags.count - 2].diag.line, 9);
	cr_expect_eq(diags.items[diags.count - 1].diag.line, 11);
	lw_decoder_set_free(s);
}

Test(decoder, yaml_syntax_error_has_line)
{
	int rc;
	struct lw_decoder_set *s = load_text("decoders:\n  - name: x\n    pattern: [unclosed\n", &rc);

	cr_expect_eq(rc, LW_EPARSE);
	cr_assert_eq(diags.count, 1);
	cr_expect_geq(diags.items[0].diag.line, 3);
	cr_expect(strstr(diags.items[0].diag.detail, "YAML") != NULL);
	lw_decoder_set_free(s);
}

Test(decoder, group_rename_map_and_literal_prefix)
{
	int rc;
	struct lw_decoder_set *s = load_text(
		"decoders:\n"
		"  - match: {process.name: app}\n"
		"    groups: {iface: observer.ingress.interface.name}\n"
		"    pattern: '^link \\[up\\] (?<iface>\\w+)'\n", &rc);
	struct lw_decoder_scratch *sc;
	struct lw_event ev;

	cr_assert_eq(rc, LW_OK);
	cr_assert_eq(lw_decoder_set_build(s), LW_OK);
	sc = lw_decoder_scratch_new(s);
	memset(&ev, 0, sizeof(ev));
	ev.app = LW_STR_LIT("app");
	ev.message = LW_STR_LIT("link [up] eth1");
	cr_assert_eq(lw_decoder_apply(s, sc, &ev, &out), 1);
	cr_expect_eq(out.nfields, 1);
	cr_expect_str_eq(val("observer.ingress.interface.name"), "eth1");
	cr_expect_str_eq(lw_decoder_name(s, 0), "decoder-1");
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}

/* ---- dispatch, message wrappers, joins (engine, own decoders) ---- */

static struct lw_decoder_set *built(const char *yaml)
{
	int rc;
	struct lw_decoder_set *s = load_text(yaml, &rc);

	cr_assert_eq(rc, LW_OK, "%s", diags.count ? diags.items[0].diag.detail : "");
	cr_assert_eq(lw_decoder_set_build(s), LW_OK);
	return s;
}

/* One event of host, program, pid, time (seconds) and message. */
static int apply_ev(struct lw_decoder_set *s, struct lw_decoder_scratch *sc,
		    const char *host, const char *app, const char *pid,
		    int64_t t, const char *msg)
{
	struct lw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.host = (struct lw_str){host, (uint32_t)strlen(host)};
	ev.app = (struct lw_str){app, (uint32_t)strlen(app)};
	ev.procid = (struct lw_str){pid, (uint32_t)strlen(pid)};
	ev.timestamp_ns = t * 1000000000LL;
	ev.message = (struct lw_str){msg, (uint32_t)strlen(msg)};
	return lw_decoder_apply(s, sc, &ev, &out);
}

Test(decoder, program_family_and_anchors_choose_decoders)
{
	struct lw_decoder_set *s = built(
		"decoders:\n"
		"  - name: smtpd-reject\n"
		"    match: {process.name: postfix}\n"
		"    pattern: 'reject: RCPT from \\S+\\[(?<source__ip>[^\\]]+)\\]'\n"
		"  - name: no-anchor\n"
		"    match: {process.name: other}\n"
		"    pattern: '(?<user__name>\\w+)'\n");
	struct lw_decoder_scratch *sc = lw_decoder_scratch_new(s);
	static const char msg[] = "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 ...";

	/* postfix/smtpd and postfix/submission/smtpd are the family postfix. */
	cr_expect_eq(apply_ev(s, sc, "h", "postfix/smtpd", "", 0, msg), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "postfix/submission/smtpd", "", 0, msg), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.1");
	/* An unfiled tag: the pattern's required literal is the anchor. */
	cr_expect_eq(apply_ev(s, sc, "h", "mail-forwarder", "", 0, msg), 1);
	cr_expect_str_eq(lw_decoder_name(s, out.decoder), "smtpd-reject");
	/* A filed program that is not the family runs only its decoders. */
	cr_expect_eq(apply_ev(s, sc, "h", "other", "", 0, "!!"), 0);
	/* A decoder without any 4-byte literal is tried only for its programs. */
	cr_expect_eq(apply_ev(s, sc, "h", "unfiled", "", 0, "word"), 0);
	cr_expect_eq(apply_ev(s, sc, "h", "other", "", 0, "word"), 1);
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}

Test(decoder, wrappers_are_taken_off_before_matching)
{
	struct lw_decoder_set *s = built(
		"decoders:\n"
		"  - match: {process.name: d}\n"
		"    pattern: '^Failed (?<user__name>.*) from (?<source__ip>\\S++)$'\n");
	struct lw_decoder_scratch *sc = lw_decoder_scratch_new(s);

	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 0, "[ID 800047 auth.info] Failed a from 192.0.2.2"), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.2");
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 0, "message repeated 3 times: [ Failed b from 192.0.2.3]"), 1);
	cr_expect_str_eq(val("user.name"), "b");
	cr_expect_str_eq(val("source.ip"), "192.0.2.3");
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 0, "Failed c from 192.0.2.4 \t "), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.4");
	/* Something that only looks like a wrapper stays. */
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 0, "[ID x] Failed d from 192.0.2.5"), 0);
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}

Test(decoder, ip_fields_hold_addresses_and_names_go_to_address)
{
	static const struct {
		const char *text;
		int ip;
	} cases[] = {
		{"192.0.2.1", 1}, {"0.0.0.0", 1}, {"255.255.255.255", 1},
		{"2001:db8::1", 1}, {"::ffff:192.0.2.1", 1}, {"::1", 1},
		{"256.1.1.1", 0}, {"01.2.3.4", 0}, {"1.2.3", 0}, {"1.2.3.4.5", 0},
		{"1..2.3", 0}, {"1.2.3.4.", 0}, {"1234.1.1.1", 0}, {"a.b.c.d", 0},
		{"host.example", 0}, {"2001:db8::g", 0}, {"-", 0},
	};
	struct lw_decoder_set *s = built(
		"decoders:\n"
		"  - match: {process.name: d}\n"
		"    pattern: '^peer (?<source__ip>\\S+)$'\n");
	struct lw_decoder_scratch *sc = lw_decoder_scratch_new(s);
	char msg[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(msg, sizeof(msg), "peer %s", cases[i].text);
		cr_assert_eq(apply_ev(s, sc, "h", "d", "", 0, msg), 1);
		if (cases[i].ip)
			cr_expect_str_eq(val("source.ip"), cases[i].text);
		else
			cr_expect_str_eq(val("source.address"), cases[i].text);
	}
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}

static const char join_yaml[] =
	"decoders:\n"
	"  - name: open\n"
	"    match: {process.name: d}\n"
	"    pattern: '^open (?<sess__id>\\d+) from (?<source__ip>\\S+) port (?<source__port>\\d+)$'\n"
	"    join: {key: sess.id, save: [source.ip, source.port], ttl: 1m}\n"
	"  - name: who\n"
	"    match: {process.name: d}\n"
	"    pattern: '^user (?<sess__id>\\d+) (?<user__name>\\S+)$'\n"
	"    join: {key: sess.id, save: [user.name], load: [source.ip], ttl: 1m}\n"
	"  - name: fail\n"
	"    match: {process.name: d}\n"
	"    pattern: '^fail (?<sess__id>\\d+)(?: from (?<source__ip>\\S+))?$'\n"
	"    join: {key: sess.id, load: [source.ip, source.port, user.name]}\n"
	"    fields: {event.outcome: failure}\n"
	"  - name: close\n"
	"    match: {process.name: d}\n"
	"    pattern: '^close (?<sess__id>\\d+)$'\n"
	"    join: {key: sess.id, forget: true}\n"
	"  - name: pid-open\n"
	"    match: {process.name: p}\n"
	"    pattern: '^hello (?<source__ip>\\S+)$'\n"
	"    join: {key: process.pid, save: [source.ip], ttl: 2m}\n"
	"  - name: pid-fail\n"
	"    match: {process.name: p}\n"
	"    pattern: '^bye (?<user__name>\\S+)$'\n"
	"    join: {key: process.pid, load: [source.ip], ttl: 2m}\n";

Test(decoder, join_carries_fields_between_lines_of_a_session)
{
	struct lw_decoder_set *s = built(join_yaml);
	struct lw_decoder_scratch *sc = lw_decoder_scratch_new(s);
	struct lw_decoder_join_stats st;

	/* Before any save nothing is allocated or joined. */
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 100, "fail 7"), 1);
	cr_expect_null(val("source.ip"));
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 100, "open 7 from 192.0.2.10 port 5000"), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 101, "user 7 bob"), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.10");
	cr_expect_str_eq(val("user.name"), "bob");
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 102, "fail 7"), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.10");
	cr_expect_str_eq(val("source.port"), "5000");
	cr_expect_str_eq(val("user.name"), "bob");
	cr_expect_str_eq(val("event.outcome"), "failure");
	/* A field the line has is kept; only the missing ones are filled. */
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 102, "fail 7 from 192.0.2.99"), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.99");
	cr_expect_str_eq(val("source.port"), "5000");
	/* Another host, program or key is another session. */
	cr_expect_eq(apply_ev(s, sc, "h2", "d", "", 102, "fail 7"), 1);
	cr_expect_null(val("source.ip"));
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 102, "fail 8"), 1);
	cr_expect_null(val("source.ip"));
	/* A later save refreshes the ttl; past it the session is gone. */
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 150, "user 7 bob"), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 200, "fail 7"), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.10");
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 211, "fail 7"), 1);
	cr_expect_null(val("source.ip"));
	/* forget drops it at once. */
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 300, "open 9 from 192.0.2.11 port 6000"), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 301, "close 9"), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "d", "", 302, "fail 9"), 1);
	cr_expect_null(val("source.ip"));
	/* process.pid keys by the event's procid; no pid, no session. */
	cr_expect_eq(apply_ev(s, sc, "h", "p", "42", 400, "hello 192.0.2.12"), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "p", "42", 401, "bye root"), 1);
	cr_expect_str_eq(val("source.ip"), "192.0.2.12");
	cr_expect_eq(apply_ev(s, sc, "h", "p", "43", 401, "bye root"), 1);
	cr_expect_null(val("source.ip"));
	cr_expect_eq(apply_ev(s, sc, "h", "p", "", 401, "hello 192.0.2.13"), 1);
	cr_expect_eq(apply_ev(s, sc, "h", "p", "", 401, "bye root"), 1);
	cr_expect_null(val("source.ip"));
	lw_decoder_scratch_join_stats(sc, &st);
	/* open 7, user 7 twice, open 9, hello (pid 42); not the pid-less one. */
	cr_expect_eq(st.saved, 5);
	/* user 7 twice, fail 7 four times with a live session, bye (pid 42). */
	cr_expect_eq(st.joined, 6);
	cr_expect_eq(st.evicted, 0);
	cr_expect_eq(st.too_long, 0);
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}

Test(decoder, join_table_is_bounded_and_counts_evictions)
{
	struct lw_decoder_set *s = built(join_yaml);
	struct lw_decoder_scratch *sc = lw_decoder_scratch_new(s);
	struct lw_decoder_join_stats st;
	char msg[256], ip[64];
	unsigned n = 3 * LW_DECODER_JOIN_ENTRIES, found = 0;

	/* Three times as many live sessions as entries: the oldest give way. */
	for (unsigned i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "open %u from 10.%u.%u.%u port 1", i,
			 i >> 16 & 255, i >> 8 & 255, i & 255);
		cr_assert_eq(apply_ev(s, sc, "h", "d", "", 1000, msg), 1);
	}
	lw_decoder_scratch_join_stats(sc, &st);
	cr_expect_eq(st.saved, n);
	cr_expect_geq(st.evicted, n - LW_DECODER_JOIN_ENTRIES);
	cr_expect_leq(st.evicted, n);
	/* The newest sessions are there, with their own address. */
	for (unsigned i = n - 64; i < n; i++) {
		snprintf(msg, sizeof(msg), "fail %u", i);
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
		cr_assert_eq(apply_ev(s, sc, "h", "d", "", 1001, msg), 1);
		if (val("source.ip") != NULL) {
			cr_expect_str_eq(val("source.ip"), ip);
			found++;
		}
	}
	cr_expect_geq(found, 48, "most of the newest sessions survive");
	/* A value too long to keep is not kept cut. */
	memset(msg, 0, sizeof(msg));
	strcpy(msg, "user 5 ");
	memset(msg + 7, 'x', LW_DECODER_JOIN_VALUE_MAX);
	cr_assert_eq(apply_ev(s, sc, "h", "d", "", 1002, msg), 1);
	cr_assert_eq(apply_ev(s, sc, "h", "d", "", 1002, "fail 5"), 1);
	cr_expect_null(val("user.name"));
	lw_decoder_scratch_join_stats(sc, &st);
	cr_expect_eq(st.too_long, 1);
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}

Test(decoder, join_load_errors)
{
	int rc;
	struct lw_decoder_set *s = load_text(
		"decoders:\n"                                                   /* 1 */
		"  - name: key-not-captured\n"                                  /* 2 */
		"    pattern: '^a (?<user__name>\\S+)'\n"                       /* 3 */
		"    join: {key: sess.id, load: [source.ip]}\n"                 /* 4 */
		"  - name: nothing-to-do\n"                                     /* 5 */
		"    pattern: '^b (?<user__name>\\S+)'\n"                       /* 6 */
		"    join: {key: process.pid}\n"                                /* 7 */
		"  - name: bad-ttl\n"                                           /* 8 */
		"    pattern: '^c (?<user__name>\\S+)'\n"                       /* 9 */
		"    join: {key: process.pid, save: [user.name], ttl: soon}\n"  /* 10 */
		"  - name: unknown-key\n"                                       /* 11 */
		"    pattern: '^d (?<user__name>\\S+)'\n"                       /* 12 */
		"    join: {key: process.pid, save: [user.name], keep: 1}\n"    /* 13 */
		"  - name: too-many\n"                                          /* 14 */
		"    pattern: '^e (?<user__name>\\S+)'\n"                       /* 15 */
		"    join: {key: process.pid, save: [a.b, c.d, e.f, g.h]}\n"    /* 16 */
		"  - name: fine\n"                                              /* 17 */
		"    pattern: '^f (?<user__name>\\S+)'\n"                       /* 18 */
		"    join: {key: process.pid, save: [user.name], forget: true}\n",
		&rc);

	cr_expect_eq(rc, LW_EPARSE);
	cr_expect_eq(lw_decoder_count(s), 1);
	cr_expect_str_eq(lw_decoder_name(s, 0), "fine");
	cr_assert_eq(diags.count, 5);
	cr_expect(strstr(diags.items[0].diag.detail, "join key 'sess.id' is not captured by pattern 1"),
		  "%s", diags.items[0].diag.detail);
	cr_expect(strstr(diags.items[1].diag.detail, "nothing to do"), "%s", diags.items[1].diag.detail);
	cr_expect_eq(diags.items[1].diag.line, 7);
	cr_expect(strstr(diags.items[2].diag.detail, "ttl"), "%s", diags.items[2].diag.detail);
	cr_expect_eq(diags.items[2].diag.line, 10);
	cr_expect(strstr(diags.items[3].diag.detail, "unknown join key 'keep'"), "%s",
		  diags.items[3].diag.detail);
	cr_expect(strstr(diags.items[4].diag.detail, "at most 3 fields"), "%s",
		  diags.items[4].diag.detail);
	cr_expect_eq(diags.items[4].diag.line, 16);
	lw_decoder_set_free(s);
}

/* ---- corpus: every sshd "Failed password" line of the Elastic sample ---- */

/* Independent parse: after "for ", skip "invalid user ", the user is the
 * word before " from " (may be empty), the IP the word after it. */
static void expect_from_line(const char *msg, char *user, char *ip)
{
	const char *p = strstr(msg, "Failed password for ") + 20;
	const char *from = strstr(p, "from ");
	const char *e;

	if (strncmp(p, "invalid user ", 13) == 0)
		p += 13;
	snprintf(user, 128, "%.*s", (int)(from > p ? from - p - 1 : 0), p);
	e = strchr(from + 5, ' ');
	snprintf(ip, 64, "%.*s", (int)(e - from - 5), from + 5);
}

/* needs corpus: elastic-examples-authlog/auth.log */
Test(decoder, corpus_elastic_authlog_failed_passwords)
{
	const char *corpus = getenv("LW_SHARED_CORPUS");
	char line[4096], file[4096], user[128], ip[64];
	unsigned n = 0, ok = 0;
	FILE *f;

	if (corpus == NULL)
		corpus = "../shared/corpus";
	snprintf(file, sizeof(file), "%s/elastic-examples-authlog/auth.log", corpus);
	f = fopen(file, "r");
	if (f == NULL) {
		cr_skip_test("%s not found (set LW_SHARED_CORPUS)", file);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *app, *msg, *end;

		line[strcspn(line, "\r\n")] = '\0';
		/* "Mar 27 13:06:56 host sshd[1234]: msg" */
		app = strchr(line + 16, ' ');
		if (app == NULL || (msg = strstr(app, ": ")) == NULL)
			continue;
		app++;
		end = strpbrk(app, "[:");
		if (end == NULL || strncmp(app, "sshd", (size_t)(end - app)) != 0 ||
		    end - app != 4)
			continue;
		msg += 2;
		if (strstr(msg, "Failed password for ") == NULL)
			continue;
		n++;
		expect_from_line(msg, user, ip);
		cr_assert_eq(decode("sshd", msg), 1, "%s", msg);
		cr_expect_str_eq(val("source.ip"), ip, "%s", msg);
		if (user[0])
			cr_expect_str_eq(val("user.name"), user, "%s", msg);
		else
			cr_expect_null(val("user.name"), "%s", msg);
		ok++;
	}
	fclose(f);
	cr_log_info("%u sshd 'Failed password' lines decoded", n);
	cr_expect_eq(ok, n);
	cr_expect_gt(n, 600, "the sample holds several hundred such lines");
}

/* Decoders for any program are chosen by one scan for their first
 * prefilter literal: found anywhere in the message (at either end, at
 * every offset the scan steps over), the decoder is tried, in load
 * order with the others; a decoder whose first literal is too short to
 * scan for, or that has none, is always tried; a later prefilter still
 * has to be there. */
Test(decoder, decoders_for_any_program_are_chosen_by_their_literals)
{
	struct lw_decoder_set *s = built(
		"decoders:\n"
		"  - name: fw-kv\n"
		"    prefilter: ['logid=', ' action=']\n"
		"    pattern: 'logid=(?<event__code>\\d+)'\n"
		"  - name: short-literal\n"
		"    prefilter: '%'\n"
		"    pattern: '%(?<event__code>[A-Z]+)-'\n"
		"  - name: no-literal\n"
		"    pattern: '^peer (?<source__ip>\\S+)$'\n"
		"  - name: later-kv\n"
		"    prefilter: 'logid='\n"
		"    pattern: 'logid=(?<event__action>\\w+)'\n");
	struct lw_decoder_scratch *sc = lw_decoder_scratch_new(s);
	char msg[64];

	for (int lead = 0; lead < 7; lead++) {
		snprintf(msg, sizeof(msg), "%.*slogid=0100 action=deny", lead, "xxxxxxx");
		cr_expect_eq(apply_ev(s, sc, "h", "fw", "", 0, msg), 1, "%s", msg);
		cr_expect_str_eq(lw_decoder_name(s, out.decoder), "fw-kv", "%s", msg);
		cr_expect_str_eq(val("event.code"), "0100");
	}
	/* At the very end, and without its second literal: the next one. */
	cr_expect_eq(apply_ev(s, sc, "h", "fw", "", 0, "zz action=deny logid=0"), 1);
	cr_expect_str_eq(lw_decoder_name(s, out.decoder), "fw-kv");
	cr_expect_eq(apply_ev(s, sc, "h", "fw", "", 0, "devname=a logid=0200"), 1);
	cr_expect_str_eq(lw_decoder_name(s, out.decoder), "later-kv");
	cr_expect_str_eq(val("event.action"), "0200");
	cr_expect_eq(apply_ev(s, sc, "h", "sshd", "", 0, "%SEC-4: x"), 1);
	cr_expect_str_eq(lw_decoder_name(s, out.decoder), "short-literal");
	cr_expect_eq(apply_ev(s, sc, "h", "sshd", "", 0, "peer 192.0.2.9"), 1);
	cr_expect_str_eq(lw_decoder_name(s, out.decoder), "no-literal");
	cr_expect_eq(apply_ev(s, sc, "h", "sshd", "", 0, "logi d=1 action=x"), 0);
	lw_decoder_scratch_free(sc);
	lw_decoder_set_free(s);
}
