/* An incident as the correlator raises it (prefix lw_incident): the
 * contract between the correlator (which fires) and the store (which keeps
 * incidents in the same LMDB transaction as the segment holding the events
 * that raised them).
 *
 * Identity is (rule id, group). While an incident with the same identity is
 * open or acknowledged in the store, a new firing updates it (count,
 * last_seen, evidence) instead of opening another one. The store resolves
 * that inside the commit transaction, so an operator's ack/close from
 * another process takes effect at the next commit.
 *
 * Evidence refers to stored events by their event sequence number: the
 * n-th event ever committed to the store has seq n (0-based), so a seq
 * stays valid whatever segment the event lands in. The pipeline knows the
 * seq of each event before commit (events already stored + position in the
 * segment being built). */
#ifndef LW_CORRELATOR_INCIDENT_H
#define LW_CORRELATOR_INCIDENT_H

#include <stdint.h>

struct lw_sigma_rule_info;

#define LW_INCIDENT_MAX_EVIDENCE 32

enum lw_incident_status {
	LW_INCIDENT_OPEN = 0,
	LW_INCIDENT_ACKNOWLEDGED = 1,
	LW_INCIDENT_CLOSED = 2
};

struct lw_incident_fire {
	const struct lw_sigma_rule_info *rule; /* borrowed from the ruleset: id, title, level, category */
	const char *response_json;   /* borrowed: {"steps":[...],"notify":[...]} of the rule's category */
	char group[512];             /* canonical JSON object of the group-by values, "{}" if none */
	char host[256];              /* host.name when exactly one host is involved, else "" */
	char zone[64];               /* labels.zone of the events, "" when they differ */
	int64_t first_seen_ns;       /* event time of the first contributing event */
	int64_t last_seen_ns;        /* event time of the last contributing event */
	uint64_t count;              /* contributing events */
	uint32_t nevidence;
	uint64_t evidence[LW_INCIDENT_MAX_EVIDENCE]; /* event seqs, oldest first; the most recent kept */
};

#endif
