#!/usr/bin/env bash
# Oracle: SIGTERM sent while `serve` is still starting (loading the rule
# pack, opening the store, binding; systemd does this when a stop follows
# a start) is a clean stop: exit status 0, the "stopped" line, the unix
# socket and the ports file removed, a store that verifies. serve holds
# the signal (blocked, visible in /proc/PID/status SigBlk) until its
# handlers are installed; the test sends it inside that window. Before
# the fix there was no such window and the default action killed the
# process mid-start, leaving the socket behind.
. "$(dirname "$0")/lib.sh"

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
cat > "$LW_TMP/logward.yml" <<YAML
data_dir: $LW_DATA
timezone: UTC
listeners:
  - {type: tcp, address: "127.0.0.1:0"}
  - {type: unix, path: "$LW_TMP/log.sock"}
rules: [$RULES]
YAML
SIGTERM_BIT=$((1 << (15 - 1)))
held() { # 1 when the main thread of $1 blocks SIGTERM
	local m
	m=$(awk '/^SigBlk:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$m" ] && [ $((16#$m & SIGTERM_BIT)) -ne 0 ]
}
for round in 1 2 3 4 5; do
	rm -f "$LW_TMP/ports"
	"$LW_BIN" serve -c "$LW_TMP/logward.yml" --ports-file "$LW_TMP/ports" \
		>"$LW_TMP/serve.log" 2>&1 &
	pid=$!
	seen=0
	for _ in $(seq 1 5000); do
		if held "$pid"; then seen=1; break; fi
		[ -e "$LW_TMP/ports" ] && break
		kill -0 "$pid" 2>/dev/null || break
	done
	[ "$seen" = 1 ] || { kill -KILL "$pid" 2>/dev/null; fail "round $round: serve started without holding SIGTERM"; }
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "round $round: SIGTERM during startup gave exit status $rc"
	grep -q "collector: stopped" "$LW_TMP/serve.log" ||
		fail "round $round: no clean stop in the log"
	[ ! -e "$LW_TMP/log.sock" ] || fail "round $round: unix socket left behind"
	[ ! -e "$LW_TMP/ports" ] || fail "round $round: ports file left behind"
done
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify after the startup stops"
echo "ok: 5 SIGTERMs during startup, each a clean stop (exit 0, socket and ports file removed)"
