# Shared steps for integration tests: start a real `logward serve` on
# ephemeral loopback ports, send with real clients, stop it, read back.
# Sourced by tests/integration/test_*.sh; ctest sets LW_BIN.

set -euo pipefail

: "${LW_BIN:?LW_BIN must point at the logward binary}"
LW_TMP=$(mktemp -d /tmp/logward-it.XXXXXX)
LW_DATA="$LW_TMP/data"
LW_PID=""
# Started as root (CI), serve runs as `logward`, else `nobody`, once its
# sockets are bound (README `user`). Like /var/lib/logward under systemd,
# the test's directory is that user's, so after the drop serve can still
# re-read its configuration, write notify files, rewrite the ports file
# and remove its unix socket. tests/integration/test_privileges.sh checks
# the drop itself.
if [ "$(id -u)" = 0 ]; then
	LW_RUN_USER=$(id -un logward 2>/dev/null || echo nobody)
	chown "$LW_RUN_USER" "$LW_TMP"
fi

lw_cleanup() {
	if [ -n "$LW_PID" ] && kill -0 "$LW_PID" 2>/dev/null; then
		kill -KILL "$LW_PID" 2>/dev/null || true
	fi
	if [ "${LW_KEEP_TMP:-0}" = 1 ]; then
		echo "kept $LW_TMP" >&2
	else
		rm -rf "$LW_TMP"
	fi
}
trap lw_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$LW_TMP/serve.log" ]; then
		echo "--- serve.log (tail)" >&2
		tail -n 30 "$LW_TMP/serve.log" >&2
	fi
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

# Writes a config with UDP+TCP on port 0 and a unix socket, plus any extra
# YAML given as $1 (top-level keys), then starts serve and waits for its
# ports. Sets LW_UDP_PORT, LW_TCP_PORT, LW_UNIX. $LW_STORAGE, when set, is
# added to the storage mapping (e.g. "max_age: 0s" for events stamped
# older than the default retention).
lw_start() {
	local extra="${1:-}"
	local listeners="${LW_LISTENERS:-}"
	LW_UNIX="$LW_TMP/log.sock"
	if [ -z "$listeners" ]; then
		listeners="  - {type: udp, address: \"127.0.0.1:0\", zone: internet}
  - {type: tcp, address: \"127.0.0.1:0\", zone: lgwan, framing: auto}
  - {type: unix, path: \"$LW_UNIX\", zone: mynumber}"
	fi
	cat > "$LW_TMP/logward.yml" <<YAML
data_dir: $LW_DATA
timezone: UTC
storage: {flush_interval: 200ms${LW_STORAGE:+, $LW_STORAGE}}
listeners:
$listeners
$extra
YAML
	rm -f "$LW_TMP/ports" # a restart must not read the previous run's ports
	"$LW_BIN" serve -c "$LW_TMP/logward.yml" --ports-file "$LW_TMP/ports" \
		>>"$LW_TMP/serve.log" 2>&1 &
	LW_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$LW_TMP/ports" ] && break
		kill -0 "$LW_PID" 2>/dev/null || fail "serve exited at startup"
		sleep 0.1
	done
	[ -s "$LW_TMP/ports" ] || fail "serve did not report its ports"
	LW_UDP_PORT=$(awk '$1 == "udp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
	LW_TCP_PORT=$(awk '$1 == "tcp" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
}

# SIGTERM, then require a clean exit 0 within 30 s.
lw_stop() {
	kill -TERM "$LW_PID"
	local rc=0
	for _ in $(seq 1 300); do
		kill -0 "$LW_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$LW_PID" 2>/dev/null && fail "serve did not stop within 30 s of SIGTERM"
	wait "$LW_PID" || rc=$?
	LW_PID=""
	[ "$rc" = 0 ] || fail "serve exited with $rc after SIGTERM"
}

lw_query() {
	"$LW_BIN" query -d "$LW_DATA" "$@"
}

lw_count() {
	lw_query --output json "$@" | wc -l
}

# Waits until the store holds at least $1 events (max ${2:-60} s).
lw_wait_count() {
	local want=$1 limit=${2:-60} have=0
	for _ in $(seq 1 $((limit * 5))); do
		have=$(lw_count 2>/dev/null || echo 0)
		[ "$have" -ge "$want" ] && return 0
		sleep 0.2
	done
	fail "store holds $have events, expected $want"
}

# Counter value from `logward stats --output json`.
lw_counter() {
	"$LW_BIN" stats -d "$LW_DATA" --output json | jq -r ".counters.$1 // 0"
}

# Waits (max 10 s) until counter $1 is $2: counters reach the store with
# the next commit. Then checks it, $3 naming it in the failure.
lw_expect_counter() {
	for _ in $(seq 1 50); do
		[ "$(lw_counter "$1")" = "$2" ] && break
		sleep 0.2
	done
	expect_eq "$(lw_counter "$1")" "$2" "${3:-$1}"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}
