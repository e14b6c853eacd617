/* logward query: search stored events and count them (lw_cmd_query).
 * Runs in its own process as an LMDB reader, so it works while `serve`
 * writes. The expression language is store/qlang.h (docs/query.md); the
 * old flags are shorthand for terms of it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/qerror.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "core/time.h"
#include "store/aggregate.h"
#include "store/query.h"
#include "store/store.h"

#define FOLLOW_POLL_MS 500

enum { OPT_SINCE = 256, OPT_UNTIL, OPT_HOST, OPT_APP, OPT_ZONE, OPT_SEVERITY,
       OPT_FIELD, OPT_GREP, OPT_LIMIT, OPT_FOLLOW, OPT_OUTPUT, OPT_EXPLAIN,
       OPT_COUNT, OPT_COUNT_BY, OPT_TOP, OPT_HISTOGRAM, OPT_BY, OPT_TIME_LIMIT };

/* With a regex and no --time-limit: a pattern that backtracks on every
 * message must not scan silently for minutes (52 s for 100k events). */
#define REGEX_TIME_LIMIT_MS 60000

enum output { OUT_TEXT, OUT_JSON, OUT_CSV };

struct query_args {
	struct lw_query_filter f;
	const char *dir;
	struct lw_buf expr;        /* -q and any words after the options */
	int has_expr;
	int follow, explain;
	enum output output;
	int aggregate;             /* an lw_agg_request is asked for */
	struct lw_agg_request agg;
	const char *by;
	int64_t time_limit_ms;     /* -1: the default (REGEX_TIME_LIMIT_MS with a regex) */
};

struct out_ctx {
	int json;
	struct lw_buf line;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward query [-d DIR] [-q EXPR] [--since T] [--until T]\n"
		"                     [--count | --count-by FIELD [--top N]\n"
		"                      | --histogram STEP [--by FIELD [--top N]]]\n"
		"                     [--limit N] [--follow] [--explain] [--output text|json|csv]\n"
		"                     [--host H] [--app A] [--zone Z] [--severity S]\n"
		"                     [--field K=V]... [--grep REGEX] [--time-limit T] [EXPR...]\n"
		"\n"
		"  -q, --query EXPR    what to find (docs/query.md), e.g.\n"
		"                        'failed password AND source.ip:10.20.0.0/16 AND NOT host.name:jump01'\n"
		"                      words after the options are part of it too\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --since T, --until T  RFC 3339 time or an age like 15m, 2h, 7d (inclusive)\n"
		"  --count             print the number of matching events\n"
		"  --count-by FIELD    the most frequent values of FIELD with their counts\n"
		"  --top N             how many values (default 10)\n"
		"  --histogram STEP    events per STEP (30s, 1m, 15m, 1h, 1d) ...\n"
		"  --by FIELD          ... per value of FIELD (e.g. labels.zone)\n"
		"  --limit N           print at most N events (oldest first)\n"
		"  --follow            keep printing new events as they are stored\n"
		"  --explain           after the run, print the plan and what it did to stderr:\n"
		"                      index used, segments scanned and skipped\n"
		"  --output FORMAT     text (events as syslog-like lines with the zone), json\n"
		"                      (one ECS-nested object per event), csv (aggregations)\n"
		"  --time-limit T      stop scanning after T (30s, 5m; 0 = never) and exit 1;\n"
		"                      default 60s when the query has a regex, else never\n"
		"\n"
		"shorthand for terms of EXPR, AND-ed with it:\n"
		"  --host H, --app A, --zone Z  host.name:\"H\", process.name:\"A\", labels.zone:\"Z\"\n"
		"  --severity S        this severity or worse (emerg..debug or 0-7):\n"
		"                      log.syslog.severity.code:<=S\n"
		"  --field K=V         K:\"V\" (repeat to AND up to 16)\n"
		"  --grep REGEX        message:/REGEX/ (pcre2)\n");
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

static int parse_count(const char *opt, const char *s, uint64_t *out)
{
	char *end;

	*out = strtoull(s, &end, 10);
	if (end == s || *end != '\0' || s[0] == '-') {
		fprintf(stderr, "logward query: bad %s '%s'\n", opt, s);
		return -1;
	}
	return 0;
}

static int set_aggregate(struct query_args *a, enum lw_agg_kind kind, const char *opt)
{
	if (a->aggregate) {
		fprintf(stderr, "logward query: %s: one of --count, --count-by, --histogram\n", opt);
		return -1;
	}
	a->aggregate = 1;
	a->agg.kind = kind;
	return 0;
}

static void add_expr(struct query_args *a, const char *s)
{
	if (a->has_expr)
		lw_buf_putc(&a->expr, ' ');
	lw_buf_puts(&a->expr, s);
	a->has_expr = 1;
}

/* One option; 0 to go on, else the exit code. */
static int parse_opt(int ch, struct query_args *a, int64_t now)
{
	uint64_t n;

	switch (ch) {
	case 'd': a->dir = optarg; return 0;
	case 'q': add_expr(a, optarg); return 0;
	case OPT_SINCE: return parse_time("--since", optarg, now, &a->f.since_ns) ? 2 : 0;
	case OPT_UNTIL: return parse_time("--until", optarg, now, &a->f.until_ns) ? 2 : 0;
	case OPT_HOST: a->f.host = optarg; return 0;
	case OPT_APP: a->f.app = optarg; return 0;
	case OPT_ZONE: a->f.zone = optarg; return 0;
	case OPT_SEVERITY:
		a->f.max_severity = lw_query_parse_severity(optarg);
		if (a->f.max_severity >= 0)
			return 0;
		fprintf(stderr, "logward query: bad severity '%s' (emerg, alert, crit, err, warning, notice, info, debug or 0-7)\n",
			optarg);
		return 2;
	case OPT_FIELD: return parse_field(&a->f, optarg) ? 2 : 0;
	case OPT_GREP: a->f.grep = optarg; return 0;
	case OPT_LIMIT: return parse_count("--limit", optarg, &a->f.limit) ? 2 : 0;
	case OPT_FOLLOW: a->follow = 1; return 0;
	case OPT_EXPLAIN: a->explain = 1; return 0;
	case OPT_COUNT: return set_aggregate(a, LW_AGG_COUNT, "--count") ? 2 : 0;
	case OPT_COUNT_BY:
		a->agg.field = optarg;
		return set_aggregate(a, LW_AGG_COUNT_BY, "--count-by") ? 2 : 0;
	case OPT_HISTOGRAM:
		if (lw_agg_parse_step(optarg, &a->agg.step_ns) != LW_OK) {
			fprintf(stderr, "logward query: bad --histogram step '%s' (30s, 1m, 1h, 1d)\n",
				optarg);
			return 2;
		}
		return set_aggregate(a, LW_AGG_HISTOGRAM, "--histogram") ? 2 : 0;
	case OPT_BY: a->by = optarg; return 0;
	case OPT_TOP:
		if (parse_count("--top", optarg, &n) || n == 0 || n > LW_AGG_MAX_VALUES) {
			fprintf(stderr, "logward query: --top is 1 to %u\n", LW_AGG_MAX_VALUES);
			return 2;
		}
		a->agg.top = (uint32_t)n;
		return 0;
	case OPT_OUTPUT:
		if (strcmp(optarg, "json") == 0)
			a->output = OUT_JSON;
		else if (strcmp(optarg, "text") == 0)
			a->output = OUT_TEXT;
		else if (strcmp(optarg, "csv") == 0)
			a->output = OUT_CSV;
		else {
			fprintf(stderr, "logward query: --output is text, json or csv\n");
			return 2;
		}
		return 0;
	case OPT_TIME_LIMIT: {
		uint64_t ms;

		if (strcmp(optarg, "0") == 0) {
			a->time_limit_ms = 0;
			return 0;
		}
		if (lw_parse_duration_ms(optarg, &ms) != LW_OK || ms > INT64_MAX / 1000000) {
			fprintf(stderr, "logward query: bad --time-limit '%s' (e.g. 30s, 5m, 0)\n",
				optarg);
			return 2;
		}
		a->time_limit_ms = (int64_t)ms;
		return 0;
	}
	case 'h': usage(stdout); return -2;
	default: usage(stderr); return 2;
	}
}

/* Options that only make sense together. 0 or the exit code. */
static int check_args(struct query_args *a)
{
	const char *bad = NULL;

	if (a->by != NULL && !(a->aggregate && a->agg.kind == LW_AGG_HISTOGRAM))
		bad = "--by goes with --histogram";
	else if (a->agg.top != 0 && !(a->aggregate && (a->agg.kind == LW_AGG_COUNT_BY || a->by)))
		bad = "--top goes with --count-by or --histogram --by";
	else if (a->aggregate && a->follow)
		bad = "--follow prints events; it does not go with an aggregation";
	else if (a->aggregate && a->f.limit != 0)
		bad = "--limit counts printed events; an aggregation counts them all";
	else if (!a->aggregate && a->output == OUT_CSV)
		bad = "--output csv is for --count, --count-by and --histogram";
	if (bad != NULL) {
		fprintf(stderr, "logward query: %s\n", bad);
		return 2;
	}
	if (a->by != NULL)
		a->agg.field = a->by;
	return 0;
}

static int parse_args(int argc, char **argv, struct query_args *a)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"query", required_argument, NULL, 'q'},
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
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{"count", no_argument, NULL, OPT_COUNT},
		{"count-by", required_argument, NULL, OPT_COUNT_BY},
		{"top", required_argument, NULL, OPT_TOP},
		{"histogram", required_argument, NULL, OPT_HISTOGRAM},
		{"by", required_argument, NULL, OPT_BY},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int64_t now = lw_time_now_ns();
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:q:h", longopts, NULL)) != -1) {
		rc = parse_opt(ch, a, now);
		if (rc != 0)
			return rc == -2 ? 0 : rc;
	}
	for (int i = optind; i < argc; i++)
		add_expr(a, argv[i]);
	if (a->has_expr) {
		lw_buf_putc(&a->expr, '\0');
		if (a->expr.oom)
			return 1;
		a->f.expr = a->expr.data;
	}
	rc = check_args(a);
	return rc != 0 ? rc : -1; /* -1: go on */
}

static int write_buf(const struct lw_buf *b)
{
	if (b->oom)
		return LW_ENOMEM;
	if (fwrite(b->data, 1, b->len, stdout) != b->len || fflush(stdout) != 0)
		return LW_EIO;
	return LW_OK;
}

static void set_deadline(struct lw_query *q, const struct query_args *a)
{
	int64_t ms = a->time_limit_ms;

	if (ms < 0)
		ms = lw_query_has_regex(q) ? REGEX_TIME_LIMIT_MS : 0;
	lw_query_set_deadline(q, ms > 0 ? lw_time_mono_ns() + ms * 1000000 : 0);
}

static int run_aggregate(struct lw_query *q, struct query_args *a, struct lw_diag *diag)
{
	struct lw_agg_result *res = NULL;
	struct lw_buf out;
	int rc;

	set_deadline(q, a);
	rc = lw_agg_run(q, &a->agg, &res, diag);
	if (rc != LW_OK)
		return rc;
	lw_buf_init(&out);
	if (a->output == OUT_JSON)
		lw_agg_to_json(res, &out);
	else if (a->output == OUT_CSV)
		lw_agg_to_csv(res, &out);
	else
		lw_agg_to_text(res, &out);
	rc = write_buf(&out);
	lw_buf_release(&out);
	lw_agg_result_free(res);
	return rc;
}

static int run_events(struct lw_query *q, const struct query_args *a, struct lw_diag *diag)
{
	struct out_ctx o = {.json = a->output == OUT_JSON};
	int rc;

	lw_buf_init(&o.line);
	for (;;) {
		set_deadline(q, a); /* each poll of --follow gets the whole limit */
		rc = lw_query_run(q, print_event, &o, diag);
		if (rc != LW_OK)
			break;
		if (fflush(stdout) != 0) {
			rc = LW_EIO;
			break;
		}
		if (!a->follow || lw_query_done(q))
			break;
		/* Polling, not inotify: LMDB gives no change notification, and a
		 * cursor check per half second costs nothing. SIGINT ends it. */
		nanosleep(&(struct timespec){0, FOLLOW_POLL_MS * 1000000L}, NULL);
	}
	lw_buf_release(&o.line);
	return rc;
}

static void explain(const struct lw_query *q)
{
	struct lw_buf b;

	lw_buf_init(&b);
	lw_query_explain(q, &b);
	if (!b.oom)
		fwrite(b.data, 1, b.len, stderr);
	lw_buf_release(&b);
}

int lw_cmd_query(int argc, char **argv)
{
	struct query_args a = {.dir = default_dir(), .time_limit_ms = -1};
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_store *st = NULL;
	struct lw_query *q = NULL;
	struct lw_diag diag = {0};
	int ret, rc;
	char msg[600];

	lw_query_filter_init(&a.f);
	lw_buf_init(&a.expr);
	ret = parse_args(argc, argv, &a);
	if (ret >= 0)
		goto out;
	rc = lw_store_open(a.dir, &sopts, &st, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward query: cannot open store '%s': %s\n", a.dir, msg);
		ret = 2;
		goto out;
	}
	rc = lw_query_new(st, &a.f, &q, &diag);
	if (rc != LW_OK) {
		if (diag.detail[0] == '\0')
			snprintf(diag.detail, sizeof(diag.detail), "%s", lw_strerror(rc));
		lw_qerror_print(stderr, "logward query", a.f.expr, &diag);
		ret = 2;
		goto out;
	}
	memset(&diag, 0, sizeof(diag));
	rc = a.aggregate ? run_aggregate(q, &a, &diag) : run_events(q, &a, &diag);
	if (a.explain)
		explain(q);
	ret = 0;
	if (rc == LW_ETOOBIG) {
		fprintf(stderr, "logward query: stopped: %s (--time-limit; give a longer one, "
			"or 0 for none)\n", diag.detail);
		ret = 1;
	} else if (rc == LW_EPARSE || rc == LW_EINVAL) {
		lw_qerror_print(stderr, "logward query", NULL, &diag);
		ret = 2;
	} else if (rc != LW_OK) {
		if (diag.detail[0] == '\0')
			snprintf(diag.detail, sizeof(diag.detail), "%s", lw_strerror(rc));
		lw_qerror_print(stderr, "logward query", a.f.expr, &diag);
		ret = 1;
	}
out:
	lw_query_free(q);
	lw_store_close(st);
	lw_buf_release(&a.expr);
	return ret;
}
