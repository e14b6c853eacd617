/* logward-bench-rules: events/s through decoders + detection rules +
 * correlation windows (the whole pack) on one core, the cost the writer
 * thread pays per event. Parsing happens once, before the clock starts;
 * each pass replays the parsed events with their times shifted forward, so
 * windows see one continuous stream. Not a test: numbers go to the README. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/syslog.h"
#include "core/config.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/incident.h"
#include "correlator/ruleset.h"

#define MAX_DIRS 8
#define NMODES 3 /* detection; + correlation; + correlation, nothing ahead */

struct corpus {
	struct lw_arena arena; /* line bytes, parsed in place */
	struct lw_event *events;
	size_t count, cap;
	int64_t span_ns;       /* newest - oldest event time, plus one second */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_file(struct corpus *c, const char *path, int64_t now_ns)
{
	struct lw_parse_opts opts = {.now_ns = now_ns};
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL) {
		fprintf(stderr, "logward-bench-rules: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		size_t len = (size_t)n;
		char *copy;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (c->count == c->cap) {
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			struct lw_event *ne = realloc(c->events, ncap * sizeof(*ne));
			if (ne == NULL)
				goto oom;
			c->events = ne;
			c->cap = ncap;
		}
		copy = lw_arena_memdup(&c->arena, line, len);
		if (copy == NULL)
			goto oom;
		memset(&c->events[c->count], 0, sizeof(c->events[0]));
		lw_syslog_parse(copy, len, &opts, &c->events[c->count]);
		c->count++;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
oom:
	fprintf(stderr, "logward-bench-rules: out of memory\n");
	free(line);
	if (f != stdin)
		fclose(f);
	return -1;
}

static void count_fire(const struct lw_incident_fire *fire, void *arg)
{
	(void)fire;
	(*(uint64_t *)arg)++;
}

struct result {
	uint64_t events, matched, fires;
	double seconds, corr_seconds;
};

/* Events detected together before they are correlated, as the pipeline
 * hands them to its correlation thread (collector/pipeline.c CORR_RANGE). */
#define CHUNK 128

struct chunk {
	struct lw_event ev[CHUNK];
	uint32_t nmatch[CHUNK], off[CHUNK];
	uint32_t pool[CHUNK * 64];
	uint32_t npool;
};

static double elapsed(double *t)
{
	double now = now_s(), d = now - *t;

	*t = now;
	return d;
}

/* Correlates a detected chunk, each event prepared `ahead` events before
 * its turn (0: none), as the pipeline's correlation thread does. */
static int correlate_chunk(struct lw_correlation *corr, const struct chunk *ch,
			   uint32_t n, uint64_t seq0, unsigned ahead, uint64_t *fires)
{
	uint32_t next = 0;

	for (uint32_t i = 0; i < n; i++) {
		for (; ahead > 0 && next < n && next <= i + ahead; next++)
			lw_correlation_ahead(corr, &ch->ev[next], seq0 + next,
					     ch->nmatch[next] ? ch->pool + ch->off[next] : NULL,
					     ch->nmatch[next]);
		if (lw_correlation_process(corr, &ch->ev[i], seq0 + i,
					   ch->nmatch[i] ? ch->pool + ch->off[i] : NULL,
					   ch->nmatch[i], count_fire, fires) != LW_OK)
			return -1;
	}
	return 0;
}

/* One timed run over `passes` replays of the corpus: each chunk of CHUNK
 * events is detected, then correlated (when asked). */
static int run(const struct lw_ruleset *rs, const struct corpus *c, unsigned passes,
	       int correlate, unsigned ahead, struct result *r)
{
	struct lw_ruleset_scratch *scr = lw_ruleset_scratch_new(rs);
	struct lw_correlation *corr = correlate ? lw_correlation_new(rs) : NULL;
	struct chunk *ch = malloc(sizeof(*ch));
	struct lw_arena arena;
	uint64_t seq = 0;
	double t0, t;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	lw_arena_init(&arena, 0);
	if (scr == NULL || ch == NULL || (correlate && corr == NULL))
		goto out;
	t0 = t = now_s();
	for (unsigned p = 0; p < passes; p++) {
		int64_t shift = (int64_t)p * c->span_ns;

		for (size_t i = 0; i < c->count; i += CHUNK) {
			uint32_t n = c->count - i < CHUNK ? (uint32_t)(c->count - i) : CHUNK;

			lw_arena_reset(&arena);
			ch->npool = 0;
			for (uint32_t k = 0; k < n; k++) {
				struct lw_event *ev = &ch->ev[k];
				struct lw_ruleset_matches m;

				*ev = c->events[i + k];
				ev->timestamp_ns += shift;
				ev->created_ns += shift;
				if (lw_ruleset_apply(rs, scr, ev, &arena, &m) != LW_OK)
					goto out;
				r->matched += m.count > 0;
				if (m.count > sizeof(ch->pool) / sizeof(ch->pool[0]) - ch->npool) {
					fprintf(stderr, "logward-bench-rules: more than %zu matches in"
						" %u events\n", sizeof(ch->pool) / sizeof(ch->pool[0]),
						CHUNK);
					goto out;
				}
				ch->nmatch[k] = m.count;
				ch->off[k] = ch->npool;
				memcpy(ch->pool + ch->npool, m.rules, m.count * sizeof(*m.rules));
				ch->npool += m.count;
			}
			if (corr != NULL) {
				(void)elapsed(&t);
				if (correlate_chunk(corr, ch, n, seq, ahead, &r->fires) != 0)
					goto out;
				r->corr_seconds += elapsed(&t);
			}
			seq += n;
		}
	}
	if (corr != NULL)
		lw_correlation_flush(corr, count_fire, &r->fires);
	r->seconds = now_s() - t0;
	r->events = seq;
	rc = 0;
out:
	free(ch);
	lw_arena_release(&arena);
	lw_correlation_free(corr);
	lw_ruleset_scratch_free(scr);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward-bench-rules [-r DIR]... [-c CONFIG] [-n EVENTS] [--runs N] [--json] FILE...\n\n"
		"Times decoders + detection rules, then decoders + detection + correlation\n"
		"(with and without events prepared ahead, the correlation alone timed too),\n"
		"over the events of FILE (syslog lines, parsed once before timing),\n"
		"replayed until at least EVENTS (default 3000000) per run. Prints the\n"
		"median of --runs (default 3) runs of each, the modes alternating.\n\n"
		"  -r, --rules DIR    rule directory (default: rules/; repeatable)\n"
		"  -c, --config FILE  config for the zones map (default: built-in)\n"
		"  -n, --events N     events per run\n"
		"      --runs N       runs per mode\n"
		"      --json         one JSON object instead of text\n");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"rules", required_argument, NULL, 'r'}, {"config", required_argument, NULL, 'c'},
		{"events", required_argument, NULL, 'n'}, {"runs", required_argument, NULL, 'R'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *dirs[MAX_DIRS];
	size_t ndirs = 0;
	const char *config = NULL;
	unsigned long long want = 3000000;
	unsigned runs = 3;
	int json = 0, opt, ret = 1;
	static struct lw_config cfg;
	struct lw_diag diag = {0};
	struct lw_diags diags;
	struct lw_ruleset *rs = NULL;
	struct corpus c;
	int64_t now = lw_time_now_ns(), tmin = INT64_MAX, tmax = INT64_MIN;
	double rates[NMODES][16], corr_ns[NMODES][16];
	struct result last[NMODES];

	while ((opt = getopt_long(argc, argv, "r:c:n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (ndirs < MAX_DIRS)
				dirs[ndirs++] = optarg;
			break;
		case 'c': config = optarg; break;
		case 'n': want = strtoull(optarg, NULL, 10); break;
		case 'R': runs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || runs == 0 || runs > 16 || want == 0) {
		usage(stderr);
		return 2;
	}
	if (ndirs == 0)
		dirs[ndirs++] = "rules/";
	if (config ? lw_config_load(config, &cfg, &diag) : (lw_config_defaults(&cfg), LW_OK)) {
		char msg[1024];
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward-bench-rules: %s\n", msg);
		return 1;
	}
	lw_diags_init(&diags);
	if (lw_ruleset_load(dirs, ndirs, &cfg, &rs, &diags) != LW_OK) {
		fprintf(stderr, "logward-bench-rules: the rules do not load (run 'logward rules check')\n");
		lw_diags_release(&diags);
		return 1;
	}
	lw_diags_release(&diags);
	memset(&c, 0, sizeof(c));
	lw_arena_init(&c.arena, 1 << 20);
	for (int i = optind; i < argc; i++)
		if (load_file(&c, argv[i], now) != 0)
			goto out;
	if (c.count == 0) {
		fprintf(stderr, "logward-bench-rules: no events in the input\n");
		goto out;
	}
	for (size_t i = 0; i < c.count; i++) {
		if (c.events[i].timestamp_ns < tmin)
			tmin = c.events[i].timestamp_ns;
		if (c.events[i].timestamp_ns > tmax)
			tmax = c.events[i].timestamp_ns;
	}
	c.span_ns = tmax - tmin + 1000000000LL;
	/* Modes alternate run by run, so that a noisy machine slows all
	 * three alike: detection; + correlation, each event prepared
	 * LW_CORRELATION_AHEAD events ahead (as the pipeline feeds it); the
	 * same without preparing ahead. */
	for (unsigned r = 0; r < runs; r++) {
		for (int mode = 0; mode < NMODES; mode++) {
			unsigned passes = (unsigned)((want + c.count - 1) / c.count);

			if (run(rs, &c, passes, mode > 0, mode == 1 ? LW_CORRELATION_AHEAD : 0,
				&last[mode]) != 0) {
				fprintf(stderr, "logward-bench-rules: a run failed (out of memory,"
					" or as said above)\n");
				goto out;
			}
			rates[mode][r] = (double)last[mode].events / last[mode].seconds;
			corr_ns[mode][r] = last[mode].corr_seconds * 1e9 / (double)last[mode].events;
		}
	}
	for (int mode = 0; mode < NMODES; mode++) {
		qsort(rates[mode], runs, sizeof(double), cmp_double);
		qsort(corr_ns[mode], runs, sizeof(double), cmp_double);
	}
	if (json) {
		printf("{\"events_per_run\":%llu,\"runs\":%u,\"input_events\":%zu,"
		       "\"matched_fraction\":%.3f,\"detect_events_per_s\":%.0f,"
		       "\"correlate_events_per_s\":%.0f,\"correlate_no_ahead_events_per_s\":%.0f,"
		       "\"correlation_ns_per_event\":%.0f,\"correlation_no_ahead_ns_per_event\":%.0f,"
		       "\"fires_per_run\":%llu}\n",
		       (unsigned long long)last[1].events, runs, c.count,
		       (double)last[1].matched / (double)last[1].events,
		       rates[0][runs / 2], rates[1][runs / 2], rates[2][runs / 2],
		       corr_ns[1][runs / 2], corr_ns[2][runs / 2],
		       (unsigned long long)last[1].fires);
	} else {
		printf("input: %zu events; %llu events per run; %u runs (median shown)\n",
		       c.count, (unsigned long long)last[1].events, runs);
		/* Which groups a full budget sheds depends on each run's
		 * random seed: the firings of two runs may differ then. */
		printf("events matching a rule: %.1f%%; fires per run: %llu (%llu in the last run"
		       " not prepared ahead)\n",
		       100.0 * (double)last[1].matched / (double)last[1].events,
		       (unsigned long long)last[1].fires, (unsigned long long)last[2].fires);
		printf("decoders + detection:               %10.0f events/s  (%.0f ns/event)\n",
		       rates[0][runs / 2], 1e9 / rates[0][runs / 2]);
		printf("decoders + detection + correlation: %10.0f events/s  (%.0f ns/event;"
		       " correlation alone %.0f ns)\n",
		       rates[1][runs / 2], 1e9 / rates[1][runs / 2], corr_ns[1][runs / 2]);
		printf("  the same, no event prepared ahead: %9.0f events/s  (%.0f ns/event;"
		       " correlation alone %.0f ns)\n",
		       rates[2][runs / 2], 1e9 / rates[2][runs / 2], corr_ns[2][runs / 2]);
	}
	ret = 0;
out:
	free(c.events);
	lw_arena_release(&c.arena);
	lw_ruleset_free(rs);
	return ret;
}
