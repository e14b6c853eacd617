#!/usr/bin/env bash
# Oracle: the ssh brute-force rule (rules/correlation: 10 failed logins
# per source.ip within 5 minutes). `logger` sends 6 "Failed password"
# lines from one source, serve is stopped cleanly and started again on the
# same store, then 4 more lines follow. The window state kept in LMDB must
# carry the first 6 over: exactly one brute-force incident, count 10, from
# that source. A control source that sent only 4 lines after the restart
# raises nothing.
. "$(dirname "$0")/lib.sh"
need logger
need jq

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
BRUTE=2ddcfcf4-5aa2-4fad-980d-49b74969a574
fail_line() { # user, source ip
	logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 -t sshd --id=4242 -p auth.info \
		"Failed password for $1 from $2 port 51234 ssh2"
}

lw_start "rules: [$RULES]"
for _ in 1 2 3 4 5 6; do fail_line admin 198.51.100.7; done
lw_wait_count 6 20
lw_stop
expect_eq "$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json | wc -l)" 0 \
	"incidents before the restart"

lw_start "rules: [$RULES]"
for _ in 7 8 9 10; do fail_line admin 198.51.100.7; done
for _ in 1 2 3 4; do fail_line guest 198.51.100.99; done
lw_wait_count 14 20
sleep 1
lw_stop

"$LW_BIN" incidents -d "$LW_DATA" list --status all --output json > "$LW_TMP/inc.json"
expect_eq "$(jq -r "select(.rule.id == \"$BRUTE\") | .group[\"source.ip\"]" "$LW_TMP/inc.json" | tr '\n' ' ')" \
	"198.51.100.7 " "brute-force incidents (by source)"
expect_eq "$(jq -r "select(.rule.id == \"$BRUTE\") | .count" "$LW_TMP/inc.json")" 10 "brute-force count"
echo "ok: the brute-force window survived a restart (6 + 4 failures -> one incident)"
