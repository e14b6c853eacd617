#!/usr/bin/env bash
# Oracle: a nats-server with JetStream, an edge fed by `logger`, two
# central nodes with the repository's rule pack, each with its own
# notify file. Every new incident is notified once across both files:
# first with both nodes up (one claims, the other counts it claimed
# elsewhere); then the node that sent it is killed (kill -9), new
# incidents arrive and the survivor sends them; then the killed node
# comes back, consumes the same events, raises the same incidents in
# its own store, and sends none of them again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nats_lib.sh"
need nats-server
need logger
need jq
need curl
need python3

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
CLAM=a9c6abc7-014e-4449-aac9-082d14ffe2a1
SUDO=d85a8570-e403-475e-b42c-bf86813d87c7
SUDOFAIL=$(awk '$1 == "id:" {print $2; exit}' "$RULES/detection/su_sudo_auth_failure.yml")

nats_single
nats_start_all
nats_wait_ready

central() {
	node_start "$1" "data_dir: $LW_TMP/$1
timezone: UTC
storage: {flush_interval: 200ms}
rules: [$RULES]
metrics: {address: \"127.0.0.1:0\"}
notify:
  - {type: file, path: \"$LW_TMP/notify-$1.jsonl\"}
listeners:
  - {type: nats, servers: [$NATS_URLS], stream: LW, durable: $1, ack_wait: 2s}"
}
# The counter of a central node's /metrics (0 when absent).
metric() {
	local mport
	mport=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/$1.ports")
	curl -fsS "http://127.0.0.1:$mport/metrics" |
		awk -v m="$2" '$1 == m {v = $2} END {print v + 0}'
}
# Notification lines of rule $1 in both files together.
sent() { cat "$LW_TMP"/notify-c*.jsonl 2>/dev/null | jq -r .rule.id | grep -c "^$1\$" || true; }
wait_sent() {
	for _ in $(seq 1 150); do [ "$(sent "$1")" -ge 1 ] && return 0; sleep 0.2; done
	fail "no notification for rule $1"
}
ELSEWHERE='lw_notify_total{result="claimed_elsewhere"}'
UNCLAIMED='lw_notify_total{result="unclaimed"}'
wait_metric() {
	for _ in $(seq 1 150); do [ "$(metric "$1" "$2")" -ge "$3" ] && return 0; sleep 0.2; done
	fail "$1: $2 is $(metric "$1" "$2"), expected at least $3"
}

central c1
central c2
node_start edge "data_dir: $LW_TMP/edge
timezone: UTC
storage: {flush_interval: 200ms}
listeners:
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan}
forward: {type: nats, servers: [$NATS_URLS], stream: LW, node: town-a}"
port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/edge.ports")
tcp() { logger -n 127.0.0.1 -P "$port" -T --rfc3164 "$@"; }

# --- 1. both central nodes up: one sends, the other knows it was claimed
tcp -t clamd --id=900 -p daemon.warning "/home/ichiro/Downloads/invoice.exe: Win.Trojan.Agent-123 FOUND"
wait_sent "$CLAM"
wait_stored "$LW_TMP/c1" 1 30
wait_stored "$LW_TMP/c2" 1 30
for _ in $(seq 1 100); do
	[ $(($(metric c1 "$ELSEWHERE") + $(metric c2 "$ELSEWHERE"))) -ge 1 ] && break
	sleep 0.2
done
expect_eq $(($(metric c1 "$ELSEWHERE") + $(metric c2 "$ELSEWHERE"))) 1 "claimed elsewhere, both nodes"
expect_eq "$(sent "$CLAM")" 1 "malware notifications"
if [ -s "$LW_TMP/notify-c1.jsonl" ]; then winner=c1 other=c2; else winner=c2 other=c1; fi

# --- 2. the node that sent it killed: the other sends the new incidents
node_stop "$winner" KILL
tcp -t sudo -p authpriv.alert "  mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/cat /etc/shadow"
wait_sent "$SUDO"
wait_sent "$SUDOFAIL"
expect_eq "$(grep -c . "$LW_TMP/notify-$other.jsonl")" 2 "notifications the survivor sent in all"

# --- 3. the killed node back: it raises the same incidents, sends none
central "$winner"
wait_stored "$LW_TMP/$winner" 2 60
wait_metric "$winner" "$ELSEWHERE" 2
sleep 2 # a commit more: nothing else may be sent
expect_eq "$(sent "$CLAM")" 1 "malware notifications at the end"
expect_eq "$(sent "$SUDO")" 1 "sudo notifications at the end"
expect_eq "$(sent "$SUDOFAIL")" 1 "sudo failure notifications at the end"
expect_eq "$(cat "$LW_TMP"/notify-c*.jsonl | grep -c .)" 3 "notification lines in all"
expect_eq "$(metric "$winner" "$UNCLAIMED")" 0 "unclaimed sends ($winner)"
expect_eq "$(metric "$other" "$UNCLAIMED")" 0 "unclaimed sends ($other)"
for n in c1 c2; do
	expect_eq "$("$LW_BIN" incidents -d "$LW_TMP/$n" list --status all --output json |
		jq -r .rule.id | sort | tr '\n' ' ')" \
		"$(printf '%s\n' "$CLAM" "$SUDO" "$SUDOFAIL" | sort | tr '\n' ' ')" "incidents stored on $n"
done
node_stop edge
node_stop c1
node_stop c2
echo "ok: 3 incidents on both central nodes, each notified once across them, through a kill -9 of the sender"
