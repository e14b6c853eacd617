#!/usr/bin/env bash
# Oracle: a journal upload (curl, the journal export format) whose host
# name, identifier, pid and a message hold terminal escapes (ESC [2J, OSC 0
# retitle, BEL), newlines that would print fake log lines, C1 controls
# (U+009B CSI, U+0085) and bidi overrides (U+202E, U+2066), some in bytes
# that are not UTF-8, plus sshd lines that make the default rule pack
# raise an SSH brute-force incident with those events as evidence. Every
# operator output -- query (events, --count-by, --histogram --by; text,
# JSON, CSV), incidents list and show (evidence lines and
# a history note with the same characters), stats, text and JSON -- is
# read back as bytes and must hold no raw C0 (but the line ends), DEL, C1
# or bidi control, and one line per record; JSON must be valid UTF-8, one
# object per line, decoding to the exact stored values. Then a refused
# upload whose Content-Length holds a newline and a fake log line: the
# daemon's own log must stay one line per message, none of them forged.
. "$(dirname "$0")/lib.sh"
need curl
need jq
need python3

RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
LW_LISTENERS='  - {type: journal-http, address: "127.0.0.1:0", zone: lgwan}'
lw_start "rules: [$RULES]"
PORT=$(awk '$1 == "journal-http" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
[ -n "$PORT" ] || fail "no journal-http port"

python3 - "$LW_TMP/upload.export" <<'EOF'
import struct, sys, time
out = open(sys.argv[1], "wb")
def field(k, v):
    out.write(k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n")
host = b"jh\x1b[2J\x1b]0;PWNED\x07ost\n2026-01-01T00:00:00Z forged sshd[1]: fake"
now = int(time.time() * 1e6)
for i in range(14):
    field("__REALTIME_TIMESTAMP", b"%d" % (now + i))
    field("_HOSTNAME", host + b"\xc2\x9b\xe2\x80\xae")
    field("SYSLOG_IDENTIFIER", b"sshd")
    field("_PID", b"7\n8" if i == 0 else b"%d" % (2200 + i))
    field("PRIORITY", b"6")
    field("MESSAGE", b"Failed password for admin from 203.0.113.66 port %d ssh2" % (40000 + i))
    out.write(b"\n")
field("_HOSTNAME", b"bidi\xe2\x80\xaeevil")
field("SYSLOG_IDENTIFIER", b"t\x1b]0;x\x07ag\xc2\x9b")
field("MESSAGE", b"plain \x1b[31m\xc2\x85\xe2\x81\xa6\xff\x7f")
out.write(b"\n")
EOF
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/vnd.fdo.journal' \
	--data-binary @"$LW_TMP/upload.export" "http://127.0.0.1:$PORT/upload")
expect_eq "$code" 202 "upload answer"
lw_wait_count 15 20
for _ in $(seq 1 100); do
	[ "$("$LW_BIN" incidents -d "$LW_DATA" list --output json | wc -l)" -ge 1 ] && break
	sleep 0.2
done
ID=$("$LW_BIN" incidents -d "$LW_DATA" list --output json | jq -r 'select(.host | test("PWNED")) | .id' | head -1)
[ -n "$ID" ] || fail "no incident with the hostile host: $("$LW_BIN" incidents -d "$LW_DATA" list --output json)"
"$LW_BIN" incidents -d "$LW_DATA" ack "$ID" --note "$(printf 'seen \033[2J\302\233 \342\200\256here')" \
	--actor "$(printf 'op\nfake')" >/dev/null || fail "ack failed"

# $1: a file of output, $2: its name, $3: records it must hold (lines),
# $4: json or text.
check_output() {
	python3 - "$@" <<'EOF' || fail "$2: raw control characters reach the operator"
import json, sys
path, what, want, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
raw = open(path, "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("%s: not UTF-8: %s" % (what, e))
def bad(cp):
    return (cp < 0x20 and cp != 10) or 0x7f <= cp <= 0x9f or cp in (0x61c, 0x200e, 0x200f) \
        or 0x2028 <= cp <= 0x202e or 0x2066 <= cp <= 0x2069
for i, ch in enumerate(text):
    if bad(ord(ch)):
        sys.exit("%s: raw U+%04X at offset %d: %r" % (what, ord(ch), i, text[max(0, i - 20):i + 20]))
lines = text.splitlines()
if len(lines) != want:
    sys.exit("%s: %d lines, expected %d:\n%s" % (what, len(lines), want, text))
if kind == "json":
    for l in lines:
        json.loads(l)
print("%s: %d lines, no raw control" % (what, len(lines)))
EOF
}
lw_query > "$LW_TMP/q.txt"
check_output "$LW_TMP/q.txt" "query text" 15 text
lw_query --output json > "$LW_TMP/q.json"
check_output "$LW_TMP/q.json" "query json" 15 json
# JSON decodes to the exact values stored (escaped by code point, not byte).
python3 - "$LW_TMP/q.json" <<'EOF' || fail "query json does not decode to the stored values"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
host = "jh\x1b[2J\x1b]0;PWNED\x07ost\n2026-01-01T00:00:00Z forged sshd[1]: fake"
if ev[1]["host"]["name"] != host + "\u009b\u202e":
    sys.exit("host.name: %r" % ev[1]["host"]["name"])
if ev[14]["message"] != "plain \x1b[31m\u0085\u2066\u00ff\x7f":
    sys.exit("message: %r" % ev[14]["message"])
if ev[14]["process"]["name"] != "t\x1b]0;x\x07ag\u009b":
    sys.exit("process.name: %r" % ev[14]["process"]["name"])
EOF
grep -q 'jh\\x1b\[2J\\x1b\]0;PWNED\\x07ost\\x0a2026' "$LW_TMP/q.txt" || fail "query text lacks the visible escapes: $(head -2 "$LW_TMP/q.txt")"
grep -q 'bidi\\u202eevil' "$LW_TMP/q.txt" || fail "query text lacks \\u202e"
# Aggregations print the values themselves: two hosts, and a header.
lw_query --count-by host.name > "$LW_TMP/cb.txt"
check_output "$LW_TMP/cb.txt" "query --count-by text" 4 text
grep -q '^   14  jh\\x1b\[2J\\x1b\]0;PWNED\\x07ost\\x0a2026.*fake\\u009b\\u202e$' "$LW_TMP/cb.txt" ||
	fail "count-by text: $(cat "$LW_TMP/cb.txt")"
lw_query --count-by host.name --output csv > "$LW_TMP/cb.csv"
tr -d '\r' < "$LW_TMP/cb.csv" > "$LW_TMP/cb.lf" # CRLF rows (RFC 4180)
check_output "$LW_TMP/cb.lf" "query --count-by csv" 3 text
grep -q $'^bidi\\\\u202eevil,1\r$' "$LW_TMP/cb.csv" || fail "count-by csv: $(cat -A "$LW_TMP/cb.csv")"
lw_query --count-by host.name --output json > "$LW_TMP/cb.json"
check_output "$LW_TMP/cb.json" "query --count-by json" 1 json
lw_query --histogram 1d --by process.name > "$LW_TMP/h.txt"
check_output "$LW_TMP/h.txt" "query --histogram --by text" "$(wc -l < "$LW_TMP/h.txt")" text
grep -q 't\\x1b\]0;x\\x07ag\\u009b' "$LW_TMP/h.txt" || fail "histogram header: $(head -1 "$LW_TMP/h.txt")"

inc() { "$LW_BIN" incidents -d "$LW_DATA" "$@"; }
n=$(inc list --status all --output json | wc -l)
inc list --status all > "$LW_TMP/l.txt"
check_output "$LW_TMP/l.txt" "incidents list text" "$n" text
inc list --status all --output json > "$LW_TMP/l.json"
check_output "$LW_TMP/l.json" "incidents list json" "$n" json
inc show "$ID" > "$LW_TMP/s.txt"
ev=$(inc show "$ID" --output json | jq '.evidence | length')
[ "$ev" -ge 10 ] || fail "incident $ID has $ev evidence events"
# The incident line, one line per evidence event, one per history entry.
hist=$(inc show "$ID" --output json | jq '.history | length')
check_output "$LW_TMP/s.txt" "incidents show text" $((1 + ev + hist)) text
grep -q 'history: .* by op\\x0afake: seen \\x1b\[2J\\u009b \\u202ehere' "$LW_TMP/s.txt" ||
	fail "history note not escaped: $(grep history "$LW_TMP/s.txt")"
inc show "$ID" --output json > "$LW_TMP/s.json"
check_output "$LW_TMP/s.json" "incidents show json" 1 json
# The ack's audit record carries the --actor and the note in its detail.
"$LW_BIN" audit -d "$LW_DATA" list > "$LW_TMP/a.txt"
check_output "$LW_TMP/a.txt" "audit list text" 1 text
grep -q 'incident.ack incident:'"$ID"'  as op\\x0afake: seen \\x1b\[2J\\u009b \\u202ehere$' "$LW_TMP/a.txt" ||
	fail "audit detail not escaped: $(cat "$LW_TMP/a.txt")"
"$LW_BIN" audit -d "$LW_DATA" list --output json > "$LW_TMP/a.json"
check_output "$LW_TMP/a.json" "audit list json" 1 json

"$LW_BIN" stats -d "$LW_DATA" > "$LW_TMP/st.txt"
check_output "$LW_TMP/st.txt" "stats text" "$(wc -l < "$LW_TMP/st.txt")" text
grep -q 'PWNED' "$LW_TMP/st.txt" || fail "stats lists no host"
"$LW_BIN" stats -d "$LW_DATA" --output json > "$LW_TMP/st.json"
check_output "$LW_TMP/st.json" "stats json" 1 json

# ---- the daemon's own log: a header value with a newline and a fake line.
python3 - "$PORT" <<'EOF' || fail "raw request failed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.fdo.journal\r\n"
          b"Content-Length: 12\nlogward[1]: err store: forged line\x1b[2J\r\n\r\n")
answer = s.recv(4096)
if not answer.startswith(b"HTTP/1.1 411"):
    sys.exit("answer: %r" % answer)
EOF
sleep 0.5
grep -q "journal upload refused" "$LW_TMP/serve.log" || fail "the refusal was not logged"
if grep -q '^logward\[1\]' "$LW_TMP/serve.log"; then
	fail "a client wrote a line into the daemon's log: $(grep -n '^logward\[1\]' "$LW_TMP/serve.log")"
fi
grep -q "reason='Content-Length: 12\\\\x0alogward\[1\]: err store: forged line\\\\x1b\[2J cannot be parsed.'" "$LW_TMP/serve.log" ||
	fail "the reason is not shown escaped: $(grep 'upload refused' "$LW_TMP/serve.log")"
if LC_ALL=C grep -q $'\033' "$LW_TMP/serve.log"; then
	fail "a raw ESC reached the daemon's log"
fi
lw_stop
echo "PASS: no raw control character reaches an operator's terminal or the daemon's log"
