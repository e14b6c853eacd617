#!/usr/bin/env bash
# labels: slow
# Flow control over TLS, where decrypted bytes can wait inside the
# bufferevent with no socket event to announce them:
#  - backpressure: a tiny queue (2 batches of 16 events), 2 flat-out TLS
#    connections (logward-bench) for 5 s: after SIGTERM stored == sent,
#    every sequence number once;
#  - rate limit: python's ssl module sends 6,000 messages on one
#    connection to a listener limited to 2,000/s (burst 2,000). The
#    connection is slowed (rate_limited_paused > 0), and every message is
#    stored while the daemon runs (no stall waiting for the stop's drain),
#    no sooner than the rate allows (>= 1.5 s).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need jq
need python3
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench not built"

lw_make_certs
P=$LW_PKI
LW_LISTENERS="  - {type: tls, address: \"127.0.0.1:0\", zone: a, framing: octet,
     cert: \"$P/server.pem\", key: \"$P/server.key\"}
  - {type: tls, address: \"127.0.0.2:0\", zone: b,
     cert: \"$P/server.pem\", key: \"$P/server.key\",
     rate_limit: {events_per_second: 2000, burst: 2000}}" lw_start "queue_batches: 2
batch_events: 16"
port_a=$(awk '$1 == "tls" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 1p)
port_b=$(awk '$1 == "tls" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 2p)

# ---- rate limit ---------------------------------------------------------
t0=$(date +%s.%N)
python3 - "$port_b" "$P/ca.pem" <<'PY' || fail "python TLS sender failed"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.2", int(sys.argv[1]))),
                    server_hostname="localhost")
# One write: the sender outruns 2,000/s however loaded the machine is
# (a sendall per message could fall below the rate and never be slowed).
frames = []
for i in range(6000):
    m = b"<13>1 2026-11-27T10:00:00Z limited app - - - n=%d" % i
    frames.append(b"%d %s" % (len(m), m))
s.sendall(b"".join(frames))
s.close()
PY
lw_wait_count 6000 20
t1=$(date +%s.%N)
secs=$(echo "$t1 - $t0" | bc)
echo "6000 messages at 2000/s (burst 2000) stored after $secs s"
awk -v t="$secs" 'BEGIN { exit !(t >= 1.5) }' || fail "stored in $secs s: faster than the rate limit allows"

# ---- backpressure ---------------------------------------------------------
timeout 60 "$BENCH" --tls "127.0.0.1:$port_a" --tls-ca "$P/ca.pem" --tls-servername localhost \
	--framing octet -d 5s -c 2 --json >"$LW_TMP/bench.json" 2>"$LW_TMP/bench.err" ||
	fail "logward-bench failed: $(cat "$LW_TMP/bench.err")"
sent=$(jq -r .sent "$LW_TMP/bench.json")
lw_stop

expect_eq "$(lw_count --zone b)" 6000 "rate-limited connection: stored"
expect_eq "$(lw_query --output json --zone b | jq -r .message | sort -u | wc -l)" 6000 "distinct messages"
[ "$(lw_counter rate_limited_paused)" -gt 0 ] || fail "rate_limited_paused is 0"
expect_eq "$(lw_count --zone a)" "$sent" "backpressure: stored after SIGTERM"
expect_eq "$(lw_query --output text --zone a | awk '{print $NF}' | sort -u | wc -l)" "$sent" \
	"backpressure: distinct sequence numbers"
[ "$(lw_counter backpressure_pauses)" -gt 0 ] || fail "the queue never filled: no backpressure tested"
echo "ok: TLS under backpressure ($sent messages) and under a rate limit: nothing lost, nothing stalled"
