/* lw_parse_dump: runs the syslog parsers over input lines and prints one
 * JSON object per line with every parsed field, for the corpus
 * conformance test (tests/integration/test_parser_corpus.sh) and for
 * looking at how logward reads a given line.
 *
 * usage: lw_parse_dump [--format auto|rfc5424|rfc3164] [--now UNIX_SECONDS]
 *                      [--tz ZONE] [--hex] [FILE]
 *   --hex   each input line is the message as hex digits (any bytes)
 * Output: {"line":N,"rc":"ok"|"error","flags":[..],"facility":N|null,
 *          "severity":N|null,"timestamp_ns":N,"host":..,"app":..,"procid":..,
 *          "msgid":..,"sd":..,"sd_params":{id:{name:value}},"message":..,
 *          "message_hex":".."}
 * Strings are JSON-escaped with lw_escape_json_string; message_hex is exact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/rfc3164.h"
#include "collector/rfc5424.h"
#include "collector/syslog.h"
#include "core/buf.h"
#include "core/escape.h"
#include "core/err.h"
#include "core/event.h"
#include "core/tz.h"
#include "core/sd.h"

struct sd_json {
	struct lw_buf *out;
	struct lw_str last_id;
	int n_ids, n_params;
};

static int sd_param(struct lw_str id, struct lw_str name, struct lw_str value, void *arg)
{
	struct sd_json *j = arg;

	if (j->n_ids == 0 || id.len != j->last_id.len ||
	    memcmp(id.ptr, j->last_id.ptr, id.len) != 0) {
		if (j->n_ids > 0)
			lw_buf_putc(j->out, '}');
		lw_buf_puts(j->out, j->n_ids > 0 ? "," : "");
		lw_escape_json_string(j->out, id.ptr, id.len);
		lw_buf_puts(j->out, ":{");
		j->last_id = id;
		j->n_ids++;
		j->n_params = 0;
	}
	if (name.len > 0) {
		lw_buf_puts(j->out, j->n_params > 0 ? "," : "");
		lw_escape_json_string(j->out, name.ptr, name.len);
		lw_buf_putc(j->out, ':');
		lw_escape_json_string(j->out, value.ptr, value.len);
		j->n_params++;
	}
	return LW_OK;
}

static void put_str(struct lw_buf *out, const char *key, struct lw_str s)
{
	lw_buf_printf(out, ",\"%s\":", key);
	lw_escape_json_string(out, s.ptr ? s.ptr : "", s.len);
}

static void dump(struct lw_buf *out, unsigned long lineno, int rc,
		 const struct lw_event *ev)
{
	static const char *names[] = {"parse_error", "truncated", "clock_skew", "no_pri",
				      "rfc5424", "no_timestamp", "bad_utf8"};
	struct sd_json j = {.out = out};
	int first = 1;

	lw_buf_printf(out, "{\"line\":%lu,\"rc\":\"%s\",\"flags\":[", lineno,
		      rc == LW_OK ? "ok" : "error");
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ev->flags & (1u << i)) {
			lw_buf_printf(out, "%s\"%s\"", first ? "" : ",", names[i]);
			first = 0;
		}
	}
	lw_buf_putc(out, ']');
	if (ev->facility == LW_SYSLOG_NONE)
		lw_buf_puts(out, ",\"facility\":null,\"severity\":null");
	else
		lw_buf_printf(out, ",\"facility\":%u,\"severity\":%u", ev->facility,
			      ev->severity);
	lw_buf_printf(out, ",\"timestamp_ns\":%lld", (long long)ev->timestamp_ns);
	put_str(out, "host", ev->host);
	put_str(out, "app", ev->app);
	put_str(out, "procid", ev->procid);
	put_str(out, "msgid", ev->msgid);
	put_str(out, "sd", ev->structured_data);
	lw_buf_puts(out, ",\"sd_params\":{");
	if (ev->structured_data.len > 0) {
		char *scratch = malloc(ev->structured_data.len);

		if (scratch != NULL &&
		    lw_sd_each(ev->structured_data, scratch, ev->structured_data.len,
				       sd_param, &j) == LW_OK && j.n_ids > 0)
			lw_buf_putc(out, '}');
		free(scratch);
	}
	lw_buf_putc(out, '}');
	put_str(out, "message", ev->message);
	lw_buf_puts(out, ",\"message_hex\":\"");
	for (uint32_t i = 0; i < ev->message.len; i++)
		lw_buf_printf(out, "%02x", (unsigned char)ev->message.ptr[i]);
	lw_buf_puts(out, "\"}\n");
}

static size_t unhex(char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		char b[3] = {s[i], s[i + 1], 0};

		s[n++] = (char)strtoul(b, NULL, 16);
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *format = "auto", *tzname = NULL, *path = NULL;
	struct lw_parse_opts opts = {0};
	struct lw_tz *tz = NULL;
	struct lw_diag diag;
	struct lw_buf out;
	FILE *in = stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int hex = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc)
			opts.now_ns = strtoll(argv[++i], NULL, 10) * 1000000000LL;
		else if (strcmp(argv[i], "--tz") == 0 && i + 1 < argc)
			tzname = argv[++i];
		else if (strcmp(argv[i], "--hex") == 0)
			hex = 1;
		else if (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)
			path = argv[i];
		else {
			fprintf(stderr, "usage: lw_parse_dump [--format auto|rfc5424|rfc3164] "
					"[--now SECONDS] [--tz ZONE] [--hex] [FILE]\n");
			return 2;
		}
	}
	if (tzname != NULL && lw_tz_load(tzname, &tz, &diag) != LW_OK) {
		fprintf(stderr, "lw_parse_dump: %s\n", diag.detail);
		return 1;
	}
	opts.tz = tz;
	if (path != NULL && strcmp(path, "-") != 0 && (in = fopen(path, "rb")) == NULL) {
		perror(path);
		return 1;
	}
	lw_buf_init(&out);
	while ((n = getline(&line, &cap, in)) >= 0) {
		struct lw_event ev;
		size_t len = (size_t)n;
		int rc = LW_OK;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (hex)
			len = unhex(line, len);
		memset(&ev, 0, sizeof(ev));
		if (strcmp(format, "rfc5424") == 0)
			rc = lw_rfc5424_parse(line, len, &opts, &ev);
		else if (strcmp(format, "rfc3164") == 0)
			rc = lw_rfc3164_parse(line, len, &opts, &ev);
		else
			lw_syslog_parse(line, len, &opts, &ev);
		if (rc != LW_OK)
			lw_event_set_unparsed(&ev, line, len);
		if (ev.flags & LW_EVENT_PARSE_ERROR)
			rc = LW_EPARSE;
		lw_buf_reset(&out);
		dump(&out, lineno, rc, &ev);
		fwrite(out.data, 1, out.len, stdout);
	}
	lw_buf_release(&out);
	free(line);
	lw_tz_free(tz);
	if (in != stdin)
		fclose(in);
	return 0;
}
