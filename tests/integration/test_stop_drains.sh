#!/usr/bin/env bash
# labels: slow
# Oracle: logward-bench's sequence numbers. A sender writes 400,000
# messages flat out over 4 connections and SIGTERM follows the moment it
# returns, while bytes are still in flight in the kernel: a clean stop
# must store every one, each exactly once.
. "$(dirname "$0")/lib.sh"
need jq
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench not built"

lw_start
"$BENCH" --tcp "127.0.0.1:$LW_TCP_PORT" -n 400000 -c 4 -t 1 -q || fail "sender failed"
lw_stop
expect_eq "$(lw_counter stored)" 400000 "stored after SIGTERM right after the sender"
expect_eq "$(lw_query --output json | jq -r '.message | capture("seq=(?<s>[0-9]+-[0-9]+)$").s' | sort -u | wc -l)" \
	400000 "distinct sequence numbers"
echo "ok: SIGTERM right after a flat-out sender stored all 400000"
