#!/usr/bin/env bash
# docs/tls.md's sender configurations, run for real against a tls listener
# with verify_client: true:
#  - syslog-ng (Debian's syslog-ng-core) with the doc's network(...
#    transport("tls") tls(...) flags(syslog-protocol)) destination and no
#    client certificate: the handshake is refused, nothing is stored;
#  - the same with the client certificate: every line of its file source
#    stored once, with tls.client.subject exact;
#  - the doc's syslog(transport("tls") ...) variant, likewise;
#  - rsyslog with the doc's omfwd action (ossl or gtls netstream driver),
#    when an unpacked rsyslog with a TLS driver is in bench/artifacts/
#    (bench/run makes one; Debian's rsyslog conflicts with syslog-ng-core);
#    skipped with a message otherwise.
# Each daemon runs in the foreground from its own temp dir (config, pid
# file, control socket, persist file), never touching system paths or
# /dev/log, and is killed by its PID on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need syslog-ng
need jq

PEER_PIDS=()
peers_cleanup() {
	for pid in "${PEER_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	lw_cleanup
}
trap peers_cleanup EXIT

SUBJECT="CN=web01.example,O=logward test"
lw_make_certs
P=$LW_PKI
LW_LISTENERS="  - {type: tls, address: \"127.0.0.1:0\", zone: lgwan,
     cert: \"$P/server.pem\", key: \"$P/server.key\", ca: \"$P/ca.pem\", verify_client: true}" lw_start
port=$(lw_port_of tls)
[ -n "$port" ] || fail "no tls port"

# Writes $2 lines "$1 seq N" to the file source $3.
lines() {
	for i in $(seq 1 "$2"); do
		printf '%s seq %d\n' "$1" "$i"
	done > "$3"
}

# syslog-ng NAME DESTINATION-BODY: a syslog-ng in $LW_TMP/NAME that reads
# NAME/in.log (one message a line, not parsed) and sends to d_logward.
# Sets SNG_PID.
syslog_ng() {
	local dir="$LW_TMP/$1"
	mkdir -p "$dir"
	touch "$dir/in.log"
	cat > "$dir/syslog-ng.conf" <<CONF
@version: 3.38
options { time-reopen(1); mark-freq(0); keep-hostname(yes); };
source s_src { file("$dir/in.log" flags(no-parse) follow-freq(0.2)); };
$2
log { source(s_src); destination(d_logward); };
CONF
	syslog-ng -F --no-caps -f "$dir/syslog-ng.conf" -p "$dir/syslog-ng.pid" \
		-c "$dir/syslog-ng.ctl" -R "$dir/syslog-ng.persist" \
		>"$dir/syslog-ng.log" 2>&1 &
	SNG_PID=$!
	PEER_PIDS+=("$SNG_PID")
	for _ in $(seq 1 100); do
		[ -S "$dir/syslog-ng.ctl" ] && return 0
		kill -0 "$SNG_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/syslog-ng.log" >&2
	fail "syslog-ng ($1) did not start"
}

stop_peer() {
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# ---- syslog-ng, network(), no client certificate: refused -----------------
# docs/tls.md's destination, without the cert-file/key-file lines.
syslog_ng nocert "destination d_logward {
  network(\"127.0.0.1\" port($port)
    transport(\"tls\")
    tls(ca-file(\"$P/ca.pem\")
        peer-verify(required-trusted))
    flags(syslog-protocol)
  );
};"
lines "no certificate" 20 "$LW_TMP/nocert/in.log"
# syslog-ng reconnects every second (time-reopen); wait for two refusals.
for _ in $(seq 1 100); do
	[ "$(grep -c "TLS handshake failed" "$LW_TMP/serve.log")" -ge 1 ] && break
	sleep 0.1
done
grep -q "TLS handshake failed.*peer did not return a certificate" "$LW_TMP/serve.log" ||
	fail "syslog-ng without a client certificate was not refused at the handshake"
sleep 1
stop_peer "$SNG_PID"
expect_eq "$(lw_count)" 0 "events stored from syslog-ng without a client certificate"

# ---- syslog-ng, network(), with the client certificate ---------------------
# docs/tls.md's destination as printed, with this test's paths and port.
syslog_ng network "destination d_logward {
  network(\"127.0.0.1\" port($port)
    transport(\"tls\")
    tls(ca-file(\"$P/ca.pem\")
        cert-file(\"$P/client.pem\")
        key-file(\"$P/client.key\")
        peer-verify(required-trusted))
    flags(syslog-protocol)
  );
};"
lines "network tls" 500 "$LW_TMP/network/in.log"
lw_wait_count 500 60
stop_peer "$SNG_PID"

# ---- syslog-ng, syslog() driver (RFC 5425 octet counting) ------------------
syslog_ng syslog "destination d_logward {
  syslog(\"127.0.0.1\" port($port)
    transport(\"tls\")
    tls(ca-file(\"$P/ca.pem\")
        cert-file(\"$P/client.pem\")
        key-file(\"$P/client.key\")
        peer-verify(required-trusted))
  );
};"
lines "syslog tls" 300 "$LW_TMP/syslog/in.log"
lw_wait_count 800 60
stop_peer "$SNG_PID"

# ---- rsyslog (optional) ----------------------------------------------------
RS_ROOT="$(cd "$(dirname "$0")/../.." && pwd)/bench/artifacts/rsyslog-root"
RS_BIN="$RS_ROOT/usr/sbin/rsyslogd"
RS_MODS="$RS_ROOT/usr/lib/x86_64-linux-gnu/rsyslog"
rs_driver=""
for d in ossl gtls; do
	if [ -f "$RS_MODS/lmnsd_$d.so" ]; then
		rs_driver=$d
		break
	fi
done
rsyslog_n=0
if [ ! -x "$RS_BIN" ]; then
	echo "SKIP (rsyslog part): no unpacked rsyslog in $RS_ROOT (bench/run makes one)" >&2
elif [ -z "$rs_driver" ]; then
	echo "SKIP (rsyslog part): $RS_MODS has no lmnsd_ossl.so or lmnsd_gtls.so (the rsyslog-openssl or rsyslog-gnutls package)" >&2
else
	rsyslog_n=200
	dir="$LW_TMP/rsyslog"
	mkdir -p "$dir"
	touch "$dir/in.log"
	# docs/tls.md's global() and action(), with this test's paths, address
	# and port, and the driver found; the server certificate is for
	# localhost, so that is the permitted peer.
	cat > "$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir")
module(load="imfile")
input(type="imfile" File="$dir/in.log" Tag="rsyslog-tls")
global(DefaultNetstreamDriver="$rs_driver"
       DefaultNetstreamDriverCAFile="$P/ca.pem"
       DefaultNetstreamDriverCertFile="$P/client.pem"
       DefaultNetstreamDriverKeyFile="$P/client.key")

action(type="omfwd" target="127.0.0.1" port="$port" protocol="tcp"
       StreamDriver="$rs_driver" StreamDriverMode="1"
       StreamDriverAuthMode="x509/name"
       StreamDriverPermittedPeers="localhost"
       TCP_Framing="octet-counted" Template="RSYSLOG_SyslogProtocol23Format"
       queue.type="LinkedList" queue.filename="fwd_logward" queue.saveOnShutdown="on"
       action.resumeRetryCount="-1")
CONF
	"$RS_BIN" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" -M "$RS_MODS" \
		>"$dir/rsyslog.log" 2>&1 &
	PEER_PIDS+=("$!")
	rs_pid=$!
	sleep 1
	kill -0 "$rs_pid" 2>/dev/null || { cat "$dir/rsyslog.log" >&2; fail "rsyslogd did not start"; }
	lines "rsyslog tls" $rsyslog_n "$dir/in.log"
	lw_wait_count $((800 + rsyslog_n)) 60
	stop_peer "$rs_pid"
fi

lw_stop

# ---- what was stored --------------------------------------------------------
lw_query --output json > "$LW_TMP/all.json"
total=$((800 + rsyslog_n))
expect_eq "$(wc -l < "$LW_TMP/all.json")" $total "stored events"
expect_eq "$(jq -r 'select(.message | startswith("no certificate")) | 1' "$LW_TMP/all.json" | wc -l)" 0 \
	"events from the sender without a client certificate"
check_sender() { # $1 = message prefix, $2 = lines sent
	expect_eq "$(jq -r --arg p "$1 seq " 'select(.message | startswith($p)) | .message' \
		"$LW_TMP/all.json" | sort -u | wc -l)" "$2" "distinct '$1' messages"
	for i in 1 "$2"; do
		expect_eq "$(jq -r --arg m "$1 seq $i" 'select(.message == $m) | .message' \
			"$LW_TMP/all.json" | wc -l)" 1 "'$1 seq $i' stored once"
	done
	expect_eq "$(jq -r --arg p "$1 seq " 'select(.message | startswith($p)) | .tls.client.subject' \
		"$LW_TMP/all.json" | sort | uniq -c | awk '{$1=$1; print}')" "$2 $SUBJECT" \
		"tls.client.subject of '$1'"
	expect_eq "$(jq -r --arg m "$1 seq $2" 'select(.message == $m) | .tls.client.issuer' \
		"$LW_TMP/all.json")" "CN=logward test CA" "tls.client.issuer of '$1 seq $2'"
}
check_sender "network tls" 500
check_sender "syslog tls" 300
[ "$rsyslog_n" = 0 ] || check_sender "rsyslog tls" "$rsyslog_n"
expect_eq "$(jq -r 'select(.logward.flags // [] | index("rfc5424") | not) | 1' "$LW_TMP/all.json" | wc -l)" 0 \
	"events not parsed as RFC 5424"
expect_eq "$(lw_count --field "tls.client.subject=$SUBJECT")" $total "query by tls.client.subject"
[ "$(lw_counter tls_handshake_failed)" -ge 1 ] || fail "tls_handshake_failed is 0"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed"
echo "ok: syslog-ng (network and syslog drivers) over mutual TLS stored exactly, refused without a certificate; rsyslog: $([ "$rsyslog_n" = 0 ] && echo skipped || echo "$rsyslog_n stored")"
