#!/usr/bin/env bash
# Oracle: one TCP connection (framing: auto, max_message_size 64KiB)
# carries "1000000 x" -- an octet count 15 times max_message_size -- and
# then 2,000 ordinary LF lines. The count is a lie: the lines after it on
# the same connection must each be stored as their own event (all 2,000,
# exact text), the lie itself as one event flagged bad count (kept as
# text), counted once in framing_errors, nothing truncated. Before, the
# count was honoured up to 16 x the limit: the first 64 KiB of lines
# became one truncated event and the rest up to 1 MB were discarded.
. "$(dirname "$0")/lib.sh"
need python3
need jq

lw_start ""
python3 - "$LW_TCP_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = b"1000000 x\n" + b"".join(
    b"<13>Dec  7 10:00:00 host1 app: ordinary line %04d\n" % i for i in range(2000))
s.sendall(data)
s.close()
PY
lw_wait_count 2001 30
sleep 0.5
expect_eq "$(lw_count)" 2001 "events stored"
expect_eq "$(lw_query --grep '^ordinary line [0-9]{4}$' --output json | wc -l)" 2000 "ordinary lines stored as their own events"
expect_eq "$(lw_query --grep '^ordinary line 1999$' | wc -l)" 1 "the last line"
lie=$(lw_query --grep '^1000000 x$' --output json)
[ -n "$lie" ] || fail "the lying frame was not stored as text"
expect_eq "$(echo "$lie" | jq -r '.logward.flags | index("truncated")')" null "the lie is not truncated"
lw_expect_counter framing_errors 1 "framing_errors"
expect_eq "$(lw_counter truncated)" 0 "truncated"
lw_stop
echo "PASS: a lying octet count swallows nothing that follows it"
