#!/usr/bin/env bash
# labels: corpus
# Agreement with Elastic's own pipelines on network devices, the issue's
# "Done when": the lines of ../shared/corpus/elastic-device-pipelines/
# (Elastic's pipeline test inputs) through `logward rules test`, compared
# with the ECS values Elastic's pipelines produced for each line
# (expected.jsonl, one object per line).
#
# A (line, field) pair is each of source.ip, source.port, destination.ip,
# destination.port, network.transport and user.name that the reference
# has for a line; it agrees when our event has the same value (ports as
# numbers, addresses canonical). Fields we decode where the reference has
# none are counted apart ("extra"): the corpus says such a reference may
# be incomplete (Elastic's SRX pipeline sets no network.transport, its
# system module none for PAM lines), so they are shown, not failed.
# windows_snare (Snare lines with derived values, no pipeline) is
# checked apart: every line of an event ID the pack decodes must decode
# with that winlog.event_id, and agree on the derived user.name,
# source.ip and source.port.
# Fails when a dataset agrees on less than 90% of its pairs. Prints the
# table of docs/rules.md ("Agreement with Elastic's pipelines"). Needs
# LW_SHARED_CORPUS (default ../shared/corpus); exit 77 without it.
set -euo pipefail

: "${LW_BIN:?LW_BIN must point at the logward binary}"
SRC=${LW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CORPUS=${LW_SHARED_CORPUS:-$SRC/../shared/corpus}
BASE=$CORPUS/elastic-device-pipelines
if [ ! -d "$BASE" ]; then
	echo "SKIP: $BASE not found (set LW_SHARED_CORPUS to the shared corpus)" >&2
	exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is needed" >&2; exit 77; }

TMP=$(mktemp -d /tmp/logward-devcorpus.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

datasets="fortinet_firewall panw_panos cisco_asa cisco_ftd cisco_ios_integrations
checkpoint_firewall iptables_log juniper_srx sophos_xg system_auth squid_log
sonicwall_firewall"
for d in $datasets; do
	[ -r "$BASE/$d/lines.log" ] || { echo "SKIP: $BASE/$d missing" >&2; exit 77; }
	"$LW_BIN" rules test -r "$SRC/rules" --now 2021-12-31T00:00:00Z \
		"$BASE/$d/lines.log" >"$TMP/$d.json"
done

[ -r "$BASE/windows_snare/lines.log" ] || { echo "SKIP: $BASE/windows_snare missing" >&2; exit 77; }
"$LW_BIN" rules test -r "$SRC/rules" --now 2026-12-31T00:00:00Z \
	"$BASE/windows_snare/lines.log" >"$TMP/windows_snare.json"

python3 - "$BASE" "$TMP" $datasets <<'PY'
import ipaddress, json, sys

base, tmp, names = sys.argv[1], sys.argv[2], sys.argv[3:]
FIELDS = ["source.ip", "source.port", "destination.ip", "destination.port",
          "network.transport", "user.name"]

def flat(d, p=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, p + k + "."))
        else:
            out[p + k] = v
    return out

def norm(field, v):
    if v is None:
        return None
    v = str(v)
    if field.endswith(".ip"):
        try:
            return str(ipaddress.ip_address(v))
        except ValueError:
            return v
    if field.endswith(".port"):
        try:
            return str(int(v))
        except ValueError:
            return v
    return v

failed = []
total_pairs = total_ok = 0
print("| dataset | lines | pairs | agree | extra |")
print("|---|---:|---:|---:|---:|")
for name in names:
    exp = [json.loads(l) for l in open(f"{base}/{name}/expected.jsonl")]
    status = [l.rstrip("\n").split("\t") for l in open(f"{base}/{name}/provenance.tsv")]
    status = [s[3] for s in status[1:]] if status and status[0][0] == "line" else [s[3] for s in status]
    got = [json.loads(l)["event"] for l in open(f"{tmp}/{name}.json") if l.startswith('{"line"')]
    if len(got) != len(exp):
        print(f"{name}: {len(got)} events for {len(exp)} lines", file=sys.stderr)
        sys.exit(1)
    pairs = ok = extra = 0
    shown = 0
    for i, (e, g) in enumerate(zip(exp, got)):
        if status[i] == "no_document":
            continue
        g = flat(g)
        for f in FIELDS:
            want, have = norm(f, e.get(f)), norm(f, g.get(f))
            if want is None:
                extra += have is not None
                continue
            pairs += 1
            if want == have:
                ok += 1
            elif shown < 5:
                shown += 1
                print(f"  {name} line {i + 1}: {f} reference {want!r}, ours {have!r}",
                      file=sys.stderr)
    rate = 100.0 * ok / pairs if pairs else 100.0
    total_pairs += pairs
    total_ok += ok
    print(f"| {name} | {len(exp)} | {pairs} | {rate:.1f}% | {extra} |")
    if rate < 90.0:
        failed.append(name)
print(f"| all | | {total_pairs} | {100.0 * total_ok / total_pairs:.1f}% | |")

# Windows (Snare): the IDs of rules/decoders/windows.yml.
IDS = {"4624", "4625", "4634", "4648", "4672", "4688", "4719", "4720", "4722",
       "4723", "4724", "4725", "4726", "4728", "4732", "4740", "4756", "4767",
       "4768", "4769", "4771", "4776", "1102", "5140", "5145", "7045"}
lines = open(f"{base}/windows_snare/lines.log").read().split("\n")
exp = [json.loads(l) for l in open(f"{base}/windows_snare/expected.derived.jsonl")]
got = [json.loads(l)["event"] for l in open(f"{tmp}/windows_snare.json")
       if l.startswith('{"line"')]
seen = decoded = pairs = ok = 0
for i, (e, g) in enumerate(zip(exp, got)):
    cols = lines[i].split("\t")
    if len(cols) < 6 or cols[5] not in IDS:
        continue
    g = flat(g)
    seen += 1
    decoded += g.get("winlog.event_id") == cols[5]
    for f in ("user.name", "source.ip", "source.port"):
        if f in e:
            pairs += 1
            ok += norm(f, e[f]) == norm(f, g.get(f))
print(f"windows_snare: {decoded}/{seen} lines of the decoded event IDs decode, "
      f"{ok}/{pairs} derived fields agree")
if decoded != seen or ok != pairs:
    failed.append("windows_snare")
if failed:
    print("below 90%: " + ", ".join(failed), file=sys.stderr)
    sys.exit(1)
PY
