/* logward init-key: make a new store keyed (lw_cmd_init_key). Creates
 * the key file and prints the initial key once, for the auditor to keep
 * offline (docs/integrity.md). Exit 0, 1 when the store cannot be keyed,
 * 2 for usage. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/err.h"
#include "core/sha256.h"
#include "store/store.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward init-key [-d DIR] [-k FILE]\n"
		"\n"
		"Makes a new (empty) store keyed: every segment's chain value becomes an\n"
		"HMAC under a key that is ratcheted forward at every segment. Prints the\n"
		"initial key ONCE: keep it offline; `logward verify --key HEX` needs it.\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  -k, --key-file FILE where the writer's key file goes (default DIR/integrity.key);\n"
		"                      set storage.integrity_key to this path\n");
}

int lw_cmd_init_key(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"key-file", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct lw_store *st = NULL;
	struct lw_diag diag = {0};
	const char *dir = getenv("LOGWARD_DATA_DIR");
	const char *key_file = NULL;
	char kpath[PATH_MAX], msg[600], hex[LW_SHA256_HEX_LEN + 1];
	uint8_t key[32];
	int ch, rc;

	if (dir == NULL || dir[0] == '\0')
		dir = "./var/logward";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:k:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'k': key_file = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (key_file == NULL) {
		snprintf(kpath, sizeof(kpath), "%s/integrity.key", dir);
		key_file = kpath;
	}
	rc = lw_store_open(dir, NULL, &st, &diag);
	if (rc == LW_OK)
		rc = lw_store_init_key(st, key_file, key, &diag);
	lw_store_close(st);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward init-key: %s: %s\n", dir, msg);
		return 1;
	}
	lw_sha256_hex(key, hex);
	explicit_bzero(key, sizeof(key));
	printf("%s\n", hex);
	fprintf(stderr,
		"logward init-key: key file %s created; the initial key above is shown only now.\n"
		"Keep it offline (it proves every segment). Set storage.integrity_key: %s\n",
		key_file, key_file);
	explicit_bzero(hex, sizeof(hex));
	return 0;
}
