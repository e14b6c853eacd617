#!/usr/bin/env bash
# logward-bench sends fixed counts to its own sink over TCP (LF and octet
# counting), UDP, unix stream, unix datagram and TLS, in RFC 3164, RFC 5424
# and replay mode.
# Oracle: the sink's per-connection bitmap of sequence numbers must hold
# exactly the count sent, with no duplicate and no gap (UDP: a gap is
# allowed only where the kernel reported a drop via SO_RXQ_OVFL, and the
# rate is kept modest so there is none).  One TCP run is also read by an
# independent python3 receiver (when python3 exists) that counts lines and
# distinct seq= fields itself.  The sink must also catch a duplicate run
# (exit 1), and the sender must exit 1 on a refused connection and 2 on a
# usage error.  Loopback only; every step is bounded by `timeout`.
set -euo pipefail

: "${LW_BUILD_DIR:?LW_BUILD_DIR must point at the build directory}"
BENCH="$LW_BUILD_DIR/logward-bench"
[ -x "$BENCH" ] || { echo "SKIP: $BENCH is not built" >&2; exit 77; }
command -v timeout >/dev/null 2>&1 || { echo "SKIP: timeout(1) is missing" >&2; exit 77; }

TMP=$(mktemp -d /tmp/logward-bench-it.XXXXXX)
SINK_PID=""
cleanup() {
	if [ -n "$SINK_PID" ] && kill -0 "$SINK_PID" 2>/dev/null; then
		kill -KILL "$SINK_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$TMP"/*.json "$TMP"/*.err; do
		[ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}

# Value of a top-level scalar field of a one-line JSON object.
field() {
	sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'
}

# Starts the sink for transport $1 on address $2 (extra sink options
# follow), waits for its port file and sets ADDR to the bound address.
start_sink() {
	local tr=$1 addr=$2
	shift 2
	rm -f "$TMP/port"
	timeout -k 5 60 "$BENCH" sink "--$tr" "$addr" --port-file "$TMP/port" --json \
		--idle 5s "$@" >"$TMP/sink.json" 2>"$TMP/sink.err" &
	SINK_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TMP/port" ] && break
		kill -0 "$SINK_PID" 2>/dev/null || fail "sink exited at startup"
		sleep 0.05
	done
	[ -s "$TMP/port" ] || fail "sink did not write its port file"
	ADDR=$(awk '{print $2}' "$TMP/port")
}

# Waits for the sink; its exit status goes to SINK_RC.
wait_sink() {
	SINK_RC=0
	wait "$SINK_PID" || SINK_RC=$?
	SINK_PID=""
}

# One exact run: transport $1, sink address $2, count $3, sender options.
exact_run() {
	local tr=$1 addr=$2 n=$3 what
	shift 3
	what="$tr $*"
	start_sink "$tr" "$addr" --count "$n"
	timeout -k 5 60 "$BENCH" "--$tr" "$ADDR" --count "$n" --json "$@" \
		>"$TMP/send.json" 2>"$TMP/send.err" || fail "$what: sender exited with $?"
	wait_sink
	[ "$(field "$TMP/send.json" sent)" = "$n" ] || fail "$what: sender sent $(field "$TMP/send.json" sent)"
	[ "$(field "$TMP/send.json" errors)" = 0 ] || fail "$what: send errors"
	local drops missing
	drops=$(field "$TMP/sink.json" kernel_drops)
	missing=$(field "$TMP/sink.json" missing)
	[ "$(field "$TMP/sink.json" duplicates)" = 0 ] || fail "$what: duplicates"
	[ "$(field "$TMP/sink.json" unparsed)" = 0 ] || fail "$what: unparsed messages"
	if [ "$tr" = udp ] && [ "$drops" != 0 ]; then
		# Loss is acceptable only where the kernel owns up to it.
		[ "$missing" = "$drops" ] || fail "$what: $missing missing but $drops kernel drops"
		echo "note: $what: $drops datagrams dropped by the kernel" >&2
	else
		[ "$SINK_RC" = 0 ] || fail "$what: sink exited with $SINK_RC"
		[ "$(field "$TMP/sink.json" messages)" = "$n" ] || fail "$what: sink counted $(field "$TMP/sink.json" messages)"
		[ "$(field "$TMP/sink.json" unique)" = "$n" ] || fail "$what: sink saw $(field "$TMP/sink.json" unique) distinct"
		[ "$missing" = 0 ] || fail "$what: $missing missing"
	fi
	echo "ok: $what: $n messages, exact"
}

exact_run tcp 127.0.0.1:0 200000 --connections 4 --threads 2
exact_run tcp 127.0.0.1:0 200000 --connections 3 --framing octet
exact_run tcp 127.0.0.1:0 100000 --connections 2 --format rfc5424 --framing octet
exact_run tcp 127.0.0.1:0 50000 --connections 2 --format rfc5424
exact_run tcp 127.0.0.1:0 30000 --rate 100k --connections 2
exact_run udp 127.0.0.1:0 20000 --rate 50k --connections 2
exact_run unix "$TMP/s.sock" 200000 --connections 4
exact_run unix-dgram "$TMP/d.sock" 50000 --connections 2
exact_run tls 127.0.0.1:0 100000 --connections 2 --tls-insecure

printf 'first replayed line\n\n<13>Nov 27 12:00:00 h app[1]: second\r\nthird\n' >"$TMP/replay.txt"
exact_run tcp 127.0.0.1:0 1000 --replay "$TMP/replay.txt"
exact_run udp 127.0.0.1:0 1000 --replay "$TMP/replay.txt" --rate 20k

# Duplicates: the same connection numbers sent twice to one sink.
start_sink tcp 127.0.0.1:0 --stay --idle 1s
timeout -k 5 30 "$BENCH" --tcp "$ADDR" --count 1000 -q || fail "dup run 1"
timeout -k 5 30 "$BENCH" --tcp "$ADDR" --count 400 -q || fail "dup run 2"
wait_sink
[ "$SINK_RC" = 1 ] || fail "sink exited $SINK_RC after duplicates, expected 1"
[ "$(field "$TMP/sink.json" duplicates)" = 400 ] || fail "sink reported $(field "$TMP/sink.json" duplicates) duplicates, expected 400"
echo "ok: duplicates detected"

# An independent receiver counts what one TCP LF run delivered.
if command -v python3 >/dev/null 2>&1; then
	cat >"$TMP/recv.py" <<'PY'
import re, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
s.settimeout(30)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = [s.accept()[0] for _ in range(int(sys.argv[2]))]
data = b""
for c in conns:
    c.settimeout(30)
    while True:
        x = c.recv(1 << 20)
        if not x:
            break
        data += x
lines = data.split(b"\n")
assert lines[-1] == b"", "stream does not end with LF"
lines = lines[:-1]
if len(sys.argv) > 3:
    # --no-seq: every line must be a line of the replayed file, unchanged.
    want = set(open(sys.argv[3], "rb").read().replace(b"\r", b"").split(b"\n")) - {b""}
    print(len(lines), sum(l in want for l in lines))
    sys.exit(0)
seqs = {re.search(rb" seq=(\d{4}-\d{12})$", l).group(1) for l in lines}
print(len(lines), len(seqs))
PY
	timeout -k 5 60 python3 "$TMP/recv.py" "$TMP/pyport" 2 >"$TMP/py.out" 2>"$TMP/py.err" &
	PY_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/pyport" ] && break; sleep 0.05; done
	[ -s "$TMP/pyport" ] || fail "python receiver did not start"
	timeout -k 5 60 "$BENCH" --tcp "127.0.0.1:$(cat "$TMP/pyport")" --count 30001 \
		--connections 2 -q || fail "send to python receiver"
	wait "$PY_PID" || fail "python receiver failed: $(cat "$TMP/py.err")"
	[ "$(cat "$TMP/py.out")" = "30001 30001" ] || fail "python receiver saw: $(cat "$TMP/py.out")"
	echo "ok: independent receiver counted 30001 lines, 30001 distinct seq"
	# --no-seq: the replayed lines arrive exactly as in the file.
	rm -f "$TMP/pyport"
	timeout -k 5 60 python3 "$TMP/recv.py" "$TMP/pyport" 2 "$TMP/replay.txt" >"$TMP/py.out" 2>"$TMP/py.err" &
	PY_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/pyport" ] && break; sleep 0.05; done
	[ -s "$TMP/pyport" ] || fail "python receiver did not start"
	timeout -k 5 60 "$BENCH" --tcp "127.0.0.1:$(cat "$TMP/pyport")" --count 1000 \
		--connections 2 --replay "$TMP/replay.txt" --no-seq -q || fail "send --no-seq"
	wait "$PY_PID" || fail "python receiver failed: $(cat "$TMP/py.err")"
	[ "$(cat "$TMP/py.out")" = "1000 1000" ] || fail "--no-seq: python receiver saw: $(cat "$TMP/py.out")"
	echo "ok: --no-seq: 1000 lines, each a line of the file unchanged"
fi

# Exit codes: a refused connection is a send error (1), nonsense is usage (2).
# The refused port is one we hold bound without listening, so that no
# test running beside this one can take it meanwhile (a port freed by a
# stopped sink could be, and then the send would not be refused).
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1]); time.sleep(60)' "$TMP/held" &
	HOLD_PID=$!
	for _ in $(seq 1 100); do [ -s "$TMP/held" ] && break; sleep 0.05; done
	[ -s "$TMP/held" ] || fail "could not hold a port"
	port=$(cat "$TMP/held")
else
	start_sink tcp 127.0.0.1:0 --idle 1s
	port=${ADDR##*:}
	kill -TERM "$SINK_PID"
	wait_sink
	HOLD_PID=""
fi
rc=0
timeout -k 5 30 "$BENCH" --tcp "127.0.0.1:$port" --count 10 -q 2>/dev/null || rc=$?
[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
[ "$rc" = 1 ] || fail "send to a closed port exited $rc, expected 1"
rc=0
timeout -k 5 30 "$BENCH" --tcp 127.0.0.1:1 --count 10 --framing bogus 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "bad --framing exited $rc, expected 2"
rc=0
timeout -k 5 30 "$BENCH" --count 10 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "missing target exited $rc, expected 2"
rc=0
timeout -k 5 30 "$BENCH" --tcp 127.0.0.1:1 --count 10 --no-seq 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "--no-seq without --replay exited $rc, expected 2"
timeout -k 5 30 "$BENCH" --help > "$TMP/help.txt" || fail "--help failed"
grep -q -- '--unix-dgram' "$TMP/help.txt" || fail "--help does not document --unix-dgram"
echo "ok: exit codes"
