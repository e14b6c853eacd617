#!/usr/bin/env bash
# Oracle: Python sockets from one loopback address (Linux routes all of
# 127.0.0.0/8 to lo), Python's ssl module and curl. With the default
# api.max_connections_per_source (32), one address holding 32 idle
# connections to the console gets its 33rd to 35th closed at accept,
# before anything of them is read, while its 32 stay open and are still
# answered, and curl from another address gets its page; the refusals
# are counted in GET /api/v1/overview (api.connections_refused). Once
# the 35 close, a normal curl from the same address works again. The
# same over HTTPS (the 32 hold plain TCP connections: the cap comes
# before the handshake).
. "$(dirname "$0")/lib.sh"
need python3
need curl
need jq
. "$(dirname "$0")/tls_lib.sh"
lw_make_certs

TOKEN=$("$LW_BIN" token -d "$LW_DATA" add watcher --role viewer 2>/dev/null)

# scenario http|https
scenario() {
	local mode=$1 api_yml='api: {address: "127.0.0.1:0"}' curl_tls=() API PORT
	if [ "$mode" = https ]; then
		api_yml="api: {address: \"127.0.0.1:0\", cert: \"$LW_PKI/server.pem\", key: \"$LW_PKI/server.key\"}"
		curl_tls=(--cacert "$LW_PKI/ca.pem")
	fi
	lw_start "$api_yml"
	API=$(awk '$1 == "api" {print $2; exit}' "$LW_TMP/ports")
	PORT=${API##*:}
	# The client prints what it saw, then holds its 35 until the curls
	# below have run (it reads the fifo).
	rm -f "$LW_TMP/go" && mkfifo "$LW_TMP/go"
	: > "$LW_TMP/client.out"
	PYTHONPATH="$(dirname "$0")" python3 - "$PORT" "$LW_TMP/go" "$mode" "$LW_PKI/ca.pem" \
		> "$LW_TMP/client.out" 2>&1 <<'PY' &
import ssl, sys, time
from held_conns import connect, closed_by_peer
port, go, mode, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

# Asks for /api/v1/health on hog[i]; the connection stays open (over
# HTTPS, hog[i] becomes the TLS socket that now owns it).
def answer(i):
    s = hog[i]
    s.settimeout(30) # an ASan server on a loaded CI machine
    if mode == "https":
        s = hog[i] = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="127.0.0.1")
    s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    return s.recv(64).split(b"\r\n")[0].decode()

hog = [connect("127.0.0.5", port) for _ in range(32)]
time.sleep(0.3)
extra = [connect("127.0.0.5", port) for _ in range(3)]
print("extra-refused" if all(closed_by_peer(s, 10) for s in extra) else "extra-accepted")
print("hog-open" if not any(closed_by_peer(s, 0.05) for s in hog) else "hog-closed")
print("hog-first", answer(0))
print("hog-last", answer(-1))
sys.stdout.flush()
open(go).read()
for s in hog + extra:
    s.close()
PY
	local client=$!
	for _ in $(seq 1 600); do
		[ "$(wc -l < "$LW_TMP/client.out")" -ge 4 ] && break
		kill -0 "$client" 2>/dev/null || break
		sleep 0.1
	done
	# A client that died (a traceback is lines too) let its connections go.
	kill -0 "$client" 2>/dev/null || fail "$mode client ended early: $(cat "$LW_TMP/client.out")"
	[ "$(head -c 6 "$LW_TMP/client.out")" = extra- ] ||
		fail "$mode client: $(cat "$LW_TMP/client.out")"
	expect_eq "$(curl -s "${curl_tls[@]}" -o /dev/null -w '%{http_code}' --interface 127.0.0.6 "$API/")" 200 \
		"$mode: curl from another address while one holds its 32"
	expect_eq "$(curl -s "${curl_tls[@]}" -o /dev/null -w '%{http_code}' --interface 127.0.0.5 "$API/")" 000 \
		"$mode: curl from the address holding its 32"
	echo go > "$LW_TMP/go"
	wait "$client" || fail "$mode client: $(cat "$LW_TMP/client.out")"
	expect_eq "$(tr '\n' ' ' < "$LW_TMP/client.out")" \
		"extra-refused hog-open hog-first HTTP/1.1 200 OK hog-last HTTP/1.1 200 OK " \
		"$mode: what the held connections saw"
	sleep 0.3 # the server reads the closes
	expect_eq "$(curl -s "${curl_tls[@]}" -o /dev/null -w '%{http_code}' --interface 127.0.0.5 "$API/")" 200 \
		"$mode: curl from the same address once its connections closed"
	expect_eq "$(curl -s "${curl_tls[@]}" -H "Authorization: Bearer $TOKEN" "$API/api/v1/overview" |
		jq -c '.api.connections_refused')" 4 "$mode: connections refused (3 sockets and one curl)"
	lw_stop
}

scenario http
scenario https
expect_eq "$(grep -c 'over api.max_connections_per_source' "$LW_TMP/serve.log")" 2 \
	"log lines of the refusals (one per run: once a minute at most)"
echo "PASS: one address cannot take more than api.max_connections_per_source of the console"
