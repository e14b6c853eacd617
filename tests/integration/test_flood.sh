#!/usr/bin/env bash
# Flood protection (per-source rate limit), bounded in count and time.
# Listeners: tcp and udp with rate_limit {events_per_second: 2000,
# burst: 2000, max_sources: 256}.
#  - TCP: a flooder from 127.0.0.1 writes flat out for 5 s while a good
#    sender from 127.0.0.2 sends 300 messages at 100/s on the same
#    listener. All 300 are stored within 5 s of the last one; while the
#    flood runs the flooder is held near its rate (stored <= burst + rate *
#    elapsed, with slack); it was slowed (rate_limited_paused > 0), not
#    dropped: after the stop every message it wrote is stored.
#  - UDP: 60,000 datagrams flat out from 127.0.0.1 and 200 from 127.0.0.2
#    at 100/s: all 200 stored; the flooder's stored + rate_limited_dropped
#    + dropped_udp + dropped_kernel = 60,000.
#  - UDP from 5,000 distinct source addresses (127.1.x.y): the bucket
#    table is fixed (256 slots): VmRSS grows by less than 32 MiB.
. "$(dirname "$0")/lib.sh"
need jq
need python3

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8:thread_local_quarantine_size_kb=256"
RL="rate_limit: {events_per_second: 2000, burst: 2000, max_sources: 256}"
LW_LISTENERS="  - {type: udp, address: \"127.0.0.1:0\", zone: internet, $RL}
  - {type: tcp, address: \"127.0.0.1:0\", zone: internet, $RL}" lw_start

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$LW_PID/status"; }
base_rss=$(rss_kb)

# ---- TCP ---------------------------------------------------------------
python3 - "$LW_TCP_PORT" > "$LW_TMP/tcp_flood.out" 2>&1 <<'PY' &
import select, socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.1", 0))
s.setblocking(False)
buf, n, t0 = b"", 0, time.monotonic()
while time.monotonic() - t0 < 5:
    if not buf:
        frames = []
        for i in range(n, n + 1000):
            m = b"<13>1 2026-11-27T10:00:00Z flood app - - - flood %d" % i
            frames.append(b"%d %s" % (len(m), m))
        n += 1000
        buf = b"".join(frames)
    select.select([], [s], [], 0.1)
    try:
        buf = buf[s.send(buf):]
    except BlockingIOError:
        pass
s.setblocking(True)
s.sendall(buf)  # whole frames only: finish the last batch
s.close()
print(n)
PY
flood_pid=$!
t_start=$(date +%s.%N)
python3 - "$LW_TCP_PORT" <<'PY' || fail "good TCP sender failed"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), source_address=("127.0.0.2", 0))
for i in range(300):
    m = b"<13>1 2026-11-27T10:00:00Z good app - - - good tcp %d" % i
    s.sendall(b"%d %s" % (len(m), m))
    time.sleep(0.01)
s.close()
PY
t_good_done=$(date +%s.%N)
for _ in $(seq 1 25); do
	good=$(lw_query --output json --host good | wc -l)
	[ "$good" -ge 300 ] && break
	sleep 0.2
done
expect_eq "$good" 300 "good TCP sender's messages stored within 5 s of its last one"
t_now=$(date +%s.%N)
flood_stored=$(lw_query --output json --host flood | wc -l)
bound=$(echo "2000 + 2000 * ($t_now - $t_start) * 1.2 + 2000" | bc | cut -d. -f1)
echo "tcp: good stored $good; flooder stored $flood_stored after $(echo "$t_now - $t_start" | bc) s (bound $bound)"
[ "$flood_stored" -le "$bound" ] || fail "flooder not held to its rate: $flood_stored stored, bound $bound"
wait "$flood_pid" || fail "flooder failed: $(cat "$LW_TMP/tcp_flood.out")"
flood_sent=$(cat "$LW_TMP/tcp_flood.out")

# ---- UDP ---------------------------------------------------------------
python3 - "$LW_UDP_PORT" > "$LW_TMP/udp_flood.out" 2>&1 <<'PY' &
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
for i in range(60000):
    u.sendto(b"<13>1 2026-11-27T10:00:00Z udpflood app - - - flood %d" % i, ("127.0.0.1", int(sys.argv[1])))
PY
uflood_pid=$!
python3 - "$LW_UDP_PORT" <<'PY' || fail "good UDP sender failed"
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.2", 0))
for i in range(200):
    u.sendto(b"<13>1 2026-11-27T10:00:00Z udpgood app - - - good udp %d" % i, ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.01)
PY
wait "$uflood_pid" || fail "UDP flooder failed: $(cat "$LW_TMP/udp_flood.out")"
for _ in $(seq 1 25); do
	ugood=$(lw_query --output json --host udpgood | wc -l)
	[ "$ugood" -ge 200 ] && break
	sleep 0.2
done
expect_eq "$ugood" 200 "good UDP sender's datagrams stored"

# ---- many sources: fixed memory ----------------------------------------
python3 - "$LW_UDP_PORT" <<'PY' || fail "many-source sender failed"
import socket, sys
port = int(sys.argv[1])
for i in range(5000):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.1.%d.%d" % (i // 250, i % 250 + 1), 0))
    for _ in range(3):
        u.sendto(b"<13>1 2026-11-27T10:00:00Z spoof app - - - many sources", ("127.0.0.1", port))
    u.close()
PY
sleep 1
peak_rss=$(rss_kb)
echo "VmRSS ${base_rss} kB before the floods, ${peak_rss} kB after"
[ $((peak_rss - base_rss)) -lt $((32 * 1024)) ] || fail "VmRSS grew by $((peak_rss - base_rss)) kB"
lw_stop

# ---- after the stop ------------------------------------------------------
expect_eq "$(lw_count --host flood)" "$flood_sent" "TCP flooder: every message it wrote is stored (slowed, not dropped)"
expect_eq "$(lw_count --host good)" 300 "good TCP sender"
[ "$(lw_counter rate_limited_paused)" -gt 0 ] || fail "rate_limited_paused is 0"
uflood_stored=$(lw_count --host udpflood)
dropped=$(( $(lw_counter rate_limited_dropped) + $(lw_counter dropped_udp) + $(lw_counter dropped_kernel) ))
spoof_stored=$(lw_count --host spoof)
echo "udp: flooder stored $uflood_stored; many-source stored $spoof_stored; dropped (rate + queue + kernel) $dropped"
expect_eq "$((uflood_stored + spoof_stored + dropped))" 75000 "UDP flood + many sources: stored + dropped"
expect_eq "$spoof_stored" 15000 "many sources, 3 datagrams each, all within their burst"
[ "$(lw_counter rate_limited_dropped)" -gt 0 ] || fail "rate_limited_dropped is 0"
echo "ok: floods held to their rate limits; good senders unaffected; memory fixed"
