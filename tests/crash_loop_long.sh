#!/usr/bin/env bash
# The long crash-consistency run (not part of ctest): the rounds of
# tests/integration/test_crash_loop.sh, ROUNDS times (default 200; about
# 2.5 s a round on the ASan build).
#
#   tests/crash_loop_long.sh [ROUNDS]
#
# Uses LW_BIN / LW_BUILD_DIR when set, else build/asan, else build/release
# (the sanitizers also check every restart on a crashed store).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${LW_BUILD_DIR:-}" ]; then
	for d in "$here/../build/asan" "$here/../build/release"; do
		[ -x "$d/logward" ] && { LW_BUILD_DIR=$(cd "$d" && pwd); break; }
	done
fi
: "${LW_BUILD_DIR:?no build found: build first or set LW_BUILD_DIR}"
export LW_BUILD_DIR
export LW_BIN=${LW_BIN:-$LW_BUILD_DIR/logward}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export LW_CRASH_ROUNDS=${1:-200}
exec bash "$here/integration/test_crash_loop.sh"
