/* cli/cmd_user.c - `logward user` and `logward token` (lw_cmd_user,
 * lw_cmd_token): the console's users (name, role, scrypt password hash)
 * and API tokens (shown once, stored as SHA-256), in the store's users
 * and tokens databases (store/users.h). Each change is one short write
 * transaction beside a running daemon, and an audit record. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/clictx.h"
#include "cli/commands.h"
#include "core/escape.h"
#include "core/buf.h"
#include "core/secret.h"
#include "core/time.h"
#include "store/store.h"
#include "store/users.h"

static void user_usage(FILE *out)
{
	fprintf(out,
		"usage: logward user [-d DIR] add NAME --role viewer|operator|admin [--password-stdin]\n"
		"       logward user [-d DIR] list [--output text|json]\n"
		"       logward user [-d DIR] disable NAME | enable NAME\n"
		"       logward user [-d DIR] role NAME --role R\n"
		"       logward user [-d DIR] passwd NAME [--password-stdin]\n"
		"\n"
		"Users of the web console and its API (docs/api.md). The password is\n"
		"asked twice on the terminal, or read as one line from stdin with\n"
		"--password-stdin; only its scrypt hash is stored.\n"
		"\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n");
}

static void token_usage(FILE *out)
{
	fprintf(out,
		"usage: logward token [-d DIR] add NAME --role viewer|operator|admin\n"
		"       logward token [-d DIR] list [--output text|json]\n"
		"       logward token [-d DIR] revoke NAME\n"
		"\n"
		"API tokens for scripts: `add` prints the token once (send it as\n"
		"'Authorization: Bearer TOKEN'); only its SHA-256 is stored.\n"
		"\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n");
}

struct args {
	const char *dir, *verb, *name;
	enum lw_role role;
	int password_stdin, json;
};

enum { OPT_ROLE = 256, OPT_PW_STDIN, OPT_OUTPUT };

static int parse(const char *prog, int argc, char **argv, struct args *a,
		 void (*usage)(FILE *))
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"role", required_argument, NULL, OPT_ROLE},
		{"password-stdin", no_argument, NULL, OPT_PW_STDIN},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	memset(a, 0, sizeof(*a));
	a->dir = lw_clictx_data_dir();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': a->dir = optarg; break;
		case OPT_ROLE:
			a->role = lw_users_role_parse(optarg);
			if (a->role == LW_ROLE_NONE) {
				fprintf(stderr, "%s: --role is viewer, operator or admin\n", prog);
				return 2;
			}
			break;
		case OPT_PW_STDIN: a->password_stdin = 1; break;
		case OPT_OUTPUT:
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				fprintf(stderr, "%s: --output is text or json\n", prog);
				return 2;
			}
			a->json = strcmp(optarg, "json") == 0;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* getopt moved the words after the options: VERB [NAME] */
	if (optind < argc)
		a->verb = argv[optind++];
	if (optind < argc)
		a->name = argv[optind++];
	if (optind != argc || a->verb == NULL) {
		usage(stderr);
		return 2;
	}
	return -1;
}

static void strip_newline(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* One line from f with the terminal's echo off when it is one. */
static int read_secret(FILE *f, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int tty = isatty(fileno(f));

	if (prompt != NULL && tty) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if (tty && tcgetattr(fileno(f), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(fileno(f), TCSAFLUSH, &quiet);
	} else {
		tty = 0;
	}
	buf[0] = '\0';
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(fileno(f), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	strip_newline(buf);
	return buf[0] != '\0' ? 0 : -1;
}

static int get_password(const char *prog, const struct args *a, char *pw, size_t len)
{
	char again[LW_SECRET_PASSWORD_MAX + 2];
	FILE *tty;
	int rc;

	if (a->password_stdin) {
		if (read_secret(stdin, NULL, pw, len) != 0) {
			fprintf(stderr, "%s: no password on stdin\n", prog);
			return -1;
		}
		return 0;
	}
	tty = fopen("/dev/tty", "r+");
	if (tty == NULL) {
		fprintf(stderr, "%s: no terminal to ask the password on (use --password-stdin)\n",
			prog);
		return -1;
	}
	rc = read_secret(tty, "Password: ", pw, len);
	if (rc == 0)
		rc = read_secret(tty, "Again: ", again, sizeof(again));
	fclose(tty);
	if (rc != 0 || strcmp(pw, again) != 0) {
		fprintf(stderr, "%s: the passwords differ or are empty\n", prog);
		memset(again, 0, sizeof(again));
		return -1;
	}
	memset(again, 0, sizeof(again));
	return 0;
}

static int open_store(const char *prog, const char *dir, int readonly, struct lw_store **st)
{
	struct lw_store_opts opts = {.readonly = readonly};
	struct lw_diag diag = {0};
	int rc;

	if (readonly && access(dir, F_OK) != 0) {
		fprintf(stderr, "%s: no store at '%s'\n", prog, dir);
		return -1;
	}
	rc = lw_store_open(dir, &opts, st, &diag);
	if (rc != LW_OK) {
		fprintf(stderr, "%s: cannot open store '%s': %s\n", prog, dir,
			diag.detail[0] ? diag.detail : lw_strerror(rc));
		return -1;
	}
	return 0;
}

static int fail(const char *prog, struct lw_store *st, const char *action,
		const char *target, const struct lw_diag *diag, int rc)
{
	const char *why = diag->detail[0] ? diag->detail : lw_strerror(rc);

	fprintf(stderr, "%s: %s\n", prog, why);
	lw_clictx_audit(st, prog, action, target, 400, why);
	return 1;
}

static int print_user(const struct lw_user *u, void *arg)
{
	const struct args *a = arg;
	struct lw_buf b;

	lw_buf_init(&b);
	if (a->json) {
		lw_buf_puts(&b, "{\"name\":");
		lw_escape_json_string(&b, u->name, strlen(u->name));
		lw_buf_printf(&b, ",\"role\":\"%s\",\"disabled\":%s,\"created\":\"",
			      lw_users_role_name(u->role), u->disabled ? "true" : "false");
		lw_time_format_rfc3339(u->created_ns, &b);
		lw_buf_puts(&b, "\"}\n");
	} else {
		lw_escape_text(&b, u->name, strlen(u->name), 0);
		lw_buf_printf(&b, "\t%s\t%s\t", lw_users_role_name(u->role),
			      u->disabled ? "disabled" : "active");
		lw_time_format_rfc3339(u->created_ns, &b);
		lw_buf_putc(&b, '\n');
	}
	fwrite(b.data, 1, b.len, stdout);
	lw_buf_release(&b);
	return 0;
}

static int user_list(struct lw_store *st, struct args *a)
{
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int rc = lw_store_reader_open(st, &rd, &diag);

	if (rc == LW_OK)
		rc = lw_users_list(rd, print_user, a, &diag);
	lw_store_reader_close(rd);
	if (rc != LW_OK) {
		fprintf(stderr, "logward user: %s\n", diag.detail);
		return 1;
	}
	return 0;
}

static int user_change(struct lw_store *st, struct args *a)
{
	const char *prog = "logward user";
	char pw[LW_SECRET_PASSWORD_MAX + 2], target[128], action[32];
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	struct lw_user u;
	int create = strcmp(a->verb, "add") == 0, rc;

	snprintf(target, sizeof(target), "user:%s", a->name);
	snprintf(action, sizeof(action), "user.%s", a->verb);
	memset(&u, 0, sizeof(u));
	if (!create) {
		rc = lw_store_reader_open(st, &rd, &diag);
		if (rc == LW_OK)
			rc = lw_users_get(rd, a->name, &u, &diag);
		lw_store_reader_close(rd);
		if (rc == LW_ENOTFOUND)
			lw_diag_set(&diag, rc, NULL, 0, 0, "no user '%s'", a->name);
		if (rc != LW_OK)
			return fail(prog, st, action, target, &diag, rc);
	} else {
		if (a->role == LW_ROLE_NONE) {
			fprintf(stderr, "%s: add needs --role viewer|operator|admin\n", prog);
			return 2;
		}
		snprintf(u.name, sizeof(u.name), "%s", a->name);
		u.created_ns = lw_time_now_ns();
	}
	if (lw_users_name_check(a->name, &diag) != LW_OK)
		return fail(prog, st, action, target, &diag, LW_EINVAL);
	if (create || strcmp(a->verb, "passwd") == 0) {
		if (get_password(prog, a, pw, sizeof(pw)) != 0)
			return 1;
		rc = lw_secret_hash_password(pw, strlen(pw), LW_SECRET_LOG2_N, u.hash);
		memset(pw, 0, sizeof(pw));
		if (rc != LW_OK) {
			lw_diag_set(&diag, rc, NULL, 0, 0, "a password has 1 to %d bytes",
				    LW_SECRET_PASSWORD_MAX);
			return fail(prog, st, action, target, &diag, rc);
		}
	}
	if (create || strcmp(a->verb, "role") == 0) {
		if (a->role == LW_ROLE_NONE) {
			fprintf(stderr, "%s: %s needs --role\n", prog, a->verb);
			return 2;
		}
		u.role = a->role;
	}
	if (strcmp(a->verb, "disable") == 0)
		u.disabled = 1;
	else if (strcmp(a->verb, "enable") == 0)
		u.disabled = 0;
	u.updated_ns = lw_time_now_ns();
	rc = lw_users_put(st, &u, create, &diag);
	if (rc != LW_OK)
		return fail(prog, st, action, target, &diag, rc);
	lw_clictx_audit(st, prog, action, target, 200, lw_users_role_name(u.role));
	printf("user %s: %s (%s%s)\n", a->name, create ? "added" : a->verb,
	       lw_users_role_name(u.role), u.disabled ? ", disabled" : "");
	return 0;
}

int lw_cmd_user(int argc, char **argv)
{
	static const char *const verbs[] = {"add", "list", "disable", "enable", "role", "passwd"};
	struct lw_store *st = NULL;
	struct args a;
	size_t i;
	int rc = parse("logward user", argc, argv, &a, user_usage), code;

	if (rc >= 0)
		return rc;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && strcmp(a.verb, verbs[i]) != 0; i++)
		;
	if (i == sizeof(verbs) / sizeof(verbs[0]) || (i != 1) != (a.name != NULL)) {
		user_usage(stderr);
		return 2;
	}
	if (open_store("logward user", a.dir, i == 1, &st) != 0)
		return 1;
	code = i == 1 ? user_list(st, &a) : user_change(st, &a);
	lw_store_close(st);
	return code;
}

/* --- tokens ------------------------------------------------------------- */

static int print_token(const struct lw_token *t, void *arg)
{
	const struct args *a = arg;
	struct lw_buf b;

	lw_buf_init(&b);
	if (a->json) {
		lw_buf_puts(&b, "{\"name\":");
		lw_escape_json_string(&b, t->name, strlen(t->name));
		lw_buf_printf(&b, ",\"role\":\"%s\",\"revoked\":%s,\"created_by\":",
			      lw_users_role_name(t->role), t->revoked ? "true" : "false");
		lw_escape_json_string(&b, t->created_by, strlen(t->created_by));
		lw_buf_puts(&b, ",\"created\":\"");
		lw_time_format_rfc3339(t->created_ns, &b);
		lw_buf_puts(&b, "\"}\n");
	} else {
		lw_escape_text(&b, t->name, strlen(t->name), 0);
		lw_buf_printf(&b, "\t%s\t%s\t", lw_users_role_name(t->role),
			      t->revoked ? "revoked" : "active");
		lw_time_format_rfc3339(t->created_ns, &b);
		lw_buf_puts(&b, "\tby ");
		lw_escape_text(&b, t->created_by, strlen(t->created_by), 0);
		lw_buf_putc(&b, '\n');
	}
	fwrite(b.data, 1, b.len, stdout);
	lw_buf_release(&b);
	return 0;
}

int lw_cmd_token(int argc, char **argv)
{
	const char *prog = "logward token";
	struct lw_store *st = NULL;
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	char text[LW_TOKEN_TEXT_LEN], actor[160], target[128];
	struct args a;
	int rc = parse(prog, argc, argv, &a, token_usage), code = 0;
	int list = 0;

	if (rc >= 0)
		return rc;
	list = strcmp(a.verb, "list") == 0;
	if ((!list && strcmp(a.verb, "add") != 0 && strcmp(a.verb, "revoke") != 0) ||
	    list == (a.name != NULL)) {
		token_usage(stderr);
		return 2;
	}
	if (open_store(prog, a.dir, list, &st) != 0)
		return 1;
	snprintf(target, sizeof(target), "token:%s", a.name ? a.name : "");
	if (list) {
		rc = lw_store_reader_open(st, &rd, &diag);
		if (rc == LW_OK)
			rc = lw_tokens_list(rd, print_token, &a, &diag);
		lw_store_reader_close(rd);
		if (rc != LW_OK) {
			fprintf(stderr, "%s: %s\n", prog, diag.detail);
			code = 1;
		}
	} else if (strcmp(a.verb, "add") == 0) {
		if (a.role == LW_ROLE_NONE) {
			fprintf(stderr, "%s: add needs --role viewer|operator|admin\n", prog);
			code = 2;
		} else if ((rc = lw_tokens_add(st, a.name, a.role, lw_clictx_actor(actor, sizeof(actor)),
					       lw_time_now_ns(), text, &diag)) != LW_OK) {
			code = fail(prog, st, "token.add", target, &diag, rc);
		} else {
			lw_clictx_audit(st, prog, "token.add", target, 200, lw_users_role_name(a.role));
			printf("%s\n", text);
			fprintf(stderr, "%s: token '%s' (%s) made; it is shown only now\n", prog,
				a.name, lw_users_role_name(a.role));
			memset(text, 0, sizeof(text));
		}
	} else if ((rc = lw_tokens_revoke(st, a.name, lw_time_now_ns(), &diag)) != LW_OK) {
		code = fail(prog, st, "token.revoke", target, &diag, rc);
	} else {
		lw_clictx_audit(st, prog, "token.revoke", target, 200, "");
		printf("token %s: revoked\n", a.name);
	}
	lw_store_close(st);
	return code;
}
