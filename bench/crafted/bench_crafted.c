/* logward-bench-crafted: CPU per message through the whole rule pack
 * (decoders, Sigma detection, correlation: what the writer thread pays)
 * for crafted messages against ordinary ones of the same size (issue 12:
 * at most 3x). Crafted: for every decoder pattern and Sigma regex of the
 * pack, the input core/recost finds worst for it (the most backtracking
 * its own pieces can cause), built to --size bytes and sent under the
 * decoder's program (a Sigma regex's under sudo, whose decoder gives the
 * process.command_line they read); plus the security review's kernel
 * line ("IN= OUT= " x N + " SRC=1 DST=2"). Ordinary: a real line of the
 * same program, padded to the same size with ordinary words. --count of
 * each, cycled over the kinds; thread CPU time; medians of --runs.
 * Not a test: numbers go to bench/README.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/recost.h"
#include "correlator/correlation.h"
#include "correlator/diags.h"
#include "correlator/incident.h"
#include "correlator/ruleset.h"

#define MAX_KINDS 128

struct msg {
	char what[96];     /* the decoder or rule it was made for */
	char app[32];
	struct lw_buf text;
};

struct set {
	struct msg m[MAX_KINDS];
	size_t n;
};

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A real line of each program, padded (at pad_at, or at the end) with
 * ordinary words to the size. */
static const struct {
	const char *app, *line;
	int pad_at; /* offset to insert the padding at; -1 = the end */
} real_lines[] = {
	{"kernel", "[ 5123.456789] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=10.10.1.5 "
		   "DST=10.30.0.9 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=40000 "
		   "DPT=443 WINDOW=64240 RES=0x00 SYN URGP=0 ", -1},
	{"sshd", "Failed password for invalid user admin from 203.0.113.50 port 40001 ssh2 ", -1},
	{"sudo", "    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update ", -1},
	{"su", "FAILED su for root by alice ", -1},
	{"clamd", "/home/alice/Downloads/invoice.exe: Win.Trojan.Agent-123 FOUND", 12},
	{"dpkg", "2026-11-27 10:00:00 install nginx:amd64 <none> 1.22.1-9 ", -1},
	{"yum", "Installed: httpd-2.4.6-97.el7.centos.x86_64 ", -1},
	{"upsmon", "UPS ups@localhost on battery ", -1},
	{"systemd", "Stopped System Logging Service. ", -1},
	{"systemd-networkd", "eth0: Lost carrier ", -1},
};

static const char words[] = "lorem ipsum 1234 dolor sit amet, consectetur adipiscing "
			     "elit 10.20.30.40 sed do eiusmod tempor /var/tmp/file.txt ";

static void ordinary(const char *app, size_t size, struct lw_buf *out)
{
	const char *line = "session opened for user alice by (uid=0) ";
	int pad_at = -1;
	size_t wl = strlen(words), at;

	for (size_t i = 0; i < sizeof(real_lines) / sizeof(real_lines[0]); i++)
		if (strcmp(real_lines[i].app, app) == 0) {
			line = real_lines[i].line;
			pad_at = real_lines[i].pad_at;
		}
	at = pad_at < 0 ? strlen(line) : (size_t)pad_at;
	lw_buf_append(out, line, at);
	while (out->len + strlen(line) - at + wl < size)
		lw_buf_append(out, words, wl);
	lw_buf_puts(out, line + at);
}

struct maker {
	struct set *crafted;
	const struct lw_ruleset *rs;
	size_t size;
};

static struct msg *add(struct set *s, const char *what, const char *app)
{
	struct msg *m;

	if (s->n == MAX_KINDS)
		return NULL;
	m = &s->m[s->n++];
	snprintf(m->what, sizeof(m->what), "%s", what);
	snprintf(m->app, sizeof(m->app), "%s", app);
	lw_buf_init(&m->text);
	return m;
}

static void craft(const char *rule, const char *pattern, size_t len, unsigned flags, void *arg)
{
	struct maker *mk = arg;
	struct lw_recost_report r;
	const char *app = "sudo"; /* a Sigma regex: reads sudo's command line */
	struct msg *m;

	for (uint32_t i = 0; i < lw_ruleset_decoder_count(mk->rs); i++)
		if (strcmp(lw_ruleset_decoder_name(mk->rs, i), rule) == 0)
			app = lw_ruleset_decoder_program(mk->rs, i) ?
			      lw_ruleset_decoder_program(mk->rs, i) : "any";
	if (lw_recost_probe(pattern, len, flags, 1024, &r) != LW_OK ||
	    (m = add(mk->crafted, rule, app)) == NULL)
		return;
	if (strcmp(app, "sudo") == 0 && strncmp(rule, "sudo", 4) != 0)
		lw_buf_puts(&m->text, "x : TTY=x ; PWD=x ; USER=root ; COMMAND=");
	lw_recost_build(&r, mk->size - m->text.len, &m->text);
}

static void count_fire(const struct lw_incident_fire *fire, void *arg)
{
	(void)fire;
	(*(uint64_t *)arg)++;
}

/* CPU per message over count messages cycled over s. */
static double run(const struct lw_ruleset *rs, const struct set *s, size_t count,
		  size_t only)
{
	struct lw_ruleset_scratch *scr = lw_ruleset_scratch_new(rs);
	struct lw_correlation *corr = lw_correlation_new(rs);
	struct lw_arena arena;
	uint64_t fires = 0;
	double t0, t;

	lw_arena_init(&arena, 0);
	t0 = cpu_s();
	for (size_t i = 0; i < count; i++) {
		const struct msg *m = &s->m[only < s->n ? only : i % s->n];
		struct lw_event ev;
		struct lw_ruleset_matches mt;

		memset(&ev, 0, sizeof(ev));
		ev.facility = ev.severity = LW_SYSLOG_NONE;
		ev.timestamp_ns = ev.created_ns = 1764240000000000000LL + (int64_t)i * 1000000;
		ev.host = (struct lw_str){"bench", 5};
		ev.app = (struct lw_str){m->app, (uint32_t)strlen(m->app)};
		ev.message = (struct lw_str){m->text.data, (uint32_t)m->text.len};
		lw_arena_reset(&arena);
		if (lw_ruleset_apply(rs, scr, &ev, &arena, &mt) == LW_OK)
			lw_correlation_process(corr, &ev, i, mt.rules, mt.count, count_fire, &fires);
	}
	t = cpu_s() - t0;
	lw_arena_release(&arena);
	lw_correlation_free(corr);
	lw_ruleset_scratch_free(scr);
	return t * 1e6 / (double)count;
}

/* PREFIX.crafted and PREFIX.ordinary: one RFC 3164 line per kind, to
 * send to a daemon (bench/crafted-daemon). A byte that would end a line
 * (LF) is never in them. */
static int write_lines(const char *prefix, const struct set *crafted, const struct set *plain)
{
	const struct set *sets[2] = {crafted, plain};
	const char *ext[2] = {"crafted", "ordinary"};
	char path[4096];

	for (int k = 0; k < 2; k++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s.%s", prefix, ext[k]);
		f = fopen(path, "w");
		if (f == NULL)
			return -1;
		for (size_t i = 0; i < sets[k]->n; i++) {
			const struct msg *m = &sets[k]->m[i];

			fprintf(f, "<13>Dec  7 10:00:00 bench %s: ", m->app);
			for (size_t j = 0; j < m->text.len; j++)
				fputc(m->text.data[j] == '\n' ? ' ' : m->text.data[j], f);
			fputc('\n', f);
		}
		if (fclose(f) != 0)
			return -1;
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, NULL, 'r'}, {"config", required_argument, NULL, 'c'},
		{"size", required_argument, NULL, 's'}, {"count", required_argument, NULL, 'n'},
		{"runs", required_argument, NULL, 'R'}, {"write", required_argument, NULL, 'w'},
		{NULL, 0, NULL, 0}};
	const char *dir = "rules", *config = NULL, *write = NULL;
	size_t size = 65536, count = 200;
	int runs = 5, ch;
	static struct set crafted, plain;
	struct lw_config *cfg = calloc(1, sizeof(*cfg));
	struct lw_ruleset *rs = NULL;
	struct lw_diags diags;
	struct lw_diag d = {0};
	struct maker mk;
	double c[64], o[64], worst = 0;
	size_t worst_i = 0;
	struct msg *m;

	while ((ch = getopt_long(argc, argv, "r:c:s:n:R:", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': dir = optarg; break;
		case 'c': config = optarg; break;
		case 's': size = strtoull(optarg, NULL, 10); break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'R': runs = atoi(optarg); break;
		case 'w': write = optarg; break;
		default:
			fprintf(stderr, "usage: logward-bench-crafted [-r RULES] [-c CONFIG] [--size B]"
				" [--count N] [--runs R] [--write PREFIX]\n");
			return 2;
		}
	}
	if (cfg == NULL || runs < 1 || runs > 64 || count == 0)
		return 2;
	lw_diags_init(&diags);
	if (config != NULL ? lw_config_load(config, cfg, &d) != LW_OK : (lw_config_defaults(cfg), 0)) {
		fprintf(stderr, "logward-bench-crafted: %s\n", d.detail);
		return 1;
	}
	if (lw_ruleset_load(&dir, 1, cfg, &rs, &diags) != LW_OK) {
		fprintf(stderr, "logward-bench-crafted: cannot load rules from '%s'\n", dir);
		return 1;
	}
	mk = (struct maker){&crafted, rs, size};
	lw_ruleset_each_regex(rs, craft, &mk);
	if ((m = add(&crafted, "review: IN= OUT= x N + SRC= DST=", "kernel")) != NULL) {
		while (m->text.len + 12 < size)
			lw_buf_puts(&m->text, "IN= OUT= ");
		lw_buf_puts(&m->text, " SRC=1 DST=2");
	}
	for (size_t i = 0; i < crafted.n; i++) {
		struct msg *p = add(&plain, crafted.m[i].what, crafted.m[i].app);

		if (p != NULL)
			ordinary(p->app, crafted.m[i].text.len, &p->text);
	}
	if (write != NULL)
		return write_lines(write, &crafted, &plain) == 0 ? 0 : 1;
	for (int r = 0; r < runs; r++) {
		c[r] = run(rs, &crafted, count, SIZE_MAX);
		o[r] = run(rs, &plain, count, SIZE_MAX);
	}
	/* Each kind on its own, against the ordinary line of its program. */
	printf("| crafted for | program | bytes | crafted us | ordinary us | ratio |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < crafted.n; i++) {
		double a[64], b[64], ratio;

		for (int r = 0; r < runs; r++) {
			a[r] = run(rs, &crafted, 20, i);
			b[r] = run(rs, &plain, 20, i);
		}
		ratio = median(a, runs) / median(b, runs);
		printf("| %s | %s | %zu | %.1f | %.1f | %.2f |\n", crafted.m[i].what, crafted.m[i].app,
		       crafted.m[i].text.len, median(a, runs), median(b, runs), ratio);
		if (ratio > worst) {
			worst = ratio;
			worst_i = i;
		}
	}
	printf("\n%zu crafted and %zu ordinary messages of %zu bytes (%zu kinds), %d runs: "
	       "crafted %.1f us, ordinary %.1f us of CPU per message through the whole pack: "
	       "ratio %.2f (median); worst single kind %.2f (%s)\n",
	       count, count, size, crafted.n, runs, median(c, runs), median(o, runs),
	       median(c, runs) / median(o, runs), worst, crafted.m[worst_i].what);
	for (size_t i = 0; i < crafted.n; i++) {
		lw_buf_release(&crafted.m[i].text);
		lw_buf_release(&plain.m[i].text);
	}
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	free(cfg);
	return 0;
}
