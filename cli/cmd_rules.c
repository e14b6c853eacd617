/* cli/cmd_rules.c - `logward rules check|test` (lw_cmd_rules): load the
 * rule pack and report every problem, or run log lines through decoders,
 * detection and correlation and print what matched and what fired (in the
 * spirit of fail2ban-regex). Single-threaded; nothing is stored. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "collector/rfc3164.h"
#include "collector/replay.h"
#include "collector/rfc5424.h"
#include "collector/syslog.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/escape.h"
#include "core/config.h"
#include "core/err.h"
#include "core/event.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"
#include "store/incidents.h"
#include "store/store.h"

/* Longer input lines are cut (the collector's default max message size). */
#define LINE_MAX_BYTES (64 * 1024)
/* Distinct incidents `rules test` tracks for ids and merged counts. */
#define TEST_MAX_INCIDENTS 4096

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward rules check [-c FILE] [DIR...]\n"
		"       logward rules test [-c FILE] [-r DIR]... [--format auto|rfc3164|rfc5424]\n"
		"                          [--now RFC3339] [--zone NAME] [--max-clock-skew DURATION]\n"
		"                          FILE|-\n"
		"       logward rules replay [-c FILE] [-d DIR] [-r DIR]... [--since T] [--until T]\n"
		"                          [-q EXPR] [--diff]\n"
		"\n"
		"check: loads decoders, detection rules, correlation rules and response.yml\n"
		"  from each DIR (default: the config's rules, i.e. rules/) and prints every\n"
		"  error and warning as file:line:col: reason. Exit 1 on any error.\n"
		"\n"
		"test: parses each line as syslog, decodes, detects and correlates it, and\n"
		"  prints one JSON object per line:\n"
		"    {\"line\": N, \"event\": {...}, \"matches\": [rule ids]}\n"
		"  and {\"incident\": {...}} after the line that made a rule fire (ids count\n"
		"  distinct rule+group pairs; count and first_seen are merged the way the\n"
		"  store merges repeats of an open incident). Held-back firings are\n"
		"  printed at the end of input.\n"
		"\n"
		"  -c, --config FILE        config for zones and rule directories\n"
		"  -r, --rules DIR          rule directory (repeatable; default: the config's)\n"
		"      --format F           auto (default), rfc3164 or rfc5424\n"
		"      --now T              receive time (RFC 3339), for RFC 3164 year\n"
		"                           inference (default: the current time)\n"
		"      --zone NAME          labels.zone of every event\n"
		"      --max-clock-skew D   flag events further than D from --now\n"
		"                           (default: off, since files are replayed)\n"
		"\n"
		"replay: runs the rule pack (-r, default the config's) over the stored events\n"
		"  of [--since, --until] (and -q EXPR) without writing the store, and prints\n"
		"  each incident it would have raised as {\"incident\": {...}}. With --diff,\n"
		"  compares them with the incidents the store holds whose first_seen is in\n"
		"  the period and prints each difference as {\"change\": \"new\"|\"gone\"|\n"
		"  \"changed\", ...}, then {\"summary\": {...}}; exit 1 when there is one.\n"
		"  -d, --data-dir DIR       store (default: the config's data_dir)\n"
		"      --since T, --until T the period: RFC 3339 or an age (default: all)\n"
		"  -q, --query EXPR         replay only the events matching EXPR\n");
}

static int load_config(const char *path, struct lw_config *cfg)
{
	struct lw_diag diag;
	char msg[800];
	int rc;

	if (path == NULL) {
		lw_config_defaults(cfg);
		return LW_OK;
	}
	memset(&diag, 0, sizeof(diag));
	rc = lw_config_load(path, cfg, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward rules: %s\n", msg);
	}
	return rc;
}

static void print_diags(const struct lw_diags *d, FILE *out)
{
	char buf[1024];

	for (size_t i = 0; i < d->count; i++) {
		lw_diags_format(&d->items[i], buf, sizeof(buf));
		fprintf(out, "%s\n", buf);
	}
	if (d->dropped > 0)
		fprintf(out, "(%zu more not shown)\n", d->dropped);
}

/* Loads like lw_ruleset_load, but keeps going through build even after
 * errors so that `check` reports reference errors too, and returns the
 * ruleset for counting whatever happened (NULL only on ENOMEM). */
static struct lw_ruleset *load_all(const char *const *dirs, size_t ndirs,
				   const struct lw_config *cfg,
				   struct lw_diags *diags)
{
	struct lw_ruleset *rs = lw_ruleset_new(cfg);

	if (rs == NULL)
		return NULL;
	for (size_t i = 0; i < ndirs; i++)
		if (lw_ruleset_load_lists_dir(rs, dirs[i], diags) == LW_ENOMEM)
			goto oom;
	for (size_t i = 0; i < ndirs; i++)
		if (lw_ruleset_load_dir(rs, dirs[i], diags) == LW_ENOMEM)
			goto oom;
	if (lw_ruleset_build(rs, diags) == LW_ENOMEM)
		goto oom;
	return rs;

oom:
	lw_ruleset_free(rs);
	return NULL;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	const char *dirs[LW_CONFIG_MAX_RULE_DIRS + 64];
	size_t ndirs = 0;
	struct lw_config *cfg = NULL;
	struct lw_ruleset *rs = NULL;
	struct lw_diags diags;
	int ch, ret = 1;

	lw_diags_init(&diags);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	cfg = malloc(sizeof(*cfg));
	if (cfg == NULL || load_config(config, cfg) != LW_OK)
		goto out;
	for (int i = optind; i < argc && ndirs < sizeof(dirs) / sizeof(dirs[0]); i++)
		dirs[ndirs++] = argv[i];
	if (ndirs == 0) /* no DIR: the config's rule directories */
		for (size_t i = 0; i < cfg->nrule_dirs; i++)
			dirs[ndirs++] = cfg->rule_dirs[i];
	rs = load_all(dirs, ndirs, cfg, &diags);
	if (rs == NULL) {
		fprintf(stderr, "logward rules check: out of memory\n");
		goto out;
	}
	/* 2 KiB inputs (and 4 KiB): enough for a pattern that backtracks to
	 * show 4x growth, fast enough to run at every check (about a second
	 * for the default pack). */
	lw_ruleset_check_costs(rs, 2048, &diags);
	print_diags(&diags, stdout);
	printf("%u decoders, %u detection rules, %u correlation rules: "
	       "%zu errors, %zu warnings\n",
	       lw_ruleset_decoder_count(rs), lw_ruleset_rule_count(rs),
	       lw_correlation_rules_count(lw_ruleset_correlations(rs)),
	       diags.nerrors, diags.nwarnings);
	ret = diags.nerrors > 0 ? 1 : 0;
out:
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	free(cfg);
	return ret;
}

/* ---- rules test ---- */

struct seen_incident {
	const struct lw_sigma_rule_info *rule;
	char group[512];
	uint64_t count;
	int64_t first_ns;
};

struct tester {
	const struct lw_ruleset *rs;
	struct lw_buf out;
	struct seen_incident *seen;
	uint32_t nseen;
};

/* One firing as the store would show its incident: repeats of a rule and
 * group merge (count, first_seen) under one id. */
static void on_fire(const struct lw_incident_fire *f, void *arg)
{
	struct tester *t = arg;
	struct lw_buf *b = &t->out;
	struct seen_incident *s = NULL;
	uint32_t id;

	if (!lw_sigma_level_raises(f->rule->level))
		return; /* a building block: raises no incident, as in serve */

	for (id = 0; id < t->nseen; id++)
		if (t->seen[id].rule == f->rule &&
		    strcmp(t->seen[id].group, f->group) == 0) {
			s = &t->seen[id];
			break;
		}
	if (s == NULL && t->nseen < TEST_MAX_INCIDENTS) {
		s = &t->seen[t->nseen++];
		s->rule = f->rule;
		snprintf(s->group, sizeof(s->group), "%s", f->group);
		s->count = 0;
		s->first_ns = f->first_seen_ns;
	}
	if (s != NULL) {
		s->count += f->count;
		if (f->first_seen_ns < s->first_ns)
			s->first_ns = f->first_seen_ns;
	}
	lw_buf_puts(b, "{\"incident\":");
	lw_replay_incident_json_open(f->rule, s != NULL ? id + 1 : 0, f->group, f->host, f->zone,
				     s != NULL ? s->first_ns : f->first_seen_ns, f->last_seen_ns,
				     s != NULL ? s->count : f->count, b);
	lw_buf_printf(b, ",\"fire_count\":%llu,\"lines\":[", (unsigned long long)f->count);
	/* In test mode the event seq is the input line number - 1. */
	for (uint32_t i = 0; i < f->nevidence; i++)
		lw_buf_printf(b, "%s%llu", i ? "," : "",
			      (unsigned long long)f->evidence[i] + 1);
	lw_buf_puts(b, "],\"response\":");
	lw_buf_puts(b, f->response_json);
	lw_buf_puts(b, "}}\n");
}

static void flush_out(struct lw_buf *b)
{
	if (b->len > 0)
		fwrite(b->data, 1, b->len, stdout);
	lw_buf_reset(b);
}

enum test_format { FMT_AUTO, FMT_3164, FMT_5424 };

struct test_args {
	const char *config, *zone, *input;
	const char *dirs[LW_CONFIG_MAX_RULE_DIRS];
	size_t ndirs;
	enum test_format format;
	int64_t now_ns;
	int64_t max_skew_ns;
};

static void parse_line(const struct test_args *a, const char *line, size_t len,
		       const struct lw_parse_opts *opts, struct lw_event *ev)
{
	int rc = LW_OK;

	memset(ev, 0, sizeof(*ev));
	ev->facility = ev->severity = LW_SYSLOG_NONE;
	if (a->format == FMT_AUTO) {
		lw_syslog_parse(line, len, opts, ev);
	} else {
		rc = a->format == FMT_3164 ? lw_rfc3164_parse(line, len, opts, ev) :
			lw_rfc5424_parse(line, len, opts, ev);
		ev->created_ns = opts->now_ns;
		if (rc != LW_OK) {
			lw_event_set_unparsed(ev, line, len);
			ev->created_ns = ev->timestamp_ns = opts->now_ns;
			ev->flags |= LW_EVENT_NO_TIMESTAMP | LW_EVENT_PARSE_ERROR;
		}
	}
	if (a->zone != NULL)
		ev->zone = (struct lw_str){a->zone, (uint32_t)strlen(a->zone)};
	if (a->max_skew_ns > 0) {
		int64_t d = ev->timestamp_ns - ev->created_ns;

		if (d > a->max_skew_ns || d < -a->max_skew_ns)
			ev->flags |= LW_EVENT_CLOCK_SKEW;
	}
}

static void print_line(struct tester *t, uint64_t n, const struct lw_event *ev,
		       const struct lw_ruleset_matches *m)
{
	struct lw_buf *b = &t->out;

	lw_buf_printf(b, "{\"line\":%llu,\"event\":", (unsigned long long)n);
	lw_event_to_json(ev, b);
	lw_buf_puts(b, ",\"matches\":[");
	for (uint32_t i = 0; i < m->count; i++) {
		const struct lw_sigma_rule_info *in = lw_ruleset_rule(t->rs, m->rules[i]);

		if (i > 0)
			lw_buf_putc(b, ',');
		lw_escape_json_string(b, in->id, strlen(in->id));
	}
	lw_buf_puts(b, "]}\n");
}

static int run_test(const struct test_args *a, struct lw_ruleset *rs, FILE *in)
{
	struct lw_ruleset_scratch *scr = lw_ruleset_scratch_new(rs);
	struct lw_correlation *corr = lw_correlation_new(rs);
	struct lw_parse_opts opts = {.now_ns = a->now_ns};
	struct tester t;
	struct lw_arena arena;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int ret = 1;

	memset(&t, 0, sizeof(t));
	t.rs = rs;
	lw_buf_init(&t.out);
	lw_arena_init(&arena, 0);
	t.seen = calloc(TEST_MAX_INCIDENTS, sizeof(*t.seen));
	if (scr == NULL || corr == NULL || t.seen == NULL) {
		fprintf(stderr, "logward rules test: out of memory\n");
		goto out;
	}
	while ((n = getline(&line, &cap, in)) != -1) {
		struct lw_event ev;
		struct lw_ruleset_matches m;
		size_t len = (size_t)n;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len > LINE_MAX_BYTES)
			len = LINE_MAX_BYTES;
		lw_arena_reset(&arena);
		parse_line(a, line, len, &opts, &ev);
		if (lw_ruleset_apply(rs, scr, &ev, &arena, &m) != LW_OK) {
			fprintf(stderr, "logward rules test: out of memory\n");
			goto out;
		}
		print_line(&t, lineno, &ev, &m);
		if (lw_correlation_process(corr, &ev, lineno - 1, m.rules, m.count,
					   on_fire, &t) != LW_OK) {
			fprintf(stderr, "logward rules test: out of memory\n");
			goto out;
		}
		if (t.out.len > 65536)
			flush_out(&t.out);
		if (t.out.oom) {
			fprintf(stderr, "logward rules test: out of memory\n");
			goto out;
		}
	}
	if (ferror(in)) {
		char ebuf[128];

		fprintf(stderr, "logward rules test: read error: %s\n",
			strerror_r(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	lw_correlation_flush(corr, on_fire, &t);
	flush_out(&t.out);
	ret = 0;
out:
	free(line);
	free(t.seen);
	lw_buf_release(&t.out);
	lw_arena_release(&arena);
	lw_correlation_free(corr);
	lw_ruleset_scratch_free(scr);
	return ret;
}

static int parse_test_args(int argc, char **argv, struct test_args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"rules", required_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{"now", required_argument, NULL, 'n'},
		{"zone", required_argument, NULL, 'z'},
		{"max-clock-skew", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t ms;
	int ch;

	memset(a, 0, sizeof(*a));
	a->now_ns = lw_time_now_ns();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:r:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'z': a->zone = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'r':
			if (a->ndirs == LW_CONFIG_MAX_RULE_DIRS) {
				fprintf(stderr, "logward rules test: too many -r\n");
				return 2;
			}
			a->dirs[a->ndirs++] = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "auto") == 0) {
				a->format = FMT_AUTO;
			} else if (strcmp(optarg, "rfc3164") == 0) {
				a->format = FMT_3164;
			} else if (strcmp(optarg, "rfc5424") == 0) {
				a->format = FMT_5424;
			} else {
				fprintf(stderr, "logward rules test: unknown format '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (lw_time_parse_rfc3339(optarg, strlen(optarg), &a->now_ns) !=
			    strlen(optarg)) {
				fprintf(stderr, "logward rules test: --now needs an RFC 3339 "
					"time, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (lw_parse_duration_ms(optarg, &ms) != LW_OK) {
				fprintf(stderr, "logward rules test: bad duration '%s'\n", optarg);
				return 2;
			}
			a->max_skew_ns = (int64_t)ms * 1000000;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	a->input = argv[optind];
	return -1;
}

static int cmd_test(int argc, char **argv)
{
	struct test_args a;
	struct lw_config *cfg = malloc(sizeof(*cfg));
	const char *dirs[LW_CONFIG_MAX_RULE_DIRS];
	size_t ndirs;
	struct lw_ruleset *rs = NULL;
	struct lw_diags diags;
	FILE *in = NULL;
	int ret = 1, rc;

	lw_diags_init(&diags);
	if (cfg == NULL)
		goto out;
	rc = parse_test_args(argc, argv, &a);
	if (rc >= 0) {
		ret = rc;
		goto out;
	}
	if (load_config(a.config, cfg) != LW_OK)
		goto out;
	ndirs = a.ndirs ? a.ndirs : cfg->nrule_dirs;
	for (size_t i = 0; i < ndirs; i++)
		dirs[i] = a.ndirs ? a.dirs[i] : cfg->rule_dirs[i];
	if (lw_ruleset_load(dirs, ndirs, cfg, &rs, &diags) != LW_OK) {
		print_diags(&diags, stderr);
		fprintf(stderr, "logward rules test: the rules have errors "
			"(see 'logward rules check')\n");
		goto out;
	}
	in = strcmp(a.input, "-") == 0 ? stdin : fopen(a.input, "r");
	if (in == NULL) {
		char ebuf[128];

		fprintf(stderr, "logward rules test: cannot open '%s': %s\n", a.input,
			strerror_r(errno, ebuf, sizeof(ebuf)));
		goto out;
	}
	ret = run_test(&a, rs, in);
out:
	if (in != NULL && in != stdin)
		fclose(in);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	free(cfg);
	return ret;
}

/* ---- rules replay ---- */

struct replay_args {
	const char *config, *dir, *since, *until, *expr;
	const char *dirs[LW_CONFIG_MAX_RULE_DIRS];
	size_t ndirs;
	int diff;
};

struct diff_out {
	struct lw_buf out;
	uint64_t n[4]; /* per enum lw_replay_change */
};

static void stored_json(const struct lw_replay_stored *s, struct lw_buf *b)
{
	lw_buf_puts(b, "{\"rule\":{\"id\":");
	lw_escape_json_string(b, s->rule_id, strlen(s->rule_id));
	lw_buf_puts(b, ",\"title\":");
	lw_escape_json_string(b, s->rule_title, strlen(s->rule_title));
	lw_buf_puts(b, "},\"group\":");
	if (lw_incidents_json_object_ok((struct lw_str){s->group, (uint32_t)strlen(s->group)}))
		lw_escape_json_text(b, s->group, strlen(s->group));
	else /* not what a correlator writes: shown, never spliced in */
		lw_escape_json_string(b, s->group, strlen(s->group));
	lw_buf_printf(b, ",\"first_id\":%llu,\"incidents\":%u,\"count\":%llu,\"first_seen\":\"",
		      (unsigned long long)s->first_id, s->nincidents,
		      (unsigned long long)s->count);
	lw_time_format_rfc3339(s->first_seen_ns, b);
	lw_buf_puts(b, "\",\"last_seen\":\"");
	lw_time_format_rfc3339(s->last_seen_ns, b);
	lw_buf_puts(b, "\"}");
}

static void replayed_json(const struct lw_replay_incident *inc, uint64_t id, struct lw_buf *b)
{
	lw_replay_incident_json_open(inc->rule, id, inc->group, inc->host, inc->zone,
				     inc->first_seen_ns, inc->last_seen_ns, inc->count, b);
	lw_buf_printf(b, ",\"fire_count\":%llu,\"response\":", (unsigned long long)inc->fires);
	lw_escape_json_text(b, inc->response_json, strlen(inc->response_json));
	lw_buf_putc(b, '}');
}

static int on_change(const struct lw_replay_change_entry *e, void *arg)
{
	static const char *const names[] = {"same", "new", "gone", "changed"};
	struct diff_out *d = arg;

	d->n[e->change]++;
	if (e->change == LW_REPLAY_SAME)
		return 0;
	lw_buf_printf(&d->out, "{\"change\":\"%s\"", names[e->change]);
	if (e->replayed != NULL) {
		lw_buf_puts(&d->out, ",\"incident\":");
		replayed_json(e->replayed, 0, &d->out);
	}
	if (e->change != LW_REPLAY_NEW) {
		lw_buf_puts(&d->out, ",\"stored\":");
		stored_json(&e->stored, &d->out);
	}
	lw_buf_puts(&d->out, "}\n");
	if (d->out.len > 65536)
		flush_out(&d->out);
	return d->out.oom ? LW_ENOMEM : 0;
}

static int parse_replay_args(int argc, char **argv, struct replay_args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, 'd'},
		{"rules", required_argument, NULL, 'r'},
		{"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},
		{"query", required_argument, NULL, 'q'},
		{"diff", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:r:q:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'd': a->dir = optarg; break;
		case 's': a->since = optarg; break;
		case 'u': a->until = optarg; break;
		case 'q': a->expr = optarg; break;
		case 'D': a->diff = 1; break;
		case 'h': usage(stdout); return 0;
		case 'r':
			if (a->ndirs == LW_CONFIG_MAX_RULE_DIRS) {
				fprintf(stderr, "logward rules replay: too many -r\n");
				return 2;
			}
			a->dirs[a->ndirs++] = optarg;
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static int replay_period(const struct replay_args *a, struct lw_replay_opts *o)
{
	int64_t now = lw_time_now_ns();

	o->since_ns = INT64_MIN;
	o->until_ns = INT64_MAX;
	o->expr = a->expr;
	if (a->since != NULL && lw_time_parse_query(a->since, now, &o->since_ns) != LW_OK) {
		fprintf(stderr, "logward rules replay: bad --since '%s'\n", a->since);
		return 2;
	}
	if (a->until != NULL && lw_time_parse_query(a->until, now, &o->until_ns) != LW_OK) {
		fprintf(stderr, "logward rules replay: bad --until '%s'\n", a->until);
		return 2;
	}
	return -1;
}

static int print_replay(struct lw_store *st, const struct replay_args *a,
			const struct lw_replay_opts *o, const struct lw_replay_result *r)
{
	struct diff_out d;
	struct lw_diag diag = {0};
	int rc = LW_OK, ret = 0;

	memset(&d, 0, sizeof(d));
	lw_buf_init(&d.out);
	if (a->diff) {
		rc = lw_replay_diff(st, o, r, on_change, &d, &diag);
		lw_buf_printf(&d.out,
			      "{\"summary\":{\"events\":%llu,\"incidents\":%zu,\"held_back\":%llu,"
			      "\"new\":%llu,\"gone\":%llu,\"changed\":%llu,\"same\":%llu}}\n",
			      (unsigned long long)r->events, r->nincidents,
			      (unsigned long long)r->held_back,
			      (unsigned long long)d.n[LW_REPLAY_NEW],
			      (unsigned long long)d.n[LW_REPLAY_GONE],
			      (unsigned long long)d.n[LW_REPLAY_CHANGED],
			      (unsigned long long)d.n[LW_REPLAY_SAME]);
		ret = d.n[LW_REPLAY_NEW] + d.n[LW_REPLAY_GONE] + d.n[LW_REPLAY_CHANGED] > 0;
	} else {
		for (size_t i = 0; i < r->nincidents; i++) {
			lw_buf_puts(&d.out, "{\"incident\":");
			replayed_json(&r->incidents[i], i + 1, &d.out);
			lw_buf_puts(&d.out, "}\n");
			if (d.out.len > 65536)
				flush_out(&d.out);
		}
	}
	if (rc != LW_OK || d.out.oom) {
		fprintf(stderr, "logward rules replay: %s\n",
			diag.detail[0] ? diag.detail : lw_strerror(rc != LW_OK ? rc : LW_ENOMEM));
		ret = 2;
	} else {
		flush_out(&d.out);
	}
	if (r->untracked > 0)
		fprintf(stderr, "logward rules replay: %llu firings past %u incidents not shown\n",
			(unsigned long long)r->untracked, LW_REPLAY_MAX_INCIDENTS);
	lw_buf_release(&d.out);
	return ret;
}

static int cmd_replay(int argc, char **argv)
{
	struct replay_args a;
	struct lw_replay_opts o = {0};
	struct lw_config *cfg = malloc(sizeof(*cfg));
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_store *st = NULL;
	struct lw_ruleset *rs = NULL;
	struct lw_replay_result *r = NULL;
	struct lw_diags diags;
	struct lw_diag diag = {0};
	const char *dirs[LW_CONFIG_MAX_RULE_DIRS];
	size_t ndirs;
	char msg[800];
	int ret = 2, rc;

	lw_diags_init(&diags);
	if (cfg == NULL)
		goto out;
	rc = parse_replay_args(argc, argv, &a);
	if (rc < 0)
		rc = replay_period(&a, &o);
	if (rc >= 0) {
		ret = rc;
		goto out;
	}
	if (load_config(a.config, cfg) != LW_OK)
		goto out;
	ndirs = a.ndirs ? a.ndirs : cfg->nrule_dirs;
	for (size_t i = 0; i < ndirs; i++)
		dirs[i] = a.ndirs ? a.dirs[i] : cfg->rule_dirs[i];
	if (lw_ruleset_load(dirs, ndirs, cfg, &rs, &diags) != LW_OK) {
		print_diags(&diags, stderr);
		fprintf(stderr, "logward rules replay: the rules have errors "
			"(see 'logward rules check')\n");
		goto out;
	}
	o.rs = rs;
	if (a.dir == NULL)
		a.dir = a.config != NULL ? cfg->data_dir : getenv("LOGWARD_DATA_DIR");
	if (a.dir == NULL || a.dir[0] == '\0')
		a.dir = "./var/logward";
	rc = lw_store_open(a.dir, &sopts, &st, &diag);
	if (rc == LW_OK)
		rc = lw_replay_run(st, &o, &r, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward rules replay: store '%s': %s\n", a.dir,
			msg[0] ? msg : lw_strerror(rc));
		goto out;
	}
	ret = print_replay(st, &a, &o, r);
out:
	lw_replay_result_free(r);
	lw_store_close(st);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	free(cfg);
	return ret;
}

int lw_cmd_rules(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "test") == 0)
		return cmd_test(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	fprintf(stderr, "logward rules: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
