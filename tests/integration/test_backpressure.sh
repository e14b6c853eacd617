#!/usr/bin/env bash
# labels: slow
# Backpressure with two TCP listeners and a tiny queue (2 batches of 16
# events), 4 flat-out connections (logward-bench, 2 per listener) for 10 s.
# Oracles:
#  - memory: the daemon's VmRSS, sampled every 0.5 s, never grows more than
#    64 MiB over its value before the load (an earlier version grew by
#    ~15 MB/s: paused connections of one listener kept reading into their
#    framers while another listener was still refused);
#  - loss/duplication: after SIGTERM, stored == sum of the senders' `sent`,
#    and every (listener, sequence number) is stored exactly once;
#  - fairness: each of the 4 connections has at least 5% of the events
#    (an earlier version gave one listener's connections < 1%).
. "$(dirname "$0")/lib.sh"
need jq
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench not built"

SECS=10
GROWTH_MAX_KB=$((64 * 1024))
# ASan keeps freed memory in a quarantine (256 MiB by default), which would
# show as growth; keep it small so VmRSS measures what the daemon holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8:thread_local_quarantine_size_kb=256"

LW_LISTENERS='  - {type: tcp, address: "127.0.0.1:0", zone: a, framing: lf}
  - {type: tcp, address: "127.0.0.1:0", zone: b, framing: lf}' \
	lw_start "queue_batches: 2
batch_events: 16"
PORT_A=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 1p)
PORT_B=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 2p)
[ -n "$PORT_A" ] && [ -n "$PORT_B" ] || fail "two tcp listeners expected in ports file"

rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$LW_PID/status"
}

base=$(rss_kb)
# A starved sender blocks past its duration; the timeout ends the test.
timeout $((SECS + 30)) "$BENCH" --tcp "127.0.0.1:$PORT_A" -d "${SECS}s" -c 2 --json \
	>"$LW_TMP/a.json" 2>"$LW_TMP/a.err" &
pa=$!
timeout $((SECS + 30)) "$BENCH" --tcp "127.0.0.1:$PORT_B" -d "${SECS}s" -c 2 --json \
	>"$LW_TMP/b.json" 2>"$LW_TMP/b.err" &
pb=$!
peak=$base
while kill -0 "$pa" 2>/dev/null || kill -0 "$pb" 2>/dev/null; do
	kill -0 "$LW_PID" 2>/dev/null || fail "serve died under load"
	now=$(rss_kb)
	[ "$now" -gt "$peak" ] && peak=$now
	[ $((now - base)) -lt $GROWTH_MAX_KB ] ||
		fail "VmRSS grew from ${base} kB to ${now} kB under backpressure"
	sleep 0.5
done
wait "$pa" || fail "sender A failed or hung: $(cat "$LW_TMP/a.err")"
wait "$pb" || fail "sender B failed or hung: $(cat "$LW_TMP/b.err")"
sent_a=$(jq -r .sent "$LW_TMP/a.json")
sent_b=$(jq -r .sent "$LW_TMP/b.json")
sent=$((sent_a + sent_b))
echo "VmRSS ${base} kB before, peak ${peak} kB; sent $sent_a + $sent_b"
[ "$(lw_counter backpressure_pauses)" -gt 0 ] || fail "the queue never filled: no backpressure tested"

lw_stop
expect_eq "$(lw_counter stored)" "$sent" "stored after SIGTERM"
# Text lines are "TIME [zone] ... seq=CCCC-NNNNNNNNNNNN" (millions of
# events: text and awk are much faster than json and jq here).
lw_query --output text |
	awk '{split($NF, s, /[=-]/); print $2, s[2], s[3]}' >"$LW_TMP/seqs"
expect_eq "$(sort -u "$LW_TMP/seqs" | wc -l)" "$sent" "distinct (listener, sequence number) pairs"
# Per connection: zone + sender connection number.
awk '{n[$1 " " $2]++} END {for (k in n) print k, n[k]}' "$LW_TMP/seqs" | sort >"$LW_TMP/per_conn"
cat "$LW_TMP/per_conn"
expect_eq "$(wc -l <"$LW_TMP/per_conn")" 4 "connections with stored events"
while read -r zone conn n; do
	[ $((n * 20)) -ge "$sent" ] ||
		fail "connection $conn of listener $zone got $n of $sent events (< 5%)"
done <"$LW_TMP/per_conn"
echo "ok: 2 listeners, 4 connections under backpressure: RSS bounded, all $sent stored once, every connection served"
