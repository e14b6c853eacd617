#!/bin/bash
# labels: corpus
# Parser conformance against the shared corpus (../shared/corpus).
# Oracle: the expected fields of the RFC examples and of the go-syslog,
# syslog-ng and rsyslog test suites, as read by parser_corpus.py; cases
# where logward decided differently are in its commented allow-list
# (reasons in docs/parsing.md). Any other mismatch fails.
# Exit 77 (skip) when the corpus is not there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
corpus=${LW_SHARED_CORPUS:-$here/../../../shared/corpus}
build=${LW_BUILD_DIR:-$here/../../build}
tool=$build/lw_parse_dump

if [ ! -d "$corpus/rfc-examples" ] || [ ! -d "$corpus/go-syslog-tests" ]; then
	echo "skip: shared corpus not found at '$corpus' (set LW_SHARED_CORPUS)"
	exit 77
fi
if [ ! -x "$tool" ]; then
	echo "error: $tool not built (build target lw_parse_dump)" >&2
	exit 1
fi
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
exec python3 "$here/parser_corpus.py" "$corpus" "$tool"
