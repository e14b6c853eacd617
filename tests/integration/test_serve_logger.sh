#!/usr/bin/env bash
# Oracle: util-linux `logger` (not ours) sends one known message per
# transport (UDP, TCP LF, TCP octet-counted RFC 5424 with SD and MSGID, unix
# datagram). After SIGTERM the store holds each exactly once with the exact
# host, app, pid, msgid, SD, zone and message, and `verify` passes.
. "$(dirname "$0")/lib.sh"
need logger
need jq

lw_start "zones:
  mynumber: [127.0.0.2/32]"

logger -n 127.0.0.1 -P "$LW_UDP_PORT" -d --rfc3164 -t udptag -p auth.warning "hello over udp"
logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 -t tcptag --id=777 -p local3.info "hello over tcp"
logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --octet-count --rfc5424 -t octtag --msgid LOGIN \
	--sd-id 'origin@32473' --sd-param 'ip="10.20.0.5"' --sd-param 'note="two words"' \
	-p authpriv.notice "hello octet-counted 5424 ログイン"
logger -u "$LW_UNIX" -t unixtag -p daemon.err "hello over unix"
# The zones map wins over the listener's zone: a sender at 127.0.0.2 is
# in the My Number zone whichever listener it reaches (logger cannot pick
# its source address, so this one datagram comes from Python).
python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.2", 0)); s.sendto(b"<13>Nov 27 12:00:00 mnhost zonetag: from 127.0.0.2", ("127.0.0.1", int(sys.argv[1])))' "$LW_UDP_PORT"

lw_wait_count 5 20
lw_stop

out="$LW_TMP/all.json"
lw_query --output json > "$out"
expect_eq "$(wc -l < "$out")" 5 "stored events"

sel() { jq -c "select(.process.name == \"$1\")" "$out"; }

udp=$(sel udptag)
expect_eq "$(jq -r .message <<<"$udp")" "hello over udp" "udp message"
expect_eq "$(jq -r .labels.zone <<<"$udp")" "internet" "udp zone"
expect_eq "$(jq -r .log.syslog.facility.code <<<"$udp")" 4 "udp facility"
expect_eq "$(jq -r .log.syslog.severity.code <<<"$udp")" 4 "udp severity"
expect_eq "$(jq -r .host.name <<<"$udp")" "$(hostname)" "udp host"
[[ "$(jq -r .log.source.address <<<"$udp")" == 127.0.0.1:* ]] || fail "udp source address"

tcp=$(sel tcptag)
expect_eq "$(jq -r .message <<<"$tcp")" "hello over tcp" "tcp message"
expect_eq "$(jq -r .process.pid <<<"$tcp")" 777 "tcp pid"
expect_eq "$(jq -r .labels.zone <<<"$tcp")" "lgwan" "tcp zone"
expect_eq "$(jq -r .log.syslog.facility.code <<<"$tcp")" 19 "tcp facility"

oct=$(sel octtag)
expect_eq "$(jq -r .message <<<"$oct")" "hello octet-counted 5424 ログイン" "octet message"
expect_eq "$(jq -r .log.syslog.msgid <<<"$oct")" "LOGIN" "msgid"
expect_eq "$(jq -r '.log.syslog.structured_data["origin@32473"].ip' <<<"$oct")" "10.20.0.5" "sd ip"
expect_eq "$(jq -r '.log.syslog.structured_data["origin@32473"].note' <<<"$oct")" 'two words' "sd value with a space"
expect_eq "$(jq -r .log.syslog.severity.code <<<"$oct")" 5 "octet severity"
expect_eq "$(jq -r .log.syslog.facility.code <<<"$oct")" 10 "octet facility"
expect_eq "$(jq -r '.logward.flags // [] | index("rfc5424") != null' <<<"$oct")" true "rfc5424 flag"

unx=$(sel unixtag)
expect_eq "$(jq -r .message <<<"$unx")" "hello over unix" "unix message"
expect_eq "$(jq -r .labels.zone <<<"$unx")" "mynumber" "unix zone"
expect_eq "$(jq -r .log.syslog.severity.code <<<"$unx")" 3 "unix severity"

zon=$(sel zonetag)
expect_eq "$(jq -r .labels.zone <<<"$zon")" "mynumber" "zone from the zones map"
[[ "$(jq -r .log.source.address <<<"$zon")" == 127.0.0.2:* ]] || fail "zones-map source address"

# Filters read the same store.
expect_eq "$(lw_count --zone lgwan)" 2 "--zone lgwan (both TCP senders)"
expect_eq "$(lw_count --zone mynumber)" 2 "--zone mynumber (unix listener + zones map)"
expect_eq "$(lw_count --app octtag)" 1 "--app"
expect_eq "$(lw_count --severity warning)" 2 "--severity warning (err + warning)"
expect_eq "$(lw_count --grep 'hello over (udp|unix)')" 2 "--grep"
expect_eq "$(lw_count --field log.syslog.msgid=LOGIN)" 1 "--field"
lw_query --app tcptag | grep -q '\[lgwan\] .* tcptag\[777\]: hello over tcp' || fail "text output"

"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed"
echo "ok: 4 transports and the zones map stored exactly, filters and verify pass"
