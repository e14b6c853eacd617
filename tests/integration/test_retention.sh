#!/usr/bin/env bash
# Retention with the real binary on real LMDB: storage.max_age deletes a
# segment of 2020 events right after it is committed (ingest of old
# timestamps is the clock: no fake time), storage.max_bytes keeps about
# 3.5 segments; exact counts of deleted and remaining events, `verify`
# still passes (also keyed, with --key), `stats` (text and JSON) shows
# what was deleted, when and why, `query` sees only what is left, and
# `incidents show` of an incident whose evidence was deleted says so and
# exits 0. A segment deleted in the middle after retention is still found.
. "$(dirname "$0")/lib.sh"
need jq
TAMPER="${LW_BUILD_DIR:?}/lw_tamper"
RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"

now_day=$(date -u +%Y-%m-%d)
# gen FILE N HOUR: N RFC 5424 sshd lines of today at HOUR:xx:yy.
gen() {
	for i in $(seq 1 "$2"); do
		printf '<38>1 %sT%02d:%02d:%02d.000Z web%d sshd %d - - Accepted publickey for user%d from 198.51.100.%d port %d ssh2\n' \
			"$now_day" "$3" $((i / 60)) $((i % 60)) $((i % 3)) "$i" "$i" $((i % 250)) $((40000 + i))
	done > "$1"
}
st() { "$LW_BIN" stats -d "$1" --output json; }

# --- max_age ------------------------------------------------------------
A="$LW_TMP/age"
cat > "$LW_TMP/age.yml" <<YAML
data_dir: $A
timezone: UTC
rules: [$RULES]
storage: {max_age: 1d, max_bytes: 0}
YAML
{
	printf '<28>1 2020-03-01T10:00:00Z fs1 clamd 900 - - /home/a/invoice.exe: Win.Trojan.Agent-123 FOUND\n'
	for i in $(seq 1 19); do
		printf '<38>1 2020-03-01T10:%02d:00Z fs1 cron %d - - job %d done\n' "$i" "$i" "$i"
	done
} > "$LW_TMP/old.log"
# max_age is arrival time: events stamped 2020 that arrive now are kept
# (an imported archive or an old journal must not vanish on arrival).
"$LW_BIN" ingest -c "$LW_TMP/age.yml" "$LW_TMP/old.log" 2> "$LW_TMP/age1.err" || fail "ingest old: $(cat "$LW_TMP/age1.err")"
grep -q "retention deleted" "$LW_TMP/age1.err" && fail "old event times deleted on arrival: $(cat "$LW_TMP/age1.err")"
expect_eq "$(st "$A" | jq -c '[.segments, .events]')" '[1,20]' "2020 events kept under max_age 1d"
# Once they arrived longer ago than max_age, the next commit's retention
# deletes them.
sed -i 's/max_age: 1d/max_age: 2s/' "$LW_TMP/age.yml"
sleep 3
gen "$LW_TMP/new.log" 30 0
"$LW_BIN" ingest -c "$LW_TMP/age.yml" "$LW_TMP/new.log" 2> "$LW_TMP/age2.err" || fail "ingest new: $(cat "$LW_TMP/age2.err")"
grep -q "retention deleted segments; segments='1' events='20' first_kept='2'" "$LW_TMP/age2.err" ||
	fail "no retention log line: $(cat "$LW_TMP/age2.err")"
expect_eq "$(st "$A" | jq -c '[.segments, .events, .retention.first_segment, .retention.deleted_segments, .retention.deleted_events, .retention.transactions, .retention.last.reason]')" \
	'[1,30,2,1,20,1,"max_age"]' "stats after max_age"
st "$A" | jq -e '.retention.last.time | startswith("'"$now_day"'T")' > /dev/null || fail "deletion time: $(st "$A" | jq -c .retention)"
expect_eq "$("$LW_BIN" query -d "$A" --output json | wc -l)" 30 "events left"
out=$("$LW_BIN" verify -d "$A") || fail "verify after max_age: $out"
grep -q "^ok: 1 segments, 30 events" <<<"$out" || fail "verify: $out"
grep -q "^retention: segments 1-1 deleted (20 events, " <<<"$out" || fail "verify retention line: $out"
# Captured first: grep -q stops reading at the match, and the rest of the
# text (the correlation table) would end stats with SIGPIPE under pipefail.
out=$("$LW_BIN" stats -d "$A")
grep -q "^last deletion $now_day.* (max_age): 1 segments, 20 events" <<<"$out" ||
	fail "stats text: $out"
# The ClamAV incident keeps its evidence seq; the event is gone.
id=$("$LW_BIN" incidents -d "$A" list --status all --output json | jq -r 'select(.rule.title == "ClamAV found malware") | .id')
[ -n "$id" ] || fail "no ClamAV incident: $("$LW_BIN" incidents -d "$A" list --status all)"
out=$("$LW_BIN" incidents -d "$A" show "$id" 2>&1) || fail "incidents show failed: $out"
grep -q "^  \[0\] (no longer stored: deleted by retention)" <<<"$out" || fail "show: $out"
grep -q "1 evidence event(s) no longer stored (retention)" <<<"$out" || fail "show stderr: $out"

# --- max_bytes ----------------------------------------------------------
# Measure one segment of these files without retention, then bound the
# store at 3.5 of them: every ingest from the 4th on deletes exactly one.
M="$LW_TMP/measure"
printf 'data_dir: %s\ntimezone: UTC\nstorage: {max_age: 0s, max_bytes: 0}\n' "$M" > "$LW_TMP/m.yml"
for f in 1 2 3 4 5 6 7 8; do gen "$LW_TMP/b$f.log" 50 "$f"; done
for f in 1 2 3 4; do "$LW_BIN" ingest -c "$LW_TMP/m.yml" "$LW_TMP/b$f.log" 2>/dev/null || fail "measure ingest"; done
seg=$(( $(st "$M" | jq .stored_bytes) / 4 ))
bound=$(( seg * 7 / 2 ))

run_bytes() { # DIR EXTRA_STORAGE [init-key]
	local d=$1
	printf 'data_dir: %s\ntimezone: UTC\nstorage: {max_age: 0s, max_bytes: %d%s}\n' "$d" "$bound" "$2" > "$LW_TMP/b.yml"
	for f in 1 2 3 4 5 6 7 8; do
		"$LW_BIN" ingest -c "$LW_TMP/b.yml" "$LW_TMP/b$f.log" 2>/dev/null || fail "ingest b$f into $d"
	done
	expect_eq "$(st "$d" | jq -c '[.segments, .events, .retention.first_segment, .retention.deleted_segments, .retention.deleted_events, .retention.transactions, .retention.last.reason, .retention.last.segments]')" \
		'[3,150,6,5,250,5,"max_bytes",1]' "stats after max_bytes ($d)"
	[ "$(st "$d" | jq .stored_bytes)" -le "$bound" ] || fail "stored bytes over the bound"
	expect_eq "$("$LW_BIN" query -d "$d" --output json | wc -l)" 150 "events left in $d"
	expect_eq "$("$LW_BIN" query -d "$d" --output json | head -1 | jq -r '."@timestamp"')" "${now_day}T06:00:01.000000Z" "oldest event left"
}
run_bytes "$LW_TMP/bytes" ""
out=$("$LW_BIN" verify -d "$LW_TMP/bytes") || fail "verify after max_bytes: $out"
grep -q "^ok: 3 segments, 150 events" <<<"$out" || fail "verify: $out"
grep -q "^retention: segments 1-5 deleted (250 events, .*(max_bytes)" <<<"$out" || fail "verify: $out"

# Keyed: the checkpoints carry a MAC and verify ratchets across them.
K="$LW_TMP/keyed"
KEY=$("$LW_BIN" init-key -d "$K" 2>/dev/null) || fail "init-key"
run_bytes "$K" ", integrity_key: $K/integrity.key"
out=$("$LW_BIN" verify -d "$K" --key "$KEY") || fail "verify --key after retention: $out"
grep -q "and the retention checkpoint's MAC" <<<"$out" || fail "verify --key: $out"

# A segment deleted in the middle after retention is still found.
if [ -x "$TAMPER" ]; then
	"$TAMPER" delete "$LW_TMP/bytes" 7 || fail "tamper"
	rc=0
	out=$("$LW_BIN" verify -d "$LW_TMP/bytes") || rc=$?
	expect_eq "$rc" 1 "verify after a middle deletion"
	grep -q "^broken: segment 7: segment missing (next stored segment is 8)" <<<"$out" || fail "middle gap: $out"
fi
# The daemon: `serve` with a 3000-byte bound and commits every 100 ms,
# 10 bursts of 30 lines from util-linux logger over TCP. Whatever was
# deleted plus what is left is exactly what was sent, the bound holds
# within its 1/16 slack after the last commit, and verify passes.
if command -v logger > /dev/null; then
	S="$LW_TMP/served"
	cat > "$LW_TMP/serve.yml" <<YAML
data_dir: $S
timezone: UTC
storage: {flush_interval: 100ms, max_age: 0s, max_bytes: 3000}
listeners:
  - {type: tcp, address: "127.0.0.1:0", framing: auto}
YAML
	"$LW_BIN" serve -c "$LW_TMP/serve.yml" --ports-file "$LW_TMP/ports" >> "$LW_TMP/serve.log" 2>&1 &
	LW_PID=$!
	for _ in $(seq 1 100); do [ -s "$LW_TMP/ports" ] && break; sleep 0.1; done
	[ -s "$LW_TMP/ports" ] || fail "serve did not report its ports"
	port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
	for b in $(seq 1 10); do
		for i in $(seq 1 30); do
			echo "<38>Nov 27 12:00:$((i % 60)) web$((i % 4)) sshd[$i]: Accepted publickey for user$b-$i from 198.51.100.$i port $((40000 + i)) ssh2"
		done | logger -n 127.0.0.1 -P "$port" -T --rfc3164 --prio-prefix
		sleep 0.3
	done
	total=0
	for _ in $(seq 1 100); do
		total=$(st "$S" | jq '.events + (.retention.deleted_events // 0)')
		[ "$total" = 300 ] && break
		sleep 0.2
	done
	lw_stop
	expect_eq "$(st "$S" | jq '.events + .retention.deleted_events')" 300 "kept + deleted events (serve)"
	expect_eq "$(st "$S" | jq '.events')" "$("$LW_BIN" query -d "$S" --output json | wc -l)" "stats and query agree"
	[ "$(st "$S" | jq '.retention.deleted_segments')" -ge 3 ] || fail "serve deleted too little: $(st "$S" | jq -c .retention)"
	[ "$(st "$S" | jq .stored_bytes)" -le $((3000 + 3000 / 16)) ] || fail "bound not held: $(st "$S" | jq .stored_bytes)"
	grep -q "retention deleted segments" "$LW_TMP/serve.log" || fail "serve did not log its deletions"
	"$LW_BIN" verify -d "$S" > /dev/null || fail "verify after serve retention: $("$LW_BIN" verify -d "$S")"
fi
echo "ok: retention by age and by size, verified and reported"
