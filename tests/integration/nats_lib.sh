# Steps the scale-out tests share (sourced after lib.sh): a JetStream
# cluster of real nats-server processes on loopback, and more logward
# nodes beside lib.sh's one. Ports are picked free by the kernel first
# (routes must name each other's port up front).

NATS_N=0
NATS_PIDS=()
NATS_URLS=""

# Prints n free loopback TCP ports.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# nats_cluster N: writes N server configs (JetStream, one cluster);
# nats_start_all starts them. Sets NATS_URLS ("nats://127.0.0.1:p1", ... as a YAML list
# body) and NATS_MON (monitoring ports).
nats_cluster() {
	NATS_N=$1
	local ports routes="" i
	read -r -a ports <<<"$(free_ports $((3 * NATS_N)))"
	NATS_CPORT=("${ports[@]:0:NATS_N}")
	NATS_RPORT=("${ports[@]:NATS_N:NATS_N}")
	NATS_MON=("${ports[@]:$((2 * NATS_N)):NATS_N}")
	for i in $(seq 0 $((NATS_N - 1))); do
		routes="$routes nats-route://127.0.0.1:${NATS_RPORT[$i]}"
	done
	NATS_URLS=""
	for i in $(seq 0 $((NATS_N - 1))); do
		mkdir -p "$LW_TMP/nats$i"
		cat > "$LW_TMP/nats$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${NATS_CPORT[$i]}
http: 127.0.0.1:${NATS_MON[$i]}
jetstream { store_dir: "$LW_TMP/nats$i" }
cluster {
  name: lwtest
  listen: 127.0.0.1:${NATS_RPORT[$i]}
  routes: [$(echo $routes | sed 's/ /, /g')]
}
CONF
		NATS_URLS="$NATS_URLS${NATS_URLS:+, }\"nats://127.0.0.1:${NATS_CPORT[$i]}\""
	done
}

# nats_single: the config of one server alone (no cluster), for
# nats_start_all.
nats_single() {
	nats_cluster 1
	sed -i '/^cluster {/,/^}/d' "$LW_TMP/nats0.conf"
}

nats_start_all() {
	local i
	for i in $(seq 0 $((NATS_N - 1))); do nats_start "$i"; done
}

nats_start() {
	nats-server -c "$LW_TMP/nats$1.conf" >>"$LW_TMP/nats$1.log" 2>&1 &
	NATS_PIDS[$1]=$!
}

# nats_stop I [SIGNAL]: stops server I (TERM by default) and waits.
nats_stop() {
	kill "-${2:-TERM}" "${NATS_PIDS[$1]}" 2>/dev/null || true
	wait "${NATS_PIDS[$1]}" 2>/dev/null || true
	NATS_PIDS[$1]=""
}

# Waits until every server reports JetStream healthy (meta leader known).
nats_wait_ready() {
	local i ok
	for _ in $(seq 1 300); do
		ok=0
		for i in $(seq 0 $((NATS_N - 1))); do
			curl -fsS "http://127.0.0.1:${NATS_MON[$i]}/healthz" >/dev/null 2>&1 && ok=$((ok + 1))
		done
		[ "$ok" = "$NATS_N" ] && return 0
		sleep 0.1
	done
	fail "the NATS cluster did not become ready"
}

# Another logward node: node_start NAME YAML starts `serve` with config
# $LW_TMP/NAME.yml (YAML given) and records its pid in NODE_PID[NAME].
declare -A NODE_PID
node_start() {
	local name=$1
	printf '%s\n' "$2" > "$LW_TMP/$name.yml"
	rm -f "$LW_TMP/$name.ports"
	"$LW_BIN" serve -c "$LW_TMP/$name.yml" --ports-file "$LW_TMP/$name.ports" \
		>>"$LW_TMP/$name.log" 2>&1 &
	NODE_PID[$name]=$!
	for _ in $(seq 1 100); do
		[ -s "$LW_TMP/$name.ports" ] && return 0
		kill -0 "${NODE_PID[$name]}" 2>/dev/null || { tail -20 "$LW_TMP/$name.log" >&2; fail "$name exited at startup"; }
		sleep 0.1
	done
	fail "$name did not report its ports"
}

# node_stop NAME [SIGNAL]: TERM waits for a clean exit 0; KILL does not.
node_stop() {
	local name=$1 sig=${2:-TERM} rc=0 pid=${NODE_PID[$1]}
	kill "-$sig" "$pid" 2>/dev/null || true
	wait "$pid" || rc=$?
	NODE_PID[$name]=""
	if [ "$sig" = TERM ] && [ "$rc" != 0 ]; then
		tail -20 "$LW_TMP/$name.log" >&2
		fail "$name exited with $rc after SIGTERM"
	fi
}

nats_cleanup() {
	local p
	for p in "${NODE_PID[@]}" "${NATS_PIDS[@]}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	lw_cleanup
}
trap nats_cleanup EXIT

# The events of a store as "runid thread seq" lines, in store order.
loggen_keys() {
	"$LW_BIN" query -d "$1" --output json |
		jq -r '.message | capture("seq: (?<s>[0-9]+), thread: (?<t>[0-9]+), runid: (?<r>[0-9]+)") | "\(.r) \(.t) \(.s)"'
}

# Waits until `stats` of DIR shows at least N stored events (max S s).
wait_stored() {
	local dir=$1 want=$2 limit=${3:-120} have=0
	for _ in $(seq 1 $((limit * 4))); do
		have=$("$LW_BIN" query -d "$dir" --count 2>/dev/null || echo 0)
		[ "$have" -ge "$want" ] && return 0
		sleep 0.25
	done
	fail "$dir holds $have events, expected $want"
}
