#!/usr/bin/env bash
# Oracle: Python sockets from distinct loopback addresses (Linux routes
# all of 127.0.0.0/8 to lo). With the default max_connections_per_source
# (64), one address holding 64 idle connections to a tcp listener and
# to a journal-http listener gets its 65th and 66th closed at accept
# (counted in refused_max_connections_per_source, 4 in all), while a
# sender from another address still connects to both and is stored: one
# address can no longer take every slot of max_connections. Closing the
# 64 frees the address's slots: it connects again.
. "$(dirname "$0")/lib.sh"
need python3
need jq

LW_LISTENERS='  - {type: tcp, address: "127.0.0.1:0", zone: lgwan}
  - {type: journal-http, address: "127.0.0.1:0", zone: lgwan}'
lw_start ""
JPORT=$(awk '$1 == "journal-http" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")

PYTHONPATH="$(dirname "$0")" python3 - "$LW_TCP_PORT" "$JPORT" > "$LW_TMP/client.out" 2>&1 <<'PY' || fail "client: $(cat "$LW_TMP/client.out")"
import sys, time
from held_conns import connect, closed_by_peer
ports = [int(sys.argv[1]), int(sys.argv[2])]

for port in ports:
    hog = [connect("127.0.0.5", port) for _ in range(64)]
    time.sleep(0.3)
    extra = [connect("127.0.0.5", port) for _ in range(2)]
    print(port == ports[0] and "tcp" or "jhttp",
          "hog-open" if not any(closed_by_peer(s, 0.05) for s in hog) else "hog-closed",
          "extra-refused" if all(closed_by_peer(s) for s in extra) else "extra-accepted")
    other = connect("127.0.0.6", port)
    if port == ports[0]:
        other.sendall(b"<13>Dec  7 10:00:00 other app: from another address\n")
    else:
        body = b"MESSAGE=journal from another address\n_HOSTNAME=other\n\n"
        other.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/vnd.fdo.journal\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
        other.settimeout(5)
        print("jhttp other answer", other.recv(64).split(b"\r\n")[0].decode())
    other.close()
    for s in hog + extra:
        s.close()
    time.sleep(0.3)
    again = connect("127.0.0.5", port)
    print("again", "refused" if closed_by_peer(again, 0.5) else "open")
    again.close()
PY
expect_eq "$(tr '\n' ' ' < "$LW_TMP/client.out")" \
	"tcp hog-open extra-refused again open jhttp hog-open extra-refused jhttp other answer HTTP/1.1 202 Accepted again open " \
	"what the clients saw"
lw_wait_count 2 20
expect_eq "$(lw_query --grep 'from another address' | wc -l)" 2 "messages from the other address"
lw_expect_counter refused_max_connections_per_source 4 "refused_max_connections_per_source"
expect_eq "$(lw_counter refused_max_connections)" 0 "refused_max_connections"
lw_stop
echo "PASS: one address cannot take more than max_connections_per_source"
