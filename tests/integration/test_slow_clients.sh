#!/usr/bin/env bash
# Slow and idle clients never stall other senders, and are timed out:
#  - 1,000 TCP connections that send nothing are closed after idle_timeout
#    (connections_idle_closed = 1000);
#  - a slowloris that sends one byte every 0.4 s and never ends its frame
#    is cut after frame_timeout: the partial frame is stored flagged
#    truncated, the connection closed, frame_timeouts = 1;
#  - while both are open, util-linux `logger` sends 200 messages over TCP
#    and all are stored within a few seconds.
. "$(dirname "$0")/lib.sh"
need jq
need python3
need logger

ulimit -n 4096 2>/dev/null || skip "cannot raise the fd limit to 4096"
LW_LISTENERS="  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan, framing: auto,
     idle_timeout: 4s, frame_timeout: 2s, max_connections: 2000,
     max_connections_per_source: 2000}" lw_start
port=$LW_TCP_PORT

python3 - "$port" > "$LW_TMP/slow.out" 2>&1 <<'PY' &
import select, socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
t0 = time.monotonic()
slow = socket.create_connection(("127.0.0.1", port))
frame = b"<13>1 2026-11-27T10:00:00Z h1 app - - - slowloris never ends this frame"
sent, slow_closed = 0, None
open_idle = set(idle)
while time.monotonic() - t0 < 15 and (open_idle or slow_closed is None):
    if slow_closed is None and sent < len(frame):
        try:
            slow.send(frame[sent:sent + 1])
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            slow_closed = time.monotonic() - t0
    rd, _, _ = select.select(list(open_idle) + ([slow] if slow_closed is None else []), [], [], 0.4)
    for s in rd:
        try:
            eof = s.recv(1) == b""
        except ConnectionResetError:
            eof = True
        if not eof:
            continue
        if s is slow:
            slow_closed = time.monotonic() - t0
        else:
            open_idle.discard(s)
print("slow_closed_after", round(slow_closed or -1, 1), "bytes_sent", sent)
print("idle_still_open", len(open_idle), "after", round(time.monotonic() - t0, 1))
PY
slow_pid=$!
sleep 1.5 # the idle connections are open and the slowloris is dribbling
t0=$(date +%s.%N)
for i in $(seq 1 200); do
	echo "good sender message $i"
done | logger --tcp --octet-count -n 127.0.0.1 -P "$port" -t goodapp --rfc5424 ||
	fail "logger failed"
lw_wait_count 200 10
t1=$(date +%s.%N)
echo "200 messages stored $(echo "$t1 - $t0" | bc) s after the first was sent"
wait "$slow_pid" || fail "slow client script: $(cat "$LW_TMP/slow.out")"
cat "$LW_TMP/slow.out"
read -r _ slow_after _ sent < "$LW_TMP/slow.out"
awk -v t="$slow_after" 'BEGIN { exit !(t >= 2 && t <= 4.5) }' ||
	fail "slowloris closed after $slow_after s (frame_timeout 2s)"
read -r _ still_open _ _ < <(sed -n 2p "$LW_TMP/slow.out")
expect_eq "$still_open" 0 "idle connections still open after idle_timeout"
lw_stop

lw_query --output json > "$LW_TMP/all.json"
expect_eq "$(jq -r 'select(.process.name == "goodapp") | .message' "$LW_TMP/all.json" | sort -u | wc -l)" 200 \
	"distinct messages of the good sender"
partial=$(jq -r 'select(.process.name != "goodapp")' "$LW_TMP/all.json")
expect_eq "$(echo "$partial" | jq -s length)" 1 "events from the slowloris"
full="<13>1 2026-11-27T10:00:00Z h1 app - - - slowloris never ends this frame"
msg=$(echo "$partial" | jq -r '.message')
flags=$(echo "$partial" | jq -c '.logward.flags')
echo "slowloris event: message='$msg' flags=$flags"
echo "$flags" | grep -q '"truncated"' || fail "slowloris frame not flagged truncated: $flags"
expect_eq "$(lw_counter frame_timeouts)" 1 "frame_timeouts"
expect_eq "$(lw_counter connections_idle_closed)" 1000 "connections_idle_closed"
expect_eq "$(lw_counter framing_errors)" 1 "framing_errors (the cut frame)"
echo "ok: slowloris cut, 1000 idle connections closed, the good sender was not stalled"
