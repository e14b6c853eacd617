/* The default decoder pack against the golden lines of
 * tests/data/decoders/<name>.txt, written from each daemon's documented
 * message formats: lines that must decode to exactly the listed fields,
 * benign lines that must not decode as failures, and for every file at
 * least one line in which the client forged the daemon's own text.
 *
 * A file is a sequence of cases, read in order with one scratch (so joins
 * see the lines of a session in order):
 *
 *   no-inject <why>      the format has no field a client writes
 *   line <raw line>      the input, as a syslog receiver would get it
 *   want <field> <value> one per field: the event's decoded fields, all of them
 *   decoder <name>       optional: the decoder that must match
 *   inject               the line holds a forged address or field (counted)
 *   benign               may decode, but not as a failure or an alert
 *   none                 must not decode at all
 *
 * Every decoder of the pack must be the one a `want` case exercises. The
 * counts per file (one service or family each) are printed: failure
 * lines decoded / written, benign lines kept / written, forged lines. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/syslog.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/ruleset.h"

#define MAX_WANT 64
#define MAX_SERVICES 128
#define NOW_NS 1780358400000000000LL /* 2026-06-02T00:00:00Z */

struct kv {
	char key[128];
	char value[512];
};

struct gcase {
	char file[256];
	int lineno;
	char raw[8192];
	char decoder[128];
	struct kv want[MAX_WANT];
	int nwant;
	int benign, none, inject;
	int active;
};

struct service_count {
	char name[64];
	int failures, failures_ok, benign, benign_ok, injections;
};

static struct lw_ruleset *rs;
static struct lw_diags diags;
static struct service_count services[MAX_SERVICES];
static int nservices;
static unsigned char *used; /* decoders a want case matched */
static int problems;

static struct service_count *service(const char *name)
{
	for (int i = 0; i < nservices; i++)
		if (strcmp(services[i].name, name) == 0)
			return &services[i];
	cr_assert_lt(nservices, MAX_SERVICES);
	snprintf(services[nservices].name, sizeof(services[0].name), "%s", name);
	return &services[nservices++];
}

static const char *src_dir(void)
{
	const char *d = getenv("LW_SOURCE_DIR");

	return d ? d : ".";
}

static void fail(const struct gcase *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(const struct gcase *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_log_error("%s:%d: %s\n    %s", c->file, c->lineno, msg, c->raw);
	problems++;
}

static int is_failure(const struct gcase *c)
{
	for (int i = 0; i < c->nwant; i++)
		if ((strcmp(c->want[i].key, "event.outcome") == 0 &&
		     strcmp(c->want[i].value, "failure") == 0) ||
		    (strcmp(c->want[i].key, "event.kind") == 0 &&
		     strcmp(c->want[i].value, "alert") == 0))
			return 1;
	return 0;
}

static const struct lw_field *field(const struct lw_event *ev, const char *key)
{
	return lw_event_field(ev, key, strlen(key));
}

static int field_is(const struct lw_event *ev, const char *key, const char *v)
{
	const struct lw_field *f = field(ev, key);

	return f != NULL && f->value.len == strlen(v) &&
	       memcmp(f->value.ptr, v, f->value.len) == 0;
}

/* Runs one case through lw_syslog_parse and the pack; checks it. */
static void run_case(struct lw_ruleset_scratch *scr, struct lw_arena *arena,
		     const struct gcase *c, struct service_count *sc)
{
	struct lw_parse_opts opts = {.now_ns = NOW_NS};
	struct lw_ruleset_matches m;
	struct lw_event ev;
	const char *dname;
	int ok = 1;

	memset(&ev, 0, sizeof(ev));
	lw_arena_reset(arena);
	lw_syslog_parse(c->raw, strlen(c->raw), &opts, &ev);
	cr_assert_eq(lw_ruleset_apply(rs, scr, &ev, arena, &m), LW_OK);
	dname = m.decoder == UINT32_MAX ? NULL : lw_ruleset_decoder_name(rs, m.decoder);
	sc->injections += c->inject;
	if (c->none) {
		if (dname != NULL) {
			fail(c, "decoded by %s, want no decoder", dname);
			ok = 0;
		}
		sc->benign++;
		sc->benign_ok += ok;
		return;
	}
	if (c->benign) {
		if (field_is(&ev, "event.outcome", "failure") ||
		    field_is(&ev, "event.kind", "alert")) {
			fail(c, "benign line decoded as a failure or alert by %s",
			     dname ? dname : "?");
			ok = 0;
		}
		sc->benign++;
		sc->benign_ok += ok;
		return;
	}
	if (dname == NULL) {
		fail(c, "not decoded");
		ok = 0;
	} else {
		used[m.decoder] = 1;
		if (c->decoder[0] != '\0' && strcmp(c->decoder, dname) != 0) {
			fail(c, "decoded by %s, want %s", dname, c->decoder);
			ok = 0;
		}
		for (int i = 0; i < c->nwant; i++) {
			const struct lw_field *f = field(&ev, c->want[i].key);
			char got[512];

			if (f == NULL) {
				fail(c, "no field %s (want \"%s\")", c->want[i].key,
				     c->want[i].value);
				ok = 0;
				continue;
			}
			snprintf(got, sizeof(got), "%.*s", (int)f->value.len, f->value.ptr);
			if (strcmp(got, c->want[i].value) != 0) {
				fail(c, "%s = \"%s\", want \"%s\"", c->want[i].key, got,
				     c->want[i].value);
				ok = 0;
			}
		}
		for (uint32_t i = 0; i < ev.nfields; i++) {
			int listed = 0;

			for (int k = 0; k < c->nwant; k++)
				listed |= ev.fields[i].key.len == strlen(c->want[k].key) &&
					  memcmp(ev.fields[i].key.ptr, c->want[k].key,
						 ev.fields[i].key.len) == 0;
			if (!listed) {
				char key[128], value[512];

				snprintf(key, sizeof(key), "%.*s", (int)ev.fields[i].key.len,
					 ev.fields[i].key.ptr);
				snprintf(value, sizeof(value), "%.*s",
					 (int)ev.fields[i].value.len, ev.fields[i].value.ptr);
				fail(c, "unexpected field %s = \"%s\"", key, value);
				ok = 0;
			}
		}
	}
	if (is_failure(c)) {
		sc->failures++;
		sc->failures_ok += ok;
	}
}

/* A value of a golden file into its fixed field: a value too long for it
 * is an error of the file, never cut silently. */
static void copy_in(char *dst, size_t cap, const char *src, const char *path,
		    int lineno)
{
	size_t n = strlen(src);

	cr_assert(n < cap, "%s:%d: value of %zu bytes, at most %zu", path, lineno, n, cap - 1);
	memcpy(dst, src, n + 1);
}

static void run_file(const char *path, const char *label)
{
	struct lw_ruleset_scratch *scr = lw_ruleset_scratch_new(rs);
	struct service_count *sc = service(label);
	struct lw_arena arena;
	struct gcase c;
	char buf[8400];
	int lineno = 0, injections = 0, no_inject = 0;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(scr);
	lw_arena_init(&arena, 0);
	memset(&c, 0, sizeof(c));
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t n = strlen(buf);

		lineno++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n == 0 || buf[0] == '#')
			continue;
		if (strncmp(buf, "no-inject ", 10) == 0) {
			no_inject = 1;
		} else if (strncmp(buf, "line ", 5) == 0) {
			if (c.active) {
				cr_expect(c.nwant > 0 || c.benign || c.none,
					  "%s:%d: a case needs want, benign or none",
					  c.file, c.lineno);
				injections += c.inject;
				run_case(scr, &arena, &c, sc);
			}
			memset(&c, 0, sizeof(c));
			c.active = 1;
			c.lineno = lineno;
			snprintf(c.file, sizeof(c.file), "%s", strrchr(path, '/') + 1);
			copy_in(c.raw, sizeof(c.raw), buf + 5, path, lineno);
		} else if (strncmp(buf, "want ", 5) == 0) {
			char *sp = strchr(buf + 5, ' ');

			cr_assert(c.active && sp != NULL && c.nwant < MAX_WANT,
				  "%s:%d: want <field> <value> after a line", path, lineno);
			*sp = '\0';
			copy_in(c.want[c.nwant].key, sizeof(c.want[0].key), buf + 5, path, lineno);
			copy_in(c.want[c.nwant].value, sizeof(c.want[0].value), sp + 1, path, lineno);
			c.nwant++;
		} else if (strncmp(buf, "decoder ", 8) == 0) {
			copy_in(c.decoder, sizeof(c.decoder), buf + 8, path, lineno);
		} else if (strcmp(buf, "inject") == 0) {
			c.inject = 1;
		} else if (strcmp(buf, "benign") == 0) {
			c.benign = 1;
		} else if (strcmp(buf, "none") == 0) {
			c.none = 1;
		} else {
			cr_assert_fail("%s:%d: unknown directive: %s", path, lineno, buf);
		}
	}
	if (c.active) {
		injections += c.inject;
		run_case(scr, &arena, &c, sc);
	}
	fclose(f);
	cr_expect(injections > 0 || no_inject,
		  "%s: no line with a forged field (inject)", path);
	lw_arena_release(&arena);
	lw_ruleset_scratch_free(scr);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(decoder_golden, every_golden_line)
{
	char dir[4096], rules[4096], path[8192];
	const char *dirs[1] = {rules};
	char *names[256];
	size_t nnames = 0;
	struct dirent *e;
	DIR *d;

	lw_diags_init(&diags);
	snprintf(rules, sizeof(rules), "%s/rules", src_dir());
	cr_assert_eq(lw_ruleset_load(dirs, 1, NULL, &rs, &diags), LW_OK, "%s: %s",
		     rules, diags.count ? diags.items[0].diag.detail : "");
	used = calloc(lw_ruleset_decoder_count(rs), 1);
	cr_assert_not_null(used);
	snprintf(dir, sizeof(dir), "%s/tests/data/decoders", src_dir());
	d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0 && nnames < 256)
			names[nnames++] = strdup(e->d_name);
	}
	closedir(d);
	cr_assert_gt(nnames, 0);
	qsort(names, nnames, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < nnames; i++) {
		char label[64];

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(label, sizeof(label), "%.*s", (int)(strlen(names[i]) - 4), names[i]);
		run_file(path, label);
		free(names[i]);
	}
	for (uint32_t i = 0; i < lw_ruleset_decoder_count(rs); i++)
		cr_expect(used[i], "decoder %s has no golden line that it decodes",
			  lw_ruleset_decoder_name(rs, i));
	printf("%-24s %18s %14s %10s\n", "service", "failures decoded", "benign kept", "forged");
	for (int i = 0; i < nservices; i++)
		printf("%-24s %8d / %-7d %6d / %-5d %8d\n", services[i].name,
		       services[i].failures_ok, services[i].failures,
		       services[i].benign_ok, services[i].benign, services[i].injections);
	cr_expect_eq(problems, 0, "%d golden lines disagree (see the log)", problems);
	free(used);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
}
