/* Property test of store/qplan and store/aggregate: random expressions
 * over random events in a real store. Whatever the planner skips by
 * metadata, counts from metadata, reads selectively or finds through the
 * literal search, its answer must equal an oracle written here from the
 * language's rules (POSIX regex.h instead of pcre2, a plain loop instead
 * of the SSE search, inet_pton instead of core/cidr), evaluated over the
 * events as generated, with no store in between. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "store/aggregate.h"
#include "store/query.h"
#include "store/segment.h"
#include "store/store.h"

#define NSEG 12
#define MAXEV 2400
#define T0 1764579600LL /* 2025-12-01T09:00:00Z */
#define NS 1000000000LL

static const char *const hosts[] = {"h0", "h1", "h2", "h10", "web01", "mn-db", ""};
static const char *const zones[] = {"mynumber", "lgwan", "internet", ""};
static const char *const apps[] = {"sshd", "cron", "sudo"};
static const char *const ips[] = {"10.20.3.4", "10.20.200.1", "10.30.1.1", "2001:db8::5",
				  "192.0.2.7", "not-an-ip"};
static const char *const users[] = {"root", "admin", "tanaka"};
static const char *const texts[] = {
	"Failed password for root from", "Accepted publickey for admin",
	"session opened for user ROOT", "FAILED password for invalid user",
	"pam_unix(cron:session): session closed", "Connection closed by authenticating user",
};

struct gev {
	struct lw_event ev;
	struct lw_field f[3];
	char msg[128];
	int id;
};

static struct gev evs[MAXEV];
static int nev;
static char dir[64];
static struct lw_store *st;
static unsigned rnd_state;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof((a)[0]))])

/* Segments have themes so that the metadata can decide: one host only,
 * one zone only, or anything. */
static void gen_event(struct gev *g, int theme_host, int theme_zone)
{
	struct lw_event *ev = &g->ev;
	uint32_t nf = 0;

	memset(ev, 0, sizeof(*ev));
	g->id = nev;
	snprintf(g->msg, sizeof(g->msg), "%s #%d", PICK(texts), nev);
	ev->timestamp_ns = (T0 + nev * 7 + (int64_t)rnd(40)) * NS + rnd(1000);
	ev->created_ns = ev->timestamp_ns;
	ev->host = S(theme_host >= 0 ? hosts[theme_host] : PICK(hosts));
	ev->zone = S(theme_zone >= 0 ? zones[theme_zone] : PICK(zones));
	ev->app = S(PICK(apps));
	ev->message = S(g->msg);
	ev->severity = rnd(9) == 8 ? LW_SYSLOG_NONE : (uint8_t)rnd(8);
	ev->facility = 4;
	if (rnd(3))
		g->f[nf++] = (struct lw_field){S("source.ip"), S(PICK(ips))};
	if (rnd(2))
		g->f[nf++] = (struct lw_field){S("user.name"), S(PICK(users))};
	if (rnd(4) == 0)
		g->f[nf++] = (struct lw_field){S("user.name"), S(PICK(users))};
	ev->fields = nf ? g->f : NULL;
	ev->nfields = nf;
}

static void build_store(unsigned seed)
{
	rnd_state = seed;
	nev = 0;
	snprintf(dir, sizeof(dir), "/tmp/lw-qplan-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, NULL), LW_OK);
	for (int s = 0; s < NSEG; s++) {
		struct lw_segment_builder *b = lw_segment_builder_new();
		int n = 20 + (int)rnd(180);
		int th = s % 3 == 0 ? (int)rnd(7) : -1, tz = s % 4 == 1 ? (int)rnd(4) : -1;

		for (int i = 0; i < n && nev < MAXEV; i++) {
			gen_event(&evs[nev], th, tz);
			cr_assert_eq(lw_segment_builder_add(b, &evs[nev].ev), LW_OK);
			nev++;
		}
		cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
		lw_segment_builder_free(b);
	}
}

static void drop_store(void)
{
	char p[128];

	lw_store_close(st);
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* --- random expressions and the oracle ------------------------------------ */

enum gkind { G_AND, G_OR, G_NOT, G_HOST, G_HOST_PREFIX, G_HOST_RE, G_HOST_EXISTS,
	     G_ZONE, G_APP, G_SEV_LE, G_SEV_RANGE, G_IP_CIDR, G_IP_EXISTS, G_USER,
	     G_WORD, G_PHRASE, G_MSG_RE, G_TIME, G_KINDS };

struct gexpr {
	enum gkind k;
	struct gexpr *a, *b;
	int i, j;        /* which value(s) */
	int64_t lo, hi;  /* time bounds, seconds */
	char *text;      /* this node as expression text (malloc'ed) */
};

static const char *const cidrs[] = {"10.20.0.0/16", "10.20.3.0/24", "10.0.0.0/8",
				    "2001:db8::/32", "192.0.2.7", "0.0.0.0/0"};
static const char *const words[] = {"failed", "Password", "root", "SESSION", "closed", "#1"};
static const char *const phrases[] = {"password for", "for root", "user root", "closed by"};
static const char *const host_res[] = {"^h[12]", "0", "db$"};
static const char *const msg_res[] = {"^Failed password", "for (root|admin)", "#[0-9]*7$"};

static void fmt_time(int64_t s, char *out, size_t n)
{
	time_t t = (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void set_text(struct gexpr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_text(struct gexpr *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	e->text = malloc((size_t)n + 1);
	cr_assert_not_null(e->text);
	va_start(ap, fmt);
	vsnprintf(e->text, (size_t)n + 1, fmt, ap);
	va_end(ap);
}

static struct gexpr *gen_expr(int depth)
{
	struct gexpr *e = calloc(1, sizeof(*e));
	char t1[32], t2[32];

	cr_assert_not_null(e);
	e->k = depth > 0 && rnd(3) == 0 ? (enum gkind)rnd(3) : (enum gkind)(G_HOST + rnd(G_KINDS - G_HOST));
	e->i = (int)rnd(6);
	e->j = (int)rnd(8);
	switch (e->k) {
	case G_AND: case G_OR:
		e->a = gen_expr(depth - 1);
		e->b = gen_expr(depth - 1);
		set_text(e, e->k == G_AND ? "(%s AND %s)" : "(%s OR %s)",
			 e->a->text, e->b->text);
		break;
	case G_NOT:
		e->a = gen_expr(depth - 1);
		set_text(e, "NOT %s", e->a->text);
		break;
	case G_HOST:
		e->i = (int)rnd(7); /* "" too: the events whose host is empty */
		set_text(e, "host.name:\"%s\"", hosts[e->i]);
		break;
	case G_HOST_PREFIX: set_text(e, "host.name:h1*"); break;
	case G_HOST_RE:
		e->i %= 3;
		set_text(e, "host.name:/%s/", host_res[e->i]);
		break;
	case G_HOST_EXISTS: set_text(e, "host.name:*"); break;
	case G_ZONE:
		e->i %= 4;
		set_text(e, "labels.zone:\"%s\"", zones[e->i]);
		break;
	case G_APP:
		e->i %= 3;
		set_text(e, "process.name:(%s OR nothing)", apps[e->i]);
		break;
	case G_SEV_LE: set_text(e, "log.syslog.severity.code:<=%d", e->j); break;
	case G_SEV_RANGE:
		set_text(e, "log.syslog.severity.code:{%d TO %d]", e->i, e->j);
		break;
	case G_IP_CIDR: set_text(e, "source.ip:%s", cidrs[e->i]); break;
	case G_IP_EXISTS: set_text(e, "source.ip:*"); break;
	case G_USER:
		e->i %= 3;
		set_text(e, "User:%s", users[e->i]);
		break;
	case G_WORD: set_text(e, "%s", words[e->i]); break;
	case G_PHRASE:
		e->i %= 4;
		set_text(e, "\"%s\"", phrases[e->i]);
		break;
	case G_MSG_RE:
		e->i %= 3;
		set_text(e, "message:/%s/", msg_res[e->i]);
		break;
	case G_TIME:
		e->lo = T0 + (int64_t)rnd(MAXEV * 7);
		e->hi = e->lo + (int64_t)rnd(4000);
		fmt_time(e->lo, t1, sizeof(t1));
		fmt_time(e->hi, t2, sizeof(t2));
		set_text(e, "@timestamp:[%s TO %s}", t1, t2);
		break;
	default: break;
	}
	return e;
}

static void free_expr(struct gexpr *e)
{
	if (e == NULL)
		return;
	free_expr(e->a);
	free_expr(e->b);
	free(e->text);
	free(e);
}

static int icontains(struct lw_str h, const char *n)
{
	size_t nl = strlen(n);

	for (size_t s = 0; s + nl <= h.len; s++) {
		size_t i = 0;

		while (i < nl && tolower((unsigned char)h.ptr[s + i]) == tolower((unsigned char)n[i]))
			i++;
		if (i == nl)
			return 1;
	}
	return 0;
}

static int posix_search(const char *pattern, struct lw_str s)
{
	static struct { const char *pattern; regex_t re; } cache[8];
	static int ncache;
	char buf[256];
	int i;

	for (i = 0; i < ncache && cache[i].pattern != pattern; i++)
		;
	if (i == ncache) {
		cr_assert_lt(ncache, 8);
		cr_assert_eq(regcomp(&cache[i].re, pattern, REG_EXTENDED | REG_NOSUB), 0);
		cache[i].pattern = pattern;
		ncache++;
	}
	snprintf(buf, sizeof(buf), "%.*s", (int)s.len, s.ptr);
	return regexec(&cache[i].re, buf, 0, NULL, 0) == 0;
}

static int in_cidr(const char *cidr, struct lw_str v)
{
	char net[64], val[64];
	unsigned char a[16], b[16];
	const char *slash = strchr(cidr, '/');
	int bits, fam = strchr(cidr, ':') ? AF_INET6 : AF_INET;

	snprintf(net, sizeof(net), "%.*s", slash ? (int)(slash - cidr) : (int)strlen(cidr), cidr);
	bits = slash ? atoi(slash + 1) : fam == AF_INET ? 32 : 128;
	snprintf(val, sizeof(val), "%.*s", (int)v.len, v.ptr);
	if (inet_pton(fam, net, a) != 1 || inet_pton(fam, val, b) != 1)
		return 0;
	for (int i = 0; i < bits; i++)
		if (((a[i / 8] >> (7 - i % 8)) & 1) != ((b[i / 8] >> (7 - i % 8)) & 1))
			return 0;
	return 1;
}

static int field_any(const struct lw_event *ev, const char *key, int (*test)(struct lw_str, const void *),
		     const void *arg)
{
	for (uint32_t i = 0; i < ev->nfields; i++)
		if (strlen(key) == ev->fields[i].key.len &&
		    memcmp(key, ev->fields[i].key.ptr, ev->fields[i].key.len) == 0 &&
		    test(ev->fields[i].value, arg))
			return 1;
	return 0;
}

static int t_cidr(struct lw_str v, const void *c) { return in_cidr(c, v); }
static int t_any(struct lw_str v, const void *c) { (void)v; (void)c; return 1; }
static int t_eq(struct lw_str v, const void *c)
{
	return v.len == strlen(c) && memcmp(v.ptr, c, v.len) == 0;
}

static int str_is(struct lw_str s, const char *c)
{
	return t_eq(s, c);
}

static int oracle(const struct gexpr *e, const struct lw_event *ev)
{
	switch (e->k) {
	case G_AND: return oracle(e->a, ev) && oracle(e->b, ev);
	case G_OR: return oracle(e->a, ev) || oracle(e->b, ev);
	case G_NOT: return !oracle(e->a, ev);
	case G_HOST: return str_is(ev->host, hosts[e->i]);
	case G_HOST_PREFIX: return ev->host.len >= 2 && memcmp(ev->host.ptr, "h1", 2) == 0;
	case G_HOST_RE: return posix_search(host_res[e->i], ev->host);
	case G_HOST_EXISTS: return ev->host.len > 0;
	case G_ZONE: return str_is(ev->zone, zones[e->i]);
	case G_APP: return str_is(ev->app, apps[e->i]);
	case G_SEV_LE: return ev->severity != LW_SYSLOG_NONE && ev->severity <= e->j;
	case G_SEV_RANGE:
		return ev->severity != LW_SYSLOG_NONE && ev->severity > e->i && ev->severity <= e->j;
	case G_IP_CIDR: return field_any(ev, "source.ip", t_cidr, cidrs[e->i]);
	case G_IP_EXISTS: return field_any(ev, "source.ip", t_any, NULL);
	case G_USER: return field_any(ev, "user.name", t_eq, users[e->i]);
	case G_WORD: return icontains(ev->message, words[e->i]);
	case G_PHRASE: return icontains(ev->message, phrases[e->i]);
	case G_MSG_RE: return posix_search(msg_res[e->i], ev->message);
	case G_TIME:
		/* [lo TO hi}: lo <= t < hi, on whole seconds plus a fraction */
		return ev->timestamp_ns >= e->lo * NS && ev->timestamp_ns < e->hi * NS;
	default: return 0;
	}
}

/* --- the engine's answers --------------------------------------------------- */

struct got {
	int n;
	int ids[MAXEV];
};

static int collect(const struct lw_event *ev, uint64_t seg, void *arg)
{
	struct got *g = arg;
	const char *hash = memchr(ev->message.ptr, '#', ev->message.len);
	const char *end = ev->message.ptr + ev->message.len;
	int id = 0;

	(void)seg;
	cr_assert_not_null(hash);
	for (const char *p = hash + 1; p < end && *p >= '0' && *p <= '9'; p++)
		id = id * 10 + (*p - '0');
	g->ids[g->n++] = id;
	return 0;
}

static struct lw_query *query(const char *text, int64_t since, int64_t until)
{
	struct lw_query_filter f;
	struct lw_query *q;
	struct lw_diag d = {0};

	lw_query_filter_init(&f);
	f.expr = text;
	f.since_ns = since;
	f.until_ns = until;
	cr_assert_eq(lw_query_new(st, &f, &q, &d), LW_OK, "%s: %d:%d: %s", text, d.line, d.col,
		     d.detail);
	return q;
}

/* The oracle's answer per event for this round (window and expression). */
static unsigned char want[MAXEV];

static void compute_wants(const struct gexpr *e, int64_t since, int64_t until)
{
	for (int i = 0; i < nev; i++)
		want[i] = evs[i].ev.timestamp_ns >= since && evs[i].ev.timestamp_ns <= until &&
			  oracle(e, &evs[i].ev);
}

static void check_events(const char *text, int64_t since, int64_t until)
{
	static struct got got;
	struct lw_query *q = query(text, since, until);
	struct lw_diag d = {0};
	int n = 0;

	got.n = 0;
	cr_assert_eq(lw_query_run(q, collect, &got, &d), LW_OK, "%s: %s", text, d.detail);
	for (int i = 0; i < nev; i++) {
		if (!want[i])
			continue;
		cr_assert_lt(n, got.n, "%s: event %d missing", text, i);
		cr_assert_eq(got.ids[n], i, "%s: got event %d, want %d", text, got.ids[n], i);
		n++;
	}
	cr_assert_eq(got.n, n, "%s: %d events, oracle %d", text, got.n, n);
	lw_query_free(q);
}

static uint64_t value_count(const struct lw_agg_result *r, const char *v)
{
	for (uint32_t i = 0; i < r->nvalues; i++)
		if (str_is(r->values[i].value, v))
			return r->values[i].count;
	return 0;
}

/* The value an event has for a count-by field: host.name, labels.zone,
 * or user.name (which may repeat: tested per value). */
static int has_value(const struct lw_event *ev, const char *field, const char *v)
{
	if (strcmp(field, "host.name") == 0)
		return ev->host.len > 0 && str_is(ev->host, v);
	if (strcmp(field, "labels.zone") == 0)
		return ev->zone.len > 0 && str_is(ev->zone, v);
	return field_any(ev, "user.name", t_eq, v);
}

static int lacks_field(const struct lw_event *ev, const char *field)
{
	if (strcmp(field, "host.name") == 0)
		return ev->host.len == 0;
	if (strcmp(field, "labels.zone") == 0)
		return ev->zone.len == 0;
	return !field_any(ev, "user.name", t_any, NULL);
}

static void check_count_by(const char *text, int64_t since, int64_t until, const char *field)
{
	struct lw_agg_request req = {.kind = LW_AGG_COUNT_BY, .field = field, .top = 100};
	const char *const *vals = strcmp(field, "host.name") == 0 ? hosts :
				  strcmp(field, "labels.zone") == 0 ? zones : users;
	size_t nv = strcmp(field, "host.name") == 0 ? 6 : 3;
	struct lw_agg_result *r;
	struct lw_query *q = query(text, since, until);
	struct lw_diag d = {0};
	uint64_t total = 0, missing = 0, listed = 0;

	cr_assert_eq(lw_agg_run(q, &req, &r, &d), LW_OK, "%s: %s", text, d.detail);
	for (size_t v = 0; v < nv; v++) {
		uint64_t n = 0;

		for (int i = 0; i < nev; i++)
			n += want[i] && has_value(&evs[i].ev, field, vals[v]);
		cr_expect_eq(value_count(r, vals[v]), n, "%s: count-by %s %s", text, field, vals[v]);
		listed += n;
	}
	for (int i = 0; i < nev; i++) {
		total += want[i];
		missing += want[i] && lacks_field(&evs[i].ev, field);
	}
	cr_expect_eq(r->total, total, "%s: total", text);
	cr_expect_eq(r->missing, missing, "%s: missing", text);
	cr_expect_eq(r->other, 0, "%s: every value fits in the top 100", text);
	for (uint32_t i = 0; i < r->nvalues; i++)
		cr_expect_gt(r->values[i].value.len, 0, "%s: an empty value is missing, not a value", text);
	lw_agg_result_free(r);
	lw_query_free(q);
}

static void check_histogram(const char *text, int64_t since, int64_t until, int64_t step,
			    const char *field)
{
	struct lw_agg_request req = {.kind = LW_AGG_HISTOGRAM, .field = field,
				     .top = 10, .step_ns = step};
	struct lw_agg_result *r;
	struct lw_query *q = query(text, since, until);
	struct lw_diag d = {0};
	uint64_t sum = 0;

	cr_assert_eq(lw_agg_run(q, &req, &r, &d), LW_OK, "%s: %s", text, d.detail);
	for (int i = 0; i < nev; i++) {
		const struct lw_event *ev = &evs[i].ev;
		int64_t k;

		if (!want[i])
			continue;
		k = (ev->timestamp_ns - r->start_ns) / r->step_ns;
		cr_assert(k >= 0 && k < r->nbuckets, "%s: event %d outside the buckets", text, i);
		sum++;
	}
	cr_expect_eq(r->total, sum, "%s: histogram total", text);
	for (uint32_t k = 0; k < r->nbuckets; k++) {
		uint64_t n = 0, got = r->counts[k];
		int64_t lo = r->start_ns + (int64_t)k * r->step_ns;

		for (int i = 0; i < nev; i++)
			if (want[i] && evs[i].ev.timestamp_ns >= lo &&
			    evs[i].ev.timestamp_ns < lo + r->step_ns)
				n++;
		cr_expect_eq(got, n, "%s: bucket %u", text, k);
		if (field == NULL)
			continue;
		/* every series, other and missing add up to the bucket */
		for (uint32_t v = 0; v < r->nvalues; v++) {
			uint64_t in_series = 0;

			for (int i = 0; i < nev; i++)
				in_series += want[i] && evs[i].ev.timestamp_ns >= lo &&
					     evs[i].ev.timestamp_ns < lo + r->step_ns &&
					     str_is(evs[i].ev.zone, r->values[v].value.ptr);
			cr_expect_eq(r->values[v].series[k], in_series, "%s: bucket %u of %s", text,
				     k, r->values[v].value.ptr);
			got -= r->values[v].series[k];
		}
		got -= r->other_series[k] + r->missing_series[k];
		cr_expect_eq(got, 0, "%s: series of bucket %u", text, k);
	}
	lw_agg_result_free(r);
	lw_query_free(q);
}

static void run_rounds(unsigned seed, int rounds)
{
	build_store(seed);
	for (int round = 0; round < rounds; round++) {
		struct gexpr *e = gen_expr(3);
		int64_t since = INT64_MIN, until = INT64_MAX;
		struct lw_query_stats s;
		struct lw_query *q;
		struct lw_agg_request c = {.kind = LW_AGG_COUNT};
		struct lw_agg_result *r;
		uint64_t n = 0;

		if (rnd(3) == 0)
			since = (T0 + (int64_t)rnd(MAXEV * 7)) * NS;
		if (rnd(3) == 0)
			until = (T0 + (int64_t)rnd(MAXEV * 9)) * NS;
		compute_wants(e, since, until);
		check_events(e->text, since, until);
		q = query(e->text, since, until);
		cr_assert_eq(lw_agg_run(q, &c, &r, NULL), LW_OK);
		for (int i = 0; i < nev; i++)
			n += want[i];
		cr_expect_eq(r->total, n, "%s: count", e->text);
		lw_query_get_stats(q, &s);
		lw_agg_result_free(r);
		lw_query_free(q);
		check_count_by(e->text, since, until,
			       round % 3 == 0 ? "host.name" : round % 3 == 1 ? "labels.zone" : "user.name");
		/* (with only --since, buckets run to now: a year of minutes) */
		if (round % 2 == 0 && !(since != INT64_MIN && until == INT64_MAX))
			check_histogram(e->text, since, until, round % 4 ? 60 * NS : 3600 * NS,
					round % 8 == 6 ? NULL : "labels.zone");
		free_expr(e);
	}
	drop_store();
}

Test(qplan, planner_answers_equal_the_oracle_seed_1)
{
	run_rounds(1, 150);
}

Test(qplan, planner_answers_equal_the_oracle_seed_2)
{
	run_rounds(2, 150);
}

Test(qplan, planner_answers_equal_the_oracle_seed_3)
{
	run_rounds(3, 150);
}

/* --- what the planner does, exactly ----------------------------------------- */

Test(qplan, metadata_skips_or_answers_segments)
{
	struct lw_query *q;
	struct lw_query_stats s;
	struct lw_agg_request c = {.kind = LW_AGG_COUNT};
	struct lw_agg_result *r;
	uint64_t h2 = 0;
	int with_h2 = 0;

	build_store(7);
	for (int i = 0; i < nev; i++)
		h2 += str_is(evs[i].ev.host, "h2");
	/* segments holding no h2 are skipped without decoding */
	q = query("host.name:h2", INT64_MIN, INT64_MAX);
	cr_assert_eq(lw_agg_run(q, &c, &r, NULL), LW_OK);
	cr_expect_eq(r->total, h2);
	lw_query_get_stats(q, &s);
	cr_expect_gt(s.segments_skipped_index, 0);
	cr_expect_eq(s.segments_skipped_index + s.segments_decoded + s.segments_from_meta, NSEG);
	with_h2 = NSEG - (int)s.segments_skipped_index;
	cr_expect_gt(with_h2, 0);
	lw_agg_result_free(r);
	lw_query_free(q);
	/* a count with no condition never decodes */
	q = query("", INT64_MIN, INT64_MAX);
	cr_assert_eq(lw_agg_run(q, &c, &r, NULL), LW_OK);
	cr_expect_eq(r->total, (uint64_t)nev);
	cr_expect_eq(r->segments_from_meta, NSEG);
	cr_expect_eq(r->segments_decoded, 0);
	lw_agg_result_free(r);
	lw_query_free(q);
	/* NOT of a host no segment holds keeps every segment, decodes none */
	q = query("NOT host.name:nowhere", INT64_MIN, INT64_MAX);
	cr_assert_eq(lw_agg_run(q, &c, &r, NULL), LW_OK);
	cr_expect_eq(r->total, (uint64_t)nev);
	cr_expect_eq(r->segments_decoded, 0);
	lw_agg_result_free(r);
	lw_query_free(q);
	drop_store();
}

Test(qplan, the_literal_is_searched_before_anything_else_is_decoded)
{
	struct lw_query *q;
	struct lw_query_stats s;
	struct got *g = calloc(1, sizeof(*g));

	cr_assert_not_null(g);
	build_store(9);
	q = query("\"no such words\" AND user.name:root", INT64_MIN, INT64_MAX);
	cr_assert_eq(lw_query_run(q, collect, g, NULL), LW_OK);
	lw_query_get_stats(q, &s);
	cr_expect_eq(g->n, 0);
	cr_expect_eq(s.literal_searched, NSEG);
	cr_expect_eq(s.literal_missing, NSEG);
	cr_expect_eq(s.literal_candidates, 0);
	lw_query_free(q);
	/* "#12" is in event 12's message and in #120..#129, #1200.. */
	q = query("\"#12\"", INT64_MIN, INT64_MAX);
	cr_assert_eq(lw_query_run(q, collect, g, NULL), LW_OK);
	lw_query_get_stats(q, &s);
	cr_expect_eq(s.literal_candidates, (uint64_t)g->n);
	cr_expect_gt(g->n, 0);
	cr_expect_eq(g->ids[0], 12);
	lw_query_free(q);
	free(g);
	drop_store();
}

/* "xa" then "aab": the first "aa" in the message column runs across the
 * two messages (no event holds it); the second is inside "aab". */
Test(qplan, a_literal_across_two_messages_belongs_to_neither)
{
	static const char *const msgs[] = {"xa", "aab #1", "b #2", "aa #3", "a", "a #5"};
	struct lw_segment_builder *b;
	struct got *g = calloc(1, sizeof(*g));
	struct lw_query *q;

	cr_assert_not_null(g);
	snprintf(dir, sizeof(dir), "/tmp/lw-qplan-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, NULL), LW_OK);
	b = lw_segment_builder_new();
	for (int i = 0; i < 6; i++) {
		struct lw_event ev = {.timestamp_ns = T0 * NS + i, .message = S(msgs[i]),
				      .facility = LW_SYSLOG_NONE, .severity = LW_SYSLOG_NONE};

		cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
	}
	cr_assert_eq(lw_store_commit(st, b, NULL, 0, NULL), LW_OK);
	lw_segment_builder_free(b);
	q = query("aa", INT64_MIN, INT64_MAX);
	cr_assert_eq(lw_query_run(q, collect, g, NULL), LW_OK);
	cr_assert_eq(g->n, 2);
	cr_expect_eq(g->ids[0], 1);
	cr_expect_eq(g->ids[1], 3);
	lw_query_free(q);
	free(g);
	drop_store();
}

Test(qplan, an_aggregation_counts_everything_whatever_the_limit)
{
	struct lw_query_filter f;
	struct lw_query *q;
	struct lw_agg_request c = {.kind = LW_AGG_COUNT_BY, .field = "labels.zone"};
	struct lw_agg_result *r;

	build_store(11);
	lw_query_filter_init(&f);
	f.expr = "NOT host.name:h0";
	f.limit = 5;
	cr_assert_eq(lw_query_new(st, &f, &q, NULL), LW_OK);
	cr_assert_eq(lw_agg_run(q, &c, &r, NULL), LW_OK);
	compute_wants(&(struct gexpr){.k = G_NOT, .a = &(struct gexpr){.k = G_HOST, .i = 0}},
		      INT64_MIN, INT64_MAX);
	{
		uint64_t n = 0;

		for (int i = 0; i < nev; i++)
			n += want[i];
		cr_expect_eq(r->total, n);
		cr_expect_gt(n, 5);
	}
	lw_agg_result_free(r);
	lw_query_free(q);
	drop_store();
}
