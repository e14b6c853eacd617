#!/usr/bin/env bash
# The HTTP API with curl against a real `serve` (rules on, api on an
# ephemeral port): every endpoint of docs/api.md and the role matrix.
# No credentials: 401; a viewer's ack: 403; an operator's ack without the
# CSRF token: 403, with it: 200 and `logward incidents show` names the
# operator; a second ack: 409; bad passwords: 429 after
# login_max_failures; a body over max_body_size: 413; tokens made by the
# CLI and by the API work as Bearer credentials until revoked. The
# audit trail (`logward audit list`) holds every write and login, and
# the CLI's `incidents ack/close` (charged to cli:<OS user>, address
# local), read back through the console's API too.
. "$(dirname "$0")/lib.sh"
need logger
need jq
need curl

SRC="$(cd "$(dirname "$0")/../.." && pwd)"
L() { "$LW_BIN" "$@"; }
pw() { printf '%s\n' "$2" | L user -d "$LW_DATA" add "$1" --role "$3" --password-stdin >/dev/null || fail "user add $1"; }
pw boss 'admin-pass-1' admin
pw op 'operator-pass-1' operator
pw viewer 'viewer-pass-1' viewer
CLI_TOKEN=$(L token -d "$LW_DATA" add reporter --role viewer 2>/dev/null)
[[ "$CLI_TOKEN" == lwt_* ]] || fail "token add printed '$CLI_TOKEN'"
L token -d "$LW_DATA" list > "$LW_TMP/tokens.txt"
grep -q "^reporter	viewer	active" "$LW_TMP/tokens.txt" || fail "token list"

lw_start "rules: [$SRC/rules]
api: {address: \"127.0.0.1:0\", login_max_failures: 3, login_window: 10m, max_body_size: 2KiB}"
API=$(awk '$1 == "api" {print $2; exit}' "$LW_TMP/ports")
[ -n "$API" ] || fail "no api line in the ports file"

BODY="$LW_TMP/body"
HDRS="$LW_TMP/headers"
# req JAR METHOD PATH [JSON] [curl args...]: prints the status; body in $BODY
req() {
	local jar=$1 method=$2 path=$3 data=${4:-}
	shift 4 2>/dev/null || shift $#
	local args=(-s -o "$BODY" -D "$HDRS" -w '%{http_code}' -X "$method")
	[ "$jar" != - ] && args+=(-b "$LW_TMP/$jar.jar" -c "$LW_TMP/$jar.jar")
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	curl "${args[@]}" "$@" "$API$path"
}
# as JAR METHOD PATH [JSON]: the same with the jar's CSRF token
as() {
	local jar=$1
	req "$jar" "$2" "$3" "${4:-}" -H "X-CSRF-Token: $(cat "$LW_TMP/$jar.csrf" 2>/dev/null)"
}
code() { jq -r .error.code "$BODY"; }
login() {
	local s
	s=$(req "$1" POST /api/v1/login "{\"user\":\"$1\",\"password\":\"$2\"}")
	expect_eq "$s" 200 "login $1"
	jq -r .csrf "$BODY" > "$LW_TMP/$1.csrf"
}

# --- incidents to work on: a brute force and a root attempt --------------
IP=203.0.113.50
tcp() { logger -n 127.0.0.1 -P "$LW_TCP_PORT" -T --rfc3164 "$@"; }
for i in $(seq 1 12); do
	tcp -t sshd --id=2201 -p auth.info "Failed password for root from $IP port $((40000 + i)) ssh2"
done
tcp -t app -p user.info "=HYPERLINK(\"http://evil.example/\",\"click\") from a log line"
inc() { L incidents -d "$LW_DATA" "$@"; }
for _ in $(seq 1 100); do
	[ "$(inc list --output json 2>/dev/null | wc -l)" -ge 2 ] && break
	sleep 0.2
done
BRUTE=$(inc list --output json | jq -r 'select(.rule.title | test("brute force")) | .id')
ROOT=$(inc list --output json | jq -r 'select(.rule.title | test("as root")) | .id')
[ -n "$BRUTE" ] && [ -n "$ROOT" ] || fail "expected the brute force and root incidents"
lw_wait_count 13 20

# --- anonymous -----------------------------------------------------------
expect_eq "$(req - GET /api/v1/health)" 200 "health"
expect_eq "$(jq -c . "$BODY")" '{"status":"up"}' "health says up and nothing more"
for p in /api/v1/incidents /api/v1/incidents/$BRUTE /api/v1/events /api/v1/sources /api/v1/overview /api/v1/me /api/v1/users /api/v1/audit; do
	expect_eq "$(req - GET "$p")" 401 "GET $p without credentials"
	expect_eq "$(code)" unauthorized "error code of GET $p"
done
expect_eq "$(req - POST "/api/v1/incidents/$BRUTE/ack" '{}')" 401 "ack without credentials"
expect_eq "$(req - GET /api/v1/incidents "" -H 'Authorization: Bearer lwt_not-a-token')" 401 "a made-up token"
for h in 'Content-Security-Policy: default-src' 'X-Frame-Options: DENY' 'X-Content-Type-Options: nosniff' \
	'Referrer-Policy: no-referrer' 'Cache-Control: no-store'; do
	grep -qi "^$h" "$HDRS" || fail "API response lacks '$h'"
done
expect_eq "$(req - GET /)" 200 "the console page"
grep -q '<script type="module" src="/assets/app.js">' "$BODY" || fail "index.html"
grep -qi "^Content-Security-Policy: .*script-src 'self'.*frame-ancestors 'none'" "$HDRS" || fail "page CSP"
grep -q '<script>' "$BODY" && fail "inline script in index.html"
expect_eq "$(req - GET /assets/app.js)" 200 "app.js"
grep -qi '^Content-Type: text/javascript' "$HDRS" || fail "app.js type"
expect_eq "$(req - GET /assets/nope.js)" 404 "a missing asset"
expect_eq "$(req - GET /api/v1/nope)" 404 "an unknown endpoint"
expect_eq "$(code)" not_found "404 code"
expect_eq "$(req - PUT /api/v1/incidents)" 405 "PUT"

# --- logins and the rate limit ---------------------------------------------
login viewer 'viewer-pass-1'
grep -qi '^Set-Cookie: lw_session=.*HttpOnly; SameSite=Strict' "$HDRS" || fail "session cookie flags"
expect_eq "$(req - POST /api/v1/login '{"user":"viewer","password":"nope"}')" 401 "a wrong password"
expect_eq "$(req - POST /api/v1/login '{"user":"ghost","password":"nope"}')" 401 "an unknown user"
expect_eq "$(req - POST /api/v1/login '{"user":"viewer","password":"nope"}')" 401 "a wrong password (2)"
expect_eq "$(req - POST /api/v1/login '{"user":"viewer","password":"nope"}')" 401 "a wrong password (3)"
expect_eq "$(req - POST /api/v1/login '{"user":"viewer","password":"viewer-pass-1"}')" 429 "over login_max_failures: limited"
expect_eq "$(code)" rate_limited "429 code"
expect_eq "$(req - POST /api/v1/login 'not json')" 400 "a body that is not JSON"
expect_eq "$(code)" bad_json "bad_json code"
big=$(head -c 3000 /dev/zero | tr '\0' a)
expect_eq "$(req - POST /api/v1/login "{\"user\":\"$big\",\"password\":\"x\"}")" 413 "a body over max_body_size"
login op 'operator-pass-1'
login boss 'admin-pass-1'
expect_eq "$(req op GET /api/v1/me)" 200 "me"
expect_eq "$(jq -r '.user + " " + .role + " " + .auth' "$BODY")" "op operator session" "me as op"

# --- the role matrix on ack --------------------------------------------------
expect_eq "$(as viewer POST "/api/v1/incidents/$BRUTE/ack" '{}')" 403 "a viewer's ack"
expect_eq "$(code)" forbidden "viewer's ack code"
expect_eq "$(req op POST "/api/v1/incidents/$BRUTE/ack" '{"note":"x"}')" 403 "an operator's ack without the CSRF token"
expect_eq "$(code)" csrf "missing CSRF code"
expect_eq "$(req op POST "/api/v1/incidents/$BRUTE/ack" '{"note":"x"}' -H 'X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')" 403 "a wrong CSRF token"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/ack" '{"note":"on it"}')" 200 "an operator's ack"
expect_eq "$(jq -r .status "$BODY")" acknowledged "status after ack"
expect_eq "$(inc show "$BRUTE" --output json 2>/dev/null | jq -r '[.history[] | select(.status == "acknowledged") | .actor + ":" + .note] | join(",")')" \
	"op:on it" "incidents show names the operator"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/ack" '{}')" 409 "acknowledging twice"
expect_eq "$(code)" conflict "409 code"
expect_eq "$(as op POST /api/v1/incidents/99999/ack '{}')" 404 "ack of a missing incident"

# --- casework -------------------------------------------------------------------
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/assign" '{"user":"viewer"}')" 200 "assign"
expect_eq "$(jq -r '.assignee + " " + .casework.assigned_by' "$BODY")" "viewer op" "assignee"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/assign" '{"user":"nobody"}')" 400 "assign to no user"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/notes" '{"text":"blocked <b>at</b> the border"}')" 200 "note"
expect_eq "$(jq -r '.casework.notes[0].actor + ": " + .casework.notes[0].text' "$BODY")" "op: blocked <b>at</b> the border" "note text kept as is"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/notes" '{"text":""}')" 400 "an empty note"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/steps" '{"step":1,"done":true}')" 200 "tick a step"
expect_eq "$(jq -c '[.casework.checklist[] | [.step, .done, .actor]]' "$BODY")" '[[1,true,"op"]]' "checklist"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/steps" '{"step":1,"done":false}')" 200 "untick it"
expect_eq "$(jq -c '[.casework.checklist[] | [.step, .done]]' "$BODY")" '[[1,false]]' "checklist after untick"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/steps" '{"step":99,"done":true}')" 400 "a step the plan does not have"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/close" '{"reason":"because"}')" 400 "a close reason not in the list"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/close" '{"reason":"true_positive","note":"blocked"}')" 200 "close"
expect_eq "$(jq -r '.history[-1].status + " " + .history[-1].actor + " " + .history[-1].note' "$BODY")" \
	"closed op true_positive: blocked" "close history"
expect_eq "$(as op POST "/api/v1/incidents/$BRUTE/close" '{"reason":"other"}')" 409 "closing a closed incident"

# --- reading incidents ----------------------------------------------------------
expect_eq "$(req viewer GET "/api/v1/incidents/$BRUTE")" 200 "one incident"
[ "$(jq -r '.evidence | length' "$BODY")" -ge 10 ] || fail "evidence of $BRUTE"
expect_eq "$(jq -r '(.evidence | length) as $n | [.evidence[] | select(.source.ip == "'$IP'")] | length == $n' "$BODY")" true "evidence events"
expect_eq "$(req viewer GET "/api/v1/incidents/$BRUTE?evidence_limit=3")" 200 "evidence page"
expect_eq "$(jq -r '(.evidence | length | tostring) + " " + (.evidence_next | tostring)' "$BODY")" "3 3" "evidence paging"
expect_eq "$(req viewer GET /api/v1/incidents/424242)" 404 "a missing incident"
expect_eq "$(req viewer GET /api/v1/incidents)" 200 "the default list"
expect_eq "$(jq -r '[.incidents[].id] | join(",")' "$BODY")" "$ROOT" "open + acknowledged only"
expect_eq "$(req viewer GET '/api/v1/incidents?status=all&limit=1')" 200 "page 1"
expect_eq "$(jq -r '.incidents[0].id' "$BODY")" "$(( BRUTE > ROOT ? BRUTE : ROOT ))" "newest first"
next=$(jq -r .next "$BODY")
expect_eq "$(req viewer GET "/api/v1/incidents?status=all&limit=1&cursor=$next")" 200 "page 2"
expect_eq "$(jq -r '.incidents[0].id' "$BODY")" "$(( BRUTE < ROOT ? BRUTE : ROOT ))" "page 2 holds the other"
expect_eq "$(req viewer GET '/api/v1/incidents?status=all&sort=oldest')" 200 "oldest first"
expect_eq "$(jq -r '.incidents[0].id' "$BODY")" "$(( BRUTE < ROOT ? BRUTE : ROOT ))" "oldest first order"
expect_eq "$(req viewer GET '/api/v1/incidents?status=all&sort=last_seen')" 200 "by last_seen"
expect_eq "$(jq -r '.incidents | length' "$BODY")" 2 "by last_seen, both"
expect_eq "$(req viewer GET "/api/v1/incidents?status=closed&category=unauthorized-access&level=high&related=$IP")" 200 "filters"
expect_eq "$(jq -r '[.incidents[].id] | join(",")' "$BODY")" "$BRUTE" "filtered to the brute force"
expect_eq "$(req viewer GET "/api/v1/incidents?status=all&q=group.source.ip:203.0.113.0/24")" 200 "q"
expect_eq "$(jq -r '[.incidents[].id] | join(",")' "$BODY")" "$BRUTE" "q on the group"
expect_eq "$(req viewer GET '/api/v1/incidents?q=level:(')" 400 "a bad incident query"
expect_eq "$(code)" bad_query "bad_query code"
expect_eq "$(req viewer GET '/api/v1/incidents?status=sleeping')" 400 "a bad status"
expect_eq "$(req viewer GET '/api/v1/incidents/counts?status=all')" 200 "counts"
expect_eq "$(jq -c '[.total, .by_status.closed, .by_category["unauthorized-access"]]' "$BODY")" "[2,1,2]" "counts"
expect_eq "$(req viewer GET '/api/v1/incidents.csv?status=all')" 200 "incidents CSV"
grep -qi '^Content-Disposition: attachment; filename="incidents.csv"' "$HDRS" || fail "CSV disposition"
expect_eq "$(head -n 1 "$BODY" | tr -d '\r')" "id,status,level,category,rule,zone,host,group,first_seen,last_seen,count,assignee" "CSV header"
expect_eq "$(wc -l < "$BODY")" 3 "CSV rows"
grep -q "^$BRUTE,closed,high,unauthorized-access,SSH brute force from one source,lgwan,.*,viewer" "$BODY" || fail "CSV row: $(cat "$BODY")"
expect_eq "$(as op POST /api/v1/incidents/bulk "{\"action\":\"ack\",\"ids\":[\"$ROOT\",\"$BRUTE\",\"77777\"]}")" 200 "bulk ack"
expect_eq "$(jq -c '[.ok, .failed, [.results[].status]]' "$BODY")" "[1,2,[200,409,404]]" "bulk results"
expect_eq "$(as viewer POST /api/v1/incidents/bulk "{\"action\":\"ack\",\"ids\":[\"$ROOT\"]}")" 403 "a viewer's bulk ack"

# --- events ------------------------------------------------------------------------
expect_eq "$(req viewer GET "/api/v1/events?q=source.ip:$IP&limit=5")" 200 "events page 1"
expect_eq "$(jq -r '.events | length' "$BODY")" 5 "page of 5"
expect_eq "$(jq -r '[.events[].source.port] | join(",")' "$BODY")" "40012,40011,40010,40009,40008" "newest first"
next=$(jq -r .next "$BODY")
tail=$(jq -r .tail "$BODY")
expect_eq "$(req viewer GET "/api/v1/events?q=source.ip:$IP&limit=5&cursor=$next")" 200 "events page 2"
expect_eq "$(jq -r '[.events[].source.port] | join(",")' "$BODY")" "40007,40006,40005,40004,40003" "page 2"
expect_eq "$(req viewer GET "/api/v1/events?q=source.ip:$IP&limit=5&cursor=$(jq -r .next "$BODY")")" 200 "events page 3"
expect_eq "$(jq -r '([.events[].source.port] | map(tostring) | join(",")) + " " + (.next | tostring)' "$BODY")" "40002,40001 null" "last page"
expect_eq "$(req viewer GET '/api/v1/events?q=source.ip:')" 400 "a bad event query"
expect_eq "$(code)" bad_query "bad event query code"
grep -q '1:11' "$BODY" || fail "the error names the column: $(cat "$BODY")"
expect_eq "$(req viewer GET "/api/v1/events?q=source.ip:$IP&after=$tail")" 200 "live tail, nothing new"
expect_eq "$(jq -r '.events | length' "$BODY")" 0 "nothing after the tail yet"
tcp -t sshd --id=2201 -p auth.info "Failed password for root from $IP port 50000 ssh2"
lw_wait_count 14 20
expect_eq "$(req viewer GET "/api/v1/events?q=source.ip:$IP&after=$tail")" 200 "live tail"
expect_eq "$(jq -r '[.events[].source.port] | join(",")' "$BODY")" 50000 "the new event, and only it"
expect_eq "$(req viewer GET "/api/v1/events/histogram?q=source.ip:$IP&since=1h&step=1m")" 200 "histogram"
expect_eq "$(jq -r '.total' "$BODY")" 13 "histogram total"
expect_eq "$(req viewer GET '/api/v1/events/histogram?since=1h&step=1m&by=labels.zone')" 200 "histogram by zone"
expect_eq "$(jq -r '.series[0].value' "$BODY")" lgwan "histogram series"
expect_eq "$(req viewer GET '/api/v1/events/histogram?step=0m')" 400 "a bad step"
expect_eq "$(req viewer GET '/api/v1/events/top?field=source.ip&n=3')" 200 "top"
expect_eq "$(jq -c '[.values[0].value, .values[0].count]' "$BODY")" "[\"$IP\",13]" "top value"
expect_eq "$(req viewer GET '/api/v1/events/top')" 400 "top without a field"
expect_eq "$(req viewer GET '/api/v1/events.csv?q=process.name:app')" 200 "events CSV"
expect_eq "$(sed -n 2p "$BODY" | cut -d, -f7- | tr -d '\r')" "\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\") from a log line\"" \
	"a formula in a log line is inert in the CSV"
expect_eq "$(req viewer GET /api/v1/fields)" 200 "fields"
jq -e '.fields | index("source.ip") and index("host.name") and index("user.name")' "$BODY" >/dev/null || fail "fields: $(cat "$BODY")"
expect_eq "$(req viewer GET /api/v1/sources)" 200 "sources"
expect_eq "$(jq -r '.sources[0] | .host + " " + .zone + " " + (.silent | tostring) + " " + (.events_hour | tostring)' "$BODY")" \
	"$(hostname) lgwan false 14" "sources row"
expect_eq "$(req viewer GET /api/v1/overview)" 200 "overview"
expect_eq "$(jq -r '[.store.events, .counters.received, .events_per_zone.total, .incidents.open] | map(tostring) | join(" ")' "$BODY")" \
	"14 14 14 1" "overview numbers"
expect_eq "$(jq -c .health "$BODY")" '{"storage_failing":false,"loss_episodes":0}' "overview health"

# --- tokens ----------------------------------------------------------------------
expect_eq "$(req - GET /api/v1/incidents "" -H "Authorization: Bearer $CLI_TOKEN")" 200 "a CLI-made token"
expect_eq "$(req - POST "/api/v1/incidents/$ROOT/notes" '{"text":"x"}' -H "Authorization: Bearer $CLI_TOKEN")" 403 "a viewer token writes"
expect_eq "$(as op POST /api/v1/tokens '{"name":"script","role":"operator"}')" 403 "an operator makes a token"
expect_eq "$(as boss POST /api/v1/tokens '{"name":"script","role":"operator"}')" 201 "admin makes a token"
TOKEN=$(jq -r .token "$BODY")
expect_eq "$(req - POST "/api/v1/incidents/$ROOT/notes" '{"text":"from a script"}' -H "Authorization: Bearer $TOKEN")" 200 "a token needs no CSRF"
expect_eq "$(jq -r '.casework.notes[-1].actor' "$BODY")" script "the token's name is the actor"
expect_eq "$(as boss GET /api/v1/tokens)" 200 "token list"
expect_eq "$(jq -r '[.tokens[] | .name + ":" + .role] | sort | join(",")' "$BODY")" "reporter:viewer,script:operator" "tokens"
jq -e '[.tokens[] | has("token") or has("hash")] | any | not' "$BODY" >/dev/null || fail "token list leaks secrets"
expect_eq "$(as boss POST /api/v1/tokens/revoke '{"name":"script"}')" 200 "revoke"
expect_eq "$(req - GET /api/v1/incidents "" -H "Authorization: Bearer $TOKEN")" 401 "a revoked token"

# --- users -----------------------------------------------------------------------
expect_eq "$(as op GET /api/v1/users)" 403 "an operator lists users"
expect_eq "$(as boss GET /api/v1/users)" 200 "users"
expect_eq "$(jq -r '[.users[] | .name + ":" + .role] | join(",")' "$BODY")" "boss:admin,op:operator,viewer:viewer" "user list"
jq -e '[.users[] | has("hash") or has("password")] | any | not' "$BODY" >/dev/null || fail "user list leaks hashes"
expect_eq "$(as boss POST /api/v1/users '{"name":"<script>x</script>","role":"viewer","password":"p-1"}')" 201 "a user named with markup"
expect_eq "$(as boss POST /api/v1/users '{"name":"suzuki","role":"viewer","password":"suzuki-pass"}')" 201 "add user"
expect_eq "$(as boss POST /api/v1/users '{"name":"suzuki","role":"viewer","password":"x"}')" 409 "add twice"
expect_eq "$(as boss POST /api/v1/users '{"name":"bad name","role":"viewer","password":"x"}')" 400 "a name with a space"
expect_eq "$(as boss POST /api/v1/users/role '{"name":"suzuki","role":"operator"}')" 200 "role"
login suzuki suzuki-pass
expect_eq "$(as suzuki POST /api/v1/me/password '{"current_password":"wrong","password":"n-1"}')" 403 "own password, wrong current"
expect_eq "$(as suzuki POST /api/v1/me/password '{"current_password":"suzuki-pass","password":"suzuki-new"}')" 200 "own password"
expect_eq "$(req suzuki GET /api/v1/me)" 401 "a password change ends the sessions"
login suzuki suzuki-new
expect_eq "$(as boss POST /api/v1/users/disable '{"name":"suzuki"}')" 200 "disable"
expect_eq "$(req suzuki GET /api/v1/me)" 401 "a disabled user's session"
expect_eq "$(req - POST /api/v1/login '{"user":"suzuki","password":"suzuki-new"}')" 401 "a disabled user's login"
expect_eq "$(as boss POST /api/v1/users/passwd '{"name":"op","password":"operator-pass-2"}')" 200 "admin sets a password"
L user -d "$LW_DATA" list > "$LW_TMP/users.txt"
grep -q "^suzuki	operator	disabled" "$LW_TMP/users.txt" || fail "user list (CLI)"
expect_eq "$(as boss POST /api/v1/rules/reload '{}')" 202 "rule reload"
for _ in $(seq 1 50); do grep -q "reload" "$LW_TMP/serve.log" && break; sleep 0.1; done
grep -q "reload" "$LW_TMP/serve.log" || fail "the daemon did not reload"
expect_eq "$(as op POST /api/v1/rules/reload '{}')" 401 "op's session ended by the password change"

# --- logout ------------------------------------------------------------------------
expect_eq "$(as viewer POST /api/v1/logout '{}')" 200 "logout"
expect_eq "$(req viewer GET /api/v1/me)" 401 "after logout"

# --- the audit trail -----------------------------------------------------------------
expect_eq "$(as boss GET '/api/v1/audit?limit=1000')" 200 "audit"
audit="$LW_TMP/audit.json"
L audit -d "$LW_DATA" list --limit 0 --output json > "$audit"
expect_eq "$(jq -s length "$audit")" "$(jq '.audit | length' "$BODY")" "API and CLI see the same trail"
has() { [ "$(jq -r "select($1) | .seq" "$audit" | wc -l)" -ge 1 ] || fail "no audit record with $1"; }
has '.action == "login" and .actor == "viewer" and .status == 401 and .detail == "wrong password"'
has '.action == "login" and .actor == "ghost" and .status == 401 and .detail == "no such user"'
has '.action == "login" and .actor == "viewer" and .status == 429 and .result == "denied"'
has '.action == "incident.ack" and .actor == "viewer" and .status == 403'
has '.action == "incident.ack" and .actor == "op" and .status == 403 and .target == "incident:'$BRUTE'"'
has '.action == "incident.ack" and .actor == "op" and .status == 200 and .detail == "on it"'
has '.action == "incident.close" and .actor == "op" and .status == 200 and .detail == "true_positive: blocked"'
has '.action == "incident.step" and .actor == "op" and .detail == "step 1 done"'
has '.action == "token.add" and (.actor | startswith("cli:")) and .address == "local" and .target == "token:reporter"'
has '.action == "user.disable" and .actor == "boss" and .target == "user:suzuki"'
has '.action == "rules.reload" and .actor == "boss" and .status == 202'
has '.address | test("^127\\.0\\.0\\.1:[0-9]+$")'
L audit -d "$LW_DATA" list > "$LW_TMP/audit.txt"
grep -q 'denied 429  viewer' "$LW_TMP/audit.txt" || fail "audit text output"

# --- the CLI's incident changes are in the same trail ------------------------------
# Charged to the OS user running it, whatever $USER says.
ME="cli:$(id -un)"
cli() { env -u SUDO_USER USER=mallory "$LW_BIN" incidents -d "$LW_DATA" "$@"; }
cli close "$ROOT" --actor yamada --note "closed from the shell" >/dev/null || fail "CLI close"
cli close "$ROOT" >/dev/null 2>&1 && fail "closing a closed incident from the CLI succeeded"
cli ack 99999 >/dev/null 2>&1 && fail "acknowledging a missing incident from the CLI succeeded"
expect_eq "$(inc show "$ROOT" --output json | jq -r '.history[-1] | .status + " " + .actor + " " + .note')" \
	"closed yamada closed from the shell" "CLI close in the incident's history"
expect_eq "$(as boss GET '/api/v1/audit?limit=3')" 200 "audit after the CLI's changes"
expect_eq "$(jq -c '[.audit[] | [.actor, .address, .action, .target, .status, .result, .detail]]' "$BODY")" \
	"$(jq -nc --arg me "$ME" --arg t "incident:$ROOT" '[
		[$me, "local", "incident.ack", "incident:99999", 404, "failed", "no incident 99999"],
		[$me, "local", "incident.close", $t, 409, "failed", "incident '"$ROOT"' is already closed"],
		[$me, "local", "incident.close", $t, 200, "ok", "as yamada: closed from the shell"]]')" \
	"the CLI's changes in the console's audit trail, newest first"
L audit -d "$LW_DATA" list --limit 3 --output json > "$LW_TMP/audit-cli.json"
expect_eq "$(jq -s -c '[.[] | .actor + " " + .action + " " + (.status | tostring)]' "$LW_TMP/audit-cli.json")" \
	"[\"$ME incident.ack 404\",\"$ME incident.close 409\",\"$ME incident.close 200\"]" \
	"the CLI's changes in logward audit list"
lw_stop
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify after the console's writes"
