/* Pages of incidents for the HTTP API (prefix lw_incpage): newest first
 * (or oldest first, or by last_seen), from the status and time indexes,
 * stopping after `limit` kept incidents, with a cursor for the next page.
 * The first page of 100,000 open incidents costs `limit` record decodes
 * (plus those a filter rejects), not a sort of all of them, which is
 * what lw_incidents_list does for the CLI.
 *
 * Threads: a store reader's thread. */
#ifndef LW_STORE_INCPAGE_H
#define LW_STORE_INCPAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/incidents.h"

enum lw_incpage_order {
	LW_INCPAGE_NEWEST = 0,  /* id, highest first */
	LW_INCPAGE_OLDEST,      /* id, lowest first */
	LW_INCPAGE_LAST_SEEN    /* last_seen, latest first (ties: highest id) */
};

/* Where a page ended: the next page starts after it. */
struct lw_incpage_cursor {
	int set;
	uint64_t id;
	int64_t last_seen_ns;   /* LW_INCPAGE_LAST_SEEN only */
};

struct lw_incpage_req {
	unsigned status_mask;   /* enum lw_incidents_status_mask; 0 = open + acknowledged */
	enum lw_incpage_order order;
	struct lw_incpage_cursor after; /* unset = from the start */
	uint32_t limit;         /* > 0 */
	/* Filter: 1 keeps the incident. NULL keeps every one. */
	int (*keep)(const struct lw_incident_view *v, void *arg);
	void *keep_arg;
};

/* Calls cb for each kept incident in order (v valid during the call;
 * non-zero stops and is returned). When the page filled up, *next is
 * the cursor of its last incident (else next->set = 0: no more).
 * *scanned (may be NULL) counts the records decoded. Records that do not
 * decode are skipped. LW_OK, cb's value, LW_ESTORE, LW_ENOMEM. */
int lw_incpage_walk(struct lw_store_reader *rd, const struct lw_incpage_req *req,
		    int (*cb)(const struct lw_incident_view *v, void *arg), void *arg,
		    struct lw_incpage_cursor *next, uint64_t *scanned,
		    struct lw_diag *diag);

/* Evidence seq -> the stored event, decoding each segment once for a run
 * of seqs in the same segment. Set rd and dec (a decoder the caller
 * owns); the rest starts zeroed. */
struct lw_segment_decoder;
struct lw_incpage_evidence {
	struct lw_store_reader *rd;
	struct lw_segment_decoder *dec;
	uint64_t seg;              /* decoded segment id, 0 = none */
	const struct lw_event *events;
	uint32_t nevents;
};

/* The event with seq, valid until the next call; NULL when it is no
 * longer stored (retention) or cannot be read. */
const struct lw_event *lw_incpage_evidence_event(struct lw_incpage_evidence *e,
						 uint64_t seq);

#endif
