#!/usr/bin/env bash
# labels: slow
# Mutual TLS with real clients (openssl s_client) on a tls listener with
# verify_client: true:
#  - no client certificate: the handshake is refused, counted in
#    tls_handshake_failed, and nothing is stored;
#  - a certificate from another CA: refused the same way;
#  - the CA's client certificate: its message is stored with
#    tls.client.subject and tls.client.issuer exact;
#  - a client that connects and never finishes the handshake is closed
#    after handshake_timeout (counted), while a good client is served;
#  - bad certificate/key paths and a key that does not match are startup
#    errors naming the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need jq
need python3

lw_make_certs
P=$LW_PKI
# A second CA and a client certificate it signed: valid, but not ours.
(cd "$P" && openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue-ca.key -out rogue-ca.pem \
	-days 2 -subj "/CN=rogue CA" &&
	openssl req -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.csr -subj "/CN=rogue" &&
	openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key -CAcreateserial \
		-out rogue.pem -days 2) >>"$LW_TMP/pki.log" 2>&1 || fail "rogue certificates"

# ---- startup errors name the file --------------------------------------
start_error() { # $1 = listener yaml; prints serve's stderr
	printf 'data_dir: %s\nlisteners:\n%s\n' "$LW_TMP/bad" "$1" > "$LW_TMP/bad.yml"
	if "$LW_BIN" serve -c "$LW_TMP/bad.yml" > "$LW_TMP/bad.out" 2>&1; then
		fail "serve started with a bad TLS config: $1"
	fi
	cat "$LW_TMP/bad.out"
}
out=$(start_error "  - {type: tls, address: \"127.0.0.1:0\", cert: \"$P/missing.pem\", key: \"$P/server.key\"}")
echo "$out" | grep -q "cannot read TLS certificate '$P/missing.pem': No such file or directory" ||
	fail "missing certificate: $out"
out=$(start_error "  - {type: tls, address: \"127.0.0.1:0\", cert: \"$P/server.pem\", key: \"$P/other.key\"}")
echo "$out" | grep -q "TLS key '$P/other.key' does not match certificate '$P/server.pem'" ||
	fail "mismatched key: $out"
out=$(start_error "  - {type: tls, address: \"127.0.0.1:0\", cert: \"$P/server.key\", key: \"$P/server.key\"}")
echo "$out" | grep -q "cannot load TLS certificate '$P/server.key'" || fail "key given as certificate: $out"
out=$(start_error "  - {type: tls, address: \"127.0.0.1:0\", cert: \"$P/server.pem\", key: \"$P/server.key\", verify_client: true}")
echo "$out" | grep -q "verify_client needs 'ca'" || fail "verify_client without ca: $out"

# ---- mutual TLS --------------------------------------------------------
LW_LISTENERS="  - {type: tls, address: \"127.0.0.1:0\", zone: lgwan, handshake_timeout: 1s,
     cert: \"$P/server.pem\", key: \"$P/server.key\", ca: \"$P/ca.pem\", verify_client: true}" lw_start
port=$(lw_port_of tls)

send() { # $1 = message, then s_client options
	local msg=$1
	shift
	printf '%d %s' "${#msg}" "$msg" |
		timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$P/ca.pem" -quiet "$@" \
		>>"$LW_TMP/s_client.log" 2>&1 || true
}

send "<13>1 2026-11-27T10:00:00Z h1 app - - - without a certificate"
send "<13>1 2026-11-27T10:00:00Z h1 app - - - rogue certificate" -cert "$P/rogue.pem" -key "$P/rogue.key"

# A client that opens TCP, sends the first bytes of a ClientHello and then
# nothing: the server must close it after handshake_timeout (1 s).
python3 - "$port" > "$LW_TMP/stuck.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x16\x03\x01")
t0 = time.monotonic()
s.settimeout(20)
try:
    data = s.recv(100)
except (ConnectionResetError, socket.timeout):
    data = None
print("closed" if data == b"" else "not closed", round(time.monotonic() - t0))
PY
stuck=$!
# Meanwhile a good client is served at once.
send "<13>1 2026-11-27T10:00:00Z h1 app - - - while one is stuck" -cert "$P/client.pem" -key "$P/client.key"
wait "$stuck"
read -r verdict secs < "$LW_TMP/stuck.out"
expect_eq "$verdict" closed "stuck handshake"
[ "$secs" -le 3 ] || fail "stuck handshake closed after $secs s, handshake_timeout is 1 s"

send "<13>1 2026-11-27T10:00:01Z h1 app - - - with the client certificate" -cert "$P/client.pem" -key "$P/client.key"
lw_wait_count 2 20
lw_stop

lw_query --output json > "$LW_TMP/all.json"
expect_eq "$(wc -l < "$LW_TMP/all.json")" 2 "stored events (only the two with the client certificate)"
expect_eq "$(jq -r 'select(.message == "with the client certificate") | .tls.client.subject' "$LW_TMP/all.json")" \
	"CN=web01.example,O=logward test" "tls.client.subject"
expect_eq "$(jq -r 'select(.message == "with the client certificate") | .tls.client.issuer' "$LW_TMP/all.json")" \
	"CN=logward test CA" "tls.client.issuer"
expect_eq "$(jq -r 'select(.message == "while one is stuck") | .tls.client.subject' "$LW_TMP/all.json")" \
	"CN=web01.example,O=logward test" "tls.client.subject of the second event"
expect_eq "$(lw_count --field 'tls.client.subject=CN=web01.example,O=logward test')" 2 "query by tls.client.subject"
expect_eq "$(lw_counter tls_handshake_failed)" 2 "refused handshakes (no certificate, rogue CA)"
expect_eq "$(lw_counter tls_handshake_timeouts)" 1 "handshake timeouts"
grep -q "TLS handshake failed.*peer did not return a certificate" "$LW_TMP/serve.log" ||
	fail "the refusal is not logged with its reason"
echo "ok: mutual TLS refuses clients without a valid certificate, records the subject, times out stuck handshakes"
