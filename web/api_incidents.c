/* The incident endpoints of the API: pages with filters and a cursor,
 * counts, CSV, one incident with its casework and evidence, and the
 * operator's changes (ack, close, assign, notes, checklist, bulk). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/time.h"
#include "store/aggregate.h"
#include "store/casework.h"
#include "store/incidents.h"
#include "store/incpage.h"
#include "store/qincident.h"
#include "store/qlang.h"
#include "store/segment.h"
#include "store/store.h"
#include "store/users.h"
#include "web/api_int.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define CSV_MAX 100000

/* The reasons a close may give (docs/api.md). */
static const char *const close_reasons[] = {
	"true_positive", "false_positive", "benign", "duplicate", "other"
};

/* --- filters --------------------------------------------------------------- */

#define MAX_VALUES 16

struct filter {
	unsigned status_mask;
	const char *category[MAX_VALUES], *level[MAX_VALUES];
	unsigned ncategory, nlevel;
	const char *zone, *related;
	char related_json[300];    /* related as a JSON string, quotes included */
	int64_t since, until;      /* last_seen bounds */
	struct lw_qlang *q;
	int regex_limit;           /* a regex hit its limit: the answer is void */
};

static struct lw_str cstr(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static int str_is(struct lw_str a, const char *b)
{
	size_t n = strlen(b);

	return a.len == n && memcmp(a.ptr, b, n) == 0;
}

/* Splits a comma-separated parameter in place into out[]. */
static unsigned split(char *s, const char **out, unsigned max)
{
	unsigned n = 0;

	for (char *tok = strtok(s, ","); tok != NULL && n < max; tok = strtok(NULL, ","))
		if (tok[0] != '\0')
			out[n++] = tok;
	return n;
}

static int keep(const struct lw_incident_view *v, void *arg)
{
	struct filter *f = arg;
	unsigned i;
	int m;

	if (v->last_seen_ns < f->since || v->last_seen_ns > f->until)
		return 0;
	for (i = 0; i < f->ncategory && !str_is(v->category, f->category[i]); i++)
		;
	if (f->ncategory > 0 && i == f->ncategory)
		return 0;
	for (i = 0; i < f->nlevel && !str_is(v->level, f->level[i]); i++)
		;
	if (f->nlevel > 0 && i == f->nlevel)
		return 0;
	if (f->zone != NULL && !str_is(v->zone, f->zone))
		return 0;
	/* related: any entity of the incident (a group value, the host, the
	 * zone); related.* members join here when incidents carry them */
	if (f->related != NULL && !str_is(v->host, f->related) && !str_is(v->zone, f->related) &&
	    (v->group.len == 0 || memmem(v->group.ptr, v->group.len, f->related_json,
					 strlen(f->related_json)) == NULL))
		return 0;
	if (f->q != NULL) {
		m = lw_qlang_match(f->q, v);
		if (m == LW_EFULL)
			f->regex_limit = 1;
		if (m != 1)
			return 0;
	}
	return 1;
}

static void filter_release(struct filter *f)
{
	lw_qlang_free(f->q);
}

/* Reads the filter parameters; on error the response is set and
 * LW_EINVAL returned. The comma lists are split in the params' buffer. */
static int filter_read(struct lw_api_call *c, struct filter *f)
{
	char *s;
	struct lw_diag diag = {0};
	struct lw_buf rel;
	int rc;

	memset(f, 0, sizeof(*f));
	f->since = INT64_MIN;
	f->until = INT64_MAX;
	s = (char *)lw_params_get(&c->params, "status");
	if (s != NULL && s[0] != '\0') {
		const char *names[4];
		unsigned n = split(s, names, 4);

		for (unsigned i = 0; i < n; i++) {
			int st = strcmp(names[i], "all") == 0 ? 7 : lw_incidents_status_parse(names[i]);

			if (st < 0) {
				lw_api_error(c->r, 400, "bad_request",
					     "status: open, acknowledged, closed or all");
				return LW_EINVAL;
			}
			f->status_mask |= st == 7 ? LW_INCIDENTS_MASK_ALL : 1u << st;
		}
	}
	if ((s = (char *)lw_params_get(&c->params, "category")) != NULL)
		f->ncategory = split(s, f->category, MAX_VALUES);
	if ((s = (char *)lw_params_get(&c->params, "level")) != NULL)
		f->nlevel = split(s, f->level, MAX_VALUES);
	f->zone = lw_params_get(&c->params, "zone");
	if (f->zone != NULL && f->zone[0] == '\0')
		f->zone = NULL;
	f->related = lw_params_get(&c->params, "related");
	if (f->related != NULL && f->related[0] == '\0')
		f->related = NULL;
	if (f->related != NULL) {
		lw_buf_init(&rel);
		lw_escape_json_string(&rel, f->related, strlen(f->related));
		if (rel.oom || rel.len >= sizeof(f->related_json)) {
			lw_buf_release(&rel);
			lw_api_error(c->r, 400, "bad_request", "related: too long");
			return LW_EINVAL;
		}
		memcpy(f->related_json, rel.data, rel.len);
		f->related_json[rel.len] = '\0';
		lw_buf_release(&rel);
	}
	if (lw_api_param_time(c, "since", &f->since) == LW_EINVAL ||
	    lw_api_param_time(c, "until", &f->until) == LW_EINVAL)
		return LW_EINVAL;
	s = (char *)lw_params_get(&c->params, "q");
	if (s != NULL && s[0] != '\0') {
		rc = lw_qlang_parse(s, strlen(s), &f->q, &diag);
		if (rc == LW_OK)
			rc = lw_qlang_bind(f->q, &lw_qincident_schema, c->r->now_ns, &diag);
		if (rc != LW_OK) {
			lw_api_error(c->r, 400, "bad_query", "%d:%d: %s", diag.line, diag.col,
				     diag.detail);
			return LW_EINVAL;
		}
	}
	return LW_OK;
}

/* --- rendering ------------------------------------------------------------- */

/* The incident's JSON with the casework members added: "assignee" always,
 * the whole "casework" object when full is set. */
static void incident_json(struct lw_store_reader *rd, const struct lw_incident_view *v,
			  int full, struct lw_buf *out)
{
	struct lw_casework_view *cw = malloc(sizeof(*cw));

	lw_incidents_to_json(v, out);
	if (out->len == 0 || out->data[out->len - 1] != '}')
		goto out;
	out->len--; /* reopen the object */
	if (cw == NULL || lw_casework_get(rd, v->id, cw, NULL) != LW_OK) {
		lw_buf_puts(out, ",\"assignee\":\"\"}");
		goto out;
	}
	lw_buf_puts(out, ",\"assignee\":");
	lw_escape_json_string(out, cw->assignee.ptr, cw->assignee.len);
	if (full) {
		lw_buf_puts(out, ",\"casework\":");
		lw_casework_to_json(cw, out);
	}
	lw_buf_putc(out, '}');
out:
	free(cw);
}

struct page_out {
	struct lw_store_reader *rd;
	struct lw_buf *out;
	uint32_t n;
};

static int page_item(const struct lw_incident_view *v, void *arg)
{
	struct page_out *p = arg;

	if (p->n++ > 0)
		lw_buf_putc(p->out, ',');
	incident_json(p->rd, v, 0, p->out);
	return 0;
}

static int read_order(struct lw_api_call *c, enum lw_incpage_order *order)
{
	const char *s = lw_params_get(&c->params, "sort");

	*order = LW_INCPAGE_NEWEST;
	if (s == NULL || s[0] == '\0' || strcmp(s, "newest") == 0)
		return LW_OK;
	if (strcmp(s, "oldest") == 0)
		*order = LW_INCPAGE_OLDEST;
	else if (strcmp(s, "last_seen") == 0)
		*order = LW_INCPAGE_LAST_SEEN;
	else
		return lw_api_error(c->r, 400, "bad_request",
				    "sort: newest, oldest or last_seen"), LW_EINVAL;
	return LW_OK;
}

/* Cursor text: "<id>" or "<last_seen ns>_<id>". */
static int read_cursor(struct lw_api_call *c, struct lw_incpage_cursor *cur)
{
	const char *s = lw_params_get(&c->params, "cursor");
	char num[24];
	const char *us;
	uint64_t t;

	memset(cur, 0, sizeof(*cur));
	if (s == NULL || s[0] == '\0')
		return LW_OK;
	us = strchr(s, '_');
	if (us != NULL && (size_t)(us - s) < sizeof(num)) {
		memcpy(num, s, (size_t)(us - s));
		num[us - s] = '\0';
		if (lw_jsonin_parse_u64(num, &t) == LW_OK &&
		    lw_jsonin_parse_u64(us + 1, &cur->id) == LW_OK) {
			cur->last_seen_ns = (int64_t)(t ^ (1ull << 63));
			cur->set = 1;
			return LW_OK;
		}
	} else if (us == NULL && lw_jsonin_parse_u64(s, &cur->id) == LW_OK) {
		cur->set = 1;
		return LW_OK;
	}
	return lw_api_error(c->r, 400, "bad_request", "bad cursor"), LW_EINVAL;
}

static void write_cursor(struct lw_buf *b, const struct lw_incpage_cursor *cur,
			 enum lw_incpage_order order)
{
	if (!cur->set) {
		lw_buf_puts(b, "null");
		return;
	}
	if (order == LW_INCPAGE_LAST_SEEN)
		lw_buf_printf(b, "\"%llu_%llu\"",
			      (unsigned long long)((uint64_t)cur->last_seen_ns ^ (1ull << 63)),
			      (unsigned long long)cur->id);
	else
		lw_buf_printf(b, "\"%llu\"", (unsigned long long)cur->id);
}

void lw_api_incidents_list(struct lw_api_call *c)
{
	struct lw_incpage_req req = {0};
	struct lw_incpage_cursor next;
	struct page_out p = {0};
	struct filter f;
	struct lw_diag diag = {0};
	uint64_t limit, scanned = 0;
	int rc;

	if (filter_read(c, &f) != LW_OK)
		return filter_release(&f);
	if (lw_api_param_uint(c, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != LW_OK ||
	    read_order(c, &req.order) != LW_OK || read_cursor(c, &req.after) != LW_OK)
		return filter_release(&f);
	req.status_mask = f.status_mask;
	req.limit = (uint32_t)limit;
	req.keep = keep;
	req.keep_arg = &f;
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"incidents\":[");
	p.out = &c->r->out;
	rc = lw_store_reader_open(c->api->o.store, &p.rd, &diag);
	if (rc == LW_OK)
		rc = lw_incpage_walk(p.rd, &req, page_item, &p, &next, &scanned, &diag);
	lw_store_reader_close(p.rd);
	if (rc == LW_OK && f.regex_limit)
		rc = lw_diag_set(&diag, LW_EPARSE, NULL, 0, 0,
				 "a regex exceeded its match limit: narrow the query");
	filter_release(&f);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 0);
	lw_buf_puts(&c->r->out, "],\"next\":");
	write_cursor(&c->r->out, &next, req.order);
	lw_buf_printf(&c->r->out, ",\"scanned\":%llu}\n", (unsigned long long)scanned);
}

/* --- counts ---------------------------------------------------------------- */

#define MAX_KEYS 64

struct tally_key {
	char name[64];
	uint64_t n;
};

struct tally {
	struct tally_key cat[MAX_KEYS], lvl[MAX_KEYS];
	unsigned ncat, nlvl;
	uint64_t status[3], total;
	struct filter *f;
};

static void tally_add(struct lw_str name, struct tally_key *t, unsigned *n)
{
	unsigned i;
	size_t len = name.len < 63 ? name.len : 63;

	for (i = 0; i < *n; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, name.ptr, len) == 0)
			break;
	if (i == *n) {
		if (*n == MAX_KEYS)
			return;
		memcpy(t[i].name, name.ptr, len);
		t[i].name[len] = '\0';
		(*n)++;
	}
	t[i].n++;
}

static int tally_one(const struct lw_incident_view *v, void *arg)
{
	struct tally *t = arg;

	if (!keep(v, t->f))
		return 0;
	t->total++;
	t->status[v->status]++;
	tally_add(v->category, t->cat, &t->ncat);
	tally_add(v->level, t->lvl, &t->nlvl);
	return 0;
}

void lw_api_incidents_counts(struct lw_api_call *c)
{
	struct lw_incidents_filter lf = {0};
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	struct filter f;
	struct tally *t;
	int rc;

	if (filter_read(c, &f) != LW_OK)
		return filter_release(&f);
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		filter_release(&f);
		return lw_api_error(c->r, 500, "internal", "out of memory");
	}
	t->f = &f;
	lf.status_mask = f.status_mask;
	rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_incidents_list(rd, &lf, tally_one, t, NULL, &diag);
	lw_store_reader_close(rd);
	filter_release(&f);
	if (rc != LW_OK) {
		free(t);
		return lw_api_store_error(c->r, rc, &diag, 0);
	}
	lw_api_json(c->r);
	lw_buf_printf(&c->r->out, "{\"total\":%llu,\"by_status\":{\"open\":%llu,"
		      "\"acknowledged\":%llu,\"closed\":%llu},\"by_category\":{",
		      (unsigned long long)t->total, (unsigned long long)t->status[0],
		      (unsigned long long)t->status[1], (unsigned long long)t->status[2]);
	for (unsigned i = 0; i < t->ncat; i++) {
		lw_api_jkey(&c->r->out, t->cat[i].name, i == 0);
		lw_buf_printf(&c->r->out, "%llu", (unsigned long long)t->cat[i].n);
	}
	lw_buf_puts(&c->r->out, "},\"by_level\":{");
	for (unsigned i = 0; i < t->nlvl; i++) {
		lw_api_jkey(&c->r->out, t->lvl[i].name, i == 0);
		lw_buf_printf(&c->r->out, "%llu", (unsigned long long)t->lvl[i].n);
	}
	lw_buf_puts(&c->r->out, "}}\n");
	free(t);
}

/* --- CSV ------------------------------------------------------------------- */

struct csv_out {
	struct lw_store_reader *rd;
	struct lw_buf *out;
};

static void cell(struct lw_buf *out, struct lw_str s, int last)
{
	lw_escape_csv(out, s.ptr, s.len);
	lw_buf_puts(out, last ? "\r\n" : ",");
}

static void time_cell(struct lw_buf *out, int64_t ns)
{
	lw_time_format_rfc3339(ns, out);
	lw_buf_putc(out, ',');
}

static int csv_item(const struct lw_incident_view *v, void *arg)
{
	struct csv_out *o = arg;
	struct lw_casework_view *cw = malloc(sizeof(*cw));
	char num[48];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v->id);
	cell(o->out, cstr(num), 0);
	cell(o->out, cstr(lw_incidents_status_name(v->status)), 0);
	cell(o->out, v->level, 0);
	cell(o->out, v->category, 0);
	cell(o->out, v->rule_title, 0);
	cell(o->out, v->zone, 0);
	cell(o->out, v->host, 0);
	cell(o->out, v->group, 0);
	time_cell(o->out, v->first_seen_ns);
	time_cell(o->out, v->last_seen_ns);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v->count);
	cell(o->out, cstr(num), 0);
	if (cw != NULL && lw_casework_get(o->rd, v->id, cw, NULL) == LW_OK)
		cell(o->out, cw->assignee, 1);
	else
		cell(o->out, cstr(""), 1);
	free(cw);
	return 0;
}

void lw_api_incidents_csv(struct lw_api_call *c)
{
	struct lw_incpage_req req = {0};
	struct lw_incpage_cursor next;
	struct csv_out o = {0};
	struct filter f;
	struct lw_diag diag = {0};
	uint64_t limit;
	int rc;

	if (filter_read(c, &f) != LW_OK)
		return filter_release(&f);
	if (lw_api_param_uint(c, "limit", 1, CSV_MAX, CSV_MAX, &limit) != LW_OK ||
	    read_order(c, &req.order) != LW_OK)
		return filter_release(&f);
	req.status_mask = f.status_mask;
	req.limit = (uint32_t)limit;
	req.keep = keep;
	req.keep_arg = &f;
	c->r->status = 200;
	c->r->content_type = "text/csv; charset=utf-8";
	snprintf(c->r->disposition, sizeof(c->r->disposition),
		 "attachment; filename=\"incidents.csv\"");
	lw_buf_reset(&c->r->out);
	lw_buf_puts(&c->r->out, "id,status,level,category,rule,zone,host,group,"
		    "first_seen,last_seen,count,assignee\r\n");
	o.out = &c->r->out;
	rc = lw_store_reader_open(c->api->o.store, &o.rd, &diag);
	if (rc == LW_OK)
		rc = lw_incpage_walk(o.rd, &req, csv_item, &o, &next, NULL, &diag);
	lw_store_reader_close(o.rd);
	filter_release(&f);
	if (rc != LW_OK)
		lw_api_store_error(c->r, rc, &diag, 0);
}

/* --- one incident ---------------------------------------------------------- */

void lw_api_incident_get(struct lw_api_call *c)
{
	struct lw_incpage_evidence e = {0};
	struct lw_incident_view v;
	struct lw_diag diag = {0};
	uint64_t off, limit;
	uint32_t shown = 0, missing = 0, i;
	struct lw_buf *out = &c->r->out;
	int rc;

	if (lw_api_param_uint(c, "evidence_offset", 0, LW_INCIDENTS_MAX_EVIDENCE, 0, &off) != LW_OK ||
	    lw_api_param_uint(c, "evidence_limit", 0, LW_INCIDENTS_MAX_EVIDENCE, 20, &limit) != LW_OK)
		return;
	e.dec = lw_segment_decoder_new();
	rc = e.dec == NULL ? LW_ENOMEM : lw_store_reader_open(c->api->o.store, &e.rd, &diag);
	if (rc == LW_OK)
		rc = lw_incidents_get(e.rd, c->id, &v, &diag);
	if (rc != LW_OK) {
		lw_api_store_error(c->r, rc, &diag, 0);
		goto out;
	}
	lw_api_json(c->r);
	incident_json(e.rd, &v, 1, out);
	out->len--; /* reopen: the evidence page follows */
	lw_buf_puts(out, ",\"evidence\":[");
	/* newest evidence first: what the operator looks at */
	for (i = (uint32_t)off; i < v.nevidence && shown < limit; i++) {
		uint64_t seq = lw_incident_evidence(&v, v.nevidence - 1 - i);
		const struct lw_event *ev = lw_incpage_evidence_event(&e, seq);

		if (ev == NULL) {
			missing++;
			continue;
		}
		if (shown++ > 0)
			lw_buf_putc(out, ',');
		lw_event_to_json(ev, out);
	}
	lw_buf_printf(out, "],\"evidence_total\":%u,\"evidence_missing\":%u,\"evidence_next\":",
		      v.nevidence, missing);
	if (i < v.nevidence)
		lw_buf_printf(out, "%u", i);
	else
		lw_buf_puts(out, "null");
	lw_buf_puts(out, "}\n");
out:
	lw_store_reader_close(e.rd);
	lw_segment_decoder_free(e.dec);
}

/* --- changes --------------------------------------------------------------- */

static void target(struct lw_api_call *c, uint64_t id)
{
	snprintf(c->target, sizeof(c->target), "incident:%llu", (unsigned long long)id);
}

/* Renders incident id after a change (200). */
static void changed(struct lw_api_call *c, uint64_t id)
{
	struct lw_store_reader *rd = NULL;
	struct lw_incident_view v;
	struct lw_diag diag = {0};
	int rc = lw_store_reader_open(c->api->o.store, &rd, &diag);

	if (rc == LW_OK)
		rc = lw_incidents_get(rd, id, &v, &diag);
	if (rc == LW_OK) {
		lw_api_json(c->r);
		incident_json(rd, &v, 1, &c->r->out);
		lw_buf_putc(&c->r->out, '\n');
	} else {
		lw_api_store_error(c->r, rc, &diag, 0);
	}
	lw_store_reader_close(rd);
}

static int set_status(struct lw_api_call *c, uint64_t id, enum lw_incidents_status to,
		      const char *note, struct lw_diag *diag)
{
	return lw_incidents_set_status(c->api->o.store, id, to, c->who->name,
				       note && note[0] ? note : NULL, c->r->now_ns, NULL, diag);
}

void lw_api_incident_ack(struct lw_api_call *c)
{
	const char *note = lw_jsonin_str(&c->body, "note");
	struct lw_diag diag = {0};
	int rc;

	target(c, c->id);
	snprintf(c->detail, sizeof(c->detail), "%s", note ? note : "");
	rc = set_status(c, c->id, LW_INCIDENTS_ACKNOWLEDGED, note, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	changed(c, c->id);
}

/* The note a close stores: "reason: note". LW_OK, else the response is set. */
static int close_note(struct lw_api_call *c, char *out, size_t len)
{
	const char *reason = lw_jsonin_str(&c->body, "reason");
	const char *note = lw_jsonin_str(&c->body, "note");
	size_t i;

	for (i = 0; reason != NULL && i < sizeof(close_reasons) / sizeof(close_reasons[0]); i++)
		if (strcmp(reason, close_reasons[i]) == 0)
			break;
	if (reason == NULL || i == sizeof(close_reasons) / sizeof(close_reasons[0]))
		return lw_api_error(c->r, 400, "bad_request",
				    "\"reason\" is true_positive, false_positive, benign, "
				    "duplicate or other"), LW_EINVAL;
	snprintf(out, len, "%s%s%s", reason, note && note[0] ? ": " : "", note ? note : "");
	return LW_OK;
}

void lw_api_incident_close(struct lw_api_call *c)
{
	struct lw_diag diag = {0};
	char note[LW_INCIDENTS_MAX_NOTE];
	int rc;

	target(c, c->id);
	if (close_note(c, note, sizeof(note)) != LW_OK)
		return;
	snprintf(c->detail, sizeof(c->detail), "%.500s", note);
	rc = set_status(c, c->id, LW_INCIDENTS_CLOSED, note, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	changed(c, c->id);
}

/* An assignee must be a user (or "" to unassign). */
static int check_assignee(struct lw_api_call *c, const char *user)
{
	struct lw_store_reader *rd = NULL;
	struct lw_user u;
	int rc;

	if (user == NULL)
		return lw_api_error(c->r, 400, "bad_request", "\"user\" is required"), LW_EINVAL;
	if (user[0] == '\0')
		return LW_OK;
	rc = lw_store_reader_open(c->api->o.store, &rd, NULL);
	if (rc == LW_OK)
		rc = lw_users_get(rd, user, &u, NULL);
	lw_store_reader_close(rd);
	if (rc != LW_OK)
		return lw_api_error(c->r, 400, "bad_request", "no user '%s'", user), LW_EINVAL;
	return LW_OK;
}

void lw_api_incident_assign(struct lw_api_call *c)
{
	const char *user = lw_jsonin_str(&c->body, "user");
	struct lw_diag diag = {0};
	int rc;

	target(c, c->id);
	if (check_assignee(c, user) != LW_OK)
		return;
	snprintf(c->detail, sizeof(c->detail), "user=%s", user);
	rc = lw_casework_assign(c->api->o.store, c->id, user, c->who->name, c->r->now_ns, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	changed(c, c->id);
}

void lw_api_incident_note(struct lw_api_call *c)
{
	const char *text = lw_jsonin_str(&c->body, "text");
	struct lw_diag diag = {0};
	int rc;

	target(c, c->id);
	if (text == NULL || text[0] == '\0')
		return lw_api_error(c->r, 400, "bad_request", "\"text\" is required");
	snprintf(c->detail, sizeof(c->detail), "%s", text);
	rc = lw_casework_add_note(c->api->o.store, c->id, text, c->who->name, c->r->now_ns,
				  &diag);
	if (rc == LW_EINVAL)
		return lw_api_error(c->r, 413, "too_large", "%s", diag.detail);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	changed(c, c->id);
}

/* How many response steps incident id has ("response":{"steps":[...]}). */
static int count_steps(struct lw_api_call *c, uint64_t id, uint32_t *n)
{
	struct lw_store_reader *rd = NULL;
	struct lw_incident_view v;
	struct lw_jsonin j;
	struct lw_diag diag = {0};
	int rc = lw_store_reader_open(c->api->o.store, &rd, &diag);

	*n = 0;
	if (rc == LW_OK)
		rc = lw_incidents_get(rd, id, &v, &diag);
	if (rc == LW_OK && lw_jsonin_parse(v.response.ptr, v.response.len, &j, NULL) == LW_OK) {
		const struct lw_jsonin_member *m = lw_jsonin_get(&j, "steps");

		*n = m != NULL && m->type == LW_JSONIN_ARRAY ? m->nitems : 0;
		lw_jsonin_release(&j);
	}
	lw_store_reader_close(rd);
	if (rc != LW_OK)
		lw_api_store_error(c->r, rc, &diag, 0);
	return rc;
}

void lw_api_incident_step(struct lw_api_call *c)
{
	struct lw_diag diag = {0};
	uint64_t step;
	uint32_t nsteps;
	int done = 1, rc;

	target(c, c->id);
	if (lw_jsonin_u64(&c->body, "step", &step) != LW_OK ||
	    lw_jsonin_bool(&c->body, "done", &done) == LW_EINVAL)
		return lw_api_error(c->r, 400, "bad_request",
				    "a step needs \"step\" (its index) and \"done\" (true or false)");
	if (count_steps(c, c->id, &nsteps) != LW_OK)
		return;
	if (step >= nsteps || step >= LW_CASEWORK_MAX_STEPS)
		return lw_api_error(c->r, 400, "bad_request", "incident %llu has %u response steps",
				    (unsigned long long)c->id, nsteps);
	snprintf(c->detail, sizeof(c->detail), "step %llu %s", (unsigned long long)step,
		 done ? "done" : "not done");
	rc = lw_casework_set_step(c->api->o.store, c->id, (uint32_t)step, done, c->who->name,
				  c->r->now_ns, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	changed(c, c->id);
}

/* --- bulk ------------------------------------------------------------------ */

#define BULK_MAX 500

void lw_api_incidents_bulk(struct lw_api_call *c)
{
	const struct lw_jsonin_member *ids = lw_jsonin_get(&c->body, "ids");
	const char *action = lw_jsonin_str(&c->body, "action");
	const char *note = lw_jsonin_str(&c->body, "note");
	const char *user = lw_jsonin_str(&c->body, "user");
	char close_text[LW_INCIDENTS_MAX_NOTE];
	unsigned ok = 0, failed = 0;
	struct lw_buf *out = &c->r->out;
	int kind;

	snprintf(c->target, sizeof(c->target), "incidents");
	if (action == NULL || (strcmp(action, "ack") != 0 && strcmp(action, "close") != 0 &&
			       strcmp(action, "assign") != 0))
		return lw_api_error(c->r, 400, "bad_request", "\"action\" is ack, close or assign");
	if (ids == NULL || ids->type != LW_JSONIN_ARRAY || ids->nitems == 0 ||
	    ids->nitems > BULK_MAX)
		return lw_api_error(c->r, 400, "bad_request", "\"ids\" is a list of 1 to %d ids",
				    BULK_MAX);
	kind = action[0] == 'a' && action[1] == 'c' ? 0 : action[0] == 'c' ? 1 : 2;
	if (kind == 1 && close_note(c, close_text, sizeof(close_text)) != LW_OK)
		return;
	if (kind == 2 && check_assignee(c, user) != LW_OK)
		return;
	snprintf(c->detail, sizeof(c->detail), "%s %u incidents", action, ids->nitems);
	lw_api_json(c->r);
	lw_buf_puts(out, "{\"results\":[");
	for (uint32_t i = 0; i < ids->nitems; i++) {
		struct lw_diag diag = {0};
		uint64_t id;
		int rc;

		if (lw_jsonin_parse_u64(ids->items[i], &id) != LW_OK) {
			rc = lw_diag_set(&diag, LW_EINVAL, NULL, 0, 0, "not an id");
		} else if (kind == 0) {
			rc = set_status(c, id, LW_INCIDENTS_ACKNOWLEDGED, note, &diag);
		} else if (kind == 1) {
			rc = set_status(c, id, LW_INCIDENTS_CLOSED, close_text, &diag);
		} else {
			rc = lw_casework_assign(c->api->o.store, id, user, c->who->name,
						c->r->now_ns, &diag);
		}
		lw_buf_printf(out, "%s{\"id\":", i ? "," : "");
		lw_escape_json_string(out, ids->items[i], strlen(ids->items[i]));
		if (rc == LW_OK) {
			ok++;
			lw_buf_puts(out, ",\"status\":200}");
		} else {
			failed++;
			lw_buf_printf(out, ",\"status\":%d,\"error\":",
				      rc == LW_ENOTFOUND ? 404 : rc == LW_EINVAL ? 409 : 500);
			lw_escape_json_string(out, diag.detail, strlen(diag.detail));
			lw_buf_putc(out, '}');
		}
	}
	lw_buf_printf(out, "],\"ok\":%u,\"failed\":%u}\n", ok, failed);
	snprintf(c->detail, sizeof(c->detail), "%s: %u ok, %u failed", action, ok, failed);
}
