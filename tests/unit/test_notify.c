/* Unit tests for collector/notify: the JSON-lines file output and the exec
 * output with scripts the test writes (one that copies stdin, one that
 * fails once, one that outlives its timeout), retries and the full queue. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/notify.h"
#include "core/counters.h"

static char dir[64];
static struct lw_counters ctr;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lw-notify-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	lw_counters_init(&ctr);
}

static void teardown(void)
{
	char cmd[128];

	/* Only our own mkdtemp directory. */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(notify, .init = setup, .fini = teardown);

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_script(const char *name, const char *body)
{
	char p[128];
	FILE *f;

	path_of(p, sizeof(p), name);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	cr_assert_eq(chmod(p, 0700), 0);
}

static char *slurp(const char *name)
{
	static char buf[8192];
	char p[128];
	FILE *f;
	size_t n;

	path_of(p, sizeof(p), name);
	f = fopen(p, "r");
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static struct lw_notify *start(struct lw_notify_config *cfgs, size_t n,
			       uint32_t queue_max)
{
	struct lw_notify_opts o = {.outputs = cfgs, .noutputs = n,
				   .queue_max = queue_max, .backoff_ms = 20,
				   .counters = &ctr};
	struct lw_notify *nt;

	cr_assert_eq(lw_notify_start(&o, &nt, NULL), LW_OK);
	return nt;
}

static void exec_cfg(struct lw_notify_config *c, const char *script,
		     const char *arg, uint32_t timeout_ms, uint32_t attempts)
{
	memset(c, 0, sizeof(*c));
	c->type = LW_NOTIFY_EXEC;
	path_of(c->argv.v[0], sizeof(c->argv.v[0]), script);
	c->argv.n = 1;
	if (arg != NULL) {
		path_of(c->argv.v[1], sizeof(c->argv.v[1]), arg);
		c->argv.n = 2;
	}
	c->timeout_ms = timeout_ms;
	c->max_attempts = attempts;
}

#define J1 "{\"id\":1,\"level\":\"high\"}"
#define J2 "{\"id\":2,\"level\":\"low\"}"

Test(notify, file_output_appends_one_json_line_per_incident)
{
	struct lw_notify_config c = {.type = LW_NOTIFY_FILE, .max_attempts = 3};
	struct lw_notify *nt;

	path_of(c.path, sizeof(c.path), "incidents.jsonl");
	nt = start(&c, 1, 0);
	lw_notify_submit(nt, J1, strlen(J1), 3);
	lw_notify_submit(nt, J2, strlen(J2), 1);
	lw_notify_stop(nt, 5000);
	cr_expect_str_eq(slurp("incidents.jsonl"), J1 "\n" J2 "\n");
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_SENT), 2);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_FAILED), 0);
}

Test(notify, exec_gets_the_incident_on_stdin_without_a_shell)
{
	struct lw_notify_config c;
	struct lw_notify *nt;

	/* "$1" is the output file: argv reaches the program as given. */
	write_script("copy.sh", "cat > \"$1\"");
	exec_cfg(&c, "copy.sh", "got; echo pwned", 5000, 3);
	nt = start(&c, 1, 0);
	lw_notify_submit(nt, J1, strlen(J1), 4);
	lw_notify_stop(nt, 5000);
	cr_expect_str_eq(slurp("got; echo pwned"), J1 "\n",
			 "an argument with shell syntax is one plain argument");
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_SENT), 1);
}

/* The output thread blocks SIGPIPE, and `serve` blocks SIGTERM, SIGINT
 * and SIGHUP while it starts (this test blocks them too, as serve does):
 * the program must start with no signal blocked. */
Test(notify, exec_program_starts_with_no_signal_blocked)
{
	struct lw_notify_config c;
	struct lw_notify *nt;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* Not a shell script: sh clears its signal mask when it starts. */
	memset(&c, 0, sizeof(c));
	c.type = LW_NOTIFY_EXEC;
	snprintf(c.argv.v[0], sizeof(c.argv.v[0]), "/usr/bin/python3");
	snprintf(c.argv.v[1], sizeof(c.argv.v[1]), "-c");
	snprintf(c.argv.v[2], sizeof(c.argv.v[2]),
		 "import sys; sys.stdin.read(); open(sys.argv[1], 'w').write("
		 "[l for l in open('/proc/self/status') if l.startswith('SigBlk:')][0])");
	path_of(c.argv.v[3], sizeof(c.argv.v[3]), "mask");
	c.argv.n = 4;
	c.timeout_ms = 5000;
	c.max_attempts = 1;
	nt = start(&c, 1, 0);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	lw_notify_submit(nt, J1, strlen(J1), 4);
	lw_notify_stop(nt, 5000);
	cr_expect_str_eq(slurp("mask"), "SigBlk:\t0000000000000000\n");
}

Test(notify, failing_program_is_counted_and_retried)
{
	struct lw_notify_config c;
	struct lw_notify *nt;
	char marker[128], body[512];

	path_of(marker, sizeof(marker), "failed-once");
	snprintf(body, sizeof(body),
		 "if [ -e '%s' ]; then cat > \"$1\"; exit 0; fi\n"
		 "touch '%s'; exit 3", marker, marker);
	write_script("flaky.sh", body);
	exec_cfg(&c, "flaky.sh", "out", 5000, 3);
	nt = start(&c, 1, 0);
	lw_notify_submit(nt, J1, strlen(J1), 4);
	lw_notify_stop(nt, 10000);
	cr_expect_str_eq(slurp("out"), J1 "\n");
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_FAILED), 1);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_RETRIED), 1);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_SENT), 1);
}

Test(notify, program_past_its_timeout_is_killed_retried_then_dropped)
{
	struct lw_notify_config c[2];
	struct lw_notify *nt;

	write_script("slow.sh", "sleep 30");
	exec_cfg(&c[0], "slow.sh", NULL, 200, 2);
	/* A second output is not held up by the slow one. */
	memset(&c[1], 0, sizeof(c[1]));
	c[1].type = LW_NOTIFY_FILE;
	c[1].max_attempts = 1;
	path_of(c[1].path, sizeof(c[1].path), "fast.jsonl");
	nt = start(c, 2, 0);
	lw_notify_submit(nt, J1, strlen(J1), 4);
	lw_notify_stop(nt, 10000);
	cr_expect_str_eq(slurp("fast.jsonl"), J1 "\n");
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_FAILED), 2);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_RETRIED), 1);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_DROPPED), 1);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_SENT), 1);
}

Test(notify, missing_program_fails_cleanly)
{
	struct lw_notify_config c;
	struct lw_notify *nt;

	exec_cfg(&c, "does-not-exist", NULL, 1000, 1);
	nt = start(&c, 1, 0);
	lw_notify_submit(nt, J1, strlen(J1), 4);
	lw_notify_stop(nt, 5000);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_FAILED), 1);
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_DROPPED), 1);
}

Test(notify, full_queue_drops_the_oldest_and_counts)
{
	struct lw_notify_config c;
	struct lw_notify *nt;
	char json[64];

	write_script("slowcopy.sh", "sleep 0.3; cat >> \"$1\"");
	exec_cfg(&c, "slowcopy.sh", "out", 5000, 1);
	nt = start(&c, 1, 2);
	for (int i = 1; i <= 6; i++) {
		snprintf(json, sizeof(json), "{\"id\":%d}", i);
		lw_notify_submit(nt, json, strlen(json), 4);
	}
	lw_notify_stop(nt, 10000);
	/* The queue holds 2: of 6 submitted at once, 4 were dropped (the
	 * one being delivered may be among them but still completes). */
	cr_expect_eq(lw_counters_get(&ctr, LW_CTR_NOTIFY_DROPPED), 4);
	cr_expect(strstr(slurp("out"), "{\"id\":6}\n") != NULL, "the newest survives");
}

Test(notify, min_level_filters_outputs)
{
	struct lw_notify_config c = {.type = LW_NOTIFY_FILE, .max_attempts = 1,
				     .min_level = 3};
	struct lw_notify *nt;

	path_of(c.path, sizeof(c.path), "high.jsonl");
	nt = start(&c, 1, 0);
	lw_notify_submit(nt, J2, strlen(J2), lw_notify_level("low"));
	lw_notify_submit(nt, J1, strlen(J1), lw_notify_level("high"));
	lw_notify_stop(nt, 5000);
	cr_expect_str_eq(slurp("high.jsonl"), J1 "\n");
}
