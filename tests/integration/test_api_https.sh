#!/usr/bin/env bash
# The console over HTTPS: `api: {cert, key}` serves TLS with the TLS
# listener's context code (collector/tls.c); curl verifying against the
# test CA logs in, the session cookie is marked Secure, HSTS is sent,
# plain HTTP on the same port is refused, `openssl s_client` sees TLS 1.2
# or later, a TLS 1.1 client is refused, and a key that does not match the
# certificate stops startup with a clear message.
. "$(dirname "$0")/lib.sh"
need curl
need jq
. "$(dirname "$0")/tls_lib.sh"
lw_make_certs

printf '%s\n' 'pass-1' | "$LW_BIN" user -d "$LW_DATA" add sato --role viewer --password-stdin >/dev/null ||
	fail "user add"
lw_start "api: {address: \"127.0.0.1:0\", cert: \"$LW_PKI/server.pem\", key: \"$LW_PKI/server.key\"}"
API=$(awk '$1 == "api" {print $2; exit}' "$LW_TMP/ports")
[[ "$API" == https://127.0.0.1:* ]] || fail "api line: '$API'"
PORT=${API##*:}

hdr="$LW_TMP/h"
code=$(curl -s --cacert "$LW_PKI/ca.pem" -D "$hdr" -o "$LW_TMP/b" -w '%{http_code}' \
	-d '{"user":"sato","password":"pass-1"}' "$API/api/v1/login")
expect_eq "$code" 200 "login over HTTPS"
grep -qi '^Set-Cookie: lw_session=.*; HttpOnly; SameSite=Strict; .*Secure' "$hdr" || fail "cookie not Secure: $(grep -i set-cookie "$hdr")"
grep -qi '^Strict-Transport-Security: max-age=' "$hdr" || fail "no HSTS"
expect_eq "$(jq -r .role "$LW_TMP/b")" viewer "role"
if curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/api/v1/health"; then
	fail "plain HTTP answered on the HTTPS port"
fi
if curl -s -o /dev/null --max-time 5 "$API/api/v1/health" 2>/dev/null; then
	fail "curl without the CA trusted the certificate"
fi
# "New, TLSv1.3, Cipher is ..." (no session block: the server sends no tickets)
proto=$(echo | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$LW_PKI/ca.pem" 2>/dev/null |
	awk '/^New, / {sub(/,$/, "", $2); print $2; exit}')
[[ "$proto" == TLSv1.2 || "$proto" == TLSv1.3 ]] || fail "protocol '$proto'"
if echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 >/dev/null 2>&1; then
	fail "a TLS 1.1 handshake succeeded"
fi
lw_stop

# a key that does not belong to the certificate: startup fails, saying so
cat > "$LW_TMP/bad.yml" <<YAML
data_dir: $LW_DATA
listeners: [{type: tcp, address: "127.0.0.1:0"}]
api: {address: "127.0.0.1:0", cert: "$LW_PKI/server.pem", key: "$LW_PKI/other.key"}
YAML
if "$LW_BIN" serve -c "$LW_TMP/bad.yml" >"$LW_TMP/bad.log" 2>&1; then
	fail "serve started with a mismatched key"
fi
grep -q "cannot start the console: .*does not match certificate" "$LW_TMP/bad.log" ||
	fail "startup message: $(cat "$LW_TMP/bad.log")"
