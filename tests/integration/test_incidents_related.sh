#!/usr/bin/env bash
# Incidents name their entities (issue 13), through `logward ingest` into a
# real store and `logward incidents list`: a My Number zone firewall line
# raises an incident whose group and related.ip name the internal address
# and its peer, and the firewalls in related.hosts; IMAP failures then an
# SSH login from the same source raise "login success after a brute
# force"; `--related` finds every incident involving an address, a user
# or a host, exactly, and `-q related.ip:CIDR` by the query language.
# The lines are written here from the daemons' documented formats; the
# oracle is what this script wrote.
. "$(dirname "$0")/lib.sh"
need jq
SRC="${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"

fw() { # host src dst dport id
	echo "Nov 27 10:$6 $1 kernel: [UFW BLOCK] IN=eth0 OUT=eth1 SRC=$2 DST=$3 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=$5 DF PROTO=TCP SPT=40000 DPT=$4 WINDOW=64240 RES=0x00 SYN URGP=0"
}
{
	fw mn-fw01 10.10.1.5 203.0.113.9 443 1 "00:00"
	fw lg-fw01 10.20.1.5 10.20.2.6 5432 3 "00:40"   # LGWAN to LGWAN: no incident
	for i in 0 1 2 3 4 5 6 7 8 9; do
		echo "Nov 27 10:01:$(printf %02d $((i * 5))) mail01 dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<info>, method=PLAIN, rip=198.51.100.60, lip=10.20.0.5, TLS, session=<s$i>"
	done
	echo "Nov 27 10:03:00 web03 sshd[5500]: Accepted password for info from 198.51.100.60 port 53000 ssh2"
	# after the rule's 5 minutes of suppression: delivered at once, merged
	fw mn-fw02 10.10.1.5 203.0.113.9 443 2 "06:00"
} > "$LW_TMP/in.log"
cat >"$LW_TMP/import.yml" <<YAML
timezone: UTC
rules: [$SRC/rules]
zones:
  mynumber: [10.10.0.0/16]
  lgwan: [10.20.0.0/16]
YAML
"$LW_BIN" ingest -q -c "$LW_TMP/import.yml" -d "$LW_DATA" --reference-time 2026-11-28T00:00:00Z "$LW_TMP/in.log" \
	2>"$LW_TMP/ingest.err" || { cat "$LW_TMP/ingest.err" >&2; fail "ingest"; }
inc() { "$LW_BIN" incidents -d "$LW_DATA" list --status all --output json "$@"; }

flow=$(inc | jq -c 'select(.rule.title | startswith("My Number zone"))')
expect_eq "$(jq -s length <<<"$flow")" 1 "My Number zone incidents"
expect_eq "$(jq -c .group <<<"$flow")" '{"source.ip":"10.10.1.5","destination.ip":"203.0.113.9"}' "flow group"
expect_eq "$(jq -c '.related.ip | sort' <<<"$flow")" '["10.10.1.5","203.0.113.9"]' "flow related.ip"
expect_eq "$(jq -c .related.hosts <<<"$flow")" '["mn-fw01","mn-fw02"]' "flow related.hosts"
expect_eq "$(jq -r .count <<<"$flow")" 2 "flow count"
expect_eq "$(jq -r .level <<<"$flow")" critical "flow level"

after=$(inc | jq -c 'select(.rule.title | startswith("Login success after"))')
expect_eq "$(jq -c .group <<<"$after")" '{"source.ip":"198.51.100.60"}' "success after failures group"
expect_eq "$(jq -c .related.hosts <<<"$after")" '["mail01","web03"]' "IMAP then SSH: both hosts"
expect_eq "$(jq -c .related.user <<<"$after")" '["info"]' "success after failures user"
# It cites the failures, then the login, and starts at the first failure.
expect_eq "$(jq -r .first_seen <<<"$after")" 2026-11-27T10:01:00.000000Z "success after failures first_seen"
"$LW_BIN" incidents -d "$LW_DATA" show "$(jq -r .id <<<"$after")" --output json > "$LW_TMP/after.json" || fail "show"
expect_eq "$(jq -r '[.evidence[] | .event.outcome] | join(",")' "$LW_TMP/after.json")" \
	"failure,failure,failure,failure,failure,failure,failure,failure,failure,failure,success" "evidence: ten failures then the login"

expect_eq "$(inc --related 203.0.113.9 | jq -r .rule.title)" "$(jq -r .rule.title <<<"$flow")" "--related destination"
expect_eq "$(inc --related 10.20.2.6 | wc -l)" 0 "--related: LGWAN-only traffic raised nothing"
expect_eq "$(inc --related info | jq -r .rule.title | sort | tr '\n' '|')" \
	"Brute force against network services from one source|Login success after a brute force from the same source (any service)|" "--related user"
expect_eq "$(inc --related mn-fw02 | jq -s length)" 1 "--related host"
# The query language over related.*: a CIDR, a user with a level.
expect_eq "$(inc -q 'related.ip:10.10.0.0/16' | jq -r .rule.title)" "$(jq -r .rule.title <<<"$flow")" "-q related.ip CIDR"
expect_eq "$(inc -q 'related.user:info AND level:critical' | jq -r .rule.title)" "$(jq -r .rule.title <<<"$after")" "-q related.user"
expect_eq "$(inc -q 'related.hosts:lg-fw01' | wc -l)" 0 "-q related.hosts: nothing raised from lg-fw01"
"$LW_BIN" incidents -d "$LW_DATA" list --status all --related 10.10.1.5 | grep -q " related.ip=203.0.113.9,10.10.1.5 related.hosts=mn-fw01,mn-fw02 " ||
	fail "text line lacks related: $("$LW_BIN" incidents -d "$LW_DATA" list --status all --related 10.10.1.5)"
echo "ok: My Number zone flow named by its addresses (group, related.ip) and firewalls; IMAP failures then SSH login raised; --related exact by address, user and host"
