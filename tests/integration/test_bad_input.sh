#!/usr/bin/env bash
# Oracle: a Python client sends binary garbage, NUL bytes, invalid UTF-8, an
# oversized line, a lying octet count, a frame cut by a disconnect, UDP
# garbage and 1,000 idle connections, interleaved with marker messages.
# The daemon must keep serving: every marker is stored exactly once, the
# bad lines are stored flagged (not dropped), and each problem is counted.
. "$(dirname "$0")/lib.sh"
need python3
need jq
ulimit -n 4096

LW_LISTENERS="  - {type: udp, address: \"127.0.0.1:0\", zone: internet}
  - {type: tcp, address: \"127.0.0.1:0\", zone: internet, max_message_size: 1KiB, max_connections: 2000,
     max_connections_per_source: 2000}"
lw_start

markers=$(python3 "$(dirname "$0")/bad_input.py" "$LW_TCP_PORT" "$LW_UDP_PORT" 1000) || fail "client failed"
kill -0 "$LW_PID" || fail "serve died"
lw_stop

lw_query --output json > "$LW_TMP/all.json"
expect_eq "$(jq -r 'select(.process.name == "marker") | .message' "$LW_TMP/all.json" | sort | uniq -d | wc -l)" 0 "duplicated markers"
expect_eq "$(jq -r 'select(.process.name == "marker") | 1' "$LW_TMP/all.json" | wc -l)" "$markers" "markers stored"

nul=$(jq -c 'select(.process.name == "nul")' "$LW_TMP/all.json")
expect_eq "$(jq -r '.message == "before\u0000after"' <<<"$nul")" true "NUL byte kept"
utf=$(jq -c 'select(.process.name == "utf8")' "$LW_TMP/all.json")
expect_eq "$(jq -r '.logward.flags | index("bad_utf8") != null' <<<"$utf")" true "bad_utf8 flag"
long=$(jq -c 'select(.process.name == "long")' "$LW_TMP/all.json")
expect_eq "$(jq -r '.logward.flags | index("truncated") != null' <<<"$long")" true "truncated flag"
[ "$(jq -r '.message | length' <<<"$long")" -lt 1024 ] || fail "long message not cut"
expect_eq "$(jq -r 'select(.logward.flags // [] | index("parse_error")) | 1' "$LW_TMP/all.json" | wc -l | tr -d ' ')" \
	"$(lw_counter malformed)" "parse-error events = malformed counter"
[ "$(lw_counter malformed)" -ge 2 ] || fail "garbage (TCP and UDP) not counted as malformed"
# A frame cut by a disconnect is kept, flagged truncated (docs/collector.md).
cut=$(jq -c 'select(.message | test("only part of the frame"))' "$LW_TMP/all.json")
expect_eq "$(jq -r '.logward.flags | index("truncated") != null' <<<"$cut")" true "cut frame flagged"
expect_eq "$(lw_counter truncated)" 2 "truncated counter (long line + cut frame)"
[ "$(lw_counter framing_errors)" -ge 2 ] || fail "lying count and cut frame not counted"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed"
echo "ok: $markers markers stored, bad input flagged and counted"
