#!/usr/bin/env bash
# labels: slow
# Oracle: syslog-ng's `loggen` (not ours) sends into an edge `logward
# serve` that forwards to a real nats-server (JetStream). The edge's
# forwarding lag (`lw_forward_lag_seconds` in /metrics, the same value
# the health check judges) is the age of the oldest event the stream has
# not acknowledged: with the server stopped and events piling up it
# grows, it never reads 0 while events are behind (sampled every ~20 ms
# through the outage and the catch-up, where nothing may be in flight
# between two messages), it is the same after the edge is restarted
# during the outage, the lag incident is raised, and it reads 0 once
# everything is acknowledged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_lib.sh"
need nats-server
need loggen
need jq
need curl
need python3

nats_single
EDGE="$LW_TMP/edge"
# Small messages: the catch-up publishes many, and between two of them
# nothing is in flight.
edge_yml="data_dir: $EDGE
timezone: UTC
storage: {flush_interval: 200ms}
listeners:
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}
metrics: {address: \"127.0.0.1:0\"}
health: {check_interval: 1s}
forward: {type: nats, servers: [$NATS_URLS], stream: LW, node: town-a, ack_timeout: 2s,
          message_size: 4KiB, max_in_flight: 4, lag_alert: 3s}"
node_start edge "$edge_yml"
port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
# "events seconds connected" of the edge's /metrics.
lag() {
	local mport
	mport=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
	curl -fsS "http://127.0.0.1:$mport/metrics" | awk '
		$1 == "lw_forward_lag_events" {e = $2}
		$1 == "lw_forward_lag_seconds" {s = $2}
		$1 == "lw_forward_connected" {c = $2}
		END {print e, s, c}'
}
# sample SECONDS MIN_AGE: samples the lag every ~20 ms for SECONDS (or
# until caught up when SECONDS is 0, 120 s at most); fails on any sample
# with events behind and an age under MIN_AGE. Prints the sample count.
sample() {
	local until=$(( $(date +%s) + ${1/#0/120} )) n=0 e s c
	while [ "$(date +%s)" -lt "$until" ]; do
		read -r e s c <<<"$(lag)"
		n=$((n + 1))
		if [ "$e" -gt 0 ] && [ "$s" -lt "$2" ]; then
			fail "lag $s s with $e events behind (connected $c), sample $n"
		fi
		[ "$1" = 0 ] && [ "$e" = 0 ] && { echo "$n"; return 0; }
		sleep 0.02
	done
	[ "$1" = 0 ] && fail "not caught up: $e events behind"
	echo "$n"
}
sent() {
	grep -o 'count=[0-9]*' "$1" | tail -1 | cut -d= -f2
}

nats_start_all
nats_wait_ready
loggen --inet --stream -r 1000 -I 2 127.0.0.1 "$port" >"$LW_TMP/loggen-a.log" 2>&1
SENT=$(sent "$LW_TMP/loggen-a.log")
wait_stored "$EDGE" "$SENT"
sample 0 0 >/dev/null
expect_eq "$(lag)" "0 0 1" "caught up before the outage (events, seconds, connected)"

# The server stops; the edge keeps collecting into its store.
nats_stop 0
loggen --inet --stream -r 5000 -I 4 127.0.0.1 "$port" >"$LW_TMP/loggen-b.log" 2>&1
SENT=$((SENT + $(sent "$LW_TMP/loggen-b.log")))
wait_stored "$EDGE" "$SENT"
# Nothing arrives any more: every event behind is at least 2 s old.
sleep 2
n=$(sample 3 2)
read -r e s c <<<"$(lag)"
expect_eq "$c" 0 "connected during the outage"
[ "$e" -ge "$(sent "$LW_TMP/loggen-b.log")" ] || fail "only $e events behind during the outage"
[ "$s" -ge 5 ] || fail "lag $s s during the outage, 5 s at least expected"
echo "outage: $e events behind, $s s, $n samples"

# Restarted during the outage (a clean stop while the servers are
# unreachable), the edge reads the same lag back from its store.
node_stop edge
node_start edge "$edge_yml"
n=$(sample 2 5)
read -r e2 s2 c <<<"$(lag)"
expect_eq "$e2" "$e" "events behind after a restart during the outage"
[ "$s2" -ge "$s" ] || fail "lag $s2 s after the restart, $s s before it"

# The catch-up: the backlog is at least 5 s old until it is all sent.
nats_start 0
n=$(sample 0 5)
expect_eq "$(lag)" "0 0 1" "caught up after the outage (events, seconds, connected)"
echo "catch-up: $n samples"
node_stop edge
grep -q AddressSanitizer "$LW_TMP/edge.log" && fail "the edge: $(grep -A3 AddressSanitizer "$LW_TMP/edge.log")"

"$LW_BIN" incidents -d "$EDGE" list --status all --output json >"$LW_TMP/incidents.json"
expect_eq "$(jq -r 'select(.rule.id == "logward-forward-lag") | .status' "$LW_TMP/incidents.json" | sort -u)" \
	open "the lag incident"
