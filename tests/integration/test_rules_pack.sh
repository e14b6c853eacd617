#!/usr/bin/env bash
# The default rule pack against its own test logs.
#
# Oracle: for every rule, tests/data/rules/<rule>/expected lists the
# incidents `logward rules test` must raise over fires.log, one line per
# incident as "<rule name> <count>" (the final, merged count of each
# distinct rule+group, the way the store would show it), and nothing else;
# benign.log must raise no incident at all. An optional `args` file adds
# options (--zone, --max-clock-skew). Every rule of the pack that can raise
# incidents must have such a directory, and every directory a rule.
set -euo pipefail

: "${LW_BIN:?LW_BIN must point at the logward binary}"
SRC=${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=$SRC/tests/data/rules
NOW=2026-11-27T12:00:00Z
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }

TMP=$(mktemp -d /tmp/logward-rules.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$LW_BIN" rules check -c "$DATA/zones.yml" "$SRC/rules" >"$TMP/check.out" ||
	{ cat "$TMP/check.out" >&2; echo "FAIL: rules check" >&2; exit 1; }
grep -q ': 0 errors, 0 warnings$' "$TMP/check.out" ||
	{ cat "$TMP/check.out" >&2; echo "FAIL: the pack has warnings" >&2; exit 1; }

# Incidents of a `rules test` run: "<name> <count>" per distinct id, sorted.
incidents() {
	python3 -c '
import json, sys
final = {}
for line in sys.stdin:
    o = json.loads(line)
    if "incident" in o:
        i = o["incident"]
        final[i["id"]] = "%s %d" % (i["rule"]["name"], i["count"])
for v in sorted(final.values()):
    print(v)
'
}

failures=0
n=0
for dir in "$DATA"/*/; do
	rule=$(basename "$dir")
	[ -f "$dir/fires.log" ] || continue
	n=$((n + 1))
	args=()
	if [ -f "$dir/args" ]; then
		read -r -a args <"$dir/args"
	fi
	for kind in fires benign; do
		if ! "$LW_BIN" rules test -r "$SRC/rules" -c "$DATA/zones.yml" --now "$NOW" \
			"${args[@]}" "$dir/$kind.log" >"$TMP/$rule.$kind.json" 2>"$TMP/err"; then
			cat "$TMP/err" >&2
			echo "FAIL: $rule: rules test on $kind.log failed" >&2
			failures=$((failures + 1))
			continue
		fi
		lines=$(wc -l <"$dir/$kind.log")
		got_lines=$(grep -c '^{"line":' "$TMP/$rule.$kind.json" || true)
		if [ "$lines" != "$got_lines" ]; then
			echo "FAIL: $rule: $kind.log has $lines lines, output has $got_lines" >&2
			failures=$((failures + 1))
		fi
		incidents <"$TMP/$rule.$kind.json" >"$TMP/$rule.$kind.got"
		if [ "$kind" = fires ]; then
			want="$dir/expected"
		else
			want=/dev/null
		fi
		if ! diff -u "$want" "$TMP/$rule.$kind.got" >"$TMP/diff"; then
			echo "FAIL: $rule: incidents from $kind.log differ (expected vs got):" >&2
			cat "$TMP/diff" >&2
			failures=$((failures + 1))
		fi
	done
	grep -q "^$rule " "$dir/expected" ||
		{ echo "FAIL: $rule: expected does not name the rule itself" >&2; failures=$((failures + 1)); }
done

# Every rule that can raise an incident has a test directory. Building
# blocks (level informational) raise none.
for f in "$SRC"/rules/detection/*.yml "$SRC"/rules/correlation/*.yml; do
	name=$(sed -n 's/^name: *//p' "$f" | head -n 1)
	level=$(sed -n 's/^level: *//p' "$f" | head -n 1)
	[ "$level" = informational ] && continue
	if [ ! -d "$DATA/$name" ]; then
		echo "FAIL: rule $name ($f) has no tests/data/rules/$name/" >&2
		failures=$((failures + 1))
	fi
done

if [ "$failures" -gt 0 ]; then
	echo "FAIL: $failures problem(s) over $n rules" >&2
	exit 1
fi
echo "ok: $n rules, each fires on fires.log and stays quiet on benign.log"
