#!/usr/bin/env bash
# Oracle: `logward query -q EXPR` (and the aggregations) over a store made
# by `logward ingest` with the default rule pack (the sshd decoder gives
# source.ip, user.name, event.outcome), one segment per zone file. Every
# expected answer below was worked out by hand from the 12 lines; the
# old flags give the same events as the terms they stand for; errors
# give line:column, a caret, and exit 2; a regex over its match limit is
# reported with exit 1, not answered with "no match".
. "$(dirname "$0")/lib.sh"
need jq

: "${LW_SOURCE_DIR:?LW_SOURCE_DIR must point at the source tree}"
cat > "$LW_TMP/ingest.yml" <<YAML
data_dir: $LW_DATA
timezone: UTC
max_clock_skew: 3650d
rules: [$LW_SOURCE_DIR/rules]
YAML

# <34> auth.crit, <38> auth.info, <86> authpriv.info, <30> daemon.info
cat > "$LW_TMP/lgwan.log" <<'EOF'
<34>1 2026-11-27T09:00:05Z mail01 sshd 101 - - Failed password for root from 10.20.1.5 port 5001 ssh2
<34>1 2026-11-27T09:00:15Z mail01 sshd 102 - - Failed password for invalid user admin from 10.20.9.9 port 5002 ssh2
<34>1 2026-11-27T09:00:25Z mail02 sshd 103 - - Failed password for root from 10.30.0.7 port 5003 ssh2
<38>1 2026-11-27T09:00:35Z mail02 sshd 104 - - Accepted publickey for tanaka from 10.20.1.5 port 5004 ssh2
<34>1 2026-11-27T09:01:05Z mail02 sshd 105 - - Failed password for =cmd from 203.0.113.50 port 5005 ssh2
<86>1 2026-11-27T09:01:10Z mail01 CRON 106 - - pam_unix(cron:session): session opened for user root
EOF
cat > "$LW_TMP/internet.log" <<'EOF'
<34>1 2026-11-27T09:00:45Z jump01 sshd 201 - - Failed password for root from 10.20.2.2 port 6001 ssh2
<34>1 2026-11-27T09:01:20Z web01 sshd 202 - - Failed password for oracle from 198.51.100.7 port 6002 ssh2
<30>1 2026-11-27T09:02:00Z web01 nginx 203 - - GET /index.html 200
EOF
cat > "$LW_TMP/mynumber.log" <<'EOF'
<34>1 2026-11-27T09:01:30Z mn-db01 sshd 301 - - Failed password for root from 2001:db8::5 port 7001 ssh2
<38>1 2026-11-27T09:02:10Z mn-db01 sshd 302 - - Accepted password for sato from 10.10.0.4 port 7002 ssh2
EOF
printf '<14>1 2026-11-27T10:00:00Z bomb01 app 1 - - %sb\n' "$(printf 'a%.0s' $(seq 40))" > "$LW_TMP/edge.log"
for z in lgwan internet mynumber; do
	"$LW_BIN" ingest -q -c "$LW_TMP/ingest.yml" --zone "$z" "$LW_TMP/$z.log" ||
		fail "ingest $z"
done
"$LW_BIN" ingest -q -c "$LW_TMP/ingest.yml" --zone lgwan "$LW_TMP/edge.log" || fail "ingest edge"

q() { "$LW_BIN" query -d "$LW_DATA" "$@"; }

# --- the issue's question: failed logins from 10.20.0.0/16 except the
# jump host, on the mail servers, and how many per minute
expect_eq "$(q -q 'failed password AND source.ip:10.20.0.0/16 AND NOT host.name:jump01' --output json | jq -r .message | tr '\n' '|')" \
	"Failed password for root from 10.20.1.5 port 5001 ssh2|Failed password for invalid user admin from 10.20.9.9 port 5002 ssh2|" \
	"failed logins from 10.20/16, jump host excluded"
expect_eq "$(q '"failed password"' 'source.ip:10.20.0.0/16' 'NOT host.name:jump01 host.name:mail*' --count)" 2 \
	"the same as words after the options"
expect_eq "$(q -q 'event.outcome:failure' --histogram 1m --by labels.zone)" \
"time                  lgwan  internet  mynumber
2026-11-27T09:00:00Z      3         1         0
2026-11-27T09:01:00Z      1         1         1" "failures per minute per zone"

# --- every form
expect_eq "$(q -q 'source.ip:2001:db8::/32' --count)" 1 "IPv6 CIDR"
expect_eq "$(q -q 'source.ip:10.0.0.0/8' --count)" 6 "IPv4 CIDR"
expect_eq "$(q -q 'host.name:(web01 OR jump01) AND process.name:sshd' --count)" 2 "field:(a OR b)"
expect_eq "$(q -q 'host.name:mn-* AND NOT user.name:*' --count)" 0 "prefix and exists"
expect_eq "$(q -q 'NOT user.name:*' --output json | jq -r .host.name | tr '\n' ' ')" \
	"web01 bomb01 " "events without a user (CRON's PAM session line names root)"
expect_eq "$(q -q 'source.port:[5000 TO 5003]' --count)" 3 "numeric range on a text field"
expect_eq "$(q -q 'log.syslog.severity.code:<=4' --count)" 7 "severity range"
expect_eq "$(q -q 'user.name:/^(sato|tanaka)$/' --output json | jq -r .user.name | tr '\n' ' ')" \
	"tanaka sato " "regex on a field"
expect_eq "$(q -q '@timestamp:[2026-11-27T09:01:00Z TO 2026-11-27T09:02:00Z}' --count)" 4 "time range term"
expect_eq "$(q --since 2026-11-27T09:01:00Z --until 2026-11-27T09:01:59Z --count)" 4 "--since/--until"
expect_eq "$(q -q 'SESSION OPENED' --output json | jq -r .process.name)" CRON "words ignore ASCII case"
expect_eq "$(q -q 'User:root Computer:mail02' --count)" 1 "Sigma's field names"

# --- aggregations, exact
expect_eq "$(q -q 'event.outcome:failure' --count-by user.name --output csv | tr '\r\n' '#|')" \
	"user.name,count#|root,4#|'=cmd,1#|admin,1#|oracle,1#|" "count-by CSV (formula neutralised)"
expect_eq "$(q --count-by host.name --top 2)" \
"count  host.name
    3  mail01
    3  mail02
    6  (4 other values)
   12  events in all" "count-by text with the rest"
expect_eq "$(q --count-by labels.zone --output json | jq -c '[.values[] | [.value, .count]]')" \
	'[["lgwan",7],["internet",3],["mynumber",2]]' "count-by JSON"
expect_eq "$(q --histogram 1m --since 2026-11-27T08:58:00Z --until 2026-11-27T09:02:30Z --output csv | tr '\r\n' '#|')" \
	"time,count#|2026-11-27T08:58:00Z,0#|2026-11-27T08:59:00Z,0#|2026-11-27T09:00:00Z,5#|2026-11-27T09:01:00Z,4#|2026-11-27T09:02:00Z,2#|" \
	"histogram over the window, empty minutes included"
expect_eq "$(q --count --output json)" '{"count":12}' "count JSON"

# --- the old flags are the terms they stand for
expect_eq "$(q --host mail01 --grep Failed --output json | md5sum)" \
	"$(q -q 'host.name:"mail01" AND message:/Failed/' --output json | md5sum)" "--host --grep"
expect_eq "$(q --host mail01 --grep Failed --count)" 2 "--host --grep count"
expect_eq "$(q --zone internet --app sshd --severity crit --field user.name=oracle --count)" 1 "old flags together"

# --- what the planner did
q -q 'host.name:web01' --count --explain > /dev/null 2> "$LW_TMP/explain1"
grep -qx 'index used: host.name (segment host list)' "$LW_TMP/explain1" || fail "explain: $(cat "$LW_TMP/explain1")"
grep -qx 'segments: 4 seen, 3 skipped (0 by time, 3 by index), 0 answered from metadata, 1 decoded' \
	"$LW_TMP/explain1" || fail "explain web01: $(cat "$LW_TMP/explain1")"
q -q 'labels.zone:mynumber' --count --explain > /dev/null 2> "$LW_TMP/explain2"
grep -qx 'segments: 4 seen, 3 skipped (0 by time, 3 by index), 1 answered from metadata, 0 decoded' \
	"$LW_TMP/explain2" || fail "explain mynumber: $(cat "$LW_TMP/explain2")"
q -q 'nothing-like-this' --explain > /dev/null 2> "$LW_TMP/explain3"
grep -qx 'literal: searched in 4 message columns, absent from 4, 0 candidate events' \
	"$LW_TMP/explain3" || fail "explain literal: $(cat "$LW_TMP/explain3")"

# --- errors
rc=0
q -q 'x AND source.ip:' > /dev/null 2> "$LW_TMP/err1" || rc=$?
expect_eq "$rc" 2 "syntax error exit code"
expect_eq "$(cat "$LW_TMP/err1")" 'logward query: 1:17: expected a value after "source.ip:"
  x AND source.ip:
                  ^' "syntax error message"
rc=0
q -q 'mail01 AND hostname:x' --count > /dev/null 2> "$LW_TMP/err2" || rc=$?
expect_eq "$rc" 2 "unknown field exit code"
expect_eq "$(head -1 "$LW_TMP/err2")" \
	"logward query: 1:12: unknown field 'hostname' (ECS names such as host.name, source.ip; docs/query.md)" \
	"unknown field"
rc=0
q -q 'message:/^(a|aa)+$/' > "$LW_TMP/out4" 2> "$LW_TMP/err4" || rc=$?
expect_eq "$rc" 1 "regex limit exit code"
grep -q '1:1: message:/^(a|aa)+\$/ exceeded the regex match limit' "$LW_TMP/err4" ||
	fail "regex limit message: $(cat "$LW_TMP/err4")"
rc=0
q --output csv > /dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "csv without an aggregation"
rc=0
q --count --follow > /dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "an aggregation does not follow"

# --- incidents list -q: the same language over incident fields. Ten
# failures from one address in a minute raise the brute force incident
# (grouped by source.ip) on top of those the lines above raised.
for i in 0 1 2 3 4 5 6 7 8 9; do
	echo "<34>1 2026-11-27T09:03:0${i}Z mail01 sshd 40$i - - Failed password for root from 203.0.113.50 port 800$i ssh2"
done > "$LW_TMP/brute.log"
"$LW_BIN" ingest -q -c "$LW_TMP/ingest.yml" --zone lgwan "$LW_TMP/brute.log" || fail "ingest brute"
inc() { "$LW_BIN" incidents -d "$LW_DATA" list --status all "$@"; }
expect_eq "$(inc -q 'category:unauthorized-access AND level:(high OR critical) AND group.source.ip:203.0.113.0/24' --output json | jq -r '.rule.title + " " + .group["source.ip"]')" \
	"SSH brute force from one source 203.0.113.50" "incident by category, level and group CIDR"
expect_eq "$(inc -q 'level:(high OR critical)' --output json | jq -r .id | tr '\n' ' ')" \
	"$(inc --output json | jq -r 'select(.level == "high" or .level == "critical") | .id' | tr '\n' ' ')" \
	"level:(high OR critical) against jq"
expect_eq "$(inc -q '"login attempt as root" NOT zone:mynumber' --output json | jq -r .host | tr '\n' ' ')" \
	"mail01 mail02 jump01 " "words search the rule name"
expect_eq "$(inc -q 'count:>=2 AND first_seen:>=2026-11-27T09:01:00Z' --output json | jq -r .id | tr '\n' ' ')" \
	"$(inc --output json | jq -r 'select(.count >= 2 and .first_seen >= "2026-11-27T09:01:00") | .id' | tr '\n' ' ')" \
	"numbers and times against jq"
expect_eq "$(inc -q 'count:>=2 AND first_seen:>=2026-11-27T09:01:00Z' | wc -l)" 3 "three of them"
rc=0
inc -q 'levle:high' > /dev/null 2> "$LW_TMP/err5" || rc=$?
expect_eq "$rc" 2 "unknown incident field exit code"
expect_eq "$(head -1 "$LW_TMP/err5")" \
	"logward incidents: 1:1: unknown field 'levle' (ECS names such as host.name, source.ip; docs/query.md)" \
	"unknown incident field"
echo "ok: query language, aggregations, old flags, explain, errors, incidents -q"
