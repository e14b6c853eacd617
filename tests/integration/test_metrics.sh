#!/usr/bin/env bash
# Oracle: curl fetches /metrics and the Prometheus project's own Python
# parser (python3-prometheus-client) must accept the text. Every counter
# `logward stats` stores appears, by the naming rule of
# collector/metrics.h, exactly once with HELP and TYPE; the values are
# exact after util-linux logger sends 300 TCP and 100 UDP messages; only
# GET /metrics is served; `logward stats --output prometheus` shows the
# same families from the store after the stop.
. "$(dirname "$0")/lib.sh"
need curl
need logger
need jq
PY=/usr/bin/python3
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	skip "python3-prometheus-client is not installed"

lw_start 'metrics: {address: "127.0.0.1:0"}
health: {check_interval: 200ms}'
MPORT=$(awk '$1 == "metrics" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
[ -n "$MPORT" ] || fail "no metrics line in the ports file"
URL="http://127.0.0.1:$MPORT/metrics"

for i in $(seq 1 300); do echo "tcp message $i"; done |
	logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc5424 -t mtest
for i in $(seq 1 100); do echo "udp message $i"; done |
	logger -n 127.0.0.1 -P "$LW_UDP_PORT" -d --rfc3164 -t mtest
lw_wait_count 400
sleep 1.5 # the store gauges are published at most once a second

curl -sf -D "$LW_TMP/head.txt" "$URL" >"$LW_TMP/live.txt" || fail "GET /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$LW_TMP/head.txt" || fail "wrong content type"
"$LW_BIN" stats -d "$LW_DATA" --output json | jq -r '.counters | keys[]' >"$LW_TMP/counters.txt"

cat >"$LW_TMP/check.py" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
names = [l.strip() for l in open(sys.argv[2]) if l.strip()]
want = dict(a.rsplit("=", 1) for a in sys.argv[3:])
fams = list(text_string_to_metric_families(text))
seen = {}
helps = {}
for f in fams:
    if f.name in helps:
        sys.exit(f"family {f.name} appears twice")
    if not f.documentation or f.type not in ("counter", "gauge"):
        sys.exit(f"family {f.name}: HELP {f.documentation!r} TYPE {f.type}")
    helps[f.name] = f.type
    for s in f.samples:
        key = s.name + "".join('{%s="%s"}' % kv for kv in sorted(s.labels.items()))
        if key in seen:
            sys.exit(f"sample {key} twice")
        seen[key] = s.value

def expected(n):
    fam = {"connections_": ("lw_connections_total", "event"),
           "notify_": ("lw_notify_total", "result"),
           "incidents_": ("lw_incidents_total", "change")}
    if n.startswith("dropped_"):
        return 'lw_dropped_total{reason="%s"}' % n[8:]
    if n.endswith("_dropped"):
        return 'lw_dropped_total{reason="%s"}' % n[:-8]
    for p, (m, l) in fam.items():
        if n.startswith(p):
            return '%s{%s="%s"}' % (m, l, n[len(p):])
    return "lw_%s_total" % n

missing = [n for n in names if expected(n) not in seen]
if missing:
    sys.exit(f"counters missing from the exposition: {missing}")
counters = sum(1 for k in seen if k.split("{")[0].endswith("_total"))
if counters != len(names):
    sys.exit(f"{counters} counter samples for {len(names)} counters")
for k, v in want.items():
    if seen.get(k) != float(v):
        sys.exit(f"{k} = {seen.get(k)}, expected {v}")
print(" ".join(sorted(n for n in helps if not n.startswith("lw_storage") and
                      not n.startswith("lw_loss") and n != "lw_store_map_bytes" and
                      n != "lw_correlation_shedding_rules")))
PY
"$PY" "$LW_TMP/check.py" "$LW_TMP/live.txt" "$LW_TMP/counters.txt" \
	lw_received_total=400 lw_stored_total=400 lw_parsed_total=400 \
	'lw_dropped_total{reason="udp"}=0' 'lw_connections_total{event="accepted"}=1' \
	lw_store_events=400 lw_hosts=1 lw_clock_skew_hosts=0 lw_storage_failing=0 \
	lw_loss_episodes=0 >"$LW_TMP/live-families.txt" || fail "the live exposition does not check out"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "$(code -X POST "$URL")" 405 "POST /metrics"
expect_eq "$(code -X DELETE "$URL")" 405 "DELETE /metrics"
expect_eq "$(code "http://127.0.0.1:$MPORT/")" 404 "GET /"
expect_eq "$(code "http://127.0.0.1:$MPORT/metrics/x")" 404 "GET /metrics/x"
expect_eq "$(code -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" "$URL")" 431 "a 5000-byte header"
expect_eq "$(code "$URL")" 200 "GET /metrics after the refusals"
lw_stop

"$LW_BIN" stats -d "$LW_DATA" --output prometheus >"$LW_TMP/stored.txt" || fail "stats --output prometheus failed"
"$PY" "$LW_TMP/check.py" "$LW_TMP/stored.txt" "$LW_TMP/counters.txt" \
	lw_received_total=400 lw_stored_total=400 lw_store_events=400 >"$LW_TMP/stored-families.txt" ||
	fail "stats --output prometheus does not check out"
expect_eq "$(cat "$LW_TMP/stored-families.txt")" "$(cat "$LW_TMP/live-families.txt")" \
	"families of stats --output prometheus vs /metrics"
echo "ok: $(wc -w <"$LW_TMP/live-families.txt") families parse as Prometheus text; stats shows the same set"
