/* logward query: search stored events (lw_cmd_query). Runs in its own
 * process as an LMDB reader, so it works while `serve` writes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "core/time.h"
#include "store/query.h"
#include "store/store.h"

#define FOLLOW_POLL_MS 500

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_HOST, OPT_APP, OPT_ZONE, OPT_SEVERITY,
       OPT_FIELD, OPT_GREP, OPT_LIMIT, OPT_FOLLOW, OPT_OUTPUT, OPT_TIME_LIMIT };

/* With --grep and no --time-limit: a pattern that backtracks on every
 * message must not scan silently for minutes (52 s for 100k events). */
#define GREP_TIME_LIMIT_MS 60000

struct out_ctx {
	int json;
	struct lw_buf line;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward query [-d DIR] [--since T] [--until T] [--host H] [--app A]\n"
		"                     [--zone Z] [--severity S] [--field K=V]... [--grep REGEX]\n"
		"                     [--limit N] [--follow] [--output text|json] [--time-limit T]\n"
		"\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --since T, --until T  RFC 3339 time or an age like 15m, 2h, 7d (inclusive)\n"
		"  --host, --app, --zone  exact host.name, process.name, labels.zone\n"
		"  --severity S        this severity or worse: emerg..debug or 0-7\n"
		"  --field K=V         exact match on an ECS name (host.name, process.name,\n"
		"                      log.syslog.msgid, labels.zone, ...) or an extra field\n"
		"                      such as source.ip; repeat to AND up to 16\n"
		"  --grep REGEX        pcre2 search in message\n"
		"  --limit N           print at most N events (oldest first)\n"
		"  --follow            keep printing new events as they are stored\n"
		"  --output FORMAT     text (syslog-like line with the zone) or json\n"
		"                      (one ECS-nested object per line)\n"
		"  --time-limit T      stop scanning after T (e.g. 30s, 5m; 0 = never;\n"
		"                      default 60s with --grep, else never); exit 1\n");
}

static const char *default_dir(void)
{
	const char *env = getenv("LOGWARD_DATA_DIR");

	return env != NULL && env[0] != '\0' ? env : "./var/logward";
}

static int print_event(const struct lw_event *ev, uint64_t seg, void *arg)
{
	struct out_ctx *o = arg;

	(void)seg;
	lw_buf_reset(&o->line);
	if (o->json)
		lw_event_to_json(ev, &o->line);
	else
		lw_event_to_text(ev, &o->line);
	lw_buf_putc(&o->line, '\n');
	if (o->line.oom)
		return LW_ENOMEM;
	if (fwrite(o->line.data, 1, o->line.len, stdout) != o->line.len)
		return LW_EIO;
	return 0;
}

static int parse_time(const char *opt, const char *s, int64_t now, int64_t *ns)
{
	if (lw_time_parse_query(s, now, ns) == LW_OK)
		return 0;
	fprintf(stderr, "logward query: %s: bad time '%s' (RFC 3339 or 15m, 2h, 7d)\n",
		opt, s);
	return -1;
}

static int parse_field(struct lw_query_filter *f, char *kv)
{
	int rc = lw_query_filter_add_field(f, kv);

	if (rc == LW_EPARSE)
		fprintf(stderr, "logward query: --field wants K=V, got '%s'\n", kv);
	else if (rc != LW_OK)
		fprintf(stderr, "logward query: at most %d --field conditions\n",
			LW_QUERY_MAX_FIELDS);
	return rc == LW_OK ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct lw_query_filter *f,
		      const char **dir, int *follow, int *json, int64_t *time_limit_ms)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"since", required_argument, NULL, OPT_SINCE},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"host", required_argument, NULL, OPT_HOST},
		{"app", required_argument, NULL, OPT_APP},
		{"zone", required_argument, NULL, OPT_ZONE},
		{"severity", required_argument, NULL, OPT_SEVERITY},
		{"field", required_argument, NULL, OPT_FIELD},
		{"grep", required_argument, NULL, OPT_GREP},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"follow", no_argument, NULL, OPT_FOLLOW},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int64_t now = lw_time_now_ns();
	char *end;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': *dir = optarg; break;
		case OPT_SINCE:
			if (parse_time("--since", optarg, now, &f->since_ns) != 0)
				return 2;
			break;
		case OPT_UNTIL:
			if (parse_time("--until", optarg, now, &f->until_ns) != 0)
				return 2;
			break;
		case OPT_HOST: f->host = optarg; break;
		case OPT_APP: f->app = optarg; break;
		case OPT_ZONE: f->zone = optarg; break;
		case OPT_SEVERITY:
			f->max_severity = lw_query_parse_severity(optarg);
			if (f->max_severity < 0) {
				fprintf(stderr, "logward query: bad severity '%s' (emerg, alert, crit, err, warning, notice, info, debug or 0-7)\n",
					optarg);
				return 2;
			}
			break;
		case OPT_FIELD:
			if (parse_field(f, optarg) != 0)
				return 2;
			break;
		case OPT_GREP: f->grep = optarg; break;
		case OPT_LIMIT:
			f->limit = strtoull(optarg, &end, 10);
			if (end == optarg || *end != '\0' || optarg[0] == '-') {
				fprintf(stderr, "logward query: bad --limit '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_FOLLOW: *follow = 1; break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") == 0) {
				*json = 1;
			} else if (strcmp(optarg, "text") == 0) {
				*json = 0;
			} else {
				fprintf(stderr, "logward query: --output is text or json\n");
				return 2;
			}
			break;
		case OPT_TIME_LIMIT: {
			uint64_t ms;

			if (lw_parse_duration_ms(optarg, &ms) != LW_OK && strcmp(optarg, "0") != 0) {
				fprintf(stderr, "logward query: bad --time-limit '%s' (e.g. 30s, 5m, 0)\n",
					optarg);
				return 2;
			}
			*time_limit_ms = strcmp(optarg, "0") == 0 ? 0 : (int64_t)ms;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "logward query: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (*time_limit_ms < 0)
		*time_limit_ms = f->grep != NULL ? GREP_TIME_LIMIT_MS : 0;
	return -1; /* go on */
}

int lw_cmd_query(int argc, char **argv)
{
	struct lw_query_filter f;
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_store *st = NULL;
	struct lw_query *q = NULL;
	struct out_ctx o = {0};
	struct lw_diag diag = {0};
	const char *dir = default_dir();
	int follow = 0, ret, rc;
	int64_t time_limit_ms = -1;
	struct lw_query_stats qs;
	char msg[600];

	lw_query_filter_init(&f);
	ret = parse_args(argc, argv, &f, &dir, &follow, &o.json, &time_limit_ms);
	if (ret >= 0)
		return ret;
	rc = lw_store_open(dir, &sopts, &st, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward query: cannot open store '%s': %s\n", dir, msg);
		return 2;
	}
	rc = lw_query_new(st, &f, &q, &diag);
	if (rc != LW_OK) {
		if (rc == LW_EPARSE)
			fprintf(stderr, "logward query: bad --grep '%s': %s\n", f.grep,
				diag.detail);
		else
			fprintf(stderr, "logward query: %s\n", diag.detail[0] ? diag.detail : lw_strerror(rc));
		ret = 2;
		goto out;
	}
	lw_buf_init(&o.line);
	ret = 0;
	for (;;) {
		/* Each poll of --follow gets the whole limit again. */
		if (time_limit_ms > 0)
			lw_query_set_deadline(q, lw_time_mono_ns() + time_limit_ms * 1000000);
		rc = lw_query_run(q, print_event, &o, &diag);
		if (rc == LW_ETOOBIG) {
			fprintf(stderr, "logward query: stopped: %s (--time-limit %llds; "
				"give a longer one, or 0 for none)\n", diag.detail,
				(long long)(time_limit_ms / 1000));
			ret = 1;
			break;
		}
		if (rc != LW_OK) {
			fprintf(stderr, "logward query: %s\n",
				diag.detail[0] ? diag.detail : lw_strerror(rc));
			ret = 1;
			break;
		}
		if (fflush(stdout) != 0) {
			ret = 1;
			break;
		}
		if (!follow || lw_query_done(q))
			break;
		/* Polling, not inotify: LMDB gives no change notification, and a
		 * cursor check per half second costs nothing. SIGINT ends it. */
		nanosleep(&(struct timespec){0, FOLLOW_POLL_MS * 1000000L}, NULL);
	}
	lw_buf_release(&o.line);
	/* Matches the pattern could not decide are not silently "no". */
	lw_query_get_stats(q, &qs);
	if (qs.regex_errors > 0) {
		fprintf(stderr, "logward query: --grep '%s' hit the match limit on %llu of %llu "
			"events; they were left out as not matching (the pattern backtracks: "
			"write its repeats possessive, e.g. \\S++, or anchor it)\n", f.grep,
			(unsigned long long)qs.regex_errors, (unsigned long long)qs.events_scanned);
		ret = 1;
	}
out:
	lw_query_free(q);
	lw_store_close(st);
	return ret;
}
