#!/usr/bin/env bash
# labels: slow
# Oracle: `serve` runs a copy of the default rule pack (its lookup lists
# in rules/lists/), with the README's zones map (10.10/16 My Number,
# 10.20/16 LGWAN, 10.30/16 Internet zone). util-linux `logger` sends
# firewall, proxy and DNS lines in the devices' own formats (FortiGate
# traffic key=value, PAN-OS TRAFFIC CSV, Squid's native access log, the
# query logs of BIND, dnsmasq and Unbound) over TCP:
#   part 1: six outbound scenarios, some of several lines, each must
#     raise exactly one incident naming the internal host (group host.ip)
#     and the destination (destination.address), and a benign mix
#     (approved destinations by network and by domain, traffic inside
#     the zones, private addresses, Internet zone hosts to addresses on
#     no list) raises none;
#   part 2: while logward-bench streams firewall and proxy lines over two
#     TCP connections, the approved list and the IOC list are edited and
#     SIGHUP sent: the same destination before/after the reload gives an
#     incident / none (approved) and none / one (a new indicator); then an
#     IOC list with a bad line is rejected naming its file:line, and the
#     lists of the running pack keep matching. Every sent event is stored
#     exactly once (count == sent, each bench sequence number once), and
#     the incidents are exactly the expected (rule, host, destination).
. "$(dirname "$0")/lib.sh"
need logger
need jq
BENCH="${LW_BUILD_DIR:-}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench is not built (LW_BUILD_DIR)"

R="$LW_TMP/rules"
cp -r "$(dirname "$0")/../../rules" "$R"
rule_id() { awk '$1 == "id:" {print $2; exit}' "$R/correlation/$1.yml"; }
UNAPPROVED=$(rule_id zone_outbound_unapproved)
IOC_MALWARE=$(rule_id ioc_malware_connection)
IOC_OUTBOUND=$(rule_id ioc_outbound_connection)

lw_start "rules: [$R]
zones:
  mynumber: [10.10.0.0/16]
  lgwan: [10.20.0.0/16]
  internet: [10.30.0.0/16]"

SENT=0
send() { # tag message
	logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 -t "$1" "$2"
	SENT=$((SENT + 1))
}
# FortiGate traffic log (FortiOS log reference, type=traffic).
fgt() { # src dst dstport action [hostname]
	send fgt01 "date=$(date +%F) time=$(date +%T) devname=\"fgt01\" devid=\"FG100FTK00000001\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=$1 srcport=$((40000 + RANDOM % 20000)) srcintf=\"port2\" dstip=$2 dstport=$3 dstintf=\"wan1\" proto=6 action=\"$4\" policyid=12 policyname=\"out\" service=\"HTTPS\" ${5:+hostname=\"$5\" }sentbyte=1830 rcvdbyte=5320 sentpkt=11 rcvdpkt=10"
}
# PAN-OS TRAFFIC (PAN-OS "Syslog Field Descriptions", comma-separated).
pan() { # src dst dport action
	local t; t=$(date +'%Y/%m/%d %T')
	send PA-3220 "1,$t,012801000001,TRAFFIC,end,2561,$t,$1,$2,0.0.0.0,0.0.0.0,rule1,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,default-fwd,$t,55021,1,51234,$3,0,0,0x0,tcp,$4,7200,1800,5400,22,$t,12,any,0,700001,0x0,10.0.0.0-10.255.255.255,Japan,0,11,11,tcp-fin"
}
# Squid native access.log.
squid() { # client code method url hierarchy
	send squid "$(date +%s).123    120 $1 $2 5000 $3 $4 - $5 -"
}
inc() { "$LW_BIN" incidents -d "$LW_DATA" "$@"; }
# "rule-id host destination" of every incident of the three rules, sorted.
incidents() {
	inc list --status all --output json |
		jq -r "select(.rule.id == \"$UNAPPROVED\" or .rule.id == \"$IOC_MALWARE\" or .rule.id == \"$IOC_OUTBOUND\")
			| \"\(.rule.id) \(.group[\"host.ip\"]) \(.group[\"destination.address\"])\"" | sort
}
expect_incidents() { # label, then "rule host destination" lines
	local label=$1; shift
	local want=""
	[ $# -gt 0 ] && want=$(printf '%s\n' "$@" | sort)
	for _ in $(seq 1 100); do
		[ "$(incidents)" = "$want" ] && return 0
		sleep 0.2
	done
	fail "$label: incidents
$(incidents)
expected
$want"
}

# --- part 1: scenarios and benign traffic ------------------------------------
# LGWAN host to an Internet address, three connections: one incident.
for _ in 1 2 3; do fgt 10.20.1.5 203.0.113.80 443 accept; done
# LGWAN host through the proxy to an unapproved site, twice: one incident.
squid 10.20.1.6 TCP_TUNNEL/200 CONNECT files.example.org:443 HIER_DIRECT/198.51.100.77
squid 10.20.1.6 TCP_TUNNEL/200 CONNECT files.example.org:443 HIER_DIRECT/198.51.100.77
# My Number host to the Internet, refused (an attempt counts): one incident.
pan 10.10.3.4 198.51.100.50 8080 deny
# Internet zone host to a malware address: one incident (no other rule:
# the zone may reach the Internet).
fgt 10.30.1.7 203.0.113.250 443 accept
fgt 10.30.1.7 203.0.113.250 443 accept
# An address of an anomalous-outbound network reaching an Internet zone
# host (inbound): one incident, the host being the destination.
pan 203.0.113.233 10.30.1.9 22 allow
# Internet zone host requesting a subdomain of a malware domain through
# the proxy: one incident naming the domain, not the proxy's peer.
squid 10.30.1.8 TCP_MISS/200 GET http://a.c2.example.org/x HIER_DIRECT/203.0.113.250
# DNS query logs: an LGWAN host resolving a subdomain of a malware domain
# (dnsmasq), a My Number host resolving an anomalous-outbound domain
# (Unbound prints the root dot): one incident each, naming the client and
# the name it asked for.
send dnsmasq "query[A] cdn.c2.example.org from 10.20.1.40"
send dnsmasq "query[AAAA] cdn.c2.example.org from 10.20.1.40"
send unbound "[1380:0] info: 10.10.3.9 exfil.example.net. A IN"
# Benign: approved network and address, approved domain (a subdomain), a
# firewall log naming an approved domain, inside a zone, private
# addresses in no zone, Internet zone hosts to addresses on no list,
# a lookalike of an approved domain from the Internet zone.
fgt 10.20.1.5 192.0.2.3 443 accept
fgt 10.20.1.5 198.51.100.25 25 accept
fgt 10.20.1.5 198.51.100.99 443 accept update.example.com
pan 10.10.3.4 192.0.2.10 443 allow
squid 10.20.1.6 TCP_TUNNEL/200 CONNECT www.update.example.com:443 HIER_DIRECT/198.51.100.78
squid 10.10.3.4 TCP_MISS/200 GET http://update.example.com/pattern.zip HIER_DIRECT/198.51.100.78
fgt 10.20.1.5 10.20.9.9 445 accept
fgt 10.20.1.5 172.16.5.5 443 accept
fgt 10.30.1.7 198.51.100.9 443 accept
squid 10.30.1.8 TCP_MISS/200 GET http://badexample.org/ HIER_DIRECT/198.51.100.9
squid 10.30.1.8 TCP_MISS/200 GET http://c2.example.org.example.com/ HIER_DIRECT/198.51.100.9
send named "client @0x7f3a5c0e1168 10.20.1.41#40107 (www.example.jp): query: www.example.jp IN A + (10.20.0.2)"
send named "client @0x7f3a5c0e1168 10.20.1.41#40108 (c2.example.org.example.com): query: c2.example.org.example.com IN A + (10.20.0.2)"
send dnsmasq "query[A] notc2.example.org from 10.20.1.42"

lw_wait_count "$SENT"
expect_incidents "part 1" \
	"$UNAPPROVED 10.20.1.5 203.0.113.80" \
	"$UNAPPROVED 10.20.1.6 files.example.org" \
	"$UNAPPROVED 10.10.3.4 198.51.100.50" \
	"$IOC_MALWARE 10.30.1.7 203.0.113.250" \
	"$IOC_OUTBOUND 10.30.1.9 203.0.113.233" \
	"$IOC_MALWARE 10.30.1.8 a.c2.example.org" \
	"$IOC_MALWARE 10.20.1.40 cdn.c2.example.org" \
	"$IOC_OUTBOUND 10.10.3.9 exfil.example.net"
# Nothing else of the pack fired on these lines either.
expect_eq "$(inc list --status all --output json | wc -l)" 8 "incidents of all rules"
part1=$(lw_count)
expect_eq "$part1" "$SENT" "part 1 events stored"

# --- part 2: lists edited under load ------------------------------------------------
wait_log() { # pattern, n-th occurrence (max 30 s)
	for _ in $(seq 1 300); do
		[ "$(grep -c -- "$1" "$LW_TMP/serve.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "no ${2}th log line '$1'"
}
reload() { # n-th reload
	kill -HUP "$LW_PID"
	for _ in $(seq 1 300); do
		[ "$(grep -c -E 'configuration reloaded|reload rejected' "$LW_TMP/serve.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	fail "reload $1 had no outcome"
}
# The stream: approved and unlisted traffic the lookups see on every line.
now=$(date +'%b %e %T')
cat > "$LW_TMP/stream.txt" <<EOF
<189>$now fgt01 date=$(date +%F) time=$(date +%T) devname="fgt01" logid="0000000013" type="traffic" subtype="forward" srcip=10.20.1.20 srcport=50000 dstip=192.0.2.4 dstport=443 proto=6 action="accept" policyid=12
<189>$now fgt01 date=$(date +%F) time=$(date +%T) devname="fgt01" logid="0000000013" type="traffic" subtype="forward" srcip=10.30.1.20 srcport=50001 dstip=198.51.100.140 dstport=443 proto=6 action="accept" policyid=12
<190>$now proxy01 squid[99]: $(date +%s).001    88 10.20.1.21 TCP_TUNNEL/200 900 CONNECT asp.example.jp:443 - HIER_DIRECT/198.51.100.141 -
EOF
"$BENCH" --tcp "127.0.0.1:$LW_TCP_PORT" -c 2 -t 1 -r 3000 -d 8s --replay "$LW_TMP/stream.txt" --json \
	>"$LW_TMP/bench.json" 2>"$LW_TMP/bench.err" &
bench=$!
sleep 1

# Before: 198.51.100.60 is unapproved for LGWAN; 203.0.113.99 is on no list.
fgt 10.20.2.1 198.51.100.60 443 accept
fgt 10.30.2.1 203.0.113.99 443 accept
expect_incidents "before the reload" \
	"$UNAPPROVED 10.20.1.5 203.0.113.80" "$UNAPPROVED 10.20.1.6 files.example.org" \
	"$UNAPPROVED 10.10.3.4 198.51.100.50" \
	"$IOC_MALWARE 10.30.1.7 203.0.113.250" "$IOC_OUTBOUND 10.30.1.9 203.0.113.233" \
	"$IOC_MALWARE 10.30.1.8 a.c2.example.org" \
	"$IOC_MALWARE 10.20.1.40 cdn.c2.example.org" "$IOC_OUTBOUND 10.10.3.9 exfil.example.net" \
	"$UNAPPROVED 10.20.2.1 198.51.100.60"
echo "198.51.100.60,ip,lgwan,new ASP (approved today)" >> "$R/lists/approved_outbound.csv"
echo "203.0.113.99,ip,malware,example-feed,2026-12-07" >> "$R/lists/ioc.csv"
reload 1
grep -q "configuration reloaded" "$LW_TMP/serve.log" || fail "reload 1 rejected"
# After: the same destination from another LGWAN host is approved now;
# the new indicator raises its incident for the next host that uses it.
fgt 10.20.2.2 198.51.100.60 443 accept
fgt 10.30.2.2 203.0.113.99 443 accept

# A broken IOC list: rejected whole, its line named; the lists of
# reload 1 keep matching.
cp "$R/lists/ioc.csv" "$LW_TMP/ioc.good"
echo "203.0.113.300,ip,malware,example-feed,2026-12-07" >> "$R/lists/ioc.csv"
bad_line=$(wc -l < "$R/lists/ioc.csv")
reload 2
grep -q "reload rejected; running configuration unchanged" "$LW_TMP/serve.log" || fail "broken list not rejected"
grep -q "lists/ioc.csv:$bad_line:.*203.0.113.300.*not an IPv4 or IPv6 address" "$LW_TMP/serve.log" ||
	fail "the bad line is not named with file:line"
fgt 10.30.2.3 203.0.113.99 443 accept
fgt 10.20.2.3 198.51.100.60 443 accept
cp "$LW_TMP/ioc.good" "$R/lists/ioc.csv"

wait "$bench" || fail "logward-bench failed: $(cat "$LW_TMP/bench.err")"
expect_eq "$(jq -r .errors "$LW_TMP/bench.json")" 0 "bench send errors"
sent=$(jq -r .sent "$LW_TMP/bench.json")
[ "$sent" -gt 5000 ] || fail "the stream was too short: $sent"
lw_wait_count "$((SENT + sent))"
expect_incidents "after the reloads" \
	"$UNAPPROVED 10.20.1.5 203.0.113.80" "$UNAPPROVED 10.20.1.6 files.example.org" \
	"$UNAPPROVED 10.10.3.4 198.51.100.50" \
	"$IOC_MALWARE 10.30.1.7 203.0.113.250" "$IOC_OUTBOUND 10.30.1.9 203.0.113.233" \
	"$IOC_MALWARE 10.30.1.8 a.c2.example.org" \
	"$IOC_MALWARE 10.20.1.40 cdn.c2.example.org" "$IOC_OUTBOUND 10.10.3.9 exfil.example.net" \
	"$UNAPPROVED 10.20.2.1 198.51.100.60" \
	"$IOC_MALWARE 10.30.2.2 203.0.113.99" \
	"$IOC_MALWARE 10.30.2.3 203.0.113.99"
lw_stop
expect_eq "$(lw_count)" "$((SENT + sent))" "events stored (logger + bench)"
lw_query --output json | jq -r '.message' | grep -o 'seq=[0-9]*-[0-9]*' | sort > "$LW_TMP/seqs"
expect_eq "$(wc -l < "$LW_TMP/seqs")" "$sent" "bench lines stored"
expect_eq "$(uniq -d "$LW_TMP/seqs" | wc -l)" 0 "bench lines stored twice"
# Beside them only the stream's own rate (lw_host_event_rate, per device).
RATE=$(rule_id host_event_rate)
expect_eq "$(inc list --status all --output json | jq -r "select(.rule.id != \"$RATE\") | .id" | wc -l)" 11 \
	"incidents of all rules but the event rate"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify"
echo "ok: 6 scenarios, 1 incident each, none for benign traffic; lists edited and reloaded under a stream of $sent lines: next events follow the new lists, a broken list rejected naming $bad_line, nothing lost"
