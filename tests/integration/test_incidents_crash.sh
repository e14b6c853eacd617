#!/usr/bin/env bash
# labels: slow
# Oracle: an incident is committed in the same LMDB transaction as the
# events that raised it. `serve` with the default rule pack gets a stream
# of SSH brute forces (12 failed logins from each of up to 2000 sources per
# round, one `logger` run per source) and is killed with SIGKILL
# mid-stream, three times. After each
# crash `verify` passes, and every stored incident's evidence events are
# all stored: `incidents show` finds each one (it reports missing ones on
# stderr), and a brute-force incident's evidence are failed logins from
# the incident's own source.
. "$(dirname "$0")/lib.sh"
need logger
need jq

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
BRUTE=2ddcfcf4-5aa2-4fad-980d-49b74969a574
inc() { "$LW_BIN" incidents -d "$LW_DATA" "$@"; }

# One logger run per source: a stream that lasts a few seconds.
send_stream() {
	local round=$1
	for b in $(seq 1 2000); do
		for i in $(seq 1 12); do
			echo "Failed password for admin from 10.3$round.$((b / 100)).$((b % 100)) port $((30000 + i)) ssh2"
		done | logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 -t sshd --id=22 \
			-p auth.info >/dev/null 2>&1 || return 0
	done
}

check_store() {
	local round=$1 after=$2 list="$LW_TMP/list-$1.json" n=0
	"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed after kill -9 ($round)"
	# Incidents of earlier rounds were checked already.
	inc list --status all --output json | jq -c "select(.id > $after)" > "$list" ||
		fail "list after kill -9 ($round)"
	while read -r id; do
		inc show "$id" --output json > "$LW_TMP/show.json" 2>"$LW_TMP/show.err" ||
			fail "show $id after kill -9 ($round)"
		[ -s "$LW_TMP/show.err" ] && fail "incident $id ($round): $(cat "$LW_TMP/show.err")"
		[ "$(jq -r '.evidence | length' "$LW_TMP/show.json")" -ge 1 ] ||
			fail "incident $id ($round) has no evidence"
		if [ "$(jq -r .rule.id "$LW_TMP/show.json")" = "$BRUTE" ]; then
			ip=$(jq -r '.group["source.ip"]' "$LW_TMP/show.json")
			bad=$(jq -r --arg ip "$ip" '[.evidence[] | select(.source.ip != $ip)] | length' "$LW_TMP/show.json")
			expect_eq "$bad" 0 "incident $id ($round): evidence from other sources"
		fi
		n=$((n + 1))
	done < <(jq -r .id "$list")
	echo "$n"
}

total=0
for round in 1 2 3; do
	lw_start "rules: [$RULES]"
	send_stream "$round" &
	sender=$!
	sleep 2
	kill -KILL "$LW_PID"
	LW_PID=""
	wait "$sender" 2>/dev/null || true
	n=$(check_store "$round" "$total")
	[ "$n" -gt 0 ] || fail "no incident was committed before the crash (round $round)"
	total=$((total + n))
done
echo "ok: three kill -9 mid-stream; verify passes; all $total incidents have all their evidence events stored"
