#!/usr/bin/env bash
# Oracle: `openssl s_client` (the OpenSSL command line, not our code)
# offering one cipher or protocol at a time to a tls listener and to a
# journal-http listener over HTTPS. With the default policy (Mozilla's
# "intermediate": TLS 1.2 with ECDHE and AEAD only, TLS 1.3):
#   refused: AES128-SHA (static RSA, CBC, SHA-1; accepted before),
#            ECDHE-RSA-AES128-SHA (CBC), AES128-GCM-SHA256 (static RSA),
#            DHE-RSA-AES128-GCM-SHA256, TLS 1.1;
#   accepted: ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384,
#            ECDHE-RSA-CHACHA20-POLY1305, TLS 1.3 (each suite).
# Each refusal is counted in tls_handshake_failed. A listener with
# `ciphers` and `ciphersuites` allows exactly those; a list that selects
# nothing stops the start with a message naming it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need python3
lw_make_certs
P="$LW_PKI"

LW_LISTENERS="  - {type: tls, address: \"127.0.0.1:0\", zone: lgwan, cert: \"$P/server.pem\", key: \"$P/server.key\"}
  - {type: journal-http, address: \"127.0.0.1:0\", zone: lgwan, cert: \"$P/server.pem\", key: \"$P/server.key\"}
  - {type: tls, address: \"127.0.0.2:0\", zone: lgwan, cert: \"$P/server.pem\", key: \"$P/server.key\",
     ciphers: \"ECDHE-RSA-AES256-GCM-SHA384\", ciphersuites: \"TLS_AES_256_GCM_SHA384\"}" lw_start
TLS=$(awk '$1 == "tls" {print $2}' "$LW_TMP/ports" | sed -n 1p)
JH=$(awk '$1 == "journal-http" {print $2; exit}' "$LW_TMP/ports")
CUSTOM=$(awk '$1 == "tls" {print $2}' "$LW_TMP/ports" | sed -n 2p)

# $1 host:port, then s_client options: "ok CIPHER" or "refused".
hs() {
	local addr=$1 out
	shift
	out=$(timeout 10 openssl s_client -connect "$addr" -CAfile "$P/ca.pem" "$@" < /dev/null 2>&1) || true
	# "New, SSLv3, Cipher is AES128-SHA": the label is the cipher's
	# origin, not the protocol; "(NONE)" when no handshake happened.
	local cipher
	cipher=$(echo "$out" | sed -n 's/^New, [^,]*, Cipher is //p' | head -1)
	if [ -n "$cipher" ] && [ "$cipher" != "(NONE)" ]; then
		echo "ok $cipher"
	else
		echo refused
	fi
}
check() { # $1 expected, $2 what, then hs arguments
	local want=$1 what=$2 got
	shift 2
	got=$(hs "$@")
	expect_eq "$got" "$want" "$what"
}
refused=0
for addr in "$TLS" "$JH"; do
	check refused "$addr AES128-SHA" "$addr" -tls1_2 -cipher AES128-SHA
	check refused "$addr ECDHE-RSA-AES128-SHA" "$addr" -tls1_2 -cipher ECDHE-RSA-AES128-SHA
	check refused "$addr AES128-GCM-SHA256" "$addr" -tls1_2 -cipher AES128-GCM-SHA256
	check refused "$addr DHE-RSA-AES128-GCM-SHA256" "$addr" -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
	check refused "$addr TLS 1.1" "$addr" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
	refused=$((refused + 5))
	for c in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
		check "ok $c" "$addr $c" "$addr" -tls1_2 -cipher "$c"
	done
	for c in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
		check "ok $c" "$addr $c" "$addr" -tls1_3 -ciphersuites "$c"
	done
done
check refused "custom ECDHE-RSA-AES128-GCM-SHA256" "$CUSTOM" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
check "ok ECDHE-RSA-AES256-GCM-SHA384" "custom ECDHE-RSA-AES256-GCM-SHA384" "$CUSTOM" -tls1_2
check refused "custom TLS_AES_128_GCM_SHA256" "$CUSTOM" -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
check "ok TLS_AES_256_GCM_SHA384" "custom TLS 1.3" "$CUSTOM" -tls1_3
refused=$((refused + 2))
# A message over the default policy is stored.
printf '<13>1 2026-11-27T10:00:00Z h1 app - - - over ECDHE-GCM\n' |
	timeout 10 openssl s_client -connect "$TLS" -CAfile "$P/ca.pem" -quiet -tls1_2 \
	-cipher ECDHE-RSA-AES128-GCM-SHA256 > /dev/null 2>&1 || true
lw_wait_count 1 20
lw_expect_counter tls_handshake_failed "$refused" "tls_handshake_failed"
lw_stop

# Lists that select nothing stop the start, named.
for bad in "ciphers: \"NO-SUCH-CIPHER\"" "ciphersuites: \"TLS_NO_SUCH_SUITE\""; do
	cat > "$LW_TMP/bad.yml" <<YAML
data_dir: $LW_DATA
listeners:
  - {type: tls, address: "127.0.0.1:0", cert: "$P/server.pem", key: "$P/server.key", $bad}
YAML
	rc=0
	timeout 20 "$LW_BIN" serve -c "$LW_TMP/bad.yml" > "$LW_TMP/bad.log" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "$bad: serve exited $rc"
	grep -q "TLS cipher.*NO_SUCH\|TLS cipher.*NO-SUCH" "$LW_TMP/bad.log" || fail "$bad: $(cat "$LW_TMP/bad.log")"
done
echo "PASS: TLS 1.2 with ECDHE and AEAD only, and TLS 1.3, by default; ciphers and ciphersuites apply"
