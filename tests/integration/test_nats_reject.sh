#!/usr/bin/env bash
# Oracle: a nats-server with JetStream, messages published with libnats
# (tests/tools/lw_nats_pub.c) beside a real edge fed by `logger`: a
# central node stores the edge's events and refuses what no edge may
# send: no Logward-Node header, a header naming another edge than the
# subject, a payload that is not events. Each refused message is counted
# once in nats_rejected (a real edge message resent under another edge's
# subject too), none of its bytes is stored, and the stream is
# not stuck: the edge's events published after them arrive.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_lib.sh"
need nats-server
need logger
need jq
need curl
need python3
PUB="${LW_BUILD_DIR:?}/lw_nats_pub"
[ -x "$PUB" ] || skip "lw_nats_pub not built"

nats_single
nats_start_all
nats_wait_ready
URL="nats://127.0.0.1:${NATS_CPORT[0]}"

node_start c1 "data_dir: $LW_TMP/c1
timezone: UTC
storage: {flush_interval: 200ms}
metrics: {address: \"127.0.0.1:0\"}
listeners:
  - {type: nats, servers: [$NATS_URLS], stream: LW, durable: c1, ack_wait: 2s}"
node_start edge "data_dir: $LW_TMP/edge
timezone: UTC
storage: {flush_interval: 200ms}
listeners:
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}
forward: {type: nats, servers: [$NATS_URLS], stream: LW, node: town-a}"
port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
mport=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/c1.ports")
rejected() {
	curl -fsS "http://127.0.0.1:$mport/metrics" | awk '$1 == "lw_nats_rejected_total" {print $2}'
}

logger -n 127.0.0.1 -P "$port" -T --rfc5424 -t before "first event from town-a"
wait_stored "$LW_TMP/c1" 1 30

# town-a's own last message, resent by town-b's subject as town-a's:
# without the subject check it would pass as a duplicate, not a refusal.
"$PUB" --payload-of LW logward.town-a "$URL" logward.town-b Logward-Node=town-a >/dev/null || fail "publish 2"
printf 'no header' | "$PUB" "$URL" logward.town-a >/dev/null || fail "publish 1"
printf 'PAYLOAD-3 is not a segment' | "$PUB" "$URL" logward.town-a Logward-Node=town-a >/dev/null || fail "publish 3"
for _ in $(seq 1 100); do [ "$(rejected)" = 3 ] && break; sleep 0.1; done
expect_eq "$(rejected)" 3 "rejected messages"

logger -n 127.0.0.1 -P "$port" -T --rfc5424 -t after "second event from town-a"
wait_stored "$LW_TMP/c1" 2 30
sleep 5 # past ack_wait: a refused message must not come back
expect_eq "$(rejected)" 3 "rejected messages after ack_wait"
node_stop edge
node_stop c1
"$LW_BIN" query -d "$LW_TMP/c1" --output json >"$LW_TMP/c1.json"
expect_eq "$(jq -r '.process.name' "$LW_TMP/c1.json" | tr '\n' ' ')" "before after " "stored apps"
expect_eq "$(grep -c PAYLOAD "$LW_TMP/c1.json")" 0 "refused payloads stored"
expect_eq "$(jq -r '.labels.edge' "$LW_TMP/c1.json" | sort -u)" town-a "labels.edge"
grep -q "Logward-Node does not match the subject" "$LW_TMP/c1.log" || fail "the refusal is not logged"
echo "ok: 3 refused messages counted once, nothing of them stored, the edge's events around them stored"
