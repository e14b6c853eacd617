#!/usr/bin/env bash
# Oracle: the kernel's file size limit (ulimit -f) makes every LMDB commit
# fail, as a full disk would. Under a flat-out sender the daemon must push
# back (memory stays bounded instead of buffering), keep logging why, and
# still stop within seconds on SIGTERM, exiting non-zero with the reason.
. "$(dirname "$0")/lib.sh"
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench not built"

# Each failed commit frees its buffers; ASan's quarantine would hold them
# (up to 256 MB) and look like growth, so keep it small here.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4"
trap '' XFSZ         # a write past the limit fails with EFBIG, no signal
ulimit -f 8000       # ~8 MB: the store fills within a second
# A small pipeline (8 batches of at most 1 MiB, 1 MiB segments: about
# 10 MiB held at most) reaches its bound within the first seconds even on
# a loaded machine, so growth after that can only be a leak or buffering
# that ignores the bound. With the defaults (64 batches, 8 MiB segments:
# ~80 MiB) a busy machine was still filling the queue at 4 s.
LW_STORAGE="segment_bytes: 1MiB" lw_start "queue_batches: 8"
"$BENCH" --tcp "127.0.0.1:$LW_TCP_PORT" -d 14s -c 2 -q >/dev/null 2>&1 &
sender=$!
rss() { awk '/VmRSS/ {print $2}' "/proc/$LW_PID/status"; }
# The highest RSS sampled every 0.25 s for 4 s. Each failed commit
# attempt (250 ms doubling to 5 s) builds and frees a compressed segment,
# so RSS moves by tens of MB inside a window: two single samples 4 s
# apart differed by up to 32 MB with nothing growing (main, 2026-12);
# the peaks of two windows do not. Buffering without bound (what this
# guards against: reads going on while nothing can be stored) moves the
# peak by more than the bound either way.
peak_rss() {
	local peak=0 now
	for _ in $(seq 1 16); do
		now=$(rss)
		[ "$now" -gt "$peak" ] && peak=$now
		sleep 0.25
	done
	echo "$peak"
}
sleep 3
before=$(peak_rss)
after=$(peak_rss)
[ $((after - before)) -lt 32768 ] || fail "memory grew by $((after - before)) KiB in 4 s while commits failed"
grep -q 'cannot commit segment' "$LW_TMP/serve.log" || fail "commit failures were not logged"

kill -TERM "$LW_PID"
rc=0
for _ in $(seq 1 150); do kill -0 "$LW_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LW_PID" 2>/dev/null && fail "serve did not stop within 15 s while storage was failing"
wait "$LW_PID" || rc=$?
LW_PID=""
kill "$sender" 2>/dev/null || true
wait "$sender" 2>/dev/null || true
[ "$rc" -ne 0 ] || fail "serve exited 0 although events could not be stored"
grep -q 'dropping queued events' "$LW_TMP/serve.log" || fail "the loss at stop was not reported"
echo "ok: peak RSS grew $((after - before)) KiB in 4 s of failing commits; stopped with rc=$rc"
