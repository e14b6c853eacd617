/* logward verify: recompute the segment hash chain (lw_cmd_verify).
 * Exit 0 when it verifies, 1 when a segment is broken, 2 for usage or
 * open errors. Keyed stores: docs/integrity.md. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/sha256.h"
#include "core/time.h"
#include "store/integrity.h"
#include "store/store.h"
#include "store/verify.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward verify [-d DIR] [--key HEX] [--key-file FILE]\n"
		"\n"
		"Recomputes every segment's chain value and checks that no segment\n"
		"was changed, removed, reordered or cut off the end.\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --key HEX           the initial key `logward init-key` printed: recompute\n"
		"                      every keyed segment's HMAC (without it that check is skipped)\n"
		"  --key-file FILE     the writer's key file (default DIR/integrity.key): its\n"
		"                      index tells whether the newest segments were removed\n"
		"exit status: 0 verified, 1 a segment is broken (named on stdout), 2 usage/open error\n");
}

static const char *reason_name(uint32_t r)
{
	return r == LW_STORE_RETAIN_MAX_AGE ? "max_age" : "max_bytes";
}

static void print_ok(const struct lw_verify_result *res)
{
	char hex[LW_SHA256_HEX_LEN + 1];
	struct lw_buf t;

	lw_sha256_hex(res->head, hex);
	printf("ok: %llu segments, %llu events, chain head %s\n",
	       (unsigned long long)res->segments,
	       (unsigned long long)res->events, hex);
	if (res->has_checkpoint) {
		lw_buf_init(&t);
		lw_time_format_rfc3339(res->ckpt.time_ns, &t);
		printf("retention: segments 1-%llu deleted (%llu events, %llu bytes); last deletion %s (%s)",
		       (unsigned long long)res->ckpt.first_id - 1,
		       (unsigned long long)res->ckpt.total_events,
		       (unsigned long long)res->ckpt.total_bytes,
		       t.data ? t.data : "?", reason_name(res->ckpt.reason));
		/* Whoever holds K_n can write a checkpoint: the auditor
		 * compares n with when the machine may have been taken. */
		if (res->ckpt.key_index != 0)
			printf(", checkpoint MAC'd with the key of segment %llu",
			       (unsigned long long)res->ckpt.key_index);
		printf("\n");
		lw_buf_release(&t);
	}
	if (res->keyed_checked)
		printf("keyed: every segment's HMAC verified from the initial key%s\n",
		       res->has_checkpoint ? ", and the retention checkpoint's MAC" : "");
	else if (res->keyed_store)
		printf("keyed: store is keyed; HMAC check skipped (give --key HEX)\n");
	else
		printf("keyed: store is not keyed (no logward init-key); SHA-256 chain only\n");
	if (res->note[0])
		printf("note: %s\n", res->note);
}

int lw_cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"key-file", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_verify_opts vopts = {0};
	struct lw_verify_result res;
	struct lw_diag diag = {0};
	struct lw_store *st = NULL;
	const char *dir = getenv("LOGWARD_DATA_DIR");
	const char *key_hex = NULL, *key_file = NULL;
	uint8_t key[LW_INTEGRITY_KEY_LEN];
	char msg[600], kpath[PATH_MAX];
	int ch, rc;

	if (dir == NULL || dir[0] == '\0')
		dir = "./var/logward";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'k': key_hex = optarg; break;
		case 'f': key_file = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (key_hex != NULL) {
		if (lw_integrity_key_from_hex(key_hex, key) != LW_OK) {
			fprintf(stderr, "logward verify: --key wants the 64 hex digits init-key printed\n");
			return 2;
		}
		vopts.key = key;
	}
	if (key_file == NULL) {
		snprintf(kpath, sizeof(kpath), "%s/integrity.key", dir);
		key_file = kpath;
	}
	vopts.key_file = key_file;
	rc = lw_store_open(dir, &sopts, &st, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward verify: cannot open store '%s': %s\n", dir, msg);
		return 2;
	}
	rc = lw_verify_run(st, &vopts, &res, &diag);
	lw_store_close(st);
	explicit_bzero(key, sizeof(key));
	if (rc == LW_OK) {
		print_ok(&res);
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
