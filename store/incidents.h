/* Stored incidents (prefix lw_incidents): the record format, its JSON and
 * text rendering, reads for `logward incidents`, and the operator's status
 * changes. Incidents are created and updated by lw_store_commit_ex, in the
 * same LMDB write transaction as the segment holding their events.
 * Layout and record format: docs/incidents.md.
 *
 * The store knows nothing of rules (docs/architecture.md: store/ uses only core/), so
 * the correlator's struct lw_incident_fire (correlator/incident.h) reaches
 * the store as the plain-string struct lw_incidents_raise; the pipeline
 * converts one into the other.
 *
 * Threads: reads take a store reader (any thread or process); status
 * changes run one short write txn in the calling thread. */
#ifndef LW_STORE_INCIDENTS_H
#define LW_STORE_INCIDENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/related.h"

struct lw_store;
struct lw_store_reader;

/* Same values as enum lw_incident_status (correlator/incident.h). */
enum lw_incidents_status {
	LW_INCIDENTS_OPEN = 0,
	LW_INCIDENTS_ACKNOWLEDGED = 1,
	LW_INCIDENTS_CLOSED = 2
};

enum lw_incidents_status_mask {
	LW_INCIDENTS_MASK_OPEN = 1u << LW_INCIDENTS_OPEN,
	LW_INCIDENTS_MASK_ACK = 1u << LW_INCIDENTS_ACKNOWLEDGED,
	LW_INCIDENTS_MASK_CLOSED = 1u << LW_INCIDENTS_CLOSED,
	LW_INCIDENTS_MASK_ALL = 7u
};

/* Ceilings of one record; what does not fit is cut (strings) or the
 * oldest is dropped (evidence: the most recent are kept; history: the
 * creation entry and the most recent changes are kept). */
#define LW_INCIDENTS_MAX_EVIDENCE 64
#define LW_INCIDENTS_MAX_HISTORY 32
#define LW_INCIDENTS_MAX_ACTOR 128
#define LW_INCIDENTS_MAX_NOTE 1024
#define LW_INCIDENTS_MAX_TEXT 16384 /* group, response */

/* One firing, as lw_store_commit_ex takes it. Strings are NUL-terminated
 * and borrowed for the call; NULL means "". group and response are JSON
 * object texts ("{}" when empty); evidence holds event seqs, oldest first. */
struct lw_incidents_raise {
	const char *rule_id, *rule_title, *rule_level;
	const char *category, *level;
	const char *response;  /* {"steps":[...],"notify":[...]} */
	const char *group;     /* {"source.ip":"203.0.113.50"} */
	const char *host;      /* "" when several hosts are involved */
	const char *zone;      /* "" when the events' zones differ */
	int64_t first_seen_ns, last_seen_ns;
	uint64_t count;
	uint32_t nevidence;
	const uint64_t *evidence;
	/* related.ip/user/hosts of the events behind this firing (merged
	 * with the incident's on update); NULL: none known */
	const struct lw_related_set *related;
};

struct lw_incidents_history {
	int64_t time_ns;
	enum lw_incidents_status status;
	struct lw_str actor, note;
};

/* A decoded record: every string is a view into the bytes it was decoded
 * from (an LMDB value: valid until the reader's next call). */
struct lw_incident_view {
	uint64_t id;
	enum lw_incidents_status status;
	struct lw_str rule_id, rule_title, rule_level, category, level;
	struct lw_str zone, group, host, response;
	int64_t first_seen_ns, last_seen_ns;
	uint64_t count;
	uint32_t nhistory;
	struct lw_incidents_history history[LW_INCIDENTS_MAX_HISTORY];
	uint32_t nevidence;
	const uint8_t *evidence; /* nevidence x u64 LE; see lw_incident_evidence */
	/* related.ip/user/hosts (enum lw_related_kind): the values kept and
	 * each list's sketch (NULL in a version 1 record: nothing known) */
	uint32_t nrelated[LW_RELATED_KINDS];
	struct lw_str related[LW_RELATED_KINDS][LW_RELATED_MAX];
	const uint8_t *related_sketch[LW_RELATED_KINDS];
};

/* Parses and checks a stored record (magic, version, checksum, every
 * length). LW_OK or LW_ECORRUPT; never reads outside [rec, rec+len). */
int lw_incidents_decode(const void *rec, size_t len, struct lw_incident_view *out);
/* Encodes v (its views may point anywhere, but not into out) as a record
 * appended to out. Strings over their ceilings are cut. */
void lw_incidents_encode(const struct lw_incident_view *v, struct lw_buf *out);
/* Evidence seq i (< v->nevidence). */
uint64_t lw_incident_evidence(const struct lw_incident_view *v, uint32_t i);
/* Estimated distinct values of related list k beyond those kept. */
uint64_t lw_incident_related_more(const struct lw_incident_view *v,
				  enum lw_related_kind k);
/* 1 when the incident involves value (exactly): a group value, the host,
 * the zone, or a related.ip/user/hosts value. */
int lw_incidents_involves(const struct lw_incident_view *v, const char *value);

const char *lw_incidents_status_name(enum lw_incidents_status s);
/* "open", "acknowledged" (or "ack"), "closed"; -1 otherwise. */
int lw_incidents_status_parse(const char *s);

/* Appends the incident as one JSON object (no newline), the shape of
 * docs/incidents.md: id, rule{id,title,level}, category, level, status,
 * zone, group, host (when not empty), related{ip,user,hosts},
 * related_more{ip,user,hosts}, first_seen, last_seen, count,
 * response{steps,notify}, history[{time,status,actor,note}]. A group or
 * response that is not a JSON object is rendered as {} / the empty plan. */
void lw_incidents_to_json(const struct lw_incident_view *v, struct lw_buf *out);
/* 1 when s is one JSON object (whitespace around it allowed), the check
 * lw_incidents_to_json makes before it copies a group or response. */
int lw_incidents_json_object_ok(struct lw_str s);

/* Appends one text line (no newline):
 * "#12 open high unauthorized-access 'SSH brute force' x14 2026-... host=... group=..." */
void lw_incidents_to_text(const struct lw_incident_view *v, struct lw_buf *out);

/* Filter for lw_incidents_list; zero members mean "no condition" except
 * status_mask (0 = open + acknowledged). Strings are borrowed. */
struct lw_incidents_filter {
	unsigned status_mask;  /* enum lw_incidents_status_mask */
	int64_t since_ns;      /* last_seen >= since; 0 = no bound */
	const char *category;
	const char *level;
	const char *related;   /* lw_incidents_involves */
};

/* Called per incident, oldest id first; v is valid during the call.
 * Non-zero stops the walk and is returned. */
typedef int (*lw_incidents_cb)(const struct lw_incident_view *v, void *arg);

/* Walks the incidents that pass f in the reader's snapshot. A record that
 * does not decode is skipped and counted in *corrupt (may be NULL).
 * LW_OK, the callback's value, LW_ESTORE. */
int lw_incidents_list(struct lw_store_reader *rd,
		      const struct lw_incidents_filter *f, lw_incidents_cb cb,
		      void *arg, uint64_t *corrupt, struct lw_diag *diag);
/* One incident by id: LW_OK, LW_ENOTFOUND, LW_ECORRUPT, LW_ESTORE. */
int lw_incidents_get(struct lw_store_reader *rd, uint64_t id,
		     struct lw_incident_view *out, struct lw_diag *diag);

/* The operator's change: moves incident id to status to (acknowledged or
 * closed) with a history entry (now_ns, actor, note; note may be NULL),
 * in one short write txn. A closed incident leaves the identity index, so
 * the next firing of its rule and group opens a new incident. If json is
 * not NULL the updated incident is rendered into it (reset first).
 * Errors: LW_ENOTFOUND, LW_EINVAL (already in that status, reopening a
 * closed incident, or to == open; diag says which), LW_ECORRUPT,
 * LW_ESTORE, LW_EFULL. */
int lw_incidents_set_status(struct lw_store *st, uint64_t id,
			    enum lw_incidents_status to, const char *actor,
			    const char *note, int64_t now_ns, struct lw_buf *json,
			    struct lw_diag *diag);

#endif
