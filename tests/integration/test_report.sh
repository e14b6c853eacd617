#!/usr/bin/env bash
# `logward report` over a store holding everything an auditor looks for,
# built with the real binary: a retention deletion (2020 events deleted
# by max_age), three sources of which one falls silent and one has a
# 10 h gap, three clock-skewed events, SSH brute force incidents (two
# closed as false positives, one acknowledged, from the CLI), audit
# records (those four changes and a `user add`), and a dropped-UDP episode (serve stopped with SIGSTOP
# while logward-bench sends 50,000 datagrams).
# Oracle: each number the report shows equals what `query --count`,
# `stats`, `incidents list` and `verify` say, and the generated ones
# (events per source, the gap's bounds) equal what was written. Checked
# in the HTML (table rows read back with Python's HTML parser) and in
# the PDF (pdftotext); the PDF's pages are kept as PNG (pdftoppm) in
# $LW_BUILD_DIR/report-artifacts/.
# labels: slow
. "$(dirname "$0")/lib.sh"
need jq
need pdftotext
need pdftoppm
need python3
BENCH="${LW_BUILD_DIR:?}/logward-bench"
[ -x "$BENCH" ] || skip "logward-bench not built"
RULES="$(cd "$(dirname "$0")/../../rules" && pwd)"
ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
tsr() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000Z; } # as the report prints times

now=$(date -u +%s)
base=$(( (now / 3600 - 48) * 3600 ))
cat > "$LW_TMP/report.yml" <<YAML
data_dir: $LW_DATA
timezone: UTC
rules: [$RULES]
storage: {max_age: 1d}
listeners:
  - {type: udp, address: "127.0.0.1:0", zone: internet}
zones:
  mynumber: [10.10.0.0/16]
YAML
ingest() { "$LW_BIN" ingest -c "$LW_TMP/report.yml" "$@" 2>>"$LW_TMP/ingest.err" || fail "ingest $*: $(tail -5 "$LW_TMP/ingest.err")"; }

# --- a retention deletion: 20 events of 2020, deleted by max_age -------
for i in $(seq 1 20); do
	printf '<38>1 2020-03-01T10:%02d:00Z fs1 cron %d - - job %d done\n' "$i" "$i" "$i"
done > "$LW_TMP/old.log"
ingest --zone lgwan "$LW_TMP/old.log"
sed -i 's/max_age: 1d/max_age: 2s/' "$LW_TMP/report.yml"
sleep 3

# --- sources (every 10 minutes; times relative to now) -----------------
# kw-web1: base .. now-10m, no gap; kw-web2: the same with nothing from
# base+6h to base+16h; kw-mndb: base .. base+10h, then silent.
w1=0; w2=0; m1=0
: > "$LW_TMP/lgwan.log"; : > "$LW_TMP/mynumber.log"
for ((t = base; t <= now - 600; t += 600)); do
	printf '<30>1 %s kw-web1 cron - - - tick\n' "$(ts $t)" >> "$LW_TMP/lgwan.log"; w1=$((w1 + 1))
	if ((t < base + 6 * 3600 || t >= base + 16 * 3600)); then
		printf '<30>1 %s kw-web2 cron - - - tick\n' "$(ts $t)" >> "$LW_TMP/lgwan.log"; w2=$((w2 + 1))
	fi
	if ((t < base + 10 * 3600)); then
		printf '<30>1 %s kw-mndb cron - - - tick\n' "$(ts $t)" >> "$LW_TMP/mynumber.log"; m1=$((m1 + 1))
	fi
done
# SSH brute force against kw-web1 from three addresses (10 failures each,
# one hour apart): one incident per address, plus "login attempt as root".
for k in 1 2 3; do
	ip=203.0.113.$((k * 10)); user=$([ $k = 1 ] && echo root || echo "user$k")
	for i in $(seq 0 9); do
		printf '<38>1 %s kw-web1 sshd %d - - Failed password for %s from %s port %d ssh2\n' \
			"$(ts $((base + k * 3600 + i * 5)))" $((100 + i)) "$user" "$ip" $((40000 + i))
	done
done > "$LW_TMP/attack.log"
w1=$((w1 + 30))
# this ingest's commit runs retention: the 2020 segment is deleted
ingest --zone lgwan "$LW_TMP/lgwan.log" "$LW_TMP/attack.log"
grep -q "retention deleted segments; segments='1' events='20'" "$LW_TMP/ingest.err" ||
	fail "no retention deletion: $(cat "$LW_TMP/ingest.err")"
sed -i 's/max_age: 2s/max_age: 400d/' "$LW_TMP/report.yml"
ingest --zone mynumber "$LW_TMP/mynumber.log"
# kw-skew: 3 events stamped 47 h before they arrive, clock checked
for i in 1 2 3; do
	printf '<30>1 %s kw-skew app - - - late %d\n' "$(ts $((base + 3600 + i)))" $i
done > "$LW_TMP/skew.log"
ingest --zone lgwan --check-clock "$LW_TMP/skew.log"

# --- operators: two false positives, one acknowledged, a user added -----
brute() { "$LW_BIN" incidents -d "$LW_DATA" list --status all --output json |
	jq -r --arg ip "$1" 'select(.group["source.ip"] == $ip) | .id'; }
id1=$(brute 203.0.113.10); id2=$(brute 203.0.113.20); id3=$(brute 203.0.113.30)
[ -n "$id1" ] && [ -n "$id2" ] && [ -n "$id3" ] || fail "brute force incidents: $("$LW_BIN" incidents -d "$LW_DATA" list --status all)"
"$LW_BIN" incidents -d "$LW_DATA" close "$id1" --note "誤検知: 監視スクリプト" >/dev/null
"$LW_BIN" incidents -d "$LW_DATA" ack "$id2" >/dev/null
"$LW_BIN" incidents -d "$LW_DATA" close "$id2" --note "false positive (backup job)" >/dev/null
"$LW_BIN" incidents -d "$LW_DATA" ack "$id3" --note "調査中" >/dev/null
echo 'a long enough password 1' | "$LW_BIN" user -d "$LW_DATA" add auditor --role viewer --password-stdin >/dev/null ||
	fail "user add"

# --- a dropped-UDP episode (as test_udp_drops.sh) ------------------------
LW_STORAGE="max_age: 400d" LW_LISTENERS='  - {type: udp, address: "127.0.0.1:0", zone: internet}' lw_start
kill -STOP "$LW_PID"
trap '[ -z "$LW_PID" ] || kill -CONT "$LW_PID" 2>/dev/null || true; lw_cleanup' EXIT
"$BENCH" --udp "127.0.0.1:$LW_UDP_PORT" -n 50000 -c 1 --json > "$LW_TMP/send.json" || fail "sender failed"
kill -CONT "$LW_PID"
lw_stop
dropped_kernel=$(lw_counter dropped_kernel)
[ "$dropped_kernel" -gt 0 ] || fail "no kernel drops: the episode did not happen"

# --- the oracles ---------------------------------------------------------
from=$(ts $base); to=$(ts $(($(date -u +%s) + 60)))
count() { "$LW_BIN" query -d "$LW_DATA" --since "$from" --until "$to" --count "$@"; }
total=$(count)
lgwan=$(count -q 'labels.zone:lgwan'); mynumber=$(count -q 'labels.zone:mynumber')
internet=$(count -q 'labels.zone:internet')
expect_eq "$lgwan" $((w1 + w2 + 3)) "lgwan events written"
expect_eq "$mynumber" "$m1" "mynumber events written"
expect_eq "$((lgwan + mynumber + internet))" "$total" "zones add up"
# the incidents whose events overlap the period (not fs1's of 2020)
incidents=$("$LW_BIN" incidents -d "$LW_DATA" list --status all --output json |
	jq -c --arg from "$from" --arg to "$to" 'select(.last_seen >= $from and .first_seen < $to)')
n_inc=$(jq -s length <<<"$incidents")
n_open=$(jq -s '[.[] | select(.status == "open")] | length' <<<"$incidents")
n_ack=$(jq -s '[.[] | select(.status == "acknowledged")] | length' <<<"$incidents")
n_closed=$(jq -s '[.[] | select(.status == "closed")] | length' <<<"$incidents")
expect_eq "$n_closed" 2 "closed incidents"
verify=$("$LW_BIN" verify -d "$LW_DATA") || fail "verify: $verify"
v_segments=$(sed -n 's/^ok: \([0-9]*\) segments, \([0-9]*\) events.*/\1/p' <<<"$verify")
v_events=$(sed -n 's/^ok: \([0-9]*\) segments, \([0-9]*\) events.*/\2/p' <<<"$verify")
stats=$("$LW_BIN" stats -d "$LW_DATA" --output json)
deleted=$(jq -r .retention.deleted_events <<<"$stats")
expect_eq "$deleted" 20 "retention deleted"
dropped_udp=$(jq -r .counters.dropped_udp <<<"$stats")

# --- the report ----------------------------------------------------------
# --now 8 days on: the incidents left open count as open too long.
later=$(ts $((now + 8 * 86400)))
report() { "$LW_BIN" report -c "$LW_TMP/report.yml" --from "$from" --to "$to" --now "$later" \
	--fp-threshold 2 "$@" 2> "$LW_TMP/report.err" || fail "report $*: $(cat "$LW_TMP/report.err")"; }
report -o "$LW_TMP/r.html"
report -o "$LW_TMP/r.pdf"
report --lang en -o "$LW_TMP/r-en.html"
# HTML table rows as tab-separated lines, other text as it is
rows() {
	python3 - "$1" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.cells = None; s.cell = None; s.out = []; s.skip = 0
    def handle_starttag(s, t, a):
        if t in ("style", "svg"): s.skip += 1
        if t == "tr": s.cells = []
        if t in ("td", "th"): s.cell = ""
    def handle_endtag(s, t):
        if t in ("style", "svg"): s.skip -= 1
        if t in ("td", "th"): s.cells.append(s.cell); s.cell = None
        if t == "tr": s.out.append("\t".join(s.cells)); s.cells = None
    def handle_data(s, d):
        if s.skip: return
        if s.cell is not None: s.cell += d
        elif s.cells is None and d.strip(): s.out.append(d.strip())
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); print("\n".join(p.out))
PY
}
rows "$LW_TMP/r.html" > "$LW_TMP/r.txt"
rows "$LW_TMP/r-en.html" > "$LW_TMP/r-en.txt"
row() { grep -qxF -- "$(printf '%s\t' "${@:2}" | sed 's/\t$//')" "$1" ||
	fail "no row '${*:2}' in $1: $(grep -F -- "$2" "$1" | head -5)"; }
R="$LW_TMP/r.txt"; E="$LW_TMP/r-en.txt"
row "$R" "期間内のイベント数" "$total"
row "$R" lgwan "$lgwan"; row "$R" mynumber "$mynumber"; row "$R" internet "$internet"
row "$R" "合計" "$total"
row "$E" "Events in the period" "$total"
# sources: exact counts, first/last, the gap, silence, skew
row "$R" kw-web1 lgwan "$w1" "$(tsr $base)" "$(tsr $((base + (w1 - 31) * 600)))" 0 ""
row "$R" kw-mndb mynumber "$m1" "$(tsr $base)" "$(tsr $((base + (m1 - 1) * 600)))" 0 "あり"
row "$R" kw-web2 "$(tsr $((base + 6 * 3600 - 600)))" "$(tsr $((base + 16 * 3600)))" "10h 10m"
row "$R" kw-skew 3
grep -q "^期間の終わりに停止していた送信元 ([0-9]*): .*kw-mndb" "$R" || fail "kw-mndb not silent: $(grep 停止 "$R")"
grep "^期間の終わりに停止していた送信元" "$R" | grep -q "kw-web1" && fail "kw-web1 reported silent"
grep -qx "期間内にログの途絶があった送信元 (1): kw-web2" "$R" || fail "gap finding: $(grep 途絶 "$R")"
grep -qx "時刻がずれている送信元 (1): kw-skew" "$R" || fail "skew finding"
# losses as stats has them
row "$R" dropped_kernel "$dropped_kernel" "受信バッファ溢れでカーネルが破棄したデータグラム"
row "$R" dropped_udp "$dropped_udp" "キューが満杯のため破棄した UDP データグラム"
grep -q "^欠損・拒否が記録されている: .*dropped_kernel=$dropped_kernel" "$R" || fail "loss finding"
# integrity as verify and stats have them
row "$R" "検証 (logward verify) の結果" "正常: 改ざん・欠落は検出されませんでした"
row "$R" "検証したセグメント" "$v_segments"
row "$R" "イベント数" "$v_events"
row "$R" "削除されたイベント" 20
row "$R" "削除されたセグメント" "1-1 (1)"
grep -q "^鍵付き改ざん検知が有効になっていない" "$R" || fail "unkeyed finding"
# incidents as incidents list has them
row "$R" "期間内のインシデント" "$n_inc"
row "$R" open "$n_open"; row "$R" acknowledged "$n_ack"; row "$R" closed "$n_closed"
row "$R" "SSH brute force from one source" 2ddcfcf4-5aa2-4fad-980d-49b74969a574 2 2
grep -q "^誤検知による完了が多いルール: SSH brute force from one source (2ddcfcf4-5aa2-4fad-980d-49b74969a574) 2/2" "$R" ||
	fail "false-positive finding: $(grep 誤検知 "$R")"
grep -qx "長期間未完了のインシデントがある: $((n_open + n_ack))" "$R" || fail "open too long: $(grep 長期間 "$R")"
n_measured=$(grep -c . <<<"$(jq -r 'select(.history | length > 1) | .id' <<<"$incidents")")
grep -q "^受付までの時間	[^	]*	[^	]*	$n_measured$" "$R" || fail "time to acknowledge: $(grep 受付 "$R")"
grep -q "^完了までの時間	[^	]*	[^	]*	2$" "$R" || fail "time to close: $(grep 完了までの "$R")"
# the audit trail
row "$R" "期間内の操作記録" 5
grep -q "	user.add	user:auditor	ok	viewer$" "$R" || fail "audit row: $(grep user.add "$R")"
grep -q "	incident.close	incident:$id1	ok	誤検知: 監視スクリプト$" "$R" ||
	fail "audit row of the CLI's close: $(grep incident.close "$R")"
expect_eq "$(grep -c "	incident.ack	incident:[0-9]*	ok	" "$R")" 2 "audit rows of the CLI's acks"

# --- the PDF: the same numbers, in Japanese glyphs ------------------------
pdftotext -layout "$LW_TMP/r.pdf" "$LW_TMP/r.pdf.txt"
P=$(tr -s ' ' < "$LW_TMP/r.pdf.txt")
for want in "ログ監査報告書" "期間内のイベント数 $total" "lgwan $lgwan" "mynumber $mynumber" \
	"dropped_kernel $dropped_kernel" "検証したセグメント $v_segments" "削除されたイベント 20" \
	"期間内のインシデント $n_inc" "closed $n_closed" "期間内の操作記録 5" "kw-skew 3"; do
	grep -qF -- "$want" <<<"$P" || fail "PDF lacks '$want': $(head -40 "$LW_TMP/r.pdf.txt")"
done
pdffonts "$LW_TMP/r.pdf" | grep -q "NotoSansCJK" || fail "PDF fonts: $(pdffonts "$LW_TMP/r.pdf")"
art="$LW_BUILD_DIR/report-artifacts"
rm -rf "$art"; mkdir -p "$art"
pdftoppm -r 60 -png "$LW_TMP/r.pdf" "$art/report" || fail "pdftoppm"
cp "$LW_TMP/r.pdf" "$LW_TMP/r.html" "$art/"
pages=$(ls "$art"/report-*.png | wc -l)
[ "$pages" -ge 3 ] || fail "$pages PNG pages"
echo "ok: report of $total events, $n_inc incidents, $dropped_kernel kernel drops; $pages pages in $art"
