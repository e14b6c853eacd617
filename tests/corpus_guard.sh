#!/bin/sh
# Runs a test that reads files outside the repository, or reports it as
# skipped (exit 77, ctest's SKIP_RETURN_CODE) when any of them is absent:
# a clone with nothing beside it must neither pass nor fail such a test.
#   corpus_guard.sh PATH... -- COMMAND [ARG...]
# PATHs are relative to $LW_SHARED_CORPUS.
corpus=${LW_SHARED_CORPUS:-}
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	if [ -z "$corpus" ] || [ ! -e "$corpus/$1" ]; then
		echo "SKIP: $corpus/$1 not found (set LW_SHARED_CORPUS)" >&2
		exit 77
	fi
	shift
done
[ "${1:-}" = "--" ] || { echo "usage: corpus_guard.sh PATH... -- COMMAND" >&2; exit 2; }
shift
exec "$@"
