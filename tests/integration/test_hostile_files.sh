#!/usr/bin/env bash
# Oracle: files logward writes or trusts, attacked by whoever can write
# their directory; `serve` runs as root in CI, so following a planted
# symlink would let anyone change any file. Each victim is a file with
# known content and mode that must come out untouched:
#   1. the unix socket swapped for a symlink right after bind (made
#      deterministic by tests/shim/swap_after_bind.c, LD_PRELOAD): serve
#      refuses to start, saying so, and the symlink's target keeps mode
#      0600 (before, chmod followed it: 0666);
#   2. a symlink planted at the ports file's old temporary name
#      (FILE.tmp): serve writes its ports file and the target is unchanged;
#   3. the notify file is a symlink: the incident is not written through
#      it (notify_failed, the reason logged), the target is unchanged;
#   4. the integrity key file is readable by others (0644): serve refuses
#      to start, naming the file and `chmod 600`; with 0600 it starts.
. "$(dirname "$0")/lib.sh"
need python3
need jq
need logger
SHIM="${LW_BUILD_DIR:-}/libswap_after_bind.so"
[ -f "$SHIM" ] || skip "tests/shim/swap_after_bind.c not built"

# Runs serve with config $1 (and env from the caller), expects it to
# exit non-zero within 20 s; its stderr goes to $LW_TMP/refused.log.
serve_must_refuse() {
	local rc=0
	timeout 20 "$LW_BIN" serve -c "$1" --ports-file "$LW_TMP/refused.ports" \
		> "$LW_TMP/refused.log" 2>&1 || rc=$?
	[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "serve did not refuse (exit $rc): $(tail -3 "$LW_TMP/refused.log")"
}

# ---- 1. unix socket swapped for a symlink between bind and chmod
printf 'secret\n' > "$LW_TMP/victim1"
chmod 600 "$LW_TMP/victim1"
cat > "$LW_TMP/unix.yml" <<YAML
data_dir: $LW_DATA
listeners:
  - {type: unix, path: "$LW_TMP/u.sock", zone: mynumber}
YAML
LD_PRELOAD="$SHIM" LW_SHIM_SYMLINK_TARGET="$LW_TMP/victim1" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	serve_must_refuse "$LW_TMP/unix.yml"
expect_eq "$(stat -c %a "$LW_TMP/victim1")" 600 "mode of the symlink's target"
grep -q "is no longer the socket just bound (replaced by a symbolic link)" "$LW_TMP/refused.log" ||
	fail "no clear refusal: $(cat "$LW_TMP/refused.log")"

# ---- 2. a symlink at the ports file's temporary name
printf 'keep\n' > "$LW_TMP/victim2"
ln -s "$LW_TMP/victim2" "$LW_TMP/ports.tmp"
RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
# ---- 3. the notify file is a symlink
printf 'keep\n' > "$LW_TMP/victim3"
ln -s "$LW_TMP/victim3" "$LW_TMP/notify.jsonl"
lw_start "rules: [$RULES]
notify:
  - {type: file, path: \"$LW_TMP/notify.jsonl\", max_attempts: 1}"
expect_eq "$(cat "$LW_TMP/victim2")" keep "target of the ports file's temporary name"
[ -L "$LW_TMP/ports" ] && fail "the ports file is a symlink"
grep -q '^tcp 127.0.0.1:' "$LW_TMP/ports" || fail "ports file: $(cat "$LW_TMP/ports")"
for i in $(seq 1 12); do
	logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 -t sshd --id=2201 -p auth.info \
		"Failed password for admin from 203.0.113.77 port $((40000 + i)) ssh2"
done
lw_wait_count 12 20
for _ in $(seq 1 100); do
	grep -q "symbolic link" "$LW_TMP/serve.log" && break
	sleep 0.2
done
grep -q "symbolic link" "$LW_TMP/serve.log" || fail "the notify failure was not logged with its reason"
expect_eq "$(cat "$LW_TMP/victim3")" keep "target of the notify file symlink"
lw_stop
[ "$(lw_counter notify_failed)" -ge 1 ] || fail "notify_failed is $(lw_counter notify_failed)"
expect_eq "$(lw_counter notify_sent)" 0 "notify_sent"

# ---- 4. an integrity key others can read
K="$LW_TMP/keyed"
"$LW_BIN" init-key -d "$K" > /dev/null 2>&1 || fail "init-key"
chmod 644 "$K/integrity.key"
cat > "$LW_TMP/keyed.yml" <<YAML
data_dir: $K
storage: {integrity_key: $K/integrity.key}
listeners:
  - {type: tcp, address: "127.0.0.1:0"}
YAML
serve_must_refuse "$LW_TMP/keyed.yml"
grep -q "key file '$K/integrity.key' is open to group or others (mode 0644).*chmod 600" "$LW_TMP/refused.log" ||
	fail "no clear refusal: $(cat "$LW_TMP/refused.log")"
chmod 600 "$K/integrity.key"
timeout 20 "$LW_BIN" serve -c "$LW_TMP/keyed.yml" --ports-file "$LW_TMP/k.ports" > "$LW_TMP/k.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$LW_TMP/k.ports" ] && break; sleep 0.1; done
[ -s "$LW_TMP/k.ports" ] || fail "serve with a 0600 key did not start: $(cat "$LW_TMP/k.log")"
kill -TERM "$pid"
wait "$pid" || fail "serve with a 0600 key did not stop cleanly"
echo "PASS: no planted symlink is followed; an open key file is refused"
