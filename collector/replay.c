/* collector/replay.c - see collector/replay.h. */
#include <stdlib.h>
#include <string.h>

#include "collector/journal.h"
#include "collector/replay.h"
#include "core/arena.h"
#include "core/escape.h"
#include "core/time.h"
#include "correlator/correlation.h"
#include "correlator/incident.h"
#include "correlator/sigma.h"
#include "store/incidents.h"
#include "store/query.h"

/* Source-given extra fields a replay keeps (the rest came from decoders). */
static const char *const kept_prefixes[] = {LW_JOURNAL_PREFIX, "tls.client."};

struct run {
	struct lw_replay_result *r;
	const struct lw_ruleset *rs;
	struct lw_ruleset_scratch *scr;
	struct lw_correlation *corr;
	struct lw_arena arena;
	struct lw_field *fields;  /* the kept fields of the current event */
	uint32_t fields_cap;
	uint64_t last_segment;
	int oom;
};

static uint64_t hash_key(const char *rule_id, const char *group)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a over id, NUL, group */

	for (const char *p = rule_id;; p++) {
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		if (*p == '\0')
			break;
	}
	for (const char *p = group; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* An open-addressing table of index + 1 over n entries, keyed by
 * key_of(entry i). */
static int table_put(size_t **slots, size_t *nslots, size_t count, uint64_t h, size_t idx,
		     uint64_t (*key_of)(const void *, size_t), const void *arr)
{
	if ((count + 1) * 2 > *nslots) {
		size_t n = *nslots ? *nslots * 2 : 1024;
		size_t *ns = calloc(n, sizeof(*ns));

		if (ns == NULL)
			return LW_ENOMEM;
		for (size_t i = 0; i < *nslots; i++) {
			size_t k;

			if ((*slots)[i] == 0)
				continue;
			for (k = key_of(arr, (*slots)[i] - 1) & (n - 1); ns[k] != 0; k = (k + 1) & (n - 1))
				;
			ns[k] = (*slots)[i];
		}
		free(*slots);
		*slots = ns;
		*nslots = n;
	}
	for (h &= *nslots - 1; (*slots)[h] != 0; h = (h + 1) & (*nslots - 1))
		;
	(*slots)[h] = idx + 1;
	return LW_OK;
}

static uint64_t replayed_key(const void *arr, size_t i)
{
	const struct lw_replay_incident *inc = arr;

	return hash_key(inc[i].rule->id, inc[i].group);
}

static struct lw_replay_incident *find_replayed(const struct lw_replay_result *r,
					       const char *rule_id, const char *group)
{
	if (r->nslots == 0)
		return NULL;
	for (size_t k = hash_key(rule_id, group) & (r->nslots - 1); r->slots[k] != 0;
	     k = (k + 1) & (r->nslots - 1)) {
		struct lw_replay_incident *inc = &r->incidents[r->slots[k] - 1];

		if (strcmp(inc->rule->id, rule_id) == 0 && strcmp(inc->group, group) == 0)
			return inc;
	}
	return NULL;
}

static void on_fire(const struct lw_incident_fire *f, void *arg)
{
	struct run *run = arg;
	struct lw_replay_result *r = run->r;
	struct lw_replay_incident *inc;

	if (!lw_sigma_level_raises(f->rule->level))
		return; /* a building block: raises no incident, as in serve */
	inc = find_replayed(r, f->rule->id, f->group);
	if (inc == NULL) {
		if (r->nincidents == LW_REPLAY_MAX_INCIDENTS) {
			r->untracked++;
			return;
		}
		if (r->nincidents == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct lw_replay_incident *n = realloc(r->incidents, cap * sizeof(*n));

			if (n == NULL) {
				run->oom = 1;
				return;
			}
			r->incidents = n;
			r->cap = cap;
		}
		inc = &r->incidents[r->nincidents];
		memset(inc, 0, sizeof(*inc));
		inc->rule = f->rule;
		inc->response_json = f->response_json;
		memcpy(inc->group, f->group, sizeof(inc->group));
		memcpy(inc->host, f->host, sizeof(inc->host));
		memcpy(inc->zone, f->zone, sizeof(inc->zone));
		inc->first_seen_ns = f->first_seen_ns;
		inc->last_seen_ns = f->last_seen_ns;
		if (table_put(&r->slots, &r->nslots, r->nincidents, hash_key(f->rule->id, f->group),
			      r->nincidents, replayed_key, r->incidents) != LW_OK) {
			run->oom = 1;
			return;
		}
		r->nincidents++;
	} else {
		if (strcmp(inc->host, f->host) != 0)
			inc->host[0] = '\0';
		if (strcmp(inc->zone, f->zone) != 0)
			inc->zone[0] = '\0';
		if (f->first_seen_ns < inc->first_seen_ns)
			inc->first_seen_ns = f->first_seen_ns;
		if (f->last_seen_ns > inc->last_seen_ns)
			inc->last_seen_ns = f->last_seen_ns;
	}
	inc->count += f->count;
	inc->fires++;
}

static int kept(struct lw_str key)
{
	for (size_t i = 0; i < sizeof(kept_prefixes) / sizeof(kept_prefixes[0]); i++) {
		size_t n = strlen(kept_prefixes[i]);

		if (key.len >= n && memcmp(key.ptr, kept_prefixes[i], n) == 0)
			return 1;
	}
	return 0;
}

static int on_event(const struct lw_event *stored, uint64_t segment_id, void *arg)
{
	struct run *run = arg;
	struct lw_event ev = *stored;
	struct lw_ruleset_matches m;
	uint32_t n = 0;

	if (segment_id != run->last_segment) {
		run->last_segment = segment_id;
		run->r->segments++;
	}
	if (stored->nfields > run->fields_cap) {
		struct lw_field *f = realloc(run->fields, stored->nfields * sizeof(*f));

		if (f == NULL)
			return LW_ENOMEM;
		run->fields = f;
		run->fields_cap = stored->nfields;
	}
	for (uint32_t i = 0; i < stored->nfields; i++)
		if (kept(stored->fields[i].key))
			run->fields[n++] = stored->fields[i];
	ev.fields = n ? run->fields : NULL;
	ev.nfields = n;
	lw_arena_reset(&run->arena);
	if (lw_ruleset_apply(run->rs, run->scr, &ev, &run->arena, &m) != LW_OK)
		return LW_ENOMEM;
	if (lw_correlation_process(run->corr, &ev, run->r->events, m.rules, m.count, on_fire,
				   run) != LW_OK || run->oom)
		return LW_ENOMEM;
	run->r->events++;
	return 0;
}

/* What suppression still holds at the end: counted, not merged (the
 * daemon has not delivered it either). */
static void on_held(const struct lw_incident_fire *f, void *arg)
{
	struct run *run = arg;

	if (lw_sigma_level_raises(f->rule->level))
		run->r->held_back += f->count;
}

int lw_replay_run(struct lw_store *st, const struct lw_replay_opts *o,
		  struct lw_replay_result **out, struct lw_diag *diag)
{
	struct lw_query_filter qf;
	struct lw_query *q = NULL;
	struct run run = {.rs = o->rs};
	int rc;

	*out = NULL;
	run.r = calloc(1, sizeof(*run.r));
	run.scr = lw_ruleset_scratch_new(o->rs);
	run.corr = lw_correlation_new(o->rs);
	lw_arena_init(&run.arena, 0);
	if (run.r == NULL || run.scr == NULL || run.corr == NULL) {
		rc = LW_ENOMEM;
		goto out;
	}
	lw_query_filter_init(&qf);
	qf.expr = o->expr;
	qf.since_ns = o->since_ns;
	qf.until_ns = o->until_ns;
	rc = lw_query_new(st, &qf, &q, diag);
	if (rc == LW_OK)
		rc = lw_query_run(q, on_event, &run, diag);
	if (rc == LW_OK && run.oom)
		rc = LW_ENOMEM;
	if (rc == LW_OK)
		lw_correlation_flush(run.corr, on_held, &run);
out:
	lw_query_free(q);
	lw_correlation_free(run.corr);
	lw_ruleset_scratch_free(run.scr);
	lw_arena_release(&run.arena);
	free(run.fields);
	if (rc != LW_OK) {
		lw_replay_result_free(run.r);
		return rc;
	}
	*out = run.r;
	return LW_OK;
}

void lw_replay_result_free(struct lw_replay_result *r)
{
	if (r == NULL)
		return;
	free(r->incidents);
	free(r->slots);
	free(r);
}

static void json_time(struct lw_buf *b, int64_t ns)
{
	lw_buf_putc(b, '"');
	lw_time_format_rfc3339(ns, b);
	lw_buf_putc(b, '"');
}

static void json_opt_string(struct lw_buf *b, const char *s)
{
	if (s[0] == '\0')
		lw_buf_puts(b, "null");
	else
		lw_escape_json_string(b, s, strlen(s));
}

void lw_replay_incident_json_open(const struct lw_sigma_rule_info *rule, uint64_t id,
				  const char *group, const char *host, const char *zone,
				  int64_t first_ns, int64_t last_ns, uint64_t count,
				  struct lw_buf *b)
{
	lw_buf_puts(b, "{\"id\":");
	if (id != 0)
		lw_buf_printf(b, "%llu", (unsigned long long)id);
	else
		lw_buf_puts(b, "null");
	lw_buf_puts(b, ",\"rule\":{\"id\":");
	lw_escape_json_string(b, rule->id, strlen(rule->id));
	if (rule->name != NULL) {
		lw_buf_puts(b, ",\"name\":");
		lw_escape_json_string(b, rule->name, strlen(rule->name));
	}
	lw_buf_puts(b, ",\"title\":");
	lw_escape_json_string(b, rule->title, strlen(rule->title));
	lw_buf_printf(b, ",\"level\":\"%s\"},\"category\":\"%s\",\"level\":\"%s\","
		      "\"status\":\"open\",\"zone\":",
		      lw_sigma_level_name((int)rule->level), lw_category_name((int)rule->category),
		      lw_sigma_level_name((int)rule->level));
	json_opt_string(b, zone);
	/* the group is the correlator's canonical JSON object */
	lw_buf_puts(b, ",\"group\":");
	lw_escape_json_text(b, group, strlen(group));
	lw_buf_puts(b, ",\"host\":");
	json_opt_string(b, host);
	lw_buf_puts(b, ",\"first_seen\":");
	json_time(b, first_ns);
	lw_buf_puts(b, ",\"last_seen\":");
	json_time(b, last_ns);
	lw_buf_printf(b, ",\"count\":%llu", (unsigned long long)count);
}

/* ---- diff ---- */

struct stored_set {
	struct lw_replay_stored *v;
	size_t n, cap;
	size_t *slots;
	size_t nslots;
	int64_t since_ns, until_ns;
};

static uint64_t stored_key(const void *arr, size_t i)
{
	const struct lw_replay_stored *s = arr;

	return hash_key(s[i].rule_id, s[i].group);
}

static struct lw_replay_stored *find_stored(const struct stored_set *s, const char *rule_id,
					    const char *group)
{
	if (s->nslots == 0)
		return NULL;
	for (size_t k = hash_key(rule_id, group) & (s->nslots - 1); s->slots[k] != 0;
	     k = (k + 1) & (s->nslots - 1)) {
		struct lw_replay_stored *e = &s->v[s->slots[k] - 1];

		if (strcmp(e->rule_id, rule_id) == 0 && strcmp(e->group, group) == 0)
			return e;
	}
	return NULL;
}

static void copy_str(char *dst, size_t n, struct lw_str s)
{
	size_t len = s.len < n - 1 ? s.len : n - 1;

	memcpy(dst, s.ptr, len);
	dst[len] = '\0';
}

static int on_stored(const struct lw_incident_view *v, void *arg)
{
	struct stored_set *s = arg;
	struct lw_replay_stored key, *e;

	if (v->first_seen_ns < s->since_ns || v->first_seen_ns > s->until_ns)
		return 0;
	memset(&key, 0, sizeof(key));
	copy_str(key.rule_id, sizeof(key.rule_id), v->rule_id);
	copy_str(key.rule_title, sizeof(key.rule_title), v->rule_title);
	copy_str(key.group, sizeof(key.group), v->group);
	e = find_stored(s, key.rule_id, key.group);
	if (e == NULL) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct lw_replay_stored *nv = realloc(s->v, cap * sizeof(*nv));

			if (nv == NULL)
				return LW_ENOMEM;
			s->v = nv;
			s->cap = cap;
		}
		e = &s->v[s->n];
		*e = key;
		e->first_seen_ns = v->first_seen_ns;
		e->last_seen_ns = v->last_seen_ns;
		e->first_id = v->id;
		if (table_put(&s->slots, &s->nslots, s->n, hash_key(e->rule_id, e->group), s->n,
			      stored_key, s->v) != LW_OK)
			return LW_ENOMEM;
		s->n++;
	}
	if (v->first_seen_ns < e->first_seen_ns)
		e->first_seen_ns = v->first_seen_ns;
	if (v->last_seen_ns > e->last_seen_ns)
		e->last_seen_ns = v->last_seen_ns;
	e->count += v->count;
	e->nincidents++;
	return 0;
}

int lw_replay_diff(struct lw_store *st, const struct lw_replay_opts *o,
		   const struct lw_replay_result *r, lw_replay_diff_cb cb, void *arg,
		   struct lw_diag *diag)
{
	struct lw_incidents_filter f = {.status_mask = LW_INCIDENTS_MASK_ALL};
	struct stored_set s = {.since_ns = o->since_ns, .until_ns = o->until_ns};
	struct lw_store_reader *rd = NULL;
	uint8_t *matched = NULL;
	int rc = lw_store_reader_open(st, &rd, diag);

	if (rc == LW_OK)
		rc = lw_incidents_list(rd, &f, on_stored, &s, NULL, diag);
	lw_store_reader_close(rd);
	if (rc == LW_OK && (matched = calloc(s.n + 1, 1)) == NULL)
		rc = LW_ENOMEM;
	for (size_t i = 0; i < r->nincidents && rc == LW_OK; i++) {
		const struct lw_replay_incident *inc = &r->incidents[i];
		struct lw_replay_stored *e = find_stored(&s, inc->rule->id, inc->group);
		struct lw_replay_change_entry ce = {.change = LW_REPLAY_NEW, .replayed = inc};

		if (e != NULL) {
			matched[e - s.v] = 1;
			ce.stored = *e;
			ce.change = e->count == inc->count && e->first_seen_ns == inc->first_seen_ns &&
				    e->last_seen_ns == inc->last_seen_ns ? LW_REPLAY_SAME :
				    LW_REPLAY_CHANGED;
		}
		rc = cb(&ce, arg);
	}
	for (size_t i = 0; i < s.n && rc == LW_OK; i++) {
		struct lw_replay_change_entry ce = {.change = LW_REPLAY_GONE, .stored = s.v[i]};

		if (!matched[i])
			rc = cb(&ce, arg);
	}
	free(matched);
	free(s.v);
	free(s.slots);
	return rc;
}
