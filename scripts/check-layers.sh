#!/bin/sh
# The dependency rule of docs/architecture.md, enforced: each folder may
# include only the folders below it. Prints every offending #include as
# file:line and exits 1 when there is one.
#
#   core/        nothing of ours
#   store/       core
#   correlator/  core
#   collector/   core, store, correlator
#   web/         core, store, correlator (rule reload only)
#   report/      core, store
#   cli/, bench/, tests/: anything
set -eu
cd "$(dirname "$0")/.."

ours="core|store|correlator|collector|web|report|cli|bench"
allowed() {
	case "$1" in
	core) echo "core" ;;
	store) echo "core|store" ;;
	correlator) echo "core|correlator" ;;
	collector) echo "core|store|correlator|collector" ;;
	web) echo "core|store|correlator|web" ;;
	report) echo "core|store|report" ;;
	esac
}

bad=0
for dir in core store correlator collector web report; do
	[ -d "$dir" ] || continue
	ok=$(allowed "$dir")
	# every quoted include of one of our folders that is not allowed here
	out=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"($ours)/" \
		$(find "$dir" -name '*.[ch]' | sort) 2>/dev/null |
		grep -vE "#[[:space:]]*include[[:space:]]+\"($ok)/" || true)
	if [ -n "$out" ]; then
		echo "$out" | sed "s|\$|   <- $dir/ may include only: $ok|"
		bad=1
	fi
done
if [ "$bad" -ne 0 ]; then
	echo "check-layers: the dependency rule is broken (docs/architecture.md)" >&2
	exit 1
fi
echo "check-layers: ok"
