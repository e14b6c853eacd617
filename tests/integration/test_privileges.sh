#!/usr/bin/env bash
# Oracle: the kernel's view of the running daemon, /proc/PID/status
# (Uid, Gid, CapEff, CapPrm), and ls. Started as root with no `user`,
# serve binds a TCP port and a unix socket, then runs as `logward` when
# that user exists, else `nobody`: every Uid and Gid field is that
# user's, CapEff and CapPrm are 0. It still stores what util-linux
# logger sends over TCP and the unix socket, reloads on SIGHUP, and at
# SIGTERM commits and removes its socket: the data directory it created
# (and the store files in it) belong to that user. `user: root` keeps
# root and says so; `user: NAME` for a user that does not exist refuses
# to start with a clear message. Skipped unless run as root.
. "$(dirname "$0")/lib.sh"
need logger
need python3
[ "$(id -u)" = 0 ] || skip "needs root (serve drops root only when started as root)"
if id logward >/dev/null 2>&1; then USER_TO=logward; else USER_TO=nobody; fi
UID_TO=$(id -u "$USER_TO")
GID_TO=$(id -g "$USER_TO")

# Here the test's directory stays root's (lib.sh gives it to the
# daemon's user): others may only traverse it, so serve must create its
# data directory as root and give it away.
chown root "$LW_TMP"
chmod 0711 "$LW_TMP"
D="$LW_TMP/srv/data"
cat > "$LW_TMP/priv.yml" <<YAML
data_dir: $D
timezone: UTC
storage: {flush_interval: 200ms}
listeners:
  - {type: tcp, address: "127.0.0.1:0", zone: lgwan}
  - {type: unix, path: "$D/log.sock", zone: mynumber}
YAML
"$LW_BIN" serve -c "$LW_TMP/priv.yml" --ports-file "$LW_TMP/ports" >> "$LW_TMP/serve.log" 2>&1 &
LW_PID=$!
for _ in $(seq 1 100); do [ -s "$LW_TMP/ports" ] && break; sleep 0.1; done
[ -s "$LW_TMP/ports" ] || fail "serve did not start"
PORT=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
for _ in $(seq 1 50); do grep -q "dropped root" "$LW_TMP/serve.log" && break; sleep 0.1; done
status() { awk -v k="$1:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "/proc/$LW_PID/status"; }
expect_eq "$(status Uid)" "$UID_TO $UID_TO $UID_TO $UID_TO" "Uid (real, effective, saved, fs)"
expect_eq "$(status Gid)" "$GID_TO $GID_TO $GID_TO $GID_TO" "Gid"
expect_eq "$(status CapEff)" 0000000000000000 "CapEff"
expect_eq "$(status CapPrm)" 0000000000000000 "CapPrm"
# Every thread, not only the main one.
for t in /proc/$LW_PID/task/*; do
	expect_eq "$(awk '$1 == "Uid:" {print $3}' "$t/status")" "$UID_TO" "effective uid of thread $t"
done
grep -q "dropped root; user='$USER_TO' uid='$UID_TO'" "$LW_TMP/serve.log" || fail "no 'dropped root' line"

logger -n 127.0.0.1 -P "$PORT" -T --rfc3164 -t app "over tcp after the drop"
logger -u "$D/log.sock" -t app "over the unix socket after the drop"
lw_wait_count_dir() {
	for _ in $(seq 1 100); do
		[ "$("$LW_BIN" query -d "$D" | wc -l)" -ge "$1" ] && return 0
		sleep 0.2
	done
	fail "store holds $("$LW_BIN" query -d "$D" | wc -l) events, expected $1"
}
lw_wait_count_dir 2
kill -HUP "$LW_PID"
for _ in $(seq 1 100); do
	grep -q "configuration reloaded\|reload rejected" "$LW_TMP/serve.log" && break
	sleep 0.1
done
grep -q "configuration reloaded" "$LW_TMP/serve.log" ||
	fail "reload after the drop: $(grep -i reload "$LW_TMP/serve.log")"
logger -n 127.0.0.1 -P "$PORT" -T --rfc3164 -t app "after the reload"
lw_wait_count_dir 3
lw_stop
[ -e "$D/log.sock" ] && fail "the unix socket was not removed at exit"
expect_eq "$(stat -c %U "$LW_TMP/srv" "$D" "$D/data.mdb" "$D/lock.mdb" | sort -u)" "$USER_TO" \
	"owner of the directories and store files serve created"

# user: root keeps root, and says so.
sed -i '1i user: root' "$LW_TMP/priv.yml"
rm -f "$LW_TMP/ports"
"$LW_BIN" serve -c "$LW_TMP/priv.yml" --ports-file "$LW_TMP/ports" >> "$LW_TMP/root.log" 2>&1 &
LW_PID=$!
for _ in $(seq 1 100); do [ -s "$LW_TMP/ports" ] && break; sleep 0.1; done
[ -s "$LW_TMP/ports" ] || fail "serve with user: root did not start: $(cat "$LW_TMP/root.log")"
expect_eq "$(awk '$1 == "Uid:" {print $3}' "/proc/$LW_PID/status")" 0 "effective uid with user: root"
grep -q "running as root (user: root)" "$LW_TMP/root.log" || fail "no warning for user: root"
lw_stop

# A user that does not exist: refused, with the reason.
sed -i 's/^user: root/user: no-such-user-lw/' "$LW_TMP/priv.yml"
rc=0
timeout 20 "$LW_BIN" serve -c "$LW_TMP/priv.yml" > "$LW_TMP/nouser.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "serve with a missing user exited $rc"
grep -q "user 'no-such-user-lw' does not exist" "$LW_TMP/nouser.log" || fail "no clear message: $(cat "$LW_TMP/nouser.log")"
echo "PASS: started as root, serve runs as $USER_TO (uid $UID_TO) with no capability"
