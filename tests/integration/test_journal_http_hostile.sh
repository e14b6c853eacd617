#!/usr/bin/env bash
# Oracle: raw HTTP from Python sockets against a journal-http listener
# with frame_timeout 2s and idle_timeout 10m.
#   1. A request head sent one byte every 300 ms (each byte restarts the
#      idle timeout) is answered 408 and closed within frame_timeout plus
#      the sweep's 25 %, counted once in frame_timeouts; a body entry
#      trickled the same way likewise. A client that sends a whole
#      request in pieces over less than frame_timeout is served (202).
#   2. Two Content-Length headers (equal or not), or two
#      Transfer-Encoding headers, answer 400 and store nothing.
. "$(dirname "$0")/lib.sh"
need python3
need jq

LW_LISTENERS='  - {type: journal-http, address: "127.0.0.1:0", zone: lgwan, frame_timeout: 2s, idle_timeout: 10m}'
lw_start ""
PORT=$(awk '$1 == "journal-http" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
[ -n "$PORT" ] || fail "no journal-http port"

python3 - "$PORT" <<'EOF' || fail "slow request head or body was not cut at frame_timeout"
import socket, sys, time
port = int(sys.argv[1])
CT = b"Content-Type: application/vnd.fdo.journal\r\n"

def trickle(data, limit):
    """Sends data one byte every 300 ms; returns (answer, seconds) once
    the server answers or closes, or (None, limit) if it never does."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(0.3)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < limit:
        if i < len(data):
            try:
                s.send(data[i:i + 1])
            except OSError:
                pass
            i += 1
        try:
            got = s.recv(4096)
            return got, time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return b"", time.monotonic() - t0
    return None, limit

head = b"POST /upload HTTP/1.1\r\nHost: x\r\n" + CT + b"X-Pad: " + b"a" * 200
answer, secs = trickle(head, 8)
if answer is None or not answer.startswith(b"HTTP/1.1 408"):
    sys.exit("slow head: answer %r after %.1f s" % (answer, secs))
if not 1.8 <= secs <= 3.5:
    sys.exit("slow head: answered after %.1f s, frame_timeout is 2 s" % secs)
print("slow head: 408 after %.1f s" % secs)

# A body whose first entry never completes.
body = b"MESSAGE=" + b"x" * 200
req = b"POST /upload HTTP/1.1\r\nHost: x\r\n" + CT + b"Content-Length: 100000\r\n\r\n"
s = socket.create_connection(("127.0.0.1", port))
s.sendall(req)
s.settimeout(0.3)
t0 = time.monotonic()
answer = None
for b in body:
    try:
        s.send(bytes([b]))
        answer = s.recv(4096)
        break
    except socket.timeout:
        pass
    except OSError:
        answer = b""
        break
secs = time.monotonic() - t0
if answer is None or not answer.startswith(b"HTTP/1.1 408"):
    sys.exit("slow entry: answer %r after %.1f s" % (answer, secs))
if not 1.8 <= secs <= 3.5:
    sys.exit("slow entry: answered after %.1f s" % secs)
print("slow entry: 408 after %.1f s" % secs)

# In pieces, but within frame_timeout: served.
entry = b"MESSAGE=in pieces\n_HOSTNAME=h1\n\n"
req = (b"POST /upload HTTP/1.1\r\nHost: x\r\n" + CT +
       b"Content-Length: %d\r\n\r\n" % len(entry) + entry)
s = socket.create_connection(("127.0.0.1", port))
for k in range(0, len(req), 20):
    s.sendall(req[k:k + 20])
    time.sleep(0.05)
s.settimeout(5)
answer = s.recv(4096)
if not answer.startswith(b"HTTP/1.1 202"):
    sys.exit("request in pieces: %r" % answer)
EOF
lw_wait_count 1 10
sleep 0.5
lw_expect_counter frame_timeouts 2

python3 - "$PORT" <<'EOF' || fail "duplicate Content-Length / Transfer-Encoding accepted"
import socket, sys
port = int(sys.argv[1])
entry = b"MESSAGE=smuggled\n\n"
CT = b"Content-Type: application/vnd.fdo.journal\r\n"
cases = {
    "two equal Content-Length": b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(entry), len(entry)),
    "two different Content-Length": b"Content-Length: %d\r\ncontent-length: 5\r\n" % len(entry),
    "two Transfer-Encoding": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
}
for what, headers in cases.items():
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(5)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\n" + CT + headers + b"\r\n" + entry)
    answer = s.recv(4096)
    if not answer.startswith(b"HTTP/1.1 400"):
        sys.exit("%s: answer %r" % (what, answer))
    print("%s: 400" % what)
EOF
sleep 1
expect_eq "$(lw_query --grep smuggled | wc -l)" 0 "events stored from refused requests"
lw_stop
echo "PASS: slow heads and entries are cut at frame_timeout; duplicate length headers are refused"
