#!/usr/bin/env bash
# UDP loss is counted, exactly. The daemon is stopped (SIGSTOP) while
# logward-bench sends 50,000 datagrams, so its socket buffer overflows and
# the kernel drops most of them; then SIGCONT and SIGTERM.
# Oracle: stored + dropped_udp (queue full) + dropped_kernel (receive
# buffer full, SO_RXQ_OVFL / SO_MEMINFO) == the sender's count, exactly.
. "$(dirname "$0")/lib.sh"
need jq
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench not built"

N=50000
LW_LISTENERS='  - {type: udp, address: "127.0.0.1:0", zone: a}' lw_start
kill -STOP "$LW_PID"
# Resume the daemon even if this script fails from here on.
trap '[ -z "$LW_PID" ] || kill -CONT "$LW_PID" 2>/dev/null || true; lw_cleanup' EXIT
"$BENCH" --udp "127.0.0.1:$LW_UDP_PORT" -n "$N" -c 1 --json >"$LW_TMP/send.json" ||
	fail "sender failed"
kill -CONT "$LW_PID"
sent=$(jq -r .sent "$LW_TMP/send.json")
expect_eq "$sent" "$N" "datagrams sent"
lw_stop

stored=$(lw_counter stored)
dropped_udp=$(lw_counter dropped_udp)
dropped_kernel=$(lw_counter dropped_kernel)
echo "sent $sent: stored $stored, dropped_udp $dropped_udp, dropped_kernel $dropped_kernel"
[ "$dropped_kernel" -gt 0 ] || fail "no kernel drops: the test did not overflow the socket buffer"
expect_eq "$((stored + dropped_udp + dropped_kernel))" "$sent" "stored + dropped_udp + dropped_kernel"
expect_eq "$(lw_count)" "$stored" "events in the store"
echo "ok: every one of $sent datagrams is stored or counted as dropped"
