#!/usr/bin/env bash
# labels: slow
# The console in a real browser: util-linux `logger` sends a brute force
# (12 failed SSH logins from 203.0.113.50, some naming a user made of
# HTML markup) to `serve` with the default rule pack and the API on; an
# operator made with `logward user add` logs in through Debian's headless
# chromium (driven by puppeteer-core, pinned in tests/e2e/), finds the
# incident, opens it, ticks a response step, acknowledges it and pivots
# from its related address to an event search that must find the
# address as source (the 12) and as destination (a Cisco ASA deny sent
# beside them) (tests/e2e/console.mjs).
# Then `logward incidents show` must show the acknowledgement by that
# user, `audit list` the step and the ack, and the page must have shown
# the markup as text. Screenshots of every page are kept in
# $LW_BUILD_DIR/e2e-artifacts/.
#
# Skipped (77) when chromium, node or npm is missing or `npm ci` cannot
# install puppeteer-core (no registry).
. "$(dirname "$0")/lib.sh"
need logger
need jq
need curl
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM (Debian package chromium)"
need node
need npm

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
E2E="${LW_BUILD_DIR:-$LW_TMP}/e2e"
ARTIFACTS="${LW_BUILD_DIR:-$LW_TMP}/e2e-artifacts"
mkdir -p "$E2E" "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png
# npm ci in the build tree (the source tree stays clean); once per lock file
if ! cmp -s "$SRC/tests/e2e/package-lock.json" "$E2E/package-lock.json" ||
   [ ! -d "$E2E/node_modules/puppeteer-core" ]; then
	cp "$SRC/tests/e2e/package.json" "$SRC/tests/e2e/package-lock.json" "$E2E/"
	(cd "$E2E" && npm ci --ignore-scripts --no-audit --no-fund >"$LW_TMP/npm.log" 2>&1) ||
		{ rm -f "$E2E/package-lock.json"; skip "npm ci could not install puppeteer-core: $(tail -n 3 "$LW_TMP/npm.log")"; }
fi
cp "$SRC/tests/e2e/console.mjs" "$E2E/"

USER_NAME=yamada
PASS='correct horse battery staple'
IP=203.0.113.50
printf '%s\n' "$PASS" | "$LW_BIN" user -d "$LW_DATA" add "$USER_NAME" --role operator --password-stdin \
	>/dev/null || fail "user add"
lw_start "rules: [$SRC/rules]
api: {address: \"127.0.0.1:0\", login_max_failures: 50}"
API=$(awk '$1 == "api" {print $2; exit}' "$LW_TMP/ports")
[ -n "$API" ] || fail "no api line in the ports file"

tcp() { logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 "$@"; }
for i in $(seq 1 12); do
	if [ $((i % 3)) = 0 ]; then
		who='invalid user <script>window.__lw_xss=1</script><img src=x onerror=window.__lw_xss=2>'
	else
		who=admin
	fi
	tcp -t sshd --id=2201 -p auth.info "Failed password for $who from $IP port $((40000 + i)) ssh2"
done
for i in $(seq 1 5); do
	tcp -t systemd -p daemon.info "Started session-$i.scope - Session $i of user alice."
done
# the same address as the destination of a firewall deny (Cisco ASA 106023)
tcp -t '%ASA-4-106023' -p local4.warning \
	"Deny tcp src outside:198.51.100.7/51234 dst dmz:$IP/22 by access-group \"outside_in\" [0x0, 0x0]"
id=""
for _ in $(seq 1 100); do
	id=$("$LW_BIN" incidents -d "$LW_DATA" list --output json 2>/dev/null |
		jq -r "select(.group[\"source.ip\"] == \"$IP\" and (.rule.title | test(\"brute force\"))) | .id" | head -n 1)
	[ -n "$id" ] && break
	sleep 0.2
done
[ -n "$id" ] || fail "no brute force incident for $IP"

out="$LW_TMP/e2e.json"
(cd "$E2E" && BASE="$API" LW_USER="$USER_NAME" LW_PASS="$PASS" SOURCE_IP="$IP" \
	ARTIFACTS="$ARTIFACTS" CHROMIUM="$CHROMIUM" timeout 180 node console.mjs) \
	>"$out" 2>"$LW_TMP/e2e.err" || fail "browser run: $(cat "$LW_TMP/e2e.err") $(cat "$out")"

expect_eq "$(jq -r .incident_id "$out")" "$id" "the incident the browser opened"
jq -e '.step_who | contains("yamada")' "$out" >/dev/null || fail "checklist tick not by $USER_NAME: $(jq -r .step_who "$out")"
expect_eq "$(jq -r .status_text "$out")" "対応中" "status shown after the acknowledgement"
expect_eq "$(jq -r .search_query "$out")" "source.ip:\"$IP\" OR destination.ip:\"$IP\"" \
	"the related address's search query"
expect_eq "$("$LW_BIN" query -d "$LW_DATA" -q "destination.ip:$IP" --count)" 1 "events with $IP as destination"
expect_eq "$(jq -r .search_rows "$out")" 13 "events the related address's search found"
jq -e --arg ip "$IP" '[.messages[] | select(contains($ip))] | length == 13' "$out" >/dev/null ||
	fail "search results are not the address's events"
jq -e '[.messages[] | select(startswith("Deny tcp src outside:198.51.100.7/51234"))] | length == 1' "$out" >/dev/null ||
	fail "the search did not find the address as a destination: $(jq -c .messages "$out")"
expect_eq "$(jq -r .markup_as_text "$out")" true "a log line's markup shown as text"
expect_eq "$(jq -r .injected_elements "$out")" 0 "elements made from log data"
expect_eq "$(jq -r .xss_ran "$out")" false "script from a log line ran"
jq -e '.evidence_text | contains("<script>")' "$out" >/dev/null || fail "evidence did not show the markup as text"
jq -e '.english_nav | contains("Incidents")' "$out" >/dev/null || fail "English switch"
for f in 01-login 02-incidents 03-incident 04-incident-acknowledged 05-events 06-sources 07-overview 08-incidents-en; do
	[ -s "$ARTIFACTS/$f.png" ] || fail "screenshot $f.png missing"
done

# The CLI sees what the browser did, by that user.
show=$("$LW_BIN" incidents -d "$LW_DATA" show "$id" --output json 2>/dev/null)
expect_eq "$(jq -r '.status' <<<"$show")" acknowledged "status in incidents show"
expect_eq "$(jq -r '[.history[] | select(.status == "acknowledged") | .actor] | join(",")' <<<"$show")" \
	"$USER_NAME" "acknowledged by"
audit=$("$LW_BIN" audit -d "$LW_DATA" list --output json)
expect_eq "$(jq -r "select(.action == \"incident.ack\" and .target == \"incident:$id\") | .actor + \" \" + .result" <<<"$audit")" \
	"$USER_NAME ok" "audit of the ack"
expect_eq "$(jq -r "select(.action == \"incident.step\") | .actor + \" \" + .detail" <<<"$audit")" \
	"$USER_NAME step 0 done" "audit of the checklist tick"
expect_eq "$(jq -r 'select(.action == "login") | .actor + " " + .result' <<<"$audit" | head -n 1)" \
	"$USER_NAME ok" "audit of the login"
lw_stop
echo "e2e: screenshots in $ARTIFACTS"
