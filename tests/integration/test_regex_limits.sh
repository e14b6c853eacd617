#!/usr/bin/env bash
# Oracle: the security review's rule, a Sigma `re: '(a+)+$|x'` on the
# message, added beside the default pack, and 300 lines from util-linux
# logger that each contain x but make the first branch backtrack
# ("a" x 40 + "!x"). pcre2 stops each at the match limit and the rule
# takes it as no match; that must not be silent:
#   - `logward stats`: counters.regex_limit_hits and
#     regex_limit_hits.ax_rule are 300; /metrics has
#     lw_regex_limit_hits_total and lw_rule_regex_limit_hits_total
#     {rule="ax_rule"} at 300; the daemon's log names the rule;
#   - `logward rules check` warns that ax_rule's pattern backtracks
#     catastrophically (and exits 0: a warning);
#   - `logward query --grep` with that pattern exits 1 naming it, printing
#     nothing (its answer is unknown); a query given --time-limit 1ms on
#     20,000 events stops, exit 1, saying how far it got.
. "$(dirname "$0")/lib.sh"
need logger
need curl
need jq

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
EXTRA="$LW_TMP/extra"
mkdir -p "$EXTRA/detection"
cat > "$EXTRA/detection/ax.yml" <<'YAML'
title: a run then x
id: 5d0c2f0e-1b7e-4c54-9a49-8a0a3f3f0002
name: ax_rule
status: experimental
level: low
tags: [logward.malware]
logsource: {product: linux}
detection:
  selection: {message|re: '(a+)+$|x'}
  condition: selection
YAML
chmod -R a+rX "$EXTRA"
lw_start "rules: [$RULES, $EXTRA]
metrics: {address: \"127.0.0.1:0\"}"
MPORT=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
line="$(printf 'a%.0s' $(seq 1 40))!x"
for i in $(seq 1 300); do printf '<13>Dec  7 10:00:00 h1 app: %s\n' "$line"; done > "$LW_TMP/lines"
python3 - "$LW_TCP_PORT" "$LW_TMP/lines" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.close()
PY
lw_wait_count 300 60
lw_expect_counter regex_limit_hits 300 "counters.regex_limit_hits"
expect_eq "$("$LW_BIN" stats -d "$LW_DATA" --output json | jq -r '.counters["regex_limit_hits.ax_rule"]')" 300 \
	"counters[regex_limit_hits.ax_rule]"
# Captured first: grep -q stops reading early, and under pipefail the
# longer stats output would end with SIGPIPE.
stats_text=$("$LW_BIN" stats -d "$LW_DATA")
echo "$stats_text" | grep -q '^  regex_limit_hits.ax_rule=300$' || fail "stats text lacks the rule's count"
metrics=$(curl -sS "http://127.0.0.1:$MPORT/metrics")
echo "$metrics" | grep -q '^lw_rule_regex_limit_hits_total{rule="ax_rule"} 300$' ||
	fail "/metrics: $(echo "$metrics" | grep regex_limit)"
echo "$metrics" | grep -q '^lw_regex_limit_hits_total 300$' || fail "/metrics total: $(echo "$metrics" | grep regex_limit)"
grep -q "rule pattern hit the match limit.*rule='ax_rule'" "$LW_TMP/serve.log" || fail "the daemon's log does not name the rule"

rc=0
"$LW_BIN" rules check "$RULES" "$EXTRA" > "$LW_TMP/check.out" 2>&1 || rc=$?
expect_eq "$rc" 0 "rules check exit status (a warning)"
grep -qF "warning: rule 'ax_rule': pattern '(a+)+\$|x' can backtrack catastrophically" "$LW_TMP/check.out" ||
	fail "rules check: $(cat "$LW_TMP/check.out")"
expect_eq "$(grep -c 'can backtrack' "$LW_TMP/check.out")" 1 "patterns reported (the pack's own: none)"

rc=0
lw_query --grep '(a+)+$|x' > "$LW_TMP/q.out" 2> "$LW_TMP/q.err" || rc=$?
expect_eq "$rc" 1 "query --grep exit status"
expect_eq "$(wc -l < "$LW_TMP/q.out")" 0 "events printed by a query whose answer is unknown"
grep -qF 'message:/(a+)+$|x/ exceeded the regex match limit' "$LW_TMP/q.err" || fail "query --grep: $(cat "$LW_TMP/q.err")"

# The time limit: 20,000 events scanned by a regex take far more than
# 1 ms (decoding alone does); with no limit every match is printed.
python3 - "$LW_TMP/many" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write("<13>Dec  7 10:00:00 h1 app: request %d from 10.0.%d.%d done\n" % (i, i // 256 % 256, i % 256))
PY
"$LW_BIN" ingest -d "$LW_TMP/many.d" "$LW_TMP/many" 2>/dev/null || fail "ingest of 20,000 lines"
rc=0
"$LW_BIN" query -d "$LW_TMP/many.d" --grep 'from 10\.0\.\d+\.7 ' --time-limit 1ms \
	> "$LW_TMP/q.out" 2> "$LW_TMP/q.err" || rc=$?
expect_eq "$rc" 1 "query --time-limit exit status"
grep -q "stopped: time limit reached after [0-9]* events scanned, [0-9]* matched" "$LW_TMP/q.err" ||
	fail "query --time-limit: $(cat "$LW_TMP/q.err")"
rc=0
"$LW_BIN" query -d "$LW_TMP/many.d" --grep 'from 10\.0\.\d+\.7 ' --time-limit 0 \
	> "$LW_TMP/q.out" 2> "$LW_TMP/q.err" || rc=$?
expect_eq "$rc" 0 "query --time-limit 0 exit status"
expect_eq "$(wc -l < "$LW_TMP/q.out")" 79 "events matched with no time limit"
lw_stop
echo "PASS: match-limit hits are counted per rule, exported, warned about and reported by query"
