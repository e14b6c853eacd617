#!/usr/bin/env bash
# `allow` on TCP, TLS and UDP listeners, all with allow: [127.0.0.2/32].
# A sender from 127.0.0.1 is refused (connection closed at accept,
# datagram dropped) and counted in refused_not_allowed; the same sender
# bound to 127.0.0.2 is accepted and stored. Real sockets from python3
# (the kernel's loopback answers for all of 127.0.0.0/8).
# A fourth listener (tcp, max_connections: 2) refuses a third concurrent
# connection, counted in refused_max_connections.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"
need jq
need python3

lw_make_certs
ALLOW="allow: [127.0.0.2/32]"
LW_LISTENERS="  - {type: udp, address: \"127.0.0.1:0\", zone: internet, $ALLOW}
  - {type: tcp, address: \"127.0.0.1:0\", zone: internet, $ALLOW}
  - {type: tls, address: \"127.0.0.1:0\", zone: internet, $ALLOW,
     cert: \"$LW_PKI/server.pem\", key: \"$LW_PKI/server.key\"}
  - {type: tcp, address: \"127.0.0.3:0\", zone: internet, max_connections: 2}" lw_start
tls_port=$(lw_port_of tls)
max_port=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2}' "$LW_TMP/ports" | sed -n 2p)

# send.py SOURCE_IP -> one message per transport; prints, per transport,
# "accepted" or "refused" as the sender saw it.
cat > "$LW_TMP/send.py" <<'PY'
import socket, ssl, sys, time
src, udp, tcp, tls, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def msg(t):
    m = ("<13>1 2026-11-27T10:00:00Z h1 app - - - %s from %s" % (t, src)).encode()
    return b"%d %s" % (len(m), m)

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((src, 0))
u.sendto(msg("udp")[len(msg("udp").split(b" ", 1)[0]) + 1:], ("127.0.0.1", udp))

def closed_by_peer(s):
    # A refused connection was accepted and closed at once: EOF (or RST).
    s.settimeout(2)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False  # still open: accepted

t = socket.create_connection(("127.0.0.1", tcp), source_address=(src, 0))
t.sendall(msg("tcp"))
print("tcp", "refused" if closed_by_peer(t) else "accepted")

ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection(("127.0.0.1", tls), source_address=(src, 0))
try:
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(msg("tls"))
    print("tls", "refused" if closed_by_peer(s) else "accepted")
except (ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError):
    print("tls refused")
PY

python3 "$LW_TMP/send.py" 127.0.0.1 "$LW_UDP_PORT" "$LW_TCP_PORT" "$tls_port" "$LW_PKI/ca.pem" \
	> "$LW_TMP/outside.out" 2>&1 || fail "sender from 127.0.0.1: $(cat "$LW_TMP/outside.out")"
python3 "$LW_TMP/send.py" 127.0.0.2 "$LW_UDP_PORT" "$LW_TCP_PORT" "$tls_port" "$LW_PKI/ca.pem" \
	> "$LW_TMP/inside.out" 2>&1 || fail "sender from 127.0.0.2: $(cat "$LW_TMP/inside.out")"
expect_eq "$(cat "$LW_TMP/outside.out" | tr '\n' ' ')" "tcp refused tls refused " "what 127.0.0.1 saw"
expect_eq "$(cat "$LW_TMP/inside.out" | tr '\n' ' ')" "tcp accepted tls accepted " "what 127.0.0.2 saw"
python3 - "$max_port" > "$LW_TMP/max.out" 2>&1 <<'PY' || fail "max_connections client: $(cat "$LW_TMP/max.out")"
import socket, sys
conns = [socket.create_connection(("127.0.0.3", int(sys.argv[1]))) for _ in range(3)]
for i, s in enumerate(conns):
    s.settimeout(1.5)
    try:
        closed = s.recv(1) == b""
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        closed = False
    print(i, "refused" if closed else "open")
PY
expect_eq "$(tr '\n' ' ' < "$LW_TMP/max.out")" "0 open 1 open 2 refused " "max_connections: 2"
lw_wait_count 3 20
lw_stop

lw_query --output json > "$LW_TMP/all.json"
expect_eq "$(jq -r .message "$LW_TMP/all.json" | sort | tr '\n' '|')" \
	"tcp from 127.0.0.2|tls from 127.0.0.2|udp from 127.0.0.2|" "stored messages"
expect_eq "$(jq -r '.log.source.address | sub(":[0-9]+$"; "")' "$LW_TMP/all.json" | sort -u)" \
	"127.0.0.2" "source addresses stored"
expect_eq "$(lw_counter refused_not_allowed)" 3 "refused_not_allowed (1 TCP, 1 TLS connection, 1 datagram)"
expect_eq "$(lw_counter refused_max_connections)" 1 "refused_max_connections"
expect_eq "$(lw_counter connections_refused)" 3 "connections_refused (2 outside allow, 1 over max_connections)"
expect_eq "$(lw_counter connections_accepted)" 4 "connections_accepted"
echo "ok: senders outside allow are refused and counted on udp, tcp and tls"
