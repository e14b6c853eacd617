#!/usr/bin/env bash
# Oracle: a real nats-server; `logward serve` as an edge started and
# stopped (SIGTERM) twelve times with the server up and four with it
# down. Each stop must be clean (exit 0) and leave no AddressSanitizer
# report: libnats calls the forwarder back on its own thread when the
# connection closes (a disconnected callback, then a closed one), and
# the forwarder's state must outlive those calls.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_lib.sh"
need nats-server

nats_single
nats_start_all
nats_wait_ready
edge_yml="data_dir: $LW_TMP/edge
timezone: UTC
listeners:
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}
forward: {type: nats, servers: [$NATS_URLS], stream: LW, node: town-a, ack_timeout: 1s}"
# A stop that touched freed memory may hang in the sanitizer's report:
# each stop gets 30 s.
stop_edge() {
	local pid=${NODE_PID[edge]} rc=0
	kill -TERM "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "the edge did not stop within 30 s: $(grep -m1 -A3 'ERROR: AddressSanitizer' "$LW_TMP/edge.log")"
	fi
	wait "$pid" || rc=$?
	NODE_PID[edge]=""
	expect_eq "$rc" 0 "the edge's exit status after SIGTERM"
}
cycles() {
	for _ in $(seq 1 "$1"); do
		node_start edge "$edge_yml"
		stop_edge
	done
}
cycles 12
nats_stop 0
cycles 4
if grep -q AddressSanitizer "$LW_TMP/edge.log"; then
	fail "$(grep -m1 -A8 'ERROR: AddressSanitizer' "$LW_TMP/edge.log")"
fi
expect_eq "$(grep -c 'forward: forwarding' "$LW_TMP/edge.log")" 16 "edge starts"
echo "ok: 16 edge stops, none touched freed memory"
