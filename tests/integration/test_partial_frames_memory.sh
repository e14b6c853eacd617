#!/usr/bin/env bash
# labels: slow
# Oracle: the daemon's VmRSS (/proc/PID/status). First 120 MB of complete
# 60 KB lines over one TCP connection warm every pool (batch arenas,
# segment builder): RSS then is R1, what the daemon keeps by design.
# Then 2,000 connections from 2,000 loopback addresses each send 60 KB
# of a frame and hold it (the framers hold ~120 MB), and close: the
# partial frames are stored, and RSS must come back to within 48 MB of
# R1. Before, the framers' buffers came from malloc and stayed with the
# process after the connections closed (Release: 5 -> 253 -> 91-157 MB
# for 4,000 such frames; here under ASan the same test ended 178 MB
# above R1).
. "$(dirname "$0")/lib.sh"
need python3
ulimit -n 8192 2>/dev/null || skip "cannot raise the fd limit to 8192"
# ASan keeps freed memory in a quarantine (256 MiB by default), which would
# show as memory held; keep it small so VmRSS measures what the daemon holds.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8:thread_local_quarantine_size_kb=256"
LW_LISTENERS='  - {type: tcp, address: "127.0.0.1:0", zone: lgwan, framing: lf}'
lw_start ""
python3 - "$LW_TCP_PORT" "$LW_PID" "$LW_BIN" "$LW_DATA" > "$LW_TMP/rss.out" 2>&1 <<'PY' || fail "$(cat "$LW_TMP/rss.out")"
import json, socket, subprocess, sys, time
port, pid, lw, data = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rss():
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS"):
            return int(l.split()[1]) // 1024
def stored():
    out = subprocess.run([lw, "stats", "-d", data, "--output", "json"],
                         capture_output=True, text=True).stdout
    return json.loads(out)["events"] if out else 0
def settle(events=None):
    """RSS once the daemon is done: every event committed (on a loaded
    machine that takes longer than any fixed sleep), then 2 s more."""
    deadline = time.monotonic() + 90
    while events is not None and stored() < events and time.monotonic() < deadline:
        time.sleep(0.5)
    if events is not None and stored() < events:
        sys.exit("only %d of %d events stored" % (stored(), events))
    time.sleep(2)
    return rss()
s = socket.create_connection(("127.0.0.1", port))
line = b"w" * 59999 + b"\n"
for _ in range(2000):
    s.sendall(line)
s.close()
r1 = settle(2000)
conns = []
for i in range(2000):
    c = socket.socket()
    c.bind(("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 0))
    c.connect(("127.0.0.1", port))
    c.sendall(b"p" * 60000)
    conns.append(c)
held = settle()
for c in conns:
    c.close()
r2 = settle(4000)
print("RSS MB: after complete lines %d, partial frames held %d, after they closed %d" % (r1, held, r2))
if held - r1 < 60:
    sys.exit("the partial frames were not held (%d -> %d MB)" % (r1, held))
if r2 - r1 > 48:
    sys.exit("RSS stayed %d MB above what the daemon held before the partial frames" % (r2 - r1))
PY
cat "$LW_TMP/rss.out"
lw_stop
echo "PASS: memory of partial frames goes back when their connections close"
