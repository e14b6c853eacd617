/* lw_counters: names and the text snapshot format. */
#include "core/counters.h"

#include <stdlib.h>
#include <string.h>

static const char *const counter_names[LW_CTR__COUNT] = {
	[LW_CTR_RECEIVED] = "received",
	[LW_CTR_BYTES_RECEIVED] = "bytes_received",
	[LW_CTR_PARSED] = "parsed",
	[LW_CTR_MALFORMED] = "malformed",
	[LW_CTR_TRUNCATED] = "truncated",
	[LW_CTR_DROPPED_UDP] = "dropped_udp",
	[LW_CTR_STORED] = "stored",
	[LW_CTR_CLOCK_SKEW] = "clock_skew",
	[LW_CTR_CONN_ACCEPTED] = "connections_accepted",
	[LW_CTR_CONN_REFUSED] = "connections_refused",
	[LW_CTR_CONN_IDLE_CLOSED] = "connections_idle_closed",
	[LW_CTR_FRAMING_ERRORS] = "framing_errors",
	[LW_CTR_BACKPRESSURE] = "backpressure_pauses",
	[LW_CTR_SEGMENTS] = "segments",
	[LW_CTR_INCIDENTS_RAISED] = "incidents_raised",
	[LW_CTR_INCIDENTS_UPDATED] = "incidents_updated",
	[LW_CTR_INCIDENTS_DROPPED] = "incidents_dropped",
	[LW_CTR_NOTIFY_SENT] = "notify_sent",
	[LW_CTR_NOTIFY_FAILED] = "notify_failed",
	[LW_CTR_NOTIFY_RETRIED] = "notify_retried",
	[LW_CTR_NOTIFY_DROPPED] = "notify_dropped",
	[LW_CTR_DROPPED_STORE] = "dropped_store",
	[LW_CTR_DROPPED_KERNEL] = "dropped_kernel",
	[LW_CTR_DROPPED_NOMEM] = "dropped_nomem",
	[LW_CTR_REFUSED_ALLOW] = "refused_not_allowed",
	[LW_CTR_REFUSED_MAX_CONN] = "refused_max_connections",
	[LW_CTR_RATE_DROPPED] = "rate_limited_dropped",
	[LW_CTR_RATE_PAUSED] = "rate_limited_paused",
	[LW_CTR_FRAME_TIMEOUT] = "frame_timeouts",
	[LW_CTR_TLS_HANDSHAKE_FAILED] = "tls_handshake_failed",
	[LW_CTR_TLS_HANDSHAKE_TIMEOUT] = "tls_handshake_timeouts",
	[LW_CTR_REFUSED_MAX_CONN_SOURCE] = "refused_max_connections_per_source",
	[LW_CTR_METRICS_IDLE_CLOSED] = "metrics_idle_closed",
	[LW_CTR_RATE_LISTENER_DROPPED] = "rate_limited_listener_dropped",
	[LW_CTR_REGEX_LIMIT_HITS] = "regex_limit_hits",
	[LW_CTR_DECODER_SESSIONS_EVICTED] = "decoder_sessions_evicted",
	[LW_CTR_FORWARDED] = "forwarded",
	[LW_CTR_FORWARD_ACKED] = "forward_acked",
	[LW_CTR_FORWARD_FAILED] = "forward_failed",
	[LW_CTR_FORWARD_RESENDS] = "forward_resends",
	[LW_CTR_FORWARD_RECONNECTS] = "forward_reconnects",
	[LW_CTR_DROPPED_FORWARD] = "dropped_forward",
	[LW_CTR_NATS_CONSUMED] = "nats_consumed",
	[LW_CTR_NATS_EVENTS] = "nats_events",
	[LW_CTR_NATS_REDELIVERED] = "nats_redelivered",
	[LW_CTR_NATS_DUPLICATES] = "nats_duplicates",
	[LW_CTR_NATS_REJECTED] = "nats_rejected",
	[LW_CTR_DROPPED_ORIGIN_GAP] = "dropped_origin_gap",
	[LW_CTR_NOTIFY_CLAIMED_ELSEWHERE] = "notify_claimed_elsewhere",
	[LW_CTR_NOTIFY_UNCLAIMED] = "notify_unclaimed",
};

static const char *const counter_help[LW_CTR__COUNT] = {
	[LW_CTR_RECEIVED] = "Messages framed from any input.",
	[LW_CTR_BYTES_RECEIVED] = "Bytes of the messages framed from any input.",
	[LW_CTR_PARSED] = "Messages parsed as RFC 5424 or RFC 3164.",
	[LW_CTR_MALFORMED] = "Messages stored whole with the parse-error flag.",
	[LW_CTR_TRUNCATED] = "Messages cut at max_message_size.",
	[LW_CTR_DROPPED_UDP] = "Datagrams dropped because every batch was in flight.",
	[LW_CTR_STORED] = "Events committed to the store.",
	[LW_CTR_CLOCK_SKEW] = "Events whose timestamp was off the receive time by more than max_clock_skew.",
	[LW_CTR_CONN_ACCEPTED] = "Stream connections accepted.",
	[LW_CTR_CONN_REFUSED] = "Stream connections refused (max_connections or allow).",
	[LW_CTR_CONN_IDLE_CLOSED] = "Stream connections closed after idle_timeout.",
	[LW_CTR_FRAMING_ERRORS] = "Bad octet counts and frames cut by a disconnect.",
	[LW_CTR_BACKPRESSURE] = "Times stream reads were paused because every batch was in flight.",
	[LW_CTR_SEGMENTS] = "Segments committed.",
	[LW_CTR_INCIDENTS_RAISED] = "Incidents created.",
	[LW_CTR_INCIDENTS_UPDATED] = "Firings merged into an open incident.",
	[LW_CTR_INCIDENTS_DROPPED] = "Firings lost because the pending list and its overflow were full.",
	[LW_CTR_NOTIFY_SENT] = "Notifications delivered (per output).",
	[LW_CTR_NOTIFY_FAILED] = "Notification attempts that failed.",
	[LW_CTR_NOTIFY_RETRIED] = "Notification attempts that were retries.",
	[LW_CTR_NOTIFY_DROPPED] = "Notifications dropped: queue full or attempts exhausted.",
	[LW_CTR_DROPPED_STORE] = "Events the segment builder refused or that could not be stored at stop.",
	[LW_CTR_DROPPED_KERNEL] = "Datagrams the kernel dropped because the receive buffer was full.",
	[LW_CTR_DROPPED_NOMEM] = "Frames read but lost because the batch arena could not grow.",
	[LW_CTR_REFUSED_ALLOW] = "Connections closed at accept and datagrams dropped: sender outside allow.",
	[LW_CTR_REFUSED_MAX_CONN] = "Connections closed at accept: over max_connections.",
	[LW_CTR_RATE_DROPPED] = "Datagrams dropped by the per-source rate limit.",
	[LW_CTR_RATE_PAUSED] = "Times a stream connection was paused by the per-source rate limit.",
	[LW_CTR_FRAME_TIMEOUT] = "Frames left incomplete for frame_timeout: cut, flagged, connection closed.",
	[LW_CTR_TLS_HANDSHAKE_FAILED] = "TLS handshakes that failed (no or bad client certificate, protocol).",
	[LW_CTR_TLS_HANDSHAKE_TIMEOUT] = "TLS handshakes not finished within handshake_timeout.",
	[LW_CTR_REFUSED_MAX_CONN_SOURCE] = "Connections closed at accept: their address had max_connections_per_source.",
	[LW_CTR_METRICS_IDLE_CLOSED] = "Metrics endpoint connections closed before sending a complete request (head timeout, or the slot was needed).",
	[LW_CTR_RATE_LISTENER_DROPPED] = "Datagrams dropped by a listener's overall budget (rate_limit.listener_events_per_second).",
	[LW_CTR_REGEX_LIMIT_HITS] = "Rule pattern matches stopped by the pcre2 match limit and taken as no match (per rule: lw_rule_regex_limit_hits_total).",
	[LW_CTR_DECODER_SESSIONS_EVICTED] = "Sessions the decoders' join table replaced while alive (its bucket was full): later lines of those sessions lack the joined fields.",
	[LW_CTR_FORWARDED] = "Events an edge published to the JetStream stream, resends included.",
	[LW_CTR_FORWARD_ACKED] = "Events the JetStream stream acknowledged to this edge: its forwarding cursor moved over them.",
	[LW_CTR_FORWARD_FAILED] = "Publishes to the stream that failed or were not acknowledged in forward.ack_timeout (resent from the cursor).",
	[LW_CTR_FORWARD_RESENDS] = "Times the edge resent from its cursor after a failed publish.",
	[LW_CTR_FORWARD_RECONNECTS] = "Reconnections of the edge to a NATS server.",
	[LW_CTR_NATS_CONSUMED] = "Messages a central node took from the stream, redeliveries included.",
	[LW_CTR_NATS_EVENTS] = "Events a central node took from the stream and handed to its writer.",
	[LW_CTR_NATS_REDELIVERED] = "Messages the stream delivered to this central node more than once (not acknowledged in ack_wait, or refused out of order).",
	[LW_CTR_NATS_DUPLICATES] = "Events a central node dropped because their (origin node, origin seq) was already stored.",
	[LW_CTR_NATS_REJECTED] = "Stream messages that are not an edge's events (missing Logward-Node, bad payload): acknowledged and dropped.",
	[LW_CTR_DROPPED_ORIGIN_GAP] = "Origin seqs a central node never received and stopped waiting for after repeated redeliveries (an edge lost them).",
	[LW_CTR_NOTIFY_CLAIMED_ELSEWHERE] = "New incidents whose notification another central node claimed (and sent): not sent here.",
	[LW_CTR_NOTIFY_UNCLAIMED] = "Notifications sent without a claim because the NATS servers did not answer: another central node may have sent them too.",
	[LW_CTR_DROPPED_FORWARD] = "Events an edge could not forward: deleted by retention (storage.max_bytes, the disk would fill) before the stream acknowledged them, or larger alone than the servers' max payload.",
};

const char *lw_counter_name(enum lw_counter id)
{
	if ((unsigned)id >= LW_CTR__COUNT)
		return "?";
	return counter_names[id];
}

const char *lw_counter_help(enum lw_counter id)
{
	if ((unsigned)id >= LW_CTR__COUNT || counter_help[id] == NULL)
		return "A logward counter (see docs/observability.md).";
	return counter_help[id];
}

int lw_counter_is_loss(enum lw_counter id)
{
	const char *n = lw_counter_name(id);
	size_t len = strlen(n);

	return strncmp(n, "dropped_", 8) == 0 ||
	       (len > 8 && strcmp(n + len - 8, "_dropped") == 0);
}

void lw_counters_init(struct lw_counters *c)
{
	for (int i = 0; i < LW_CTR__COUNT; i++)
		atomic_init(&c->v[i], 0);
	atomic_init(&c->nlabelled, 0);
	for (int i = 0; i < LW_COUNTERS_LABELLED_MAX; i++) {
		c->labelled[i].name[0] = '\0';
		atomic_init(&c->labelled[i].v, 0);
	}
}

void lw_counters_add_labelled(struct lw_counters *c, const char *family,
			      const char *label, uint64_t n)
{
	uint32_t k = atomic_load_explicit(&c->nlabelled, memory_order_acquire);
	char name[LW_COUNTERS_LABELLED_NAME];
	size_t fl = strlen(family), i;

	if (fl + 2 >= sizeof(name))
		return;
	memcpy(name, family, fl);
	name[fl] = '.';
	for (i = 0; label[i] != '\0' && fl + 1 + i + 1 < sizeof(name); i++) {
		char ch = label[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || strchr("_.:-", ch) != NULL;

		name[fl + 1 + i] = ok ? ch : '_';
	}
	name[fl + 1 + i] = '\0';
	for (uint32_t j = 0; j < k; j++) {
		if (strcmp(c->labelled[j].name, name) == 0) {
			atomic_fetch_add_explicit(&c->labelled[j].v, n, memory_order_relaxed);
			return;
		}
	}
	if (k == LW_COUNTERS_LABELLED_MAX - 1 && strcmp(label, "other") != 0) {
		lw_counters_add_labelled(c, family, "other", n);
		return;
	}
	if (k == LW_COUNTERS_LABELLED_MAX)
		return;
	memcpy(c->labelled[k].name, name, strlen(name) + 1);
	atomic_store_explicit(&c->labelled[k].v, n, memory_order_relaxed);
	atomic_store_explicit(&c->nlabelled, k + 1, memory_order_release);
}

void lw_counters_serialize(const struct lw_counters *c, struct lw_buf *out)
{
	uint32_t k = atomic_load_explicit(&c->nlabelled, memory_order_acquire);

	for (int i = 0; i < LW_CTR__COUNT; i++)
		lw_buf_printf(out, "%s=%llu\n", counter_names[i],
			      (unsigned long long)lw_counters_get(c, (enum lw_counter)i));
	for (uint32_t j = 0; j < k; j++)
		lw_buf_printf(out, "%s=%llu\n", c->labelled[j].name,
			      (unsigned long long)atomic_load_explicit(&c->labelled[j].v,
								       memory_order_relaxed));
}

void lw_counters_merge(struct lw_counters *c, const char *snapshot, size_t len)
{
	const char *p = snapshot, *end = snapshot + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq = memchr(p, '=', (size_t)((nl ? nl : end) - p));
		const char *line_end = nl ? nl : end;

		if (eq != NULL) {
			size_t klen = (size_t)(eq - p);
			uint64_t v = 0;
			for (const char *d = eq + 1; d < line_end && *d >= '0' && *d <= '9'; d++)
				v = v * 10 + (uint64_t)(*d - '0');
			static const char fam[] = LW_COUNTERS_FAMILY_REGEX_LIMIT ".";

			for (int i = 0; i < LW_CTR__COUNT; i++) {
				if (strlen(counter_names[i]) == klen &&
				    memcmp(counter_names[i], p, klen) == 0) {
					lw_counters_add(c, (enum lw_counter)i, v);
					break;
				}
			}
			if (klen > sizeof(fam) - 1 && klen < LW_COUNTERS_LABELLED_NAME &&
			    memcmp(p, fam, sizeof(fam) - 1) == 0) {
				char label[LW_COUNTERS_LABELLED_NAME];

				memcpy(label, p + sizeof(fam) - 1, klen - (sizeof(fam) - 1));
				label[klen - (sizeof(fam) - 1)] = '\0';
				lw_counters_add_labelled(c, LW_COUNTERS_FAMILY_REGEX_LIMIT, label, v);
			}
		}
		p = line_end + 1;
	}
}
