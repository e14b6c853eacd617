#!/usr/bin/env bash
# labels: slow
# Oracle: a real 16 MiB tmpfs holds the store (map_size 1 MiB: 1.4 MB of
# random text must make the map grow). After 2,000 loggen events and the
# random lines are stored, a filler file takes all
# the free space while syslog-ng's loggen sends 100,000 messages over TCP (more than the socket buffers hold)
# and a steady UDP stream. While the disk is full the daemon must: stay
# up, pause TCP (loggen cannot finish), pause reading UDP so the
# kernel drops what overflows the socket buffer, count those, log ONE loud
# line (not one per retry), keep its memory flat, and report
# lw_storage_failing 1 on /metrics. When the filler is removed it must
# resume by itself: every TCP message stored exactly once, every datagram
# stored or counted, one logward-storage-failure incident and one
# logward-persistent-loss incident for dropped_kernel (system-failure), and
# `verify` passes.
. "$(dirname "$0")/lib.sh"
need loggen
need jq
need curl
need logger
[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
mkdir -p "$LW_DATA"
mount -t tmpfs -o size=16m lwdiskfull "$LW_DATA" 2>/dev/null || skip "cannot mount a tmpfs here"
tcp_pid="" udp_pid=""
cleanup_all() {
	for p in $tcp_pid $udp_pid $LW_PID; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	LW_PID=""
	umount "$LW_DATA" 2>/dev/null || true
	lw_cleanup
}
trap cleanup_all EXIT
# Failed commits free their buffers; ASan's quarantine would look like growth.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4"

lw_start 'queue_batches: 4
batch_events: 256
storage: {flush_interval: 200ms, segment_bytes: 64KiB, map_size: 1MiB}
health: {check_interval: 200ms, loss_checks: 3}
metrics: {address: "127.0.0.1:0"}'
MPORT=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$LW_PID/status"; }

# loggen's runid is its start second: the second run must start at least
# one second later, or both runs' thread 0 carry the same (runid, seq).
first_start=$(date +%s)
loggen --inet --stream -n 2000 -r 20000 127.0.0.1 "$LW_TCP_PORT" >"$LW_TMP/loggen-1.log" 2>&1 ||
	fail "loggen (before) failed"
# Random text does not compress: 1.4 MB of it overflows the 1 MiB map.
head -c 1400000 /dev/urandom | base64 -w 600 >"$LW_TMP/random.txt"
NRANDOM=$(wc -l <"$LW_TMP/random.txt")
logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T -t random -f "$LW_TMP/random.txt"
lw_wait_count $((2000 + NRANDOM))
map=0
for _ in $(seq 1 50); do # gauges are published up to 1 s after a commit
	map=$(metric lw_store_map_bytes)
	[ "$map" -gt 1048576 ] && break
	sleep 0.1
done
[ "$map" -gt 1048576 ] || fail "the 1 MiB map did not grow (lw_store_map_bytes $map)"

dd if=/dev/zero of="$LW_DATA/filler" bs=64k 2>/dev/null || true
avail=$(df -k --output=avail "$LW_DATA" | tail -n 1 | tr -d ' ')
[ "$avail" -lt 64 ] || fail "the filler left $avail KiB free"

while [ "$(date +%s)" -lt $((first_start + 2)) ]; do sleep 0.1; done
loggen --inet --stream --active-connections=2 -n 50000 -r 20000 -I 120 127.0.0.1 "$LW_TCP_PORT" \
	>"$LW_TMP/loggen-tcp.log" 2>&1 &
tcp_pid=$!
loggen --inet --dgram -r 2000 -I 10 127.0.0.1 "$LW_UDP_PORT" >"$LW_TMP/loggen-udp.log" 2>&1 &
udp_pid=$!

sleep 4
expect_eq "$(metric lw_storage_failing)" 1 "lw_storage_failing while the disk is full"
before=$(rss)
sleep 4
after=$(rss)
expect_eq "$(metric lw_storage_failing)" 1 "lw_storage_failing 4 s later"
kill -0 "$tcp_pid" 2>/dev/null || fail "loggen finished 8 s into a 2.5 s run: TCP was not paused"
[ "$(metric lw_backpressure_pauses_total)" -gt 0 ] || fail "no backpressure pause counted"
[ $(( $(metric 'lw_dropped_total{reason="udp"}') + $(metric 'lw_dropped_total{reason="kernel"}') )) -gt 0 ] ||
	fail "no UDP drop counted"
[ $((after - before)) -lt 32768 ] || fail "memory grew by $((after - before)) KiB in 4 s of a full disk"
# One loud line per failure episode, not one per retry. (LMDB may fit a
# small commit into pages it already owns, ending an episode early: then
# there is one more line and one "recovered" line per extra episode.)
loud=$(grep -c 'STORAGE FAILING' "$LW_TMP/serve.log")
ended=$(grep -c 'storage recovered' "$LW_TMP/serve.log" || true)
expect_eq "$loud" $((ended + 1)) "loud storage lines while failing (one per episode)"

rm -f "$LW_DATA/filler"
for _ in $(seq 1 300); do kill -0 "$tcp_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$tcp_pid" 2>/dev/null && fail "TCP did not resume within 30 s of freeing space"
wait "$tcp_pid" || fail "loggen (TCP) failed"
tcp_pid=""
wait "$udp_pid" || fail "loggen (UDP) failed"
udp_pid=""
for _ in $(seq 1 100); do grep -q 'storage recovered' "$LW_TMP/serve.log" && break; sleep 0.1; done
grep -q 'storage recovered' "$LW_TMP/serve.log" || fail "no recovery line"
expect_eq "$(metric lw_storage_failing)" 0 "lw_storage_failing after recovery"
lw_stop

sent_tcp=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-tcp.log" | tail -1 | cut -d= -f2)
sent_udp=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-udp.log" | tail -1 | cut -d= -f2)
expect_eq "$sent_tcp" 100000 "loggen TCP sent"
lw_query --zone lgwan --output json >"$LW_TMP/tcp.json"
expect_eq "$(wc -l <"$LW_TMP/tcp.json")" $((102000 + NRANDOM)) "TCP events stored"
unique=$(jq -r '.message | capture("seq: (?<s>[0-9]+), thread: (?<t>[0-9]+), runid: (?<r>[0-9]+)") | "\(.r) \(.t) \(.s)"' \
	"$LW_TMP/tcp.json" | sort -u | wc -l)
expect_eq "$unique" 102000 "distinct TCP (runid, thread, seq)"
stored_udp=$(lw_count --zone internet)
dropped_udp=$(lw_counter dropped_udp)
dropped_kernel=$(lw_counter dropped_kernel)
[ "$dropped_kernel" -gt 0 ] || fail "no kernel drops: the UDP listener read on while the queue was full"
expect_eq "$((stored_udp + dropped_udp + dropped_kernel))" "$sent_udp" \
	"UDP stored ($stored_udp) + dropped_udp ($dropped_udp) + dropped_kernel ($dropped_kernel)"

"$LW_BIN" incidents -d "$LW_DATA" list --status all --output json >"$LW_TMP/incidents.json"
expect_eq "$(jq -r 'select(.rule.id == "logward-storage-failure") | .category' "$LW_TMP/incidents.json")" \
	system-failure "the storage-failure incident (exactly one)"
attempts=$(jq -r 'select(.rule.id == "logward-storage-failure") | .count' "$LW_TMP/incidents.json")
[ "$attempts" -ge 2 ] || fail "storage incident counts $attempts failed attempts, expected retries"
expect_eq "$(jq -r 'select(.rule.id == "logward-persistent-loss" and .group.counter == "dropped_kernel") | .category' \
	"$LW_TMP/incidents.json")" system-failure "the persistent-loss incident for dropped_kernel (exactly one)"
lost=$(jq -r 'select(.rule.id == "logward-persistent-loss" and .group.counter == "dropped_kernel") | .count' \
	"$LW_TMP/incidents.json")
[ "$lost" -gt 0 ] && [ "$lost" -le "$dropped_kernel" ] || fail "loss incident counts $lost of $dropped_kernel drops"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed after the disk was full"
echo "ok: disk full for 8 s: 102000 TCP stored once, UDP $stored_udp stored + $dropped_udp + $dropped_kernel (kernel) dropped of $sent_udp; incidents raised; verify passes"
