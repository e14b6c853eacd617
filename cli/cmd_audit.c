/* cli/cmd_audit.c - `logward audit list` (lw_cmd_audit): the audit trail
 * of the console and its commands (store/audit.h), newest first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/clictx.h"
#include "cli/commands.h"
#include "core/escape.h"
#include "core/buf.h"
#include "core/time.h"
#include "store/audit.h"
#include "store/store.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward audit [-d DIR] list [--since T] [--limit N] [--output text|json]\n"
		"\n"
		"Every change made through the console, its API or the user/token\n"
		"commands, and every login (failed or not), newest first: time,\n"
		"who, from which address, what, on what, the result.\n"
		"\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --since T           RFC 3339 or an age (15m, 2h, 7d)\n"
		"  --limit N           at most N records (default 100; 0 = all)\n");
}

static int print_one(const struct lw_audit_view *v, void *arg)
{
	int json = *(int *)arg;
	struct lw_buf b;

	lw_buf_init(&b);
	if (json) {
		lw_audit_to_json(v, &b);
	} else {
		/* names, addresses and details came from clients: escaped, never raw */
		lw_time_format_rfc3339(v->time_ns, &b);
		lw_buf_printf(&b, "  %-6s %3u  ", lw_audit_result(v->status), v->status);
		lw_escape_text(&b, v->actor.ptr, v->actor.len, 0);
		lw_buf_puts(&b, v->actor.len ? "  " : "-  ");
		lw_escape_text(&b, v->address.ptr, v->address.len, 0);
		lw_buf_puts(&b, "  ");
		lw_escape_text(&b, v->action.ptr, v->action.len, 0);
		lw_buf_putc(&b, ' ');
		lw_escape_text(&b, v->target.ptr, v->target.len, 0);
		if (v->detail.len > 0) {
			lw_buf_puts(&b, "  ");
			lw_escape_text(&b, v->detail.ptr, v->detail.len, 0);
		}
	}
	lw_buf_putc(&b, '\n');
	fwrite(b.data, 1, b.len, stdout);
	lw_buf_release(&b);
	return 0;
}

enum { OPT_SINCE = 256, OPT_LIMIT, OPT_OUTPUT };

int lw_cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"since", required_argument, NULL, OPT_SINCE},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = lw_clictx_data_dir();
	struct lw_store_opts opts = {.readonly = 1};
	struct lw_store *st = NULL;
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int64_t since = INT64_MIN;
	unsigned long limit = 100;
	uint64_t corrupt = 0;
	int json = 0, ch, rc;
	char *end;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case OPT_SINCE:
			if (lw_time_parse_query(optarg, lw_time_now_ns(), &since) != LW_OK) {
				fprintf(stderr, "logward audit: --since: bad time '%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_LIMIT:
			limit = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' || limit > 100000000) {
				fprintf(stderr, "logward audit: --limit: a number\n");
				return 2;
			}
			break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				fprintf(stderr, "logward audit: --output is text or json\n");
				return 2;
			}
			json = strcmp(optarg, "json") == 0;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || strcmp(argv[optind], "list") != 0) {
		usage(stderr);
		return 2;
	}
	if (access(dir, F_OK) != 0) {
		fprintf(stderr, "logward audit: no store at '%s'\n", dir);
		return 1;
	}
	rc = lw_store_open(dir, &opts, &st, &diag);
	if (rc == LW_OK)
		rc = lw_store_reader_open(st, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_audit_list(rd, 0, since, (uint32_t)limit, print_one, &json, &corrupt, &diag);
	lw_store_reader_close(rd);
	lw_store_close(st);
	if (rc != LW_OK) {
		fprintf(stderr, "logward audit: %s\n", diag.detail[0] ? diag.detail : lw_strerror(rc));
		return 1;
	}
	if (corrupt > 0) {
		fprintf(stderr, "logward audit: %llu record(s) failed their checks\n",
			(unsigned long long)corrupt);
		return 1;
	}
	return 0;
}
