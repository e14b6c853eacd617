#!/usr/bin/env bash
# Oracle: Python sends 5,000 UDP datagrams from 1,000 loopback addresses
# (127.0.1.0/22, as spoofed sources would be), 5 each, to a listener with
# a per-source rate_limit of 5/s (burst 5) -- which every source keeps --
# and an overall listener_events_per_second of 200 (burst 200). At most
# the listener budget passes (200 + 200/s over the few seconds of the
# send), the rest is counted in rate_limited_listener_dropped, and
# stored + dropped (both rate limits, kernel, queue) is exactly 5,000:
# nothing disappears uncounted. Before, per-source limits alone let all
# 5,000 through. A second listener without the budget takes 300 from
# one source limited to 1000/s: the budget of one listener is not
# another's.
. "$(dirname "$0")/lib.sh"
need python3
need jq

LW_LISTENERS='  - {type: udp, address: "127.0.0.1:0", zone: internet,
     rate_limit: {events_per_second: 5, burst: 5, max_sources: 4096,
                  listener_events_per_second: 200, listener_burst: 200}}
  - {type: udp, address: "127.0.0.2:0", zone: lgwan,
     rate_limit: {events_per_second: 1000, burst: 1000}}'
lw_start ""
P1=$(awk '$1 == "udp" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 1p)
P2=$(awk '$1 == "udp" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 2p)
start=$(date +%s%N)
python3 - "$P1" "$P2" <<'PY'
import socket, sys
p1, p2 = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 0))
    socks.append(s)
for k in range(5):
    for i, s in enumerate(socks):
        s.sendto(b"<13>Dec  7 10:00:00 h%d app: spoofed %d" % (i, k), ("127.0.0.1", p1))
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(300):
    o.sendto(b"<13>Dec  7 10:00:00 other app: second listener %d" % k, ("127.0.0.2", p2))
PY
secs=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
lw_wait_count 300 20
sleep 1.5
stored=$(lw_query --zone internet --output json | wc -l)
expect_eq "$(lw_query --zone lgwan --output json | wc -l)" 300 "second listener (no budget)"
for _ in $(seq 1 50); do
	total=$(( stored + $(lw_counter rate_limited_listener_dropped) + $(lw_counter rate_limited_dropped) + $(lw_counter dropped_kernel) + $(lw_counter dropped_udp) ))
	[ "$total" = 5000 ] && break
	sleep 0.2
	stored=$(lw_query --zone internet --output json | wc -l)
done
expect_eq "$total" 5000 "stored + counted drops"
max=$(awk -v s="$secs" 'BEGIN {printf "%d", 200 + 200 * (s + 1)}')
[ "$stored" -le "$max" ] || fail "$stored datagrams passed the listener budget (at most $max in ${secs}s)"
[ "$stored" -ge 200 ] || fail "only $stored passed: the burst is 200"
[ "$(lw_counter rate_limited_listener_dropped)" -ge $((5000 - max)) ] || fail "rate_limited_listener_dropped is $(lw_counter rate_limited_listener_dropped)"
expect_eq "$(lw_counter rate_limited_dropped)" 0 "per-source limit (5 each, burst 5)"
curl_metrics=$("$LW_BIN" stats -d "$LW_DATA" --output prometheus | grep 'lw_dropped_total{reason="rate_limited_listener"}')
[ -n "$curl_metrics" ] || fail "no lw_dropped_total{reason=\"rate_limited_listener\"} series"
lw_stop
echo "PASS: $stored of 5000 spoofed datagrams passed a 200/s listener budget in ${secs}s"
