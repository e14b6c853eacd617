/* Daemon counters (prefix lw_counters): every loss or refusal is counted,
 * never silent. Incremented from any thread with relaxed atomics, read by
 * the writer when it commits a segment (the snapshot is stored in the same
 * LMDB transaction, so `logward stats` shows the counters as of the last
 * commit). */
#ifndef LW_CORE_COUNTERS_H
#define LW_CORE_COUNTERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum lw_counter {
	LW_CTR_RECEIVED,        /* messages framed from any input */
	LW_CTR_BYTES_RECEIVED,
	LW_CTR_PARSED,          /* parsed as RFC 5424 or RFC 3164 */
	LW_CTR_MALFORMED,       /* stored whole with the parse-error flag */
	LW_CTR_TRUNCATED,       /* cut at max_message_bytes */
	LW_CTR_DROPPED_UDP,     /* datagrams dropped because the queue was full */
	LW_CTR_STORED,          /* events committed to LMDB */
	LW_CTR_CLOCK_SKEW,      /* events flagged for clock skew */
	LW_CTR_CONN_ACCEPTED,
	LW_CTR_CONN_REFUSED,    /* over max_connections or outside allow */
	LW_CTR_CONN_IDLE_CLOSED,
	LW_CTR_FRAMING_ERRORS,  /* bad octet counts, frames cut by a disconnect */
	LW_CTR_BACKPRESSURE,    /* times stream reads were paused for a full queue */
	LW_CTR_SEGMENTS,        /* segments committed */
	LW_CTR_INCIDENTS_RAISED,  /* incidents created (committed) */
	LW_CTR_INCIDENTS_UPDATED, /* firings merged into an open incident */
	LW_CTR_INCIDENTS_DROPPED, /* firings lost: pending list and overflow full */
	LW_CTR_NOTIFY_SENT,     /* notifications delivered (per output) */
	LW_CTR_NOTIFY_FAILED,   /* delivery attempts that failed (exit != 0, timeout, I/O) */
	LW_CTR_NOTIFY_RETRIED,  /* attempts that were retries */
	LW_CTR_NOTIFY_DROPPED,  /* notifications dropped: queue full or attempts exhausted */
	LW_CTR_DROPPED_STORE,   /* events the segment builder refused (memory, 1 GiB segment cap) */
	LW_CTR_DROPPED_KERNEL,  /* datagrams the kernel dropped (receive buffer full): SO_RXQ_OVFL */
	LW_CTR_DROPPED_NOMEM,   /* frames read but lost: the batch arena could not grow */
	LW_CTR_REFUSED_ALLOW,   /* connections closed at accept / datagrams dropped: sender outside allow */
	LW_CTR_REFUSED_MAX_CONN, /* connections closed at accept: over max_connections */
	LW_CTR_RATE_DROPPED,    /* datagrams dropped: their source was over its rate limit */
	LW_CTR_RATE_PAUSED,     /* times a connection stopped reading: its source was over its rate limit */
	LW_CTR_FRAME_TIMEOUT,   /* connections closed: a frame stayed incomplete past frame_timeout */
	LW_CTR_TLS_HANDSHAKE_FAILED,  /* TLS handshakes refused: protocol error, no or bad client certificate */
	LW_CTR_TLS_HANDSHAKE_TIMEOUT, /* TLS handshakes not finished within handshake_timeout */
	LW_CTR_REFUSED_MAX_CONN_SOURCE, /* connections closed at accept: their address had max_connections_per_source */
	LW_CTR_METRICS_IDLE_CLOSED, /* metrics connections closed before a complete request: head timeout, or slot needed */
	LW_CTR_RATE_LISTENER_DROPPED, /* datagrams dropped: the listener was over rate_limit.listener_events_per_second */
	LW_CTR_REGEX_LIMIT_HITS, /* rule regex matches stopped by the match limit (treated as no match) */
	LW_CTR_DECODER_SESSIONS_EVICTED, /* live decoder join sessions replaced: table bucket full */
	LW_CTR_FORWARDED,       /* edge: events published to the stream (resends included) */
	LW_CTR_FORWARD_ACKED,   /* edge: events the stream acknowledged (the cursor moved over them) */
	LW_CTR_FORWARD_FAILED,  /* edge: publishes that failed or timed out */
	LW_CTR_FORWARD_RESENDS, /* edge: times it resent from the cursor after a failure */
	LW_CTR_FORWARD_RECONNECTS, /* edge: reconnections to a NATS server */
	LW_CTR_DROPPED_FORWARD, /* edge: events not forwarded: retention (max_bytes) deleted them first, or one alone passes the max payload */
	LW_CTR_NATS_CONSUMED,   /* central: stream messages taken (redeliveries included) */
	LW_CTR_NATS_EVENTS,     /* central: events from the stream handed to the writer */
	LW_CTR_NATS_REDELIVERED, /* central: messages the stream delivered more than once */
	LW_CTR_NATS_DUPLICATES, /* central: events dropped because their origin seq was already stored */
	LW_CTR_NATS_REJECTED,   /* central: messages that are not an edge's events (bad headers or payload) */
	LW_CTR_DROPPED_ORIGIN_GAP, /* central: origin seqs never delivered (an edge's loss), given up after redeliveries */
	LW_CTR_NOTIFY_CLAIMED_ELSEWHERE, /* central: new incidents another central node claimed and notified */
	LW_CTR_NOTIFY_UNCLAIMED, /* central: notifications sent without a claim (the servers did not answer) */
	LW_CTR__COUNT
};

/* Counters of one family told apart by a label ("regex_limit_hits" per
 * rule). Stored as "FAMILY.LABEL", LABEL of [A-Za-z0-9_.:-] only. */
#define LW_COUNTERS_LABELLED_MAX 128
#define LW_COUNTERS_LABELLED_NAME 96

/* The one family so far: match-limit hits per rule (label: the decoder's
 * name, or the Sigma rule's name, else its id). */
#define LW_COUNTERS_FAMILY_REGEX_LIMIT "regex_limit_hits"

struct lw_counters_labelled {
	char name[LW_COUNTERS_LABELLED_NAME]; /* "regex_limit_hits.kernel-firewall-log" */
	_Atomic uint64_t v;
};

struct lw_counters {
	_Atomic uint64_t v[LW_CTR__COUNT];
	/* Labelled counters: entries are added by one thread at a time (the
	 * writer; lw_counters_merge before any thread starts), published by
	 * nlabelled (release); read from any thread. When the table is full
	 * a new label is counted under "FAMILY.other". */
	_Atomic uint32_t nlabelled;
	struct lw_counters_labelled labelled[LW_COUNTERS_LABELLED_MAX];
};

/* Stable snake_case name used in stats output and in the stored snapshot. */
const char *lw_counter_name(enum lw_counter id);

static inline void lw_counters_add(struct lw_counters *c, enum lw_counter id,
				   uint64_t n)
{
	atomic_fetch_add_explicit(&c->v[id], n, memory_order_relaxed);
}

static inline uint64_t lw_counters_get(const struct lw_counters *c,
				       enum lw_counter id)
{
	return atomic_load_explicit(&c->v[id], memory_order_relaxed);
}

/* One sentence for people (metrics HELP lines, docs/observability.md);
 * a generic sentence for a counter that has no help line yet, so a new
 * counter is exported by its name line alone. */
const char *lw_counter_help(enum lw_counter id);
/* 1 for counters of lost data: a name starting "dropped_" or ending
 * "_dropped". The loss watcher (collector/health.h) watches exactly
 * these, so a new drop counter is watched by being named that way. */
int lw_counter_is_loss(enum lw_counter id);

void lw_counters_init(struct lw_counters *c);

/* Adds n to FAMILY.LABEL (family one of LW_COUNTERS_FAMILY_*; label
 * bytes outside [A-Za-z0-9_.:-] become '_'). One thread at a time (see
 * struct lw_counters). */
void lw_counters_add_labelled(struct lw_counters *c, const char *family,
			      const char *label, uint64_t n);
/* Appends "name=value\n" lines, then "FAMILY.LABEL=value\n" for the
 * labelled ones: the stored snapshot format (text, so a counter added
 * later does not break an older store). */
void lw_counters_serialize(const struct lw_counters *c, struct lw_buf *out);
/* Adds the values of a snapshot made by lw_counters_serialize to c
 * (unknown names are ignored, labelled ones of a known family added):
 * a restarted daemon continues its totals. */
void lw_counters_merge(struct lw_counters *c, const char *snapshot, size_t len);

#endif
