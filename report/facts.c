/* report/facts.c - see report/facts.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/counters.h"
#include "core/time.h"
#include "core/tz.h"
#include "report/facts.h"
#include "store/audit.h"
#include "store/incidents.h"
#include "store/query.h"

#define NS_PER_S 1000000000LL
#define PTS_COMPACT 4096 /* points a source buffers before merging them */

struct scan {
	struct lw_facts *f;
	size_t *slots;        /* open addressing: index + 1 into f->sources, 0 = empty */
	size_t nslots;
	size_t last_source;   /* the previous event's source + 1 (runs of one host) */
	size_t last_zone;     /* the previous event's zone + 1 */
	size_t sources_cap;
	int oom;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int str_is(const char *z, struct lw_str s)
{
	return strlen(z) == s.len && memcmp(z, s.ptr, s.len) == 0;
}

static int grow_slots(struct scan *sc)
{
	size_t n = sc->nslots ? sc->nslots * 2 : 1024;
	size_t *slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return LW_ENOMEM;
	for (size_t i = 0; i < sc->f->nsources; i++) {
		const char *h = sc->f->sources[i].host;
		size_t k = hash_bytes(h, strlen(h)) & (n - 1);

		while (slots[k] != 0)
			k = (k + 1) & (n - 1);
		slots[k] = i + 1;
	}
	free(sc->slots);
	sc->slots = slots;
	sc->nslots = n;
	return LW_OK;
}

/* The source of host (created when new), or NULL when untracked or out
 * of memory (sc->oom). */
static struct lw_facts_source *source_of(struct scan *sc, struct lw_str host)
{
	struct lw_facts *f = sc->f;
	struct lw_facts_source *s;
	size_t k;

	if (sc->last_source && str_is(f->sources[sc->last_source - 1].host, host))
		return &f->sources[sc->last_source - 1];
	if (f->nsources * 2 >= sc->nslots && grow_slots(sc) != LW_OK) {
		sc->oom = 1;
		return NULL;
	}
	for (k = hash_bytes(host.ptr, host.len) & (sc->nslots - 1); sc->slots[k] != 0;
	     k = (k + 1) & (sc->nslots - 1))
		if (str_is(f->sources[sc->slots[k] - 1].host, host)) {
			sc->last_source = sc->slots[k];
			return &f->sources[sc->slots[k] - 1];
		}
	if (f->nsources >= LW_FACTS_MAX_SOURCES)
		return NULL;
	if (f->nsources == sc->sources_cap) {
		size_t cap = sc->sources_cap ? sc->sources_cap * 2 : 64;
		struct lw_facts_source *ns = realloc(f->sources, cap * sizeof(*ns));

		if (ns == NULL) {
			sc->oom = 1;
			return NULL;
		}
		f->sources = ns;
		sc->sources_cap = cap;
	}
	s = &f->sources[f->nsources];
	memset(s, 0, sizeof(*s));
	s->host = lw_memdup_z(host.ptr, host.len);
	if (s->host == NULL) {
		sc->oom = 1;
		return NULL;
	}
	sc->slots[k] = ++f->nsources;
	sc->last_source = f->nsources;
	return s;
}

static int cmp_run(const void *a, const void *b)
{
	const struct lw_facts_gap *x = a, *y = b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* Folds the buffered points into the runs: sorted, and any two times at
 * most gap_ns apart joined, so what stays between runs is a gap. */
static int compact(struct lw_facts_source *s, int64_t gap_ns)
{
	size_t n = s->nruns + s->npts, out = 0;
	struct lw_facts_gap *all;

	if (s->npts == 0)
		return LW_OK;
	all = malloc(n * sizeof(*all));
	if (all == NULL)
		return LW_ENOMEM;
	if (s->nruns > 0)
		memcpy(all, s->runs, s->nruns * sizeof(*all));
	for (size_t i = 0; i < s->npts; i++)
		all[s->nruns + i] = (struct lw_facts_gap){s->pts[i], s->pts[i]};
	qsort(all, n, sizeof(*all), cmp_run);
	for (size_t i = 1; i < n; i++) {
		if (all[i].start_ns - all[out].end_ns <= gap_ns) {
			if (all[i].end_ns > all[out].end_ns)
				all[out].end_ns = all[i].end_ns;
		} else {
			all[++out] = all[i];
		}
	}
	free(s->runs);
	s->runs = all;
	s->nruns = out + 1;
	s->runs_cap = n;
	s->npts = 0;
	return LW_OK;
}

static int add_point(struct lw_facts_source *s, int64_t ts, int64_t gap_ns)
{
	/* repeats of one time (a burst in one second) are kept once */
	if (s->npts > 0 && ts == s->pts[s->npts - 1])
		return LW_OK;
	if (s->npts == s->pts_cap) {
		int rc = compact(s, gap_ns);

		if (rc != LW_OK)
			return rc;
		if (s->pts_cap == 0) {
			s->pts = malloc(PTS_COMPACT * sizeof(*s->pts));
			if (s->pts == NULL)
				return LW_ENOMEM;
			s->pts_cap = PTS_COMPACT;
		}
	}
	s->pts[s->npts++] = ts;
	return LW_OK;
}

static int64_t local_day(const struct lw_facts *f, int64_t ns)
{
	int64_t s = ns / NS_PER_S - (ns % NS_PER_S < 0);

	if (f->opts.tz != NULL)
		s += lw_tz_offset_at(f->opts.tz, s);
	return s / 86400 - (s % 86400 < 0);
}

static size_t zone_index(struct scan *sc, struct lw_str zone)
{
	struct lw_facts *f = sc->f;

	if (sc->last_zone && str_is(f->zones[sc->last_zone - 1], zone))
		return sc->last_zone - 1;
	for (size_t i = 0; i < f->nzones; i++)
		if (str_is(f->zones[i], zone)) {
			sc->last_zone = i + 1;
			return i;
		}
	if (f->nzones == LW_FACTS_MAX_ZONES)
		return SIZE_MAX;
	f->zones[f->nzones] = lw_memdup_z(zone.ptr, zone.len);
	if (f->zones[f->nzones] == NULL) {
		sc->oom = 1;
		return SIZE_MAX;
	}
	sc->last_zone = ++f->nzones;
	return f->nzones - 1;
}

static int on_event(const struct lw_event *ev, uint64_t segment_id, void *arg)
{
	struct scan *sc = arg;
	struct lw_facts *f = sc->f;
	struct lw_facts_source *s;
	int64_t day = local_day(f, ev->timestamp_ns) - f->first_day;
	size_t z;

	(void)segment_id;
	f->events++;
	z = zone_index(sc, ev->zone);
	if (z != SIZE_MAX && day >= 0 && day < (int64_t)f->ndays)
		f->zone_days[z * f->ndays + (size_t)day]++;
	s = source_of(sc, ev->host);
	if (sc->oom)
		return LW_ENOMEM;
	if (s == NULL) {
		f->untracked_events++;
		return 0;
	}
	if (s->events == 0 || ev->timestamp_ns < s->first_ns)
		s->first_ns = ev->timestamp_ns;
	if (s->events == 0 || ev->timestamp_ns >= s->last_ns) {
		s->last_ns = ev->timestamp_ns;
		if (z != SIZE_MAX)
			s->zone = f->zones[z];
	}
	s->events++;
	if (ev->flags & LW_EVENT_CLOCK_SKEW)
		s->skewed++;
	return add_point(s, ev->timestamp_ns, f->opts.gap_ns) == LW_OK ? 0 : LW_ENOMEM;
}

/* Hosts the store knows that sent nothing in the period: silent all
 * through it. */
static int on_name(enum lw_store_name_kind kind, struct lw_str name, uint64_t events,
		   uint64_t skew, void *arg)
{
	struct scan *sc = arg;

	(void)skew;
	if (kind != LW_STORE_HOST || events == 0)
		return 0;
	sc->last_source = 0;
	(void)source_of(sc, name);
	return sc->oom ? LW_ENOMEM : 0;
}

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const struct lw_facts_source *)a)->host,
		      ((const struct lw_facts_source *)b)->host);
}

static int finish_sources(struct lw_facts *f)
{
	for (size_t i = 0; i < f->nsources; i++) {
		struct lw_facts_source *s = &f->sources[i];
		int rc = compact(s, f->opts.gap_ns);

		if (rc != LW_OK)
			return rc;
		free(s->pts);
		s->pts = NULL;
		s->pts_cap = 0;
		s->silent = s->events == 0 || s->last_ns < f->opts.to_ns - f->opts.silent_ns;
		if (s->nruns > 1) {
			s->gaps = malloc((s->nruns - 1) * sizeof(*s->gaps));
			if (s->gaps == NULL)
				return LW_ENOMEM;
			for (size_t k = 0; k + 1 < s->nruns; k++)
				s->gaps[k] = (struct lw_facts_gap){s->runs[k].end_ns,
								   s->runs[k + 1].start_ns};
			s->ngaps = s->nruns - 1;
		}
		free(s->runs);
		s->runs = NULL;
		s->nruns = 0;
	}
	qsort(f->sources, f->nsources, sizeof(*f->sources), cmp_source);
	return LW_OK;
}

static int read_events(struct lw_store *st, struct lw_facts *f, struct lw_diag *diag)
{
	struct lw_query_filter qf;
	struct lw_query *q = NULL;
	struct lw_store_reader *rd = NULL;
	struct scan sc = {.f = f};
	int64_t last_day;
	int rc;

	f->first_day = local_day(f, f->opts.from_ns);
	last_day = local_day(f, f->opts.to_ns - 1);
	if (last_day - f->first_day + 1 > LW_FACTS_MAX_DAYS)
		return lw_diag_set(diag, LW_ETOOBIG, NULL, 0, 0,
				   "the period spans more than %u days", LW_FACTS_MAX_DAYS);
	f->ndays = (uint32_t)(last_day - f->first_day + 1);
	f->zone_days = calloc((size_t)LW_FACTS_MAX_ZONES * f->ndays, sizeof(*f->zone_days));
	if (f->zone_days == NULL)
		return LW_ENOMEM;
	lw_query_filter_init(&qf);
	qf.since_ns = f->opts.from_ns;
	qf.until_ns = f->opts.to_ns - 1;
	rc = lw_query_new(st, &qf, &q, diag);
	if (rc == LW_OK)
		rc = lw_query_run_cols(q, LW_SEGMENT_COL_TS | LW_SEGMENT_COL_HOST |
					  LW_SEGMENT_COL_ZONE | LW_SEGMENT_COL_FLAGS,
				       NULL, on_event, &sc, diag);
	lw_query_free(q);
	if (rc == LW_OK)
		rc = lw_store_reader_open(st, &rd, diag);
	if (rc == LW_OK)
		rc = lw_store_reader_names(rd, on_name, &sc, diag);
	lw_store_reader_close(rd);
	free(sc.slots);
	if (rc == LW_OK)
		rc = finish_sources(f);
	return rc;
}

/* The loss and refusal counters of the stored snapshot, in core's order. */
static void read_counters(struct lw_facts *f, const struct lw_buf *snap)
{
	for (int id = 0; id < LW_CTR__COUNT; id++) {
		const char *name = lw_counter_name((enum lw_counter)id);
		size_t nl = strlen(name);
		const char *p = snap->data, *end = snap->data + snap->len;
		uint64_t v = 0;

		if (!lw_counter_is_loss((enum lw_counter)id) && strncmp(name, "refused_", 8) != 0 &&
		    strncmp(name, "rate_limited_", 13) != 0 && id != LW_CTR_CONN_REFUSED)
			continue;
		while (p != NULL && p < end) {
			const char *eol = memchr(p, '\n', (size_t)(end - p));

			if (eol == NULL)
				eol = end;
			if ((size_t)(eol - p) > nl && memcmp(p, name, nl) == 0 && p[nl] == '=')
				v = strtoull(p + nl + 1, NULL, 10);
			p = eol + 1;
		}
		if (f->ncounters < sizeof(f->counters) / sizeof(f->counters[0]))
			f->counters[f->ncounters++] = (struct lw_facts_counter){name, v};
	}
}

int lw_facts_note_is_false_positive(const char *note, size_t len)
{
	static const char *const ascii[] = {"false positive", "false-positive"};
	static const char *const ja[] = {"\xe8\xaa\xa4\xe6\xa4\x9c\xe7\x9f\xa5",  /* 誤検知 */
					 "\xe9\x81\x8e\xe6\xa4\x9c\xe7\x9f\xa5"}; /* 過検知 */

	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < 2; k++) {
			size_t n = strlen(ascii[k]);

			if (len - i >= n && strncasecmp(note + i, ascii[k], n) == 0)
				return 1;
			n = strlen(ja[k]);
			if (len - i >= n && memcmp(note + i, ja[k], n) == 0)
				return 1;
		}
	}
	return 0;
}

static char *dup_str(struct lw_str s, int *oom)
{
	char *p = lw_memdup_z(s.ptr, s.len);

	if (p == NULL)
		*oom = 1;
	return p;
}

struct inc_walk {
	struct lw_facts *f;
	size_t cap;
	int oom;
};

static int on_incident(const struct lw_incident_view *v, void *arg)
{
	struct inc_walk *w = arg;
	struct lw_facts *f = w->f;
	struct lw_facts_incident *inc;

	if (v->first_seen_ns >= f->opts.to_ns || v->last_seen_ns < f->opts.from_ns)
		return 0;
	if (f->nincidents == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct lw_facts_incident *n = realloc(f->incidents, cap * sizeof(*n));

		if (n == NULL)
			return LW_ENOMEM;
		f->incidents = n;
		w->cap = cap;
	}
	inc = &f->incidents[f->nincidents++];
	memset(inc, 0, sizeof(*inc));
	inc->id = v->id;
	inc->count = v->count;
	inc->first_seen_ns = v->first_seen_ns;
	inc->last_seen_ns = v->last_seen_ns;
	inc->rule_id = dup_str(v->rule_id, &w->oom);
	inc->rule_title = dup_str(v->rule_title, &w->oom);
	inc->category = dup_str(v->category, &w->oom);
	inc->level = dup_str(v->level, &w->oom);
	inc->group = dup_str(v->group, &w->oom);
	inc->status = strdup(lw_incidents_status_name(v->status));
	if (inc->status == NULL)
		w->oom = 1;
	inc->opened_ns = v->nhistory > 0 ? v->history[0].time_ns : v->first_seen_ns;
	for (uint32_t h = 0; h < v->nhistory; h++) {
		const struct lw_incidents_history *e = &v->history[h];

		/* closing without acknowledging first acknowledges too */
		if (e->status != LW_INCIDENTS_OPEN && inc->ack_ns == 0)
			inc->ack_ns = e->time_ns;
		if (e->status == LW_INCIDENTS_CLOSED) {
			inc->closed_ns = e->time_ns;
			inc->false_positive = lw_facts_note_is_false_positive(e->note.ptr, e->note.len);
		}
	}
	return w->oom ? LW_ENOMEM : 0;
}

/* Closures and false positives per rule, from the incidents. */
static int rules_fp(struct lw_facts *f)
{
	for (size_t i = 0; i < f->nincidents; i++) {
		const struct lw_facts_incident *inc = &f->incidents[i];
		struct lw_facts_rule_fp *r = NULL;

		if (inc->closed_ns == 0)
			continue;
		for (size_t k = 0; k < f->nrules_fp && r == NULL; k++)
			if (strcmp(f->rules_fp[k].rule_id, inc->rule_id) == 0)
				r = &f->rules_fp[k];
		if (r == NULL) {
			struct lw_facts_rule_fp *n =
				realloc(f->rules_fp, (f->nrules_fp + 1) * sizeof(*n));

			if (n == NULL)
				return LW_ENOMEM;
			f->rules_fp = n;
			r = &n[f->nrules_fp++];
			memset(r, 0, sizeof(*r));
			r->rule_id = strdup(inc->rule_id);
			r->rule_title = strdup(inc->rule_title);
			if (r->rule_id == NULL || r->rule_title == NULL)
				return LW_ENOMEM;
		}
		r->closed++;
		r->false_positives += (uint64_t)inc->false_positive;
	}
	return LW_OK;
}

struct audit_walk {
	struct lw_facts *f;
	int oom;
};

static int on_audit(const struct lw_audit_view *v, void *arg)
{
	struct audit_walk *w = arg;
	struct lw_facts *f = w->f;
	struct lw_facts_audit *a;

	if (v->time_ns >= f->opts.to_ns)
		return 0;
	f->audit_total++;
	if (f->naudit == LW_FACTS_MAX_AUDIT)
		return 0;
	a = &f->audit[f->naudit++];
	a->time_ns = v->time_ns;
	a->status = v->status;
	a->actor = dup_str(v->actor, &w->oom);
	a->address = dup_str(v->address, &w->oom);
	a->action = dup_str(v->action, &w->oom);
	a->target = dup_str(v->target, &w->oom);
	a->detail = dup_str(v->detail, &w->oom);
	return w->oom ? LW_ENOMEM : 0;
}

static int read_records(struct lw_store *st, struct lw_facts *f, struct lw_diag *diag)
{
	struct lw_incidents_filter filt = {.status_mask = LW_INCIDENTS_MASK_ALL};
	struct inc_walk iw = {.f = f};
	struct audit_walk aw = {.f = f};
	struct lw_store_reader *rd = NULL;
	struct lw_buf snap;
	int rc;

	lw_buf_init(&snap);
	f->audit = calloc(LW_FACTS_MAX_AUDIT, sizeof(*f->audit));
	if (f->audit == NULL)
		return LW_ENOMEM;
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc == LW_OK)
		rc = lw_store_reader_head(rd, &f->head, diag);
	if (rc == LW_OK)
		rc = lw_store_reader_counters(rd, &snap, diag);
	if (rc == LW_OK)
		read_counters(f, &snap);
	if (rc == LW_OK)
		rc = lw_incidents_list(rd, &filt, on_incident, &iw, NULL, diag);
	if (rc == LW_OK)
		rc = rules_fp(f);
	if (rc == LW_OK)
		rc = lw_audit_list(rd, 0, f->opts.from_ns, 0, on_audit, &aw, NULL, diag);
	lw_store_reader_close(rd);
	lw_buf_release(&snap);
	return rc;
}

int lw_facts_read(struct lw_store *st, const struct lw_facts_opts *o,
		  struct lw_facts **out, struct lw_diag *diag)
{
	struct lw_verify_opts vo = {.key = o->key, .key_file = o->key_file};
	struct lw_facts *f;
	int rc;

	*out = NULL;
	if (o->from_ns >= o->to_ns)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "the period ends before it starts");
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return LW_ENOMEM;
	f->opts = *o;
	rc = read_events(st, f, diag);
	if (rc == LW_OK)
		rc = read_records(st, f, diag);
	if (rc == LW_OK) {
		f->verify_rc = lw_verify_run(st, &vo, &f->verify, diag);
		if (f->verify_rc != LW_OK && f->verify_rc != LW_ECORRUPT)
			rc = f->verify_rc;
	}
	if (rc != LW_OK) {
		lw_facts_free(f);
		return rc;
	}
	*out = f;
	return LW_OK;
}

void lw_facts_free(struct lw_facts *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nzones; i++)
		free(f->zones[i]);
	free(f->zone_days);
	for (size_t i = 0; i < f->nsources; i++) {
		free(f->sources[i].host);
		free(f->sources[i].gaps);
		free(f->sources[i].runs);
		free(f->sources[i].pts);
	}
	free(f->sources);
	for (size_t i = 0; i < f->nincidents; i++) {
		struct lw_facts_incident *inc = &f->incidents[i];

		free(inc->rule_id);
		free(inc->rule_title);
		free(inc->category);
		free(inc->level);
		free(inc->status);
		free(inc->group);
	}
	free(f->incidents);
	for (size_t i = 0; i < f->nrules_fp; i++) {
		free(f->rules_fp[i].rule_id);
		free(f->rules_fp[i].rule_title);
	}
	free(f->rules_fp);
	for (size_t i = 0; i < f->naudit; i++) {
		free(f->audit[i].actor);
		free(f->audit[i].address);
		free(f->audit[i].action);
		free(f->audit[i].target);
		free(f->audit[i].detail);
	}
	free(f->audit);
	free(f);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int64_t lw_facts_percentile(int64_t *v, size_t n, unsigned p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	rank = ((size_t)p * n + 99) / 100; /* nearest rank: ceil(p/100 * n) */
	return v[rank == 0 ? 0 : rank - 1];
}
