/* logward report: the audit report of a period as HTML or PDF
 * (lw_cmd_report). The numbers come from report/facts.h, the words from
 * report/report.h; docs/report.md describes every section. Exit 0 when
 * written, 1 when the store cannot be read or the file written, 2 for
 * usage errors. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/time.h"
#include "core/tz.h"
#include "report/facts.h"
#include "report/html.h"
#include "report/pdf.h"
#include "report/report.h"
#include "store/integrity.h"
#include "store/store.h"

#define NS_PER_S 1000000000LL

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward report [-c FILE] [-d DIR] --from T --to T [--lang ja|en]\n"
		"                      [--format html|pdf] [--key HEX] [--key-file FILE]\n"
		"                      [--gap DUR] [--silent DUR] [--open-after DUR]\n"
		"                      [--fp-threshold N] [--now T] -o FILE\n"
		"\n"
		"Writes the audit report of the period [--from, --to): scope, log\n"
		"completeness, integrity, incidents, operator actions, findings and\n"
		"recommendations (docs/report.md).\n"
		"  -c, --config FILE   the daemon's config: listeners, zones, retention, rule\n"
		"                      pack and timezone are reported; its data_dir is read\n"
		"  -d, --data-dir DIR  store directory (default: the config's, else\n"
		"                      $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --from T, --to T    the period: RFC 3339 or an age (7d)\n"
		"  --lang L            ja (default) or en\n"
		"  --format F          html or pdf (default: from the -o file's extension)\n"
		"  --key HEX           the initial key `logward init-key` printed (as verify)\n"
		"  --key-file FILE     the writer's key file (default DIR/integrity.key)\n"
		"  --gap DUR           a source silent this long is a gap (default 6h)\n"
		"  --silent DUR        ... and at the period's end, silent (default 24h)\n"
		"  --open-after DUR    incidents not closed this long are listed (default 7d)\n"
		"  --fp-threshold N    false-positive closures that flag a rule (default 3)\n"
		"  --now T             when the report is made (default now)\n"
		"  -o, --output FILE   the file to write\n");
}

struct args {
	const char *config, *dir, *from, *to, *lang, *format, *key_hex, *key_file;
	const char *gap, *silent, *open_after, *fp, *now, *out;
};

static int parse(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"data-dir", required_argument, NULL, 'd'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'T'},
		{"lang", required_argument, NULL, 'L'},
		{"format", required_argument, NULL, 'f'},
		{"key", required_argument, NULL, 'k'},
		{"key-file", required_argument, NULL, 'K'},
		{"gap", required_argument, NULL, 'g'},
		{"silent", required_argument, NULL, 's'},
		{"open-after", required_argument, NULL, 'a'},
		{"fp-threshold", required_argument, NULL, 'p'},
		{"now", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:d:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': a->config = optarg; break;
		case 'd': a->dir = optarg; break;
		case 'F': a->from = optarg; break;
		case 'T': a->to = optarg; break;
		case 'L': a->lang = optarg; break;
		case 'f': a->format = optarg; break;
		case 'k': a->key_hex = optarg; break;
		case 'K': a->key_file = optarg; break;
		case 'g': a->gap = optarg; break;
		case 's': a->silent = optarg; break;
		case 'a': a->open_after = optarg; break;
		case 'p': a->fp = optarg; break;
		case 'n': a->now = optarg; break;
		case 'o': a->out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || a->from == NULL || a->to == NULL || a->out == NULL) {
		fprintf(stderr, "logward report: --from, --to and -o are required\n");
		usage(stderr);
		return 2;
	}
	return -1;
}

static int bad(const char *what)
{
	fprintf(stderr, "logward report: bad %s\n", what);
	return 2;
}

/* Fills the facts options from the arguments. -1 when fine, else the
 * exit status. */
static int options(const struct args *a, struct lw_facts_opts *o, uint64_t *fp,
		   int *pdf, int *english)
{
	int64_t now = lw_time_now_ns();
	const char *ext = strrchr(a->out, '.');

	if (a->now != NULL && lw_time_parse_query(a->now, now, &now) != LW_OK)
		return bad("--now (RFC 3339 or an age)");
	o->now_ns = now;
	if (lw_time_parse_query(a->from, now, &o->from_ns) != LW_OK)
		return bad("--from (RFC 3339 or an age)");
	if (lw_time_parse_query(a->to, now, &o->to_ns) != LW_OK)
		return bad("--to (RFC 3339 or an age)");
	if (o->from_ns >= o->to_ns)
		return bad("period: --from must be before --to");
	o->gap_ns = 6 * 3600 * NS_PER_S;
	o->silent_ns = 24 * 3600 * NS_PER_S;
	o->open_ns = 7 * 86400 * NS_PER_S;
	if ((a->gap != NULL && (lw_time_parse_age(a->gap, &o->gap_ns) != LW_OK || o->gap_ns <= 0)) ||
	    (a->silent != NULL && (lw_time_parse_age(a->silent, &o->silent_ns) != LW_OK ||
				   o->silent_ns <= 0)) ||
	    (a->open_after != NULL && lw_time_parse_age(a->open_after, &o->open_ns) != LW_OK))
		return bad("duration (15m, 6h, 7d)");
	*fp = 3;
	if (a->fp != NULL) {
		char *end;
		unsigned long long v = strtoull(a->fp, &end, 10);

		if (*end != '\0' || v == 0 || a->fp[0] == '-')
			return bad("--fp-threshold (a positive number)");
		*fp = v;
	}
	if (a->lang != NULL && strcmp(a->lang, "ja") != 0 && strcmp(a->lang, "en") != 0)
		return bad("--lang (ja or en)");
	*english = a->lang != NULL && strcmp(a->lang, "en") == 0;
	if (a->format != NULL && strcmp(a->format, "html") != 0 && strcmp(a->format, "pdf") != 0)
		return bad("--format (html or pdf)");
	*pdf = a->format != NULL ? strcmp(a->format, "pdf") == 0 :
	       ext != NULL && strcmp(ext, ".pdf") == 0;
	return -1;
}

static int write_html(const struct lw_doc *doc, const char *path)
{
	struct lw_buf b;
	FILE *fp;
	int ok;

	lw_buf_init(&b);
	if (lw_html_render(doc, &b) != LW_OK) {
		lw_buf_release(&b);
		fprintf(stderr, "logward report: out of memory\n");
		return 1;
	}
	fp = fopen(path, "w");
	ok = fp != NULL && fwrite(b.data, 1, b.len, fp) == b.len;
	if (fp != NULL && fclose(fp) != 0)
		ok = 0;
	lw_buf_release(&b);
	if (!ok) {
		perror(path);
		return 1;
	}
	return 0;
}

static int render(const struct lw_facts *facts, const struct lw_report_opts *ro, int pdf,
		  const char *path)
{
	struct lw_doc *doc = NULL;
	struct lw_diag diag = {0};
	int ret;

	if (lw_report_build(facts, ro, &doc) != LW_OK) {
		fprintf(stderr, "logward report: out of memory\n");
		return 1;
	}
	if (!pdf) {
		ret = write_html(doc, path);
	} else {
		int rc = lw_pdf_render(doc, path, &diag);

		ret = rc == LW_OK ? 0 : 1;
		lw_pdf_release_caches();
		if (rc != LW_OK)
			fprintf(stderr, "logward report: %s\n", diag.detail[0] ? diag.detail : lw_strerror(rc));
	}
	lw_doc_free(doc);
	return ret;
}

int lw_cmd_report(int argc, char **argv)
{
	struct args a = {0};
	struct lw_facts_opts fo = {0};
	struct lw_report_opts ro = {0};
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_config *cfg = NULL;
	struct lw_store *st = NULL;
	struct lw_tz *tz = NULL;
	struct lw_facts *facts = NULL;
	struct lw_diag diag = {0};
	uint8_t key[LW_INTEGRITY_KEY_LEN];
	char msg[600], kpath[PATH_MAX];
	int ret, pdf = 0, rc;

	ret = parse(argc, argv, &a);
	if (ret >= 0)
		return ret;
	ret = options(&a, &fo, &ro.fp_threshold, &pdf, &ro.english);
	if (ret >= 0)
		return ret;
	if (a.key_hex != NULL) {
		if (lw_integrity_key_from_hex(a.key_hex, key) != LW_OK)
			return bad("--key (the 64 hex digits init-key printed)");
		fo.key = key;
	}
	if (a.config != NULL) {
		cfg = malloc(sizeof(*cfg));
		if (cfg == NULL || lw_config_load(a.config, cfg, &diag) != LW_OK) {
			lw_diag_format(&diag, msg, sizeof(msg));
			fprintf(stderr, "logward report: %s\n", cfg ? msg : "out of memory");
			ret = 2;
			goto out;
		}
		if (a.dir == NULL)
			a.dir = cfg->data_dir;
	}
	if (a.dir == NULL)
		a.dir = getenv("LOGWARD_DATA_DIR");
	if (a.dir == NULL || a.dir[0] == '\0')
		a.dir = "./var/logward";
	if (a.key_file == NULL) {
		snprintf(kpath, sizeof(kpath), "%s/integrity.key", a.dir);
		a.key_file = kpath;
	}
	fo.key_file = a.key_file;
	/* days are the operators' days: the config's zone, else the system's */
	rc = lw_tz_load(cfg != NULL ? cfg->timezone : "", &tz, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward report: time zone: %s\n", msg);
		ret = 2;
		goto out;
	}
	fo.tz = tz;
	rc = lw_store_open(a.dir, &sopts, &st, &diag);
	if (rc == LW_OK)
		rc = lw_facts_read(st, &fo, &facts, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward report: store '%s': %s\n", a.dir,
			msg[0] ? msg : lw_strerror(rc));
		ret = 1;
		goto out;
	}
	ro.cfg = cfg;
	ro.tz_name = lw_tz_name(tz);
	ro.generated_ns = fo.now_ns;
	ret = render(facts, &ro, pdf, a.out);
out:
	explicit_bzero(key, sizeof(key));
	lw_facts_free(facts);
	lw_store_close(st);
	lw_tz_free(tz);
	free(cfg);
	return ret;
}
