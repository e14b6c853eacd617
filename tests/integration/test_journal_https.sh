#!/usr/bin/env bash
# Oracle: systemd-journal-upload and curl over HTTPS. A journal-http
# listener with cert, key, ca and verify_client speaks HTTPS:
#  - systemd-journal-upload with --trust/--key/--cert uploads a journal
#    file made by systemd-journal-remote: all 30 entries stored, fields
#    exact, each with the client certificate's tls.client.subject and
#    tls.client.issuer;
#  - curl with the client certificate: 202, entries stored; 20,000
#    entries in one chunked body through 2 small batches (backpressure
#    over TLS): every one stored once;
#  - curl without a client certificate, and plain HTTP to the port: no
#    upload, nothing stored, counted in tls_handshake_failed;
#  - a client that connects and never starts the handshake is closed
#    after handshake_timeout (tls_handshake_timeouts) while another
#    upload goes through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need openssl
need curl
need python3
REMOTE=/lib/systemd/systemd-journal-remote
UPLOAD=/lib/systemd/systemd-journal-upload
[ -x "$REMOTE" ] && [ -x "$UPLOAD" ] || skip "systemd-journal-remote package is not installed"

lw_make_certs
P="$LW_PKI"
LW_LISTENERS="  - {type: journal-http, address: \"127.0.0.1:0\", zone: lgwan,
     cert: $P/server.pem, key: $P/server.key, ca: $P/ca.pem, verify_client: true,
     handshake_timeout: 1s}"
lw_start "queue_batches: 2
batch_events: 256"
PORT=$(lw_port_of journal-http)
[ -n "$PORT" ] || fail "no journal-http port in the ports file"

python3 - "$LW_TMP/up.export" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(30):
        f.write("__REALTIME_TIMESTAMP=%d\n_HOSTNAME=https-host\nSYSLOG_IDENTIFIER=sshd\n"
                "_PID=%d\nPRIORITY=6\nMESSAGE=over https %d\n\n" % (1700000000000000 + i, 100 + i, i))
PY
"$REMOTE" -o "$LW_TMP/up.journal" "$LW_TMP/up.export" 2>"$LW_TMP/remote.log" ||
	fail "systemd-journal-remote: $(cat "$LW_TMP/remote.log")"

# A stuck client: TCP connected, no ClientHello.
python3 - "$PORT" "$LW_TMP/stuck.out" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.monotonic()
s.settimeout(10)
try:
    got = s.recv(1)
except Exception:
    got = b"?"
open(sys.argv[2], "w").write("%s %.1f\n" % ("closed" if got == b"" else "open", time.monotonic() - t0))
PY
stuck=$!

timeout 60 "$UPLOAD" --follow=no --url="https://127.0.0.1:$PORT" --trust="$P/ca.pem" \
	--key="$P/client.key" --cert="$P/client.pem" --file="$LW_TMP/up.journal" \
	>"$LW_TMP/upload.log" 2>&1 || fail "systemd-journal-upload over HTTPS failed: $(tail -3 "$LW_TMP/upload.log")"
lw_wait_count 30 30
expect_eq "$(lw_count --host https-host)" 30 "entries uploaded over HTTPS"
lw_query --host https-host --output json | jq -r '[.message, .process.name, (.process.pid|tostring), .labels.zone, .log.syslog.severity.name] | join("|")' |
	sort -t' ' -k3n | head -1 > "$LW_TMP/first"
expect_eq "$(cat "$LW_TMP/first")" "over https 0|sshd|100|lgwan|info" "fields of the first entry"
expect_eq "$(lw_query --host https-host --output json | jq -r '.tls.client.subject' | sort -u)" \
	"CN=web01.example,O=logward test" "tls.client.subject of every entry"
expect_eq "$(lw_query --host https-host --output json | jq -r '.tls.client.issuer' | sort -u)" \
	"CN=logward test CA" "tls.client.issuer of every entry"

# curl with the client certificate.
code=$(curl -sS -o "$LW_TMP/curl.answer" -w '%{http_code}' --cacert "$P/ca.pem" \
	--cert "$P/client.pem" --key "$P/client.key" \
	-H 'Content-Type: application/vnd.fdo.journal' \
	--data-binary $'MESSAGE=from curl\n_HOSTNAME=curl-host\n\n' "https://127.0.0.1:$PORT/upload")
expect_eq "$code" 202 "curl over HTTPS with a client certificate"
lw_wait_count 31 30

python3 - "$LW_TMP/bulk.export" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write("__REALTIME_TIMESTAMP=%d\n_HOSTNAME=bulk\nMESSAGE=bulk entry %d\n\n"
                % (1700000000000000 + i, i))
PY
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$P/ca.pem" \
	--cert "$P/client.pem" --key "$P/client.key" -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/vnd.fdo.journal' \
	--data-binary @"$LW_TMP/bulk.export" "https://127.0.0.1:$PORT/upload")
expect_eq "$code" 202 "bulk upload over HTTPS"
lw_wait_count 20031 60
lw_query --host bulk --output json | jq -r .message | sort -u > "$LW_TMP/bulk.got"
expect_eq "$(wc -l < "$LW_TMP/bulk.got")" 20000 "distinct bulk entries"

# No client certificate; plain HTTP to the HTTPS port.
curl -sS -o /dev/null --cacert "$P/ca.pem" -H 'Content-Type: application/vnd.fdo.journal' \
	--data-binary $'MESSAGE=no cert\n_HOSTNAME=nocert-host\n\n' "https://127.0.0.1:$PORT/upload" \
	2>/dev/null && fail "an upload without a client certificate was accepted"
curl -sS -o /dev/null --max-time 5 -H 'Content-Type: application/vnd.fdo.journal' \
	--data-binary $'MESSAGE=plain\n_HOSTNAME=plain-host\n\n' "http://127.0.0.1:$PORT/upload" \
	2>/dev/null && fail "a plain HTTP upload to the HTTPS port was answered"

wait "$stuck"
read -r state secs < "$LW_TMP/stuck.out"
expect_eq "$state" closed "the stuck handshake"
python3 -c "import sys; sys.exit(0 if 0.5 <= $secs <= 5 else 1)" ||
	fail "the stuck handshake was closed after $secs s (handshake_timeout 1s)"
lw_stop
expect_eq "$(lw_count --host nocert-host)" 0 "stored without a client certificate"
expect_eq "$(lw_count --host plain-host)" 0 "stored from plain HTTP"
expect_eq "$(lw_count)" 20031 "events in all"
[ "$(lw_counter tls_handshake_failed)" -ge 2 ] || fail "tls_handshake_failed: $(lw_counter tls_handshake_failed)"
[ "$(lw_counter tls_handshake_timeouts)" -ge 1 ] || fail "tls_handshake_timeouts: $(lw_counter tls_handshake_timeouts)"
echo "ok: HTTPS journal-http: systemd-journal-upload 30/30, curl 1 + 20000 through 2 small batches, with a client certificate; none without; stuck handshake closed in $secs s"
