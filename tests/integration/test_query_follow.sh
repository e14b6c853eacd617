#!/usr/bin/env bash
# Oracle: `query --follow` (in another process, like `tail -f`) prints
# events that `serve` commits after it started, while serve keeps writing;
# logger is the sender. Filters apply to followed events too.
. "$(dirname "$0")/lib.sh"
need logger
need jq

lw_start
logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T -t before "written before follow started"
lw_wait_count 1 20
# Started directly (not through the lw_query function) so that $! is the
# query process itself and the kill below cannot leave it orphaned.
"$LW_BIN" query -d "$LW_DATA" --follow --output json --app live > "$LW_TMP/follow.json" 2>"$LW_TMP/follow.err" &
follower=$!
sleep 1
for i in 1 2 3 4 5; do
	logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T -t live "live event $i"
	logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T -t other "not for the follower $i"
done
for _ in $(seq 1 50); do
	[ "$(wc -l < "$LW_TMP/follow.json")" -ge 5 ] && break
	sleep 0.2
done
kill "$follower" 2>/dev/null || true
wait "$follower" 2>/dev/null || true
expect_eq "$(wc -l < "$LW_TMP/follow.json")" 5 "followed events"
expect_eq "$(jq -r .message "$LW_TMP/follow.json" | tr '\n' ',')" \
	"live event 1,live event 2,live event 3,live event 4,live event 5," "followed messages in order"
lw_stop
echo "ok: --follow streamed 5 new matching events while serve wrote"
