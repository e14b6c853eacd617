#!/usr/bin/env bash
# Importing a server's rotated auth.log months after it was written
# (issue 11): year-less stamps keep their year, nothing is dated in the
# future, and no clock incident is raised, because an import has no live
# clock to compare with. With --check-clock the comparison is made.
#
# Oracle: the stamps are generated five to eight months before now; the
# file's modification time is set to five months ago (its last line);
# the exact @timestamp of the first and last lines, the count of events
# flagged clock_skew, and the incidents (brute force raised, clock skew
# not) are checked against what the test wrote.
. "$(dirname "$0")/lib.sh"
need python3
need jq
SRC="${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"

# 40 sshd lines from 8 months ago to 5 months ago, 12 of them failures
# from one address within two minutes (the pack's brute force: 10 in 5m).
python3 - "$LW_TMP/auth.log" "$LW_TMP/expect" <<'PY'
import datetime, sys
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
start = now - datetime.timedelta(days=8 * 30)
end = now - datetime.timedelta(days=5 * 30)
lines, stamps = [], []
step = (end - start) / 27
for i in range(28):
    t = start + step * i
    t = t.replace(microsecond=0)
    stamps.append(t)
    lines.append("%s %2d %s web1 sshd[%d]: Accepted publickey for alice from 10.20.0.%d port 5%04d ssh2"
                 % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"), 100 + i, i + 1, i))
burst = end - datetime.timedelta(minutes=3)
for i in range(12):
    t = burst + datetime.timedelta(seconds=10 * i)
    stamps.append(t)
    lines.append("%s %2d %s web1 sshd[%d]: Failed password for root from 203.0.113.50 port 4%04d ssh2"
                 % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"), 900 + i, i))
order = sorted(range(len(lines)), key=lambda k: stamps[k])
with open(sys.argv[1], "w") as f:
    for k in order:
        f.write(lines[k] + "\n")
ts = sorted(stamps)
with open(sys.argv[2], "w") as f:
    f.write("%d %d %d %s\n" % (len(lines), int(ts[0].timestamp()), int(ts[-1].timestamp()),
                               end.strftime("%Y-%m-%dT%H:%M:%SZ")))
PY
read -r total first last mtime <"$LW_TMP/expect"
touch -d "$mtime" "$LW_TMP/auth.log"

cat >"$LW_TMP/import.yml" <<YAML
data_dir: $LW_TMP/import
timezone: UTC
rules: [$SRC/rules]
YAML

# $1 = store, rest = ingest options; prints nothing, fails on error
ingest() {
	local dir=$1
	shift
	"$LW_BIN" ingest -q -c "$LW_TMP/import.yml" -d "$dir" "$@" "$LW_TMP/auth.log" \
		2>"$LW_TMP/ingest.err" || { cat "$LW_TMP/ingest.err" >&2; fail "ingest $*"; }
}

epochs() {
	"$LW_BIN" query -d "$1" --since 3650d --limit 0 --output json |
		jq -r '."@timestamp"' | while read -r t; do date -u -d "$t" +%s; done
}

ingest "$LW_TMP/plain"
now=$(date -u +%s)
got=$("$LW_BIN" query -d "$LW_TMP/plain" --since 3650d --limit 0 --output json | wc -l)
expect_eq "$got" "$total" "events stored"
epochs "$LW_TMP/plain" >"$LW_TMP/epochs"
expect_eq "$(head -n 1 "$LW_TMP/epochs")" "$first" "first @timestamp (8 months ago, not 4 months ahead)"
expect_eq "$(tail -n 1 "$LW_TMP/epochs")" "$last" "last @timestamp"
future=$(awk -v now="$now" '$1 > now' "$LW_TMP/epochs" | wc -l)
expect_eq "$future" 0 "events dated in the future"
skewed=$("$LW_BIN" query -d "$LW_TMP/plain" --since 3650d --limit 0 --output json |
	jq -c 'select((.logward.flags // []) | index("clock_skew"))' | wc -l)
expect_eq "$skewed" 0 "events flagged clock_skew on import"
"$LW_BIN" incidents -d "$LW_TMP/plain" list --status all --output json >"$LW_TMP/inc.json"
expect_eq "$(jq -r 'select(.rule.id == "2ddcfcf4-5aa2-4fad-980d-49b74969a574") | .group["source.ip"]' "$LW_TMP/inc.json")" \
	"203.0.113.50" "brute force raised from the imported lines"
expect_eq "$(jq -r 'select(.category == "log-tampering") | .rule.title' "$LW_TMP/inc.json" | wc -l)" 0 \
	"clock incidents on import"

# --reference-time overrides the file's time: with "now", the same
# stamps are still in the past (the latest year not in the future).
ingest "$LW_TMP/ref" --reference-time "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
expect_eq "$(epochs "$LW_TMP/ref" | head -n 1)" "$first" "first @timestamp with --reference-time now"

# --check-clock: every event is months away from the time it was read.
ingest "$LW_TMP/checked" --check-clock
skewed=$("$LW_BIN" query -d "$LW_TMP/checked" --since 3650d --limit 0 --output json |
	jq -c 'select((.logward.flags // []) | index("clock_skew"))' | wc -l)
expect_eq "$skewed" "$total" "events flagged clock_skew with --check-clock"
"$LW_BIN" incidents -d "$LW_TMP/checked" list --status all --output json >"$LW_TMP/inc2.json"
expect_eq "$(jq -r 'select(.rule.id == "52c6baed-2146-4e89-b59f-376a3a2d579d") | .rule.title' "$LW_TMP/inc2.json" | head -n 1)" \
	"Sender clock out of sync" "clock incident with --check-clock"
echo "ok: $total imported events kept their dates; no clock incident without --check-clock"
