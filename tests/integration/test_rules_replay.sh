#!/usr/bin/env bash
# `logward rules replay` over a store the real binary filled with the
# default rule pack (ingest of SSH brute force from three addresses,
# 10, 12 and 25 failures, and a cron job's lines).
# Oracles:
#   - the unchanged pack: --diff reports no change (exit 0), and every
#     incident the store holds is "same";
#   - a detection rule added after ingestion (cron "job N done" on fs1,
#     7 lines a minute apart): --diff names exactly its incident as new
#     and nothing else (exit 1), with count 6 and held_back 1: the rule
#     fires on its own, so repeats within 5 minutes are held back
#     (docs/rules.md "Suppression") and the 7th is still held at the end,
#     as a daemon would hold it;
#   - brute force raised to 20 failures: exactly the 10- and 12-failure
#     incidents are gone (the 25-failure one is still raised);
#   - -q limits the events replayed (exact count in the summary);
#   - the store is not written: its chain head, incident list and stats
#     are byte for byte the same before and after.
. "$(dirname "$0")/lib.sh"
need jq
RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

base=$(( ($(date -u +%s) / 3600 - 24) * 3600 ))
cat > "$LW_TMP/c.yml" <<YAML
data_dir: $LW_DATA
timezone: UTC
rules: [$RULES]
YAML
k=0
for n in 10 12 25; do
	k=$((k + 1))
	for i in $(seq 1 "$n"); do
		printf '<38>1 %s web01 sshd %d - - Failed password for invalid user u%d from 198.51.100.%d port %d ssh2\n' \
			"$(ts $((base + k * 3600 + i * 3)))" $((100 + i)) "$i" "$k" $((40000 + i))
	done
done > "$LW_TMP/ssh.log"
for i in $(seq 1 7); do
	printf '<78>1 %s fs1 cron %d - - job %d done\n' "$(ts $((base + 5 * 3600 + i * 60)))" "$i" "$i"
done > "$LW_TMP/cron.log"
"$LW_BIN" ingest -c "$LW_TMP/c.yml" --zone lgwan "$LW_TMP/ssh.log" "$LW_TMP/cron.log" 2>"$LW_TMP/ingest.err" ||
	fail "ingest: $(cat "$LW_TMP/ingest.err")"
total=$(( 10 + 12 + 25 + 7 ))
snapshot() {
	"$LW_BIN" stats -d "$LW_DATA" --output json
	"$LW_BIN" incidents -d "$LW_DATA" list --status all --output json
	"$LW_BIN" verify -d "$LW_DATA"
}
snapshot > "$LW_TMP/before"
stored=$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json | wc -l)
[ "$stored" -ge 3 ] || fail "expected the brute force incidents, got $stored"
brute_stored=$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json |
	jq -s '[.[] | select(.rule.title == "SSH brute force from one source")] | length')
expect_eq "$brute_stored" 3 "brute force incidents stored"

replay() { "$LW_BIN" rules replay -d "$LW_DATA" "$@"; }

# --- the unchanged pack: no difference ---------------------------------
out=$(replay -r "$RULES" --diff) || fail "unchanged pack: exit $?: $out"
expect_eq "$(wc -l <<<"$out")" 1 "lines for the unchanged pack (the summary only)"
expect_eq "$(jq -c '.summary | [.events, .held_back, .new, .gone, .changed, .same]' <<<"$out")" \
	"[$total,0,0,0,0,$stored]" "summary for the unchanged pack"
# without --diff: one line per incident, as the store has them
expect_eq "$(replay -r "$RULES" | jq -s 'length')" "$stored" "incidents replayed"
expect_eq "$(replay -r "$RULES" | jq -c '[.incident.rule.title, .incident.group, .incident.count]' | sort)" \
	"$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json | jq -c '[.rule.title, .group, .count]' | sort)" \
	"replayed incidents equal the stored ones"

# --- a rule added after ingestion --------------------------------------
cp -r "$RULES" "$LW_TMP/pack"
cat > "$LW_TMP/pack/detection/cron_job_done.yml" <<'YAML'
title: Cron job finished on the file server
id: 6f0b7c1e-2d44-4c52-9a37-0d1f5e1b9a01
status: experimental
description: A test rule added after ingestion.
author: test
date: 2026-12-07
tags:
  - logward.system-failure
logsource:
  product: linux
detection:
  selection:
    process.name: cron
    host.name: fs1
    message|contains: ' done'
  condition: selection
level: low
YAML
"$LW_BIN" rules check "$LW_TMP/pack" > "$LW_TMP/check.out" || fail "the new rule: $(cat "$LW_TMP/check.out")"
rc=0; out=$(replay -r "$LW_TMP/pack" --diff) || rc=$?
expect_eq "$rc" 1 "exit status with a difference"
expect_eq "$(jq -c 'select(.change) | [.change, .incident.rule.id, .incident.count, .incident.host]' <<<"$out")" \
	'["new","6f0b7c1e-2d44-4c52-9a37-0d1f5e1b9a01",6,"fs1"]' "the new rule's incident"
expect_eq "$(jq -c '.summary | select(.) | [.held_back, .new, .gone, .changed, .same]' <<<"$out")" \
	"[1,1,0,0,$stored]" "summary with the new rule"

# --- a threshold raised: brute force needs 20 failures -----------------
rm "$LW_TMP/pack/detection/cron_job_done.yml"
sed -i 's/gte: 10$/gte: 20/' "$LW_TMP/pack/correlation/ssh_brute_force.yml"
grep -q "gte: 20" "$LW_TMP/pack/correlation/ssh_brute_force.yml" || fail "threshold not changed"
rc=0; out=$(replay -r "$LW_TMP/pack" --diff) || rc=$?
expect_eq "$rc" 1 "exit status with gone incidents"
expect_eq "$(jq -r 'select(.change == "gone") | .stored.group["source.ip"]' <<<"$out" | sort | tr '\n' ' ')" \
	"198.51.100.1 198.51.100.2 " "gone with 20 failures needed"
jq -se '[.[] | select(.change == "gone")] | length == 2 and
	all(.stored.rule.title == "SSH brute force from one source" and .stored.incidents == 1)' \
	<<<"$out" > /dev/null || fail "gone entries: $out"

# --- -q: only the matching events are replayed --------------------------
out=$(replay -r "$RULES" -q 'process.name:cron' --diff) || true
expect_eq "$(jq -c '.summary | select(.) | .events' <<<"$out")" 7 "events replayed with -q"

# --- the store is untouched ---------------------------------------------
snapshot > "$LW_TMP/after"
cmp -s "$LW_TMP/before" "$LW_TMP/after" || fail "the store changed: $(diff "$LW_TMP/before" "$LW_TMP/after" | head)"
echo "ok: replay of $total events: $stored incidents unchanged, 1 new, 2 gone"
