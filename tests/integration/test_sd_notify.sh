#!/usr/bin/env bash
# systemd's notify protocol with a real NOTIFY_SOCKET (a unix datagram
# socket this test listens on, as systemd would): `serve` sends READY=1
# only once its ports are bound (the ports file exists and a logger line
# sent right after is stored), WATCHDOG=1 every half WATCHDOG_USEC from
# its event loop, RELOADING=1 with MONOTONIC_USEC on SIGHUP then READY=1
# after the reload, and STOPPING=1 on SIGTERM, in that order. Run as root,
# serve drops to another user after binding; the socket here is root's
# alone (mode 0755), so the states after the drop reach it only because
# the daemon connected it before.
. "$(dirname "$0")/lib.sh"
need python3
need logger

SOCK="$LW_TMP/notify.sock"
python3 - "$SOCK" > "$LW_TMP/notify.log" <<'PY' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
t0 = time.monotonic()
while True:
    try:
        d = s.recv(4096).decode()
    except socket.timeout:
        break
    ports = os.path.exists(os.path.join(os.path.dirname(sys.argv[1]), "ports"))
    print(f"{time.monotonic() - t0:.3f}\t{int(ports)}\t" + d.replace("\n", "|"), flush=True)
    if d.startswith("STOPPING=1"):
        break
PY
listener=$!
for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "the notify listener did not start"

export NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=400000
lw_start
unset NOTIFY_SOCKET WATCHDOG_USEC
for _ in $(seq 1 50); do grep -q "READY=1" "$LW_TMP/notify.log" && break; sleep 0.1; done
logger -n 127.0.0.1 -P "$LW_UDP_PORT" -d "after ready"
sleep 1.2
kill -HUP "$LW_PID"
for _ in $(seq 1 100); do [ "$(grep -c "READY=1" "$LW_TMP/notify.log")" -ge 2 ] && break; sleep 0.1; done
lw_stop
wait "$listener" || true
cat "$LW_TMP/notify.log"

states=$(cut -f3 "$LW_TMP/notify.log" | sed 's/|.*//' | grep -v '^WATCHDOG=1$' | tr '\n' ' ')
expect_eq "$states" "READY=1 RELOADING=1 READY=1 STOPPING=1 " "states in order (watchdog pings aside)"
first=$(head -1 "$LW_TMP/notify.log")
expect_eq "$(cut -f2 <<<"$first")" 1 "the ports file existed at READY=1"
grep -q "^[0-9.]*	1	RELOADING=1|MONOTONIC_USEC=[0-9]*|STATUS=reloading$" "$LW_TMP/notify.log" ||
	fail "RELOADING without MONOTONIC_USEC"
grep -q "	STOPPING=1|STATUS=" "$LW_TMP/notify.log" || fail "no STOPPING status"
# 0.4 s watchdog: a ping every 0.2 s while running (about 2 s here)
pings=$(grep -c "	WATCHDOG=1$" "$LW_TMP/notify.log" || true)
[ "$pings" -ge 5 ] || fail "only $pings watchdog pings"
expect_eq "$(lw_count -q '"after ready"')" 1 "the line sent right after READY=1"
echo "ok: READY, $pings watchdog pings, RELOADING, READY, STOPPING"
