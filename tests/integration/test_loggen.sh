#!/usr/bin/env bash
# Oracle: syslog-ng's `loggen` (not ours) sends 100,000 messages over 4+4 TCP
# connections, half RFC 3164 with LF framing, half RFC 5424 octet-counted.
# Each message carries (runid, thread, seq). After SIGTERM the store must
# hold exactly 100,000 events, each (runid, thread, seq) exactly once, with
# the host and app loggen sent, and `verify` must pass.
. "$(dirname "$0")/lib.sh"
need loggen
need jq

PER_CONN=12500
lw_start

loggen --inet --stream --active-connections=4 -n $PER_CONN -r 200000 \
	127.0.0.1 "$LW_TCP_PORT" >"$LW_TMP/loggen-lf.log" 2>&1 || fail "loggen (LF) failed"
loggen --inet --stream --syslog-proto --active-connections=4 -n $PER_CONN -r 200000 \
	127.0.0.1 "$LW_TCP_PORT" >"$LW_TMP/loggen-octet.log" 2>&1 || fail "loggen (octet) failed"
sent_lf=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-lf.log" | tail -1 | cut -d= -f2)
sent_oct=$(grep -o 'count=[0-9]*' "$LW_TMP/loggen-octet.log" | tail -1 | cut -d= -f2)
expect_eq "$sent_lf" $((4 * PER_CONN)) "loggen LF sent"
expect_eq "$sent_oct" $((4 * PER_CONN)) "loggen octet sent"

lw_stop

lw_query --output json > "$LW_TMP/all.json"
total=$(wc -l < "$LW_TMP/all.json")
expect_eq "$total" 100000 "stored events"
# runid is loggen's start second, so the two runs may share it: the
# framing/format (rfc5424 flag) tells them apart.
unique=$(jq -r '(.logward.flags // [] | index("rfc5424") != null) as $p | .message | capture("seq: (?<s>[0-9]+), thread: (?<t>[0-9]+), runid: (?<r>[0-9]+)") | "\($p) \(.r) \(.t) \(.s)"' \
	"$LW_TMP/all.json" | sort -u | wc -l)
expect_eq "$unique" 100000 "distinct (format, runid, thread, seq)"
expect_eq "$(jq -r 'select(.host.name != "localhost" or .process.name != "prg00000") | 1' "$LW_TMP/all.json" | wc -l)" 0 \
	"events with a host or app other than loggen's"
expect_eq "$(jq -r 'select(.logward.flags // [] | index("parse_error")) | 1' "$LW_TMP/all.json" | wc -l)" 0 "parse errors"
expect_eq "$(jq -r 'select(.logward.flags // [] | index("rfc5424")) | 1' "$LW_TMP/all.json" | wc -l)" 50000 "RFC 5424 events"
expect_eq "$(lw_counter stored)" 100000 "stored counter"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed"
echo "ok: 100000 loggen messages stored exactly once"
