#!/usr/bin/env bash
# labels: slow
# Oracle: SIGHUP reloads config and rules while logward-bench streams over
# two TCP connections that stay open throughout (rate-limited, per-message
# sequence numbers), and util-linux `logger` sends the marker lines that
# rules match. Four reloads:
#   (a) rules v2: detection rule alpha removed, beta added, correlation
#       gamma unchanged (its window carries over), correlation delta
#       redefined (its window starts empty: 2 hits before + 2 after stay
#       below its threshold of 4);
#   (b) a broken rule pack (two errors in two files, and a valid new rule
#       epsilon): rejected, both errors named with file and line in the
#       log; v2 keeps running: gamma's 4th hit (2 before (a), 1 between,
#       1 after (b)) raises its incident, epsilon raises none;
#   (c) the UDP listener removed, a TCP listener added (zone "added"),
#       and the kept TCP listener's zone changed to lgwan-b: the new port
#       stores with its zone, the stream's connections live on and their
#       events carry the new zone from then on;
#   (d) nothing changed.
# Then: every bench message stored exactly once (per connection, 1..max,
# no duplicate, no hole, total = what the bench sent), the bench saw no
# error (a reset connection is an error), `verify` passes, and the
# incidents are exactly alpha (1 event), beta (1), gamma (4).
. "$(dirname "$0")/lib.sh"
need logger
need jq
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench is not built (LW_BUILD_DIR)"

R="$LW_TMP/rules"
mkdir -p "$R/detection" "$R/correlation"
cp "$(dirname "$0")/../../rules/response.yml" "$R/response.yml"
ALPHA=6f1e0a10-0000-4000-8000-00000000a1fa
BETA=6f1e0a10-0000-4000-8000-0000000000be
GAMMA=6f1e0a10-0000-4000-8000-00000000ca11
DELTA=6f1e0a10-0000-4000-8000-00000000de17

detection() { # file id name word
	cat > "$R/detection/$1.yml" <<YAML
title: reload test $3
id: $2
name: $3
tags: [logward.unauthorized-access]
logsource: {product: linux}
detection:
  selection:
    message|contains: $4
  condition: selection
level: ${5:-high}
YAML
}
correlation() { # file id name ref timespan
	cat > "$R/correlation/$1.yml" <<YAML
title: reload test $3
id: $2
name: $3
tags: [logward.unauthorized-access]
correlation:
  type: event_count
  rules: [$4]
  group-by: [host.name]
  timespan: $5
  condition: {gte: 4}
level: high
YAML
}
rules_v1() {
	rm -f "$R"/detection/*.yml "$R"/correlation/*.yml
	detection alpha $ALPHA t_alpha reload-alpha
	detection gamma_hit 6f1e0a10-0000-4000-8000-0000000000a1 t_gamma_hit reload-gamma informational
	detection delta_hit 6f1e0a10-0000-4000-8000-0000000000a2 t_delta_hit reload-delta informational
	correlation gamma $GAMMA t_gamma t_gamma_hit 10m
	correlation delta $DELTA t_delta t_delta_hit 10m
}
rules_v2() {
	rules_v1
	rm "$R/detection/alpha.yml"
	detection beta $BETA t_beta reload-beta
	correlation delta $DELTA t_delta t_delta_hit 20m
}

listeners_v1="  - {type: udp, address: \"127.0.0.1:0\", zone: internet}
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan, framing: auto}"
rules_v1
LW_LISTENERS="$listeners_v1" lw_start "rules: [$R]"
conf="$LW_TMP/logward.yml"

tcp() { logger -n 127.0.0.1 -P "$1" -T --rfc3164 -t "$2" "$3"; }
udp() { logger -n 127.0.0.1 -P "$1" -d --rfc3164 -t "$2" "$3"; }
inc() { "$LW_BIN" incidents -d "$LW_DATA" "$@"; }
# Waits for the n-th log line matching $1 (max 30 s).
wait_log() {
	for _ in $(seq 1 300); do
		[ "$(grep -c -- "$1" "$LW_TMP/serve.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "no ${2}th log line '$1'"
}
# SIGHUP, then wait for the reload's outcome line ($1: how many so far).
reload() {
	kill -HUP "$LW_PID"
	wait_log "reload: reloading configuration" "$1"
	for _ in $(seq 1 300); do
		[ "$(grep -c -E 'configuration reloaded|reload rejected' "$LW_TMP/serve.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "reload $1 had no outcome"
}

"$BENCH" --tcp "127.0.0.1:$LW_TCP_PORT" -c 2 -t 1 -r 15000 -d 9s --json \
	>"$LW_TMP/bench.json" 2>"$LW_TMP/bench.err" &
bench=$!
sleep 1

# --- (a) rules v2 -----------------------------------------------------------
tcp "$LW_TCP_PORT" m1 "reload-alpha before"
for i in 1 2; do tcp "$LW_TCP_PORT" m1 "reload-gamma $i"; tcp "$LW_TCP_PORT" m1 "reload-delta $i"; done
sleep 0.5 # the marker connections are read before the reload
rules_v2
reload 1
grep -q "configuration reloaded.*detection rules 3 -> 3 (+1 -1); correlation rules 2 -> 2 (+0 -0)" "$LW_TMP/serve.log" ||
	fail "reload (a) not described"
tcp "$LW_TCP_PORT" m2 "reload-alpha after: no rule matches this any more"
tcp "$LW_TCP_PORT" m2 "reload-beta 1"
tcp "$LW_TCP_PORT" m2 "reload-gamma 3"
for i in 3 4; do tcp "$LW_TCP_PORT" m2 "reload-delta $i"; done
sleep 0.5

# --- (b) a broken rule pack ------------------------------------------------------
cp -r "$R" "$LW_TMP/rules-v2"
printf 'title: broken\nid: [unclosed\n' > "$R/detection/broken.yml"
detection epsilon 6f1e0a10-0000-4000-8000-0000000000e5 t_epsilon reload-epsilon
sed -i 's/message|contains:/message|nosuchmodifier:/' "$R/detection/beta.yml"
reload 2
grep -q "reload rejected; running configuration unchanged" "$LW_TMP/serve.log" || fail "broken rules not rejected"
grep -q "rule file error.*detection/broken.yml:[0-9]" "$LW_TMP/serve.log" || fail "broken.yml not named with its line"
grep -q "rule file error.*detection/beta.yml:[0-9].*nosuchmodifier" "$LW_TMP/serve.log" || fail "beta.yml error not named"
tcp "$LW_TCP_PORT" m3 "reload-gamma 4: the running rules still fire"
tcp "$LW_TCP_PORT" m3 "reload-epsilon: a rule of the rejected pack"
rm -rf "$R" && mv "$LW_TMP/rules-v2" "$R"

# --- (c) listeners: UDP removed, TCP added -----------------------------------------
udp "$LW_UDP_PORT" udpbefore "over UDP before it is removed"
sleep 0.5
sed -i "/type: udp/d" "$conf"
sed -i "s|^  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan, framing: auto}|  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan-b, framing: auto}\n  - {type: tcp, address: \"127.0.0.1:0\", zone: added}|" "$conf"
# The kept TCP listener is matched by type and address: "127.0.0.1:0" is
# the same entry as before, so it keeps its (ephemeral) socket.
reload 3
grep "configuration reloaded" "$LW_TMP/serve.log" | tail -n 1 |
	grep -q "listeners='kept 1 (1 changed), added 1, removed 1'" || fail "reload (c) listener summary"
new_port=$(grep "collector: listening; on='tcp 127.0.0.1:" "$LW_TMP/serve.log" | tail -n 1 |
	sed -E "s/.*on='tcp 127.0.0.1:([0-9]+)'.*/\1/")
[ "$new_port" != "$LW_TCP_PORT" ] || fail "no new TCP port"
# --ports-file follows the reload: the added listener, not the removed one.
grep -qx "tcp 127.0.0.1:$new_port" "$LW_TMP/ports" || fail "ports file lacks the added listener: $(cat "$LW_TMP/ports")"
grep -qx "tcp 127.0.0.1:$LW_TCP_PORT" "$LW_TMP/ports" || fail "ports file lacks the kept listener"
grep -q "^udp " "$LW_TMP/ports" && fail "ports file still lists the removed UDP listener"
tcp "$new_port" newport "over the added listener"
udp "$LW_UDP_PORT" udpafter "over UDP after it was removed: nobody listens" || true

# --- (d) nothing changed ------------------------------------------------------------
reload 4
grep "configuration reloaded" "$LW_TMP/serve.log" | tail -n 1 |
	grep -q "listeners='kept 2 (0 changed), added 0, removed 0' changes='detection rules 3 -> 3 (+0 -0); correlation rules 2 -> 2 (+0 -0)'$" ||
	fail "reload (d) should change nothing"

wait "$bench" || fail "logward-bench failed (a connection broke?): $(cat "$LW_TMP/bench.err")"
sent=$(jq -r .sent "$LW_TMP/bench.json")
expect_eq "$(jq -r .errors "$LW_TMP/bench.json")" 0 "bench send errors"
expect_eq "$(jq -r .connected "$LW_TMP/bench.json")" 2 "bench connections"
sleep 0.5
lw_stop
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify after the reloads"

# Every bench message exactly once: per connection 1..max with no hole.
lw_query --output json | jq -r '.message' | grep -o 'seq=[0-9]*-[0-9]*' | sort > "$LW_TMP/seqs"
expect_eq "$(wc -l < "$LW_TMP/seqs")" "$sent" "bench messages stored"
expect_eq "$(uniq -d "$LW_TMP/seqs" | wc -l)" 0 "duplicated bench messages"
awk -F'[=-]' '{n[$2]++; if ($3 + 0 > m[$2]) m[$2] = $3 + 0}
	END {for (c in n) if (n[c] != m[c]) {print "conn " c ": " n[c] " of 1.." m[c]; bad = 1}; exit bad}' \
	"$LW_TMP/seqs" || fail "holes in a connection's sequence"
expect_eq "$(lw_count --app newport --zone added)" 1 "event over the added listener"
# The kept listener: 12 marker lines (m1: 5, m2: 5, m3: 2) and the bench, first in
# zone lgwan, after (c) in lgwan-b, the same connections throughout.
before_c=$(lw_count --zone lgwan)
after_c=$(lw_count --zone lgwan-b)
[ "$before_c" -gt 12 ] && [ "$after_c" -gt 0 ] || fail "zones before/after (c): $before_c / $after_c"
expect_eq "$((before_c + after_c))" "$((sent + 12))" "events over the kept TCP listener"
expect_eq "$(lw_count --app udpbefore)" 1 "event over UDP before its removal"
expect_eq "$(lw_count --app udpafter)" 0 "event over the removed UDP listener"

# Exactly alpha (1), beta (1), gamma (4); no delta, no epsilon.
inc list --status all --output json > "$LW_TMP/inc.json"
expect_eq "$(jq -r .rule.id "$LW_TMP/inc.json" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' $ALPHA $BETA $GAMMA | sort | tr '\n' ' ')" "incidents raised"
expect_eq "$(jq -r "select(.rule.id == \"$ALPHA\") | .count" "$LW_TMP/inc.json")" 1 "alpha count"
expect_eq "$(jq -r "select(.rule.id == \"$BETA\") | .count" "$LW_TMP/inc.json")" 1 "beta count"
expect_eq "$(jq -r "select(.rule.id == \"$GAMMA\") | .count" "$LW_TMP/inc.json")" 4 "gamma count"
echo "ok: 4 reloads under load ($sent bench messages, each stored once, connections kept); rules swapped, broken pack rejected, listeners added/removed; incidents exactly alpha, beta, gamma"
