#!/usr/bin/env bash
# labels: slow
# Oracle: syslog-ng's `loggen` (not ours) sends numbered messages
# (runid, thread, seq) into an edge `logward serve` that forwards to a
# three-server nats-server cluster (JetStream, R3 stream); two central
# `logward serve` consume it with their own durable consumers. During
# the stream: kill -9 one NATS server and restart it; stop every NATS
# server for 10 s while loggen keeps sending (the edge buffers); kill -9
# central 1 and restart it; kill -9 the edge right after a run and restart
# it. Afterwards each central store holds exactly the edge's events, each
# once, in the edge's order per loggen connection, with the edge's zone
# and labels.edge; the logward nodes start before the cluster and
# create the stream when it comes up; the edge holds every message of the runs it was not
# killed in; `verify` passes on all three stores.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_lib.sh"
need nats-server
need loggen
need jq
need curl
need python3

# NATS_FAILOVER_SECONDS (default 8) sets how long each loggen run lasts:
# the suite runs the short version, a longer run is the same test.
RUN_S=${NATS_FAILOVER_SECONDS:-8}
nats_cluster 3

EDGE="$LW_TMP/edge" C1="$LW_TMP/c1" C2="$LW_TMP/c2"
edge_yml="data_dir: $EDGE
timezone: UTC
storage: {flush_interval: 200ms}
listeners:
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}
metrics: {address: \"127.0.0.1:0\"}
health: {check_interval: 1s}
forward: {type: nats, servers: [$NATS_URLS], stream: LW, node: town-a, replicas: 3, ack_timeout: 2s, lag_alert: 4s}"
central_yml() {
	printf '%s\n' "data_dir: $1
timezone: UTC
storage: {flush_interval: 200ms}
listeners:
  - {type: nats, servers: [$NATS_URLS], stream: LW, durable: $2, replicas: 3, ack_wait: 4s}"
}

node_start edge "$edge_yml"
node_start c1 "$(central_yml "$C1" central1)"
node_start c2 "$(central_yml "$C2" central2)"
port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
# A gauge of the edge's /metrics.
edge_gauge() {
	local mport
	mport=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
	curl -fsS "http://127.0.0.1:$mport/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
# The nodes started first: they connect and create the stream once the
# cluster is up.
nats_start_all
nats_wait_ready

SENT=0
# run NAME SECONDS: loggen over 2 connections at 250/s each, in the
# background; run_wait NAME adds what it reports sent to SENT.
run() {
	loggen --inet --stream --active-connections=2 -r 250 -I "$2" \
		127.0.0.1 "$port" >"$LW_TMP/loggen-$1.log" 2>&1 &
	LOGGEN_PID=$!
}
run_wait() {
	wait "$LOGGEN_PID" || fail "loggen $1 failed: $(tail -3 "$LW_TMP/loggen-$1.log")"
	local n
	n=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-$1.log" | tail -1 | cut -d= -f2)
	[ -n "$n" ] && [ "$n" -gt 0 ] || fail "loggen $1 sent nothing"
	SENT=$((SENT + n))
	sleep 1 # a new runid (loggen's start second) for the next run
}

# 1. One NATS server killed and restarted while events flow.
run a "$RUN_S"
sleep 3
nats_stop 1 KILL
sleep 2
nats_start 1
run_wait a
wait_stored "$EDGE" "$SENT"
wait_stored "$C1" "$SENT"

# 2. Every NATS server stopped for 10 s; the edge keeps collecting.
for i in 0 1 2; do nats_stop "$i"; done
run b "$RUN_S"
sleep 10
# The outage is visible while it lasts.
expect_eq "$(edge_gauge lw_forward_connected)" 0 "edge connected during the outage"
behind=$(edge_gauge lw_forward_lag_events)
[ "$behind" -gt 0 ] || fail "edge lag during the outage: $behind events"
lag_s=$(edge_gauge lw_forward_lag_seconds)
[ "$lag_s" -ge 5 ] || fail "edge lag during the outage: $lag_s s"
for i in 0 1 2; do nats_start "$i"; done
run_wait b
wait_stored "$EDGE" "$SENT"
wait_stored "$C1" "$SENT" 180

# 3. Central 1 killed while events flow, restarted.
run c "$RUN_S"
sleep 3
node_stop c1 KILL
sleep 2
node_start c1 "$(central_yml "$C1" central1)"
run_wait c
wait_stored "$EDGE" "$SENT"

# 4. The edge killed while it forwards, restarted: what it had not
# committed is lost there (as on any single node), the rest goes on.
run d 3
run_wait d
sleep 0.3
node_stop edge KILL
node_start edge "$edge_yml"
edge_total=$("$LW_BIN" query -d "$EDGE" --count)
[ "$edge_total" -ge $((SENT - 1500)) ] || fail "edge kept $edge_total of $SENT"
wait_stored "$C1" "$edge_total" 180
wait_stored "$C2" "$edge_total" 180
sleep 2 # anything beyond would be a duplicate: give it time to show

expect_eq "$(edge_gauge lw_forward_lag_events)" 0 "edge lag once caught up"
node_stop edge
node_stop c1
node_stop c2

# The marks say the same: the edge's cursor is its last seq, each central
# node's mark for town-a too; the outage raised the lag incident.
expect_eq "$("$LW_BIN" stats -d "$EDGE" --output json | jq -c .forward)" \
	"{\"cursor\":$edge_total,\"behind\":0}" "edge forwarding cursor"
for c in c1 c2; do
	expect_eq "$("$LW_BIN" stats -d "$LW_TMP/$c" --output json | jq -c .origins)" \
		"{\"town-a\":$edge_total}" "$c origin mark"
done
"$LW_BIN" incidents -d "$EDGE" list --status all --output json >"$LW_TMP/edge-incidents.json"
grep -q logward-forward-lag "$LW_TMP/edge-incidents.json" || fail "no forward-lag incident at the edge"

loggen_keys "$EDGE" >"$LW_TMP/edge.keys"
expect_eq "$(wc -l <"$LW_TMP/edge.keys")" "$edge_total" "edge events"
expect_eq "$(sort "$LW_TMP/edge.keys" | uniq -d | wc -l)" 0 "events stored twice at the edge"
# Runs a, b and c completed before any edge restart: all of them are there.
expect_eq "$(awk '{print $1}' "$LW_TMP/edge.keys" | sort -u | wc -l)" 4 "loggen runs at the edge"
for c in c1 c2; do
	dir=$LW_TMP/$c
	loggen_keys "$dir" >"$LW_TMP/$c.keys"
	expect_eq "$(wc -l <"$LW_TMP/$c.keys")" "$edge_total" "$c events"
	expect_eq "$(sort "$LW_TMP/$c.keys" | uniq -d | wc -l)" 0 "$c events stored twice"
	# The same events, and per loggen connection (runid, thread) the
	# same order: the per-connection subsequences must be identical.
	for f in edge "$c"; do
		sort -s -k1,2 "$LW_TMP/$f.keys" >"$LW_TMP/$f.byconn"
	done
	cmp -s "$LW_TMP/edge.byconn" "$LW_TMP/$c.byconn" || fail "$c differs from the edge (events or per-connection order)"
	expect_eq "$("$LW_BIN" query -d "$dir" --output json | jq -r 'select(.labels.edge != "town-a" or .labels.zone != "lgwan") | 1' | wc -l)" 0 \
		"$c events without labels.edge town-a or zone lgwan"
	"$LW_BIN" verify -d "$dir" >/dev/null || fail "verify failed on $c"
done
"$LW_BIN" verify -d "$EDGE" >/dev/null || fail "verify failed on the edge"
# The edge's own order per connection is loggen's (seq increasing).
awk '{k = $1 " " $2; if (k in last && $3 + 0 <= last[k]) bad++; last[k] = $3 + 0} END {exit bad > 0}' \
	"$LW_TMP/edge.keys" || fail "edge order per connection broken"
echo "ok: $edge_total events ($SENT sent) through NATS failures, exactly once on both central nodes"
