/* cli/cmd_ingest.c - `logward ingest` (lw_cmd_ingest): files or stdin
 * through the daemon's path: LF framing -> lw_listener_add_frame (parse,
 * stamp) -> pipeline -> store. Main thread produces; the pipeline's writer
 * thread commits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "collector/framing.h"
#include "collector/journal.h"
#include "collector/listener.h"
#include "collector/pipeline.h"
#include "collector/rfc3164.h"
#include "collector/rfc5424.h"
#include "collector/syslog.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "core/tz.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"
#include "store/store.h"

#define READ_CHUNK (256 * 1024)
#define PROGRESS_NS 200000000LL /* redraw the progress line 5 times a second */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward ingest [-c FILE] [-d DIR] [--format FORMAT] [--zone NAME]\n"
		"                      [--reference-time T] [--check-clock] FILE...|-\n"
		"\n"
		"Stores log files (one message per line; '-' is stdin) through the\n"
		"same parse and store path as 'logward serve'.\n"
		"\n"
		"  -c, --config FILE   YAML config (data_dir, timezone, storage)\n"
		"  -d, --data-dir DIR  store directory (overrides the config)\n"
		"      --format F      auto (default; syslog is the same), rfc3164,\n"
		"                      rfc5424, journal-export (journalctl -o export)\n"
		"                      or journal-json (journalctl -o json)\n"
		"      --zone NAME     labels.zone of every event (default: none)\n"
		"      --reference-time T\n"
		"                      time the input was last written, for stamps\n"
		"                      without a year (RFC 3339 or an age like 30d;\n"
		"                      default: the file's modification time, now\n"
		"                      for stdin)\n"
		"      --check-clock   flag events further than max_clock_skew from\n"
		"                      now (off: an import has no live clock)\n"
		"  -q, --quiet         no progress line even on a terminal\n"
		"\n"
		"A stamp without a year (Mar 27 13:06:56) gets the latest year that puts\n"
		"it at most max_clock_skew after the reference time (docs/parsing.md).\n"
		"Ingesting the same file twice stores its events twice: there is no\n"
		"de-duplication. log.source.address is set to the file name.\n"
		"The config's rules decode and correlate the events as in serve;\n"
		"incidents are stored (see 'logward incidents'), not notified.\n"
		"On a terminal a progress line is shown on stderr.\n"
		"Journal input: an entry cut off at the end of the input, or a\n"
		"malformed one, is reported and the exit status is 1; the entries\n"
		"before it are stored.\n");
}

struct ingest {
	struct lw_pipeline *pipe;
	struct lw_batch *cur;
	struct lw_parse_opts popts;
	lw_listener_parse_fn parse;
	int journal; /* -1: syslog lines, else an enum lw_journal_format */
	struct lw_listener_src src;
	struct lw_listener_counts counts;
	struct lw_counters *counters;
	int lost; /* frames that could not be added (out of memory) */
	int64_t reference_ns; /* --reference-time, or 0: per file */
	/* progress */
	int progress;
	int64_t start_ns, last_draw_ns;
	uint64_t bytes_done, bytes_total, events;
};

/* Forced formats keep lw_syslog_parse's promise: never lose a line. */
static void keep_unparsed(const char *line, size_t len, int64_t now,
			  struct lw_event *ev)
{
	lw_event_set_unparsed(ev, line, len);
	ev->created_ns = now;
	ev->timestamp_ns = now;
	ev->flags |= LW_EVENT_NO_TIMESTAMP | LW_EVENT_PARSE_ERROR;
}

static void parse_3164(const char *line, size_t len,
		       const struct lw_parse_opts *o, struct lw_event *ev)
{
	if (lw_rfc3164_parse(line, len, o, ev) != LW_OK)
		keep_unparsed(line, len, o->now_ns, ev);
}

static void parse_5424(const char *line, size_t len,
		       const struct lw_parse_opts *o, struct lw_event *ev)
{
	if (lw_rfc5424_parse(line, len, o, ev) != LW_OK)
		keep_unparsed(line, len, o->now_ns, ev);
}

/* The batch was full: hand it over and wait for the next. */
static void next_batch(struct ingest *in)
{
	lw_listener_counts_flush(&in->counts, in->counters);
	lw_pipeline_submit(in->pipe, in->cur);
	in->cur = lw_pipeline_acquire(in->pipe, 1);
}

/* Counts the outcome of an add that was not LW_EFULL. */
static int added(struct ingest *in, int rc)
{
	if (rc == LW_OK) {
		in->events++;
	} else {
		in->lost++;
		lw_counters_add(in->counters, LW_CTR_DROPPED_NOMEM, 1);
	}
	return LW_OK;
}

static int on_frame(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	struct ingest *in = arg;
	int rc;

	/* A last line without LF is still a line: a file is not a
	 * connection that was cut. */
	flags &= ~(unsigned)LW_MSG_PARTIAL;
	while ((rc = lw_listener_add_frame(in->cur, msg, len, flags, &in->src,
					   &in->popts, in->parse, &in->counts)) == LW_EFULL)
		next_batch(in);
	return added(in, rc);
}

static int on_entry(void *arg, const struct lw_journal_entry *e)
{
	struct ingest *in = arg;
	int rc;

	while ((rc = lw_journal_add_entry(in->cur, e, &in->src, in->popts.now_ns,
					  &in->counts)) == LW_EFULL)
		next_batch(in);
	return added(in, rc);
}

static void draw_progress(struct ingest *in, int final)
{
	int64_t now = lw_time_now_ns();
	double secs, rate;

	if (!in->progress || (!final && now - in->last_draw_ns < PROGRESS_NS))
		return;
	in->last_draw_ns = now;
	secs = (double)(now - in->start_ns) / 1e9;
	rate = secs > 0 ? (double)in->events / secs : 0;
	fprintf(stderr, "\r%.1f MiB", (double)in->bytes_done / 1048576.0);
	if (in->bytes_total > 0) {
		double brate = secs > 0 ? (double)in->bytes_done / secs : 0;
		double left = brate > 0 ?
			(double)(in->bytes_total - in->bytes_done) / brate : 0;
		fprintf(stderr, " of %.1f MiB", (double)in->bytes_total / 1048576.0);
		if (!final)
			fprintf(stderr, ", %.0fs left", left);
	}
	fprintf(stderr, ", %llu events, %.0f events/s   %s",
		(unsigned long long)in->events, rate, final ? "\n" : "");
}

static int ingest_fd(struct ingest *in, int fd, const char *name,
		     struct lw_framing *fr, uint8_t *buf)
{
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			char ebuf[128];

			fprintf(stderr, "logward ingest: cannot read '%s': %s\n",
				name, strerror_r(errno, ebuf, sizeof(ebuf)));
			return LW_EIO;
		}
		if (n == 0)
			break;
		in->popts.now_ns = lw_time_now_ns();
		lw_framing_feed(fr, buf, (size_t)n, on_frame, in);
		in->bytes_done += (uint64_t)n;
		draw_progress(in, 0);
	}
	lw_framing_finish(fr, on_frame, in);
	return LW_OK;
}

/* A journal stream: the entries before a fault are stored, the fault is
 * an error naming the file and the byte. */
static int ingest_journal_fd(struct ingest *in, int fd, const char *name,
			     uint8_t *buf)
{
	struct lw_journal *j = lw_journal_new((enum lw_journal_format)in->journal, 0, 0);
	int rc = LW_OK;

	if (j == NULL) {
		fprintf(stderr, "logward ingest: out of memory\n");
		return LW_ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			char ebuf[128];

			fprintf(stderr, "logward ingest: cannot read '%s': %s\n",
				name, strerror_r(errno, ebuf, sizeof(ebuf)));
			rc = LW_EIO;
			break;
		}
		if (n == 0) {
			rc = lw_journal_finish(j, on_entry, in);
			break;
		}
		in->popts.now_ns = lw_time_now_ns();
		rc = lw_journal_feed(j, buf, (size_t)n, NULL, on_entry, in);
		in->bytes_done += (uint64_t)n;
		draw_progress(in, 0);
		if (rc != LW_OK)
			break;
	}
	if (rc != LW_OK && rc != LW_EIO)
		fprintf(stderr, "logward ingest: '%s': %s\n", name, lw_journal_error(j));
	lw_journal_free(j);
	return rc;
}

static int ingest_path(struct ingest *in, const char *path, size_t max_msg,
		       uint8_t *buf)
{
	struct lw_framing *fr = lw_framing_new(LW_FRAMING_LF, max_msg);
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fr == NULL) {
		fprintf(stderr, "logward ingest: out of memory\n");
		rc = LW_ENOMEM;
		goto out;
	}
	if (fd == -1) {
		char ebuf[128];

		fprintf(stderr, "logward ingest: cannot open '%s': %s\n", path,
			strerror_r(errno, ebuf, sizeof(ebuf)));
		rc = LW_EIO;
		goto out;
	}
	in->popts.reference_ns = in->reference_ns;
	if (in->reference_ns == 0 && !is_stdin) {
		struct stat st;

		/* The last line was written when the file was: lnav dates
		 * year-less stamps the same way. */
		if (fstat(fd, &st) == 0)
			in->popts.reference_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
						 st.st_mtim.tv_nsec;
	}
	in->src.addr = is_stdin ? "stdin" : path;
	in->src.addr_len = (uint32_t)strlen(in->src.addr);
	if (in->journal >= 0)
		rc = ingest_journal_fd(in, fd, path, buf);
	else
		rc = ingest_fd(in, fd, path, fr, buf);
out:
	if (fd > 0)
		close(fd);
	lw_framing_free(fr);
	return rc;
}

static uint64_t total_size(char **paths, int n)
{
	uint64_t total = 0;
	struct stat st;

	for (int i = 0; i < n; i++) {
		if (strcmp(paths[i], "-") == 0 || stat(paths[i], &st) != 0 ||
		    !S_ISREG(st.st_mode))
			return 0; /* unknown: no time-left estimate */
		total += (uint64_t)st.st_size;
	}
	return total;
}

struct ingest_args {
	const char *config, *dir, *zone;
	lw_listener_parse_fn parse;
	int journal;
	int quiet;
	int check_clock;
	int64_t reference_ns; /* 0: each file's modification time */
};

static int parse_args(int argc, char **argv, struct ingest_args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'},
		{"zone", required_argument, NULL, 'z'},
		{"quiet", no_argument, NULL, 'q'},
		{"reference-time", required_argument, NULL, 'R'},
		{"check-clock", no_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->journal = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'd': a->dir = optarg; break;
		case 'z': a->zone = optarg; break;
		case 'q': a->quiet = 1; break;
		case 'K': a->check_clock = 1; break;
		case 'R':
			if (lw_time_parse_query(optarg, lw_time_now_ns(),
						&a->reference_ns) != LW_OK ||
			    a->reference_ns == 0) {
				fprintf(stderr, "logward ingest: bad --reference-time '%s' "
					"(RFC 3339 or an age like 30d)\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'f':
			a->journal = -1;
			if (strcmp(optarg, "auto") == 0 || strcmp(optarg, "syslog") == 0) {
				a->parse = NULL;
			} else if (strcmp(optarg, "rfc3164") == 0) {
				a->parse = parse_3164;
			} else if (strcmp(optarg, "rfc5424") == 0) {
				a->parse = parse_5424;
			} else if (strcmp(optarg, "journal-export") == 0) {
				a->journal = LW_JOURNAL_EXPORT;
			} else if (strcmp(optarg, "journal-json") == 0) {
				a->journal = LW_JOURNAL_JSON;
			} else {
				fprintf(stderr, "logward ingest: unknown format '%s'\n", optarg);
				return 2;
			}
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static int load_config(const struct ingest_args *a, struct lw_config *cfg)
{
	struct lw_diag diag;
	char msg[1024];
	int rc = LW_OK;

	memset(&diag, 0, sizeof(diag));
	if (a->config != NULL)
		rc = lw_config_load(a->config, cfg, &diag);
	else
		lw_config_defaults(cfg);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward ingest: invalid configuration: %s\n", msg);
		return rc;
	}
	if (a->dir != NULL)
		snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", a->dir);
	return LW_OK;
}

static void print_diag(const char *what, const struct lw_diag *diag, int rc)
{
	char msg[1024];

	lw_diag_format(diag, msg, sizeof(msg));
	fprintf(stderr, "logward ingest: %s: %s\n", what, msg[0] ? msg : lw_strerror(rc));
}

/* Every error of every rule file (file:line: reason). */
static int load_rules(const struct lw_config *cfg, const struct lw_log *log,
		      struct lw_ruleset **rs, struct lw_correlation **corr)
{
	struct lw_diags diags;
	char line[1024];
	int no_rules, rc;

	lw_diags_init(&diags);
	rc = lw_pipeline_load_rules(cfg, rs, corr, &diags, &no_rules);
	for (size_t i = 0; i < diags.count; i++) {
		if (diags.items[i].severity != LW_DIAG_ERROR)
			continue;
		lw_diags_format(&diags.items[i], line, sizeof(line));
		fprintf(stderr, "logward ingest: %s\n", line);
	}
	if (rc != LW_OK)
		fprintf(stderr, "logward ingest: cannot load rules: %zu error(s)%s\n",
			diags.nerrors, rc == LW_ENOMEM ? " (out of memory)" : "");
	else if (no_rules)
		lw_log(log, LW_LOG_NOTICE, "correlator",
		       "no rule directory; running without rules", "default",
		       cfg->nrule_dirs ? cfg->rule_dirs[0] : "", NULL);
	lw_diags_release(&diags);
	return rc;
}

int lw_cmd_ingest(int argc, char **argv)
{
	struct ingest_args args;
	struct lw_config *cfg = NULL;
	struct lw_counters counters;
	struct lw_log log;
	struct lw_store *store = NULL;
	struct lw_tz *tz = NULL;
	struct lw_ruleset *rs = NULL;
	struct lw_correlation *corr = NULL;
	struct lw_store_opts sopts = {0};
	struct ingest in;
	struct lw_diag diag;
	struct lw_buf snap;
	uint8_t *buf = NULL;
	size_t max_msg;
	int rc, code = 1;

	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	memset(&in, 0, sizeof(in));
	memset(&diag, 0, sizeof(diag));
	lw_buf_init(&snap);
	lw_log_init(&log, stderr, LW_LOG_INFO);
	lw_counters_init(&counters);
	cfg = malloc(sizeof(*cfg));
	buf = malloc(READ_CHUNK);
	if (cfg == NULL || buf == NULL || load_config(&args, cfg) != LW_OK)
		goto out;
	if (load_rules(cfg, &log, &rs, &corr) != LW_OK)
		goto out;
	rc = lw_tz_load(cfg->timezone, &tz, &diag);
	if (rc != LW_OK) {
		print_diag("cannot load time zone", &diag, rc);
		goto out;
	}
	sopts.map_size = cfg->storage.map_size;
	sopts.integrity_key = cfg->storage.integrity_key;
	sopts.max_age_s = cfg->storage.max_age_s;
	sopts.max_bytes = cfg->storage.max_bytes;
	rc = lw_store_open(cfg->data_dir, &sopts, &store, &diag);
	if (rc != LW_OK) {
		print_diag("cannot open store", &diag, rc);
		goto out;
	}
	/* The stored counters continue across runs, as for the daemon. */
	if (lw_store_load_counters(store, &snap, NULL) == LW_OK && snap.len > 0)
		lw_counters_merge(&counters, snap.data, snap.len);
	rc = lw_pipeline_start(&(struct lw_pipeline_opts){.cfg = cfg,
				.store = store, .log = &log, .counters = &counters,
				.ruleset = rs, .correlation = corr,
				.no_clock_check = !args.check_clock},
			       &in.pipe, &diag);
	if (rc != LW_OK) {
		print_diag("cannot start writer", &diag, rc);
		goto out;
	}
	in.cur = lw_pipeline_acquire(in.pipe, 1);
	in.counters = &counters;
	in.parse = args.parse;
	in.journal = args.journal;
	in.popts.tz = tz;
	in.popts.future_slack_ns = (int64_t)cfg->max_clock_skew_s * 1000000000;
	in.reference_ns = args.reference_ns;
	in.src.zone = args.zone ? args.zone : "";
	in.src.zone_len = (uint32_t)strlen(in.src.zone);
	in.progress = !args.quiet && isatty(2);
	in.start_ns = lw_time_now_ns();
	in.bytes_total = total_size(argv + optind, argc - optind);
	max_msg = cfg->nlisteners > 0 ? cfg->listeners[0].max_message_bytes : 0;
	code = 0;
	for (int i = optind; i < argc; i++)
		if (ingest_path(&in, argv[i], max_msg, buf) != LW_OK)
			code = 1;
	lw_listener_counts_flush(&in.counts, &counters);
	lw_pipeline_submit(in.pipe, in.cur);
	rc = lw_pipeline_stop(in.pipe, &diag);
	in.pipe = NULL;
	draw_progress(&in, 1);
	if (rc != LW_OK) {
		print_diag("events could not be stored", &diag, rc);
		code = 1;
	}
	if (in.lost > 0) {
		fprintf(stderr, "logward ingest: %d lines could not be stored (out of memory)\n", in.lost);
		code = 1;
	}
out:
	if (in.pipe != NULL)
		lw_pipeline_stop(in.pipe, NULL);
	lw_store_close(store);
	lw_correlation_free(corr);
	lw_ruleset_free(rs);
	lw_tz_free(tz);
	lw_buf_release(&snap);
	free(buf);
	free(cfg);
	return code;
}
