#!/usr/bin/env bash
# labels: corpus
# Oracle: bench/run itself, in its smallest mode against logward only (no
# peers, so nothing is installed): 20,000 replayed auth.log lines must all
# be received, the JSON and Markdown results must be written with the
# numbers filled in, and no daemon may be left running afterwards. Its
# query section (--query-only) over a 20,000-event store fills in every
# query language number and its table.
. "$(dirname "$0")/lib.sh"
need python3
need taskset
need jq
: "${LW_BUILD_DIR:?LW_BUILD_DIR must point at the build directory}"
[ -x "$LW_BUILD_DIR/logward-bench" ] || skip "logward-bench not built"
SRC="${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"

mkdir -p "$LW_TMP/qresults" "$LW_TMP/qwork"
python3 "$SRC/bench/run" --no-build --build-dir "$LW_BUILD_DIR" --query-only \
	--query-events 20000 --runs 1 --out-dir "$LW_TMP/qresults" --tmp "$LW_TMP/qwork" \
	> "$LW_TMP/query.md" 2> "$LW_TMP/query.err" ||
	{ cat "$LW_TMP/query.err" >&2; fail "bench/run --query-only exited non-zero"; }
qjson=$(ls "$LW_TMP"/qresults/*.json)
expect_eq "$(jq '.query.events' "$qjson")" 20000 "query store events"
expect_eq "$(jq '[.query | .expr_limit_first_line_ms, .count_by_host_s, .histogram_zone_24h_s,
	.fulltext_scan_s, .fulltext_events_per_cpu_s, .decoded_count_by_s] | all(. > 0)' "$qjson")" \
	true "query language numbers filled in"
grep -q '^| `--count-by host.name`, whole store | ' "$LW_TMP/query.md" || fail "no count-by row"
[ -z "$(ls "$LW_TMP/qwork")" ] || fail "temporary directories left: $(ls "$LW_TMP/qwork")"

AUTHLOG="${LW_SHARED_CORPUS:-/nonexistent}/elastic-examples-authlog/auth.log"
[ -f "$AUTHLOG" ] || skip "the auth.log corpus is not available ($AUTHLOG)"

mkdir -p "$LW_TMP/results" "$LW_TMP/work"
python3 "$SRC/bench/run" --no-build --build-dir "$LW_BUILD_DIR" --systems logward \
	-n 20000 --runs 1 --skip-extra --replay "$AUTHLOG" \
	--out-dir "$LW_TMP/results" --tmp "$LW_TMP/work" > "$LW_TMP/run.md" 2> "$LW_TMP/run.err" ||
	{ cat "$LW_TMP/run.err" >&2; fail "bench/run exited non-zero"; }

json=$(ls "$LW_TMP"/results/*.json)
[ "$(ls "$LW_TMP"/results/*.md | wc -l)" = 1 ] || fail "no Markdown result"
expect_eq "$(jq '.systems.logward.runs | length' "$json")" 1 "logward runs"
expect_eq "$(jq '.systems.logward.runs[0].received' "$json")" 20000 "messages received"
expect_eq "$(jq '.systems.logward.runs[0].exit_status' "$json")" 0 "serve exit status"
expect_eq "$(jq '.systems.logward.runs[0] | has("error")' "$json")" false "run error"
expect_eq "$(jq '.systems.logward.median.msgs_per_s > 0 and .systems.logward.median.cpu_s_per_million > 0' "$json")" true "rate and CPU filled in"
expect_eq "$(jq '.systems.logward.runs[0].segments_and_indexes_ratio > 1' "$json")" true "stored less than sent"
grep -q 'timestamps set to the run' "$LW_TMP/run.md" || fail "the input is not described"
grep -q '^| logward serve' "$LW_TMP/run.md" || fail "no logward row in the table"
# every temporary daemon directory is gone and nothing runs from it
[ -z "$(ls "$LW_TMP/work")" ] || fail "temporary directories left: $(ls "$LW_TMP/work")"
if pgrep -f "$LW_TMP/work" >/dev/null; then fail "a daemon from the run is still running"; fi
echo "ok: bench/run received 20000 of 20000 and wrote $(basename "$json")"
