/* logward verify: recompute the segment hash chain (lw_cmd_verify).
 * Exit 0 when it verifies, 1 when a segment is broken, 2 for usage or
 * open errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "core/err.h"
#include "core/sha256.h"
#include "store/store.h"
#include "store/verify.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward verify [-d DIR]\n"
		"\n"
		"Recomputes every segment's SHA-256 chain hash and checks that no segment\n"
		"was changed, removed, reordered or cut off the end.\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"exit status: 0 verified, 1 a segment is broken (named on stderr), 2 usage/open error\n");
}

int lw_cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_verify_result res;
	struct lw_diag diag = {0};
	struct lw_store *st = NULL;
	const char *dir = getenv("LOGWARD_DATA_DIR");
	char hex[LW_SHA256_HEX_LEN + 1], msg[600];
	int ch, rc;

	if (dir == NULL || dir[0] == '\0')
		dir = "./var/logward";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	rc = lw_store_open(dir, &sopts, &st, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward verify: cannot open store '%s': %s\n", dir, msg);
		return 2;
	}
	rc = lw_verify_run(st, &res, &diag);
	lw_store_close(st);
	if (rc == LW_OK) {
		lw_sha256_hex(res.head, hex);
		printf("ok: %llu segments, %llu events, chain head %s\n",
		       (unsigned long long)res.segments,
		       (unsigned long long)res.events, hex);
		return 0;
	}
	if (rc == LW_ECORRUPT) {
		printf("broken: segment %llu: %s (%llu segments before it verified)\n",
		       (unsigned long long)res.bad_id, res.reason,
		       (unsigned long long)res.segments);
		return 1;
	}
	fprintf(stderr, "logward verify: %s\n", diag.detail[0] ? diag.detail : lw_strerror(rc));
	return 2;
}
