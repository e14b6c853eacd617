#!/usr/bin/env bash
# Oracle: systemd's own tools (Debian's systemd-journal-remote package, not
# ours). systemd-journal-remote turns export data (vectors written here,
# plus systemd's test files from $LW_SHARED_CORPUS when present) into
# journal files; systemd-journal-upload sends them to the journal-http
# listener; journalctl reads the same files back as JSON, and every entry
# must be stored exactly once with the right fields (matched by cursor).
# Then: a malformed body gets a 400 with a reason and the entries before
# the fault are stored; a cut-off body gets a 417; `ingest --format
# journal-export` and `--format journal-json` store the same entries, and
# a cut-off input exits non-zero keeping the entries before it.
. "$(dirname "$0")/lib.sh"
need jq
need python3
need curl
need journalctl
REMOTE=/lib/systemd/systemd-journal-remote
UPLOAD=/lib/systemd/systemd-journal-upload
[ -x "$REMOTE" ] && [ -x "$UPLOAD" ] || skip "systemd-journal-remote package is not installed"

# ---- our vectors: 40 entries, text and binary fields, multi-line messages
python3 - "$LW_TMP/own.export" <<'EOF'
import struct, sys
out = open(sys.argv[1], "wb")
def text(k, v): out.write(k.encode() + b"=" + v.encode() + b"\n")
def binary(k, v): out.write(k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n")
for i in range(40):
    text("__REALTIME_TIMESTAMP", str(1700000000000000 + i * 1000003))
    text("__MONOTONIC_TIMESTAMP", str(5000000 + i))
    text("_BOOT_ID", "0123456789abcdef0123456789abcdef")
    text("_HOSTNAME", "jhost%d" % (i % 4))
    text("_TRANSPORT", "journal")
    text("_SYSTEMD_UNIT", "ssh.service" if i % 5 == 0 else "cron.service")
    text("_PID", str(1000 + i))
    text("_COMM", "comm%d" % i)
    if i % 3 != 0:
        text("SYSLOG_IDENTIFIER", "ident%d" % (i % 7))
    text("PRIORITY", str(i % 8))
    text("SYSLOG_FACILITY", str(i % 24))
    if i % 2:
        binary("MESSAGE", b"line one of %d\n\nline three\n" % i)
    else:
        text("MESSAGE", "Accepted publickey for user%d from 10.20.0.%d" % (i, i))
    binary("BLOB", b"a\n\nb\x01")
    out.write(b"\n")
EOF

journals=()
"$REMOTE" -o "$LW_TMP/own.journal" "$LW_TMP/own.export" 2>"$LW_TMP/remote.log" ||
	fail "systemd-journal-remote rejected our export data: $(cat "$LW_TMP/remote.log")"
journals+=("$LW_TMP/own.journal")
CORPUS="${LW_SHARED_CORPUS:-}/systemd-journal-export"
if [ -n "${LW_SHARED_CORPUS:-}" ] && [ -d "$CORPUS" ]; then
	# journal-2.txt is an entry cut off on purpose: tested below.
	for f in spec-example-text.export spec-example-binary.export journal-1.txt; do
		"$REMOTE" -o "$LW_TMP/corpus-${f%%.*}.journal" "$CORPUS/$f" 2>>"$LW_TMP/remote.log" ||
			fail "systemd-journal-remote rejected $f"
		journals+=("$LW_TMP/corpus-${f%%.*}.journal")
	done
else
	echo "NOTE: \$LW_SHARED_CORPUS/systemd-journal-export absent: systemd's test files skipped, own vectors only" >&2
fi

# What journalctl (the oracle) reads from those files.
: > "$LW_TMP/expected.json"
for j in "${journals[@]}"; do
	journalctl --file "$j" -o json --all >> "$LW_TMP/expected.json"
done
want=$(wc -l < "$LW_TMP/expected.json")
[ "$want" -ge 40 ] || fail "journalctl read only $want entries"

# Our vectors (2023) and systemd's test files are older than the default
# max_age (400d), on purpose: max_age counts from arrival, so they must be
# kept (docs/storage.md). The default storage settings stay.
printf 'max_clock_skew: 300s\n' > "$LW_TMP/keep.yml" # defaults, for ingest
LW_LISTENERS='  - {type: journal-http, address: "127.0.0.1:0", zone: mynumber, max_message_size: 64KiB}'
lw_start "queue_batches: 2
batch_events: 256"
PORT=$(awk '$1 == "journal-http" {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports")
[ -n "$PORT" ] || fail "no journal-http port in the ports file"

for j in "${journals[@]}"; do
	timeout 60 "$UPLOAD" --follow=no --url="http://127.0.0.1:$PORT" --file="$j" \
		>>"$LW_TMP/upload.log" 2>&1 || fail "systemd-journal-upload $j failed: $(tail -3 "$LW_TMP/upload.log")"
done
lw_wait_count "$want" 30

# ---- every entry stored once, with the right fields
check_store() { # $1: stored events JSON lines, $2: what to call them
	python3 - "$LW_TMP/expected.json" "$1" "$2" <<'EOF'
import json, sys, datetime
exp = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
what = sys.argv[3]
def val(v):
    if isinstance(v, list) and v and isinstance(v[0], int):
        return bytes(v).decode("utf-8", "surrogateescape")
    return v
by_cursor = {}
for g in got:
    c = g.get("journald", {}).get("__CURSOR")
    if c in by_cursor:
        sys.exit("%s: cursor %s stored twice" % (what, c))
    by_cursor[c] = g
if len(got) != len(exp):
    sys.exit("%s: %d events stored, journalctl has %d" % (what, len(got), len(exp)))
for e in exp:
    g = by_cursor.get(e["__CURSOR"])
    if g is None:
        sys.exit("%s: entry %s not stored" % (what, e["__CURSOR"]))
    def check(name, have, want):
        if have != want:
            sys.exit("%s: %s: %s is %r, expected %r" % (what, e["__CURSOR"], name, have, want))
    us = int(e["__REALTIME_TIMESTAMP"])
    ts = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    check("@timestamp", g["@timestamp"], ts.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000))
    check("message", g.get("message", ""), val(e.get("MESSAGE", "")))
    check("host.name", g.get("host", {}).get("name"), e.get("_HOSTNAME"))
    check("process.name", g.get("process", {}).get("name"),
          e.get("SYSLOG_IDENTIFIER", e.get("_COMM")))
    if "_PID" in e:
        check("process.pid", g["process"]["pid"], int(e["_PID"]))
    sl = g.get("log", {}).get("syslog", {})
    if "PRIORITY" in e:
        check("severity", sl["severity"]["code"], int(e["PRIORITY"]))
    if "SYSLOG_FACILITY" in e:
        check("facility", sl["facility"]["code"], int(e["SYSLOG_FACILITY"]))
    check("labels.zone", g["labels"]["zone"], "mynumber")
    jd = g.get("journald", {})
    mapped = {"__REALTIME_TIMESTAMP", "_HOSTNAME", "SYSLOG_IDENTIFIER", "_PID",
              "PRIORITY", "SYSLOG_FACILITY", "MESSAGE"}
    for k, v in e.items():
        if k in mapped or isinstance(v, list) and v and not isinstance(v[0], int):
            continue  # repeated fields: JSON output keeps one key
        check("journald." + k, jd.get(k), val(v))
print("%s: %d entries match journalctl" % (what, len(exp)))
EOF
}
lw_query --output json > "$LW_TMP/stored.json"
check_store "$LW_TMP/stored.json" "upload" || fail "uploaded entries differ"
[[ "$(jq -r '.log.source.address' "$LW_TMP/stored.json" | sort -u | head -1)" == 127.0.0.1:* ]] ||
	fail "log.source.address is not the uploader's"

# query --field reaches journald.* extra fields; exact counts.
expect_eq "$(lw_count --field journald._SYSTEMD_UNIT=ssh.service)" 8 "--field journald._SYSTEMD_UNIT=ssh.service"
expect_eq "$(lw_count --field journald._SYSTEMD_UNIT=cron.service --host jhost1)" 8 "cron.service on jhost1"
expect_eq "$(lw_count --field journald._TRANSPORT=journal --app ident3)" \
	"$(jq -s '[.[] | select(.SYSLOG_IDENTIFIER == "ident3")] | length' "$LW_TMP/expected.json")" "--app ident3"
expect_eq "$(lw_count --grep 'line three')" 20 "binary multi-line MESSAGE"

# ---- streaming: a --follow upload never ends its body, yet its entries
# are stored while it is open.
before=$(lw_count)
"$UPLOAD" --follow=yes --url="http://127.0.0.1:$PORT" --file="$LW_TMP/own.journal" \
	>>"$LW_TMP/upload.log" 2>&1 &
FOLLOW_PID=$!
lw_wait_count $((before + 40)) 30
kill -0 "$FOLLOW_PID" 2>/dev/null || fail "the --follow upload ended by itself"
kill "$FOLLOW_PID"
wait "$FOLLOW_PID" 2>/dev/null || true

# ---- bulk: 20,000 entries in one chunked body through 2 small batches
# (queue_batches: 2, batch_events: 256): backpressure, nothing lost.
python3 - "$LW_TMP/bulk.export" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        f.write("__REALTIME_TIMESTAMP=%d\n_HOSTNAME=bulk\nSYSLOG_IDENTIFIER=b%d\n"
                "_SYSTEMD_UNIT=bulk.service\nMESSAGE=bulk entry %d\n\n"
                % (1700000000000000 + i, i % 10, i))
PY
before=$(lw_count)
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/vnd.fdo.journal' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$LW_TMP/bulk.export" "http://127.0.0.1:$PORT/upload")
expect_eq "$code" 202 "bulk upload"
lw_wait_count $((before + 20000)) 60
expect_eq "$(lw_count --host bulk)" 20000 "bulk entries stored"
expect_eq "$(lw_count --field journald._SYSTEMD_UNIT=bulk.service --grep 'bulk entry 1999$')" 1 "one bulk entry"

# ---- a malformed body: 400 with the reason; the entries before it stored
before=$(lw_count)
printf 'MESSAGE=good one\n_HOSTNAME=badbody\n\nMESSAGE=good two\n_HOSTNAME=badbody\n\nMESSAGE=x\nnot a field\n\nMESSAGE=after\n_HOSTNAME=badbody\n\n' > "$LW_TMP/bad.export"
code=$(curl -sS -o "$LW_TMP/bad.answer" -w '%{http_code}' -H 'Content-Type: application/vnd.fdo.journal' \
	--data-binary @"$LW_TMP/bad.export" "http://127.0.0.1:$PORT/upload")
expect_eq "$code" 400 "malformed body status"
grep -q "Malformed journal entry: invalid character 0x6e in a field name (byte 82)" "$LW_TMP/bad.answer" ||
	fail "malformed body answer: $(cat "$LW_TMP/bad.answer")"
lw_wait_count $((before + 2)) 20
expect_eq "$(lw_count --host badbody)" 2 "entries before the fault"

# A body cut inside an entry: 417, as systemd-journal-remote answers.
printf 'MESSAGE=whole\n_HOSTNAME=cutbody\n\nMESSAGE=cut\n_HOSTNAME=cutbody\n' > "$LW_TMP/cut.export"
code=$(curl -sS -o "$LW_TMP/cut.answer" -w '%{http_code}' -H 'Content-Type: application/vnd.fdo.journal' \
	-H 'Transfer-Encoding: chunked' --data-binary @"$LW_TMP/cut.export" "http://127.0.0.1:$PORT/upload")
expect_eq "$code" 417 "cut-off body status"
grep -q "^Premature EOF. entry cut off at end of stream: 30 bytes not stored" "$LW_TMP/cut.answer" ||
	fail "cut-off answer: $(cat "$LW_TMP/cut.answer")"
# Wrong content type, as systemd-journal-remote answers.
code=$(curl -sS -o "$LW_TMP/ct.answer" -w '%{http_code}' -H 'Content-Type: text/plain' \
	--data-binary @"$LW_TMP/cut.export" "http://127.0.0.1:$PORT/upload")
expect_eq "$code" 415 "wrong content type"
expect_eq "$(cat "$LW_TMP/ct.answer")" "Content-Type: application/vnd.fdo.journal is required." "415 body"
lw_wait_count $((before + 3)) 20
lw_stop
expect_eq "$(lw_count --host cutbody)" 1 "the whole entry of a cut-off body"
"$LW_BIN" verify -d "$LW_DATA" >/dev/null || fail "verify failed"

# ---- ingest: journalctl's export and JSON output of the same files
: > "$LW_TMP/all.export"
: > "$LW_TMP/all.jsonl"
for j in "${journals[@]}"; do
	journalctl --file "$j" -o export >> "$LW_TMP/all.export"
	journalctl --file "$j" -o json --all >> "$LW_TMP/all.jsonl"
done
"$LW_BIN" ingest -q -c "$LW_TMP/keep.yml" -d "$LW_TMP/ing-export" --zone mynumber --format journal-export - < "$LW_TMP/all.export" ||
	fail "ingest --format journal-export failed"
"$LW_BIN" query -d "$LW_TMP/ing-export" --output json > "$LW_TMP/ing-export.json"
check_store "$LW_TMP/ing-export.json" "ingest journal-export" || fail "ingest journal-export differs"
"$LW_BIN" ingest -q -c "$LW_TMP/keep.yml" -d "$LW_TMP/ing-json" --zone mynumber --format journal-json "$LW_TMP/all.jsonl" ||
	fail "ingest --format journal-json failed"
"$LW_BIN" query -d "$LW_TMP/ing-json" --output json > "$LW_TMP/ing-json.json"
check_store "$LW_TMP/ing-json.json" "ingest journal-json" || fail "ingest journal-json differs"

# A cut-off final entry: reported, exit 1, the entries before it kept.
rc=0
head -c -5 "$LW_TMP/all.export" | "$LW_BIN" ingest -q -c "$LW_TMP/keep.yml" -d "$LW_TMP/ing-cut" --format journal-export - \
	2>"$LW_TMP/ing-cut.err" || rc=$?
expect_eq "$rc" 1 "ingest exit status for a cut-off entry"
grep -q "entry cut off at end of stream" "$LW_TMP/ing-cut.err" || fail "no cut-off report: $(cat "$LW_TMP/ing-cut.err")"
expect_eq "$("$LW_BIN" query -d "$LW_TMP/ing-cut" --output json | wc -l)" $((want - 1)) "entries before the cut"
if [ -n "${LW_SHARED_CORPUS:-}" ] && [ -f "$CORPUS/journal-2.txt" ]; then
	rc=0
	"$LW_BIN" ingest -q -c "$LW_TMP/keep.yml" -d "$LW_TMP/ing-j2" --format journal-export "$CORPUS/journal-2.txt" 2>/dev/null || rc=$?
	expect_eq "$rc" 1 "systemd's journal-2.txt (cut-off entry)"
fi
echo "ok: $want entries uploaded by systemd-journal-upload and ingested (export, JSON) match journalctl"
