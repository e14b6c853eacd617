#!/usr/bin/env bash
# Outbound anomaly rules (issue 14) with the whole shipped rule pack, on
# firewall and proxy lines written from the vendors' documented formats
# by tests/integration/outbound_traffic.py (seeded: the same lines every
# run). Each scenario goes into a store of its own, and exactly one
# incident must come out of it, naming the internal host and the
# destination:
#   - an LGWAN PC reaching an address it never used in 8 days (Juniper
#     SRX; new_terms, after its 7 days of learning);
#   - a PC sending 360 MB in 10 minutes after two days of a few MB an
#     hour (FortiGate; value_sum above 10 x its baseline);
#   - a PC calling one address every 300 s +-5 % among 20 PCs browsing
#     (PAN-OS; beaconing), and one requesting a site every 600 s through
#     the web proxy among 20 browsing there (Squid; beaconing by site);
#   - a PC whose connections to 25 ports of one address are denied, sent
#     live to `logward serve` with logger over UDP (port scan).
# The time-spanning ones are ingested with their own timestamps (real
# LMDB store, `logward ingest`). Then a day of benign traffic from 300
# PCs, the proxy, the DNS forwarder, NTP, the web server's drops and the
# LGWAN servers (60,000 lines, diurnal) raises no incident at all.
. "$(dirname "$0")/lib.sh"
need jq
need python3
need logger
SRC="${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
GEN="$SRC/tests/integration/outbound_traffic.py"
ZONES='zones:
  mynumber: [10.10.0.0/16]
  lgwan: [10.20.0.0/16]
  internet: [10.30.0.0/16]'
cat > "$LW_TMP/c.yml" <<YAML
timezone: UTC
rules: [$SRC/rules]
$ZONES
YAML

# ingest NAME MODE DATE: the generator's lines into a store of their own;
# prints its incidents, one JSON object a line.
ingest() {
	python3 "$GEN" "$2" "$3" > "$LW_TMP/$1.log" || fail "generator $2"
	"$LW_BIN" ingest -q -c "$LW_TMP/c.yml" -d "$LW_TMP/$1" "$LW_TMP/$1.log" \
		2>"$LW_TMP/$1.err" || fail "ingest $1: $(tail -3 "$LW_TMP/$1.err")"
	"$LW_BIN" incidents -d "$LW_TMP/$1" list --status all --output json
}
title() { awk '$1 == "title:" {sub(/^title: /, ""); print; exit}' "$SRC/rules/correlation/$1.yml"; }

# --- a new destination for an LGWAN host -------------------------------
out=$(ingest newdest new-destination 2026-11-10)
expect_eq "$(jq -s length <<<"$out")" 1 "new destination: incidents"
expect_eq "$(jq -r .rule.title <<<"$out")" "$(title sensitive_zone_new_destination)" "new destination: rule"
expect_eq "$(jq -c .group <<<"$out")" '{"source.ip":"10.20.1.15","destination.ip":"192.0.2.5"}' \
	"new destination: host and destination"
expect_eq "$(jq -r '[.first_seen, .count] | @tsv' <<<"$out")" "$(printf '2026-11-18T10:17:00.000000Z\t1')" \
	"new destination: the one connection"
expect_eq "$(jq -r .level <<<"$out")" high "new destination: level"

# --- outbound volume far above the host's baseline ---------------------
out=$(ingest volume volume 2026-11-10)
expect_eq "$(jq -s length <<<"$out")" 1 "volume: incidents"
expect_eq "$(jq -r .rule.title <<<"$out")" "$(title outbound_volume_above_baseline)" "volume: rule"
expect_eq "$(jq -c .group <<<"$out")" '{"source.ip":"10.30.2.20"}' "volume: host"
expect_eq "$(jq -c '.related.ip | sort' <<<"$out")" '["10.30.2.20","203.0.113.66"]' "volume: destination"
# 100 MB is reached by the first 120 MB connection: it alone is cited
expect_eq "$(jq -r '[.first_seen, .count] | @tsv' <<<"$out")" "$(printf '2026-11-12T14:01:00.000000Z\t1')" \
	"volume: the window's connection"

# --- beaconing -----------------------------------------------------------
out=$(ingest beacon beacon 2026-11-10)
expect_eq "$(jq -s length <<<"$out")" 1 "beacon: incidents"
expect_eq "$(jq -r .rule.title <<<"$out")" "$(title beaconing)" "beacon: rule"
expect_eq "$(jq -c .group <<<"$out")" '{"source.ip":"10.30.3.30","destination.ip":"203.0.113.200"}' \
	"beacon: host and destination"
expect_eq "$(jq -r '[.first_seen, .count] | @tsv' <<<"$out")" "$(printf '2026-11-10T10:00:00.000000Z\t12')" \
	"beacon: the twelve calls"

# --- beaconing through the web proxy ----------------------------------------
out=$(ingest beaconproxy beacon-proxy 2026-11-10)
expect_eq "$(jq -s length <<<"$out")" 1 "proxy beacon: incidents"
expect_eq "$(jq -r .rule.title <<<"$out")" "$(title beaconing_proxy)" "proxy beacon: rule"
expect_eq "$(jq -c .group <<<"$out")" '{"source.ip":"10.30.3.31","url.domain":"cdn.update-check.example"}' \
	"proxy beacon: host and site"
expect_eq "$(jq -r .count <<<"$out")" 12 "proxy beacon: the twelve requests"

# --- a scan, live over UDP -------------------------------------------------
lw_start "rules: [$SRC/rules]
$ZONES"
python3 "$GEN" scan > "$LW_TMP/scan.log" || fail "generator scan"
while IFS= read -r line; do
	logger -n 127.0.0.1 -P "$LW_UDP_PORT" -d --rfc5424 -t FGT-HQ -p local7.warning -- "$line"
done < "$LW_TMP/scan.log"
lw_wait_count 25 20
have=0
for _ in $(seq 1 50); do
	have=$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json | wc -l)
	[ "$have" -ge 1 ] && break
	sleep 0.2
done
sleep 1 # one more flush: nothing else may arrive
lw_stop
out=$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json)
expect_eq "$(jq -s length <<<"$out")" 1 "scan: incidents"
expect_eq "$(jq -r .rule.title <<<"$out")" "$(title port_scan)" "scan: rule"
expect_eq "$(jq -c .group <<<"$out")" '{"source.ip":"10.30.4.40","destination.ip":"203.0.113.10"}' \
	"scan: host and destination"
expect_eq "$(jq -r .count <<<"$out")" 20 "scan: fired at the 20th port"

# --- a day of benign traffic ------------------------------------------------
out=$(ingest benign benign 2026-11-20)
expect_eq "$(wc -l < "$LW_TMP/benign.log")" 59916 "benign lines generated"
expect_eq "$("$LW_BIN" stats -d "$LW_TMP/benign" --output json | jq .counters.stored)" 59916 "benign lines stored"
# every kind of line decoded (the outbound rules saw them)
for q in 'observer.product:FortiGate' 'observer.vendor:Juniper' 'observer.product:Squid' \
	'event.action:firewall_log'; do
	n=$("$LW_BIN" query -d "$LW_TMP/benign" --output json "$q" | wc -l)
	[ "$n" -gt 1000 ] || fail "benign: only $n events match $q"
done
expect_eq "$(jq -s -c '[.[] | [.rule.title, .group]]' <<<"$out")" "[]" "benign day: incidents"
echo "ok"
