#!/usr/bin/env bash
# Oracle: util-linux `logger` sends a mixed stream over three listeners in
# three zones (UDP = internet, TCP = lgwan, unix = mynumber) to `serve`
# running the default rule pack. Exactly these incidents must exist:
# SSH brute force from 203.0.113.50 (12 "Failed password" lines, lgwan),
# ClamAV FOUND (internet), and for the one "user NOT in sudoers" line
# (mynumber) both sudo_not_in_sudoers and su_sudo_auth_failure (the pack's
# sudo decoder marks it an authentication failure, which the second rule
# selects) -- the rule pack's rule ids, listed here, not asked of logward. `show` returns
# their evidence (the stored events), ack/close change status with
# history, the notify file holds one line per incident, and a benign
# stream of the same size raises none.
. "$(dirname "$0")/lib.sh"
need logger
need jq

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
BRUTE=2ddcfcf4-5aa2-4fad-980d-49b74969a574
CLAM=a9c6abc7-014e-4449-aac9-082d14ffe2a1
SUDO=d85a8570-e403-475e-b42c-bf86813d87c7
SUDOFAIL=$(awk '$1 == "id:" {print $2; exit}' "$RULES/detection/su_sudo_auth_failure.yml")
EXPECTED=$(printf '%s\n' "$BRUTE" "$CLAM" "$SUDO" "$SUDOFAIL" | sort | tr '\n' ' ')
inc() { "$LW_BIN" incidents -d "$LW_DATA" "$@"; }

start_with_rules() {
	lw_start "rules: [$RULES]
notify:
  - {type: file, path: \"$LW_TMP/notify-$1.jsonl\"}"
}

udp() { logger -n 127.0.0.1 -P "$LW_UDP_PORT" -d --rfc3164 "$@"; }
tcp() { logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 "$@"; }
unx() { logger -u "$LW_UNIX" "$@"; }

# Waits until `incidents list` shows $1 incidents (max 20 s).
wait_incidents() {
	local have=0
	for _ in $(seq 1 100); do
		have=$(inc list --status all --output json 2>/dev/null | wc -l)
		[ "$have" -ge "$1" ] && return 0
		sleep 0.2
	done
	fail "store holds $have incidents, expected $1"
}

# --- 1. the attack stream: 30 lines -------------------------------------
start_with_rules attack
for i in $(seq 1 12); do
	user=admin; [ $((i % 2)) = 0 ] && user=oracle
	tcp -t sshd --id=2201 -p auth.info "Failed password for $user from 203.0.113.50 port $((40000 + i)) ssh2"
	[ $((i % 4)) = 0 ] && udp -t CRON --id=77 -p cron.info "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
done
udp -t clamd --id=900 -p daemon.warning "/home/ichiro/Downloads/invoice.exe: Win.Trojan.Agent-123 FOUND"
unx -t sudo -p authpriv.alert "  mallory : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/cat /etc/shadow"
for i in $(seq 1 13); do
	unx -t systemd -p daemon.info "Started session-$i.scope - Session $i of user alice."
done
lw_wait_count 30 20
wait_incidents 4
sleep 1 # one more flush: nothing else may arrive
list="$LW_TMP/list.json"
inc list --output json > "$list"
expect_eq "$(wc -l < "$list")" 4 "incidents from the attack stream"
expect_eq "$(jq -r .rule.id "$list" | sort | tr '\n' ' ')" "$EXPECTED" "incident rules"

brute=$(jq -c "select(.rule.id == \"$BRUTE\")" "$list")
expect_eq "$(jq -c .group <<<"$brute")" '{"source.ip":"203.0.113.50"}' "brute force group"
expect_eq "$(jq -r .category <<<"$brute")" unauthorized-access "brute force category"
expect_eq "$(jq -r .status <<<"$brute")" open "brute force status"
expect_eq "$(jq -r .zone <<<"$brute")" lgwan "brute force zone"
expect_eq "$(jq -r .host <<<"$brute")" "$(hostname)" "brute force host"
[ "$(jq -r .count <<<"$brute")" -ge 10 ] || fail "brute force count $(jq -r .count <<<"$brute") < 10"
expect_eq "$(jq -r '.history | length' <<<"$brute")" 1 "history at creation"
expect_eq "$(jq -r '.history[0].actor' <<<"$brute")" logward "creator"
jq -e '.response | has("steps") and has("notify")' <<<"$brute" >/dev/null || fail "response plan missing"
for k in id rule category level status zone group first_seen last_seen count response history; do
	jq -e "has(\"$k\")" <<<"$brute" >/dev/null || fail "incident JSON lacks '$k'"
done
# The entities of its evidence (ECS related.*), and --related finds it.
expect_eq "$(jq -c .related <<<"$brute")" "{\"ip\":[\"203.0.113.50\"],\"user\":[\"admin\",\"oracle\"],\"hosts\":[\"$(hostname)\"]}" "brute force related"
expect_eq "$(jq -c .related_more <<<"$brute")" '{"ip":0,"user":0,"hosts":0}' "brute force related_more"
expect_eq "$(inc list --related 203.0.113.50 --output json | jq -r .rule.id)" "$BRUTE" "--related address"
expect_eq "$(inc list --related oracle --output json | jq -r .rule.id)" "$BRUTE" "--related user"
expect_eq "$(inc list --related 203.0.113.5 --output json | wc -l)" 0 "--related is exact"
inc list --related 203.0.113.50 | grep -q " related.ip=203.0.113.50 related.user=admin,oracle " || fail "text list lacks related: $(inc list --related 203.0.113.50)"
expect_eq "$(jq -r "select(.rule.id == \"$CLAM\") | .zone" "$list")" internet "malware zone"
expect_eq "$(jq -r "select(.rule.id == \"$CLAM\") | .category" "$list")" malware "malware category"
expect_eq "$(jq -r "select(.rule.id == \"$SUDO\") | .zone" "$list")" mynumber "sudo zone"

# show: the evidence is the stored events that raised it.
id=$(jq -r .id <<<"$brute")
show="$LW_TMP/show.json"
inc show "$id" --output json > "$show" 2>"$LW_TMP/show.err" || fail "show $id"
[ -s "$LW_TMP/show.err" ] && fail "show reported: $(cat "$LW_TMP/show.err")"
n=$(jq -r '.evidence | length' "$show")
[ "$n" -ge 10 ] || fail "brute force evidence has $n events, expected >= 10"
expect_eq "$(jq -r '[.evidence[] | select(.source.ip == "203.0.113.50" and (.message | startswith("Failed password")))] | length' "$show")" \
	"$n" "evidence events are the failed logins"
inc show "$id" > "$LW_TMP/show.txt" || fail "show text"
grep -q "Failed password for admin from 203.0.113.50" "$LW_TMP/show.txt" || fail "show text lacks the events"

# ack and close, with history.
inc ack "$id" --note "blocking at the firewall" --actor alice >/dev/null || fail "ack"
expect_eq "$(inc list --output json | jq -r "select(.id == $id) | .status")" acknowledged "status after ack"
inc close "$id" --note "blocked" --actor bob >/dev/null || fail "close"
expect_eq "$(inc list --output json | jq -r "select(.id == $id) | .id")" "" "closed incident left the default list"
closed=$(inc list --status closed --output json)
expect_eq "$(jq -r .id <<<"$closed")" "$id" "closed list"
expect_eq "$(jq -r '[.history[] | .status + ":" + .actor + ":" + .note] | join(",")' <<<"$closed")" \
	"open:logward:raised,acknowledged:alice:blocking at the firewall,closed:bob:blocked" "history"
if inc close "$id" 2>/dev/null; then fail "closing a closed incident succeeded"; fi
if inc ack 9999 2>/dev/null; then fail "ack of a missing incident succeeded"; fi
expect_eq "$(inc list --status all --level high --category malware --output json | jq -r .rule.id)" "$CLAM" "filters"

# The notify file: one line per incident, written after its commit.
for _ in $(seq 1 50); do
	[ "$(wc -l < "$LW_TMP/notify-attack.jsonl" 2>/dev/null || echo 0)" -ge 4 ] && break
	sleep 0.1
done
expect_eq "$(jq -r .rule.id "$LW_TMP/notify-attack.jsonl" | sort | tr '\n' ' ')" "$EXPECTED" "notified incidents"
expect_eq "$(jq -c "select(.rule.id == \"$BRUTE\") | .related.ip" "$LW_TMP/notify-attack.jsonl")" '["203.0.113.50"]' "notified related.ip"
lw_stop
expect_eq "$(lw_counter incidents_raised)" 4 "incidents_raised counter"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify"

# --- 2. a benign stream of the same size (30 lines) raises nothing ------
LW_DATA="$LW_TMP/benign"
start_with_rules benign
for i in $(seq 1 12); do
	tcp -t sshd --id=2201 -p auth.info "Accepted publickey for alice from 10.20.0.$i port $((50000 + i)) ssh2: ED25519 SHA256:abc"
	[ $((i % 4)) = 0 ] && udp -t CRON --id=77 -p cron.info "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"
done
udp -t clamd --id=900 -p daemon.info "/home/ichiro/Downloads/invoice.pdf: OK"
unx -t sudo -p authpriv.notice "  alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl status nginx"
for i in $(seq 1 13); do
	unx -t systemd -p daemon.info "Started session-$i.scope - Session $i of user alice."
done
lw_wait_count 30 20
sleep 1
lw_stop
expect_eq "$(inc list --status all --output json | wc -l)" 0 "incidents from the benign stream"
[ -s "$LW_TMP/notify-benign.jsonl" ] && fail "benign stream notified"

echo "ok: attack stream raised exactly brute force + malware + 2 sudo incidents with their evidence; ack/close/history; notify file; benign stream raised none"
