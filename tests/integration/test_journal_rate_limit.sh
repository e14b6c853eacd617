#!/usr/bin/env bash
# Oracle: a journal-http listener's rate_limit slows the source over it and
# only that source, and drops nothing. 127.0.0.1 uploads 600 entries
# against {events_per_second: 200, burst: 20}: the upload takes at least
# (600 - 20) / 200 = 2.9 s (checked against 2.5 s), rate_limited_paused
# goes up, and all 600 are stored. Meanwhile 127.0.0.2 uploads 15 entries
# (within its own burst): answered 202 within 1 s, all stored.
. "$(dirname "$0")/lib.sh"
need curl

LW_LISTENERS='  - {type: journal-http, address: "127.0.0.1:0", zone: mynumber,
     rate_limit: {events_per_second: 200, burst: 20}}'
lw_start ""
PORT=$(awk '$1 == "journal-http" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
[ -n "$PORT" ] || fail "no journal-http port in the ports file"

body() { # FILE HOST N
	python3 - "$1" "$2" "$3" <<'PY'
import sys
path, host, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path, "w") as f:
    for i in range(n):
        f.write("__REALTIME_TIMESTAMP=%d\n_HOSTNAME=%s\nSYSLOG_IDENTIFIER=rl\n"
                "MESSAGE=%s entry %d\n\n" % (1700000000000000 + i, host, host, i))
PY
}
body "$LW_TMP/heavy.export" heavy 600
body "$LW_TMP/light.export" light 15
upload() { # FILE SOURCE-ADDRESS OUT
	local t0 t1 code
	t0=$(date +%s%N)
	code=$(curl -sS -o /dev/null -w '%{http_code}' --interface "$2" \
		-H 'Content-Type: application/vnd.fdo.journal' \
		--data-binary @"$1" "http://127.0.0.1:$PORT/upload")
	t1=$(date +%s%N)
	echo "$code $(((t1 - t0) / 1000000))" > "$3"
}
upload "$LW_TMP/heavy.export" 127.0.0.1 "$LW_TMP/heavy.res" &
heavy=$!
sleep 0.5 # the heavy source is over its limit by now
upload "$LW_TMP/light.export" 127.0.0.2 "$LW_TMP/light.res"
wait "$heavy"
read -r hcode hms < "$LW_TMP/heavy.res"
read -r lcode lms < "$LW_TMP/light.res"
expect_eq "$hcode" 202 "heavy upload answer"
expect_eq "$lcode" 202 "light upload answer"
[ "$hms" -ge 2500 ] || fail "the source over its rate limit was not slowed: 600 entries in $hms ms"
[ "$lms" -le 1000 ] || fail "the other source waited for it: 15 entries in $lms ms"
lw_wait_count 615 30
expect_eq "$(lw_count --host heavy)" 600 "heavy entries stored"
expect_eq "$(lw_count --host light)" 15 "light entries stored"
lw_stop
[ "$(lw_counter rate_limited_paused)" -gt 0 ] || fail "rate_limited_paused is 0"
echo "ok: 600 entries over the limit took $hms ms, 15 from another source $lms ms; all 615 stored"
