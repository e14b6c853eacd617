/* logward stats: store totals, per-zone and per-host counts and the
 * collector counters as of the last commit (lw_cmd_stats). Reads only the
 * meta and names databases: nothing is decompressed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "collector/metrics.h"
#include "core/counters.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"
#include "core/sha256.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "store/relay.h"
#include "store/store.h"

/* parse_args' *json value for --output prometheus. */
#define OUTPUT_PROMETHEUS 2

struct names_out {
	int json;
	int kind;  /* the kind whose section is open, 0 = none */
	int first; /* no entry printed yet in the open section */
	struct lw_buf *out;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward stats [-d DIR] [--output text|json|prometheus]\n"
		"  -d, --data-dir DIR  store directory (default $LOGWARD_DATA_DIR or ./var/logward)\n"
		"  --output FORMAT     text (default), json, or prometheus (the metrics\n"
		"                      endpoint's exposition, from the last commit)\n");
}

static const char *kind_name(int kind)
{
	return kind == LW_STORE_HOST ? "hosts" : kind == LW_STORE_ZONE ? "zones" : "apps";
}

static void open_section(struct names_out *n, int kind)
{
	if (n->kind == kind)
		return;
	if (n->json) {
		if (n->kind != 0)
			lw_buf_puts(n->out, "}");
		lw_buf_printf(n->out, ",\"%s\":{", kind_name(kind));
	} else {
		lw_buf_printf(n->out, "%s:\n", kind_name(kind));
	}
	n->kind = kind;
	n->first = 1;
}

static int on_name(enum lw_store_name_kind kind, struct lw_str name,
		   uint64_t events, uint64_t skew, void *arg)
{
	struct names_out *n = arg;

	open_section(n, kind);
	if (n->json) {
		if (!n->first)
			lw_buf_putc(n->out, ',');
		lw_escape_json_string(n->out, name.ptr, name.len);
		if (kind == LW_STORE_HOST)
			lw_buf_printf(n->out, ":{\"events\":%llu,\"clock_skew\":%llu}",
				      (unsigned long long)events, (unsigned long long)skew);
		else
			lw_buf_printf(n->out, ":%llu", (unsigned long long)events);
	} else {
		lw_buf_puts(n->out, "  ");
		if (name.len == 0)
			lw_buf_puts(n->out, "(none)");
		else
			lw_escape_text(n->out, name.ptr, name.len, 0);
		lw_buf_printf(n->out, "  %llu", (unsigned long long)events);
		if (kind == LW_STORE_HOST && skew > 0)
			lw_buf_printf(n->out, "  (clock skew %llu)", (unsigned long long)skew);
		lw_buf_putc(n->out, '\n');
	}
	n->first = 0;
	return 0;
}

/* "name=value\n" lines as a JSON object (numbers stay numbers). */
static void counters_json(const struct lw_buf *snap, struct lw_buf *out)
{
	const char *p = snap->data, *end = snap->data + snap->len;
	int first = 1;

	lw_buf_puts(out, ",\"counters\":{");
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(line_end - p));

		if (eq != NULL && eq > p) {
			const char *v = eq + 1;
			size_t vlen = (size_t)(line_end - v);
			int numeric = vlen > 0 && strspn(v, "0123456789") >= vlen;

			if (!first)
				lw_buf_putc(out, ',');
			lw_escape_json_string(out, p, (size_t)(eq - p));
			lw_buf_putc(out, ':');
			if (numeric)
				lw_buf_append(out, v, vlen);
			else
				lw_escape_json_string(out, v, vlen);
			first = 0;
		}
		p = line_end + 1;
	}
	lw_buf_putc(out, '}');
}

/* The per-rule correlation counts (store "corrstats": one line per rule,
 * label and five numbers, tab separated) as text rows or a JSON object. */
static void correlation(const struct lw_buf *cs, int json, struct lw_buf *out)
{
	const char *p = cs->data, *end = cs->data + cs->len;
	int first = 1;

	if (json)
		lw_buf_puts(out, ",\"correlation\":{");
	else if (cs->len > 0)
		lw_buf_printf(out, "correlation (as of the last commit):\n  %-40s %10s %10s %12s %10s %12s\n",
			      "rule", "groups", "live", "bytes", "evicted", "not_admitted");
	while (p < end) {
		struct lw_correlation_stats_line l;

		p = lw_correlation_stats_next(p, end, &l);
		if (!l.ok)
			continue;
		if (json) {
			if (!first)
				lw_buf_putc(out, ',');
			lw_buf_json_string(out, l.label, l.label_len);
			lw_buf_printf(out, ":{\"groups\":%llu,\"live\":%llu,\"bytes\":%llu,"
				      "\"evicted\":%llu,\"not_admitted\":%llu}",
				      (unsigned long long)l.groups, (unsigned long long)l.live,
				      (unsigned long long)l.bytes, (unsigned long long)l.evicted,
				      (unsigned long long)l.not_admitted);
		} else {
			lw_buf_puts(out, "  ");
			lw_escape_text(out, l.label, l.label_len, 0);
			for (size_t pad = l.label_len; pad < 40; pad++)
				lw_buf_putc(out, ' ');
			lw_buf_printf(out, " %10llu %10llu %12llu %10llu %12llu\n",
				      (unsigned long long)l.groups, (unsigned long long)l.live,
				      (unsigned long long)l.bytes, (unsigned long long)l.evicted,
				      (unsigned long long)l.not_admitted);
		}
		first = 0;
	}
	if (json)
		lw_buf_putc(out, '}');
}

/* What retention deleted and when (meta "checkpoint"). */
static void retention(const struct lw_store_head *h, int json, struct lw_buf *out)
{
	const struct lw_store_checkpoint *c = &h->ckpt;
	const char *why = c->reason == LW_STORE_RETAIN_MAX_AGE ? "max_age" : "max_bytes";

	if (json) {
		lw_buf_printf(out, ",\"keyed\":%s", h->keyed_from ? "true" : "false");
		if (!h->has_checkpoint) {
			lw_buf_puts(out, ",\"retention\":null");
			return;
		}
		lw_buf_printf(out,
			      ",\"retention\":{\"first_segment\":%llu,\"deleted_segments\":%llu,"
			      "\"deleted_events\":%llu,\"deleted_bytes\":%llu,\"transactions\":%llu,"
			      "\"cost_ns\":%llu,\"last\":{\"time\":\"",
			      (unsigned long long)c->first_id, (unsigned long long)c->total_segments,
			      (unsigned long long)c->total_events, (unsigned long long)c->total_bytes,
			      (unsigned long long)c->txns, (unsigned long long)c->total_cost_ns);
		lw_time_format_rfc3339(c->time_ns, out);
		lw_buf_printf(out,
			      "\",\"reason\":\"%s\",\"segments\":%llu,\"events\":%llu,"
			      "\"bytes\":%llu,\"cost_ns\":%llu}}",
			      why, (unsigned long long)c->last_segments,
			      (unsigned long long)c->last_events, (unsigned long long)c->last_bytes,
			      (unsigned long long)c->last_cost_ns);
		return;
	}
	lw_buf_printf(out, "keyed         %s\n", h->keyed_from ? "yes (HMAC chain, logward init-key)" : "no");
	if (!h->has_checkpoint) {
		lw_buf_puts(out, "retention     nothing deleted\n");
		return;
	}
	lw_buf_printf(out,
		      "retention     deleted segments 1-%llu: %llu segments, %llu events, %llu bytes\n"
		      "last deletion ",
		      (unsigned long long)c->first_id - 1, (unsigned long long)c->total_segments,
		      (unsigned long long)c->total_events, (unsigned long long)c->total_bytes);
	lw_time_format_rfc3339(c->time_ns, out);
	lw_buf_printf(out,
		      " (%s): %llu segments, %llu events, %llu bytes\n"
		      "retention cost %.3f ms of writer time in %llu transactions (last %.3f ms)\n",
		      why, (unsigned long long)c->last_segments,
		      (unsigned long long)c->last_events, (unsigned long long)c->last_bytes,
		      (double)c->total_cost_ns / 1e6, (unsigned long long)c->txns,
		      (double)c->last_cost_ns / 1e6);
}

static void totals(const struct lw_store_head *h, int json, struct lw_buf *out)
{
	double ratio = h->stored_bytes ? (double)h->text_bytes / (double)h->stored_bytes : 0;
	char hex[LW_SHA256_HEX_LEN + 1];
	struct lw_buf t0, t1;

	lw_sha256_hex(h->chain, hex);
	lw_buf_init(&t0);
	lw_buf_init(&t1);
	if (h->events) {
		lw_time_format_rfc3339(h->min_ts, &t0);
		lw_time_format_rfc3339(h->max_ts, &t1);
	}
	if (json) {
		lw_buf_printf(out,
			      "{\"segments\":%llu,\"events\":%llu,\"raw_bytes\":%llu,"
			      "\"columnar_bytes\":%llu,\"stored_bytes\":%llu,\"ratio\":%.2f,",
			      (unsigned long long)h->segments, (unsigned long long)h->events,
			      (unsigned long long)h->text_bytes, (unsigned long long)h->raw_bytes,
			      (unsigned long long)h->stored_bytes, ratio);
		if (h->events)
			lw_buf_printf(out, "\"first_event\":\"%s\",\"last_event\":\"%s\",",
				      t0.data, t1.data);
		lw_buf_printf(out, "\"last_segment\":%llu,\"chain_head\":\"%s\"",
			      (unsigned long long)h->last_id, hex);
	} else {
		lw_buf_printf(out,
			      "segments      %llu\nevents        %llu\n"
			      "raw bytes     %llu  (event text)\n"
			      "columnar      %llu  (before zstd)\n"
			      "stored bytes  %llu\nratio         %.2f\n",
			      (unsigned long long)h->segments, (unsigned long long)h->events,
			      (unsigned long long)h->text_bytes, (unsigned long long)h->raw_bytes,
			      (unsigned long long)h->stored_bytes, ratio);
		if (h->events)
			lw_buf_printf(out, "first event   %s\nlast event    %s\n",
				      t0.data, t1.data);
		lw_buf_printf(out, "chain head    segment %llu %s\n",
			      (unsigned long long)h->last_id, hex);
	}
	retention(h, json, out);
	lw_buf_release(&t0);
	lw_buf_release(&t1);
}

struct origins_out {
	struct lw_buf *out;
	int json, n;
};

static int on_origin(const char *node, size_t len, uint64_t next, void *arg)
{
	struct origins_out *o = arg;

	if (o->json) {
		lw_buf_puts(o->out, o->n++ ? "," : ",\"origins\":{");
		lw_escape_json_string(o->out, node, len);
		lw_buf_printf(o->out, ":%llu", (unsigned long long)next);
	} else {
		if (o->n++ == 0)
			lw_buf_puts(o->out, "origins (edges stored here, next origin seq):\n");
		lw_buf_puts(o->out, "  ");
		lw_escape_text(o->out, node, len, 0);
		lw_buf_printf(o->out, "  %llu\n", (unsigned long long)next);
	}
	return 0;
}

/* An edge's forwarding cursor and a central node's origin marks
 * (docs/scale-out.md), when the store has them. */
static int relay(struct lw_store *st, struct lw_store_reader *rd, int json,
		 struct lw_buf *out, struct lw_diag *diag)
{
	struct origins_out o = {out, json, 0};
	uint64_t cursor, total;
	int found, rc = lw_relay_reader_cursor(rd, &cursor, &found, diag);

	if (rc == LW_OK && found)
		rc = lw_store_events_total(st, &total, diag);
	if (rc != LW_OK)
		return rc;
	if (found && json)
		lw_buf_printf(out, ",\"forward\":{\"cursor\":%llu,\"behind\":%llu}",
			      (unsigned long long)cursor,
			      (unsigned long long)(total > cursor ? total - cursor : 0));
	else if (found)
		lw_buf_printf(out, "forward       cursor %llu, %llu events not yet acknowledged\n",
			      (unsigned long long)cursor,
			      (unsigned long long)(total > cursor ? total - cursor : 0));
	rc = lw_relay_reader_origins(rd, on_origin, &o, diag);
	if (rc == LW_OK && json && o.n > 0)
		lw_buf_putc(out, '}');
	return rc;
}

static int parse_args(int argc, char **argv, const char **dir, int *json)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:o:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': *dir = optarg; break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "prometheus") != 0) {
				fprintf(stderr, "logward stats: --output is text, json or prometheus\n");
				return 2;
			}
			*json = strcmp(optarg, "json") == 0 ? 1 :
				strcmp(optarg, "prometheus") == 0 ? OUTPUT_PROMETHEUS : 0;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The metrics endpoint's text from the stored snapshot: the same
 * renderer, so `stats` and /metrics show the same set. */
static int prometheus(struct lw_store_reader *rd, struct lw_buf *out,
		      struct lw_diag *diag)
{
	struct lw_counters c;
	struct lw_metrics_gauges g;
	struct lw_buf snap, cs;
	int rc;

	memset(&g, 0, sizeof(g));
	lw_counters_init(&c);
	lw_buf_init(&snap);
	lw_buf_init(&cs);
	rc = lw_store_reader_counters(rd, &snap, diag);
	if (rc == LW_OK) {
		lw_counters_merge(&c, snap.data, snap.len);
		rc = lw_metrics_read_store(rd, &g, diag);
	}
	if (rc == LW_OK)
		rc = lw_store_reader_corr_stats(rd, &cs, diag);
	if (rc == LW_OK && cs.len > 0) {
		g.corr = cs.data;
		g.corr_len = cs.len;
	}
	if (rc == LW_OK)
		lw_metrics_render(&c, &g, out);
	lw_buf_release(&snap);
	lw_buf_release(&cs);
	return rc;
}

int lw_cmd_stats(int argc, char **argv)
{
	struct lw_store_opts sopts = {.readonly = 1};
	struct lw_store *st = NULL;
	struct lw_store_reader *rd = NULL;
	struct lw_store_head h;
	struct lw_diag diag = {0};
	struct lw_buf out, snap, cs;
	struct names_out n = {0};
	const char *dir = getenv("LOGWARD_DATA_DIR");
	int json = 0, ret, rc;
	char msg[600];

	if (dir == NULL || dir[0] == '\0')
		dir = "./var/logward";
	ret = parse_args(argc, argv, &dir, &json);
	if (ret >= 0)
		return ret;
	rc = lw_store_open(dir, &sopts, &st, &diag);
	if (rc != LW_OK) {
		lw_diag_format(&diag, msg, sizeof(msg));
		fprintf(stderr, "logward stats: cannot open store '%s': %s\n", dir, msg);
		return 2;
	}
	lw_buf_init(&out);
	lw_buf_init(&snap);
	lw_buf_init(&cs);
	n.json = json;
	n.out = &out;
	/* One snapshot for everything, so totals and per-name counts agree. */
	rc = lw_store_reader_open(st, &rd, &diag);
	if (rc == LW_OK && json == OUTPUT_PROMETHEUS) {
		rc = prometheus(rd, &out, &diag);
		if (rc != LW_OK) {
			fprintf(stderr, "logward stats: %s\n", diag.detail[0] ? diag.detail : lw_strerror(rc));
			ret = 1;
			goto out;
		}
		goto print;
	}
	if (rc == LW_OK)
		rc = lw_store_reader_head(rd, &h, &diag);
	if (rc == LW_OK) {
		totals(&h, json, &out);
		rc = relay(st, rd, json, &out, &diag);
	}
	if (rc == LW_OK)
		rc = lw_store_reader_names(rd, on_name, &n, &diag);
	if (rc == LW_OK)
		rc = lw_store_reader_counters(rd, &snap, &diag);
	if (rc == LW_OK)
		rc = lw_store_reader_corr_stats(rd, &cs, &diag);
	if (rc != LW_OK) {
		fprintf(stderr, "logward stats: %s\n", diag.detail[0] ? diag.detail : lw_strerror(rc));
		ret = 1;
		goto out;
	}
	if (json) {
		if (n.kind != 0)
			lw_buf_putc(&out, '}');
		counters_json(&snap, &out);
		correlation(&cs, 1, &out);
		lw_buf_puts(&out, "}\n");
	} else {
		lw_buf_puts(&out, "counters (as of the last commit):\n");
		if (snap.len == 0)
			lw_buf_puts(&out, "  (none stored)\n");
		for (const char *p = snap.data; p != NULL && p < snap.data + snap.len;) {
			const char *nl = memchr(p, '\n', (size_t)(snap.data + snap.len - p));
			size_t l = nl ? (size_t)(nl - p) : (size_t)(snap.data + snap.len - p);

			/* Names are ours, but the snapshot is read from disk:
			 * shown escaped like everything else. */
			lw_buf_puts(&out, "  ");
			lw_escape_text(&out, p, l, 0);
			lw_buf_putc(&out, '\n');
			p += l + 1;
		}
		correlation(&cs, 0, &out);
	}
print:
	if (out.oom) {
		fprintf(stderr, "logward stats: out of memory\n");
		ret = 1;
		goto out;
	}
	fwrite(out.data, 1, out.len, stdout);
	ret = 0;
out:
	lw_buf_release(&out);
	lw_buf_release(&snap);
	lw_buf_release(&cs);
	lw_store_reader_close(rd);
	lw_store_close(st);
	return ret;
}
