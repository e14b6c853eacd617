/* cli/cmd_incidents.c - `logward incidents` (lw_cmd_incidents): list, show,
 * ack and close the incidents the daemon stored. Reads are MDB_RDONLY
 * snapshots; ack/close are one short write txn in this process, which
 * LMDB serialises with the daemon's commits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/clictx.h"
#include "cli/commands.h"
#include "cli/qerror.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"
#include "core/event.h"
#include "core/time.h"
#include "store/audit.h"
#include "store/incidents.h"
#include "store/incpage.h"
#include "store/qincident.h"
#include "store/qlang.h"
#include "store/segment.h"
#include "store/store.h"

enum { OPT_STATUS = 256, OPT_SINCE, OPT_CATEGORY, OPT_LEVEL, OPT_RELATED, OPT_OUTPUT,
       OPT_NOTE, OPT_ACTOR };

struct inc_args {
	const char *dir;
	const char *verb;
	uint64_t id;
	struct lw_incidents_filter filter;
	int json;
	const char *note;
	const char *actor;
	const char *expr;  /* list -q: the query language over incident fields */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward incidents [-d DIR] list [--status open|acknowledged|closed|all]\n"
		"                         [--since T] [--category C] [--level L] [--related V]\n"
		"                         [-q EXPR]\n"
		"                         [--output text|json]\n"
		"       logward incidents [-d DIR] show ID [--output text|json]\n"
		"       logward incidents [-d DIR] ack ID [--note TEXT] [--actor NAME]\n"
		"       logward incidents [-d DIR] close ID [--note TEXT] [--actor NAME]\n"
		"\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --status S          list these (default: open and acknowledged)\n"
		"  --since T           seen at or after T: RFC 3339 or an age like 15m, 2h, 7d\n"
		"  --category C        e.g. unauthorized-access, malware, dos\n"
		"  --level L           informational, low, medium, high, critical\n"
		"  --related V         involving V: an address, user or host in related.ip,\n"
		"                      related.user, related.hosts, a group value, the host\n"
		"                      or the zone (exact)\n"
		"  -q, --query EXPR    the query language over incident fields (docs/query.md):\n"
		"                      'category:dos AND level:(high OR critical)\n"
		"                       AND group.source.ip:203.0.113.0/24'\n"
		"  --output FORMAT     text (one line per incident) or json (one object per line)\n"
		"  --note TEXT         recorded in the incident's history\n"
		"  --actor NAME        who acts, in the incident's history (default: the OS\n"
		"                      user; as root, $SUDO_USER when set). The audit\n"
		"                      record is always charged to cli:<OS user>\n"
		"\n"
		"show prints the incident and its evidence events read back from the\n"
		"store. Closing a closed incident is an error (exit 1).\n");
}

static int parse_id(const char *s, uint64_t *id)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return -1;
	*id = v;
	return 0;
}

static int parse_status(const char *s, unsigned *mask)
{
	int st;

	if (strcmp(s, "all") == 0) {
		*mask = LW_INCIDENTS_MASK_ALL;
		return 0;
	}
	st = lw_incidents_status_parse(s);
	if (st < 0)
		return -1;
	*mask = 1u << st;
	return 0;
}

static int parse_opt(int ch, struct inc_args *a)
{
	switch (ch) {
	case 'd': a->dir = optarg; return 0;
	case OPT_STATUS:
		if (parse_status(optarg, &a->filter.status_mask) == 0)
			return 0;
		fprintf(stderr, "logward incidents: bad status '%s' (open, acknowledged, closed, all)\n", optarg);
		return 2;
	case OPT_SINCE:
		if (lw_time_parse_query(optarg, lw_time_now_ns(), &a->filter.since_ns) == LW_OK)
			return 0;
		fprintf(stderr, "logward incidents: --since: bad time '%s' (RFC 3339 or 15m, 2h, 7d)\n", optarg);
		return 2;
	case OPT_CATEGORY: a->filter.category = optarg; return 0;
	case OPT_LEVEL: a->filter.level = optarg; return 0;
	case OPT_RELATED: a->filter.related = optarg; return 0;
	case 'q': a->expr = optarg; return 0;
	case OPT_OUTPUT:
		if (strcmp(optarg, "json") == 0 || strcmp(optarg, "text") == 0) {
			a->json = strcmp(optarg, "json") == 0;
			return 0;
		}
		fprintf(stderr, "logward incidents: bad output '%s' (text, json)\n", optarg);
		return 2;
	case OPT_NOTE: a->note = optarg; return 0;
	case OPT_ACTOR: a->actor = optarg; return 0;
	case 'h': usage(stdout); return 0;
	default: usage(stderr); return 2;
	}
}

/* Options may come before or after the verb and id. Returns -1 to go on,
 * else the exit code. */
static int parse_args(int argc, char **argv, struct inc_args *a)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"status", required_argument, NULL, OPT_STATUS},
		{"since", required_argument, NULL, OPT_SINCE},
		{"category", required_argument, NULL, OPT_CATEGORY},
		{"level", required_argument, NULL, OPT_LEVEL},
		{"related", required_argument, NULL, OPT_RELATED},
		{"query", required_argument, NULL, 'q'},
		{"output", required_argument, NULL, OPT_OUTPUT},
		{"note", required_argument, NULL, OPT_NOTE},
		{"actor", required_argument, NULL, OPT_ACTOR},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, nargs;

	memset(a, 0, sizeof(*a));
	a->dir = lw_clictx_data_dir();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:q:h", longopts, NULL)) != -1) {
		int rc = parse_opt(ch, a);

		if (rc != 0 || ch == 'h')
			return rc;
	}
	nargs = argc - optind;
	if (nargs < 1) {
		usage(stderr);
		return 2;
	}
	a->verb = argv[optind];
	if (strcmp(a->verb, "list") == 0)
		return nargs == 1 ? -1 : (usage(stderr), 2);
	if (strcmp(a->verb, "show") != 0 && strcmp(a->verb, "ack") != 0 &&
	    strcmp(a->verb, "close") != 0) {
		fprintf(stderr, "logward incidents: unknown command '%s'\n", a->verb);
		usage(stderr);
		return 2;
	}
	if (nargs != 2 || parse_id(argv[optind + 1], &a->id) != 0) {
		fprintf(stderr, "logward incidents: %s wants one incident id (a number)\n", a->verb);
		return 2;
	}
	return -1;
}

static void print_diag(const char *what, const struct lw_diag *diag, int rc)
{
	char msg[1024];

	lw_diag_format(diag, msg, sizeof(msg));
	fprintf(stderr, "logward incidents: %s: %s\n", what, msg[0] ? msg : lw_strerror(rc));
}

static int write_out(struct lw_buf *b)
{
	if (b->oom)
		return LW_ENOMEM;
	if (fwrite(b->data, 1, b->len, stdout) != b->len)
		return LW_EIO;
	return LW_OK;
}

struct list_ctx {
	int json;
	struct lw_buf line;
	struct lw_qlang *expr; /* NULL: every incident the filter passes */
};

static int print_one(const struct lw_incident_view *v, void *arg)
{
	struct list_ctx *c = arg;
	int rc = c->expr != NULL ? lw_qlang_match(c->expr, v) : 1;

	if (rc != 1)
		return rc; /* 0 skips it; LW_EFULL stops the walk */
	lw_buf_reset(&c->line);
	if (c->json)
		lw_incidents_to_json(v, &c->line);
	else
		lw_incidents_to_text(v, &c->line);
	lw_buf_putc(&c->line, '\n');
	return write_out(&c->line);
}

static int do_list(struct lw_store *st, const struct inc_args *a)
{
	struct list_ctx c = {.json = a->json};
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag;
	uint64_t corrupt = 0;
	int rc;

	memset(&diag, 0, sizeof(diag));
	if (a->expr != NULL &&
	    ((rc = lw_qlang_parse(a->expr, strlen(a->expr), &c.expr, &diag)) != LW_OK ||
	     (rc = lw_qlang_bind(c.expr, &lw_qincident_schema, lw_time_now_ns(), &diag)) != LW_OK)) {
		lw_qerror_print(stderr, "logward incidents", a->expr, &diag);
		lw_qlang_free(c.expr);
		return 2;
	}
	lw_buf_init(&c.line);
	rc = lw_store_reader_open(st, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_incidents_list(rd, &a->filter, print_one, &c, &corrupt, &diag);
	if (rc == LW_EFULL)
		lw_qlang_limit_diag(c.expr, &diag);
	lw_store_reader_close(rd);
	lw_buf_release(&c.line);
	lw_qlang_free(c.expr);
	if (rc == LW_EFULL) {
		lw_qerror_print(stderr, "logward incidents", a->expr, &diag);
		return 1;
	}
	if (rc != LW_OK) {
		print_diag("cannot list incidents", &diag, rc);
		return 1;
	}
	if (corrupt > 0) {
		fprintf(stderr, "logward incidents: %llu corrupt incident record(s) skipped\n",
			(unsigned long long)corrupt);
		return 1;
	}
	return 0;
}

/* JSON: the incident object with "evidence": [events]. Text: the incident
 * line, then one indented line per event. */
static int print_show(const struct lw_incident_view *v, struct lw_incpage_evidence *e,
		      int json, struct lw_buf *out)
{
	uint32_t missing = 0;

	if (json) {
		lw_incidents_to_json(v, out);
		if (out->len > 0)
			out->len--; /* reopen the object: drop its '}' */
		lw_buf_puts(out, ",\"evidence\":[");
	} else {
		lw_incidents_to_text(v, out);
		lw_buf_putc(out, '\n');
	}
	for (uint32_t i = 0, shown = 0; i < v->nevidence; i++) {
		uint64_t seq = lw_incident_evidence(v, i);
		const struct lw_event *ev = lw_incpage_evidence_event(e, seq);

		if (ev == NULL) {
			missing++;
			if (!json)
				lw_buf_printf(out, "  [%llu] (no longer stored: deleted by retention)\n",
					      (unsigned long long)seq);
			continue;
		}
		if (json) {
			if (shown++ > 0)
				lw_buf_putc(out, ',');
			lw_event_to_json(ev, out);
		} else {
			lw_buf_printf(out, "  [%llu] ", (unsigned long long)seq);
			lw_event_to_text(ev, out);
			lw_buf_putc(out, '\n');
		}
	}
	if (json)
		lw_buf_puts(out, "]}\n");
	if (!json && v->nhistory > 0) {
		for (uint32_t i = 0; i < v->nhistory; i++) {
			const struct lw_incidents_history *h = &v->history[i];

			lw_buf_puts(out, "  history: ");
			lw_time_format_rfc3339(h->time_ns, out);
			lw_buf_printf(out, " %s by ", lw_incidents_status_name(h->status));
			lw_escape_text(out, h->actor.ptr, h->actor.len, 0);
			if (h->note.len > 0) {
				lw_buf_puts(out, ": ");
				lw_escape_text(out, h->note.ptr, h->note.len, 0);
			}
			lw_buf_putc(out, '\n');
		}
	}
	if (missing > 0)
		fprintf(stderr, "logward incidents: %u evidence event(s) no longer stored (retention)\n",
			missing);
	return LW_OK;
}

static int do_show(struct lw_store *st, const struct inc_args *a)
{
	struct lw_incpage_evidence e = {0};
	struct lw_incident_view v;
	struct lw_diag diag;
	struct lw_buf out;
	int rc;

	memset(&diag, 0, sizeof(diag));
	lw_buf_init(&out);
	e.dec = lw_segment_decoder_new();
	rc = e.dec == NULL ? LW_ENOMEM : lw_store_reader_open(st, &e.rd, &diag);
	if (rc == LW_OK)
		rc = lw_incidents_get(e.rd, a->id, &v, &diag);
	if (rc == LW_OK)
		rc = print_show(&v, &e, a->json, &out);
	if (rc == LW_OK)
		rc = write_out(&out);
	lw_store_reader_close(e.rd);
	lw_segment_decoder_free(e.dec);
	lw_buf_release(&out);
	if (rc == LW_ENOTFOUND) {
		fprintf(stderr, "logward incidents: no incident %llu\n",
			(unsigned long long)a->id);
		return 1;
	}
	if (rc != LW_OK) {
		print_diag("cannot show incident", &diag, rc);
		return 1;
	}
	return 0;
}

/* The status the console answers for the same outcome (web/api.c), so
 * the audit trail reads alike whichever tool made the change. */
static unsigned change_status(int rc)
{
	switch (rc) {
	case LW_OK: return 200;
	case LW_ENOTFOUND: return 404;
	case LW_EINVAL: return 409; /* already in that status, or closed */
	case LW_EFULL: return 503;
	default: return 500;
	}
}

/* The audit record of an ack or close, as the console writes one: the
 * note (or the error) as detail, and the history's actor when --actor
 * named someone else than the OS user the record is charged to. */
static void audit_change(struct lw_store *st, const struct inc_args *a, int rc,
			 const struct lw_diag *diag, const char *user)
{
	char target[48], detail[LW_AUDIT_MAX_DETAIL];
	const char *what = rc == LW_OK ? (a->note ? a->note : "")
		: diag->detail[0] ? diag->detail : lw_strerror(rc);

	snprintf(target, sizeof(target), "incident:%llu", (unsigned long long)a->id);
	if (a->actor != NULL && strcmp(a->actor, user) != 0)
		snprintf(detail, sizeof(detail), "as %s%s%s", a->actor, what[0] ? ": " : "", what);
	else
		snprintf(detail, sizeof(detail), "%s", what);
	lw_clictx_audit(st, "logward incidents",
			strcmp(a->verb, "ack") == 0 ? "incident.ack" : "incident.close",
			target, change_status(rc), detail);
}

static int do_change(struct lw_store *st, const struct inc_args *a)
{
	enum lw_incidents_status to = strcmp(a->verb, "ack") == 0 ?
		LW_INCIDENTS_ACKNOWLEDGED : LW_INCIDENTS_CLOSED;
	char user[128];
	const char *os_user = lw_clictx_os_user(user, sizeof(user));
	const char *actor = a->actor ? a->actor : os_user;
	struct lw_diag diag;
	struct lw_buf json;
	int rc;

	memset(&diag, 0, sizeof(diag));
	lw_buf_init(&json);
	rc = lw_incidents_set_status(st, a->id, to, actor, a->note,
				     lw_time_now_ns(), &json, &diag);
	audit_change(st, a, rc, &diag, os_user);
	if (rc == LW_OK && a->json) {
		lw_buf_putc(&json, '\n');
		rc = write_out(&json);
	} else if (rc == LW_OK) {
		printf("incident %llu %s\n", (unsigned long long)a->id,
		       lw_incidents_status_name(to));
	}
	lw_buf_release(&json);
	if (rc != LW_OK) {
		print_diag(to == LW_INCIDENTS_CLOSED ? "cannot close" : "cannot acknowledge",
			   &diag, rc);
		return 1;
	}
	return 0;
}

int lw_cmd_incidents(int argc, char **argv)
{
	struct inc_args a;
	struct lw_store *st = NULL;
	struct lw_store_opts opts = {0};
	struct lw_diag diag;
	int rc, code;

	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	memset(&diag, 0, sizeof(diag));
	/* Only ack/close write: list and show never create a store. */
	opts.readonly = strcmp(a.verb, "list") == 0 || strcmp(a.verb, "show") == 0;
	if (access(a.dir, F_OK) != 0) {
		fprintf(stderr, "logward incidents: no store at '%s'\n", a.dir);
		return 1;
	}
	rc = lw_store_open(a.dir, &opts, &st, &diag);
	if (rc != LW_OK) {
		print_diag("cannot open store", &diag, rc);
		return 1;
	}
	if (strcmp(a.verb, "list") == 0)
		code = do_list(st, &a);
	else if (strcmp(a.verb, "show") == 0)
		code = do_show(st, &a);
	else
		code = do_change(st, &a);
	lw_store_close(st);
	return code;
}
