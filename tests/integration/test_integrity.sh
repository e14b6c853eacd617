#!/usr/bin/env bash
# Keyed chain (docs/integrity.md) against an insider with root: a store
# made by `logward init-key`, six segments written by the real `logward
# ingest`, then each attack done straight into data.mdb (lw_tamper, raw
# LMDB; and mdb_dump/mdb_load from lmdb-utils for the format check).
# `logward verify --key INITIAL` must exit 1 and name the segment each
# attack touched; plain `verify` (no key) must say what it can and no
# more: the attacks that only the key can see pass without it, which is
# asserted too, so the test fails if that boundary moves.
. "$(dirname "$0")/lib.sh"
TAMPER="${LW_BUILD_DIR:?}/lw_tamper"
[ -x "$TAMPER" ] || skip "lw_tamper not built"
need mdb_dump
need mdb_load

PRISTINE="$LW_TMP/pristine"
"$LW_BIN" init-key -d "$PRISTINE" > "$LW_TMP/key" 2> "$LW_TMP/init-key.err" || fail "init-key"
KEY=$(cat "$LW_TMP/key")
[[ "$KEY" =~ ^[0-9a-f]{64}$ ]] || fail "init-key printed '$KEY', not 64 hex digits"
[ "$(stat -c %a "$PRISTINE/integrity.key")" = 600 ] || fail "key file is not mode 0600"
rc=0
"$LW_BIN" init-key -d "$PRISTINE" > /dev/null 2>&1 || rc=$?
expect_eq "$rc" 1 "a second init-key on the same store"

cat > "$LW_TMP/logward.yml" <<YAML
data_dir: $PRISTINE
timezone: UTC
storage: {max_age: 0s, max_bytes: 0, integrity_key: $PRISTINE/integrity.key}
YAML
for f in 1 2 3 4 5 6; do
	for i in $(seq 1 40); do
		printf '<38>1 2026-11-27T1%d:%02d:%02d.000Z web%d sshd %d - - Failed password for user%d from 203.0.113.%d port %d ssh2\n' \
			"$f" "$i" "$i" $((i % 3)) "$i" "$i" "$i" $((40000 + i))
	done > "$LW_TMP/f$f.log"
	"$LW_BIN" ingest -c "$LW_TMP/logward.yml" "$LW_TMP/f$f.log" 2>/dev/null || fail "ingest $f"
done
# One ingest = one commit = one segment; the key file is at the next one.
expect_eq "$("$LW_BIN" stats -d "$PRISTINE" --output json | jq -r '.segments, .keyed' | tr '\n' ' ')" "6 true " "segments, keyed"
expect_eq "$(od -A n -t u8 -j 8 -N 8 "$PRISTINE/integrity.key" | tr -d ' ')" 7 "key file index"

out=$("$LW_BIN" verify -d "$PRISTINE" --key "$KEY") || fail "verify --key on an intact store: $out"
grep -q "^ok: 6 segments, 240 events" <<<"$out" || fail "verify: $out"
grep -q "every segment's HMAC verified" <<<"$out" || fail "verify --key did not say the HMACs were checked: $out"
out=$("$LW_BIN" verify -d "$PRISTINE") || fail "verify without key: $out"
grep -q "HMAC check skipped" <<<"$out" || fail "verify without key did not say the keyed check was skipped: $out"

# attack NAME SEGMENT PLAIN_RC CMD...: copy the store, run CMD on the
# copy ($D), then verify with the key must exit 1 naming SEGMENT, and
# without the key exit PLAIN_RC (1 = also named).
attack() {
	local name=$1 seg=$2 plain=$3
	shift 3
	D="$LW_TMP/$name"
	cp -a "$PRISTINE" "$D"
	"$@" || fail "$name: the attack itself failed"
	local rc=0 out
	out=$("$LW_BIN" verify -d "$D" --key "$KEY" 2>&1) || rc=$?
	expect_eq "$rc" 1 "$name: verify --key exit code ($out)"
	grep -Eq "^broken: segment $seg: " <<<"$out" || fail "$name: verify --key did not name segment $seg: $out"
	rc=0
	out=$("$LW_BIN" verify -d "$D" 2>&1) || rc=$?
	expect_eq "$rc" "$plain" "$name: verify (no key) exit code ($out)"
	if [ "$plain" = 1 ]; then
		grep -Eq "^broken: segment $seg: " <<<"$out" || fail "$name: verify did not name segment $seg: $out"
	fi
	echo "ok: $name detected at segment $seg"
}

t() { "$TAMPER" "$1" "$D" "${@:2}"; }
attack flip-frame 3 1 t flip 3 300
attack flip-header-count 4 1 t flip 4 16
attack delete-middle 3 1 t delete 3
attack reorder 2 1 t swap 2 4
attack truncate-newest 5 1 t truncate 2
# An edit (one event dropped) whose plain SHA-256 chain the attacker
# recomputed from there to the head: with the keyed flag cleared even
# plain verify sees an unkeyed segment in a keyed store; with the flag
# kept only the HMAC check can tell.
attack rechain-unkeyed 3 1 t rechain 3
attack rechain-flag-kept 3 0 t rechain 3 keep
attack unkey-everything 1 0 t unkey
attack forged-checkpoint 3 1 t forge-checkpoint 2
attack forged-checkpoint-mac 3 0 t forge-checkpoint 2 mac

# The writer's key file removed (to hide a truncation): --key needs it.
D="$LW_TMP/nokeyfile"
cp -a "$PRISTINE" "$D"
rm "$D/integrity.key"
rc=0
out=$("$LW_BIN" verify -d "$D" --key "$KEY") || rc=$?
expect_eq "$rc" 1 "verify --key without the key file ($out)"
grep -q "key file .* is missing" <<<"$out" || fail "missing key file not reported: $out"

# A wrong initial key fails at the first segment.
rc=0
out=$("$LW_BIN" verify -d "$PRISTINE" --key "$(printf '%064d' 0)") || rc=$?
expect_eq "$rc" 1 "verify with a wrong key"
grep -q "^broken: segment 1: keyed chain (HMAC) mismatch" <<<"$out" || fail "wrong key: $out"

# A store of format 2 (meta "version" set back with mdb_dump/mdb_load)
# is refused with a clear message, exit 2.
D="$LW_TMP/format2"
cp -a "$PRISTINE" "$D"
mdb_dump -s meta "$D" | sed 's/^ 03000000$/ 02000000/' > "$LW_TMP/meta.dump"
grep -q '^ 02000000$' "$LW_TMP/meta.dump" || fail "version record not found in the meta dump"
mdb_load -s meta -f "$LW_TMP/meta.dump" "$D" || fail "mdb_load"
rc=0
out=$("$LW_BIN" verify -d "$D" 2>&1) || rc=$?
expect_eq "$rc" 2 "verify on a format 2 store"
grep -q "store format version 2 not supported (this logward reads 3" <<<"$out" || fail "format message: $out"

# The writer refuses the keyed store without its key file.
sed -i '/integrity_key/d; s/^storage:.*/storage: {max_age: 0s, max_bytes: 0}/' "$LW_TMP/logward.yml"
rc=0
out=$("$LW_BIN" ingest -c "$LW_TMP/logward.yml" "$LW_TMP/f1.log" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "ingest into a keyed store without the key succeeded"
grep -q "the store is keyed" <<<"$out" || fail "ingest without key: $out"
# Two writers on one keyed store: `serve` (TCP from util-linux logger)
# and `logward ingest` at the same time share the key file (flock) and
# ratchet by segment index; the result verifies with the initial key.
need logger
S="$LW_TMP/served"
KEY2=$("$LW_BIN" init-key -d "$S" 2>/dev/null) || fail "init-key (serve)"
cat > "$LW_TMP/serve.yml" <<YAML
data_dir: $S
timezone: UTC
storage: {flush_interval: 100ms, max_age: 0s, max_bytes: 0, integrity_key: $S/integrity.key}
listeners:
  - {type: tcp, address: "127.0.0.1:0", framing: auto}
YAML
"$LW_BIN" serve -c "$LW_TMP/serve.yml" --ports-file "$LW_TMP/ports" >> "$LW_TMP/serve.log" 2>&1 &
LW_PID=$!
for _ in $(seq 1 100); do [ -s "$LW_TMP/ports" ] && break; sleep 0.1; done
[ -s "$LW_TMP/ports" ] || fail "serve did not report its ports"
LW_TCP_PORT=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
for b in 1 2 3 4 5; do
	for i in $(seq 1 20); do
		logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 -t sshd -p auth.info "burst $b line $i"
	done &
	sender=$!
	"$LW_BIN" ingest -q -c "$LW_TMP/serve.yml" "$LW_TMP/f$b.log" 2>>"$LW_TMP/ingest2.err" || fail "concurrent ingest $b"
	wait "$sender"
	sleep 0.2
done
for _ in $(seq 1 100); do
	[ "$("$LW_BIN" stats -d "$S" --output json | jq .events)" = 300 ] && break
	sleep 0.2
done
lw_stop
expect_eq "$("$LW_BIN" stats -d "$S" --output json | jq .events)" 300 "events from serve + ingest"
out=$("$LW_BIN" verify -d "$S" --key "$KEY2") || fail "two keyed writers: $out"
grep -q "^ok: .* 300 events" <<<"$out" || fail "verify: $out"
last=$("$LW_BIN" stats -d "$S" --output json | jq .last_segment)
expect_eq "$(od -A n -t u8 -j 8 -N 8 "$S/integrity.key" | tr -d ' ')" $((last + 1)) "key file index after two writers"
echo "ok: all attacks detected and named; serve and ingest share a keyed store"
