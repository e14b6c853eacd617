/* bench/journal/bench_journal.c - journal parser throughput on one core.
 *
 * Builds N typical entries in memory (28 fields, about 900 bytes, modelled
 * on `journalctl -o export` of an sshd login: cursor, stamps, boot and
 * machine ids, _SYSTEMD_* fields, a one-line MESSAGE; every 10th entry
 * has a binary multi-line MESSAGE), then times, in 256 KiB chunks as the
 * collector reads them:
 *   export-parse   lw_journal_feed alone (the callback counts fields)
 *   export-event   the same plus lw_journal_add_entry into batches
 *   json-parse     the same entries as journal JSON (one object a line)
 * Best of --runs runs, process CPU time. Usage: bench_journal [N] [runs]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/journal.h"
#include "core/buf.h"
#include "core/escape.h"
#include "core/err.h"
#include "core/event.h"

#define CHUNK (256 * 1024)

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void field(struct lw_buf *b, int json, int *first, const char *k, const char *v)
{
	if (!json) {
		lw_buf_printf(b, "%s=%s\n", k, v);
		return;
	}
	lw_buf_printf(b, "%s\"%s\":", *first ? "{" : ",", k);
	lw_escape_json_string(b, v, strlen(v));
	*first = 0;
}

static void make(struct lw_buf *b, size_t n, int json)
{
	char v[256];

	for (size_t i = 0; i < n; i++) {
		int first = 1;

		snprintf(v, sizeof(v), "s=5c1a8e37d4f54c6c9d4b6b1e0a3f9c21;i=%zx;b=0f6a9c4e1d2b4a7f8e3c5d6b7a8f9e0d;m=%zx;t=%zx;x=%zx",
			 i, 1000000 + i, 1700000000000000 + i, i * 7919);
		field(b, json, &first, "__CURSOR", v);
		snprintf(v, sizeof(v), "%zu", (size_t)1700000000000000 + i * 997);
		field(b, json, &first, "__REALTIME_TIMESTAMP", v);
		snprintf(v, sizeof(v), "%zu", (size_t)5000000 + i);
		field(b, json, &first, "__MONOTONIC_TIMESTAMP", v);
		field(b, json, &first, "_BOOT_ID", "0f6a9c4e1d2b4a7f8e3c5d6b7a8f9e0d");
		field(b, json, &first, "_TRANSPORT", "syslog");
		field(b, json, &first, "PRIORITY", "6");
		field(b, json, &first, "SYSLOG_FACILITY", "10");
		field(b, json, &first, "SYSLOG_IDENTIFIER", "sshd");
		snprintf(v, sizeof(v), "%zu", 1000 + i % 30000);
		field(b, json, &first, "SYSLOG_PID", v);
		field(b, json, &first, "SYSLOG_TIMESTAMP", "Nov 27 12:00:00 ");
		field(b, json, &first, "_UID", "0");
		field(b, json, &first, "_GID", "0");
		field(b, json, &first, "_COMM", "sshd");
		field(b, json, &first, "_EXE", "/usr/sbin/sshd");
		snprintf(v, sizeof(v), "sshd: user%zu [priv]", i % 500);
		field(b, json, &first, "_CMDLINE", v);
		field(b, json, &first, "_CAP_EFFECTIVE", "1ffffffffff");
		field(b, json, &first, "_SELINUX_CONTEXT", "unconfined");
		field(b, json, &first, "_AUDIT_SESSION", "4242");
		field(b, json, &first, "_AUDIT_LOGINUID", "1000");
		field(b, json, &first, "_SYSTEMD_CGROUP", "/system.slice/ssh.service");
		field(b, json, &first, "_SYSTEMD_UNIT", "ssh.service");
		field(b, json, &first, "_SYSTEMD_SLICE", "system.slice");
		field(b, json, &first, "_SYSTEMD_INVOCATION_ID", "9d0c1f2e3b4a59687f6e5d4c3b2a1908");
		field(b, json, &first, "_MACHINE_ID", "a91663387a90b89f185d4e860000001a");
		snprintf(v, sizeof(v), "web%zu", i % 16);
		field(b, json, &first, "_HOSTNAME", v);
		field(b, json, &first, "_RUNTIME_SCOPE", "system");
		snprintf(v, sizeof(v), "%zu", 1000 + i % 30000);
		field(b, json, &first, "_PID", v);
		if (i % 10 == 9 && !json) {
			static const char m[] = "Traceback (most recent call last):\n  File \"x\", line 1\n\nValueError: x\n";
			uint64_t len = sizeof(m) - 1;
			lw_buf_puts(b, "MESSAGE\n");
			for (int k = 0; k < 8; k++)
				lw_buf_putc(b, (char)(len >> (8 * k)));
			lw_buf_append(b, m, len);
			lw_buf_putc(b, '\n');
		} else {
			snprintf(v, sizeof(v), "Accepted publickey for user%zu from 10.20.%zu.%zu port %zu ssh2: ED25519 SHA256:abcdef",
				 i % 500, i % 250, i % 200, 40000 + i % 20000);
			field(b, json, &first, "MESSAGE", v);
		}
		lw_buf_puts(b, json ? "}\n" : "\n");
	}
}

struct sink {
	uint64_t entries, fields;
	struct lw_batch *b;
	struct lw_listener_counts cnt;
};

static int count_only(void *arg, const struct lw_journal_entry *e)
{
	struct sink *s = arg;

	s->entries++;
	s->fields += e->nfields;
	return LW_OK;
}

static int to_event(void *arg, const struct lw_journal_entry *e)
{
	static const struct lw_listener_src src = {
		.zone = "lgwan", .zone_len = 5, .addr = "127.0.0.1:40000", .addr_len = 15};
	struct sink *s = arg;

	if (lw_journal_add_entry(s->b, e, &src, 1, &s->cnt) == LW_EFULL) {
		lw_batch_reset(s->b);
		if (lw_journal_add_entry(s->b, e, &src, 1, &s->cnt) != LW_OK)
			abort();
	}
	s->entries++;
	return LW_OK;
}

static double run(enum lw_journal_format fmt, const struct lw_buf *in,
		  lw_journal_entry_fn cb, struct sink *s)
{
	struct lw_journal *j = lw_journal_new(fmt, 0, 0);
	double t0 = cpu_now();

	for (size_t off = 0; off < in->len; off += CHUNK) {
		size_t n = in->len - off < CHUNK ? in->len - off : CHUNK;
		if (lw_journal_feed(j, (const uint8_t *)in->data + off, n, NULL, cb, s) != LW_OK)
			abort();
	}
	if (lw_journal_finish(j, cb, s) != LW_OK)
		abort();
	lw_journal_free(j);
	return cpu_now() - t0;
}

static void report(const char *name, enum lw_journal_format fmt,
		   const struct lw_buf *in, lw_journal_entry_fn cb, size_t n, int runs)
{
	double best = 1e9;
	struct sink s = {0};

	s.b = lw_batch_new(4096);
	for (int r = 0; r < runs; r++) {
		double t;

		s.entries = 0;
		t = run(fmt, in, cb, &s);
		if (s.entries != n)
			abort();
		if (t < best)
			best = t;
	}
	printf("%-13s %8zu entries %7.1f MB  %6.3f s  %6.2f M entries/s  %7.0f MB/s\n",
	       name, n, (double)in->len / 1e6, best, (double)n / best / 1e6,
	       (double)in->len / best / 1e6);
	lw_batch_free(s.b);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 500000;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	struct lw_buf exp, json;

	lw_buf_init(&exp);
	lw_buf_init(&json);
	make(&exp, n, 0);
	make(&json, n, 1);
	if (exp.oom || json.oom)
		return 1;
	printf("entry: %.0f bytes (export), %.0f bytes (JSON), 28 fields\n",
	       (double)exp.len / (double)n, (double)json.len / (double)n);
	report("export-parse", LW_JOURNAL_EXPORT, &exp, count_only, n, runs);
	report("export-event", LW_JOURNAL_EXPORT, &exp, to_event, n, runs);
	report("json-parse", LW_JOURNAL_JSON, &json, count_only, n, runs);
	lw_buf_release(&exp);
	lw_buf_release(&json);
	return 0;
}
