#!/usr/bin/env bash
# Oracle: a nats-server whose max_payload is 8 KiB, an edge fed by
# `logger` lines of incompressible text (1 KB each, and one of 12 KB),
# a central node. The edge cuts messages smaller until they fit (the
# servers refuse larger ones); the one event that cannot fit alone is
# not forwarded and is counted (dropped_forward at the edge), the central
# node stops waiting for it after its redeliveries (dropped_origin_gap)
# and stores every other event exactly once, in order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_lib.sh"
need nats-server
need logger
need jq
need curl
need python3
need base64

nats_single
echo "max_payload: 8192" >>"$LW_TMP/nats0.conf"
nats_start_all
nats_wait_ready

common="timezone: UTC
storage: {flush_interval: 200ms}
metrics: {address: \"127.0.0.1:0\"}"
node_start c1 "data_dir: $LW_TMP/c1
$common
listeners:
  - {type: nats, servers: [$NATS_URLS], stream: LW, durable: c1, ack_wait: 1s}"
node_start edge "data_dir: $LW_TMP/edge
$common
listeners:
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}
forward: {type: nats, servers: [$NATS_URLS], stream: LW, node: town-a, message_size: 64KiB}"
port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
metric() { # node name
	local m
	m=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/$1.ports")
	curl -fsS "http://127.0.0.1:$m/metrics" | awk -v n="$2" '$1 == n {print $2}'
}

{
	for i in $(seq 1 20); do echo "small-$i $(head -c 750 /dev/urandom | base64 -w0)"; done
	echo "big-1 $(head -c 9000 /dev/urandom | base64 -w0)"
	for i in $(seq 21 25); do echo "small-$i $(head -c 750 /dev/urandom | base64 -w0)"; done
} >"$LW_TMP/lines"
logger -n 127.0.0.1 -P "$port" -T --rfc5424 -t payload --size 16384 <"$LW_TMP/lines"
wait_stored "$LW_TMP/edge" 26 30
wait_stored "$LW_TMP/c1" 25 60
expect_eq "$(metric edge 'lw_dropped_total{reason="forward"}')" 1 "edge: events not forwarded"
for _ in $(seq 1 50); do [ "$(metric c1 'lw_dropped_total{reason="origin_gap"}')" = 1 ] && break; sleep 0.2; done
expect_eq "$(metric c1 'lw_dropped_total{reason="origin_gap"}')" 1 "central: origin seqs given up"
node_stop edge
node_stop c1
"$LW_BIN" query -d "$LW_TMP/c1" --output json | jq -r '.message | split(" ")[0]' >"$LW_TMP/c1.names"
expect_eq "$(tr '\n' ' ' <"$LW_TMP/c1.names")" "$(for i in $(seq 1 25); do printf 'small-%s ' "$i"; done)" \
	"central events, in order"
# Each message fitted: the stream holds more messages than one per 64 KiB.
msgs=$(curl -fsS "http://127.0.0.1:${NATS_MON[0]}/jsz?streams=true" |
	jq '.account_details[0].stream_detail[0].state.messages')
[ "$msgs" -ge 4 ] || fail "the edge did not cut its messages smaller: $msgs messages"
echo "ok: messages cut to the servers' max payload; the one oversized event counted at both ends"
