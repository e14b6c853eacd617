#!/usr/bin/env bash
# Oracle: syslog-ng's `loggen --use-ssl` (not ours) sends 50,000 messages
# over TLS on 4 connections, half RFC 3164 LF-framed and half RFC 5424
# octet-counted (RFC 5425), to a tls listener with framing auto. The store
# must hold exactly 50,000 events, each (format, runid, thread, seq) once,
# and `verify` must pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need loggen
need jq

PER_CONN=12500
lw_make_certs
LW_LISTENERS="  - {type: tls, address: \"127.0.0.1:0\", zone: lgwan, framing: auto,
     cert: \"$LW_PKI/server.pem\", key: \"$LW_PKI/server.key\"}" lw_start
port=$(lw_port_of tls)
[ -n "$port" ] || fail "no tls port"

loggen --use-ssl --active-connections=2 -n $PER_CONN -r 100000 \
	127.0.0.1 "$port" >"$LW_TMP/loggen-lf.log" 2>&1 || fail "loggen --use-ssl (LF) failed"
loggen --use-ssl --syslog-proto --active-connections=2 -n $PER_CONN -r 100000 \
	127.0.0.1 "$port" >"$LW_TMP/loggen-octet.log" 2>&1 || fail "loggen --use-ssl (octet) failed"
sent_lf=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-lf.log" | tail -1 | cut -d= -f2)
sent_oct=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-octet.log" | tail -1 | cut -d= -f2)
expect_eq "$sent_lf" $((2 * PER_CONN)) "loggen LF sent"
expect_eq "$sent_oct" $((2 * PER_CONN)) "loggen octet sent"

lw_stop

lw_query --output json > "$LW_TMP/all.json"
expect_eq "$(wc -l < "$LW_TMP/all.json")" 50000 "stored events"
unique=$(jq -r '(.logward.flags // [] | index("rfc5424") != null) as $p | .message | capture("seq: (?<s>[0-9]+), thread: (?<t>[0-9]+), runid: (?<r>[0-9]+)") | "\($p) \(.r) \(.t) \(.s)"' \
	"$LW_TMP/all.json" | sort -u | wc -l)
expect_eq "$unique" 50000 "distinct (format, runid, thread, seq)"
expect_eq "$(jq -r 'select(.logward.flags // [] | index("rfc5424")) | 1' "$LW_TMP/all.json" | wc -l)" 25000 "RFC 5424 (octet-counted) events"
expect_eq "$(jq -r 'select(.logward.flags // [] | index("parse_error")) | 1' "$LW_TMP/all.json" | wc -l)" 0 "parse errors"
expect_eq "$(jq -r 'select(.tls != null) | 1' "$LW_TMP/all.json" | wc -l)" 0 \
	"tls.client fields without a client certificate"
expect_eq "$(lw_counter stored)" 50000 "stored counter"
expect_eq "$(lw_counter tls_handshake_failed)" 0 "failed handshakes"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed"
echo "ok: 50000 loggen messages over TLS stored exactly once"
