#!/usr/bin/env bash
# Oracle: LMDB's own mdb_dump/mdb_load (lmdb-utils, not ours) rewrite one
# byte of one stored segment behind logward's back. `logward verify` must
# pass before, fail after (exit 1), and name that segment's id.
. "$(dirname "$0")/lib.sh"
need mdb_dump
need mdb_load

cat > "$LW_TMP/logward.yml" <<YAML
data_dir: $LW_DATA
timezone: UTC
storage: {segment_bytes: 4KiB}
YAML
for i in $(seq 1 600); do
	echo "<38>Nov 27 12:$((i / 60 % 60)):$((i % 60)) host$((i % 7)) sshd[$i]: Failed password for user$i from 203.0.113.$((i % 250)) port $((40000 + i)) ssh2"
done > "$LW_TMP/auth.log"
"$LW_BIN" ingest -c "$LW_TMP/logward.yml" "$LW_TMP/auth.log" || fail "ingest failed"
expect_eq "$(lw_count)" 600 "ingested events"
"$LW_BIN" verify -d "$LW_DATA" > "$LW_TMP/verify-ok.txt" || fail "verify failed on an intact store"

mdb_dump -s segments "$LW_DATA" > "$LW_TMP/segments.dump" || fail "mdb_dump"
# Records are "key line, value line" pairs after the HEADER=END line; take
# the third record and flip one hex digit in the middle of its value.
awk 'f {print} /^HEADER=END/ {f=1}' "$LW_TMP/segments.dump" | grep -c '^ ' > "$LW_TMP/lines"
[ "$(cat "$LW_TMP/lines")" -ge 6 ] || fail "expected at least 3 segments"
python3 - "$LW_TMP/segments.dump" "$LW_TMP/tampered.dump" "$LW_TMP/victim" <<'PY'
import sys
src, dst, victim = sys.argv[1:4]
lines = open(src).read().split("\n")
start = lines.index("HEADER=END") + 1
key_line, val_line = start + 4, start + 5          # third record
key = lines[key_line].strip()
val = lines[val_line]
mid = len(val) // 2 + 40                           # inside the zstd frame
flipped = "0" if val[mid] != "0" else "1"
lines[val_line] = val[:mid] + flipped + val[mid + 1:]
open(dst, "w").write("\n".join(lines))
open(victim, "w").write(str(int(key, 16)))
PY
mdb_load -s segments -f "$LW_TMP/tampered.dump" "$LW_DATA" || fail "mdb_load"
victim=$(cat "$LW_TMP/victim")

rc=0
"$LW_BIN" verify -d "$LW_DATA" > "$LW_TMP/verify-bad.txt" 2>&1 || rc=$?
expect_eq "$rc" 1 "verify exit code on a tampered store"
grep -Eq "segment $victim\b" "$LW_TMP/verify-bad.txt" || fail "verify did not name segment $victim: $(cat "$LW_TMP/verify-bad.txt")"
echo "ok: tampering with segment $victim detected and named"
